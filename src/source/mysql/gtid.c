/*
 * gtid.c: the two kinds of binlog position (gtid.h): packing, text, MariaDB GTID list
 * parsing, and choosing the kind for a new stream. Pure except sl_my_gtid_mode and
 * sl_my_gtid_at, which query the server on the caller's session.
 */
#define _GNU_SOURCE /* memrchr */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "model/change.h"
#include "source/mysql/gtid.h"

int sl_my_posmode_parse(const sl_url_t *url, sl_my_posmode_t *mode, sl_err_t *err)
{
    const char *v = url ? sl_url_param(url, "position") : NULL;
    *mode = SL_MY_POS_AUTO;
    if (!v || !v[0] || !strcasecmp(v, "auto"))
        return 0;
    if (!strcasecmp(v, "gtid")) {
        *mode = SL_MY_POS_GTID;
        return 0;
    }
    if (!strcasecmp(v, "file")) {
        *mode = SL_MY_POS_FILE;
        return 0;
    }
    sl_err_set(err, SL_E_CONFIG, "invalid value \"%s\" for position in the MySQL source URL", v);
    sl_err_hint(err, "use position=gtid (MariaDB GTIDs), position=file (binlog file and offset) or "
                     "leave it out (auto: GTIDs on MariaDB)");
    return -1;
}

const char *sl_my_posmode_name(sl_my_posmode_t mode)
{
    return mode == SL_MY_POS_GTID ? "gtid" : mode == SL_MY_POS_FILE ? "file" : "auto";
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *number(const char *p, uint64_t max, uint64_t *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (max - d) / 10)
            return NULL;
        v = v * 10 + d;
    }
    *out = v;
    return p;
}

int sl_my_gtid_list_each(const char *list, int (*fn)(void *ctx, const sl_my_gtid_t *g), void *ctx)
{
    const char *p = skip_space(list ? list : "");
    while (*p) {
        uint64_t d, s, n;
        if (!(p = number(p, UINT32_MAX, &d)) || *p++ != '-' || !(p = number(p, UINT32_MAX, &s)) ||
            *p++ != '-' || !(p = number(p, UINT64_MAX, &n)))
            return -1;
        sl_my_gtid_t g = {(uint32_t)d, (uint32_t)s, n};
        int rc = fn(ctx, &g);
        if (rc)
            return rc;
        p = skip_space(p);
        if (*p == ',')
            p = skip_space(p + 1);
        else if (*p)
            return -1;
    }
    return 0;
}

typedef struct domains_ctx {
    uint32_t seen[64];
    int n;
    bool more; /* more than 64 distinct */
} domains_ctx_t;

static int count_domain(void *ctx, const sl_my_gtid_t *g)
{
    domains_ctx_t *d = ctx;
    for (int i = 0; i < d->n; i++)
        if (d->seen[i] == g->domain)
            return 0;
    if (d->n == 64)
        d->more = true;
    else
        d->seen[d->n++] = g->domain;
    return 0;
}

int sl_my_gtid_list_domains(const char *list, uint32_t *domain)
{
    domains_ctx_t d = {.n = 0};
    if (sl_my_gtid_list_each(list, count_domain, &d) < 0)
        return -1;
    if (d.n && domain)
        *domain = d.seen[0];
    return d.more ? 65 : d.n;
}

typedef struct seq_ctx {
    uint32_t domain;
    uint64_t seq;
    bool found;
} seq_ctx_t;

static int find_seq(void *ctx, const sl_my_gtid_t *g)
{
    seq_ctx_t *s = ctx;
    if (g->domain == s->domain && (!s->found || g->seq > s->seq)) {
        s->seq = g->seq;
        s->found = true;
    }
    return 0;
}

int sl_my_gtid_list_seq(const char *list, uint32_t domain, uint64_t *seq, bool *found)
{
    seq_ctx_t s = {.domain = domain};
    if (sl_my_gtid_list_each(list, find_seq, &s) < 0)
        return -1;
    *seq = s.found ? s.seq : 0;
    *found = s.found;
    return 0;
}

typedef struct writer_ctx {
    uint32_t domain, server_id;
    uint64_t seq, best;
    bool found;
} writer_ctx_t;

static int find_writer(void *ctx, const sl_my_gtid_t *g)
{
    writer_ctx_t *w = ctx;
    if (g->domain == w->domain && g->seq >= w->seq && (!w->found || g->seq < w->best)) {
        w->best = g->seq;
        w->server_id = g->server_id;
        w->found = true;
    }
    return 0;
}

bool sl_my_gtid_writer(const char *state, uint32_t domain, uint64_t seq, uint32_t *server_id)
{
    writer_ctx_t w = {.domain = domain, .seq = seq};
    if (sl_my_gtid_list_each(state, find_writer, &w) < 0 || !w.found)
        return false;
    *server_id = w.server_id;
    return true;
}

void sl_my_pos_text(uint64_t pos, const char *base, int digits, char *buf, size_t size)
{
    if (sl_my_pos_is_gtid(pos))
        snprintf(buf, size, "GTID %" PRIu32 "-x-%" PRIu64, sl_my_pos_domain(pos), sl_my_pos_seq(pos));
    else
        snprintf(buf, size, "%s.%0*" PRIu32 ":%" PRIu32, base && base[0] ? base : "binlog",
                 digits > 0 ? digits : 6, (uint32_t)(pos >> 32), (uint32_t)pos);
}

