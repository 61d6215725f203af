/*
 * fuzz_filter.c: libFuzzer target for row filters (src/filter/). The first byte picks
 * the table's engine, the rest is filter text: whatever parses is bound to a table with a
 * column of every comparable type, rendered for both engines, evaluated on rows of valid,
 * NULL, unchanged and invalid values, and routed as CDC changes. Nothing may crash, leak
 * or read out of bounds, and a result must be one of the documented ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"

static const struct {
    const char *name;
    sl_type_t type;
    const char *good, *odd;
} cols[] = {
    {"id", SL_T_INT32, "1", "x"},
    {"txt", SL_T_TEXT, "abc", ""},
    {"dec", SL_T_DECIMAL, "-1.50", "NaN"},
    {"u64", SL_T_UINT64, "18446744073709551615", "1e5"},
    {"money", SL_T_MONEY, "12.50", "-"},
    {"f4", SL_T_FLOAT32, "0.1", "Infinity"},
    {"f8", SL_T_FLOAT64, "1e+300", "nan"},
    {"b", SL_T_BOOL, "t", "true"},
    {"d", SL_T_DATE, "2024-02-29", "0044-03-15 BC"},
    {"ts", SL_T_TIMESTAMP, "2024-01-01 10:00:00.5", "infinity"},
    {"tz", SL_T_TIMESTAMPTZ, "2024-01-01 10:00:00+00", "2024-13-01 00:00:00+00"},
    {"tm", SL_T_TIME, "-838:59:59", "24:61:00"},
    {"en", SL_T_ENUM, "a", "zz"},
    {"st", SL_T_SET, "a,b", ","},
    {"uu", SL_T_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A"},
    {"js", SL_T_JSON, "{}", "["},
    {"Gen", SL_T_INT32, "2", "2"},
};
#define NCOLS ((int)(sizeof cols / sizeof cols[0]))

static sl_table_t *table(bool mysql)
{
    sl_table_t *t = calloc(1, sizeof *t);
    t->engine = sl_strdup(mysql ? "mysql" : "pg");
    t->schema = sl_strdup("s");
    t->name = sl_strdup("t");
    for (int i = 0; i < NCOLS; i++) {
        sl_column_t *c = sl_table_add_col(t);
        c->name = sl_strdup(cols[i].name);
        c->type = cols[i].type;
        c->pk_pos = i == 0;
        c->generated = i == NCOLS - 1;
        if (c->type == SL_T_ENUM) {
            c->labels = calloc(2, sizeof *c->labels);
            c->labels[0] = sl_strdup("a");
            c->labels[1] = sl_strdup("b");
            c->nlabels = 2;
        }
    }
    return t;
}

static void check(sl_filter_result_t r)
{
    if (r != SL_FILTER_TRUE && r != SL_FILTER_FALSE && r != SL_FILTER_NULL &&
        r != SL_FILTER_UNDECIDED && r != SL_FILTER_ERROR)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    sl_filter_t *f = NULL;
    sl_err_t err;
    if (sl_filter_parse(text, &f, &err)) {
        free(text);
        return 0;
    }
    sl_table_t *t = table(data[0] & 1);
    if (sl_filter_bind(f, t, &err) == 0) {
        sl_buf_t b;
        sl_buf_init(&b, 1 << 20);
        sl_filter_sql(f, SL_FILTER_PG, &b, &err);
        sl_buf_reset(&b);
        sl_filter_sql(f, SL_FILTER_MARIADB, &b, &err);
        sl_buf_free(&b);
        sl_value_t good[NCOLS], odd[NCOLS], nul[NCOLS], unch[NCOLS], merged[NCOLS];
        for (int i = 0; i < NCOLS; i++) {
            good[i] = (sl_value_t){cols[i].good, (int64_t)strlen(cols[i].good)};
            odd[i] = (sl_value_t){cols[i].odd, (int64_t)strlen(cols[i].odd)};
            nul[i] = (sl_value_t){NULL, -1};
            unch[i] = i ? (sl_value_t){NULL, SL_VALUE_UNCHANGED} : good[0];
        }
        check(sl_filter_eval(f, good, NCOLS, &err));
        check(sl_filter_eval(f, odd, NCOLS, &err));
        check(sl_filter_eval(f, nul, NCOLS, &err));
        check(sl_filter_eval(f, unch, NCOLS, &err));
        sl_change_t out, ch = {.op = SL_OP_UPDATE, .ncols = NCOLS, .row = unch, .old = good};
        sl_filter_route(f, &ch, data[0] & 2, merged, &out, &err);
        ch.old = NULL;
        sl_filter_route(f, &ch, false, merged, &out, &err);
        ch = (sl_change_t){.op = SL_OP_DELETE, .ncols = NCOLS, .old = nul};
        sl_filter_route(f, &ch, data[0] & 2, merged, &out, &err);
        int c[NCOLS];
        if (sl_filter_columns(f, c, NCOLS) > NCOLS)
            abort();
        sl_filter_check_old_row(f, false, &err);
    }
    sl_table_free(t);
    sl_filter_free(f);
    free(text);
    return 0;
}
