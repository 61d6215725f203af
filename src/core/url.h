/*
 * url.h: parsing connection URLs (postgres://, mysql://, file://, s3://).
 *
 * scheme://[user[:password]@]host[:port][/path][?k=v&k=v]. Components are
 * percent-decoded. The parsed URL owns its strings; sl_url_free() releases them.
 * sl_url_redact() gives a loggable form with the password replaced by "***".
 */
#ifndef SL_CORE_URL_H
#define SL_CORE_URL_H

#include "core/err.h"

typedef struct sl_url_param {
    char *key;
    char *value;
} sl_url_param_t;

typedef struct sl_url {
    char *scheme;   /* lowercased: "postgres", "postgresql", "mysql", "mariadb", "file", "s3" */
    char *user;     /* NULL when absent */
    char *password; /* NULL when absent */
    char *host;     /* NULL when absent */
    int port;       /* 0 when absent */
    char *path;     /* without the leading '/', "" when absent (the database for SQL URLs) */
    sl_url_param_t *params;
    int nparams;
    char *raw;      /* the input, as given */
} sl_url_t;

int sl_url_parse(const char *s, sl_url_t **out, sl_err_t *err);
void sl_url_free(sl_url_t *u);
/* The value of a query parameter, or NULL. */
const char *sl_url_param(const sl_url_t *u, const char *key);
/* A copy of the URL without the password, into buf. */
const char *sl_url_redact(const char *url, char *buf, int size);
/* Replaces (or sets) the password; takes a copy. */
int sl_url_set_password(sl_url_t *u, const char *password, sl_err_t *err);

/* The hint of a login the server refused (db/pg, db/mysql). Only the caller knows
 * whether the password was in the URL or given apart (a spec's or a stored connection's
 * "password" field, merged into the URL): sl_url_hint_password then rewrites this hint,
 * and no other, to "check the user name in the URL and <where>". */
#define SL_URL_HINT_PASSWORD "check the user name and password in the URL"
void sl_url_hint_password(sl_err_t *err, const char *where);

#endif
