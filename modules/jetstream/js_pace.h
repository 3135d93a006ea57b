/*
 * js_pace.h - the pace of a consumer's deliveries: replay_policy
 * "original" (each message waits the gap between its stream timestamp and
 * the previous delivery's, until the consumer has caught up with the
 * stream as it was when delivery started) and rate_limit_bps (a token
 * bucket in bytes: bps / 8 per second, as deep as the largest message the
 * stream takes, full at the start), both as nats-server paces them.
 *
 * Plain state, no allocation: the consumer embeds a js_pace, asks
 * js_pace_hold() before each delivery and calls js_pace_sent() after it.
 * Runs on the JetStream thread only.
 */
#ifndef JS_PACE_H
#define JS_PACE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct js_pace {
    /* replay original */
    bool     replay;        /* configured */
    int      replay_state;  /* 0: not started, 1: replaying, 2: caught up */
    uint64_t replay_until;  /* the stream's last sequence when it started */
    int64_t  last_ts;       /* stream timestamp of the previous delivery; 0: none */
    int64_t  last_at;       /* when it left */
    /* rate limit */
    int64_t  bytes_per_s;   /* 0: none */
    int64_t  burst;         /* bucket depth, bytes */
    double   tokens;
    int64_t  refill_at;     /* ns; 0: bucket not filled yet */
} js_pace;

/* Configure from the consumer config's values; keeps the running state. */
void js_pace_config(js_pace *p, bool replay_original, int64_t rate_limit_bps, int64_t burst);

/* Start a replay against the stream's current last sequence (first use). */
void js_pace_start(js_pace *p, uint64_t stream_last_seq);

/* 0 when a message with stream timestamp msg_ts and size bytes may leave
 * at now; else the time (ns) to try again. */
int64_t js_pace_hold(js_pace *p, int64_t msg_ts, int64_t size, int64_t now);

/* A message left at now. */
void js_pace_sent(js_pace *p, int64_t msg_ts, int64_t size, int64_t now);

/* Nothing more to send right now, the consumer's last delivered stream
 * sequence being delivered_seq: a replay that reached its end is over. */
void js_pace_idle(js_pace *p, uint64_t delivered_seq);

#endif
