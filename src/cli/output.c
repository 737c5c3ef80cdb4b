/* output.c: records and strings for people (aligned text) and programs (JSON). */
#include <string.h>

#include "cli.h"

void json_put_string(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static const char *text(const jobreg_record *rec, jobreg_field field)
{
	return jobreg_record_text(rec, field);
}

void print_record_label(FILE *f, const jobreg_record *rec)
{
	fprintf(f, "'%s' (%s)", text(rec, JOBREG_FIELD_NAME), text(rec, JOBREG_FIELD_CLASS_PATH));
}

static const char *state_of(const jobreg_record *rec, int show_installed)
{
	int enabled = jobreg_record_bool(rec, JOBREG_FIELD_ENABLED) == 1;

	if (show_installed && jobreg_record_bool(rec, JOBREG_FIELD_INSTALLED) != 1)
		return enabled ? "enabled, not installed" : "disabled, not installed";
	return enabled ? "enabled" : "disabled";
}

/* Display width of UTF-8 text: characters, not bytes (close enough for names). */
static int width_of(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static void pad(FILE *f, const char *s, int width)
{
	int n;

	fputs(s, f);
	for (n = width_of(s); n < width; n++)
		fputc(' ', f);
}

void print_record_list(FILE *f, const jobreg_record_list *list, int show_installed)
{
	size_t i, count = jobreg_record_list_count(list);
	int name_w = 0, path_w = 0, state_w = 0;
	const char *group = NULL;

	for (i = 0; i < count; i++) {
		const jobreg_record *rec = jobreg_record_list_get(list, i);
		int w;

		if ((w = width_of(text(rec, JOBREG_FIELD_NAME))) > name_w)
			name_w = w;
		if ((w = width_of(text(rec, JOBREG_FIELD_CLASS_PATH))) > path_w)
			path_w = w;
		if ((w = width_of(state_of(rec, show_installed))) > state_w)
			state_w = w;
	}
	/* The storage lists by grouping first, so each group is one run. */
	for (i = 0; i < count; i++) {
		const jobreg_record *rec = jobreg_record_list_get(list, i);
		const char *grouping = text(rec, JOBREG_FIELD_GROUPING);

		if (!group || strcmp(group, grouping) != 0) {
			fprintf(f, "%s%s\n", group ? "\n" : "", *grouping ? grouping : "(no grouping)");
			group = grouping;
		}
		fputs("  ", f);
		pad(f, text(rec, JOBREG_FIELD_NAME), name_w);
		fputs("  ", f);
		pad(f, text(rec, JOBREG_FIELD_CLASS_PATH), path_w);
		fputs("  ", f);
		pad(f, state_of(rec, show_installed), state_w);
		fprintf(f, "  %s\n", text(rec, JOBREG_FIELD_ID));
	}
}

/* Multi-line text (a description) with its later lines under the first. */
static void put_indented(FILE *f, const char *s, int indent)
{
	for (; *s; s++) {
		fputc(*s, f);
		if (*s == '\n' && s[1])
			fprintf(f, "%*s", indent, "");
	}
}

void print_record(FILE *f, const jobreg_record *rec)
{
	size_t i, count = jobreg_record_field_count();
	int name_w = 0;

	for (i = 0; i < count; i++) {
		const char *name = jobreg_record_field_name((jobreg_field)i);
		int w = name ? width_of(name) : 0;

		if (w > name_w)
			name_w = w;
	}
	fprintf(f, "%s\n", text(rec, JOBREG_FIELD_NAME));
	for (i = 0; i < count; i++) {
		jobreg_field field = (jobreg_field)i;
		const char *name = jobreg_record_field_name(field);

		if (!name)
			continue;
		fputs("  ", f);
		pad(f, name, name_w);
		fputs("  ", f);
		switch (jobreg_record_field_kind(field)) {
		case JOBREG_FIELD_KIND_TEXT:
			/* An empty value shown as "" rather than as nothing. */
			if (*jobreg_record_text(rec, field))
				put_indented(f, jobreg_record_text(rec, field), name_w + 4);
			else
				fputs("\"\"", f);
			break;
		case JOBREG_FIELD_KIND_BOOL:
			fputs(jobreg_record_bool(rec, field) == 1 ? "true" : "false", f);
			break;
		case JOBREG_FIELD_KIND_REAL:
			fprintf(f, "%g", jobreg_record_real(rec, field));
			break;
		}
		fputc('\n', f);
	}
}
