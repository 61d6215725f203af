/*
 * array.h: the canonical text of an array column (PostgreSQL's array literal,
 * model/types.h SL_T_ARRAY) as a JSON array, for targets that have no arrays: a
 * MariaDB target stores PostgreSQL arrays in a JSON column (docs/type-mapping.md), and
 * verify compares the two forms.
 *
 *   {1,2,NULL}             [1,2,null]
 *   {{1,2},{3,4}}          [[1,2],[3,4]]
 *   {"a b",c,"x\"y"}       ["a b","c","x\"y"]     (text elements)
 *   {t,f}                  [true,false]           (boolean elements)
 *   {"{\"k\": 1}"}         [{"k": 1}]             (json elements, kept as JSON)
 *
 * Number elements (integers, decimals, floats, money) become JSON numbers, boolean ones
 * true/false, json ones their JSON, every other element a string; NULL becomes null.
 * Refused (why says why): NaN and infinities (JSON has no such numbers), a number that
 * is not one, a json element that is not JSON, and an array with explicit bounds
 * ("[0:1]={1,2}", which a JSON array cannot say). Pure: no I/O, no globals; fuzzed
 * (fuzz/fuzz_array.c).
 */
#ifndef SL_MODEL_ARRAY_H
#define SL_MODEL_ARRAY_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "model/types.h"

/* Appends the JSON form of the array literal p[0..n) with elements of type elem to out.
 * Returns 0; 1 when the value cannot be a JSON array (why filled, out unchanged); -1 when
 * out is full (err). Malformed array text is 1 too. */
int sl_array_json(const char *p, size_t n, sl_type_t elem, sl_buf_t *out, char *why, size_t whylen,
                  sl_err_t *err);

#endif
