/*
 * types.h: the canonical type set that sits between every source and every target.
 *
 * A source maps its native column types to one of these and produces each value as
 * canonical text (or raw bytes); a target maps them back to native DDL and values.
 * The text forms below are the contract; docs/type-mapping.md is the user's view.
 *
 *   SL_T_BOOL         "t" | "f"
 *   SL_T_INT16/32/64  decimal, optional leading '-'          (MySQL TINYINT/YEAR -> INT16)
 *   SL_T_UINT64       decimal 0 .. 18446744073709551615      (MySQL BIGINT UNSIGNED)
 *   SL_T_FLOAT32/64   shortest round-trip decimal or exponent form, "NaN",
 *                     "Infinity", "-Infinity"
 *   SL_T_DECIMAL      plain notation "-123.4500" (no exponent), "NaN"; precision and
 *                     scale on the column (precision 0 = unconstrained)
 *   SL_T_TEXT         UTF-8; column.length = max chars (0 = unbounded); column.fixed
 *                     for CHAR(n) (values carry no trailing pad spaces in canonical form)
 *   SL_T_BYTES        raw bytes (length = max bytes, fixed for BINARY(n))
 *   SL_T_DATE         "YYYY-MM-DD", "infinity", "-infinity"
 *   SL_T_TIME         "[-]HH:MM:SS[.ffffff]" (MySQL TIME may be negative or > 24 h)
 *   SL_T_TIMETZ       "HH:MM:SS[.ffffff]+HH[:MM]"
 *   SL_T_TIMESTAMP    "YYYY-MM-DD HH:MM:SS[.ffffff]", "infinity", "-infinity"
 *   SL_T_TIMESTAMPTZ  "YYYY-MM-DD HH:MM:SS[.ffffff]+00" always in UTC, or infinity
 *   SL_T_INTERVAL     ISO 8601 as PostgreSQL's IntervalStyle iso_8601 prints it
 *   SL_T_JSON         JSON text, as the source stores it
 *   SL_T_UUID         lowercase 8-4-4-4-12
 *   SL_T_ENUM         the label; column.labels lists the labels in order
 *   SL_T_SET          members joined by ','; column.labels lists the members
 *   SL_T_BIT          '0'/'1' characters, length bits (column.fixed false = varying)
 *   SL_T_ARRAY        PostgreSQL array literal text, e.g. {1,2,NULL}; column.elem
 *   SL_T_GEOMETRY     WKB bytes
 *   SL_T_NET          inet/cidr/macaddr text (PostgreSQL)
 *   SL_T_TSVECTOR     tsvector text (PostgreSQL)
 *   SL_T_MONEY        decimal text with 2 fraction digits (read as money::numeric)
 *
 * Fractional seconds: column.scale holds the declared fractional-second digits of
 * time types (-1 when the engine default applies).
 */
#ifndef SL_MODEL_TYPES_H
#define SL_MODEL_TYPES_H

typedef enum sl_type {
    SL_T_UNKNOWN = 0,
    SL_T_BOOL,
    SL_T_INT16,
    SL_T_INT32,
    SL_T_INT64,
    SL_T_UINT64,
    SL_T_FLOAT32,
    SL_T_FLOAT64,
    SL_T_DECIMAL,
    SL_T_TEXT,
    SL_T_BYTES,
    SL_T_DATE,
    SL_T_TIME,
    SL_T_TIMETZ,
    SL_T_TIMESTAMP,
    SL_T_TIMESTAMPTZ,
    SL_T_INTERVAL,
    SL_T_JSON,
    SL_T_UUID,
    SL_T_ENUM,
    SL_T_SET,
    SL_T_BIT,
    SL_T_ARRAY,
    SL_T_GEOMETRY,
    SL_T_NET,
    SL_T_TSVECTOR,
    SL_T_MONEY,
    SL_T__COUNT
} sl_type_t;

/* "int64", "timestamptz", ...; the names used in plans and docs. */
const char *sl_type_name(sl_type_t t);
/* The inverse of sl_type_name; SL_T_UNKNOWN when no name matches. */
sl_type_t sl_type_from_name(const char *name);
/* True for the integer family (INT16..UINT64). */
int sl_type_is_integer(sl_type_t t);
/* True when values are raw bytes rather than text (BYTES, GEOMETRY). */
int sl_type_is_binary(sl_type_t t);

#endif
