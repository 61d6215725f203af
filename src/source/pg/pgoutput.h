/*
 * pgoutput.h: a pure decoder of PostgreSQL's pgoutput logical replication messages,
 * protocol versions 1 and 2 (PostgreSQL docs, "Logical Replication Message Formats";
 * the server's side is src/backend/replication/logical/proto.c).
 *
 * Protocol 2 adds the streaming of in-progress transactions (PostgreSQL 14+, option
 * streaming 'on'): a transaction larger than the server's logical_decoding_work_mem is
 * sent in blocks, Stream Start (its xid) ... Stream Stop, before it ends, interleaved with
 * other transactions, and ends with Stream Commit or Stream Abort (the whole transaction,
 * or one subtransaction: subxid). Inside a block, Relation, Type, Insert, Update, Delete,
 * Truncate and Message carry the xid of the (sub)transaction that made them right after
 * their kind byte: the caller says whether a message lies inside a block (in_stream).
 *
 * One call decodes one message (the payload of one XLogData) into a sl_pgo_msg_t.
 * Strings and values point into the input, which must outlive the message; nothing
 * is allocated, nothing is read past the end, and every count that comes from the
 * network is bounded (SL_PGO_MAX_COLS). Malformed input is SL_E_PROTOCOL. The
 * decoder knows nothing about relations: matching a tuple to its Relation message
 * is the caller's job (source/pg/pg_cdc.c). sl_pgo_msg_t is large (the column
 * arrays are inline, so decoding never allocates): allocate it once and reuse it.
 */
#ifndef SL_SOURCE_PG_PGOUTPUT_H
#define SL_SOURCE_PG_PGOUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* PostgreSQL's MaxTupleAttributeNumber: no tuple or relation has more columns. */
#define SL_PGO_MAX_COLS 1664

/* Seconds from the Unix epoch to PostgreSQL's (2000-01-01). */
#define SL_PGO_EPOCH_OFFSET_US INT64_C(946684800000000)

typedef enum sl_pgo_kind {
    SL_PGO_BEGIN = 'B',
    SL_PGO_COMMIT = 'C',
    SL_PGO_ORIGIN = 'O',
    SL_PGO_RELATION = 'R',
    SL_PGO_TYPE = 'Y',
    SL_PGO_INSERT = 'I',
    SL_PGO_UPDATE = 'U',
    SL_PGO_DELETE = 'D',
    SL_PGO_TRUNCATE = 'T',
    SL_PGO_MESSAGE = 'M',
    SL_PGO_STREAM_START = 'S',
    SL_PGO_STREAM_STOP = 'E',
    SL_PGO_STREAM_COMMIT = 'c',
    SL_PGO_STREAM_ABORT = 'A',
} sl_pgo_kind_t;

/* One column of a TupleData. */
typedef struct sl_pgo_datum {
    char kind;     /* 'n' NULL, 'u' unchanged TOASTed value, 't' text, 'b' binary */
    uint32_t len;  /* 't'/'b': byte count of p (not NUL-terminated); else 0 */
    const char *p; /* 't'/'b': into the input; else NULL */
} sl_pgo_datum_t;

typedef struct sl_pgo_relcol {
    bool key;         /* part of the replica identity */
    const char *name; /* NUL-terminated, into the input */
    uint32_t type;    /* pg_type OID */
    int32_t typmod;
} sl_pgo_relcol_t;

typedef struct sl_pgo_msg {
    sl_pgo_kind_t kind;
    union {
        struct {
            uint64_t final_lsn; /* LSN of the commit record */
            int64_t commit_us;  /* µs since the Unix epoch */
            uint32_t xid;
        } begin;
        struct {
            uint8_t flags;
            uint64_t commit_lsn;
            uint64_t end_lsn; /* just past the transaction */
            int64_t commit_us;
        } commit;
        struct {
            uint64_t commit_lsn;
            const char *name;
        } origin;
        struct {
            uint32_t relid;
            const char *nspname; /* "" for pg_catalog */
            const char *relname;
            char replident;      /* 'd' default, 'n' nothing, 'f' full, 'i' index */
            int ncols;           /* cols in relcols[] */
        } rel;
        struct {
            uint32_t oid;
            const char *nspname;
            const char *typname;
        } type;
        struct {
            uint32_t relid;
            char old_kind; /* U: 0 (no old tuple), 'K' (key) or 'O' (old row); D: 'K'/'O' */
        } row;             /* I, U, D: tuples in oldt[0..nold) and newt[0..nnew) */
        struct {
            int nrels;
            uint8_t options; /* 1 CASCADE, 2 RESTART IDENTITY */
            const unsigned char *relids; /* nrels big-endian uint32: sl_pgo_truncate_relid */
        } truncate;
        struct {
            uint8_t flags; /* 1 transactional */
            uint64_t lsn;
            const char *prefix;
            const char *content;
            uint32_t len;
        } message;
        struct {
            uint32_t xid;
            bool first; /* the transaction's first block */
        } stream_start;
        struct {
            uint32_t xid;
            uint8_t flags;
            uint64_t commit_lsn;
            uint64_t end_lsn;
            int64_t commit_us;
        } stream_commit;
        struct {
            uint32_t xid;    /* the top-level transaction */
            uint32_t subxid; /* equal to xid: the whole transaction aborted */
        } stream_abort;
    };
    /* R, Y, I, U, D, T, M inside a stream block: the xid of the (sub)transaction that
     * made the change; 0 outside a block */
    uint32_t xid;
    int nold, nnew;
    sl_pgo_relcol_t relcols[SL_PGO_MAX_COLS];
    sl_pgo_datum_t oldt[SL_PGO_MAX_COLS];
    sl_pgo_datum_t newt[SL_PGO_MAX_COLS];
} sl_pgo_msg_t;

/* Decodes one pgoutput message data[0..len) into *m; in_stream: the message lies
 * between Stream Start and Stream Stop (its xid field is read). Returns 0, or -1 with
 * SL_E_PROTOCOL (unknown kind, truncated, trailing bytes, counts out of bounds). */
int sl_pgo_decode(const void *data, size_t len, bool in_stream, sl_pgo_msg_t *m, sl_err_t *err);

/* The i-th relation OID of a Truncate message (0 <= i < m->truncate.nrels). */
uint32_t sl_pgo_truncate_relid(const sl_pgo_msg_t *m, int i);

/* PostgreSQL timestamp (µs since 2000-01-01) to µs since the Unix epoch, saturating. */
int64_t sl_pgo_unix_us(int64_t pg_us);

/* Big-endian integer helpers shared with the replication stream framing. */
uint64_t sl_pgo_get64(const unsigned char *p);
uint32_t sl_pgo_get32(const unsigned char *p);
void sl_pgo_put64(unsigned char *p, uint64_t v);

#endif
