/*
 * verify.c: see verify.h.
 *
 * Threads: sl_verify_table() scans the two sides on two threads (the caller's and
 * one more) over two connections; each side owns its accumulators.
 */
#include "engine/verify.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "engine/mapping.h"
#include "engine/normalize.h"
#include "engine/spec.h"
#include "target/target.h"

#define NB 256
#define PASS2_MAX 200000

typedef struct entry {
    char *key;
    unsigned char hash[16];
} entry_t;

/* Keys of rejected rows (normalised as verify writes keys), sorted. */
typedef struct keyset {
    char **keys;
    int n, cap;
} keyset_t;

typedef struct side {
    sl_source_t *src;
    const sl_table_t *ref;   /* the source's description: types and key */
    const sl_column_t **cmp; /* per ref column: whose type values compare as (a cast: the
                                target's), shared by both sides */
    sl_table_t *own;         /* this side's description (what to scan) */
    int *map;                /* ref column i -> own column */
    const sl_filter_t *filter; /* pushed into the scan */
    const sl_map_t *local;   /* a source that cannot filter: whole rows, filtered and
                                projected here */
    sl_value_t *proj;
    const keyset_t *rejected; /* rows left out of the comparison */
    uint64_t cnt[NB], s0[NB], s1[NB];
    const bool *want;        /* pass 2: buckets to collect, NULL in pass 1 */
    entry_t *ents;
    int nents;
    bool overflow;
    sl_buf_t norm, keyb;
    sl_err_t err;
    int rc;
} side_t;

static uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The key of a row as verify names it: "id=4, region=EU" (normalised values). */
static int key_text(const side_t *sd, const sl_value_t *vals, sl_buf_t *out, sl_err_t *err)
{
    const sl_table_t *ref = sd->ref;
    sl_buf_reset(out);
    int npk = sl_table_pk_count(ref);
    for (int i = 0; i < npk; i++) {
        int c = sl_table_pk_col(ref, i);
        const sl_value_t *v = &vals[sd->map[c]];
        if (sl_buf_printf(out, err, "%s%s=", i ? ", " : "", ref->columns[c].name))
            return -1;
        if (v->len < 0 ? sl_buf_adds(out, "NULL", err) : sl_value_normalize(sd->cmp[c], v, out, err))
            return -1;
    }
    if (!out->data)
        return sl_buf_adds(out, "", err);
    return 0;
}

static int on_row(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    side_t *sd = ctx;
    const sl_table_t *ref = sd->ref;
    if (sd->local) { /* a file source: its filter and projection here */
        int keep = sl_map_filter_row(sd->local, vals, nvals, sd->proj, err);
        if (keep <= 0)
            return keep;
        vals = sd->proj;
    }
    int npk = sl_table_pk_count(ref);
    if (key_text(sd, vals, &sd->keyb, err))
        return -1;
    if (npk && sd->rejected && sd->rejected->n &&
        bsearch(&sd->keyb.data, sd->rejected->keys, (size_t)sd->rejected->n, sizeof (char *), cmp_key))
        return 0; /* rejected: counted apart, compared on neither side */
    sl_buf_reset(&sd->norm);
    for (int i = 0; i < ref->ncolumns; i++) {
        const sl_value_t *v = &vals[sd->map[i]];
        if (v->len < 0) {
            if (sl_buf_addc(&sd->norm, 'N', err))
                return -1;
            continue;
        }
        size_t at = sd->norm.len;
        if (sl_buf_add(&sd->norm, "V00000000", 9, err) || sl_value_normalize(sd->cmp[i], v, &sd->norm, err))
            return -1;
        /* length prefix, so that ("ab","c") and ("a","bc") hash differently */
        uint64_t len = sd->norm.len - at - 9;
        static const char hex[] = "0123456789abcdef";
        for (int k = 0; k < 8; k++)
            sd->norm.data[at + 1 + k] = hex[(len >> (28 - 4 * k)) & 0xf];
    }
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)sd->norm.data, sd->norm.len, NULL, 0);
    /* bucket and sample key from the primary key (or the whole row without one) */
    unsigned char kh[8];
    if (npk)
        crypto_generichash(kh, sizeof kh, (const unsigned char *)sd->keyb.data, sd->keyb.len, NULL, 0);
    else
        memcpy(kh, h, sizeof kh);
    int b = kh[0];
    if (!sd->want) {
        sd->cnt[b]++;
        sd->s0[b] += load64(h);
        sd->s1[b] += load64(h + 8);
        return 0;
    }
    if (!sd->want[b])
        return 0;
    if (sd->nents >= PASS2_MAX) {
        sd->overflow = true;
        return 0;
    }
    if (sd->nents % 1024 == 0) {
        entry_t *e = realloc(sd->ents, sizeof *e * (size_t)(sd->nents + 1024));
        if (!e)
            sl_oom();
        sd->ents = e;
    }
    entry_t *e = &sd->ents[sd->nents++];
    e->key = npk ? sl_strdup(sd->keyb.data) : NULL;
    if (!npk) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, "row hash %02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
        e->key = sl_strdup(tmp);
    }
    memcpy(e->hash, h, 16);
    return 0;
}

