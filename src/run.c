/*
 * run.c: running a job (SPEC 5): the record check, then the Python side
 * (src/py/jobreg/_runner.py) with the host's callbacks wrapped as Python
 * callables:
 *
 *   jobreg._runner.run(cls, data_json, log, context_json, record_json,
 *                      add_file, host_call)
 *
 * log(levelno, levelname, message, extra_json); add_file(name, content)
 * keeps a copy of the file in the result being built and hands it to the
 * host's file callback; host_call(operation, args_json) -> reply JSON text
 * (None when the host gave no host callback). run() returns ("ok",
 * result_json) or ("failed", type, message, traceback[, result_json]), or
 * raises jobreg.jobs.ValidationError (the run is refused).
 *
 * The callables reach the run through a capsule whose cell is emptied when
 * the run returns: a job that keeps them and calls them later (or from
 * another thread) gets RuntimeError, never a dangling pointer.
 *
 * Time limits and the cancel token (options version 3) are watched by
 * src/watchdog.c while run() runs; what it raised, not what the job or the
 * runner made of it, decides a cancelled run and one past its hard limit
 * (decide()), so the runner needs no special case for them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "error.h"
#include "generation.h"
#include "isolate.h"
#include "jobreg/registry.h"
#include "jobreg/job.h"
#include "jobreg/run.h"
#include "options.h"
#include "pyutil.h"
#include "run_internal.h"
#include "run_record.h"
#include "runtime.h"
#include "util.h"
#include "watchdog.h"

/* One file a job created: `data` holds `size` bytes and one NUL after them. */

struct jobreg_run_result {
	jobreg_run_status status;
	char *result_json;
	char *error_type;
	char *error_message;
	char *traceback;
	struct jr_run_file *files;
	size_t file_count;
	char *run_id;       /* recorded runs: the record's id; else NULL */
	char *record_error; /* why its end was not stored, or NULL */
	int record_failed;  /* its end was not stored (record_error NULL: no memory to say why) */
};

struct jobreg_host_reply {
	char *json;  /* the answer, or NULL: "null" */
	char *error; /* the message of a failure, or NULL */
};

static const size_t run_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_run_options, log_payload),
	JR_SIZE_THROUGH(jobreg_run_options, host_payload),
	JR_SIZE_THROUGH(jobreg_run_options, default_time_limit),
	JR_SIZE_THROUGH(jobreg_run_options, host_json),
};

int jobreg_run_options_init(jobreg_run_options *opts, unsigned int version)
{
	static const jobreg_run_options defaults = JOBREG_RUN_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, run_options_sizes, JOBREG_RUN_OPTIONS_VERSION, version,
	                       "jobreg_run_options");
}

/* Replace *slot with a copy of text (the host's reply setters). */
static int set_copy(char **slot, const char *text, const char *caller)
{
	char *copy;

	if (!slot || !text)
		return jr_error_set(JOBREG_EINVAL, "%s: NULL argument", caller);
	if (!(copy = jr_strdup(text)))
		return JOBREG_ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

int jobreg_host_reply_set_json(jobreg_host_reply *reply, const char *json)
{
	return set_copy(reply ? &reply->json : NULL, json, "jobreg_host_reply_set_json");
}

int jobreg_host_reply_set_error(jobreg_host_reply *reply, const char *message)
{
	return set_copy(reply ? &reply->error : NULL, message, "jobreg_host_reply_set_error");
}

/* What one run's callables reach; lives on the stack of jobreg_job_run(). */
struct run_state {
	jobreg_run_options opts;
	double soft, hard;         /* the run's time limits (jr_run_limits()), 0: none */
	unsigned long thread;      /* PyThread_get_thread_ident() of the running thread */
	struct jr_run_files files; /* what the job created so far */
};

/* The capsule's pointer: a heap cell, emptied when the run returns. */
struct run_cell {
	struct run_state *state;
};

#define RUN_CAPSULE "jobreg.run"

static void free_cell(PyObject *capsule)
{
	free(PyCapsule_GetPointer(capsule, RUN_CAPSULE));
}

static void free_files(struct jr_run_file *files, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++) {
		free(files[i].name);
		free(files[i].data);
	}
	free(files);
}

