/*
 * mysql_cdc.h: what the files of MariaDB/MySQL change data capture share (not a public
 * interface; source/cdc.h is). They split along the seams every change source has:
 *   mysql_cdc.c         the ops table: connection, replica server id, positions, state;
 *   mysql_cdc_check.c   the server checks (binlog settings, privileges, replicas);
 *   mysql_cdc_stream.c  where a session starts, the binlog dump and its event groups;
 *   mysql_cdc_rows.c    table maps, row events and DDL (mysql_ddl.h) to change events;
 *   mysql_cdc_copy.c    what copying tables beside the stream needs: snapshots at a
 *                       binlog position, key order.
 * Everything runs on the thread that uses the connection.
 */
#ifndef SL_SOURCE_MYSQL_CDC_H
#define SL_SOURCE_MYSQL_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h> /* after mysql.h, which it needs */

#include "core/buf.h"
#include "core/url.h"
#include "db/mysql/mysql_db.h"
#include "source/cdc.h"
#include "source/mysql/binlog.h"
#include "source/mysql/gtid.h"

#define SL_MY_CDC_SQL_MAX (1u << 20)
#define SL_MY_CDC_WRITERS 8 /* GTID server ids remembered for printing positions */

/* A table id the binlog uses, and what it maps to. */
typedef struct sl_my_tmap_ent {
    uint64_t id;
    sl_binlog_tmap_t *tm;
    int table;               /* index in the stream, -1 when not streamed */
    const sl_table_t *t;     /* the description map was built for */
    int *map;                /* table column -> binlog column */
    uint64_t used;           /* for eviction */
} sl_my_tmap_ent_t;

typedef struct sl_my_cdc {
    sl_cdc_t base; /* first: the engine sees a sl_cdc_t */
    sl_url_t *url;
    char *url_text;
    sl_mysql_t my;      /* checks and SHOW MASTER STATUS */
    uint32_t server_id; /* the replica server id of the binlog dump */
    char label[64];     /* how the dump registers (SHOW SLAVE HOSTS' Host): "sluice:<stream>", cut */
    char stream[128];
    sl_my_posmode_t posmode; /* the URL's position= */

    /* how positions print: the binlog's base name ("mysql-bin" of "mysql-bin.000012")
     * and width of its number, and the server ids that wrote the GTIDs seen */
    char base_name[256];
    int digits;
    struct {
        uint64_t seq;   /* from this seq_no of the stream's domain on ... */
        uint32_t id;    /* ... this server wrote the GTIDs */
    } writers[SL_MY_CDC_WRITERS];
    int nwriters;

    /* where the next dump starts (mysql_cdc_stream.c plan()) */
    bool planned;
    uint64_t plan_pos;
    char plan_file[512];
    uint32_t plan_off;
    char plan_gtid[96];

    /* stream state, valid inside stream() */
    sl_mysql_t rep;
    MARIADB_RPL *rpl;
    sl_table_t **tables;
    int ntables;
    const sl_cdc_handler_t *h;
    sl_binlog_fmt_t fmt;
    uint32_t file;       /* current file number */
    bool gtid;           /* positions are GTIDs of `domain` (gtid.h) */
    uint32_t domain;
    uint64_t last_seq;   /* seq_no of the last GTID seen */
    sl_my_tmap_ent_t *tmaps;
    int ntmaps;
    uint64_t tick;
    sl_binlog_cell_t *before, *after;
    sl_value_t *oldv, *newv;
    int capcols, capvals;
    sl_buf_t arena_old, arena_new;
    /* the event group being read */
    bool in_group, saw_begin, begun, standalone;
    uint64_t xact_lsn;
    int64_t commit_us;
    uint32_t idx;
    uint64_t boundary;  /* last position between groups: where a restart may begin */
    int64_t last_confirm_ms;
} sl_my_cdc_t;

/* mysql_cdc.c */
void sl_my_cdc_pos_text(sl_my_cdc_t *c, uint64_t pos, char *buf, size_t size);
/* Remembers that server `id` wrote GTID seq_no `seq` (of the stream's domain). */
void sl_my_cdc_writer(sl_my_cdc_t *c, uint64_t seq, uint32_t id);
/* "mysql-bin.000012" -> base "mysql-bin" (NULL: not wanted), number 12, 6 digits. */
int sl_my_cdc_parse_file(const char *name, size_t n, char *base, size_t size, uint32_t *num, int *digits);
static inline uint64_t sl_my_cdc_pos(uint32_t file, uint32_t off)
{
    return (uint64_t)file << 32 | off;
}
const char *sl_my_cdc_db(const sl_my_cdc_t *c, const sl_table_t *t);

/* mysql_cdc_check.c */
int sl_my_cdc_check(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_err_t *err);
/* Another replica connected with our server id (SHOW SLAVE HOSTS): an error naming it
 * (retriable when it is another run of this stream). */
int sl_my_cdc_check_replicas(sl_my_cdc_t *c, sl_err_t *err);
/* The binlog position of SHOW MASTER STATUS: file name and offset. */
int sl_my_cdc_master_status(sl_my_cdc_t *c, char *file, size_t size, uint32_t *off, sl_err_t *err);

/* mysql_cdc_stream.c */
int sl_my_cdc_start(sl_cdc_t *base, const sl_cdc_mark_t *mark, uint64_t *start, sl_err_t *err);
int sl_my_cdc_stream(sl_cdc_t *base, uint64_t start, sl_table_t **tables, int n, const sl_cdc_handler_t *h,
                     sl_err_t *err);
int sl_my_cdc_emit_change(sl_my_cdc_t *c, sl_change_op_t op, int table, const sl_value_t *row,
                          const sl_value_t *old, sl_err_t *err);

/* mysql_cdc_copy.c: the ops of that name */
uint64_t sl_my_cdc_pos_next(uint64_t end);
int sl_my_cdc_snap_take(sl_cdc_t *base, sl_source_t *src, sl_cdc_snap_t *snap, sl_err_t *err);
int sl_my_cdc_snap_done(sl_cdc_t *base, sl_source_t *src, sl_err_t *err);
int sl_my_cdc_ping(sl_cdc_t *base, sl_err_t *err);
int sl_my_cdc_publish(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                      sl_err_t *err);
int sl_my_cdc_key_ordered(sl_cdc_t *base, sl_source_t *src, const sl_table_t *t, bool *ordered, sl_err_t *err);
/* Where a new stream starts: the binlog position of a consistent snapshot taken now, in
 * the kind of position the stream will keep (a GTID, or file and offset). */
int sl_my_cdc_here(sl_my_cdc_t *c, uint64_t *pos, sl_err_t *err);

/* mysql_cdc_rows.c */
int sl_my_cdc_on_table_map(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err);
int sl_my_cdc_on_rows(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err);
int sl_my_cdc_on_ddl(sl_my_cdc_t *c, const sl_binlog_event_t *ev, sl_err_t *err);
void sl_my_cdc_tmaps_clear(sl_my_cdc_t *c);
void sl_my_cdc_rows_free(sl_my_cdc_t *c); /* the row buffers and arenas */

#endif
