/*
 * isolate_run.c: a run in a worker process (isolation mode; isolate.h).
 *
 * The run goes to a worker that has the job's code at the load its part
 * came from (another one loads it first). While the job runs, the worker
 * sends its log records, files and host operations, and the host serves
 * them here with the host's callbacks, on the calling thread with the GIL
 * held, exactly as an in-process run would (run_internal.h shares that
 * code). The hard time limit and a cancel request kill the worker: the
 * next run starts another.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <stdio.h>
#include <string.h>

#include "cancel.h"
#include "error.h"
#include "generation.h"
#include "isolate_internal.h"
#include "pyutil.h"
#include "run_internal.h"

/* A failed run made here (the worker could not tell): type and message. */
static int failed_run(jobreg_run_result **out, struct jr_run_files *files, const char *type,
                      const char *message)
{
	PyObject *outcome = Py_BuildValue("(sssss)", "failed", type, message, "", "null");
	int rc;

	if (!outcome)
		return jr_error_from_python(JOBREG_EPYTHON, "a run in a worker");
	rc = jr_run_result_from_outcome(out, outcome, files, 0);
	Py_DECREF(outcome);
	return rc;
}

/* The str of the pending exception, for a message to the worker; clears it. */
static PyObject *exception_text(void)
{
	PyObject *type, *value, *tb, *text;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	text = value ? PyObject_Str(value) : NULL;
	if (!text) {
		PyErr_Clear();
		text = PyUnicode_FromString("the host refused it");
	}
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return text;
}

/* ("ok",) or ("refused", message) to a file the job created. */
static PyObject *serve_file(PyObject *message, const jobreg_run_options *opts,
                            struct jr_run_files *files)
{
	const char *kind, *name, *data;
	Py_ssize_t size;
	PyObject *text, *reply;

	if (!PyArg_ParseTuple(message, "ssy#", &kind, &name, &data, &size))
		return NULL;
	if (jr_run_offer_file(opts, files, name, (const unsigned char *)data, (size_t)size) == 0)
		return Py_BuildValue("(s)", "ok");
	text = exception_text();
	reply = text ? Py_BuildValue("(sO)", "refused", text) : NULL;
	Py_XDECREF(text);
	return reply;
}

/* ("ok", json), ("lookup", message) or ("error", message) to a host operation. */
static PyObject *serve_host(PyObject *message, const jobreg_run_options *opts)
{
	PyObject *op, *answer, *text, *reply;
	const char *kind, *args_json;

	if (!PyArg_ParseTuple(message, "sUs", &kind, &op, &args_json))
		return NULL;
	answer = jr_run_call_host(opts, op, args_json);
	if (answer) {
		reply = Py_BuildValue("(sO)", "ok", answer);
		Py_DECREF(answer);
		return reply;
	}
	kind = PyErr_ExceptionMatches(PyExc_LookupError) ? "lookup" : "error";
	text = exception_text();
	reply = text ? Py_BuildValue("(sO)", kind, text) : NULL;
	Py_XDECREF(text);
	return reply;
}

static void serve_log(PyObject *message, const jobreg_run_options *opts)
{
	const char *kind, *level_name, *text, *extra;
	int level;

	if (!PyArg_ParseTuple(message, "siss|s", &kind, &level, &level_name, &text, &extra)) {
		PyErr_Clear(); /* a record we cannot read is dropped, the run goes on */
		return;
	}
	if (PyTuple_GET_SIZE(message) < 5)
		extra = "{}";
	if (opts->log)
		opts->log(level, level_name, text, extra, opts->log_payload);
}

/* What the run's messages lead to. */
enum run_end {
	RUN_GOING,
	RUN_DONE, /* *out is set */
	RUN_ERROR /* an error is set */
};

/* One message from the worker during a run. GIL held. */
static enum run_end serve_message(jobreg_run_result **out, struct jr_worker *w, PyObject *message,
                                  const jobreg_run_options *opts, struct jr_run_files *files,
                                  double soft)
{
	PyObject *reply = NULL;

	if (jr_message_is(message, "log")) {
		serve_log(message, opts);
		return RUN_GOING;
	}
	if (jr_message_is(message, "file") || jr_message_is(message, "host")) {
		reply = jr_message_is(message, "file") ? serve_file(message, opts, files)
		                                       : serve_host(message, opts);
		if (!reply) {
			jr_error_from_python(JOBREG_EPYTHON, "serving a worker's run");
			return RUN_ERROR;
		}
		jr_worker_send_message(w, reply); /* a worker gone says so at the next read */
		Py_DECREF(reply);
		return RUN_GOING;
	}
	if (jr_message_is(message, "result") && PyTuple_GET_SIZE(message) == 2)
		return jr_run_result_from_outcome(out, PyTuple_GET_ITEM(message, 1), files, soft) == 0
		           ? RUN_DONE
		           : RUN_ERROR;
	if ((jr_message_is(message, "invalid") || jr_message_is(message, "error")) &&
	    PyTuple_GET_SIZE(message) == 2 && PyUnicode_Check(PyTuple_GET_ITEM(message, 1))) {
		const char *text = PyUnicode_AsUTF8(PyTuple_GET_ITEM(message, 1));

		if (jr_message_is(message, "invalid"))
			jr_error_set(JOBREG_EVALIDATION, "invalid input: %s", text ? text : "(unreadable)");
		else
			jr_error_set(JOBREG_EPYTHON, "running a job in a worker process: %s",
			             text ? text : "(unreadable)");
		PyErr_Clear();
		return RUN_ERROR;
	}
	jr_error_set(JOBREG_EPYTHON, "a worker process sent a run something it does not know");
	return RUN_ERROR;
}

