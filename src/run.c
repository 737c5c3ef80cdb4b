/*
 * run.c: running a job (SPEC 5): the record check, then the Python side
 * (src/py/jobreg/_runner.py) with the host's log callback wrapped as a
 * Python callable.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "generation.h"
#include "jobreg/registry.h"
#include "jobreg/job.h"
#include "jobreg/run.h"
#include "options.h"
#include "pyutil.h"
#include "runtime.h"
#include "util.h"

struct jobreg_run_result {
	jobreg_run_status status;
	char *result_json;
	char *error_type;
	char *error_message;
	char *traceback;
};

static const size_t run_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_run_options, log_payload),
};

int jobreg_run_options_init(jobreg_run_options *opts, unsigned int version)
{
	static const jobreg_run_options defaults = JOBREG_RUN_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, run_options_sizes,
	                       JOBREG_RUN_OPTIONS_VERSION, version, "jobreg_run_options");
}

/* The host's log callback, callable from Python as log(level, name, message, extra_json). */
struct log_target {
	jobreg_log_fn fn;
	void *payload;
};

static PyObject *call_log(PyObject *capsule, PyObject *args)
{
	struct log_target *target = PyCapsule_GetPointer(capsule, "jobreg.log");
	const char *level_name, *message, *extra;
	int level;

	if (!target || !PyArg_ParseTuple(args, "isss:log", &level, &level_name, &message, &extra))
		return NULL;
	if (target->fn)
		target->fn(level, level_name, message, extra, target->payload);
	Py_RETURN_NONE;
}

static PyMethodDef log_def = { "log", call_log, METH_VARARGS, NULL };

/* Refusals that the record decides (SPEC 5). */
static int check_record(const jobreg_job *job, const jobreg_record *record)
{
	const char *path = jobreg_record_text(record, JOBREG_FIELD_CLASS_PATH);

	if (!path || strcmp(path, job->class_path) != 0)
		return jr_error_set(JOBREG_EINVAL, "the record of '%s' does not belong to the job '%s'",
		                    path ? path : "(none)", job->class_path);
	if (!jobreg_record_bool(record, JOBREG_FIELD_INSTALLED))
		return jr_error_set(JOBREG_ENOTINSTALLED, "job '%s' is not installed: its code is no longer loaded",
		                    job->class_path);
	if (!jobreg_record_bool(record, JOBREG_FIELD_ENABLED))
		return jr_error_set(JOBREG_EDISABLED, "job '%s' is not enabled: enable it before running it",
		                    job->class_path);
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

static int make_result(jobreg_run_result **out, PyObject *outcome)
{
	jobreg_run_result *res = calloc(1, sizeof(*res));
	const char *kind, *a = "", *b = "", *c = "";

	if (!res)
		return jr_error_oom();
	if (!PyArg_ParseTuple(outcome, "s|sss", &kind, &a, &b, &c)) {
		free(res);
		return jr_error_from_python(JOBREG_EPYTHON, "reading a run's outcome");
	}
	if (strcmp(kind, "ok") == 0) {
		res->status = JOBREG_RUN_SUCCESS;
		res->result_json = jr_strdup(a);
		res->error_type = jr_strdup("");
		res->error_message = jr_strdup("");
		res->traceback = jr_strdup("");
	} else {
		res->status = JOBREG_RUN_FAILED;
		res->result_json = jr_strdup("null");
		res->error_type = jr_strdup(a);
		res->error_message = jr_strdup(b);
		res->traceback = jr_strdup(c);
	}
	if (!res->result_json || !res->error_type || !res->error_message || !res->traceback) {
		jobreg_run_result_free(res);
		return JOBREG_ENOMEM;
	}
	*out = res;
	return 0;
}

int jobreg_job_run(jobreg_run_result **out, const jobreg_job *job, const jobreg_record *record,
                   const jobreg_run_options *user_opts)
{
	jobreg_run_options opts = JOBREG_RUN_OPTIONS_INIT;
	struct log_target target;
	PyObject *runner = NULL, *capsule = NULL, *log = NULL, *outcome = NULL;
	PyGILState_STATE gil;
	int rc;

	if (!out || !job || !record)
		return jr_error_set(JOBREG_EINVAL, "jobreg_job_run: NULL argument");
	if ((rc = jr_options_read(&opts, user_opts, run_options_sizes, JOBREG_RUN_OPTIONS_VERSION,
	                          "jobreg_run_options")) < 0 ||
	    (rc = jr_runtime_require("jobreg_job_run")) < 0 || (rc = check_record(job, record)) < 0)
		return rc;
	target.fn = opts.log;
	target.payload = opts.log_payload;

	gil = PyGILState_Ensure();
	runner = PyImport_ImportModule("jobreg._runner");
	capsule = runner ? PyCapsule_New(&target, "jobreg.log", NULL) : NULL;
	log = capsule ? PyCFunction_New(&log_def, capsule) : NULL;
	if (log)
		outcome = PyObject_CallMethod(runner, "run", "OzO", job->cls, opts.data_json, log);
	if (outcome)
		rc = make_result(out, outcome);
	else if (log)
		rc = input_refused();
	else
		rc = jr_error_from_python(JOBREG_EPYTHON, "preparing a run");
	Py_XDECREF(outcome);
	Py_XDECREF(log);
	Py_XDECREF(capsule);
	Py_XDECREF(runner);
	PyGILState_Release(gil);
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
	if (rc == JOBREG_ENOTFOUND)
		rc = jr_error_set(JOBREG_ENOTINSTALLED, "job '%s' has no record yet: refresh the records first",
		                  job->class_path);
	if (rc == 0)
		rc = jobreg_job_run(out, job, record, opts);
	jobreg_record_free(record);
	jobreg_job_free(job);
	return rc;
}

jobreg_run_status jobreg_run_result_status(const jobreg_run_result *res) { return res->status; }
const char *jobreg_run_result_json(const jobreg_run_result *res) { return res->result_json; }
const char *jobreg_run_result_error_type(const jobreg_run_result *res) { return res->error_type; }
const char *jobreg_run_result_error_message(const jobreg_run_result *res) { return res->error_message; }
const char *jobreg_run_result_traceback(const jobreg_run_result *res) { return res->traceback; }

int jobreg_run_result_to_json(char **out, const jobreg_run_result *res)
{
	jr_buf b = JR_BUF_INIT;

	if (!out || !res)
		return jr_error_set(JOBREG_EINVAL, "jobreg_run_result_to_json: NULL argument");
	jr_buf_printf(&b, "{\"status\": \"%s\", \"result\": %s, \"error\": ",
	              res->status == JOBREG_RUN_SUCCESS ? "success" : "failed", res->result_json);
	if (res->status == JOBREG_RUN_SUCCESS) {
		jr_buf_puts(&b, "null}");
	} else {
		jr_buf_puts(&b, "{\"type\": ");
		jr_buf_put_json_string(&b, res->error_type);
		jr_buf_puts(&b, ", \"message\": ");
		jr_buf_put_json_string(&b, res->error_message);
		jr_buf_puts(&b, ", \"traceback\": ");
		jr_buf_put_json_string(&b, res->traceback);
		jr_buf_puts(&b, "}}");
	}
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
	free(res);
}
