/*
 * git_sources.h: the `git_repositories` of jobreg.yaml for `jobreg sync`
 * (SPEC 1.2 and 6).
 *
 * How cmd_sync uses it, in order:
 *   1. cli_git_add_sources()   after jobreg_init(), before any load: one git
 *                              source per entry (slug rules and a missing
 *                              token variable are reported with
 *                              file:line:column before anything is written);
 *   2. cli_git_sync()          unless --offline: put each checkout back on
 *                              its recorded head (a process that died may
 *                              have left it elsewhere), then fetch and move
 *                              each repository (the first one imports every
 *                              source, the others only themselves); a
 *                              failure is printed and leaves that repository
 *                              as it was; the others go on;
 *   3. jobreg_registry_sync()  imports what is not loaded yet and changed
 *                              since the last sync, refreshes the records;
 *   4. cli_git_record_heads()  store each repository's redacted URL, branch
 *                              and current head, so workers can ensure it.
 */
#ifndef JOBREG_CLI_GIT_SOURCES_H
#define JOBREG_CLI_GIT_SOURCES_H

#include <jobreg.h>
#include <jobreg/config.h>
#include <jobreg/records.h>

struct cli_git;

/*
 * Add a git source to `reg` for each configured repository. `offline`:
 * the token variables are not needed, so not checked. On success `*out`
 * (free it with cli_git_free() after the registry) keeps what the sources'
 * callbacks use. Returns 0 or an exit status (the reason printed).
 */
int cli_git_add_sources(struct cli_git **out, jobreg_registry *reg, const jobreg_config *cfg,
                        const char *config_path, int offline);

/*
 * Fetch and move every repository (a progress bar on stderr when it is a
 * terminal, nothing otherwise). Each failure is printed ("jobreg: git
 * repository 'x': reason", the repository named once) and counted in
 * `*failed`; the repository stays as it was. A commit refused because its
 * code fails to load keeps its load errors for the report
 * (cli_git_refused()). Returns 0, or an exit status for a failure that is
 * not one repository's (out of memory).
 */
int cli_git_sync(struct cli_git *git, jobreg_registry *reg, size_t *failed);

/* How many repositories cli_git_add_sources() added; 0 for NULL. */
size_t cli_git_count(const struct cli_git *git);

/*
 * The load errors of the commit of repository `i` that cli_git_sync()
 * refused because it fails to load, with the repository's slug and that
 * commit (40 hex digits) in `*slug` and `*commit`; NULL when the sync of
 * that repository was not refused for that (nothing is set then). All
 * borrowed until cli_git_free().
 */
const jobreg_snapshot *cli_git_refused(const struct cli_git *git, size_t i, const char **slug,
                                       const char **commit);

/*
 * Store the git state of every repository that has a checkout, except a
 * head whose code failed to load or whose move died half-way: that one is
 * printed ("jobreg: git repository 'x': commit ... is not recorded: ...")
 * and the head recorded before stays. Returns 0 or an exit status (the
 * reason printed) for any other failure.
 */
int cli_git_record_heads(struct cli_git *git, jobreg_storage *st);

/* How many heads cli_git_record_heads() refused to record; 0 for NULL. */
size_t cli_git_unrecorded(const struct cli_git *git);

/* Accepts NULL. Call after freeing the registry that holds the sources. */
void cli_git_free(struct cli_git *git);

#endif
