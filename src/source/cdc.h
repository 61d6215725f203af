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

typedef struct sl_cdc sl_cdc_t;

typedef enum sl_cdc_kind {
    SL_CDC_BEGIN,    /* a transaction starts: xact_lsn, commit_us */
    SL_CDC_CHANGE,   /* one row change: change (its pos.lsn is xact_lsn, pos.idx 1, 2, ...) */
    SL_CDC_COMMIT,   /* the transaction ends: xact_lsn, end_lsn, commit_us */
    SL_CDC_RELATION, /* table `table` is now sent with the columns relcols[0..nrelcols) */
} sl_cdc_kind_t;

typedef struct sl_cdc_event {
    sl_cdc_kind_t kind;
    uint64_t xact_lsn; /* the transaction's position (PostgreSQL: its commit record's LSN) */
    uint64_t end_lsn;  /* COMMIT: the position just past the transaction: confirmable once applied */
    int64_t commit_us; /* µs since the Unix epoch */
    sl_change_t change;
    int table;         /* RELATION: index of the table in the stream */
    int nrelcols;
    const char *const *relcols;
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
} sl_cdc_handler_t;

/* Who opens a connection, and what its target's checkpoints say about it. */
typedef struct sl_cdc_id {
    const char *stream; /* the stream's name, exactly as in its spec */
    const char *state;  /* the source's state recorded at the hand-over, NULL when none */
    bool legacy;        /* handed over without a recorded state: the earlier names */
    bool cut_short;     /* not handed over, but an earlier first run began an initial load */
} sl_cdc_id_t;

/* What prepare() leaves for the initial load. */
typedef struct sl_cdc_prep {
    /* The snapshot the load must read (source.h snapshot_import; caller frees), taken
     * at position `start`, while this connection stays idle. NULL: the source exports
     * none; the load takes its own snapshot, which says its position itself (source.h
     * snapshot_position). */
    char *snapshot;
    uint64_t start;
} sl_cdc_prep_t;

/* Where the stream's lane checkpoints stand on the target: the lowest and the highest
 * position a lane may confirm (its checkpoint's "flush"; the hand-over position for a
 * lane that has none yet). Never confirmed past `highest` (engine/cdc_reader.c). */
typedef struct sl_cdc_mark {
    uint64_t lowest, highest;
} sl_cdc_mark_t;

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
    /* The first run, before the initial load: check(), then what the stream needs on
     * the source (PostgreSQL: the publication, and the slot with its exported snapshot;
     * MariaDB: nothing). A leftover of this stream's own first run that was cut short
     * is replaced; anything of another stream is an error. */
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
