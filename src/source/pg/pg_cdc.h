/*
 * pg_cdc.h: what the files of PostgreSQL change data capture share (not a public
 * interface; source/cdc.h is). They split along the seams every change source has:
 *   pg_cdc.c         the ops table: connection, names, positions, state;
 *   pg_cdc_check.c   the server checks (settings, privileges, replica identity);
 *   pg_cdc_slot.c    what the stream owns on the server: publication and slot
 *                    (prepare, start, forget), and how it tells them from others';
 *   pg_cdc_stream.c  the replication stream: pgoutput messages to change events;
 *   pg_cdc_copy.c    what copying tables beside the stream needs: snapshots, their
 *                    watermarks, publication membership, key order.
 * One replication=database connection does everything; the walsender accepts SQL, but
 * not the extended protocol, so literals are quoted here. Everything runs on the thread
 * that uses the connection.
 */
#ifndef SL_SOURCE_PG_CDC_H
#define SL_SOURCE_PG_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "db/pg/pg.h"
#include "source/cdc.h"
#include "source/pg/pgoutput.h"

#define SL_PG_CDC_SQL_MAX (16u << 20)
#define SL_PG_CDC_NAME_MAX 63 /* NAMEDATALEN - 1 */

/* What we know about one relation the server described with a Relation message. */
typedef struct sl_pg_relmap {
    uint32_t relid;
    int table;               /* index in the stream, -1 when not streamed */
    char **names;            /* the relation's column names, in the server's order */
    int nnames;
    const sl_table_t *t;     /* the description rcol was built for */
    int *rcol;               /* table column i -> relation column, -1 when not sent */
    int nrcol;
    uint32_t *types;         /* the relation's column type OIDs and typmods, to see a */
    int32_t *typmods;        /* type change within a session */
} sl_pg_relmap_t;

typedef struct sl_pg_cdc {
    sl_cdc_t base; /* first: the engine sees a sl_cdc_t */
    sl_pg_t pg;
    char stream[128];               /* the stream's exact name */
    char slot[SL_PG_CDC_NAME_MAX + 1];
    char pub[SL_PG_CDC_NAME_MAX + 1];
    bool legacy;                    /* names of an earlier sluice (sl_pg_cdc_name) */
    bool cut_short;                 /* sl_cdc_id_t: an earlier first run began a load */
    int version;                    /* server_version_num */
    uint64_t pub_xmax;              /* after a publication change: a snapshot that tables
                                       are copied in must not see a transaction older
                                       than this one running (pg_cdc_copy.c) */
    bool no_messages;               /* pg_logical_emit_message() was refused: do without */

    /* stream state, valid inside stream() */
    sl_table_t **tables;
    int ntables;
    const sl_cdc_handler_t *h;
    sl_pgo_msg_t *msg;
    sl_pg_relmap_t *rels;
    int nrels, caprels;
    int last_rel; /* index into rels of the last lookup */
    sl_value_t *row, *old;
    int capvals;
    uint64_t confirmed;  /* highest flush position sent (or the slot's at start) */
    uint64_t server_end; /* last keepalive walEnd */
    bool in_xact;
    bool in_stream;      /* between Stream Start and Stream Stop (protocol 2) */
    uint32_t stream_xid; /* the transaction of the current (or last) stream block */
    uint64_t xact_lsn;
    int64_t commit_us;
    uint32_t idx;
} sl_pg_cdc_t;

/* The state of a replication slot (pg_replication_slots). */
typedef struct sl_pg_slot {
    bool exists;
    bool lost;          /* the server no longer holds the WAL the slot needs */
    bool active;        /* another connection streams from it right now */
    uint64_t confirmed; /* confirmed_flush_lsn */
} sl_pg_slot_t;

/* The name of the slot and of the publication of stream `stream` (at most 63 bytes):
 *   "sluice_" + the name lowercased, other characters '_', cut at 40 bytes, + "_" + the
 *   first 12 hex digits of the SHA-256 of the exact name: names that differ only in case
 *   or punctuation ("Sales-Sync", "sales_sync") get different objects;
 *   legacy: "sluice_" + the name lowercased, other characters '_', cut at 63 bytes, the
 *   name an earlier sluice gave (and which such names shared). */
void sl_pg_cdc_name(const char *stream, bool legacy, char *buf, size_t size);

/* pg_cdc.c */
PGresult *sl_pg_cdc_query(sl_pg_cdc_t *c, const sl_buf_t *sql, sl_err_t *err, const char *what);
int sl_pg_cdc_add_lit(sl_buf_t *b, const char *s, sl_err_t *err);
const char *sl_pg_cdc_schema(const sl_pg_cdc_t *c, const sl_table_t *t);
void sl_pg_cdc_first_line(const char *msg, char *out, size_t size);

/* pg_cdc_check.c: the server's settings and the role's privileges (and a free slot and
 * WAL sender, unless the stream's slot exists); every table replicable. */
int sl_pg_cdc_check_server(sl_pg_cdc_t *c, sl_err_t *err);
int sl_pg_cdc_check_tables(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err);

/* pg_cdc_slot.c: the ops of that name. */
int sl_pg_cdc_slot_state(sl_pg_cdc_t *c, const char *slot, sl_pg_slot_t *st, sl_err_t *err);
int sl_pg_cdc_prepare(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_cdc_prep_t *prep, sl_err_t *err);
int sl_pg_cdc_start(sl_cdc_t *base, const sl_cdc_mark_t *mark, uint64_t *start, sl_err_t *err);
int sl_pg_cdc_forget(sl_cdc_t *base, const sl_cdc_mark_t *mark, sl_err_t *err);
/* Fails (fatal) unless the publication lists every table of the stream. */
int sl_pg_cdc_pub_check(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_err_t *err);
/* The publish op: adds the tables the publication lacks, drops gone; *changed when it
 * altered it. */
int sl_pg_cdc_publish(sl_pg_cdc_t *c, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                      bool *changed, sl_err_t *err);

/* pg_cdc_stream.c */
int sl_pg_cdc_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                     sl_err_t *err);
void sl_pg_cdc_stream_free(sl_pg_cdc_t *c); /* the stream state's buffers */
int sl_pg_cdc_ping(sl_cdc_t *base, sl_err_t *err);

/* pg_cdc_copy.c: the ops of that name */
uint64_t sl_pg_cdc_pos_next(uint64_t end);
int sl_pg_cdc_snap_take(sl_cdc_t *base, sl_source_t *src, sl_cdc_snap_t *snap, sl_err_t *err);
int sl_pg_cdc_snap_done(sl_cdc_t *base, sl_source_t *src, sl_err_t *err);
int sl_pg_cdc_publish_op(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                         sl_err_t *err);
int sl_pg_cdc_key_ordered(sl_cdc_t *base, sl_source_t *src, const sl_table_t *t, bool *ordered, sl_err_t *err);

#endif
