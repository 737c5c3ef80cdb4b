/*
 * runtime.c: jobreg_init() / jobreg_shutdown(): starting or borrowing CPython.
 *
 * The library starts an interpreter only when none runs in the process, and
 * then finalizes only that one. After start-up the GIL is released, so any
 * thread can enter with PyGILState_Ensure(); no entry point returns holding it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdlib.h>

#include "error.h"
#include "options.h"
#include "pyembed.h"
#include "pyutil.h"
#include "runtime.h"
#include "watchdog.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int refcount;
static int owns_interpreter;
static PyThreadState *init_tstate; /* the starting thread's, while released */
static pthread_t init_thread;
/* The first jobreg_init() asked for JOBREG_COMPAT_1X; read without the lock. */
static int nautobot_1x;

static const size_t init_options_sizes[] = {
	JR_SIZE_THROUGH(jobreg_init_options, nautobot_compat),
};

int jobreg_init_options_init(jobreg_init_options *opts, unsigned int version)
{
	static const jobreg_init_options defaults = JOBREG_INIT_OPTIONS_INIT;

	return jr_options_init(opts, &defaults, init_options_sizes, JOBREG_INIT_OPTIONS_VERSION,
	                       version, "jobreg_init_options");
}

static int python_status_error(PyStatus status)
{
	return jr_error_set(JOBREG_EPYTHON, "could not start Python: %s%s%s",
	                    status.func ? status.func : "", status.func ? ": " : "",
	                    status.err_msg ? status.err_msg : "unknown error");
}

static int start_interpreter(void)
{
	PyPreConfig preconfig;
	PyConfig config;
	PyStatus status;
	const char *no_bytecode = getenv("PYTHONDONTWRITEBYTECODE");

	/* UTF-8 mode: our API speaks UTF-8 paths, and an isolated interpreter
	 * would otherwise take the host's locale, which is "C" (ASCII) until
	 * the host calls setlocale(): a jobs root at /srv/jöbs could not load. */
	PyPreConfig_InitIsolatedConfig(&preconfig);
	preconfig.utf8_mode = 1;
	status = Py_PreInitialize(&preconfig);
	if (PyStatus_Exception(status))
		return python_status_error(status);

	PyConfig_InitIsolatedConfig(&config);
	config.install_signal_handlers = 0;
	/* Isolated mode ignores the environment; this one variable is honoured
	 * so that hosts and benchmarks can keep job folders free of .pyc files. */
	if (no_bytecode && *no_bytecode)
		config.write_bytecode = 0;
	status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status))
		return python_status_error(status);
	return 0;
}

/* Append the host's extra sys.path entries that are not there yet. */
static int extend_sys_path(const jobreg_init_options *opts)
{
	PyObject *path = PySys_GetObject("path"); /* borrowed */
	size_t i;

	if (!path || !PyList_Check(path))
		return jr_error_set(JOBREG_EPYTHON, "sys.path is not a list");
	for (i = 0; i < opts->python_path_count; i++) {
		PyObject *entry;
		int present;

		if (!opts->python_path || !opts->python_path[i])
			return jr_error_set(JOBREG_EINVAL, "jobreg_init: python_path[%zu] is NULL", i);
		entry = PyUnicode_DecodeFSDefault(opts->python_path[i]);
		if (!entry)
			return jr_error_from_python(JOBREG_EPYTHON, "sys.path");
		present = PySequence_Contains(path, entry);
		if (present == 0 && PyList_Append(path, entry) < 0)
			present = -1;
		Py_DECREF(entry);
		if (present < 0)
			return jr_error_from_python(JOBREG_EPYTHON, "sys.path");
	}
	return 0;
}

static int install_modules(const jobreg_init_options *opts)
{
	PyObject *compat, *result;
	int rc = jr_watchdog_install();

	if (rc == 0)
		rc = jr_pyembed_install();
	if (rc < 0)
		return rc;
	compat = PyImport_ImportModule("jobreg._compat");
	if (!compat)
		return jr_error_from_python(JOBREG_EPYTHON, "jobreg._compat");
	result = PyObject_CallMethod(compat, "install", "O",
	                             opts->nautobot_compat ? Py_True : Py_False);
	Py_DECREF(compat);
	if (!result)
		return jr_error_from_python(JOBREG_EPYTHON,
		                            "installing the nautobot compatibility modules");
	Py_DECREF(result);
	return 0;
}

static void stop_interpreter(void)
{
	if (pthread_equal(init_thread, pthread_self()))
		PyEval_RestoreThread(init_tstate);
	else
		PyGILState_Ensure();
	Py_FinalizeEx();
	init_tstate = NULL;
}

int jobreg_init(const jobreg_init_options *user_opts)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;
	PyGILState_STATE gil;
	int rc, first;

	rc = jr_options_read(&opts, user_opts, init_options_sizes, JOBREG_INIT_OPTIONS_VERSION,
	                     "jobreg_init_options");
	if (rc < 0)
		return rc;

	pthread_mutex_lock(&lock);
	first = refcount == 0;
	if (first) {
		owns_interpreter = !Py_IsInitialized();
		if (owns_interpreter) {
			rc = start_interpreter();
			if (rc < 0)
				goto out;
			init_thread = pthread_self();
			init_tstate = PyEval_SaveThread();
		}
	}
	gil = PyGILState_Ensure();
	/* The path first: whether a real nautobot is importable depends on it. */
	rc = extend_sys_path(&opts);
	if (rc == 0 && first)
		rc = install_modules(&opts);
	PyGILState_Release(gil);

	if (rc < 0) {
		if (first && owns_interpreter)
			stop_interpreter();
		goto out;
	}
	if (first)
		__atomic_store_n(&nautobot_1x, opts.nautobot_compat == JOBREG_COMPAT_1X, __ATOMIC_RELAXED);
	rc = ++refcount;
out:
	pthread_mutex_unlock(&lock);
	return rc;
}

int jobreg_shutdown(void)
{
	int rc;

	pthread_mutex_lock(&lock);
	if (refcount == 0) {
		rc = jr_error_set(JOBREG_ESTATE, "jobreg_shutdown: the library is not initialized");
	} else {
		rc = --refcount;
		if (rc == 0) {
			jr_watchdog_stop();
			__atomic_store_n(&nautobot_1x, 0, __ATOMIC_RELAXED);
		}
		if (rc == 0 && owns_interpreter)
			stop_interpreter();
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int jr_runtime_ready(void)
{
	int ready;

	pthread_mutex_lock(&lock);
	ready = refcount > 0;
	pthread_mutex_unlock(&lock);
	return ready;
}

int jr_runtime_python_alive(void)
{
	/* Py_IsFinalizing() is public since 3.13, which removed _Py_IsFinalizing(). */
#if PY_VERSION_HEX >= 0x030D0000
	return Py_IsInitialized() && !Py_IsFinalizing();
#else
	return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

int jr_runtime_require(const char *what)
{
	if (!jr_runtime_ready())
		return jr_error_set(JOBREG_ESTATE, "%s: call jobreg_init() first", what);
	return 0;
}

int jr_runtime_nautobot_1x(void)
{
	return __atomic_load_n(&nautobot_1x, __ATOMIC_RELAXED);
}
