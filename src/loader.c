/*
 * loader.c: running a source's Python-side loader and turning what it
 * returns into the source's part of a load (GIL held throughout).
 *
 * The Python side (src/py/jobreg/_loader.py) imports the modules, captures
 * every failure and reads each registered class's Meta; this side copies the
 * results into C memory so that the host never needs the GIL to read them.
 * Before each load the loader object's `nautobot_1x` attribute is set to the
 * source's effective mode for that load (True: Nautobot 1.x jobs).
 *
 * A job comes as a dict: one key per META field of src/job_fields.h (made by
 * jobreg._meta.job_fields()), then "class", "class_path", "module_name" and
 * "job_class_name". The keys are read by name; a key missing, or one the
 * list does not know, fails the load with a message naming it.
 */
#include <string.h>

#include "error.h"
#include "isolate.h"
#include "json.h"
#include "pyutil.h"
#include "source.h"
#include "util.h"

/*
 * The keys of a job's dict, in the order jobreg._loader inserts them: every
 * META field (KEY_META + its place among them), then the job's own.
 */
enum {
	KEY_META = 0,
	KEY_CLASS = JR_META_FIELD_COUNT,
	KEY_CLASS_PATH,
	KEY_MODULE_NAME,
	KEY_JOB_CLASS_NAME,
	KEY_COUNT
};

static const char *const key_names[KEY_COUNT] = {
#define META_KEY(F, name, type, from, override, def) JR_IF_META_##from(#name, )
	JR_JOB_FIELDS(META_KEY)
#undef META_KEY
		"class",
	"class_path",
	"module_name",
	"job_class_name",
};

/* How each META field's value is copied: key_names[KEY_META + i]'s field. */
static const struct meta_copy {
	unsigned char type;          /* enum jr_field_type */
	unsigned short offset;       /* of its member in struct jr_job_meta */
	unsigned short items_offset; /* LIST: of its `<name>_items` in struct jobreg_job */
} meta_copies[JR_META_FIELD_COUNT] = {
#define META_COPY(F, name, type, from, override, def)                       \
	JR_IF_META_##from({ JR_TYPE_##type, offsetof(struct jr_job_meta, name), \
	                    JR_IF_LIST_##type(offsetof(struct jobreg_job, name##_items)) + 0 }, )
	JR_JOB_FIELDS(META_COPY)
#undef META_COPY
};

/* The Python error of a job's field, in the thread's error; returns the code. */
static int field_error(const char *class_path, int key)
{
	char context[512];

	snprintf(context, sizeof(context), "job %s from jobreg._loader: \"%s\"", class_path,
	         key_names[key]);
	return jr_error_from_python(JOBREG_EPYTHON, context);
}

/* A str value as UTF-8, borrowed; NULL with the Python error set. */
static const char *text_of(PyObject *value)
{
	Py_ssize_t size;
	const char *s;

	if (!PyUnicode_Check(value)) {
		PyErr_Format(PyExc_TypeError, "must be str, not %.50s", Py_TYPE(value)->tp_name);
		return NULL;
	}
	if (!(s = PyUnicode_AsUTF8AndSize(value, &size)))
		return NULL;
	if (strlen(s) != (size_t)size) {
		PyErr_SetString(PyExc_ValueError, "embedded null character");
		return NULL;
	}
	return s;
}

/* A LIST value (a tuple of str): its JSON text and its strings, into the part. */
static int copy_list(jr_part *part, const char **json, const char ***items, PyObject *value,
                     const char *class_path, int key)
{
	Py_ssize_t n, i;
	jr_buf b = JR_BUF_INIT;
	jr_json w;
	int rc;

	if (!PyTuple_Check(value)) {
		PyErr_Format(PyExc_TypeError, "must be a tuple of str, not %.50s", Py_TYPE(value)->tp_name);
		return field_error(class_path, key);
	}
	n = PyTuple_GET_SIZE(value);
	if (n == 0) {
		*json = "[]"; /* the usual case: a constant, nothing allocated */
		return 0;
	}
	if (!(*items = jr_part_alloc(part, (size_t)(n + 1) * sizeof(char *))))
		return JOBREG_ENOMEM;
	jr_json_init(&w, &b);
	jr_json_begin_array(&w);
	for (i = 0; i < n; i++) {
		const char *s = text_of(PyTuple_GET_ITEM(value, i));

		if (!s) {
			jr_buf_free(&b);
			return field_error(class_path, key);
		}
		if (!((*items)[i] = jr_part_strdup(part, s))) {
			jr_buf_free(&b);
			return JOBREG_ENOMEM;
		}
		jr_json_string(&w, s);
	}
	(*items)[n] = NULL;
	jr_json_end_array(&w);
	if ((rc = jr_json_status(&w)) == 0 && !(*json = jr_part_strdup(part, b.ptr)))
		rc = JOBREG_ENOMEM;
	jr_buf_free(&b);
	return rc;
}

