/*
 * watchdog.c: the import time limit (SPEC 3), and the time limits and
 * cancellation of runs in the host's process (run.h).
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
 *
 * A run (src/run.c) is watched through jr_watchdog_run_begin() and _end():
 * its soft and hard deadlines and its cancel token, polled every
 * POLL_NS while any armed run has one. Runs have their own list: a job that
 * reloads a registry arms and disarms an import clock on the same thread.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "cancel.h"
#include "error.h"
#include "pyutil.h"
#include "watchdog.h"

/* How often the tokens of armed runs are read: a cancel is seen within this
 * (plus the wait for the GIL, at most the switch interval, 5 ms). */
#define POLL_NS 10000000L
/* A hard limit or a cancel is raised again this often while the run goes on. */
#define AGAIN_SECONDS 1.0
/* Longer limits are this one (about 31 years): time_t must not overflow. */
#define LONGEST_SECONDS 1e9

/* One armed clock per importing thread: registries load in parallel,
 * each with its own time limit. */
struct clock {
	struct clock *next;
	unsigned long target; /* thread id of the importing thread */
	PyObject *exception;  /* strong reference, released by disarm() */
	struct timespec deadline;
	int fired;
};

/* One watched run; the exceptions are strong references, NULL when that
 * event is not watched. */
struct jr_run_watch {
	struct jr_run_watch *next;
	unsigned long target; /* thread id of the running thread */
	const jobreg_cancel *cancel;
	PyObject *soft, *hard, *cancelled;
	struct timespec soft_at, hard_at, cancel_at; /* when each may fire next */
	int fired;                                   /* JR_WATCH_* bits raised so far */
	int soft_done;                               /* the soft limit was raised or dropped */
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int running, stopping;
	struct clock *armed;
	struct jr_run_watch *runs;
} dog = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* `from` plus `seconds` (>= 0; clamped to LONGEST_SECONDS). */
static struct timespec after(const struct timespec *from, double seconds)
{
	struct timespec t = *from;

