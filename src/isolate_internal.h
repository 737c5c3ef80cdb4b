/*
 * isolate_internal.h: the pool's insides, shared by isolate.c (the pool,
 * frames, loads) and isolate_run.c (runs) (internal).
 */
#ifndef JR_ISOLATE_INTERNAL_H
#define JR_ISOLATE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "isolate.h"
#include "util.h"

#define JR_POOL_DEFAULT_WORKERS 2
/* The worker's end of its socket, once it has closed everything else. */
#define JR_WORKER_FD 3

struct jr_worker_load {
	char *key;
	uint64_t serial;
};

/*
 * A page shared with a worker (mapped before the fork): the module bodies
 * it runs, written by the worker, read by the host when the worker dies or
 * a body overruns the import time limit. No system call per module.
 */
#define JR_WATCH_NAMES 15
#define JR_WATCH_NAME_MAX 256
struct jr_watch_page {
	atomic_uint depth;  /* bodies running, outermost first */
	double outer_start; /* jr_now() when the outermost began */
	char names[JR_WATCH_NAMES][JR_WATCH_NAME_MAX];
};

struct jr_worker {
	struct jr_watch_page *page; /* kept for the slot, worker after worker */
	pid_t pid;                  /* 0: no process in this slot */
	int fd;                     /* the host's end of the socket */
	int busy;                   /* taken by a thread (jr_pool_take) */
	jr_buf in;                  /* what was read and not yet handed out */
	size_t in_start;
	struct jr_worker_load *loaded; /* the sources it has, at which load */
	size_t loaded_count;
};

struct jr_pool {
	atomic_size_t refcount;
	atomic_uint_fast64_t next_serial;
	pthread_mutex_t lock; /* over the workers' `busy` */
	pthread_cond_t idle;
	struct jr_worker *workers;
	size_t max;
	unsigned int memory_limit_mb;
};

/* Seconds on the monotonic clock. */
double jr_now(void);

int jr_pool_take(struct jr_worker **out, jr_pool *pool, const char *key, uint64_t serial,
                 int gil_held);
void jr_pool_give_back(jr_pool *pool, struct jr_worker *w);
int jr_worker_has(const struct jr_worker *w, const char *key, uint64_t serial);
int jr_worker_set_loaded(struct jr_worker *w, const char *key, uint64_t serial);
/* Kill a worker (SIGKILL, then wait for it); `why` (may be NULL) gets how it ended. */
void jr_worker_stop(struct jr_worker *w, char *why, size_t why_size);
/* A worker whose socket closed: wait for it and say how it ended. */
void jr_worker_reap(struct jr_worker *w, char *why, size_t why_size);

struct jr_frame {
	char kind; /* 'm' (_worker.py) */
	const char *payload;
	size_t len;
};
enum jr_got {
	JR_GOT_FRAME,
	JR_GOT_TIMEOUT,
	JR_GOT_CANCEL,
	JR_GOT_EOF
};
/* Write one frame; -1 when the worker is gone. No GIL needed. */
int jr_worker_send(struct jr_worker *w, char kind, const char *payload, size_t len);
/* Read one frame (valid until the next read), waiting until `deadline`
 * (jr_now() time, 0: none) or `cancel_fd` readable (-1: none). No GIL. */
enum jr_got jr_worker_read(struct jr_worker *w, struct jr_frame *frame, double deadline,
                           int cancel_fd);
/* GIL held: marshal a message and send it; 1 when the worker is gone. */
int jr_worker_send_message(struct jr_worker *w, PyObject *message);
/* GIL held: the tuple of an 'm' frame, or NULL with a Python error. */
PyObject *jr_frame_message(const struct jr_frame *frame);
/* GIL held: whether `message` (from jr_frame_message) is of `kind`. */
int jr_message_is(PyObject *message, const char *kind);

/*
 * GIL held: send a "load" request to `w` and read until it is loaded.
 * Returns 0 (done: *reply), 1 (the worker went down in a module body:
 * *blame names the innermost (free it)), 2 (it went down outside one), 3
 * (an error is set). `why` says how the worker ended; *timed_out when it
 * was killed for the import time limit `limit`.
 */
int jr_worker_load(struct jr_worker *w, PyObject *request, double limit, PyObject **reply,
                   char **blame, char *why, size_t why_size, int *timed_out);

#endif
