/* names.h: what counts as a Python module name (internal). */
#ifndef JR_NAMES_H
#define JR_NAMES_H

#include <stddef.h>

/* 1 when s[0..len) is a Python keyword ("class", "None", ...). */
int jr_is_keyword(const char *s, size_t len);

/*
 * 1 when s[0..len) can name a module: well-formed UTF-8, not a keyword, an
 * identifier of ASCII letters, digits (not first) and '_', and non-ASCII
 * characters other than those no identifier holds (symbols, punctuation,
 * spaces, emoji: names.c lists them); Python's own rules judge the rest.
 */
int jr_is_module_name(const char *s, size_t len);

/* 1 when the C string `name` is a dotted module name ("my_repo", "pkg.sub"):
 * every part between dots is a module name. */
int jr_is_dotted_name(const char *name);

/*
 * 1 when the file name s[0..len) is a module of a jobs root, as pkgutil
 * (and so Nautobot) sees it: `<stem>.py` with a stem that is not empty,
 * holds no '.' and is not `__init__` (a package's own body). The stem need
 * not be an identifier: `my-jobs.py` is the module `my-jobs`, which
 * importlib.import_module() imports all the same.
 */
int jr_is_file_module_name(const char *s, size_t len);

#endif
