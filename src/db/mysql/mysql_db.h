/*
 * mysql_db.h: what the MariaDB/MySQL source and target share: one session opened
 * from a mysql:// URL with sluice's session settings, server errors mapped onto
 * sl_err_t, and the pure text helpers both sides need to build SQL (identifier and
 * string quoting, bit strings, canonical number checks).
 *
 * A sl_mysql_t is embedded by value in the source and target connection structs;
 * sl_mysql_close() releases what sl_mysql_connect() opened and is safe on a zeroed or
 * already closed session. Each session is used by one thread at a time.
 *
 * The text helpers are pure (no server, no globals) so unit tests cover them.
 */
#ifndef SL_DB_MYSQL_DB_H
#define SL_DB_MYSQL_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/url.h"

typedef struct sl_mysql {
    MYSQL *db;
    char *database;       /* the URL's path: where tables are read or created */
    char *user;
    char *account;        /* CURRENT_USER(): "user@host" as the server knows the login */
    char where[300];      /* "host:port" for messages (never the password) */
    bool mariadb;         /* server is MariaDB (information_schema differs from MySQL 8) */
    unsigned long max_packet; /* the server's max_allowed_packet, read at connect */
} sl_mysql_t;

/* Opens a session: utf8mb4, UTC session time zone, strict sql_mode, long network
 * timeouts, LOCAL INFILE off. Failures are SL_E_CONNECT (SL_E_NOT_FOUND for an
 * unknown database) with a hint. */
int sl_mysql_connect(const sl_url_t *url, sl_mysql_t *my, sl_err_t *err);
void sl_mysql_close(sl_mysql_t *my);

/* Fills err from the session's last error. `what` is the action in the primary
 * message ("could not <what>: <server message>"). The code and flags follow the
 * server error number: lost connections, deadlocks and lock timeouts are retriable;
 * missing privileges SL_E_PRIVILEGE; bad values SL_E_DATA (fatal). Returns -1. */
int sl_mysql_fail(sl_mysql_t *my, sl_err_t *err, const char *what);
/* The same classification for an error number and message (pure). user: the account
 * ("user@host", CURRENT_USER()) or the user name, for the GRANT in a hint. */
int sl_mysql_fail_code(unsigned int errnum, const char *sqlstate, const char *msg,
                       const char *what, const char *database, const char *user,
                       sl_err_t *err);
/* The account a GRANT names, pasteable: 'user'@'host' from "user@host" (the last '@'
 * splits, as in CURRENT_USER()), 'user'@'%' from a bare user name, CURRENT_USER when
 * none is known; quotes doubled. Into buf (pure). */
const char *sl_mysql_account(const char *who, char *buf, size_t size);

/* Runs one statement that returns no rows. */
int sl_mysql_exec(sl_mysql_t *my, const char *sql, sl_err_t *err);
/* Runs a query and stores its whole result (small metadata queries only).
 * *res is the caller's to mysql_free_result(). */
int sl_mysql_query(sl_mysql_t *my, const char *sql, MYSQL_RES **res, sl_err_t *err);
/* Runs a query expected to give at most one row and one column: copies it into
 * *out (NULL when no row or SQL NULL; caller frees). */
int sl_mysql_query_value(sl_mysql_t *my, const char *sql, char **out, sl_err_t *err);

/* ---- pure text helpers (mysql_text.c) ------------------------------------ */

/* Appends `name` quoted with backticks, doubling backticks inside. */
int sl_mysql_add_ident(sl_buf_t *b, const char *name, sl_err_t *err);
/* Appends '...' with the escapes of mysql_real_escape_string() for utf8mb4 (the
 * session character set is always utf8mb4 and sql_mode never has
 * NO_BACKSLASH_ESCAPES, so the rules are fixed and no server handle is needed). */
int sl_mysql_add_string(sl_buf_t *b, const char *p, size_t n, sl_err_t *err);
/* Appends x'<hex>' (empty input gives x''). */
int sl_mysql_add_hex(sl_buf_t *b, const void *p, size_t n, sl_err_t *err);

/* Raw BIT(n) bytes (big-endian, as the server sends them) to exactly nbits '0'/'1'
 * characters in out (nbits+1 bytes, NUL-terminated). Leading bytes beyond nbits
 * must be zero bits; returns -1 if a set bit would be lost. */
int sl_mysql_bits_to_text(const unsigned char *p, size_t n, int nbits, char *out);
/* True if p[0..n) is a valid canonical integer: -?[0-9]+ (at most 20 digits). */
bool sl_mysql_is_integer(const char *p, size_t n);
/* True if p[0..n) is a plain decimal number: -?digits[.digits] or -?.digits (no
 * exponent, no NaN). */
bool sl_mysql_is_plain_decimal(const char *p, size_t n);
/* True if p[0..n) is a finite float in decimal or exponent form. */
bool sl_mysql_is_float(const char *p, size_t n);
/* Counts the integer digits (leading zeros dropped) and fraction digits (trailing
 * zeros dropped) of a plain decimal. */
void sl_mysql_decimal_digits(const char *p, size_t n, int *intdigits, int *fracdigits);
/* Drops trailing zeros of a time/datetime fraction, and the '.' when nothing is
 * left: "10:00:00.500000" -> "10:00:00.5", "10:00:00.000" -> "10:00:00". Returns the
 * new length. */
size_t sl_mysql_trim_fraction(const char *p, size_t n);
/* True for '0000-00-00' style dates (also with a zero month or day), with or without
 * a time part: MySQL's zero dates that have no canonical form. */
bool sl_mysql_is_zero_date(const char *p, size_t n);

#endif
