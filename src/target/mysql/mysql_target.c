/*
 * mysql_target.c: the MariaDB/MySQL target ops (target.h): connection, batch
 * transactions and the `_sluice_checkpoint` table that commits with each batch.
 * Tables live in the URL's database (the session's default database), so every
 * statement names them unqualified.
 *
 * Foreign key checks are off for the whole session: lanes load tables in any
 * order; finish_fkeys turns them on while it adds (and so validates) the keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "target/mysql/mysql_target.h"

#define SQL_MAX (1u << 20)
#define CKPT "`_sluice_checkpoint`"

static int my_connect(const sl_url_t *url, sl_target_t **out, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = calloc(1, sizeof *tgt);
    if (!tgt)
        return sl_err_set(err, SL_E_LIMIT, "out of memory opening a MySQL target");
    if (sl_mysql_connect(url, &tgt->my, err)) {
        free(tgt);
        return -1;
    }
    /* READ COMMITTED: a lane's SELECT ... FOR UPDATE of a checkpoint row that does
     * not exist yet would otherwise take a gap lock, and lanes inserting their
     * first checkpoints into the same gap deadlock. Each lane owns its keys, so
     * gap locks protect nothing here. */
    if (sl_mysql_exec(&tgt->my, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", err) ||
        sl_mysql_exec(&tgt->my, "SET SESSION foreign_key_checks = 0", err)) {
        sl_mysql_close(&tgt->my);
        free(tgt);
        return -1;
    }
    sl_buf_init(&tgt->stmt, tgt->my.max_packet);
    sl_buf_init(&tgt->row, tgt->my.max_packet);
    tgt->base.ops = &sl_mysql_target_ops;
    *out = &tgt->base;
    return 0;
}

static void my_close(sl_target_t *base)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if (!tgt)
        return;
    sl_mysql_apply_free(tgt->apply);
    sl_mysql_close(&tgt->my);
    sl_buf_free(&tgt->stmt);
    sl_buf_free(&tgt->row);
    free(tgt);
}

/* Runs sql built in b and frees b. */
static int exec_buf(sl_mysql_tgt_t *tgt, sl_buf_t *b, int built, sl_err_t *err)
{
    int rc = built ? -1 : sl_mysql_exec(&tgt->my, b->data, err);
    sl_buf_free(b);
    return rc;
}

static int my_ckpt_setup(sl_target_t *base, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if (sl_mysql_exec(&tgt->my,
                      "CREATE TABLE IF NOT EXISTS " CKPT " ("
                      "stream varchar(191) NOT NULL, `key` varchar(191) NOT NULL, "
                      "epoch bigint NOT NULL, seq bigint NOT NULL, position longtext, "
                      "done tinyint(1) NOT NULL DEFAULT 0, "
                      "updated_at timestamp(6) NOT NULL DEFAULT current_timestamp(6), "
                      "PRIMARY KEY (stream, `key`)"
                      ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin",
                      err)) {
        char u[300];
        if (err && err->code == SL_E_PRIVILEGE)
            sl_err_hint(err, "GRANT CREATE, INSERT, UPDATE, DELETE, SELECT, DROP, INDEX, ALTER, "
                             "REFERENCES ON `%s`.* TO %s",
                        tgt->my.database, sl_mysql_account(tgt->my.account, u, sizeof u));
        sl_err_prefix(err, "checkpoint table: ");
        return -1;
    }
    return 0;
}

