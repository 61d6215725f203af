/*
 * file_part.c: slots and parts of a file target connection. A slot is a checkpoint
 * key with data in flight; its parts are the files being encoded for it (one per
 * table and date partition, or per table for a CDC lane), each into a spool file.
 * Flushing a slot finishes every part and stores them together with the slot's
 * pending checkpoint (file_state.c), so a checkpoint and the rows it covers become
 * durable together.
 *
 * File names come from source positions, never from clocks or counters of one run:
 * load: "<table>/part-<stripe>.<first batch>-<stripe>.<last batch>.<ext>" with the
 * stripe's batches counted across runs; CDC: "<table>/part-<lsn>.<idx>-<lsn>.<idx>.<ext>"
 * (first and last change). Rewriting a name replaces the object.
 *
 * Thread: the connection's thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "target/file/file_int.h"

/* Open files per slot (tables of a CDC batch, date partitions): each holds a file
 * descriptor and its encoder's buffer; a slot is flushed at the next commit once it has
 * FLUSH_PARTS of them, and a single batch may open at most MAX_PARTS. */
#define MAX_PARTS 1024
#define FLUSH_PARTS 128

fslot_t *sl_file_slot_find(ftgt_t *ft, const char *key)
{
    for (int i = 0; i < ft->nslots; i++)
        if (!strcmp(ft->slots[i]->key, key))
            return ft->slots[i];
    return NULL;
}

fslot_t *sl_file_slot_add(ftgt_t *ft, const char *key, json_t *durable)
{
    fslot_t *s = calloc(1, sizeof *s);
    fslot_t **v = realloc(ft->slots, sizeof *v * (size_t)(ft->nslots + 1));
    if (!s || !v)
        sl_oom();
    ft->slots = v;
    ft->slots[ft->nslots++] = s;
    s->key = sl_strdup(key);
    s->durable = durable;
    s->batches = durable ? json_integer_value(json_object_get(durable, "batches")) : 0;
    return s;
}

static void part_free(fpart_t *p, bool drop_spool)
{
    if (!p)
        return;
    if (p->enc && p->fmt->free)
        p->fmt->free(p->enc);
    if (p->fd >= 0)
        close(p->fd);
    if (drop_spool && p->spool)
        unlink(p->spool);
    free(p->spool);
    free(p->table);
    free(p->dt);
    free(p->sig);
    sl_table_free(p->shape);
    free(p);
}

static void parts_free(fslot_t *s, bool drop_spool)
{
    for (int i = 0; i < s->nparts; i++)
        part_free(s->parts[i], drop_spool);
    free(s->parts);
    s->parts = NULL;
    s->nparts = 0;
}

void sl_file_slot_discard(ftgt_t *ft, fslot_t *s)
{
    parts_free(s, true);
    sl_ckpt_clear(&s->pending);
    json_decref(s->durable);
    for (int i = 0; i < ft->nslots; i++)
        if (ft->slots[i] == s) {
            ft->slots[i] = ft->slots[--ft->nslots];
            break;
        }
    if (ft->cur == s)
        ft->cur = NULL;
    free(s->key);
    free(s);
}

