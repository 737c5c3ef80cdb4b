/* pyutil.h: small helpers around the CPython API (internal; GIL held). */
#ifndef JR_PYUTIL_H
#define JR_PYUTIL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/*
 * Turn the pending Python exception into the thread's libjobreg error
 * ("CONTEXT: Type: message") and clear it. Returns `code`.
 */
int jr_error_from_python(int code, const char *context);

/* Import `jobreg._loader` (cached by sys.modules); new reference or NULL. */
PyObject *jr_py_loader_module(void);

#endif