void jr_run_files_free(struct jr_run_files *files)
{
	free_files(files->items, files->count);
	memset(files, 0, sizeof(*files));
}

/* The run behind a callable, or NULL with RuntimeError (run over, another thread). */
static struct run_state *live_state(PyObject *capsule, const char *what)
{
	struct run_cell *cell = PyCapsule_GetPointer(capsule, RUN_CAPSULE);

	if (!cell)
		return NULL;
	if (!cell->state) {
		PyErr_Format(PyExc_RuntimeError, "%s: the run this belongs to is over", what);
		return NULL;
	}
	if (cell->state->thread != PyThread_get_thread_ident()) {
		PyErr_Format(PyExc_RuntimeError, "%s: only the thread that runs the job may call it", what);
		return NULL;
	}
	return cell->state;
}

/* log(level, name, message, extra_json): the host's log callback. */
static PyObject *call_log(PyObject *capsule, PyObject *args)
{
	struct run_state *state;
	const char *level_name, *message, *extra;
	int level;

	if (!PyArg_ParseTuple(args, "isss:log", &level, &level_name, &message, &extra) ||
	    !(state = live_state(capsule, "log")))
		return NULL;
	if (state->opts.log)
		state->opts.log(level, level_name, message, extra, state->opts.log_payload);
	Py_RETURN_NONE;
}

/* The message of a callback that failed: the thread's error if it left one, else NULL. */
static const char *callback_message(void)
{
	return jr_error_code() != 0 ? jobreg_error_last()->message : NULL;
}

int jr_run_offer_file(const jobreg_run_options *opts, struct jr_run_files *files, const char *name,
                      const unsigned char *data, size_t size)
{
	struct jr_run_file file = { NULL, NULL, 0 };
	const char *message;
	int rc;

	file.size = size;
	file.name = jr_strdup(name);
	file.data = malloc(size + 1);
	if (!file.name || !file.data) {
		PyErr_NoMemory();
		goto fail;
	}
	if (size)
		memcpy(file.data, data, size);
	file.data[size] = '\0';
	if (opts->file) {
		jobreg_error_clear();
		rc = opts->file(file.name, file.data, file.size, opts->file_payload);
		if (PyErr_Occurred()) /* the callback left a Python exception: the job gets it */
			goto fail;
		if (rc < 0) {
			if ((message = callback_message()))
				PyErr_SetString(PyExc_RuntimeError, message);
			else
				PyErr_Format(PyExc_RuntimeError, "the host refused the file '%s'", file.name);
			goto fail;
		}
	}
	/* Grown only now: the callback may have run Python that created files too. */
	if (files->count == files->cap) {
		size_t cap = files->cap ? 2 * files->cap : 4;
		struct jr_run_file *grown = realloc(files->items, cap * sizeof(*grown));

		if (!grown) {
			PyErr_NoMemory();
			goto fail;
		}
		files->items = grown;
		files->cap = cap;
	}
	files->items[files->count++] = file;
	return 0;
fail:
	free(file.name);
	free(file.data);
	return -1;
}

