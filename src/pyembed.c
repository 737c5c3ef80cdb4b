/* pyembed.c: executing the compiled-in Python modules into sys.modules. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
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

static int install_one(const struct jr_pymodule *m, PyObject *modules)
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
	code = Py_CompileString(m->source, m->filename, Py_file_input);
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
	size_t i;

	for (i = 0; i < jr_pymodule_count; i++) {
		if (install_one(&jr_pymodules[i], modules) < 0)
			return jr_error_from_python(JOBREG_EPYTHON, jr_pymodules[i].name);
	}
	return 0;
}
