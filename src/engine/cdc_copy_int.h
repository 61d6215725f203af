/*
 * cdc_copy_int.h: what the files of the copy (cdc_copy.h lists them) share. Not a public
 * interface. Everything here is the reader's, on its thread, except `failed`, `copied`
 * and `error` (lanes report; the stats thread reads `error` under mu).
 */
#ifndef SL_ENGINE_CDC_COPY_INT_H
#define SL_ENGINE_CDC_COPY_INT_H

#include <pthread.h>

#include "engine/cdc_copy.h"
#include "engine/cdc_int.h"
#include "source/source.h"
#include "target/target.h"

/* A row read again in a snapshot of its own (cdc_copy.c: an insert half): its changes
 * are judged against that snapshot until its horizon. */
typedef struct copy_kwin {
    sl_cdc_key_t key;
    sl_cdc_snap_t snap;
} copy_kwin_t;

typedef struct copy_table {
    char label[300];
    sl_cdc_gen_t gen;        /* its entry of "cdc_copy", as stored */
    sl_cdc_lcopy_t *lane;    /* [cd->lanes]: what each lane has applied once it got all
                                that was sent */
    int ordered;             /* -1 not known yet, 0 copied in one piece, 1 in chunks */
    copy_kwin_t *kw;
    int nkw;
    bool removed;            /* removed from the stream in this session */
    int64_t copied_base;     /* rows of this generation committed before this session */
    _Atomic int64_t copied;  /* rows of the copy the lanes committed in this session */
    _Atomic bool failed;     /* stopped alone (options.table_errors "stop_table") */
    char error[512];         /* why, under mu */
    int64_t wait_logged_ms;
} copy_table_t;

typedef struct sl_copy {
    copy_table_t *t;         /* one per table of the session, as in cd->tables */
    int n;
    sl_source_t *src;        /* the snapshot side: chunks are read on it */
    uint32_t cur_xid;        /* the transaction being read */
    uint64_t seen;           /* the highest position the stream reported */
    sl_pos_t slot_last;      /* the last position given out between transactions */
    sl_pos_t replay;         /* the highest lane checkpoint when the session began */
    uint64_t min_horizon;    /* the lowest horizon of an open window, UINT64_MAX: none */
    bool active;             /* a copy is under way: transaction ids are remembered */
    uint32_t *xids;          /* ids of the transactions read since the last snapshot */
    int nxids, capxids;
    int64_t retry_ms;        /* no snapshot is tried before */
    sl_value_t *vals;        /* scratch: a row read again, its values in rowbuf */
    sl_buf_t rowbuf;
    pthread_mutex_t mu;
} sl_copy_t;

#define SL_COPY_MAX_COLS 4096 /* columns of a row read again (PostgreSQL allows 1600) */

/* cdc_copy.c */
int sl_cdc_copy_store_gens(sl_cdc_run_t *cd, sl_err_t *err);
/* Sends mark (JSON, consumed) for table ti to lane j, and applies it to the reader's
 * view of the lane. */
int sl_cdc_copy_mark(sl_cdc_run_t *cd, int ti, int j, json_t *mark, sl_err_t *err);
/* A window was opened or closed outside the marks (a row read again). */
void sl_cdc_copy_windows_changed(sl_cdc_run_t *cd);
/* Starts a new generation of table ti's copy (rid: the resync request, or NULL). */
int sl_cdc_copy_new_gen(sl_cdc_run_t *cd, int ti, const char *rid, sl_err_t *err);

/* cdc_copy_read.c: reading from the source beside the stream. */
/* Decides whether table ti is copied in chunks or in one piece (T->ordered). */
int sl_cdc_copy_order(sl_cdc_run_t *cd, int ti, sl_err_t *err);
/* Reads the next chunk (or the one piece) of table ti and sends it: 1 when sent, 0
 * when the snapshot cannot be taken yet, -1 on failure. */
int sl_cdc_copy_chunk(sl_cdc_run_t *cd, int ti, sl_err_t *err);
/* The insert half of a key change alone (cdc_copy.c): out[0] an INSERT of the new row,
 * whole (*n 1), or nothing (*n 0: the row is gone again). */
int sl_cdc_copy_insert_half(sl_cdc_run_t *cd, copy_table_t *T, const sl_table_t *t, const sl_change_t *c, sl_change_t *out,
                            int *n, sl_err_t *err);

/* cdc_tables.c: requests to change the table set while the stream runs. */
bool sl_cdc_tables_pending(sl_cdc_run_t *cd);
int sl_cdc_tables_apply(sl_cdc_run_t *cd, sl_err_t *err);

/* cdc_reader.c: sending a change to lane `lane` (marks, copy rows), and the lane a
 * change goes to. */
int sl_cdc_reader_put(sl_cdc_run_t *cd, int lane, const sl_change_t *c, sl_err_t *err);
int sl_cdc_reader_lane(const sl_cdc_run_t *cd, const sl_change_t *c);

#endif
