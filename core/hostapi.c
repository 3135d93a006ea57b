/*
 * hostapi.c - the host API table handed to modules (modnats_host_api).
 *
 * Each function here is a thin, checked bridge from the ABI's opaque
 * handles to the core's objects: a modnats_conn is an mn_client, a
 * modnats_account an mn_account, a modnats_sub an mn_isub, a
 * modnats_config an mn_cfg node.  Thread rules are the header's; where a
 * call arrives on a thread that may not touch the object, it is posted to
 * the owning worker.
 */
#include "account.h"
#include "acctio.h"
#include "cfgtree.h"
#include "log.h"
#include "module.h"
#include "qsbr.h"
#include "server.h"
#include "timer.h"
#include "mconn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

mn_server *mn_g_server;   /* set by mn_server_init */

modnats_rc mn_auth_complete(modnats_auth_ticket *t, modnats_rc result, const char *reason);

static uint64_t unix_ms_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/* ------------------------------------------------------------ logging */

static void api_log(modnats_module *m, int level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    mn_log_level l = level <= MODNATS_LOG_ERROR ? MN_LOG_ERROR
                   : level == MODNATS_LOG_WARN  ? MN_LOG_WARN
                   : level == MODNATS_LOG_INFO  ? MN_LOG_NOTICE
                   : level == MODNATS_LOG_DEBUG ? MN_LOG_DEBUG : MN_LOG_TRACE;
    if ((l == MN_LOG_DEBUG && !mn_log_debug_enabled()) ||
        (l == MN_LOG_TRACE && !mn_log_trace_enabled()))
        return;
    mn_log(l, "[%s] %s", m && m->name ? m->name : "module", buf);
}

/* ----------------------------------------------------------- settings */

static const mn_cfg *node(const modnats_config *c, const char *key)
{
    return mn_cfg_get((const mn_cfg *)c, key);
}

static modnats_rc api_cfg_bool(const modnats_config *c, const char *key, bool *out)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return MODNATS_ENOTFOUND;
    if (n->type != MN_CFG_BOOL)
        return MODNATS_ERR;
    *out = n->b;
    return MODNATS_OK;
}

static modnats_rc api_cfg_int(const modnats_config *c, const char *key, int64_t *out)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return MODNATS_ENOTFOUND;
    if (n->type != MN_CFG_INT)
        return MODNATS_ERR;
    *out = n->i;
    return MODNATS_OK;
}

static modnats_rc api_cfg_string(const modnats_config *c, const char *key, const char **out)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return MODNATS_ENOTFOUND;
    if (n->type != MN_CFG_STRING)
        return MODNATS_ERR;
    *out = n->s;
    return MODNATS_OK;
}

static size_t api_cfg_list_len(const modnats_config *c, const char *key)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return 0;
    if (n->type == MN_CFG_LIST)
        return n->nkids;
    return 1;   /* a single value (or group) reads as a list of one */
}

static const char *api_cfg_list_string(const modnats_config *c, const char *key, size_t i)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return NULL;
    if (n->type == MN_CFG_STRING)
        return i == 0 ? n->s : NULL;
    if (n->type != MN_CFG_LIST || i >= n->nkids || n->kids[i]->type != MN_CFG_STRING)
        return NULL;
    return n->kids[i]->s;
}

static const modnats_config *api_cfg_child(const modnats_config *c, const char *key, size_t i)
{
    const mn_cfg *n = node(c, key);
    if (!n)
        return NULL;
    if (n->type == MN_CFG_GROUP)
        return i == 0 ? (const modnats_config *)n : NULL;
    if (n->type == MN_CFG_LIST && i < n->nkids && n->kids[i]->type == MN_CFG_GROUP)
        return (const modnats_config *)n->kids[i];
    return NULL;
}

/* -------------------------------------------------------- connections */

#define CONN(x) ((mn_client *)(x))

static uint64_t api_conn_id(const modnats_conn *c)
{
    return mn_mconn_is(c) ? mn_mconn_id(c) : CONN(c)->cid;
}
static const char *api_conn_remote_ip(const modnats_conn *c)
{
    return mn_mconn_is(c) ? mn_mconn_ip(c) : CONN(c)->ip;
}
static int api_conn_remote_port(const modnats_conn *c)
{
    return mn_mconn_is(c) ? mn_mconn_port(c) : CONN(c)->rport;
}
static uint64_t api_conn_pending(const modnats_conn *c)
{
    if (mn_mconn_is(c))
        return mn_mconn_pending(c);
    mn_client *cl = CONN(c);
    pthread_mutex_lock(&cl->lock);
    uint64_t n = cl->olen - cl->ooff;
    pthread_mutex_unlock(&cl->lock);
    return n;
}
static const char *api_conn_name(const modnats_conn *c)
{
    return mn_mconn_is(c) ? NULL : CONN(c)->name;
}
static modnats_account *api_conn_account(const modnats_conn *c)
{
    return mn_mconn_is(c) ? NULL : (modnats_account *)CONN(c)->acc;
}

