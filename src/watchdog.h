/* watchdog.h: the import time limit (internal). */
#ifndef JR_WATCHDOG_H
#define JR_WATCHDOG_H

/* Put the built-in module `jobreg._watchdog` into sys.modules (GIL held). */
int jr_watchdog_install(void);

/* In a child process just forked (the worker of isolation mode): forget the
 * parent's watchdog thread and clocks. */
void jr_watchdog_after_fork(void);

/* Stop the watchdog thread, if it runs (GIL not held). */
void jr_watchdog_stop(void);

#endif
