/*
 * replay.c: feed corpus files to a fuzz target without libFuzzer.
 *
 *   replay_<target> PATH...
 *
 * Each PATH is a file or a folder (every regular file in it, in name order,
 * not recursing). Runs LLVMFuzzerInitialize() once, then
 * LLVMFuzzerTestOneInput() on every file; a broken promise aborts, exactly
 * as under libFuzzer. Builds with any C compiler, so every CI run replays
 * the seed corpora (suite 'fuzz-replay') and every crash found once stays
 * fixed once its input is added to the corpus.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

static size_t replayed;

static void replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	do {
		if (size == cap) {
			cap = cap ? cap * 2 : 4096;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		n = fread(data + size, 1, cap - size, f);
		size += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		exit(2);
	}
	fclose(f);
	/* A copy of exactly `size` bytes: reading past it is a bug that the
	 * sanitizers and valgrind should see, as libFuzzer would. */
	{
		uint8_t *exact = malloc(size ? size : 1);
		if (!exact)
			abort();
		memcpy(exact, data, size);
		free(data);
		LLVMFuzzerTestOneInput(exact, size);
		free(exact);
	}
	replayed++;
}

static int only_files(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static void replay_path(const char *path)
{
	struct stat st;
	struct dirent **entries;
	int n, i;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	if (!S_ISDIR(st.st_mode)) {
		replay_file(path);
		return;
	}
	n = scandir(path, &entries, only_files, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		exit(2);
	}
	for (i = 0; i < n; i++) {
		char full[4096];
		struct stat est;

		snprintf(full, sizeof(full), "%s/%s", path, entries[i]->d_name);
		if (stat(full, &est) == 0 && S_ISREG(est.st_mode))
			replay_file(full);
		free(entries[i]);
	}
	free(entries);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		replay_path(argv[i]);
	if (replayed == 0) {
		fprintf(stderr, "replay: no input found: an empty corpus tests nothing\n");
		return 1;
	}
	printf("replayed %zu inputs\n", replayed);
	return 0;
}
