/* runtime.h: the embedded interpreter's lifecycle (internal). */
#ifndef JR_RUNTIME_H
#define JR_RUNTIME_H

/* 1 while jobreg_init() holds at least one reference. */
int jr_runtime_ready(void);

/*
 * 1 when Python objects may still be released: the interpreter runs and is
 * not finalizing. Objects held past that point are abandoned, never freed.
 */
int jr_runtime_python_alive(void);

/* Fail with JOBREG_ESTATE (message names `what`) unless initialized. */
int jr_runtime_require(const char *what);

/*
 * 1 when the first jobreg_init() (of the current start-up) gave
 * nautobot_compat JOBREG_COMPAT_1X: sources without a mode of their own
 * register Nautobot 1.x jobs. 0 otherwise, and when not initialized.
 */
int jr_runtime_nautobot_1x(void);

#endif
