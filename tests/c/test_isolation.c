/*
 * test_isolation.c: hostile job modules in isolation mode (issue 14): a
 * module that exits, aborts, crashes, hangs, forks, leaves threads, eats
 * memory or recurses without end becomes a load error that says what it
 * did, its neighbours load, and the host goes on, loads again and runs.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadutil.h"

#define GOOD_MODULE                                \
	"from jobreg.jobs import Job, register_jobs\n" \
	"class StillHere(Job):\n"                      \
	"    def run(self):\n"                         \
	"        return 'alive'\n"                     \
	"register_jobs(StillHere)\n"

static jobreg_registry *isolated_registry(const char *dir, unsigned int limit_ms,
                                          unsigned int memory_mb)
{
	jobreg_registry_options opts = JOBREG_REGISTRY_OPTIONS_INIT;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;

	opts.import_timeout_ms = limit_ms;
	opts.isolation = JOBREG_ISOLATION_PROCESS;
	opts.worker_memory_limit_mb = memory_mb;
	CHECK_OK(jobreg_registry_new(&reg, &opts));
	CHECK_OK(jobreg_source_dir_new(&src, dir));
	CHECK_OK(jobreg_registry_add_source(reg, src));
	return reg;
}

/* Load `dir` (plus good.py) in isolation; the good job must be there. */
static jobreg_snapshot *load_hostile(const char *dir, unsigned int limit_ms, unsigned int memory_mb,
                                     jobreg_registry **reg)
{
	jobreg_snapshot *snap;

	jr_write(dir, "good.py", GOOD_MODULE);
	*reg = isolated_registry(dir, limit_ms, memory_mb);
	CHECK_OK(jobreg_registry_load(*reg));
	snap = take_snapshot(*reg);
	if (!job_at(snap, "good.StillHere"))
		print_load_errors(snap);
	CHECK(job_at(snap, "good.StillHere") != NULL);
	return snap;
}

/* The load error of `module` has `type` and says `said`. */
static void check_error(const jobreg_snapshot *snap, const char *module, const char *type,
                        const char *said)
{
	const jobreg_load_error *err = error_for(snap, module);

	if (!err)
		print_load_errors(snap);
	CHECK(err != NULL);
	if (!err)
		return;
	CHECK_STR(jobreg_load_error_type(err), type);
	CHECK_CONTAINS(jobreg_load_error_message(err), said);
	CHECK_CONTAINS(jobreg_load_error_file(err), module);
}

static void test_exit_abort_and_segfault_at_import_are_load_errors(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "exits.py", "import os\nos._exit(3)\n");
	jr_write(dir, "aborts.py", "import os\nos.abort()\n");
	jr_write(dir, "crashes.py", "import ctypes\nctypes.string_at(0)\n");
	jr_write(dir, "exits_zero.py", "import os\nos._exit(0)\n");
	snap = load_hostile(dir, 0, 0, &reg);
	check_error(snap, "exits", "WorkerDied", "exited with status 3");
	check_error(snap, "exits_zero", "WorkerDied", "exited with status 0");
	check_error(snap, "aborts", "WorkerDied", "killed by signal 6");
	check_error(snap, "crashes", "WorkerDied", JR_WORKER_CRASHED);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 4);
	jobreg_snapshot_free(snap);

	/* The host goes on: a reload after a change loads again. */
	jr_write(dir, "later.py", GOOD_MODULE);
	CHECK_OK(jobreg_registry_reload(reg));
	snap = take_snapshot(reg);
	CHECK(job_at(snap, "later.StillHere") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 4);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_a_module_importing_a_crashing_one_fails_too(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "zz_crashes.py", "import ctypes\nctypes.string_at(0)\n");
	jr_write(dir, "aa_imports.py", "import zz_crashes\n");
	snap = load_hostile(dir, 0, 0, &reg);
	check_error(snap, "zz_crashes", "WorkerDied", JR_WORKER_CRASHED);
	/* As in the host's process: the importer fails with what its import raised. */
	check_error(snap, "aa_imports", "WorkerDied", "importing zz_crashes");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_time_limit_holds_in_python_and_in_blocking_calls(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "spins.py", "while True:\n    pass\n");
	jr_write(dir, "sleeps.py", "import time\ntime.sleep(60)\n");
	jr_write(dir, "waits.py", "import os\nr, w = os.pipe()\nos.read(r, 1)\n");
	snap = load_hostile(dir, 300, 0, &reg);
	check_error(snap, "spins", "ImportTimeLimitExceeded", "");
	check_error(snap, "sleeps", "ImportTimeLimitExceeded", "import time limit of 0.3 s");
	check_error(snap, "waits", "ImportTimeLimitExceeded", "worker process was killed");
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_fork_threads_and_signals_at_import_stay_in_the_worker(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "forks.py",
	         "import os\n"
	         "from jobreg.jobs import Job, register_jobs\n"
	         "pid = os.fork()\n"
	         "class Forked(Job):\n"
	         "    pass\n"
	         "register_jobs(Forked)\n");
	jr_write(dir, "threads.py",
	         "import threading, time\n"
	         "threading.Thread(target=time.sleep, args=(3600,)).start()\n");
	jr_write(dir, "kills_parent.py", "import os, signal\nos.kill(os.getppid(), 0)\n");
	snap = load_hostile(dir, 0, 0, &reg);
	CHECK(job_at(snap, "forks.Forked") != NULL);
	CHECK_INT(jobreg_snapshot_job_count(snap), 2);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 0);
	jobreg_snapshot_free(snap);
	/* The worker holds a thread that never ends: freeing the registry kills it. */
	jobreg_registry_free(reg);
}