/* add_file(name, content): keep a copy in the result; the host's callback may refuse it. */
static PyObject *call_add_file(PyObject *capsule, PyObject *args)
{
	struct run_state *state;
	Py_buffer content;
	const char *name;
	int rc = -1;

	if (!PyArg_ParseTuple(args, "sy*:add_file", &name, &content))
		return NULL;
	if ((state = live_state(capsule, "add_file")) != NULL)
		rc = jr_run_offer_file(&state->opts, &state->files, name, content.buf, (size_t)content.len);
	PyBuffer_Release(&content);
	if (rc < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* RuntimeError "PREFIX (the pending exception's text)"; the pending one is dropped. */
static void replace_error(const char *prefix)
{
	PyObject *type, *value, *tb;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (value)
		PyErr_Format(PyExc_RuntimeError, "%s (%S)", prefix, value);
	else
		PyErr_SetString(PyExc_RuntimeError, prefix);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

/* The host's answer as a str, after checking that it is JSON; NULL with an exception. */
static PyObject *host_answer(const char *json_text, const char *operation)
{
	PyObject *text, *json, *parsed = NULL;
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "the host's answer to '%.200s' is not JSON", operation);
	text = PyUnicode_DecodeUTF8(json_text, (Py_ssize_t)strlen(json_text), "strict");
	if (!text) {
		replace_error(prefix);
		return NULL;
	}
	json = PyImport_ImportModule("json");
	if (json)
		parsed = PyObject_CallMethod(json, "loads", "O", text);
	Py_XDECREF(json);
	if (!parsed) {
		replace_error(prefix);
		Py_DECREF(text);
		return NULL;
	}
	Py_DECREF(parsed);
	return text;
}

PyObject *jr_run_call_host(const jobreg_run_options *opts, PyObject *op, const char *args_json)
{
	jobreg_host_reply reply = { NULL, NULL };
	PyObject *answer = NULL;
	const char *operation, *message;
	Py_ssize_t len;
	int rc;

	if (!(operation = PyUnicode_AsUTF8AndSize(op, &len)))
		return NULL;
	if (strlen(operation) != (size_t)len) {
		PyErr_SetString(PyExc_ValueError, "host_call: the operation name holds a NUL character");
		return NULL;
	}
	if (!opts->host)
		return PyErr_Format(PyExc_LookupError, "the host does not provide %R", op);
	jobreg_error_clear();
	rc = opts->host(&reply, operation, args_json, opts->host_payload);
	if (PyErr_Occurred()) {
		/* the callback left a Python exception: the job gets it */
	} else if (rc == 0) {
		answer = host_answer(reply.json ? reply.json : "null", operation);
	} else if (rc == JOBREG_ENOTFOUND) {
		PyErr_Format(PyExc_LookupError, "the host does not provide %R", op);
	} else if ((message = reply.error ? reply.error : callback_message())) {
		PyErr_SetString(PyExc_RuntimeError, message);
	} else {
		PyErr_Format(PyExc_RuntimeError, "the host operation %R failed (%s)", op,
		             jobreg_error_name(rc));
	}
	free(reply.json);
	free(reply.error);
	return answer;
}

/* host_call(operation, args_json) -> the answer's JSON text. */
static PyObject *call_host(PyObject *capsule, PyObject *args)
{
	struct run_state *state;
	const char *args_json;
	PyObject *op;

	if (!PyArg_ParseTuple(args, "Us:host_call", &op, &args_json) ||
	    !(state = live_state(capsule, "host_call")))
		return NULL;
	return jr_run_call_host(&state->opts, op, args_json);
}

static PyMethodDef log_def = { "log", call_log, METH_VARARGS, NULL };
static PyMethodDef add_file_def = { "add_file", call_add_file, METH_VARARGS, NULL };
static PyMethodDef host_def = { "host_call", call_host, METH_VARARGS, NULL };

/* Refusals that the record decides (SPEC 5). */
static int check_record(const jobreg_job *job, const jobreg_record *record)
{
	const char *path = jobreg_record_text(record, JOBREG_FIELD_CLASS_PATH);

	if (!path || strcmp(path, job->class_path) != 0)
		return jr_error_set(JOBREG_EINVAL, "the record of '%s' does not belong to the job '%s'",
		                    path ? path : "(none)", job->class_path);
	if (!jobreg_record_bool(record, JOBREG_FIELD_INSTALLED))
		return jr_error_set(JOBREG_ENOTINSTALLED,
		                    "job '%s' is not installed: its code is no longer loaded",
		                    job->class_path);
	if (!jobreg_record_bool(record, JOBREG_FIELD_ENABLED))
		return jr_error_set(JOBREG_EDISABLED,
		                    "job '%s' is not enabled: enable it before running it",
		                    job->class_path);
	return 0;
}

void jr_run_limits(const jobreg_record *record, const jobreg_run_options *opts, double *soft,
                   double *hard)
{
	double s = jobreg_record_real(record, JOBREG_FIELD_SOFT_TIME_LIMIT);
	double h = jobreg_record_real(record, JOBREG_FIELD_TIME_LIMIT);

	*soft = s > 0 ? s : opts->default_soft_time_limit > 0 ? opts->default_soft_time_limit : 0;
	*hard = h > 0 ? h : opts->default_time_limit > 0 ? opts->default_time_limit : 0;
}

/* The default time limits of the options: finite seconds >= 0. */
static int check_limits(const jobreg_run_options *opts)
{
	if (!isfinite(opts->default_soft_time_limit) || opts->default_soft_time_limit < 0)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_run_options.default_soft_time_limit must be a number of "
		                    "seconds >= 0, not %g",
		                    opts->default_soft_time_limit);
	if (!isfinite(opts->default_time_limit) || opts->default_time_limit < 0)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_run_options.default_time_limit must be a number of seconds "
		                    ">= 0, not %g",
		                    opts->default_time_limit);
	return 0;
}