/* The client a login-time setter may change: a client connection, on its
 * own worker (inside the AUTH hook), not yet logged in.  NULL otherwise. */
static mn_client *client_in_login(modnats_conn *conn)
{
    if (mn_mconn_is(conn))
        return NULL;
    mn_client *c = CONN(conn);
    if (mn_current_worker != c->w || c->state != MN_CS_NEW)
        return NULL;
    return c;
}

static modnats_rc api_conn_set_account(modnats_conn *conn, modnats_account *a)
{
    mn_client *c = client_in_login(conn);
    if (!c || !a || c->nsubs > 0)
        return MODNATS_ERR;
    c->acc = (mn_account *)a;
    return MODNATS_OK;
}

static modnats_rc api_conn_set_permissions(modnats_conn *conn, const modnats_permissions *p)
{
    mn_client *c = client_in_login(conn);
    if (!c)
        return MODNATS_ERR;
    mn_perms *np = NULL;
    if (p && !(np = mn_perms_compile(p)))
        return MODNATS_ERR;
    mn_perms_free(c->perms);
    c->perms = np;
    return MODNATS_OK;
}

static modnats_rc api_conn_set_user(modnats_conn *conn, const char *user)
{
    mn_client *c = client_in_login(conn);
    if (!c)
        return MODNATS_ERR;
    char *u = user ? strdup(user) : NULL;
    if (user && !u)
        return MODNATS_ERR;
    free(c->user);
    c->user = u;
    return MODNATS_OK;
}

typedef struct close_task {
    mn_client *c;
    char      *err;
} close_task;

static void task_close(mn_worker *w, void *arg)
{
    close_task *t = arg;
    MN_UNUSED(w);
    mn_client_close(t->c, t->err);
    mn_client_unref(t->c);
    free(t->err);
    free(t);
}

static modnats_rc api_conn_close(modnats_conn *conn, const char *err)
{
    if (mn_mconn_is(conn))
        return mn_mconn_close(conn, err);
    mn_client *c = CONN(conn);
    if (mn_current_worker == c->w) {
        mn_client_close(c, err);
        return MODNATS_OK;
    }
    close_task *t = calloc(1, sizeof(*t));
    if (!t)
        return MODNATS_ERR;
    t->c = c;
    t->err = err ? strdup(err) : NULL;
    mn_client_ref(c);
    mn_worker_post(c->w, task_close, t);
    return MODNATS_OK;
}

static modnats_rc api_conn_write(modnats_conn *conn, const void *buf, size_t len)
{
    if (mn_mconn_is(conn))
        return mn_mconn_write(conn, buf, len);
    /* Client connections speak the NATS protocol only through the core. */
    MN_UNUSED(buf);
    MN_UNUSED(len);
    return MODNATS_ENOTSUP;
}

/* ----------------------------------------------------------- accounts */

static modnats_account *api_account_get(const char *name)
{
    return name ? (modnats_account *)mn_account_get(name) : NULL;
}

static modnats_account *api_account_get_or_create(const char *name)
{
    return name && *name ? (modnats_account *)mn_account_get_or_create(name) : NULL;
}

static modnats_account *api_account_global(void)
{
    return (modnats_account *)mn_g_server->gacc;
}

static const char *api_account_name(const modnats_account *a)
{
    return a ? ((const mn_account *)a)->name : NULL;
}

/* ------------------------------------------- in-process subscriptions */

/* An origin: the module's index in the high 12 bits, a counter below, so
 * MODNATS_ORIGIN_MODULE tells which module allocated it. */
static modnats_origin api_new_origin(modnats_module *m)
{
    if (!m)
        return 0;
    uint32_t n = atomic_fetch_add(&m->next_origin, 1) + 1;
    if (n >= (1u << 20) || m->idx >= (1u << 12))
        return 0;   /* exhausted: 0 means local, which is safe but unfiltered */
    return (m->idx << 20) | n;
}

void mn_interest_changed(mn_account *acc, const mn_sub *sub, bool added, modnats_origin origin)
{
    if (!mn_hooks_any(MODNATS_EV_INTEREST))
        return;
    modnats_interest_event ev = {
        .hdr = { sizeof(ev), MODNATS_EV_INTEREST },
        .account = (modnats_account *)acc,
        .subject = sub->subject, .subject_len = sub->subject_len,
        .queue = sub->queue, .queue_len = sub->queue_len,
        .added = added, .origin = origin,
    };
    mn_hooks_notify(MODNATS_EV_INTEREST, &ev.hdr);
}

/* A new in-process (or sink) subscription record, subject and queue
 * stored after it in one allocation; not yet routed.  NULL when the
 * subject or queue is invalid or memory is short. */
