/*
 * source.h: the places job code comes from.
 *
 * A source has a type, a name, a root folder and a module namespace
 * (SPEC 1). A source is created on its own, then handed to a registry with
 * jobreg_registry_add_source(), which takes ownership of it.
 */
#ifndef JOBREG_SOURCE_H
#define JOBREG_SOURCE_H

#include "common.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Create a jobs-root source (type "local", name ""): every `.py` file under
 * `root` becomes a module named by its path relative to `root`. File names
 * follow pkgutil, as Nautobot does: `my-jobs.py` is the module `my-jobs`;
 * `a.b.py` is no module and is skipped.
 *
 * The folder need not exist yet: a missing folder is reported as a load
 * error at load time. Module names are text, so names that are not UTF-8
 * never fail a load: `root` itself must be UTF-8 (else JOBREG_EINVAL), a
 * root that resolves, through links, to a path that is not is a load error
 * of the source, and a file or folder under it whose name is not UTF-8 is
 * a load error of its own (ImportError) naming it with the bad bytes
 * escaped (`bad\xff.py`), while the other modules load (since 0.3.0).
 * On success `*out` is owned by the caller until it is
 * added to a registry; free it with jobreg_source_free() otherwise.
 * Errors: JOBREG_EINVAL (NULL argument, or `root` not valid UTF-8: the
 * message shows it escaped), JOBREG_ENOMEM.
 * Thread-safety: may be called from any thread; does not touch Python.
 */
JOBREG_EXTERN(int) jobreg_source_dir_new(jobreg_source **out, const char *root);

/**
 * Create an app source (type "app", named after the package). The package
 * `package` is imported from sys.path at load time; its app configuration is
 * its `config` attribute, or else the one app-config class of its `apps`
 * module, whose `jobs` attribute names the jobs module ("jobs" by default,
 * relative to the package, or absolute when it starts with the package
 * name). A missing default jobs module means no jobs; a missing explicit one
 * is a load error. jobreg_source_root() is the package's folder once it
 * loaded (or a sync found it), "" before.
 *
 * On success `*out` is owned by the caller until it is added to a
 * registry; free it with jobreg_source_free() otherwise.
 * Errors: JOBREG_EINVAL (NULL, or not a dotted Python name: identifiers
 * in valid UTF-8 joined by dots, no keyword, no symbol, punctuation or
 * emoji (since 0.3.0); the message names it, its bytes that are not UTF-8
 * escaped as `\xff`), JOBREG_ENOMEM. Any thread; does not touch Python.
 */
JOBREG_EXTERN(int) jobreg_source_app_new(jobreg_source **out, const char *package);

/**
 * Free a source that was never added to a registry. Accepts NULL.
 * Never call it on a source a registry owns (jobreg_registry_free() frees
 * those). Any thread; does not touch Python.
 */
JOBREG_EXTERN(void) jobreg_source_free(jobreg_source *src);

/** The source's type; 0 for a NULL source. Any thread. */
JOBREG_EXTERN(jobreg_source_t) jobreg_source_type(const jobreg_source *src);

/**
 * The name of a source type as records store it: "local", "git" or "app";
 * "unknown" for anything else. Static; never free it. Thread-safe.
 */
JOBREG_EXTERN(const char *) jobreg_source_type_name(jobreg_source_t type);

/**
 * The source's name: "" for a jobs root, the slug of a git repository, the
 * package of an app. Borrowed; lives as long as the source. NULL for a
 * NULL source (since 0.3.0). Any thread.
 */
JOBREG_EXTERN(const char *) jobreg_source_name(const jobreg_source *src);

/**
 * The source's root folder as given (jobs root, checkout folder), or "" for
 * an app before its package is found. Borrowed; lives as long as the source.
 * An app's root changes when a load finds its package (first "" then the
 * package's folder, later another folder if the package moved); a string
 * returned before stays valid, with its old text, until the source is
 * freed. Other sources' roots never change. NULL for a NULL source (since
 * 0.3.0). Any thread.
 */
JOBREG_EXTERN(const char *) jobreg_source_root(const jobreg_source *src);

/**
 * Choose which Nautobot jobs `src` registers (since 0.3.0).
 *
 * `mode` is JOBREG_COMPAT_DEFAULT (the default: as jobreg_init() said in
 * jobreg_init_options.nautobot_compat), JOBREG_COMPAT_AUTO (Nautobot 2.x
 * jobs: only the classes its modules pass to `register_jobs`) or
 * JOBREG_COMPAT_1X (Nautobot 1.x jobs: every `Job` subclass a module
 * defines, or its `jobs = [...]` list, without `register_jobs`).
 *
 * May be called at any time, also on a source a registry owns: the next
 * load, reload or sync that imports the source applies it, and a change of
 * the effective mode makes the next jobreg_registry_reload() and
 * jobreg_registry_sync() import the source again even when no file
 * changed. A load already running keeps the mode it read when it
 * discovered the source. Nothing is imported by this call.
 *
 * Errors: JOBREG_EINVAL (NULL `src`, or a `mode` that is none of the
 * three; the mode is left as it was). Any thread; does not touch Python.
 */
JOBREG_EXTERN(int) jobreg_source_set_nautobot_compat(jobreg_source *src, int mode);

/**
 * The mode last given to jobreg_source_set_nautobot_compat() (since
 * 0.3.0): JOBREG_COMPAT_DEFAULT, JOBREG_COMPAT_AUTO or JOBREG_COMPAT_1X;
 * JOBREG_COMPAT_DEFAULT for a source never set and for NULL. This is what
 * was set, not the mode in effect (for JOBREG_COMPAT_DEFAULT that is
 * jobreg_init()'s). Any thread; does not touch Python.
 */
JOBREG_EXTERN(int) jobreg_source_nautobot_compat(const jobreg_source *src);

#ifdef __cplusplus
}
#endif

#endif
