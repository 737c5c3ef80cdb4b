/* util.h: strings and growable buffers (internal). */
#ifndef JR_UTIL_H
#define JR_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* NULL-safe duplicates; NULL on allocation failure (error already set). */
char *jr_strdup(const char *s);
char *jr_strndup(const char *s, size_t n);
char *jr_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Copy the `n` strings that `slots` point at (NULL copies as "") into one
 * allocation, in order, and point each slot at its copy. Returns the block,
 * which starts with the first copy (free it to free them all), or NULL when
 * out of memory, with the slots untouched.
 */
char *jr_pack_strings(const char **const slots[], size_t n);
/*
 * `items`, an array of `count` items of `item_size` bytes with room for
 * `*capacity`, with room for one more: the same pointer when it has it,
 * else a larger copy (`*capacity` doubled, at least 8). NULL when out of
 * memory, with `items` and `*capacity` untouched.
 */
void *jr_array_room(void *items, size_t *capacity, size_t count, size_t item_size);

/** A growable, always NUL-terminated byte buffer. Zero-initialize it. */
typedef struct jr_buf {
	char *ptr;
	size_t len;
	size_t cap;
	int failed; /* an allocation failed: contents are incomplete */
} jr_buf;

#define JR_BUF_INIT   \
	{                 \
		NULL, 0, 0, 0 \
	}

int jr_buf_grow(jr_buf *b, size_t extra);
int jr_buf_put(jr_buf *b, const char *data, size_t len);
int jr_buf_puts(jr_buf *b, const char *s);
int jr_buf_putc(jr_buf *b, char c);
int jr_buf_printf(jr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/**
 * Append `s` as a JSON string literal, quotes included. A byte that is not
 * part of well-formed UTF-8 is written as U+FFFD, so the output is always
 * JSON, whatever `s` holds.
 */
int jr_buf_put_json_string(jr_buf *b, const char *s);
/**
 * Append `s` for a message or a name a host shows: bytes that are not
 * well-formed UTF-8 and control characters as `\xNN`, the rest as it is
 * (so a file `bad<0xff>.py` reads `bad\xff.py`). 0 or JOBREG_ENOMEM.
 */
int jr_buf_put_escaped(jr_buf *b, const char *s);
/** jr_buf_put_escaped() into a new string (NULL: "") to free; NULL when out of memory. */
char *jr_escape(const char *s);
/** Take the contents (never NULL unless failed); the buffer is reset. */
char *jr_buf_detach(jr_buf *b);
void jr_buf_free(jr_buf *b);
/** 0, or JOBREG_ENOMEM (recorded) when an append failed. */
int jr_buf_status(const jr_buf *b);

/*
 * The length of the well-formed UTF-8 character at `p` (1 to 4), or 0 when
 * `p` starts no such character (a stray continuation byte, an overlong form,
 * a surrogate, past U+10FFFF, a truncated sequence). Reads no further than
 * a NUL.
 */
size_t jr_utf8_seq_len(const unsigned char *p);
/** 1 when s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates). */
int jr_utf8_valid(const char *s, size_t len);

/* FNV-1a, 64 bits: fingerprints and hashes that need no strength, only spread. */
#define JR_FNV_OFFSET 1469598103934665603ULL
#define JR_FNV_PRIME 1099511628211ULL

static inline void jr_fnv_fold(uint64_t *h, const void *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i;

	for (i = 0; i < len; i++) {
		*h ^= p[i];
		*h *= JR_FNV_PRIME;
	}
}

#endif