static mn_isub *isub_new(modnats_module *m, modnats_account *a, const char *subject,
                         const char *queue, int weight, modnats_origin origin)
{
    if (!a || !subject)
        return NULL;
    size_t sl = strlen(subject), ql = queue ? strlen(queue) : 0;
    if (!mn_subject_valid_sub(subject, sl) || (ql && !mn_subject_valid_literal(queue, ql)))
        return NULL;
    mn_isub *is = calloc(1, sizeof(*is) + sl + 1 + ql + 1);
    if (!is)
        return NULL;
    char *p = (char *)(is + 1);
    memcpy(p, subject, sl + 1);
    is->sub.subject = p;
    is->sub.subject_len = (uint32_t)sl;
    if (ql) {
        memcpy(p + sl + 1, queue, ql + 1);
        is->sub.queue = p + sl + 1;
        is->sub.queue_len = (uint32_t)ql;
    }
    is->sub.weight = weight > 0 ? weight : 1;
    is->sub.kind = MN_SUBK_MODULE;
    is->sub.owner = is;
    is->sub.ctx = is;
    is->m = m;
    is->origin = origin;
    is->acc = (mn_account *)a;
    return is;
}

static modnats_sub *api_subscribe(modnats_module *m, modnats_account *a, const char *subject,
                                  const char *queue, int weight, modnats_origin origin,
                                  modnats_msg_fn fn, void *ud)
{
    mn_isub *is = fn ? isub_new(m, a, subject, queue, weight, origin) : NULL;
    if (!is)
        return NULL;
    is->fn = fn;
    is->ud = ud;
    if (mn_sublist_insert(is->acc->sl, &is->sub) != MN_OK) {
        free(is);
        return NULL;
    }
    if (m) {
        pthread_mutex_lock(&m->res_lock);
        is->mod_next = m->isubs;
        if (m->isubs)
            m->isubs->mod_prev = is;
        m->isubs = is;
        pthread_mutex_unlock(&m->res_lock);
    }
    mn_interest_changed(is->acc, &is->sub, true, origin);
    return (modnats_sub *)is;
}

static modnats_rc api_unsubscribe(modnats_sub *s)
{
    mn_isub *is = (mn_isub *)s;
    int expect = 0;
    if (!is || !atomic_compare_exchange_strong(&is->removed, &expect, 1))
        return MODNATS_ERR;
    if (!is->sink && is->m) {
        modnats_module *m = is->m;
        pthread_mutex_lock(&m->res_lock);
        if (is->mod_prev)
            is->mod_prev->mod_next = is->mod_next;
        else if (m->isubs == is)
            m->isubs = is->mod_next;
        if (is->mod_next)
            is->mod_next->mod_prev = is->mod_prev;
        pthread_mutex_unlock(&m->res_lock);
    }
    if (is->sink) {
        mn_sink *k = is->sink;
        pthread_mutex_lock(&k->lock);
        if (is->sink_prev)
            is->sink_prev->sink_next = is->sink_next;
        else
            k->subs = is->sink_next;
        if (is->sink_next)
            is->sink_next->sink_prev = is->sink_prev;
        pthread_mutex_unlock(&k->lock);
    }
    mn_sublist_remove(is->acc->sl, &is->sub);
    mn_interest_changed(is->acc, &is->sub, false, is->origin);
    mn_qsbr_retire(is, free);
    return MODNATS_OK;
}

/* A message published from a thread that is not a worker: copied, then
 * routed by a worker. */
typedef struct pub_task {
    mn_account    *acc;
    modnats_origin origin;
    modnats_msg    m;
    size_t         hlen, total;
    char          *data;
    const char   **queues;
    size_t        *queue_lens;
} pub_task;

static void task_publish(mn_worker *w, void *arg)
{
    pub_task *t = arg;
    if (!w->stop)
        mn_route_msg(w, t->acc, t->origin, &t->m, t->data, t->hlen, t->total);
    free(t);
}

