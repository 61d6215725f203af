/*
 * snap.c: stats snapshots and their wire JSON (see snap.h).
 */
#include "monitor/snap.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/clock.h"
#include "model/schema.h" /* sl_strdup */

#define MAX_NAME 512

void sl_snap_init(sl_snap_t *s)
{
    memset(s, 0, sizeof *s);
    strcpy(s->phase, "load");
    s->lag_seconds = -1;
    s->slot_bytes = -1;
}

void sl_snap_clear(sl_snap_t *s)
{
    free(s->stream);
    free(s->id);
    free(s->run);
    free(s->position);
    for (int i = 0; i < s->ntables; i++)
        free(s->tables[i].name);
    free(s->tables);
    sl_snap_init(s);
}

void sl_snap_set(char **field, const char *value)
{
    if (*field && value && strcmp(*field, value) == 0)
        return;
    free(*field);
    *field = value ? sl_strdup(value) : NULL;
}

sl_snap_table_t *sl_snap_append(sl_snap_t *s, const char *name)
{
    if (s->ntables == s->cap) {
        int nc = s->cap ? s->cap * 2 : 8;
        sl_snap_table_t *t = realloc(s->tables, (size_t)nc * sizeof *t);
        if (!t)
            sl_oom();
        s->tables = t;
        s->cap = nc;
    }
    sl_snap_table_t *t = &s->tables[s->ntables++];
    memset(t, 0, sizeof *t);
    t->name = sl_strdup(name);
    t->est_rows = -1;
    t->copied = -1;
    return t;
}

void sl_snap_copy(sl_snap_t *dst, const sl_snap_t *src)
{
    if (dst == src)
        return;
    sl_snap_clear(dst);
    sl_snap_t keep = *dst;
    *dst = *src;
    dst->stream = src->stream ? sl_strdup(src->stream) : NULL;
    dst->id = src->id ? sl_strdup(src->id) : NULL;
    dst->run = src->run ? sl_strdup(src->run) : NULL;
    dst->position = src->position ? sl_strdup(src->position) : NULL;
    dst->tables = keep.tables;
    dst->ntables = 0;
    dst->cap = 0;
    for (int i = 0; i < src->ntables; i++) {
        sl_snap_table_t *t = sl_snap_append(dst, src->tables[i].name);
        char *name = t->name;
        *t = src->tables[i];
        t->name = name;
    }
}

static const sl_snap_table_t *find_table(const sl_snap_t *s, const char *name)
{
    for (int i = 0; i < s->ntables; i++)
        if (strcmp(s->tables[i].name, name) == 0)
            return &s->tables[i];
    return NULL;
}

/* The table called name, appended with zero counters when absent. */
static sl_snap_table_t *table_get(sl_snap_t *s, const char *name)
{
    sl_snap_table_t *t = (sl_snap_table_t *)find_table(s, name);
    return t ? t : sl_snap_append(s, name);
}

void sl_snap_add(sl_snap_t *dst, const sl_snap_t *src)
{
    for (int i = 0; i < src->ntables; i++) {
        const sl_snap_table_t *a = &src->tables[i];
        /* fast path: both list the tables in the same order */
        sl_snap_table_t *t = i < dst->ntables && strcmp(dst->tables[i].name, a->name) == 0
                                 ? &dst->tables[i]
                                 : table_get(dst, a->name);
        t->rows_read += a->rows_read;
        t->rows_written += a->rows_written;
        t->bytes_read += a->bytes_read;
        t->bytes_written += a->bytes_written;
        t->rows_loaded += a->rows_loaded;
        t->changes_read += a->changes_read;
        t->changes_applied += a->changes_applied;
        t->rows_rejected += a->rows_rejected;
        if (a->est_rows >= 0)
            t->est_rows = a->est_rows;
        t->done = a->done;
        if (a->state[0]) { /* a table's state is the latest source's */
            memcpy(t->state, a->state, sizeof t->state);
            memcpy(t->error, a->error, sizeof t->error);
            t->copied = a->copied;
        }
    }
    dst->rows_read += src->rows_read;
    dst->rows_written += src->rows_written;
    dst->bytes_read += src->bytes_read;
    dst->bytes_written += src->bytes_written;
    dst->rows_loaded += src->rows_loaded;
    dst->changes_read += src->changes_read;
    dst->changes_applied += src->changes_applied;
    dst->rows_rejected += src->rows_rejected;
    dst->batches += src->batches;
    dst->redeliveries += src->redeliveries;
    dst->duplicates += src->duplicates;
    dst->errors += src->errors;
    if (src->lag_seconds >= 0)
        dst->lag_seconds = src->lag_seconds;
    if (src->slot_bytes >= 0)
        dst->slot_bytes = src->slot_bytes;
    if (src->position)
        sl_snap_set(&dst->position, src->position);
    dst->truncated = dst->truncated || src->truncated;
}

