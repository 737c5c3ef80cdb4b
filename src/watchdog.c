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
 * arm(seconds, exception_type) before an import, disarm() after. Each
 * importing thread has its own clock, so registries loading at the same
 * time in different threads keep their own limits.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "error.h"
#include "pyutil.h"
#include "watchdog.h"

/* One armed clock per importing thread: registries load in parallel,
 * each with its own time limit. */
struct clock {
	struct clock *next;
	unsigned long target; /* thread id of the importing thread */
	PyObject *exception;  /* strong reference, released by disarm() */
	struct timespec deadline;
	int fired;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	struct clock *armed;
} dog = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* The clock that runs out first among those not fired yet, or NULL. */
static struct clock *next_to_fire(void)
{
	struct clock *c, *first = NULL;

	for (c = dog.armed; c; c = c->next)
		if (!c->fired && (!first || before(&c->deadline, &first->deadline)))
			first = c;
	return first;
}

static void *watch(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&dog.lock);
	while (!dog.stopping) {
		struct clock *c = next_to_fire();
		struct timespec now, deadline;

		if (!c) {
			pthread_cond_wait(&dog.wake, &dog.lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (before(&now, &c->deadline)) {
			/* A copy: disarm() may free the clock while we wait. */
			deadline = c->deadline;
			pthread_cond_timedwait(&dog.wake, &dog.lock, &deadline);
			continue;
		}
		/* The importing thread gives the GIL up regularly while it runs
		 * Python code; arm() and disarm() never wait for this lock
		 * holding it, and the clock stays armed (its exception alive)
		 * while we hold the lock. */
		PyGILState_STATE gil = PyGILState_Ensure();
		PyThreadState_SetAsyncExc(c->target, c->exception);
		PyGILState_Release(gil);
		c->fired = 1;
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

/* Unlink and return the calling thread's clock (lock held), or NULL. */
static struct clock *take_clock(unsigned long target)
{
	struct clock **link;

	for (link = &dog.armed; *link; link = &(*link)->next) {
		struct clock *c = *link;
		if (c->target == target) {
			*link = c->next;
			return c;
		}
	}
	return NULL;
}

/* Forget a clock taken off the list (GIL held). */
static int drop_clock(struct clock *c)
{
	int fired;

	if (!c)
		return 0;
	fired = c->fired;
	/* Fired after the module finished: withdraw what was not raised yet. */
	if (fired)
		PyThreadState_SetAsyncExc(c->target, NULL);
	Py_DECREF(c->exception);
	PyMem_RawFree(c);
	return fired;
}

static PyObject *arm(PyObject *self, PyObject *args)
{
	double seconds;
	PyObject *exception;
	struct clock *c, *old = NULL;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "dO:arm", &seconds, &exception))
		return NULL;
	c = PyMem_RawCalloc(1, sizeof(*c));
	if (!c)
		return PyErr_NoMemory();
	clock_gettime(CLOCK_MONOTONIC, &c->deadline);
	c->deadline.tv_sec += (time_t)seconds;
	c->deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (c->deadline.tv_nsec >= 1000000000L) {
		c->deadline.tv_sec++;
		c->deadline.tv_nsec -= 1000000000L;
	}
	c->target = PyThread_get_thread_ident();
	Py_INCREF(exception);
	c->exception = exception;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	rc = start_thread();
	if (rc == 0) {
		old = take_clock(c->target); /* armed twice: the new limit wins */
		c->next = dog.armed;
		dog.armed = c;
		pthread_cond_signal(&dog.wake);
	}
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	drop_clock(old);
	if (rc < 0) {
		drop_clock(c);
		return PyErr_Format(PyExc_RuntimeError, "could not start the import watchdog");
	}
	Py_RETURN_NONE;
}

static PyObject *disarm(PyObject *self, PyObject *unused)
{
	struct clock *c;

	(void)self;
	(void)unused;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	c = take_clock(PyThread_get_thread_ident());
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	if (drop_clock(c))
		Py_RETURN_TRUE;
	Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
	{ "arm", arm, METH_VARARGS,
	  "arm(seconds, exception_type): interrupt this thread after seconds" },
	{ "disarm", disarm, METH_NOARGS, "disarm() -> bool: stop the clock; True if it had fired" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef module_def = {
	PyModuleDef_HEAD_INIT,
	"jobreg._watchdog",
	"The import time limit of libjobreg.",
	-1,
	methods,
	NULL,
	NULL,
	NULL,
	NULL,
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

void jr_watchdog_after_fork(void)
{
	/* The child has no watchdog thread, and its clocks armed the parent's
	 * threads: start over (the lock may have been held at the fork). */
	pthread_mutex_init(&dog.lock, NULL);
	pthread_cond_init(&dog.wake, NULL);
	dog.running = 0;
	dog.stopping = 0;
	dog.armed = NULL;
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
