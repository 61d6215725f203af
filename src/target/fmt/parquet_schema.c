/*
 * parquet_schema.c: the reader's view of a Parquet schema. The footer's flat, depth-first
 * list of SchemaElements becomes a tree whose nodes know their definition and repetition
 * levels, whose groups know their shape (STRUCT, LIST, MAP, with the backward-compatible
 * list rules of https://github.com/apache/parquet-format/blob/master/LogicalTypes.md), and whose leaves know how their physical values become
 * canonical values. Each top-level field becomes one column of the table:
 *
 *   a primitive (REQUIRED or OPTIONAL)          its canonical type (below)
 *   a LIST of primitives, or a REPEATED primitive   array of that type
 *   anything else nested (STRUCT, MAP, nested lists)   json
 *
 * Leaves, logical type first, then the legacy converted type, then the physical type:
 *   BOOLEAN -> bool; INT32 -> int32; INT64 -> int64; FLOAT -> float32; DOUBLE -> float64;
 *   INT(8|16, signed) -> int16, INT(32, signed) -> int32, INT(64, signed) -> int64,
 *   INT(8, unsigned) -> int16, INT(16, unsigned) -> int32, INT(32, unsigned) -> int64,
 *   INT(64, unsigned) -> uint64 (and the converted INT_n / UINT_n the same);
 *   DECIMAL(p, s) on INT32, INT64, FIXED_LEN_BYTE_ARRAY or BYTE_ARRAY -> decimal(p, s);
 *   DATE -> date; TIME(unit, local) -> time, TIME(unit, UTC) -> timetz;
 *   TIMESTAMP(unit, local) -> timestamp, TIMESTAMP(unit, UTC) -> timestamptz (MILLIS has
 *   3 fraction digits, MICROS and NANOS 6: nanoseconds are cut to microseconds);
 *   converted TIME_MILLIS / TIME_MICROS -> time, TIMESTAMP_MILLIS / _MICROS -> timestamp;
 *   INT96 (Impala, Spark, old pyarrow) -> timestamp; STRING, UTF8, ENUM -> text;
 *   JSON -> json; BSON and unannotated BYTE_ARRAY -> bytes; UUID -> uuid;
 *   FLOAT16 -> float32; converted INTERVAL (12 bytes) -> interval; other
 *   FIXED_LEN_BYTE_ARRAY(n) -> bytes of fixed length n.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/fmt/parquet_rd.h"

enum { MAX_DEPTH = 64 };

typedef struct build {
    const pq_meta_t *m;
    pq_schema_t *s;
    int next;      /* the next schema element to consume */
    sl_err_t *err;
} build_t;

static int bad_schema(sl_err_t *err, const char *fmt, const char *name)
{
    sl_err_set(err, SL_E_DATA, "malformed Parquet schema");
    sl_err_detail(err, fmt, name);
    return -1;
}

static void leaf_int32(pq_node_t *n, const pq_sel_t *e)
{
    int bits = 32;
    bool sign = true;
    if (e->lt == LG_INTEGER) {
        bits = e->lt_bits;
        sign = e->lt_signed;
    } else if (e->conv >= CV_UINT_8 && e->conv <= CV_INT_32) {
        static const int b[] = {8, 16, 32, 64, 8, 16, 32};
        bits = b[e->conv - CV_UINT_8];
        sign = e->conv >= CV_INT_8;
    }
    n->vk = sign ? VK_I32 : VK_U32;
    if (sign)
        n->type = bits <= 16 ? SL_T_INT16 : SL_T_INT32;
    else
        n->type = bits <= 8 ? SL_T_INT16 : bits <= 16 ? SL_T_INT32 : SL_T_INT64;
}

