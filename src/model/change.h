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
 * tables. Values are varints (0 NULL, 1 unchanged TOASTed value, n+2 then n bytes). The
 * decoder is pure and never reads past the end (fuzzed with the load batch decoder).
 *
 * Transactions larger than a batch (engine/cdc_txn.c). Their changes are spilled: sent
 * to the broker as SPILL messages (change batches of one transaction's share of a lane,
 * on a subject of their own, never applied by themselves) while the transaction is
 * read, and the lane batch that follows carries a spill reference (flag SPILLED, a
 * footer): the writer applies the spilled changes first, then the batch's own, in one
 * target transaction. Spilled changes carry their positions, or, for a transaction the
 * source streamed before it committed (its commit position unknown then), a spill index
 * 1, 2, ... that the writer turns into (ref.lsn, n) for the n-th change it keeps:
 * changes of rolled-back subtransactions are left out by index ranges.
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
    SL_CBATCH_SPILL = 1u << 2,     /* a part of a spill: prev = {spill id, part number} */
    SL_CBATCH_SPILLED = 1u << 3,   /* the spill of its footer goes before its changes */
};

/* At most this many ranges in a spill reference (its footer then stays under 16 KB, in
 * the 64 KB a builder keeps beyond max_bytes). */
#define SL_CSPILL_MAX_RANGES 1000

/* A spill reference (the footer of a SPILLED batch). */
typedef struct sl_cspill_ref {
    uint64_t id;        /* the spill: its broker subject and its parts' prev.lsn */
    uint64_t first_seq; /* broker sequence of its first part */
    uint32_t nparts;
    uint32_t nchanges;  /* changes in the parts (numbered: indexes 1..nchanges) */
    uint64_t lsn;       /* 0: the changes carry their positions; else the n-th change
                           kept (not in a range) is applied at position (lsn, n) */
    uint32_t nranges;   /* left-out index ranges [from, to], ascending, disjoint */
    const unsigned char *ranges; /* decoded views: their encoding, for sl_cspill_range */
    size_t ranges_len;
} sl_cspill_ref_t;

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
    /* the spill reference finish() appends (hdr.flags has SL_CBATCH_SPILLED) */
    sl_cspill_ref_t ref;
    const uint32_t *ref_ranges; /* nranges pairs (from, to), borrowed until finish() */
} sl_cbatch_builder_t;

/* Where a builder stands (sl_cbatch_mark): its bytes, changes and last position. */
typedef struct sl_cbatch_mark {
    size_t len;
    uint32_t n;
    sl_pos_t last;
} sl_cbatch_mark_t;

void sl_cbatch_builder_init(sl_cbatch_builder_t *b, uint32_t max_changes, size_t max_bytes);
void sl_cbatch_builder_free(sl_cbatch_builder_t *b);
void sl_cbatch_start(sl_cbatch_builder_t *b, const sl_cbatch_hdr_t *hdr);
size_t sl_cbatch_change_size(const sl_change_t *c);
bool sl_cbatch_would_overflow(const sl_cbatch_builder_t *b, size_t size);
/* Appends one change (hdr.last becomes its position). A change too large for an empty
 * batch is SL_E_LIMIT. */
int sl_cbatch_add(sl_cbatch_builder_t *b, const sl_change_t *c, sl_err_t *err);
/* Writes the header (and, with SL_CBATCH_SPILLED, the footer); data/len stay valid
 * until the next sl_cbatch_start(). */
void sl_cbatch_finish(sl_cbatch_builder_t *b, const char **data, size_t *len);
/* The batch refers to spill ref (SL_CBATCH_SPILLED): ranges (ref->nranges pairs) are
 * borrowed until finish(). Its footer counts against max_bytes from now on. */
void sl_cbatch_set_spilled(sl_cbatch_builder_t *b, const sl_cspill_ref_t *ref, const uint32_t *ranges);
/* The bytes the footer of ref with nranges ranges takes at most. */
size_t sl_cspill_footer_size(uint32_t nranges);
sl_cbatch_mark_t sl_cbatch_mark(const sl_cbatch_builder_t *b);
/* Moves the changes after mark m into tail (replacing its content), leaving the
 * builder at m; *n and *last say what moved. sl_cbatch_append() puts them back into a
 * (restarted) builder. */
int sl_cbatch_split(sl_cbatch_builder_t *b, sl_cbatch_mark_t m, sl_buf_t *tail, uint32_t *n, sl_pos_t *last,
                    sl_err_t *err);
int sl_cbatch_append(sl_cbatch_builder_t *b, const sl_buf_t *tail, uint32_t n, sl_pos_t last, sl_err_t *err);

typedef struct sl_cbatch_view {
    sl_cbatch_hdr_t hdr;
    sl_cspill_ref_t ref; /* SL_CBATCH_SPILLED */
    const unsigned char *data;
    size_t len;  /* where the changes end (the footer follows) */
    size_t pos;
    uint32_t done;
} sl_cbatch_view_t;

/* Decodes the header and the footer (whose ranges it checks: ascending, disjoint,
 * within 1..nchanges). */
int sl_cbatch_decode(const void *data, size_t len, sl_cbatch_view_t *v, sl_err_t *err);
/* Walks the ranges of a decoded reference: *at starts at 0; returns false after the
 * last one. */
bool sl_cspill_range(const sl_cspill_ref_t *ref, size_t *at, uint32_t *from, uint32_t *to);

/* The writer's walk over the changes of a spill, in order (pure). */
typedef struct sl_cspill_cursor {
    const sl_cspill_ref_t *ref;
    size_t at;         /* ranges read */
    uint32_t from, to; /* the next range left out (from > to: none) */
    uint32_t next;     /* the spill index the next change must have (ref->lsn != 0) */
    uint32_t kept;     /* changes kept so far */
} sl_cspill_cursor_t;

void sl_cspill_cursor_init(sl_cspill_cursor_t *cur, const sl_cspill_ref_t *ref);
/* The next change c of the spill: 1 to apply it (at position (ref->lsn, kept) when
 * ref->lsn != 0), 0 to leave it out (a rolled-back subtransaction's), -1 when c is not
 * the change that must come next (a spill index out of order, or past nchanges). */
int sl_cspill_keep(sl_cspill_cursor_t *cur, sl_change_t *c);
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