static void *scan_side(void *arg)
{
    side_t *sd = arg;
    sl_scan_t scan = {.table = sd->own, .filter = sd->filter};
    sd->rc = sd->src->ops->scan(sd->src, &scan, on_row, sd, &sd->err);
    return NULL;
}

static int scan_both(side_t *a, side_t *b, sl_err_t *err)
{
    pthread_t th;
    pthread_create(&th, NULL, scan_side, b);
    scan_side(a);
    pthread_join(th, NULL);
    if (a->rc) {
        *err = a->err;
        sl_err_prefix(err, "source: ");
        return -1;
    }
    if (b->rc) {
        *err = b->err;
        sl_err_prefix(err, "target: ");
        return -1;
    }
    return 0;
}

static int cmp_entry(const void *x, const void *y)
{
    const entry_t *a = x, *b = y;
    return strcmp(a->key, b->key);
}

static void add_sample(sl_verify_result_t *res, const char *what, const char *key)
{
    if (res->nsamples < SL_VERIFY_SAMPLES)
        snprintf(res->samples[res->nsamples++], sizeof res->samples[0], "%s: %s", what, key);
}

/* Sorted merge of the two sides' entries of the differing buckets. */
static void diff_entries(side_t *a, side_t *b, sl_verify_result_t *res)
{
    qsort(a->ents, (size_t)a->nents, sizeof *a->ents, cmp_entry);
    qsort(b->ents, (size_t)b->nents, sizeof *b->ents, cmp_entry);
    int i = 0, j = 0;
    while ((i < a->nents || j < b->nents) && res->nsamples < SL_VERIFY_SAMPLES) {
        int c = i >= a->nents ? 1 : j >= b->nents ? -1 : strcmp(a->ents[i].key, b->ents[j].key);
        if (c < 0) {
            add_sample(res, "missing on target", a->ents[i++].key);
        } else if (c > 0) {
            add_sample(res, "extra on target", b->ents[j++].key);
        } else {
            if (memcmp(a->ents[i].hash, b->ents[j].hash, 16) != 0)
                add_sample(res, "different values", a->ents[i].key);
            i++;
            j++;
        }
    }
}

/* A file target keeps less type than a database (CSV and JSONL none, Parquet no enum,
 * interval or unconstrained decimal): its files are read with the source's types, so that
 * CSV's "\\x…" bytes, JSONL's base64 and ISO 8601 texts come back as canonical values. */
static void adopt_types(sl_table_t *own, const sl_table_t *ref)
{
    for (int i = 0; i < ref->ncolumns; i++) {
        int j = sl_table_find_col(own, ref->columns[i].name);
        if (j < 0)
            continue;
        sl_column_t *c = &own->columns[j];
        const sl_column_t *r = &ref->columns[i];
        c->type = r->type;
        c->elem = r->elem;
        c->precision = r->precision;
        c->scale = r->scale;
        c->length = r->length;
        c->fixed = r->fixed;
    }
}

static void keyset_free(keyset_t *ks)
{
    for (int i = 0; i < ks->n; i++)
        free(ks->keys[i]);
    free(ks->keys);
}

/* One rejects row: its key into the set (normalised like the side's keys). */
typedef struct rejctx {
    side_t *sd;   /* for the key's column types */
    keyset_t *ks;
    int keycol;   /* row_key's column in the rejects table */
    int64_t n;
} rejctx_t;

