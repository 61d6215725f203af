/*
 * apply.h: the engine-independent half of apply_changes (target.h), shared by the
 * PostgreSQL and MariaDB/MySQL targets: checking a change against its table, which
 * values identify the row it changes, how that row is named in messages, and the
 * "row missing" error. Pure: no I/O, so the rules are unit-tested without a server.
 *
 * Every function borrows its arguments; nothing here allocates.
 */
#ifndef SL_TARGET_APPLY_H
#define SL_TARGET_APPLY_H

#include <stdbool.h>

#include "core/err.h"
#include "model/change.h"
#include "model/schema.h"

/* Checks that ch fits t: ncols equals the table's, an INSERT or UPDATE has a row, a
 * DELETE has an old row, a keyless UPDATE or DELETE has an old row, the key values are
 * neither NULL nor unchanged, and an INSERT carries no SL_VALUE_UNCHANGED (a correct
 * source never sends one). Anything else is SL_E_PROTOCOL naming the table. */
int sl_apply_check(const sl_table_t *t, const sl_change_t *ch, sl_err_t *err);

/* The values that find the row an UPDATE or DELETE changes: old when given, else row. */
const sl_value_t *sl_apply_key_row(const sl_change_t *ch);

/* Number of consecutive INSERTs starting at chs[i] (i < n). */
int sl_apply_insert_run(const sl_change_t *chs, int i, int n);

/* "key=(1, 'a')" from the key columns of the key row, or "row=(...)" from every
 * column of old for a keyless table; long values are cut, bytes shown as hex.
 * Returns buf. */
const char *sl_apply_key_text(const sl_table_t *t, const sl_change_t *ch, char *buf, int size);

/* Fills err with SL_E_NOT_FOUND "<update|delete> of a row missing from the target table
 * \"label\"", the key as detail and the "diverged" hint. Returns -1. */
int sl_apply_missing(const sl_table_t *t, const sl_change_t *ch, const char *label, sl_err_t *err);

#endif
