/* pyembed.c: executing the compiled-in Python modules into sys.modules. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>
#include <string.h>

#include "error.h"
#include "pyembed.h"
#include "pyutil.h"

/* Make `child` reachable as an attribute of its parent package. */
static int attach_to_parent(const char *name, PyObject *module, PyObject *modules)
{
	const char *dot = strrchr(name, '.');
	PyObject *parent;
	int rc;

	if (!dot)
		return 0;
	PyObject *parent_name = PyUnicode_FromStringAndSize(name, dot - name);
	if (!parent_name)
		return -1;
	parent = PyDict_GetItemWithError(modules, parent_name);
	Py_DECREF(parent_name);
	if (!parent)
		return PyErr_Occurred() ? -1 : 0;
	rc = PyObject_SetAttrString(parent, dot + 1, module);
	return rc;
}

/*
 * Whether the code objects compiled at build time are what this interpreter
 * would compile from the sources: the same bytecode (magic number; the
 * marshal format goes with it) and no -O (Py_CompileString() follows the
 * interpreter's optimization level; the build compiled at level 0).
 */
static int build_code_usable(void)
{
	long magic = PyImport_GetMagicNumber();
	PyObject *flags, *optimize;
	long level;

	if (magic == -1 && PyErr_Occurred()) {
		PyErr_Clear();
		return 0;
	}
	if (magic != jr_pymodules_magic)
		return 0;
	flags = PySys_GetObject("flags"); /* borrowed */
	optimize = flags ? PyObject_GetAttrString(flags, "optimize") : NULL;
	level = optimize ? PyLong_AsLong(optimize) : -1;
	Py_XDECREF(optimize);
	if (level != 0) {
		PyErr_Clear();
		return 0;
	}
	return 1;
}

/* The module's code object: the build's when usable, else compiled now. */
static PyObject *module_code(const struct jr_pymodule *m, int use_build_code)
{
	if (use_build_code) {
		PyObject *code = PyMarshal_ReadObjectFromString((const char *)m->code,
		                                                (Py_ssize_t)m->code_size);

		if (code && PyCode_Check(code))
			return code;
		/* Cannot happen with a matching magic number; the source still can. */
		Py_XDECREF(code);
		PyErr_Clear();
	}
	return Py_CompileString(m->source, m->filename, Py_file_input);
}

static int install_one(const struct jr_pymodule *m, PyObject *modules, int use_build_code)
{
	PyObject *module = NULL, *code = NULL, *dict, *result;
	int rc = -1;

	if (PyDict_GetItemString(modules, m->name))
		return 0;
	module = PyModule_New(m->name);
	if (!module)
		goto out;
	dict = PyModule_GetDict(module);
	if (PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins()) < 0)
		goto out;
	if (m->is_package) {
		PyObject *path = PyList_New(0);
		if (!path || PyDict_SetItemString(dict, "__path__", path) < 0) {
			Py_XDECREF(path);
			goto out;
		}
		Py_DECREF(path);
		PyObject *package = PyModule_GetNameObject(module);
		rc = package ? PyDict_SetItemString(dict, "__package__", package) : -1;
		Py_XDECREF(package);
		if (rc < 0)
			goto out;
		rc = -1;
	}
	code = module_code(m, use_build_code);
	if (!code)
		goto out;
	/* Like the import system: in sys.modules while its body runs. */
	if (PyDict_SetItemString(modules, m->name, module) < 0)
		goto out;
	result = PyEval_EvalCode(code, dict, dict);
	if (!result) {
		PyDict_DelItemString(modules, m->name);
		goto out;
	}
	Py_DECREF(result);
	rc = attach_to_parent(m->name, module, modules);
out:
	Py_XDECREF(code);
	Py_XDECREF(module);
	return rc;
}

int jr_pyembed_install(void)
{
	PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
	int use_build_code = build_code_usable();
	size_t i;

	for (i = 0; i < jr_pymodule_count; i++) {
		if (install_one(&jr_pymodules[i], modules, use_build_code) < 0)
			return jr_error_from_python(JOBREG_EPYTHON, jr_pymodules[i].name);
	}
	return 0;
}
