/*
 * parquet_meta.c: the Parquet footer (FileMetaData) and page headers (PageHeader) from
 * their Thrift compact bytes, with the field ids of parquet.thrift (the writer in
 * parquet.c, parquet_col.c and parquet_type.c writes the same ids). Fields sluice does not
 * use (statistics, key/value metadata, sorting columns, indexes, CRCs) are skipped.
 * Pure: bytes in, structs out; malformed input is SL_E_DATA (fuzzed by fuzz_pq_meta).
 */
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

/* Every field loop below: `rc` ends at 0 (STOP) or -1 (malformed). */
#define FIELDS(r, id, t, rc) while (((rc) = sl_tr_field((r), &(id), &(t))) > 0)

static char *dup_bin(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

/* TimeUnit: a union of empty structs. */
static int time_unit(sl_tr_t *r, int type, int *unit)
{
    int id, t, rc;
    if (sl_tr_struct(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        if (id >= TU_MILLIS && id <= TU_NANOS)
            *unit = id;
        if (sl_tr_skip(r, t) < 0)
            return -1;
    }
    return rc;
}

/* TimeType / TimestampType: isAdjustedToUTC, unit. */
static int time_type(sl_tr_t *r, int type, pq_sel_t *e)
{
    int id, t, rc;
    if (sl_tr_struct(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        if (id == 1 && sl_tr_bool(r, t, &e->lt_utc) < 0)
            return -1;
        else if (id == 2 && time_unit(r, t, &e->lt_unit) < 0)
            return -1;
        else if (id != 1 && id != 2 && sl_tr_skip(r, t) < 0)
            return -1;
    }
    return rc;
}

static int logical_type(sl_tr_t *r, int type, pq_sel_t *e)
{
    int id, t, rc;
    if (sl_tr_struct(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        int id2, t2, rc2;
        int64_t v;
        e->lt = id;
        switch (id) {
        case LG_DECIMAL:
            if (sl_tr_struct(r, t) < 0)
                return -1;
            FIELDS(r, id2, t2, rc2) {
                if ((id2 == 1 || id2 == 2) && sl_tr_int(r, t2, &v) == 0)
                    *(id2 == 1 ? &e->lt_scale : &e->lt_precision) = (int)v;
                else if ((id2 != 1 && id2 != 2) && sl_tr_skip(r, t2) < 0)
                    return -1;
                if (r->failed)
                    return -1;
            }
            if (rc2 < 0)
                return -1;
            break;
        case LG_TIME:
        case LG_TIMESTAMP:
            if (time_type(r, t, e) < 0)
                return -1;
            break;
        case LG_INTEGER:
            if (sl_tr_struct(r, t) < 0)
                return -1;
            FIELDS(r, id2, t2, rc2) {
                if (id2 == 1 && sl_tr_int(r, t2, &v) == 0)
                    e->lt_bits = (int)v;
                else if (id2 == 2 && sl_tr_bool(r, t2, &e->lt_signed) == 0)
                    ;
                else if (id2 != 1 && id2 != 2 && sl_tr_skip(r, t2) < 0)
                    return -1;
                if (r->failed)
                    return -1;
            }
            if (rc2 < 0)
                return -1;
            break;
        default: /* STRING, MAP, LIST, ENUM, DATE, JSON, UUID, ...: empty structs */
            if (sl_tr_skip(r, t) < 0)
                return -1;
        }
    }
    return rc;
}

static int schema_elem(sl_tr_t *r, int type, pq_sel_t *e)
{
    int id, t, rc;
    int32_t v;
    const uint8_t *p;
    size_t n;
    memset(e, 0, sizeof *e);
    e->type = e->rep = e->conv = -1;
    if (sl_tr_elem(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        switch (id) {
        case 1: if (sl_tr_i32(r, t, &v) < 0) return -1; e->type = v; break;
        case 2: if (sl_tr_i32(r, t, &v) < 0) return -1; e->type_len = v; break;
        case 3: if (sl_tr_i32(r, t, &v) < 0) return -1; e->rep = v; break;
        case 4:
            if (sl_tr_bin(r, t, &p, &n) < 0)
                return -1;
            free(e->name);
            if (!(e->name = dup_bin(p, n)))
                return -1;
            break;
        case 5: if (sl_tr_i32(r, t, &v) < 0) return -1; e->nchildren = v; break;
        case 6: if (sl_tr_i32(r, t, &v) < 0) return -1; e->conv = v; break;
        case 7: if (sl_tr_i32(r, t, &v) < 0) return -1; e->scale = v; break;
        case 8: if (sl_tr_i32(r, t, &v) < 0) return -1; e->precision = v; break;
        case 10: if (logical_type(r, t, e) < 0) return -1; break;
        default:
            if (sl_tr_skip(r, t) < 0)
                return -1;
        }
    }
    if (rc == 0 && !e->name && !(e->name = dup_bin((const uint8_t *)"", 0)))
        return -1;
    return rc;
}

static int col_meta(sl_tr_t *r, int type, pq_cmeta_t *c)
{
    int id, t, rc, elem;
    uint32_t cnt;
    int64_t v;
    if (sl_tr_struct(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        switch (id) {
        case 1: if (sl_tr_int(r, t, &v) < 0) return -1; c->type = (int)v; break;
        case 3:
            if (sl_tr_list(r, t, &elem, &cnt) < 0)
                return -1;
            c->npath = (int)cnt;
            for (uint32_t k = 0; k < cnt; k++)
                if (sl_tr_skip_elem(r, elem) < 0)
                    return -1;
            break;
        case 4: if (sl_tr_int(r, t, &v) < 0) return -1; c->codec = (int)v; break;
        case 5: if (sl_tr_int(r, t, &c->num_values) < 0) return -1; break;
        case 6: if (sl_tr_int(r, t, &c->total_unc) < 0) return -1; break;
        case 7: if (sl_tr_int(r, t, &c->total_comp) < 0) return -1; break;
        case 9: if (sl_tr_int(r, t, &c->data_off) < 0) return -1; break;
        case 11: if (sl_tr_int(r, t, &c->dict_off) < 0) return -1; break;
        default:
            if (sl_tr_skip(r, t) < 0)
                return -1;
        }
    }
    return rc;
}

static int col_chunk(sl_tr_t *r, int type, pq_cmeta_t *c, bool *external, bool *has_meta)
{
    int id, t, rc;
    c->dict_off = -1;
    c->type = -1;
    if (sl_tr_elem(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        if (id == 1) { /* file_path: the chunk lives in another file */
            *external = true;
            if (sl_tr_skip(r, t) < 0)
                return -1;
        } else if (id == 3) {
            *has_meta = true;
            if (col_meta(r, t, c) < 0)
                return -1;
        } else if (sl_tr_skip(r, t) < 0) {
            return -1;
        }
    }
    return rc;
}

static int row_group(sl_tr_t *r, int type, pq_rg_t *g, sl_err_t *err)
{
    int id, t, rc, elem;
    uint32_t cnt;
    if (sl_tr_elem(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        if (id == 1 && !g->cols) {
            if (sl_tr_list(r, t, &elem, &cnt) < 0)
                return -1;
            if (cnt && !(g->cols = calloc(cnt, sizeof *g->cols)))
                return sl_err_set(err, SL_E_LIMIT, "out of memory reading Parquet metadata");
            g->ncols = (int)cnt;
            for (uint32_t k = 0; k < cnt; k++) {
                bool ext = false, has = false;
                if (col_chunk(r, elem, &g->cols[k], &ext, &has) < 0)
                    return -1;
                if (ext) {
                    sl_err_set(err, SL_E_CONFIG, "Parquet column chunks in other files are not supported");
                    sl_err_hint(err, "Rewrite the file as one self-contained Parquet file.");
                    return -1;
                }
                if (!has)
                    return -1;
            }
        } else if (id == 3) {
            if (sl_tr_int(r, t, &g->num_rows) < 0)
                return -1;
        } else if (sl_tr_skip(r, t) < 0) {
            return -1;
        }
    }
    return rc;
}

void sl_pq_meta_free(pq_meta_t *m)
{
    if (!m)
        return;
    for (int i = 0; m->schema && i < m->nschema; i++)
        free(m->schema[i].name);
    free(m->schema);
    for (int i = 0; m->rgs && i < m->nrg; i++)
        free(m->rgs[i].cols);
    free(m->rgs);
    free(m->created_by);
    memset(m, 0, sizeof *m);
}

/* Sets the generic error unless a more precise one (out of memory, an unsupported
 * feature) is already there. */
static int malformed(sl_err_t *err, const sl_tr_t *r, const uint8_t *buf, const char *what)
{
    if (err && err->code == SL_OK) {
        sl_err_set(err, SL_E_DATA, "malformed Parquet %s", what);
        sl_err_detail(err, "The Thrift structure does not parse at byte %zu%s.",
                      (size_t)(r->p - buf), r->eof ? " (it ends early)" : "");
    }
    return -1;
}

int sl_pq_meta_parse(const uint8_t *buf, size_t n, pq_meta_t *m, sl_err_t *err)
{
    sl_tr_t r;
    int id, t, rc, elem;
    uint32_t cnt;
    const uint8_t *p;
    size_t len;
    memset(m, 0, sizeof *m);
    m->num_rows = -1;
    if (err)
        sl_err_clear(err);
    sl_tr_init(&r, buf, n);
    FIELDS(&r, id, t, rc) {
        switch (id) {
        case 2:
            if (m->schema || sl_tr_list(&r, t, &elem, &cnt) < 0)
                goto bad;
            if (cnt && !(m->schema = calloc(cnt, sizeof *m->schema))) {
                sl_err_set(err, SL_E_LIMIT, "out of memory reading Parquet metadata");
                goto fail;
            }
            for (uint32_t k = 0; k < cnt; k++) {
                m->nschema = (int)k + 1;
                if (schema_elem(&r, elem, &m->schema[k]) < 0)
                    goto bad;
            }
            break;
        case 3:
            if (sl_tr_int(&r, t, &m->num_rows) < 0)
                goto bad;
            break;
        case 4:
            if (m->rgs || sl_tr_list(&r, t, &elem, &cnt) < 0)
                goto bad;
            if (cnt && !(m->rgs = calloc(cnt, sizeof *m->rgs))) {
                sl_err_set(err, SL_E_LIMIT, "out of memory reading Parquet metadata");
                goto fail;
            }
            m->nrg = (int)cnt;
            for (uint32_t k = 0; k < cnt; k++) {
                m->rgs[k].num_rows = -1;
                if (row_group(&r, elem, &m->rgs[k], err) < 0)
                    goto bad;
            }
            break;
        case 6:
            if (sl_tr_bin(&r, t, &p, &len) < 0)
                goto bad;
            free(m->created_by);
            if (!(m->created_by = dup_bin(p, len)))
                goto bad;
            break;
        case 8: /* encryption_algorithm: an encrypted footer would not parse at all */
            sl_err_set(err, SL_E_CONFIG, "encrypted Parquet files are not supported");
            goto fail;
        default:
            if (sl_tr_skip(&r, t) < 0)
                goto bad;
        }
    }
    if (rc < 0)
        goto bad;
    if (m->nschema < 1 || m->num_rows < 0) {
        sl_err_set(err, SL_E_DATA, "malformed Parquet metadata");
        sl_err_detail(err, "The footer has no %s.", m->nschema < 1 ? "schema" : "row count");
        goto fail;
    }
    for (int g = 0; g < m->nrg; g++)
        if (m->rgs[g].num_rows < 0) {
            sl_err_set(err, SL_E_DATA, "malformed Parquet metadata");
            sl_err_detail(err, "Row group %d has no row count.", g);
            goto fail;
        }
    return 0;
bad:
    malformed(err, &r, buf, "metadata");
fail:
    sl_pq_meta_free(m);
    return -1;
}

/* DataPageHeader (v1), DictionaryPageHeader, DataPageHeaderV2. */
static int page_sub(sl_tr_t *r, int type, int which, pq_page_t *h)
{
    int id, t, rc;
    int32_t v;
    bool b;
    if (sl_tr_struct(r, type) < 0)
        return -1;
    FIELDS(r, id, t, rc) {
        int32_t *dst = NULL;
        int *idst = NULL;
        if (which == 5) { /* v1 */
            if (id == 1) dst = &h->nvals;
            else if (id == 2) idst = &h->enc;
            else if (id == 3) idst = &h->def_enc;
            else if (id == 4) idst = &h->rep_enc;
        } else if (which == 7) { /* dictionary */
            if (id == 1) dst = &h->nvals;
            else if (id == 2) idst = &h->enc;
        } else { /* v2 */
            if (id == 1) dst = &h->nvals;
            else if (id == 2) dst = &h->nnulls;
            else if (id == 3) dst = &h->nrows;
            else if (id == 4) idst = &h->enc;
            else if (id == 5) dst = &h->def_len;
            else if (id == 6) dst = &h->rep_len;
            else if (id == 7) {
                if (sl_tr_bool(r, t, &b) < 0)
                    return -1;
                h->v2_compressed = b;
                continue;
            }
        }
        if (dst || idst) {
            if (sl_tr_i32(r, t, &v) < 0)
                return -1;
            if (dst)
                *dst = v;
            else
                *idst = v;
        } else if (sl_tr_skip(r, t) < 0) {
            return -1;
        }
    }
    return rc;
}

int sl_pq_page_parse(const uint8_t *buf, size_t n, pq_page_t *h, size_t *used, sl_err_t *err)
{
    sl_tr_t r;
    int id, t, rc;
    int32_t v;
    bool have_sub = false;
    memset(h, 0, sizeof *h);
    h->type = -1;
    h->unc = h->comp = -1;
    h->v2_compressed = true; /* the default of is_compressed */
    if (err)
        sl_err_clear(err);
    sl_tr_init(&r, buf, n);
    FIELDS(&r, id, t, rc) {
        if (id == 1 || id == 2 || id == 3) {
            if (sl_tr_i32(&r, t, &v) < 0)
                break;
            *(id == 1 ? &h->type : id == 2 ? &h->unc : &h->comp) = v;
        } else if ((id == 5 && h->type == PAGE_DATA_V1) || (id == 7 && h->type == PAGE_DICT) ||
                   (id == 8 && h->type == PAGE_DATA_V2)) {
            if (page_sub(&r, t, id, h) < 0)
                break;
            have_sub = true;
        } else if (sl_tr_skip(&r, t) < 0) {
            break;
        }
    }
    if (rc < 0 || r.failed) {
        if (r.eof)
            return 0;
        return malformed(err, &r, buf, "page header");
    }
    if (h->unc < 0 || h->comp < 0 || h->type < 0 ||
        (!have_sub && (h->type == PAGE_DATA_V1 || h->type == PAGE_DICT || h->type == PAGE_DATA_V2)) ||
        h->nvals < 0 || h->nnulls < 0 || h->def_len < 0 || h->rep_len < 0 ||
        (h->type == PAGE_DATA_V2 && (int64_t)h->def_len + h->rep_len > h->comp)) {
        sl_err_set(err, SL_E_DATA, "malformed Parquet page header");
        sl_err_detail(err, "A size, count or the page's own header is missing or negative.");
        return -1;
    }
    *used = (size_t)(r.p - buf);
    return 1;
}
