/*
 * gitutil.h: fixtures for the tests of git sources (header-only).
 *
 * Upstream repositories are made with the git command in temporary
 * folders; servers (tests/git/serve.py) run on 127.0.0.1 on ports the
 * kernel picks, and stop when the test stops them or the test dies (they
 * exit when their standard input closes).
 */
#ifndef JR_GITUTIL_H
#define JR_GITUTIL_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jobreg.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../c/harness.h"

#ifndef PYTHON_FOR_TESTS
#define PYTHON_FOR_TESTS "/usr/bin/python3"
#endif

/* git with a fixed identity and no user or system configuration. */
static inline void git_test_env(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	setenv("HOME", jr_tmpdir(), 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_AUTHOR_NAME", "Test Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "author@example.invalid", 1);
	setenv("GIT_COMMITTER_NAME", "Test Author", 1);
	setenv("GIT_COMMITTER_EMAIL", "author@example.invalid", 1);
	setenv("GIT_TERMINAL_PROMPT", "0", 1);
}

/* Run a shell command; its exit status (or -1). */
static inline int sh(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	status = system(cmd);
	return status < 0 || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

/* `git -C dir ARGS`, quietly; the test fails when git does. */
#define GIT_IN(dir, ...)                                                       \
	do {                                                                       \
		char args_[8192];                                                      \
		snprintf(args_, sizeof(args_), __VA_ARGS__);                           \
		if (sh("git -C '%s' %s >/dev/null 2>&1", (dir), args_) != 0) {         \
			fprintf(stderr, "%s:%d: git %s failed in %s\n", __FILE__, __LINE__, args_, (dir)); \
			jr_test_failed = 1;                                                \
		}                                                                      \
	} while (0)

/* The commit `rev` of the repository in `dir` (rotating static buffers). */
static inline const char *git_rev(const char *dir, const char *rev)
{
	static char bufs[8][64];
	static int next;
	char *b = bufs[next++ % 8], cmd[16384];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse '%s' 2>/dev/null", dir, rev);
	b[0] = '\0';
	p = popen(cmd, "r");
	if (p) {
		if (!fgets(b, 64, p))
			b[0] = '\0';
		pclose(p);
	}
	b[strcspn(b, "\n")] = '\0';
	return b;
}

/* Commit everything in `dir`; the new head. */
static inline const char *git_commit_all(const char *dir, const char *message)
{
	GIT_IN(dir, "add -A");
	GIT_IN(dir, "commit -q --allow-empty -m '%s'", message);
	return git_rev(dir, "HEAD");
}

/* A job module body defining and registering `cls` named `name`. */
static inline const char *job_module(const char *cls, const char *name)
{
	static char bufs[4][1024];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, 1024,
	         "from jobreg.jobs import Job, register_jobs\n"
	         "\n"
	         "\n"
	         "class %s(Job):\n"
	         "    class Meta:\n"
	         "        name = \"%s\"\n"
	         "\n"
	         "    def run(self):\n"
	         "        return \"%s\"\n"
	         "\n"
	         "\n"
	         "register_jobs(%s)\n",
	         cls, name, name, cls);
	return b;
}

/*
 * A new upstream repository `<base>/<name>` (branch main) whose first commit
 * holds `__init__.py` and `jobs/__init__.py` defining `cls`. Returns the
 * repository's folder (static per call: copy it).
 */
static inline const char *make_upstream(const char *base, const char *name, const char *cls)
{
	static char dir[4096];

	snprintf(dir, sizeof(dir), "%.3000s/%.1000s", base, name);
	if (sh("git init -q -b main '%s'", dir) != 0) {
		fprintf(stderr, "git init %s failed\n", dir);
		jr_test_failed = 1;
	}
	jr_write(dir, "__init__.py", "");
	jr_write(dir, "jobs/__init__.py", job_module(cls, cls));
	git_commit_all(dir, "first");
	return dir;
}

static inline int path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* The whole content of a file, in a static buffer ("" when missing). */
static inline const char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* 1 when any file under `dir` contains `needle`. */
static inline int tree_contains(const char *dir, const char *needle)
{
	return sh("grep -rqaF -- '%s' '%s'", needle, dir) == 0;
}

/* How many entries of `dir` start with `prefix`. */
static inline int count_entries(const char *dir, const char *prefix)
{
	char cmd[16384];
	FILE *p;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "ls -a '%s' 2>/dev/null | grep -c '^%s'", dir, prefix);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = 0;
		pclose(p);
	}
	return n;
}

/* ---- servers ---- */

