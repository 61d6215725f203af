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
#include "engine/normalize.h"

#define NB 256
#define PASS2_MAX 200000

typedef struct entry {
    char *key;
    unsigned char hash[16];
} entry_t;

typedef struct side {
    sl_source_t *src;
    const sl_table_t *ref;   /* the source's description: types and key */
    sl_table_t *own;         /* this side's description (what to scan) */
    int *map;                /* ref column i -> own column */
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

static int on_row(void *ctx, const sl_value_t *vals, int nvals, sl_err_t *err)
{
    side_t *sd = ctx;
    const sl_table_t *ref = sd->ref;
    sl_buf_reset(&sd->norm);
    for (int i = 0; i < ref->ncolumns; i++) {
        const sl_value_t *v = &vals[sd->map[i]];
        if (v->len < 0) {
            if (sl_buf_addc(&sd->norm, 'N', err))
                return -1;
            continue;
        }
        size_t at = sd->norm.len;
        if (sl_buf_add(&sd->norm, "V00000000", 9, err) ||
            sl_value_normalize(&ref->columns[i], v, &sd->norm, err))
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
    sl_buf_reset(&sd->keyb);
    int npk = sl_table_pk_count(ref);
    for (int i = 0; i < npk; i++) {
        int c = sl_table_pk_col(ref, i);
        const sl_value_t *v = &vals[sd->map[c]];
        if (sl_buf_printf(&sd->keyb, err, "%s%s=", i ? ", " : "", ref->columns[c].name))
            return -1;
        if (v->len < 0 ? sl_buf_adds(&sd->keyb, "NULL", err)
                       : sl_value_normalize(&ref->columns[c], v, &sd->keyb, err))
            return -1;
    }
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
            abort();
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
    sl_scan_t scan = {.table = sd->own};
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

static void side_free(side_t *sd)
{
    for (int i = 0; i < sd->nents; i++)
        free(sd->ents[i].key);
    free(sd->ents);
    free(sd->map);
    sl_table_free(sd->own);
    sl_buf_free(&sd->norm);
    sl_buf_free(&sd->keyb);
}

int sl_verify_table(sl_source_t *src, sl_source_t *tgt, const char *table, sl_verify_result_t *res,
                    sl_err_t *err)
{
    memset(res, 0, sizeof *res);
    snprintf(res->table, sizeof res->table, "%s", table);
    side_t a = {.src = src}, b = {.src = tgt};
    sl_buf_init(&a.norm, 256u << 20);
    sl_buf_init(&b.norm, 256u << 20);
    sl_buf_init(&a.keyb, 1u << 20);
    sl_buf_init(&b.keyb, 1u << 20);
    int rc = -1;
    if (src->ops->describe(src, table, &a.own, err)) {
        sl_err_prefix(err, "source: ");
        goto out;
    }
    a.ref = b.ref = a.own;
    sl_err_t terr = {0};
    if (tgt->ops->describe(tgt, a.own->name, &b.own, &terr)) {
        if (terr.code != SL_E_NOT_FOUND) {
            *err = terr;
            sl_err_prefix(err, "target: ");
            goto out;
        }
        snprintf(res->problem, sizeof res->problem, "table \"%s\" is missing on the target", a.own->name);
        rc = 0;
        goto out;
    }
    size_t ncols = a.own->ncolumns > 0 ? (size_t)a.own->ncolumns : 0;
    if (tgt->ops->units)
        adopt_types(b.own, a.own);
    a.map = calloc(ncols + 1, sizeof *a.map);
    b.map = calloc(ncols + 1, sizeof *b.map);
    for (int i = 0; i < a.own->ncolumns; i++) {
        a.map[i] = i;
        b.map[i] = sl_table_find_col(b.own, a.own->columns[i].name);
        if (b.map[i] < 0) {
            snprintf(res->problem, sizeof res->problem, "column \"%s\" is missing on the target",
                     a.own->columns[i].name);
            rc = 0;
            goto out;
        }
    }
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
    return rc;
}