static int sink_write(void *ctx, const void *data, size_t len, sl_err_t *err)
{
    fpart_t *p = ctx;
    const char *b = data;
    while (len > 0) {
        ssize_t n = write(p->fd, b, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            sl_err_set(err, SL_E_IO, "could not write spool file \"%s\": %s", p->spool, strerror(e));
            if (e == ENOSPC)
                sl_err_hint(err, "free space in the spool directory (spool_dir) and run again");
            return -1;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

static char *signature(const sl_table_t *t)
{
    sl_buf_t b;
    sl_buf_init(&b, 1u << 20);
    for (int i = 0; i < t->ncolumns; i++)
        sl_buf_printf(&b, NULL, "%s:%s,", t->columns[i].name, sl_type_name(t->columns[i].type));
    if (!b.data)
        sl_buf_adds(&b, "", NULL);
    return sl_buf_steal(&b, NULL);
}

/* sl_file_part_get with the format fmt and its options fo. */
static int part_get(ftgt_t *ft, fslot_t *s, const sl_table_t *shape, const char *table, const char *dt,
                    const struct sl_fmt_ops *fmt, const sl_fmt_opts_t *fo, fpart_t **out, sl_err_t *err)
{
    char *sig = signature(shape);
    for (int i = 0; i < s->nparts; i++) {
        fpart_t *p = s->parts[i];
        if (!strcmp(p->table, table) && !strcmp(p->sig, sig) &&
            ((!dt && !p->dt) || (dt && p->dt && !strcmp(dt, p->dt)))) {
            free(sig);
            *out = p;
            return 0;
        }
    }
    if (s->nparts >= MAX_PARTS) {
        free(sig);
        sl_err_set(err, SL_E_LIMIT, "more than %d files open at once for table \"%s\"", MAX_PARTS, table);
        sl_err_hint(err, "partition by a column with fewer distinct dates per batch, or lower batch_rows");
        return -1;
    }
    fpart_t *p = calloc(1, sizeof *p);
    if (!p)
        sl_oom();
    p->fd = -1;
    p->fmt = fmt;
    p->fo = *fo;
    p->sig = sig;
    p->table = sl_strdup(table);
    p->dt = dt ? sl_strdup(dt) : NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%ld-%016llx-%u.spool", ft->o.spool_dir, (long)getpid(),
             (unsigned long long)ft->o.spool_tag, ft->spool_seq++);
    p->spool = sl_strdup(path);
    p->shape = sl_table_copy(shape);
    /* a mapping's cast makes a column text in files (the value's canonical text) */
    for (int i = 0; i < p->shape->ncolumns; i++) {
        sl_column_t *c = &p->shape->columns[i];
        if (c->cast && !sl_type_is_binary(c->type)) {
            c->type = SL_T_TEXT;
            c->precision = c->length = 0;
            c->scale = -1;
            c->fixed = false;
        }
    }
    if ((p->fd = sl_file_spool_open(p->spool, err)) < 0)
        goto fail;
    sl_fmt_sink_t sink = {.write = sink_write, .ctx = p};
    if (fmt->open(p->shape, &p->fo, sink, &p->enc, err)) {
        sl_err_prefix(err, "table \"%s\": ", table);
        goto fail;
    }
    fpart_t **v = realloc(s->parts, sizeof *v * (size_t)(s->nparts + 1));
    if (!v)
        sl_oom();
    sl_file_slot_touch(s);
    s->parts = v;
    s->parts[s->nparts++] = p;
    *out = p;
    return 0;
fail:
    part_free(p, true);
    return -1;
}

int sl_file_part_get(ftgt_t *ft, fslot_t *s, const sl_table_t *shape, const char *table, const char *dt,
                     fpart_t **out, sl_err_t *err)
{
    return part_get(ft, s, shape, table, dt, ft->o.fmt, &ft->o.fo, out, err);
}

/* The columns of a rejects file: those of a database target's _sluice_rejects. */
static const sl_column_t rejects_cols[] = {
    {.name = "stream", .type = SL_T_TEXT, .nullable = true, .scale = -1},
    {.name = "table_name", .type = SL_T_TEXT, .nullable = true, .scale = -1},
    {.name = "row_key", .type = SL_T_JSON, .nullable = true, .scale = -1},
    {.name = "column_name", .type = SL_T_TEXT, .nullable = true, .scale = -1},
    {.name = "reason", .type = SL_T_TEXT, .nullable = true, .scale = -1},
    {.name = "row_data", .type = SL_T_JSON, .nullable = true, .scale = -1},
    {.name = "position", .type = SL_T_TEXT, .nullable = true, .scale = -1},
    {.name = "rejected_at", .type = SL_T_TIMESTAMPTZ, .nullable = true, .scale = 6},
};

int sl_file_rejects_part(ftgt_t *ft, fslot_t *s, fpart_t **out, sl_err_t *err)
{
    static const sl_table_t shape = {.name = SL_REJECTS_TABLE, .columns = (sl_column_t *)rejects_cols,
                                     .ncolumns = (int)(sizeof rejects_cols / sizeof rejects_cols[0])};
    char dir[600];
    snprintf(dir, sizeof dir, "_sluice/rejects/%s", ft->stream ? ft->stream : "_");
    sl_fmt_opts_t fo = ft->o.fo;
    if (fo.codec == SL_CODEC_SNAPPY) /* Parquet's page codec, not a file codec */
        fo.codec = SL_CODEC_NONE;
    return part_get(ft, s, &shape, dir, NULL, sl_fmt_lookup("jsonl"), &fo, out, err);
}

bool sl_file_slot_due(const ftgt_t *ft, const fslot_t *s, bool all)
{
    bool changes = !strncmp(s->key, "cdc:", 4);
    if (all || s->nparts >= FLUSH_PARTS || (s->has_pending && s->pending.done))
        return true;
    int64_t secs = sl_file_rotate_seconds(&ft->o, changes);
    if (s->nparts == 0) {
        /* a load's checkpoint without rows is stored at once; a change lane's waits (its
         * heartbeats come every second; nothing is at risk meanwhile), at most a minute */
        return !changes || time(NULL) - s->opened >= (secs > 0 ? secs : 60);
    }
    int64_t rows = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < s->nparts; i++) {
        rows += s->parts[i]->rows;
        bytes += s->parts[i]->fmt->size(s->parts[i]->enc);
    }
    return (ft->o.rotate_rows > 0 && rows >= ft->o.rotate_rows) ||
           (ft->o.rotate_bytes > 0 && bytes >= (uint64_t)ft->o.rotate_bytes) ||
           (secs > 0 && time(NULL) - s->opened >= secs);
}

void sl_file_slot_touch(fslot_t *s)
{
    if (!s->has_pending && s->nparts == 0)
        s->opened = time(NULL);
}

static void file_key(const ftgt_t *ft, const fslot_t *s, const fpart_t *p, int64_t first, char *out, int size)
{
    char dir[600], range[128];
    if (p->dt)
        snprintf(dir, sizeof dir, "%s/dt=%s", p->table, p->dt);
    else
        snprintf(dir, sizeof dir, "%s", p->table);
    if (!strncmp(s->key, "s:", 2)) {
        int stripe = atoi(s->key + 2);
        snprintf(range, sizeof range, "%06d.%08" PRId64 "-%06d.%08" PRId64, stripe, first, stripe, s->batches);
    } else {
        snprintf(range, sizeof range, "%016" PRIX64 ".%08X-%016" PRIX64 ".%08X", p->first.lsn, p->first.idx,
                 p->last.lsn, p->last.idx);
    }
    bool parquet = !strcmp(p->fmt->name, "parquet");
    snprintf(out, (size_t)size, "%s/part-%s.%s%s", dir, range, p->fmt->ext, parquet ? "" : sl_codec_ext(p->fo.codec));
}

static json_t *columns_json(const sl_table_t *t)
{
    json_t *a = json_array();
    for (int i = 0; i < t->ncolumns; i++)
        json_array_append_new(a, json_pack("[s,s]", t->columns[i].name, sl_type_name(t->columns[i].type)));
    return a;
}

int sl_file_slot_flush(ftgt_t *ft, fslot_t *s, sl_err_t *err)
{
    json_t *old = s->reset ? NULL : json_object_get(s->durable, "files");
    int64_t first = (s->reset || !s->durable ? 0 : json_integer_value(json_object_get(s->durable, "batches"))) + 1;
    json_t *files = old ? json_deep_copy(old) : json_array();
    json_t *nw = json_array(), *drop = json_array();
    if (s->reset && s->durable) {
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(s->durable, "files"), i, f)
        json_array_append(drop, json_object_get(f, "key"));
    }
    for (int i = 0; i < s->nparts; i++) {
        fpart_t *p = s->parts[i];
        if (p->fmt->finish(p->enc, err)) {
            sl_err_prefix(err, "table \"%s\": ", p->table);
            goto fail;
        }
        if (p->fmt->free)
            p->fmt->free(p->enc);
        p->enc = NULL;
        if (close(p->fd)) {
            p->fd = -1;
            sl_err_set(err, SL_E_IO, "could not write spool file \"%s\": %s", p->spool, strerror(errno));
            goto fail;
        }
        p->fd = -1;
        char key[1024], a[64], b[64];
        file_key(ft, s, p, first, key, sizeof key);
        if (!strncmp(s->key, "s:", 2)) {
            snprintf(a, sizeof a, "%s.%" PRId64, s->key + 2, first);
            snprintf(b, sizeof b, "%s.%" PRId64, s->key + 2, s->batches);
        } else {
            sl_lsn_format(p->first.lsn, a, sizeof a);
            snprintf(a + strlen(a), sizeof a - strlen(a), ":%u", p->first.idx);
            sl_lsn_format(p->last.lsn, b, sizeof b);
            snprintf(b + strlen(b), sizeof b - strlen(b), ":%u", p->last.idx);
        }
        json_t *e = json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "key", key, "table", p->table, "rows",
                              (json_int_t)p->rows, "first", a, "last", b, "columns", columns_json(p->shape));
        if (p->dt)
            json_object_set_new(e, "dt", json_string(p->dt));
        json_array_append_new(files, e);
        json_array_append_new(nw, json_pack("[s,s]", p->spool, key));
    }
    sl_ckpt_t ck = {0};
    if (s->has_pending)
        ck = s->pending;
    else if (s->durable)
        sl_file_ckpt_from_json(s->durable, &ck);
    json_t *obj = sl_file_ckpt_to_json(s->key, &ck, s->batches, files);
    if (!s->has_pending)
        sl_ckpt_clear(&ck);
    int rc = json_array_size(nw) || json_array_size(drop)
                 ? sl_file_commit_files(ft, s->key, obj, nw, drop, err)
                 : sl_file_ckpt_store(ft, s->key, obj, err);
    json_decref(nw);
    json_decref(drop);
    if (rc) {
        json_decref(obj);
        sl_file_slot_discard(ft, s);
        return -1;
    }
    parts_free(s, false);
    sl_ckpt_clear(&s->pending);
    s->has_pending = false;
    s->reset = false;
    json_decref(s->durable);
    s->durable = obj;
    return 0;
