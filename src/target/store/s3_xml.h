/*
 * s3_xml.h: the few S3 XML responses the store reads (ListObjectsV2, the upload id of
 * InitiateMultipartUpload, <Error>) and the one body it writes (CompleteMultipartUpload).
 *
 * Pure: bytes in, values out. Not a general XML parser: it finds elements by name in
 * S3's flat, attribute-free response shapes, and decodes the five predefined entities
 * and numeric character references. Input need not be NUL-terminated; nothing reads
 * past xml + len.
 *
 * Ownership: outputs go into caller-owned buffers. Thread: any.
 */
#ifndef SL_TARGET_STORE_S3_XML_H
#define SL_TARGET_STORE_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"

/* Whether the document's root element is <name> (e.g. "Error" in a 200 response to
 * CompleteMultipartUpload, which S3 may send when the completion fails late). */
bool sl_s3_xml_root_is(const char *xml, size_t len, const char *name);

/* The decoded text of the first <name> element anywhere in xml into out (reset first).
 * Returns 1 when found, 0 when absent, -1 on error (too long for out, bad entity). */
int sl_s3_xml_text(const char *xml, size_t len, const char *name, sl_buf_t *out, sl_err_t *err);

/* An <Error> document's Code and Message, truncated to the given sizes; "" when absent. */
void sl_s3_xml_error(const char *xml, size_t len, char *code, size_t codesz, char *msg,
                     size_t msgsz);

typedef int (*sl_s3_xml_key_fn)(void *ctx, const char *key, uint64_t size, sl_err_t *err);

/* A ListObjectsV2 result: fn for each <Contents> (Key, Size) in document order; *truncated
 * from <IsTruncated>; next (reset first) gets <NextContinuationToken> when truncated.
 * A <Contents> without a Key or with a bad Size is SL_E_PROTOCOL. fn's -1 stops the walk. */
int sl_s3_xml_list(const char *xml, size_t len, sl_s3_xml_key_fn fn, void *ctx, bool *truncated,
                   sl_buf_t *next, sl_err_t *err);

/* The CompleteMultipartUpload body for parts 1..n with their ETags (as the server sent
 * them, quotes included). */
int sl_s3_xml_complete_body(sl_buf_t *out, char *const *etags, int n, sl_err_t *err);

#endif
