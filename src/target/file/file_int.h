/*
 * file_int.h: internals of the file target (file:// and s3:// URLs), shared by its
 * files: file_target.c (the sl_target_ops table, transactions, checkpoints),
 * file_opts.c (URL options), file_state.c (checkpoint objects, intent records and
 * their recovery, the manifest), file_part.c (spool files, encoders, flushing),
 * file_cdc.c (change records). docs/files.md describes the layout and the protocol.
 *
 * A file target is a format (target/fmt/) paired with a store (target/store/). One
 * ftgt_t is one "connection" of the engine: one writer lane, used by one thread.
 * Rows are encoded into local spool files; a checkpoint put inside a transaction is
 * kept in memory (a slot's `pending`) until its files are flushed: intent record,
 * data files, checkpoint object, intent removed.
 *
 * Ownership: an ftgt_t owns its store, options, slots and parts; tables passed in by
 * the engine are borrowed for the call, so a part keeps its own copy of the table.
 */
#ifndef SL_TARGET_FILE_FILE_INT_H
#define SL_TARGET_FILE_FILE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "model/change.h"
#include "target/fmt/fmt.h"
#include "target/store/store.h"
#include "target/target.h"

typedef struct fopts {
    const struct sl_fmt_ops *fmt;
    sl_fmt_opts_t fo;
    int64_t rotate_rows;    /* 0 = no limit */
    int64_t rotate_bytes;   /* 0 = no limit */
    int64_t rotate_seconds; /* 0 = no limit; -1 = not given (sl_file_rotate_seconds) */
    bool change_columns;    /* load files get the change files' leading columns (file_cdc.c) */
    char *partition_by;     /* a date/timestamp column name, or NULL */
    char *spool_dir;        /* where files are encoded before they are stored */
    bool spool_given;       /* spool_dir came from the URL */
    bool spool_temp;        /* spool_dir is a temporary directory of this target's own */
    uint64_t spool_tag;     /* random, in this target's spool file names: no name of a dead
                             * run (whose pid may come back) is ever met again */
} fopts_t;

/* One file being written: rows of one table (and one date partition) for one slot. */
typedef struct fpart {
    char *table;       /* the target table's name: the directory */
    char *dt;          /* date partition value, or NULL */
    char *sig;         /* column signature "name:type,..." (a schema change opens a new part) */
    sl_table_t *shape; /* owned copy of the table the encoder writes (CDC: with _op, _pos…) */
    const struct sl_fmt_ops *fmt;
    sl_fmt_opts_t fo;  /* the format's options (the target's, or a rejects file's) */
    sl_fmt_enc_t *enc;
    int fd;
    char *spool;       /* spool file path */
    int64_t rows;
    sl_pos_t first, last; /* CDC: positions of the first and last change in the part */
} fpart_t;

/* One checkpoint key with data not yet durable (load: a stripe "s:N"; CDC: a lane
 * "cdc:N"). */
typedef struct fslot {
    char *key;
    json_t *durable;      /* the checkpoint object in the store (NULL: none yet) */
    sl_ckpt_t pending;    /* the engine's last ckpt_put (position owned) */
    bool has_pending;
    int64_t batches;      /* load: batches of the stripe written, durable or spooled */
    bool reset;           /* delete_all: the stripe's durable files are replaced */
    bool dirty;           /* changed inside the open transaction */
    fpart_t **parts;
    int nparts;
    time_t opened;        /* when the slot got its first part or pending checkpoint
                             since it was last stored (rotation by time) */
} fslot_t;

typedef struct ftgt {
    sl_target_t base;
    sl_store_t *st;
    sl_url_t *url;  /* kept: options borrow strings from it */
    fopts_t o;
    char *url_id;   /* scheme://host/path: identifies the store for the manifest cache */
    char *stream;   /* set by the first checkpoint call */
    fslot_t **slots;
    int nslots;
    bool in_txn;
    fslot_t *cur;   /* the slot of the transaction's ckpt_get */
    unsigned spool_seq;
} ftgt_t;

/* ---- file_opts.c ---- */
/* Parses the file target's own parameters from url into o and returns (in *rest) a
 * copy of the URL without them, for the store (which refuses what it does not know).
 * rest->params points into url: free it with free(rest->params) only. */
int sl_file_opts_parse(const sl_url_t *url, fopts_t *o, sl_url_t *rest, sl_err_t *err);
void sl_file_opts_free(fopts_t *o);
/* rotate_seconds for change files (changes) or load files: as given, else 60 or 0. */
int64_t sl_file_rotate_seconds(const fopts_t *o, bool changes);
/* Refuses table names that are unsafe as a directory name. */
int sl_file_check_table_name(const char *name, sl_err_t *err);

