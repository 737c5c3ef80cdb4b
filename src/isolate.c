/*
 * isolate.c: the host's side of isolation mode: a pool of worker processes
 * and the loads that happen in them (see isolate.h; the runs are in
 * isolate_run.c, the worker's side in src/py/jobreg/_worker.py).
 *
 * Workers are forked from the host with the GIL held, as os.fork() does
 * (PyOS_BeforeFork and its after-fork companions), so the child's Python is
 * consistent; the child closes every file descriptor but its socket and
 * stdio (a lock file or database the host had open must not live on in
 * it), points its stdout at stderr (job code's print() never reaches the
 * host's output) and serves requests until its socket closes.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include "isolate_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "pyutil.h"
#include "util.h"
#include "watchdog.h"

/* How long past the import time limit the host waits before it kills a
 * worker: the worker's own watchdog interrupts Python code at the limit
 * (a clean load error, the worker lives); only a body blocked in a call
 * that cannot be interrupted is left for the kill. */
#define KILL_GRACE_MIN 0.25

#define FRAME_HEADER 5

double jr_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- workers killed at a pool's end, waited for later ---- */

/*
 * A pool's end kills its workers without waiting for the kernel to tear
 * them down (a host about to exit would only wait for nothing): their pids
 * are reaped, without blocking, by the next pool made or worker taken.
 */
static struct {
	pthread_mutex_t lock;
	pid_t *pids;
	size_t count, cap;
} zombies = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0 };

static void reap_later(pid_t pid)
{
	pthread_mutex_lock(&zombies.lock);
	if (zombies.count == zombies.cap) {
		size_t cap = zombies.cap ? 2 * zombies.cap : 8;
		pid_t *grown = realloc(zombies.pids, cap * sizeof(*grown));

		if (!grown) { /* no room to remember it: wait for it now */
			pthread_mutex_unlock(&zombies.lock);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			return;
		}
		zombies.pids = grown;
		zombies.cap = cap;
	}
	zombies.pids[zombies.count++] = pid;
	pthread_mutex_unlock(&zombies.lock);
}

static void reap_zombies(void)
{
	size_t i = 0;

	pthread_mutex_lock(&zombies.lock);
	while (i < zombies.count) {
		if (waitpid(zombies.pids[i], NULL, WNOHANG) != 0) /* reaped, or not ours any more */
			zombies.pids[i] = zombies.pids[--zombies.count];
		else
			i++;
	}
	pthread_mutex_unlock(&zombies.lock);
}

/* ---- the pool ---- */

int jr_pool_new(jr_pool **out, unsigned int workers, unsigned int memory_limit_mb)
{
	jr_pool *pool = calloc(1, sizeof(*pool));
	size_t i;

	if (!pool)
		return jr_error_oom();
	reap_zombies();
	pool->max = workers ? workers : JR_POOL_DEFAULT_WORKERS;
	pool->workers = calloc(pool->max, sizeof(*pool->workers));
	if (!pool->workers) {
		free(pool);
		return jr_error_oom();
	}
	for (i = 0; i < pool->max; i++)
		pool->workers[i].fd = -1;
	pool->memory_limit_mb = memory_limit_mb;
	atomic_init(&pool->refcount, 1);
	atomic_init(&pool->next_serial, 1);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->idle, NULL);
	*out = pool;
	return 0;
}

void jr_pool_ref(jr_pool *pool)
{
	atomic_fetch_add_explicit(&pool->refcount, 1, memory_order_relaxed);
}

static void forget_loads(struct jr_worker *w)
{
	size_t i;

	for (i = 0; i < w->loaded_count; i++)
		free(w->loaded[i].key);
	free(w->loaded);
	w->loaded = NULL;
	w->loaded_count = 0;
}

/* How a worker ended, for messages: "was killed by signal 11 (Segmentation fault)". */
static void describe_status(char *text, size_t size, int status)
{
	if (WIFSIGNALED(status))
		snprintf(text, size, "was killed by signal %d (%s)", WTERMSIG(status),
		         strsignal(WTERMSIG(status)));
	else if (WIFEXITED(status))
		snprintf(text, size, "exited with status %d", WEXITSTATUS(status));
	else
		snprintf(text, size, "ended");
}

