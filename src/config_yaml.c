/* config_yaml.c: one YAML document into a tree of positioned nodes (libyaml events). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_yaml.h"
#include "error.h"
#include "util.h"

#define TAG_PREFIX "tag:yaml.org,2002:"

struct jr_yanchor {
	char *name;
	jr_ynode *node;
	struct jr_yanchor *next;
};

/* The collections being built, outermost first. */
struct stack {
	jr_ynode **frames;
	size_t depth, cap;
};

struct reader {
	jr_ydoc *doc;
	struct stack stack;
	const char *text;
	size_t len;
	const char *name;
};

static jr_ynode *node_new(jr_ydoc *doc, jr_ykind kind, yaml_mark_t mark)
{
	jr_ynode *n = calloc(1, sizeof(*n));

	if (!n) {
		jr_error_oom();
		return NULL;
	}
	n->kind = kind;
	n->line = (unsigned int)mark.line + 1;
	n->column = (unsigned int)mark.column + 1;
	n->next_alloc = doc->all;
	doc->all = n;
	return n;
}

static int node_append(jr_ynode *parent, jr_ynode *child)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		jr_ynode **items = realloc(parent->items, cap * sizeof(*items));

		if (!items)
			return jr_error_oom();
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = child;
	return 0;
}

void jr_ydoc_free(jr_ydoc *doc)
{
	jr_ynode *n, *next;
	struct jr_yanchor *a, *anext;

	if (!doc)
		return;
	for (n = doc->all; n; n = next) {
		next = n->next_alloc;
		free(n->text);
		free(n->items);
		free(n);
	}
	for (a = doc->anchors; a; a = anext) {
		anext = a->next;
		free(a->name);
		free(a);
	}
	memset(doc, 0, sizeof(*doc));
}

static void put_key_text(jr_buf *b, const jr_ynode *key)
{
	if (b->len)
		jr_buf_putc(b, '.');
	if (key->kind == JR_YSCALAR)
		jr_buf_puts(b, key->text);
	else
		jr_buf_putc(b, '?');
}

/*
 * Where the reader is, as a setting path ("git_repositories[0].slug"), so
 * that a syntax error names the key being read. `*after` is set when the
 * reader sits between two keys of a mapping: the path is then the last key
 * completed.
 */
static char *describe_position(const struct stack *st, int *after)
{
	jr_buf b = JR_BUF_INIT;
	size_t i;

	*after = 0;
	for (i = 0; i < st->depth; i++) {
		const jr_ynode *f = st->frames[i];
		int innermost = i + 1 == st->depth;

		if (f->kind == JR_YMAP) {
			if (f->count % 2 == 1) {
				put_key_text(&b, f->items[f->count - 1]);
			} else if (innermost && f->count > 0) {
				put_key_text(&b, f->items[f->count - 2]);
				*after = 1;
			} else if (!innermost) {
				put_key_text(&b, f); /* a collection used as a key: "?" */
			}
		} else if (!innermost) {
			jr_buf_printf(&b, "[%zu]", f->count);
		}
	}
	return jr_buf_detach(&b);
}

/* How many bytes of `s` a message shows when at most `max` fit: whole UTF-8
 * characters only, so that a cut never leaves half of one. */
static int shown_len(const char *s, int max)
{
	int n = (int)strnlen(s, (size_t)max + 1);

	if (n <= max)
		return n;
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}

/* "NAME:L:C: WHAT in 'PATH': DETAIL" with the reader's position as PATH. */
static int fail_at(struct reader *r, unsigned int line, unsigned int column, const char *what,
                   const char *detail)
{
	int after;
	char *path = describe_position(&r->stack, &after);

	if (!path)
		return JOBREG_ENOMEM;
	if (*path)
		jr_error_set(JOBREG_ECONFIG, "%s:%u:%u: %s %s '%s': %s", r->name, line, column, what,
		             after ? "after" : "in", path, detail);
	else
		jr_error_set(JOBREG_ECONFIG, "%s:%u:%u: %s: %s", r->name, line, column, what, detail);
	free(path);
	return JOBREG_ECONFIG;
}

/* A reader error carries only a byte offset: count lines and characters. */
static void offset_to_position(const char *text, size_t len, size_t offset, unsigned int *line,
                               unsigned int *column)
{
	size_t i;

	*line = 1;
	*column = 1;
	for (i = 0; i < offset && i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n') {
			(*line)++;
			*column = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*column)++;
		}
	}
}

