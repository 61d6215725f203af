/*
 * s3_conf.c: see s3_conf.h.
 */
#include "target/store/s3_conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PART_MB 8

/* The S3 store's URL parameters (core/opt.h): which parameters exist, the choices and
 * bounds checked below, and what describes them (`sluice options`, docs/files.md, GET
 * /api/v1/options). */
enum { R_ENDPOINT, R_REGION, R_STYLE, R_CLASS, R_SSE, R_KMS, R_PROFILE, R_PART };
#define T SL_OPT_TARGET
#define ALL SL_OPT_MODES
static const sl_opt_t rows[] = {
    [R_ENDPOINT] = {.name = "endpoint", .type = SL_OPT_STRING, .dflt_doc = "`https://s3.<region>.amazonaws.com`",
                    .modes = ALL, .roles = T,
                    .doc = "the server, http://host:port or https://host (no path)"},
    [R_REGION] = {.name = "region", .type = SL_OPT_STRING,
                  .dflt_doc = "AWS_REGION, AWS_DEFAULT_REGION, else us-east-1", .modes = ALL, .roles = T,
                  .doc = "the signing region"},
    [R_STYLE] = {.name = "style", .type = SL_OPT_ENUM, .choices = {{"path", ALL}, {"virtual", ALL}},
                 .dflt_doc = "path with an endpoint, else virtual", .modes = ALL, .roles = T,
                 .doc = "path: `http://host/bucket/key`; virtual: `http://bucket.host/key`"},
    [R_CLASS] = {.name = "storage_class", .type = SL_OPT_STRING, .dflt_doc = "the bucket's", .modes = ALL,
                 .roles = T,
                 .doc = "sent as x-amz-storage-class (STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR, …)"},
    [R_SSE] = {.name = "sse", .type = SL_OPT_ENUM,
               .choices = {{"AES256", ALL}, {"aws:kms", ALL}, {"aws:kms:dsse", ALL}}, .dflt_doc = "none",
               .modes = ALL, .roles = T, .doc = "server-side encryption (x-amz-server-side-encryption)"},
    [R_KMS] = {.name = "sse_kms_key_id", .type = SL_OPT_STRING, .dflt_doc = "the account's key", .modes = ALL,
               .roles = T, .when = "sse=aws:kms",
               .doc = "the KMS key (x-amz-server-side-encryption-aws-kms-key-id)"},
    [R_PROFILE] = {.name = "profile", .type = SL_OPT_STRING, .dflt_doc = "AWS_PROFILE, else default",
                   .modes = ALL, .roles = T, .doc = "the credentials-file profile"},
    [R_PART] = {.name = "part_size_mb", .type = SL_OPT_INT, .min = 5, .max = 1024, .dflt = "8", .modes = ALL,
                .roles = T, .doc = "multipart part size in MiB; files up to this size go up in one PUT"},
};
#undef T
#undef ALL
_Static_assert(DEFAULT_PART_MB == 8, "the default of part_size_mb in rows[]");

const sl_opt_table_t sl_s3_url_params = {.name = "s3",
                                         .title = "S3 URL parameters",
                                         .schemes = {"s3"},
                                         .rows = rows,
                                         .n = (int)(sizeof rows / sizeof rows[0])};

bool sl_s3_conf_param(const char *key)
{
    return sl_opt_find(&sl_s3_url_params, key) != NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

void sl_s3_conf_clear(sl_s3_conf_t *c)
{
    free(c->bucket);
    free(c->prefix);
    free(c->endpoint);
    free(c->host);
    free(c->base);
    free(c->region);
    free(c->access_key);
    wipe_free(c->secret_key);
    wipe_free(c->session_token);
    free(c->storage_class);
    free(c->sse);
    free(c->sse_kms_key_id);
    memset(c, 0, sizeof *c);
}

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int sl_s3_creds_parse(const char *text, const char *profile, char **akid, char **secret,
                      char **token, sl_err_t *err)
{
    *akid = *secret = *token = NULL;
    char *copy = strdup(text);
    if (!copy)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    bool in = false;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *l = trim(line);
        if (!*l || *l == '#' || *l == ';')
            continue;
        if (*l == '[') {
            char *rb = strchr(l, ']');
            if (rb)
                *rb = '\0';
            char *name = trim(l + 1);
            if (!strncmp(name, "profile ", 8)) /* the config file's spelling */
                name = trim(name + 8);
            in = !strcmp(name, profile);
            continue;
        }
        char *eq = strchr(l, '=');
        if (!in || !eq)
            continue;
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1);
        char **dst = !strcmp(k, "aws_access_key_id")       ? akid
                     : !strcmp(k, "aws_secret_access_key") ? secret
                     : !strcmp(k, "aws_session_token")     ? token
                                                           : NULL;
        if (dst) {
            wipe_free(*dst);
            if (!(*dst = strdup(v))) {
                wipe_free(copy);
                return sl_err_set(err, SL_E_INTERNAL, "out of memory");
            }
        }
    }
    memset(copy, 0, strlen(text));
    free(copy);
    if (*akid && **akid && *secret && **secret)
        return 1;
    free(*akid);
    wipe_free(*secret);
    wipe_free(*token);
    *akid = *secret = *token = NULL;
    return 0;
}