void jr_worker_stop(struct jr_worker *w, char *why, size_t why_size)
{
	struct jr_watch_page *page = w->page;
	int status = 0, busy = w->busy;
	pid_t got;

	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		do
			got = waitpid(w->pid, &status, 0);
		while (got < 0 && errno == EINTR);
		if (why)
			describe_status(why, why_size, status);
	} else if (why) {
		snprintf(why, why_size, "ended");
	}
	if (w->fd >= 0)
		close(w->fd);
	free(w->in.ptr);
	forget_loads(w);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->busy = busy; /* the slot stays its taker's until given back */
	w->page = page; /* kept for the slot's next worker */
}

void jr_worker_reap(struct jr_worker *w, char *why, size_t why_size)
{
	int status = 0;
	pid_t got;

	/* Its socket closed: the process is gone or going; wait for it, then
	 * make sure (a worker that closed its socket but lives is killed). */
	do
		got = waitpid(w->pid, &status, 0);
	while (got < 0 && errno == EINTR);
	if (got == w->pid) {
		describe_status(why, why_size, status);
		w->pid = 0;
		jr_worker_stop(w, NULL, 0);
	} else {
		jr_worker_stop(w, why, why_size);
	}
}

void jr_pool_unref(jr_pool *pool)
{
	size_t i;

	if (!pool || atomic_fetch_sub_explicit(&pool->refcount, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < pool->max; i++) {
		struct jr_worker *w = &pool->workers[i];

		if (w->pid > 0) {
			kill(w->pid, SIGKILL);
			reap_later(w->pid);
			w->pid = 0;
		}
		jr_worker_stop(w, NULL, 0); /* closes and frees what is left */
		if (w->page)
			munmap(w->page, sizeof(*w->page));
	}
	free(pool->workers);
	pthread_mutex_destroy(&pool->lock);
	pthread_cond_destroy(&pool->idle);
	free(pool);
}

/* ---- the child ---- */

static void close_other_fds(int keep)
{
	long fd, max = sysconf(_SC_OPEN_MAX);

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)keep + 1, ~0U, 0) == 0)
		return;
#endif
	for (fd = keep + 1; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

/* Let the address space grow by `mb` MiB from what it is now. */
static void limit_memory(unsigned int mb)
{
	unsigned long pages = 0;
	struct rlimit limit;
	FILE *f;

	if (!mb || !(f = fopen("/proc/self/statm", "r")))
		return;
	if (fscanf(f, "%lu", &pages) != 1)
		pages = 0;
	fclose(f);
	limit.rlim_cur = limit.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) +
	                                  (rlim_t)mb * 1024 * 1024;
	setrlimit(RLIMIT_AS, &limit);
}

/* ---- the worker's page: which module bodies run, for the host to read ---- */

static struct jr_watch_page *own_page; /* in a worker process */

/* starting(name): a module body begins (jobreg._worker's module watch). */
static PyObject *page_starting(PyObject *self, PyObject *arg)
{
	struct jr_watch_page *page = own_page;
	uint32_t depth = atomic_load(&page->depth);
	Py_ssize_t len;
	const char *name = PyUnicode_AsUTF8AndSize(arg, &len);

	(void)self;
	if (!name) {
		PyErr_Clear();
		name = "(a module whose name is not UTF-8)";
		len = (Py_ssize_t)strlen(name);
	}
	if (depth < JR_WATCH_NAMES) {
		size_t n = (size_t)len < JR_WATCH_NAME_MAX - 1 ? (size_t)len : JR_WATCH_NAME_MAX - 1;

		memcpy(page->names[depth], name, n);
		page->names[depth][n] = '\0';
	}
	if (depth == 0)
		page->outer_start = jr_now();
	atomic_store(&page->depth, depth + 1); /* after the name: the host reads it next */
	Py_RETURN_NONE;
}

