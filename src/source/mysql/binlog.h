/*
 * binlog.h: a pure decoder of MariaDB/MySQL binary log events (binlog version 4, the
 * format every server since MySQL 5.0 writes), and of the row images inside them, into
 * sluice's canonical values (model/types.h).
 *
 * References: MariaDB's "Replication Protocol" / "Binlog Event Header" pages and
 * MySQL's "Binary Log" internals documentation (libbinlogevents). The decoder reads
 * what change data capture needs: FORMAT_DESCRIPTION, ROTATE, GTID (MariaDB and
 * MySQL), QUERY, XID, TABLE_MAP (with the optional metadata of
 * binlog_row_metadata=FULL), WRITE/UPDATE/DELETE_ROWS v1 and v2, HEARTBEAT; other
 * events decode to their header only.
 *
 * Nothing here does I/O or keeps global state. Every read checks the bytes that remain
 * first; every count taken from the input is bounded; malformed input is SL_E_PROTOCOL
 * (a type this decoder cannot carry is SL_E_SCHEMA). Event views point into the input;
 * a table map is the one thing that is copied (sl_binlog_tmap_decode), because the
 * caller keeps it across events. Fuzzed by fuzz/fuzz_binlog.c.
 *
 * Values come out exactly as the load path (source/mysql/mysql_source.c, reading
 * through the text protocol in a utf8mb4 session with time_zone UTC) produces them,
 * so that a row copied by the load and the same row changed later are byte-identical.
 */
#ifndef SL_SOURCE_MYSQL_BINLOG_H
#define SL_SOURCE_MYSQL_BINLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/batch.h"
#include "model/schema.h"

#define SL_BINLOG_HEADER 19       /* the common event header of binlog v4 */
#define SL_BINLOG_MAX_COLS 4096   /* MySQL's and MariaDB's column limit */
#define SL_BINLOG_MAX_EVENT (1u << 30) /* max_allowed_packet's ceiling */

/* Event type codes (MariaDB's sql/log_event.h and MySQL's binlog_event.h agree below
 * 160; 160 and above are MariaDB's). */
enum sl_binlog_type {
    SL_BL_QUERY = 2,
    SL_BL_STOP = 3,
    SL_BL_ROTATE = 4,
    SL_BL_FORMAT = 15,
    SL_BL_XID = 16,
    SL_BL_TABLE_MAP = 19,
    SL_BL_WRITE_V0 = 20, /* MySQL 5.1 pre-GA row events: refused */
    SL_BL_DELETE_V0 = 22,
    SL_BL_WRITE_V1 = 23,
    SL_BL_UPDATE_V1 = 24,
    SL_BL_DELETE_V1 = 25,
    SL_BL_HEARTBEAT = 27,
    SL_BL_WRITE_V2 = 30,
    SL_BL_UPDATE_V2 = 31,
    SL_BL_DELETE_V2 = 32,
    SL_BL_GTID_MYSQL = 33,
    SL_BL_ANON_GTID = 34,
    SL_BL_PARTIAL_UPDATE = 39,     /* MySQL binlog_row_value_options=PARTIAL_JSON */
    SL_BL_TRANSACTION_PAYLOAD = 40, /* MySQL binlog_transaction_compression=ON */
    SL_BL_HEARTBEAT_V2 = 41,
    SL_BL_ANNOTATE = 160,
    SL_BL_GTID_MARIADB = 162,
    SL_BL_GTID_LIST = 163,
    SL_BL_START_ENCRYPTION = 164,
    SL_BL_QUERY_COMPRESSED = 165,
    SL_BL_ROWS_COMPRESSED_FIRST = 166, /* MariaDB log_bin_compress=ON: 166..171 */
    SL_BL_ROWS_COMPRESSED_LAST = 171,
};

/* Event header flags */
#define SL_BL_F_ARTIFICIAL 0x0020 /* made up by the dump thread, not in the file */

/* MariaDB GTID flags */
#define SL_BL_GTID_STANDALONE 0x01 /* no COMMIT/XID follows: one event group alone */

/* What FORMAT_DESCRIPTION told about the events that follow. */
typedef struct sl_binlog_fmt {
    bool checksum;      /* events end with a CRC32 (binlog_checksum=CRC32) */
    bool verify;        /* check that CRC32 */
    bool have_fde;
    bool mariadb;
    uint8_t post[256];  /* post-header length by event type */
    char version[51];   /* server version, NUL-terminated */
} sl_binlog_fmt_t;

/* Defaults before the first FORMAT_DESCRIPTION: `checksum` as the server's
 * binlog_checksum (the dump thread's artificial ROTATE already carries one). */
void sl_binlog_fmt_init(sl_binlog_fmt_t *f, bool checksum, bool verify);

