/*
 * inproc.c - ABI test module for in-process clients:
 *
 *  - "svc.echo" in queue group "echoq": answers "echo: <body>" (a
 *    request/reply service inside the server); headers are echoed back;
 *  - origin filtering: "origin.test" is subscribed with an origin of the
 *    module's own; a message on "origin.trigger" makes the module publish
 *    "own" on origin.test with that origin and "other" with origin 0.
 *    Whatever reaches the origin.test subscription is reported on
 *    "origin.report" as "got <body> origin=<n>" ("own" never must);
 *  - a thread of the module's publishes "tick <n>" on "inproc.thread"
 *    every 50 ms (publish from a non-worker thread); fini joins it;
 *  - "inproc.unsub" drops the echo subscription (unsubscribe from inside a
 *    message callback) and answers "unsubscribed rc=<rc>".
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

static const modnats_host_api *api;
static modnats_module *self;
static modnats_origin g_origin;
static modnats_sub *_Atomic g_echo;
static modnats_sub *g_subs[3];
static pthread_t g_thread;
static atomic_bool g_stop;
static bool g_started;

static void on_echo(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    if (!msg->reply)
        return;
    char body[600];
    int n = snprintf(body, sizeof body, "echo: %.*s", (int)msg->data_len, msg->data);
    modnats_msg r = {
        .size = sizeof r,
        .subject = msg->reply, .subject_len = msg->reply_len,
        .hdr = msg->hdr, .hdr_len = msg->hdr_len,
        .data = body, .data_len = (size_t)(n < (int)sizeof body ? n : (int)sizeof body - 1),
    };
    api->publish(self, api->account_global(), &r, 0);
}

static void on_origin_test(void *ud, modnats_sub *sub, const modnats_msg *msg,
                           modnats_origin origin)
{
    (void)ud;
    (void)sub;
    abi_pub(api, self, "origin.report", "got %.*s origin=%u", (int)msg->data_len, msg->data,
            (unsigned)origin);
}

static void on_trigger(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)msg;
    (void)origin;
    static const char own[] = "own", other[] = "other";
    modnats_msg m = { .size = sizeof m, .subject = "origin.test", .subject_len = 11 };
    m.data = own;
    m.data_len = 3;
    api->publish(self, api->account_global(), &m, g_origin);
    m.data = other;
    m.data_len = 5;
    api->publish(self, api->account_global(), &m, 0);
}

static void on_unsub(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    modnats_sub *e = atomic_exchange(&g_echo, NULL);
    modnats_rc rc = e ? api->unsubscribe(e) : MODNATS_ERR;
    abi_reply(api, self, msg, "unsubscribed rc=%d", (int)rc);
}

static void *ticker(void *arg)
{
    (void)arg;
    unsigned n = 0;
    while (!atomic_load(&g_stop)) {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL);
        abi_pub(api, self, "inproc.thread", "tick %u", ++n);
    }
    return NULL;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    modnats_account *g = api->account_global();
    g_origin = api->new_origin(m);
    if (g_origin == 0)
        return MODNATS_ERR;
    atomic_store(&g_echo, api->subscribe(m, g, "svc.echo", "echoq", 1, 0, on_echo, NULL));
    g_subs[0] = api->subscribe(m, g, "origin.test", NULL, 1, g_origin, on_origin_test, NULL);
    g_subs[1] = api->subscribe(m, g, "origin.trigger", NULL, 1, 0, on_trigger, NULL);
    g_subs[2] = api->subscribe(m, g, "inproc.unsub", NULL, 1, 0, on_unsub, NULL);
    if (!atomic_load(&g_echo) || !g_subs[0] || !g_subs[1] || !g_subs[2])
        return MODNATS_ERR;
    /* Invalid arguments are refused, not crashed on. */
    if (api->subscribe(m, g, "bad subject", NULL, 1, 0, on_echo, NULL) ||
        api->subscribe(m, g, "ok", "bad queue*", 1, 0, on_echo, NULL))
        return MODNATS_ERR;
    modnats_msg bad = { .size = sizeof bad, .subject = "wild.*", .subject_len = 6 };
    if (api->publish(m, g, &bad, 0) != MODNATS_ERR)
        return MODNATS_ERR;
    if (pthread_create(&g_thread, NULL, ticker, NULL) != 0)
        return MODNATS_ERR;
    g_started = true;
    api->log(self, MODNATS_LOG_INFO, "origin=%u", (unsigned)g_origin);
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    if (g_started) {
        atomic_store(&g_stop, true);
        pthread_join(g_thread, NULL);
        api->log(self, MODNATS_LOG_INFO, "fini joined");
    }
}

ABI_TEST_DESC(desc, "inproc", NULL, init, fini);
MODNATS_MODULE(inproc) { return &desc; }
