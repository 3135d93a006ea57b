/*
 * sink_mod.c - ABI test module for sinks (sink_new, sink_subscribe,
 * sub_set_weight, sink_free, modnats_sink_ops.deliver/released).
 *
 * Two sinks, each with an origin from new_origin:
 *  - "main" (flags 0): plain "a.>" and "a.b" (two plain subscriptions
 *    that both match a.b), "q.x" in queue group "g" subscribed with weight
 *    1 and then set to 3 with sub_set_weight;
 *  - "local" (MODNATS_SINK_LOCAL_ONLY): plain "l.>", "q.x" in "g" with
 *    weight 1;
 *  - "notown" (MODNATS_SINK_NOT_OWN_MODULE): plain "n.>" and "lq.subj"
 *    (what module listed_mod publishes, with an origin of its own).
 * Every deliver is reported on "sink.report" as
 *   "deliver sink=<name> subj=<subject> plain=<0|1> queues=[<q>,..] origin=<n> body=<body> acc=<account>"
 * Control subjects (in-process subscriptions, answered on the reply):
 *  - sinkctl.own:   publish "a.own" with main's origin (must not reach it)
 *                   and "l.own" with local's origin (must not reach it);
 *  - sinkctl.other: publish "a.other", "l.other" and "n.own" with a third
 *                   origin (main takes it, the local-only sink and the
 *                   not-own-module sink must not), and "l.zero", "n.zero"
 *                   with origin 0 (local and notown take them);
 *  - sinkctl.free:  sink_free(main); released logs once.
 * With extra_sinks = N, init also makes N more sinks ("x0", "x1", ...),
 * each with a plain subscription on "many.x".
 * With free_at_fini = true, fini frees the sinks that are left (the
 * header: sink_free from any thread; released follows).
 */
#include "abi_mod.h"

#include <stdatomic.h>
#include <stdio.h>

static const modnats_host_api *api;
static modnats_module *self;

typedef struct sink_ud {
    const char   *name;
    modnats_origin origin;
    modnats_sink *sink;       /* set in init, never changed */
    atomic_bool   freed;
    atomic_int    released;
} sink_ud;

static sink_ud g_main = { .name = "main" }, g_local = { .name = "local" },
               g_notown = { .name = "notown" };
static modnats_origin g_third;
static modnats_sub *g_ctl[3];
static bool g_free_at_fini;
static sink_ud g_extra[40];
static char g_extra_names[40][8];
static int64_t g_nextra;

static const modnats_option opts[] = {
    { "free_at_fini", MODNATS_OPT_BOOL, false, "sink_free the sinks left in fini" },
    { "extra_sinks", MODNATS_OPT_INT, false, "more sinks, each subscribed to many.x" },
    { NULL, 0, false, NULL },
};

static void deliver(void *ud, modnats_sink *sink, const modnats_msg *msg, modnats_origin origin,
                    bool plain, const char *const *queues, const size_t *queue_lens, size_t nqueues)
{
    sink_ud *s = ud;
    char qs[256] = "";
    for (size_t i = 0; i < nqueues; i++)
        snprintf(qs + strlen(qs), sizeof qs - strlen(qs), "%s%.*s", i ? "," : "",
                 (int)queue_lens[i], queues[i]);
    char subj[128];
    snprintf(subj, sizeof subj, "%.*s", (int)msg->subject_len, msg->subject);
    abi_pub(api, self, "sink.report",
            "deliver sink=%s subj=%s plain=%d queues=[%s] origin=%u body=%.*s acc=%s%s", s->name,
            subj, plain ? 1 : 0, qs, (unsigned)origin, (int)msg->data_len, msg->data,
            ABI_EV_HAS(msg, modnats_msg, account) && msg->account
                ? api->account_name(msg->account) : "(none)",
            sink == s->sink ? "" : " WRONG-SINK");
}

static void released(void *ud)
{
    sink_ud *s = ud;
    int n = atomic_fetch_add(&s->released, 1) + 1;
    api->log(self, MODNATS_LOG_INFO, "released sink=%s count=%d", s->name, n);
}

static const modnats_sink_ops ops = {
    .size = sizeof(modnats_sink_ops),
    .deliver = deliver,
    .released = released,
};

static void pub_as(const char *subject, const char *body, modnats_origin origin)
{
    modnats_msg m = {
        .size = sizeof m,
        .subject = subject, .subject_len = strlen(subject),
        .data = body, .data_len = strlen(body),
    };
    api->publish(self, api->account_global(), &m, origin);
}

