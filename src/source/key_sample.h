/*
 * key_sample.h: what the drivers' key_sample implementations share: the SQL shape
 * (a ROW_NUMBER() window over the primary key, keeping every N-th key) and the
 * growing list of JSON key boundaries.
 */
#ifndef SL_SOURCE_KEY_SAMPLE_H
#define SL_SOURCE_KEY_SAMPLE_H

#include "core/buf.h"
#include "model/batch.h"
#include "model/schema.h"

/* Appends "SELECT k1, k2 FROM (SELECT k1, k2, ROW_NUMBER() OVER (ORDER BY k1, k2) AS
 * sl_rn FROM <table>) s WHERE MOD(sl_rn, every) = 0 ORDER BY sl_rn"; add_ident quotes
 * an identifier, table_ref is the quoted table. */
int sl_key_sample_sql(sl_buf_t *b, const sl_table_t *t, const char *table_ref, int64_t every,
                      int (*add_ident)(sl_buf_t *, const char *, sl_err_t *), sl_err_t *err);
/* Appends the JSON array of vals[0..n) to the list. */
int sl_key_sample_add(char ***keys, int *nkeys, const sl_value_t *vals, int n, sl_err_t *err);
/* Frees the list (when n is given) and leaves it empty: *keys NULL, *n 0. */
void sl_key_sample_clear(char ***keys, int *n);

#endif
