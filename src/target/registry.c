/*
 * registry.c: target ops by URL scheme, and helpers shared by every target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

extern const struct sl_target_ops sl_pg_target_ops;
extern const struct sl_target_ops sl_mysql_target_ops;
extern const struct sl_target_ops sl_file_target_ops;

/* The fence of the connections this process opens (sl_target_fence_default): set once
 * at start, before any thread opens a target. */
static int64_t fence_default;

const struct sl_target_ops *sl_target_lookup(const char *scheme)
{
    if (!strcmp(scheme, "postgres") || !strcmp(scheme, "postgresql"))
        return &sl_pg_target_ops;
    if (!strcmp(scheme, "mysql") || !strcmp(scheme, "mariadb"))
        return &sl_mysql_target_ops;
    if (!strcmp(scheme, "file") || !strcmp(scheme, "s3"))
        return &sl_file_target_ops; /* format x store: target/file/ */
    return NULL;
}

int sl_target_open(const char *url, sl_target_t **out, sl_err_t *err)
{
    sl_url_t *u;
    if (sl_url_parse(url, &u, err))
        return -1;
    const struct sl_target_ops *ops = sl_target_lookup(u->scheme);
    if (!ops) {
        sl_err_set(err, SL_E_CONFIG, "unsupported target URL scheme \"%s\"", u->scheme);
        sl_err_hint(err, "targets are postgres://…, mysql://… (or mariadb://…), file:///dir and s3://bucket/prefix");
        sl_url_free(u);
        return -1;
    }
    int rc = ops->connect(u, out, err);
    sl_url_free(u);
    if (rc == 0)
        (*out)->fence = fence_default;
    return rc;
}

void sl_target_fence_default(int64_t epoch) { fence_default = epoch; }

int sl_target_fence_raise(sl_target_t *tgt, const char *stream, sl_err_t *err)
{
    if (tgt->fence <= 0)
        return 0;
    sl_ckpt_t ck = {.epoch = tgt->fence};
    if (tgt->ops->ckpt_put(tgt, stream, SL_CKPT_FENCE, &ck, err) == 0)
        return 0;
    if (err->code != SL_E_NOT_FOUND)
        return -1;
    sl_err_clear(err); /* no checkpoint table: nothing written yet that a fence guards */
    return 0;
}

int sl_target_fenced(sl_err_t *err, const char *stream, const char *key, int64_t mine, int64_t theirs)
{
    sl_err_set(err, SL_E_CONFLICT, "checkpoint \"%s\" of stream \"%s\" refused: fenced by lease epoch %lld",
               key, stream, (long long)theirs);
    sl_err_detail(err, "this process writes under lease epoch %lld; another server took the stream over",
                  (long long)mine);
    sl_err_hint(err, "nothing to do: the server that holds the lease now runs the stream");
    err->fatal = true;
    err->retriable = false;
    return -1;
}

void sl_ckpt_clear(sl_ckpt_t *ck)
{
    free(ck->position);
    memset(ck, 0, sizeof *ck);
}

const char *sl_target_row_key(const sl_table_t *t, const sl_batch_view_t *batch, uint32_t idx,
                              char *buf, int size)
{
    sl_value_t vals[t->ncolumns > 0 ? t->ncolumns : 1];
    sl_err_t err;
    int npk = sl_table_pk_count(t);
    if (sl_batch_row_at(batch, idx, vals, &err) != 1) {
        snprintf(buf, (size_t)size, "row %u of the batch", idx + 1);
        return buf;
    }
    int n = snprintf(buf, (size_t)size, "%s", npk ? "key (" : "row (");
    int shown = npk ? npk : (t->ncolumns < 3 ? t->ncolumns : 3);
    for (int i = 0; i < shown && n < size; i++) {
        int c = npk ? sl_table_pk_col(t, i) : i;
        const sl_value_t *v = &vals[c];
        if (v->len < 0)
            n += snprintf(buf + n, (size_t)(size - n), "%s%s=NULL", i ? ", " : "", t->columns[c].name);
        else
            n += snprintf(buf + n, (size_t)(size - n), "%s%s=%.*s", i ? ", " : "", t->columns[c].name,
                          (int)(v->len > 64 ? 64 : v->len), v->p);
    }
    if (n < size)
        snprintf(buf + n, (size_t)(size - n), ")");
    return buf;
}