/* Load the job's code in `w`, which lacks it. GIL held. 0, 1 (a failed run is in *out), < 0. */
static int load_for_run(jobreg_run_result **out, struct jr_worker *w,
                        const struct jr_part_code *code, struct jr_run_files *files)
{
	PyObject *request, *reply = NULL;
	char why[160] = "", *blame = NULL, message[512];
	int end, timed_out, rc;

	request = PyMarshal_ReadObjectFromString(code->request, (Py_ssize_t)code->request_len);
	if (!request)
		return jr_error_from_python(JOBREG_EPYTHON, "loading a job's code in a worker");
	end = jr_worker_load(w, request, code->import_timeout, &reply, &blame, why, sizeof(why),
	                     &timed_out);
	Py_DECREF(request);
	Py_XDECREF(reply);
	if (end == 0)
		return jr_worker_set_loaded(w, code->key, code->serial);
	if (end == 3)
		return jr_error_code() ? jr_error_code() : JOBREG_EPYTHON;
	if (timed_out)
		snprintf(message, sizeof(message),
		         "loading the job's code for this run, module %s exceeded its import time limit "
		         "of %g s and its worker process was killed",
		         blame ? blame : "(none)", code->import_timeout);
	else
		snprintf(message, sizeof(message),
		         "the worker process loading the job's code for this run %s%s%s", why,
		         blame ? " while importing " : "", blame ? blame : "");
	free(blame);
	rc = failed_run(out, files, timed_out ? "ImportTimeLimitExceeded" : "WorkerDied", message);
	return rc < 0 ? rc : 1;
}

int jr_pool_run(jobreg_run_result **out, const jobreg_job *job, const char *record_json,
                const jobreg_run_options *opts, double soft, double hard)
{
	const struct jr_part_code *code = job->part->code;
	struct jr_run_files files = { NULL, 0, 0 };
	int cancel_fd = opts->cancel ? jr_cancel_fd(opts->cancel) : -1;
	enum run_end end = RUN_ERROR;
	struct jr_worker *w;
	PyGILState_STATE gil;
	PyObject *request;
	double deadline;
	int rc;

	if ((rc = jr_pool_take(&w, code->pool, code->key, code->serial, 0)) < 0)
		return rc;
	gil = PyGILState_Ensure();
	if (opts->context_json && (rc = jr_run_check_context(opts->context_json)) < 0)
		goto done;
	if (!jr_worker_has(w, code->key, code->serial) &&
	    (rc = load_for_run(out, w, code, &files)) != 0) {
		end = rc > 0 ? RUN_DONE : RUN_ERROR;
		goto done;
	}
	request = Py_BuildValue("(ssKszzsdO)", "run", code->key, (unsigned long long)code->serial,
	                        job->class_path, opts->data_json, opts->context_json, record_json, soft,
	                        opts->host ? Py_True : Py_False);
	if (!request) {
		rc = jr_error_from_python(JOBREG_EPYTHON, "a run request");
		goto done;
	}
	jr_worker_send_message(w, request);
	Py_DECREF(request);
	deadline = hard > 0 ? jr_now() + hard : 0;
	for (end = RUN_GOING; end == RUN_GOING;) {
		struct jr_frame frame;
		PyThreadState *saved = PyEval_SaveThread();
		enum jr_got got = jr_worker_read(w, &frame, deadline, cancel_fd);
		char why[160] = "", message[256];
		PyObject *msg;

		PyEval_RestoreThread(saved);
		if (got == JR_GOT_CANCEL) {
			jr_worker_stop(w, NULL, 0);
			jr_error_set(JOBREG_ECANCELED, "the run of '%s' was cancelled", job->class_path);
			end = RUN_ERROR;
		} else if (got == JR_GOT_TIMEOUT) {
			jr_worker_stop(w, NULL, 0);
			snprintf(message, sizeof(message),
			         "the job exceeded its time limit of %g s; its worker process was killed",
			         hard);
			end = failed_run(out, &files, "TimeLimitExceeded", message) == 0 ? RUN_DONE : RUN_ERROR;
		} else if (got == JR_GOT_EOF) {
			jr_worker_reap(w, why, sizeof(why));
			snprintf(message, sizeof(message), "the worker process running the job %s", why);
			end = failed_run(out, &files, "WorkerDied", message) == 0 ? RUN_DONE : RUN_ERROR;
		} else if (frame.kind == 'm') {
			if (!(msg = jr_frame_message(&frame))) {
				jr_error_from_python(JOBREG_EPYTHON, "reading a worker's message");
				end = RUN_ERROR;
			} else {
				end = serve_message(out, w, msg, opts, &files, soft);
				Py_DECREF(msg);
			}
		} /* 'i' and 'd': module bodies the job imports as it runs */
	}
	rc = end == RUN_DONE ? 0 : (jr_error_code() ? jr_error_code() : JOBREG_EPYTHON);
	if (rc < 0 && rc != JOBREG_EVALIDATION && w->pid > 0 && jr_error_code() != JOBREG_ECANCELED)
		jr_worker_stop(w, NULL, 0); /* a worker that said what we cannot read: start over */
done:
	jr_run_files_free(&files);
	PyGILState_Release(gil);
	jr_pool_give_back(code->pool, w);
	return rc;
}
