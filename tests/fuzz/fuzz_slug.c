/*
 * fuzz_slug.c: jobreg_git_slug_check() on any string (SPEC 1.2).
 *
 * Promises checked on every input (up to its first NUL):
 *  - the result is 0 or JOBREG_EINVAL with a message naming the slug;
 *  - a message about a valid UTF-8 slug is valid UTF-8 (a long slug is
 *    shortened in messages: never in the middle of a character);
 *  - an accepted slug is 1 to JOBREG_GIT_SLUG_MAX bytes of valid UTF-8, a
 *    Python identifier (ASCII letters, digits, '_', not starting with a
 *    digit, or other identifier characters), no keyword, the same after
 *    NFKC normalization (Python normalizes identifiers in source code, so
 *    `import <slug>` must name this very module), and no module loaded or
 *    importable from elsewhere.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <jobreg.h>

#include "fuzz.h"

static PyObject *verdict; /* a Python function: the independent opinion */

static const char verdict_src[] =
	"import importlib.util, keyword, sys, unicodedata\n"
	"def verdict(slug):\n"
	"    if not slug.isidentifier() or keyword.iskeyword(slug):\n"
	"        return 'not an identifier, or a keyword'\n"
	"    if unicodedata.normalize('NFKC', slug) != slug:\n"
	"        return 'changed by NFKC: `import` would name another module'\n"
	"    if slug in sys.modules:\n"
	"        return 'a loaded module'\n"
	"    try:\n"
	"        if importlib.util.find_spec(slug) is not None:\n"
	"            return 'importable from elsewhere'\n"
	"    except Exception:\n"
	"        pass\n"
	"    return None\n";

static void cleanup(void)
{
	PyGILState_STATE gil = PyGILState_Ensure();

	Py_CLEAR(verdict);
	PyGILState_Release(gil);
	jobreg_shutdown();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	PyGILState_STATE gil;
	PyObject *globals, *rv;

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(jobreg_init(NULL) > 0, "jobreg_init: %s", jobreg_error_last()->message);
	gil = PyGILState_Ensure();
	globals = PyDict_New();
	FUZZ_ASSERT(globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0,
	            "globals");
	rv = PyRun_String(verdict_src, Py_file_input, globals, globals);
	if (!rv)
		PyErr_Print();
	FUZZ_ASSERT(rv != NULL, "the verdict code does not run");
	Py_DECREF(rv);
	verdict = PyDict_GetItemString(globals, "verdict");
	Py_XINCREF(verdict);
	Py_DECREF(globals);
	PyGILState_Release(gil);
	FUZZ_ASSERT(verdict != NULL, "no verdict function");
	atexit(cleanup);
	return 0;
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int is_ascii_identifier_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || is_digit(c);
}

/* Python's opinion of an accepted slug: NULL when it agrees, else why not. */
static char *python_objection(const char *slug)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *rv = PyObject_CallFunction(verdict, "s", slug);
	char *why = NULL;

	if (!rv) {
		PyErr_Print();
		why = strdup("the verdict function raised");
	} else if (rv != Py_None) {
		why = strdup(PyUnicode_AsUTF8(rv));
	}
	Py_XDECREF(rv);
	PyGILState_Release(gil);
	return why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *slug = fuzz_cstr(data, size);
	size_t len = strlen(slug), i;
	const jobreg_error *err;
	int rc = jobreg_git_slug_check(slug);

	err = jobreg_error_last();
	FUZZ_ASSERT(rc == 0 || rc == JOBREG_EINVAL, "slug_check returned %d: %s", rc, err->message);
	if (rc < 0) {
		FUZZ_ASSERT(err->code == rc && strstr(err->message, "slug") != NULL,
		            "the message does not say what was refused: %s", err->message);
		if (fuzz_utf8_valid(slug, len))
			FUZZ_ASSERT(fuzz_utf8_valid(err->message, strlen(err->message)),
			            "the message about a valid UTF-8 slug is no valid UTF-8: %s", err->message);
		free(slug);
		return 0;
	}

	FUZZ_ASSERT(len >= 1 && len <= JOBREG_GIT_SLUG_MAX, "accepted a slug of %zu bytes", len);
	FUZZ_ASSERT(fuzz_utf8_valid(slug, len), "accepted a slug that is no valid UTF-8");
	FUZZ_ASSERT(!is_digit((unsigned char)slug[0]), "accepted '%s', which starts with a digit", slug);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)slug[i];
		FUZZ_ASSERT(c >= 0x80 || is_ascii_identifier_char(c), "accepted '%s', which holds %#x",
		            slug, c);
	}
	{
		char *why = python_objection(slug);
		FUZZ_ASSERT(why == NULL, "accepted '%s': %s", slug, why);
	}
	free(slug);
	return 0;
}
