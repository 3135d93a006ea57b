/*
 * cl_interest.c - interest and messages across routes.
 *
 * Local side: the INTEREST event (subscriptions of local clients and
 * in-process subscribers; our own routes' origins are skipped) keeps a
 * table of counts per account, subject and queue.  A plain subject is
 * announced with RS+ on its first subscription and withdrawn with RS- on
 * its last; a queue group is announced with RS+ and its member count as
 * weight on every change, RS- at zero, as nats-server does.  A route
 * that registers gets the whole table.
 *
 * Remote side: one sink per route, for all accounts (a delivered message
 * carries its account).  RS+/RS- become sink subscriptions in the account
 * they name, and the sink's deliver writes one RMSG/HMSG per message
 * naming the account and the queue groups the core chose for this route.
 * The sink takes MODNATS_SINK_NOT_OWN_MODULE: messages from local clients
 * and from other modules' origins (leaf nodes, gateways) go out, nothing
 * that came in over a route.  Inbound RMSG is published with the route's
 * origin and the listed queues only.
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------ local interest table */

static uint64_t hash_str(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static size_t lint_bucket(modnats_account *a, const char *subj, size_t sl, const char *q,
                          size_t ql)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)a;
    h = hash_str(h, subj, sl);
    h = hash_str(h, "\x01", 1);
    h = hash_str(h, q ? q : "", ql);
    return (size_t)(h % g_cl.lint_buckets);
}

static bool lint_eq(const cl_lint *e, modnats_account *a, const char *subj, size_t sl,
                    const char *q, size_t ql)
{
    if (e->acc != a || strlen(e->subject) != sl || memcmp(e->subject, subj, sl) != 0)
        return false;
    if (!q || ql == 0)
        return e->queue == NULL;
    return e->queue && strlen(e->queue) == ql && memcmp(e->queue, q, ql) == 0;
}

static void lint_grow(void)
{
    size_t nb = g_cl.lint_buckets ? g_cl.lint_buckets * 2 : 256;
    cl_lint **nt = calloc(nb, sizeof(*nt));
    if (!nt)
        return;
    cl_lint **old = g_cl.lint;
    size_t ob = g_cl.lint_buckets;
    g_cl.lint = nt;
    g_cl.lint_buckets = nb;
    for (size_t i = 0; i < ob; i++) {
        cl_lint *e = old[i];
        while (e) {
            cl_lint *next = e->next;
            size_t b = lint_bucket(e->acc, e->subject, strlen(e->subject), e->queue,
                                   e->queue ? strlen(e->queue) : 0);
            e->next = nt[b];
            nt[b] = e;
            e = next;
        }
    }
    free(old);
}

/* g_cl.lock held.  Adds delta to an entry (created at need); returns it,
 * or NULL (out of memory, or a removal of something never seen). */
static cl_lint *lint_update(modnats_account *a, const char *subj, size_t sl, const char *q,
                            size_t ql, int delta, cl_lint ***slot_out)
{
    if (g_cl.lint_count + 1 > g_cl.lint_buckets * 2 || !g_cl.lint)
        lint_grow();
    if (!g_cl.lint)
        return NULL;
    size_t b = lint_bucket(a, subj, sl, q, ql);
    cl_lint **pp = &g_cl.lint[b];
    for (; *pp; pp = &(*pp)->next) {
        if (lint_eq(*pp, a, subj, sl, q, ql)) {
            (*pp)->count += delta;
            *slot_out = pp;
            return *pp;
        }
    }
    if (delta <= 0)
        return NULL;
    cl_lint *e = calloc(1, sizeof(*e));
    if (!e)
        return NULL;
    e->acc = a;
    e->subject = strndup(subj, sl);
    e->queue = q && ql ? strndup(q, ql) : NULL;
    if (!e->subject || (q && ql && !e->queue)) {
        free(e->subject);
        free(e->queue);
        free(e);
        return NULL;
    }
    e->count = delta;
    e->next = g_cl.lint[b];
    g_cl.lint[b] = e;
    g_cl.lint_count++;
    *slot_out = &g_cl.lint[b];
    return e;
}

