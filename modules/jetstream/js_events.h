/*
 * js_events.h - JetStream monitoring: the $JS.EVENT advisories and metrics
 * (js_events.c) and the "jetstream.jsz" service for /jsz and /varz
 * (js_jsz.c, contract in js_jsz.h).  Everything here runs on the
 * JetStream thread, except js_jsz_register / js_jsz_close (init, fini).
 * The events leave through js_reply, so after the turn's commit, in the
 * account of the stream, as nats-server publishes them.
 */
#ifndef JS_EVENTS_H
#define JS_EVENTS_H

#include "jetstream.h"

/* $JS.EVENT.ADVISORY.API (api_audit): request j answered with resp (the
 * JSON text of the reply). */
void js_ev_api_audit(const js_job *j, const char *resp);
/* $JS.EVENT.ADVISORY.STREAM.CREATED|UPDATED|DELETED.<stream>;
 * action "create", "modify" or "delete". */
void js_ev_stream_action(modnats_account *acc, const char *stream, const char *action);
/* A stream about to be deleted: CONSUMER.DELETED for each of its
 * consumers, then STREAM.DELETED (nats-server's order). */
void js_ev_stream_deleted(js_stream *s);
/* $JS.EVENT.ADVISORY.CONSUMER.CREATED|DELETED.<stream>.<consumer>. */
void js_ev_consumer_action(modnats_account *acc, const char *stream, const char *consumer,
                           const char *action);
/* $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>. */
void js_ev_max_deliver(modnats_account *acc, const char *stream, const char *consumer,
                       uint64_t sseq, uint64_t deliveries);
/* $JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.<stream>.<consumer>. */
void js_ev_terminated(modnats_account *acc, const char *stream, const char *consumer,
                      uint64_t cseq, uint64_t sseq, uint64_t deliveries);
/* $JS.EVENT.METRIC.CONSUMER.ACK.<stream>.<consumer>, when the consumer's
 * configuration (cfg) has a sample_freq and this ack falls in the sample;
 * ack_ns: from the delivery to the ack. */
void js_ev_ack(modnats_account *acc, const char *stream, const char *consumer, json_t *cfg,
               uint64_t cseq, uint64_t sseq, uint64_t deliveries, int64_t ack_ns);

/* js_jsz.c: register the service (init, after the thread started); close
 * it (first thing in fini: waits for calls in progress). */
void js_jsz_register(void);
void js_jsz_close(void);
/* A JS_JOB_MON job: run it (JetStream thread), or drop it unanswered. */
void js_jsz_run(const js_job *j);
void js_jsz_drop(const js_job *j);

/* Exported for the details of /jsz (js_api.c, js_consumer.c). */
json_t *js_stream_state_json(js_stream *s);
json_t *js_consumer_info_json(js_stream *s, size_t i);
const char *js_consumer_name(const js_stream *s, size_t i);

#endif
