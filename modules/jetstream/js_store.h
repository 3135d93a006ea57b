/*
 * js_store.h - the jetstream module's storage layer: streams, messages and
 * their indexes in one RocksDB database (docs/adr-001-jetstream-storage.md).
 *
 * Nothing here knows NATS or JSON: a stream is an id, messages are
 * (seq, time, subject, headers, data).  Writes go into one pending batch
 * (a WriteBatchWithIndex, so reads see them at once) until js_db_commit
 * writes it, with fsync when asked.  Not thread-safe: one thread (the
 * module's JetStream thread) owns a js_db.
 *
 * Ownership: every string argument is copied; a js_msg returned is the
 * caller's (js_msg_free).  Subjects are not NUL-terminated where a length
 * is given.
 */
#ifndef JS_STORE_H
#define JS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct js_db js_db;

/* What the `state` family keeps per stream. */
typedef struct js_state {
    uint64_t first_seq, last_seq, msgs, bytes;
    int64_t  first_ts, last_ts;      /* ns since the epoch; 0: none */
} js_state;

/* One stored message; subject, hdr and data point into buf. */
typedef struct js_msg {
    uint64_t    seq;
    int64_t     ts;
    const char *subject;  size_t subject_len;
    const char *hdr;      size_t hdr_len;
    const char *data;     size_t data_len;
    char       *buf;
} js_msg;

void js_msg_free(js_msg *m);

/* Open (creating) the database in dir; memory: an in-memory database
 * (RocksDB's MemEnv; dir is only a name).  NULL with a message in err. */
js_db *js_db_open(const char *dir, bool memory, char *err, size_t errlen);
/* Drops any uncommitted writes. */
void   js_db_close(js_db *db);

/* Write the pending batch (sync: fsync the WAL first).  0, or -1 with the
 * error in err.  Nothing pending: 0 at once. */
int    js_db_commit(js_db *db, bool sync, char *err, size_t errlen);
bool   js_db_pending(const js_db *db);
/* fsync the WAL (for sync = interval). */
int    js_db_sync_wal(js_db *db);

/* ---- streams ---- */

/* A new stream id (the counter is part of the pending batch). */
uint64_t js_db_new_id(js_db *db);
void     js_db_put_stream(js_db *db, uint64_t id, const char *account, const char *name,
                          const char *config, int64_t created_ns);
/* Forget the stream's meta record, state, every message and every
 * consumer (commits the pending batch first: the range deletes are
 * written directly). */
int      js_db_drop_stream(js_db *db, uint64_t id, const char *account, const char *name);
/* Every message of the stream, its indexes and counts (committing the
 * pending batch first). */
int      js_db_purge_msgs(js_db *db, uint64_t id);
/* Every stream stored, in key order (account, name). */
typedef void (*js_stream_fn)(void *ud, uint64_t id, const char *account, const char *name,
                             const char *config, int64_t created_ns);
int      js_db_streams_foreach(js_db *db, js_stream_fn fn, void *ud);

bool js_db_get_state(js_db *db, uint64_t id, js_state *out);
void js_db_put_state(js_db *db, uint64_t id, const js_state *st);

/* ---- consumers: config and state records, keyed by stream id + name ---- */

void js_db_put_consumer(js_db *db, uint64_t id, const char *name, const char *config,
                        int64_t created_ns);
/* Forget a consumer's config and state. */
void js_db_del_consumer(js_db *db, uint64_t id, const char *name);
typedef void (*js_consumer_fn)(void *ud, const char *name, const char *config,
                               int64_t created_ns);
int  js_db_consumers_foreach(js_db *db, uint64_t id, js_consumer_fn fn, void *ud);
/* The consumer's state blob (opaque here); get: malloc'd, NULL if none. */
void  js_db_put_cstate(js_db *db, uint64_t id, const char *name, const void *blob, size_t len);
void *js_db_get_cstate(js_db *db, uint64_t id, const char *name, size_t *len);

/* ---- messages ---- */

/* Store a message: the message record, its subject index entry and the
 * subject's count. */
void    js_db_put_msg(js_db *db, uint64_t id, uint64_t seq, int64_t ts,
                      const char *subj, size_t slen, const char *hdr, size_t hlen,
                      const char *data, size_t dlen);
/* The message with this seq, or NULL. */
js_msg *js_db_get_msg(js_db *db, uint64_t id, uint64_t seq);
/* The first message with seq >= from whose subject matches filter (NULL or
 * ">": any), or NULL. */
js_msg *js_db_next_msg(js_db *db, uint64_t id, uint64_t from, const char *filter);
/* Up to max of the messages js_db_next_msg would give one after the other
 * from `from` (each the caller's), read with one iterator; the count. */
size_t  js_db_next_msgs(js_db *db, uint64_t id, uint64_t from, const char *filter,
                        js_msg **out, size_t max);
/* Remove a message (and its index entry and count); false when absent.
 * *m (may be NULL) receives the removed message. */
bool    js_db_del_msg(js_db *db, uint64_t id, uint64_t seq, js_msg **m);

/* Last / first seq stored for a literal subject (0: none; first: >= from). */
uint64_t js_db_last_seq_by_subject(js_db *db, uint64_t id, const char *subj, size_t slen);
uint64_t js_db_first_seq_by_subject(js_db *db, uint64_t id, const char *subj, size_t slen,
                                    uint64_t from);
/* Messages stored for a literal subject. */
uint64_t js_db_subject_count(js_db *db, uint64_t id, const char *subj, size_t slen);
/* Every subject with its count (subject NUL-terminated, valid in the call). */
typedef void (*js_subject_fn)(void *ud, const char *subj, uint64_t count);
int      js_db_subjects_foreach(js_db *db, uint64_t id, js_subject_fn fn, void *ud);

/* Does the literal subject match the filter (tokens, '*' and '>')? */
bool js_subject_match(const char *filter, const char *subj, size_t slen);

#endif