static void lint_free(cl_lint *e)
{
    free(e->subject);
    free(e->queue);
    free(e);
}

/* RS+/RS- for an entry into buf; returns the length (0: nothing). */
static int lint_frame(const cl_lint *e, bool removed, char *buf, size_t cap)
{
    const char *an = CL_API->account_name(e->acc);
    if (!an)
        return 0;
    int n;
    if (e->queue) {
        if (e->count > 0 && !removed)
            n = snprintf(buf, cap, "RS+ %s %s %s %d\r\n", an, e->subject, e->queue, e->count);
        else
            n = snprintf(buf, cap, "RS- %s %s %s\r\n", an, e->subject, e->queue);
    } else {
        n = snprintf(buf, cap, "%s %s %s\r\n", removed ? "RS-" : "RS+", an, e->subject);
    }
    return n > 0 && (size_t)n < cap ? n : 0;
}

static void write_active_locked(const char *buf, size_t len)
{
    for (cl_route *r = g_cl.routes; r; r = r->next)
        if (r->state == CL_ACTIVE)
            cl_route_write(r, buf, len);
}

static modnats_rc on_interest(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    if (hdr->size < sizeof(modnats_interest_event))
        return MODNATS_DEFER;
    modnats_interest_event *ev = (modnats_interest_event *)hdr;
    if (!ev->account || !ev->subject || ev->subject_len == 0)
        return MODNATS_DEFER;
    pthread_mutex_lock(&g_cl.lock);
    if (cl_origin_is_ours(ev->origin)) {
        pthread_mutex_unlock(&g_cl.lock);
        return MODNATS_DEFER;
    }
    cl_lint **slot = NULL;
    cl_lint *e = lint_update(ev->account, ev->subject, ev->subject_len, ev->queue,
                             ev->queue ? ev->queue_len : 0, ev->added ? 1 : -1, &slot);
    if (e) {
        char stackbuf[1024];
        size_t need = strlen(e->subject) + (e->queue ? strlen(e->queue) : 0) + 300;
        char *buf = need <= sizeof(stackbuf) ? stackbuf : malloc(need);
        bool send = e->queue ? true : (ev->added ? e->count == 1 : e->count == 0);
        send = send && cl_perm_import_ok(cl_perms_get(), e->subject);
        if (buf && send) {
            int n = lint_frame(e, e->count <= 0, buf, need <= sizeof(stackbuf) ? sizeof(stackbuf) : need);
            if (n > 0)
                write_active_locked(buf, (size_t)n);
        }
        if (buf != stackbuf)
            free(buf);
        if (e->count <= 0) {
            *slot = e->next;
            g_cl.lint_count--;
            lint_free(e);
        }
    }
    pthread_mutex_unlock(&g_cl.lock);
    return MODNATS_DEFER;
}

void cl_interest_send_all_locked(cl_route *r)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return;
    const cl_perms *perms = cl_perms_get();
    for (size_t i = 0; i < g_cl.lint_buckets; i++) {
        for (cl_lint *e = g_cl.lint[i]; e; e = e->next) {
            if (!cl_perm_import_ok(perms, e->subject))
                continue;
            size_t need = strlen(e->subject) + (e->queue ? strlen(e->queue) : 0) + 300;
            if (len + need > cap) {
                cl_route_write(r, buf, len);
                len = 0;
                if (need > cap) {
                    char *nb = realloc(buf, need);
                    if (!nb)
                        continue;
                    buf = nb;
                    cap = need;
                }
            }
            int n = lint_frame(e, false, buf + len, cap - len);
            if (n > 0)
                len += (size_t)n;
        }
    }
    if (len)
        cl_route_write(r, buf, len);
    free(buf);
}

