/*
 * config_yaml.h: one YAML document read into a small tree whose nodes keep
 * their line and column (internal; used by config.c).
 *
 * Plain scalars are resolved here (null, bool, int, float, string) the way
 * YAML 1.1 readers such as PyYAML do, but every scalar also keeps the text as
 * written, so a consumer that wants a string ("branch: 1.10") gets exactly
 * what the user typed.
 */
#ifndef JR_CONFIG_YAML_H
#define JR_CONFIG_YAML_H

#include <stddef.h>

typedef enum jr_ykind {
	JR_YSCALAR,
	JR_YSEQ,
	JR_YMAP
} jr_ykind;

/* What a scalar means: resolved from a plain scalar, or from its tag. */
typedef enum jr_ytype {
	JR_YNULL,
	JR_YBOOL,
	JR_YINT,
	JR_YFLOAT,
	JR_YSTR
} jr_ytype;

typedef struct jr_ynode {
	jr_ykind kind;
	unsigned int line, column; /* 1-based, in characters */
	/* scalars */
	jr_ytype type;
	char *text; /* as written (after unescaping), NUL-terminated */
	size_t len; /* may be < strlen-visible length if it holds a NUL */
	int boolean;
	double number;
	/* sequences: items; mappings: key, value, key, value, ... */
	struct jr_ynode **items;
	size_t count, cap;
	struct jr_ynode *next_alloc; /* every node of the document, for freeing */
} jr_ynode;

typedef struct jr_ydoc {
	jr_ynode *root; /* NULL for an empty stream */
	jr_ynode *all;
	struct jr_yanchor *anchors;
} jr_ydoc;

/* How deep lists and mappings may nest (jobreg.yaml needs 3). */
#define JR_YAML_MAX_DEPTH 64

/*
 * Parse `text` (one YAML document at most). On a syntax error returns
 * JOBREG_ECONFIG with "NAME:LINE:COLUMN: YAML syntax error in 'KEY': ..."
 * where KEY is the setting being read when the error was found; nesting
 * deeper than JR_YAML_MAX_DEPTH is such an error too. `doc` must
 * be zeroed; free it with jr_ydoc_free() in every case.
 */
int jr_ydoc_parse(jr_ydoc *doc, const char *text, size_t len, const char *name);
void jr_ydoc_free(jr_ydoc *doc);

/* Mapping helpers: pair `i` of a JR_YMAP node. */
#define JR_YKEY(map, i) ((map)->items[2 * (i)])
#define JR_YVALUE(map, i) ((map)->items[2 * (i) + 1])
#define JR_YPAIRS(map) ((map)->count / 2)

#endif
