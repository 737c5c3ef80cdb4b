/* arena.c: a bump allocator for strings that all die together. */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "error.h"

#define CHUNK_SIZE 16384

struct jr_arena_chunk {
	struct jr_arena_chunk *next;
	size_t size;
	_Alignas(8) char data[];
};

void *jr_arena_alloc(jr_arena *arena, size_t size)
{
	size_t start = (arena->used + 7) & ~(size_t)7;
	void *p;

	if (!arena->head || start + size > arena->head->size) {
		size_t chunk_size = size > CHUNK_SIZE ? size : CHUNK_SIZE;
		struct jr_arena_chunk *chunk = malloc(sizeof(*chunk) + chunk_size);

		if (!chunk) {
			jr_error_oom();
			return NULL;
		}
		chunk->next = arena->head;
		chunk->size = chunk_size;
		arena->head = chunk;
		start = 0;
	}
	p = arena->head->data + start;
	arena->used = start + size;
	return p;
}

const char *jr_arena_strdup(jr_arena *arena, const char *s)
{
	size_t len;
	char *copy;

	if (!s)
		s = "";
	len = strlen(s) + 1;
	copy = jr_arena_alloc(arena, len);
	if (copy)
		memcpy(copy, s, len);
	return copy;
}

void jr_arena_free(jr_arena *arena)
{
	struct jr_arena_chunk *chunk = arena->head, *next;

	for (; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	arena->head = NULL;
	arena->used = 0;
}

size_t jr_arena_size(const jr_arena *arena)
{
	const struct jr_arena_chunk *chunk;
	size_t total = 0;

	for (chunk = arena->head; chunk; chunk = chunk->next)
		total += sizeof(*chunk) + chunk->size;
	return total;
}