static void on_ctl(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    if (msg->subject_len == 11 && memcmp(msg->subject, "sinkctl.own", 11) == 0) {
        pub_as("a.own", "own", g_main.origin);
        pub_as("l.own", "own", g_local.origin);
        abi_reply(api, self, msg, "own done");
    } else if (msg->subject_len == 13 && memcmp(msg->subject, "sinkctl.other", 13) == 0) {
        pub_as("a.other", "third", g_third);
        pub_as("l.other", "third", g_third);
        pub_as("l.zero", "zero", 0);
        pub_as("n.own", "third", g_third);
        pub_as("n.zero", "zero", 0);
        abi_reply(api, self, msg, "other done");
    } else if (msg->subject_len == 12 && memcmp(msg->subject, "sinkctl.free", 12) == 0) {
        if (!atomic_exchange(&g_main.freed, true))
            api->sink_free(g_main.sink);
        abi_reply(api, self, msg, "freed");
    }
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    api->cfg_bool(cfg, "free_at_fini", &g_free_at_fini);
    api->cfg_int(cfg, "extra_sinks", &g_nextra);
    if (g_nextra < 0 || g_nextra > 40)
        return MODNATS_ERR;
    if (!MODNATS_HAS(api, sink_new) || !MODNATS_HAS(api, sink_free))
        return MODNATS_ERR;
    modnats_account *g = api->account_global();
    g_main.origin = api->new_origin(m);
    g_local.origin = api->new_origin(m);
    g_third = api->new_origin(m);
    g_notown.origin = api->new_origin(m);
    g_main.sink = api->sink_new(m, &ops, &g_main, g_main.origin, 0);
    g_local.sink = api->sink_new(m, &ops, &g_local, g_local.origin, MODNATS_SINK_LOCAL_ONLY);
    g_notown.sink = api->sink_new(m, &ops, &g_notown, g_notown.origin, MODNATS_SINK_NOT_OWN_MODULE);
    if (!g_main.sink || !g_local.sink || !g_notown.sink)
        return MODNATS_ERR;
    modnats_sub *qs = api->sink_subscribe(g_main.sink, g, "q.x", "g", 1);
    if (!api->sink_subscribe(g_main.sink, g, "a.>", NULL, 1) ||
        !api->sink_subscribe(g_main.sink, g, "a.b", NULL, 1) || !qs ||
        !api->sink_subscribe(g_local.sink, g, "l.>", NULL, 1) ||
        !api->sink_subscribe(g_local.sink, g, "q.x", "g", 1) ||
        !api->sink_subscribe(g_notown.sink, g, "n.>", NULL, 1) ||
        !api->sink_subscribe(g_notown.sink, g, "lq.subj", NULL, 1))
        return MODNATS_ERR;
    /* Bad arguments are refused. */
    if (api->sink_subscribe(g_main.sink, g, "bad subject", NULL, 1) ||
        api->sink_subscribe(g_main.sink, g, "q.y", "bad queue*", 1) ||
        api->sub_set_weight(qs, 0) != MODNATS_ERR ||
        api->sink_new(m, NULL, NULL, 0, 0))
        return MODNATS_ERR;
    for (int64_t i = 0; i < g_nextra; i++) {
        sink_ud *x = &g_extra[i];
        snprintf(g_extra_names[i], sizeof g_extra_names[i], "x%d", (int)i);
        x->name = g_extra_names[i];
        x->origin = api->new_origin(m);
        x->sink = api->sink_new(m, &ops, x, x->origin, 0);
        if (!x->sink || !api->sink_subscribe(x->sink, g, "many.x", NULL, 1))
            return MODNATS_ERR;
    }
    modnats_rc wrc = api->sub_set_weight(qs, 3);
    g_ctl[0] = api->subscribe(m, g, "sinkctl.own", NULL, 1, 0, on_ctl, NULL);
    g_ctl[1] = api->subscribe(m, g, "sinkctl.other", NULL, 1, 0, on_ctl, NULL);
    g_ctl[2] = api->subscribe(m, g, "sinkctl.free", NULL, 1, 0, on_ctl, NULL);
    if (!g_ctl[0] || !g_ctl[1] || !g_ctl[2])
        return MODNATS_ERR;
    api->log(self, MODNATS_LOG_INFO, "origins main=%u local=%u third=%u set_weight=%d",
             (unsigned)g_main.origin, (unsigned)g_local.origin, (unsigned)g_third, (int)wrc);
    api->log(self, MODNATS_LOG_INFO, "origin modules main=%u third=%u notown=%u",
             (unsigned)MODNATS_ORIGIN_MODULE(g_main.origin), (unsigned)MODNATS_ORIGIN_MODULE(g_third),
             (unsigned)MODNATS_ORIGIN_MODULE(g_notown.origin));
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    if (!g_free_at_fini)
        return;
    if (g_main.sink && !atomic_exchange(&g_main.freed, true))
        api->sink_free(g_main.sink);
    if (g_local.sink && !atomic_exchange(&g_local.freed, true))
        api->sink_free(g_local.sink);
    if (g_notown.sink && !atomic_exchange(&g_notown.freed, true))
        api->sink_free(g_notown.sink);
    api->log(self, MODNATS_LOG_INFO, "fini freed the sinks");
}

ABI_TEST_DESC(desc, "sink_mod", opts, init, fini);
MODNATS_MODULE(sink_mod) { return &desc; }
