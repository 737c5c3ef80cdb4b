/*
 * libjobreg: install, load and register Jobs.
 *
 * common.h: export macro, error codes, the thread-local last error,
 * library start-up and shut-down.
 */
#ifndef JOBREG_COMMON_H
#define JOBREG_COMMON_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a public function; everything else in the library is hidden. */
#if defined(JOBREG_BUILDING) && defined(__GNUC__)
#define JOBREG_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define JOBREG_EXTERN(type) extern type
#endif

/**
 * Error codes. Every function that can fail returns 0 on success or one of
 * these negative values. The numbers are part of the ABI: never renumbered,
 * only appended. Two are reserved and returned by no function of this
 * version: JOBREG_ETIMEOUT (an import past its time limit is a load error,
 * not a return code; the code is kept for run time limits) and
 * JOBREG_ITEROVER (no iterator API uses it).
 */
#define JOBREG_ERROR_CODES(X)                                       \
	X(JOBREG_OK, 0, "success")                                      \
	X(JOBREG_ERROR, -1, "generic error")                            \
	X(JOBREG_ENOMEM, -2, "out of memory")                           \
	X(JOBREG_EINVAL, -3, "invalid argument")                        \
	X(JOBREG_ENOTFOUND, -4, "not found")                            \
	X(JOBREG_EAMBIGUOUS, -5, "ambiguous reference")                 \
	X(JOBREG_EEXISTS, -6, "already exists")                         \
	X(JOBREG_EPYTHON, -7, "Python error")                           \
	X(JOBREG_EIO, -8, "file system error")                          \
	X(JOBREG_ESTORAGE, -9, "storage backend error")                 \
	X(JOBREG_ECONFIG, -10, "configuration error")                   \
	X(JOBREG_EGIT, -11, "git error")                                \
	X(JOBREG_EAUTH, -12, "authentication failed")                   \
	X(JOBREG_ENOTINSTALLED, -13, "job is not installed")            \
	X(JOBREG_EDISABLED, -14, "job is not enabled")                  \
	X(JOBREG_EVALIDATION, -15, "invalid job input")                 \
	X(JOBREG_EVERSION, -16, "unsupported structure version")        \
	X(JOBREG_ESTATE, -17, "library not initialized or wrong state") \
	X(JOBREG_ELOAD, -18, "source failed to load")                   \
	X(JOBREG_ETIMEOUT, -19, "time limit exceeded")                  \
	X(JOBREG_EUNSUPPORTED, -20, "not supported")                    \
	X(JOBREG_EJOBFAILED, -21, "job failed")                         \
	X(JOBREG_ECANCELED, -22, "run cancelled")                       \
	X(JOBREG_ITEROVER, -31, "no more items")

/** The error codes as an enum (values as in JOBREG_ERROR_CODES). */
typedef enum jobreg_error_code {
/** Internal: turns one JOBREG_ERROR_CODES entry into an enumerator. */
#define JOBREG_ERROR_ENUM_(name, value, text) name = value,
	JOBREG_ERROR_CODES(JOBREG_ERROR_ENUM_)
#undef JOBREG_ERROR_ENUM_
	JOBREG_ERROR_CODE_LAST_ = -32
} jobreg_error_code;

/**
 * The last error raised on the calling thread.
 *
 * `code` is the JOBREG_E* value the failing call returned, `message` a
 * human-readable sentence naming the file, line, field or value at fault.
 * Appended fields may follow in later versions; never allocate this struct.
 */
typedef struct jobreg_error {
	/** The JOBREG_E* code (negative), or 0 when no error is recorded. */
	int code;
	/** What went wrong, in one sentence; never NULL. */
	const char *message;
} jobreg_error;

/**
 * The last error of the calling thread.
 *
 * Never NULL: with no error recorded, code is 0 and message is "no error".
 * Owned by the library; valid until the next libjobreg call on this thread.
 * Thread-safety: thread-local, safe from any thread.
 */
JOBREG_EXTERN(const jobreg_error *) jobreg_error_last(void);

/** Forget the calling thread's last error. Thread-safe. */
JOBREG_EXTERN(void) jobreg_error_clear(void);

/**
 * A static description of an error code ("out of memory"); "unknown error"
 * for a value that is not a JOBREG_E* code. Never NULL; never free it.
 * Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(const char *) jobreg_strerror(int code);

/**
 * The code's symbolic name ("JOBREG_ENOMEM"), or "JOBREG_UNKNOWN" for a
 * value that is not a JOBREG_E* code. Static: never NULL, never free it.
 * Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(const char *) jobreg_error_name(int code);

/**
 * Free a string or buffer that a libjobreg function returned as owned by the
 * caller (documented as "free with jobreg_free"). Accepts NULL. Never pass
 * it memory of another allocator, nor a handle that has its own *_free().
 * Thread-safe.
 */
