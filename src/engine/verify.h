/*
 * verify.h: comparing a source table with its target copy: row counts and an
 * order-independent checksum of normalised values (engine/normalize.h), computed on
 * both sides in parallel with bounded memory. Rows are spread over 256 buckets by a
 * hash of their key, so when checksums differ a second pass over the differing
 * buckets names sample keys that are missing, extra or different.
 *
 * Under the spec's mapping (engine/mapping.h): the source's rows are those the filter
 * keeps, its columns those the mapping keeps, compared with the target table's columns
 * of their target names; a cast column compares as the target's type. Rows recorded in
 * the target's rejects (options.on_error "reject") are counted apart and left out of
 * the comparison on both sides (by key: a keyless table's rejects cannot be).
 */
#ifndef SL_ENGINE_VERIFY_H
#define SL_ENGINE_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "source/source.h"

#define SL_VERIFY_SAMPLES 5

typedef struct sl_verify_result {
    char table[256];
    int64_t source_rows;
    int64_t target_rows;
    int64_t rejected;                  /* rejects recorded for the table on the target */
    char source_checksum[33];          /* 32 hex digits: the sum of the rows' hashes, so */
    char target_checksum[33];          /* order-independent; "" when not compared */
    bool equal;
    char problem[512];                 /* set when the table could not be compared */
    char samples[SL_VERIFY_SAMPLES][512]; /* "missing on target: key (id=4)" ... */
    int nsamples;
} sl_verify_result_t;

struct sl_spec;

/* Compares one table (source name) under spec's mapping (NULL: as it is). src and tgt
 * are connections opened with sl_source_open (the target is read through its source
 * driver). Returns -1 only when a side could not be read; differences are reported in
 * *res. */
int sl_verify_table(sl_source_t *src, sl_source_t *tgt, const struct sl_spec *spec, const char *table,
                    sl_verify_result_t *res, sl_err_t *err);

#endif