static void leaf_kind(pq_node_t *n, const pq_sel_t *e)
{
    bool dec = e->lt == LG_DECIMAL || (e->lt == LG_NONE && e->conv == CV_DECIMAL);
    n->scale = e->lt == LG_DECIMAL ? e->lt_scale : e->scale;
    n->utc = e->lt_utc;
    int unit = e->lt_unit;
    switch (e->type) {
    case PT_BOOLEAN:
        n->vk = VK_BOOL, n->type = SL_T_BOOL;
        return;
    case PT_INT32:
        if (dec)
            n->vk = VK_DEC_I32, n->type = SL_T_DECIMAL;
        else if (e->lt == LG_DATE || e->conv == CV_DATE)
            n->vk = VK_DATE, n->type = SL_T_DATE;
        else if (e->lt == LG_TIME || e->conv == CV_TIME_MILLIS) {
            n->vk = VK_TIME_MS;
            n->type = e->lt == LG_TIME && e->lt_utc ? SL_T_TIMETZ : SL_T_TIME;
        } else
            leaf_int32(n, e);
        return;
    case PT_INT64:
        if (dec) {
            n->vk = VK_DEC_I64, n->type = SL_T_DECIMAL;
        } else if (e->lt == LG_TIME || e->conv == CV_TIME_MICROS) {
            if (e->lt != LG_TIME)
                unit = TU_MICROS;
            n->vk = unit == TU_MILLIS ? VK_TIME_MS : unit == TU_NANOS ? VK_TIME_NS : VK_TIME_US;
            n->type = e->lt == LG_TIME && e->lt_utc ? SL_T_TIMETZ : SL_T_TIME;
        } else if (e->lt == LG_TIMESTAMP || e->conv == CV_TS_MILLIS || e->conv == CV_TS_MICROS) {
            if (e->lt != LG_TIMESTAMP) {
                unit = e->conv == CV_TS_MILLIS ? TU_MILLIS : TU_MICROS;
                n->utc = false;
            }
            n->vk = unit == TU_MILLIS ? VK_TS_MS : unit == TU_NANOS ? VK_TS_NS : VK_TS_US;
            n->type = n->utc ? SL_T_TIMESTAMPTZ : SL_T_TIMESTAMP;
        } else if ((e->lt == LG_INTEGER && !e->lt_signed) ||
                   (e->lt == LG_NONE && e->conv == CV_UINT_64)) {
            n->vk = VK_U64, n->type = SL_T_UINT64;
        } else {
            n->vk = VK_I64, n->type = SL_T_INT64;
        }
        return;
    case PT_INT96:
        n->vk = VK_INT96, n->type = SL_T_TIMESTAMP;
        n->utc = false;
        return;
    case PT_FLOAT:
        n->vk = VK_F32, n->type = SL_T_FLOAT32;
        return;
    case PT_DOUBLE:
        n->vk = VK_F64, n->type = SL_T_FLOAT64;
        return;
    case PT_FLBA:
        if (dec)
            n->vk = VK_DEC_BE, n->type = SL_T_DECIMAL;
        else if (e->lt == LG_UUID && e->type_len == 16)
            n->vk = VK_UUID, n->type = SL_T_UUID;
        else if (e->lt == LG_FLOAT16 && e->type_len == 2)
            n->vk = VK_F16, n->type = SL_T_FLOAT32;
        else if (e->lt == LG_NONE && e->conv == CV_INTERVAL && e->type_len == 12)
            n->vk = VK_INTERVAL, n->type = SL_T_INTERVAL;
        else
            n->vk = VK_BYTES, n->type = SL_T_BYTES;
        return;
    default: /* BYTE_ARRAY */
        if (dec)
            n->vk = VK_DEC_BE, n->type = SL_T_DECIMAL;
        else if (e->lt == LG_JSON || (e->lt == LG_NONE && e->conv == CV_JSON))
            n->vk = VK_JSON, n->type = SL_T_JSON;
        else if (e->lt == LG_STRING || e->lt == LG_ENUM ||
                 (e->lt == LG_NONE && (e->conv == CV_UTF8 || e->conv == CV_ENUM)))
            n->vk = VK_TEXT, n->type = SL_T_TEXT;
        else
            n->vk = VK_BYTES, n->type = SL_T_BYTES;
        return;
    }
}

/* LIST: which node is the element (https://github.com/apache/parquet-format/blob/master/LogicalTypes.md, "backward-compatibility rules"). */
static pq_node_t *list_elem(const pq_node_t *list)
{
    pq_node_t *r = list->kids[0];
    if (r->shape == SH_PRIM || r->nkids != 1)
        return r;
    char tuple[512];
    snprintf(tuple, sizeof tuple, "%s_tuple", list->name);
    if (!strcmp(r->name, "array") || !strcmp(r->name, tuple))
        return r;
    return r->kids[0];
}