/* finished(name): the innermost body ended, however. */
static PyObject *page_finished(PyObject *self, PyObject *unused)
{
	uint32_t depth = atomic_load(&own_page->depth);

	(void)self;
	(void)unused;
	if (depth > 0)
		atomic_store(&own_page->depth, depth - 1);
	Py_RETURN_NONE;
}

static PyMethodDef page_methods[] = {
	{ "starting", page_starting, METH_O, "starting(name): a module body begins" },
	{ "finished", page_finished, METH_O, "finished(name): the innermost body ended" },
	{ NULL, NULL, 0, NULL },
};

static struct PyModuleDef page_module_def = {
	PyModuleDef_HEAD_INIT,
	"jobreg._workerpage",
	"Which module bodies a worker runs.",
	-1,
	page_methods,
	NULL,
	NULL,
	NULL,
	NULL,
};

/* The worker process: never returns. GIL held (the forking thread's). */
static void worker_main(int fd, unsigned int memory_limit_mb, struct jr_watch_page *page)
{
	PyObject *module, *done = NULL;

	PyOS_AfterFork_Child();
	jr_watchdog_after_fork();
	own_page = page;
	if (fd != JR_WORKER_FD) {
		dup2(fd, JR_WORKER_FD);
		fd = JR_WORKER_FD;
	}
	close_other_fds(fd);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	signal(SIGPIPE, SIG_DFL); /* the host is gone: so is the worker */
	limit_memory(memory_limit_mb);
	module = PyModule_Create(&page_module_def);
	if (!module || PyDict_SetItemString(PyImport_GetModuleDict(), "jobreg._workerpage", module) < 0)
		_exit(71);
	Py_DECREF(module);
	module = PyImport_ImportModule("jobreg._worker");
	if (module)
		done = PyObject_CallMethod(module, "serve", "i", fd);
	if (!done)
		PyErr_Print();
	_exit(done ? 0 : 70);
}

/* Fork worker `w` (its slot is reserved). GIL held. */
static int spawn(jr_pool *pool, struct jr_worker *w)
{
	int sv[2];
	pid_t pid;

	if (!w->page) {
		void *page = mmap(NULL, sizeof(*w->page), PROT_READ | PROT_WRITE,
		                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (page == MAP_FAILED)
			return jr_error_set(JOBREG_EIO, "cannot map a page for a worker process: %s",
			                    strerror(errno));
		w->page = page;
	}
	atomic_store(&w->page->depth, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return jr_error_set(JOBREG_EIO, "cannot make a socket for a worker process: %s",
		                    strerror(errno));
	PyOS_BeforeFork();
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		worker_main(sv[1], pool->memory_limit_mb, w->page);
	}
	PyOS_AfterFork_Parent();
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return jr_error_set(JOBREG_EIO, "cannot start a worker process: %s", strerror(errno));
	}
	w->pid = pid;
	w->fd = sv[0];
	return 0;
}

/* ---- taking a worker ---- */

int jr_worker_has(const struct jr_worker *w, const char *key, uint64_t serial)
{
	size_t i;

	for (i = 0; i < w->loaded_count; i++)
		if (strcmp(w->loaded[i].key, key) == 0)
			return w->loaded[i].serial == serial;
	return 0;
}

int jr_worker_set_loaded(struct jr_worker *w, const char *key, uint64_t serial)
{
	struct jr_worker_load *grown;
	size_t i;

	for (i = 0; i < w->loaded_count; i++) {
		if (strcmp(w->loaded[i].key, key) == 0) {
			w->loaded[i].serial = serial;
			return 0;
		}
	}
	grown = realloc(w->loaded, (w->loaded_count + 1) * sizeof(*grown));
	if (!grown)
		return jr_error_oom();
	w->loaded = grown;
	if (!(w->loaded[w->loaded_count].key = jr_strdup(key)))
		return jr_error_oom();
	w->loaded[w->loaded_count++].serial = serial;
	return 0;
}

/*
 * Take a worker for the caller alone: an idle one that has `key` loaded at
 * `serial` (serial 0: any), else any idle one, else a new one in a free
 * slot, else wait for one. Starting one takes the GIL: the caller must
 * not hold it (`gil_held` 0) or says so (1).
 */
