/*
 * file_scan.c: the file source's units of work and its scan.
 *
 * A unit is one CSV or JSONL file, or consecutive row groups of one Parquet file adding
 * up to about `every` rows, written as JSON:
 *   {"f": "orders/part-1.parquet", "t": 1, "v": "<version>", "g": [0, 3]}
 * (f: the key, t: the format, v: the version the file had when the load was planned,
 * g: the row groups [from, to)). The engine makes each unit a stripe of the plan, the
 * unit of progress: a rerun skips the units its target committed and resumes a unit
 * after the rows of its last committed batch (after_key ["N"]: rows of a unit always
 * come in the same order). A file whose version is not the planned one any more (size
 * and modification time on disk, the ETag on S3) is an error naming it: its committed
 * rows would no longer match.
 *
 * Without a unit (sluice verify, or a source without a plan), scan reads every file of
 * the table in key order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "source/file/file_src.h"

static char *unit_json(const ffile_t *f, const char *version, int from, int to)
{
    json_t *u = json_object();
    json_object_set_new(u, "f", json_string(f->key));
    json_object_set_new(u, "t", json_integer(f->fmt));
    json_object_set_new(u, "v", json_string(version));
    if (to >= 0)
        json_object_set_new(u, "g", json_pack("[ii]", from, to));
    char *s = json_dumps(u, JSON_COMPACT);
    json_decref(u);
    if (!s)
        sl_oom();
    return s;
}

static void push(char ***v, int *n, char *s)
{
    char **p = realloc(*v, sizeof *p * (size_t)(*n + 1));
    if (!p)
        sl_oom();
    *v = p;
    p[(*n)++] = s;
}

/* The version of a text file: what a read of its first bytes through the store reports
 * (16 of them, not 1: s3rver answers "bytes=0-0" with the whole object). */
static int text_version(fsrc_t *fs, const ffile_t *f, char *out, size_t size, sl_err_t *err)
{
    frange_t fr;
    sl_frange_init(&fr, fs, f, NULL);
    char b[16];
    out[0] = 0;
    if (f->size > 0 && fr.r.read(fr.r.ctx, 0, b, f->size < sizeof b ? (size_t)f->size : sizeof b, err))
        return -1;
    snprintf(out, size, "%s", fr.version);
    return 0;
}

int sl_fsrc_units(sl_source_t *src, const sl_table_t *t, int64_t every, char ***units, int *n,
                  sl_err_t *err)
{
    fsrc_t *fs = (fsrc_t *)src;
    int *idx, nf;
    *units = NULL;
    *n = 0;
    if (sl_fsrc_table_files(fs, t->name, &idx, &nf, err))
        return -1;
    if (every < 1)
        every = 1;
    int rc = 0;
    for (int k = 0; k < nf && rc == 0; k++) {
        const ffile_t *f = &fs->files[idx[k]];
        if (f->fmt != FF_PARQUET) {
            char v[256];
            if ((rc = text_version(fs, f, v, sizeof v, err)) == 0)
                push(units, n, unit_json(f, v, 0, -1));
            continue;
        }
        frows_t *r;
        if ((rc = sl_frows_open(fs, f, NULL, NULL, &r, err)))
            break;
        sl_pq_reader_t *pq = sl_frows_parquet(r);
        int ng = sl_pq_reader_row_groups(pq);
        for (int from = 0; from < ng || (ng == 0 && from == 0);) {
            int to = from;
            int64_t rows = 0;
            while (to < ng && (rows < every || to == from))
                rows += sl_pq_reader_rg_rows(pq, to++);
            push(units, n, unit_json(f, sl_frows_version(r), from, to));
            if (to == from)
                break; /* a file without row groups: one empty unit */
            from = to;
        }
        sl_frows_free(r);
    }
    free(idx);
    if (rc) {
        for (int i = 0; i < *n; i++)
            free((*units)[i]);
        free(*units);
        *units = NULL;
        *n = 0;
    }
    return rc;
}