static void test_memory_limit_and_deep_recursion(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	jr_write(dir, "eats.py", "big = bytearray(2 << 30)\nbig[::4096] = b'x' * len(big[::4096])\n");
	jr_write(dir, "recurses.py", "def down(n):\n    return down(n + 1)\ndown(0)\n");
	/* repr() of a nested list recurses in C: past the recursion limit
	 * the C stack overflows. */
	jr_write(dir, "overflows.py",
	         "import sys\n"
	         "sys.setrecursionlimit(10 ** 8)\n"
	         "nested = []\n"
	         "for _ in range(10 ** 6):\n"
	         "    nested = [nested]\n"
	         "repr(nested)\n");
	snap = load_hostile(dir, 0, 512, &reg);
#if defined(__SANITIZE_THREAD__)
	/* ThreadSanitizer's own allocator dies at the address-space limit:
	 * the worker goes, the host lives. */
	check_error(snap, "eats", "WorkerDied", "");
#else
	check_error(snap, "eats", "MemoryError", "");
#endif
	check_error(snap, "recurses", "RecursionError", "");
	check_error(snap, "overflows", "WorkerDied", JR_WORKER_CRASHED_SOMEHOW);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static void test_tampering_and_alarms_are_blamed_on_their_module(void)
{
	const char *dir = jr_tmpdir();
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	/* Named to run first: every module after them must still register. */
	jr_write(dir, "a_replaces.py",
	         "import sys, types, jobreg.jobs\n"
	         "jobreg.jobs.register_jobs = lambda *classes: None\n"
	         "sys.modules['jobreg.jobs'] = types.ModuleType('jobreg.jobs')\n");
	jr_write(dir, "b_alarms.py", "import signal\nsignal.alarm(1)\n");
	jr_write(dir, "c_builtins.py", "import builtins\nbuiltins.print = None\n");
	jr_write(dir, "d_after.py", GOOD_MODULE);
	snap = load_hostile(dir, 0, 512, &reg);
	check_error(snap, "a_replaces", "TamperError", "register_jobs");
	check_error(snap, "b_alarms", "TamperError", "alarm");
	check_error(snap, "c_builtins", "TamperError", "print");
	CHECK(job_at(snap, "d_after.StillHere") != NULL);
	jobreg_snapshot_free(snap);
	/* An alarm left running would have killed the worker by now: the next
	 * load still finds it (or a new one) and the same answer. */
	sleep(1);
	CHECK_OK(jobreg_registry_load(reg));
	snap = take_snapshot(reg);
	CHECK(job_at(snap, "d_after.StillHere") != NULL);
	CHECK_INT(jobreg_snapshot_load_error_count(snap), 3);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
}

static const struct jr_test tests[] = {
	JR_TEST(exit_abort_and_segfault_at_import_are_load_errors),
	JR_TEST(a_module_importing_a_crashing_one_fails_too),
	JR_TEST(time_limit_holds_in_python_and_in_blocking_calls),
	JR_TEST(fork_threads_and_signals_at_import_stay_in_the_worker),
	JR_TEST(memory_limit_and_deep_recursion),
	JR_TEST(tampering_and_alarms_are_blamed_on_their_module),
};

JR_TEST_MAIN_WITH_LIBRARY(tests)