/* Reads at most 1 MiB of path into a new string; NULL when it cannot be read. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 20;
    char *s = malloc(cap + 1);
    size_t n = s ? fread(s, 1, cap, f) : 0;
    fclose(f);
    if (s)
        s[n] = '\0';
    return s;
}

static int credentials(const sl_url_t *u, sl_s3_conf_t *c, sl_err_t *err)
{
    if (u->user && *u->user) {
        if (!u->password || !*u->password) {
            sl_err_set(err, SL_E_CONFIG, "S3 URL has an access key id but no secret access key");
            sl_err_hint(err, "write s3://ACCESS_KEY_ID:SECRET@bucket/prefix (percent-encode '/' "
                             "in the secret as %%2F), or give the secret as the connection's "
                             "\"password\"");
            return -1;
        }
        c->access_key = strdup(u->user);
        c->secret_key = strdup(u->password);
        c->creds_from = "the URL";
        return 0;
    }
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if (ak && *ak && sk && *sk) {
        c->access_key = strdup(ak);
        c->secret_key = strdup(sk);
        c->session_token = dup_or_null(getenv("AWS_SESSION_TOKEN"));
        c->creds_from = "the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)";
        return 0;
    }
    const char *profile = sl_url_param(u, "profile");
    if (!profile || !*profile)
        profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    char path[512];
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");
    if (file && *file)
        snprintf(path, sizeof path, "%s", file);
    else
        snprintf(path, sizeof path, "%s/.aws/credentials", home ? home : "");
    char *text = slurp(path);
    if (text) {
        int rc = sl_s3_creds_parse(text, profile, &c->access_key, &c->secret_key,
                                   &c->session_token, err);
        memset(text, 0, strlen(text));
        free(text);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            snprintf(c->creds_buf, sizeof c->creds_buf, "profile \"%s\" of %s", profile, path);
            c->creds_from = c->creds_buf;
            return 0;
        }
    }
    sl_err_set(err, SL_E_CONFIG, "no S3 credentials for bucket \"%s\"", c->bucket);
    sl_err_detail(err, "not in the target URL, not in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
                       "and profile \"%s\" of %s has none", profile, path);
    sl_err_hint(err, "give them as s3://ACCESS_KEY_ID:SECRET@bucket/prefix (or the connection's "
                     "\"password\"), in the environment, or in the credentials file");
    return -1;
}

static int bad(sl_err_t *err, const char *hint, const char *fmt, const char *arg)
{
    sl_err_set(err, SL_E_CONFIG, fmt, arg);
    sl_err_hint(err, "%s", hint);
    return -1;
}

/* endpoint=, style=, region= into c. */
static int endpoint(const sl_url_t *u, sl_s3_conf_t *c, sl_err_t *err)
{
    const char *region = sl_url_param(u, "region");
    if (!region || !*region)
        region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    if (!region || !*region)
        region = "us-east-1";
    c->region = strdup(region);
    const char *ep = sl_url_param(u, "endpoint");
    char aws[300];
    if (ep && *ep) {
        if (strncmp(ep, "http://", 7) && strncmp(ep, "https://", 8))
            return bad(err, "write endpoint=http://HOST:PORT or endpoint=https://HOST",
                       "invalid S3 endpoint \"%s\": not an http:// or https:// URL", ep);
    } else {
        snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", region);
        ep = aws;
    }
    const char *style = sl_url_param(u, "style");
    if (style && sl_opt_choice(&rows[R_STYLE], style) < 0)
        return bad(err, "style is path (https://host/bucket/key) or virtual (https://bucket.host/key)",
                   "invalid S3 style \"%s\"", style);
    /* Path-style by default with a custom endpoint (MinIO, s3rver, Ceph answer it); AWS
     * itself wants virtual-hosted. */
    c->path_style = style ? !strcmp(style, "path") : ep != aws;
    const char *hp = strstr(ep, "://") + 3;
    size_t hl = strcspn(hp, "/?#");
    if (!hl || (hp[hl] && strspn(hp + hl, "/") != strlen(hp + hl)))
        return bad(err, "write endpoint=http://HOST:PORT (no path)",
                   "invalid S3 endpoint \"%s\": a host is needed and no path is allowed", ep);
    size_t schl = (size_t)(hp - ep);
    size_t blen = strlen(c->bucket);
    c->endpoint = strndup(ep, schl + hl);
    c->host = malloc(blen + hl + 2);
    c->base = malloc(schl + blen + hl + 2);
    if (!c->endpoint || !c->host || !c->base)
        return sl_err_set(err, SL_E_INTERNAL, "out of memory");
    if (c->path_style) {
        snprintf(c->host, blen + hl + 2, "%.*s", (int)hl, hp);
        snprintf(c->base, schl + blen + hl + 2, "%s", c->endpoint);
    } else {
        snprintf(c->host, blen + hl + 2, "%s.%.*s", c->bucket, (int)hl, hp);
        snprintf(c->base, schl + blen + hl + 2, "%.*s%s", (int)schl, ep, c->host);
    }
    return 0;
}

