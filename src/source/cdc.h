/*
 * cdc.h: the change-stream side of a source (stream mode `cdc`), beside source.h's
 * snapshot side. PostgreSQL implements it with a logical replication slot and pgoutput
 * (source/pg/pg_cdc*.c), MariaDB/MySQL with the binary log read as a replica
 * (source/mysql/mysql_cdc*.c). The engine (engine/cdc.c) drives it without knowing
 * which: prepare on the first run, start on every session, forget on cleanup.
 *
 * One sl_cdc_t is one connection to the source, opened for one stream and used by one
 * thread at a time (the stream's reader; `sluice cleanup` and the connection test use
 * their own).
 *
 * Positions are uint64 that grow in commit order: PostgreSQL LSNs, binlog positions
 * packed as source/mysql/gtid.h says. They are stored packed (hex "X/Y") in the
 * target's checkpoints; everything a person reads (logs, stats, the API, the UI) shows
 * them as the source writes them, through pos_format: `0/1A2B3C8`, `GTID 0-11-500`,
 * `mysql-bin.000003:1234`. See model/change.h for how changes are ordered and what may
 * be confirmed.
 *
 * What a stream owns on the source, and how it knows: at the hand-over the engine stores
 * the source's `state` (JSON, below) in the target (checkpoint "cdc_source"), and gives
 * it back to open() on every later run, so that a stream keeps the names it started
 * with (PostgreSQL: its slot and publication; MariaDB: its replica server id). A stream
 * handed over by an earlier sluice, which recorded no state, is `legacy`: the source
 * derives the names that version gave. A source never drops or alters what belongs to another
 * stream (pg_cdc_slot.c says how PostgreSQL tells).
 */
#ifndef SL_SOURCE_CDC_H
#define SL_SOURCE_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "model/change.h"
#include "model/schema.h"
#include "source/source.h"

typedef struct sl_cdc sl_cdc_t;

typedef enum sl_cdc_kind {
    SL_CDC_BEGIN,    /* a transaction starts: xact_lsn, commit_us */
    SL_CDC_CHANGE,   /* one row change: change (its pos.lsn is xact_lsn, pos.idx 1, 2, ...;
                        inside a stream block: xid, subxid, and pos {0, 0}) */
    SL_CDC_COMMIT,   /* the transaction ends: xact_lsn, end_lsn, commit_us */
    SL_CDC_RELATION, /* table `table` is now sent with the columns relcols[0..nrelcols)
                        (inside a stream block: xid set) */
    /* Transactions streamed while in progress (PostgreSQL, only when the handler allows
     * it): blocks of changes of one transaction `xid`, between other transactions, and at
     * last its commit or abort. The changes of a block come between STREAM_START and
     * STREAM_STOP; no BEGIN/COMMIT transaction lies inside a block. */
    SL_CDC_STREAM_START,  /* a block of transaction xid starts */
    SL_CDC_STREAM_STOP,   /* the block ends */
    SL_CDC_STREAM_COMMIT, /* xid committed: xact_lsn (its commit record), end_lsn, commit_us */
    SL_CDC_STREAM_ABORT,  /* xid rolled back (subxid == xid), or only its subtransaction
                             subxid (and the subtransactions that began after it) */
    SL_CDC_MARK,     /* a position report, nothing to apply: every transaction with
                        xact_lsn < pos_next(end_lsn) has been delivered (a keepalive, a
                        heartbeat, a watermark message) */
} sl_cdc_kind_t;

typedef struct sl_cdc_event {
    sl_cdc_kind_t kind;
    uint64_t xact_lsn; /* the transaction's position (PostgreSQL: its commit record's LSN) */
    uint64_t end_lsn;  /* COMMIT: the position just past the transaction: confirmable once applied;
                          MARK: the position reached */
    int64_t commit_us; /* µs since the Unix epoch */
    sl_change_t change;
    int table;         /* RELATION: index of the table in the stream */
    int nrelcols;
    const char *const *relcols;
    uint32_t xid;      /* BEGIN: the transaction's id where the source has one (PostgreSQL),
                          else 0: what sl_cdc_snap_sees() tests; streamed transactions: the
                          top-level transaction (0 for changes outside a stream block) */
    uint32_t subxid;   /* CHANGE: the (sub)transaction that made it; STREAM_ABORT: the one
                          rolled back */
} sl_cdc_event_t;

