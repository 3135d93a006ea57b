/*
 * stats_mod.c - ABI test module for stats and conns_foreach.
 *
 * A request on "stats.get" (in $G; body "subs" or "nosubs") is handed to a
 * thread of the module's, which waits 50 ms (so the worker that routed the
 * request has counted it), then answers with
 *
 *   stats in_msgs=.. out_msgs=.. connections=.. total_connections=..
 *         subscriptions=.. io_threads=.. id_ok=<0|1> worker_rc=<rc>
 *   conn cid=.. kind=.. name=.. account=.. user=.. subs=<n> list=[s1,s2] | list=null
 *   ... (one line per client, in the order conns_foreach gave them)
 *   ordered=<0|1>
 *
 * where worker_rc is what conns_foreach returned when the request handler
 * (on an I/O worker) called it.  The CONNECT hook calls conns_foreach too
 * and logs "conns_foreach in hook rc=..".  With foreach_in_init = true,
 * init calls conns_foreach on the main thread and logs its result.
 */
#include "abi_mod.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static const modnats_host_api *api;
static modnats_module *self;
static modnats_sub *g_sub;

typedef struct req {
    struct req *next;
    char        reply[128];
    bool        with_subs;
    int         worker_rc;
} req;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static req *g_head, *g_tail;
static bool g_stop, g_started;
static pthread_t g_thread;

static const modnats_option opts[] = {
    { "foreach_in_init", MODNATS_OPT_BOOL, false, "call conns_foreach during init" },
    { NULL, 0, false, NULL },
};

typedef struct out {
    char    *buf;
    size_t   len, cap;
    uint64_t last_cid;
    bool     ordered;
    int      n;
} out;

static void add(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(out *o, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (o->len + (size_t)n < o->cap) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *b = realloc(o->buf, cap);
        if (!b)
            return;
        o->buf = b;
        o->cap = cap;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void on_conn(void *ud, const modnats_conn_info *ci)
{
    out *o = ud;
    if (o->n++ && ci->cid <= o->last_cid)
        o->ordered = false;
    o->last_cid = ci->cid;
    add(o, "conn cid=%llu kind=%s name=%s account=%s user=%s subs=%u list=",
        (unsigned long long)ci->cid, ci->kind ? ci->kind : "", ci->name ? ci->name : "",
        ci->account ? ci->account : "", ci->user ? ci->user : "", (unsigned)ci->subscriptions);
    if (!ci->subs) {
        add(o, "null\n");
        return;
    }
    size_t n = 0;
    while (ci->subs[n])
        n++;
    const char **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return;
    memcpy(v, ci->subs, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_str);
    add(o, "[");
    for (size_t i = 0; i < n; i++)
        add(o, "%s%s", i ? "," : "", v[i]);
    add(o, "]\n");
    free(v);
}

static void answer(req *r)
{
    struct timespec ts = { 0, 50 * 1000000L };
    nanosleep(&ts, NULL);
    modnats_stats st = { .size = sizeof st };
    modnats_rc src = api->stats(&st);
    out o = { .buf = malloc(1024), .cap = 1024, .ordered = true };
    if (!o.buf)
        return;
    o.buf[0] = 0;
    const char *id = api->server_id();
    add(&o,
        "stats rc=%d in_msgs=%llu out_msgs=%llu connections=%llu total_connections=%llu "
        "subscriptions=%llu io_threads=%d id_ok=%d worker_rc=%d\n",
        (int)src, (unsigned long long)st.in_msgs, (unsigned long long)st.out_msgs,
        (unsigned long long)st.connections, (unsigned long long)st.total_connections,
        (unsigned long long)st.subscriptions, st.io_threads,
        id && st.server_id && strcmp(id, st.server_id) == 0, r->worker_rc);
    modnats_rc frc = api->conns_foreach(r->with_subs, on_conn, &o);
    add(&o, "foreach_rc=%d ordered=%d\n", (int)frc, o.ordered ? 1 : 0);
    modnats_msg m = {
        .size = sizeof m,
        .subject = r->reply, .subject_len = strlen(r->reply),
        .data = o.buf, .data_len = o.len,
    };
    api->publish(self, api->account_global(), &m, 0);
    free(o.buf);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_head && !g_stop)
            pthread_cond_wait(&g_cv, &g_mu);
        req *r = g_head;
        if (!r || g_stop)
            break;
        g_head = r->next;
        if (!g_head)
            g_tail = NULL;
        pthread_mutex_unlock(&g_mu);
        answer(r);
        free(r);
        pthread_mutex_lock(&g_mu);
    }
    while (g_head) {
        req *r = g_head;
        g_head = r->next;
        free(r);
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static void noop_conn(void *ud, const modnats_conn_info *ci)
{
    (void)ud;
    (void)ci;
}

static void on_get(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    if (!msg->reply || msg->reply_len >= sizeof(((req *)0)->reply))
        return;
    req *r = calloc(1, sizeof *r);
    if (!r)
        return;
    memcpy(r->reply, msg->reply, msg->reply_len);
    r->with_subs = !(msg->data_len == 6 && memcmp(msg->data, "nosubs", 6) == 0);
    /* On an I/O worker: must be refused. */
    r->worker_rc = api->conns_foreach(false, noop_conn, NULL);
    pthread_mutex_lock(&g_mu);
    if (g_tail)
        g_tail->next = r;
    else
        g_head = r;
    g_tail = r;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
}

static modnats_rc on_connect(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    (void)h;
    modnats_rc rc = api->conns_foreach(false, noop_conn, NULL);
    api->log(self, MODNATS_LOG_INFO, "conns_foreach in hook rc=%d", (int)rc);
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    if (!MODNATS_HAS(api, conns_foreach) || !MODNATS_HAS(api, stats))
        return MODNATS_ERR;
    bool in_init = false;
    api->cfg_bool(cfg, "foreach_in_init", &in_init);
    if (in_init) {
        api->log(self, MODNATS_LOG_INFO, "calling conns_foreach in init");
        modnats_rc rc = api->conns_foreach(false, noop_conn, NULL);
        api->log(self, MODNATS_LOG_INFO, "conns_foreach in init rc=%d", (int)rc);
    }
    modnats_stats small = { .size = offsetof(modnats_stats, in_msgs) };
    if (api->stats(&small) != MODNATS_ERR || api->conns_foreach(false, NULL, NULL) != MODNATS_ERR)
        return MODNATS_ERR;
    if (api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    g_sub = api->subscribe(m, api->account_global(), "stats.get", NULL, 1, 0, on_get, NULL);
    if (!g_sub || pthread_create(&g_thread, NULL, worker, NULL) != 0)
        return MODNATS_ERR;
    g_started = true;
    return MODNATS_OK;
}

static void fini(modnats_module *m)
{
    (void)m;
    if (!g_started)
        return;
    pthread_mutex_lock(&g_mu);
    g_stop = true;
    pthread_cond_signal(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(g_thread, NULL);
}

ABI_TEST_DESC(desc, "stats_mod", opts, init, fini);
MODNATS_MODULE(stats_mod) { return &desc; }
