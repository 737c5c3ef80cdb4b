/*
 * watchdog.c: the import time limit (SPEC 3).
 *
 * A module body that runs too long (an endless loop at import) is
 * interrupted by an asynchronous exception raised in the importing thread,
 * from a helper thread that waits for the deadline. Only Python code can be
 * interrupted this way: a module blocked inside one C call is interrupted
 * when that call returns.
 *
 * The loader reaches it as the built-in module `jobreg._watchdog`:
 * arm(seconds, exception_type) before an import, disarm() after.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "error.h"
#include "pyutil.h"
#include "watchdog.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	int armed, fired;
	unsigned long target; /* thread id of the importing thread */
	PyObject *exception;  /* strong reference while armed */
	struct timespec deadline;
} dog = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

static int deadline_passed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > dog.deadline.tv_sec ||
	       (now.tv_sec == dog.deadline.tv_sec && now.tv_nsec >= dog.deadline.tv_nsec);
}

static void *watch(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&dog.lock);
	while (!dog.stopping) {
		if (!dog.armed || dog.fired) {
			pthread_cond_wait(&dog.wake, &dog.lock);
			continue;
		}
		if (!deadline_passed()) {
			pthread_cond_timedwait(&dog.wake, &dog.lock, &dog.deadline);
			continue;
		}
		/* The importing thread gives the GIL up regularly while it runs
		 * Python code; disarm() never waits for this lock holding it. */
		PyGILState_STATE gil = PyGILState_Ensure();
		PyThreadState_SetAsyncExc(dog.target, dog.exception);
		PyGILState_Release(gil);
		dog.fired = 1;
	}
	pthread_mutex_unlock(&dog.lock);
	return NULL;
}

static int start_thread(void)
{
	pthread_condattr_t attr;

	if (dog.running)
		return 0;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_destroy(&dog.wake);
	pthread_cond_init(&dog.wake, &attr);
	pthread_condattr_destroy(&attr);
	dog.stopping = 0;
	if (pthread_create(&dog.thread, NULL, watch, NULL) != 0)
		return -1;
	dog.running = 1;
	return 0;
}

static PyObject *arm(PyObject *self, PyObject *args)
{
	double seconds;
	PyObject *exception;
	struct timespec deadline;
	int rc;

	if (!PyArg_ParseTuple(args, "dO:arm", &seconds, &exception))
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)seconds;
	deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	Py_INCREF(exception);
	Py_XSETREF(dog.exception, exception);
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	rc = start_thread();
	if (rc == 0) {
		dog.deadline = deadline;
		dog.target = PyThread_get_thread_ident();
		dog.armed = 1;
		dog.fired = 0;
		pthread_cond_signal(&dog.wake);
	}
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	if (rc < 0)
		return PyErr_Format(PyExc_RuntimeError, "could not start the import watchdog");
	Py_RETURN_NONE;
}

static PyObject *disarm(PyObject *self, PyObject *unused)
{
	int fired;

	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	dog.armed = 0;
	fired = dog.fired;
	dog.fired = 0;
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	/* Fired after the module finished: withdraw what was not raised yet. */
	if (fired)
		PyThreadState_SetAsyncExc(PyThread_get_thread_ident(), NULL);
	Py_CLEAR(dog.exception);
	if (fired)
		Py_RETURN_TRUE;
	Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
	{ "arm", arm, METH_VARARGS, "arm(seconds, exception_type): interrupt this thread after seconds" },
	{ "disarm", disarm, METH_NOARGS, "disarm() -> bool: stop the clock; True if it had fired" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT, "jobreg._watchdog", "The import time limit of libjobreg.", -1, methods,
	NULL, NULL, NULL, NULL,
};

int jr_watchdog_install(void)
{
	PyObject *module, *modules = PyImport_GetModuleDict();
	int rc;

	if (PyDict_GetItemString(modules, "jobreg._watchdog"))
		return 0;
	module = PyModule_Create(&module_def);
	if (!module)
		return jr_error_from_python(JOBREG_EPYTHON, "jobreg._watchdog");
	rc = PyDict_SetItemString(modules, "jobreg._watchdog", module);
	Py_DECREF(module);
	return rc < 0 ? jr_error_from_python(JOBREG_EPYTHON, "jobreg._watchdog") : 0;
}

void jr_watchdog_stop(void)
{
	pthread_mutex_lock(&dog.lock);
	if (!dog.running) {
		pthread_mutex_unlock(&dog.lock);
		return;
	}
	dog.stopping = 1;
	pthread_cond_signal(&dog.wake);
	pthread_mutex_unlock(&dog.lock);
	pthread_join(dog.thread, NULL);
	dog.running = 0;
}