/* g_cl.lock held: RS+ (and, unless adds_only, RS-) for the entries whose
 * verdict ok(e, perms) changed from old to now, to r or (r NULL) to every
 * active route. */
static void resend_changed_locked(cl_route *r, bool (*ok)(const cl_lint *, const void *),
                                  const void *old, const void *now_perms, bool adds_only)
{
    char buf[2048];
    for (size_t i = 0; i < g_cl.lint_buckets; i++) {
        for (cl_lint *e = g_cl.lint[i]; e; e = e->next) {
            bool before = ok(e, old), now = ok(e, now_perms);
            if (before == now || (adds_only && !now))
                continue;
            int n = lint_frame(e, !now, buf, sizeof(buf));
            if (n <= 0)
                continue;
            if (r)
                cl_route_write(r, buf, (size_t)n);
            else
                write_active_locked(buf, (size_t)n);
        }
    }
}

static bool importable(const cl_lint *e, const void *p)
{
    return cl_perm_import_ok(p, e->subject);
}

void cl_interest_reimport_locked(const cl_perms *old, const cl_perms *now)
{
    resend_changed_locked(NULL, importable, old, now, false);
}

/* What the peer may export and we may import (additions only, as
 * nats-server: a peer drops what it no longer exports itself). */
static bool peer_takes(const cl_lint *e, const void *p)
{
    return cl_perm_export_ok(p, e->subject) && cl_perm_import_ok(cl_perms_get(), e->subject);
}

void cl_interest_peer_export_locked(cl_route *r, const cl_perms *old, const cl_perms *now)
{
    resend_changed_locked(r, peer_takes, old, now, true);
}

/* Seed the table with what exists before our hook (init, main thread). */
static void seed_sub(void *ud, const char *subject, const char *queue, int weight,
                     modnats_origin origin)
{
    modnats_account *a = ud;
    if (cl_origin_is_ours(origin))
        return;
    cl_lint **slot;
    lint_update(a, subject, strlen(subject), queue, queue ? strlen(queue) : 0,
                queue && weight > 0 ? weight : 1, &slot);
}

static void seed_acc(void *ud, modnats_account *a)
{
    (void)ud;
    CL_API->interest_foreach(a, seed_sub, a);
}

modnats_rc cl_interest_init(void)
{
    if (CL_API->hook(g_cl.self, MODNATS_EV_INTEREST, 100, on_interest, NULL) != MODNATS_OK) {
        cl_log(MODNATS_LOG_ERROR, "cannot hook interest changes");
        return MODNATS_ERR;
    }
    if (MODNATS_HAS(CL_API, accounts_foreach) && MODNATS_HAS(CL_API, interest_foreach)) {
        pthread_mutex_lock(&g_cl.lock);
        modnats_rc rc = CL_API->accounts_foreach(seed_acc, NULL);
        pthread_mutex_unlock(&g_cl.lock);
        if (rc != MODNATS_OK)
            cl_log(MODNATS_LOG_DEBUG, "accounts_foreach: %d (existing interest not seeded)", rc);
    }
    return MODNATS_OK;
}

void cl_interest_fini(void)
{
    for (size_t i = 0; i < g_cl.lint_buckets; i++) {
        while (g_cl.lint[i]) {
            cl_lint *e = g_cl.lint[i];
            g_cl.lint[i] = e->next;
            lint_free(e);
        }
    }
    free(g_cl.lint);
    g_cl.lint = NULL;
    g_cl.lint_buckets = g_cl.lint_count = 0;
}

/* ------------------------------------------------- remote interest */

static void sink_deliver(void *ud, modnats_sink *sink, const modnats_msg *msg,
                         modnats_origin origin, bool plain, const char *const *queues,
                         const size_t *queue_lens, size_t nqueues);

static void sink_released(void *ud);

static const modnats_sink_ops sink_ops = {
    .size = sizeof(modnats_sink_ops),
    .deliver = sink_deliver,
    .released = sink_released,
};

