/*
 * pg_describe.c: reads a PostgreSQL table's shape from pg_catalog into a
 * sl_table_t (columns with canonical types, literal defaults, primary key,
 * secondary indexes, foreign keys, size estimates).
 *
 * Domains are resolved to their base type in SQL (a recursive CTE), so that a
 * target never needs the source's domains; enums keep their labels so that a
 * PostgreSQL target can recreate them. The mapping table is docs/type-mapping.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/mem.h"
#include "source/pg/pg_source.h"

/* ---- pure: native type → canonical --------------------------------------- */

/* Fills c's type and its length/precision/scale from a (base) type. typname is
 * pg_type.typname, catalog says it lives in pg_catalog, typtype is pg_type.typtype. */
sl_type_t sl_pg_map_type(const char *typname, bool catalog, char typtype, int typmod,
                         sl_column_t *c)
{
    static const struct {
        const char *name;
        sl_type_t type;
    } simple[] = {
        {"bool", SL_T_BOOL},         {"int2", SL_T_INT16},       {"int4", SL_T_INT32},
        {"int8", SL_T_INT64},        {"float4", SL_T_FLOAT32},   {"float8", SL_T_FLOAT64},
        {"money", SL_T_MONEY},       {"text", SL_T_TEXT},        {"bytea", SL_T_BYTES},
        {"uuid", SL_T_UUID},         {"json", SL_T_JSON},        {"jsonb", SL_T_JSON},
        {"date", SL_T_DATE},         {"inet", SL_T_NET},         {"cidr", SL_T_NET},
        {"macaddr", SL_T_NET},       {"macaddr8", SL_T_NET},     {"tsvector", SL_T_TSVECTOR},
    };
    if (typtype == 'e')
        return c->type = SL_T_ENUM;
    if (!catalog)
        return c->type = SL_T_TEXT; /* extension and composite types travel as text */
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (!strcmp(typname, simple[i].name))
            return c->type = simple[i].type;
    if (!strcmp(typname, "numeric")) {
        c->type = SL_T_DECIMAL;
        if (typmod >= 4) {
            int m = typmod - 4;
            c->precision = (m >> 16) & 0xffff;
            c->scale = ((m & 0x7ff) ^ 1024) - 1024; /* PostgreSQL 15 allows negative scales */
        } else {
            c->precision = 0;
            c->scale = 0;
        }
    } else if (!strcmp(typname, "varchar") || !strcmp(typname, "bpchar")) {
        c->type = SL_T_TEXT;
        c->length = typmod >= 4 ? typmod - 4 : 0;
        c->fixed = typname[0] == 'b' && typmod >= 4;
    } else if (!strcmp(typname, "time") || !strcmp(typname, "timetz") ||
               !strcmp(typname, "timestamp") || !strcmp(typname, "timestamptz")) {
        c->type = !strcmp(typname, "time")        ? SL_T_TIME
                  : !strcmp(typname, "timetz")    ? SL_T_TIMETZ
                  : !strcmp(typname, "timestamp") ? SL_T_TIMESTAMP
                                                  : SL_T_TIMESTAMPTZ;
        c->scale = typmod >= 0 ? typmod : -1;
    } else if (!strcmp(typname, "interval")) {
        c->type = SL_T_INTERVAL;
        int prec = typmod >= 0 ? (typmod & 0xffff) : 0xffff;
        c->scale = prec == 0xffff ? -1 : prec;
    } else if (!strcmp(typname, "bit") || !strcmp(typname, "varbit")) {
        c->type = SL_T_BIT;
        c->length = typmod > 0 ? typmod : 0;
        c->fixed = typname[0] == 'b';
    } else {
        c->type = SL_T_TEXT; /* xml, point, name, ...: text with the native type kept */
    }
    return c->type;
}

/* ---- pure: literal defaults ------------------------------------------------ */

/* Whether s (after a "::") looks like a plain type name, so that "'x'::text" is a
 * literal but "'x'::text || y" is not. */
static bool is_type_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_ \".[](),", *s))
            return false;
    return true;
}

