/*
 * listed_mod.c - ABI test module for MODNATS_MSG_QUEUES_LISTED (what a
 * route does with a forwarded RMSG): on "listed.g1" it publishes the
 * request's body on "lq.subj" with flags QUEUES_LISTED, queues ["g1"] and
 * an origin of its own; on "listed.none" the same with nqueues 0; on
 * "listed.plain" without the flag (every group gets one).  Each answers
 * "done" on the reply subject after publishing.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;
static modnats_origin g_origin;
static modnats_sub *g_subs[3];

static void on_req(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)sub;
    (void)origin;
    const char *mode = ud;
    static const char *const queues[] = { "g1" };
    static const size_t queue_lens[] = { 2 };
    modnats_msg m = {
        .size = sizeof m,
        .subject = "lq.subj", .subject_len = 7,
        .data = msg->data, .data_len = msg->data_len,
    };
    if (strcmp(mode, "plain") != 0) {
        m.flags = MODNATS_MSG_QUEUES_LISTED;
        if (strcmp(mode, "g1") == 0) {
            m.queues = queues;
            m.queue_lens = queue_lens;
            m.nqueues = 1;
        }
    }
    modnats_rc rc = api->publish(self, api->account_global(), &m, g_origin);
    abi_reply(api, self, msg, "done rc=%d", (int)rc);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    g_origin = api->new_origin(m);
    modnats_account *g = api->account_global();
    g_subs[0] = api->subscribe(m, g, "listed.g1", NULL, 1, 0, on_req, "g1");
    g_subs[1] = api->subscribe(m, g, "listed.none", NULL, 1, 0, on_req, "none");
    g_subs[2] = api->subscribe(m, g, "listed.plain", NULL, 1, 0, on_req, "plain");
    if (!g_subs[0] || !g_subs[1] || !g_subs[2])
        return MODNATS_ERR;
    /* Listed queues without the arrays are refused. */
    modnats_msg bad = { .size = sizeof bad, .subject = "lq.subj", .subject_len = 7,
                        .flags = MODNATS_MSG_QUEUES_LISTED, .nqueues = 1 };
    if (api->publish(m, g, &bad, g_origin) != MODNATS_ERR)
        return MODNATS_ERR;
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "listed_mod", NULL, init, NULL);
MODNATS_MODULE(listed_mod) { return &desc; }
