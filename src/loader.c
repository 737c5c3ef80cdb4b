/*
 * loader.c: running a source's Python-side loader and turning what it
 * returns into the source's part of a generation (GIL held throughout).
 *
 * The Python side (src/py/jobreg/_loader.py) imports the modules, captures
 * every failure and reads each registered class's Meta; this side copies the
 * results into C memory so that the host never needs the GIL to read them.
 * Before each load the loader object's `nautobot_1x` attribute is set to the
 * source's effective mode for that load (True: Nautobot 1.x jobs).
 */
#include "error.h"
#include "pyutil.h"
#include "source.h"

static int copy_task_queues(jr_part *part, jobreg_job *job, PyObject *queues)
{
	Py_ssize_t n = PyTuple_Size(queues), i;

	if (n < 0)
		return jr_error_from_python(JOBREG_EPYTHON, "task_queues");
	job->task_queue_count = (size_t)n;
	if (n == 0)
		return 0;
	job->task_queues = jr_part_alloc(part, (size_t)n * sizeof(char *));
	if (!job->task_queues)
		return JOBREG_ENOMEM;
	for (i = 0; i < n; i++) {
		const char *q = PyUnicode_AsUTF8(PyTuple_GET_ITEM(queues, i));
		if (!q)
			return jr_error_from_python(JOBREG_EPYTHON, "task_queues");
		if (!(job->task_queues[i] = jr_part_strdup(part, q)))
			return JOBREG_ENOMEM;
	}
	return 0;
}

/* One job tuple, in the order jobreg._loader documents. */
static int add_job(jr_part *part, PyObject *item)
{
	PyObject *cls, *queues;
	const char *class_path, *module, *class_name, *grouping, *name, *description, *variables;
	int hidden, dryrun_default, approval_required, sensitive, singleton, dryrun;
	double soft_limit, limit;
	jobreg_job *job;

	if (!PyArg_ParseTuple(item, "OssssssppppddO!pps;a job from jobreg._loader", &cls,
	                      &class_path, &module, &class_name, &grouping, &name, &description,
	                      &hidden, &dryrun_default, &approval_required, &sensitive,
	                      &soft_limit, &limit, &PyTuple_Type, &queues, &singleton, &dryrun,
	                      &variables))
		return jr_error_from_python(JOBREG_EPYTHON, "reading a loaded job");
	Py_INCREF(cls);
	job = jr_part_add_job(part, cls);
	if (!job)
		return JOBREG_ENOMEM;
	if (!(job->class_path = jr_part_strdup(part, class_path)) ||
	    !(job->module_name = jr_part_strdup(part, module)) ||
	    !(job->class_name = jr_part_strdup(part, class_name)) ||
	    !(job->grouping = jr_part_strdup(part, grouping)) ||
	    !(job->name = jr_part_strdup(part, name)) ||
	    !(job->description = jr_part_strdup(part, description)) ||
	    !(job->variables_json = jr_part_strdup(part, variables)))
		return JOBREG_ENOMEM;
	job->hidden = (unsigned char)hidden;
	job->dryrun_default = (unsigned char)dryrun_default;
	job->approval_required = (unsigned char)approval_required;
	job->has_sensitive_variables = (unsigned char)sensitive;
	job->is_singleton = (unsigned char)singleton;
	job->supports_dryrun = (unsigned char)dryrun;
	job->soft_time_limit = soft_limit;
	job->time_limit = limit;
	return copy_task_queues(part, job, queues);
}

static int add_error(jr_part *part, PyObject *item)
{
	const char *module, *file, *type, *message, *traceback;
	int line;

	if (!PyArg_ParseTuple(item, "ssisss;a load error from jobreg._loader", &module, &file,
	                      &line, &type, &message, &traceback))
		return jr_error_from_python(JOBREG_EPYTHON, "reading a load error");
	return jr_part_add_error(part, module, file, line, type, message, traceback);
}

static int copy_results(jr_part *part, PyObject *result)
{
	PyObject *jobs, *errors;
	Py_ssize_t i;
	int rc = 0;

	if (!PyArg_ParseTuple(result, "O!O!;jobreg._loader result", &PyList_Type, &jobs,
	                      &PyList_Type, &errors))
		return jr_error_from_python(JOBREG_EPYTHON, "reading the loader's result");
	for (i = 0; rc == 0 && i < PyList_GET_SIZE(errors); i++)
		rc = add_error(part, PyList_GET_ITEM(errors, i));
	for (i = 0; rc == 0 && i < PyList_GET_SIZE(jobs); i++)
		rc = add_job(part, PyList_GET_ITEM(jobs, i));
	return rc;
}

int jr_source_import_python(jobreg_source *src, jr_load_plan *plan,
                            const char *loader_class, PyObject *args)
{
	PyObject *result;
	int rc;

	if (!src->state) {
		PyObject *module = jr_py_loader_module();

		if (!module)
			return jr_error_from_python(JOBREG_EPYTHON, "jobreg._loader");
		src->state = PyObject_CallMethod(module, loader_class, "ss", src->name, src->root);
		Py_DECREF(module);
		if (!src->state)
			return jr_error_from_python(JOBREG_EPYTHON, loader_class);
	}
	/* The mode of this load, read by the loader as `self.nautobot_1x`. */
	if (PyObject_SetAttrString(src->state, "nautobot_1x",
	                           plan->nautobot_1x ? Py_True : Py_False) < 0)
		return jr_error_from_python(JOBREG_EPYTHON, "setting the source's Nautobot mode");
	result = PyObject_CallMethod(src->state, "load", "Od", args, plan->import_timeout);
	if (!result)
		return jr_error_from_python(JOBREG_EPYTHON, "loading a source");
	rc = copy_results(plan->part, result);
	Py_DECREF(result);
	return rc;
}
