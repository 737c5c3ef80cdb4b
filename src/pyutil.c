/* pyutil.c: small helpers around the CPython API. */
#include "error.h"
#include "pyutil.h"

int jr_error_from_python(int code, const char *context)
{
	PyObject *type, *value, *tb, *text = NULL;
	const char *type_name = "unknown", *message = "";

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (type)
		type_name = ((PyTypeObject *)type)->tp_name;
	if (value)
		text = PyObject_Str(value);
	if (text)
		message = PyUnicode_AsUTF8(text);
	if (!message) {
		PyErr_Clear();
		message = "";
	}
	jr_error_set(code, "%s: %s: %s", context, type_name, message);
	Py_XDECREF(text);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	PyErr_Clear();
	return code;
}

PyObject *jr_py_loader_module(void)
{
	return PyImport_ImportModule("jobreg._loader");
}
