/* sqlutil.h: reading a SQLite file directly in tests (header-only, for C tests). */
#ifndef JR_SQLUTIL_H
#define JR_SQLUTIL_H

#include <sqlite3.h>
#include <stdio.h>

/* The rows of `query` on the file `db`: columns joined by ",", rows by "|"
 * (static, valid until the next call); "(error: ...)" when it fails. */
static inline const char *sql(const char *db, const char *query)
{
	static char out[16384];
	sqlite3 *conn = NULL;
	sqlite3_stmt *stmt = NULL;
	size_t len = 0;
	int step, rows = 0, i;

	out[0] = '\0';
	if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(conn, query, -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(out, sizeof(out), "(error: %s)", conn ? sqlite3_errmsg(conn) : "no memory");
		sqlite3_close(conn);
		return out;
	}
	while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *text = sqlite3_column_text(stmt, i);
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
			                        i      ? ","
			                        : rows ? "|"
			                               : "",
			                        text ? (const char *)text : "NULL");
			if (len >= sizeof(out))
				len = sizeof(out) - 1;
		}
		rows++;
	}
	if (step != SQLITE_DONE)
		snprintf(out, sizeof(out), "(error: %s)", sqlite3_errmsg(conn));
	sqlite3_finalize(stmt);
	sqlite3_close(conn);
	return out;
}

#endif
