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

#endif