fail:
    json_decref(files);
    json_decref(nw);
    json_decref(drop);
    sl_file_slot_discard(ft, s);
    return -1;
}

/* A date partition value from a date or timestamp's canonical text, safe as a path. */
static void dt_value(const sl_value_t *v, char *out, int size)
{
    if (v->len < 0) {
        snprintf(out, (size_t)size, "null");
        return;
    }
    int n = 0;
    for (int64_t i = 0; i < v->len && n < size - 1 && v->p[i] != ' ' && v->p[i] != 'T'; i++) {
        char c = v->p[i];
        out[n++] = (char)((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'
                              ? c
                              : '_');
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, (size_t)size, "empty");
}

int sl_file_write_batch(ftgt_t *ft, fslot_t *s, const sl_table_t *t, sl_batch_view_t *batch, sl_err_t *err)
{
    /* with change_columns, the file's table is the change records' (file_cdc.c) */
    int lead = ft->o.change_columns ? SL_FILE_NLEAD : 0;
    sl_table_t *shape = lead ? sl_file_change_shape(t, err) : NULL;
    if (lead && !shape)
        return -1;
    int pcol = ft->o.partition_by ? sl_table_find_col(t, ft->o.partition_by) : -1;
    sl_value_t *vals = calloc((size_t)(lead + t->ncolumns + 1), sizeof *vals);
    if (!vals)
        sl_oom();
    if (lead)
        sl_file_snapshot_lead(vals);
    fpart_t *p = NULL;
    int rc = 0;
    s->dirty = true;
    sl_batch_rewind(batch);
    for (;;) {
        int r = sl_batch_next_row(batch, vals + lead, err);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (pcol >= 0 || !p) {
            char dt[64];
            if (pcol >= 0)
                dt_value(&vals[lead + pcol], dt, sizeof dt);
            if (sl_file_part_get(ft, s, shape ? shape : t, t->name, pcol >= 0 ? dt : NULL, &p, err)) {
                rc = -1;
                break;
            }
        }
        if (ft->o.fmt->write_row(p->enc, vals, err)) {
            char kb[256];
            sl_err_prefix(err, "table \"%s\", %s: ", t->name,
                          sl_target_row_key(t, batch, batch->row ? batch->row - 1 : 0, kb, sizeof kb));
            rc = -1;
            break;
        }
        p->rows++;
    }
    free(vals);
    sl_table_free(shape);
    return rc;
}