static int node(build_t *b, pq_node_t **out, int pdef, int prep, int depth)
{
    if (b->next >= b->m->nschema)
        return bad_schema(b->err, "The schema ends inside group \"%s\".", "");
    if (depth > MAX_DEPTH)
        return bad_schema(b->err, "Fields are nested more than 64 deep (at \"%s\").",
                          b->m->schema[b->next].name);
    int idx = b->next++;
    const pq_sel_t *e = &b->m->schema[idx];
    pq_node_t *n = &b->s->nodes[idx];
    n->el = e;
    n->name = e->name;
    n->rep = depth == 0 ? REP_REQUIRED : e->rep;
    if (n->rep < REP_REQUIRED || n->rep > REP_REPEATED)
        return bad_schema(b->err, "Field \"%s\" has no valid repetition.", e->name);
    n->def = pdef + (n->rep != REP_REQUIRED);
    n->replvl = prep + (n->rep == REP_REPEATED);
    n->first_leaf = b->s->nleaves;
    *out = n;
    if (e->nchildren <= 0 && depth > 0) { /* a leaf */
        if (e->type < PT_BOOLEAN || e->type > PT_FLBA)
            return bad_schema(b->err, "Field \"%s\" has neither children nor a physical type.",
                              e->name);
        if (e->type == PT_FLBA && (e->type_len <= 0 || e->type_len > (1 << 20)))
            return bad_schema(b->err, "Field \"%s\" has no valid fixed length.", e->name);
        n->shape = SH_PRIM;
        leaf_kind(n, e);
        b->s->leaves[b->s->nleaves++] = n;
        n->nleaves = 1;
        return 0;
    }
    if (e->nchildren < 0 || e->nchildren > b->m->nschema - b->next)
        return bad_schema(b->err, "Group \"%s\" has more children than the schema has fields.",
                          e->name);
    n->nkids = e->nchildren;
    if (!(n->kids = calloc((size_t)(n->nkids ? n->nkids : 1), sizeof *n->kids)))
        return sl_err_set(b->err, SL_E_LIMIT, "out of memory reading a Parquet schema");
    for (int k = 0; k < n->nkids; k++)
        if (node(b, &n->kids[k], n->def, n->replvl, depth + 1) < 0)
            return -1;
    n->nleaves = b->s->nleaves - n->first_leaf;
    if (n->nleaves == 0)
        return bad_schema(b->err, "Group \"%s\" has no fields.", e->name);
    n->shape = SH_STRUCT;
    pq_node_t *r = n->nkids == 1 ? n->kids[0] : NULL;
    bool repeated = r && r->rep == REP_REPEATED;
    if ((e->lt == LG_LIST || e->conv == CV_LIST) && repeated) {
        n->shape = SH_LIST;
        n->elem = list_elem(n);
    } else if ((e->lt == LG_MAP || e->conv == CV_MAP || e->conv == CV_MAP_KEY_VALUE) && repeated &&
               r->shape != SH_PRIM && (r->nkids == 1 || r->nkids == 2)) {
        n->shape = SH_MAP;
        n->key = r->kids[0];
        n->elem = r->nkids == 2 ? r->kids[1] : NULL;
    }
    return 0;
}

/* "INT64 TIMESTAMP(MICROS,UTC)"-style text for column.native (shown by describe). */
static char *native_text(const pq_node_t *n)
{
    static const char *const pt[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
                                     "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    static const char *const lt[] = {
        [LG_STRING] = "STRING", [LG_MAP] = "MAP", [LG_LIST] = "LIST", [LG_ENUM] = "ENUM",
        [LG_DECIMAL] = "DECIMAL", [LG_DATE] = "DATE", [LG_TIME] = "TIME",
        [LG_TIMESTAMP] = "TIMESTAMP", [LG_INTEGER] = "INTEGER", [LG_UNKNOWN] = "UNKNOWN",
        [LG_JSON] = "JSON", [LG_BSON] = "BSON", [LG_UUID] = "UUID", [LG_FLOAT16] = "FLOAT16"};
    static const char *const cv[] = {
        "UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE", "TIME_MILLIS",
        "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS", "UINT_8", "UINT_16", "UINT_32",
        "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64", "JSON", "BSON", "INTERVAL"};
    const pq_sel_t *e = n->el;
    char buf[128];
    const char *base = n->shape == SH_PRIM ? pt[e->type] : "group";
    const char *ann = e->lt > 0 && e->lt < (int)(sizeof lt / sizeof lt[0]) ? lt[e->lt] : NULL;
    if (!ann && e->conv >= 0 && e->conv < (int)(sizeof cv / sizeof cv[0]))
        ann = cv[e->conv];
    if (n->shape == SH_LIST)
        ann = "LIST";
    else if (n->shape == SH_MAP)
        ann = "MAP";
    if (n->rep == REP_REPEATED)
        snprintf(buf, sizeof buf, "repeated %s%s%s", base, ann ? " " : "", ann ? ann : "");
    else
        snprintf(buf, sizeof buf, "%s%s%s", base, ann ? " " : "", ann ? ann : "");
    return sl_strdup(buf);
}