void sl_snap_sum(sl_snap_t *s)
{
    s->rows_read = s->rows_written = s->bytes_read = s->bytes_written = 0;
    s->rows_loaded = s->changes_read = s->changes_applied = s->rows_rejected = 0;
    for (int i = 0; i < s->ntables; i++) {
        const sl_snap_table_t *t = &s->tables[i];
        s->rows_read += t->rows_read;
        s->rows_written += t->rows_written;
        s->bytes_read += t->bytes_read;
        s->bytes_written += t->bytes_written;
        s->rows_loaded += t->rows_loaded;
        s->changes_read += t->changes_read;
        s->changes_applied += t->changes_applied;
        s->rows_rejected += t->rows_rejected;
    }
}

void sl_snap_kind(sl_snap_t *s, bool changes)
{
    for (int i = 0; i < s->ntables; i++) {
        sl_snap_table_t *t = &s->tables[i];
        /* a change stream's rows copied beside its changes are its loaded rows */
        int64_t copied = changes ? t->rows_copied : 0;
        t->rows_loaded = changes ? copied : t->rows_written;
        t->changes_read = changes ? (t->rows_read > copied ? t->rows_read - copied : 0) : 0;
        t->changes_applied = changes ? (t->rows_written > copied ? t->rows_written - copied : 0) : 0;
    }
}

double sl_snap_mono(void)
{
    return sl_mono_s();
}

double sl_snap_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- encoding ------------------------------------------------------------------- */

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

char *sl_snap_encode(const sl_snap_t *s)
{
    json_t *tables = json_array();
    int n = s->ntables < SL_SNAP_MAX_TABLES ? s->ntables : SL_SNAP_MAX_TABLES;
    for (int i = 0; i < n; i++) {
        const sl_snap_table_t *t = &s->tables[i];
        json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:b}", "name", t->name,
                              "rows_read", (json_int_t)t->rows_read, "rows_written", (json_int_t)t->rows_written,
                              "bytes_read", (json_int_t)t->bytes_read, "bytes_written",
                              (json_int_t)t->bytes_written, "rows_loaded", (json_int_t)t->rows_loaded,
                              "changes_read", (json_int_t)t->changes_read, "changes_applied",
                              (json_int_t)t->changes_applied, "rows_rejected", (json_int_t)t->rows_rejected,
                              "est_rows", t->est_rows >= 0 ? json_integer(t->est_rows) : json_null(), "done",
                              t->done);
        if (t->state[0])
            json_object_set_new(o, "state", json_string(t->state));
        if (t->copied >= 0)
            json_object_set_new(o, "copied", json_integer(t->copied));
        if (t->error[0])
            json_object_set_new(o, "error", json_string(t->error));
        json_array_append_new(tables, o);
    }
    json_t *o = json_pack(
        "{s:i, s:o, s:o, s:o, s:I, s:f, s:f, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:b}",
        "v", 1, "stream", str_or_null(s->stream), "id", str_or_null(s->id), "run", str_or_null(s->run), "seq",
        (json_int_t)s->seq, "t", s->t, "ts", s->ts, "phase", s->phase, "batches", (json_int_t)s->batches,
        "redeliveries", (json_int_t)s->redeliveries, "duplicates_skipped", (json_int_t)s->duplicates, "errors",
        (json_int_t)s->errors, "lag_seconds", s->lag_seconds >= 0 ? json_real(s->lag_seconds) : json_null(),
        "slot_bytes", s->slot_bytes >= 0 ? json_integer(s->slot_bytes) : json_null(), "position",
        str_or_null(s->position), "totals", "rows_read", (json_int_t)s->rows_read, "rows_written",
        (json_int_t)s->rows_written, "bytes_read", (json_int_t)s->bytes_read, "bytes_written",
        (json_int_t)s->bytes_written, "rows_loaded", (json_int_t)s->rows_loaded, "changes_read",
        (json_int_t)s->changes_read, "changes_applied", (json_int_t)s->changes_applied, "rows_rejected",
        (json_int_t)s->rows_rejected, "tables", tables, "tables_truncated", s->truncated || n < s->ntables);
    if (!o)
        sl_oom(); /* only a bad format string or no memory gets here */
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!text)
        sl_oom();
    return text;
}

