/* json.c: writing JSON into a jr_buf, and checking JSON texts. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "json.h"

void jr_json_init(jr_json *w, jr_buf *buf)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
}

int jr_json_status(const jr_json *w)
{
	if (w->error)
		return w->error;
	return jr_buf_status(w->buf);
}

static int usable(jr_json *w)
{
	if (w->error)
		return 0;
	if (w->buf->failed) {
		w->error = JOBREG_ENOMEM;
		return 0;
	}
	return 1;
}

/* Whatever precedes a value: a comma between members, nothing after a key. */
static int before_value(jr_json *w)
{
	if (!usable(w))
		return 0;
	if (w->after_key)
		w->after_key = 0;
	else if (w->has_member[w->depth])
		jr_buf_putc(w->buf, ',');
	w->has_member[w->depth] = 1;
	return 1;
}

static void open_container(jr_json *w, char c)
{
	if (!before_value(w))
		return;
	if (w->depth >= JR_JSON_MAX_DEPTH) {
		w->error = jr_error_set(JOBREG_EINVAL, "JSON output nested deeper than %d levels",
		                        JR_JSON_MAX_DEPTH);
		return;
	}
	jr_buf_putc(w->buf, c);
	w->depth++;
	w->has_member[w->depth] = 0;
}

static void close_container(jr_json *w, char c)
{
	if (!usable(w))
		return;
	if (w->depth == 0) {
		w->error = jr_error_set(JOBREG_EINVAL, "JSON output: '%c' without an open container", c);
		return;
	}
	w->depth--;
	w->after_key = 0;
	jr_buf_putc(w->buf, c);
}

void jr_json_begin_object(jr_json *w)
{
	open_container(w, '{');
}

void jr_json_end_object(jr_json *w)
{
	close_container(w, '}');
}

void jr_json_begin_array(jr_json *w)
{
	open_container(w, '[');
}

void jr_json_end_array(jr_json *w)
{
	close_container(w, ']');
}

void jr_json_key(jr_json *w, const char *key)
{
	if (!before_value(w))
		return;
	jr_buf_put_json_string(w->buf, key ? key : "");
	jr_buf_putc(w->buf, ':');
	w->after_key = 1;
}

void jr_json_string(jr_json *w, const char *s)
{
	if (!s) {
		jr_json_null(w);
		return;
	}
	if (before_value(w))
		jr_buf_put_json_string(w->buf, s);
}

void jr_json_bool(jr_json *w, int value)
{
	if (before_value(w))
		jr_buf_puts(w->buf, value ? "true" : "false");
}

void jr_json_number(jr_json *w, double value)
{
	char text[40];

	if (!isfinite(value)) {
		jr_json_null(w);
		return;
	}
	/* The shortest of %.15g..%.17g that reads back exactly: 30 stays "30". */
	snprintf(text, sizeof(text), "%.15g", value);
	if (strtod(text, NULL) != value)
		snprintf(text, sizeof(text), "%.17g", value);
	if (before_value(w))
		jr_buf_puts(w->buf, text);
}

void jr_json_null(jr_json *w)
{
	if (before_value(w))
		jr_buf_puts(w->buf, "null");
}

void jr_json_raw(jr_json *w, const char *json)
{
	if (before_value(w))
		jr_buf_puts(w->buf, json);
}

/* ---- checking ---------------------------------------------------- */

/* For messages: the value of a macro as a string literal. */
#define JR_STR_(x) #x
#define JR_STR(x) JR_STR_(x)

struct checker {
	const char *start, *p;
	char *why;
	size_t why_size;
};

static int fail(struct checker *c, const char *what)
{
	if (c->why)
		snprintf(c->why, c->why_size, "%s at byte %zu", what, (size_t)(c->p - c->start));
	return -1;
}

static void skip_space(struct checker *c)
{
	while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
		c->p++;
}

