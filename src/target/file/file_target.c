/*
 * file_target.c: the file target's sl_target_ops (file:// and s3:// URLs): a format
 * from target/fmt/ paired with a store from target/store/.
 *
 * Exactly once without transactions (docs/files.md "Exactly once"): rows are encoded
 * into spool files and a checkpoint put inside a transaction stays in memory, so that
 * ckpt_get within the run sees every batch spooled, while a restarted run (which
 * reads the checkpoint objects) sees only what is durable. A slot is flushed at commit
 * when its stripe ends or a rotation limit (rows, bytes, seconds) is reached, and by
 * ckpt_durable when the writer lane asks between batches. A change lane's commits are
 * therefore not durable at once: ckpt_durable tells the lane which of its checkpoints
 * a crash would keep, and the engine confirms no source position past it. close()
 * flushes what is left; a killed process loses only spooled rows, which the next run
 * reads again from the durable checkpoint.
 *
 * Thread: one ftgt_t per writer lane, used by one thread (target.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "target/file/file_int.h"

extern const struct sl_target_ops sl_file_target_ops;

/* ---- connection ------------------------------------------------------------------- */

/* Deletes spool files of processes that are gone (a killed run). */
static void reap_spool(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        long pid = strtol(de->d_name, NULL, 10);
        size_t n = strlen(de->d_name);
        if (pid <= 0 || n < 7 || strcmp(de->d_name + n - 6, ".spool") || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) && errno == ESRCH) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static int f_connect(const sl_url_t *given, sl_target_t **out, sl_err_t *err)
{
    ftgt_t *ft = calloc(1, sizeof *ft);
    if (!ft)
        sl_oom();
    ft->base.ops = &sl_file_target_ops;
    sl_url_t rest = {0};
    if (sl_url_parse(given->raw, &ft->url, err))
        goto fail;
    if (sl_file_opts_parse(ft->url, &ft->o, &rest, err))
        goto fail;
    const struct sl_store_ops *sops = sl_store_lookup(ft->url->scheme);
    if (!sops) {
        sl_err_set(err, SL_E_CONFIG, "the %s:// store is not built into this sluice", ft->url->scheme);
        sl_err_hint(err, "use a file:///directory target");
        goto fail;
    }
    if (sops->open(&rest, &ft->st, err))
        goto fail;
    free(rest.params);
    rest.params = NULL;
    size_t n = strlen(ft->url->scheme) + strlen(ft->url->host ? ft->url->host : "") + strlen(ft->url->path) + 8;
    ft->url_id = malloc(n);
    if (!ft->url_id)
        sl_oom();
    snprintf(ft->url_id, n, "%s://%s/%s", ft->url->scheme, ft->url->host ? ft->url->host : "", ft->url->path);
    if (sl_file_spool_prepare(&ft->o, ft->o.spool_given, err))
        goto fail;
    reap_spool(ft->o.spool_dir);
    *out = &ft->base;
    return 0;
fail:
    free(rest.params);
    sl_target_close(&ft->base);
    return -1;
}

static void f_close(sl_target_t *tgt)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    while (ft->nslots > 0) {
        fslot_t *s = ft->slots[ft->nslots - 1];
        if (!ft->in_txn && ft->st && ft->stream && (s->has_pending || s->nparts)) {
            sl_err_t err = {0};
            if (sl_file_slot_flush(ft, s, &err) == 0) {
                /* flushed: the slot stays, drop it below */
            } else {
                sl_warn("file target: could not store the spooled rows of \"%s\" (%s); the next run writes "
                        "them again",
                        s->key, err.message);
                continue; /* the failed flush discarded the slot */
            }
        }
        sl_file_slot_discard(ft, s);
    }
    free(ft->slots);
    if (ft->o.spool_temp)
        rmdir(ft->o.spool_dir); /* its files went with their slots */
    if (ft->st)
        ft->st->ops->close(ft->st);
    sl_file_opts_free(&ft->o);
    sl_url_free(ft->url);
    free(ft->url_id);
    free(ft->stream);
    free(ft);
}

static void use_stream(ftgt_t *ft, const char *stream)
{
    if (!ft->stream)
        ft->stream = sl_strdup(stream);
}

/* ---- schema phase ------------------------------------------------------------------- */

typedef struct rmctx {
    ftgt_t *ft;
    int64_t n;
    bool remove;
} rmctx_t;

