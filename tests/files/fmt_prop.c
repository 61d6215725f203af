/*
 * fmt_prop.c: the property test of the file formats. From a seed it makes a random table
 * (every canonical type, random precision/scale, NULL rates from none to all) and random
 * rows (extremes, unicode, long strings, low-cardinality columns that dictionary-encode,
 * high-cardinality ones that force the PLAIN fallback), writes them as Parquet with each
 * codec (small pages and row groups, so there are several of each) and as CSV and JSONL
 * (none/gzip/zstd), and has tests/files/read.mjs read every file back with DuckDB and (for
 * Parquet) hyparquet and compare it value by value with what was written. It also checks
 * the codec and dictionary encoding through DuckDB's parquet_metadata().
 *
 *   fmt_prop READ_MJS WORKDIR SEED [COUNT]   runs seeds SEED .. SEED+COUNT-1
 *                                            (FMT_PROP_SEED in the environment overrides SEED)
 *
 * On failure it prints the seed and keeps the files in WORKDIR/seed-N/ (FMT_PROP_KEEP=1 keeps
 * them always).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "target/fmt/fmt_int.h" /* sl_fmtv_civil */

/* --- a small deterministic PRNG (splitmix64) ---------------------------------------- */
static uint64_t rs;
static uint64_t rnd(void)
{
    uint64_t z = (rs += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }
static bool chance(int pct) { return rn(100) < pct; }

/* --- the table ------------------------------------------------------------------------ */
typedef struct colgen {
    int null_pct;
    int card; /* 0 = any value, else pick from this many distinct values */
} colgen_t;

static const sl_type_t TYPES[] = {
    SL_T_BOOL, SL_T_INT16, SL_T_INT32, SL_T_INT64, SL_T_UINT64, SL_T_FLOAT32, SL_T_FLOAT64,
    SL_T_DECIMAL, SL_T_DECIMAL, SL_T_TEXT, SL_T_TEXT, SL_T_BYTES, SL_T_DATE, SL_T_TIME,
    SL_T_TIMESTAMP, SL_T_TIMESTAMPTZ, SL_T_UUID, SL_T_JSON, SL_T_ENUM, SL_T_INTERVAL,
    SL_T_GEOMETRY, SL_T_MONEY,
};

static void make_table(sl_table_t *t, colgen_t *g, int ncols)
{
    memset(t, 0, sizeof *t);
    t->name = "prop";
    t->columns = calloc((size_t)ncols, sizeof *t->columns);
    t->ncolumns = ncols;
    for (int i = 0; i < ncols; i++) {
        sl_column_t *c = &t->columns[i];
        c->name = malloc(32);
        snprintf(c->name, 32, i % 7 == 3 ? "Col \"%d\" ü" : "c%d", i);
        c->type = TYPES[rn((int)(sizeof TYPES / sizeof TYPES[0]))];
        c->nullable = true;
        c->scale = -1;
        if (c->type == SL_T_DECIMAL) {
            int kind = rn(5);
            c->precision = kind == 0 ? 0 : kind == 1 ? 1 + rn(9) : kind == 2 ? 10 + rn(9)
                                         : kind == 3 ? 19 + rn(20) : 39 + rn(20);
            c->scale = c->precision ? rn(c->precision + 1) : 0;
        }
        static const int nulls[] = {0, 0, 5, 30, 100};
        g[i].null_pct = nulls[rn(5)];
        g[i].card = chance(40) ? 1 + rn(chance(50) ? 4 : 300) : 0;
    }
}

static void free_table(sl_table_t *t)
{
    for (int i = 0; i < t->ncolumns; i++)
        free(t->columns[i].name);
    free(t->columns);
}

/* --- values ---------------------------------------------------------------------------- */

/* Shortest round-trip text as PostgreSQL prints it (read.mjs pgFloat does the same). */
static void pg_float(char *out, size_t cap, double v, bool single)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    if (v == 0) {
        snprintf(out, cap, signbit(v) ? "-0" : "0");
        return;
    }
    char e[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        double back = strtod(e, NULL);
        if (single ? (float)back == (float)v : back == v)
            break;
    }
    /* e = "-d.ddde+XX" */
    bool neg = e[0] == '-';
    char *m = e + neg, digits[32];
    int nd = 0;
    for (char *q = m; *q && *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    digits[nd] = 0;
    int ex = atoi(strchr(m, 'e') + 1);
    char *o = out;
    size_t left = cap;
#define PUT(...) do { int k_ = snprintf(o, left, __VA_ARGS__); o += k_; left -= (size_t)k_; } while (0)
    if (neg)
        PUT("-");
    if (ex < -4 || ex >= (single ? 6 : 15)) {
        PUT("%c", digits[0]);
        if (nd > 1)
            PUT(".%s", digits + 1);
        PUT("e%c%02d", ex < 0 ? '-' : '+', abs(ex));
    } else if (ex < 0) {
        PUT("0.");
        for (int k = 0; k < -ex - 1; k++)
            PUT("0");
        PUT("%s", digits);
    } else if (nd <= ex + 1) {
        PUT("%s", digits);
        for (int k = 0; k < ex + 1 - nd; k++)
            PUT("0");
    } else {
        PUT("%.*s.%s", ex + 1, digits, digits + ex + 1);
    }
#undef PUT
}

static void civil(int64_t z, int *y, int *m, int *d)
{
    int64_t yy;
    sl_fmtv_civil(z, &yy, m, d);
    *y = (int)yy;
}

static void time_text(sl_buf_t *b, int64_t us)
{
    int64_t s = us / 1000000, f = us % 1000000;
    sl_buf_printf(b, NULL, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    if (f) {
        char fr[8];
        snprintf(fr, sizeof fr, "%06d", (int)f);
        for (int k = 5; k > 0 && fr[k] == '0'; k--)
            fr[k] = 0;
        sl_buf_printf(b, NULL, ".%s", fr);
    }
}

/* Days in 0001-01-01 .. 9999-12-31. */
static int64_t rand_days(void)
{
    static const int64_t lo = -719162, hi = 2932896;
    int k = rn(10);
    return k == 0 ? lo : k == 1 ? hi : k < 5 ? rn(40000) - 5000 : lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static void rand_text(sl_buf_t *b, int maxlen)
{
    static const char *const pieces[] = {"a", "Z", " ", ",", "\"", "'", "\n", "\r\n", "\t",
                                         "\\", "é", "日本", "😀", "x", "NULL", "0", "{", "}"};
    int n = rn(maxlen + 1);
    for (int i = 0; i < n; i++)
        sl_buf_adds(b, chance(70) ? &"abcdefghij"[rn(10)] : pieces[rn((int)(sizeof pieces / sizeof pieces[0]))], NULL);
}

/* One value of column c as canonical text (into b; returns false for NULL). */
static bool gen_value(const sl_column_t *c, sl_buf_t *b, int salt)
{
    sl_buf_reset(b);
    switch (c->type) {
    case SL_T_BOOL:
        sl_buf_adds(b, salt & 1 ? "t" : "f", NULL);
        break;
    case SL_T_INT16: {
        static const int64_t ex[] = {-32768, 32767, 0, -1, 1};
        sl_buf_printf(b, NULL, "%" PRId64, chance(20) ? ex[rn(5)] : (int64_t)rn(65536) - 32768);
        break;
    }
    case SL_T_INT32: {
        static const int64_t ex[] = {INT32_MIN, INT32_MAX, 0, -1};
        sl_buf_printf(b, NULL, "%" PRId64, chance(20) ? ex[rn(4)] : (int64_t)(int32_t)rnd());
        break;
    }
    case SL_T_INT64: {
        static const int64_t ex[] = {INT64_MIN, INT64_MAX, 0, (INT64_C(1) << 53) + 1};
        sl_buf_printf(b, NULL, "%" PRId64, chance(20) ? ex[rn(4)] : (int64_t)rnd() >> rn(63));
        break;
    }
    case SL_T_UINT64: {
        static const uint64_t ex[] = {UINT64_MAX, 0, (UINT64_C(1) << 63), (UINT64_C(1) << 63) - 1};
        sl_buf_printf(b, NULL, "%" PRIu64, chance(20) ? ex[rn(4)] : rnd() >> rn(64));
        break;
    }
    case SL_T_FLOAT32:
    case SL_T_FLOAT64: {
        bool single = c->type == SL_T_FLOAT32;
        double v;
        int k = rn(20);
        if (k == 0)
            v = NAN;
        else if (k == 1)
            v = chance(50) ? INFINITY : -INFINITY;
        else if (k == 2)
            v = single ? (chance(50) ? 3.4028234663852886e38 : 1.401298464324817e-45) : (chance(50) ? 1.7976931348623157e308 : 4.9e-324);
        else if (k == 3)
            v = chance(50) ? 0.0 : -0.0;
        else if (k < 8)
            v = (double)(rn(2000) - 1000) / 8;
        else {
            uint64_t u = rnd();
            memcpy(&v, &u, 8);
            if (!isfinite(v))
                v = 1.5;
        }
        if (single)
            v = (float)v;
        char t[64];
        pg_float(t, sizeof t, v, single);
        sl_buf_adds(b, t, NULL);
        break;
    }
    case SL_T_DECIMAL:
    case SL_T_MONEY: {
        int p = c->precision ? c->precision : 30, s = c->type == SL_T_MONEY ? 2 : c->scale;
        if (p > 60)
            p = 60;
        if (chance(10) && c->precision == 0) {
            sl_buf_adds(b, "NaN", NULL);
            break;
        }
        int nd = chance(20) ? p : 1 + rn(p);
        char digs[80];
        for (int i = 0; i < nd; i++)
            digs[i] = (char)('0' + (chance(15) ? 9 : rn(10)));
        if (nd == p && chance(50))
            memset(digs, '9', (size_t)nd);
        int ip = nd - s; /* integer digits */
        if (chance(50))
            sl_buf_addc(b, '-', NULL);
        if (ip <= 0) {
            sl_buf_addc(b, '0', NULL);
        } else {
            int k = 0;
            while (k < ip - 1 && digs[k] == '0')
                k++;
            sl_buf_add(b, digs + k, (size_t)(ip - k), NULL);
        }
        if (s > 0) {
            sl_buf_addc(b, '.', NULL);
            for (int i = ip; i < 0; i++)
                sl_buf_addc(b, '0', NULL);
            sl_buf_add(b, digs + (ip > 0 ? ip : 0), (size_t)(nd - (ip > 0 ? ip : 0)), NULL);
        }
        if (strcmp(b->data, "-0") == 0 || (b->data[0] == '-' && strspn(b->data + 1, "0.") == b->len - 1)) {
            memmove(b->data, b->data + 1, b->len); /* no negative zero in canonical text */
            b->len--;
        }
        break;
    }
    case SL_T_TEXT:
    case SL_T_ENUM:
    case SL_T_INTERVAL:
        rand_text(b, chance(5) ? 3000 : 20);
        break;
    case SL_T_BYTES:
    case SL_T_GEOMETRY: {
        int n = chance(5) ? rn(5000) : rn(40);
        for (int i = 0; i < n; i++)
            sl_buf_addc(b, (char)rnd(), NULL);
        break;
    }
    case SL_T_DATE: {
        int y, m, d;
        civil(rand_days(), &y, &m, &d);
        sl_buf_printf(b, NULL, "%04d-%02d-%02d", y, m, d);
        break;
    }
    case SL_T_TIME: {
        int64_t us = chance(10) ? (chance(50) ? 0 : INT64_C(86399999999))
                                : (int64_t)(rnd() % UINT64_C(86400000000));
        if (chance(50))
            us -= us % 1000000;
        time_text(b, us);
        break;
    }
    case SL_T_TIMESTAMP:
    case SL_T_TIMESTAMPTZ: {
        int y, m, d;
        civil(rand_days(), &y, &m, &d);
        sl_buf_printf(b, NULL, "%04d-%02d-%02d ", y, m, d);
        int64_t us = (int64_t)(rnd() % UINT64_C(86400000000));
        if (chance(50))
            us -= us % 1000000;
        time_text(b, us);
        if (c->type == SL_T_TIMESTAMPTZ)
            sl_buf_adds(b, "+00", NULL);
        break;
    }
    case SL_T_UUID: {
        uint8_t u[16];
        for (int i = 0; i < 16; i++)
            u[i] = (uint8_t)rnd();
        if (chance(10))
            memset(u, chance(50) ? 0 : 0xff, 16);
        for (int i = 0; i < 16; i++)
            sl_buf_printf(b, NULL, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", u[i]);
        break;
    }
    case SL_T_JSON:
        sl_buf_printf(b, NULL, "{\"k\": %d, \"s\": \"a\\\"b\", \"n\": [1, 2.5, null]}", rn(100));
        break;
    default:
        sl_buf_adds(b, "?", NULL);
    }
    return true;
}

/* Appends s[0..n) as a JSON string (valid UTF-8 input assumed; bytes go through hex). */
static void json_str(sl_buf_t *o, const char *s, size_t n)
{
    sl_buf_addc(o, '"', NULL);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            sl_buf_printf(o, NULL, "\\%c", ch);
        else if (ch < 0x20)
            sl_buf_printf(o, NULL, "\\u%04x", ch);
        else
            sl_buf_addc(o, (char)ch, NULL);
    }
    sl_buf_addc(o, '"', NULL);
}

/* --- one seed --------------------------------------------------------------------------- */

static int file_write(void *ctx, const void *p, size_t n, sl_err_t *err)
{
    if (fwrite(p, 1, n, ctx) != n)
        return sl_err_set(err, SL_E_IO, "could not write");
    return 0;
}

static int run(const char *cmd)
{
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

typedef struct rows {
    int nrows, ncols;
    char **v; /* nrows * ncols values (NULL = SQL NULL) */
    size_t *len;
} rows_t;

static int write_file(const char *path, const char *fmt, const sl_table_t *t,
                      const sl_fmt_opts_t *o, const rows_t *r)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    sl_err_t err;
    sl_fmt_enc_t *enc = NULL;
    const struct sl_fmt_ops *ops = sl_fmt_lookup(fmt);
    sl_fmt_sink_t sink = {file_write, f};
    int rc = ops->open(t, o, sink, &enc, &err);
    sl_value_t *vals = calloc((size_t)r->ncols, sizeof *vals);
    for (int i = 0; rc == 0 && i < r->nrows; i++) {
        for (int c = 0; c < r->ncols; c++) {
            char *v = r->v[(size_t)i * r->ncols + c];
            vals[c].p = v;
            vals[c].len = v ? (int64_t)r->len[(size_t)i * r->ncols + c] : -1;
        }
        rc = ops->write_row(enc, vals, &err);
    }
    if (rc == 0)
        rc = ops->finish(enc, &err);
    if (rc != 0) {
        char buf[2048];
        fprintf(stderr, "fmt_prop: %s: %s\n", path, sl_err_format(&err, buf, sizeof buf));
    }
    ops->free(enc);
    free(vals);
    fclose(f);
    return rc;
}

static int one_seed(const char *reader, const char *dir, uint64_t seed)
{
    rs = seed * 0x2545F4914F6CDD1Dull + 1;
    char sd[1024], path[1200], exp[1200], cmd[4096], types[1024] = "";
    snprintf(sd, sizeof sd, "%s/seed-%" PRIu64, dir, seed);
    mkdir(dir, 0755);
    mkdir(sd, 0755);

    int ncols = 1 + rn(14);
    sl_table_t t;
    colgen_t g[16];
    make_table(&t, g, ncols);
    for (int c = 0; c < ncols; c++)
        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", c ? "," : "",
                 sl_type_name(t.columns[c].type));

    rows_t r = {.nrows = chance(5) ? rn(3) : rn(4000), .ncols = ncols};
    r.v = calloc((size_t)r.nrows * ncols + 1, sizeof *r.v);
    r.len = calloc((size_t)r.nrows * ncols + 1, sizeof *r.len);
    sl_buf_t b, e;
    sl_buf_init(&b, 1 << 24);
    sl_buf_init(&e, (size_t)1 << 30);
    /* low-cardinality pools: value k of column c comes from a PRNG seeded by (seed, c, k) */
    for (int i = 0; i < r.nrows; i++) {
        sl_buf_addc(&e, '[', NULL);
        for (int c = 0; c < ncols; c++) {
            const sl_column_t *col = &t.columns[c];
            bool null = chance(g[c].null_pct) || g[c].null_pct == 100;
            if (c)
                sl_buf_addc(&e, ',', NULL);
            if (null) {
                sl_buf_adds(&e, "null", NULL);
                continue;
            }
            uint64_t save = rs;
            int k = g[c].card ? rn(g[c].card) : 0;
            if (g[c].card)
                rs = seed * 1000003 + (uint64_t)c * 7919 + (uint64_t)k;
            gen_value(col, &b, k);
            if (g[c].card)
                rs = save + 1;
            size_t at = (size_t)i * ncols + c;
            r.v[at] = malloc(b.len + 1);
            memcpy(r.v[at], b.data, b.len + 1);
            r.len[at] = b.len;
            if (sl_type_is_binary(col->type)) {
                static const char hx[] = "0123456789abcdef";
                sl_buf_adds(&e, "\"\\\\x", NULL);
                for (size_t q = 0; q < b.len; q++) {
                    sl_buf_addc(&e, hx[(unsigned char)b.data[q] >> 4], NULL);
                    sl_buf_addc(&e, hx[(unsigned char)b.data[q] & 15], NULL);
                }
                sl_buf_addc(&e, '"', NULL);
            } else {
                json_str(&e, b.data, b.len);
            }
        }
        sl_buf_add(&e, "]\n", 2, NULL);
    }
    snprintf(exp, sizeof exp, "%s/expected.jsonl", sd);
    FILE *f = fopen(exp, "wb");
    fwrite(e.data, 1, e.len, f);
    fclose(f);

    int fails = 0;
    sl_fmt_opts_t o;
    sl_buf_t batch;
    sl_buf_init(&batch, 1 << 20);
    static const char *const pq_codecs[] = {"none", "snappy", "gzip", "zstd"};
    static const char *const pq_names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"};
    for (int k = 0; k < 4; k++) {
        sl_fmt_opts_default(&o);
        o.codec = (sl_codec_t)sl_codec_from_name(pq_codecs[k]);
        o.page_bytes = 256 + rn(8192);
        o.row_group_bytes = 2048 + rn(60000);
        o.dictionary = !chance(20);
        snprintf(path, sizeof path, "%s/data-%s.parquet", sd, pq_codecs[k]);
        if (write_file(path, "parquet", &t, &o, &r) < 0) {
            fails++;
            continue;
        }
        /* dictionary expected when some column repeats values and is not all NULL */
        bool want_dict = false;
        for (int c = 0; c < ncols && o.dictionary && r.nrows > 20; c++)
            want_dict |= g[c].card > 0 && g[c].card <= 4 && g[c].null_pct < 100 &&
                         t.columns[c].type != SL_T_BOOL;
        for (int rd = 0; rd < 2; rd++)
            sl_buf_printf(&batch, NULL,
                          "[\"%s\", \"--reader\", \"%s\", \"--expect\", \"%s\", \"--codec\", \"%s\"%s]\n",
                          path, rd ? "hyparquet" : "duckdb", exp, pq_names[k],
                          rd ? ", \"--stats\"" : want_dict ? ", \"--dict\"" : "");
    }
    static const char *const txt_codecs[] = {"none", "gzip", "zstd"};
    for (int k = 0; k < 2; k++) {
        const char *fmt = k ? "jsonl" : "csv";
        sl_fmt_opts_default(&o);
        o.codec = (sl_codec_t)sl_codec_from_name(txt_codecs[rn(3)]);
        snprintf(path, sizeof path, "%s/data.%s%s", sd, fmt, sl_codec_ext(o.codec));
        if (write_file(path, fmt, &t, &o, &r) < 0) {
            fails++;
            continue;
        }
        /* In a table of one column a NULL row is an empty line, which CSV readers skip
         * as blank: no CSV comparison then. */
        if (k || ncols > 1)
            sl_buf_printf(&batch, NULL,
                          "[\"%s\", \"--reader\", \"duckdb\", \"--expect\", \"%s\", \"--types\", \"%s\"]\n",
                          path, exp, types);
    }
    snprintf(path, sizeof path, "%s/batch.jsonl", sd);
    f = fopen(path, "wb");
    fwrite(batch.data, 1, batch.len, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "node '%s' --batch '%s'", reader, path);
    if (run(cmd) < 0) {
        fprintf(stderr, "fmt_prop: seed %" PRIu64 ": %s failed\n", seed, cmd);
        fails++;
    }
    if (fails)
        fprintf(stderr, "fmt_prop: seed %" PRIu64 " FAILED (%d checks); files kept in %s\n",
                seed, fails, sd);
    else if (!getenv("FMT_PROP_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", sd);
        run(cmd);
    }
    for (size_t i = 0; i < (size_t)r.nrows * ncols; i++)
        free(r.v[i]);
    free(r.v);
    free(r.len);
    sl_buf_free(&b);
    sl_buf_free(&e);
    sl_buf_free(&batch);
    free_table(&t);
    return fails ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fmt_prop READ_MJS WORKDIR SEED [COUNT]\n");
        return 2;
    }
    const char *env = getenv("FMT_PROP_SEED");
    uint64_t seed = strtoull(env && *env ? env : argv[3], NULL, 10);
    int count = argc > 4 ? atoi(argv[4]) : 1;
    int failed = 0;
    for (int i = 0; i < count; i++) {
        int rc = one_seed(argv[1], argv[2], seed + (uint64_t)i);
        failed += rc < 0;
        printf("fmt_prop: seed %" PRIu64 " %s\n", seed + (uint64_t)i, rc < 0 ? "FAILED" : "ok");
    }
    printf("%d passed, %d failed\n", count - failed, failed);
    return failed ? 1 : 0;
}
