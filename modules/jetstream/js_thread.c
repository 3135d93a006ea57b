/*
 * js_thread.c - the JetStream thread: group commit.
 *
 * The thread takes every job queued since it last looked, applies them in
 * order (each may queue replies with js_reply), writes the file database's
 * pending batch once (fsync'd with sync = always) and the memory
 * database's, and only then publishes the replies.  So a PubAck never
 * leaves before its message is as durable as the policy says, and every
 * publish that arrived during one fsync shares the next.
 *
 * The wait for jobs times out at the next max_age expiry, and, with
 * sync = interval, at the next WAL sync.
 *
 * Only a turn that promises durability fsyncs: one with a publish or an
 * API request (stream and consumer changes, AckSync).  A turn of plain
 * acks, pull requests and deliveries writes consumer state only; it goes
 * to the WAL unsynced and the next fsync'd write takes it along (RocksDB
 * syncs every earlier WAL write with it), or, if none comes, a WAL sync
 * at most JS_LAZY_SYNC_NS (20 ms) later.  A power cut can then forget the
 * last 20 ms of plain acks or deliveries: messages come again, as
 * at-least-once allows (nats-server may forget minutes of them); no
 * PubAck'd message and no answered ack is ever lost.
 */
#include "jetstream.h"
#include "js_events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct js_out {
    struct js_out   *next;
    modnats_account *acc;
    bool             is_ack;
    char            *subj;  size_t slen;
    char            *reply; size_t rlen;
    char            *das;   size_t daslen;   /* deliver_as: shown subject */
    char            *hdr;   size_t hlen;
    char            *data;  size_t dlen;
} js_out;

static void queue_out(modnats_account *acc, const char *subj, size_t slen, const char *reply,
                      size_t rlen, const char *das, size_t daslen, const char *hdr, size_t hlen,
                      const char *data, size_t dlen, bool is_ack)
{
    if (!slen)
        return;
    js_out *o = malloc(sizeof *o + slen + rlen + daslen + hlen + dlen + 5);
    if (!o)
        return;
    char *p = (char *)(o + 1);
    o->next = NULL;
    o->acc = acc;
    o->is_ack = is_ack;
    o->subj = p;
    memcpy(p, subj, slen);
    p[slen] = 0;
    o->slen = slen;
    p += slen + 1;
    o->reply = p;
    if (rlen)
        memcpy(p, reply, rlen);
    p[rlen] = 0;
    o->rlen = rlen;
    p += rlen + 1;
    o->das = p;
    if (daslen)
        memcpy(p, das, daslen);
    p[daslen] = 0;
    o->daslen = daslen;
    p += daslen + 1;
    o->hdr = p;
    if (hlen)
        memcpy(p, hdr, hlen);
    p[hlen] = 0;
    o->hlen = hlen;
    p += hlen + 1;
    o->data = p;
    if (dlen)
        memcpy(p, data, dlen);
    p[dlen] = 0;
    o->dlen = dlen;
    if (js_g.out_tail)
        js_g.out_tail->next = o;
    else
        js_g.out_head = o;
    js_g.out_tail = o;
}

void js_reply(modnats_account *acc, const char *subj, size_t slen, const char *hdr, size_t hlen,
              const char *data, size_t dlen, bool is_ack)
{
    queue_out(acc, subj, slen, NULL, 0, NULL, 0, hdr, hlen, data, dlen, is_ack);
}

void js_reply_msg(modnats_account *acc, const char *subj, const modnats_msg *m)
{
    queue_out(acc, subj, strlen(subj), m->reply, m->reply_len, m->subject, m->subject_len,
              m->hdr, m->hdr ? m->hdr_len : 0, m->data, m->data ? m->data_len : 0, false);
}

