/*
 * parquet_nest.c: record assembly for nested top-level fields (Dremel's algorithm over
 * repetition and definition levels). A field whose leaves are read entry by entry from
 * their column chunks becomes one value per row:
 *
 *   a LIST of primitives (or a bare repeated primitive)  a PostgreSQL array literal,
 *                                                        {1,2,NULL}
 *   a STRUCT, a MAP, a list of structs or of lists         JSON text
 *
 * The walk: a node is undefined when its first leaf's next definition level is below
 * the node's, and then every leaf under it holds exactly one entry for it; a repeated
 * node goes on with another element while its first leaf's next repetition level equals
 * the node's. Every step takes at least one entry, so malformed levels end the walk
 * (with an error) rather than loop; the output is bounded by max_value_bytes.
 */
#include <string.h>

#include "target/fmt/parquet_rd.h"

static int disagree(const pq_asm_t *a, const pq_node_t *n, sl_err_t *err)
{
    sl_err_set(err, SL_E_DATA, "corrupt Parquet row group");
    sl_err_detail(err, "The levels of the columns under field \"%s\" disagree.", n->name);
    return -1;
}

static int peek(pq_asm_t *a, const pq_node_t *n, int *rep, int *def, sl_err_t *err)
{
    int rc = sl_pq_chunk_peek(a->chunks[n->first_leaf], rep, def, err);
    if (rc == 0)
        return disagree(a, n, err);
    return rc < 0 ? -1 : 0;
}

/* Takes one entry from every leaf under n (n is undefined or an empty list here). */
static int skip(pq_asm_t *a, const pq_node_t *n, sl_err_t *err)
{
    for (int l = n->first_leaf; l < n->first_leaf + n->nleaves; l++) {
        int def;
        pq_v_t v;
        int rc = sl_pq_chunk_take(a->chunks[l], &def, &v, err);
        if (rc <= 0)
            return rc < 0 ? -1 : disagree(a, n, err);
    }
    return 0;
}

static int room(pq_asm_t *a, sl_err_t *err)
{
    if (a->out->len > a->max)
        return sl_err_set(err, SL_E_LIMIT, "a nested Parquet value is larger than %zu bytes",
                          a->max);
    return 0;
}

/* The next element of repeated node r follows (1) or not (0). */
static int more(pq_asm_t *a, const pq_node_t *r, sl_err_t *err)
{
    int rep, def;
    int rc = sl_pq_chunk_peek(a->chunks[r->first_leaf], &rep, &def, err);
    if (rc <= 0)
        return rc;
    return rep == r->replvl;
}

/* --- arrays of primitives ----------------------------------------------------------- */

int sl_pq_asm_array(pq_asm_t *a, const pq_node_t *f, bool *null, sl_err_t *err)
{
    const pq_node_t *r = f->shape == SH_PRIM ? f : f->kids[0];
    const pq_node_t *e = f->shape == SH_PRIM ? f : f->elem;
    pq_chunk_t *c = a->chunks[e->first_leaf];
    int rep, def, rc;
    pq_v_t v;
    *null = false;
    if (peek(a, f, &rep, &def, err) < 0)
        return -1;
    if (f != r && f->rep == REP_OPTIONAL && def < f->def) {
        *null = true;
        return skip(a, f, err);
    }
    if (sl_buf_addc(a->out, '{', err) < 0)
        return -1;
    if (def < r->def) /* an empty list */
        return skip(a, r, err) < 0 ? -1 : sl_buf_addc(a->out, '}', err);
    for (bool first = true;; first = false) {
        if ((!first && sl_buf_addc(a->out, ',', err) < 0) || room(a, err) < 0)
            return -1;
        if ((rc = sl_pq_chunk_take(c, &def, &v, err)) <= 0)
            return rc < 0 ? -1 : disagree(a, f, err);
        if (def == e->def) {
            if (sl_pq_array_elem(e, &v, a->out, a->tmp, err) < 0)
                return -1;
        } else if (sl_buf_adds(a->out, "NULL", err) < 0) {
            return -1;
        }
        if ((rc = more(a, r, err)) < 0)
            return -1;
        if (!rc)
            break;
    }
    return sl_buf_addc(a->out, '}', err);
}

/* --- JSON ------------------------------------------------------------------------------ */

