/*
 * fmt_int.h: what the encoders of target/fmt/ share and nobody else needs: parsing the
 * canonical text of model/types.h into binary values (value.c), the streaming output of
 * CSV and JSONL with optional whole-file gzip/zstd (out.c), one-shot block compression of
 * Parquet pages (compress.c), and the ops tables of the three formats.
 *
 * Parsers are pure: they take (pointer, length), never read past it and return 0 or -1
 * (the caller turns -1 into an SL_E_DATA error naming the column). Thread: none shared.
 */
#ifndef SL_TARGET_FMT_FMT_INT_H
#define SL_TARGET_FMT_FMT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "target/fmt/fmt.h"

/* --- value.c: canonical text -> binary ----------------------------------------------- */
int sl_fmtv_i64(const char *p, size_t n, int64_t *out);
int sl_fmtv_u64(const char *p, size_t n, uint64_t *out);
/* Accepts the shortest decimal/exponent forms, "NaN", "Infinity", "-Infinity". */
int sl_fmtv_f64(const char *p, size_t n, double *out);
/* "t"/"f" (also "true"/"false", "1"/"0"). */
int sl_fmtv_bool(const char *p, size_t n, bool *out);
/* "YYYY-MM-DD" -> days since 1970-01-01; "infinity"/"-infinity" give 1 / -1 in *inf
 * (0 otherwise) and no days. */
int sl_fmtv_date(const char *p, size_t n, int32_t *days, int *inf);
/* "HH:MM:SS[.ffffff]" within 00:00:00..24:00:00 -> microseconds since midnight. */
int sl_fmtv_time(const char *p, size_t n, int64_t *us);
/* "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]" (also 'T') -> µs since the epoch, the offset
 * (when present) subtracted; infinity as for dates. */
int sl_fmtv_timestamp(const char *p, size_t n, int64_t *us, int *inf);
/* lowercase or uppercase 8-4-4-4-12 -> 16 bytes. */
int sl_fmtv_uuid(const char *p, size_t n, uint8_t out[16]);
/* Plain decimal text -> the unscaled integer at `scale` fraction digits, at most 38
 * digits. Fails on NaN, exponents, more fraction digits than scale, or overflow. */
int sl_fmtv_decimal(const char *p, size_t n, int scale, __int128 *out);

/* days since the epoch -> year, month, day (proleptic Gregorian). */
void sl_fmtv_civil(int64_t days, int64_t *y, int *m, int *d);

/* Sets SL_E_DATA "invalid <type> value for column \"c\" of table \"t\"" with the value
 * (truncated) as detail. Returns -1. */
int sl_fmtv_error(sl_err_t *err, const sl_table_t *t, int col, const sl_value_t *v,
                  const char *why);

/* --- out.c: buffered, optionally compressed output of a whole file --------------------- */
typedef struct sl_fmt_out sl_fmt_out_t;

int sl_fmt_out_open(sl_fmt_sink_t sink, sl_codec_t codec, int level, sl_fmt_out_t **out,
                    sl_err_t *err);
/* The staging buffer: append text to it, then call sl_fmt_out_flush_maybe(). */
sl_buf_t *sl_fmt_out_buf(sl_fmt_out_t *o);
/* Compresses and hands the buffer to the sink once it holds more than its threshold. */
int sl_fmt_out_flush_maybe(sl_fmt_out_t *o, sl_err_t *err);
/* Flushes everything and ends the compressed stream. */
int sl_fmt_out_finish(sl_fmt_out_t *o, sl_err_t *err);
/* Bytes given to the sink plus the buffered bytes (uncompressed). */
uint64_t sl_fmt_out_size(const sl_fmt_out_t *o);
void sl_fmt_out_free(sl_fmt_out_t *o);

/* --- compress.c: one block (a Parquet page) --------------------------------------------- */
/* Compresses in[0..n) with codec into dst (reset first). NONE copies. */
int sl_fmt_compress_block(sl_codec_t codec, int level, const void *in, size_t n,
                          sl_buf_t *dst, sl_err_t *err);

/* --- the formats ----------------------------------------------------------------------- */
extern const struct sl_fmt_ops sl_fmt_csv_ops;
extern const struct sl_fmt_ops sl_fmt_jsonl_ops;
extern const struct sl_fmt_ops sl_fmt_parquet_ops;

/* Appends the base64 (RFC 4648, padded) of p[0..n) to b (JSONL bytes). */
int sl_fmt_base64(sl_buf_t *b, const void *p, size_t n, sl_err_t *err);
/* Appends "\x" and the lowercase hex of p[0..n) (CSV bytes, as PostgreSQL prints bytea). */
int sl_fmt_hex(sl_buf_t *b, const void *p, size_t n, sl_err_t *err);
/* Appends p[0..n) as a JSON string (quotes, backslashes and control characters escaped). */
int sl_fmt_json_str(sl_buf_t *b, const char *p, size_t n, sl_err_t *err);

#endif
