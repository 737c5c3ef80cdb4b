/* util.c: strings and growable buffers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

char *jr_strndup(const char *s, size_t n)
{
	char *copy;

	if (!s)
		return NULL;
	copy = malloc(n + 1);
	if (!copy) {
		jr_error_oom();
		return NULL;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	return copy;
}

char *jr_strdup(const char *s)
{
	return s ? jr_strndup(s, strlen(s)) : NULL;
}

void *jr_array_room(void *items, size_t *capacity, size_t count, size_t item_size)
{
	size_t cap = *capacity ? *capacity * 2 : 8;
	void *grown;

	if (count < *capacity)
		return items;
	if (cap < *capacity || cap > SIZE_MAX / item_size || !(grown = realloc(items, cap * item_size)))
		return NULL;
	*capacity = cap;
	return grown;
}

char *jr_pack_strings(const char **const slots[], size_t n)
{
	size_t total = 0, i;
	char *block, *at;

	for (i = 0; i < n; i++)
		total += strlen(*slots[i] ? *slots[i] : "") + 1;
	if (!(block = malloc(total ? total : 1)))
		return NULL;
	for (i = 0, at = block; i < n; i++) {
		const char *from = *slots[i] ? *slots[i] : "";
		size_t len = strlen(from) + 1;

		memcpy(at, from, len);
		*slots[i] = at;
		at += len;
	}
	return block;
}

char *jr_asprintf(const char *fmt, ...)
{
	jr_buf b = JR_BUF_INIT;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || jr_buf_grow(&b, (size_t)n + 1) < 0)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(b.ptr, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return b.ptr;
}

int jr_buf_grow(jr_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return JOBREG_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	p = realloc(b->ptr, cap);
	if (!p) {
		b->failed = 1;
		return jr_error_oom();
	}
	b->ptr = p;
	b->cap = cap;
	b->ptr[b->len] = '\0';
	return 0;
}

int jr_buf_put(jr_buf *b, const char *data, size_t len)
{
	if (jr_buf_grow(b, len) < 0)
		return JOBREG_ENOMEM;
	memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int jr_buf_puts(jr_buf *b, const char *s)
{
	return jr_buf_put(b, s, strlen(s));
}

int jr_buf_putc(jr_buf *b, char c)
{
	return jr_buf_put(b, &c, 1);
}

int jr_buf_printf(jr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return jr_error_set(JOBREG_ERROR, "bad format");
	if (jr_buf_grow(b, (size_t)n) < 0)
		return JOBREG_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int jr_buf_put_json_string(jr_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	jr_buf_putc(b, '"');
	while (*p) {
		size_t n = jr_utf8_seq_len(p);

		if (n == 0) {
			/* Not UTF-8: the text would not be JSON, so the byte becomes U+FFFD. */
			jr_buf_puts(b, "\\ufffd");
			p++;
			continue;
		}
		switch (*p) {
		case '"':
			jr_buf_puts(b, "\\\"");
			break;
		case '\\':
			jr_buf_puts(b, "\\\\");
			break;
		case '\n':
			jr_buf_puts(b, "\\n");
			break;
		case '\r':
			jr_buf_puts(b, "\\r");
			break;
		case '\t':
			jr_buf_puts(b, "\\t");
			break;
		default:
			if (*p < 0x20)
				jr_buf_printf(b, "\\u%04x", *p);
			else
				jr_buf_put(b, (const char *)p, n);
		}
		p += n;
	}
	return jr_buf_putc(b, '"');
}

/* ---- UTF-8 ------------------------------------------------------- */

size_t jr_utf8_seq_len(const unsigned char *p)
{
	unsigned int c = p[0], min, n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1, min = 0x80, c &= 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2, min = 0x800, c &= 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3, min = 0x10000, c &= 0x07;
	} else {
		return 0; /* a continuation byte, or a lead byte no character has */
	}
	/* A NUL stops the loop: it is no continuation byte. */
	for (i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n + 1;
}

int jr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		/* Never read past `end`: s[0..len) need not be NUL-terminated. */
		if ((size_t)(end - p) < 4) {
			unsigned char tail[4] = { 0, 0, 0, 0 };

			memcpy(tail, p, (size_t)(end - p));
			n = jr_utf8_seq_len(tail);
		} else {
			n = jr_utf8_seq_len(p);
		}
		if (n == 0)
			return 0;
		p += n;
	}
	return 1;
}

int jr_buf_put_escaped(jr_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = jr_utf8_seq_len(p);

		if (n == 0 || *p < 0x20 || *p == 0x7f)
			jr_buf_printf(b, "\\x%02x", *p);
		else
			jr_buf_put(b, (const char *)p, n);
		p += n ? n : 1;
	}
	return jr_buf_status(b);
}

char *jr_escape(const char *s)
{
	jr_buf b = JR_BUF_INIT;

	if (jr_buf_grow(&b, 0) < 0 || jr_buf_put_escaped(&b, s ? s : "") < 0) {
		jr_buf_free(&b);
		return NULL;
	}
	return jr_buf_detach(&b);
}

char *jr_buf_detach(jr_buf *b)
{
	char *p;

	if (b->failed) {
		jr_buf_free(b);
		return NULL;
	}
	if (!b->ptr && jr_buf_grow(b, 0) < 0)
		return NULL;
	p = b->ptr;
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}

void jr_buf_free(jr_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

int jr_buf_status(const jr_buf *b)
{
	return b->failed ? jr_error_oom() : 0;
}
