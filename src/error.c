/* error.c: the thread-local last error and the table of error codes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

/* A fixed buffer: recording an error must never need an allocation. */
#define MESSAGE_MAX JR_ERROR_MESSAGE_MAX

static _Thread_local struct {
	jobreg_error pub;
	char message[MESSAGE_MAX];
} last = { { 0, NULL }, "no error" };

static const jobreg_error *current(void)
{
	last.pub.message = last.message;
	return &last.pub;
}

const jobreg_error *jobreg_error_last(void)
{
	return current();
}

void jobreg_error_clear(void)
{
	last.pub.code = 0;
	strcpy(last.message, "no error");
}

/*
 * Messages are UTF-8 like every string of the API, whatever went into them
 * (a backend's text, a cut in the middle of a character): a byte that is no
 * part of a well-formed character becomes '?', in place (no allocation).
 * Callers escape the values they name (jr_escape()); this is the net.
 */
static void keep_utf8(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = jr_utf8_seq_len(p);

		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

int jr_error_vset(int code, const char *fmt, va_list ap)
{
	last.pub.code = code;
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	keep_utf8(last.message);
	return code;
}

int jr_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	jr_error_vset(code, fmt, ap);
	va_end(ap);
	return code;
}

int jr_error_oom(void)
{
	last.pub.code = JOBREG_ENOMEM;
	strcpy(last.message, "out of memory");
	return JOBREG_ENOMEM;
}

int jr_error_code(void)
{
	return last.pub.code;
}

void jr_error_save(jr_saved_error *saved, int code)
{
	saved->code = code;
	snprintf(saved->message, sizeof(saved->message), "%s",
	         last.pub.code == code ? last.message : jobreg_strerror(code));
}

int jr_error_restore(const jr_saved_error *saved)
{
	last.pub.code = saved->code;
	memcpy(last.message, saved->message, sizeof(last.message));
	return saved->code;
}

int jr_error_wrap(int code, const char *fmt, ...)
{
	jr_saved_error cause; /* the message is rewritten from a copy, never in place */
	size_t n;
	va_list ap;

	jr_error_save(&cause, last.pub.code);
	va_start(ap, fmt);
	vsnprintf(last.message, sizeof(last.message), fmt, ap);
	va_end(ap);
	n = strlen(last.message);
	snprintf(last.message + n, sizeof(last.message) - n, "%s", cause.message);
	keep_utf8(last.message);
	last.pub.code = code;
	return code;
}

const char *jobreg_strerror(int code)
{
	switch (code) {
#define TEXT_CASE(name, value, text) \
	case value:                      \
		return text;
		JOBREG_ERROR_CODES(TEXT_CASE)
#undef TEXT_CASE
	default:
		return "unknown error";
	}
}

const char *jobreg_error_name(int code)
{
	switch (code) {
#define NAME_CASE(name, value, text) \
	case value:                      \
		return #name;
		JOBREG_ERROR_CODES(NAME_CASE)
#undef NAME_CASE
	default:
		return "JOBREG_UNKNOWN";
	}
}

void jobreg_free(void *ptr)
{
	free(ptr);
}