static modnats_rc api_publish(modnats_module *m, modnats_account *a, const modnats_msg *msg,
                              modnats_origin origin)
{
    MN_UNUSED(m);
    if (!a || !msg || msg->size < offsetof(modnats_msg, flags) || !msg->subject ||
        msg->subject_len == 0 || !mn_subject_valid_literal(msg->subject, msg->subject_len))
        return MODNATS_ERR;
    mn_account *acc = (mn_account *)a;
    /* Fields an older module's smaller struct does not have read as 0. */
    modnats_msg in = { 0 };
    memcpy(&in, msg, msg->size < sizeof(in) ? msg->size : sizeof(in));
    in.size = sizeof(in);
    if (!in.deliver_as || !in.deliver_as_len) {
        in.deliver_as = NULL;
        in.deliver_as_len = 0;
    }
    if (!(in.flags & MODNATS_MSG_QUEUES_LISTED))
        in.nqueues = 0;
    if (in.nqueues && (!in.queues || !in.queue_lens))
        return MODNATS_ERR;
    size_t hlen = in.hdr ? in.hdr_len : 0;
    size_t total = hlen + in.data_len;
    size_t rlen = in.reply ? in.reply_len : 0;
    mn_worker *w = mn_current_worker;
    if (w && hlen == 0) {
        in.hdr = NULL;
        mn_route_msg(w, acc, origin, &in, in.data, 0, total);
        return MODNATS_OK;
    }
    size_t qbytes = 0;
    for (size_t i = 0; i < in.nqueues; i++)
        qbytes += in.queue_lens[i] + 1;
    size_t dlen = in.deliver_as ? in.deliver_as_len : 0;
    size_t need = sizeof(pub_task) + in.nqueues * (sizeof(char *) + sizeof(size_t)) +
                  in.subject_len + 1 + rlen + 1 + total + 1 + qbytes + dlen + 1;
    pub_task *t = malloc(need);
    if (!t)
        return MODNATS_ERR;
    char *p = (char *)(t + 1);
    t->queues = (const char **)(void *)p;
    p += in.nqueues * sizeof(char *);
    t->queue_lens = (size_t *)(void *)p;
    p += in.nqueues * sizeof(size_t);
    t->acc = acc;
    t->origin = origin;
    t->hlen = hlen;
    t->total = total;
    t->m = in;
    memcpy(p, in.subject, in.subject_len);
    t->m.subject = p;
    p += in.subject_len + 1;
    if (rlen)
        memcpy(p, in.reply, rlen);
    t->m.reply = rlen ? p : NULL;
    t->m.reply_len = rlen;
    p += rlen + 1;
    t->data = p;
    if (hlen)
        memcpy(p, in.hdr, hlen);
    if (in.data_len)
        memcpy(p + hlen, in.data, in.data_len);
    t->m.hdr = hlen ? p : NULL;
    t->m.data = p + hlen;
    p += total + 1;
    for (size_t i = 0; i < in.nqueues; i++) {
        memcpy(p, in.queues[i], in.queue_lens[i]);
        t->queues[i] = p;
        t->queue_lens[i] = in.queue_lens[i];
        p += in.queue_lens[i] + 1;
    }
    t->m.queues = t->queues;
    t->m.queue_lens = t->queue_lens;
    if (dlen)
        memcpy(p, in.deliver_as, dlen);
    t->m.deliver_as = dlen ? p : NULL;
    t->m.deliver_as_len = dlen;
    if (w) {
        /* On a worker with headers: route now from the contiguous copy. */
        mn_route_msg(w, acc, origin, &t->m, t->data, hlen, total);
        free(t);
        return MODNATS_OK;
    }
    /* One worker per publishing thread: a worker's inbox is FIFO, so the
     * messages one module thread publishes are routed in the order it
     * published them (JetStream's replies and deliveries rely on it). */
    mn_server *s = mn_g_server;
    static _Thread_local unsigned sticky;
    if (!sticky)
        sticky = atomic_fetch_add(&s->next_worker, 1) % (unsigned)s->nworkers + 1;
    mn_worker_post(&s->workers[(sticky - 1) % (unsigned)s->nworkers], task_publish, t);
    return MODNATS_OK;
}

/* --------------------------------------------------------------- sinks */

static modnats_sink *api_sink_new(modnats_module *m, const modnats_sink_ops *ops, void *ud,
                                  modnats_origin origin, uint32_t flags)
{
    if (!ops || ops->size < offsetof(modnats_sink_ops, released) || !ops->deliver)
        return NULL;
    mn_sink *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->m = m;
    k->ops = ops;
    k->ud = ud;
    k->origin = origin;
    k->flags = flags;
    pthread_mutex_init(&k->lock, NULL);
    if (m) {
        pthread_mutex_lock(&m->res_lock);
        k->mod_next = m->sinks;
        if (m->sinks)
            m->sinks->mod_prev = k;
        m->sinks = k;
        pthread_mutex_unlock(&m->res_lock);
    }
    return (modnats_sink *)k;
}

static modnats_sub *api_sink_subscribe(modnats_sink *sk, modnats_account *a, const char *subject,
                                       const char *queue, int weight)
{
    mn_sink *k = (mn_sink *)sk;
    if (!k || atomic_load(&k->dead))
        return NULL;
    mn_isub *is = isub_new(k->m, a, subject, queue, weight, k->origin);
    if (!is)
        return NULL;
    is->sink = k;
    pthread_mutex_lock(&k->lock);
    is->sink_next = k->subs;
    if (k->subs)
        k->subs->sink_prev = is;
    k->subs = is;
    pthread_mutex_unlock(&k->lock);
    if (mn_sublist_insert(is->acc->sl, &is->sub) != MN_OK) {
        pthread_mutex_lock(&k->lock);
        if (is->sink_prev)
            is->sink_prev->sink_next = is->sink_next;
        else
            k->subs = is->sink_next;
        if (is->sink_next)
            is->sink_next->sink_prev = is->sink_prev;
        pthread_mutex_unlock(&k->lock);
        free(is);
        return NULL;
    }
    mn_interest_changed(is->acc, &is->sub, true, k->origin);
    return (modnats_sub *)is;
}

