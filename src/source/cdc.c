/*
 * cdc.c: the change-stream registry (source/cdc.h): CDC ops by URL scheme, opening a
 * stream's replication connection from its source URL, and the name its slot and
 * publication share.
 */
#include "source/cdc.h"

#include <stdio.h>
#include <string.h>

#include "core/url.h"

extern const struct sl_cdc_ops sl_pg_cdc_ops;
extern const struct sl_cdc_ops sl_mysql_cdc_ops;

const struct sl_cdc_ops *sl_cdc_lookup(const char *scheme)
{
    if (scheme && (!strcmp(scheme, "postgres") || !strcmp(scheme, "postgresql")))
        return &sl_pg_cdc_ops;
    if (scheme && (!strcmp(scheme, "mysql") || !strcmp(scheme, "mariadb")))
        return &sl_mysql_cdc_ops;
    return NULL;
}

int sl_cdc_open(const char *url, const char *stream, sl_cdc_t **out, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    const struct sl_cdc_ops *ops = sl_cdc_lookup(u->scheme);
    if (!ops) {
        sl_err_set(err, SL_E_CONFIG, "a %s source cannot stream changes yet", u->scheme);
        sl_err_hint(err, "change data capture is available from PostgreSQL and MariaDB/MySQL sources");
        sl_url_free(u);
        return -1;
    }
    sl_url_free(u);
    return ops->open(url, stream, out, err);
}

void sl_cdc_object_name(const char *stream, char *buf, size_t size)
{
    if (!size)
        return;
    /* PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1). */
    size_t max = size - 1 < 63 ? size - 1 : 63;
    size_t n = (size_t)snprintf(buf, max + 1, "sluice_");
    if (n > max)
        n = max;
    for (const char *s = stream ? stream : ""; *s && n < max; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a'); /* ASCII only, whatever the locale */
        buf[n++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ? (char)ch : '_';
    }
    buf[n] = '\0';
}
