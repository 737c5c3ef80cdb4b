/* git_sources.c: git repositories for `jobreg sync`: sources, tokens, progress. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "git_sources.h"

/* What the callbacks of one repository's source need. */
struct repo {
	const char *slug;      /* borrowed from the configuration */
	const char *token_env; /* NULL: no token */
	jobreg_source *src;    /* owned by the registry */
	int tty;               /* draw a progress bar on stderr */
	int drawn;             /* a bar line is on the screen */
	unsigned int last_stage;
	int last_percent;
	/* The sync refused a commit that fails to load: its load errors. */
	jobreg_snapshot *refused;
	char refused_commit[JOBREG_GIT_HEAD_SIZE];
};

struct cli_git {
	struct repo *repos;
	size_t count;
	const jobreg_config *cfg; /* borrowed: where the recorded heads are */
	size_t unrecorded;        /* heads cli_git_record_heads() refused to record */
};

/* The token is read when a server asks for it, and never kept. */
static int give_token(jobreg_git_credential *out, const char *url, const char *username_from_url,
                      unsigned int allowed_types, void *payload)
{
	struct repo *r = payload;
	const char *token = r->token_env ? getenv(r->token_env) : NULL;

	(void)url;
	(void)username_from_url;
	if (!token || !*token || !(allowed_types & JOBREG_GIT_CREDENTIAL_USERPASS))
		return 1;
	return jobreg_git_credential_set_token(out, token);
}

static const char *stage_name(unsigned int stage)
{
	switch (stage) {
	case JOBREG_GIT_STAGE_RECEIVING:
		return "receiving objects";
	case JOBREG_GIT_STAGE_RESOLVING:
		return "resolving deltas";
	case JOBREG_GIT_STAGE_CHECKOUT:
		return "checking out files";
	default:
		return "working";
	}
}

/* "\r  my_repo: receiving objects  42% [========            ] 1.3 MiB" */
static int draw_progress(const jobreg_git_progress *p, void *payload)
{
	struct repo *r = payload;
	int percent = p->total ? (int)(p->current * 100 / p->total) : 0;
	int width = 24, filled = percent * width / 100, i;

	if (p->stage == r->last_stage && percent == r->last_percent)
		return 0;
	r->last_stage = p->stage;
	r->last_percent = percent;
	fprintf(stderr, "\r  %s: %-18s %3d%% [", r->slug, stage_name(p->stage), percent);
	for (i = 0; i < width; i++)
		fputc(i < filled ? '=' : ' ', stderr);
	fputc(']', stderr);
	if (p->received_bytes)
		fprintf(stderr, " %.1f MiB", (double)p->received_bytes / (1024.0 * 1024.0));
	fputs("\033[K", stderr); /* clear what a longer line left */
	fflush(stderr);
	r->drawn = 1;
	return 0;
}

/* A message about setting `key` of repository `i`, as file:line:column. */
static int fail_at(const jobreg_config *cfg, const char *config_path, size_t i, const char *field,
                   const char *reason)
{
	unsigned int line = 0, column = 0;
	char key[96];

	snprintf(key, sizeof(key), "git_repositories[%zu].%s", i, field);
	if (jobreg_config_locate(&line, &column, cfg, key) < 0)
		return cli_fail("%s: %s: %s", config_path, key, reason);
	return cli_fail("%s:%u:%u: %s: %s", config_path, line, column, key, reason);
}

static int add_one(struct repo *r, jobreg_registry *reg, const jobreg_config *cfg,
                   const char *config_path, size_t i, int offline)
{
	jobreg_git_options opts = JOBREG_GIT_OPTIONS_INIT;
	jobreg_source *src = NULL;

	r->slug = jobreg_config_git_repository_slug(cfg, i);
	r->token_env = jobreg_config_git_repository_token_env(cfg, i);
	r->tty = isatty(STDERR_FILENO);
	if (!offline && r->token_env && !(getenv(r->token_env) && *getenv(r->token_env))) {
		char reason[256];

		snprintf(reason, sizeof(reason),
		         "the environment variable %s (the token of '%s') "
		         "is not set",
		         r->token_env, r->slug);
		return fail_at(cfg, config_path, i, "token_env", reason);
	}
	opts.slug = r->slug;
	opts.remote_url = jobreg_config_git_repository_remote_url(cfg, i);
	opts.branch = jobreg_config_git_repository_branch(cfg, i);
	opts.git_root = jobreg_config_git_root(cfg);
	opts.credentials = r->token_env ? give_token : NULL;
	opts.progress = r->tty ? draw_progress : NULL;
	opts.payload = r;
	if (jobreg_source_git_new(&src, &opts) < 0) {
		int code = jobreg_error_last()->code;

		return fail_at(cfg, config_path, i,
		               code == JOBREG_EINVAL && strstr(jobreg_error_last()->message, "branch")
		                   ? "branch"
		                   : "slug",
		               jobreg_error_last()->message);
	}
	/* The repository's own nautobot_compat, or the global one (DEFAULT). */
	if (jobreg_source_set_nautobot_compat(src,
	                                      jobreg_config_git_repository_nautobot_compat(cfg, i)) <
	        0 ||
	    jobreg_registry_add_source(reg, src) < 0) {
		jobreg_source_free(src);
		return fail_at(cfg, config_path, i, "slug", jobreg_error_last()->message);
	}
	r->src = src;
	return 0;
}

