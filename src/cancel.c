/*
 * cancel.c: cancel tokens (include/jobreg/cancel.h).
 *
 * A token is an atomic flag plus a pipe. jobreg_cancel_request() sets the
 * flag and writes one byte into the pipe, both async-signal-safe, so a
 * signal handler may cancel a run. The byte is never read: the read end
 * stays readable, for whoever waits with poll() (the isolation code), and
 * the flag is what the in-process watchdog polls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cancel.h"
#include "error.h"

struct jobreg_cancel {
	atomic_int requested;
	int pipe[2]; /* [0] read end (polled), [1] write end (written once) */
};

/* Close-on-exec on both ends, and a write end that never blocks a signal handler. */
static int set_flags(const int fds[2])
{
	return fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0 ||
	               fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0
	           ? -1
	           : 0;
}

int jobreg_cancel_new(jobreg_cancel **out)
{
	jobreg_cancel *c;

	if (!out)
		return jr_error_set(JOBREG_EINVAL, "jobreg_cancel_new: NULL out");
	*out = NULL;
	if (!(c = malloc(sizeof(*c))))
		return jr_error_oom();
	atomic_init(&c->requested, 0);
	if (pipe(c->pipe) < 0) {
		int err = errno;
		free(c);
		return jr_error_set(JOBREG_EIO, "jobreg_cancel_new: pipe() failed: %s", strerror(err));
	}
	if (set_flags(c->pipe) < 0) {
		int err = errno;
		jobreg_cancel_free(c);
		return jr_error_set(JOBREG_EIO, "jobreg_cancel_new: fcntl() failed: %s", strerror(err));
	}
	*out = c;
	return 0;
}

void jobreg_cancel_request(jobreg_cancel *c)
{
	int saved = errno; /* a signal handler must leave errno as it was */
	ssize_t written;

	if (!c || atomic_exchange(&c->requested, 1))
		return;
	/* The one byte that makes the read end readable for good; a full or
	 * closed pipe cannot happen (one byte, nobody closes it while in use). */
	do
		written = write(c->pipe[1], "x", 1);
	while (written < 0 && errno == EINTR);
	errno = saved;
}

int jobreg_cancel_requested(const jobreg_cancel *c)
{
	return c ? atomic_load(&((jobreg_cancel *)c)->requested) != 0 : 0;
}

int jr_cancel_fd(const jobreg_cancel *c)
{
	return c ? c->pipe[0] : -1;
}

void jobreg_cancel_free(jobreg_cancel *c)
{
	if (!c)
		return;
	close(c->pipe[0]);
	close(c->pipe[1]);
	free(c);
}
