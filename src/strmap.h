/* strmap.h: an open-addressing hash map from borrowed strings to pointers (internal). */
#ifndef JR_STRMAP_H
#define JR_STRMAP_H

#include <stddef.h>

typedef struct jr_strmap {
	struct jr_strmap_slot {
		const char *key; /* borrowed: must outlive the map */
		void *value;
	} * slots;
	size_t capacity; /* a power of two, or 0 */
	size_t count;
} jr_strmap;

/* Size the map for `expected` keys; 0 or JOBREG_ENOMEM. */
int jr_strmap_init(jr_strmap *map, size_t expected);
void jr_strmap_free(jr_strmap *map);

/*
 * The slot for `key`: its value is NULL when the key is new, in which case
 * the caller stores key and value and calls jr_strmap_added(). The map
 * does not grow: insert at most the `expected` keys it was sized for.
 */
struct jr_strmap_slot *jr_strmap_slot(jr_strmap *map, const char *key);
void jr_strmap_added(jr_strmap *map);

void *jr_strmap_get(const jr_strmap *map, const char *key);

#endif