static int my_table_state(sl_target_t *base, const sl_table_t *t, bool *exists, bool *has_rows,
                          sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    *exists = *has_rows = false;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    char *v = NULL;
    int rc = -1;
    if (sl_buf_adds(&b, "SELECT COUNT(*) FROM information_schema.TABLES "
                        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ", err) ||
        sl_mysql_add_string(&b, t->name, strlen(t->name), err) ||
        sl_mysql_query_value(&tgt->my, b.data, &v, err))
        goto out;
    *exists = v && strcmp(v, "0") != 0;
    free(v);
    v = NULL;
    if (*exists) {
        sl_buf_reset(&b);
        if (sl_buf_adds(&b, "SELECT 1 FROM ", err) || sl_mysql_add_ident(&b, t->name, err) ||
            sl_buf_adds(&b, " LIMIT 1", err) || sl_mysql_query_value(&tgt->my, b.data, &v, err))
            goto out;
        *has_rows = v != NULL;
    }
    rc = 0;
out:
    free(v);
    sl_buf_free(&b);
    if (rc)
        sl_err_prefix(err, "table \"%s\": ", t->name);
    return rc;
}

/* "<verb> `t`" for TRUNCATE TABLE and DELETE FROM. */
static int table_stmt(sl_target_t *base, const char *verb, const sl_table_t *t, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int built = sl_buf_adds(&b, verb, err) || sl_mysql_add_ident(&b, t->name, err);
    if (exec_buf(tgt, &b, built, err)) {
        sl_err_prefix(err, "table \"%s\": ", t->name);
        return -1;
    }
    return 0;
}

static int my_truncate_table(sl_target_t *base, const sl_table_t *t, sl_err_t *err)
{
    return table_stmt(base, "TRUNCATE TABLE ", t, err);
}

static int my_drop_table(sl_target_t *base, const sl_table_t *t, sl_err_t *err)
{
    return table_stmt(base, "DROP TABLE IF EXISTS ", t, err);
}

static int my_delete_all(sl_target_t *base, const sl_table_t *t, sl_err_t *err)
{
    return table_stmt(base, "DELETE FROM ", t, err);
}

static int my_begin(sl_target_t *base, sl_err_t *err)
{
    return sl_mysql_exec(&((sl_mysql_tgt_t *)base)->my, "START TRANSACTION", err);
}

static void my_rollback(sl_target_t *base);

static int my_commit(sl_target_t *base, sl_err_t *err)
{
    if (sl_mysql_apply_flush((sl_mysql_tgt_t *)base, err)) {
        my_rollback(base); /* a held change failed */
        return -1;
    }
    return sl_mysql_exec(&((sl_mysql_tgt_t *)base)->my, "COMMIT", err);
}

static void my_rollback(sl_target_t *base)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    sl_mysql_apply_flush(tgt, NULL); /* held changes of a failed batch: dropped */
    sl_err_t ignored;
    /* A lost connection rolls back by itself; nothing more to do then. */
    if (tgt->my.db)
        sl_mysql_exec(&tgt->my, "ROLLBACK", &ignored);
}

/* Appends "stream = '<s>'" [AND `key` = '<k>']. */
static int add_ckpt_where(sl_buf_t *b, const char *stream, const char *key, sl_err_t *err)
{
    if (sl_buf_adds(b, " WHERE stream = ", err) ||
        sl_mysql_add_string(b, stream, strlen(stream), err))
        return -1;
    if (key && (sl_buf_adds(b, " AND `key` = ", err) || sl_mysql_add_string(b, key, strlen(key), err)))
        return -1;
    return 0;
}

/* Fills ck from a row of (epoch, seq, position, done). */
static void read_ckpt(MYSQL_ROW row, sl_ckpt_t *ck)
{
    ck->epoch = row[0] ? strtoll(row[0], NULL, 10) : 0;
    ck->seq = row[1] ? strtoll(row[1], NULL, 10) : 0;
    ck->position = row[2] ? sl_strdup(row[2]) : NULL;
    ck->done = row[3] && strcmp(row[3], "0") != 0;
}

static int my_ckpt_get(sl_target_t *base, const char *stream, const char *key, sl_ckpt_t *ck,
                       bool *found, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    memset(ck, 0, sizeof *ck);
    *found = false;
    if (sl_mysql_apply_flush(tgt, err))
        return -1;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    MYSQL_RES *res = NULL;
    int rc = -1;
    if (sl_buf_adds(&b, "SELECT epoch, seq, position, done FROM " CKPT, err) ||
        add_ckpt_where(&b, stream, key, err) || sl_buf_adds(&b, " FOR UPDATE", err) ||
        sl_mysql_query(&tgt->my, b.data, &res, err))
        goto out;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row) {
        read_ckpt(row, ck);
        *found = true;
    }
    rc = 0;