int sl_my_pos_parse(const char *text, uint64_t *pos)
{
    uint64_t a, b, sid;
    const char *p;
    if (!strncmp(text, "GTID ", 5)) {
        if (!(p = number(text + 5, SL_MY_GTID_DOMAIN_MAX, &a)) || *p++ != '-')
            return -1;
        if (*p == 'x')
            p++;
        else if (!(p = number(p, UINT32_MAX, &sid)))
            return -1;
        if (*p++ != '-' || !(p = number(p, SL_MY_GTID_SEQ_MAX, &b)) || *p)
            return -1;
        *pos = sl_my_gtid_pos((uint32_t)a, b);
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (colon) {
        const char *dot = memrchr(text, '.', (size_t)(colon - text));
        if (!dot || dot == text || number(dot + 1, UINT32_MAX, &a) != colon ||
            !(p = number(colon + 1, UINT32_MAX, &b)) || *p)
            return -1;
        *pos = a << 32 | b;
        return 0;
    }
    return sl_lsn_parse(text, pos);
}

int sl_my_gtid_mode(sl_mysql_t *my, sl_my_posmode_t mode, bool *gtid, uint32_t *domain, sl_err_t *err)
{
    *gtid = false;
    *domain = 0;
    if (mode == SL_MY_POS_FILE)
        return 0;
    if (!my->mariadb) {
        if (mode == SL_MY_POS_AUTO)
            return 0;
        sl_err_set(err, SL_E_CONFIG, "position=gtid needs a MariaDB source; MySQL at \"%s\" is not one",
                   my->where);
        sl_err_detail(err, "sluice reads MySQL GTIDs but resumes a MySQL stream by binlog file and offset");
        sl_err_hint(err, "leave out position= (or use position=file)");
        return -1;
    }
    char *state = NULL, *dom = NULL;
    if (sl_mysql_query_value(my, "SELECT @@global.gtid_binlog_state", &state, err) ||
        sl_mysql_query_value(my, "SELECT @@global.gtid_domain_id", &dom, err)) {
        free(state);
        free(dom);
        return -1;
    }
    uint32_t first = 0;
    int n = sl_my_gtid_list_domains(state ? state : "", &first);
    int rc = 0;
    if (n < 0) {
        rc = sl_err_set(err, SL_E_PROTOCOL, "MariaDB at \"%s\" reports a malformed gtid_binlog_state \"%.200s\"",
                        my->where, state ? state : "");
    } else if (n > 1) {
        if (mode == SL_MY_POS_GTID) {
            rc = sl_err_set(err, SL_E_CONFIG, "the binlog of MariaDB at \"%s\" holds GTIDs of %d domains", my->where,
                            n);
            sl_err_detail(err, "a stream with GTID positions follows one GTID domain (gtid_binlog_state: %.200s)",
                          state);
            sl_err_hint(err, "use position=file (binlog file and offset) for this server");
        } else {
            sl_info("MariaDB at \"%s\" logs GTIDs of %d domains: the stream uses binlog file positions", my->where, n);
        }
    } else {
        *domain = n == 1 ? first : (uint32_t)strtoul(dom ? dom : "0", NULL, 10);
        if (*domain > SL_MY_GTID_DOMAIN_MAX) {
            if (mode == SL_MY_POS_GTID) {
                rc = sl_err_set(err, SL_E_CONFIG, "GTID domain %" PRIu32 " of MariaDB at \"%s\" is above %u",
                                *domain, my->where, SL_MY_GTID_DOMAIN_MAX);
                sl_err_hint(err, "use position=file for this server");
            }
        } else {
            *gtid = true;
        }
    }
    free(state);
    free(dom);
    return rc;
}

int sl_my_gtid_at(sl_mysql_t *my, const char *file, uint32_t offset, uint32_t domain, uint64_t *pos,
                  sl_err_t *err)
{
    sl_buf_t q;
    sl_buf_init(&q, 4096);
    char *list = NULL;
    char off[16];
    snprintf(off, sizeof off, "%" PRIu32, offset);
    int rc = sl_buf_adds(&q, "SELECT BINLOG_GTID_POS(", err) || sl_mysql_add_string(&q, file, strlen(file), err) ||
             sl_buf_adds(&q, ", ", err) || sl_buf_adds(&q, off, err) || sl_buf_addc(&q, ')', err) ||
             sl_mysql_query_value(my, q.data, &list, err);
    sl_buf_free(&q);
    if (rc)
        return -1;
    if (!list) {
        sl_err_set(err, SL_E_NOT_FOUND, "MariaDB at \"%s\" has no GTID for binlog position %s:%" PRIu32, my->where,
                   file, offset);
        sl_err_detail(err, "BINLOG_GTID_POS() returned NULL: the file is gone or the offset is not an event's start");
        sl_err_hint(err, "run the stream again; if it repeats, use position=file");
        return -1;
    }
    uint64_t seq = 0;
    bool found = false;
    rc = sl_my_gtid_list_seq(list, domain, &seq, &found);
    if (rc || seq > SL_MY_GTID_SEQ_MAX)
        rc = sl_err_set(err, SL_E_PROTOCOL, "MariaDB at \"%s\" gave an unusable GTID position \"%.200s\"",
                        my->where, list);
    free(list);
    if (rc)
        return -1;
    *pos = sl_my_gtid_pos(domain, seq);
    return 0;
}
