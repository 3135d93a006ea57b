/*
 * itnats.h - small libnats helpers shared by the integration tests:
 * connecting with test-friendly options and checking natsStatus with a
 * message that says what failed.
 */
#ifndef MN_IT_NATS_H
#define MN_IT_NATS_H

#include <nats/nats.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

/* Fail the test if s is not NATS_OK, naming the call and libnats' error. */
#define IT_NATS_OK(call)                                                          \
    do {                                                                          \
        natsStatus it_s_ = (call);                                                \
        if (it_s_ != NATS_OK)                                                     \
            fail_msg("%s -> %s (%s)", #call, natsStatus_GetText(it_s_),           \
                     nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");     \
    } while (0)

/* Options every test connection uses: the server's URL, a bounded connect
 * timeout, no reconnect (tests that want it turn it on). */
static inline natsOptions *it_nats_opts(const it_server *s)
{
    natsOptions *o = NULL;
    IT_NATS_OK(natsOptions_Create(&o));
    IT_NATS_OK(natsOptions_SetURL(o, s->url));
    IT_NATS_OK(natsOptions_SetTimeout(o, 5000));
    IT_NATS_OK(natsOptions_SetAllowReconnect(o, false));
    return o;
}

static inline natsConnection *it_nats_connect_opts(natsOptions *o)
{
    natsConnection *nc = NULL;
    IT_NATS_OK(natsConnection_Connect(&nc, o));
    natsOptions_Destroy(o);
    return nc;
}

static inline natsConnection *it_nats_connect(const it_server *s)
{
    return it_nats_connect_opts(it_nats_opts(s));
}

static inline void it_nats_close(natsConnection *nc)
{
    if (nc) {
        natsConnection_Close(nc);
        natsConnection_Destroy(nc);
    }
}

/* Messages waiting in a sync subscription. */
static inline int it_nats_pending(natsSubscription *sub)
{
    int msgs = 0, bytes = 0;
    IT_NATS_OK(natsSubscription_GetPending(sub, &msgs, &bytes));
    return msgs;
}

/* Next message, failing the test if none comes within 5 s. */
/* A JetStream context on nc with a 5 s API wait (jsCtx_Destroy it). */
static inline jsCtx *it_js_ctx(natsConnection *nc)
{
    jsCtx *js = NULL;
    jsOptions o;
    IT_NATS_OK(jsOptions_Init(&o));
    o.Wait = 5000;
    IT_NATS_OK(natsConnection_JetStream(&js, nc, &o));
    return js;
}

static inline natsMsg *it_nats_next(natsSubscription *sub)
{
    natsMsg *m = NULL;
    natsStatus s = natsSubscription_NextMsg(&m, sub, 5000);
    if (s != NATS_OK)
        fail_msg("expected a message on %s: %s", natsSubscription_GetSubject(sub),
                 natsStatus_GetText(s));
    return m;
}

#endif
