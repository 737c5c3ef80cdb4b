/* pyembed.h: the library's own Python modules, compiled in (internal). */
#ifndef JR_PYEMBED_H
#define JR_PYEMBED_H

#include <stddef.h>

struct jr_pymodule {
	const char *name;     /* "jobreg.jobs" */
	const char *filename; /* shown in tracebacks */
	const char *source;
	int is_package;
	/* The source compiled at build time (marshal.dumps of its code object),
	 * by an interpreter whose bytecode magic number is jr_pymodules_magic. */
	const unsigned char *code;
	size_t code_size;
};

extern const struct jr_pymodule jr_pymodules[];
extern const size_t jr_pymodule_count;
extern const long jr_pymodules_magic;

/*
 * Execute the embedded modules into sys.modules (GIL held). A module already
 * in sys.modules is kept, so that job code imported earlier keeps the very
 * classes it saw; a `jobreg` package of the host's own (the Python binding)
 * is kept and gains the submodules. Each module runs the code compiled at
 * build time when the running interpreter would compile its source to the
 * same (same bytecode magic number, no -O), else its source compiled now.
 * Returns 0 or a negative error.
 */
int jr_pyembed_install(void);

#endif
