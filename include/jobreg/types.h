/*
 * types.h: the opaque handles of libjobreg, declared once, and the kinds of
 * source.
 *
 * Every handle the API passes around is declared here and nowhere else
 * (libgit2's git2/types.h), so a header that only passes a handle along
 * needs no other header; its functions are in the header of its subject
 * (docs/conventions.md). The layouts are the library's business: a host
 * only ever holds pointers.
 */
#ifndef JOBREG_TYPES_H
#define JOBREG_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Loading: jobreg/registry.h, jobreg/source.h, jobreg/snapshot.h, jobreg/job.h */

/** A set of sources and the generation of jobs last loaded from them. */
typedef struct jobreg_registry jobreg_registry;

/** Where job code comes from: a jobs root folder, a git checkout, an app. */
typedef struct jobreg_source jobreg_source;

/** One generation of a registry: its jobs and its load errors, frozen. */
typedef struct jobreg_snapshot jobreg_snapshot;

/** A loaded job class and the metadata read from it. */
typedef struct jobreg_job jobreg_job;

/** One failure recorded while loading a source. */
typedef struct jobreg_load_error jobreg_load_error;

/** The kinds of source. The values are part of the ABI. */
typedef enum jobreg_source_t {
	JOBREG_SOURCE_LOCAL = 1, /**< a jobs root folder ("local"; name "") */
	JOBREG_SOURCE_GIT = 2,   /**< a git repository's checkout ("git"; name: the slug) */
	JOBREG_SOURCE_APP = 3    /**< an app package ("app"; name: the package) */
} jobreg_source_t;

/* Git: jobreg/git.h */

/**
 * The answer a credentials callback fills in: an opaque handle owned by the
 * library, valid only during the callback. Fill it with one of the
 * jobreg_git_credential_set_*() functions; the strings are copied and wiped
 * from memory once the transfer has used them.
 */
typedef struct jobreg_git_credential jobreg_git_credential;

/* Records and storage: jobreg/records.h and the headers it includes */

/** One job record, opaque: its fields are read and set through jobreg_field. */
typedef struct jobreg_record jobreg_record;

/** An ordered list of records owned by the caller. */
typedef struct jobreg_record_list jobreg_record_list;

/** A storage handle: a backend and its payload. */
typedef struct jobreg_storage jobreg_storage;

/**
 * The load errors a storage keeps (since 0.3.0; jobreg/storage_ops.h):
 * a list owned by the caller.
 */
typedef struct jobreg_load_error_list jobreg_load_error_list;

/** What a refresh did. */
typedef struct jobreg_refresh_result jobreg_refresh_result;

/* Running: jobreg/run.h */

/**
 * Where a host operation's answer goes (since 0.3.0): handed to a
 * jobreg_host_fn, valid only during that call. Opaque.
 */
typedef struct jobreg_host_reply jobreg_host_reply;

/** What a run produced. */
typedef struct jobreg_run_result jobreg_run_result;

/**
 * A cancel token (since 0.3.0; jobreg/cancel.h): a flag any thread or
 * signal handler may set to stop the runs given it. Opaque.
 */
typedef struct jobreg_cancel jobreg_cancel;

/* Configuration: jobreg/config.h */

/** A parsed `jobreg.yaml`. Opaque and immutable. */
typedef struct jobreg_config jobreg_config;

#ifdef __cplusplus
}
#endif

#endif
