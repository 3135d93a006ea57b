/*
 * js_pace.c - replay_policy original and rate_limit_bps for consumers
 * (see js_pace.h).  nats-server sleeps in its delivery loop; the
 * JetStream thread cannot, so a held message stays where it is and the
 * consumer's tick comes back at the time js_pace_hold() names.
 */
#include "js_pace.h"

/* nats-server does not wait for gaps of a millisecond or less. */
#define REPLAY_MIN_GAP_NS 1000000

void js_pace_config(js_pace *p, bool replay_original, int64_t rate_limit_bps, int64_t burst)
{
    p->replay = replay_original;
    int64_t bps = rate_limit_bps > 0 ? rate_limit_bps / 8 : 0;
    if (burst <= 0)
        burst = 1;
    if (bps != p->bytes_per_s || burst != p->burst)
        p->refill_at = 0;    /* a new bucket, full */
    p->bytes_per_s = bps;
    p->burst = burst;
}

void js_pace_start(js_pace *p, uint64_t stream_last_seq)
{
    if (p->replay && p->replay_state == 0) {
        p->replay_state = 1;
        p->replay_until = stream_last_seq;
        p->last_ts = 0;
    }
}

static void refill(js_pace *p, int64_t now)
{
    if (!p->refill_at) {
        p->tokens = (double)p->burst;
    } else if (now > p->refill_at) {
        p->tokens += (double)(now - p->refill_at) * (double)p->bytes_per_s / 1e9;
        if (p->tokens > (double)p->burst)
            p->tokens = (double)p->burst;
    }
    p->refill_at = now;
}

int64_t js_pace_hold(js_pace *p, int64_t msg_ts, int64_t size, int64_t now)
{
    int64_t until = 0;
    if (p->replay_state == 1 && p->last_ts > 0 && msg_ts - p->last_ts > REPLAY_MIN_GAP_NS) {
        int64_t at = p->last_at + (msg_ts - p->last_ts);
        if (at > now)
            until = at;
    }
    if (p->bytes_per_s > 0) {
        refill(p, now);
        /* a message larger than the bucket waits for a full one */
        double need = (double)(size < p->burst ? size : p->burst);
        if (p->tokens < need) {
            int64_t at = now + (int64_t)((need - p->tokens) * 1e9 / (double)p->bytes_per_s) + 1;
            if (at > until)
                until = at;
        }
    }
    return until;
}

void js_pace_sent(js_pace *p, int64_t msg_ts, int64_t size, int64_t now)
{
    if (p->replay_state == 1) {
        p->last_ts = msg_ts;
        p->last_at = now;
    }
    if (p->bytes_per_s > 0) {
        refill(p, now);
        p->tokens -= (double)size;
    }
}

void js_pace_idle(js_pace *p, uint64_t delivered_seq)
{
    if (p->replay_state == 1 && delivered_seq >= p->replay_until)
        p->replay_state = 2;
}