static int is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static int check_string(struct checker *c)
{
	c->p++; /* the opening quote */
	for (;;) {
		unsigned char ch = (unsigned char)*c->p;

		if (ch == '"') {
			c->p++;
			return 0;
		}
		if (ch == '\0')
			return fail(c, "unterminated string");
		if (ch < 0x20)
			return fail(c, "control character in string");
		if (ch >= 0x80) {
			size_t n = jr_utf8_seq_len((const unsigned char *)c->p);

			if (n == 0)
				return fail(c, "invalid UTF-8 in string");
			c->p += n;
			continue;
		}
		if (ch == '\\') {
			c->p++;
			if (*c->p == 'u') {
				int i;
				for (i = 1; i <= 4; i++)
					if (!is_hex(c->p[i]))
						return fail(c, "bad \\u escape");
				c->p += 5;
				continue;
			}
			if (!*c->p || !strchr("\"\\/bfnrt", *c->p))
				return fail(c, "bad escape");
		}
		c->p++;
	}
}

static int check_digits(struct checker *c)
{
	if (*c->p < '0' || *c->p > '9')
		return fail(c, "digit expected");
	while (*c->p >= '0' && *c->p <= '9')
		c->p++;
	return 0;
}

static int check_number(struct checker *c)
{
	if (*c->p == '-')
		c->p++;
	if (*c->p == '0')
		c->p++;
	else if (check_digits(c) < 0)
		return -1;
	if (*c->p == '.') {
		c->p++;
		if (check_digits(c) < 0)
			return -1;
	}
	if (*c->p == 'e' || *c->p == 'E') {
		c->p++;
		if (*c->p == '+' || *c->p == '-')
			c->p++;
		if (check_digits(c) < 0)
			return -1;
	}
	return 0;
}

static int check_word(struct checker *c, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(c->p, word, n) != 0)
		return fail(c, "unexpected character");
	c->p += n;
	return 0;
}

/* Checks one value at c->p; returns its kind bit, or -1. */
static int check_value(struct checker *c, int depth, int *element_kinds)
{
	int kind;

	skip_space(c);
	switch (*c->p) {
	case '"':
		return check_string(c) < 0 ? -1 : JR_JSON_STRING;
	case 't':
		return check_word(c, "true") < 0 ? -1 : JR_JSON_BOOL;
	case 'f':
		return check_word(c, "false") < 0 ? -1 : JR_JSON_BOOL;
	case 'n':
		return check_word(c, "null") < 0 ? -1 : JR_JSON_NULL;
	case '[':
	case '{':
		break;
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return check_number(c) < 0 ? -1 : JR_JSON_NUMBER;
		return fail(c, *c->p ? "unexpected character" : "unexpected end");
	}
	if (depth >= JR_JSON_CHECK_MAX_DEPTH)
		return fail(c, "arrays and objects nested deeper than " JR_STR(
						   JR_JSON_CHECK_MAX_DEPTH) " levels");
	kind = *c->p == '[' ? JR_JSON_ARRAY : JR_JSON_OBJECT;
	c->p++;
	skip_space(c);
	if (*c->p == (kind == JR_JSON_ARRAY ? ']' : '}')) {
		c->p++;
		return kind;
	}
	for (;;) {
		int member;

		if (kind == JR_JSON_OBJECT) {
			skip_space(c);
			if (*c->p != '"')
				return fail(c, "member name expected");
			if (check_string(c) < 0)
				return -1;
			skip_space(c);
			if (*c->p != ':')
				return fail(c, "':' expected");
			c->p++;
		}
		member = check_value(c, depth + 1, NULL);
		if (member < 0)
			return -1;
		if (element_kinds)
			*element_kinds |= member;
		skip_space(c);
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == (kind == JR_JSON_ARRAY ? ']' : '}')) {
			c->p++;
			return kind;
		}
		return fail(c, "',' or end of container expected");
	}
}

int jr_json_check(const char *text, int *kind, int *element_kinds, char *why, size_t why_size)
{
	struct checker c = { text, text, why, why_size };
	int elements = 0, k;

	if (!text) {
		if (why)
			snprintf(why, why_size, "no text");
		return JOBREG_EINVAL;
	}
	k = check_value(&c, 0, &elements);
	if (k < 0)
		return JOBREG_EINVAL;
	skip_space(&c);
	if (*c.p) {
		fail(&c, "text after the value");
		return JOBREG_EINVAL;
	}
	if (kind)
		*kind = k;
	if (element_kinds)
		*element_kinds = elements;
	return 0;
}