static bool is_number(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    bool digits = false;
    while (isdigit((unsigned char)*s) || *s == '.')
        digits |= *s++ != '.';
    if (digits && (*s == 'e' || *s == 'E')) {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    return digits && !*s;
}

/* Parses a quoted literal at s ('...' or E'...'); writes its value into out and
 * returns the position after the closing quote, or NULL. */
static const char *parse_quoted(const char *s, char *out, size_t *olen)
{
    bool esc = false;
    if (*s == 'E' || *s == 'e') {
        esc = true;
        s++;
    }
    if (*s++ != '\'')
        return NULL;
    size_t o = 0;
    for (;;) {
        if (!*s)
            return NULL;
        if (*s == '\'') {
            if (s[1] != '\'')
                break;
            out[o++] = '\'';
            s += 2;
        } else if (esc && *s == '\\' && s[1]) {
            static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
            const char *f = strchr(from, s[1]);
            out[o++] = f ? to[f - from] : s[1];
            s += 2;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    *olen = o;
    return s + 1;
}

char *sl_pg_default_literal(const char *expr, sl_type_t type, bool bpchar)
{
    if (!expr)
        return NULL;
    size_t n = strlen(expr);
    char *work = malloc(n + 1), *val = malloc(n + 1);
    if (!work || !val)
        sl_oom();
    /* Trim, and drop one pair of parentheses: (-1) prints that way in some casts. */
    const char *s = expr;
    while (isspace((unsigned char)*s))
        s++;
    snprintf(work, n + 1, "%s", s);
    size_t wl = strlen(work);
    while (wl && isspace((unsigned char)work[wl - 1]))
        work[--wl] = '\0';
    char *w = work;
    if (wl >= 2 && w[0] == '(' && w[wl - 1] == ')') {
        w[wl - 1] = '\0';
        w++;
    }
    size_t vlen = 0;
    const char *rest;
    bool ok = false;
    if (w[0] == '\'' || ((w[0] == 'E' || w[0] == 'e') && w[1] == '\'')) {
        rest = parse_quoted(w, val, &vlen);
        ok = rest && (!*rest || (!strncmp(rest, "::", 2) && !strstr(rest + 2, "::") &&
                                 is_type_name(rest + 2)));
    } else {
        char *cast = strstr(w, "::");
        if (cast) {
            ok = is_type_name(cast + 2);
            *cast = '\0';
        } else {
            ok = true;
        }
        ok = ok && (!strcmp(w, "true") || !strcmp(w, "false") || is_number(w));
        if (ok)
            vlen = (size_t)snprintf(val, n + 1, "%s", w[0] == '+' ? w + 1 : w);
    }
    free(work);
    if (!ok) {
        free(val);
        return NULL;
    }
    switch (type) {
    case SL_T_BOOL: {
        static const char *yes[] = {"true", "t", "yes", "y", "on", "1"};
        static const char *no[] = {"false", "f", "no", "n", "off", "0"};
        const char *v = NULL;
        for (size_t i = 0; i < 6 && !v; i++) {
            if (!strcasecmp(val, yes[i]))
                v = "t";
            else if (!strcasecmp(val, no[i]))
                v = "f";
        }
        if (!v) {
            free(val);
            return NULL;
        }
        snprintf(val, n + 1, "%s", v);
        break;
    }
    case SL_T_BYTES: {
        long long bl = sl_pg_hex_decode(val, vlen);
        if (bl < 0 || memchr(val, '\0', (size_t)bl)) {
            free(val); /* not representable as a C string; the column gets no default */
            return NULL;
        }
        val[bl] = '\0';
        break;
    }
    case SL_T_MONEY: { /* '$1,234.50'::money: keep what numeric accepts */
        size_t o = 0;
        for (size_t i = 0; val[i]; i++)
            if (isdigit((unsigned char)val[i]) || val[i] == '.' || val[i] == '-')
                val[o++] = val[i];
        val[o] = '\0';
        break;
    }
    default:
        if (bpchar)
            while (vlen && val[vlen - 1] == ' ')
                val[--vlen] = '\0';
        break;
    }
    return val;
}

/* ---- catalog queries ------------------------------------------------------- */

static const char table_sql[] =
    "SELECT c.oid, "
    " CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN bool_or(l.reltuples < 0) THEN -1"
    "   ELSE sum(l.reltuples) END FROM pg_partition_tree(c.oid) p"
    "   JOIN pg_class l ON l.oid = p.relid WHERE p.isleaf)"
    "  ELSE c.reltuples END::float8, "
    " CASE WHEN c.relkind = 'p' THEN (SELECT sum(pg_total_relation_size(p.relid))"
    "   FROM pg_partition_tree(c.oid) p)::int8 ELSE pg_total_relation_size(c.oid) END, "
    " c.relkind, c.relreplident "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm')";

/* Domains resolve to their base type (and the typmod the domain declares). For an
 * array, e is its element type (a domain element resolved one level). */
static const char columns_sql[] =
    "WITH RECURSIVE r(attnum, tid, tmod, depth) AS ("
    "  SELECT a.attnum, a.atttypid, a.atttypmod, 0 FROM pg_attribute a"
    "   WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped"
    "  UNION ALL"
    "  SELECT r.attnum, t.typbasetype,"
    "         CASE WHEN t.typtypmod <> -1 THEN t.typtypmod ELSE r.tmod END, r.depth + 1"
    "    FROM r JOIN pg_type t ON t.oid = r.tid WHERE t.typtype = 'd'"
    "), b AS (SELECT DISTINCT ON (attnum) attnum, tid, tmod FROM r ORDER BY attnum, depth DESC) "
    "SELECT a.attname, a.attnotnull, a.attidentity, a.attgenerated,"
    "       pg_get_expr(d.adbin, d.adrelid), t.typname, tn.nspname, t.typtype,"
    "       format_type(b.tid, b.tmod), b.tmod, t.oid,"
    "       e.oid, e.typname, en.nspname, e.typtype, format_type(e.oid, b.tmod) "
    "FROM pg_attribute a JOIN b ON b.attnum = a.attnum"
    " JOIN pg_type t ON t.oid = b.tid JOIN pg_namespace tn ON tn.oid = t.typnamespace"
    " LEFT JOIN pg_type e ON t.typcategory = 'A' AND left(t.typname, 1) = '_' AND e.oid ="
    "   (SELECT CASE WHEN x.typtype = 'd' THEN x.typbasetype ELSE x.oid END"
    "      FROM pg_type x WHERE x.oid = t.typelem)"
    " LEFT JOIN pg_namespace en ON en.oid = e.typnamespace"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

static const char enum_sql[] =
    "SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid ORDER BY enumsortorder";

static const char pk_sql[] =
    "SELECT a.attname FROM pg_constraint c"
    " CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
    "WHERE c.conrelid = $1::oid AND c.contype = 'p' ORDER BY k.ord";

/* Plain btree indexes only: expression and partial indexes cannot be described by
 * sl_index_t, and other access methods would be recreated as btree. */
static const char index_sql[] =
    "SELECT ic.relname, i.indisunique, a.attname FROM pg_index i"
    " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam"
    " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
    " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
    "WHERE i.indrelid = $1::oid AND NOT i.indisprimary AND i.indpred IS NULL"
    " AND i.indexprs IS NULL AND i.indisvalid AND am.amname = 'btree'"
    " AND k.ord <= i.indnkeyatts ORDER BY ic.relname, k.ord";

static const char fkey_sql[] =
    "SELECT c.conname, a.attname, rn.nspname, rc.relname, ra.attname,"
    "       c.confdeltype, c.confupdtype FROM pg_constraint c"
    " CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, refnum, ord)"
    " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum"
    " JOIN pg_class rc ON rc.oid = c.confrelid"
    " JOIN pg_namespace rn ON rn.oid = rc.relnamespace"
    " JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refnum "
    "WHERE c.conrelid = $1::oid AND c.contype = 'f' ORDER BY c.conname, k.ord";

static void push_str(char ***v, int *n, const char *s)
{
    char **p = realloc(*v, sizeof **v * (size_t)(*n + 1));
    if (!p)
        sl_oom();
    *v = p;
    p[(*n)++] = sl_strdup(s);
}

static const char *fk_action(char a)
{
    switch (a) {
    case 'r': return "RESTRICT";
    case 'c': return "CASCADE";
    case 'n': return "SET NULL";
    case 'd': return "SET DEFAULT";
    default: return "NO ACTION";
    }
}

static int load_labels(sl_pg_t *pg, const char *typoid, sl_column_t *c, sl_err_t *err)
{
    const char *params[] = {typoid};
    PGresult *r = sl_pg_query(pg, enum_sql, 1, params, err, "could not read enum labels");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        push_str(&c->labels, &c->nlabels, PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}

/* "name" when the type lives in the table's schema, else "schema"."name". */
static char *enum_native(const char *nsp, const char *typname, const char *table_schema)
{
    sl_buf_t b;
    sl_buf_init(&b, 1024);
    if (strcmp(nsp, table_schema))
        sl_pg_add_ident(&b, nsp, NULL), sl_buf_addc(&b, '.', NULL);
    sl_pg_add_ident(&b, typname, NULL);
    return sl_buf_steal(&b, NULL);
}

static int load_columns(sl_pg_t *pg, const char *oid, sl_table_t *t, sl_err_t *err)
{
    const char *params[] = {oid};
    PGresult *r = sl_pg_query(pg, columns_sql, 1, params, err, "could not read the columns");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        sl_column_t *c = sl_table_add_col(t);
        if (!c)
            sl_oom();
#define V(k) PQgetvalue(r, i, k)
        c->name = sl_strdup(V(0));
        c->nullable = V(1)[0] != 't';
        int tmod = atoi(V(9));
        bool is_array = !PQgetisnull(r, i, 11);
        if (is_array) {
            c->type = SL_T_ARRAY;
            sl_column_t el = {.scale = -1};
            c->elem = sl_pg_map_type(V(12), !strcmp(V(13), "pg_catalog"), V(14)[0], tmod, &el);
            /* The element's size facts ride on the array column itself. */
            c->length = el.length;
            c->fixed = el.fixed;
            c->precision = el.precision;
            c->scale = el.scale;
            if (c->elem == SL_T_ENUM) {
                c->elem_native = enum_native(V(13), V(12), t->schema);
                size_t n = strlen(c->elem_native) + 3;
                c->native = malloc(n);
                if (!c->native)
                    sl_oom();
                snprintf(c->native, n, "%s[]", c->elem_native);
                if (load_labels(pg, V(11), c, err))
                    goto fail;
            } else {
                c->elem_native = sl_strdup(V(15));
                c->native = sl_strdup(V(8));
            }
        } else {
            sl_pg_map_type(V(5), !strcmp(V(6), "pg_catalog"), V(7)[0], tmod, c);
            if (c->type == SL_T_ENUM) {
                c->native = enum_native(V(6), V(5), t->schema);
                if (load_labels(pg, V(10), c, err))
                    goto fail;
            } else {
                c->native = sl_strdup(V(8));
            }
        }
        c->autoinc = V(2)[0] != '\0';
        const char *def = PQgetisnull(r, i, 4) ? NULL : V(4);
        if (V(3)[0] == 's') {
            c->generated = true;
            c->generation_expr = sl_strdup(def);
        } else if (def && !strncmp(def, "nextval(", 8)) {
            c->autoinc = true; /* serial */
        } else if (def) {
            c->default_value = sl_pg_default_literal(
                def, c->type, c->type == SL_T_TEXT && !strcmp(V(5), "bpchar"));
        }
#undef V
    }
    PQclear(r);
    return 0;
fail:
    PQclear(r);
    return -1;
}

static int load_keys(sl_pg_t *pg, const char *oid, sl_table_t *t, sl_err_t *err)
{
    const char *params[] = {oid};
    PGresult *r = sl_pg_query(pg, pk_sql, 1, params, err, "could not read the primary key");
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        int c = sl_table_find_col(t, PQgetvalue(r, i, 0));
        if (c >= 0)
            t->columns[c].pk_pos = i + 1;
    }
    PQclear(r);

    if (!(r = sl_pg_query(pg, index_sql, 1, params, err, "could not read the indexes")))
        return -1;
    sl_index_t *x = NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        if (!x || strcmp(x->name, name)) {
            if (!(x = sl_table_add_index(t)))
                sl_oom();
            x->name = sl_strdup(name);
            x->unique = PQgetvalue(r, i, 1)[0] == 't';
        }
        push_str(&x->columns, &x->ncolumns, PQgetvalue(r, i, 2));
    }
    PQclear(r);

    if (!(r = sl_pg_query(pg, fkey_sql, 1, params, err, "could not read the foreign keys")))
        return -1;
    sl_fkey_t *f = NULL;
    for (int i = 0; i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0);
        if (!f || strcmp(f->name, name)) {
            if (!(f = sl_table_add_fkey(t)))
                sl_oom();
            f->name = sl_strdup(name);
            f->ref_schema = sl_strdup(PQgetvalue(r, i, 2));
            f->ref_table = sl_strdup(PQgetvalue(r, i, 3));
            f->on_delete = sl_strdup(fk_action(PQgetvalue(r, i, 5)[0]));
            f->on_update = sl_strdup(fk_action(PQgetvalue(r, i, 6)[0]));
        }
        int nref = f->ncolumns;
        push_str(&f->columns, &f->ncolumns, PQgetvalue(r, i, 1));
        push_str(&f->ref_columns, &nref, PQgetvalue(r, i, 4));
    }
    PQclear(r);
    return 0;
}