static int syntax_error(struct reader *r, const yaml_parser_t *parser)
{
	unsigned int line, column;
	jr_buf detail = JR_BUF_INIT;
	int rc;

	if (parser->error == YAML_MEMORY_ERROR)
		return jr_error_oom();
	if (parser->error == YAML_READER_ERROR) {
		offset_to_position(r->text, r->len, parser->problem_offset, &line, &column);
		jr_buf_puts(&detail, parser->problem ? parser->problem : "unreadable input");
		if (parser->problem_value != -1)
			jr_buf_printf(&detail, " (byte 0x%02X)", (unsigned int)parser->problem_value & 0xFF);
	} else {
		line = (unsigned int)parser->problem_mark.line + 1;
		column = (unsigned int)parser->problem_mark.column + 1;
		jr_buf_puts(&detail, parser->problem ? parser->problem : "invalid YAML");
		if (parser->context)
			jr_buf_printf(&detail, " (%s that starts at %u:%u)", parser->context,
			              (unsigned int)parser->context_mark.line + 1,
			              (unsigned int)parser->context_mark.column + 1);
	}
	if (jr_buf_status(&detail) < 0) {
		jr_buf_free(&detail);
		return JOBREG_ENOMEM;
	}
	rc = fail_at(r, line, column, "YAML syntax error", detail.ptr);
	jr_buf_free(&detail);
	return rc;
}

static int text_in(const char *text, const char *const *choices)
{
	for (; *choices; choices++)
		if (strcmp(text, *choices) == 0)
			return 1;
	return 0;
}

static int is_decimal_number(const char *s, int *is_int)
{
	int digits = 0;

	*is_int = 1;
	if (*s == '+' || *s == '-')
		s++;
	while (*s >= '0' && *s <= '9') {
		s++;
		digits++;
	}
	if (*s == '.') {
		*is_int = 0;
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			digits++;
		}
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		*is_int = 0;
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!(*s >= '0' && *s <= '9'))
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* The YAML 1.1 resolution PyYAML applies to plain scalars (decimal numbers only). */
static jr_ytype resolve_plain(jr_ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL", NULL };
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes",
		                                 "YES",  "on",   "On",   "ON",  NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no",  "No",
		                                  "NO",    "off",   "Off",   "OFF", NULL };
	static const char *const infs[] = { ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL };
	static const char *const minus_infs[] = { "-.inf", "-.Inf", "-.INF", NULL };
	static const char *const nans[] = { ".nan", ".NaN", ".NAN", NULL };
	int is_int;

	if (strlen(n->text) != n->len)
		return JR_YSTR;
	if (text_in(n->text, nulls))
		return JR_YNULL;
	if (text_in(n->text, trues)) {
		n->boolean = 1;
		return JR_YBOOL;
	}
	if (text_in(n->text, falses))
		return JR_YBOOL;
	if (text_in(n->text, infs)) {
		n->number = INFINITY;
		return JR_YFLOAT;
	}
	if (text_in(n->text, minus_infs)) {
		n->number = -INFINITY;
		return JR_YFLOAT;
	}
	if (text_in(n->text, nans)) {
		n->number = NAN;
		return JR_YFLOAT;
	}
	if (is_decimal_number(n->text, &is_int)) {
		n->number = strtod(n->text, NULL);
		return is_int ? JR_YINT : JR_YFLOAT;
	}
	return JR_YSTR;
}

/* A scalar's type from its tag: none (plain or quoted), "!", or a core tag. */
static int resolve_scalar(struct reader *r, jr_ynode *n, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	static const struct {
		const char *name;
		jr_ytype type;
	} core[] = {
		{ "null", JR_YNULL }, { "bool", JR_YBOOL }, { "int", JR_YINT }, { "float", JR_YFLOAT }
	};
	size_t i;

	if (!tag) {
		n->type = ev->data.scalar.plain_implicit ? resolve_plain(n) : JR_YSTR;
		return 0;
	}
	if (strcmp(tag, "!") == 0 || strcmp(tag, TAG_PREFIX "str") == 0) {
		n->type = JR_YSTR;
		return 0;
	}
	if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0) {
		for (i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
			jr_ytype got;
			char detail[160];

			if (strcmp(tag + strlen(TAG_PREFIX), core[i].name) != 0)
				continue;
			got = resolve_plain(n);
			if (got == JR_YINT && core[i].type == JR_YFLOAT)
				got = JR_YFLOAT;
			if (got == core[i].type) {
				n->type = got;
				return 0;
			}
			snprintf(detail, sizeof(detail), "'%.*s' is not a valid !!%s", shown_len(n->text, 60),
			         n->text, core[i].name);
			return fail_at(r, n->line, n->column, "bad value", detail);
		}
	}
	{
		char detail[200];

		snprintf(detail, sizeof(detail), "unsupported YAML tag '%.*s'", shown_len(tag, 100), tag);
		return fail_at(r, n->line, n->column, "bad value", detail);
	}
}

