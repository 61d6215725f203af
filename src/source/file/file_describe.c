/*
 * file_describe.c: a file table's schema. Parquet: every file's footer (the schema with
 * its logical types, target/fmt/parquet_schema.c), merged over the files. CSV and JSONL:
 * the columns (a CSV header, the JSONL keys in the order first seen) and types inferred
 * from the first sample_rows rows of the table's files (target/fmt/infer.c); the user
 * overrides a type with `cast`.
 *
 * Files of one table that disagree merge when the types widen safely: int16 < int32 <
 * int64 < decimal, float32 < float64, date < timestamp, decimals to the larger scale and
 * integer digits, a column only some files have (NULL in the others); any other
 * difference refuses the file, naming it and the column.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "source/file/file_src.h"

static int int_digits(sl_type_t t)
{
    return t == SL_T_INT16 ? 5 : t == SL_T_INT32 ? 10 : 19;
}

static int rank(sl_type_t t)
{
    return t == SL_T_INT16 ? 1 : t == SL_T_INT32 ? 2 : t == SL_T_INT64 ? 3 : t == SL_T_DECIMAL ? 4 : 0;
}

/* Merges column b (of file `key`) into a. */
static int merge_col(sl_column_t *a, const sl_column_t *b, const char *table, const char *key,
                     sl_err_t *err)
{
    a->nullable = a->nullable || b->nullable;
    if (a->type == b->type && (a->type != SL_T_ARRAY || a->elem == b->elem)) {
        if (a->type == SL_T_DECIMAL || (a->type == SL_T_ARRAY && a->elem == SL_T_DECIMAL)) {
            if (a->precision > 0 && b->precision > 0) {
                int s = a->scale > b->scale ? a->scale : b->scale;
                int ia = a->precision - a->scale, ib = b->precision - b->scale;
                a->precision = (ia > ib ? ia : ib) + s;
                a->scale = s;
            } else {
                a->precision = 0;
            }
        } else if (b->scale > a->scale) {
            a->scale = b->scale; /* fraction digits of times */
        }
        if (a->type == SL_T_BYTES && (a->fixed != b->fixed || a->length != b->length)) {
            a->fixed = false;
            a->length = 0;
        }
        return 0;
    }
    if (rank(a->type) && rank(b->type) && (a->type != SL_T_DECIMAL || a->precision > 0) &&
        (b->type != SL_T_DECIMAL || b->precision > 0)) {
        /* integers widen to the wider integer, or to a decimal with room for them */
        if (a->type != SL_T_DECIMAL && b->type != SL_T_DECIMAL) {
            if (rank(b->type) > rank(a->type))
                a->type = b->type;
            return 0;
        }
        const sl_column_t *d = a->type == SL_T_DECIMAL ? a : b, *i = a->type == SL_T_DECIMAL ? b : a;
        int s = d->scale, id = d->precision - d->scale, ii = int_digits(i->type);
        a->type = SL_T_DECIMAL;
        a->precision = (id > ii ? id : ii) + s;
        a->scale = s;
        return 0;
    }
    if ((a->type == SL_T_FLOAT32 && b->type == SL_T_FLOAT64) ||
        (a->type == SL_T_FLOAT64 && b->type == SL_T_FLOAT32)) {
        a->type = SL_T_FLOAT64;
        return 0;
    }
    if ((a->type == SL_T_DATE && b->type == SL_T_TIMESTAMP) ||
        (a->type == SL_T_TIMESTAMP && b->type == SL_T_DATE)) {
        a->type = SL_T_TIMESTAMP;
        if (a->scale < 6)
            a->scale = b->scale > a->scale ? b->scale : a->scale;
        return 0;
    }
    sl_err_set(err, SL_E_SCHEMA, "source file \"%s\" does not fit table \"%s\"", key, table);
    sl_err_detail(err, "Its column \"%s\" is %s%s; the table's earlier files make it %s%s.", b->name,
                  sl_type_name(b->type), b->type == SL_T_ARRAY ? "[]" : "", sl_type_name(a->type),
                  a->type == SL_T_ARRAY ? "[]" : "");
    sl_err_hint(err, "files of one table must have the same columns or types that widen safely; "
                     "load the others as a table of their own (another directory)");
    return -1;
}

static sl_column_t *add_col(sl_table_t *t, const char *name, size_t n)
{
    sl_column_t *c = sl_table_add_col(t);
    if (!c)
        sl_oom();
    c->name = malloc(n + 1);
    if (!c->name)
        sl_oom();
    memcpy(c->name, name, n);
    c->name[n] = 0;
    return c;
}

static void copy_col(sl_column_t *dst, const sl_column_t *src)
{
    char *name = dst->name;
    *dst = *src;
    dst->name = name;
    dst->native = sl_strdup(src->native);
    dst->default_value = NULL;
    dst->labels = NULL;
    dst->nlabels = 0;
    dst->elem_native = sl_strdup(src->elem_native);
    dst->generation_expr = NULL;
    dst->charset = NULL;
}

static int describe_parquet(fsrc_t *fs, sl_table_t *t, const int *idx, int n, sl_err_t *err)
{
    t->est_rows = 0;
    for (int k = 0; k < n; k++) {
        const ffile_t *f = &fs->files[idx[k]];
        frows_t *r;
        if (sl_frows_open(fs, f, NULL, NULL, &r, err))
            return -1;
        const sl_table_t *ft = sl_pq_reader_table(sl_frows_parquet(r));
        t->est_rows += sl_pq_reader_rows(sl_frows_parquet(r));
        int rc = 0;
        for (int j = 0; j < ft->ncolumns && rc == 0; j++) {
            const sl_column_t *fc = &ft->columns[j];
            int i = sl_table_find_col(t, fc->name);
            if (i >= 0) {
                rc = merge_col(&t->columns[i], fc, t->name, f->key, err);
            } else {
                sl_column_t *c = add_col(t, fc->name, strlen(fc->name));
                copy_col(c, fc);
                c->nullable = c->nullable || k > 0; /* earlier files lack it */
            }
        }
        for (int i = 0; i < t->ncolumns; i++) /* a column this file lacks is NULL in it */
            if (sl_table_find_col(ft, t->columns[i].name) < 0)
                t->columns[i].nullable = true;
        sl_frows_free(r);
        if (rc)
            return -1;
    }
    return 0;
}

static int describe_sample(fsrc_t *fs, sl_table_t *t, const int *idx, int n, sl_err_t *err)
{
    sl_infer_t *inf = NULL;
    int seen = 0, cap = 0;
    int rc = 0;
    for (int k = 0; k < n && seen < fs->sample_rows && rc == 0; k++) {
        frows_t *r;
        if (sl_frows_open(fs, &fs->files[idx[k]], NULL, NULL, &r, err)) {
            rc = -1;
            break;
        }
        const sl_value_t *names, *vals;
        const sl_json_kind_t *kinds;
        int nf;
        while (seen < fs->sample_rows && (rc = sl_frows_next_raw(r, &names, &vals, &kinds, &nf, err)) == 1) {
            seen++;
            for (int j = 0; j < nf; j++) {
                char name[1024];
                size_t len = names[j].len < (int64_t)sizeof name ? (size_t)names[j].len : sizeof name - 1;
                memcpy(name, names[j].p, len);
                name[len] = 0;
                int i = sl_table_find_col(t, name);
                if (i < 0) {
                    add_col(t, name, len);
                    i = t->ncolumns - 1;
                    if (t->ncolumns > cap) {
                        cap = cap ? cap * 2 : 32;
                        sl_infer_t *v = realloc(inf, sizeof *v * (size_t)cap);
                        if (!v)
                            sl_oom();
                        inf = v;
                    }
                    sl_infer_init(&inf[i]);
                }
                if (vals[j].len >= 0)
                    sl_infer_add(&inf[i], kinds[j], vals[j].p, (size_t)vals[j].len);
            }
        }
        if (rc > 0)
            rc = 0;
        sl_frows_free(r);
    }
    for (int i = 0; rc == 0 && i < t->ncolumns; i++) {
        t->columns[i].nullable = true;
        sl_infer_column(&inf[i], &t->columns[i]);
        t->columns[i].native = sl_strdup(sl_type_name(t->columns[i].type));
    }
    free(inf);
    return rc;
}

int sl_fsrc_describe(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err)
{
    fsrc_t *fs = (fsrc_t *)src;
    int *idx, n;
    if (sl_fsrc_table_files(fs, table, &idx, &n, err))
        return -1;
    if (n == 0) {
        sl_err_set(err, SL_E_NOT_FOUND, "source table \"%s\" has no files", table);
        sl_err_hint(err, "a table is a directory of .parquet, .csv or .jsonl files (optionally .gz "
                         "or .zst) under the source URL, or such a file at its top");
        return -1;
    }
    sl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        sl_oom();
    t->name = sl_strdup(table);
    t->est_rows = -1;
    t->est_bytes = 0;
    ffmt_t fmt = fs->files[idx[0]].fmt;
    int rc = 0;
    for (int k = 0; k < n; k++) {
        t->est_bytes += (int64_t)fs->files[idx[k]].size;
        if (fs->files[idx[k]].fmt != fmt) {
            sl_err_set(err, SL_E_SCHEMA, "source table \"%s\" mixes file formats", table);
            sl_err_detail(err, "\"%s\" and \"%s\" differ.", fs->files[idx[0]].key, fs->files[idx[k]].key);
            sl_err_hint(err, "give ?format= in the source URL to read one format only");
            rc = -1;
        }
    }
    if (rc == 0)
        rc = fmt == FF_PARQUET ? describe_parquet(fs, t, idx, n, err) : describe_sample(fs, t, idx, n, err);
    free(idx);
    if (rc == 0 && t->ncolumns == 0) {
        sl_err_set(err, SL_E_SCHEMA, "source table \"%s\" has no columns", table);
        rc = -1;
    }
    if (rc) {
        sl_table_free(t);
        return -1;
    }
    *out = t;
    return 0;
}