/* ValidationError: one message naming every field; anything else: a Python error. */
static int input_refused(void)
{
	PyObject *type, *value, *tb, *jobs, *validation = NULL, *text;
	const char *message;
	int is_validation;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	jobs = PyImport_ImportModule("jobreg.jobs");
	if (jobs)
		validation = PyObject_GetAttrString(jobs, "ValidationError");
	PyErr_Clear();
	is_validation = validation && type && PyErr_GivenExceptionMatches(type, validation);
	Py_XDECREF(validation);
	Py_XDECREF(jobs);
	if (!is_validation) {
		PyErr_Restore(type, value, tb);
		return jr_error_from_python(JOBREG_EPYTHON, "running a job");
	}
	text = value ? PyObject_Str(value) : NULL;
	message = text ? PyUnicode_AsUTF8(text) : NULL;
	jr_error_set(JOBREG_EVALIDATION, "invalid input: %s", message ? message : "(unreadable)");
	Py_XDECREF(text);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
	return JOBREG_EVALIDATION;
}

int jr_run_check_context(const char *context_json)
{
	PyObject *json, *parsed = NULL;
	int is_object;

	json = PyImport_ImportModule("json");
	if (!json)
		return jr_error_from_python(JOBREG_EPYTHON, "checking the run context");
	parsed = PyObject_CallMethod(json, "loads", "s", context_json);
	Py_DECREF(json);
	if (!parsed)
		return jr_error_from_python(JOBREG_EINVAL, "jobreg_run_options.context_json is not JSON");
	is_object = PyDict_Check(parsed);
	Py_DECREF(parsed);
	if (!is_object)
		return jr_error_set(JOBREG_EINVAL, "jobreg_run_options.context_json must be a JSON object");
	return 0;
}

/* A result of these strings (copied); takes the files the run created. */
static int new_result(jobreg_run_result **out, struct jr_run_files *files, jobreg_run_status status,
                      const char *result_json, const char *type, const char *message,
                      const char *traceback)
{
	jobreg_run_result *res = calloc(1, sizeof(*res));

	if (!res)
		return jr_error_oom();
	res->status = status;
	res->result_json = jr_strdup(result_json);
	res->error_type = jr_strdup(type);
	res->error_message = jr_strdup(message);
	res->traceback = jr_strdup(traceback);
	if (!res->result_json || !res->error_type || !res->error_message || !res->traceback) {
		jobreg_run_result_free(res);
		return jr_error_oom();
	}
	res->files = files->items;
	res->file_count = files->count;
	memset(files, 0, sizeof(*files));
	*out = res;
	return 0;
}

/* The message of a soft limit the job did not catch (its exception has no text). */
static void soft_message(char *buf, size_t size, double soft)
{
	snprintf(buf, size, "the job exceeded its soft time limit of %g s", soft);
}

int jr_run_result_from_outcome(jobreg_run_result **out, PyObject *outcome,
                               struct jr_run_files *files, double soft_fired)
{
	const char *kind, *a = "", *b = "", *c = "", *d = NULL;
	char message[128];