static modnats_rc api_sub_set_weight(modnats_sub *s, int weight)
{
    mn_isub *is = (mn_isub *)s;
    if (!is || weight < 1 || atomic_load(&is->removed))
        return MODNATS_ERR;
    /* Read racily by routers: a stale weight only skews one pick. */
    __atomic_store_n(&is->sub.weight, weight, __ATOMIC_RELAXED);
    return MODNATS_OK;
}

static void sink_release(void *p)
{
    mn_sink *k = p;
    if (k->ops->released)
        k->ops->released(k->ud);
    pthread_mutex_destroy(&k->lock);
    free(k);
}

static modnats_rc api_unsubscribe(modnats_sub *s);

static void api_sink_free(modnats_sink *sk)
{
    mn_sink *k = (mn_sink *)sk;
    if (!k)
        return;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&k->dead, &expect, 1))
        return;
    if (k->m) {
        modnats_module *m = k->m;
        pthread_mutex_lock(&m->res_lock);
        if (k->mod_prev)
            k->mod_prev->mod_next = k->mod_next;
        else if (m->sinks == k)
            m->sinks = k->mod_next;
        if (k->mod_next)
            k->mod_next->mod_prev = k->mod_prev;
        pthread_mutex_unlock(&m->res_lock);
    }
    for (;;) {
        pthread_mutex_lock(&k->lock);
        mn_isub *is = k->subs;
        pthread_mutex_unlock(&k->lock);
        if (!is)
            break;
        api_unsubscribe((modnats_sub *)is);
    }
    mn_qsbr_retire(k, sink_release);
}

/* ------------------------------------------------------ interest, urls */

typedef struct foreach_ctx {
    void (*fn)(void *ud, const char *subject, const char *queue, int weight, modnats_origin origin);
    void *ud;
} foreach_ctx;

static void foreach_one(mn_sub *sub, void *arg)
{
    foreach_ctx *fc = arg;
    modnats_origin origin = 0;
    if (sub->kind == MN_SUBK_MODULE)
        origin = ((mn_isub *)sub)->origin;
    fc->fn(fc->ud, sub->subject, sub->queue_len ? sub->queue : NULL,
           sub->weight > 0 ? sub->weight : 1, origin);
}

static modnats_rc api_interest_foreach(modnats_account *a,
                                       void (*fn)(void *ud, const char *subject, const char *queue,
                                                  int weight, modnats_origin origin),
                                       void *ud)
{
    if (!a || !fn)
        return MODNATS_ERR;
    foreach_ctx fc = { fn, ud };
    mn_sublist_foreach(((mn_account *)a)->sl, foreach_one, &fc);
    return MODNATS_OK;
}

typedef struct acc_list {
    mn_account **v;
    size_t n, cap;
} acc_list;

static void collect_acc(mn_account *a, void *arg)
{
    acc_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        mn_account **v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = a;
}

static modnats_rc api_accounts_foreach(void (*fn)(void *ud, modnats_account *a), void *ud)
{
    if (!fn)
        return MODNATS_ERR;
    acc_list l = { 0 };
    mn_account_foreach(collect_acc, &l);
    for (size_t i = 0; i < l.n; i++)
        fn(ud, (modnats_account *)l.v[i]);
    free(l.v);
    return MODNATS_OK;
}

static modnats_rc api_require_nonce(modnats_module *m)
{
    MN_UNUSED(m);
    mn_g_server->nonce_required = true;
    return MODNATS_OK;
}

static void task_send_info(mn_worker *w, void *arg)
{
    MN_UNUSED(arg);
    for (mn_client *c = w->clients; c; c = c->next)
        if (c->state == MN_CS_CONNECTED)
            mn_client_send_info(c, false);
}

static modnats_rc api_set_connect_urls(modnats_module *m, const char *const *urls, size_t n)
{
    MN_UNUSED(m);
    size_t len = 3;
    for (size_t i = 0; i < n; i++) {
        if (!urls[i])
            return MODNATS_ERR;
        len += strlen(urls[i]) * 6 + 3;
    }
    char *json = malloc(len);
    if (!json)
        return MODNATS_ERR;
    size_t k = 0;
    json[k++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            json[k++] = ',';
        json[k++] = '"';
        for (const char *p = urls[i]; *p; p++) {
            unsigned char ch = (unsigned char)*p;
            if (ch == '"' || ch == '\\') {
                json[k++] = '\\';
                json[k++] = (char)ch;
            } else if (ch < 0x20) {
                k += (size_t)sprintf(json + k, "\\u%04x", ch);
            } else {
                json[k++] = (char)ch;
            }
        }
        json[k++] = '"';
    }
    json[k++] = ']';
    json[k] = 0;
    mn_server *s = mn_g_server;
    pthread_mutex_lock(&s->urls_lock);
    bool same = s->connect_urls_json && strcmp(s->connect_urls_json, json) == 0;
    if (same) {
        free(json);
    } else {
        free(s->connect_urls_json);
        s->connect_urls_json = json;
        s->urls_gen++;
    }
    pthread_mutex_unlock(&s->urls_lock);
    if (!same && !atomic_load(&s->shutting_down))
        for (int i = 0; i < s->nworkers; i++)
            mn_worker_post(&s->workers[i], task_send_info, NULL);
    return MODNATS_OK;
}

