/*
 * js_events.c - the JetStream advisories and metrics on $JS.EVENT.>, with
 * nats-server 2.9's subjects, types (io.nats.jetstream.advisory.v1.* and
 * io.nats.jetstream.metric.v1.consumer_ack) and JSON members, in its
 * order.  They are published in the account of the stream, from the
 * JetStream thread through js_reply: after the turn's commit, so nobody
 * hears of a stream that a crash could still take back, and in the order
 * nats-server sends them (a stream's advisory before the API audit of the
 * request that made it).
 *
 * The audit's "client" has the account and the server only: the core does
 * not tell the module who sent a request (nats-server adds the RTT and,
 * with the client's connection, more).
 */
#include "js_events.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ADV "io.nats.jetstream.advisory.v1."
#define EV_PREFIX "$JS.EVENT.ADVISORY."

/* ---- ids and times ---- */

/* A NUID-like id: 22 base62 characters, a random prefix and a counter
 * (unique per process; JetStream thread only). */
static void new_id(char out[23])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static char prefix[13];
    static uint64_t seq;
    if (!prefix[0]) {
        unsigned char r[12] = {0};
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
            uint64_t t = (uint64_t)js_now_ns() ^ (uint64_t)getpid() << 32;
            for (size_t i = 0; i < sizeof r; i++, t = t * 6364136223846793005ULL + 1)
                r[i] = (unsigned char)(t >> 56);
        }
        if (fd >= 0)
            close(fd);
        for (size_t i = 0; i < 12; i++)
            prefix[i] = digits[r[i] % 62];
        seq = (uint64_t)js_now_ns() % 839299365868340224ULL;   /* 62^10 */
    }
    memcpy(out, prefix, 12);
    uint64_t v = ++seq;
    for (int i = 21; i >= 12; i--) {
        out[i] = digits[v % 62];
        v /= 62;
    }
    out[22] = 0;
}

/* {"type","id","timestamp"}: the head of every event. */
static json_t *event(const char *type)
{
    char id[23], t[64];
    new_id(id);
    js_fmt_time(t, sizeof t, js_now_ns());
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "timestamp", json_string(t));
    return o;
}

/* Dump o (taken) as Go's encoder writes it (<, > and & escaped: they only
 * occur inside strings) and publish it on subj in acc. */
static void publish(modnats_account *acc, const char *subj, json_t *o)
{
    if (js_g.domain)
        json_object_set_new(o, "domain", json_string(js_g.domain));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt || !acc)
        goto out;
    size_t extra = 0, n = 0;
    for (const char *p = txt; *p; p++, n++)
        extra += (*p == '<' || *p == '>' || *p == '&') * 5;
    if (extra) {
        char *esc = malloc(n + extra + 1), *w = esc;
        if (!esc)
            goto out;
        for (const char *p = txt; *p; p++) {
            if (*p == '<' || *p == '>' || *p == '&')
                w += sprintf(w, "\\u%04x", (unsigned)*p);
            else
                *w++ = *p;
        }
        *w = 0;
        free(txt);
        txt = esc;
    }
    js_reply(acc, subj, strlen(subj), NULL, 0, txt, strlen(txt), false);
out:
    free(txt);
}

static void subject2(char *buf, size_t len, const char *what, const char *a, const char *b)
{
    if (b)
        snprintf(buf, len, EV_PREFIX "%s.%s.%s", what, a, b);
    else
        snprintf(buf, len, EV_PREFIX "%s.%s", what, a);
}

/* ---- advisories ---- */

void js_ev_api_audit(const js_job *j, const char *resp)
{
    if (!j || !j->acc || !resp)
        return;
    /* as nats-server: a message got is not audited, a failed get is */
    if (strstr(j->subject, ".API.STREAM.MSG.GET.") && !strstr(resp, "\"error\":{"))
        return;
    const char *sid = js_g.api->server_id();
    json_t *o = event(ADV "api_audit");
    json_object_set_new(o, "server", json_string(sid));
    json_t *c = json_object();
    json_object_set_new(c, "acc", json_string(js_g.api->account_name(j->acc)));
    json_object_set_new(c, "server", json_string(sid));
    json_object_set_new(o, "client", c);
    json_object_set_new(o, "subject", json_stringn(j->subject, j->subject_len));
    if (j->data_len) {    /* not UTF-8: jansson refuses it, the audit goes without */
        json_t *rq = json_stringn(j->data, j->data_len);
        if (rq)
            json_object_set_new(o, "request", rq);
    }
    json_object_set_new(o, "response", json_string(resp));
    publish(j->acc, EV_PREFIX "API", o);
}

