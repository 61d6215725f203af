/*
 * err.h: the one error type of sluice.
 *
 * Every fallible function returns an int status (0 = ok, -1 = error) and fills a
 * caller-owned sl_err_t. The supervisor decides retry or fail from the flags alone:
 * `retriable` means "the same call may succeed later" (a connection dropped, a lock
 * timeout), `fatal` means "retrying cannot help" (bad credentials, a value that
 * cannot be converted). Messages follow PostgreSQL's style: a short lowercase primary
 * message, then detail, then hint.
 */
#ifndef SL_CORE_ERR_H
#define SL_CORE_ERR_H

#include <stdbool.h>
#include <stdarg.h>

typedef enum sl_errcode {
    SL_OK = 0,
    SL_E_INTERNAL,   /* a bug or an impossible state */
    SL_E_CONFIG,     /* bad spec, bad flag, bad URL */
    SL_E_CONNECT,    /* could not reach or authenticate to a server */
    SL_E_PRIVILEGE,  /* the user lacks a privilege */
    SL_E_NOT_FOUND,  /* a table, column, slot... does not exist */
    SL_E_SCHEMA,     /* the target's schema does not fit */
    SL_E_DATA,       /* a value cannot be represented or a constraint failed */
    SL_E_IO,         /* local files, disks */
    SL_E_BROKER,     /* NATS / JetStream */
    SL_E_PROTOCOL,   /* malformed input from a peer or the bus */
    SL_E_LIMIT,      /* a bounded buffer or message size was exceeded */
    SL_E_CANCELED,   /* a shutdown was requested */
    SL_E_CONFLICT,   /* state left by an earlier run does not match */
} sl_errcode_t;

typedef struct sl_err {
    sl_errcode_t code;
    bool retriable;
    bool fatal;
    char message[512];
    char detail[1024];
    char hint[512];
} sl_err_t;

/* Sets code, flags and the primary message; clears detail and hint. Returns -1 so
 * that `return sl_err_set(err, ...)` reads naturally. `err` may be NULL. */
int sl_err_set(sl_err_t *err, sl_errcode_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sl_err_detail(sl_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sl_err_hint(sl_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the error as retriable (and not fatal). */
void sl_err_retriable(sl_err_t *err);
/* Prefixes the primary message with context, e.g. "table \"x\": ". */
/* Resets err to no error (a caller that tried something, failed and carries on). */
void sl_err_clear(sl_err_t *err);
void sl_err_prefix(sl_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "error: message\ndetail: ...\nhint: ..." into buf. */
const char *sl_err_format(const sl_err_t *err, char *buf, int size);

#endif
