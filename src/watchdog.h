/* watchdog.h: the import time limit (internal). */
#ifndef JR_WATCHDOG_H
#define JR_WATCHDOG_H

/* Put the built-in module `jobreg._watchdog` into sys.modules (GIL held). */
int jr_watchdog_install(void);

/* Stop the watchdog thread, if it runs (GIL not held). */
void jr_watchdog_stop(void);

#endif