/* -------------------------------------------------------------- stats */

static modnats_rc api_stats(modnats_stats *out)
{
    if (!out || out->size < offsetof(modnats_stats, reserved))
        return MODNATS_ERR;
    size_t size = out->size;
    mn_server *s = mn_g_server;
    memset(out, 0, size);
    out->size = size;
    out->server_id = s->server_id;
    out->server_name = s->server_name;
    out->version = MN_VERSION;
    out->compat_version = MN_NATS_COMPAT_VERSION;
    out->host = s->start_host && *s->start_host ? s->start_host : "0.0.0.0";
    out->port = s->port;
    out->max_payload = atomic_load(&s->max_payload);
    out->max_control_line = atomic_load(&s->max_control_line);
    out->max_pending = atomic_load(&s->max_pending);
    out->max_connections = atomic_load(&s->max_connections);
    out->max_subscriptions = atomic_load(&s->max_subs);
    out->ping_interval_ms = atomic_load(&s->ping_interval_ms);
    out->ping_max = atomic_load(&s->ping_max);
    out->auth_timeout_ms = atomic_load(&s->auth_timeout_ms);
    out->write_deadline_ms = atomic_load(&s->write_deadline_ms);
    out->auth_required = s->auth_required;
    if (size >= offsetof(modnats_stats, tls_timeout_ms) + sizeof(out->tls_timeout_ms)) {
        out->tls_required = s->tls_on && !s->tls_optional;
        out->tls_verify = s->tls_on && s->tls_verify;
        pthread_mutex_lock(&s->auth_lock);   /* reload rewrites s->opts under it */
        out->tls_timeout_ms = s->opts.tls_set.timeout_ms;
        pthread_mutex_unlock(&s->auth_lock);
    }
    out->start_unix_ms = s->start_unix_ms;
    out->config_load_unix_ms = s->config_load_unix_ms;
    out->io_threads = s->nworkers;
    out->tags = (const char *const *)s->start_tags;
    out->ntags = (size_t)s->nstart_tags;
    for (int i = 0; i < s->nworkers; i++) {
        /* Racy reads of plain counters: monitoring tolerates a stale value. */
        mn_worker *w = &s->workers[i];
        out->in_msgs += __atomic_load_n(&w->in_msgs, __ATOMIC_RELAXED);
        out->in_bytes += __atomic_load_n(&w->in_bytes, __ATOMIC_RELAXED);
        out->out_msgs += __atomic_load_n(&w->out_msgs, __ATOMIC_RELAXED);
        out->out_bytes += __atomic_load_n(&w->out_bytes, __ATOMIC_RELAXED);
    }
    out->connections = (uint64_t)atomic_load(&s->nclients);
    out->total_connections = atomic_load(&s->total_connections);
    out->slow_consumers = atomic_load(&s->slow_consumers);
    mn_sublist_stats st;
    mn_sublist_get_stats(s->gacc->sl, &st);
    out->subscriptions = st.count;
    out->sublist_inserts = st.inserts;
    out->sublist_removes = st.removes;
    uint64_t hits = 0;
    size_t entries = 0;
    for (int i = 0; i < s->nworkers; i++) {
        mn_worker *w = &s->workers[i];
        /* The cache array only grows, and only its owner writes it. */
        mn_match_cache **caches = __atomic_load_n(&w->caches, __ATOMIC_ACQUIRE);
        size_t n = __atomic_load_n(&w->ncaches, __ATOMIC_ACQUIRE);
        if (caches && s->gacc->idx < n && caches[s->gacc->idx]) {
            uint64_t h;
            size_t e;
            mn_match_cache_stats(caches[s->gacc->idx], &h, &e);
            hits += h;
            entries += e;
        }
    }
    /* As nats-server counts: every lookup is a match, hits among them. */
    out->sublist_matches = st.matches + hits;
    out->sublist_cache_hits = hits;
    out->sublist_cache_entries = entries;
    return MODNATS_OK;
}

/* A snapshot of every client, gathered by each worker on its own thread. */
typedef struct snap {
    pthread_mutex_t lock;
    pthread_cond_t  cond;
    int             pending;
    bool            with_subs;
    modnats_conn_info *infos;
    size_t          n, cap;
} snap;