int jr_pool_take(struct jr_worker **out, jr_pool *pool, const char *key, uint64_t serial,
                 int gil_held)
{
	struct jr_worker *w = NULL, *idle = NULL, *free_slot = NULL;
	PyThreadState *saved = NULL;
	size_t i;
	int rc = 0;

	if (gil_held)
		saved = PyEval_SaveThread(); /* never wait for the pool holding the GIL */
	reap_zombies();
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		for (i = 0; i < pool->max && !w; i++) {
			struct jr_worker *c = &pool->workers[i];

			if (c->busy)
				continue;
			if (c->pid <= 0) {
				if (!free_slot)
					free_slot = c;
			} else if (serial && jr_worker_has(c, key, serial)) {
				w = c;
			} else if (!idle) {
				idle = c;
			}
		}
		if (!w)
			w = idle ? idle : free_slot;
		if (w)
			break;
		pthread_cond_wait(&pool->idle, &pool->lock);
	}
	w->busy = 1;
	pthread_mutex_unlock(&pool->lock);
	if (w->pid > 0 && waitpid(w->pid, NULL, WNOHANG) == w->pid) {
		/* It died while idle (killed from outside, say): what it was asked
		 * next must not be blamed for that. A new one takes the slot. */
		w->pid = 0;
		jr_worker_stop(w, NULL, 0);
	}
	if (w->pid <= 0) {
		PyGILState_STATE gil;

		if (saved) {
			PyEval_RestoreThread(saved);
			saved = NULL;
		}
		gil = PyGILState_Ensure();
		rc = spawn(pool, w);
		PyGILState_Release(gil);
		if (rc < 0)
			jr_pool_give_back(pool, w);
	}
	if (saved)
		PyEval_RestoreThread(saved);
	if (rc == 0)
		*out = w;
	return rc;
}

void jr_pool_give_back(jr_pool *pool, struct jr_worker *w)
{
	pthread_mutex_lock(&pool->lock);
	w->busy = 0;
	pthread_cond_signal(&pool->idle);
	pthread_mutex_unlock(&pool->lock);
}

/* ---- frames ---- */

