/* names.c: what counts as a Python module name. */
#include <string.h>

#include "names.h"
#include "util.h"

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

/* The code point of the well-formed UTF-8 character at `p`, `n` bytes long. */
static unsigned long code_point(const unsigned char *p, size_t n)
{
	static const unsigned char lead_mask[] = { 0, 0x7f, 0x1f, 0x0f, 0x07 };
	unsigned long c = p[0] & lead_mask[n];
	size_t i;

	for (i = 1; i < n; i++)
		c = c << 6 | (p[i] & 0x3f);
	return c;
}

/*
 * 1 for a non-ASCII character that no Python identifier holds: symbols,
 * punctuation, spaces, emoji, private use (Unicode's XID tables are too big
 * to copy; Python's own rules judge the rest at import).
 */
static int never_in_identifier(unsigned long c)
{
	if (c <= 0xbf) /* C1 controls, Latin-1 signs; but ª µ · º are letters */
		return c != 0xaa && c != 0xb5 && c != 0xb7 && c != 0xba;
	if (c == 0xd7 || c == 0xf7) /* × ÷ */
		return 1;
	if (c >= 0x2000 && c <= 0x206f) /* general punctuation; but ‿ ⁀ ⁔ join words */
		return c != 0x203f && c != 0x2040 && c != 0x2054;
	return (c >= 0x20a0 && c <= 0x20cf) || /* currency signs */
	       (c >= 0x2190 && c <= 0x2bff) || /* arrows, maths, boxes, symbols */
	       (c >= 0x3000 && c <= 0x3004) || /* CJK space and punctuation */
	       (c >= 0xe000 && c <= 0xf8ff) || /* private use */
	       c == 0xfeff || c >= 0xfff0 ||   /* byte order mark, specials */
	       (c >= 0x1f000 && c <= 0x1faff); /* emoji and other pictographs */
}

int jr_is_module_name(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (len == 0 || (p[0] >= '0' && p[0] <= '9'))
		return 0;
	/* Python names are text: bytes that are no UTF-8 name nothing. */
	if (!jr_utf8_valid(s, len))
		return 0;
	while (i < len) {
		size_t n = jr_utf8_seq_len(p + i);

		if (n == 1 ? !is_start(p[i]) && !(p[i] >= '0' && p[i] <= '9')
		           : never_in_identifier(code_point(p + i, n)))
			return 0;
		i += n;
	}
	return !jr_is_keyword(s, len);
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
