/*
 * gtid.h: binlog positions of a MariaDB/MySQL change stream, in one of two kinds.
 *
 * The engine sees a position as one uint64 that grows in commit order (source/cdc.h).
 *   file mode:  (binlog file number << 32) | byte offset: valid on one server only.
 *   GTID mode:  SL_MY_GTID_BIT | domain << 48 | seq_no of a MariaDB GTID
 *               (domain-server_id-seq_no). The same transaction has the same GTID on
 *               every server of a replication topology, so a stream can resume from
 *               a replica (log_slave_updates) after its source is gone.
 * A stream uses one GTID domain: within a domain seq_no grows in binlog order. The
 * kind of a stream is fixed by its first position (the initial load's hand-over) and
 * read back from every position after that; the URL's `position=` only chooses it
 * for a new stream, or must agree with it.
 *
 * The pure helpers (packing, text and its parser, GTID list parsing) have unit tests; sl_my_gtid_mode
 * and sl_my_gtid_at ask the server.
 */
#ifndef SL_SOURCE_MYSQL_GTID_H
#define SL_SOURCE_MYSQL_GTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/url.h"
#include "db/mysql/mysql_db.h"

#define SL_MY_GTID_BIT (UINT64_C(1) << 62)
#define SL_MY_GTID_DOMAIN_MAX 0x3FFFu           /* 14 bits */
#define SL_MY_GTID_SEQ_MAX ((UINT64_C(1) << 48) - 1)

typedef enum { SL_MY_POS_AUTO, SL_MY_POS_GTID, SL_MY_POS_FILE } sl_my_posmode_t;

/* One GTID "domain-server_id-seq_no". */
typedef struct sl_my_gtid {
    uint32_t domain, server_id;
    uint64_t seq;
} sl_my_gtid_t;

static inline bool sl_my_pos_is_gtid(uint64_t pos)
{
    return (pos & SL_MY_GTID_BIT) != 0;
}
static inline uint64_t sl_my_gtid_pos(uint32_t domain, uint64_t seq)
{
    return SL_MY_GTID_BIT | (uint64_t)(domain & SL_MY_GTID_DOMAIN_MAX) << 48 | (seq & SL_MY_GTID_SEQ_MAX);
}
static inline uint32_t sl_my_pos_domain(uint64_t pos)
{
    return (uint32_t)(pos >> 48) & SL_MY_GTID_DOMAIN_MAX;
}
static inline uint64_t sl_my_pos_seq(uint64_t pos)
{
    return pos & SL_MY_GTID_SEQ_MAX;
}

/* The URL's `position` parameter: auto (absent), gtid or file; anything else is an
 * SL_E_CONFIG error. */
int sl_my_posmode_parse(const sl_url_t *url, sl_my_posmode_t *mode, sl_err_t *err);
const char *sl_my_posmode_name(sl_my_posmode_t mode);

/* Parses a GTID list ("0-1-146,1-2-5", as in @@gtid_binlog_state; spaces and newlines
 * between entries are allowed) and calls fn for each entry; stops at fn's non-zero
 * return. -1 on malformed text. */
int sl_my_gtid_list_each(const char *list, int (*fn)(void *ctx, const sl_my_gtid_t *g), void *ctx);
/* The number of distinct domains in a GTID list, the first one in *domain (-1: malformed). */
int sl_my_gtid_list_domains(const char *list, uint32_t *domain);
/* The seq_no of domain `domain` in a GTID position list (@@gtid_binlog_pos,
 * BINLOG_GTID_POS()): *found false when the domain is absent. -1 when malformed. */
int sl_my_gtid_list_seq(const char *list, uint32_t domain, uint64_t *seq, bool *found);
/* Which server wrote GTID seq_no `seq` of domain `domain`, from a GTID state list
 * (@@gtid_binlog_state: the last GTID of every domain and server_id): the server_id
 * whose last seq_no is the smallest one >= seq. Exact when one server wrote the
 * domain, and after a fail-over to a server that went on from there; after a
 * switch back and forth the state alone cannot tell. false when no entry qualifies. */
bool sl_my_gtid_writer(const char *state, uint32_t domain, uint64_t seq, uint32_t *server_id);

/* "GTID 0-x-500" or "binlog.000007:1234" (base and digits of the binlog file name
 * when known, else "binlog" and 6). The change stream prints GTIDs with the server id
 * that wrote them when it knows it (mysql_cdc.c). */
void sl_my_pos_text(uint64_t pos, const char *base, int digits, char *buf, size_t size);
/* The reverse: "GTID 0-11-500" (or 0-x-500), "mysql-bin.000007:1234" (any base name),
 * or the packed "X/Y" the checkpoints hold. 0, or -1 when text is none of those. */
int sl_my_pos_parse(const char *text, uint64_t *pos);

/* Decides the kind of a new stream on server `my` from `mode`: GTID on a MariaDB
 * server whose binlog state has at most one domain (auto), or always (gtid: an error
 * naming the reason when it cannot be: MySQL, several domains). *domain is the
 * stream's domain (the one in the state, else @@gtid_domain_id). */
int sl_my_gtid_mode(sl_mysql_t *my, sl_my_posmode_t mode, bool *gtid, uint32_t *domain, sl_err_t *err);
/* The GTID position of binlog position file:offset of server `my` (MariaDB
 * BINLOG_GTID_POS), for domain `domain` (seq_no 0 when the domain has no GTID yet). */
int sl_my_gtid_at(sl_mysql_t *my, const char *file, uint32_t offset, uint32_t domain, uint64_t *pos,
                  sl_err_t *err);

#endif