static void task_snapshot(mn_worker *w, void *arg)
{
    snap *sn = arg;
    size_t n = 0;
    for (mn_client *c = w->clients; c; c = c->next)
        n++;
    modnats_conn_info *local = calloc(n ? n : 1, sizeof(*local));
    size_t k = 0;
    for (mn_client *c = w->clients; c && local; c = c->next) {
        if (c->state == MN_CS_CLOSED)
            continue;
        local[k].size = sizeof(local[k]);
        mn_client_info(c, &local[k], sn->with_subs);
        k++;
    }
    pthread_mutex_lock(&sn->lock);
    if (local && k > 0) {
        if (sn->n + k > sn->cap) {
            size_t cap = (sn->n + k) * 2;
            modnats_conn_info *v = realloc(sn->infos, cap * sizeof(*v));
            if (v) {
                sn->infos = v;
                sn->cap = cap;
            }
        }
        if (sn->n + k <= sn->cap) {
            memcpy(sn->infos + sn->n, local, k * sizeof(*local));
            sn->n += k;
            k = 0;   /* ownership of the strings moved */
        }
    }
    sn->pending--;
    pthread_cond_signal(&sn->cond);
    pthread_mutex_unlock(&sn->lock);
    /* Not moved (out of memory): free them here. */
    for (size_t i = 0; local && i < k; i++)
        mn_conn_info_free(&local[i]);
    free(local);
}

static int cmp_cid(const void *a, const void *b)
{
    const modnats_conn_info *x = a, *y = b;
    return x->cid < y->cid ? -1 : x->cid > y->cid;
}

static modnats_rc api_conns_foreach(bool with_subs,
                                    void (*fn)(void *ud, const modnats_conn_info *info), void *ud)
{
    mn_server *s = mn_g_server;
    /* Not from a worker (it waits for them), nor before they run. */
    if (!fn || mn_current_worker || atomic_load(&s->shutting_down) || !s->workers[0].started)
        return MODNATS_ERR;
    snap sn = { .pending = s->nworkers, .with_subs = with_subs };
    pthread_mutex_init(&sn.lock, NULL);
    pthread_cond_init(&sn.cond, NULL);
    for (int i = 0; i < s->nworkers; i++)
        mn_worker_post(&s->workers[i], task_snapshot, &sn);
    pthread_mutex_lock(&sn.lock);
    while (sn.pending > 0)
        pthread_cond_wait(&sn.cond, &sn.lock);
    pthread_mutex_unlock(&sn.lock);
    qsort(sn.infos, sn.n, sizeof(*sn.infos), cmp_cid);
    for (size_t i = 0; i < sn.n; i++)
        fn(ud, &sn.infos[i]);
    for (size_t i = 0; i < sn.n; i++)
        mn_conn_info_free(&sn.infos[i]);
    free(sn.infos);
    pthread_mutex_destroy(&sn.lock);
    pthread_cond_destroy(&sn.cond);
    return MODNATS_OK;
}

static const char *api_cfg_key(const modnats_config *c, size_t i)
{
    const mn_cfg *g = (const mn_cfg *)c;
    if (!g || g->type != MN_CFG_GROUP || i >= g->nkids)
        return NULL;
    return g->kids[i]->name;
}

static const char *api_cfg_where(const modnats_config *c, const char *key, char *buf, size_t len)
{
    const mn_cfg *n = key ? node(c, key) : (const mn_cfg *)c;
    if (!buf || len == 0)
        return NULL;
    if (!n)
        snprintf(buf, len, "?");
    else if (n->file)
        snprintf(buf, len, "%s:%d", n->file, n->line);
    else
        snprintf(buf, len, "configuration");
    return buf;
}

void mn_module_release_all(modnats_module *m)
{
    for (;;) {
        pthread_mutex_lock(&m->res_lock);
        mn_isub *is = m->isubs;
        pthread_mutex_unlock(&m->res_lock);
        if (!is)
            break;
        if (api_unsubscribe((modnats_sub *)is) != MODNATS_OK) {
            /* Already being removed elsewhere: just forget it here. */
            pthread_mutex_lock(&m->res_lock);
            if (m->isubs == is)
                m->isubs = is->mod_next;
            pthread_mutex_unlock(&m->res_lock);
        }
    }
    for (;;) {
        pthread_mutex_lock(&m->res_lock);
        mn_sink *k = m->sinks;
        pthread_mutex_unlock(&m->res_lock);
        if (!k)
            break;
        api_sink_free((modnats_sink *)k);
    }
    mn_timers_drop(m);
}

static const char *api_server_id(void) { return mn_g_server->server_id; }
static const char *api_server_name(void) { return mn_g_server->server_name; }

static modnats_timer *api_timer_start(modnats_module *m, uint64_t after_ms, uint64_t every_ms,
                                      modnats_timer_fn fn, void *ud)
{
    return mn_timer_start(m, after_ms, every_ms, fn, ud);
}

static modnats_rc api_conn_set_ud(modnats_conn *c, void *ud)
{
    return mn_mconn_is(c) ? mn_mconn_set_ud(c, ud) : MODNATS_ERR;
}

/* ------------------------------------------------------------------ TLS */