int cli_git_add_sources(struct cli_git **out, jobreg_registry *reg, const jobreg_config *cfg,
                        const char *config_path, int offline)
{
	struct cli_git *git = calloc(1, sizeof(*git));
	size_t i, n = jobreg_config_git_repository_count(cfg);
	int rc = 0;

	*out = NULL;
	if (!git || (n && !(git->repos = calloc(n, sizeof(*git->repos))))) {
		free(git);
		return cli_fail("out of memory");
	}
	for (i = 0; rc == 0 && i < n; i++) {
		rc = add_one(&git->repos[i], reg, cfg, config_path, i, offline);
		if (rc == 0)
			git->count++;
	}
	/* Sources already added belong to the registry; the payloads stay
	 * valid until cli_git_free(), after the registry. */
	git->cfg = cfg;
	*out = git;
	return rc;
}

/*
 * "jobreg: git repository 'x': reason", naming the repository once: most
 * of the library's messages about a repository name it already.
 */
static void report_failure(const struct repo *r)
{
	const char *why = jobreg_error_last()->message;
	char named[JOBREG_GIT_SLUG_MAX + 4];

	snprintf(named, sizeof(named), "'%s'", r->slug);
	if (strstr(why, named))
		cli_fail("%s", why);
	else
		cli_fail("git repository '%s': %s", r->slug, why);
}

/*
 * Put the checkout back on the head the last sync recorded before moving
 * it, so that this sync's rollback point is that head, never whatever HEAD
 * another process left (docs/git.md). Only the checkout moves; a recorded
 * head that cannot be checked out (a force-push removed it) leaves the
 * checkout as it is, and says so.
 */
static void back_to_recorded(const struct repo *r, jobreg_storage *st)
{
	char head[JOBREG_GIT_HEAD_SIZE], *recorded = NULL;

	if (jobreg_storage_git_state_get(NULL, NULL, &recorded, st, r->slug) == 0 && *recorded &&
	    jobreg_source_git_head(head, r->src) == 0 && strcmp(head, recorded) != 0 &&
	    jobreg_git_ensure_head(NULL, NULL, r->src, recorded) < 0)
		fprintf(stderr,
		        "jobreg: git repository '%s': cannot go back to its recorded head %.12s (%s); "
		        "syncing from %.12s\n",
		        r->slug, recorded, jobreg_error_last()->message, head);
	jobreg_free(recorded);
}

int cli_git_sync(struct cli_git *git, jobreg_registry *reg, size_t *failed)
{
	jobreg_storage *st = NULL;
	size_t i;
	int rc;

	*failed = 0;
	/* No database yet: nothing recorded (st stays NULL). */
	if (git && git->count && (rc = cli_open_storage(&st, git->cfg, 0)) != 0)
		return rc;
	for (i = 0; git && i < git->count; i++) {
		struct repo *r = &git->repos[i];

		if (st)
			back_to_recorded(r, st);
		rc = jobreg_git_sync(NULL, reg, r->src, NULL);

		if (r->drawn) {
			fputs(rc == 0 ? " done\n" : " failed\n", stderr);
			r->drawn = 0;
		}
		if (rc == JOBREG_ENOMEM) {
			jobreg_storage_free(st);
			return cli_fail_library(NULL);
		}
		if (rc < 0) {
			report_failure(r);
			/* The report lists every error of the refused commit: the
			 * message above names only the first. (None kept: NULL.) */
			if (rc == JOBREG_ELOAD)
				(void)jobreg_source_git_refused(&r->refused, r->refused_commit, r->src);
			(*failed)++;
		}
	}
	jobreg_storage_free(st);
	return 0;
}

size_t cli_git_count(const struct cli_git *git)
{
	return git ? git->count : 0;
}

size_t cli_git_unrecorded(const struct cli_git *git)
{
	return git ? git->unrecorded : 0;
}

const jobreg_snapshot *cli_git_refused(const struct cli_git *git, size_t i, const char **slug,
                                       const char **commit)
{
	const struct repo *r;

	if (!git || i >= git->count || !git->repos[i].refused)
		return NULL;
	r = &git->repos[i];
	*slug = r->slug;
	*commit = r->refused_commit;
	return r->refused;
}

int cli_git_record_heads(struct cli_git *git, jobreg_storage *st)
{
	size_t i;

	for (i = 0; git && i < git->count; i++) {
		char head[JOBREG_GIT_HEAD_SIZE];

		int rc;

		if (jobreg_source_git_head(head, git->repos[i].src) == JOBREG_ENOTFOUND)
			continue; /* never synced: nothing to record */
		rc = jobreg_git_record_head(st, git->repos[i].src);
		/* Code that failed (reported already) or a move that died half-way:
		 * the recorded head stays, the others are still recorded. */
		if (rc == JOBREG_ELOAD || rc == JOBREG_ESTATE) {
			report_failure(&git->repos[i]);
			git->unrecorded++;
			continue;
		}
		if (rc < 0)
			return cli_fail("git repository '%s': storing its head: %s", git->repos[i].slug,
			                jobreg_error_last()->message);
	}
	return 0;
}

void cli_git_free(struct cli_git *git)
{
	size_t i;

	if (!git)
		return;
	for (i = 0; i < git->count; i++)
		jobreg_snapshot_free(git->repos[i].refused);
	free(git->repos);
	free(git);
}
