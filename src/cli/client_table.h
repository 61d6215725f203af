/*
 * client_table.h: human output of the CLI clients: aligned text tables and the number
 * formats they use (counts with thousands separators, rates, lag, bytes, durations).
 *
 * Pure formatting, unit-tested (tests/unit/test_cli_table.c). A table owns copies of its
 * cells (sl_tab_free); sl_tab_render returns a malloc'd string the caller frees. Widths
 * count UTF-8 characters, not bytes. Not thread-safe (one table per caller).
 */
#ifndef SL_CLI_CLIENT_TABLE_H
#define SL_CLI_CLIENT_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sl_tab sl_tab_t;

/* A table with ncols columns. A header that starts with '>' is right-aligned (numbers);
 * the '>' is not printed. Aborts on out-of-memory, like the rest of the CLI. */
sl_tab_t *sl_tab_new(int ncols, const char *const *headers);
void sl_tab_free(sl_tab_t *t);
/* Adds a row of ncols cells (copied; NULL prints as "-"). */
void sl_tab_row(sl_tab_t *t, const char *const *cells);
int sl_tab_rows(const sl_tab_t *t);
/* The table as text: a header line and one line per row, columns separated by two spaces,
 * no trailing spaces, each line ending in \n. */
char *sl_tab_render(const sl_tab_t *t);

/* Takes t: prints it to f (or the line `empty`, if not NULL, when it has no rows) and
 * frees it. */
void sl_tab_print_free(sl_tab_t *t, FILE *f, const char *empty);

/* Number formats for humans, into buf (returned for use in printf). */
const char *sl_fmt_count(int64_t n, char *buf, size_t size);     /* 1234567 → "1,234,567" */
const char *sl_fmt_rate(double per_sec, char *buf, size_t size); /* rows/s: "0", "12.5", "1,234" */
const char *sl_fmt_bytes(double bytes, char *buf, size_t size);  /* "512 B", "1.5 KiB", "3.0 GiB" */
/* Seconds as a lag or a duration: "0.08 s", "42 s", "3m12s", "2h05m", "3d04h"; negative or
 * NaN → "-". */
const char *sl_fmt_secs(double secs, char *buf, size_t size);

/* Characters (not bytes) of UTF-8 text s. */
size_t sl_utf8_width(const char *s);

#endif