static int options(const sl_url_t *u, sl_s3_conf_t *c, sl_err_t *err)
{
    static const char *const secret_params[] = {"secret_access_key", "aws_secret_access_key",
                                                "secret", "session_token", NULL};
    for (int i = 0; secret_params[i]; i++)
        if (sl_url_param(u, secret_params[i]))
            return bad(err, "put the secret in the URL's password (s3://KEY_ID:SECRET@bucket/…), "
                            "the connection's \"password\", the environment or ~/.aws/credentials",
                       "S3 parameter \"%s\" is not accepted: query parameters are logged", secret_params[i]);
    const char *sc = sl_url_param(u, "storage_class");
    if (sc && *sc) {
        for (const char *p = sc; *p; p++)
            if (!isupper((unsigned char)*p) && *p != '_')
                return bad(err, "e.g. STANDARD, STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR",
                           "invalid S3 storage class \"%s\"", sc);
        c->storage_class = strdup(sc);
    }
    const char *sse = sl_url_param(u, "sse");
    if (sse && *sse) {
        if (sl_opt_choice(&rows[R_SSE], sse) < 0)
            return bad(err, "sse is AES256, aws:kms or aws:kms:dsse",
                       "invalid S3 server-side encryption \"%s\"", sse);
        c->sse = strdup(sse);
    }
    const char *kms = sl_url_param(u, "sse_kms_key_id");
    if (kms && *kms) {
        if (!c->sse || strncmp(c->sse, "aws:kms", 7))
            return bad(err, "add sse=aws:kms", "sse_kms_key_id \"%s\" needs sse=aws:kms", kms);
        c->sse_kms_key_id = strdup(kms);
    }
    const char *ps = sl_url_param(u, "part_size_mb");
    c->part_size = (size_t)DEFAULT_PART_MB << 20;
    if (ps) {
        char *e;
        long mb = strtol(ps, &e, 10);
        if (*e || e == ps || mb < rows[R_PART].min || mb > rows[R_PART].max)
            return bad(err, "S3 parts are 5 MiB to 5 GiB; sluice takes 5 to 1024 (MiB)",
                       "invalid part_size_mb \"%s\"", ps);
        c->part_size = (size_t)mb << 20;
    }
    return 0;
}

int sl_s3_conf_from_url(const sl_url_t *u, sl_s3_conf_t *c, sl_err_t *err)
{
    memset(c, 0, sizeof *c);
    if (!u->host || !*u->host)
        return bad(err, "write s3://bucket/prefix?endpoint=…", "S3 URL has no bucket%s", "");
    if (u->port)
        return bad(err, "give the server as endpoint=http://HOST:PORT; the URL's host is the bucket",
                   "S3 URL has a port after the bucket name \"%s\"", u->host);
    for (const char *p = u->host; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '.')
            return bad(err, "bucket names are 3-63 lowercase letters, digits, '-' and '.'",
                       "invalid S3 bucket name \"%s\"", u->host);
    c->bucket = strdup(u->host);
    const char *p = u->path ? u->path : "";
    while (*p == '/')
        p++;
    c->prefix = strdup(p);
    if (!c->bucket || !c->prefix)
        goto oom;
    size_t pl = strlen(c->prefix);
    while (pl && c->prefix[pl - 1] == '/')
        c->prefix[--pl] = '\0';
    if (strstr(c->prefix, "//") || strstr(c->prefix, "..") || strchr(c->prefix, '\\')) {
        bad(err, "write s3://bucket/some/prefix", "invalid S3 prefix \"%s\"", c->prefix);
        goto fail;
    }
    if (endpoint(u, c, err) || options(u, c, err) || credentials(u, c, err))
        goto fail;
    if (!c->region || !c->access_key || !c->secret_key)
        goto oom;
    return 0;
oom:
    sl_err_set(err, SL_E_INTERNAL, "out of memory");
fail:
    sl_s3_conf_clear(c);
    return -1;
}
