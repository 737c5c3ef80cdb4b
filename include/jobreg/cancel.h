/*
 * cancel.h: cancelling a run (since 0.3.0).
 *
 * A cancel token is a flag that any thread, or a signal handler, may set.
 * The host hands it to a run (jobreg_run_options.cancel, version 3); once
 * the token is requested the run stops: in the host's process the running
 * job sees jobreg.jobs.RunCancelled raised within about 20 ms (the list of
 * what cannot be interrupted there is in run.h), and jobreg_job_run()
 * returns JOBREG_ECANCELED without a result.
 *
 * A token cannot be reset: once requested it stays requested. Use a new
 * token for each run (or at least for each cancellation); several runs may
 * share one token to be cancelled together.
 */
#ifndef JOBREG_CANCEL_H
#define JOBREG_CANCEL_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Create a cancel token, not requested. On success `*out` is owned by the
 * caller: free it with jobreg_cancel_free(). Errors: JOBREG_EINVAL (NULL
 * `out`), JOBREG_ENOMEM, JOBREG_EIO (the process is out of file
 * descriptors: a token holds one pipe). Any thread; needs no
 * jobreg_init(); does not touch Python. Since 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_cancel_new(jobreg_cancel **out);

/**
 * Request cancellation: every run given `c` stops (see above). Idempotent;
 * NULL is ignored. Any thread, at any time while `c` lives; async-signal-safe
 * (a signal handler may call it, so a host can cancel a run when another
 * process signals it); keeps `errno`. Does not touch Python. Since 0.3.0.
 */
JOBREG_EXTERN(void) jobreg_cancel_request(jobreg_cancel *c);

/**
 * 1 once jobreg_cancel_request() was called on `c`, else 0 (also for
 * NULL). Any thread; async-signal-safe. Since 0.3.0.
 */
JOBREG_EXTERN(int) jobreg_cancel_requested(const jobreg_cancel *c);

/**
 * Free a token. Accepts NULL. It must not be in use: no run that was given
 * it may still be going on, and no other thread (nor signal handler) may
 * request it during or after the call. Since 0.3.0.
 */
JOBREG_EXTERN(void) jobreg_cancel_free(jobreg_cancel *c);

#ifdef __cplusplus
}
#endif

#endif