static int each_obj(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    rmctx_t *r = ctx;
    r->n++;
    return r->remove ? r->ft->st->ops->remove(r->ft->st, key, err) : 0;
}

static int table_objects(ftgt_t *ft, const char *table, bool remove, int64_t *n, sl_err_t *err)
{
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s/", table);
    rmctx_t r = {.ft = ft, .remove = remove};
    int rc = ft->st->ops->list(ft->st, prefix, each_obj, &r, err);
    if (n)
        *n = r.n;
    return rc;
}

static int discard_sink(void *ctx, const void *data, size_t len, sl_err_t *err)
{
    return 0;
}

/* Checks the name and that the format can hold every column, before anything is written. */
static int check_table(ftgt_t *ft, const sl_table_t *t, sl_err_t *err)
{
    if (sl_file_check_table_name(t->name, err))
        return -1;
    int pc = ft->o.partition_by ? sl_table_find_col(t, ft->o.partition_by) : -1;
    if (pc >= 0) {
        sl_type_t ty = t->columns[pc].type;
        if (ty != SL_T_DATE && ty != SL_T_TIMESTAMP && ty != SL_T_TIMESTAMPTZ) {
            sl_err_set(err, SL_E_CONFIG, "partition column \"%s\" of table \"%s\" is not a date or timestamp",
                       ft->o.partition_by, t->name);
            sl_err_hint(err, "partition_by names a date, timestamp or timestamptz column");
            return -1;
        }
    }
    /* with change_columns the files hold the change records' table: refused when a
     * column has the name of a leading one */
    sl_table_t *shape = ft->o.change_columns ? sl_file_change_shape(t, err) : NULL;
    if (ft->o.change_columns && !shape)
        return -1;
    sl_fmt_enc_t *enc = NULL;
    sl_fmt_sink_t sink = {.write = discard_sink};
    int rc = ft->o.fmt->open(shape ? shape : t, &ft->o.fo, sink, &enc, err);
    if (rc == 0 && ft->o.fmt->free)
        ft->o.fmt->free(enc);
    sl_table_free(shape);
    return rc;
}

static int f_ckpt_setup(sl_target_t *tgt, sl_err_t *err)
{
    return 0;
}

static int f_table_state(sl_target_t *tgt, const sl_table_t *t, bool *exists, bool *has_rows, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    int64_t n = 0;
    if (check_table(ft, t, err) || table_objects(ft, t->name, false, &n, err))
        return -1;
    *exists = *has_rows = n > 0;
    return 0;
}

static int f_create_table(sl_target_t *tgt, const sl_table_t *t, bool drop, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    if (check_table(ft, t, err))
        return -1;
    return drop ? table_objects(ft, t->name, true, NULL, err) : 0;
}

static int f_truncate_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    if (sl_file_check_table_name(t->name, err))
        return -1;
    return table_objects(ft, t->name, true, NULL, err);
}

static int f_noop_table(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    return 0;
}

/* ---- transactions and checkpoints --------------------------------------------------- */

static int f_begin(sl_target_t *tgt, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    ft->in_txn = true;
    ft->cur = NULL;
    return 0;
}

static int f_commit(sl_target_t *tgt, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    ft->in_txn = false;
    int rc = 0;
    for (int i = 0; i < ft->nslots; i++) {
        fslot_t *s = ft->slots[i];
        if (!s->dirty)
            continue;
        s->dirty = false;
        if (sl_file_slot_due(ft, s, false) && sl_file_slot_flush(ft, s, err)) {
            rc = -1;
            break;
        }
    }
    ft->cur = NULL;
    return rc;
}

static void f_rollback(sl_target_t *tgt)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    ft->in_txn = false;
    for (int i = 0; i < ft->nslots; i++)
        if (ft->slots[i]->dirty) {
            /* rows already encoded cannot be taken back: drop the slot's spool; the
             * durable checkpoint is where the engine resumes */
            sl_debug("file target: dropping the spooled rows of \"%s\" after a rollback", ft->slots[i]->key);
            sl_file_slot_discard(ft, ft->slots[i]);
            i = -1;
        }
    ft->cur = NULL;
}

static bool data_key(const char *key)
{
    return !strncmp(key, "s:", 2) || !strncmp(key, "cdc:", 4);
}

