/* options.h: reading a caller's versioned option struct (internal). */
#ifndef JR_OPTIONS_H
#define JR_OPTIONS_H

#include <stddef.h>

/*
 * Copy the caller's struct `src` (whose first member is `unsigned int
 * version`) over `dst`, which already holds this library's defaults. Only
 * the bytes that the caller's version has are read: `size_by_version[v-1]`
 * is the size of version v. A NULL `src` keeps the defaults. Unknown
 * versions fail with JOBREG_EVERSION naming `what`.
 */
int jr_options_read(void *dst, const void *src, const size_t *size_by_version,
                    unsigned int versions, const char *what);

/*
 * Fill the caller's struct `opts` of version `version` with this library's
 * `defaults`: only the bytes that version has are written (an old caller's
 * struct is smaller than ours), then `version` is set. For the public
 * jobreg_*_options_init() functions; errors name `what`.
 */
int jr_options_init(void *opts, const void *defaults, const size_t *size_by_version,
                    unsigned int versions, unsigned int version, const char *what);

/* The size of a struct up to and including `member`. */
#define JR_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

#endif
