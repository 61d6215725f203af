/*
 * change.h: row change events (CDC) and their bus encoding, encoder and decoder side
 * by side (as batch.h is for load batches).
 *
 * Positions. Every change has a position (lsn, idx): `lsn` identifies its source
 * transaction and grows with commit order (PostgreSQL: the LSN of the commit record,
 * pgoutput's final_lsn; binlog: see source/cdc.h), `idx` is the 1-based index of the
 * change inside its transaction. Positions order every change of a stream. A
 * heartbeat carries (lsn, 0). `flush` is a different thing: the source position that
 * may be confirmed once everything up to this change is committed (PostgreSQL: the end
 * LSN of the last transaction that ended at or before it).
 *
 * A change batch is one JetStream message: a fixed header, then the changes. A batch
 * holds changes of one lane, in position order, possibly of many transactions and
 * tables; a transaction larger than a batch continues in the next one. Values are
 * varints (0 NULL, 1 unchanged TOASTed value, n+2 then n bytes). The decoder is pure
 * and never reads past the end (fuzzed with the load batch decoder).
 */
#ifndef SL_MODEL_CHANGE_H
#define SL_MODEL_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/batch.h"

/* In sl_value_t.len: an unchanged TOASTed value (pgoutput 'u'). The target keeps the
 * value it has; never written as NULL or empty. */
#define SL_VALUE_UNCHANGED (-2)

typedef enum sl_change_op {
    SL_OP_INSERT = 'I',
    SL_OP_UPDATE = 'U',
    SL_OP_DELETE = 'D',
    SL_OP_TRUNCATE = 'T',
    /* copying a table beside the stream (engine/cdc_copy.c): */
    SL_OP_COPY = 'C', /* a row of a chunk: inserted; its key is how far the copy got */
    SL_OP_MARK = 'M', /* a copy's state changes: row[0] is its JSON (ncols 1) */
} sl_change_op_t;

typedef struct sl_pos {
    uint64_t lsn;
    uint32_t idx;
} sl_pos_t;

static inline int sl_pos_cmp(sl_pos_t a, sl_pos_t b)
{
    if (a.lsn != b.lsn)
        return a.lsn < b.lsn ? -1 : 1;
    return a.idx < b.idx ? -1 : a.idx > b.idx;
}

/* One row change. Values are canonical (model/types.h) and borrowed.
 *   INSERT:   row = the new row (ncols values), old = NULL.
 *   UPDATE:   row = the new row; values the source did not send because they did not
 *             change (TOAST) have len SL_VALUE_UNCHANGED. old = the old row when the
 *             source sent it (the key changed, or REPLICA IDENTITY FULL): ncols values,
 *             columns outside the replica identity NULL; old = NULL when the key did
 *             not change (row then holds the key).
 *   DELETE:   row = NULL, old = the old row as for UPDATE (never NULL).
 *   TRUNCATE: row = old = NULL.
 * Columns are those of the stream's table description, in its order. */
typedef struct sl_change {
    sl_change_op_t op;
    uint32_t table;    /* index of the table in the stream */
    sl_pos_t pos;
    int64_t commit_us; /* source commit time, µs since the Unix epoch (0 unknown) */
    int ncols;
    const sl_value_t *row;
    const sl_value_t *old;
} sl_change_t;

/* ---- change batches on the bus ------------------------------------------------- */

#define SL_CHANGE_MAGIC 0x53434331u /* "SCC1" */

enum {
    SL_CBATCH_FIRST = 1u << 0,     /* first batch of its lane in this reader session */
    SL_CBATCH_HEARTBEAT = 1u << 1, /* no changes: only moves the lane's position on */
};

typedef struct sl_cbatch_hdr {
    uint32_t flags;
    uint64_t epoch;   /* the reader session; batches of older sessions are ignored */
    uint32_t lane;
    uint32_t nchanges;
    sl_pos_t prev;    /* last position published to this lane before this batch (the
                         session's start position for a FIRST batch) */
    sl_pos_t last;    /* position of the last change (heartbeat: its position) */
    uint64_t flush;   /* confirmable source position once this batch is committed */
    int64_t commit_us; /* commit time of the last complete transaction in the batch */
} sl_cbatch_hdr_t;

typedef struct sl_cbatch_builder {
    sl_buf_t buf;
    sl_cbatch_hdr_t hdr;
    uint32_t max_changes;
    size_t max_bytes;
} sl_cbatch_builder_t;

void sl_cbatch_builder_init(sl_cbatch_builder_t *b, uint32_t max_changes, size_t max_bytes);
void sl_cbatch_builder_free(sl_cbatch_builder_t *b);
void sl_cbatch_start(sl_cbatch_builder_t *b, const sl_cbatch_hdr_t *hdr);
size_t sl_cbatch_change_size(const sl_change_t *c);
bool sl_cbatch_would_overflow(const sl_cbatch_builder_t *b, size_t size);
/* Appends one change (hdr.last becomes its position). A change too large for an empty
 * batch is SL_E_LIMIT. */
int sl_cbatch_add(sl_cbatch_builder_t *b, const sl_change_t *c, sl_err_t *err);
/* Writes the header; data/len stay valid until the next sl_cbatch_start(). */
void sl_cbatch_finish(sl_cbatch_builder_t *b, const char **data, size_t *len);

typedef struct sl_cbatch_view {
    sl_cbatch_hdr_t hdr;
    const unsigned char *data;
    size_t len;
    size_t pos;
    uint32_t done;
} sl_cbatch_view_t;

int sl_cbatch_decode(const void *data, size_t len, sl_cbatch_view_t *v, sl_err_t *err);
/* Decodes the next change into *c; its values go to row[0..cap) and old[0..cap).
 * Returns 1 with a change, 0 at the end, -1 on malformed input (or more than cap
 * columns). */
int sl_cbatch_next(sl_cbatch_view_t *v, sl_change_t *c, sl_value_t *row, sl_value_t *old, int cap,
                   sl_err_t *err);
void sl_cbatch_rewind(sl_cbatch_view_t *v);

/* "0/16B3748" (PostgreSQL LSN notation) and back; parse returns -1 on bad text. */
void sl_lsn_format(uint64_t lsn, char *buf, size_t size);
int sl_lsn_parse(const char *s, uint64_t *lsn);

#endif
