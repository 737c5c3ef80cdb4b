/*
 * test_compat_mode.c: Nautobot 1.x jobs, opt-in (SPEC 2): the global mode of
 * jobreg_init(), each source's own mode, what the Python loader is told
 * before every load, and the reloads and syncs that a switch brings.
 *
 * The library is started and shut down by each test, with the global mode
 * the test needs. A probe module writes, every time its body runs, the
 * `nautobot_1x` attribute of the loader object that is importing it (found
 * on the call stack), so that one log shows both that the source was
 * imported and in which mode.
 */
#include <stdlib.h>
#include <unistd.h>

#include "loadutil.h"
#include "records_fixture.h"

#define JOB_MODULE(cls)                              \
	"from jobreg.jobs import Job, register_jobs\n\n" \
	"class " cls "(Job):\n"                          \
	"    pass\n\n"                                   \
	"register_jobs(" cls ")\n"

static char log_path[4096];

static void start(int global_mode)
{
	jobreg_init_options opts = JOBREG_INIT_OPTIONS_INIT;

	opts.nautobot_compat = global_mode;
	CHECK_INT(jobreg_init(&opts), 1);
}

static void stop(void)
{
	CHECK_INT(jobreg_shutdown(), 0);
}

/* A jobs root with one registered job and the probe; the log is fresh. */
static const char *make_root(void)
{
	const char *dir = jr_tmpdir();
	char probe[8192];

	snprintf(log_path, sizeof(log_path), "%s/imports.log", jr_tmpdir());
	snprintf(probe, sizeof(probe),
	         "import sys\n"
	         "_frame, _mode = sys._getframe(), 'no loader on the stack'\n"
	         "while _frame is not None:\n"
	         "    _self = _frame.f_locals.get('self')\n"
	         "    if type(_self).__module__ == 'jobreg._loader' and hasattr(_self, 'load'):\n"
	         "        _mode = getattr(_self, 'nautobot_1x', 'not set')\n"
	         "        break\n"
	         "    _frame = _frame.f_back\n"
	         "del _frame, _self\n"
	         "with open('%s', 'a') as _log:\n"
	         "    _log.write(f'{_mode}\\n')\n",
	         log_path);
	jr_write(dir, "probe.py", probe);
	jr_write(dir, "alpha.py", JOB_MODULE("Alpha"));
	return dir;
}

/* What the probe wrote since the last call ("" when it did not run). */
static const char *read_log(void)
{
	static char buf[8192];
	FILE *f = fopen(log_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
	unlink(log_path);
	return buf;
}

static jobreg_source *only_source(jobreg_registry *reg)
{
	return jobreg_registry_source(reg, 0);
}

/* ---- the API ---------------------------------------------------------- */

static void test_the_modes_keep_their_numbers(void)
{
	CHECK_INT(JOBREG_COMPAT_OFF, 0);
	CHECK_INT(JOBREG_COMPAT_AUTO, 1);
	CHECK_INT(JOBREG_COMPAT_1X, 2);
	CHECK_INT(JOBREG_COMPAT_DEFAULT, -1);
}

static void test_every_kind_of_source_starts_as_jobreg_init_said(void)
{
	jobreg_git_options git = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *dir = NULL, *app = NULL, *repo = NULL;

	start(JOBREG_COMPAT_AUTO); /* a git slug is checked by Python */
	git.slug = "my_repo";
	git.remote_url = "https://example.invalid/my_repo.git";
	git.git_root = jr_tmpdir();
	CHECK_OK(jobreg_source_dir_new(&dir, jr_tmpdir()));
	CHECK_OK(jobreg_source_app_new(&app, "my_app"));
	CHECK_OK(jobreg_source_git_new(&repo, &git));
	CHECK_INT(jobreg_source_nautobot_compat(dir), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_source_nautobot_compat(app), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_source_nautobot_compat(repo), JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_source_nautobot_compat(NULL), JOBREG_COMPAT_DEFAULT);
	CHECK_OK(jobreg_source_set_nautobot_compat(repo, JOBREG_COMPAT_1X));
	CHECK_INT(jobreg_source_nautobot_compat(repo), JOBREG_COMPAT_1X);
	jobreg_source_free(dir);
	jobreg_source_free(app);
	jobreg_source_free(repo);
	stop();
}

static void test_set_takes_the_three_modes_and_refuses_the_rest(void)
{
	static const int refused[] = { JOBREG_COMPAT_OFF, 3, -2, 1000 };
	jobreg_source *src = NULL;
	size_t i;

	CHECK_OK(jobreg_source_dir_new(&src, jr_tmpdir()));
	CHECK_OK(jobreg_source_set_nautobot_compat(src, JOBREG_COMPAT_1X));
	CHECK_INT(jobreg_source_nautobot_compat(src), JOBREG_COMPAT_1X);
	CHECK_OK(jobreg_source_set_nautobot_compat(src, JOBREG_COMPAT_AUTO));
	CHECK_INT(jobreg_source_nautobot_compat(src), JOBREG_COMPAT_AUTO);
	CHECK_OK(jobreg_source_set_nautobot_compat(src, JOBREG_COMPAT_DEFAULT));
	CHECK_INT(jobreg_source_nautobot_compat(src), JOBREG_COMPAT_DEFAULT);
	CHECK_OK(jobreg_source_set_nautobot_compat(src, JOBREG_COMPAT_1X));
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char number[32];

		CHECK_INT(jobreg_source_set_nautobot_compat(src, refused[i]), JOBREG_EINVAL);
		CHECK_INT(jobreg_error_last()->code, JOBREG_EINVAL);
		snprintf(number, sizeof(number), " %d ", refused[i]);
		CHECK_CONTAINS(jobreg_error_last()->message, number);
		/* A refused mode leaves the one set before. */
		CHECK_INT(jobreg_source_nautobot_compat(src), JOBREG_COMPAT_1X);
	}
	CHECK_INT(jobreg_source_set_nautobot_compat(NULL, JOBREG_COMPAT_1X), JOBREG_EINVAL);
	jobreg_source_free(src);
}

