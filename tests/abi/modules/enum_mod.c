/*
 * enum_mod.c - ABI test module for interest_foreach and accounts_foreach.
 *
 * The AUTH hook binds CONNECT user "u1" to account ACC1 and "u2" to ACC2
 * (conn_set_account); anyone else stays in $G.  init adds interest of its
 * own: in ACC2 an in-process subscription "mod.sub" in queue "mq", weight
 * 4, with an origin of the module's; in ACC1 a sink (another origin) with
 * "sink.sub" in queue "sq", weight 2, and plain "sink.plain".
 *
 * A request on "enum.dump" (in $G) is answered with
 *
 *   accounts=<name>,<name>,...           (sorted)
 *   acc=<a> subject=<s> queue=<q> weight=<w> origin=<o>   (sorted lines)
 *
 * gathered with accounts_foreach and interest_foreach from the message
 * callback (an I/O worker), published after the walk.  "enum.weight" sets
 * the weight of sink.sub to 5 (sub_set_weight) and answers "weight rc=..".
 */
#include "abi_mod.h"

#include <stdlib.h>

static const modnats_host_api *api;
static modnats_module *self;
static modnats_origin g_mod_origin, g_sink_origin;
static modnats_sink *g_sink;
static modnats_sub *g_sink_q, *g_subs[3];

typedef struct lines {
    char  **v;
    size_t  n, cap;
    modnats_account *acc;
} lines;

static void push(lines *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    char *c = strdup(s);
    if (c)
        l->v[l->n++] = c;
}

static void on_interest(void *ud, const char *subject, const char *queue, int weight,
                        modnats_origin origin)
{
    lines *l = ud;
    char buf[400];
    snprintf(buf, sizeof buf, "acc=%s subject=%s queue=%s weight=%d origin=%u",
             api->account_name(l->acc), subject, queue ? queue : "", weight, (unsigned)origin);
    push(l, buf);
}

typedef struct accs {
    modnats_account *v[64];
    size_t n;
} accs;

static void on_account(void *ud, modnats_account *a)
{
    accs *x = ud;
    if (x->n < 64)
        x->v[x->n++] = a;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void dump(const modnats_msg *req)
{
    accs x = { .n = 0 };
    modnats_rc arc = api->accounts_foreach(on_account, &x);
    lines names = { 0 }, subs = { 0 };
    modnats_rc irc = MODNATS_OK;
    for (size_t i = 0; i < x.n; i++) {
        push(&names, api->account_name(x.v[i]));
        subs.acc = x.v[i];
        if (api->interest_foreach(x.v[i], on_interest, &subs) != MODNATS_OK)
            irc = MODNATS_ERR;
    }
    qsort(names.v, names.n, sizeof *names.v, cmp_str);
    qsort(subs.v, subs.n, sizeof *subs.v, cmp_str);
    size_t cap = 256;
    for (size_t i = 0; i < names.n; i++)
        cap += strlen(names.v[i]) + 1;
    for (size_t i = 0; i < subs.n; i++)
        cap += strlen(subs.v[i]) + 1;
    char *body = malloc(cap);
    if (body) {
        size_t len = (size_t)snprintf(body, cap, "rc=%d,%d accounts=", (int)arc, (int)irc);
        for (size_t i = 0; i < names.n; i++)
            len += (size_t)snprintf(body + len, cap - len, "%s%s", i ? "," : "", names.v[i]);
        len += (size_t)snprintf(body + len, cap - len, "\n");
        for (size_t i = 0; i < subs.n; i++)
            len += (size_t)snprintf(body + len, cap - len, "%s\n", subs.v[i]);
        len += (size_t)snprintf(body + len, cap - len, "end\n");
        modnats_msg m = { .size = sizeof m, .subject = req->reply, .subject_len = req->reply_len,
                          .data = body, .data_len = len };
        api->publish(self, api->account_global(), &m, 0);
        free(body);
    }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    for (size_t i = 0; i < subs.n; i++)
        free(subs.v[i]);
    free(names.v);
    free(subs.v);
}

static void on_req(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)sub;
    (void)origin;
    if (!msg->reply)
        return;
    if (ud)
        abi_reply(api, self, msg, "weight rc=%d", (int)api->sub_set_weight(g_sink_q, 5));
    else
        dump(msg);
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    const char *acc = NULL;
    if (ev->user && strcmp(ev->user, "u1") == 0)
        acc = "ACC1";
    else if (ev->user && strcmp(ev->user, "u2") == 0)
        acc = "ACC2";
    if (acc && api->conn_set_account(ev->conn, api->account_get(acc)) != MODNATS_OK)
        return MODNATS_ERR;
    return MODNATS_OK;
}

static void on_msg(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)msg;
    (void)origin;
}

static void deliver(void *ud, modnats_sink *sink, const modnats_msg *msg, modnats_origin origin,
                    bool plain, const char *const *queues, const size_t *queue_lens, size_t nqueues)
{
    (void)ud;
    (void)sink;
    (void)msg;
    (void)origin;
    (void)plain;
    (void)queues;
    (void)queue_lens;
    (void)nqueues;
}

static const modnats_sink_ops ops = { .size = sizeof ops, .deliver = deliver };

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (!MODNATS_HAS(api, interest_foreach) || !MODNATS_HAS(api, accounts_foreach))
        return MODNATS_ERR;
    modnats_account *a1 = api->account_get_or_create("ACC1");
    modnats_account *a2 = api->account_get_or_create("ACC2");
    g_mod_origin = api->new_origin(m);
    g_sink_origin = api->new_origin(m);
    g_subs[0] = api->subscribe(m, a2, "mod.sub", "mq", 4, g_mod_origin, on_msg, NULL);
    g_subs[1] = api->subscribe(m, api->account_global(), "enum.dump", NULL, 1, 0, on_req, NULL);
    g_subs[2] = api->subscribe(m, api->account_global(), "enum.weight", NULL, 1, 0, on_req, "w");
    g_sink = api->sink_new(m, &ops, NULL, g_sink_origin, 0);
    if (!g_sink || !g_subs[0] || !g_subs[1] || !g_subs[2])
        return MODNATS_ERR;
    g_sink_q = api->sink_subscribe(g_sink, a1, "sink.sub", "sq", 2);
    if (!g_sink_q || !api->sink_subscribe(g_sink, a1, "sink.plain", NULL, 1))
        return MODNATS_ERR;
    if (api->interest_foreach(NULL, on_interest, NULL) != MODNATS_ERR ||
        api->accounts_foreach(NULL, NULL) != MODNATS_ERR)
        return MODNATS_ERR;
    if (api->hook(m, MODNATS_EV_AUTH, 0, on_auth, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    api->log(self, MODNATS_LOG_INFO, "origins module=%u sink=%u", (unsigned)g_mod_origin,
             (unsigned)g_sink_origin);
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "enum_mod", NULL, init, NULL);
MODNATS_MODULE(enum_mod) { return &desc; }