void js_ev_stream_action(modnats_account *acc, const char *stream, const char *action)
{
    const char *what = !strcmp(action, "create") ? "STREAM.CREATED"
                     : !strcmp(action, "delete") ? "STREAM.DELETED" : "STREAM.UPDATED";
    char subj[600];
    subject2(subj, sizeof subj, what, stream, NULL);
    json_t *o = event(ADV "stream_action");
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "action", json_string(action));
    publish(acc, subj, o);
}

void js_ev_consumer_action(modnats_account *acc, const char *stream, const char *consumer,
                           const char *action)
{
    char subj[600];
    subject2(subj, sizeof subj, !strcmp(action, "create") ? "CONSUMER.CREATED" : "CONSUMER.DELETED",
             stream, consumer);
    json_t *o = event(ADV "consumer_action");
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "consumer", json_string(consumer));
    json_object_set_new(o, "action", json_string(action));
    publish(acc, subj, o);
}

void js_ev_stream_deleted(js_stream *s)
{
    for (size_t i = 0; i < s->ncons; i++)
        js_ev_consumer_action(s->acc, s->cfg.name, js_consumer_name(s, i), "delete");
    js_ev_stream_action(s->acc, s->cfg.name, "delete");
}

void js_ev_max_deliver(modnats_account *acc, const char *stream, const char *consumer,
                       uint64_t sseq, uint64_t deliveries)
{
    char subj[600];
    subject2(subj, sizeof subj, "CONSUMER.MAX_DELIVERIES", stream, consumer);
    json_t *o = event(ADV "max_deliver");
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "consumer", json_string(consumer));
    json_object_set_new(o, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(o, "deliveries", json_integer((json_int_t)deliveries));
    publish(acc, subj, o);
}

void js_ev_terminated(modnats_account *acc, const char *stream, const char *consumer,
                      uint64_t cseq, uint64_t sseq, uint64_t deliveries)
{
    char subj[600];
    subject2(subj, sizeof subj, "CONSUMER.MSG_TERMINATED", stream, consumer);
    json_t *o = event(ADV "terminated");
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "consumer", json_string(consumer));
    json_object_set_new(o, "consumer_seq", json_integer((json_int_t)cseq));
    json_object_set_new(o, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(o, "deliveries", json_integer((json_int_t)deliveries));
    publish(acc, subj, o);
}

/* sample_freq "N" or "N%" (0-100) -> N; -1: none or not a percentage. */
static int sample_pct(json_t *cfg)
{
    const char *f = json_string_value(json_object_get(cfg, "sample_freq"));
    if (!f || !*f)
        return -1;
    char *end;
    long v = strtol(f, &end, 10);
    if (end == f || (*end && strcmp(end, "%") != 0) || v < 0 || v > 100)
        return -1;
    return (int)v;
}

void js_ev_ack(modnats_account *acc, const char *stream, const char *consumer, json_t *cfg,
               uint64_t cseq, uint64_t sseq, uint64_t deliveries, int64_t ack_ns)
{
    static unsigned seed;
    int pct = sample_pct(cfg);
    if (pct <= 0)
        return;
    if (!seed)
        seed = (unsigned)js_now_ns() | 1u;
    if (pct < 100 && (int)(rand_r(&seed) % 100) >= pct)
        return;
    char subj[600];
    snprintf(subj, sizeof subj, "$JS.EVENT.METRIC.CONSUMER.ACK.%s.%s", stream, consumer);
    json_t *o = event("io.nats.jetstream.metric.v1.consumer_ack");
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "consumer", json_string(consumer));
    json_object_set_new(o, "consumer_seq", json_integer((json_int_t)cseq));
    json_object_set_new(o, "stream_seq", json_integer((json_int_t)sseq));
    json_object_set_new(o, "ack_time", json_integer((json_int_t)(ack_ns > 0 ? ack_ns : 0)));
    json_object_set_new(o, "deliveries", json_integer((json_int_t)deliveries));
    publish(acc, subj, o);
}
