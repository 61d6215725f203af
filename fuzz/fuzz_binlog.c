/*
 * fuzz_binlog.c: libFuzzer target for the binlog decoder (source/mysql/binlog*.c).
 *
 * Input: one flag byte (bit 0: events carry a CRC32, which is not verified so that
 * mutations get through; bit 1: decode as MariaDB before any FORMAT_DESCRIPTION),
 * then binlog events back to back, each as long as its header says. Every event is
 * decoded; TABLE_MAP events replace the current table map; rows events are split into
 * images with it and every cell is rendered for a column description made up from the
 * table map, which drives every value decoder. Any input must end in values or in a
 * SL_E_PROTOCOL / SL_E_SCHEMA / SL_E_LIMIT error; every value handed back must lie
 * inside the event or the arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/change.h"
#include "source/mysql/binlog.h"

static void check(int rc, const sl_err_t *err)
{
    if (rc && err->code != SL_E_PROTOCOL && err->code != SL_E_SCHEMA && err->code != SL_E_LIMIT)
        abort();
}

/* A column description that accepts what the binlog column carries. */
static void make_column(const sl_binlog_col_t *bc, sl_column_t *col, char *name)
{
    memset(col, 0, sizeof *col);
    col->name = name;
    col->scale = -1;
    switch (bc->type) {
    case SL_BT_TINY: case SL_BT_SHORT: case SL_BT_INT24: case SL_BT_LONG: case SL_BT_LONGLONG:
        col->type = bc->is_unsigned ? SL_T_UINT64 : SL_T_INT64;
        break;
    case SL_BT_YEAR: col->type = SL_T_INT16; break;
    case SL_BT_FLOAT: col->type = SL_T_FLOAT32; break;
    case SL_BT_DOUBLE: col->type = SL_T_FLOAT64; break;
    case SL_BT_NEWDECIMAL:
        col->type = SL_T_DECIMAL;
        col->precision = (int)(bc->meta >> 8);
        col->scale = (int)(bc->meta & 0xff);
        break;
    case SL_BT_BIT: col->type = SL_T_BIT; col->length = (int)bc->meta; break;
    case SL_BT_DATE: case SL_BT_NEWDATE: col->type = SL_T_DATE; break;
    case SL_BT_TIME: case SL_BT_TIME2: col->type = SL_T_TIME; col->scale = (int)bc->meta; break;
    case SL_BT_DATETIME: case SL_BT_DATETIME2: col->type = SL_T_TIMESTAMP; col->scale = (int)bc->meta; break;
    case SL_BT_TIMESTAMP: case SL_BT_TIMESTAMP2: col->type = SL_T_TIMESTAMPTZ; col->scale = (int)bc->meta; break;
    case SL_BT_ENUM: col->type = SL_T_ENUM; break;
    case SL_BT_SET: col->type = SL_T_SET; break;
    case SL_BT_JSON: col->type = SL_T_JSON; break;
    case SL_BT_GEOMETRY: col->type = SL_T_GEOMETRY; break;
    default:
        col->type = bc->collation == 63 ? SL_T_BYTES : SL_T_TEXT;
        col->fixed = bc->type == SL_BT_STRING;
        col->length = (int)bc->meta;
        break;
    }
}

static void rows(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt, const sl_binlog_tmap_t *tm)
{
    sl_err_t err;
    sl_binlog_rows_t r;
    int rc = sl_binlog_rows_decode(ev, fmt, &r, &err);
    check(rc, &err);
    if (rc || !tm)
        return;
    int n = tm->ncols;
    sl_binlog_cell_t *before = calloc((size_t)n, sizeof *before), *after = calloc((size_t)n, sizeof *after);
    sl_column_t *cols = calloc((size_t)n, sizeof *cols);
    sl_value_t *vals = calloc((size_t)n, sizeof *vals);
    int *map = calloc((size_t)n, sizeof *map);
    char name[] = "c";
    for (int i = 0; i < n; i++) {
        make_column(&tm->cols[i], &cols[i], name);
        map[i] = i;
    }
    sl_table_t t = {.name = name, .columns = cols, .ncolumns = n};
    sl_buf_t arena;
    sl_buf_init(&arena, 64u << 20);
    while ((rc = sl_binlog_rows_next(&r, tm, before, after, &err)) == 1) {
        for (int img = 0; img < 2; img++) {
            const sl_binlog_cell_t *cells = img ? after : before;
            if ((img == 0 && r.kind == 'I') || (img == 1 && r.kind == 'D'))
                continue;
            for (int i = 0; i < n; i++)
                if (cells[i].state == 2 && (cells[i].p < ev->body || cells[i].p + cells[i].len > ev->body + ev->len))
                    abort();
            rc = sl_binlog_row_values(tm, &t, map, cells, img == 1, &arena, vals, &err);
            check(rc, &err);
            if (rc)
                continue;
            for (int i = 0; i < n; i++) {
                if (vals[i].len < 0)
                    continue;
                const char *p = vals[i].p;
                bool in_ev = (const unsigned char *)p >= ev->body &&
                             (const unsigned char *)p + vals[i].len <= ev->body + ev->len;
                bool in_arena = p >= arena.data && p + vals[i].len <= arena.data + arena.len;
                if (!in_ev && !in_arena)
                    abort();
            }
        }
    }
    check(rc < 0 ? -1 : 0, &err);
    sl_buf_free(&arena);
    free(before);
    free(after);
    free(cols);
    free(vals);
    free(map);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sl_binlog_fmt_t fmt;
    sl_binlog_fmt_init(&fmt, data[0] & 1, false);
    fmt.mariadb = (data[0] & 2) != 0;
    sl_binlog_tmap_t *tm = NULL;
    size_t pos = 1;
    while (size - pos >= SL_BINLOG_HEADER) {
        const uint8_t *h = data + pos;
        size_t len = (size_t)h[9] | (size_t)h[10] << 8 | (size_t)h[11] << 16 | (size_t)h[12] << 24;
        if (len < SL_BINLOG_HEADER || len > size - pos)
            len = size - pos; /* let the decoder see the lie */
        sl_binlog_event_t ev;
        sl_err_t err;
        int rc = sl_binlog_event_decode(h, len, &fmt, &ev, &err);
        check(rc, &err);
        pos += len;
        if (rc)
            continue;
        if (ev.type == SL_BL_TABLE_MAP) {
            sl_binlog_tmap_t *next = NULL;
            rc = sl_binlog_tmap_decode(&ev, &fmt, &next, &err);
            check(rc, &err);
            if (!rc) {
                sl_binlog_tmap_free(tm);
                tm = next;
            }
        } else if ((ev.type >= SL_BL_WRITE_V1 && ev.type <= SL_BL_DELETE_V1) ||
                   (ev.type >= SL_BL_WRITE_V2 && ev.type <= SL_BL_DELETE_V2)) {
            rows(&ev, &fmt, tm);
        } else if (ev.type == SL_BL_QUERY && (ev.query.sqllen > len || ev.query.dblen > len)) {
            abort();
        }
    }
    sl_binlog_tmap_free(tm);
    return 0;
}
