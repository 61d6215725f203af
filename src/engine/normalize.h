/*
 * normalize.h: the canonical form used to compare values across engines (verify).
 *
 * Sources already produce canonical text (model/types.h), but the same value can
 * still print two ways once it has crossed engines: a PostgreSQL boolean stored in a
 * MySQL TINYINT(1) reads back as "1", a float32 prints with 6 or 9 digits, a
 * DECIMAL(65,30) pads zeros. sl_value_normalize() maps a value read from either side
 * to one form, driven by the *source* column's type. Pure; no allocation beyond out.
 */
#ifndef SL_ENGINE_NORMALIZE_H
#define SL_ENGINE_NORMALIZE_H

#include "core/buf.h"
#include "model/batch.h"
#include "model/schema.h"

/* Appends the normalised form of v (not NULL) to out. */
int sl_value_normalize(const sl_column_t *src_col, const sl_value_t *v, sl_buf_t *out, sl_err_t *err);

#endif
