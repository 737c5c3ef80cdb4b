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

/* The longest message kept, terminator included. */
#define JR_ERROR_MESSAGE_MAX 4096

/*
 * The calling thread's last error, kept while something that may record its
 * own runs (a rollback, an undo); jr_error_restore() puts it back. No
 * allocation, so it works when memory ran out too.
 */
typedef struct jr_saved_error {
	int code;
	char message[JR_ERROR_MESSAGE_MAX];
} jr_saved_error;

/* Keep the last error as the error `code` (its message when the last error
 * is that code, else jobreg_strerror(code)). */
void jr_error_save(jr_saved_error *saved, int code);
/* Make `saved` the last error again; returns its code. */
int jr_error_restore(const jr_saved_error *saved);

/* Record `code` with the message "<printf-style prefix><the last error's message>". */
int jr_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
