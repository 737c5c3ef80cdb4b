/*
 * fuzz_meta.c: the job-author API's Meta parsing (SPEC 2) on any values.
 *
 * The input is text, one setting a line, each value a Python literal:
 *
 *   name = 'Cleanup'              a Meta field (name, description, hidden,
 *   soft_time_limit = 1e999       dryrun_default, approval_required,
 *   task_queues = ['a', 'b']      has_sensitive_variables, soft_time_limit,
 *                                 time_limit, task_queues, is_singleton,
 *                                 field_order, or any other name)
 *   module.name = 'Grouping'      the defining module's `name` (grouping)
 *   var.when = ('IntegerVar', {'default': 3, 'min_value': 1})
 *                                 a variable of the class: kind and keywords
 *
 * Lines that are not `key = literal` are skipped (the harness's business,
 * not the library's). A class is built from the settings, handed to
 * jobreg.jobs._job_metadata() and, as a load does, through
 * jobreg._loader's collect() into the dicts that src/loader.c copies.
 *
 * Promises checked:
 *  - a variable's constructor and _job_metadata() either succeed or raise a
 *    TypeError or ValueError (a clean error for that job), nothing else;
 *  - what they accept is stored faithfully: each given Meta value comes
 *    back as given (float() of a number), the name is a non-empty string,
 *    the description is stripped;
 *  - every job dict the loader returns passes the very conversions of
 *    src/loader.c (its keys: the job's own and one per META field of
 *    src/job_fields.h; no embedded NUL, valid UTF-8, finite limits >= 0),
 *    so one job's Meta can never fail a whole load;
 *  - the variables schema is accepted by jobreg_record_set_text() (a
 *    strict JSON object), so one job can never fail a whole refresh.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>

#include <jobreg.h>

#include "../../src/job_fields.h"
#include "fuzz.h"

/* Inputs beyond this are cut: deep literals only cost time. */
#define FUZZ_META_MAX_INPUT 4096

static PyObject *one_input; /* the Python half of the harness */

static const char harness_src[] =
	"import ast, sys, types\n"
	"from jobreg import jobs as J, _loader as L\n"
	"MODULE = 'jobreg_fuzz_meta'\n"
	"module = types.ModuleType(MODULE)\n"
	"sys.modules[MODULE] = module\n"
	"BOOLS = ('hidden', 'dryrun_default', 'approval_required', 'has_sensitive_variables',\n"
	"         'is_singleton')\n"
	"VARS = {n: getattr(J, n) for n in ('StringVar', 'TextVar', 'IntegerVar', 'BooleanVar',\n"
	"        'ChoiceVar', 'MultiChoiceVar', 'ObjectVar', 'MultiObjectVar', 'FileVar',\n"
	"        'IPAddressVar', 'IPAddressWithMaskVar', 'IPNetworkVar', 'JSONVar', 'DryRunVar')\n"
	"        if hasattr(J, n)}\n"
	"RESERVED = ('Meta', 'run', 'logger', 'class_path')\n"
	"\n"
	"def settings(text):\n"
	"    for line in text.splitlines()[:64]:\n"
	"        key, sep, source = line.partition('=')\n"
	"        if not sep:\n"
	"            continue\n"
	"        try:\n"
	"            yield key.strip(), ast.literal_eval(source.strip())\n"
	"        except Exception:\n"
	"            continue\n"
	"\n"
	"def clean(exc):\n"
	"    return isinstance(exc, (TypeError, ValueError))\n"
	"\n"
	"def one(data):\n"
	"    meta, attrs = {}, {'__module__': MODULE}\n"
	"    if hasattr(module, 'name'):\n"
	"        del module.name\n"
	"    for key, value in settings(data.decode('utf-8', 'replace')):\n"
	"        if key == 'module.name':\n"
	"            module.name = value\n"
	"        elif key.startswith('var.'):\n"
	"            name = key[4:]\n"
	"            if not name.isidentifier() or name.startswith('__') or name in RESERVED:\n"
	"                continue\n"
	"            if not isinstance(value, tuple) or not value or not isinstance(value[0], str) \\\n"
	"                    or value[0] not in VARS:\n"
	"                continue\n"
	"            kwargs = value[1] if len(value) > 1 else {}\n"
	"            if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):\n"
	"                continue\n"
	"            try:\n"
	"                attrs[name] = VARS[value[0]](**kwargs)\n"
	"            except Exception as exc:\n"
	"                if not clean(exc):\n"
	"                    return f'{value[0]}(**{kwargs!r}) raised {type(exc).__name__}: {exc}'\n"
	"        elif key.isidentifier() and not key.startswith('__'):\n"
	"            meta[key] = value\n"
	"    attrs['Meta'] = type('Meta', (), meta)\n"
	"    try:\n"
	"        cls = type('FuzzJob', (J.Job,), attrs)\n"
	"    except Exception as exc:  # the Job class may check its subclasses\n"
	"        if not clean(exc):\n"
	"            return f'defining the class raised {type(exc).__name__}: {exc}'\n"
	"        return [], [None]\n"
	"    try:\n"
	"        result = J._job_metadata(cls)\n"
	"    except Exception as exc:\n"
	"        if not clean(exc):\n"
	"            return f'_job_metadata raised {type(exc).__name__}: {exc}'\n"
	"        result = None\n"
	"    if result is not None:\n"
	"        for field in BOOLS:\n"
	"            if field in meta and result[field] is not meta[field]:\n"
	"                return f'Meta.{field} = {meta[field]!r} came back as {result[field]!r}'\n"
	"        for field in ('soft_time_limit', 'time_limit'):\n"
	"            if field in meta and result[field] != float(meta[field]):\n"
	"                return f'Meta.{field} = {meta[field]!r} came back as {result[field]!r}'\n"
	"        if 'name' in meta and result['name'] != meta['name']:\n"
	"            return f'Meta.name = {meta[\"name\"]!r} came back as {result[\"name\"]!r}'\n"
	"        if 'task_queues' in meta and tuple(result['task_queues']) != tuple(meta['task_queues']):\n"
	"            return f'Meta.task_queues came back as {result[\"task_queues\"]!r}'\n"
	"        if not isinstance(result['name'], str) or not result['name']:\n"
	"            return f'the name is {result[\"name\"]!r}'\n"
	"        if result['description'] != result['description'].strip():\n"
	"            return 'the description is not stripped'\n"
	"    load = L._Load()\n"
	"    load.register(MODULE, [cls], MODULE + '.py', 1)\n"
	"    return load.collect()\n";

