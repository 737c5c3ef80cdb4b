/* names.h: what counts as a Python module name (internal). */
#ifndef JR_NAMES_H
#define JR_NAMES_H

#include <stddef.h>

/* 1 when s[0..len) is a Python keyword ("class", "None", ...). */
int jr_is_keyword(const char *s, size_t len);

/*
 * 1 when s[0..len) can name a module: an identifier (ASCII letters, digits,
 * '_', and any non-ASCII byte, which Python's own rules then judge) that is
 * not a keyword.
 */
int jr_is_module_name(const char *s, size_t len);

#endif