int jr_worker_send(struct jr_worker *w, char kind, const char *payload, size_t len)
{
	unsigned char header[FRAME_HEADER];
	struct iovec iov[2];
	struct msghdr msg;
	size_t done = 0, total = FRAME_HEADER + len;

	header[0] = (unsigned char)(len & 0xff);
	header[1] = (unsigned char)((len >> 8) & 0xff);
	header[2] = (unsigned char)((len >> 16) & 0xff);
	header[3] = (unsigned char)((len >> 24) & 0xff);
	header[4] = (unsigned char)kind;
	while (done < total) {
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		if (done < FRAME_HEADER) {
			iov[0].iov_base = header + done;
			iov[0].iov_len = FRAME_HEADER - done;
			iov[1].iov_base = (void *)payload;
			iov[1].iov_len = len;
			msg.msg_iovlen = 2;
		} else {
			iov[0].iov_base = (void *)(payload + (done - FRAME_HEADER));
			iov[0].iov_len = total - done;
			msg.msg_iovlen = 1;
		}
		msg.msg_iov = iov;
		n = sendmsg(w->fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1; /* the worker is gone: the next read says how */
		done += (size_t)n;
	}
	return 0;
}

/* A whole frame at the front of the buffer: its total size, else 0. */
static size_t whole_frame(const struct jr_worker *w)
{
	const unsigned char *p = (const unsigned char *)w->in.ptr + w->in_start;
	size_t have = w->in.len - w->in_start, len;

	if (have < FRAME_HEADER)
		return 0;
	len = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
	return have >= FRAME_HEADER + len ? FRAME_HEADER + len : 0;
}

enum jr_got jr_worker_read(struct jr_worker *w, struct jr_frame *frame, double deadline,
                           int cancel_fd)
{
	size_t size;

	for (;;) {
		struct pollfd fds[2];
		int timeout = -1, n;
		ssize_t got;

		if ((size = whole_frame(w)) > 0) {
			const char *p = w->in.ptr + w->in_start;

			frame->kind = p[4];
			frame->payload = p + FRAME_HEADER;
			frame->len = size - FRAME_HEADER;
			w->in_start += size;
			return JR_GOT_FRAME;
		}
		if (w->in_start > 0) { /* keep the partial frame at the front */
			memmove(w->in.ptr, w->in.ptr + w->in_start, w->in.len - w->in_start);
			w->in.len -= w->in_start;
			w->in_start = 0;
		}
		if (deadline > 0) {
			double left = deadline - jr_now();

			if (left <= 0)
				return JR_GOT_TIMEOUT;
			timeout = (int)(left * 1000) + 1;
		}
		fds[0].fd = w->fd;
		fds[0].events = POLLIN;
		fds[1].fd = cancel_fd;
		fds[1].events = POLLIN;
		n = poll(fds, cancel_fd >= 0 ? 2 : 1, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return JR_GOT_EOF;
		if (cancel_fd >= 0 && (fds[1].revents & POLLIN))
			return JR_GOT_CANCEL;
		if (n == 0)
			continue; /* the deadline check above decides */
		if (jr_buf_grow(&w->in, 65536) < 0)
			return JR_GOT_EOF;
		got = read(w->fd, w->in.ptr + w->in.len, w->in.cap - w->in.len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return JR_GOT_EOF;
		w->in.len += (size_t)got;
	}
}

/* ---- messages (GIL held) ---- */

int jr_worker_send_message(struct jr_worker *w, PyObject *message)
{
	PyObject *bytes = PyMarshal_WriteObjectToString(message, Py_MARSHAL_VERSION);
	int rc;

	if (!bytes)
		return jr_error_from_python(JOBREG_EPYTHON, "a request to a worker process");
	rc = jr_worker_send(w, 'm', PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
	Py_DECREF(bytes);
	return rc < 0 ? 1 : 0; /* 1: the worker is gone */
}

PyObject *jr_frame_message(const struct jr_frame *frame)
{
	PyObject *message = PyMarshal_ReadObjectFromString(frame->payload, (Py_ssize_t)frame->len);

	if (message && (!PyTuple_Check(message) || PyTuple_GET_SIZE(message) < 1 ||
	                !PyUnicode_Check(PyTuple_GET_ITEM(message, 0)))) {
		Py_DECREF(message);
		PyErr_SetString(PyExc_ValueError, "a worker's message is no tuple led by its kind");
		return NULL;
	}
	return message;
}

int jr_message_is(PyObject *message, const char *kind)
{
	return PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(message, 0), kind) == 0;
}

/* ---- loads ---- */

/* The innermost module body running in `w`'s process (a copy), or NULL. */
static char *innermost_body(const struct jr_worker *w)
{
	uint32_t depth = atomic_load(&w->page->depth);

	if (depth == 0)
		return NULL;
	return jr_strndup(w->page->names[(depth < JR_WATCH_NAMES ? depth : JR_WATCH_NAMES) - 1],
	                  JR_WATCH_NAME_MAX);
}

/* When the parent next looks at the worker's module bodies for the time limit. */
static double next_look(const struct jr_worker *w, double limit)
{
	double grace = limit / 2 > KILL_GRACE_MIN ? limit / 2 : KILL_GRACE_MIN;

	if (atomic_load(&w->page->depth) > 0)
		return w->page->outer_start + limit + grace;
	return jr_now() + limit; /* a body starting now has at least this long */
}

/* How one attempt at a load ended (jr_worker_load()'s answers). */
enum load_end {
	LOAD_DONE,  /* *reply holds the "loaded" message */
	LOAD_BLAME, /* the worker died or was killed in a module body: retry without it */
	LOAD_LOST,  /* the worker died outside any module body */
	LOAD_ERROR  /* a libjobreg error is set */
};

int jr_worker_load(struct jr_worker *w, PyObject *request, double limit, PyObject **reply,
                   char **blame, char *why, size_t why_size, int *timed_out)
{
	struct jr_frame frame;
	enum jr_got got;
	int rc = LOAD_ERROR;

	*reply = NULL;
	*blame = NULL;
	*timed_out = 0;
	atomic_store(&w->page->depth, 0);
	if (jr_worker_send_message(w, request) < 0)
		return LOAD_ERROR;
	for (;;) {
		PyThreadState *saved = PyEval_SaveThread();

		for (;;) {
			got = jr_worker_read(w, &frame, limit > 0 ? next_look(w, limit) : 0, -1);
			if (got != JR_GOT_TIMEOUT)
				break;
			if (atomic_load(&w->page->depth) > 0 && jr_now() >= next_look(w, limit))
				break; /* a body past its limit and grace: the worker goes */
					   /* else no body runs now, or another began: look again later */
		}
		PyEval_RestoreThread(saved);
		if (got == JR_GOT_TIMEOUT || got == JR_GOT_EOF) {
			*blame = innermost_body(w);
			*timed_out = got == JR_GOT_TIMEOUT;
			if (*timed_out)
				jr_worker_stop(w, why, why_size);
			else
				jr_worker_reap(w, why, why_size);
			rc = *blame ? LOAD_BLAME : LOAD_LOST;
			break;
		}
		if (frame.kind != 'm')
			continue;
		*reply = jr_frame_message(&frame);
		if (!*reply) {
			jr_error_from_python(JOBREG_EPYTHON, "reading a worker's answer");
			break;
		}
		if (jr_message_is(*reply, "loaded") && PyTuple_GET_SIZE(*reply) == 4) {
			rc = LOAD_DONE;
			break;
		}
		if (jr_message_is(*reply, "error") && PyTuple_GET_SIZE(*reply) == 2 &&
		    PyUnicode_Check(PyTuple_GET_ITEM(*reply, 1))) {
			jr_error_set(JOBREG_EPYTHON, "in a worker process: %s",
			             PyUnicode_AsUTF8(PyTuple_GET_ITEM(*reply, 1)));
			PyErr_Clear();
		} else {
			jr_error_set(JOBREG_EPYTHON, "a worker process answered a load with something else");
		}
		Py_CLEAR(*reply);
		break;
	}
	return rc;
}

static PyObject *load_request(const char *key, uint64_t serial, const char *loader_class,
                              const jobreg_source *src, const jr_load_plan *plan, PyObject *args,
                              PyObject *skip)
{
	return Py_BuildValue("(ssKsssOdOO)", "load", key, (unsigned long long)serial, loader_class,
	                     src->name, src->root, plan->nautobot_1x ? Py_True : Py_False,
	                     plan->import_timeout, args, skip);
}

/* What a load error says of the module that took its worker down. */
static int blame_module(PyObject *skip, const char *module, const char *why, int timed_out,
                        double limit)
{
	char message[512];
	PyObject *entry;
	int rc;

	if (timed_out)
		snprintf(message, sizeof(message),
		         "%s exceeded its import time limit of %g s (it did not return to Python code, so "
		         "its worker process was killed)",
		         module, limit);
	else
		snprintf(message, sizeof(message), "the worker process importing %s %s", module, why);
	entry = Py_BuildValue("(ss)", timed_out ? "ImportTimeLimitExceeded" : "WorkerDied", message);
	if (!entry)
		return jr_error_from_python(JOBREG_EPYTHON, "a load in a worker");
	rc = PyDict_SetItemString(skip, module, entry);
	Py_DECREF(entry);
	return rc < 0 ? jr_error_from_python(JOBREG_EPYTHON, "a load in a worker") : 0;
}

static int keep_code(jr_part *part, jr_pool *pool, const char *key, uint64_t serial, double limit,
                     PyObject *request, PyObject *reply)
{
	PyObject *bytes = PyMarshal_WriteObjectToString(request, Py_MARSHAL_VERSION);
	PyObject *facts = PyTuple_GET_ITEM(reply, 3);
	PyObject *location = PyDict_Check(facts) ? PyDict_GetItemString(facts, "location") : NULL;
	PyObject *from_checkout = PyDict_Check(facts) ? PyDict_GetItemString(facts, "from_checkout")
	                                              : NULL;
	struct jr_part_code *code = calloc(1, sizeof(*code));
	const char *where = location && PyUnicode_Check(location) ? PyUnicode_AsUTF8(location) : "";

	if (!bytes || !where) {
		free(code);
		Py_XDECREF(bytes);
		return jr_error_from_python(JOBREG_EPYTHON, "keeping a worker's load");
	}
	if (!code || !(code->key = jr_strdup(key)) || !(code->location = jr_strdup(where)) ||
	    !(code->request = malloc((size_t)PyBytes_GET_SIZE(bytes)))) {
		Py_DECREF(bytes);
		jr_part_code_free(code);
		return jr_error_oom();
	}
	memcpy(code->request, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
	code->request_len = (size_t)PyBytes_GET_SIZE(bytes);
	Py_DECREF(bytes);
	code->serial = serial;
	code->import_timeout = limit;
	code->from_checkout = from_checkout == Py_True;
	jr_pool_ref(pool);
	code->pool = pool;
	part->code = code;
	return 0;
}

void jr_part_code_free(struct jr_part_code *code)
{
	if (!code)
		return;
	jr_pool_unref(code->pool);
	free(code->key);
	free(code->request);
	free(code->location);
	free(code);
}

int jr_pool_import(jr_pool *pool, jobreg_source *src, jr_load_plan *plan, const char *loader_class,
                   PyObject *args)
{
	uint64_t serial = atomic_fetch_add(&pool->next_serial, 1);
	/* Jobs roots have no name of their own: their folder tells them apart. */
	char *key = jr_asprintf("%d:%s", (int)src->type,
	                        src->type == JOBREG_SOURCE_LOCAL ? src->root : src->name);
	PyObject *skip = PyDict_New(), *request = NULL, *reply = NULL;
	struct jr_worker *w = NULL;
	char why[160], *blame = NULL;
	int rc = 0, timed_out, end;

	if (!key || !skip) {
		free(key);
		Py_XDECREF(skip);
		return skip ? jr_error_oom() : jr_error_from_python(JOBREG_EPYTHON, "a load");
	}
	for (;;) {
		Py_XDECREF(request);
		if (!(request = load_request(key, serial, loader_class, src, plan, args, skip))) {
			rc = jr_error_from_python(JOBREG_EPYTHON, "a load request");
			break;
		}
		if ((rc = jr_pool_take(&w, pool, key, 0, 1)) < 0)
			break;
		end = jr_worker_load(w, request, plan->import_timeout, &reply, &blame, why, sizeof(why),
		                     &timed_out);
		if (end == LOAD_DONE) {
			PyObject *found = PyTuple_GetSlice(reply, 1, 3); /* (jobs, errors) */

			rc = found ? jr_source_copy_results(plan->part, found)
			           : jr_error_from_python(JOBREG_EPYTHON, "a worker's load");
			Py_XDECREF(found);
			if (rc == 0)
				rc = keep_code(plan->part, pool, key, serial, plan->import_timeout, request, reply);
			if (rc == 0)
				rc = jr_worker_set_loaded(w, key, serial);
		} else if (end == LOAD_LOST) {
			char message[256];

			snprintf(message, sizeof(message), "the worker process loading this source %s",
			         why[0] ? why : "died");
			rc = jr_part_add_error(plan->part, src->name, src->root, 0, "WorkerDied", message, "");
		} else if (end == LOAD_BLAME) {
			/* A module already skipped cannot run again: the same blame twice
			 * is a bug, not a reason to loop. */
			if (PyDict_GetItemString(skip, blame))
				rc = jr_error_set(JOBREG_EPYTHON, "module %s took a worker down twice", blame);
			else
				rc = blame_module(skip, blame, why, timed_out, plan->import_timeout);
			free(blame);
			blame = NULL;
		} else {
			rc = jr_error_code() ? jr_error_code() : JOBREG_EPYTHON;
			if (w->pid > 0)
				jr_worker_stop(w, NULL, 0); /* what it was doing is unknown */
		}
		Py_CLEAR(reply);
		jr_pool_give_back(pool, w);
		if (end != LOAD_BLAME || rc < 0)
			break;
	}
	Py_XDECREF(request);
	Py_DECREF(skip);
	free(key);
	return rc;
}