typedef struct test_server {
	pid_t pid;
	int port;
	int input; /* closing it stops the server */
} test_server;

/* tests/git/serve.py, found from this header's own path. */
static inline const char *serve_py(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX], here[PATH_MAX], joined[PATH_MAX * 2];
	ssize_t n;

	if (path[0])
		return path;
	if (getenv("JOBREG_GIT_TEST_HELPERS")) {
		snprintf(path, sizeof(path), "%s/serve.py", getenv("JOBREG_GIT_TEST_HELPERS"));
		return path;
	}
	snprintf(here, sizeof(here), "%s", __FILE__);
	if (here[0] == '/') {
		snprintf(joined, sizeof(joined), "%s/serve.py", dirname(here));
	} else {
		/* Relative to the build root, where meson compiles: the test is
		 * <build>/tests/test_x. */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		snprintf(joined, sizeof(joined), "%s/../%s/serve.py", dirname(exe), dirname(here));
	}
	if (!realpath(joined, path)) {
		fprintf(stderr, "cannot find tests/git/serve.py (tried %s); set JOBREG_GIT_TEST_HELPERS\n",
		        joined);
		exit(99);
	}
	return path;
}

/* Start `serve.py MODE A [B]` (B may be NULL); waits (10 s at most) for its port. */
static inline test_server start_server(const char *mode, const char *a, const char *b)
{
	test_server s = { -1, 0, -1 };
	int in[2], out[2];
	char line[32] = "";
	struct pollfd pfd;
	size_t got = 0;
	const char *script = serve_py();

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		perror("pipe");
		exit(99);
	}
	s.pid = fork();
	if (s.pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(PYTHON_FOR_TESTS, PYTHON_FOR_TESTS, script, mode, a, b, (char *)NULL); /* b NULL ends it */
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s.input = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (got < sizeof(line) - 1 && !strchr(line, '\n') && poll(&pfd, 1, 10000) > 0) {
		ssize_t n = read(out[0], line + got, sizeof(line) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		line[got] = '\0';
	}
	close(out[0]);
	s.port = atoi(line);
	if (s.port <= 0) {
		fprintf(stderr, "serve.py %s did not start\n", mode);
		jr_test_failed = 1;
	}
	return s;
}

static inline void stop_server(test_server *s)
{
	if (s->pid <= 0)
		return;
	close(s->input);
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = -1;
}

/* ---- sources ---- */

/* A git source with these fields (branch NULL: main), added to `reg`. */
static inline jobreg_source *add_git_source(jobreg_registry *reg, const char *slug,
                                            const char *url, const char *branch,
                                            const char *git_root)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *src = NULL;

	opts.slug = slug;
	opts.remote_url = url;
	opts.branch = branch;
	opts.git_root = git_root;
	CHECK_OK(jobreg_source_git_new(&src, &opts));
	if (src)
		CHECK_OK(jobreg_registry_add_source(reg, src));
	return src;
}

static inline jobreg_registry *new_registry(void)
{
	jobreg_registry *reg = NULL;

	CHECK_OK(jobreg_registry_new(&reg, NULL));
	return reg;
}

static inline uint64_t generation_of(jobreg_registry *reg)
{
	jobreg_snapshot *snap = NULL;
	uint64_t n;

	CHECK_OK(jobreg_registry_snapshot(&snap, reg));
	n = jobreg_snapshot_generation(snap);
	jobreg_snapshot_free(snap);
	return n;
}

/* 1 when `ref` resolves in the registry's current generation. */
static inline int resolves(jobreg_registry *reg, const char *ref)
{
	jobreg_job *job = NULL;
	int ok = jobreg_registry_resolve(&job, reg, ref) == 0;

	jobreg_job_free(job);
	return ok;
}

/* The Meta name of the job `ref`, in a static buffer ("" when absent). */
static inline const char *job_name_of(jobreg_registry *reg, const char *ref)
{
	static char buf[256];
	jobreg_job *job = NULL;

	buf[0] = '\0';
	if (jobreg_registry_resolve(&job, reg, ref) == 0)
		snprintf(buf, sizeof(buf), "%s", jobreg_job_name(job));
	jobreg_job_free(job);
	return buf;
}

static inline size_t load_error_count(jobreg_registry *reg)
{
	jobreg_snapshot *snap = NULL;
	size_t n;

	CHECK_OK(jobreg_registry_snapshot(&snap, reg));
	n = jobreg_snapshot_load_error_count(snap);
	jobreg_snapshot_free(snap);
	return n;
}

#endif