static void cleanup(void)
{
	PyGILState_STATE gil = PyGILState_Ensure();

	Py_CLEAR(one_input);
	PyGILState_Release(gil);
	jobreg_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	PyGILState_STATE gil;
	PyObject *globals, *rv;

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(jobreg_init(NULL) > 0, "jobreg_init: %s", jobreg_error_last()->message);
	gil = PyGILState_Ensure();
	globals = PyDict_New();
	FUZZ_ASSERT(globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0,
	            "globals");
	rv = PyRun_String(harness_src, Py_file_input, globals, globals);
	if (!rv)
		PyErr_Print();
	FUZZ_ASSERT(rv != NULL, "the harness code does not run");
	Py_DECREF(rv);
	one_input = PyDict_GetItemString(globals, "one");
	Py_XINCREF(one_input);
	Py_DECREF(globals);
	PyGILState_Release(gil);
	FUZZ_ASSERT(one_input != NULL, "no harness function");
	atexit(cleanup);
	return 0;
}

/* A Python error at a conversion of src/loader.c: print it, then fail. */
static void loader_would_fail(const char *what)
{
	PyErr_Print();
	FUZZ_ASSERT(0, "src/loader.c would fail the whole load reading %s", what);
}

/* The checks of src/loader.c's add_error(). */
static void check_error(PyObject *item)
{
	const char *module, *file, *type, *message, *traceback;
	int line;

	if (!PyArg_ParseTuple(item, "ssisss", &module, &file, &line, &type, &message, &traceback))
		loader_would_fail("a load error");
	FUZZ_ASSERT(message[0] != '\0', "a load error (%s) without a message", type);
}

/* The META fields of src/job_fields.h: the keys src/loader.c reads by type. */
static const struct {
	const char *name;
	int type;
} meta_fields[] = {
#define META_FIELD(F, name, type, from, override, def) JR_IF_META_##from({ #name, JR_TYPE_##type }, )
	JR_JOB_FIELDS(META_FIELD)
#undef META_FIELD
};

/* A job dict's value for `key`, as src/loader.c looks it up. */
static PyObject *value_of(PyObject *job, const char *key)
{
	PyObject *value = PyDict_GetItemString(job, key); /* borrowed */

	FUZZ_ASSERT(value != NULL, "a job from the loader has no \"%s\"", key);
	return value;
}

/* The conversion of src/loader.c's text_of(): a str without NUL, as UTF-8. */
static const char *text_of(PyObject *value, const char *key)
{
	Py_ssize_t n;
	const char *s;

	FUZZ_ASSERT(PyUnicode_Check(value), "\"%s\" is no str", key);
	if (!(s = PyUnicode_AsUTF8AndSize(value, &n)))
		loader_would_fail(key);
	FUZZ_ASSERT(strlen(s) == (size_t)n, "\"%s\" holds a NUL: it would fail the load", key);
	return s;
}

