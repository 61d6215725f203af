/*
 * mysql_cdc_copy.c: what copying a table beside a MariaDB/MySQL change stream needs of
 * the source (source/cdc.h; engine/cdc_copy.c says how the copy works).
 *
 * A chunk is read in a consistent snapshot on a plain connection of the snapshot side
 * (mysql_source.h sl_mysql_src_copy_snapshot). MariaDB reports the snapshot's exact
 * binlog position (Binlog_snapshot_file/position): every transaction before it is in the
 * snapshot, none after, so that position is a watermark in itself and nothing is written
 * to the server. In a stream with GTID positions it is turned into the GTID of the last
 * transaction the snapshot holds (BINLOG_GTID_POS), whose successor is the first one it
 * does not see. The binlog holds every table, so adding one to the stream needs nothing
 * on the server.
 *
 * A key is ordered the way sl_cdc_key_cmp() compares when every key column is a number,
 * or text in a binary collation without pad (`binary`, `*_nopad_bin`): a PAD SPACE
 * collation compares 'a' above 'a\tb', bytes compare it below.
 *
 * Thread: the reader's.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "source/mysql/mysql_cdc.h"
#include "source/mysql/mysql_source.h"

uint64_t sl_my_cdc_pos_next(uint64_t end)
{
    /* a GTID position is the transaction's own; a file position is where the next
     * event group starts */
    return sl_my_pos_is_gtid(end) ? end + 1 : end;
}

int sl_my_cdc_snap_take(sl_cdc_t *base, sl_source_t *src, sl_cdc_snap_t *snap, sl_err_t *err)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    memset(snap, 0, sizeof *snap);
    uint64_t pos;
    if (sl_mysql_src_copy_snapshot(src, &pos, err)) {
        sl_err_prefix(err, "could not take a snapshot to copy in: ");
        return -1;
    }
    if (c->gtid) {
        char file[512];
        snprintf(file, sizeof file, "%s.%0*" PRIu32, c->base_name, c->digits, (uint32_t)(pos >> 32));
        if (sl_my_gtid_at(&c->my, file, (uint32_t)pos, c->domain, &pos, err)) {
            sl_mysql_exec(&((sl_mysql_src_t *)src)->my, "ROLLBACK", NULL);
            return -1;
        }
    }
    snap->below = snap->horizon = sl_my_cdc_pos_next(pos);
    return 0;
}

int sl_my_cdc_snap_done(sl_cdc_t *base, sl_source_t *src, sl_err_t *err)
{
    (void)base;
    return sl_mysql_exec(&((sl_mysql_src_t *)src)->my, "COMMIT", err);
}

int sl_my_cdc_ping(sl_cdc_t *base, sl_err_t *err)
{
    (void)base, (void)err;
    return 0; /* the dump waits for us (net_write_timeout, mysql_cdc_stream.c) */
}

int sl_my_cdc_publish(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_table_t *const *gone, int ngone,
                      sl_err_t *err)
{
    (void)base, (void)tables, (void)n, (void)gone, (void)ngone, (void)err;
    return 0;
}

int sl_my_cdc_key_ordered(sl_cdc_t *base, sl_source_t *src, const sl_table_t *t, bool *ordered, sl_err_t *err)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    sl_mysql_t *my = &((sl_mysql_src_t *)src)->my;
    *ordered = false;
    sl_buf_t b;
    sl_buf_init(&b, 4096);
    const char *db = sl_my_cdc_db(c, t);
    char *v = NULL;
    int rc = sl_buf_adds(&b, "SELECT CONCAT(COUNT(*), ':', SUM(c.DATA_TYPE IN ('tinyint', 'smallint', 'mediumint',"
                             " 'int', 'bigint', 'decimal') OR (c.DATA_TYPE IN ('char', 'varchar') AND"
                             " (c.COLLATION_NAME = 'binary' OR c.COLLATION_NAME LIKE '%\\_nopad\\_bin'))))"
                             " FROM information_schema.STATISTICS s JOIN information_schema.COLUMNS c"
                             " ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME"
                             " AND c.COLUMN_NAME = s.COLUMN_NAME WHERE s.INDEX_NAME = 'PRIMARY' AND s.TABLE_SCHEMA = ",
                         err) ||
             sl_mysql_add_string(&b, db, strlen(db), err) || sl_buf_adds(&b, " AND s.TABLE_NAME = ", err) ||
             sl_mysql_add_string(&b, t->name, strlen(t->name), err) || sl_mysql_query_value(my, b.data, &v, err);
    sl_buf_free(&b);
    if (rc)
        return -1;
    int all = -1, good = -2;
    if (v && sscanf(v, "%d:%d", &all, &good) == 2)
        *ordered = all > 0 && all == good && all == sl_table_pk_count(t);
    free(v);
    return 0;
}

int sl_my_cdc_here(sl_my_cdc_t *c, uint64_t *pos, sl_err_t *err)
{
    sl_source_t *src = NULL;
    bool gtid = false;
    uint32_t domain = 0;
    int rc = sl_my_gtid_mode(&c->my, c->posmode, &gtid, &domain, err) || sl_source_open(c->url_text, &src, err) ||
             sl_mysql_src_copy_snapshot(src, pos, err);
    if (rc == 0 && gtid) {
        char file[512];
        snprintf(file, sizeof file, "%s.%0*" PRIu32, c->base_name, c->digits, (uint32_t)(*pos >> 32));
        rc = sl_my_gtid_at(&c->my, file, (uint32_t)*pos, domain, pos, err);
    }
    sl_source_close(src);
    return rc;
}