/* ---- what the loader is told ------------------------------------------ */

static void test_the_loader_is_told_each_loads_mode(void)
{
	const char *dir;
	jobreg_registry *reg;

	start(JOBREG_COMPAT_AUTO);
	dir = make_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_1X));
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "True\n");
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_AUTO));
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	jobreg_registry_free(reg);
	stop();
}

static void test_a_global_1x_is_the_mode_of_sources_without_their_own(void)
{
	const char *dir;
	jobreg_registry *reg;

	start(JOBREG_COMPAT_1X);
	dir = make_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "True\n");
	/* Only the first jobreg_init() chooses. */
	CHECK_INT(jobreg_init(NULL), 2);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "True\n");
	CHECK_INT(jobreg_shutdown(), 1);
	/* A source's own mode wins over the global one. */
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_AUTO));
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_1X));
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "True\n");
	jobreg_registry_free(reg);
	stop();

	/* The next start-up chooses again. */
	start(JOBREG_COMPAT_AUTO);
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	jobreg_registry_free(reg);
	stop();
}

static void test_compat_off_registers_2x_jobs(void)
{
	const char *dir;
	jobreg_registry *reg;

	start(JOBREG_COMPAT_OFF);
	dir = make_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	jobreg_registry_free(reg);
	stop();
}

/* ---- reloads and syncs after a switch --------------------------------- */

static void test_switching_the_mode_makes_the_next_reload_import_again(void)
{
	const char *dir;
	jobreg_registry *reg;
	jobreg_snapshot *snap;

	start(JOBREG_COMPAT_AUTO);
	dir = make_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(read_log(), "False\n");
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "");

	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_1X));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "True\n");
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 2);
	CHECK(job_at(snap, "alpha.Alpha") != NULL);
	jobreg_snapshot_free(snap);
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "");

	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_AUTO));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "False\n");
	/* DEFAULT under a 2.x jobreg_init() is the mode it was imported in. */
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_DEFAULT));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(read_log(), "");
	snap = take_snapshot(reg);
	CHECK_INT(jobreg_snapshot_generation(snap), 3);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	stop();
}

/* One sync of `dir` into `st` by a new registry whose source has `mode`. */
static jobreg_refresh_result *sync_in_mode(const char *dir, jobreg_storage *st, int mode)
{
	jobreg_registry *reg = jobs_root_registry(dir, 0);
	jobreg_refresh_result *res = NULL;

	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), mode));
	CHECK_OK(jobreg_registry_sync(&res, reg, st, NULL));
	jobreg_registry_free(reg);
	return res;
}