static int check_collection_tag(struct reader *r, const yaml_char_t *tag, const char *want,
                                yaml_mark_t mark)
{
	char detail[200];

	if (!tag || strcmp((const char *)tag, "!") == 0 ||
	    (strncmp((const char *)tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0 &&
	     strcmp((const char *)tag + strlen(TAG_PREFIX), want) == 0))
		return 0;
	snprintf(detail, sizeof(detail), "unsupported YAML tag '%.*s'",
	         shown_len((const char *)tag, 100), (const char *)tag);
	return fail_at(r, (unsigned int)mark.line + 1, (unsigned int)mark.column + 1, "bad value",
	               detail);
}

static int remember_anchor(struct reader *r, const yaml_char_t *anchor, jr_ynode *n)
{
	struct jr_yanchor *a;

	if (!anchor)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return jr_error_oom();
	a->name = jr_strdup((const char *)anchor);
	if (!a->name) {
		free(a);
		return JOBREG_ENOMEM;
	}
	/* Newest first: a redefined anchor means its latest definition. */
	a->node = n;
	a->next = r->doc->anchors;
	r->doc->anchors = a;
	return 0;
}

static jr_ynode *find_anchor(const jr_ydoc *doc, const char *name)
{
	const struct jr_yanchor *a;

	for (a = doc->anchors; a; a = a->next)
		if (strcmp(a->name, name) == 0)
			return a->node;
	return NULL;
}

/* A finished node goes into the innermost open collection, or becomes the root. */
static int place(struct reader *r, jr_ynode *n)
{
	if (r->stack.depth == 0) {
		r->doc->root = n;
		return 0;
	}
	return node_append(r->stack.frames[r->stack.depth - 1], n);
}

static int push(struct reader *r, jr_ynode *n)
{
	struct stack *st = &r->stack;

	/* Far deeper than any jobreg.yaml: a bound on memory and on libyaml,
	 * whose scanner costs the depth again for every token (10,000 levels
	 * took seconds): stopping at the first level too many keeps it fast. */
	if (st->depth >= JR_YAML_MAX_DEPTH) {
		char detail[120];

		snprintf(detail, sizeof(detail),
		         "lists and mappings nested deeper than %d levels (the configuration "
		         "needs 3)",
		         JR_YAML_MAX_DEPTH);
		return fail_at(r, n->line, n->column, "nesting too deep", detail);
	}
	if (st->depth == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		jr_ynode **frames = realloc(st->frames, cap * sizeof(*frames));

		if (!frames)
			return jr_error_oom();
		st->frames = frames;
		st->cap = cap;
	}
	st->frames[st->depth++] = n;
	return 0;
}

static int on_event(struct reader *r, const yaml_event_t *ev, int *documents, int *done)
{
	jr_ynode *n;
	int rc;

	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1)
			return fail_at(r, (unsigned int)ev->start_mark.line + 1,
			               (unsigned int)ev->start_mark.column + 1, "a second YAML document",
			               "the configuration must be a single document");
		return 0;
	case YAML_ALIAS_EVENT:
		n = find_anchor(r->doc, (const char *)ev->data.alias.anchor);
		if (!n) {
			char detail[160];

			snprintf(detail, sizeof(detail), "unknown anchor '*%.*s'",
			         shown_len((const char *)ev->data.alias.anchor, 100),
			         (const char *)ev->data.alias.anchor);
			return fail_at(r, (unsigned int)ev->start_mark.line + 1,
			               (unsigned int)ev->start_mark.column + 1, "bad value", detail);
		}
		/* Shared, not copied: aliases cannot blow the tree up. */
		return place(r, n);
	case YAML_SCALAR_EVENT:
		n = node_new(r->doc, JR_YSCALAR, ev->start_mark);
		if (!n)
			return JOBREG_ENOMEM;
		n->len = ev->data.scalar.length;
		n->text = jr_strndup((const char *)ev->data.scalar.value, n->len);
		if (!n->text)
			return JOBREG_ENOMEM;
		if ((rc = resolve_scalar(r, n, ev)) < 0)
			return rc;
		if ((rc = remember_anchor(r, ev->data.scalar.anchor, n)) < 0)
			return rc;
		return place(r, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *tag = seq ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
		const yaml_char_t *anchor = seq ? ev->data.sequence_start.anchor
		                                : ev->data.mapping_start.anchor;

		if ((rc = check_collection_tag(r, tag, seq ? "seq" : "map", ev->start_mark)) < 0)
			return rc;
		n = node_new(r->doc, seq ? JR_YSEQ : JR_YMAP, ev->start_mark);
		if (!n)
			return JOBREG_ENOMEM;
		if ((rc = remember_anchor(r, anchor, n)) < 0)
			return rc;
		return push(r, n);
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = r->stack.frames[--r->stack.depth];
		return place(r, n);
	}
	return 0;
}

int jr_ydoc_parse(jr_ydoc *doc, const char *text, size_t len, const char *name)
{
	yaml_parser_t parser;
	yaml_event_t event;
	struct reader r;
	int documents = 0, done = 0, rc = 0;

	memset(&r, 0, sizeof(r));
	r.doc = doc;
	r.text = text;
	r.len = len;
	r.name = name;
	if (!yaml_parser_initialize(&parser))
		return jr_error_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &event)) {
			rc = syntax_error(&r, &parser);
			break;
		}
		rc = on_event(&r, &event, &documents, &done);
		yaml_event_delete(&event);
		if (rc < 0)
			break;
	}
	yaml_parser_delete(&parser);
	free(r.stack.frames);
	return rc;
}