out:
    if (res)
        mysql_free_result(res);
    sl_buf_free(&b);
    return rc;
}

/* The epoch of stream's fence into *epoch (0: none), read under a shared lock (which a
 * raise waits for) when share. */
static int fence_epoch(sl_mysql_tgt_t *tgt, const char *stream, bool share, int64_t *epoch, sl_err_t *err)
{
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    MYSQL_RES *res = NULL;
    int rc = -1;
    *epoch = 0;
    if (sl_buf_adds(&b, "SELECT epoch FROM " CKPT, err) || add_ckpt_where(&b, stream, SL_CKPT_FENCE, err) ||
        sl_buf_adds(&b, share ? " LOCK IN SHARE MODE" : "", err) || sl_mysql_query(&tgt->my, b.data, &res, err))
        goto out;
    MYSQL_ROW row = mysql_fetch_row(res);
    if (row && row[0])
        *epoch = strtoll(row[0], NULL, 10);
    rc = 0;
out:
    if (res)
        mysql_free_result(res);
    sl_buf_free(&b);
    return rc;
}

/* A fenced write (target.h): the fence is read under a shared lock first; a raise (key
 * "fence") never lowers it, and its upsert's exclusive lock waits for the writes in
 * flight under the old one. */
static int my_ckpt_put(sl_target_t *base, const char *stream, const char *key,
                       const sl_ckpt_t *ck, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    if (sl_mysql_apply_flush(tgt, err))
        return -1;
    bool raise = !strcmp(key, SL_CKPT_FENCE);
    int64_t theirs = 0;
    if (!raise && base->fence > 0) {
        if (fence_epoch(tgt, stream, true, &theirs, err))
            return -1;
        if (theirs > base->fence)
            return sl_target_fenced(err, stream, key, base->fence, theirs);
    }
    sl_buf_t b;
    sl_buf_init(&b, tgt->my.max_packet);
    int built =
        sl_buf_adds(&b, "INSERT INTO " CKPT " (stream, `key`, epoch, seq, position, done) VALUES (",
                    err) ||
        sl_mysql_add_string(&b, stream, strlen(stream), err) || sl_buf_adds(&b, ", ", err) ||
        sl_mysql_add_string(&b, key, strlen(key), err) ||
        sl_buf_printf(&b, err, ", %lld, %lld, ", (long long)ck->epoch, (long long)ck->seq) ||
        (ck->position ? sl_mysql_add_string(&b, ck->position, strlen(ck->position), err)
                      : sl_buf_adds(&b, "NULL", err)) ||
        sl_buf_printf(&b, err, ", %d) ON DUPLICATE KEY UPDATE ", ck->done ? 1 : 0) ||
        sl_buf_adds(&b,
                    raise ? "epoch = GREATEST(epoch, VALUES(epoch)), updated_at = current_timestamp(6)"
                          : "epoch = VALUES(epoch), seq = VALUES(seq), position = VALUES(position), "
                            "done = VALUES(done), updated_at = current_timestamp(6)",
                    err);
    if (exec_buf(tgt, &b, built, err)) {
        sl_err_prefix(err, "checkpoint \"%s\": ", key);
        return -1;
    }
    if (!raise)
        return 0;
    if (fence_epoch(tgt, stream, false, &theirs, err))
        return -1;
    return theirs > ck->epoch ? sl_target_fenced(err, stream, key, ck->epoch, theirs) : 0;
}

/* Whether the checkpoint table exists. A target no load has written to yet has none,
 * and listing or deleting its checkpoints then finds nothing rather than failing:
 * the table is created only once a fresh load has passed its checks. */