/* The checks of src/loader.c's add_job(), and of a refresh writing it. */
static void check_job(PyObject *job)
{
	static const char *const own[] = { "class_path", "module_name", "job_class_name" };
	size_t i, count = sizeof(meta_fields) / sizeof(meta_fields[0]);
	jobreg_record *rec = NULL;

	FUZZ_ASSERT(PyDict_Check(job), "a job from the loader is no dict");
	FUZZ_ASSERT((size_t)PyDict_Size(job) == 4 + count,
	            "a job from the loader has %zd keys, src/loader.c reads %zu", PyDict_Size(job),
	            4 + count);
	value_of(job, "class");
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		text_of(value_of(job, own[i]), own[i]);
	for (i = 0; i < count; i++) {
		const char *key = meta_fields[i].name;
		PyObject *value = value_of(job, key);
		double real;
		Py_ssize_t q;

		switch (meta_fields[i].type) {
		case JR_TYPE_TEXT:
		case JR_TYPE_OBJECT:
			text_of(value, key);
			break;
		case JR_TYPE_BOOL:
			FUZZ_ASSERT(PyBool_Check(value), "\"%s\" is no bool", key);
			break;
		case JR_TYPE_REAL:
			real = PyFloat_AsDouble(value);
			if (real == -1.0 && PyErr_Occurred())
				loader_would_fail(key);
			FUZZ_ASSERT(isfinite(real) && real >= 0, "\"%s\" is %g", key, real);
			break;
		case JR_TYPE_LIST:
			FUZZ_ASSERT(PyTuple_Check(value), "\"%s\" is no tuple", key);
			for (q = 0; q < PyTuple_GET_SIZE(value); q++)
				text_of(PyTuple_GET_ITEM(value, q), key);
			break;
		default:
			FUZZ_ASSERT(0, "\"%s\" has a type this harness does not know", key);
		}
	}
	FUZZ_ASSERT(jobreg_record_new(&rec) == 0, "%s", jobreg_error_last()->message);
	FUZZ_ASSERT(jobreg_record_set_text(rec, JOBREG_FIELD_VARIABLES,
	                                   text_of(value_of(job, "variables"), "variables")) == 0,
	            "a refresh would fail on this job's variables: %s", jobreg_error_last()->message);
	FUZZ_ASSERT(jobreg_record_set_text(rec, JOBREG_FIELD_NAME, text_of(value_of(job, "name"), "name")) == 0 &&
	            jobreg_record_set_text(rec, JOBREG_FIELD_DESCRIPTION,
	                                   text_of(value_of(job, "description"), "description")) == 0 &&
	            jobreg_record_set_text(rec, JOBREG_FIELD_GROUPING,
	                                   text_of(value_of(job, "grouping"), "grouping")) == 0,
	            "%s", jobreg_error_last()->message);
	jobreg_record_free(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PyGILState_STATE gil;
	PyObject *rv, *jobs, *errors;
	Py_ssize_t i;

	if (size > FUZZ_META_MAX_INPUT)
		size = FUZZ_META_MAX_INPUT;
	gil = PyGILState_Ensure();
	rv = PyObject_CallFunction(one_input, "y#", (const char *)data, (Py_ssize_t)size);
	if (!rv) {
		PyErr_Print();
		FUZZ_ASSERT(0, "the harness raised: an exception escaped the library's checks");
	}
	if (PyUnicode_Check(rv)) {
		PyObject *text = PyObject_ASCII(rv); /* a message may hold surrogates */
		FUZZ_ASSERT(0, "%s", text ? PyUnicode_AsUTF8(text) : "(unprintable)");
	}
	if (!PyArg_ParseTuple(rv, "O!O!", &PyList_Type, &jobs, &PyList_Type, &errors))
		loader_would_fail("the loader's result");
	for (i = 0; i < PyList_GET_SIZE(errors); i++) {
		if (PyList_GET_ITEM(errors, i) != Py_None) /* refused when defined: nothing to load */
			check_error(PyList_GET_ITEM(errors, i));
	}
	for (i = 0; i < PyList_GET_SIZE(jobs); i++)
		check_job(PyList_GET_ITEM(jobs, i));
	FUZZ_ASSERT(PyList_GET_SIZE(jobs) + PyList_GET_SIZE(errors) == 1,
	            "one class gave %zd jobs and %zd errors", PyList_GET_SIZE(jobs),
	            PyList_GET_SIZE(errors));
	Py_DECREF(rv);
	PyGILState_Release(gil);
	return 0;
}