typedef struct sl_cdc_handler {
    void *ctx;
    /* Every event, in order. A non-zero return stops the stream and is returned by
     * stream(). On RELATION the handler brings tables[table] in line with relcols
     * (re-describing the table, altering the target) before it returns 0; the source
     * then maps columns by name again, and fails if they still differ. */
    int (*on_event)(void *ctx, const sl_cdc_event_t *ev, sl_err_t *err);
    /* Asked at least once a second, and whenever the server asks for a reply: the
     * position to confirm as flushed now (0 = nothing yet). server_end is the server's
     * last reported position (keepalive, or the binlog position after transactions the
     * stream does not follow), 0 when unknown. The source never confirms anything else,
     * and never a position lower than one confirmed before. */
    uint64_t (*confirm)(void *ctx, uint64_t server_end);
    /* True when the stream should end (checked at least every 100 ms). */
    bool (*stopping)(void *ctx);
    /* The handler takes the STREAM_* events: a source that can stream transactions while
     * they are in progress (PostgreSQL 14+) does so. */
    bool streaming;
} sl_cdc_handler_t;

/* Who opens a connection, and what its target's checkpoints say about it. */
typedef struct sl_cdc_id {
    const char *stream; /* the stream's name, exactly as in its spec */
    const char *state;  /* the source's state recorded at the hand-over, NULL when none */
    bool legacy;        /* handed over without a recorded state: the earlier names */
    bool cut_short;     /* not handed over, but an earlier first run began an initial load */
} sl_cdc_id_t;

/* What prepare() leaves for the stream: the position it starts from (PostgreSQL: the
 * slot's consistent point; MariaDB: the binlog position of a snapshot taken then). The
 * tables are copied beside the stream from there on (engine/cdc_copy.c). */
typedef struct sl_cdc_prep {
    uint64_t start;
} sl_cdc_prep_t;

/* Where the stream's lane checkpoints stand on the target: the lowest and the highest
 * position a lane may confirm (its checkpoint's "flush"; the hand-over position for a
 * lane that has none yet). Never confirmed past `highest` (engine/cdc_reader.c). */
typedef struct sl_cdc_mark {
    uint64_t lowest, highest;
} sl_cdc_mark_t;

/* A snapshot that a table is copied in beside the change stream (engine/cdc_copy.c), and
 * which transactions of the stream it sees. Two kinds:
 *   - by position (MariaDB: START TRANSACTION WITH CONSISTENT SNAPSHOT reports its exact
 *     binlog position): it sees a transaction iff its xact_lsn < below;
 *   - by transaction id (PostgreSQL: pg_current_snapshot()): it sees a committed
 *     transaction iff xid < xmax and xid is not in xip (64-bit ids).
 * horizon: no transaction the snapshot sees commits at or after it in the stream, so once
 * the stream has delivered everything before it (a BEGIN at xact_lsn >= horizon, or a
 * position report whose pos_next() is >= horizon), every later transaction is unseen. */
typedef struct sl_cdc_snap {
    uint64_t horizon;
    uint64_t below;      /* by position; 0: by transaction id */
    uint64_t xmin, xmax;
    uint64_t *xip;       /* malloc'd, nxip ids in progress when it was taken */
    int nxip;
} sl_cdc_snap_t;

/* Whether snap sees the committed transaction at xact_lsn with id xid (a 32-bit id is
 * widened with the epoch of snap->xmax: transactions of the stream are recent). */
bool sl_cdc_snap_sees(const sl_cdc_snap_t *snap, uint64_t xact_lsn, uint32_t xid);
/* Whether transaction id xid (widened) is in progress in snap: it committed after it. */
bool sl_cdc_snap_running(const sl_cdc_snap_t *snap, uint32_t xid);
void sl_cdc_snap_clear(sl_cdc_snap_t *snap); /* frees xip, zeroes */
/* Parses PostgreSQL's pg_snapshot text "xmin:xmax:xip,xip,..." (pure): 0 or -1. */
int sl_cdc_snap_parse_pg(const char *text, sl_cdc_snap_t *snap);