/* No deliver runs any more: the route's reference can go. */
static void sink_released(void *ud)
{
    cl_route_unref(ud);
}

static modnats_account *lookup_account(const char *name)
{
    modnats_account *a = CL_API->account_get(name);
    if (!a && strcmp(name, "$G") == 0)
        a = CL_API->account_global();
    return a;
}

/* The route's worker: the account an RS+/RMSG names, remembering the last
 * one (accounts live as long as the process).  NULL: unknown. */
static modnats_account *route_account(cl_route *r, const char *name)
{
    if (r->rmsg_acc && strcmp(r->rmsg_acc_name, name) == 0)
        return r->rmsg_acc;
    modnats_account *a = lookup_account(name);
    if (a && strlen(name) < sizeof(r->rmsg_acc_name)) {
        strcpy(r->rmsg_acc_name, name);
        r->rmsg_acc = a;
    }
    return a;
}

/* The route's sink and its table, created on its first RS+. */
static bool route_sink(cl_route *r)
{
    if (r->sink)
        return true;
    if (!r->rtab) {
        cl_rsub **t = calloc(64, sizeof(*t));
        if (!t)
            return false;
        pthread_mutex_lock(&r->slock);
        r->rtab = t;
        r->rbuckets = 64;
        pthread_mutex_unlock(&r->slock);
    }
    r->sink = CL_API->sink_new(g_cl.self, &sink_ops, r, r->origin, MODNATS_SINK_NOT_OWN_MODULE);
    if (!r->sink) {
        static _Atomic bool warned;
        if (!atomic_exchange(&warned, true))
            cl_log(MODNATS_LOG_ERROR, "sink_new failed: remote interest cannot be held");
        return false;
    }
    cl_route_ref(r);   /* deliver may run until released */
    return true;
}