typedef struct sl_binlog_event {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t size;      /* whole event, header and checksum included */
    uint32_t log_pos;   /* position just after the event in its file (0: artificial) */
    uint16_t flags;
    const unsigned char *body; /* after the header, before the checksum */
    size_t len;
    union {
        struct {
            uint64_t pos;
            const char *name; /* not NUL-terminated */
            size_t namelen;
        } rotate;
        struct {
            const char *db;
            size_t dblen;
            const char *sql;
            size_t sqllen;
            uint16_t error;
        } query;
        struct {
            uint64_t xid;
        } xid;
        struct {
            uint64_t seq;    /* MariaDB seq_no, MySQL gno */
            uint32_t domain; /* MariaDB only */
            uint8_t flags;   /* MariaDB flags2 (SL_BL_GTID_*), MySQL commit flag */
        } gtid;
        struct {
            const char *name; /* the file the dump thread is in (not NUL-terminated) */
            size_t namelen;
        } heartbeat;
    };
} sl_binlog_event_t;

/* Decodes one event data[0..len) (header, body, checksum). A FORMAT_DESCRIPTION
 * updates *fmt. Returns 0, or -1 with SL_E_PROTOCOL. */
int sl_binlog_event_decode(const void *data, size_t len, sl_binlog_fmt_t *fmt,
                           sl_binlog_event_t *ev, sl_err_t *err);

/* CRC-32 (ISO-HDLC, as zlib's crc32) of p[0..n), continuing from crc (0 to start). */
uint32_t sl_binlog_crc32(uint32_t crc, const void *p, size_t n);

/* ---- table maps ----------------------------------------------------------------- */

/* Binlog column type codes (MySQL's enum_field_types). */
enum sl_binlog_coltype {
    SL_BT_DECIMAL = 0, SL_BT_TINY = 1, SL_BT_SHORT = 2, SL_BT_LONG = 3, SL_BT_FLOAT = 4,
    SL_BT_DOUBLE = 5, SL_BT_NULL = 6, SL_BT_TIMESTAMP = 7, SL_BT_LONGLONG = 8, SL_BT_INT24 = 9,
    SL_BT_DATE = 10, SL_BT_TIME = 11, SL_BT_DATETIME = 12, SL_BT_YEAR = 13, SL_BT_NEWDATE = 14,
    SL_BT_VARCHAR = 15, SL_BT_BIT = 16, SL_BT_TIMESTAMP2 = 17, SL_BT_DATETIME2 = 18,
    SL_BT_TIME2 = 19, SL_BT_JSON = 245, SL_BT_NEWDECIMAL = 246, SL_BT_ENUM = 247, SL_BT_SET = 248,
    SL_BT_TINY_BLOB = 249, SL_BT_MEDIUM_BLOB = 250, SL_BT_LONG_BLOB = 251, SL_BT_BLOB = 252,
    SL_BT_VAR_STRING = 253, SL_BT_STRING = 254, SL_BT_GEOMETRY = 255,
};

typedef struct sl_binlog_str {
    const char *p; /* into the table map's own copy; not NUL-terminated */
    size_t len;
} sl_binlog_str_t;

typedef struct sl_binlog_col {
    uint8_t type;       /* SL_BT_*; a STRING column whose real type is ENUM/SET is ENUM/SET */
    uint32_t meta;      /* by type: STRING/VARCHAR max bytes; ENUM/SET pack length;
                           BLOB/JSON/GEOMETRY length bytes; FLOAT/DOUBLE size; NEWDECIMAL
                           precision << 8 | scale; BIT bits; TIME2/DATETIME2/TIMESTAMP2
                           fractional digits */
    bool nullable;
    bool is_unsigned;   /* from SIGNEDNESS (numeric columns) */
    bool pk;            /* part of the primary key */
    uint32_t collation; /* character and enum/set columns, 0 unknown */
    sl_binlog_str_t name; /* p NULL without binlog_row_metadata=FULL */
    sl_binlog_str_t *labels; /* ENUM/SET values, in the column's charset */
    int nlabels;
    uint32_t geom_type;
} sl_binlog_col_t;

typedef struct sl_binlog_tmap {
    uint64_t table_id;
    char *db;          /* NUL-terminated */
    char *table;
    int ncols;
    bool has_names;    /* binlog_row_metadata=FULL */
    bool has_signedness;
    sl_binlog_col_t *cols;
    /* owned storage */
    unsigned char *copy;
    size_t copy_len;
    sl_binlog_str_t *strs;
} sl_binlog_tmap_t;

/* Decodes a TABLE_MAP event into a new table map that owns a copy of what it needs
 * (*out is the caller's to sl_binlog_tmap_free). Returns 0 or -1. */
int sl_binlog_tmap_decode(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt,
                          sl_binlog_tmap_t **out, sl_err_t *err);
void sl_binlog_tmap_free(sl_binlog_tmap_t *tm);
/* True when TABLE_MAP event ev is byte for byte the one tm was decoded from (the server
 * writes the same TABLE_MAP before every statement's rows: no need to decode it again).
 * tm may be NULL. */