/* Finds the table; *oid empty when it does not exist. */
static int find_table(sl_pg_t *pg, const char *schema, const char *name, sl_table_t *t,
                      char *oid, size_t oidsize, sl_err_t *err)
{
    const char *params[] = {schema, name};
    PGresult *r = sl_pg_query(pg, table_sql, 2, params, err, "could not look up the table");
    if (!r)
        return -1;
    oid[0] = '\0';
    if (PQntuples(r) == 1) {
        snprintf(oid, oidsize, "%s", PQgetvalue(r, 0, 0));
        double rows = PQgetisnull(r, 0, 1) ? -1 : atof(PQgetvalue(r, 0, 1));
        t->est_rows = rows < 0 ? -1 : (int64_t)rows;
        t->est_bytes = PQgetisnull(r, 0, 2) ? 0 : atoll(PQgetvalue(r, 0, 2));
        /* a view (or materialized view) is copied as a table by a load (engine/mapping.h) */
        t->view = PQgetvalue(r, 0, 3)[0] == 'v' || PQgetvalue(r, 0, 3)[0] == 'm';
        t->old_full = PQgetvalue(r, 0, 4)[0] == 'f'; /* REPLICA IDENTITY FULL */
    }
    PQclear(r);
    return 0;
}

/* Pages read to count the rows of a table PostgreSQL has not analysed. */
#define SAMPLE_PAGES 32