static size_t skipped(jobreg_refresh_result *res)
{
	size_t n = res ? jobreg_refresh_result_skipped_count(res) : 99;

	jobreg_refresh_result_free(res);
	return n;
}

static void test_switching_the_mode_makes_the_next_sync_import_again(void)
{
	const char *dir, *db;
	jobreg_storage *st = NULL;
	const char *state_query = "SELECT state FROM jobreg_source_state";

	start(JOBREG_COMPAT_AUTO);
	dir = make_root();
	db = jr_path(jr_tmpdir(), "jobreg.db");
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_DEFAULT)), 0);
	CHECK_STR(read_log(), "False\n");
	CHECK_CONTAINS(sql_query(db, state_query), " nautobot=2.x ");
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_DEFAULT)), 1);
	CHECK_STR(read_log(), "");

	/* Switched to 1.x: not skipped though no file changed. */
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_1X)), 0);
	CHECK_STR(read_log(), "True\n");
	CHECK_CONTAINS(sql_query(db, state_query), " nautobot=1.x ");
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_1X)), 1);
	CHECK_STR(read_log(), "");

	/* And back: 2.x, whether set or the default of jobreg_init(). */
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_AUTO)), 0);
	CHECK_STR(read_log(), "False\n");
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_DEFAULT)), 1);
	CHECK_STR(read_log(), "");
	CHECK_INT(count_records(st, JOBREG_INSTALLED_YES), 1);
	jobreg_storage_free(st);
	stop();
}

static void test_a_sync_under_a_global_1x_stores_1x(void)
{
	const char *dir, *db;
	jobreg_storage *st = NULL;

	start(JOBREG_COMPAT_1X);
	dir = make_root();
	db = jr_path(jr_tmpdir(), "jobreg.db");
	CHECK_OK(jobreg_storage_sqlite_open(&st, db, NULL));
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_DEFAULT)), 0);
	CHECK_STR(read_log(), "True\n");
	CHECK_CONTAINS(sql_query(db, "SELECT state FROM jobreg_source_state"), " nautobot=1.x ");
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_1X)), 1);
	CHECK_INT(skipped(sync_in_mode(dir, st, JOBREG_COMPAT_AUTO)), 0);
	CHECK_STR(read_log(), "False\n");
	jobreg_storage_free(st);
	stop();
}

/* ---- Nautobot 1.x jobs, end to end (the Python loader reads the mode) -- */

/*
 * A jobs root in both styles: `legacy` defines a 1.x job (no register_jobs),
 * `listed` names its jobs in a `jobs` list (and defines one it leaves out),
 * `modern` registers with register_jobs.
 */
static const char *make_mixed_root(void)
{
	const char *dir = jr_tmpdir();

	jr_write(dir, "legacy.py",
	         "from nautobot.extras.jobs import Job\n\n"
	         "class LegacyJob(Job):\n"
	         "    class Meta:\n"
	         "        name = 'Legacy'\n\n"
	         "    def run(self, data, commit):\n"
	         "        pass\n");
	jr_write(dir, "listed.py",
	         "from nautobot.extras.jobs import Job\n\n"
	         "class Listed(Job):\n"
	         "    pass\n\n"
	         "class LeftOut(Job):\n"
	         "    pass\n\n"
	         "jobs = [Listed]\n");
	jr_write(dir, "modern.py", JOB_MODULE("Modern"));
	return dir;
}

/* The class paths of the snapshot's jobs, joined by spaces (static). */
static const char *class_paths(jobreg_registry *reg)
{
	static char text[4096];
	jobreg_snapshot *snap = take_snapshot(reg);
	size_t i, n = 0;

	text[0] = '\0';
	for (i = 0; snap && i < jobreg_snapshot_job_count(snap); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i ? " " : "",
		                      jobreg_job_class_path(jobreg_snapshot_job(snap, i)));
	if (snap && jobreg_snapshot_load_error_count(snap))
		print_load_errors(snap);
	jobreg_snapshot_free(snap);
	return text;
}

