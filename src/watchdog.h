/* watchdog.h: the import time limit, and a run's time limits and cancel
 * token in the host's process (internal). */
#ifndef JR_WATCHDOG_H
#define JR_WATCHDOG_H

#include "jobreg/types.h"

/* Put the built-in module `jobreg._watchdog` into sys.modules (GIL held). */
int jr_watchdog_install(void);

/* What a run's watch raised in its thread (jr_watchdog_run_end()). */
#define JR_WATCH_SOFT 1   /* the soft limit's SoftTimeLimitExceeded */
#define JR_WATCH_HARD 2   /* TimeLimitExceeded, at least once */
#define JR_WATCH_CANCEL 4 /* RunCancelled, at least once */

/* A run being watched. */
typedef struct jr_run_watch jr_run_watch;

/*
 * Watch the run on the calling thread (GIL held), from now on: after `soft`
 * seconds raise jobreg.jobs.SoftTimeLimitExceeded in it (Celery's class of
 * that name when `celery.exceptions` is in sys.modules now), after `hard`
 * seconds jobreg.jobs.TimeLimitExceeded and again every second, and
 * RunCancelled as soon as `cancel` is requested and again every second. A
 * limit <= 0 or a NULL token is not watched; with nothing to watch `*out`
 * is NULL. `cancel` is borrowed until jr_watchdog_run_end(). Errors:
 * JOBREG_ENOMEM, JOBREG_EPYTHON, JOBREG_ERROR (no thread).
 */
int jr_watchdog_run_begin(jr_run_watch **out, double soft, double hard,
                          const jobreg_cancel *cancel);

/*
 * Stop watching `w` (GIL held, on the thread that began it) and free it;
 * an exception raised but not seen yet by the run's code is withdrawn.
 * Returns the JR_WATCH_* bits of what was raised; 0 for NULL.
 */
int jr_watchdog_run_end(jr_run_watch *w);

/* In a child process just forked (the worker of isolation mode): forget the
 * parent's watchdog thread, clocks and watched runs. */
void jr_watchdog_after_fork(void);

/* Stop the watchdog thread, if it runs (GIL not held). */
void jr_watchdog_stop(void);

#endif
