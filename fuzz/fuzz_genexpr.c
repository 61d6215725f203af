/*
 * fuzz_genexpr.c: libFuzzer target for the generation expression translator
 * (src/target/mysql/genexpr*.c). The first byte picks the generated column's type and the
 * case mapping, the rest is the expression: it must translate, refuse with a reason or
 * fail with SL_E_LIMIT, never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/mysql/genexpr.h"

static const struct {
    const char *name, *native;
    sl_type_t type;
} cols[] = {
    {"a", "integer", SL_T_INT32},      {"b", "bigint", SL_T_INT64},
    {"s", "smallint", SL_T_INT16},     {"n", "numeric(10,2)", SL_T_DECIMAL},
    {"nu", "numeric", SL_T_DECIMAL},   {"f", "double precision", SL_T_FLOAT64},
    {"r", "real", SL_T_FLOAT32},       {"t", "text", SL_T_TEXT},
    {"v", "character varying(20)", SL_T_TEXT}, {"c", "character(5)", SL_T_TEXT},
    {"d", "date", SL_T_DATE},          {"ts", "timestamp without time zone", SL_T_TIMESTAMP},
    {"tz", "timestamp with time zone", SL_T_TIMESTAMPTZ}, {"bo", "boolean", SL_T_BOOL},
    {"j", "jsonb", SL_T_JSON},         {"tm", "time without time zone", SL_T_TIME},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup("pg");
    t->name = sl_strdup("g");
    for (int i = 0; i < NCOLS; i++) {
        sl_column_t *c = sl_table_add_col(t);
        c->name = sl_strdup(cols[i].name);
        c->native = sl_strdup(cols[i].native);
        c->type = cols[i].type;
        if (i == 3) {
            c->precision = 10;
            c->scale = 2;
        }
    }
    sl_column_t *g = sl_table_add_col(t);
    int k = data[0] % NCOLS;
    g->name = sl_strdup("gen");
    g->native = sl_strdup(cols[k].native);
    g->type = cols[k].type;
    g->generated = true;
    g->generation_expr = text;
    const char *names[NCOLS + 1];
    for (int i = 0; i < NCOLS; i++)
        names[i] = (data[0] & 0x80) && i == 1 ? NULL : cols[i].name;
    names[NCOLS] = "gen";
    sl_genexpr_opts_t opts = {.case_map = (sl_genexpr_case_t)((data[0] >> 4) % 3)};
    sl_buf_t out;
    sl_buf_init(&out, 1 << 20);
    char why[256];
    sl_err_t err;
    int rc = sl_genexpr_mariadb(t, NCOLS, names, &opts, &out, why, sizeof why, &err);
    if (rc == 1 && !why[0])
        abort(); /* a refusal always says why */
    sl_buf_free(&out);
    sl_table_free(t);
    return 0;
}