static modnats_rc api_conn_tls_info(const modnats_conn *c, modnats_tls_info *out)
{
    if (!c || !out)
        return MODNATS_ERR;
    int rc = mn_mconn_is(c) ? mn_mconn_tls_info(c, out) : mn_client_tls_info(CONN(c), out);
    return rc == MN_OK ? MODNATS_OK : MODNATS_ENOTFOUND;
}

static modnats_tls *api_tls_new(modnats_module *m, const modnats_config *group, uint32_t flags,
                                char *err, size_t errlen)
{
    MN_UNUSED(m);
    const mn_cfg *g = (const mn_cfg *)group;
    char dummy[8];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!g) {
        snprintf(err, errlen, "tls: no settings group");
        return NULL;
    }
    mn_tls_settings t;
    mn_tls_settings_init(&t);
    mn_tls_ctx *x = NULL;
    if (mn_tls_settings_parse(&t, g, g->name ? g->name : "tls", err, errlen) == MN_OK) {
        if (flags & MODNATS_TLS_VERIFY)
            t.verify = true;
        char why[400];
        x = mn_tls_ctx_new(&t, (flags & MODNATS_TLS_SERVER) != 0, why, sizeof why);
        if (!x)
            snprintf(err, errlen, "%s:%d: %s", g->file ? g->file : "?", g->line, why);
    }
    mn_tls_settings_free(&t);
    return (modnats_tls *)x;
}

static void api_tls_free(modnats_tls *t)
{
    mn_tls_ctx_unref((mn_tls_ctx *)t);
}

static modnats_rc api_conn_start_tls(modnats_conn *c, const modnats_tls *tls)
{
    return c && mn_mconn_is(c) ? mn_mconn_start_tls(c, tls) : MODNATS_ERR;
}

const modnats_host_api mn_host_api = {
    .size = sizeof(modnats_host_api),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .server_version = MN_VERSION,
    .log = api_log,
    .cfg_bool = api_cfg_bool,
    .cfg_int = api_cfg_int,
    .cfg_string = api_cfg_string,
    .cfg_list_len = api_cfg_list_len,
    .cfg_list_string = api_cfg_list_string,
    .cfg_child = api_cfg_child,
    .hook = mn_module_hook,
    .service_register = mn_service_register,
    .service_get = mn_service_get,
    .conn_id = api_conn_id,
    .conn_remote_ip = api_conn_remote_ip,
    .conn_remote_port = api_conn_remote_port,
    .conn_name = api_conn_name,
    .conn_account = api_conn_account,
    .conn_set_account = api_conn_set_account,
    .conn_set_permissions = api_conn_set_permissions,
    .conn_set_user = api_conn_set_user,
    .conn_close = api_conn_close,
    .conn_write = api_conn_write,
    .auth_complete = mn_auth_complete,
    .account_get = api_account_get,
    .account_get_or_create = api_account_get_or_create,
    .account_global = api_account_global,
    .account_name = api_account_name,
    .new_origin = api_new_origin,
    .subscribe = api_subscribe,
    .unsubscribe = api_unsubscribe,
    .publish = api_publish,
    .timer_start = api_timer_start,
    .timer_cancel = mn_timer_cancel,
    .listen = mn_mconn_listen,
    .dial = mn_mconn_dial,
    .stats = api_stats,
    .conns_foreach = api_conns_foreach,
    .server_id = api_server_id,
    .server_name = api_server_name,
    .cfg_key = api_cfg_key,
    .cfg_where = api_cfg_where,
    .auth_complete_login = mn_auth_complete_login,
    .sink_new = api_sink_new,
    .sink_subscribe = api_sink_subscribe,
    .sub_set_weight = api_sub_set_weight,
    .sink_free = api_sink_free,
    .interest_foreach = api_interest_foreach,
    .accounts_foreach = api_accounts_foreach,
    .require_nonce = api_require_nonce,
    .set_connect_urls = api_set_connect_urls,
    .conn_set_ud = api_conn_set_ud,
    .listener_port = mn_mlistener_port,
    /* ABI 1.1 (acctio.c) */
    .account_export = mn_acc_export,
    .account_import = mn_acc_import,
    .account_clear_io = mn_acc_clear_io,
    .account_set_limits = mn_acc_set_limits,
    .account_set_system = mn_acc_set_system,
    .account_system = mn_acc_system,
    .conn_login = mn_acc_conn_login,
    .auth_complete_ex = mn_auth_complete_ex,
    .conns_close_where = mn_acc_conns_close_where,
    .conn_info = mn_acc_conn_info,
    .conn_info_release = mn_acc_conn_info_release,
    .conn_tls_info = api_conn_tls_info,
    .tls_new = api_tls_new,
    .tls_free = api_tls_free,
    .listen_tls = mn_mconn_listen_tls,
    .dial_tls = mn_mconn_dial_tls,
    .conn_start_tls = api_conn_start_tls,
    .listener_set_tls = mn_mlistener_set_tls,
    .conn_pending = api_conn_pending,
};

uint64_t mn_unix_ms(void)
{
    return unix_ms_now();
}