static int f_ckpt_get(sl_target_t *tgt, const char *stream, const char *key, sl_ckpt_t *ck, bool *found,
                      sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    memset(ck, 0, sizeof *ck);
    *found = false;
    fslot_t *s = sl_file_slot_find(ft, key);
    if (!s) {
        json_t *obj = NULL;
        if (sl_file_ckpt_load(ft, key, &obj, err))
            return -1;
        if (!data_key(key) || !ft->in_txn) {
            if (obj) {
                sl_file_ckpt_from_json(obj, ck);
                *found = true;
            }
            json_decref(obj);
            return 0;
        }
        s = sl_file_slot_add(ft, key, obj);
    }
    if (s->has_pending) {
        *ck = s->pending;
        ck->position = s->pending.position ? sl_strdup(s->pending.position) : NULL;
        *found = true;
    } else if (s->durable) {
        sl_file_ckpt_from_json(s->durable, ck);
        *found = true;
    }
    if (ft->in_txn)
        ft->cur = s;
    return 0;
}

static int f_ckpt_put(sl_target_t *tgt, const char *stream, const char *key, const sl_ckpt_t *ck, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    fslot_t *s = sl_file_slot_find(ft, key);
    if (!s) {
        json_t *obj = NULL;
        if (sl_file_ckpt_load(ft, key, &obj, err))
            return -1;
        s = sl_file_slot_add(ft, key, obj);
    }
    sl_file_slot_touch(s);
    sl_ckpt_clear(&s->pending);
    s->pending = *ck;
    s->pending.position = ck->position ? sl_strdup(ck->position) : NULL;
    s->has_pending = true;
    if (!strncmp(key, "s:", 2) && ft->in_txn)
        s->batches++;
    if (ft->in_txn) {
        s->dirty = true;
        return 0;
    }
    /* autocommit: durable now */
    int rc = sl_file_slot_flush(ft, s, err);
    if (rc == 0 && !data_key(key))
        sl_file_slot_discard(ft, s);
    return rc;
}

/* Between transactions: stores the slot of key when it is due (all: whenever it holds
 * anything), then reports the checkpoint a crash would keep: the pending one while the
 * slot spools no row (every batch since the durable checkpoint was empty for this key,
 * so nothing is lost by passing it), else the durable one. A slot discarded by a failed
 * store or a rollback is read again from the store, so the answer never runs ahead of
 * what is stored. */
static int f_ckpt_durable(sl_target_t *tgt, const char *stream, const char *key, bool all, sl_ckpt_t *ck,
                          bool *found, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    memset(ck, 0, sizeof *ck);
    *found = false;
    if (ft->in_txn)
        return sl_err_set(err, SL_E_INTERNAL, "file target: ckpt_durable inside a transaction");
    fslot_t *s = sl_file_slot_find(ft, key);
    if (s && (s->has_pending || s->nparts) && sl_file_slot_due(ft, s, all) && sl_file_slot_flush(ft, s, err))
        return -1;
    if (!s) {
        json_t *obj = NULL;
        if (sl_file_ckpt_load(ft, key, &obj, err))
            return -1;
        s = sl_file_slot_add(ft, key, obj); /* the next call answers from memory */
    }
    if (s->has_pending && s->nparts == 0) {
        *ck = s->pending;
        ck->position = s->pending.position ? sl_strdup(s->pending.position) : NULL;
        *found = true;
    } else if (s->durable) {
        sl_file_ckpt_from_json(s->durable, ck);
        *found = true;
    }
    return 0;
}

typedef struct listctx {
    ftgt_t *ft;
    sl_ckpt_fn fn;
    void *ctx;
} listctx_t;

static int list_one(void *ctx, const char *key, uint64_t size, sl_err_t *err)
{
    listctx_t *l = ctx;
    sl_buf_t b;
    bool found = false;
    sl_buf_init(&b, 64u * 1024 * 1024);
    int rc = l->ft->st->ops->get(l->ft->st, key, &b, &found, err);
    json_t *obj = rc == 0 && found ? json_loadb(b.data ? b.data : "", b.len, 0, NULL) : NULL;
    sl_buf_free(&b);
    if (rc)
        return -1;
    const char *ckey = json_string_value(json_object_get(obj, "key"));
    if (ckey) {
        sl_ckpt_t ck;
        sl_file_ckpt_from_json(obj, &ck);
        rc = l->fn(l->ctx, ckey, &ck, err);
        sl_ckpt_clear(&ck);
    }
    json_decref(obj);
    return rc;
}

