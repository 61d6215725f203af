/*
 * pq_dump.c: prints a Parquet file as sluice's reader sees it, for the tests that compare
 * the reader with DuckDB's reading of the same file (pq_check.mjs).
 *
 *   pq_dump FILE [--window N]
 *
 * stdout: first a JSON object {"columns": [{"name", "type", "elem", "precision", "scale",
 * "native"}], "row_groups": N, "rows": N}, then one JSON array per row in file order: a
 * cell is null or the value's canonical text (bytes as "\x" + lowercase hex, the way
 * read.mjs prints them). Exit 1 with the error on stderr when the reader fails.
 * --window N reads the file in windows of N bytes (small windows exercise the paging).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/fmt/fmt_read.h"
#include "target/fmt/parquet_rd.h" /* sl_pq_json_str */

static int rd(void *ctx, uint64_t off, void *dst, size_t n, sl_err_t *err)
{
    int fd = *(int *)ctx;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)dst + got, n - got, (off_t)(off + got));
        if (r <= 0)
            return sl_err_set(err, SL_E_IO, "short read at %llu", (unsigned long long)(off + got));
        got += (size_t)r;
    }
    return 0;
}

static void put(sl_buf_t *b, const char *s) { sl_buf_adds(b, s, NULL); }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: pq_dump FILE [--window N]\n");
        return 2;
    }
    sl_pq_read_opts_t o;
    sl_pq_read_opts_default(&o);
    for (int i = 2; i + 1 < argc; i += 2)
        if (!strcmp(argv[i], "--window"))
            o.window_bytes = (size_t)atol(argv[i + 1]);
    int fd = open(argv[1], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(argv[1]);
        return 1;
    }
    sl_fmt_range_t src = {.read = rd, .ctx = &fd, .size = (uint64_t)st.st_size};
    sl_err_t err = {0};
    sl_pq_reader_t *r = NULL;
    char eb[2048];
    if (sl_pq_reader_open(&src, argv[1], &o, &r, &err) < 0) {
        fprintf(stderr, "%s\n", sl_err_format(&err, eb, sizeof eb));
        return 1;
    }
    const sl_table_t *t = sl_pq_reader_table(r);
    sl_buf_t b;
    sl_buf_init(&b, (size_t)2 << 30);
    put(&b, "{\"columns\":[");
    for (int i = 0; i < t->ncolumns; i++) {
        const sl_column_t *c = &t->columns[i];
        sl_buf_printf(&b, NULL, "%s{\"name\":", i ? "," : "");
        sl_fmt_json_str(&b, c->name, strlen(c->name), NULL);
        sl_buf_printf(&b, NULL, ",\"type\":\"%s\",\"elem\":\"%s\",\"precision\":%d,\"scale\":%d,"
                      "\"nullable\":%s,\"native\":", sl_type_name(c->type),
                      c->type == SL_T_ARRAY ? sl_type_name(c->elem) : "", c->precision, c->scale,
                      c->nullable ? "true" : "false");
        sl_fmt_json_str(&b, c->native, strlen(c->native), NULL);
        put(&b, "}");
    }
    sl_buf_printf(&b, NULL, "],\"row_groups\":%d,\"rows\":%lld}\n", sl_pq_reader_row_groups(r),
                  (long long)sl_pq_reader_rows(r));
    fwrite(b.data, 1, b.len, stdout);
    sl_value_t *vals = calloc((size_t)t->ncolumns + 1, sizeof *vals);
    int rc = 0;
    for (int g = 0; g < sl_pq_reader_row_groups(r) && rc == 0; g++) {
        if (sl_pq_reader_seek(r, g, &err) < 0) {
            rc = -1;
            break;
        }
        while ((rc = sl_pq_reader_next(r, vals, &err)) == 1) {
            sl_buf_reset(&b);
            put(&b, "[");
            for (int i = 0; i < t->ncolumns; i++) {
                if (i)
                    put(&b, ",");
                if (vals[i].len < 0) {
                    put(&b, "null");
                } else if (t->columns[i].type == SL_T_BYTES) {
                    sl_buf_t h;
                    sl_buf_init(&h, (size_t)2 << 30);
                    sl_fmt_hex(&h, vals[i].p, (size_t)vals[i].len, NULL);
                    sl_fmt_json_str(&b, h.data, h.len, NULL);
                    sl_buf_free(&h);
                } else {
                    sl_fmt_json_str(&b, vals[i].p, (size_t)vals[i].len, NULL);
                }
            }
            put(&b, "]\n");
            fwrite(b.data, 1, b.len, stdout);
        }
    }
    if (rc < 0)
        fprintf(stderr, "%s\n", sl_err_format(&err, eb, sizeof eb));
    free(vals);
    sl_buf_free(&b);
    sl_pq_reader_free(r);
    close(fd);
    return rc < 0 ? 1 : 0;
}