static int on_reject(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    rejctx_t *r = ctx;
    r->n++;
    const sl_value_t *k = &vals[r->keycol];
    if (k->len < 0)
        return 0;
    json_t *a = json_loadb(k->p, (size_t)k->len, 0, NULL);
    const sl_table_t *ref = r->sd->ref;
    int npk = sl_table_pk_count(ref);
    if (!json_is_array(a) || (int)json_array_size(a) != npk) {
        json_decref(a);
        return 0;
    }
    sl_value_t *row = calloc((size_t)ref->ncolumns + 1, sizeof *row);
    int *ident = calloc((size_t)ref->ncolumns + 1, sizeof *ident);
    if (!row || !ident)
        sl_oom();
    for (int i = 0; i < ref->ncolumns; i++) {
        ident[i] = i;
        row[i].len = -1;
    }
    for (int i = 0; i < npk; i++) {
        const json_t *v = json_array_get(a, (size_t)i);
        if (json_is_string(v))
            row[sl_table_pk_col(ref, i)] = (sl_value_t){json_string_value(v), (int64_t)json_string_length(v)};
    }
    side_t keyside = *r->sd;
    keyside.map = ident;
    sl_buf_t kb;
    sl_buf_init(&kb, 1u << 20);
    int rc = key_text(&keyside, row, &kb, err);
    if (rc == 0) {
        if (r->ks->n == r->ks->cap) {
            r->ks->cap = r->ks->cap ? r->ks->cap * 2 : 256;
            char **v = realloc(r->ks->keys, sizeof *v * (size_t)r->ks->cap);
            if (!v)
                sl_oom();
            r->ks->keys = v;
        }
        r->ks->keys[r->ks->n++] = sl_buf_steal(&kb, NULL);
    }
    sl_buf_free(&kb);
    free(row);
    free(ident);
    json_decref(a);
    (void)nvals;
    return rc;
}

/* Reads the rejects the stream recorded for source table `label` on the target (a
 * database target's _sluice_rejects; none when it has no such table). */
static int load_rejects(sl_source_t *tgt, const char *stream, const char *label, side_t *sd, keyset_t *ks,
                        int64_t *count, sl_err_t *err)
{
    sl_table_t *rt = NULL;
    sl_err_t e2 = {0};
    *count = 0;
    if (tgt->ops->units || tgt->ops->describe(tgt, SL_REJECTS_TABLE, &rt, &e2))
        return 0; /* no rejects table: nothing was rejected there */
    sl_buf_t w;
    sl_buf_init(&w, 1u << 16);
    sl_buf_adds(&w, "stream = '", NULL);
    for (const char *p = stream; *p; p++)
        sl_buf_add(&w, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1, NULL);
    sl_buf_adds(&w, "' AND table_name = '", NULL);
    for (const char *p = label; *p; p++)
        sl_buf_add(&w, *p == '\'' ? "''" : p, *p == '\'' ? 2 : 1, NULL);
    sl_buf_addc(&w, '\'', NULL);
    sl_filter_t *f = NULL;
    int rc = -1;
    rejctx_t r = {.sd = sd, .ks = ks, .keycol = sl_table_find_col(rt, "row_key")};
    if (r.keycol < 0 || sl_filter_parse(w.data, &f, err) || sl_filter_bind(f, rt, err))
        goto out;
    sl_scan_t scan = {.table = rt, .filter = f};
    if (tgt->ops->scan(tgt, &scan, on_reject, &r, err)) {
        sl_err_prefix(err, "target: reading %s: ", SL_REJECTS_TABLE);
        goto out;
    }
    if (ks->n > 1) /* none: keys is NULL, which qsort may not be given */
        qsort(ks->keys, (size_t)ks->n, sizeof *ks->keys, cmp_key);
    *count = r.n;
    rc = 0;
out:
    sl_filter_free(f);
    sl_buf_free(&w);
    sl_table_free(rt);
    return rc;
}

static void side_free(side_t *sd)
{
    for (int i = 0; i < sd->nents; i++)
        free(sd->ents[i].key);
    free(sd->ents);
    free(sd->map);
    free(sd->proj);
    sl_table_free(sd->own);
    sl_buf_free(&sd->norm);
    sl_buf_free(&sd->keyb);
}

static void silent(void *ctx, const char *table, const char *column, bool warning, const char *text)
{
    (void)ctx, (void)table, (void)column, (void)warning, (void)text;
}

/* The map of source table `table` under spec (identity without one). */
static int table_map(sl_source_t *src, const sl_spec_t *spec, const char *table, sl_map_t **m, sl_err_t *err)
{
    sl_table_t *t = NULL;
    if (src->ops->describe(src, table, &t, err)) {
        sl_err_prefix(err, "source: ");
        return -1;
    }
    sl_map_env_t env = {.target_kind = "pg"}; /* no spec: every column as it is */
    int rc = spec ? sl_map_env(spec, &env, err) : 0;
    if (rc == 0) {
        env.note = silent;
        if (spec) {
            rc = sl_map_build(spec, t, &env, m, err);
        } else {
            json_t *none = json_object();
            rc = sl_map_make(none, t, &env, m, err);
            json_decref(none);
        }
    }
    sl_table_free(t);
    return rc;
}