/* ---- decoding ------------------------------------------------------------------- */

static int bad(sl_err_t *err, const char *field)
{
    sl_err_set(err, SL_E_PROTOCOL, "stats snapshot: field \"%s\" is missing or invalid", field);
    sl_err_hint(err, "only sluice processes of the same version should publish on sluice.stats.>");
    return -1;
}

static int get_count(const json_t *o, const char *key, int64_t *out, sl_err_t *err)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(err, key);
    *out = json_integer_value(v);
    return 0;
}

/* A counter a snapshot may leave out (0 then). */
static int get_count0(const json_t *o, const char *key, int64_t *out, sl_err_t *err)
{
    if (!json_object_get(o, key)) {
        *out = 0;
        return 0;
    }
    return get_count(o, key, out, err);
}

/* The counters added after version 1 was first published (rows_loaded, changes_read,
 * changes_applied, rows_rejected) of a table or the totals. */
static int get_kinds(const json_t *o, int64_t *loaded, int64_t *cread, int64_t *capplied, int64_t *rejected,
                     sl_err_t *err)
{
    return get_count0(o, "rows_loaded", loaded, err) || get_count0(o, "changes_read", cread, err) ||
                   get_count0(o, "changes_applied", capplied, err) || get_count0(o, "rows_rejected", rejected, err)
               ? -1
               : 0;
}

/* An optional non-negative integer: null or absent is -1. */
static int get_opt_count(const json_t *o, const char *key, int64_t *out, sl_err_t *err)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        *out = -1;
        return 0;
    }
    return get_count(o, key, out, err);
}

static int get_str(const json_t *o, const char *key, bool optional, char **out, sl_err_t *err)
{
    const json_t *v = json_object_get(o, key);
    if (optional && (!v || json_is_null(v)))
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > MAX_NAME ||
        strlen(json_string_value(v)) != json_string_length(v))
        return bad(err, key);
    *out = sl_strdup(json_string_value(v));
    return 0;
}

static bool valid_stream_name(const char *s)
{
    if (!*s || strlen(s) > 100)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '_'))
            return false;
    return true;
}

static int decode_table(const json_t *o, sl_snap_t *s, sl_err_t *err)
{
    char *name = NULL;
    if (!json_is_object(o))
        return bad(err, "tables");
    if (get_str(o, "name", false, &name, err))
        return -1;
    sl_snap_table_t *t = sl_snap_append(s, name);
    free(name);
    const json_t *done = json_object_get(o, "done");
    if (get_count(o, "rows_read", &t->rows_read, err) || get_count(o, "rows_written", &t->rows_written, err) ||
        get_count(o, "bytes_read", &t->bytes_read, err) ||
        get_count(o, "bytes_written", &t->bytes_written, err) || get_opt_count(o, "est_rows", &t->est_rows, err) ||
        get_kinds(o, &t->rows_loaded, &t->changes_read, &t->changes_applied, &t->rows_rejected, err))
        return -1;
    if (!json_is_boolean(done))
        return bad(err, "done");
    t->done = json_is_true(done);
    const json_t *state = json_object_get(o, "state"), *error = json_object_get(o, "error");
    if (state && (!json_is_string(state) || json_string_length(state) >= sizeof t->state))
        return bad(err, "state");
    if (error && !json_is_string(error))
        return bad(err, "error");
    if (get_opt_count(o, "copied", &t->copied, err))
        return -1;
    snprintf(t->state, sizeof t->state, "%s", state ? json_string_value(state) : "");
    snprintf(t->error, sizeof t->error, "%s", error ? json_string_value(error) : "");
    return 0;
}

