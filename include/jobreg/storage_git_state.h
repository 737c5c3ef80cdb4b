/*
 * storage_git_state.h: the state of a git repository that a storage keeps:
 * its remote URL, branch and current head (SPEC 1.2).
 *
 * jobreg_git_sync() and jobreg_git_record_head() (jobreg/git.h) write it;
 * a host reads it to learn which commit a repository should be at
 * (jobreg_git_ensure_recorded_head()), and may write it itself. A backend
 * keeps it through its optional git state callbacks (jobreg/sys/storage.h);
 * the in-memory and SQLite backends have them. No credentials are ever
 * stored: remote URLs are redacted first.
 *
 * Thread-safety: any thread; the storage handle serializes its own calls.
 * None of these functions touches Python or needs jobreg_init().
 *
 * A header of its own since 0.3.0; jobreg/records.h includes it.
 */
#ifndef JOBREG_STORAGE_GIT_STATE_H
#define JOBREG_STORAGE_GIT_STATE_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The stored state of the git repository `slug`. Each out-parameter may be
 * NULL; each one set is a new string to free with jobreg_free().
 * `remote_url` is redacted (no credentials are ever stored).
 * Errors: JOBREG_ENOTFOUND (no state for `slug`), JOBREG_EUNSUPPORTED (the
 * backend keeps no git state), JOBREG_EINVAL, JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_git_state_get(char **remote_url, char **branch, char **current_head,
                             jobreg_storage *st, const char *slug);

/**
 * Store (insert or replace) the state of the git repository `slug`.
 * `remote_url` is redacted before it is stored (jobreg_git_redact_url()).
 * Errors: JOBREG_EUNSUPPORTED, JOBREG_EINVAL (a NULL argument),
 * JOBREG_ENOMEM, backend errors.
 */
JOBREG_EXTERN(int)
jobreg_storage_git_state_set(jobreg_storage *st, const char *slug, const char *remote_url,
                             const char *branch, const char *current_head);

#ifdef __cplusplus
}
#endif

#endif
