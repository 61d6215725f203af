/*
 * pg.h: PostgreSQL helpers shared by the PostgreSQL source and target.
 *
 * Two halves. The connection half (pg_conn.c) opens a libpq connection from a
 * sl_url_t with the session settings that make PostgreSQL print values in their
 * canonical text form (model/types.h), and turns libpq failures into sl_err_t with
 * the retriable/fatal flags the supervisor acts on. The text half (pg_text.c) is
 * pure: identifier and literal quoting, COPY text-format escaping and unescaping,
 * bytea hex decoding; it does no I/O and is unit-tested without a server.
 *
 * Ownership: a sl_pg_t owns its connection and strings; sl_pg_disconnect() releases
 * them (and is a no-op on a zeroed struct). A connection is used by one thread at a
 * time, like the source or target that embeds it.
 */
#ifndef SL_DB_PG_PG_H
#define SL_DB_PG_PG_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/url.h"
#include "model/batch.h"

typedef struct sl_pg {
    PGconn *conn;
    char *schema; /* the URL's ?schema=, "public" by default */
    char *where;  /* "host:port" for messages (never the password) */
    char *user;   /* the user we are connected as, for GRANT hints */
    char *dbname;
} sl_pg_t;

/* ---- connection (pg_conn.c) --------------------------------------------- */

/* Connects and applies the canonical session settings. On failure pg is left
 * zeroed and err says why: SL_E_CONNECT (retriable unless the credentials are
 * wrong) or SL_E_NOT_FOUND for a missing database. */
int sl_pg_connect(const sl_url_t *url, sl_pg_t *pg, sl_err_t *err);
/* The application_name of every connection this process opens from now on (default
 * "sluice"; a worker names itself, docs/cluster.md). Set once at start. */
void sl_pg_application_name(const char *name);
void sl_pg_disconnect(sl_pg_t *pg);

/* Fills err from a failed result (res may be NULL when libpq returned none) and
 * clears res. The primary message is "<what>: <server message>"; the server's
 * detail and hint are kept; the SQLSTATE decides the code and flags (class 08,
 * 40001, 40P01, 57P01 and a dead connection are retriable; 42501 is
 * SL_E_PRIVILEGE; 22xxx and 23xxx are SL_E_DATA). Returns -1. */
int sl_pg_fail(sl_pg_t *pg, PGresult *res, sl_err_t *err, const char *what);

/* Runs sql (optionally with text parameters) and returns its result when it
 * succeeded (tuples or command); otherwise NULL with err filled as sl_pg_fail()
 * does. The caller PQclear()s the result. */
PGresult *sl_pg_query(sl_pg_t *pg, const char *sql, int nparams, const char *const *params,
                      sl_err_t *err, const char *what);
/* sl_pg_query() for statements whose result is not needed. */
int sl_pg_exec(sl_pg_t *pg, const char *sql, sl_err_t *err, const char *what);

/* The SQLSTATE of a failed result, "" when none. */
const char *sl_pg_sqlstate(const PGresult *res);

/* ---- text (pg_text.c, pure) --------------------------------------------- */

/* Appends "id" with embedded double quotes doubled. */
int sl_pg_add_ident(sl_buf_t *b, const char *id, sl_err_t *err);
/* A role for a GRANT in a hint, pasteable: "user" quoted as an identifier, into buf
 * (CURRENT_USER when unknown). */
const char *sl_pg_role_text(const char *user, char *buf, size_t size);
/* Appends "schema"."name". */
int sl_pg_add_qname(sl_buf_t *b, const char *schema, const char *name, sl_err_t *err);
/* Appends a string literal of s[0..n): '...' with quotes doubled, or E'...' with
 * backslashes doubled too when s holds a backslash (as PQescapeLiteral does, so it
 * reads the same whatever standard_conforming_strings says). A NUL byte cannot be
 * part of a PostgreSQL string: SL_E_DATA. */
int sl_pg_add_literal(sl_buf_t *b, const char *s, size_t n, sl_err_t *err);
/* Appends '\x<hex>'::bytea for raw bytes. */
int sl_pg_add_bytea_literal(sl_buf_t *b, const char *p, size_t n, sl_err_t *err);

/* COPY text format, one field: appends p[0..n) with backslash, tab, newline and
 * carriage return escaped. Returns 0, 1 when the value holds a NUL byte (nothing
 * is appended past it; PostgreSQL text cannot store NUL, the caller names the row),
 * or -1 when the buffer limit is hit. */
int sl_pg_copy_escape(sl_buf_t *b, const char *p, size_t n, sl_err_t *err);
/* COPY text format, one bytea field: appends \\x and the hex digits. */
int sl_pg_copy_add_bytea(sl_buf_t *b, const char *p, size_t n, sl_err_t *err);
/* Undoes COPY text escaping in place (\b \f \n \r \t \v \\, \ooo octal, \xhh hex,
 * any other \c is c). Returns the new length (never longer than n). */
size_t sl_pg_copy_unescape(char *s, size_t n);
/* Splits one COPY text line (with or without its trailing newline) into exactly
 * nvals fields, unescaping each in place; "\N" becomes NULL (len -1). Values point
 * into line. Returns the number of fields found, which differs from nvals when the
 * line is malformed (then vals is only partly filled). */
int sl_pg_copy_split(char *line, size_t len, sl_value_t *vals, int nvals);
/* Decodes bytea hex output ("\x0aff") in place into raw bytes. Returns the byte
 * count, or -1 when s is not valid hex output. */
long long sl_pg_hex_decode(char *s, size_t n);

#endif