/* Send (or, failed: turn the PubAcks into errors) and free the replies. */
static void send_replies(const char *failure)
{
    char errjson[600];
    if (failure)
        snprintf(errjson, sizeof errjson,
                 "{\"error\":{\"code\":503,\"err_code\":10077,\"description\":\"%.500s\"}}",
                 failure);
    js_out *o = js_g.out_head;
    js_g.out_head = js_g.out_tail = NULL;
    while (o) {
        js_out *next = o->next;
        modnats_msg m = {.size = sizeof m, .subject = o->subj, .subject_len = o->slen,
                         .reply = o->rlen ? o->reply : NULL, .reply_len = o->rlen,
                         .deliver_as = o->daslen ? o->das : NULL, .deliver_as_len = o->daslen};
        if (failure && o->is_ack) {
            m.data = errjson;
            m.data_len = strlen(errjson);
        } else {
            m.hdr = o->hlen ? o->hdr : NULL;
            m.hdr_len = o->hlen;
            m.data = o->data;
            m.data_len = o->dlen;
        }
        js_g.api->publish(js_g.self, o->acc, &m, js_g.origin);
        free(o);
        o = next;
    }
}

/* Whether this turn has a job whose reply promises durability. */
static bool turn_durable = true;

/* Plain acks ($JS.ACK without a reply), flow control answers and pull
 * requests change only consumer state. */
static bool needs_sync(const js_job *j)
{
    if (j->kind == JS_JOB_PUB)
        return true;
    if (j->kind != JS_JOB_API)
        return false;
    const char *p = j->subject;
    if (!strncmp(p, "$JS.ACK.", 8))
        return j->reply_len > 0;
    if (!strncmp(p, "$JS.FC.", 7))
        return false;
    const char *a = strstr(p, "API.CONSUMER.MSG.NEXT.");
    if (a && !strncmp(p, "$JS.", 4) && (a == p + 4 || strchr(p + 4, '.') == a - 1))
        return false;    /* $JS.API.CONSUMER.MSG.NEXT or $JS.<domain>.API.... */
    return true;
}

static void run_job(js_job *j)
{
    if (!turn_durable && needs_sync(j))
        turn_durable = true;
    switch (j->kind) {
    case JS_JOB_API:
        js_api_handle(j);
        break;
    case JS_JOB_PUB: {
        js_stream *s = js_stream_by_id(j->stream_id);
        if (s)
            js_stream_publish(s, j);
        break;
    }
    case JS_JOB_DIRECT:
        js_direct_get(j);
        break;
    case JS_JOB_INTEREST:
        js_consumers_interest(j->acc, j->subject);
        break;
    case JS_JOB_MON:
        js_jsz_run(j);
        break;
    }
}

/* sync = always: when the oldest write not yet fsync'd (plain acks,
 * deliveries) went to the WAL, 0 if none.  It is fsync'd at the latest
 * JS_LAZY_SYNC_NS later, even if no publish comes to take it along. */
#define JS_LAZY_SYNC_NS (20 * 1000000LL)
static int64_t unsynced_ns;

static void commit(void)
{
    char err[512];
    const char *failure = NULL;
    js_streams_flush_state();
    bool sync = js_g.sync_always && turn_durable;
    turn_durable = false;
    if (js_g.sync_always) {
        if (sync)
            unsynced_ns = 0;    /* this fsync takes the earlier writes along */
        else if (!unsynced_ns && js_db_pending(js_g.fdb))
            unsynced_ns = js_now_ns();
    }
    if (js_db_commit(js_g.fdb, sync, err, sizeof err) != 0 ||
        js_db_commit(js_g.mdb, false, err, sizeof err) != 0) {
        js_log(MODNATS_LOG_ERROR, "store write failed, acknowledging nothing: %s", err);
        failure = err;
    }
    send_replies(failure);
}

