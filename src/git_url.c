/*
 * git_url.c: keeping credentials out of everything shown or stored.
 *
 * A remote URL may carry a user name and a password or token. The URL is
 * used as given for the transfer only; everywhere else (messages, logs,
 * stored git state) the user information is replaced by "***". An ssh URL
 * keeps a user name without password ("git@host"): it is an account name,
 * not a secret, and redacting it would hide which key is used.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "git_internal.h"
#include "util.h"

#define REDACTED "***"

/* Shortest secret replaced in free text: a one-letter password must not
 * turn every "a" of a message into "***". URLs are redacted whatever. */
#define MIN_SECRET_LEN 4

static int is_scheme_char(char c)
{
	return isalnum((unsigned char)c) || c == '+' || c == '-' || c == '.';
}

static int is_ssh_scheme(const char *scheme, size_t len)
{
	return (len == 3 && strncmp(scheme, "ssh", 3) == 0) ||
	       (len == 7 && (strncmp(scheme, "git+ssh", 7) == 0 || strncmp(scheme, "ssh+git", 7) == 0));
}

/* Where a URL's authority ends, in free text as well as in a bare URL. */
static int ends_authority(char c)
{
	return c == '\0' || c == '/' || c == '?' || c == '#' || isspace((unsigned char)c) ||
	       c == '\'' || c == '"' || c == '<' || c == '>' || c == '`';
}

/*
 * For a URL whose scheme is `scheme[0..scheme_len)` and whose authority
 * starts at `auth`: the length of the user information to redact (0 when
 * none or when it may stay), and in `*skip` the length up to and including
 * the '@'.
 */
static size_t userinfo_to_redact(const char *scheme, size_t scheme_len, const char *auth,
                                 size_t *skip)
{
	const char *end = auth, *at = NULL, *p;

	while (!ends_authority(*end))
		end++;
	for (p = auth; p < end; p++) {
		if (*p == '@')
			at = p;
	}
	*skip = 0;
	if (!at)
		return 0;
	if (is_ssh_scheme(scheme, scheme_len) && !memchr(auth, ':', (size_t)(at - auth)))
		return 0;
	*skip = (size_t)(at - auth) + 1;
	return (size_t)(at - auth);
}

static int put_redacted_urls(jr_buf *b, const char *text)
{
	const char *p = text, *sep;

	while ((sep = strstr(p, "://")) != NULL) {
		const char *scheme = sep, *auth = sep + 3;
		size_t skip;

		while (scheme > p && is_scheme_char(scheme[-1]))
			scheme--;
		jr_buf_put(b, p, (size_t)(auth - p));
		if (scheme < sep && userinfo_to_redact(scheme, (size_t)(sep - scheme), auth, &skip)) {
			jr_buf_puts(b, REDACTED "@");
			auth += skip;
		}
		p = auth;
	}
	jr_buf_puts(b, p);
	return jr_buf_status(b);
}

/* scp-like `user:password@host:path`: no scheme, '@' before the first '/'. */
static int put_scp_like(jr_buf *b, const char *url)
{
	const char *at = strchr(url, '@'), *slash = strchr(url, '/');

	if (at && (!slash || at < slash) && memchr(url, ':', (size_t)(at - url))) {
		jr_buf_puts(b, REDACTED);
		jr_buf_puts(b, at);
	} else {
		jr_buf_puts(b, url);
	}
	return jr_buf_status(b);
}

char *jr_git_redact_url(const char *url)
{
	jr_buf b = JR_BUF_INIT;
	int rc;

	rc = strstr(url, "://") ? put_redacted_urls(&b, url) : put_scp_like(&b, url);
	if (rc == 0 && !b.ptr)
		rc = jr_buf_puts(&b, "");
	if (rc < 0) {
		jr_buf_free(&b);
		return NULL;
	}
	return jr_buf_detach(&b);
}

/* Replace every occurrence of `secret` in `*text` (owned) by REDACTED. */
static int replace_secret(char **text, const char *secret)
{
	jr_buf b = JR_BUF_INIT;
	const char *p = *text, *hit;
	size_t len = strlen(secret);

	if (len < MIN_SECRET_LEN || !strstr(*text, secret))
		return 0;
	while ((hit = strstr(p, secret)) != NULL) {
		jr_buf_put(&b, p, (size_t)(hit - p));
		jr_buf_puts(&b, REDACTED);
		p = hit + len;
	}
	jr_buf_puts(&b, p);
	if (jr_buf_status(&b) < 0) {
		jr_buf_free(&b);
		return JOBREG_ENOMEM;
	}
	free(*text);
	*text = jr_buf_detach(&b);
	return 0;
}

char *jr_git_redact_text(const char *text, char *const *secrets, size_t secret_count)
{
	jr_buf b = JR_BUF_INIT;
	char *out;
	size_t i;

	if (put_redacted_urls(&b, text) < 0 || (!b.ptr && jr_buf_puts(&b, "") < 0)) {
		jr_buf_free(&b);
		return NULL;
	}
	out = jr_buf_detach(&b);
	for (i = 0; i < secret_count; i++) {
		if (secrets[i] && replace_secret(&out, secrets[i]) < 0) {
			free(out);
			return NULL;
		}
	}
	return out;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s[0..len) into a new string. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	if (!out) {
		jr_error_oom();
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
			*o++ = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

int jr_git_url_secrets(const char *url, char **user, char **password)
{
	const char *sep = strstr(url, "://"), *scheme, *auth, *colon;
	size_t skip, len;

	*user = *password = NULL;
	if (!sep)
		return 0;
	for (scheme = sep; scheme > url && is_scheme_char(scheme[-1]); scheme--)
		;
	auth = sep + 3;
	len = userinfo_to_redact(scheme, (size_t)(sep - scheme), auth, &skip);
	if (!len)
		return 0;
	colon = memchr(auth, ':', len);
	/* An ssh user name stays visible (see above); only its password is secret. */
	if (!is_ssh_scheme(scheme, (size_t)(sep - scheme)))
		*user = decode(auth, colon ? (size_t)(colon - auth) : len);
	if (colon)
		*password = decode(colon + 1, len - (size_t)(colon - auth) - 1);
	if ((!is_ssh_scheme(scheme, (size_t)(sep - scheme)) && !*user) || (colon && !*password)) {
		free(*user);
		free(*password);
		*user = *password = NULL;
		return JOBREG_ENOMEM;
	}
	return 0;
}

int jr_git_error_set(const jr_git_source *g, int code, const char *fmt, ...)
{
	char *text, *redacted;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	text = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (!text)
		return jr_error_oom();
	va_start(ap, fmt);
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	va_end(ap);
	redacted = jr_git_redact_text(text, g ? g->secrets : NULL, g ? 2 : 0);
	free(text);
	if (!redacted)
		return JOBREG_ENOMEM;
	jr_error_set(code, "%s", redacted);
	free(redacted);
	return code;
}

int jobreg_git_redact_url(char **out, const char *url)
{
	if (!out || !url)
		return jr_error_set(JOBREG_EINVAL, "jobreg_git_redact_url: NULL argument");
	*out = jr_git_redact_url(url);
	return *out ? 0 : JOBREG_ENOMEM;
}
