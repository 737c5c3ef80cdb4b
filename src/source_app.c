/*
 * source_app.c: the app source (SPEC 1.3): a package on sys.path whose app
 * configuration names its jobs module. All of the work is on the Python side
 * (AppSource in src/py/jobreg/_loader.py): where the package lives is only
 * known once it is imported.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "names.h"
#include "pyutil.h"
#include "isolate.h"
#include "source.h"
#include "util.h"

/*
 * Where a top-level package lives, found without importing it (as the
 * import will find it): its one folder, or NULL when it is not found, is a
 * namespace package, or the name is dotted (finding a subpackage would
 * import its parents). Takes the GIL; Python errors are dropped: the
 * import reports them.
 */
static char *locate_package(const char *name)
{
	PyGILState_STATE gil;
	PyObject *util, *spec = NULL, *origin = NULL, *locations = NULL;
	char *found = NULL;

	if (strchr(name, '.'))
		return NULL;
	gil = PyGILState_Ensure();
	util = PyImport_ImportModule("importlib.util");
	if (util)
		spec = PyObject_CallMethod(util, "find_spec", "s", name);
	if (spec && spec != Py_None) {
		origin = PyObject_GetAttrString(spec, "origin");
		locations = PyObject_GetAttrString(spec, "submodule_search_locations");
	}
	if (origin && origin != Py_None && locations && PyList_Check(locations) &&
	    PyList_GET_SIZE(locations) == 1) {
		const char *text = PyUnicode_Check(PyList_GET_ITEM(locations, 0))
		                       ? PyUnicode_AsUTF8(PyList_GET_ITEM(locations, 0))
		                       : NULL;
		if (text)
			found = jr_strdup(text);
	}
	PyErr_Clear();
	Py_XDECREF(locations);
	Py_XDECREF(origin);
	Py_XDECREF(spec);
	Py_XDECREF(util);
	PyGILState_Release(gil);
	return found;
}

/*
 * The package's files tell whether it changed. Before its first import the
 * folder is found the way the import will find it, so that a sync in a new
 * process can recognise an unchanged app without importing it.
 */
static int app_discover(jobreg_source *src, jr_load_plan *plan)
{
	if (!src->root[0]) {
		char *found = locate_package(src->name);
		int rc;

		if (!found)
			return 0;
		rc = jr_source_set_root(src, found);
		free(found);
		if (rc < 0)
			return rc;
	}
	return jr_dir_fingerprint(src, &plan->fingerprint);
}

/* Remember where the package lives, for jobreg_source_root(). */
static int remember_location(jobreg_source *src, const jr_load_plan *plan)
{
	PyObject *location;
	const char *text;
	int rc = 0;

	if (plan->part->code) /* imported in a worker process, which told us */
		return strcmp(plan->part->code->location, src->root) != 0
		           ? jr_source_set_root(src, plan->part->code->location)
		           : 0;
	location = PyObject_GetAttrString(src->state, "location");
	text = location ? PyUnicode_AsUTF8(location) : NULL;
	if (!text) {
		Py_XDECREF(location);
		return jr_error_from_python(JOBREG_EPYTHON, "app location");
	}
	if (strcmp(text, src->root) != 0)
		rc = jr_source_set_root(src, text);
	Py_DECREF(location);
	return rc;
}

static int app_import(jobreg_source *src, jr_load_plan *plan)
{
	int rc = jr_source_import_python(src, plan, "AppSource", Py_None);

	if (rc == 0)
		rc = remember_location(src, plan);
	/* The first load learns where the package is: fingerprint it now. */
	if (rc == 0 && !plan->fingerprint && src->root[0])
		rc = jr_dir_fingerprint(src, &plan->fingerprint);
	return rc;
}

static const struct jr_source_ops app_ops = {
	.discover = app_discover,
	.import = app_import,
};

int jobreg_source_app_new(jobreg_source **out, const char *package)
{
	if (!out || !package)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_app_new: NULL argument");
	if (!jr_is_dotted_name(package)) {
		char *shown = jr_escape(package);

		if (!shown)
			return JOBREG_ENOMEM;
		jr_error_set(JOBREG_EINVAL,
		             "jobreg_source_app_new: app package name '%s' is not a valid Python package "
		             "name (UTF-8 identifiers joined by dots)",
		             shown);
		free(shown);
		return JOBREG_EINVAL;
	}
	return jr_source_new(out, JOBREG_SOURCE_APP, package, "", &app_ops);
}