static int ckpt_exists(sl_mysql_tgt_t *tgt, bool *exists, sl_err_t *err)
{
    char *v = NULL;
    if (sl_mysql_query_value(&tgt->my,
                             "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = "
                             "DATABASE() AND TABLE_NAME = '_sluice_checkpoint'",
                             &v, err))
        return -1;
    *exists = v && strcmp(v, "0") != 0;
    free(v);
    return 0;
}

static int my_ckpt_list(sl_target_t *base, const char *stream, sl_ckpt_fn fn, void *ctx,
                        sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    bool exists = false;
    if (ckpt_exists(tgt, &exists, err))
        return -1;
    if (!exists)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    MYSQL_RES *res = NULL;
    int rc = -1;
    if (sl_buf_adds(&b, "SELECT epoch, seq, position, done, `key` FROM " CKPT, err) ||
        add_ckpt_where(&b, stream, NULL, err) || sl_buf_adds(&b, " ORDER BY `key`", err) ||
        sl_mysql_query(&tgt->my, b.data, &res, err))
        goto out;
    MYSQL_ROW row;
    rc = 0;
    while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
        sl_ckpt_t ck = {0};
        read_ckpt(row, &ck);
        rc = fn(ctx, row[4], &ck, err);
        sl_ckpt_clear(&ck);
    }
out:
    if (res)
        mysql_free_result(res);
    sl_buf_free(&b);
    return rc;
}

static int my_ckpt_delete(sl_target_t *base, const char *stream, sl_err_t *err)
{
    sl_mysql_tgt_t *tgt = (sl_mysql_tgt_t *)base;
    bool exists = false;
    if (ckpt_exists(tgt, &exists, err))
        return -1;
    if (!exists)
        return 0;
    sl_buf_t b;
    sl_buf_init(&b, SQL_MAX);
    int built = sl_buf_adds(&b, "DELETE FROM " CKPT, err) || add_ckpt_where(&b, stream, NULL, err);
    return exec_buf(tgt, &b, built, err);
}

/* The pure checks of the MariaDB target's mapping (a connection adds nothing to them). */
static int mysql_refuses(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, const sl_value_t *v,
                         sl_refusal_t *r)
{
    (void)tgt;
    return sl_mysql_refuses(t, c, v, r);
}

static int mysql_may_refuse(const sl_target_t *tgt, const sl_table_t *t, const sl_column_t *c, sl_refusal_t *r)
{
    (void)tgt;
    return sl_mysql_may_refuse(t, c, r);
}

const struct sl_target_ops sl_mysql_target_ops = {
    .name = "mysql",
    .connect = my_connect,
    .close = my_close,
    .ckpt_setup = my_ckpt_setup,
    .table_state = my_table_state,
    .create_table = sl_mysql_tgt_create_table,
    .truncate_table = my_truncate_table,
    .drop_table = my_drop_table,
    .finish_table = sl_mysql_tgt_finish_table,
    .finish_fkeys = sl_mysql_tgt_finish_fkeys,
    .begin = my_begin,
    .commit = my_commit,
    .rollback = my_rollback,
    .ckpt_get = my_ckpt_get,
    .ckpt_put = my_ckpt_put,
    .ckpt_list = my_ckpt_list,
    .ckpt_delete = my_ckpt_delete,
    .write_rows = sl_mysql_tgt_write_rows,
    .delete_all = my_delete_all,
    .apply_changes = sl_mysql_tgt_apply_changes,
    .add_column = sl_mysql_tgt_add_column,
    .drop_column = sl_mysql_tgt_drop_column,
    .rejects_setup = sl_mysql_rejects_setup,
    .rejects_write = sl_mysql_rejects_write,
    .rejects_find = sl_mysql_rejects_find,
    .savepoint = sl_mysql_savepoint,
    .create_sql = sl_mysql_create_sql_op,
    .refuses = mysql_refuses,
    .may_refuse = mysql_may_refuse,
    .generated = sl_mysql_generated,
};
