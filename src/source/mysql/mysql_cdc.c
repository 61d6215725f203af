/*
 * mysql_cdc.c: MariaDB/MySQL change data capture (source/cdc.h) from the binary log,
 * read as a replica with COM_BINLOG_DUMP through MariaDB Connector/C's mariadb_rpl
 * (transport only: every event is decoded by source/mysql/binlog.h). This file: the
 * ops table, the connection, the replica server id, positions and the recorded state;
 * mysql_cdc.h lists the others.
 *
 * Positions come in two kinds (gtid.h), fixed per stream by its first position: binlog
 * file and offset, or a MariaDB GTID of one domain. The server keeps no position for a
 * replica: the engine keeps it in the target's checkpoints and says where to start
 * (start(): the lowest position the lane checkpoints may confirm). They print as the
 * server writes them: "mysql-bin.000003:1234" (the binlog's base name is the server's
 * log_bin basename, read with SHOW MASTER STATUS on the first run and at every session
 * start, and recorded in the stream's state) and "GTID 0-11-500" (the server id of a
 * GTID is the one seen in the binlog, or in @@gtid_binlog_state at the session start;
 * "x" when neither told it).
 *
 * The replica server id: two binlog dumps with one server id make the server end the
 * older one (error 4052), so every stream has its own: derived from the exact stream
 * name (FNV-1a into 100000..3999999999, clear of the small ids servers get), recorded
 * in the state at the hand-over and kept from then on. The dump registers as replica
 * "sluice:<stream>" (SHOW SLAVE HOSTS), so that a run can tell another run of the same
 * stream (it waits and retries) from another stream or replica that has its id (an
 * error with a hint), before it connects and knocks that one off.
 *
 * State: {"server_id": N, "binlog": "<base name>", "digits": D}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/log.h"
#include "core/mem.h"
#include "source/mysql/mysql_cdc.h"

#if MARIADB_PACKAGE_VERSION_ID < 30305
#error "MariaDB Connector/C 3.3.5 or later is needed (mariadb_rpl raw event data)"
#endif

#define ARENA_MAX (1u << 30)

const struct sl_cdc_ops sl_mysql_cdc_ops;

/* ---- positions ---------------------------------------------------------------- */

int sl_my_cdc_parse_file(const char *name, size_t n, char *base, size_t size, uint32_t *num, int *digits)
{
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '.')
            dot = name + i;
    if (!dot || dot == name || (size_t)(dot - name) >= size)
        return -1;
    uint64_t v = 0;
    int d = 0;
    for (const char *s = dot + 1; s < name + n; s++, d++) {
        if (*s < '0' || *s > '9' || d > 9)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (d == 0 || v > UINT32_MAX)
        return -1;
    if (base) {
        memcpy(base, name, (size_t)(dot - name));
        base[dot - name] = '\0';
    }
    *num = (uint32_t)v;
    if (digits)
        *digits = d;
    return 0;
}

void sl_my_cdc_writer(sl_my_cdc_t *c, uint64_t seq, uint32_t id)
{
    if (c->nwriters && c->writers[c->nwriters - 1].id == id)
        return;
    if (c->nwriters == SL_MY_CDC_WRITERS) {
        memmove(c->writers, c->writers + 1, sizeof c->writers[0] * (SL_MY_CDC_WRITERS - 1));
        c->nwriters--;
    }
    c->writers[c->nwriters].seq = seq;
    c->writers[c->nwriters++].id = id;
}

void sl_my_cdc_pos_text(sl_my_cdc_t *c, uint64_t pos, char *buf, size_t size)
{
    if (!sl_my_pos_is_gtid(pos)) {
        sl_my_pos_text(pos, c->base_name, c->digits, buf, size);
        return;
    }
    uint64_t seq = sl_my_pos_seq(pos);
    int w = -1;
    for (int i = 0; i < c->nwriters; i++)
        if (c->writers[i].seq <= seq)
            w = i;
    if (w < 0) {
        sl_my_pos_text(pos, NULL, 0, buf, size);
        return;
    }
    snprintf(buf, size, "GTID %" PRIu32 "-%" PRIu32 "-%" PRIu64, sl_my_pos_domain(pos), c->writers[w].id, seq);
}

static void my_pos_format(sl_cdc_t *base, uint64_t pos, char *buf, size_t size)
{
    sl_my_cdc_pos_text((sl_my_cdc_t *)base, pos, buf, size);
}

static int my_pos_parse(const char *text, uint64_t *pos)
{
    return sl_my_pos_parse(text, pos);
}

/* ---- open / close ------------------------------------------------------------- */

