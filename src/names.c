/* names.c: what counts as a Python module name. */
#include <string.h>

#include "names.h"

static const char *const keywords[] = {
	"False", "None", "True", "and", "as", "assert", "async", "await",
	"break", "class", "continue", "def", "del", "elif", "else", "except",
	"finally", "for", "from", "global", "if", "import", "in", "is",
	"lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try",
	"while", "with", "yield",
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
	return !jr_is_keyword(s, len);
}
