/*
 * cdc.c: the change-stream registry (source/cdc.h): CDC ops by URL scheme, opening a
 * stream's connection from its source URL, and what the sources share.
 */
#include "source/cdc.h"

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

int sl_cdc_open(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err)
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
    return ops->open(url, id, out, err);
}

int sl_cdc_bad_state(const char *stream, const char *state, const char *what, sl_err_t *err)
{
    sl_err_set(err, SL_E_PROTOCOL, "checkpoint \"cdc_source\" of stream \"%s\" does not name %s", stream, what);
    sl_err_detail(err, "it holds: %.200s", state);
    sl_err_hint(err, "run `sluice cleanup` and `sluice run --restart` to copy the tables again");
    if (err)
        err->fatal = true;
    return -1;
}