struct sl_cdc_ops {
    const char *name;
    /* server end minus confirmed position is a number of bytes (PostgreSQL WAL): the
     * "slot lag" of the stats */
    bool byte_positions;
    /* Opens a connection to the source at `url` for stream id->stream. */
    int (*open)(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err);
    void (*close)(sl_cdc_t *c); /* NULL is a no-op */
    /* Checks what the stream needs before anything is created, each failure an error
     * with a hint (settings, privileges, free slots or senders, every table present and
     * replicable). n may be 0 (the connection test). */
    int (*check)(sl_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err);
    /* The first run: check(), then what the stream needs on the source (PostgreSQL:
     * the publication and the slot; MariaDB: nothing) and where it starts. A leftover
     * of this stream's own first run that was cut short is replaced; anything of
     * another stream is an error. */
    int (*prepare)(sl_cdc_t *c, sl_table_t *const *tables, int n, sl_cdc_prep_t *prep, sl_err_t *err);
    /* The state to record at the hand-over (JSON text, caller frees), given back to
     * open() on every later run. */
    char *(*state)(sl_cdc_t *c);
    /* Every session of a handed-over stream, before stream(): where it starts, given
     * where its checkpoints stand, after checking that what it streams from is still
     * its own and still holds every change past its checkpoints (PostgreSQL: from the
     * slot's confirmed position, which must not be past mark->highest; MariaDB: from
     * mark->lowest). A failure that cannot heal is `fatal`. */
    int (*start)(sl_cdc_t *c, const sl_cdc_mark_t *mark, uint64_t *start, sl_err_t *err);
    /* Drops what the stream created on the source (each if it exists and is its own;
     * what is not is left alone, with a warning). mark: where the checkpoints stand,
     * NULL when the target has none. */
    int (*forget)(sl_cdc_t *c, const sl_cdc_mark_t *mark, sl_err_t *err);
    /* Position `pos` as the source writes it, into buf. Thread: the one using c. */
    void (*pos_format)(sl_cdc_t *c, uint64_t pos, char *buf, size_t size);
    /* The reverse of pos_format (pure; also takes the packed "X/Y"): 0 or -1. */
    int (*pos_parse)(const char *text, uint64_t *pos);
    /* Streams changes of the tables from `start` (start() said where) until the
     * handler stops it (returns 0) or an error. tables[] belongs to the caller and may
     * be replaced by the handler on RELATION. */
    int (*stream)(sl_cdc_t *c, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                  sl_err_t *err);

    /* ---- copying tables beside the stream (engine/cdc_copy.c) ------------------- */
    /* The lowest position a transaction that ends after `end` (a COMMIT's end_lsn, a
     * position report) can have as its xact_lsn (pure). */
    uint64_t (*pos_next)(uint64_t end);
    /* Starts a read-only snapshot on src (a connection of the snapshot side, source.h,
     * opened on the same URL) and says what it sees; src->ops->scan() then reads in it
     * until snap_done(). Returns 1 (nothing started) when it cannot be taken yet
     * (PostgreSQL: a transaction older than the last publication change still runs). */
    int (*snap_take)(sl_cdc_t *c, sl_source_t *src, sl_cdc_snap_t *snap, sl_err_t *err);
    /* Ends that snapshot, and makes the stream report a position past its horizon soon
     * (PostgreSQL writes a logical message, which also wakes an idle walsender). */
    int (*snap_done)(sl_cdc_t *c, sl_source_t *src, sl_err_t *err);
    /* Keeps the stream alive while its reader does something else for a while (inside
     * stream(), on its thread): PostgreSQL sends a status update. */
    int (*ping)(sl_cdc_t *c, sl_err_t *err);
    /* Between sessions: makes the source send the changes of tables (add) and no longer
     * of gone (PostgreSQL: the publication; MariaDB: nothing). */
    int (*publish)(sl_cdc_t *c, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                   sl_err_t *err);
    /* Whether the source orders t's primary key as sl_cdc_key_cmp() compares canonical
     * values (integers, numbers, uuids, text in a binary collation): then t is copied in
     * key-ordered chunks, else in one piece. src: a snapshot-side connection. */
    int (*key_ordered)(sl_cdc_t *c, sl_source_t *src, const sl_table_t *t, bool *ordered, sl_err_t *err);
};

struct sl_cdc {
    const struct sl_cdc_ops *ops;
};

/* The ops for a source URL scheme, or NULL when that source has no CDC. */
const struct sl_cdc_ops *sl_cdc_lookup(const char *scheme);
int sl_cdc_open(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err);

/* The error of a recorded state (sl_cdc_id_t) that does not say `what`: fatal, with the
 * hint to start over. Returns -1. */
int sl_cdc_bad_state(const char *stream, const char *state, const char *what, sl_err_t *err);

static inline void sl_cdc_close(sl_cdc_t *c)
{
    if (c)
        c->ops->close(c);
}

#endif