/* Copy META field `i` of `job` from `value`. */
static int copy_meta(jr_part *part, jobreg_job *job, size_t i, PyObject *value)
{
	const struct meta_copy *c = &meta_copies[i];
	char *member = (char *)&job->meta + c->offset;
	int key = KEY_META + (int)i;

	switch (c->type) {
	case JR_TYPE_TEXT:
	case JR_TYPE_OBJECT: {
		const char *s = text_of(value);

		if (!s)
			return field_error(job->class_path, key);
		if (!(*(const char **)member = jr_part_strdup(part, s)))
			return JOBREG_ENOMEM;
		return 0;
	}
	case JR_TYPE_BOOL: {
		int flag = PyObject_IsTrue(value);

		if (flag < 0)
			return field_error(job->class_path, key);
		*(unsigned char *)member = (unsigned char)flag;
		return 0;
	}
	case JR_TYPE_REAL: {
		double real = PyFloat_AsDouble(value);

		if (real == -1.0 && PyErr_Occurred())
			return field_error(job->class_path, key);
		*(double *)member = real;
		return 0;
	}
	case JR_TYPE_LIST:
		return copy_list(part, (const char **)member,
		                 (const char ***)((char *)job + c->items_offset), value, job->class_path,
		                 key);
	}
	return jr_error_set(JOBREG_ERROR, "job %s: field \"%s\" has no known type", job->class_path,
	                    key_names[key]);
}

/* The place of `key` in `keys`, or -1: by pointer, else (a key made at run
 * time, not interned) by value. */
static int key_index(PyObject *key, PyObject *const *keys)
{
	int i;

	for (i = 0; i < KEY_COUNT; i++)
		if (key == keys[i])
			return i;
	if (PyUnicode_Check(key))
		for (i = 0; i < KEY_COUNT; i++)
			if (PyUnicode_Compare(key, keys[i]) == 0)
				return i;
	return -1;
}

/* The dict `item` lacks a key, or has one the list does not know: say which. */
static int wrong_keys(PyObject *item, PyObject *const *keys)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;
	int i;

	while (PyDict_Next(item, &pos, &key, &value)) {
		if (key_index(key, keys) < 0) {
			PyObject *text = PyObject_Repr(key);
			const char *name = text ? PyUnicode_AsUTF8(text) : NULL;
			int rc = jr_error_set(JOBREG_EPYTHON,
			                      "a job from jobreg._loader has the field %s, which "
			                      "src/job_fields.h does not list",
			                      name ? name : "(unprintable)");

			Py_XDECREF(text);
			PyErr_Clear();
			return rc;
		}
	}
	for (i = 0; i < KEY_COUNT; i++) {
		int has = PyDict_Contains(item, keys[i]);

		if (has < 0)
			return jr_error_from_python(JOBREG_EPYTHON, "a job from jobreg._loader");
		if (!has)
			return jr_error_set(JOBREG_EPYTHON, "a job from jobreg._loader has no \"%s\"",
			                    key_names[i]);
	}
	return jr_error_set(JOBREG_EPYTHON, "a job from jobreg._loader has other keys than expected");
}

/*
 * The values of the job dict `item` by key (borrowed), into `values`. One
 * pass over the dict: its keys come in the order of `keys`, each the very
 * interned string, so each is known at a pointer comparison; a key in
 * another place or made at run time is found by key_index().
 */
static int read_job(PyObject **values, PyObject *item, PyObject *const *keys)
{
	PyObject *key, *value;
	Py_ssize_t pos = 0;
	int k = 0, at;

	if (!PyDict_Check(item))
		return jr_error_set(JOBREG_EPYTHON, "a job from jobreg._loader is %.50s, not a dict",
		                    Py_TYPE(item)->tp_name);
	if (PyDict_GET_SIZE(item) != KEY_COUNT)
		return wrong_keys(item, keys);
	memset(values, 0, KEY_COUNT * sizeof(*values));
	while (PyDict_Next(item, &pos, &key, &value)) { /* KEY_COUNT times */
		at = key == keys[k] ? k : key_index(key, keys);
		if (at < 0 || values[at])
			return wrong_keys(item, keys);
		values[at] = value;
		k++;
	}
	return 0; /* KEY_COUNT keys, each known, none twice: every value is set */
}

