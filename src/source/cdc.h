/*
 * cdc.h: the change-stream side of a source (stream mode `cdc`), beside source.h's
 * snapshot side. PostgreSQL implements it with a logical replication slot and pgoutput
 * (source/pg/pg_cdc.c); MariaDB/MySQL will with the binlog.
 *
 * One sl_cdc_t is one replication connection, used by one thread (the stream's reader).
 * Names: the slot and the publication of stream "<name>" are both
 * sl_cdc_object_name(name) ("sluice_<name>", lowercased, other characters '_').
 *
 * Positions are uint64 (PostgreSQL LSNs); see model/change.h for how changes are
 * ordered and what may be confirmed.
 */
#ifndef SL_SOURCE_CDC_H
#define SL_SOURCE_CDC_H

#include <stdbool.h>
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
    uint64_t xact_lsn; /* PostgreSQL: LSN of the transaction's commit record (final_lsn) */
    uint64_t end_lsn;  /* COMMIT: the LSN just past the transaction: confirmable once applied */
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
     * last reported position (keepalive), 0 when unknown. The source never confirms
     * anything else, and never a position lower than one confirmed before. */
    uint64_t (*confirm)(void *ctx, uint64_t server_end);
    /* True when the stream should end (checked at least every 100 ms). */
    bool (*stopping)(void *ctx);
} sl_cdc_handler_t;

typedef struct sl_cdc_slot {
    bool exists;
    bool lost;          /* the server no longer holds the WAL the slot needs */
    bool active;        /* another connection streams from it right now */
    uint64_t confirmed; /* confirmed_flush_lsn */
    uint64_t restart;   /* restart_lsn */
} sl_cdc_slot_t;

struct sl_cdc_ops {
    const char *name;
    /* true: the server keeps the stream's position (a PostgreSQL replication slot: its
     * snapshot is exported by slot_create, its confirmed position is where a restart
     * streams from). false (binlog): the position lives only in the target's
     * checkpoints; the initial load's snapshot tells its position itself
     * (source.h snapshot_position). */
    bool slot;
    /* A replication connection for stream `stream` (the URL is the stream's source). */
    int (*open)(const char *url, const char *stream, sl_cdc_t **out, sl_err_t *err);
    void (*close)(sl_cdc_t *c); /* NULL is a no-op */
    /* Checks what CDC needs, each failure an error with a hint: wal_level=logical,
     * the REPLICATION privilege (or superuser), a free replication slot and WAL sender
     * (when a slot must still be created: need_slot), and every table replicable (a
     * primary key or REPLICA IDENTITY FULL; the hint names the ALTER TABLE to run). */
    int (*check)(sl_cdc_t *c, sl_table_t *const *tables, int n, bool need_slot, sl_err_t *err);
    /* Creates the publication for the tables, or adds the ones it lacks. */
    int (*publication_ensure)(sl_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err);
    int (*slot_state)(sl_cdc_t *c, sl_cdc_slot_t *st, sl_err_t *err);
    /* Creates the slot and exports its snapshot: *snapshot (caller frees) can be imported
     * by source.h's snapshot_import on other connections while this connection stays
     * idle; *consistent is the position the change stream starts from. */
    int (*slot_create)(sl_cdc_t *c, char **snapshot, uint64_t *consistent, sl_err_t *err);
    /* Drops the slot and the publication (each if it exists). */
    int (*drop)(sl_cdc_t *c, sl_err_t *err);
    /* Streams changes of the tables from the slot (after `start`, or the slot's confirmed
     * position when that is later) until the handler stops it (returns 0) or an error.
     * tables[] belongs to the caller and may be replaced by the handler on RELATION. */
    int (*stream)(sl_cdc_t *c, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                  sl_err_t *err);
};

struct sl_cdc {
    const struct sl_cdc_ops *ops;
};

/* The ops for a source URL scheme, or NULL when that source has no CDC yet. */
const struct sl_cdc_ops *sl_cdc_lookup(const char *scheme);
int sl_cdc_open(const char *url, const char *stream, sl_cdc_t **out, sl_err_t *err);
/* "sluice_<stream>": lowercase, [a-z0-9_] kept, others '_', at most 63 bytes. */
void sl_cdc_object_name(const char *stream, char *buf, size_t size);

static inline void sl_cdc_close(sl_cdc_t *c)
{
    if (c)
        c->ops->close(c);
}

#endif