static int f_ckpt_list(sl_target_t *tgt, const char *stream, sl_ckpt_fn fn, void *ctx, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    if (sl_file_recover_all(ft, err))
        return -1;
    char prefix[600];
    sl_file_state_key(stream, "ckpt/", NULL, prefix, sizeof prefix);
    listctx_t l = {.ft = ft, .fn = fn, .ctx = ctx};
    return ft->st->ops->list(ft->st, prefix, list_one, &l, err);
}

static int f_ckpt_delete(sl_target_t *tgt, const char *stream, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    while (ft->nslots > 0)
        sl_file_slot_discard(ft, ft->slots[0]);
    char prefix[600];
    sl_file_state_key(stream, "", NULL, prefix, sizeof prefix);
    rmctx_t r = {.ft = ft, .remove = true};
    int rc = ft->st->ops->list(ft->st, prefix, each_obj, &r, err);
    sl_file_manifest_forget(ft);
    return rc;
}

static int f_write_rows(sl_target_t *tgt, const sl_table_t *t, sl_batch_view_t *batch, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    if (!ft->in_txn || !ft->cur)
        return sl_err_set(err, SL_E_INTERNAL, "file target: rows written outside a checkpointed transaction");
    return sl_file_write_batch(ft, ft->cur, t, batch, err);
}

static int f_delete_all(sl_target_t *tgt, const sl_table_t *t, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    if (!ft->in_txn || !ft->cur)
        return sl_err_set(err, SL_E_INTERNAL, "file target: delete_all outside a checkpointed transaction");
    fslot_t *s = ft->cur;
    /* the stripe starts over: its stored files are replaced when the new ones are in */
    s->reset = true;
    s->batches = 0;
    s->dirty = true;
    return 0;
}

static int f_apply_changes(sl_target_t *tgt, const sl_table_t *t, const sl_change_t *chs, int n, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    if (!ft->in_txn || !ft->cur)
        return sl_err_set(err, SL_E_INTERNAL, "file target: changes written outside a checkpointed transaction");
    if (sl_file_check_table_name(t->name, err))
        return -1;
    return sl_file_write_changes(ft, ft->cur, t, chs, n, err);
}

/* ---- rejects (options.on_error "reject") ------------------------------------------- */

/* Removes the stream's rejects files when a load starts over. */
static int f_rejects_setup(sl_target_t *tgt, const char *stream, bool reset, sl_err_t *err)
{
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    if (!reset)
        return 0;
    char prefix[600];
    snprintf(prefix, sizeof prefix, "_sluice/rejects/%s/", stream);
    rmctx_t r = {.ft = ft, .remove = true};
    return ft->st->ops->list(ft->st, prefix, each_obj, &r, err);
}

/* The rejects go into the transaction's slot as a JSONL part: stored with its data files
 * and checkpoint, exactly once like them (a keyless stripe done again replaces its
 * files, these among them, so clear_table needs nothing more). */
