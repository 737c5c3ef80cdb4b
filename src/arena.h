/* arena.h: a bump allocator for strings that all die together (internal). */
#ifndef JR_ARENA_H
#define JR_ARENA_H

#include <stddef.h>

typedef struct jr_arena {
	struct jr_arena_chunk *head;
	size_t used; /* bytes used in head */
} jr_arena;

#define JR_ARENA_INIT \
	{                 \
		NULL, 0       \
	}

/* `size` bytes aligned for any scalar, or NULL when out of memory (error set). */
void *jr_arena_alloc(jr_arena *arena, size_t size);
/* A copy of `s` (NULL becomes ""), or NULL when out of memory (error set). */
const char *jr_arena_strdup(jr_arena *arena, const char *s);
void jr_arena_free(jr_arena *arena);
/* Bytes held, for the per-job memory figures. */
size_t jr_arena_size(const jr_arena *arena);

#endif
