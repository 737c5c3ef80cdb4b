/*
 * bench_storage.c: lookups of backend table version 3 (issue 15) at 10
 * and 10,000 records, on the in-memory, the SQLite and the PostgreSQL
 * backend, side by side: get by id, get by class path, and a run's record
 * check (resolve in the registry, then the record by class path, as
 * jobreg_run() does before it runs); and a refresh of every record with
 * nothing changed, which must write nothing.
 *
 * usage: bench_storage [ROUNDS]   (default 2100 lookups per figure)
 *
 * PostgreSQL is measured when JOBREG_BENCH_POSTGRESQL holds a conninfo
 * (the password as libpq finds it: PGPASSWORD, ~/.pgpass);
 * tools/bench-postgresql.sh runs this against a throw-away cluster. The
 * backend keeps its tables in the schema "jobreg_bench", dropped before
 * each size and at the end.
 *
 * Each lookup figure is the median and the minimum over REPEATS batches of
 * ROUNDS/REPEATS calls (microseconds per call); the refresh figure over
 * REFRESHES unchanged refreshes after a first one (milliseconds). Writes
 * are counted twice: the refresh result's (created + updated +
 * uninstalled) and, where the database can tell, the database's own:
 * for SQLite whether the file changed (PRAGMA data_version of a second
 * connection), for PostgreSQL the rows of the schema's tables written by
 * the refreshes (a newer xmin). Beside PostgreSQL's figures, a baseline
 * measured in the same run: one round trip (SELECT 1) on a connection of
 * its own. Exits 1 when a lookup fails or an unchanged refresh writes.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <jobreg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBPQ
#include <libpq-fe.h>
#endif

/* Batches per lookup figure, and unchanged refreshes after the first. */
#define REPEATS 7
#define REFRESHES 7
#define PG_SCHEMA "jobreg_bench"

enum {
	MEMORY,
	SQLITE,
	POSTGRESQL,
	BACKENDS
};
enum {
	BY_ID,
	BY_CLASS,
	CHECK,
	REFRESH,
	FIGURES
};

static const char *const backend_names[BACKENDS] = { "memory", "sqlite", "postgresql" };
static const char *const figure_names[FIGURES] = {
	"get by id (us)",
	"get by class path (us)",
	"run's record check (us)",
	"unchanged refresh (ms)",
};
static const int sizes[] = { 10, 10000 };
#define SIZES (sizeof(sizes) / sizeof(sizes[0]))

/* One cell of the table: median and minimum, or not measured. */
struct cell {
	int done;
	double median, min;
};

struct result {
	struct cell fig[FIGURES];
	double first_refresh;     /* ms: the first refresh of the unchanged set */
	size_t result_writes;     /* summed over every unchanged refresh */
	long long db_writes;      /* -1: the database cannot tell */
	const char *db_writes_of; /* what db_writes counts */
};