static cl_rsub **rsub_slot(cl_route *r, const char *key)
{
    size_t b = (size_t)(hash_str(1469598103934665603ull, key, strlen(key)) % r->rbuckets);
    cl_rsub **pp = &r->rtab[b];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

static void rsub_grow(cl_route *r)
{
    size_t nb = r->rbuckets * 4;
    cl_rsub **nt = calloc(nb, sizeof(*nt));
    if (!nt)
        return;
    for (size_t i = 0; i < r->rbuckets; i++) {
        cl_rsub *e = r->rtab[i];
        while (e) {
            cl_rsub *next = e->next;
            size_t b = (size_t)(hash_str(1469598103934665603ull, e->key, strlen(e->key)) % nb);
            e->next = nt[b];
            nt[b] = e;
            e = next;
        }
    }
    free(r->rtab);
    r->rtab = nt;
    r->rbuckets = nb;
}

/* "account subject[ queue]" */
static char *make_key(const char *acc, const char *subject, const char *queue)
{
    size_t al = strlen(acc), sl = strlen(subject), ql = queue ? strlen(queue) : 0;
    char *k = malloc(al + sl + ql + 3);
    if (!k)
        return NULL;
    char *p = k;
    memcpy(p, acc, al);
    p += al;
    *p++ = ' ';
    memcpy(p, subject, sl);
    p += sl;
    if (queue) {
        *p++ = ' ';
        memcpy(p, queue, ql);
        p += ql;
    }
    *p = 0;
    return k;
}

int cl_on_rsub(cl_route *r, const char *acc, const char *subject, const char *queue,
               int weight)
{
    if (!cl_perm_export_ok(cl_perms_get(), subject)) {
        cl_log(MODNATS_LOG_DEBUG, "route %s: cannot export \"%s\", interest ignored",
               r->remote_id, subject);
        return 0;
    }
    if (!route_sink(r))
        return 0;
    char *key = make_key(acc, subject, queue);
    if (!key)
        return -1;
    cl_rsub **pp = rsub_slot(r, key);
    if (*pp) {
        if (queue && (*pp)->weight != weight) {
            (*pp)->weight = weight;
            CL_API->sub_set_weight((*pp)->sub, weight);
        }
        free(key);
        return 0;
    }
    modnats_account *a = route_account(r, acc);
    if (!a) {
        cl_log(MODNATS_LOG_DEBUG, "route %s: interest in unknown account \"%s\" ignored",
               r->remote_id, acc);
        free(key);
        return 0;
    }
    modnats_sub *sub = CL_API->sink_subscribe(r->sink, a, subject, queue, weight);
    if (!sub) {
        cl_log(MODNATS_LOG_DEBUG, "route %s: cannot hold interest %s", r->remote_id, key);
        free(key);
        return 0;
    }
    cl_rsub *e = calloc(1, sizeof(*e));
    if (!e) {
        CL_API->unsubscribe(sub);
        free(key);
        return -1;
    }
    e->key = key;
    e->sub = sub;
    e->weight = weight;
    pthread_mutex_lock(&r->slock);
    *pp = e;
    atomic_fetch_add_explicit(&r->nsubs, 1, memory_order_relaxed);
    if (++r->rcount > r->rbuckets * 2)
        rsub_grow(r);
    pthread_mutex_unlock(&r->slock);
    return 0;
}

int cl_on_runsub(cl_route *r, const char *acc, const char *subject, const char *queue)
{
    if (!r->sink)
        return 0;
    char *key = make_key(acc, subject, queue);
    if (!key)
        return -1;
    cl_rsub **pp = rsub_slot(r, key);
    free(key);
    cl_rsub *e = *pp;
    if (!e)
        return 0;
    pthread_mutex_lock(&r->slock);
    *pp = e->next;
    r->rcount--;
    pthread_mutex_unlock(&r->slock);
    atomic_fetch_sub_explicit(&r->nsubs, 1, memory_order_relaxed);
    CL_API->unsubscribe(e->sub);
    free(e->key);
    free(e);
    return 0;
}

void cl_interest_recheck_export(cl_route *r)
{
    const cl_perms *p = cl_perms_get();
    for (size_t i = 0; i < r->rbuckets; i++) {
        for (cl_rsub **pp = &r->rtab[i]; *pp;) {
            cl_rsub *e = *pp;
            /* key: "account subject[ queue]" */
            const char *s = strchr(e->key, ' ');
            char subj[1024];
            size_t sl = s ? strcspn(s + 1, " ") : 0;
            if (!s || sl >= sizeof(subj)) {
                pp = &e->next;
                continue;
            }
            memcpy(subj, s + 1, sl);
            subj[sl] = 0;
            if (cl_perm_export_ok(p, subj)) {
                pp = &e->next;
                continue;
            }
            pthread_mutex_lock(&r->slock);
            *pp = e->next;
            r->rcount--;
            pthread_mutex_unlock(&r->slock);
            atomic_fetch_sub_explicit(&r->nsubs, 1, memory_order_relaxed);
            CL_API->unsubscribe(e->sub);
            free(e->key);
            free(e);
        }
    }
}

void cl_route_drop_interest(cl_route *r)
{
    pthread_mutex_lock(&r->slock);
    for (size_t i = 0; i < r->rbuckets; i++) {
        while (r->rtab[i]) {
            cl_rsub *e = r->rtab[i];
            r->rtab[i] = e->next;
            free(e->key);
            free(e);
        }
    }
    free(r->rtab);
    r->rtab = NULL;
    r->rbuckets = r->rcount = 0;
    pthread_mutex_unlock(&r->slock);
    if (r->sink) {
        /* Drops every subscription of the sink; released() unrefs r. */
        modnats_sink *k = r->sink;
        r->sink = NULL;
        CL_API->sink_free(k);
    }
    atomic_store(&r->nsubs, 0);
}

/* --------------------------------------------------------- messages */

int cl_on_rmsg(cl_route *r, const char *acc, const char *subject, const char *reply,
               const char *const *queues, const size_t *qlens, size_t nq, bool listed,
               const char *payload, size_t hdr_len, size_t total)
{
    atomic_fetch_add_explicit(&r->in_msgs, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->in_bytes, total, memory_order_relaxed);
    if (!r->got_info)
        return 0;   /* nothing routes before the handshake */
    modnats_account *a = route_account(r, acc);
    if (!a)
        return 0;
    modnats_msg m = {
        .size = sizeof(m),
        .subject = subject, .subject_len = strlen(subject),
        .reply = reply, .reply_len = reply ? strlen(reply) : 0,
        .hdr = hdr_len ? payload : NULL, .hdr_len = hdr_len,
        .data = payload + hdr_len, .data_len = total - hdr_len,
        .flags = listed ? MODNATS_MSG_QUEUES_LISTED : 0,
        .queues = nq ? queues : NULL, .queue_lens = nq ? qlens : NULL, .nqueues = nq,
    };
    if (CL_API->publish(g_cl.self, a, &m, r->origin) != MODNATS_OK)
        cl_log(MODNATS_LOG_DEBUG, "route %s: cannot route a message on %s", r->remote_id, subject);
    return 0;
}

static void sink_deliver(void *ud, modnats_sink *sink, const modnats_msg *msg,
                         modnats_origin origin, bool plain, const char *const *queues,
                         const size_t *queue_lens, size_t nqueues)
{
    (void)sink;
    (void)origin;
    cl_route *r = ud;
    if (!plain && nqueues == 0)
        return;
    if (cl_perm_export_denied(cl_perms_get(), msg->subject, msg->subject_len))
        return;
    const char *acc = msg->size >= offsetof(modnats_msg, account) + sizeof(msg->account) &&
                              msg->account ? CL_API->account_name(msg->account) : NULL;
    if (!acc)
        return;
    size_t an = strlen(acc);
    size_t hl = msg->hdr ? msg->hdr_len : 0;
    size_t total = hl + msg->data_len;
    size_t line_cap = an + msg->subject_len + msg->reply_len + 64;
    for (size_t i = 0; i < nqueues; i++)
        line_cap += queue_lens[i] + 1;
    size_t cap = line_cap + total + 2;
    char stackbuf[8192];
    char *buf = cap <= sizeof(stackbuf) ? stackbuf : malloc(cap);
    if (!buf)
        return;
    char *p = buf;
    memcpy(p, hl ? "HMSG " : "RMSG ", 5);
    p += 5;
    memcpy(p, acc, an);
    p += an;
    *p++ = ' ';
    memcpy(p, msg->subject, msg->subject_len);
    p += msg->subject_len;
    if (nqueues) {
        if (msg->reply && msg->reply_len) {
            memcpy(p, " + ", 3);
            p += 3;
            memcpy(p, msg->reply, msg->reply_len);
            p += msg->reply_len;
        } else {
            memcpy(p, " |", 2);
            p += 2;
        }
        for (size_t i = 0; i < nqueues; i++) {
            *p++ = ' ';
            memcpy(p, queues[i], queue_lens[i]);
            p += queue_lens[i];
        }
    } else if (msg->reply && msg->reply_len) {
        *p++ = ' ';
        memcpy(p, msg->reply, msg->reply_len);
        p += msg->reply_len;
    }
    if (hl)
        p += sprintf(p, " %zu %zu\r\n", hl, total);
    else
        p += sprintf(p, " %zu\r\n", total);
    if (hl) {
        memcpy(p, msg->hdr, hl);
        p += hl;
    }
    if (msg->data_len) {
        memcpy(p, msg->data, msg->data_len);
        p += msg->data_len;
    }
    *p++ = '\r';
    *p++ = '\n';
    if (cl_route_write(r, buf, (size_t)(p - buf))) {
        atomic_fetch_add_explicit(&r->out_msgs, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->out_bytes, total, memory_order_relaxed);
    }
    if (buf != stackbuf)
        free(buf);
}