/* A table (or partitions) that was never analysed or vacuumed has reltuples -1: its
 * rows are estimated from its size instead, the rows of its first SAMPLE_PAGES pages
 * times its pages (a TID range scan reads only those, PostgreSQL 14+), or the planner's
 * estimate on older servers (its pages times rows per page of its column widths). So a
 * large table is still cut into chunks, and its progress has a total. */
static int estimate_rows(sl_pg_t *pg, const char *oid, sl_table_t *t, sl_err_t *err)
{
    const char *params[] = {oid};
    int version = PQserverVersion(pg->conn);
    PGresult *r = sl_pg_query(pg,
                              version >= 120000
                                  ? "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.reltuples::float8,"
                                    " pg_relation_size(c.oid) / current_setting('block_size')::int8"
                                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                    " WHERE c.relkind = 'r' AND (c.oid = $1::oid OR c.oid IN"
                                    "  (SELECT relid FROM pg_partition_tree($1::oid) WHERE isleaf))"
                                  : "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.reltuples::float8,"
                                    " pg_relation_size(c.oid) / current_setting('block_size')::int8"
                                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                                    " WHERE c.relkind = 'r' AND c.oid = $1::oid",
                              1, params, err, "could not estimate the rows of the table");
    if (!r)
        return -1;
    int64_t total = 0;
    int rc = 0;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        double rows = atof(PQgetvalue(r, i, 1));
        int64_t pages = atoll(PQgetvalue(r, i, 2));
        if (rows >= 0 || pages == 0) {
            total += rows > 0 ? (int64_t)rows : 0;
            continue;
        }
        int64_t k = pages < SAMPLE_PAGES ? pages : SAMPLE_PAGES;
        char sql[1024];
        if (version >= 140000)
            snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE ctid < '(%lld,0)'::tid", PQgetvalue(r, i, 0),
                     (long long)k);
        else
            snprintf(sql, sizeof sql, "EXPLAIN (FORMAT JSON) SELECT 1 FROM %s", PQgetvalue(r, i, 0));
        PGresult *c = sl_pg_query(pg, sql, 0, NULL, err, "could not estimate the rows of the table");
        if (!c) {
            rc = -1;
            break;
        }
        if (version >= 140000) {
            total += (int64_t)((double)atoll(PQgetvalue(c, 0, 0)) * (double)pages / (double)k);
        } else {
            json_t *j = json_loads(PQgetvalue(c, 0, 0), 0, NULL);
            total += (int64_t)json_number_value(json_object_get(json_object_get(json_array_get(j, 0), "Plan"),
                                                                "Plan Rows"));
            json_decref(j);
        }
        PQclear(c);
    }
    PQclear(r);
    if (rc == 0)
        t->est_rows = total;
    return rc;
}