static uint32_t derive_server_id(const char *stream)
{
    uint32_t h = 2166136261u;
    for (const char *s = stream ? stream : ""; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return 100000u + h % (4000000000u - 100000u);
}

static int from_state(sl_my_cdc_t *c, const char *state, sl_err_t *err)
{
    json_error_t je;
    json_t *j = json_loads(state, 0, &je);
    json_t *id = json_object_get(j, "server_id"), *digits = json_object_get(j, "digits");
    const char *bin = json_string_value(json_object_get(j, "binlog"));
    int rc = 0;
    if (json_is_integer(id) && json_integer_value(id) > 0 && json_integer_value(id) <= UINT32_MAX) {
        c->server_id = (uint32_t)json_integer_value(id);
        if (bin && strlen(bin) < sizeof c->base_name)
            snprintf(c->base_name, sizeof c->base_name, "%s", bin);
        if (json_is_integer(digits) && json_integer_value(digits) > 0 && json_integer_value(digits) <= 10)
            c->digits = (int)json_integer_value(digits);
    } else {
        rc = sl_cdc_bad_state(c->stream, state, "a replica server id", err);
    }
    json_decref(j);
    return rc;
}

static int my_open(const char *url, const sl_cdc_id_t *id, sl_cdc_t **out, sl_err_t *err)
{
    sl_my_cdc_t *c = calloc(1, sizeof *c);
    if (!c)
        sl_oom();
    c->base.ops = &sl_mysql_cdc_ops;
    snprintf(c->stream, sizeof c->stream, "%s", id->stream ? id->stream : "");
    snprintf(c->label, sizeof c->label, "sluice:%.53s", c->stream); /* 60: older servers' report_host */
    c->server_id = derive_server_id(c->stream);
    c->url_text = sl_strdup(url);
    if ((id->state && from_state(c, id->state, err)) || sl_url_parse(url, &c->url, err) ||
        sl_my_posmode_parse(c->url, &c->posmode, err) || sl_mysql_connect(c->url, &c->my, err)) {
        sl_url_free(c->url);
        free(c->url_text);
        free(c);
        return -1;
    }
    sl_buf_init(&c->arena_old, ARENA_MAX);
    sl_buf_init(&c->arena_new, ARENA_MAX);
    *out = &c->base;
    return 0;
}

static void my_close(sl_cdc_t *base)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    if (!c)
        return;
    sl_my_cdc_tmaps_clear(c);
    sl_my_cdc_rows_free(c);
    sl_mysql_close(&c->my);
    sl_url_free(c->url);
    free(c->url_text);
    free(c);
}

const char *sl_my_cdc_db(const sl_my_cdc_t *c, const sl_table_t *t)
{
    return t->schema && t->schema[0] ? t->schema : c->my.database;
}

/* ---- what a stream has on the server: nothing but its replica server id ----------- */

/* The binlog's base name, for printing file positions. */
static int learn_base_name(sl_my_cdc_t *c, sl_err_t *err)
{
    char file[512];
    uint32_t off, num;
    if (sl_my_cdc_master_status(c, file, sizeof file, &off, err))
        return -1;
    if (sl_my_cdc_parse_file(file, strlen(file), c->base_name, sizeof c->base_name, &num, &c->digits))
        return sl_err_set(err, SL_E_PROTOCOL, "unexpected binlog file name \"%s\"", file);
    return 0;
}

/* Nothing to create: the stream starts at the position of a snapshot taken now. */
static int my_prepare(sl_cdc_t *base, sl_table_t *const *tables, int n, sl_cdc_prep_t *prep, sl_err_t *err)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    memset(prep, 0, sizeof *prep);
    return sl_my_cdc_check(base, tables, n, err) || learn_base_name(c, err) || sl_my_cdc_here(c, &prep->start, err)
               ? -1
               : 0;
}

static char *my_state(sl_cdc_t *base)
{
    sl_my_cdc_t *c = (sl_my_cdc_t *)base;
    json_t *j = json_pack("{s:I}", "server_id", (json_int_t)c->server_id);
    if (c->base_name[0]) {
        json_object_set_new(j, "binlog", json_string(c->base_name));
        json_object_set_new(j, "digits", json_integer(c->digits));
    }
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s)
        sl_oom();
    return s;
}

static int my_forget(sl_cdc_t *base, const sl_cdc_mark_t *mark, sl_err_t *err)
{
    (void)base, (void)mark, (void)err;
    return 0;
}

const struct sl_cdc_ops sl_mysql_cdc_ops = {
    .name = "mysql",
    .byte_positions = false,
    .open = my_open,
    .close = my_close,
    .check = sl_my_cdc_check,
    .prepare = my_prepare,
    .state = my_state,
    .start = sl_my_cdc_start,
    .forget = my_forget,
    .pos_format = my_pos_format,
    .pos_parse = my_pos_parse,
    .stream = sl_my_cdc_stream,
    .pos_next = sl_my_cdc_pos_next,
    .snap_take = sl_my_cdc_snap_take,
    .snap_done = sl_my_cdc_snap_done,
    .ping = sl_my_cdc_ping,
    .publish = sl_my_cdc_publish,
    .key_ordered = sl_my_cdc_key_ordered,
};
