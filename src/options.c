/* options.c: reading a caller's versioned option struct. */
#include <string.h>

#include "error.h"
#include "options.h"

int jr_options_read(void *dst, const void *src, const size_t *size_by_version,
                    unsigned int versions, const char *what)
{
	unsigned int version;

	if (!src)
		return 0;
	memcpy(&version, src, sizeof(version));
	if (version < 1 || version > versions)
		return jr_error_set(JOBREG_EVERSION,
		                    "%s: version %u is not supported (this library knows 1 to %u)", what,
		                    version, versions);
	memcpy(dst, src, size_by_version[version - 1]);
	/* The caller's own version stays visible to code that must know it. */
	return 0;
}

int jr_options_init(void *opts, const void *defaults, const size_t *size_by_version,
                    unsigned int versions, unsigned int version, const char *what)
{
	if (!opts)
		return jr_error_set(JOBREG_EINVAL, "%s_init: opts is NULL", what);
	if (version < 1 || version > versions)
		return jr_error_set(JOBREG_EVERSION,
		                    "%s: version %u is not supported (this library knows 1 to %u)", what,
		                    version, versions);
	memcpy(opts, defaults, size_by_version[version - 1]);
	memcpy(opts, &version, sizeof(version)); /* every struct begins with it */
	return 0;
}