static void *thread_main(void *arg)
{
    (void)arg;
    int64_t next_sync = js_now_ns() + js_g.sync_interval_ms * 1000000;
    int64_t next_expiry = 0, next_tick = 0;
    bool more = false;
    js_streams_expire(js_now_ns(), &next_expiry);
    commit();
    for (;;) {
        pthread_mutex_lock(&js_g.lock);
        while (!js_g.head && !js_g.stop && !more) {
            int64_t wake = next_expiry;
            if (next_tick && (!wake || next_tick < wake))
                wake = next_tick;
            if (!js_g.sync_always && (!wake || next_sync < wake))
                wake = next_sync;
            if (unsynced_ns && (!wake || unsynced_ns + JS_LAZY_SYNC_NS < wake))
                wake = unsynced_ns + JS_LAZY_SYNC_NS;
            if (!wake || wake - js_now_ns() > 1000000000)
                wake = js_now_ns() + 1000000000;    /* at least once a second */
            if (wake <= js_now_ns())
                break;
            struct timespec ts = {.tv_sec = wake / 1000000000, .tv_nsec = wake % 1000000000};
            if (pthread_cond_timedwait(&js_g.cond, &js_g.lock, &ts) == ETIMEDOUT)
                break;
        }
        /* At most JS_BATCH_MAX jobs or bytes per commit: the batch (and
         * its index) stays bounded however far the publishers are ahead. */
        js_job *jobs = js_g.head, *last = NULL;
        size_t n = 0, bytes = 0;
        for (js_job *q = jobs; q && n < JS_BATCH_MAX_JOBS && bytes < JS_BATCH_MAX_BYTES;
             q = q->next) {
            n++;
            bytes += js_job_bytes(q);
            last = q;
        }
        if (last) {
            js_g.head = last->next;
            if (!js_g.head)
                js_g.tail = NULL;
            last->next = NULL;
            js_g.queued_bytes -= bytes;
        }
        bool stop = js_g.stop && !js_g.head;
        pthread_mutex_unlock(&js_g.lock);

        while (jobs) {
            js_job *next = jobs->next;
            run_job(jobs);
            free(jobs);
            jobs = next;
        }
        int64_t now = js_now_ns();
        if (next_expiry && now >= next_expiry) {
            next_expiry = 0;
            js_streams_expire(now, &next_expiry);
        } else if (!next_expiry) {
            js_streams_expire(now, &next_expiry);
        }
        next_tick = 0;
        more = false;
        js_mirrors_run(now, &more);
        js_streams_tick(now, &next_tick, &more);
        commit();
        if (unsynced_ns && js_now_ns() >= unsynced_ns + JS_LAZY_SYNC_NS) {
            if (js_db_sync_wal(js_g.fdb) != 0)
                js_log(MODNATS_LOG_ERROR, "WAL sync failed");
            unsynced_ns = 0;
        }
        if (!js_g.sync_always && now >= next_sync) {
            if (js_db_sync_wal(js_g.fdb) != 0)
                js_log(MODNATS_LOG_ERROR, "WAL sync failed");
            next_sync = now + js_g.sync_interval_ms * 1000000;
        }
        if (stop)
            break;
    }
    /* Whatever was written without fsync (sync = interval) is synced now. */
    js_db_sync_wal(js_g.fdb);
    return NULL;
}

int js_thread_start(char *err, size_t errlen)
{
    int rc = pthread_create(&js_g.thread, NULL, thread_main, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the JetStream thread: %s", strerror(rc));
        return -1;
    }
    js_g.thread_started = true;
    return 0;
}

void js_thread_stop(void)
{
    if (!js_g.thread_started)
        return;
    pthread_mutex_lock(&js_g.lock);
    js_g.stop = true;
    pthread_cond_signal(&js_g.cond);
    pthread_mutex_unlock(&js_g.lock);
    pthread_join(js_g.thread, NULL);
    js_g.thread_started = false;
    /* Jobs queued after the last turn: dropped. */
    while (js_g.head) {
        js_job *j = js_g.head;
        js_g.head = j->next;
        if (j->kind == JS_JOB_MON)
            js_jsz_drop(j);
        free(j);
    }
    js_g.tail = NULL;
}