	if (!(seconds <= LONGEST_SECONDS))
		seconds = LONGEST_SECONDS;
	t.tv_sec += (time_t)seconds;
	t.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Keep in *next the earlier of *next and t (*have: whether *next is set). */
static void earliest(struct timespec *next, int *have, const struct timespec *t)
{
	if (!*have || before(t, next))
		*next = *t;
	*have = 1;
}

/* Raise `exception` in the thread `target` (dog.lock held, GIL not held). */
static void raise_in(unsigned long target, PyObject *exception)
{
	/* The target thread gives the GIL up regularly while it runs Python
	 * code; arm, disarm, begin and end never wait for this lock holding
	 * it, and the exception stays alive (its clock or watch armed) while
	 * we hold the lock. */
	PyGILState_STATE gil = PyGILState_Ensure();
	PyThreadState_SetAsyncExc(target, exception);
	PyGILState_Release(gil);
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

/* Fire the import clock that is due, if any; its deadline into *next otherwise. */
static void fire_import(const struct timespec *now, struct timespec *next, int *have)
{
	struct clock *c = next_to_fire();

	if (!c)
		return;
	if (before(now, &c->deadline)) {
		earliest(next, have, &c->deadline);
		return;
	}
	raise_in(c->target, c->exception);
	c->fired = 1;
	earliest(next, have, now); /* look again at once: another may be due */
}

/*
 * What is due for run `w` at `now`: the one exception raised is the
 * strongest (cancel, then hard, then soft; one pending exception per
 * thread: a second would replace the first). A soft limit due with a
 * stronger one is dropped, a hard one comes again after AGAIN_SECONDS.
 */
static void fire_run(struct jr_run_watch *w, const struct timespec *now, struct timespec *next,
                     int *have)
{
	int cancel = w->cancelled && jobreg_cancel_requested(w->cancel) && !before(now, &w->cancel_at);
	int hard = w->hard && !before(now, &w->hard_at);
	int soft = w->soft && !w->soft_done && !before(now, &w->soft_at);
	struct timespec poll = after(now, POLL_NS / 1e9);

	if (cancel || hard || soft) {
		raise_in(w->target, cancel ? w->cancelled : hard ? w->hard : w->soft);
		w->fired |= cancel ? JR_WATCH_CANCEL : hard ? JR_WATCH_HARD : JR_WATCH_SOFT;
		if (cancel)
			w->cancel_at = after(now, AGAIN_SECONDS);
		if (hard)
			w->hard_at = after(now, AGAIN_SECONDS);
		if (soft)
			w->soft_done = 1;
	}
	if (w->cancelled)
		earliest(next, have, jobreg_cancel_requested(w->cancel) ? &w->cancel_at : &poll);
	if (w->hard)
		earliest(next, have, &w->hard_at);
	if (w->soft && !w->soft_done)
		earliest(next, have, &w->soft_at);
}

static void *watch(void *unused)
{
	(void)unused;
	pthread_mutex_lock(&dog.lock);
	while (!dog.stopping) {
		struct jr_run_watch *w;
		struct timespec now, next;
		int have = 0;

		clock_gettime(CLOCK_MONOTONIC, &now);
		fire_import(&now, &next, &have);
		for (w = dog.runs; w; w = w->next)
			fire_run(w, &now, &next, &have);
		/* next is a copy: disarm() and _end() may free what we watched. */
		if (have)
			pthread_cond_timedwait(&dog.wake, &dog.lock, &next);
		else
			pthread_cond_wait(&dog.wake, &dog.lock);
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
	struct timespec now;
	int rc;

	(void)self;
	if (!PyArg_ParseTuple(args, "dO:arm", &seconds, &exception))
		return NULL;
	c = PyMem_RawCalloc(1, sizeof(*c));
	if (!c)
		return PyErr_NoMemory();
	clock_gettime(CLOCK_MONOTONIC, &now);
	c->deadline = after(&now, seconds > 0 ? seconds : 0);
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

/* The class `name` of module `module`, if it is an exception class; else NULL, no error. */
static PyObject *exception_class(PyObject *module, const char *name)
{
	PyObject *cls = PyObject_GetAttrString(module, name);

	if (cls && PyExceptionClass_Check(cls))
		return cls;
	Py_XDECREF(cls);
	PyErr_Clear();
	return NULL;
}

/* The soft limit's exception: Celery's when the job's code imported it
 * (so `except SoftTimeLimitExceeded` catches it either way), else ours. */
static PyObject *soft_class(PyObject *jobs)
{
	PyObject *celery = PyDict_GetItemString(PyImport_GetModuleDict(), "celery.exceptions");
	PyObject *cls = celery ? exception_class(celery, "SoftTimeLimitExceeded") : NULL;

	return cls ? cls : exception_class(jobs, "SoftTimeLimitExceeded");
}

static void free_watch(struct jr_run_watch *w)
{
	Py_XDECREF(w->soft);
	Py_XDECREF(w->hard);
	Py_XDECREF(w->cancelled);
	PyMem_RawFree(w);
}

int jr_watchdog_run_begin(jr_run_watch **out, double soft, double hard, const jobreg_cancel *cancel)
{
	struct jr_run_watch *w;
	struct timespec now;
	PyObject *jobs;
	int rc;

	*out = NULL;
	if (soft <= 0 && hard <= 0 && !cancel)
		return 0;
	if (!(w = PyMem_RawCalloc(1, sizeof(*w))))
		return jr_error_oom();
	if (!(jobs = PyImport_ImportModule("jobreg.jobs"))) {
		PyMem_RawFree(w);
		return jr_error_from_python(JOBREG_EPYTHON, "watching a run");
	}
	if (soft > 0)
		w->soft = soft_class(jobs);
	if (hard > 0)
		w->hard = exception_class(jobs, "TimeLimitExceeded");
	if (cancel)
		w->cancelled = exception_class(jobs, "RunCancelled");
	Py_DECREF(jobs);
	if ((soft > 0 && !w->soft) || (hard > 0 && !w->hard) || (cancel && !w->cancelled)) {
		free_watch(w);
		return jr_error_set(JOBREG_EPYTHON, "watching a run: jobreg.jobs lacks "
		                                    "SoftTimeLimitExceeded, TimeLimitExceeded or "
		                                    "RunCancelled");
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	w->target = PyThread_get_thread_ident();
	w->cancel = cancel;
	w->soft_at = after(&now, soft);
	w->hard_at = after(&now, hard);
	w->cancel_at = now;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	rc = start_thread();
	if (rc == 0) {
		w->next = dog.runs;
		dog.runs = w;
		pthread_cond_signal(&dog.wake);
	}
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	if (rc < 0) {
		free_watch(w);
		return jr_error_set(JOBREG_ERROR, "could not start the run watchdog's thread");
	}
	*out = w;
	return 0;
}

int jr_watchdog_run_end(jr_run_watch *w)
{
	struct jr_run_watch **link;
	int fired;

	if (!w)
		return 0;
	Py_BEGIN_ALLOW_THREADS
	pthread_mutex_lock(&dog.lock);
	for (link = &dog.runs; *link; link = &(*link)->next)
		if (*link == w) {
			*link = w->next;
			break;
		}
	pthread_mutex_unlock(&dog.lock);
	Py_END_ALLOW_THREADS
	fired = w->fired;
	/* Raised after the run's code finished: withdraw what was not seen yet. */
	if (fired)
		PyThreadState_SetAsyncExc(w->target, NULL);
	free_watch(w);
	return fired;
}

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
	dog.runs = NULL;
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
