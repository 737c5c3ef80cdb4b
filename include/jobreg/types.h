/*
 * types.h: the opaque handles of libjobreg, declared once.
 */
#ifndef JOBREG_TYPES_H
#define JOBREG_TYPES_H

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif
