/*
 * file_rows.c: one file of a table read as rows of the table's columns, whatever its
 * format. Columns match by name: a Parquet file's top-level fields, a CSV file's header
 * (or column1, column2, … without one), a JSONL object's keys. A column the file lacks
 * is NULL; a field the table lacks is an error naming the file (the table's schema came
 * from the files, so it means the file changed or lies outside the sample). Values:
 * Parquet's are canonical already (a date widened into a timestamp column gets its
 * midnight); CSV and JSONL text becomes the column type's canonical text
 * (sl_infer_canon), and a value that does not fit is an error naming the file, line
 * and column.
 *
 * Memory: the format reader's (one page per Parquet column, one record of CSV/JSONL)
 * and one row. Thread: the source's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/file/file_src.h"

struct frows {
    fsrc_t *fs;
    const ffile_t *f;
    const sl_table_t *t;
    frange_t fr;
    /* Parquet */
    sl_pq_reader_t *pq;
    int rg, rg_end;
    bool rg_open;
    sl_value_t *pvals;
    int *pmap;            /* table column -> file column, -1: NULL */
    bool *to_ts;          /* a date read into a timestamp column */
    /* CSV, JSONL */
    sl_fmt_in_t *in;
    sl_csvr_t *csv;
    sl_jsonlr_t *jl;
    sl_buf_t hdr;         /* CSV header names, NUL-separated */
    sl_value_t *names;
    int nnames;
    sl_json_kind_t *kinds;
    int nkinds;
    sl_value_t *raw;      /* JSONL values for next_raw */
    int nraw;
    /* the row */
    sl_buf_t row, tmp;
    size_t *offs, *lens;
    bool *nulls;
    sl_value_t *vals;
};

static int oom(sl_err_t *err) { return sl_err_set(err, SL_E_LIMIT, "out of memory reading a source file"); }

void sl_frows_free(frows_t *r)
{
    if (!r)
        return;
    sl_pq_reader_free(r->pq);
    sl_csvr_free(r->csv);
    sl_jsonlr_free(r->jl);
    sl_fmt_in_free(r->in);
    free(r->pvals);
    free(r->pmap);
    free(r->to_ts);
    sl_buf_free(&r->hdr);
    free(r->names);
    free(r->kinds);
    free(r->raw);
    sl_buf_free(&r->row);
    sl_buf_free(&r->tmp);
    free(r->offs);
    free(r->lens);
    free(r->nulls);
    free(r->vals);
    free(r);
}

sl_pq_reader_t *sl_frows_parquet(frows_t *r) { return r->pq; }
const char *sl_frows_version(frows_t *r) { return r->fr.version; }

void sl_frows_row_groups(frows_t *r, int from, int to)
{
    r->rg = from;
    r->rg_end = to;
    r->rg_open = false;
}

/* Whether a Parquet column of type `have` may be read into a table column of type
 * `want` as it is (the canonical text of the one is valid text of the other; verify
 * reads a file target with its source's types). */
static bool widens(sl_type_t have, sl_type_t want)
{
    /* text holds any type's canonical text (a file target's enums, intervals, …) */
    if (have == want || have == SL_T_TEXT)
        return true;
    switch (want) {
    case SL_T_INT32: return have == SL_T_INT16;
    case SL_T_INT64: return have == SL_T_INT16 || have == SL_T_INT32;
    case SL_T_DECIMAL: return have == SL_T_INT16 || have == SL_T_INT32 || have == SL_T_INT64;
    case SL_T_FLOAT64: return have == SL_T_FLOAT32;
    case SL_T_TIMESTAMP: return have == SL_T_DATE;
    default: return false;
    }
}

static int map_parquet(frows_t *r, sl_err_t *err)
{
    const sl_table_t *ft = sl_pq_reader_table(r->pq);
    r->rg_end = sl_pq_reader_row_groups(r->pq);
    if (!(r->pvals = calloc((size_t)ft->ncolumns + 1, sizeof *r->pvals)))
        return oom(err);
    if (!r->t)
        return 0;
    r->pmap = calloc((size_t)r->t->ncolumns + 1, sizeof *r->pmap);
    r->to_ts = calloc((size_t)r->t->ncolumns + 1, sizeof *r->to_ts);
    if (!r->pmap || !r->to_ts)
        return oom(err);
    for (int i = 0; i < r->t->ncolumns; i++) {
        const sl_column_t *c = &r->t->columns[i];
        int j = sl_table_find_col(ft, c->name);
        r->pmap[i] = j;
        if (j < 0)
            continue;
        const sl_column_t *fc = &ft->columns[j];
        bool ok = fc->type == SL_T_ARRAY ? c->type == SL_T_ARRAY && c->elem == fc->elem
                                         : widens(fc->type, c->type);
        if (!ok) {
            sl_err_set(err, SL_E_SCHEMA, "column \"%s\" of source file \"%s\" is %s, the table's is %s",
                       c->name, r->f->key, sl_type_name(fc->type), sl_type_name(c->type));
            sl_err_hint(err, "load files of different schemas as different tables (a table per "
                             "directory)");
            return -1;
        }
        r->to_ts[i] = fc->type == SL_T_DATE && c->type == SL_T_TIMESTAMP;
    }
    return 0;
}

/* CSV: the header row (or generated names from the first record's width). */
static int csv_header(frows_t *r, sl_err_t *err)
{
    if (!r->fs->header)
        return 0;
    const sl_value_t *v;
    int n;
    int rc = sl_csvr_next(r->csv, &v, &n, err);
    if (rc <= 0)
        return rc;
    r->names = calloc((size_t)n + 1, sizeof *r->names);
    size_t *at = calloc((size_t)n + 1, sizeof *at);
    if (!r->names || !at) {
        free(at);
        return oom(err);
    }
    for (int i = 0; i < n; i++) {
        at[i] = r->hdr.len;
        if (sl_buf_add(&r->hdr, v[i].p, v[i].len > 0 ? (size_t)v[i].len : 0, err) < 0 ||
            sl_buf_addc(&r->hdr, 0, err) < 0) {
            free(at);
            return -1;
        }
    }
    for (int i = 0; i < n; i++)
        r->names[i] = (sl_value_t){r->hdr.data + at[i], (int64_t)strlen(r->hdr.data + at[i])};
    r->nnames = n;
    free(at);
    return 0;
}

int sl_frows_open(fsrc_t *fs, const ffile_t *f, const sl_table_t *t, const char *expect,
                  frows_t **out, sl_err_t *err)
{
    frows_t *r = calloc(1, sizeof *r);
    if (!r)
        return oom(err);
    r->fs = fs;
    r->f = f;
    r->t = t;
    sl_frange_init(&r->fr, fs, f, expect);
    sl_buf_init(&r->hdr, (size_t)1 << 24);
    sl_buf_init(&r->row, (size_t)2 << 30);
    sl_buf_init(&r->tmp, (size_t)2 << 30);
    int nc = t ? t->ncolumns : 0;
    r->offs = calloc((size_t)nc + 1, sizeof *r->offs);
    r->lens = calloc((size_t)nc + 1, sizeof *r->lens);
    r->nulls = calloc((size_t)nc + 1, sizeof *r->nulls);
    r->vals = calloc((size_t)nc + 1, sizeof *r->vals);
    if (!r->offs || !r->lens || !r->nulls || !r->vals) {
        sl_frows_free(r);
        return oom(err);
    }
    int rc;
    if (f->fmt == FF_PARQUET) {
        rc = sl_pq_reader_open(&r->fr.r, f->key, NULL, &r->pq, err);
        if (rc == 0)
            rc = map_parquet(r, err);
    } else {
        rc = sl_fmt_in_open(&r->fr.r, sl_fmt_codec_of_name(f->key), &r->in, err);
        if (rc == 0 && f->fmt == FF_CSV) {
            rc = sl_csvr_open(sl_fmt_in_stream(r->in), &fs->csv, &r->csv, err);
            if (rc == 0)
                rc = csv_header(r, err);
        } else if (rc == 0) {
            rc = sl_jsonlr_open(sl_fmt_in_stream(r->in), &r->jl, err);
        }
        if (rc < 0 && err->code == SL_E_DATA && !strstr(err->message, f->key))
            sl_err_prefix(err, "source file \"%s\": ", f->key);
    }
    if (rc < 0) {
        sl_frows_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Room for n fields' kinds (and, for JSONL, their names and values). */
static int grow_kinds(frows_t *r, int n, sl_err_t *err)
{
    if (n <= r->nkinds)
        return 0;
    sl_json_kind_t *k = realloc(r->kinds, sizeof *k * (size_t)n);
    if (!k)
        return oom(err);
    r->kinds = k;
    if (r->jl) {
        sl_value_t *nm = realloc(r->names, sizeof *nm * (size_t)n);
        if (!nm)
            return oom(err);
        r->names = nm;
        sl_value_t *rv = realloc(r->raw, sizeof *rv * (size_t)n);
        if (!rv)
            return oom(err);
        r->raw = rv;
    }
    r->nkinds = n;
    return 0;
}

int sl_frows_next_raw(frows_t *r, const sl_value_t **names, const sl_value_t **vals,
                      const sl_json_kind_t **kinds, int *n, sl_err_t *err)
{
    int rc;
    if (r->csv) {
        const sl_value_t *v;
        if ((rc = sl_csvr_next(r->csv, &v, n, err)) <= 0)
            return rc;
        if (grow_kinds(r, *n, err) < 0)
            return -1;
        for (int i = 0; i < *n; i++)
            r->kinds[i] = SL_JK_TEXT;
        if (!r->fs->header && r->nnames < *n) { /* column1, column2, … */
            sl_value_t *nm = realloc(r->names, sizeof *nm * (size_t)*n);
            if (!nm)
                return oom(err);
            r->names = nm;
            sl_buf_reset(&r->hdr);
            size_t at[1024];
            int k = *n < 1024 ? *n : 1024;
            for (int i = 0; i < k; i++) {
                at[i] = r->hdr.len;
                if (sl_buf_printf(&r->hdr, err, "column%d", i + 1) < 0 || sl_buf_addc(&r->hdr, 0, err) < 0)
                    return -1;
            }
            for (int i = 0; i < k; i++)
                r->names[i] = (sl_value_t){r->hdr.data + at[i], (int64_t)strlen(r->hdr.data + at[i])};
            r->nnames = k;
        }
        if (*n > r->nnames) {
            sl_err_set(err, SL_E_DATA, "line %lld of source file \"%s\" has %d fields, its header %d",
                       (long long)sl_csvr_line(r->csv), r->f->key, *n, r->nnames);
            return -1;
        }
        *names = r->names;
        *vals = v;
        *kinds = r->kinds;
        return 1;
    }
    const sl_jsonl_kv_t *kv;
    if ((rc = sl_jsonlr_next(r->jl, &kv, n, err)) <= 0) {
        if (rc < 0 && err->code == SL_E_DATA)
            sl_err_prefix(err, "source file \"%s\", ", r->f->key);
        return rc;
    }
    if (grow_kinds(r, *n, err) < 0)
        return -1;
    for (int i = 0; i < *n; i++) {
        r->names[i] = kv[i].key;
        r->raw[i] = kv[i].val;
        r->kinds[i] = kv[i].kind;
    }
    *names = r->names;
    *vals = r->raw;
    *kinds = r->kinds;
    return 1;
}

static int finish_row(frows_t *r, sl_value_t *vals)
{
    for (int i = 0; i < r->t->ncolumns; i++) {
        vals[i].p = r->row.data ? r->row.data + r->offs[i] : "";
        size_t end = i + 1 < r->t->ncolumns ? r->offs[i + 1] : r->row.len;
        vals[i].len = r->nulls[i] ? -1 : (int64_t)(end - r->offs[i]);
    }
    return 1;
}

static int next_parquet(frows_t *r, sl_value_t *vals, sl_err_t *err)
{
    for (;;) {
        if (!r->rg_open) {
            if (r->rg >= r->rg_end)
                return 0;
            if (sl_pq_reader_seek(r->pq, r->rg, err) < 0)
                return -1;
            r->rg_open = true;
        }
        int rc = sl_pq_reader_next(r->pq, r->pvals, err);
        if (rc < 0)
            return -1;
        if (rc == 1)
            break;
        r->rg_open = false;
        r->rg++;
    }
    sl_buf_reset(&r->row);
    for (int i = 0; i < r->t->ncolumns; i++) {
        int j = r->pmap[i];
        r->offs[i] = r->row.len;
        r->nulls[i] = j < 0 || r->pvals[j].len < 0;
        if (r->nulls[i])
            continue;
        if (sl_buf_add(&r->row, r->pvals[j].p, (size_t)r->pvals[j].len, err) < 0 ||
            (r->to_ts[i] && sl_buf_adds(&r->row, " 00:00:00", err) < 0))
            return -1;
    }
    return finish_row(r, vals);
}

/* The table column named name (a cache of the last hit makes same-order keys cheap). */
static int column_of(const sl_table_t *t, const sl_value_t *name, int guess)
{
    if (guess >= 0 && guess < t->ncolumns && (size_t)name->len == strlen(t->columns[guess].name) &&
        !memcmp(t->columns[guess].name, name->p, (size_t)name->len))
        return guess;
    for (int i = 0; i < t->ncolumns; i++)
        if ((size_t)name->len == strlen(t->columns[i].name) &&
            !memcmp(t->columns[i].name, name->p, (size_t)name->len))
            return i;
    return -1;
}

static int64_t line_of(frows_t *r) { return r->csv ? sl_csvr_line(r->csv) : sl_jsonlr_line(r->jl); }

int sl_frows_next(frows_t *r, sl_value_t *vals, sl_err_t *err)
{
    if (r->pq)
        return next_parquet(r, vals, err);
    const sl_value_t *names, *v;
    const sl_json_kind_t *kinds;
    int n, rc;
    if ((rc = sl_frows_next_raw(r, &names, &v, &kinds, &n, err)) <= 0)
        return rc;
    /* values land at increasing offsets of row; columns not in the record stay NULL */
    sl_buf_reset(&r->row);
    size_t *start = r->offs, *len = r->lens;
    for (int i = 0; i < r->t->ncolumns; i++)
        r->nulls[i] = true;
    for (int k = 0; k < n; k++) {
        int c = column_of(r->t, &names[k], k);
        if (c < 0) {
            sl_err_set(err, SL_E_SCHEMA, "%s \"%.*s\" of source file \"%s\" (line %lld) is not a column of table \"%s\"",
                       r->csv ? "column" : "key", (int)names[k].len, names[k].p, r->f->key,
                       (long long)line_of(r), r->t->name);
            sl_err_hint(err, "the table's columns come from the first sample_rows rows of its files: "
                             "raise sample_rows in the source URL, or load the file as its own table");
            return -1;
        }
        if (v[k].len < 0 || kinds[k] == SL_JK_NULL)
            continue;
        if (sl_infer_canon(&r->t->columns[c], kinds[k], v[k].p, (size_t)v[k].len, &r->tmp, err) < 0) {
            if (err->code == SL_E_DATA) {
                char why[256];
                snprintf(why, sizeof why, "%s", err->message);
                sl_err_set(err, SL_E_DATA, "invalid %s value for column \"%s\" in source file \"%s\", line %lld",
                           sl_type_name(r->t->columns[c].type), r->t->columns[c].name, r->f->key,
                           (long long)line_of(r));
                sl_err_detail(err, "%s: \"%.*s\"", why, v[k].len > 80 ? 80 : (int)v[k].len, v[k].p);
                sl_err_hint(err, "the type was inferred from a sample: raise sample_rows in the source "
                                 "URL, or cast the column");
            }
            return -1;
        }
        start[c] = r->row.len;
        len[c] = r->tmp.len;
        r->nulls[c] = false;
        if (sl_buf_add(&r->row, r->tmp.data ? r->tmp.data : "", r->tmp.len, err) < 0)
            return -1;
    }
    for (int i = 0; i < r->t->ncolumns; i++) {
        vals[i].p = r->nulls[i] || !r->row.data ? "" : r->row.data + start[i];
        vals[i].len = r->nulls[i] ? -1 : (int64_t)len[i];
    }
    return 1;
}
