/* strmap.c: an open-addressing hash map from strings to pointers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strmap.h"
#include "util.h"

static uint64_t hash(const char *s)
{
	uint64_t h = JR_FNV_OFFSET;

	/* FNV-1a over the characters, without a strlen() pass first. */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= JR_FNV_PRIME;
	}
	return h;
}

int jr_strmap_init(jr_strmap *map, size_t expected)
{
	size_t capacity = 16;

	/* At most half full: probes stay short. */
	while (capacity < expected * 2)
		capacity *= 2;
	map->slots = calloc(capacity, sizeof(*map->slots));
	if (!map->slots)
		return jr_error_oom();
	map->capacity = capacity;
	map->count = 0;
	return 0;
}

void jr_strmap_free(jr_strmap *map)
{
	free(map->slots);
	map->slots = NULL;
	map->capacity = map->count = 0;
}

struct jr_strmap_slot *jr_strmap_slot(jr_strmap *map, const char *key)
{
	size_t mask = map->capacity - 1, i = (size_t)hash(key) & mask;

	while (map->slots[i].key && strcmp(map->slots[i].key, key) != 0)
		i = (i + 1) & mask;
	return &map->slots[i];
}

void jr_strmap_added(jr_strmap *map)
{
	map->count++;
}

void *jr_strmap_get(const jr_strmap *map, const char *key)
{
	size_t mask, i;

	if (!map->capacity)
		return NULL;
	mask = map->capacity - 1;
	for (i = (size_t)hash(key) & mask; map->slots[i].key; i = (i + 1) & mask) {
		if (strcmp(map->slots[i].key, key) == 0)
			return map->slots[i].value;
	}
	return NULL;
}