/* file_spool.c: the private spool. */
/* The default spool_dir of url (caller frees): beside the data for file://, else
 * <data dir>/spool, else NULL (a temporary directory, made by prepare). */
char *sl_file_spool_default(const sl_url_t *url);
/* Makes o->spool_dir (0700) and checks that it is this user's and private; given: it
 * came from the URL (refused when wider than 0700 rather than narrowed). */
int sl_file_spool_prepare(fopts_t *o, bool given, sl_err_t *err);
/* Creates spool file path, 0600, never an existing file or through a symlink: the fd. */
int sl_file_spool_open(const char *path, sl_err_t *err);

/* ---- file_state.c ---- */
/* "_sluice/<stream>/<dir>/<key>.json" with the key made safe for a file name. */
void sl_file_state_key(const char *stream, const char *dir, const char *ckey, char *out, int size);
/* Reads the durable checkpoint object of ckey (after rolling its intent forward or
 * back); *obj NULL when none. */
int sl_file_ckpt_load(ftgt_t *ft, const char *ckey, json_t **obj, sl_err_t *err);
/* The engine's view of a checkpoint object. */
void sl_file_ckpt_from_json(const json_t *obj, sl_ckpt_t *ck);
json_t *sl_file_ckpt_to_json(const char *ckey, const sl_ckpt_t *ck, int64_t batches, json_t *files);
/* Puts a checkpoint object (autocommit) and refreshes the manifest when it has files. */
int sl_file_ckpt_store(ftgt_t *ft, const char *ckey, json_t *obj, sl_err_t *err);
/* Rolls forward or back every intent record of the stream. */
int sl_file_recover_all(ftgt_t *ft, sl_err_t *err);
/* Writes intent, files, checkpoint; removes dropped files and the intent. files_new:
 * [[spool path, key], …]; drop: keys to delete once the checkpoint is in. */
int sl_file_commit_files(ftgt_t *ft, const char *ckey, json_t *ckobj, json_t *files_new, json_t *drop,
                         sl_err_t *err);
/* Forgets the cached manifest of the stream (after ckpt_delete). */
void sl_file_manifest_forget(ftgt_t *ft);

/* ---- file_part.c ---- */
fslot_t *sl_file_slot_find(ftgt_t *ft, const char *key);
fslot_t *sl_file_slot_add(ftgt_t *ft, const char *key, json_t *durable);
/* Drops the slot's spooled data and pending checkpoint (the store is untouched). */
void sl_file_slot_discard(ftgt_t *ft, fslot_t *s);
/* The part of slot s for (table shape, dt), opened on first use. */
int sl_file_part_get(ftgt_t *ft, fslot_t *s, const sl_table_t *shape, const char *table, const char *dt,
                     fpart_t **out, sl_err_t *err);
/* The slot's part for rejected rows: JSONL under _sluice/rejects/<stream>/, whatever
 * the target's format (file_target.c rejects_write). */
int sl_file_rejects_part(ftgt_t *ft, fslot_t *s, fpart_t **out, sl_err_t *err);
/* Whether the slot's spooled files should be stored now (rotation; all: everything). */
bool sl_file_slot_due(const ftgt_t *ft, const fslot_t *s, bool all);
/* Notes the time a clean slot gets its first part or pending checkpoint. */
void sl_file_slot_touch(fslot_t *s);
/* Finishes the slot's files, stores them with the pending checkpoint, and resets
 * the slot to the new durable state. On failure the slot is discarded. */
int sl_file_slot_flush(ftgt_t *ft, fslot_t *s, sl_err_t *err);
/* Writes the rows of a load batch into slot s. */
int sl_file_write_batch(ftgt_t *ft, fslot_t *s, const sl_table_t *t, sl_batch_view_t *batch,
                        sl_err_t *err);

/* ---- file_cdc.c ---- */
#define SL_FILE_NLEAD 5 /* _op, _pos, _commit_ts, _unchanged, _old_key */
/* The table of change records: the five leading columns, then t's (all nullable, no
 * key); an error when t has a column of one of those names. Caller frees. */
sl_table_t *sl_file_change_shape(const sl_table_t *t, sl_err_t *err);
/* The leading values of an initial-load row: _op "read", _pos zero, the rest NULL. */
void sl_file_snapshot_lead(sl_value_t *vals);
int sl_file_write_changes(ftgt_t *ft, fslot_t *s, const sl_table_t *t, const sl_change_t *chs, int n,
                          sl_err_t *err);

#endif