int sl_pg_source_describe(sl_source_t *src, const char *table, sl_table_t **out, sl_err_t *err)
{
    sl_pg_t *pg = &((sl_pg_source_t *)src)->pg;
    sl_table_t *t = calloc(1, sizeof *t);
    if (!t)
        sl_oom();
    char oid[32] = "";
    /* "schema.name" first; a table whose own name holds a dot is found as a
     * fallback in the default schema. */
    const char *dot = strchr(table, '.');
    if (dot) {
        t->schema = strndup(table, (size_t)(dot - table));
        t->name = sl_strdup(dot + 1);
        if (!t->schema)
            sl_oom();
        if (find_table(pg, t->schema, t->name, t, oid, sizeof oid, err))
            goto fail;
    }
    if (!oid[0]) {
        free(t->schema);
        free(t->name);
        t->schema = sl_strdup(pg->schema);
        t->name = sl_strdup(table);
        if (find_table(pg, t->schema, t->name, t, oid, sizeof oid, err))
            goto fail;
    }
    if (!oid[0]) {
        /* Not prefixed: the message itself names the table. */
        if (dot) {
            sl_err_set(err, SL_E_NOT_FOUND, "table \"%s\" does not exist in schema \"%.*s\"",
                       dot + 1, (int)(dot - table), table);
            sl_err_detail(err, "no table \"%s\" in schema \"%s\" either", table, t->schema);
        } else {
            sl_err_set(err, SL_E_NOT_FOUND, "table \"%s\" does not exist in schema \"%s\"",
                       table, t->schema);
        }
        sl_err_hint(err, "names are case-sensitive; list the tables with \\dt \"%.*s\".* in psql "
                         "and write tables of other schemas as schema.name",
                    dot ? (int)(dot - table) : (int)strlen(t->schema), dot ? table : t->schema);
        sl_table_free(t);
        return -1;
    }
    t->engine = sl_strdup("pg");
    if (load_columns(pg, oid, t, err) || load_keys(pg, oid, t, err) ||
        (t->est_rows < 0 && estimate_rows(pg, oid, t, err)))
        goto fail;
    *out = t;
    return 0;
fail:
    sl_err_prefix(err, "could not describe table \"%s\": ", table);
    sl_table_free(t);
    return -1;
}