static int decode(const json_t *o, sl_snap_t *s, sl_err_t *err)
{
    if (!json_is_object(o))
        return sl_err_set(err, SL_E_PROTOCOL, "stats snapshot: not a JSON object");
    const json_t *v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return bad(err, "v");
    if (get_str(o, "stream", false, &s->stream, err))
        return -1;
    if (!valid_stream_name(s->stream))
        return bad(err, "stream");
    if (get_str(o, "id", true, &s->id, err) || get_str(o, "run", false, &s->run, err) ||
        get_count(o, "seq", &s->seq, err))
        return -1;
    const json_t *t = json_object_get(o, "t"), *ts = json_object_get(o, "ts");
    if (!json_is_number(t) || json_number_value(t) < 0)
        return bad(err, "t");
    if (!json_is_number(ts) || json_number_value(ts) < 0)
        return bad(err, "ts");
    s->t = json_number_value(t);
    s->ts = json_number_value(ts);
    const char *phase = json_string_value(json_object_get(o, "phase"));
    if (!phase || (strcmp(phase, "load") && strcmp(phase, "cdc") && strcmp(phase, "done")))
        return bad(err, "phase");
    strcpy(s->phase, phase);
    if (get_count(o, "batches", &s->batches, err) || get_count(o, "redeliveries", &s->redeliveries, err) ||
        get_count(o, "duplicates_skipped", &s->duplicates, err) || get_count(o, "errors", &s->errors, err) ||
        get_opt_count(o, "slot_bytes", &s->slot_bytes, err) || get_str(o, "position", true, &s->position, err))
        return -1;
    const json_t *lag = json_object_get(o, "lag_seconds");
    if (json_is_number(lag) && json_number_value(lag) >= 0)
        s->lag_seconds = json_number_value(lag);
    else if (lag && !json_is_null(lag))
        return bad(err, "lag_seconds");
    const json_t *tot = json_object_get(o, "totals");
    if (!json_is_object(tot))
        return bad(err, "totals");
    if (get_count(tot, "rows_read", &s->rows_read, err) || get_count(tot, "rows_written", &s->rows_written, err) ||
        get_count(tot, "bytes_read", &s->bytes_read, err) ||
        get_count(tot, "bytes_written", &s->bytes_written, err) ||
        get_kinds(tot, &s->rows_loaded, &s->changes_read, &s->changes_applied, &s->rows_rejected, err))
        return -1;
    const json_t *tables = json_object_get(o, "tables");
    if (!json_is_array(tables) || json_array_size(tables) > SL_SNAP_MAX_TABLES)
        return bad(err, "tables");
    for (size_t i = 0; i < json_array_size(tables); i++)
        if (decode_table(json_array_get(tables, i), s, err))
            return -1;
    s->truncated = json_is_true(json_object_get(o, "tables_truncated"));
    return 0;
}

int sl_snap_decode(const char *data, size_t len, sl_snap_t *out, sl_err_t *err)
{
    sl_snap_init(out);
    if (len > SL_SNAP_MAX_BYTES)
        return sl_err_set(err, SL_E_LIMIT, "stats snapshot of %zu bytes is over the limit of %d", len,
                          SL_SNAP_MAX_BYTES);
    json_error_t je;
    json_t *o = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        sl_err_set(err, SL_E_PROTOCOL, "stats snapshot is not JSON: %s", je.text);
        return -1;
    }
    int rc = decode(o, out, err);
    json_decref(o);
    if (rc)
        sl_snap_clear(out);
    return rc;
}
