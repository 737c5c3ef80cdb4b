/* version.c: the version of the linked library. */
#include "jobreg/version.h"

const char *jobreg_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = JOBREG_VERSION_MAJOR;
	if (minor)
		*minor = JOBREG_VERSION_MINOR;
	if (patch)
		*patch = JOBREG_VERSION_PATCH;
	return JOBREG_VERSION;
}
