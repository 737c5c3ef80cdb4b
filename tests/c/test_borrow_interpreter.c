/* test_borrow_interpreter.c: a host that started CPython itself keeps it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#include "loadutil.h"

static const char *seed_dir;

static void *load_in_thread(void *arg)
{
	jobreg_registry *reg = load_jobs_root(seed_dir);
	jobreg_snapshot *snap = take_snapshot(reg);

	(void)arg;
	CHECK_INT(jobreg_snapshot_job_count(snap), 3);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	/* Every entry gives the GIL back: this thread must not hold it now. */
	CHECK(!PyGILState_Check());
	return NULL;
}

static void test_library_borrows_and_never_finalizes_a_running_interpreter(void)
{
	PyObject *marker;
	PyThreadState *main_state;
	pthread_t thread;

	Py_InitializeEx(0);
	CHECK(PyRun_SimpleString("import sys\nsys.host_marker = 'mine'\n") == 0);
	CHECK_INT(jobreg_init(NULL), 1);

	/* The host's own thread still holds the GIL it held before. */
	CHECK(PyGILState_Check());
	marker = PyImport_ImportModule("jobreg.jobs");
	CHECK(marker != NULL);
	Py_XDECREF(marker);

	/* Let another thread use the library while the host waits. */
	seed_dir = jr_tmpdir();
	jr_write_seed_jobs_root(seed_dir);
	main_state = PyEval_SaveThread();
	CHECK(pthread_create(&thread, NULL, load_in_thread, NULL) == 0);
	pthread_join(thread, NULL);
	PyEval_RestoreThread(main_state);

	CHECK_INT(jobreg_shutdown(), 0);
	CHECK(Py_IsInitialized());
	CHECK(PyRun_SimpleString("import sys\nassert sys.host_marker == 'mine'\n") == 0);
	/* jobreg.jobs stays importable: job classes the host holds stay valid. */
	CHECK(PyRun_SimpleString("import jobreg.jobs\n") == 0);
	CHECK(Py_FinalizeEx() == 0);
}

static const struct jr_test tests[] = {
	{ "library_borrows_and_never_finalizes_a_running_interpreter",
	  test_library_borrows_and_never_finalizes_a_running_interpreter },
};

JR_TEST_MAIN(tests)