	if (!PyTuple_Check(outcome) || !PyArg_ParseTuple(outcome, "s|sssz", &kind, &a, &b, &c, &d)) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_TypeError, "jobreg._runner.run() must return a tuple");
		return jr_error_from_python(JOBREG_EPYTHON, "reading a run's outcome");
	}
	if (strcmp(kind, "ok") == 0)
		return new_result(out, files, JOBREG_RUN_SUCCESS, a, "", "", "");
	/* The runner names an exception without text by its repr: "Type()". */
	if (soft_fired > 0 && strcmp(a, "SoftTimeLimitExceeded") == 0 &&
	    strcmp(b, "SoftTimeLimitExceeded()") == 0) {
		soft_message(message, sizeof(message), soft_fired);
		b = message;
	}
	return new_result(out, files, JOBREG_RUN_FAILED, d ? d : "null", a, b, c);
}

/* Whether the pending Python exception's class is called `name`. */
static int pending_is(const char *name)
{
	PyObject *type = PyErr_Occurred();
	const char *full = type && PyType_Check(type) ? ((PyTypeObject *)type)->tp_name : "";
	const char *dot = strrchr(full, '.');

	return strcmp(dot ? dot + 1 : full, name) == 0;
}

/* The traceback of a failed outcome of type `type`, else "". */
static const char *traceback_of(PyObject *outcome, const char *type)
{
	const char *kind, *a = "", *b = "", *c = "", *d = NULL;

	if (outcome && PyTuple_Check(outcome) &&
	    PyArg_ParseTuple(outcome, "s|sssz", &kind, &a, &b, &c, &d) && strcmp(a, type) == 0)
		return c;
	PyErr_Clear();
	return "";
}

/*
 * What a run that returned `outcome` (NULL: run() raised, the exception
 * pending) amounts to, given what the watchdog raised (`fired`): a
 * requested cancel wins whatever the job did, then a hard limit passed;
 * else the job's own outcome. A soft limit raised outside the job's code
 * (after it returned, in the runner) still makes a failed run.
 */
static int decide(jobreg_run_result **out, const jobreg_job *job, struct run_state *state,
                  PyObject *outcome, int fired)
{
	char message[128];

	if (jobreg_cancel_requested(state->opts.cancel)) {
		PyErr_Clear();
		return jr_error_set(JOBREG_ECANCELED, "the run of '%s' was cancelled", job->class_path);
	}
	if (fired & JR_WATCH_HARD) {
		PyErr_Clear();
		snprintf(message, sizeof(message), "the job exceeded its time limit of %g s", state->hard);
		return new_result(out, &state->files, JOBREG_RUN_FAILED, "null", "TimeLimitExceeded",
		                  message, traceback_of(outcome, "TimeLimitExceeded"));
	}
	if (outcome)
		return jr_run_result_from_outcome(out, outcome, &state->files,
		                                  (fired & JR_WATCH_SOFT) ? state->soft : 0);
	if ((fired & JR_WATCH_SOFT) && pending_is("SoftTimeLimitExceeded")) {
		PyErr_Clear();
		soft_message(message, sizeof(message), state->soft);
		return new_result(out, &state->files, JOBREG_RUN_FAILED, "null", "SoftTimeLimitExceeded",
		                  message, "");
	}
	return input_refused();
}

