/*
 * old_host.c: a host written against the headers of release 0.1
 * (tests/abi/release-0.1/include, frozen copies) that must keep working
 * with every later library: version-1 option structs throughout and a
 * version-1 storage backend of its own. It loads a jobs root, refreshes the
 * records into its backend, enables a job and runs it.
 *
 * usage: old_host  (prints "N passed, N failed")
 */
#include <jobreg.h>
#include <jobreg/sys/storage.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures, checks;

#define EXPECT(cond)                                                           \
	do {                                                                       \
		checks++;                                                              \
		if (!(cond)) {                                                         \
			failures++;                                                        \
			fprintf(stderr, "%s:%d: %s failed (last error: %s)\n", __FILE__,   \
			        __LINE__, #cond, jobreg_error_last()->message);            \
		}                                                                      \
	} while (0)

/* A version-1 backend: records kept as copies in an array, no git state. */
struct store {
	jobreg_record *records[64];
	int count;
	int writes;
};

static int find(struct store *s, const char *id)
{
	int i;
	for (i = 0; i < s->count; i++)
		if (strcmp(jobreg_record_text(s->records[i], JOBREG_FIELD_ID), id) == 0)
			return i;
	return -1;
}

static int begin(unsigned int flags, void *payload) { (void)flags; (void)payload; return 0; }
static int commit(void *payload) { (void)payload; return 0; }
static int rollback(void *payload) { (void)payload; return 0; }

static int read_records(jobreg_storage_emit_fn emit, void *emit_payload, void *payload)
{
	struct store *s = payload;
	int i, rc;

	for (i = 0; i < s->count; i++) {
		jobreg_record *copy = NULL;
		if ((rc = jobreg_record_dup(&copy, s->records[i])) < 0 || (rc = emit(copy, emit_payload)) != 0)
			return rc;
	}
	return 0;
}

static int write_record(const jobreg_record *rec, void *payload)
{
	struct store *s = payload;
	jobreg_record *copy = NULL;
	int at = find(s, jobreg_record_text(rec, JOBREG_FIELD_ID)), rc;

	if ((rc = jobreg_record_dup(&copy, rec)) < 0)
		return rc;
	if (at < 0) {
		if (s->count == 64)
			return JOBREG_ESTORAGE;
		at = s->count++;
	} else {
		jobreg_record_free(s->records[at]);
	}
	s->records[at] = copy;
	s->writes++;
	return 0;
}

static int delete_record(const char *id, void *payload)
{
	struct store *s = payload;
	int at = find(s, id);

	if (at >= 0) {
		jobreg_record_free(s->records[at]);
		s->records[at] = s->records[--s->count];
	}
	return 0;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

int main(void)
{
	static const jobreg_storage_backend backend = {
		1, begin, commit, rollback, read_records, write_record, delete_record, NULL, NULL, NULL,
	};
	jobreg_init_options init = { 1, NULL, 0, JOBREG_COMPAT_AUTO };
	jobreg_registry_options ropts = { 1, 0 };
	jobreg_run_options run = { 1, "{\"who\": \"old host\"}", NULL, NULL };
	jobreg_refresh_options refresh = { 1, 0, NULL };
	char tmp[] = "/tmp/jobreg-old-host-XXXXXX", cmd[64];
	struct store store;
	jobreg_registry *reg = NULL;
	jobreg_source *src = NULL;
	jobreg_snapshot *snap = NULL;
	jobreg_storage *st = NULL;
	jobreg_record *rec = NULL;
	jobreg_run_result *res = NULL;
	int i;

	memset(&store, 0, sizeof(store));
	setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
	EXPECT(mkdtemp(tmp) != NULL);
	write_file(tmp, "greeting.py",
	           "from jobreg.jobs import Job, register_jobs, StringVar\n"
	           "class Greet(Job):\n"
	           "    who = StringVar()\n"
	           "    def run(self, who):\n"
	           "        return 'hello ' + who\n"
	           "register_jobs(Greet)\n");

	EXPECT(jobreg_init(&init) == 1);
	EXPECT(jobreg_registry_new(&reg, &ropts) == 0);
	EXPECT(jobreg_source_dir_new(&src, tmp) == 0);
	EXPECT(jobreg_registry_add_source(reg, src) == 0);
	EXPECT(jobreg_registry_load(reg) == 0);
	EXPECT(jobreg_registry_snapshot(&snap, reg) == 0);
	EXPECT(jobreg_snapshot_job_count(snap) == 1);

	EXPECT(jobreg_storage_new(&st, &backend, &store) == 0);
	EXPECT(jobreg_refresh(NULL, st, snap, &refresh) == 0);
	EXPECT(store.count == 1 && store.writes == 1);
	EXPECT(jobreg_refresh(NULL, st, snap, &refresh) == 0);
	EXPECT(store.writes == 1); /* nothing changed: nothing written */

	EXPECT(jobreg_storage_get(&rec, st, "greeting.Greet") == 0);
	if (rec) {
		EXPECT(jobreg_storage_set_enabled(st, jobreg_record_text(rec, JOBREG_FIELD_ID), 1) == 0);
		jobreg_record_free(rec);
	}
	EXPECT(jobreg_run(&res, reg, st, "greeting.Greet", &run) == 0);
	if (res) {
		EXPECT(jobreg_run_result_status(res) == JOBREG_RUN_SUCCESS);
		EXPECT(strcmp(jobreg_run_result_json(res), "\"hello old host\"") == 0);
		jobreg_run_result_free(res);
	}

	jobreg_storage_free(st);
	jobreg_snapshot_free(snap);
	jobreg_registry_free(reg);
	EXPECT(jobreg_shutdown() == 0);
	for (i = 0; i < store.count; i++)
		jobreg_record_free(store.records[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		failures++;
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