/* Streams rows of r to fn, skipping the first `skip`. */
static int stream(frows_t *r, const sl_table_t *t, int64_t skip, sl_row_fn fn, void *ctx,
                  sl_err_t *err)
{
    sl_value_t *vals = calloc((size_t)t->ncolumns + 1, sizeof *vals);
    if (!vals)
        return sl_err_set(err, SL_E_LIMIT, "out of memory");
    int rc;
    while ((rc = sl_frows_next(r, vals, err)) == 1) {
        if (skip > 0) {
            skip--;
            continue;
        }
        int stop = fn(ctx, vals, t->ncolumns, err);
        if (stop) {
            free(vals);
            return stop;
        }
    }
    free(vals);
    return rc;
}

static int bad_unit(sl_err_t *err)
{
    return sl_err_set(err, SL_E_PROTOCOL, "the stored load plan has a malformed file unit");
}

static int scan_unit(fsrc_t *fs, const sl_scan_t *scan, sl_row_fn fn, void *ctx, sl_err_t *err)
{
    json_error_t je;
    json_t *u = json_loads(scan->unit, 0, &je);
    const char *key = json_string_value(json_object_get(u, "f"));
    const char *ver = json_string_value(json_object_get(u, "v"));
    json_t *g = json_object_get(u, "g");
    int fmt = (int)json_integer_value(json_object_get(u, "t"));
    if (!key || !ver || fmt < FF_PARQUET || fmt > FF_JSONL) {
        json_decref(u);
        return bad_unit(err);
    }
    int64_t skip = 0;
    if (scan->after_key) { /* ["N"]: the rows of this unit already committed */
        json_t *a = json_loads(scan->after_key, 0, &je);
        const char *s = json_string_value(json_array_get(a, 0));
        skip = s ? strtoll(s, NULL, 10) : 0;
        json_decref(a);
    }
    ffile_t f = {.key = (char *)key, .fmt = (ffmt_t)fmt};
    /* the size comes from the listing (a unit of a file that is gone fails on read) */
    if (sl_fsrc_list(fs, err)) {
        json_decref(u);
        return -1;
    }
    for (int i = 0; i < fs->nfiles; i++)
        if (!strcmp(fs->files[i].key, key))
            f.size = fs->files[i].size;
    frows_t *r;
    int rc = sl_frows_open(fs, &f, scan->table, ver, &r, err);
    if (rc == 0) {
        sl_pq_reader_t *pq = sl_frows_parquet(r);
        if (pq && json_is_array(g)) {
            int from = (int)json_integer_value(json_array_get(g, 0));
            int to = (int)json_integer_value(json_array_get(g, 1));
            if (to > sl_pq_reader_row_groups(pq))
                to = sl_pq_reader_row_groups(pq);
            while (from < to && skip >= sl_pq_reader_rg_rows(pq, from))
                skip -= sl_pq_reader_rg_rows(pq, from++); /* whole row groups already done */
            sl_frows_row_groups(r, from, to);
        }
        rc = stream(r, scan->table, skip, fn, ctx, err);
        sl_frows_free(r);
    }
    json_decref(u);
    return rc;
}

int sl_fsrc_scan(sl_source_t *src, const sl_scan_t *scan, sl_row_fn fn, void *ctx, sl_err_t *err)
{
    fsrc_t *fs = (fsrc_t *)src;
    if (scan->unit)
        return scan_unit(fs, scan, fn, ctx, err);
    int *idx, n;
    if (sl_fsrc_table_files(fs, scan->table->name, &idx, &n, err))
        return -1;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        frows_t *r;
        if ((rc = sl_frows_open(fs, &fs->files[idx[k]], scan->table, NULL, &r, err)))
            break;
        rc = stream(r, scan->table, 0, fn, ctx, err);
        sl_frows_free(r);
    }
    free(idx);
    return rc;
}
