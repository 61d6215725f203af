/*
 * batch.h: the bus encoding of a batch of rows, encoder and decoder side by side.
 *
 * A batch is one JetStream message: a fixed 48-byte header, the rows, then the
 * batch's last key (JSON text). Each value is a varint (length + 1; 0 means NULL)
 * followed by the bytes of its canonical form (model/types.h). The decoder is pure:
 * it takes bytes and returns values pointing into them, never copying and never
 * reading past the end; malformed input is an SL_E_PROTOCOL error (fuzzed).
 *
 * Load batches identify themselves by (epoch, stripe, seq): the run's epoch, the
 * stripe (a key range of one table) and a 1-based sequence number inside the stripe.
 */
#ifndef SL_MODEL_BATCH_H
#define SL_MODEL_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

#define SL_BATCH_HDR 48u
/* The most rows a batch holds (the batch_rows option's maximum). */
#define SL_BATCH_MAX_ROWS 1000000u

enum {
    SL_BATCH_FIRST = 1u << 0, /* first batch of its stripe in this epoch */
    SL_BATCH_LAST = 1u << 1,  /* the stripe ends with this batch */
    SL_BATCH_RESET = 1u << 2, /* delete the table's rows first (keyless stripe restarted) */
};

/* One value: len < 0 means SQL NULL. Borrowed: points into a batch or a driver buffer. */
typedef struct sl_value {
    const char *p;
    int64_t len;
} sl_value_t;

typedef struct sl_batch_hdr {
    uint32_t flags;
    uint64_t epoch;
    uint32_t stripe;
    uint32_t seq;
    uint32_t table;  /* index of the table in the plan */
    uint32_t ncols;
    uint32_t nrows;
} sl_batch_hdr_t;

/* Encoder. Owns its buffer; reuse it across batches with sl_batch_start(). */
typedef struct sl_batch_builder {
    sl_buf_t buf;
    sl_batch_hdr_t hdr;
    uint32_t max_rows;
    size_t max_bytes;
    uint64_t raw_bytes; /* sum of value lengths, for byte counters */
} sl_batch_builder_t;

void sl_batch_builder_init(sl_batch_builder_t *b, uint32_t max_rows, size_t max_bytes);
void sl_batch_builder_free(sl_batch_builder_t *b);
/* Starts a new batch with the given header (nrows is counted by the builder). */
void sl_batch_start(sl_batch_builder_t *b, const sl_batch_hdr_t *hdr);
/* Encoded size of one row. */
size_t sl_batch_row_size(const sl_value_t *vals, int n);
/* True when the row would not fit in this batch: flush first. A row that does not fit
 * an empty batch makes sl_batch_add_row() fail with SL_E_LIMIT. */
bool sl_batch_would_overflow(const sl_batch_builder_t *b, size_t rowsize);
bool sl_batch_full(const sl_batch_builder_t *b);
int sl_batch_add_row(sl_batch_builder_t *b, const sl_value_t *vals, int n, sl_err_t *err);
/* Writes the header and appends the last key; the data and len outputs stay valid until the next
 * sl_batch_start(). last_key may be NULL. */
int sl_batch_finish(sl_batch_builder_t *b, const char *last_key, const char **data,
                    size_t *len, sl_err_t *err);

/* Decoder: a view over an encoded batch. */
typedef struct sl_batch_view {
    sl_batch_hdr_t hdr;
    const unsigned char *data;
    size_t len;
    size_t rows_end;   /* offset where rows end and the last key begins */
    const char *last_key; /* NOT NUL-terminated; see last_key_len */
    size_t last_key_len;
    size_t pos;        /* decoding cursor */
    uint32_t row;      /* rows decoded so far */
} sl_batch_view_t;

int sl_batch_decode(const void *data, size_t len, sl_batch_view_t *v, sl_err_t *err);
/* Decodes the next row into vals[0..hdr.ncols). Returns 1 with a row, 0 at the end,
 * -1 on malformed input. */
int sl_batch_next_row(sl_batch_view_t *v, sl_value_t *vals, sl_err_t *err);
/* Restarts iteration at the first row. */
void sl_batch_rewind(sl_batch_view_t *v);
/* Decodes row number idx (0-based) into vals, scanning from the start (error paths). */
int sl_batch_row_at(const sl_batch_view_t *v, uint32_t idx, sl_value_t *vals, sl_err_t *err);

#endif