/* The Python side of a run, GIL held. */
static int run_in_python(jobreg_run_result **out, const jobreg_job *job, struct run_state *state,
                         const char *record_json)
{
	struct run_cell *cell;
	PyObject *runner = NULL, *capsule = NULL, *log = NULL, *add_file = NULL, *host = NULL;
	PyObject *outcome = NULL;
	jr_run_watch *watch = NULL;
	int rc;

	if (state->opts.context_json && (rc = jr_run_check_context(state->opts.context_json)) < 0)
		return rc;
	if (!(cell = malloc(sizeof(*cell))))
		return jr_error_oom();
	cell->state = state;
	if (!(capsule = PyCapsule_New(cell, RUN_CAPSULE, free_cell))) {
		free(cell);
		return jr_error_from_python(JOBREG_EPYTHON, "preparing a run");
	}
	runner = PyImport_ImportModule("jobreg._runner");
	log = runner ? PyCFunction_New(&log_def, capsule) : NULL;
	add_file = log ? PyCFunction_New(&add_file_def, capsule) : NULL;
	if (add_file && !state->opts.host) {
		Py_INCREF(Py_None);
		host = Py_None;
	} else if (add_file) {
		host = PyCFunction_New(&host_def, capsule);
	}
	if (!host) {
		rc = jr_error_from_python(JOBREG_EPYTHON, "preparing a run");
	} else if ((rc = jr_watchdog_run_begin(&watch, state->soft, state->hard, state->opts.cancel)) ==
	           0) {
		outcome = PyObject_CallMethod(runner, "run", "OzOzsOO", job->cls, state->opts.data_json,
		                              log, state->opts.context_json, record_json, add_file, host);
		/* At once: nothing may be raised into the code that follows. */
		rc = decide(out, job, state, outcome, jr_watchdog_run_end(watch));
	}
	cell->state = NULL; /* the callables outlive the run only as dead ends */
	Py_XDECREF(outcome);
	Py_XDECREF(host);
	Py_XDECREF(add_file);
	Py_XDECREF(log);
	Py_XDECREF(runner);
	Py_DECREF(capsule);
	return rc;
}

/* The run on the calling thread, in the host's process: takes the GIL. */
static int run_in_process(jobreg_run_result **out, const jobreg_job *job, struct run_state *state,
                          const char *record_json)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	int rc;

	state->thread = PyThread_get_thread_ident();
	rc = run_in_python(out, job, state, record_json);
	jr_run_files_free(&state->files); /* a run that produced no result */
	PyGILState_Release(gil);
	return rc;
}

int jobreg_job_run(jobreg_run_result **out, const jobreg_job *job, const jobreg_record *record,
                   const jobreg_run_options *user_opts)
{
	static const jobreg_run_options defaults = JOBREG_RUN_OPTIONS_INIT;
	struct run_state state;
	jr_run_record recorded;
	char *record_json = NULL;
	int rc;

	memset(&state, 0, sizeof(state));
	state.opts = defaults;
	if (out)
		*out = NULL;
	if (!out || !job || !record)
		return jr_error_set(JOBREG_EINVAL, "jobreg_job_run: NULL argument");
	if ((rc = jr_options_read(&state.opts, user_opts, run_options_sizes, JOBREG_RUN_OPTIONS_VERSION,
	                          "jobreg_run_options")) < 0 ||
	    (rc = check_limits(&state.opts)) < 0 || (rc = jr_runtime_require("jobreg_job_run")) < 0)
		return rc;
	if ((rc = check_record(job, record)) < 0) {
		jr_run_record_refusal(&state.opts, job, record, rc);
		return rc;
	}
	if ((rc = jobreg_record_to_json(&record_json, record)) < 0)
		return rc;
	jr_run_limits(record, &state.opts, &state.soft, &state.hard);
	if ((rc = jr_run_record_start(&recorded, &state.opts, job, record)) < 0) {
		jobreg_free(record_json);
		return rc;
	}

	if (jobreg_cancel_requested(state.opts.cancel))
		rc = jr_error_set(JOBREG_ECANCELED, "the run of '%s' was cancelled before it started",
		                  job->class_path);
	else if (job->part->code) /* isolation mode: the class lives in a worker process */
		rc = jr_pool_run(out, job, record_json, &state.opts, state.soft, state.hard);
	else
		rc = run_in_process(out, job, &state, record_json);
	jr_run_record_finish(&recorded, *out, rc);
	jobreg_free(record_json);
	return rc;
}

int jobreg_run(jobreg_run_result **out, jobreg_registry *reg, jobreg_storage *st, const char *ref,
               const jobreg_run_options *opts)
{
	jobreg_job *job = NULL;
	jobreg_record *record = NULL;
	int rc;

	if (!out || !reg || !st || !ref)
		return jr_error_set(JOBREG_EINVAL, "jobreg_run: NULL argument");
	if ((rc = jobreg_registry_resolve(&job, reg, ref)) < 0)
		return rc;
	rc = jobreg_storage_get(&record, st, job->class_path);
	if (rc == JOBREG_ENOTFOUND) {
		rc = jr_error_set(JOBREG_ENOTINSTALLED,
		                  "job '%s' has no record yet: refresh the records first", job->class_path);
		jr_run_record_refusal(opts, job, NULL, rc);
	}
	if (rc == 0)
		rc = jobreg_job_run(out, job, record, opts);
	jobreg_record_free(record);
	jobreg_job_free(job);
	return rc;
}