static struct result results[SIZES][BACKENDS];
/* us: one libpq round trip (SELECT 1), what a PostgreSQL lookup costs at least. */
static struct cell pg_round_trip;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_storage: %s: %s\n", what, jobreg_error_last()->message);
	exit(2);
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct cell summarize(double *v, int n, double scale)
{
	struct cell c = { 1, 0, 0 };

	qsort(v, (size_t)n, sizeof(*v), compare_double);
	c.median = (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) * scale;
	c.min = v[0] * scale;
	return c;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* `jobs` jobs in modules of at most 100. */
static void write_tree(const char *dir, int jobs)
{
	int m, j;

	for (m = 0; m * 100 < jobs; m++) {
		char path[4400];
		int n = jobs - m * 100 < 100 ? jobs - m * 100 : 100;
		FILE *f;

		snprintf(path, sizeof(path), "%s/bench_mod_%03d.py", dir, m);
		if (!(f = fopen(path, "w"))) {
			perror(path);
			exit(2);
		}
		fprintf(f, "from jobreg.jobs import Job, register_jobs\n\n");
		for (j = 0; j < n; j++)
			fprintf(f, "class Job%d(Job):\n    class Meta:\n        name = 'Job %d.%d'\n\n", j, m,
			        j);
		fprintf(f, "register_jobs(");
		for (j = 0; j < n; j++)
			fprintf(f, "%sJob%d", j ? ", " : "", j);
		fprintf(f, ")\n");
		if (fclose(f) != 0) {
			perror(path);
			exit(2);
		}
	}
}

/* ---- what the database itself says was written ---- */

/* SQLite: a second connection's data_version changes when another
 * connection committed a change to the file. */
static sqlite3 *sqlite_watch_open(const char *db)
{
	sqlite3 *watch = NULL;

	if (sqlite3_open_v2(db, &watch, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_storage: %s: %s\n", db, watch ? sqlite3_errmsg(watch) : "no memory");
		exit(2);
	}
	return watch;
}

static long long sqlite_data_version(sqlite3 *watch)
{
	sqlite3_stmt *stmt = NULL;
	long long v;

	if (sqlite3_prepare_v2(watch, "PRAGMA data_version", -1, &stmt, NULL) != SQLITE_OK ||
	    sqlite3_step(stmt) != SQLITE_ROW) {
		fprintf(stderr, "bench_storage: PRAGMA data_version: %s\n", sqlite3_errmsg(watch));
		exit(2);
	}
	v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

#ifdef HAVE_LIBPQ
static PGconn *pg_watch;

/* The first row's first value of `sql`, or "" for a command. */
static const char *pg_exec(const char *sql, char *value, size_t size)
{
	PGresult *res = PQexec(pg_watch, sql);
	ExecStatusType status = PQresultStatus(res);

	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_storage: postgresql: %s: %s", sql, PQerrorMessage(pg_watch));
		PQclear(res);
		exit(2);
	}
	snprintf(value, size, "%s",
	         status == PGRES_TUPLES_OK && PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return value;
}

static void pg_drop_schema(void)
{
	char v[64];

	pg_exec("SET client_min_messages = warning", v, sizeof(v));
	pg_exec("DROP SCHEMA IF EXISTS " PG_SCHEMA " CASCADE", v, sizeof(v));
}

/* A transaction id: every row written after this has a newer xmin (a fresh
 * cluster is far from xid wrap-around). */
static long long pg_mark(void)
{
	char v[64];

	return atoll(pg_exec("SELECT txid_current() % 4294967296", v, sizeof(v)));
}

/* Rows of every table of the schema written (inserted or updated) after `mark`. */
static long long pg_rows_written_since(long long mark)
{
	char sql[1024], v[64];
	long long rows = 0;
	PGresult *tables = PQexec(pg_watch, "SELECT quote_ident(table_name) FROM "
	                                    "information_schema.tables WHERE table_schema = '" PG_SCHEMA
	                                    "' AND table_type = 'BASE TABLE'");
	int i;

	if (PQresultStatus(tables) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bench_storage: postgresql: the tables of %s: %s", PG_SCHEMA,
		        PQerrorMessage(pg_watch));
		exit(2);
	}
	for (i = 0; i < PQntuples(tables); i++) {
		snprintf(sql, sizeof(sql),
		         "SELECT count(*) FROM " PG_SCHEMA ".%s WHERE xmin::text::bigint > %lld",
		         PQgetvalue(tables, i, 0), mark);
		rows += atoll(pg_exec(sql, v, sizeof(v)));
	}
	PQclear(tables);
	return rows;
}

static void pg_measure_round_trip(int rounds)
{
	double times[REPEATS];
	int b, r, batch = rounds / REPEATS > 0 ? rounds / REPEATS : 1;
	char v[64];

	for (b = 0; b < REPEATS; b++) {
		double t0 = now();

		for (r = 0; r < batch; r++)
			pg_exec("SELECT 1", v, sizeof(v));
		times[b] = (now() - t0) / batch;
	}
	pg_round_trip = summarize(times, REPEATS, 1e6);
}
#endif

/* ---- one backend at one size ---- */

static void lookups(struct result *out, jobreg_storage *st, jobreg_registry *reg, const char *id,
                    const char *path, int rounds)
{
	double times[REPEATS];
	jobreg_record *rec = NULL;
	int f, b, r, batch = rounds / REPEATS > 0 ? rounds / REPEATS : 1;

	for (f = BY_ID; f <= CHECK; f++) {
		for (b = 0; b < REPEATS; b++) {
			double t0 = now();

			for (r = 0; r < batch; r++) {
				jobreg_job *job = NULL;

				if (f == BY_ID && jobreg_storage_get(&rec, st, id) < 0)
					die("get by id");
				if (f == BY_CLASS && jobreg_storage_get(&rec, st, path) < 0)
					die("get by class path");
				/* What jobreg_run() does before it runs (src/run.c). */
				if (f == CHECK && (jobreg_registry_resolve(&job, reg, path) < 0 ||
				                   jobreg_storage_get(&rec, st, jobreg_job_class_path(job)) < 0))
					die("record check");
				jobreg_record_free(rec);
				rec = NULL;
				jobreg_job_free(job);
			}
			times[b] = (now() - t0) / batch;
		}
		out->fig[f] = summarize(times, REPEATS, 1e6);
	}
}

static void bench(int size, int backend, jobreg_storage *st, jobreg_registry *reg,
                  const jobreg_snapshot *snap, int rounds, const char *sqlite_db, int *failures)
{
	struct result *out = &results[size][backend];
	size_t count = jobreg_snapshot_job_count(snap);
	const char *path = jobreg_job_class_path(jobreg_snapshot_job(snap, count - 1));
	jobreg_refresh_result *res = NULL;
	jobreg_record *rec = NULL;
	double times[REFRESHES];
	sqlite3 *watch = NULL;
	long long mark = 0;
	char id[64];
	int r;

	/* The records, created. */
	if (jobreg_refresh(&res, st, snap, NULL) < 0)
		die("refresh");
	if (jobreg_refresh_result_created_count(res) != count) {
		fprintf(stderr, "bench_storage: %s: the first refresh created %zu records of %zu\n",
		        backend_names[backend], jobreg_refresh_result_created_count(res), count);
		(*failures)++;
	}
	jobreg_refresh_result_free(res);
	if (jobreg_storage_get(&rec, st, path) < 0)
		die(path);
	snprintf(id, sizeof(id), "%s", jobreg_record_text(rec, JOBREG_FIELD_ID));
	jobreg_record_free(rec);

	lookups(out, st, reg, id, path, rounds);

	out->db_writes = -1;
	if (backend == SQLITE) {
		watch = sqlite_watch_open(sqlite_db);
		sqlite_data_version(watch); /* the baseline of this connection */
		out->db_writes_of = "refreshes that changed the file";
	}
#ifdef HAVE_LIBPQ
	if (backend == POSTGRESQL) {
		mark = pg_mark();
		out->db_writes_of = "rows written";
	}
#endif
	for (r = 0; r <= REFRESHES; r++) {
		long long before = watch ? sqlite_data_version(watch) : 0;
		double t0 = now(), took;

		if (jobreg_refresh(&res, st, snap, NULL) < 0)
			die("refresh");
		took = now() - t0;
		if (r == 0)
			out->first_refresh = took * 1e3;
		else
			times[r - 1] = took;
		out->result_writes += jobreg_refresh_result_writes(res);
		jobreg_refresh_result_free(res);
		if (watch)
			out->db_writes = (out->db_writes < 0 ? 0 : out->db_writes) +
			                 (sqlite_data_version(watch) != before);
	}
	out->fig[REFRESH] = summarize(times, REFRESHES, 1e3);
#ifdef HAVE_LIBPQ
	if (backend == POSTGRESQL)
		out->db_writes = pg_rows_written_since(mark);
#endif
	sqlite3_close(watch);
	if (out->result_writes || out->db_writes > 0) {
		fprintf(stderr,
		        "bench_storage: %s, %zu records: unchanged refreshes wrote (result: %zu, "
		        "database: %lld %s)\n",
		        backend_names[backend], count, out->result_writes, out->db_writes,
		        out->db_writes_of);
		(*failures)++;
	}
}

static void print_table(int have_pg)
{
	size_t s;
	int f, b, backends = have_pg ? BACKENDS : POSTGRESQL;

	printf("\n%-26s %7s", "median / min", "records");
	for (b = 0; b < backends; b++)
		printf("  %21s", backend_names[b]);
	printf("\n");
	for (f = 0; f < FIGURES; f++)
		for (s = 0; s < SIZES; s++) {
			printf("%-26s %7d", figure_names[f], sizes[s]);
			for (b = 0; b < backends; b++) {
				const struct cell *c = &results[s][b].fig[f];
				printf("  %10.3f /%9.3f", c->median, c->min);
			}
			printf("\n");
		}
	for (s = 0; s < SIZES; s++) {
		printf("%-26s %7d", "first unchanged (ms)", sizes[s]);
		for (b = 0; b < backends; b++)
			printf("  %21.3f", results[s][b].first_refresh);
		printf("\n");
	}
	for (s = 0; s < SIZES; s++) {
		printf("%-26s %7d", "writes: result / database", sizes[s]);
		for (b = 0; b < backends; b++) {
			char db[32] = "-";

			if (results[s][b].db_writes >= 0)
				snprintf(db, sizeof(db), "%lld", results[s][b].db_writes);
			printf("  %10zu / %8s", results[s][b].result_writes, db);
		}
		printf("\n");
	}
	if (have_pg)
		printf("%-26s %7s  %21s  %21s  %10.3f /%9.3f\n", "postgresql round trip (us)", "-", "", "",
		       pg_round_trip.median, pg_round_trip.min);
	printf("\nLookups: %d batches each; refresh: %d unchanged refreshes after a first one "
	       "(writes summed over all %d).\n"
	       "PostgreSQL round trip: one SELECT 1 over the same kind of connection (a baseline).\n"
	       "Database writes: sqlite, refreshes that changed the file (PRAGMA data_version); "
	       "postgresql, rows of schema %s written (newer xmin).\n"
	       "Targets (issue 15): sqlite lookups flat and under 0.1 ms; sqlite unchanged refresh of "
	       "10,000 under 20 ms with 0 writes.\n",
	       REPEATS, REFRESHES, REFRESHES + 1, PG_SCHEMA);
}

int main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *conninfo = getenv("JOBREG_BENCH_POSTGRESQL");
	int rounds = argc > 1 ? atoi(argv[1]) : 2100, failures = 0, have_pg = 0;
	char root[4096];
	size_t s;

	if (rounds < 1) {
		fprintf(stderr, "usage: bench_storage [ROUNDS >= 1]\n");
		return 2;
	}
	if (jobreg_init(NULL) < 0)
		die("init");
	if (!conninfo || !*conninfo) {
		printf("postgresql: skipped (JOBREG_BENCH_POSTGRESQL not set; "
		       "tools/bench-postgresql.sh starts a server and sets it)\n");
	} else {
#ifdef HAVE_LIBPQ
		pg_watch = PQconnectdb(conninfo);
		if (PQstatus(pg_watch) != CONNECTION_OK) {
			/* libpq's message names host and port, never the password. */
			fprintf(stderr, "bench_storage: JOBREG_BENCH_POSTGRESQL: %s", PQerrorMessage(pg_watch));
			PQfinish(pg_watch);
			return 2;
		}
		have_pg = 1;
#else
		printf("postgresql: skipped (this build has no libpq: meson -Dpostgresql=enabled)\n");
#endif
	}
	for (s = 0; s < SIZES; s++) {
		char jobs_dir[4200], db[4200];
		jobreg_registry *reg = NULL;
		jobreg_source *src = NULL;
		jobreg_snapshot *snap = NULL;
		jobreg_storage *st = NULL;

		snprintf(root, sizeof(root), "%s/jobreg-bench-XXXXXX", tmp);
		if (!mkdtemp(root)) {
			perror("mkdtemp");
			return 2;
		}
		snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs", root);
		snprintf(db, sizeof(db), "%s/jobreg.db", root);
		if (mkdir(jobs_dir, 0755) < 0) {
			perror(jobs_dir);
			return 2;
		}
		write_tree(jobs_dir, sizes[s]);
		if (jobreg_registry_new(&reg, NULL) < 0 || jobreg_source_dir_new(&src, jobs_dir) < 0 ||
		    jobreg_registry_add_source(reg, src) < 0 || jobreg_registry_load(reg) < 0 ||
		    jobreg_registry_snapshot(&snap, reg) < 0)
			die("load");
		if (jobreg_storage_memory_new(&st) < 0)
			die("memory storage");
		bench((int)s, MEMORY, st, reg, snap, rounds, NULL, &failures);
		jobreg_storage_free(st);
		if (jobreg_storage_sqlite_open(&st, db, NULL) < 0)
			die("sqlite storage");
		bench((int)s, SQLITE, st, reg, snap, rounds, db, &failures);
		jobreg_storage_free(st);
#ifdef HAVE_LIBPQ
		if (have_pg) {
			jobreg_storage_postgresql_options opts = JOBREG_STORAGE_POSTGRESQL_OPTIONS_INIT;

			opts.schema = PG_SCHEMA;
			pg_drop_schema();
			if (jobreg_storage_postgresql_new(&st, conninfo, &opts) < 0)
				die("postgresql storage");
			bench((int)s, POSTGRESQL, st, reg, snap, rounds, NULL, &failures);
			jobreg_storage_free(st);
		}
#endif
		jobreg_snapshot_free(snap);
		jobreg_registry_free(reg);
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
#ifdef HAVE_LIBPQ
	if (have_pg) {
		pg_measure_round_trip(rounds);
		pg_drop_schema();
		PQfinish(pg_watch);
	}
#endif
	print_table(have_pg);
	jobreg_shutdown();
	return failures ? 1 : 0;
}
