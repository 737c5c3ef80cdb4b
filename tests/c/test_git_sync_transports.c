/*
 * test_git_sync_transports.c: syncing over real transports (SPEC 1.2):
 * git daemon on 127.0.0.1 and smart HTTP (git http-backend) behind a
 * token; the host's credentials and progress callbacks, and URLs redacted
 * in every message.
 */
#include "../git/git_sync_fixture.h"

/* `<base>/<name>` served by `git daemon`; the URL in `url`. */
static void test_sync_over_git_daemon(void)
{
	const char *base = jr_tmpdir();
	char up[4096], url[256], second[64];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	test_server daemon;

	snprintf(up, sizeof(up), "%s", make_upstream(base, "served", "OverDaemon"));
	daemon = start_server("daemon", base, NULL);
	snprintf(url, sizeof(url), "git://127.0.0.1:%d/served", daemon.port);
	src = add_git_source(reg, "daemon_repo", url, NULL, jr_tmpdir());
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "daemon_repo.jobs.OverDaemon"));
	jr_write(up, "jobs/__init__.py", job_module("Later", "Later"));
	snprintf(second, sizeof(second), "%s", git_commit_all(up, "later"));
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "daemon_repo.jobs.Later"));
	stop_server(&daemon);
}

static void test_sync_over_http_with_a_token(void)
{
	const char *base = jr_tmpdir(), *git_root = fx.git_root;
	char url[256];
	struct host_answers h = { TOKEN, 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	src = add_source_with_host(reg, "http_repo", url, git_root, &h, 1);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "http_repo.jobs.Private"));
	CHECK_INT(h.calls, 1);
	CHECK(h.allowed & JOBREG_GIT_CREDENTIAL_USERPASS);
	CHECK_STR(h.url, url);
	CHECK(h.receiving > 0);
	CHECK(h.last_total > 0);
	CHECK(h.checkout > 0);
	/* The token is nowhere on disk. */
	CHECK(!tree_contains(git_root, TOKEN));
	stop_server(&http);
}

static void test_wrong_token_is_a_clear_authentication_error(void)
{
	const char *base = jr_tmpdir(), *git_root = fx.git_root;
	char url[256];
	struct host_answers h = { "not-the-token", 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	src = add_source_with_host(reg, "wrong_token", url, git_root, &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "authentication failed");
	CHECK_CONTAINS(jobreg_error_last()->message, "refused the credentials");
	CHECK_CONTAINS(jobreg_error_last()->message, url);
	CHECK(!strstr(jobreg_error_last()->message, "not-the-token"));
	CHECK_INT(h.calls, 1); /* asked once, not in a loop */
	CHECK(!path_exists(jr_path(git_root, "wrong_token")));
	CHECK_INT(count_entries(git_root, ".wrong_token.clone"), 0);
	stop_server(&http);
}

static void test_missing_credentials_are_an_authentication_error(void)
{
	const char *base = jr_tmpdir();
	char url[256];
	struct host_answers h = { NULL, 0, 0, 0, "", 0, 0, 0, 0, 0, 0 };
	jobreg_registry *reg = fx.reg;
	jobreg_source *none, *declined, *failing;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/private", http.port);
	none = add_source_with_host(reg, "no_callback", url, jr_tmpdir(), &h, 0);
	CHECK_INT(jobreg_git_sync(NULL, reg, none, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "none were given");
	declined = add_source_with_host(reg, "declined", url, jr_tmpdir(), &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, declined, NULL), JOBREG_EAUTH);
	CHECK_INT(h.calls, 1);
	h.negative = JOBREG_ESTORAGE;
	failing = add_source_with_host(reg, "failing_host", url, jr_tmpdir(), &h, 1);
	CHECK_INT(jobreg_git_sync(NULL, reg, failing, NULL), JOBREG_ESTORAGE);
	CHECK_CONTAINS(jobreg_error_last()->message, "credentials callback failed");
	stop_server(&http);
}

static void test_token_in_the_url_works_and_is_redacted_everywhere(void)
{
	const char *base = jr_tmpdir(), *git_root = fx.git_root;
	char url[256], redacted[256], bad_url[256];
	jobreg_registry *reg = fx.reg;
	jobreg_source *src, *bad;
	test_server http;

	make_upstream(base, "private", "Private");
	http = start_server("http", base, TOKEN);
	snprintf(url, sizeof(url), "http://deploy:" TOKEN "@127.0.0.1:%d/private", http.port);
	snprintf(redacted, sizeof(redacted), "http://***@127.0.0.1:%d/private", http.port);
	src = add_git_source(reg, "url_token", url, NULL, git_root);
	CHECK_STR(jobreg_source_git_remote_url(src), redacted);
	CHECK_OK(jobreg_git_sync(NULL, reg, src, NULL));
	CHECK(resolves(reg, "url_token.jobs.Private"));
	CHECK(!tree_contains(git_root, TOKEN));

	snprintf(bad_url, sizeof(bad_url), "http://deploy:wrong-secret-99@127.0.0.1:%d/private",
	         http.port);
	bad = add_git_source(reg, "url_bad_token", bad_url, NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_sync(NULL, reg, bad, NULL), JOBREG_EAUTH);
	CHECK_CONTAINS(jobreg_error_last()->message, "***@127.0.0.1");
	CHECK(!strstr(jobreg_error_last()->message, "wrong-secret-99"));
	stop_server(&http);
}

static void test_unreachable_server_error_is_redacted(void)
{
	jobreg_registry *reg = fx.reg;
	jobreg_source *src;
	test_server http;
	char url[256];

	/* A port that was just free: nothing listens there any more. */
	http = start_server("http", jr_tmpdir(), TOKEN);
	snprintf(url, sizeof(url), "http://me:" TOKEN "@127.0.0.1:%d/x", http.port);
	stop_server(&http);
	src = add_git_source(reg, "unreachable", url, NULL, jr_tmpdir());
	CHECK_INT(jobreg_git_sync(NULL, reg, src, NULL), JOBREG_EGIT);
	CHECK_CONTAINS(jobreg_error_last()->message, "***@127.0.0.1");
	CHECK(!strstr(jobreg_error_last()->message, TOKEN));
}

static const struct jr_test tests[] = {
	JR_TEST(sync_over_git_daemon),
	JR_TEST(sync_over_http_with_a_token),
	JR_TEST(wrong_token_is_a_clear_authentication_error),
	JR_TEST(missing_credentials_are_an_authentication_error),
	JR_TEST(token_in_the_url_works_and_is_redacted_everywhere),
	JR_TEST(unreachable_server_error_is_redacted),
};

JR_SUITE_MAIN_WITH_LIBRARY(tests, git_sync_setup, git_sync_teardown)