jobreg_run_status jobreg_run_result_status(const jobreg_run_result *res)
{
	return res ? res->status : (jobreg_run_status)0;
}

const char *jobreg_run_result_json(const jobreg_run_result *res)
{
	return res ? res->result_json : "";
}
const char *jobreg_run_result_error_type(const jobreg_run_result *res)
{
	return res ? res->error_type : "";
}
const char *jobreg_run_result_error_message(const jobreg_run_result *res)
{
	return res ? res->error_message : "";
}
const char *jobreg_run_result_traceback(const jobreg_run_result *res)
{
	return res ? res->traceback : "";
}
const char *jobreg_run_result_run_id(const jobreg_run_result *res)
{
	return res && res->run_id ? res->run_id : "";
}
const char *jobreg_run_result_record_error(const jobreg_run_result *res)
{
	if (!res || !res->record_failed)
		return "";
	return res->record_error ? res->record_error : "the end of the run could not be stored";
}

void jr_run_result_set_record(jobreg_run_result *res, char *run_id, const char *record_error)
{
	free(res->run_id);
	res->run_id = run_id;
	free(res->record_error);
	res->record_error = record_error ? jr_strdup(record_error) : NULL;
	res->record_failed = record_error != NULL;
}

size_t jobreg_run_result_file_count(const jobreg_run_result *res)
{
	return res ? res->file_count : 0;
}

const char *jobreg_run_result_file_name(const jobreg_run_result *res, size_t i)
{
	return res && i < res->file_count ? res->files[i].name : NULL;
}

const unsigned char *jobreg_run_result_file_data(const jobreg_run_result *res, size_t i,
                                                 size_t *size)
{
	int valid = res && i < res->file_count;

	if (size)
		*size = valid ? res->files[i].size : 0;
	return valid ? res->files[i].data : NULL;
}

int jobreg_run_result_to_json(char **out, const jobreg_run_result *res)
{
	jr_buf b = JR_BUF_INIT;
	size_t i;

	if (!out || !res)
		return jr_error_set(JOBREG_EINVAL, "jobreg_run_result_to_json: NULL argument");
	jr_buf_printf(&b, "{\"status\": \"%s\", \"result\": %s, \"error\": ",
	              res->status == JOBREG_RUN_SUCCESS ? "success" : "failed", res->result_json);
	if (res->status == JOBREG_RUN_SUCCESS) {
		jr_buf_puts(&b, "null");
	} else {
		jr_buf_puts(&b, "{\"type\": ");
		jr_buf_put_json_string(&b, res->error_type);
		jr_buf_puts(&b, ", \"message\": ");
		jr_buf_put_json_string(&b, res->error_message);
		jr_buf_puts(&b, ", \"traceback\": ");
		jr_buf_put_json_string(&b, res->traceback);
		jr_buf_puts(&b, "}");
	}
	jr_buf_puts(&b, ", \"files\": [");
	for (i = 0; i < res->file_count; i++) {
		jr_buf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
		jr_buf_put_json_string(&b, res->files[i].name);
		jr_buf_printf(&b, ", \"size\": %zu}", res->files[i].size);
	}
	jr_buf_puts(&b, "]}");
	if (jr_buf_status(&b) < 0) {
		jr_buf_free(&b);
		return JOBREG_ENOMEM;
	}
	*out = jr_buf_detach(&b);
	return 0;
}

void jobreg_run_result_free(jobreg_run_result *res)
{
	if (!res)
		return;
	free(res->result_json);
	free(res->error_type);
	free(res->error_message);
	free(res->traceback);
	free_files(res->files, res->file_count);
	free(res->run_id);
	free(res->record_error);
	free(res);
}
