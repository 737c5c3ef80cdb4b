/* names.c: what counts as a Python module name. */
#include <string.h>

#include "names.h"

static const char *const keywords[] = {
	"False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
	"class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
	"from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
	"or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield",
};

int jr_is_keyword(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0)
			return 1;
	}
	return 0;
}

static int is_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

int jr_is_utf8(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned int c = *p++, min, n, i;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0; /* a continuation byte, or a lead byte no character has */
		}
		if ((size_t)(end - p) < n)
			return 0;
		for (i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (*p & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

int jr_is_module_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_start((unsigned char)s[0]))
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!is_start(c) && !(c >= '0' && c <= '9'))
			return 0;
	}
	/* Python names are text: bytes that are no UTF-8 name nothing. */
	return jr_is_utf8(s, len) && !jr_is_keyword(s, len);
}

int jr_is_dotted_name(const char *name)
{
	const char *part = name, *dot;

	for (;;) {
		dot = strchr(part, '.');
		if (!jr_is_module_name(part, dot ? (size_t)(dot - part) : strlen(part)))
			return 0;
		if (!dot)
			return 1;
		part = dot + 1; /* never NULL + 1: undefined, and UBSan says so */
	}
}

int jr_is_file_module_name(const char *s, size_t len)
{
	size_t stem = len - 3;

	if (len < 4 || memcmp(s + stem, ".py", 3) != 0)
		return 0;
	if (memchr(s, '.', stem))
		return 0; /* pkgutil skips "a.b.py": no import could name it */
	return !(stem == 8 && memcmp(s, "__init__", 8) == 0);
}
