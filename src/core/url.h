/*
 * url.h: parsing connection URLs (postgres://, mysql://, file://, s3://, nats://).
 *
 * scheme://[user[:password]@]host[:port][/path][?k=v&k=v]. Components are
 * percent-decoded. The parsed URL owns its strings; sl_url_free() releases them.
 *
 * One splitter (sl_url_split) finds the user, password and host in the text, and every
 * function here that parses, masks or rewrites a URL goes through it, so what is parsed
 * as the password is exactly what is masked. The authority ends at the first '/', '?' or
 * '#'. A URL whose password cannot be told apart unambiguously (an unencoded '@', '/',
 * '?' or '#' in it: more than one '@' in the authority, or an '@' further on that could
 * end a "user:password") is refused, with a hint to percent-encode it or to give the
 * password in its own field. All functions are pure and thread-safe.
 */
#ifndef SL_CORE_URL_H
#define SL_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

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

/* Where the parts of a URL's authority sit in its text (byte offsets). */
typedef struct sl_url_split {
    size_t scheme_end; /* the scheme is [0, scheme_end); "://" follows */
    size_t auth;       /* the authority is [auth, auth_end) */
    size_t auth_end;
    bool has_user;     /* a userinfo "user[:password]@" starts the authority */
    size_t user_end;   /* the user is [auth, user_end) */
    bool has_password;
    size_t pw, pw_end; /* the password is [pw, pw_end) (still percent-encoded) */
    size_t host;       /* host[:port] is [host, auth_end) */
} sl_url_split_t;

/* Splits s (see the rules above). SL_E_CONFIG when it has no scheme or an ambiguous
 * password; the message never contains the URL. */
int sl_url_split(const char *s, sl_url_split_t *sp, sl_err_t *err);

int sl_url_parse(const char *s, sl_url_t **out, sl_err_t *err);
void sl_url_free(sl_url_t *u);
/* The value of a query parameter, or NULL. */
const char *sl_url_param(const sl_url_t *u, const char *key);
/* Replaces (or sets) the password; takes a copy. */
int sl_url_set_password(sl_url_t *u, const char *password, sl_err_t *err);

/* A copy of url with its password replaced by "****" (caller frees). Of a URL that does
 * not split, all between the scheme and its last '@' becomes "****". */
char *sl_url_mask(const char *url);
/* A copy of url with its password set to password, percent-encoded (caller frees); NULL
 * when the URL names no user or does not split. */
char *sl_url_with_password(const char *url, const char *password);
/* True when a and b parse and are the same URL but for the password: same scheme (an
 * alias counts as the same), user, host (case-insensitive), port, path and query
 * parameters (in any order). A secret kept for a may be used for b only then. */
bool sl_url_same_endpoint(const char *a, const char *b);

/* The hint of a login the server refused (db/pg, db/mysql). Only the caller knows
 * whether the password was in the URL or given apart (a spec's or a stored connection's
 * "password" field, merged into the URL): sl_url_hint_password then rewrites this hint,
 * and no other, to "check the user name in the URL and <where>". */
#define SL_URL_HINT_PASSWORD "check the user name and password in the URL"
void sl_url_hint_password(sl_err_t *err, const char *where);

#endif