static void test_a_job_without_register_jobs_is_a_job_only_in_1x_mode(void)
{
	const char *dir;
	jobreg_registry *reg;

	start(JOBREG_COMPAT_AUTO);
	dir = make_mixed_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(class_paths(reg), "modern.Modern");

	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_1X));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(class_paths(reg), "legacy.LegacyJob listed.Listed modern.Modern");

	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_AUTO));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(class_paths(reg), "modern.Modern");
	jobreg_registry_free(reg);
	stop();
}

static void test_a_global_1x_registers_1x_jobs_unless_the_source_says_2x(void)
{
	const char *dir;
	jobreg_registry *reg;

	start(JOBREG_COMPAT_1X);
	dir = make_mixed_root();
	reg = jobs_root_registry(dir, 0);
	CHECK_OK(jobreg_registry_load(reg));
	CHECK_STR(class_paths(reg), "legacy.LegacyJob listed.Listed modern.Modern");
	CHECK_OK(jobreg_source_set_nautobot_compat(only_source(reg), JOBREG_COMPAT_AUTO));
	CHECK_OK(jobreg_registry_reload(reg));
	CHECK_STR(class_paths(reg), "modern.Modern");
	jobreg_registry_free(reg);
	stop();
}

static void test_a_sync_after_switching_to_1x_creates_the_1x_records(void)
{
	const char *dir;
	jobreg_storage *st = NULL;
	jobreg_refresh_result *res;

	start(JOBREG_COMPAT_AUTO);
	dir = make_mixed_root();
	CHECK_OK(jobreg_storage_memory_new(&st));
	res = sync_in_mode(dir, st, JOBREG_COMPAT_DEFAULT);
	CHECK_INT(jobreg_refresh_result_created_count(res), 1);
	jobreg_refresh_result_free(res);
	res = sync_in_mode(dir, st, JOBREG_COMPAT_1X);
	CHECK_INT(jobreg_refresh_result_skipped_count(res), 0);
	CHECK_INT(jobreg_refresh_result_created_count(res), 2);
	jobreg_refresh_result_free(res);
	CHECK_STR(text_of(st, "legacy.LegacyJob", JOBREG_FIELD_NAME), "Legacy");
	CHECK_INT(count_records(st, JOBREG_INSTALLED_YES), 3);
	/* Back to 2.x: the 1.x jobs are uninstalled. */
	res = sync_in_mode(dir, st, JOBREG_COMPAT_AUTO);
	CHECK_INT(jobreg_refresh_result_uninstalled_count(res), 2);
	jobreg_refresh_result_free(res);
	CHECK_INT(count_records(st, JOBREG_INSTALLED_YES), 1);
	jobreg_storage_free(st);
	stop();
}

static const struct jr_test tests[] = {
	{ "the_modes_keep_their_numbers", test_the_modes_keep_their_numbers },
	{ "every_kind_of_source_starts_as_jobreg_init_said",
	  test_every_kind_of_source_starts_as_jobreg_init_said },
	{ "set_takes_the_three_modes_and_refuses_the_rest",
	  test_set_takes_the_three_modes_and_refuses_the_rest },
	{ "the_loader_is_told_each_loads_mode", test_the_loader_is_told_each_loads_mode },
	{ "a_global_1x_is_the_mode_of_sources_without_their_own",
	  test_a_global_1x_is_the_mode_of_sources_without_their_own },
	{ "compat_off_registers_2x_jobs", test_compat_off_registers_2x_jobs },
	{ "switching_the_mode_makes_the_next_reload_import_again",
	  test_switching_the_mode_makes_the_next_reload_import_again },
	{ "switching_the_mode_makes_the_next_sync_import_again",
	  test_switching_the_mode_makes_the_next_sync_import_again },
	{ "a_sync_under_a_global_1x_stores_1x", test_a_sync_under_a_global_1x_stores_1x },
	{ "a_job_without_register_jobs_is_a_job_only_in_1x_mode",
	  test_a_job_without_register_jobs_is_a_job_only_in_1x_mode },
	{ "a_global_1x_registers_1x_jobs_unless_the_source_says_2x",
	  test_a_global_1x_registers_1x_jobs_unless_the_source_says_2x },
	{ "a_sync_after_switching_to_1x_creates_the_1x_records",
	  test_a_sync_after_switching_to_1x_creates_the_1x_records },
};

JR_TEST_MAIN(tests)