JOBREG_EXTERN(void) jobreg_free(void *ptr);

/** jobreg_init_options.nautobot_compat: never provide the compatibility modules. */
#define JOBREG_COMPAT_OFF 0
/**
 * jobreg_init_options.nautobot_compat, the default: provide the modules
 * `nautobot.apps.jobs` and `nautobot.apps.apps` unless a real `nautobot`
 * package is importable. As a source's mode
 * (jobreg_source_set_nautobot_compat()): Nautobot 2.x jobs, registered
 * only through `register_jobs`.
 */
#define JOBREG_COMPAT_AUTO 1
/**
 * Nautobot 1.x jobs (since 0.3.0). As jobreg_init_options.nautobot_compat:
 * the compatibility modules as with JOBREG_COMPAT_AUTO, and every source
 * registers Nautobot 1.x jobs unless the source says otherwise
 * (jobreg_source_set_nautobot_compat()): each module's `Job` subclasses
 * (or its `jobs = [...]` list) are jobs without `register_jobs`. As a
 * source's mode: that source registers Nautobot 1.x jobs.
 */
#define JOBREG_COMPAT_1X 2
/**
 * A source's mode (since 0.3.0): as jobreg_init() said (JOBREG_COMPAT_1X
 * there means 1.x jobs, anything else 2.x jobs). The default of every
 * source; not a value of jobreg_init_options.nautobot_compat.
 */
#define JOBREG_COMPAT_DEFAULT (-1)

/**
 * Options of jobreg_init().
 *
 * Version history:
 *  - 1 (0.1.0): version, python_path, python_path_count, nautobot_compat.
 */
typedef struct jobreg_init_options {
	/** The structure version the caller fills in: JOBREG_INIT_OPTIONS_VERSION. */
	unsigned int version;
	/**
	 * Extra sys.path entries, appended in order (skipped when present).
	 * Borrowed for the call: the library copies what it needs.
	 */
	const char *const *python_path;
	/** How many entries `python_path` holds (0: none). */
	size_t python_path_count;
	/**
	 * JOBREG_COMPAT_AUTO (default): provide the `nautobot.apps.jobs` and
	 * `nautobot.apps.apps` compatibility modules unless a real `nautobot`
	 * package is importable. JOBREG_COMPAT_OFF: never provide them.
	 * JOBREG_COMPAT_1X (since 0.3.0): as AUTO, and sources register
	 * Nautobot 1.x jobs unless a source's own mode says otherwise. Any
	 * other value acts as JOBREG_COMPAT_AUTO, as it did before 0.3.0.
	 */
	int nautobot_compat;
} jobreg_init_options;

/** The version of jobreg_init_options these headers describe. */
#define JOBREG_INIT_OPTIONS_VERSION 1
/** Static initializer of jobreg_init_options: this version, the defaults. */
#define JOBREG_INIT_OPTIONS_INIT                                 \
	{                                                            \
		JOBREG_INIT_OPTIONS_VERSION, NULL, 0, JOBREG_COMPAT_AUTO \
	}

/**
 * Fill `opts` with the defaults of structure version `version`.
 * Returns 0, or JOBREG_EVERSION for a version this library does not know
 * (JOBREG_EINVAL for a NULL `opts`). Writes only the bytes of that version.
 * Thread-safe; needs no jobreg_init().
 */
JOBREG_EXTERN(int)
jobreg_init_options_init(jobreg_init_options *opts, unsigned int version);

/**
 * Start the library. Reference-counted: every successful call must be paired
 * with jobreg_shutdown().
 *
 * The first call starts an embedded CPython (isolated configuration, UTF-8
 * mode whatever the locale, no signal handlers) when no interpreter runs in the process; when one already
 * runs (the library is used from Python, or the host started one), it is
 * borrowed and never finalized. The job-author modules (`jobreg.jobs`, and
 * with compatibility on `nautobot.apps.jobs`/`nautobot.apps.apps`) are
 * installed into that interpreter. `python_path` is applied on every call;
 * `nautobot_compat` only on the first.
 *
 * `opts` may be NULL for the defaults. Returns the new reference count (> 0)
 * or a negative error code. Thread-safe; takes the GIL itself and returns
 * without holding it.
 */
JOBREG_EXTERN(int) jobreg_init(const jobreg_init_options *opts);

/**
 * Release one reference taken by jobreg_init(). When the last one goes, an
 * interpreter the library started is finalized (a borrowed one never is);
 * free every registry, snapshot and job first, and make that last call from
 * the thread that made the first jobreg_init(). Returns the remaining
 * count, or JOBREG_ESTATE when the library was not initialized.
 * Thread-safe (the count is kept under a lock).
 */
JOBREG_EXTERN(int) jobreg_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif
