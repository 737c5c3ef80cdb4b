/* source.c: what all sources share: the public getters and the plan. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "runtime.h"
#include "source.h"
#include "util.h"

int jr_source_new(jobreg_source **out, jobreg_source_t type, const char *name, const char *root,
                  const struct jr_source_ops *ops)
{
	jobreg_source *src = calloc(1, sizeof(*src));

	if (!src)
		return jr_error_oom();
	src->type = type;
	src->ops = ops;
	src->nautobot_compat = JOBREG_COMPAT_DEFAULT;
	src->name = jr_strdup(name);
	src->root = jr_strdup(root);
	if (!src->name || !src->root) {
		jr_source_destroy(src);
		return JOBREG_ENOMEM;
	}
	*out = src;
	return 0;
}

void jr_source_destroy(jobreg_source *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->free)
		src->ops->free(src);
	jr_part_unref(src->loaded_part);
	jr_dir_watch_free(src->dir_watch);
	if (src->state && jr_runtime_python_alive()) {
		PyGILState_STATE gil = PyGILState_Ensure();
		PyObject *r = PyObject_CallMethod(src->state, "close", NULL);

		/* Closing purges the source's modules; a failure there must not
		 * stop the host from freeing its registry. */
		if (!r)
			PyErr_Clear();
		Py_XDECREF(r);
		Py_DECREF(src->state);
		PyGILState_Release(gil);
	}
	while (src->retired) {
		struct jr_retired_root *next = src->retired->next;

		free(src->retired->text);
		free(src->retired);
		src->retired = next;
	}
	free(src->name);
	free(src->root);
	free(src);
}

int jr_source_set_root(jobreg_source *src, const char *root)
{
	struct jr_retired_root *old = malloc(sizeof(*old));
	char *copy = jr_strdup(root);

	if (!old || !copy) {
		free(old);
		free(copy);
		return jr_error_oom();
	}
	old->text = src->root;
	old->next = src->retired;
	src->retired = old;
	/* Release: a reader that sees the new pointer sees its text. */
	__atomic_store_n(&src->root, copy, __ATOMIC_RELEASE);
	return 0;
}

void jobreg_source_free(jobreg_source *src)
{
	if (src && !src->owned)
		jr_source_destroy(src);
}

jobreg_source_t jobreg_source_type(const jobreg_source *src)
{
	return src ? src->type : 0;
}

const char *jobreg_source_type_name(jobreg_source_t type)
{
	switch (type) {
	case JOBREG_SOURCE_LOCAL:
		return "local";
	case JOBREG_SOURCE_GIT:
		return "git";
	case JOBREG_SOURCE_APP:
		return "app";
	default:
		return "unknown";
	}
}

const char *jobreg_source_name(const jobreg_source *src)
{
	return src ? src->name : NULL;
}

const char *jobreg_source_root(const jobreg_source *src)
{
	return src ? __atomic_load_n(&src->root, __ATOMIC_ACQUIRE) : NULL;
}

int jobreg_source_set_nautobot_compat(jobreg_source *src, int mode)
{
	if (!src)
		return jr_error_set(JOBREG_EINVAL, "jobreg_source_set_nautobot_compat: src is NULL");
	if (mode != JOBREG_COMPAT_DEFAULT && mode != JOBREG_COMPAT_AUTO && mode != JOBREG_COMPAT_1X)
		return jr_error_set(JOBREG_EINVAL,
		                    "jobreg_source_set_nautobot_compat: %d is not a source's mode "
		                    "(JOBREG_COMPAT_DEFAULT, JOBREG_COMPAT_AUTO or JOBREG_COMPAT_1X)",
		                    mode);
	__atomic_store_n(&src->nautobot_compat, mode, __ATOMIC_RELAXED);
	return 0;
}

int jobreg_source_nautobot_compat(const jobreg_source *src)
{
	return src ? __atomic_load_n(&src->nautobot_compat, __ATOMIC_RELAXED) : JOBREG_COMPAT_DEFAULT;
}

int jr_source_nautobot_1x(const jobreg_source *src)
{
	int mode = jobreg_source_nautobot_compat(src);

	if (mode == JOBREG_COMPAT_DEFAULT)
		return jr_runtime_nautobot_1x();
	return mode == JOBREG_COMPAT_1X;
}

void jr_plan_read_nautobot_mode(const jobreg_source *src, jr_load_plan *plan)
{
	plan->nautobot_1x = jr_source_nautobot_1x(src);
}

int jr_plan_add_module(jr_load_plan *plan, const char *name, const char *path,
                       enum jr_module_kind kind)
{
	jr_module_entry *entry;

	if (plan->module_count == plan->module_capacity) {
		size_t cap = plan->module_capacity ? plan->module_capacity * 2 : 32;
		jr_module_entry *p = realloc(plan->modules, cap * sizeof(*p));
		if (!p)
			return jr_error_oom();
		plan->modules = p;
		plan->module_capacity = cap;
	}
	entry = &plan->modules[plan->module_count];
	entry->name = jr_strdup(name);
	entry->path = jr_strdup(path);
	entry->kind = kind;
	if (!entry->name || !entry->path) {
		free(entry->name);
		free(entry->path);
		return JOBREG_ENOMEM;
	}
	plan->module_count++;
	return 0;
}

void jr_plan_clear(jr_load_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->module_count; i++) {
		free(plan->modules[i].name);
		free(plan->modules[i].path);
	}
	free(plan->modules);
	jr_part_unref(plan->part);
	memset(plan, 0, sizeof(*plan));
}
