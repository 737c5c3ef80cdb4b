/*
 * storage_git_state.c: the git state a storage keeps
 * (jobreg/storage_git_state.h), through the backend's optional
 * git_state_read and git_state_write callbacks.
 */
#include <stdlib.h>

#include "error.h"
#include "jobreg/git.h"
#include "jobreg/storage_git_state.h"
#include "storage_internal.h"
#include "util.h"

static int git_supported(jobreg_storage *st, const char *function)
{
	if (!st->backend.git_state_read || !st->backend.git_state_write)
		return jr_error_set(JOBREG_EUNSUPPORTED,
		                    "%s: this storage backend keeps no git repository state", function);
	return 0;
}

int jobreg_storage_git_state_get(char **remote_url, char **branch, char **current_head,
                                 jobreg_storage *st, const char *slug)
{
	const char *url = NULL, *br = NULL, *head = NULL;
	char *copies[3] = { NULL, NULL, NULL };
	int rc, i;

	if (!st || !slug)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_git_state_get: NULL %s",
		                    st ? "slug" : "storage");
	if ((rc = git_supported(st, "jobreg_storage_git_state_get")) < 0)
		return rc;
	if ((rc = jr_storage_begin(st, 0)) < 0)
		return rc;
	rc = st->backend.git_state_read(&url, &br, &head, slug, st->payload);
	if (rc == JOBREG_ENOTFOUND) {
		rc = jr_error_set(JOBREG_ENOTFOUND, "no git state is stored for repository \"%s\"", slug);
	} else if ((rc = jr_storage_backend_result(rc, "git_state_read")) == 0) {
		copies[0] = jr_strdup(url ? url : "");
		copies[1] = jr_strdup(br ? br : "");
		copies[2] = jr_strdup(head ? head : "");
		if (!copies[0] || !copies[1] || !copies[2])
			rc = JOBREG_ENOMEM;
	}
	rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	if (rc < 0) {
		for (i = 0; i < 3; i++)
			free(copies[i]);
		return rc;
	}
	if (remote_url)
		*remote_url = copies[0];
	else
		free(copies[0]);
	if (branch)
		*branch = copies[1];
	else
		free(copies[1]);
	if (current_head)
		*current_head = copies[2];
	else
		free(copies[2]);
	return 0;
}

int jobreg_storage_git_state_set(jobreg_storage *st, const char *slug, const char *remote_url,
                                 const char *branch, const char *current_head)
{
	char *redacted = NULL;
	int rc;

	if (!st || !slug || !remote_url || !branch || !current_head)
		return jr_error_set(JOBREG_EINVAL, "jobreg_storage_git_state_set: NULL argument");
	if ((rc = git_supported(st, "jobreg_storage_git_state_set")) < 0)
		return rc;
	/* Credentials never reach storage (SPEC 1.2). */
	if ((rc = jobreg_git_redact_url(&redacted, remote_url)) < 0)
		return rc;
	if ((rc = jr_storage_begin(st, JOBREG_STORAGE_BEGIN_WRITE)) == 0) {
		jobreg_error_clear();
		rc = jr_storage_backend_result(st->backend.git_state_write(slug, redacted, branch,
		                                                           current_head, st->payload),
		                               "git_state_write");
		rc = rc < 0 ? jr_storage_rollback(st, rc) : jr_storage_commit(st);
	}
	free(redacted);
	return rc;
}