static int f_rejects_write(sl_target_t *tgt, const char *stream, const sl_reject_t *rj, int n,
                           const char *clear_table, sl_err_t *err)
{
    (void)clear_table;
    ftgt_t *ft = (ftgt_t *)tgt;
    use_stream(ft, stream);
    if (!ft->in_txn || !ft->cur)
        return sl_err_set(err, SL_E_INTERNAL, "file target: rejects written outside a checkpointed transaction");
    if (n == 0)
        return 0;
    fpart_t *p;
    if (sl_file_rejects_part(ft, ft->cur, &p, err))
        return -1;
    ft->cur->dirty = true;
    char now[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(now + strlen(now), sizeof now - strlen(now), ".%06ld+00", ts.tv_nsec / 1000);
    for (int i = 0; i < n; i++) {
        const sl_reject_t *r = &rj[i];
        const char *f[] = {stream, r->table, r->key, r->column, r->reason, r->row, r->position, now};
        sl_value_t vals[8];
        for (int k = 0; k < 8; k++)
            vals[k] = f[k] ? (sl_value_t){f[k], (int64_t)strlen(f[k])} : (sl_value_t){NULL, -1};
        /* a CDC part is named by the positions of its changes ("X/Y#idx") */
        uint64_t lsn;
        char pos[64];
        snprintf(pos, sizeof pos, "%s", r->position ? r->position : "");
        char *hash = strchr(pos, '#');
        if (hash && (*hash = '\0', sl_lsn_parse(pos, &lsn) == 0)) {
            sl_pos_t at = {lsn, (uint32_t)strtoul(hash + 1, NULL, 10)};
            if (!p->rows || sl_pos_cmp(at, p->first) < 0)
                p->first = at;
            if (!p->rows || sl_pos_cmp(at, p->last) > 0)
                p->last = at;
        }
        if (p->fmt->write_row(p->enc, vals, err))
            return -1;
        p->rows++;
    }
    return 0;
}

/* A value the target's format has no form for (Parquet: an infinite date, a NaN decimal,
 * a duration past a day); written as text, a cast carries it. Without a connection the
 * format is not known: nothing is refused. */
static int f_refuses(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, const sl_value_t *v,
                     sl_refusal_t *r)
{
    const ftgt_t *ft = (const ftgt_t *)tgt;
    if (!ft || !ft->o.fmt->refuses || c->cast || c < t->columns || c >= t->columns + t->ncolumns)
        return 0;
    if (!ft->o.fmt->refuses(t, (int)(c - t->columns), v, r->why, sizeof r->why))
        return 0;
    r->cast = "text";
    return 1;
}

static int f_may_refuse(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r)
{
    const ftgt_t *ft = (const ftgt_t *)tgt;
    if (!ft || !ft->o.fmt->refuses || c->cast)
        return 0;
    bool pg = t->engine && !strcmp(t->engine, "pg");
    switch (c->type) {
    case SL_T_DATE: case SL_T_TIMESTAMP: case SL_T_TIMESTAMPTZ:
        if (!pg)
            return 0;
        snprintf(r->why, sizeof r->why, "infinite dates and timestamps have no %s form", ft->o.fmt->name);
        break;
    case SL_T_DECIMAL:
        if (!pg || c->precision <= 0 || c->precision > 38)
            return 0;
        snprintf(r->why, sizeof r->why, "NaN has no %s DECIMAL form", ft->o.fmt->name);
        break;
    case SL_T_TIME:
        if (pg)
            return 0;
        snprintf(r->why, sizeof r->why, "MySQL durations below 00:00:00 or past 24:00:00 are no %s TIME",
                 ft->o.fmt->name);
        break;
    default:
        return 0;
    }
    r->cast = "text";
    return 1;
}

/* A file target never refuses a change for a missing row: nothing is looked up. */
static int f_rejects_find(sl_target_t *tgt, const char *stream, const char *table, const char *key, bool *found,
                          sl_err_t *err)
{
    *found = false;
    return 0;
}

/* A schema change needs nothing here: the next change of the table has the new
 * columns and starts a new file (parts are keyed by the column signature). */
static int f_add_column(sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_err_t *err)
{
    return 0;
}

static int f_drop_column(sl_target_t *tgt, const sl_table_t *t, const char *name, sl_err_t *err)
{
    return 0;
}

const struct sl_target_ops sl_file_target_ops = {
    .name = "file",
    .takes_copy_rows = true,
    .connect = f_connect,
    .close = f_close,
    .ckpt_setup = f_ckpt_setup,
    .table_state = f_table_state,
    .create_table = f_create_table,
    .truncate_table = f_truncate_table,
    .drop_table = f_truncate_table, /* a table of files is its files */
    .finish_table = f_noop_table,
    .finish_fkeys = f_noop_table,
    .begin = f_begin,
    .commit = f_commit,
    .rollback = f_rollback,
    .ckpt_get = f_ckpt_get,
    .ckpt_put = f_ckpt_put,
    .ckpt_durable = f_ckpt_durable,
    .ckpt_list = f_ckpt_list,
    .ckpt_delete = f_ckpt_delete,
    .write_rows = f_write_rows,
    .delete_all = f_delete_all,
    .apply_changes = f_apply_changes,
    .add_column = f_add_column,
    .drop_column = f_drop_column,
    .rejects_setup = f_rejects_setup,
    .rejects_write = f_rejects_write,
    .rejects_find = f_rejects_find,
    .refuses = f_refuses,
    .may_refuse = f_may_refuse,
};
