/* error.h: setting the thread-local last error (internal). */
#ifndef JR_ERROR_H
#define JR_ERROR_H

#include <stdarg.h>

#include "jobreg/common.h"

/** Record `code` with a printf-style message; returns `code`. */
int jr_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int jr_error_vset(int code, const char *fmt, va_list ap);

/** Record JOBREG_ENOMEM; returns JOBREG_ENOMEM. Never allocates. */
int jr_error_oom(void);

/** The code of the calling thread's last error (0 when none). */
int jr_error_code(void);

#endif