int sl_verify_table(sl_source_t *src, sl_source_t *tgt, const sl_spec_t *spec, const char *table,
                    sl_verify_result_t *res, sl_err_t *err)
{
    memset(res, 0, sizeof *res);
    snprintf(res->table, sizeof res->table, "%s", table);
    side_t a = {.src = src}, b = {.src = tgt};
    sl_map_t *m = NULL;
    keyset_t rejected = {0};
    const sl_column_t **cmp = NULL;
    sl_buf_init(&a.norm, 256u << 20);
    sl_buf_init(&b.norm, 256u << 20);
    sl_buf_init(&a.keyb, 1u << 20);
    sl_buf_init(&b.keyb, 1u << 20);
    int rc = -1;
    if (table_map(src, spec, table, &m, err))
        goto out;
    a.own = sl_table_copy(m->scan);
    a.ref = b.ref = m->scan;
    a.filter = m->filter;
    if (m->filter && src->ops->units) { /* files: filter whole rows here */
        sl_table_free(a.own);
        a.own = sl_table_copy(m->src);
        a.filter = NULL;
        a.local = m;
        if (!(a.proj = calloc((size_t)m->tgt->ncolumns + 1, sizeof *a.proj)))
            sl_oom();
    }
    char tname[600];
    snprintf(tname, sizeof tname, "%s%s%s", m->tgt->target_schema ? m->tgt->target_schema : "",
             m->tgt->target_schema ? "." : "", m->tgt->name);
    sl_err_t terr = {0};
    if (tgt->ops->describe(tgt, tname, &b.own, &terr)) {
        if (terr.code != SL_E_NOT_FOUND) {
            *err = terr;
            sl_err_prefix(err, "target: ");
            goto out;
        }
        snprintf(res->problem, sizeof res->problem, "table \"%s\" is missing on the target", tname);
        rc = 0;
        goto out;
    }
    int ncols = m->scan->ncolumns;
    if (tgt->ops->units)
        adopt_types(b.own, m->scan);
    a.map = calloc((size_t)ncols + 1, sizeof *a.map);
    b.map = calloc((size_t)ncols + 1, sizeof *b.map);
    cmp = calloc((size_t)ncols + 1, sizeof *cmp);
    if (!a.map || !b.map || !cmp)
        sl_oom();
    for (int i = 0; i < ncols; i++) {
        const sl_column_t *tc = &m->tgt->columns[i];
        a.map[i] = i;
        b.map[i] = sl_table_find_col(b.own, tc->name);
        if (b.map[i] < 0) {
            snprintf(res->problem, sizeof res->problem, "column \"%s\" is missing on the target", tc->name);
            rc = 0;
            goto out;
        }
        /* a cast column compares as the type the target holds it in */
        cmp[i] = tc->cast ? &b.own->columns[b.map[i]] : &m->scan->columns[i];
    }
    a.cmp = b.cmp = cmp;
    if (spec && load_rejects(tgt, spec->name, m->label, &a, &rejected, &res->rejected, err))
        goto out;
    a.rejected = b.rejected = &rejected;
    if (scan_both(&a, &b, err))
        goto out;
    bool want[NB] = {false};
    int ndiff = 0;
    uint64_t sum[2][2] = {{0, 0}, {0, 0}};
    for (int k = 0; k < NB; k++) {
        res->source_rows += (int64_t)a.cnt[k];
        res->target_rows += (int64_t)b.cnt[k];
        sum[0][0] += a.s0[k], sum[0][1] += a.s1[k];
        sum[1][0] += b.s0[k], sum[1][1] += b.s1[k];
        if (a.cnt[k] != b.cnt[k] || a.s0[k] != b.s0[k] || a.s1[k] != b.s1[k]) {
            if (ndiff < 4)
                want[k] = true;
            ndiff++;
        }
    }
    snprintf(res->source_checksum, sizeof res->source_checksum, "%016" PRIx64 "%016" PRIx64, sum[0][0], sum[0][1]);
    snprintf(res->target_checksum, sizeof res->target_checksum, "%016" PRIx64 "%016" PRIx64, sum[1][0], sum[1][1]);
    res->equal = ndiff == 0;
    if (!res->equal) {
        a.want = b.want = want;
        if (scan_both(&a, &b, err))
            goto out;
        diff_entries(&a, &b, res);
    }
    rc = 0;
out:
    b.ref = NULL;
    side_free(&a);
    side_free(&b);
    free(cmp);
    keyset_free(&rejected);
    sl_map_free(m);
    return rc;
}