bool sl_binlog_tmap_same(const sl_binlog_tmap_t *tm, const sl_binlog_event_t *ev);
/* The table id a TABLE_MAP or rows event refers to, without decoding the rest. */
int sl_binlog_table_id(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt, uint64_t *id,
                       sl_err_t *err);
/* The character set name of a collation id ("utf8mb4", "latin1", "binary", ...), or
 * NULL when it is not one of the ids this decoder knows. */
const char *sl_binlog_charset(uint32_t collation);

/* ---- rows events ---------------------------------------------------------------- */

typedef struct sl_binlog_rows {
    char kind;          /* 'I', 'U', 'D' */
    uint64_t table_id;
    uint16_t flags;     /* bit 0: end of statement */
    int ncols;
    const unsigned char *present;       /* columns in the (before) image */
    const unsigned char *present_after; /* UPDATE: columns in the after image */
    const unsigned char *p;             /* row data */
    size_t len, pos;
} sl_binlog_rows_t;

/* One column of one row image: state 0 absent from the image, 1 NULL, 2 a value
 * p[0..len) (for BLOB, VARCHAR, ... the bytes after the length prefix). */
typedef struct sl_binlog_cell {
    uint8_t state;
    uint32_t len;
    const unsigned char *p;
} sl_binlog_cell_t;

int sl_binlog_rows_decode(const sl_binlog_event_t *ev, const sl_binlog_fmt_t *fmt,
                          sl_binlog_rows_t *rows, sl_err_t *err);
/* Splits the next row of the event into cells, tm->ncols each: INSERT fills after[],
 * DELETE before[], UPDATE both. Returns 1 with a row, 0 at the end, -1 on malformed
 * data or a table map that does not match the event. */
int sl_binlog_rows_next(sl_binlog_rows_t *r, const sl_binlog_tmap_t *tm, sl_binlog_cell_t *before,
                        sl_binlog_cell_t *after, sl_err_t *err);

/* ---- values --------------------------------------------------------------------- */

/* Whether binlog column bc can carry values of the stream's column col (a type
 * change shows up as false). */
bool sl_binlog_type_fits(const sl_binlog_col_t *bc, const sl_column_t *col);

/* An upper bound of the bytes sl_binlog_value writes to its arena for this cell. */
size_t sl_binlog_value_bound(const sl_binlog_col_t *bc, const sl_column_t *col,
                             const sl_binlog_cell_t *cell);

/* One cell as the canonical value of col: borrowed from the cell, or written to
 * out[0..cap) (cap >= sl_binlog_value_bound), *used telling how much. Zero dates
 * become NULL as on the load path. Returns 0, or -1: SL_E_PROTOCOL for a malformed
 * value, SL_E_SCHEMA for a character set or type this decoder cannot carry. */
int sl_binlog_value(const sl_binlog_col_t *bc, const sl_column_t *col, const sl_binlog_cell_t *cell,
                    char *out, size_t cap, size_t *used, sl_value_t *v, sl_err_t *err);

/* Maps the stream's columns to the table map's by name (by position when the server
 * logs no names): map[i] = binlog column of t->columns[i], -1 for a generated column
 * the binlog lacks. Returns 0, or 1 when the columns or their types differ. */
int sl_binlog_map_columns(const sl_binlog_tmap_t *tm, const sl_table_t *t, int *map);

/* One row image as t->ncolumns canonical values in t's order. vals borrow from the
 * cells (the event) and from arena, which is reset first. A column absent from the
 * image (or generated and not logged) is NULL in an old row and SL_VALUE_UNCHANGED in
 * a new one (new_row). */
int sl_binlog_row_values(const sl_binlog_tmap_t *tm, const sl_table_t *t, const int *map,
                         const sl_binlog_cell_t *cells, bool new_row, sl_buf_t *arena,
                         sl_value_t *vals, sl_err_t *err);

/* Text p[0..n) of column col (binlog column bc: its collation, else col's charset) as
 * UTF-8 in *v: borrowed when it is UTF-8 (or binary) already, else converted into
 * out + *used (4 n bytes always suffice), *used advanced. SL_E_SCHEMA for a character set
 * this decoder cannot read, SL_E_PROTOCOL for malformed text. */
int sl_binlog_text_value(const sl_binlog_col_t *bc, const sl_column_t *col, const unsigned char *p, size_t n,
                         char *out, size_t *used, sl_value_t *v, sl_err_t *err);

/* MySQL 8 binary JSON p[0..n) as the text MySQL prints, into out[0..cap) (8 n + 64
 * bytes always suffice); *used gets its length. */
int sl_binlog_json_text(const unsigned char *p, size_t n, char *out, size_t cap, size_t *used,
                        sl_err_t *err);

/* The shortest text MariaDB/MySQL print a DOUBLE with (my_gcvt: fixed notation for
 * decimal exponents -14..15, else "1.5e-20"); buf holds at least 32 bytes. */
size_t sl_binlog_double_text(double d, char *buf);

#endif