/* One job dict from jobreg._loader: its keys are `keys` (see key_names). */
static int add_job(jr_part *part, PyObject *item, PyObject *const *keys)
{
	PyObject *values[KEY_COUNT];
	const char *identity[KEY_COUNT];
	jobreg_job *job;
	size_t i;
	int k, rc;

	if ((rc = read_job(values, item, keys)) < 0)
		return rc;
	for (k = KEY_CLASS_PATH; k < KEY_COUNT; k++) {
		if (!(identity[k] = text_of(values[k])))
			return field_error(k > KEY_CLASS_PATH ? identity[KEY_CLASS_PATH] : "(no class path)",
			                   k);
	}
	/* None: the class lives in a worker process (isolation mode). */
	Py_XINCREF(values[KEY_CLASS] == Py_None ? NULL : values[KEY_CLASS]);
	job = jr_part_add_job(part, values[KEY_CLASS] == Py_None ? NULL : values[KEY_CLASS]);
	if (!job)
		return JOBREG_ENOMEM;
	if (!(job->class_path = jr_part_strdup(part, identity[KEY_CLASS_PATH])) ||
	    !(job->module_name = jr_part_strdup(part, identity[KEY_MODULE_NAME])) ||
	    !(job->class_name = jr_part_strdup(part, identity[KEY_JOB_CLASS_NAME])))
		return JOBREG_ENOMEM;
	for (i = 0; i < JR_META_FIELD_COUNT; i++)
		if ((rc = copy_meta(part, job, i, values[KEY_META + i])) < 0)
			return rc;
	return 0;
}

static int add_error(jr_part *part, PyObject *item)
{
	const char *module, *file, *type, *message, *traceback;
	int line;

	if (!PyArg_ParseTuple(item, "ssisss;a load error from jobreg._loader", &module, &file, &line,
	                      &type, &message, &traceback))
		return jr_error_from_python(JOBREG_EPYTHON, "reading a load error");
	return jr_part_add_error(part, module, file, line, type, message, traceback);
}

int jr_source_copy_results(jr_part *part, PyObject *result)
{
	PyObject *jobs, *errors, *keys[KEY_COUNT] = { NULL };
	Py_ssize_t i;
	int k, rc = 0;

	if (!PyArg_ParseTuple(result, "O!O!;jobreg._loader result", &PyList_Type, &jobs, &PyList_Type,
	                      &errors))
		return jr_error_from_python(JOBREG_EPYTHON, "reading the loader's result");
	for (i = 0; rc == 0 && i < PyList_GET_SIZE(errors); i++)
		rc = add_error(part, PyList_GET_ITEM(errors, i));
	/* Interned once per load, as the dicts' own keys are: read_job() compares pointers. */
	for (k = 0; rc == 0 && k < KEY_COUNT; k++)
		if (!(keys[k] = PyUnicode_InternFromString(key_names[k])))
			rc = jr_error_from_python(JOBREG_EPYTHON, "reading the loader's result");
	for (i = 0; rc == 0 && i < PyList_GET_SIZE(jobs); i++)
		rc = add_job(part, PyList_GET_ITEM(jobs, i), keys);
	for (k = 0; k < KEY_COUNT; k++)
		Py_XDECREF(keys[k]);
	return rc;
}

int jr_source_import_python(jobreg_source *src, jr_load_plan *plan, const char *loader_class,
                            PyObject *args)
{
	PyObject *result;
	int rc;

	if (plan->pool)
		return jr_pool_import(plan->pool, src, plan, loader_class, args);
	if (!src->state) {
		PyObject *module = jr_py_loader_module();

		if (!module)
			return jr_error_from_python(JOBREG_EPYTHON, "jobreg._loader");
		src->state = PyObject_CallMethod(module, loader_class, "ss", src->name, src->root);
		Py_DECREF(module);
		if (!src->state)
			return jr_error_from_python(JOBREG_EPYTHON, loader_class);
	}
	/* The mode of this load, read by the loader as `self.nautobot_1x`. */
	if (PyObject_SetAttrString(src->state, "nautobot_1x", plan->nautobot_1x ? Py_True : Py_False) <
	    0)
		return jr_error_from_python(JOBREG_EPYTHON, "setting the source's Nautobot mode");
	result = PyObject_CallMethod(src->state, "load", "Od", args, plan->import_timeout);
	if (!result)
		return jr_error_from_python(JOBREG_EPYTHON, "loading a source");
	rc = jr_source_copy_results(plan->part, result);
	Py_DECREF(result);
	return rc;
}
