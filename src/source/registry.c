/*
 * registry.c: source ops by URL scheme.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source.h"

extern const struct sl_source_ops sl_pg_source_ops;
extern const struct sl_source_ops sl_mysql_source_ops;
extern const struct sl_source_ops sl_file_source_ops;

const struct sl_source_ops *sl_source_lookup(const char *scheme)
{
    if (!strcmp(scheme, "postgres") || !strcmp(scheme, "postgresql"))
        return &sl_pg_source_ops;
    if (!strcmp(scheme, "mysql") || !strcmp(scheme, "mariadb"))
        return &sl_mysql_source_ops;
    if (!strcmp(scheme, "file") || !strcmp(scheme, "s3"))
        return &sl_file_source_ops;
    return NULL;
}

int sl_source_open(const char *url, sl_source_t **out, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    const struct sl_source_ops *ops = sl_source_lookup(u->scheme);
    if (!ops) {
        sl_err_set(err, SL_E_CONFIG, "unsupported source URL scheme \"%s\"", u->scheme);
        sl_err_hint(err, "sources are postgres://…, mysql://… (or mariadb://…), file:///dir and s3://bucket/prefix");
        sl_url_free(u);
        return -1;
    }
    int rc = ops->connect(u, out, err);
    sl_url_free(u);
    return rc;
}