static int emit(pq_asm_t *a, const pq_node_t *n, sl_err_t *err);

/* The elements of repeated node r, each one instance of e (r itself or its child). */
static int elements(pq_asm_t *a, const pq_node_t *r, const pq_node_t *e, bool map,
                    sl_err_t *err)
{
    int rep, def, rc;
    if (peek(a, r, &rep, &def, err) < 0)
        return -1;
    if (def < r->def)
        return skip(a, r, err);
    for (bool first = true;; first = false) {
        if ((!first && sl_buf_addc(a->out, ',', err) < 0) || room(a, err) < 0)
            return -1;
        if (map) {
            /* a key: JSON object keys are strings, so quote one that is not */
            size_t at = a->out->len;
            if (emit(a, r->kids[0], err) < 0)
                return -1;
            if (a->out->data[at] != '"') {
                sl_buf_reset(a->tmp);
                if (sl_buf_add(a->tmp, a->out->data + at, a->out->len - at, err) < 0)
                    return -1;
                a->out->len = at;
                if (sl_fmt_json_str(a->out, a->tmp->data, a->tmp->len, err) < 0)
                    return -1;
            }
            if (sl_buf_addc(a->out, ':', err) < 0)
                return -1;
            if (r->nkids > 1 ? emit(a, r->kids[1], err) < 0 : sl_buf_adds(a->out, "null", err) < 0)
                return -1;
        } else if (emit(a, e, err) < 0) {
            return -1;
        }
        if ((rc = more(a, r, err)) < 0)
            return -1;
        if (!rc)
            return 0;
    }
}

/* A field of a struct: a repeated one is a list of its instances. */
static int field(pq_asm_t *a, const pq_node_t *n, sl_err_t *err)
{
    if (n->rep != REP_REPEATED)
        return emit(a, n, err);
    if (sl_buf_addc(a->out, '[', err) < 0 || elements(a, n, n, false, err) < 0)
        return -1;
    return sl_buf_addc(a->out, ']', err);
}

/* One instance of n (a repeated n is taken as one of its elements). */
static int emit(pq_asm_t *a, const pq_node_t *n, sl_err_t *err)
{
    int rep, def, rc;
    pq_v_t v;
    if (peek(a, n, &rep, &def, err) < 0)
        return -1;
    if (def < n->def && n->rep != REP_REPEATED)
        return skip(a, n, err) < 0 ? -1 : sl_buf_adds(a->out, "null", err);
    switch (n->shape) {
    case SH_PRIM:
        if ((rc = sl_pq_chunk_take(a->chunks[n->first_leaf], &def, &v, err)) <= 0)
            return rc < 0 ? -1 : disagree(a, n, err);
        return def == n->def ? sl_pq_json(n, &v, a->out, err) : sl_buf_adds(a->out, "null", err);
    case SH_LIST:
        if (sl_buf_addc(a->out, '[', err) < 0 || elements(a, n->kids[0], n->elem, false, err) < 0)
            return -1;
        return sl_buf_addc(a->out, ']', err);
    case SH_MAP:
        if (sl_buf_addc(a->out, '{', err) < 0 || elements(a, n->kids[0], NULL, true, err) < 0)
            return -1;
        return sl_buf_addc(a->out, '}', err);
    case SH_STRUCT:
        if (sl_buf_addc(a->out, '{', err) < 0)
            return -1;
        for (int k = 0; k < n->nkids; k++) {
            if ((k && sl_buf_addc(a->out, ',', err) < 0) ||
                sl_fmt_json_str(a->out, n->kids[k]->name, strlen(n->kids[k]->name), err) < 0 ||
                sl_buf_addc(a->out, ':', err) < 0 || field(a, n->kids[k], err) < 0)
                return -1;
        }
        return sl_buf_addc(a->out, '}', err);
    }
    return sl_err_set(err, SL_E_INTERNAL, "unknown Parquet node shape");
}

int sl_pq_asm_json(pq_asm_t *a, const pq_node_t *f, bool *null, sl_err_t *err)
{
    int rep, def;
    *null = false;
    if (peek(a, f, &rep, &def, err) < 0)
        return -1;
    if (f->rep == REP_OPTIONAL && def < f->def) {
        *null = true;
        return skip(a, f, err);
    }
    return field(a, f, err);
}