/* The column of top-level field f. */
static void column(pq_schema_t *s, int i, sl_column_t *c)
{
    pq_node_t *f = s->fields[i];
    const pq_node_t *leaf = NULL;
    c->nullable = f->rep != REP_REQUIRED;
    if (f->shape == SH_PRIM && f->rep != REP_REPEATED) {
        s->out[i] = OUT_FLAT;
        leaf = f;
        c->type = f->type;
    } else if (f->shape == SH_PRIM) { /* a bare repeated primitive: a list of it */
        s->out[i] = OUT_ARRAY;
        leaf = f;
        c->nullable = false;
    } else if (f->shape == SH_LIST && f->elem->shape == SH_PRIM &&
               f->elem->nleaves == 1 && f->elem->replvl == f->replvl + 1 &&
               (f->elem == f->kids[0] || f->elem->rep != REP_REPEATED)) {
        s->out[i] = OUT_ARRAY;
        leaf = f->elem;
    } else {
        s->out[i] = OUT_JSON;
        c->type = SL_T_JSON;
    }
    if (s->out[i] == OUT_ARRAY) {
        c->type = SL_T_ARRAY;
        c->elem = leaf->type;
    }
    if (leaf) {
        const pq_sel_t *e = leaf->el;
        if (leaf->type == SL_T_DECIMAL) {
            int p = e->lt == LG_DECIMAL ? e->lt_precision : e->precision;
            c->precision = p > 0 && p <= 1000 ? p : 0;
            c->scale = leaf->scale;
        } else if (leaf->vk == VK_TIME_MS || leaf->vk == VK_TS_MS) {
            c->scale = 3;
        } else if (leaf->type == SL_T_TIME || leaf->type == SL_T_TIMETZ ||
                   leaf->type == SL_T_TIMESTAMP || leaf->type == SL_T_TIMESTAMPTZ) {
            c->scale = 6;
        } else if (leaf->type == SL_T_BYTES && e->type == PT_FLBA) {
            c->length = e->type_len;
            c->fixed = true;
        }
    }
    c->native = native_text(f);
}

int sl_pq_schema_build(const pq_meta_t *m, pq_schema_t *s, sl_table_t *t, sl_err_t *err)
{
    memset(s, 0, sizeof *s);
    s->nnodes = m->nschema;
    s->nodes = calloc((size_t)m->nschema, sizeof *s->nodes);
    s->leaves = calloc((size_t)m->nschema, sizeof *s->leaves);
    if (!s->nodes || !s->leaves) {
        sl_pq_schema_free(s);
        return sl_err_set(err, SL_E_LIMIT, "out of memory reading a Parquet schema");
    }
    build_t b = {.m = m, .s = s, .err = err};
    pq_node_t *root;
    if (node(&b, &root, 0, 0, 0) < 0)
        goto fail;
    if (b.next != m->nschema) {
        bad_schema(err, "The schema has %s fields outside its root.", "more");
        goto fail;
    }
    if (root->shape == SH_PRIM || root->nkids == 0) {
        bad_schema(err, "The schema has no columns%s.", "");
        goto fail;
    }
    for (int l = 0; l < s->nleaves; l++) {
        pq_node_t *n = s->leaves[l];
        if (n->def > 255 || n->replvl > 255) {
            bad_schema(err, "Field \"%s\" is nested too deep.", n->name);
            goto fail;
        }
        if (n->type == SL_T_DECIMAL && (n->scale < 0 || n->scale > 1000)) {
            bad_schema(err, "Decimal field \"%s\" has a scale outside 0..1000.", n->name);
            goto fail;
        }
    }
    s->fields = root->kids;
    s->nfields = root->nkids;
    if (!(s->out = calloc((size_t)s->nfields, sizeof *s->out))) {
        sl_err_set(err, SL_E_LIMIT, "out of memory reading a Parquet schema");
        goto fail;
    }
    for (int i = 0; i < s->nfields; i++) {
        sl_column_t *c = sl_table_add_col(t);
        if (!c) {
            sl_err_set(err, SL_E_LIMIT, "out of memory reading a Parquet schema");
            goto fail;
        }
        c->name = sl_strdup(s->fields[i]->name);
        column(s, i, c);
    }
    return 0;
fail:
    sl_pq_schema_free(s);
    return -1;
}

void sl_pq_schema_free(pq_schema_t *s)
{
    if (!s)
        return;
    for (int i = 0; s->nodes && i < s->nnodes; i++)
        free(s->nodes[i].kids);
    free(s->nodes);
    free(s->leaves);
    free(s->out);
    memset(s, 0, sizeof *s);
}
