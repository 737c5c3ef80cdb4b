/*
 * json.h: writing JSON into a jr_buf, and checking JSON texts (internal).
 *
 * The writer places commas and colons itself: open containers, write keys
 * and values in order, close them. Errors stick: after a failure every
 * call is a no-op and jr_json_status() reports it (with the error set).
 *
 *	jr_buf b = JR_BUF_INIT;
 *	jr_json w;
 *	jr_json_init(&w, &b);
 *	jr_json_begin_object(&w);
 *	jr_json_key(&w, "status");
 *	jr_json_string(&w, "success");
 *	jr_json_key(&w, "created");
 *	jr_json_begin_array(&w);
 *	jr_json_string(&w, "a.B");
 *	jr_json_end_array(&w);
 *	jr_json_end_object(&w);
 *	if (jr_json_status(&w) == 0) text = jr_buf_detach(&b);
 */
#ifndef JR_JSON_H
#define JR_JSON_H

#include "util.h"

#define JR_JSON_MAX_DEPTH 64

typedef struct jr_json {
	jr_buf *buf;
	unsigned int depth;
	unsigned char has_member[JR_JSON_MAX_DEPTH + 1]; /* per open container */
	unsigned char after_key;                         /* the next value follows a key: no comma */
	int error;                                       /* sticky: 0 or a JOBREG_E* code */
} jr_json;

void jr_json_init(jr_json *w, jr_buf *buf);
/* 0, or the first error (already recorded), also when the buffer failed. */
int jr_json_status(const jr_json *w);

void jr_json_begin_object(jr_json *w);
void jr_json_end_object(jr_json *w);
void jr_json_begin_array(jr_json *w);
void jr_json_end_array(jr_json *w);
/* A member name inside an object; the value comes next. */
void jr_json_key(jr_json *w, const char *key);

void jr_json_string(jr_json *w, const char *s); /* NULL writes null */
void jr_json_bool(jr_json *w, int value);
/* Shortest text that reads back as `value`; null for NaN and infinities. */
void jr_json_number(jr_json *w, double value);
void jr_json_null(jr_json *w);
/* A JSON text written as it is (the caller vouches it is one valid value). */
void jr_json_raw(jr_json *w, const char *json);

/* The kinds of JSON value, as bits (for jr_json_check's element mask). */
enum {
	JR_JSON_NULL = 1 << 0,
	JR_JSON_BOOL = 1 << 1,
	JR_JSON_NUMBER = 1 << 2,
	JR_JSON_STRING = 1 << 3,
	JR_JSON_ARRAY = 1 << 4,
	JR_JSON_OBJECT = 1 << 5,
};

/* How deep arrays and objects may nest in a text jr_json_check() accepts
 * (its recursion is bounded by it). */
#define JR_JSON_CHECK_MAX_DEPTH 256

/*
 * Check that `text` is exactly one JSON value (RFC 8259; whitespace
 * around it allowed). On success returns 0, sets `*kind` (may be NULL) to
 * the value's kind and `*element_kinds` (may be NULL) to the OR of the
 * kinds of its direct elements (array) or member values (object). Strings
 * must be well-formed UTF-8; nesting deeper than JR_JSON_CHECK_MAX_DEPTH
 * levels is refused.
 * On failure returns JOBREG_EINVAL and writes a reason with its byte offset
 * into `why` (may be NULL); the error is not recorded.
 */
int jr_json_check(const char *text, int *kind, int *element_kinds, char *why, size_t why_size);

#endif
