/*
 * client.c - one client connection: reading, the protocol verbs, delivery
 * of messages to subscribers, and writing.
 *
 * The owner worker reads the socket, feeds the parser and handles every
 * verb.  Delivery (deliver_one) runs on whichever worker received the
 * publish: it appends MSG/HMSG frames to the subscriber's outbound buffer
 * under the subscriber's lock and puts the subscriber on its own flush list;
 * at the end of its loop turn that worker writes each listed client's
 * buffer once.  See server.h for which fields each thread may touch.
 */
#include "server.h"
#include "json.h"
#include "log.h"
#include "qsbr.h"
#include "module.h"
#include "acctio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* A worker's own counter, read by monitoring threads: one writer, so a
 * relaxed load-add-store (no locked instruction) keeps readers race-free. */
#define MN_STAT_ADD(x, v) __atomic_store_n(&(x), (x) + (v), __ATOMIC_RELAXED)

#define OBUF_MIN        1024
#define OBUF_KEEP_MAX   (64 * 1024)   /* larger buffers are freed once drained */
#define SIDS_MIN_BUCKETS 8

static const mn_parser_cb client_cb;

/* A reply subject the client may publish to (allow_responses). */
struct mn_resp {
    struct mn_resp *next;
    uint32_t        left;
    uint64_t        expires_ms;   /* 0: never */
    uint32_t        len;
    char            subj[];
};


/* ---------------------------------------------------------------- output */

/* Make room for n more bytes of output.  c->lock held. */
static int out_reserve(mn_client *c, size_t n)
{
    if (c->olen + n <= c->ocap)
        return MN_OK;
    if (c->ooff > 0) {
        memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
        c->olen -= c->ooff;
        c->ooff = 0;
        if (c->olen + n <= c->ocap)
            return MN_OK;
    }
    size_t cap = c->ocap ? c->ocap : OBUF_MIN;
    while (cap < c->olen + n)
        cap *= 2;
    char *nb = realloc(c->obuf, cap);
    if (!nb)
        return MN_ENOMEM;
    c->obuf = nb;
    c->ocap = cap;
    return MN_OK;
}

static inline void out_put(mn_client *c, const void *p, size_t n)
{
    memcpy(c->obuf + c->olen, p, n);
    c->olen += n;
}

/* Queue this client for a write at the end of the current worker's turn.
 * c->lock held.  `w` is the worker running now. */
static inline void queue_flush(mn_worker *w, mn_client *c)
{
    if (!c->flush_queued) {
        c->flush_queued = true;
        mn_worker_schedule_flush(w, c);
    }
}

/* Append raw protocol bytes from the owner thread. */
static void send_raw(mn_client *c, const char *p, size_t n)
{
    pthread_mutex_lock(&c->lock);
    if (!c->closed && out_reserve(c, n) == MN_OK) {
        out_put(c, p, n);
        queue_flush(c->w, c);
    }
    pthread_mutex_unlock(&c->lock);
}

#define SEND_LIT(c, s) send_raw((c), (s), sizeof(s) - 1)

static void send_err(mn_client *c, const char *err)
{
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "-ERR '%s'\r\n", err);
    if (n > 0)
        send_raw(c, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void arm_out(mn_client *c, bool on)
{
    struct epoll_event ev = { .events = (c->paused ? 0 : EPOLLIN) | (on ? EPOLLOUT : 0),
                              .data.ptr = c };
    if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = on;
}

static bool tls_write_out(mn_client *c, bool *progress);

/* Write as much pending output as the socket takes.  c->lock held. */
static void write_locked(mn_client *c)
{
    bool progress = false;
    if (MN_UNLIKELY(c->tls != NULL)) {
        if (!tls_write_out(c, &progress))
            return;   /* output waits for the handshake */
    } else {
        while (c->ooff < c->olen) {
            ssize_t n = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                c->ooff += (size_t)n;
                progress = true;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            /* A hard error: drop the output; the owner sees the socket fail
             * on its next read and closes the connection. */
            c->ooff = c->olen;
            break;
        }
    }
    if (c->ooff == c->olen) {
        c->ooff = c->olen = 0;
        c->stall_ms = 0;
        if (c->ocap > OBUF_KEEP_MAX) {
            free(c->obuf);
            c->obuf = NULL;
            c->ocap = 0;
        }
        if (c->want_out)
            arm_out(c, false);
        return;
    }
    if (progress || c->stall_ms == 0)
        c->stall_ms = mn_now_ms();
    if (!c->want_out)
        arm_out(c, true);
}

void mn_client_flush(mn_client *c)
{
    pthread_mutex_lock(&c->lock);
    c->flush_queued = false;
    if (!c->closed)
        write_locked(c);
    pthread_mutex_unlock(&c->lock);
}

static void tls_step(mn_client *c);
static void tls_read_input(mn_client *c);

void mn_client_on_writable(mn_client *c)
{
    if (MN_UNLIKELY(c->tls != NULL)) {
        if (!mn_tls_ready(c->tls)) {
            tls_step(c);
            return;
        }
        mn_client_flush(c);
        /* A read that had to write (a TLS 1.3 key update answer) goes on. */
        if (c->state != MN_CS_CLOSED)
            tls_read_input(c);
        return;
    }
    mn_client_flush(c);
}

/* ------------------------------------------------------------ lifecycle */

void mn_client_ref(mn_client *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

static void client_free(void *p)
{
    mn_client *c = p;
    pthread_mutex_destroy(&c->lock);
    free(c->obuf);
    free(c->name);
    free(c->lang);
    free(c->version);
    free(c->user);
    free(c->stash);
    mn_tls_free(c->tls);
    mn_perms_free(c->perms);
    struct mn_resp *r = c->resp;
    while (r) {
        struct mn_resp *nx = r->next;
        free(r);
        r = nx;
    }
    free(c);
}

void mn_client_unref(mn_client *c)
{
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        mn_qsbr_retire(c, client_free);
}

bool mn_client_is_closed(mn_client *c)
{
    return c->state == MN_CS_CLOSED;
}

/* 11 random bytes in URL-safe base64 without padding, as nats-server. */
static void make_nonce(char out[24])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char r[12] = { 0 };
    if (getrandom(r, 11, 0) != 11) {
        uint64_t x = mn_now_ms() ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 11; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            r[i] = (unsigned char)(x >> 33);
        }
    }
    int k = 0;
    for (int i = 0; i < 11; i += 3) {
        uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
        out[k++] = b64[(v >> 18) & 63];
        out[k++] = b64[(v >> 12) & 63];
        if (i + 1 < 11)
            out[k++] = b64[(v >> 6) & 63];
        if (i + 2 < 11)
            out[k++] = b64[v & 63];
    }
    out[k] = 0;
}

static int tls_accept(mn_client *c, mn_tls_ctx *tx, const char *info, size_t n);

mn_client *mn_client_new(mn_worker *w, int fd)
{
    mn_server *s = w->srv;
    mn_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ep_kind = MN_EP_CLIENT;
    c->w = w;
    c->srv = s;
    c->acc = s->gacc;
    c->fd = fd;
    c->cid = atomic_fetch_add(&s->next_cid, 1) + 1;
    c->echo = true;
    c->proto = 0;
    c->mpay = INT64_MAX;
    c->msubs = c->user_msubs = c->user_mpay = -1;
    atomic_store(&c->refs, 1);
    pthread_mutex_init(&c->lock, NULL);
    mn_parser_init(&c->parser, (size_t)atomic_load(&s->max_control_line),
                   (size_t)atomic_load(&s->max_payload));
    c->start_ms = c->last_in_ms = c->last_ping_ms = w->now_ms;

    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, c->ip, sizeof(c->ip));
            c->rport = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, c->ip, sizeof(c->ip));
            c->rport = ntohs(a->sin6_port);
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        mn_error("epoll_ctl: %s", strerror(errno));
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->next = w->clients;
    if (w->clients)
        w->clients->prev = c;
    w->clients = c;
    w->nclients++;

    if (s->nonce_required)
        make_nonce(c->nonce);
    mn_tls_ctx *tx = s->tls_on ? mn_server_tls_ctx(s) : NULL;
    size_t n;
    char *info = mn_server_info(s, c, atomic_load(&s->lame_duck), &n);
    if (tx) {
        int rc = tls_accept(c, tx, info, n);
        mn_tls_ctx_unref(tx);
        free(info);
        if (rc != MN_OK) {
            mn_client_close(c, NULL);
            return c;   /* closed: its last reference is the qsbr's now */
        }
    } else if (info) {
        send_raw(c, info, n);
        free(info);
    }
    mn_debug("%s:%d - cid:%llu - Client connection created", c->ip, c->rport,
             (unsigned long long)c->cid);
    return c;
}

/* TLS: a new client on a TLS port.  Without handshake_first, INFO goes out
 * in plain text first (the socket is new: it takes it whole) and the
 * client's ClientHello follows; with it, INFO waits for the handshake. */
static int tls_accept(mn_client *c, mn_tls_ctx *tx, const char *info, size_t n)
{
    c->tls_info_after = mn_tls_ctx_handshake_first(tx);
    c->tls_optional = c->srv->tls_optional && !c->tls_info_after;
    if (!c->tls_info_after) {
        if (!info || send(c->fd, info, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
            return MN_ERR;
    }
    c->tls = mn_tls_new(tx, c->fd, true, NULL);
    if (!c->tls)
        return MN_ENOMEM;
    c->tls_deadline_ms = c->start_ms + (uint64_t)mn_tls_ctx_timeout_ms(tx);
    if (c->tls_info_after && mn_tls_ctx_first_fallback_ms(tx) > 0)
        c->tls_fallback_ms = c->start_ms + (uint64_t)mn_tls_ctx_first_fallback_ms(tx);
    return MN_OK;
}

/* ---------------------------------------------------------- subscriptions */

static uint32_t sid_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static mn_csub *sid_find(mn_client *c, const char *sid, size_t len)
{
    if (!c->sids)
        return NULL;
    mn_csub *cs = c->sids[sid_hash(sid, len) & (c->nsids_buckets - 1)];
    for (; cs; cs = cs->hnext)
        if (cs->sid_len == len && memcmp(cs->sid, sid, len) == 0)
            return cs;
    return NULL;
}

static int sid_insert(mn_client *c, mn_csub *cs)
{
    if (c->nsubs + 1 > c->nsids_buckets * 2 || !c->sids) {
        uint32_t nb = c->nsids_buckets ? c->nsids_buckets * 4 : SIDS_MIN_BUCKETS;
        mn_csub **t = calloc(nb, sizeof(*t));
        if (!t)
            return MN_ENOMEM;
        for (uint32_t i = 0; i < c->nsids_buckets; i++) {
            mn_csub *e = c->sids[i];
            while (e) {
                mn_csub *nx = e->hnext;
                uint32_t b = sid_hash(e->sid, e->sid_len) & (nb - 1);
                e->hnext = t[b];
                t[b] = e;
                e = nx;
            }
        }
        free(c->sids);
        c->sids = t;
        c->nsids_buckets = nb;
    }
    uint32_t b = sid_hash(cs->sid, cs->sid_len) & (c->nsids_buckets - 1);
    cs->hnext = c->sids[b];
    c->sids[b] = cs;
    c->nsubs++;
    return MN_OK;
}

/* Unlink exactly this csub from the sid hash, if it is there. */
static bool sid_unlink(mn_client *c, mn_csub *cs)
{
    if (!c->sids)
        return false;
    mn_csub **pp = &c->sids[sid_hash(cs->sid, cs->sid_len) & (c->nsids_buckets - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == cs) {
            *pp = cs->hnext;
            c->nsubs--;
            return true;
        }
    }
    return false;
}

static void csub_free(void *p)
{
    free(p);
}

/* Take cs out of routing if nobody did yet.  Returns true when this call
 * did it (and so owns retiring cs). */
static bool csub_unroute(mn_csub *cs)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&cs->removed, &expect, 1))
        return false;
    mn_sublist_remove(cs->c->acc->sl, &cs->sub);
    mn_interest_changed(cs->c->acc, &cs->sub, false, 0);
    return true;
}

/* Subs that reached their auto-unsubscribe maximum: forget their sids. */
static void drain_dead(mn_client *c)
{
    pthread_mutex_lock(&c->lock);
    mn_csub *d = c->dead;
    c->dead = NULL;
    pthread_mutex_unlock(&c->lock);
    while (d) {
        mn_csub *nx = d->dead_next;
        sid_unlink(c, d);
        mn_qsbr_retire(d, csub_free);
        d = nx;
    }
}

static void task_drain_dead(mn_worker *w, void *arg)
{
    mn_client *c = arg;
    if (c->state != MN_CS_CLOSED)
        drain_dead(c);
    mn_client_unref(c);
}

/* ------------------------------------------------------------- closing */

static void task_close_slow(mn_worker *w, void *arg)
{
    mn_client *c = arg;
    if (c->state != MN_CS_CLOSED) {
        atomic_fetch_add(&c->srv->slow_consumers, 1);
        mn_notice("%s:%d - cid:%llu - Slow Consumer Detected", c->ip, c->rport,
                  (unsigned long long)c->cid);
        mn_client_close(c, "Slow Consumer");
    }
    mn_client_unref(c);
}

void mn_client_close(mn_client *c, const char *err)
{
    if (c->state == MN_CS_CLOSED)
        return;
    bool was_connected = c->state == MN_CS_CONNECTED;
    c->state = MN_CS_CLOSED;
    mn_acc_leave(c);
    mn_worker *w = c->w;
    if (was_connected && mn_hooks_any(MODNATS_EV_DISCONNECT)) {
        modnats_conn_event ev = { .hdr = { sizeof(ev), MODNATS_EV_DISCONNECT },
                                  .conn = (modnats_conn *)c, .reason = err };
        mn_hooks_notify(MODNATS_EV_DISCONNECT, &ev.hdr);
    }
    mn_server *s = c->srv;

    pthread_mutex_lock(&c->lock);
    if (err) {
        char buf[512];
        int n = snprintf(buf, sizeof(buf), "-ERR '%s'\r\n", err);
        if (n > 0 && (size_t)n < sizeof(buf) && out_reserve(c, (size_t)n) == MN_OK)
            out_put(c, buf, (size_t)n);
    }
    /* One last non-blocking attempt to deliver what is queued (the -ERR). */
    write_locked(c);
    if (MN_UNLIKELY(c->tls != NULL))
        mn_tls_shutdown(c->tls);   /* close_notify; the peer facts stay */
    c->closed = true;
    int fd = c->fd;
    c->fd = -1;
    mn_csub *dead = c->dead;
    c->dead = NULL;
    pthread_mutex_unlock(&c->lock);

    if (fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, fd, NULL);
        shutdown(fd, SHUT_WR);
        /* Drain what the peer already sent, so close() sends FIN, not a
         * reset that could destroy the -ERR before the client reads it. */
        char junk[4096];
        for (int i = 0; i < 16; i++)
            if (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) <= 0)
                break;
        close(fd);
    }

    while (dead) {
        mn_csub *nx = dead->dead_next;
        sid_unlink(c, dead);
        mn_qsbr_retire(dead, csub_free);
        dead = nx;
    }
    for (uint32_t i = 0; i < c->nsids_buckets; i++) {
        mn_csub *cs = c->sids[i];
        while (cs) {
            mn_csub *nx = cs->hnext;
            /* Lost races mean a deliverer took it out and retires it. */
            if (csub_unroute(cs))
                mn_qsbr_retire(cs, csub_free);
            cs = nx;
        }
    }
    free(c->sids);
    c->sids = NULL;
    c->nsids_buckets = 0;
    c->nsubs = 0;
    mn_parser_free(&c->parser);
    if (c->stall_on && !c->stalled_listed) {
        mn_client_unref(c->stall_on);
        c->stall_on = NULL;
    }

    if (c->prev)
        c->prev->next = c->next;
    else
        w->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    w->nclients--;
    atomic_fetch_sub(&s->nclients, 1);
    mn_debug("%s:%d - cid:%llu - Client connection closed%s%s", c->ip, c->rport,
             (unsigned long long)c->cid, err ? ": " : "", err ? err : "");
    mn_client_unref(c);
}

/* --------------------------------------------------------------- delivery */

#define MAX_RESP 4096

/* c->lock held. */
static void resp_record(mn_client *c, const char *reply, size_t rlen)
{
    uint32_t max;
    uint64_t exp;
    if (c->nresp >= MAX_RESP || !mn_perms_allow_responses(c->perms, &max, &exp))
        return;
    struct mn_resp *r = malloc(sizeof(*r) + rlen);
    if (!r)
        return;
    r->left = max;
    r->expires_ms = exp ? mn_now_ms() + exp : 0;
    r->len = (uint32_t)rlen;
    memcpy(r->subj, reply, rlen);
    r->next = c->resp;
    c->resp = r;
    c->nresp++;
}

/* May c publish this response?  Consumes one use.  Owner thread. */
static bool resp_take(mn_client *c, const char *subj, size_t len)
{
    bool ok = false;
    uint64_t now = mn_now_ms();
    pthread_mutex_lock(&c->lock);
    struct mn_resp **pp = &c->resp;
    while (*pp) {
        struct mn_resp *r = *pp;
        bool expired = r->expires_ms && now > r->expires_ms;
        if (!expired && !ok && r->len == len && memcmp(r->subj, subj, len) == 0) {
            ok = true;
            r->left--;
        }
        if (expired || r->left == 0) {
            *pp = r->next;
            c->nresp--;
            free(r);
            continue;
        }
        pp = &r->next;
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

static bool deliver_as(mn_worker *w, mn_client *pub, mn_csub *cs,
                       const char *subj, size_t slen, const char *shown, size_t shown_len,
                       const char *reply, size_t rlen,
                       const char *data, size_t hlen, size_t total);

/* Append one message for subscription cs.  Runs on worker w, any worker.
 * Returns true when the message was queued. */
static bool deliver_one(mn_worker *w, mn_client *pub, mn_csub *cs,
                        const char *subj, size_t slen,
                        const char *reply, size_t rlen,
                        const char *data, size_t hlen, size_t total)
{
    return deliver_as(w, pub, cs, subj, slen, subj, slen, reply, rlen, data, hlen, total);
}

/* deliver_one, showing the subscriber `shown` instead of the routed
 * subject (modnats_msg.deliver_as). */
static bool deliver_as(mn_worker *w, mn_client *pub, mn_csub *cs,
                       const char *subj, size_t slen, const char *shown, size_t shown_len,
                       const char *reply, size_t rlen,
                       const char *data, size_t hlen, size_t total)
{
    mn_client *c = cs->c;
    if (c == pub && !pub->echo)
        return false;
    if (MN_UNLIKELY(c->perms != NULL) && mn_perms_has_sub_deny(c->perms) &&
        mn_perms_deliver_denied(c->perms, subj, slen, cs->sub.queue, cs->sub.queue_len))
        return false;

    pthread_mutex_lock(&c->lock);
    if (MN_UNLIKELY(c->closed || c->slow ||
                    (cs->max && atomic_load_explicit(&cs->delivered, memory_order_relaxed) >= cs->max))) {
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    bool hdrs = hlen > 0 && c->headers;
    const char *body = data;
    size_t blen = total;
    if (hlen > 0 && !hdrs) {
        /* The subscriber does not understand headers: strip them. */
        body = data + hlen;
        blen = total - hlen;
    }
    /* "HMSG " subj " " sid [" " reply] [" " hlen] " " total "\r\n" body "\r\n" */
    size_t need = 5 + shown_len + 1 + cs->sid_len + (rlen ? rlen + 1 : 0) + 22 + 22 + 2 + blen + 2;
    size_t pending = c->olen - c->ooff;
    if (MN_UNLIKELY(pending + need > (size_t)atomic_load_explicit(&c->srv->max_pending, memory_order_relaxed))) {
        c->slow = true;
        pthread_mutex_unlock(&c->lock);
        mn_client_ref(c);
        mn_worker_post(c->w, task_close_slow, c);
        return false;
    }
    if (MN_UNLIKELY(out_reserve(c, need) != MN_OK)) {
        pthread_mutex_unlock(&c->lock);
        return false;
    }
    char *p = c->obuf + c->olen;
    if (hdrs) {
        memcpy(p, "HMSG ", 5);
        p += 5;
    } else {
        memcpy(p, "MSG ", 4);
        p += 4;
    }
    memcpy(p, shown, shown_len);
    p += shown_len;
    *p++ = ' ';
    memcpy(p, cs->sid, cs->sid_len);
    p += cs->sid_len;
    *p++ = ' ';
    if (rlen) {
        memcpy(p, reply, rlen);
        p += rlen;
        *p++ = ' ';
    }
    char num[24];
    if (hdrs) {
        int k = 0;
        size_t v = hlen;
        do { num[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (k) *p++ = num[--k];
        *p++ = ' ';
    }
    {
        int k = 0;
        size_t v = blen;
        do { num[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        while (k) *p++ = num[--k];
    }
    *p++ = '\r';
    *p++ = '\n';
    memcpy(p, body, blen);
    p += blen;
    *p++ = '\r';
    *p++ = '\n';
    c->olen = (size_t)(p - c->obuf);
    c->out_msgs++;
    c->out_bytes += blen;
    MN_STAT_ADD(w->out_bytes, blen);
    if (MN_UNLIKELY(rlen && c->perms))
        resp_record(c, reply, rlen);

    bool reached = false;
    if (cs->max) {
        uint64_t d = atomic_fetch_add_explicit(&cs->delivered, 1, memory_order_relaxed) + 1;
        reached = d == cs->max;
    } else {
        atomic_fetch_add_explicit(&cs->delivered, 1, memory_order_relaxed);
    }
    queue_flush(w, c);
    /* A burst for one subscriber (a publisher's whole read buffer) must
     * not pile up to max_pending before the end of the turn: write early,
     * and if the socket takes no more, slow the publisher down (below)
     * rather than cut a subscriber that reads, as nats-server does. */
    size_t maxp = (size_t)atomic_load_explicit(&c->srv->max_pending, memory_order_relaxed);
    size_t now_pending = c->olen - c->ooff;
    if (MN_UNLIKELY(now_pending > maxp / 4)) {
        write_locked(c);
        now_pending = c->olen - c->ooff;
        if (now_pending > maxp / 2 && pub && pub != c && !pub->stall_on) {
            pub->stall_on = c;
            mn_client_ref(c);
        }
    }
    pthread_mutex_unlock(&c->lock);

    if (MN_UNLIKELY(reached) && csub_unroute(cs)) {
        /* We took it out of routing, so we hand it to the owner to forget
         * its sid and retire it (or retire it ourselves if closed). */
        pthread_mutex_lock(&c->lock);
        if (c->closed) {
            pthread_mutex_unlock(&c->lock);
            mn_qsbr_retire(cs, csub_free);
        } else {
            bool first = c->dead == NULL;
            cs->dead_next = c->dead;
            c->dead = cs;
            pthread_mutex_unlock(&c->lock);
            if (first) {
                mn_client_ref(c);
                mn_worker_post(c->w, task_drain_dead, c);
            }
        }
    }
    return true;
}

static size_t xorshift(mn_worker *w)
{
    uint64_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    w->rng = x;
    return (size_t)x;
}

/* The subscription of client c that a reply subject would reach, if any. */
static mn_csub *own_sub_for(mn_worker *w, mn_client *c, const char *reply, size_t rlen)
{
    const mn_result *r = mn_match_cache_get(mn_worker_cache(w, c->acc), reply, rlen);
    if (!r)
        return NULL;
    for (size_t i = 0; i < r->npsubs; i++)
        if (r->psubs[i]->kind == MN_SUBK_CLIENT && ((mn_csub *)r->psubs[i])->c == c)
            return (mn_csub *)r->psubs[i];
    for (size_t g = 0; g < r->nqgroups; g++)
        for (size_t i = 0; i < r->qgroups[g].n; i++)
            if (r->qgroups[g].subs[i]->kind == MN_SUBK_CLIENT &&
                ((mn_csub *)r->qgroups[g].subs[i])->c == c)
                return (mn_csub *)r->qgroups[g].subs[i];
    return NULL;
}

/* Hand a message to a module's in-process subscription. */
static bool deliver_isub(mn_isub *is, modnats_origin origin, const modnats_msg *m)
{
    if ((is->origin && is->origin == origin) || atomic_load_explicit(&is->removed, memory_order_relaxed))
        return false;
    is->fn(is->ud, (modnats_sub *)is, m, origin);
    return true;
}

static inline bool sink_takes(const mn_sink *k, modnats_origin origin)
{
    if (atomic_load_explicit(&k->dead, memory_order_relaxed))
        return false;
    if (k->origin && k->origin == origin)
        return false;
    if ((k->flags & MODNATS_SINK_NOT_OWN_MODULE) && origin != 0 &&
        MODNATS_ORIGIN_MODULE(origin) == MODNATS_ORIGIN_MODULE(k->origin))
        return false;
    return !((k->flags & MODNATS_SINK_LOCAL_ONLY) && origin != 0);
}

/* Per-message collection of what each sink gets: one deliver per sink. */
typedef struct sink_hit {
    mn_sink     *k;
    bool         plain;
    size_t       nq, capq;
    const char **q;
    size_t      *ql;
} sink_hit;

typedef struct route_scratch {
    sink_hit *hits;     /* grows as needed; kept for the thread's life */
    size_t    n, cap;
} route_scratch;

static sink_hit *hit_for(route_scratch *rs, mn_sink *k)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->hits[i].k == k)
            return &rs->hits[i];
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 16;
        sink_hit *v = realloc(rs->hits, cap * sizeof(*v));
        if (!v)
            return NULL;   /* out of memory: this peer misses the message */
        memset(v + rs->cap, 0, (cap - rs->cap) * sizeof(*v));
        rs->hits = v;
        rs->cap = cap;
    }
    sink_hit *h = &rs->hits[rs->n++];
    h->k = k;
    h->plain = false;
    h->nq = 0;
    return h;
}

static void hit_queue(sink_hit *h, const char *q, size_t ql)
{
    if (h->nq == h->capq) {
        size_t cap = h->capq ? h->capq * 2 : 8;
        const char **nq = realloc(h->q, cap * sizeof(*nq));
        size_t *nl = realloc(h->ql, cap * sizeof(*nl));
        if (nq)
            h->q = nq;
        if (nl)
            h->ql = nl;
        if (!nq || !nl)
            return;
        h->capq = cap;
    }
    h->q[h->nq] = q;
    h->ql[h->nq] = ql;
    h->nq++;
}

/* Module callbacks may publish from inside a delivery; bound the depth so
 * a loop of modules cannot recurse without end. */
#define MAX_ROUTE_DEPTH 16
static _Thread_local int t_route_depth;
static _Thread_local route_scratch t_scratch[MAX_ROUTE_DEPTH];

static bool queue_listed(const modnats_msg *m, const mn_qgroup *qg)
{
    const mn_sub *any = qg->subs[0];
    for (size_t i = 0; i < m->nqueues; i++)
        if (m->queue_lens[i] == any->queue_len && memcmp(m->queues[i], any->queue, any->queue_len) == 0)
            return true;
    return false;
}

static void route_result(mn_worker *w, const mn_result *r, mn_client *pub, modnats_origin origin,
                         const modnats_msg *m, size_t hlen, size_t total, const char *data,
                         route_scratch *rs, size_t *delivered)
{
    const char *subj = m->subject, *reply = m->reply;
    size_t slen = m->subject_len, rlen = m->reply_len;
    const char *shown = m->deliver_as_len ? m->deliver_as : subj;
    size_t shown_len = m->deliver_as_len ? m->deliver_as_len : slen;
    for (size_t i = 0; i < r->npsubs; i++) {
        mn_sub *sub = r->psubs[i];
        if (MN_LIKELY(sub->kind == MN_SUBK_CLIENT)) {
            *delivered += deliver_as(w, pub, (mn_csub *)sub, subj, slen, shown, shown_len,
                                     reply, rlen, data, hlen, total);
            continue;
        }
        mn_isub *is = (mn_isub *)sub;
        if (!is->sink) {
            *delivered += deliver_isub(is, origin, m);
        } else if (sink_takes(is->sink, origin) && !atomic_load(&is->removed)) {
            sink_hit *h = hit_for(rs, is->sink);
            if (h)
                h->plain = true;
        }
    }
    bool listed_only = (m->flags & MODNATS_MSG_QUEUES_LISTED) != 0;
    for (size_t g = 0; g < r->nqgroups; g++) {
        const mn_qgroup *qg = &r->qgroups[g];
        if (qg->n == 0 || (listed_only && !queue_listed(m, qg)))
            continue;
        /* Local members first, starting at a random one, moving on past
         * members that cannot take it (closing, slow, echo). */
        size_t start = xorshift(w) % qg->n;
        bool done = false;
        int64_t remote_weight = 0;
        for (size_t k = 0; k < qg->n && !done; k++) {
            mn_sub *sub = qg->subs[(start + k) % qg->n];
            if (sub->kind == MN_SUBK_CLIENT)
                done = deliver_as(w, pub, (mn_csub *)sub, subj, slen, shown, shown_len, reply,
                                  rlen, data, hlen, total);
            else if (!((mn_isub *)sub)->sink)
                done = deliver_isub((mn_isub *)sub, origin, m);
            else if (sink_takes(((mn_isub *)sub)->sink, origin))
                remote_weight += sub->weight > 0 ? sub->weight : 1;
        }
        if (done) {
            (*delivered)++;
            continue;
        }
        if (listed_only || remote_weight == 0)
            continue;
        /* No local member: one remote one, chosen by weight. */
        int64_t pick = (int64_t)(xorshift(w) % (uint64_t)remote_weight);
        for (size_t k = 0; k < qg->n; k++) {
            mn_sub *sub = qg->subs[k];
            if (sub->kind == MN_SUBK_CLIENT || !((mn_isub *)sub)->sink ||
                !sink_takes(((mn_isub *)sub)->sink, origin))
                continue;
            pick -= sub->weight > 0 ? sub->weight : 1;
            if (pick < 0) {
                sink_hit *h = hit_for(rs, ((mn_isub *)sub)->sink);
                if (h)
                    hit_queue(h, sub->queue, sub->queue_len);
                break;
            }
        }
    }
}

static void route_full(mn_worker *w, mn_account *acc, mn_client *pub, modnats_origin origin,
                       const modnats_msg *m, const char *data, size_t hlen, size_t total,
                       bool count)
{
    if (MN_UNLIKELY(t_route_depth >= MAX_ROUTE_DEPTH)) {
        mn_warn("dropping a message on \"%.*s\": modules republish it in a loop",
                (int)m->subject_len, m->subject);
        return;
    }
    const mn_result *r = mn_match_cache_get(mn_worker_cache(w, acc), m->subject, m->subject_len);
    if (count) {
        MN_STAT_ADD(w->in_msgs, 1);
        MN_STAT_ADD(w->in_bytes, total);
    }
    if (pub) {
        pub->in_msgs++;
        pub->in_bytes += total;
    }
    if (MN_UNLIKELY(!r))
        return;
    /* Receivers learn the account from the message. */
    ((modnats_msg *)m)->account = (modnats_account *)acc;
    route_scratch *rs = &t_scratch[t_route_depth++];
    rs->n = 0;
    size_t delivered = 0;
    route_result(w, r, pub, origin, m, hlen, total, data, rs, &delivered);
    for (size_t i = 0; i < rs->n; i++) {
        sink_hit *h = &rs->hits[i];
        if (!h->plain && h->nq == 0)
            continue;
        h->k->ops->deliver(h->k->ud, (modnats_sink *)h->k, m, origin, h->plain,
                           (const char *const *)h->q, h->ql, h->nq);
        delivered++;
    }
    t_route_depth--;
    MN_STAT_ADD(w->out_msgs, delivered);
    if (r->npsubs == 0 && r->nqgroups == 0 && m->reply_len && pub && pub->no_responders &&
        pub->headers) {
        mn_csub *own = own_sub_for(w, pub, m->reply, m->reply_len);
        if (own) {
            static const char hdr[] = "NATS/1.0 503\r\n\r\n";
            deliver_one(w, NULL, own, m->reply, m->reply_len, NULL, 0, hdr, sizeof(hdr) - 1,
                        sizeof(hdr) - 1);
        }
    }
}

void mn_route(mn_worker *w, mn_account *acc, mn_client *pub, modnats_origin origin,
              const char *subj, size_t slen, const char *reply, size_t rlen,
              const char *data, size_t hlen, size_t total)
{
    modnats_msg m = {
        .size = sizeof(modnats_msg),
        .subject = subj, .subject_len = slen,
        .reply = rlen ? reply : NULL, .reply_len = rlen,
        .hdr = hlen ? data : NULL, .hdr_len = hlen,
        .data = data + hlen, .data_len = total - hlen,
    };
    route_full(w, acc, pub, origin, &m, data, hlen, total, true);
}

void mn_route_scratch_free(void)
{
    for (int d = 0; d < MAX_ROUTE_DEPTH; d++) {
        for (size_t i = 0; i < t_scratch[d].cap; i++) {
            free(t_scratch[d].hits[i].q);
            free(t_scratch[d].hits[i].ql);
        }
        free(t_scratch[d].hits);
        t_scratch[d].hits = NULL;
        t_scratch[d].n = t_scratch[d].cap = 0;
    }
}

void mn_route_msg(mn_worker *w, mn_account *acc, modnats_origin origin, const modnats_msg *m,
                  const char *data, size_t hlen, size_t total)
{
    route_full(w, acc, NULL, origin, m, data, hlen, total, true);
}

void mn_route_inner(mn_worker *w, mn_account *acc, modnats_origin origin, const modnats_msg *m,
                    const char *data, size_t hlen, size_t total)
{
    route_full(w, acc, NULL, origin, m, data, hlen, total, false);
}

/* -------------------------------------------------------------- verbs */

#define CHECK_CONNECTED(c)                                                   \
    do {                                                                     \
        if (MN_UNLIKELY((c)->state != MN_CS_CONNECTED) && (c)->srv->auth_required) { \
            mn_client_close((c), "Authorization Violation");                 \
            return MN_ECLOSED;                                               \
        }                                                                    \
    } while (0)

static int on_pub(void *ud, const mn_pub_args *a, const char *payload)
{
    mn_client *c = ud;
    CHECK_CONNECTED(c);
    if (MN_UNLIKELY(a->hdr_len > 0 && !c->headers)) {
        mn_client_close(c, "message headers not supported");
        return MN_ECLOSED;
    }
    if (MN_UNLIKELY(c->pedantic) && !mn_subject_valid_literal(a->subject, a->subject_len)) {
        send_err(c, "Invalid Publish Subject");
        return MN_OK;
    }
    if (MN_UNLIKELY((int64_t)a->total_len > c->mpay)) {
        mn_client_close(c, "Maximum Payload Violation");
        return MN_ECLOSED;
    }
    if (MN_UNLIKELY(c->perms != NULL) &&
        !mn_perms_pub_allowed(c->perms, a->subject, a->subject_len) &&
        !(c->nresp && resp_take(c, a->subject, a->subject_len))) {
        char buf[300];
        snprintf(buf, sizeof(buf), "Permissions Violation for Publish to \"%.*s\"",
                 (int)(a->subject_len > 200 ? 200 : a->subject_len), a->subject);
        send_err(c, buf);
        return MN_OK;
    }
    if (MN_UNLIKELY(mn_hooks_any(MODNATS_EV_PUB_PERMISSION))) {
        modnats_perm_event ev = { .hdr = { sizeof(ev), MODNATS_EV_PUB_PERMISSION },
                                  .conn = (modnats_conn *)c,
                                  .subject = a->subject, .subject_len = a->subject_len };
        modnats_rc prc = mn_hooks_run(MODNATS_EV_PUB_PERMISSION, &ev.hdr);
        if (prc == MODNATS_DENY || prc == MODNATS_ERR) {   /* fail closed */
            char buf[300];
            snprintf(buf, sizeof(buf), "Permissions Violation for Publish to \"%.*s\"",
                     (int)(a->subject_len > 200 ? 200 : a->subject_len), a->subject);
            send_err(c, buf);
            return MN_OK;
        }
    }
    mn_route(c->w, c->acc, c, 0, a->subject, a->subject_len, a->reply, a->reply_len,
             payload, a->hdr_len, a->total_len);
    if (MN_UNLIKELY(c->verbose))
        SEND_LIT(c, "+OK\r\n");
    return MN_OK;
}

static int on_sub(void *ud, const mn_sub_args *a)
{
    mn_client *c = ud;
    CHECK_CONNECTED(c);
    if (!mn_subject_valid_sub(a->subject, a->subject_len) ||
        (a->queue_len && !mn_subject_valid_literal(a->queue, a->queue_len))) {
        send_err(c, "Invalid Subject");
        return MN_OK;
    }
    if (sid_find(c, a->sid, a->sid_len)) {
        /* nats-server ignores a SUB that reuses a live sid. */
        if (c->verbose)
            SEND_LIT(c, "+OK\r\n");
        return MN_OK;
    }
    bool denied = c->perms && !mn_perms_sub_allowed(c->perms, a->subject, a->subject_len,
                                                    a->queue, a->queue_len);
    if (!denied && MN_UNLIKELY(mn_hooks_any(MODNATS_EV_SUB_PERMISSION))) {
        modnats_perm_event ev = { .hdr = { sizeof(ev), MODNATS_EV_SUB_PERMISSION },
                                  .conn = (modnats_conn *)c,
                                  .subject = a->subject, .subject_len = a->subject_len,
                                  .queue = a->queue_len ? a->queue : NULL,
                                  .queue_len = a->queue_len };
        modnats_rc prc = mn_hooks_run(MODNATS_EV_SUB_PERMISSION, &ev.hdr);
        denied = prc == MODNATS_DENY || prc == MODNATS_ERR;   /* fail closed */
    }
    if (denied) {
        char buf[400];
        if (a->queue_len)
            snprintf(buf, sizeof(buf),
                     "Permissions Violation for Subscription to \"%.*s\" using queue \"%.*s\"",
                     (int)(a->subject_len > 150 ? 150 : a->subject_len), a->subject,
                     (int)(a->queue_len > 100 ? 100 : a->queue_len), a->queue);
        else
            snprintf(buf, sizeof(buf), "Permissions Violation for Subscription to \"%.*s\"",
                     (int)(a->subject_len > 200 ? 200 : a->subject_len), a->subject);
        send_err(c, buf);
        return MN_OK;
    }
    int max_subs = atomic_load(&c->srv->max_subs);
    if ((max_subs > 0 && c->nsubs >= (uint32_t)max_subs) ||
        (c->msubs >= 0 && (int64_t)c->nsubs >= c->msubs)) {
        send_err(c, "maximum subscriptions exceeded");
        return MN_OK;
    }
    size_t sz = sizeof(mn_csub) + a->subject_len + 1 + a->queue_len + 1 + a->sid_len + 1;
    mn_csub *cs = calloc(1, sz);
    if (!cs) {
        mn_client_close(c, "Out of Memory");
        return MN_ECLOSED;
    }
    char *p = (char *)(cs + 1);
    memcpy(p, a->subject, a->subject_len);
    p[a->subject_len] = 0;
    cs->sub.subject = p;
    cs->sub.subject_len = (uint32_t)a->subject_len;
    p += a->subject_len + 1;
    if (a->queue_len) {
        memcpy(p, a->queue, a->queue_len);
        p[a->queue_len] = 0;
        cs->sub.queue = p;
        cs->sub.queue_len = (uint32_t)a->queue_len;
        p += a->queue_len + 1;
    }
    memcpy(p, a->sid, a->sid_len);
    p[a->sid_len] = 0;
    cs->sid = p;
    cs->sid_len = (uint32_t)a->sid_len;
    cs->sub.weight = 1;
    cs->sub.owner = c;
    cs->sub.ctx = cs;
    cs->c = c;
    if (mn_sublist_insert(c->acc->sl, &cs->sub) != MN_OK) {
        free(cs);
        send_err(c, "Invalid Subject");
        return MN_OK;
    }
    mn_interest_changed(c->acc, &cs->sub, true, 0);
    if (sid_insert(c, cs) != MN_OK) {
        csub_unroute(cs);
        mn_qsbr_retire(cs, csub_free);
        mn_client_close(c, "Out of Memory");
        return MN_ECLOSED;
    }
    if (c->verbose)
        SEND_LIT(c, "+OK\r\n");
    return MN_OK;
}

static int on_unsub(void *ud, const char *sid, size_t sid_len, uint64_t max)
{
    mn_client *c = ud;
    CHECK_CONNECTED(c);
    mn_csub *cs = sid_find(c, sid, sid_len);
    if (cs) {
        bool now = true;
        if (max > 0) {
            pthread_mutex_lock(&c->lock);
            if (atomic_load(&cs->delivered) < max) {
                cs->max = max;
                now = false;
            }
            pthread_mutex_unlock(&c->lock);
        }
        if (now) {
            sid_unlink(c, cs);
            if (csub_unroute(cs))
                mn_qsbr_retire(cs, csub_free);
            /* else: a deliverer hit the max and queued it on c->dead;
             * drain_dead retires it. */
        }
    }
    if (c->verbose)
        SEND_LIT(c, "+OK\r\n");
    return MN_OK;
}

static int on_ping(void *ud)
{
    mn_client *c = ud;
    SEND_LIT(c, "PONG\r\n");
    if (MN_UNLIKELY(c->info_after_pong)) {
        c->info_after_pong = false;
        mn_client_send_info(c, false);
    }
    return MN_OK;
}

static int on_pong(void *ud)
{
    mn_client *c = ud;
    c->pings_out = 0;
    return MN_OK;
}

static int on_ok(void *ud)
{
    MN_UNUSED(ud);
    return MN_OK;
}

static int on_err(void *ud, const char *msg, size_t len)
{
    /* Servers send -ERR; a client that does is confused (nats-server drops
     * it too). */
    mn_client *c = ud;
    mn_debug("%s:%d - cid:%llu - Client sent -ERR %.*s", c->ip, c->rport,
             (unsigned long long)c->cid, (int)len, msg);
    mn_client_close(c, "Unknown Protocol Operation");
    return MN_ECLOSED;
}

static int on_info(void *ud, const char *json, size_t len)
{
    /* Clients do not send INFO; nats-server ignores it from clients. */
    MN_UNUSED(ud);
    MN_UNUSED(json);
    MN_UNUSED(len);
    return MN_OK;
}

/* A string member as a NUL-terminated heap copy, or NULL. */
static char *json_strdup(const mn_json *j, const char *key)
{
    const char *v;
    size_t n;
    if (mn_json_get_str(j, key, &v, &n) != MN_OK)
        return NULL;
    return strndup(v, n);
}

struct modnats_auth_ticket {
    mn_client  *c;            /* holds a reference */
    _Atomic int used;
    modnats_rc  result;
    char       *reason;
    /* identity to apply on the owner (auth_complete_login) */
    bool        set_identity;
    char       *user;
    mn_perms   *perms;
    mn_account *acc;
    /* ABI 1.1 logins (auth_complete_ex) */
    bool        set_limits;
    int64_t     msubs, mpay;
    uint64_t    expires_unix_ms;
};

static void finish_login(mn_client *c)
{
    const char *refused = mn_acc_admit(c);
    if (refused) {
        mn_notice("%s:%d - cid:%llu - %s", c->ip, c->rport, (unsigned long long)c->cid, refused);
        mn_client_close(c, refused);
        return;
    }
    c->state = MN_CS_CONNECTED;
    if (c->verbose)
        SEND_LIT(c, "+OK\r\n");
    /* connect_urls changed between this client's INFO and its login: the
     * asynchronous INFO for that change skipped it (not logged in yet). */
    if (c->proto >= 1) {
        pthread_mutex_lock(&c->srv->urls_lock);
        bool stale = c->srv->urls_gen != c->info_urls_gen;
        pthread_mutex_unlock(&c->srv->urls_lock);
        /* Sent after the PONG that answers the client's next PING: clients
         * send CONNECT then PING and take the first line back as the PONG
         * (nats.go refuses an INFO there). */
        if (stale)
            c->info_after_pong = true;
    }
    if (mn_hooks_any(MODNATS_EV_CONNECT)) {
        modnats_conn_event ev = { .hdr = { sizeof(ev), MODNATS_EV_CONNECT },
                                  .conn = (modnats_conn *)c };
        if (mn_hooks_notify(MODNATS_EV_CONNECT, &ev.hdr) == MODNATS_DENY)
            mn_client_close(c, "Authorization Violation");
    }
}

static void deny_login(mn_client *c, const char *reason)
{
    mn_notice("%s:%d - cid:%llu - authentication error%s%s", c->ip, c->rport,
              (unsigned long long)c->cid, reason ? ": " : "", reason ? reason : "");
    mn_client_close(c, "Authorization Violation");
}

static int on_connect(void *ud, const char *json, size_t len)
{
    mn_client *c = ud;
    if (c->state != MN_CS_NEW) {
        /* A second CONNECT: nats-server accepts it; options may change
         * but the login stands. */
    }
    mn_json doc;
    if (mn_json_parse(&doc, json, len) != MN_OK) {
        mn_client_close(c, "Invalid CONNECT Arguments");
        return MN_ECLOSED;
    }
    bool verbose = false, pedantic = false, echo = true, headers = false, nr = false;
    bool tls_required = false;
    int64_t proto = 0;
    /* Wrongly typed known fields are refused, as Go's decoder refuses
     * them in nats-server. */
    static const char *const str_fields[] = { "name", "lang", "version", "user", "pass",
                                              "auth_token", "jwt", "nkey", "sig" };
    bool bad = mn_json_get_bool(&doc, "verbose", &verbose) == MN_EINVAL ||
               mn_json_get_bool(&doc, "pedantic", &pedantic) == MN_EINVAL ||
               mn_json_get_bool(&doc, "tls_required", &tls_required) == MN_EINVAL ||
               mn_json_get_bool(&doc, "echo", &echo) == MN_EINVAL ||
               mn_json_get_bool(&doc, "headers", &headers) == MN_EINVAL ||
               mn_json_get_bool(&doc, "no_responders", &nr) == MN_EINVAL ||
               mn_json_get_int(&doc, "protocol", &proto) == MN_EINVAL;
    for (size_t i = 0; !bad && i < sizeof(str_fields) / sizeof(str_fields[0]); i++) {
        const char *v;
        size_t n;
        bad = mn_json_get_str(&doc, str_fields[i], &v, &n) == MN_EINVAL;
    }
    if (bad) {
        mn_json_free(&doc);
        mn_client_close(c, "Invalid CONNECT Arguments");
        return MN_ECLOSED;
    }
    if (proto < 0 || proto > MN_PROTO_VERSION) {
        mn_json_free(&doc);
        mn_client_close(c, "invalid client protocol");
        return MN_ECLOSED;
    }
    if (c->srv->headers_off)
        headers = false;   /* as nats-server: the server offers none */
    if (nr && !headers) {
        mn_json_free(&doc);
        mn_client_close(c, "no responders requires headers support");
        return MN_ECLOSED;
    }
    free(c->name);
    free(c->lang);
    free(c->version);
    c->name = json_strdup(&doc, "name");
    c->lang = json_strdup(&doc, "lang");
    c->version = json_strdup(&doc, "version");
    c->verbose = verbose;
    c->pedantic = pedantic;
    c->no_responders = nr;
    c->proto = (int)proto;
    pthread_mutex_lock(&c->lock);
    c->echo = echo;
    c->headers = headers;
    pthread_mutex_unlock(&c->lock);

    if (c->state != MN_CS_NEW) {
        mn_json_free(&doc);
        if (verbose)
            SEND_LIT(c, "+OK\r\n");
        return MN_OK;
    }

    char *user = json_strdup(&doc, "user");
    char *pass = json_strdup(&doc, "pass");
    char *token = json_strdup(&doc, "auth_token");
    char *nkey = json_strdup(&doc, "nkey");
    char *jwt = json_strdup(&doc, "jwt");
    char *sig = json_strdup(&doc, "sig");
    mn_json_free(&doc);

    modnats_rc rc = MODNATS_DEFER;
    const char *reason = NULL;
    modnats_auth_ticket *t = NULL;
    if (mn_hooks_any(MODNATS_EV_AUTH)) {
        t = calloc(1, sizeof(*t));
        if (t) {
            t->c = c;
            mn_client_ref(c);
        }
        modnats_auth_event ev = {
            .hdr = { sizeof(ev), MODNATS_EV_AUTH },
            .conn = (modnats_conn *)c,
            .user = user, .pass = pass, .token = token, .nkey = nkey, .jwt = jwt, .sig = sig,
            .name = c->name, .remote_ip = c->ip, .remote_port = c->rport,
            .nonce = c->nonce[0] ? c->nonce : NULL,
            .tls = c->tls != NULL,
            .ticket = t,
        };
        rc = mn_hooks_run(MODNATS_EV_AUTH, &ev.hdr);
        reason = ev.deny_reason;
        if (rc == MODNATS_DEFER) {
            /* Nobody vouched for it: with auth modules present, that is a
             * refusal. */
            rc = MODNATS_DENY;
        }
    } else {
        rc = MODNATS_OK;
    }
    char *reason_copy = reason ? strdup(reason) : NULL;
    free(user);
    free(pass);
    free(token);
    free(nkey);
    free(jwt);
    free(sig);

    if (rc == MODNATS_PENDING && t) {
        c->ticket = t;
        free(reason_copy);
        return MN_EAGAIN;   /* pause input until auth_complete */
    }
    if (t) {
        mn_client_unref(c);
        free(t);
    }
    if (rc != MODNATS_OK) {
        deny_login(c, reason_copy);
        free(reason_copy);
        return MN_ECLOSED;
    }
    free(reason_copy);
    finish_login(c);
    return c->state == MN_CS_CLOSED ? MN_ECLOSED : MN_OK;
}

static const mn_parser_cb client_cb = {
    .on_connect = on_connect,
    .on_pub = on_pub,
    .on_sub = on_sub,
    .on_unsub = on_unsub,
    .on_ping = on_ping,
    .on_pong = on_pong,
    .on_ok = on_ok,
    .on_err = on_err,
    .on_info = on_info,
};

/* ---------------------------------------------------------------- input */

static void task_tls_kick(mn_worker *w, void *arg);

static void set_paused(mn_client *c, bool paused)
{
    pthread_mutex_lock(&c->lock);
    c->paused = paused;
    bool kick = false;
    if (!c->closed) {
        struct epoll_event ev = { .events = (paused ? 0 : EPOLLIN) | (c->want_out ? EPOLLOUT : 0),
                                  .data.ptr = c };
        epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        /* Input OpenSSL already decrypted raises no epoll event. */
        kick = !paused && MN_UNLIKELY(c->tls != NULL) && mn_tls_pending(c->tls);
    }
    pthread_mutex_unlock(&c->lock);
    if (kick) {
        mn_client_ref(c);
        mn_worker_post(c->w, task_tls_kick, c);
    }
}

/* Feed input to the parser; keep what follows a paused operation. */
static void process_input(mn_client *c, const char *buf, size_t n)
{
    c->parser.max_payload = (size_t)atomic_load_explicit(&c->srv->max_payload, memory_order_relaxed);
    int rc = mn_parser_feed(&c->parser, buf, n, &client_cb, c);
    if (rc == MN_EAGAIN) {
        size_t rest = n - c->parser.consumed;
        if (rest > 0) {
            char *st = malloc(rest);
            if (!st) {
                mn_client_close(c, "Out of Memory");
                return;
            }
            memcpy(st, buf + c->parser.consumed, rest);
            free(c->stash);
            c->stash = st;
            c->stashlen = rest;
        }
        set_paused(c, true);
    } else if (rc == MN_EINVAL) {
        mn_debug("%s:%d - cid:%llu - protocol error: %s", c->ip, c->rport,
                 (unsigned long long)c->cid, c->parser.err ? c->parser.err : "?");
        mn_client_close(c, c->parser.err ? c->parser.err : "Unknown Protocol Operation");
    }
}

static void tls_on_readable(mn_client *c);

void mn_client_on_readable(mn_client *c)
{
    mn_worker *w = c->w;
    if (c->state == MN_CS_CLOSED || c->ticket)
        return;
    if (MN_UNLIKELY(c->tls != NULL)) {
        tls_on_readable(c);
        return;
    }
    ssize_t n = recv(c->fd, w->rbuf, w->rbuf_size, MSG_DONTWAIT);
    if (n == 0) {
        mn_client_close(c, NULL);
        return;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        mn_client_close(c, NULL);
        return;
    }
    c->saw_input = true;
    c->last_in_ms = w->now_ms;
    process_input(c, w->rbuf, (size_t)n);
    if (MN_UNLIKELY(c->stall_on != NULL) && c->state != MN_CS_CLOSED && !c->ticket)
        mn_worker_stall(w, c);
}

/* ------------------------------------------------------------------ TLS */

/* Write pending output through TLS.  c->lock held.  False while the
 * handshake is not done (output waits in obuf). */
static bool tls_write_out(mn_client *c, bool *progress)
{
    if (!mn_tls_ready(c->tls))
        return false;
    while (c->ooff < c->olen) {
        ssize_t n = mn_tls_write(c->tls, c->obuf + c->ooff, c->olen - c->ooff);
        if (n > 0) {
            c->ooff += (size_t)n;
            *progress = true;
            continue;
        }
        if (n == MN_TLS_WANT_WRITE || n == MN_TLS_WANT_READ)
            break;
        c->ooff = c->olen;   /* hard error: the owner's next read closes */
        break;
    }
    return true;
}

/* Read and feed everything TLS has for us (owner).  SSL_read runs under
 * c->lock because other workers may be writing to the same session. */
static void tls_read_input(mn_client *c)
{
    mn_worker *w = c->w;
    for (int round = 0; round < 64; round++) {
        if (c->state == MN_CS_CLOSED || c->ticket || c->paused)
            return;
        size_t got;
        bool more;
        pthread_mutex_lock(&c->lock);
        ssize_t r = mn_tls_read_batch(c->tls, w->rbuf, w->rbuf_size, &got, &more);
        if (r == MN_TLS_WANT_WRITE && !c->want_out)
            arm_out(c, true);
        pthread_mutex_unlock(&c->lock);
        if (got) {
            c->saw_input = true;
            c->last_in_ms = w->now_ms;
            process_input(c, w->rbuf, got);
            if (MN_UNLIKELY(c->stall_on != NULL) && c->state != MN_CS_CLOSED && !c->ticket)
                mn_worker_stall(w, c);
        }
        if (r == 0 || r == MN_ERR) {
            if (r == MN_ERR && c->state != MN_CS_CLOSED)
                mn_debug("%s:%d - cid:%llu - TLS read: %s", c->ip, c->rport,
                         (unsigned long long)c->cid, mn_tls_error(c->tls));
            mn_client_close(c, NULL);
            return;
        }
        if (!more)
            return;
    }
}

/* Drive the handshake (owner), on the first byte making sure the client
 * speaks TLS at all. */
static void tls_step(mn_client *c)
{
    if (!c->tls_peeked) {
        unsigned char b;
        ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n <= 0) {
            mn_client_close(c, NULL);
            return;
        }
        c->tls_peeked = true;
        if (b != 0x16 && c->tls_optional) {
            /* allow_non_tls: this client chose plain text. */
            pthread_mutex_lock(&c->lock);
            mn_tls *t = c->tls;
            c->tls = NULL;
            pthread_mutex_unlock(&c->lock);
            mn_tls_free(t);
            mn_client_on_readable(c);
            return;
        }
        if (b != 0x16) {   /* not a TLS handshake record: plain NATS */
            mn_notice("%s:%d - cid:%llu - TLS handshake error: the client sent plain text "
                      "on a TLS port", c->ip, c->rport, (unsigned long long)c->cid);
            pthread_mutex_lock(&c->lock);
            mn_tls *t = c->tls;
            c->tls = NULL;   /* so the -ERR below goes out in plain text */
            pthread_mutex_unlock(&c->lock);
            mn_tls_free(t);
            mn_client_close(c, "Secure Connection - TLS Required");
            return;
        }
    }
    pthread_mutex_lock(&c->lock);
    int rc = mn_tls_handshake(c->tls);
    if (rc == MN_TLS_WANT_WRITE && !c->want_out)
        arm_out(c, true);
    else if (rc == MN_TLS_WANT_READ && c->want_out)
        arm_out(c, false);
    pthread_mutex_unlock(&c->lock);
    if (rc == MN_TLS_WANT_READ || rc == MN_TLS_WANT_WRITE)
        return;
    if (rc != MN_OK) {
        mn_error("%s:%d - cid:%llu - TLS handshake error: %s", c->ip, c->rport,
                 (unsigned long long)c->cid, mn_tls_error(c->tls));
        mn_client_close(c, NULL);
        return;
    }
    modnats_tls_info ti = { .size = sizeof(ti) };
    mn_tls_peer(c->tls, &ti);
    mn_debug("%s:%d - cid:%llu - TLS handshake complete (%s, %s%s%s)", c->ip, c->rport,
             (unsigned long long)c->cid, ti.version ? ti.version : "?",
             ti.cipher ? ti.cipher : "?", ti.subject ? ", peer " : "",
             ti.subject ? ti.subject : "");
    if (c->tls_info_after) {
        size_t n;
        char *info = mn_server_info(c->srv, c, atomic_load(&c->srv->lame_duck), &n);
        if (info) {
            send_raw(c, info, n);
            free(info);
        }
    }
    pthread_mutex_lock(&c->lock);
    write_locked(c);
    pthread_mutex_unlock(&c->lock);
    tls_read_input(c);   /* CONNECT may have come with the last handshake flight */
}

/* handshake_first with a fallback delay: the client sent nothing, so it
 * waits for INFO (a client without handshake-first support).  Send INFO
 * in plain text and expect TLS after it, as without handshake_first; the
 * handshake timeout starts over. */
static void tls_first_fallback(mn_client *c)
{
    c->tls_fallback_ms = 0;
    if (c->tls_peeked || !c->tls_info_after || !c->tls || mn_tls_ready(c->tls))
        return;
    unsigned char b;
    if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
        return;   /* its ClientHello is here: not a fallback */
    size_t n;
    char *info = mn_server_info(c->srv, c, atomic_load(&c->srv->lame_duck), &n);
    if (!info || send(c->fd, info, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n) {
        free(info);
        mn_client_close(c, NULL);
        return;
    }
    free(info);
    c->tls_info_after = false;
    c->tls_deadline_ms = c->w->now_ms + (c->tls_deadline_ms - c->start_ms);
}

static void tls_on_readable(mn_client *c)
{
    if (!mn_tls_ready(c->tls))
        tls_step(c);
    else
        tls_read_input(c);
}

static void task_tls_kick(mn_worker *w, void *arg)
{
    mn_client *c = arg;
    MN_UNUSED(w);
    if (c->state != MN_CS_CLOSED && c->tls && mn_tls_ready(c->tls))
        tls_read_input(c);
    mn_client_unref(c);
}

int mn_client_tls_info(const mn_client *c, modnats_tls_info *out)
{
    return c->tls ? mn_tls_peer(c->tls, out) : MN_ENOTFOUND;
}

/* A stalled publisher: may it read again?  (Owner thread.) */
bool mn_client_stall_over(mn_client *c, uint64_t now)
{
    mn_client *t = c->stall_on;
    if (!t)
        return true;
    size_t maxp = (size_t)atomic_load_explicit(&c->srv->max_pending, memory_order_relaxed);
    pthread_mutex_lock(&t->lock);
    bool drained = t->closed || t->slow || t->olen - t->ooff <= maxp / 4;
    pthread_mutex_unlock(&t->lock);
    if (!drained && now < c->stall_until_ms && c->state != MN_CS_CLOSED)
        return false;
    c->stall_on = NULL;
    mn_client_unref(t);
    if (c->state != MN_CS_CLOSED)
        set_paused(c, false);
    return true;
}

void mn_client_stall_begin(mn_client *c, uint64_t now)
{
    c->stall_until_ms = now + MN_STALL_MAX_MS;
    set_paused(c, true);
}

void mn_client_auth_done(mn_client *c, modnats_rc result, const char *reason)
{
    if (c->state == MN_CS_CLOSED)
        return;
    c->ticket = NULL;
    if (result != MODNATS_OK) {
        deny_login(c, reason);
        return;
    }
    finish_login(c);
    if (c->state == MN_CS_CLOSED)
        return;
    set_paused(c, false);
    char *st = c->stash;
    size_t n = c->stashlen;
    c->stash = NULL;
    c->stashlen = 0;
    if (st) {
        process_input(c, st, n);
        free(st);
    }
}

static void task_auth_done(mn_worker *w, void *arg)
{
    modnats_auth_ticket *t = arg;
    MN_UNUSED(w);
    mn_client *c = t->c;
    if (t->set_identity && c->state == MN_CS_NEW && t->result == MODNATS_OK) {
        free(c->user);
        c->user = t->user;
        t->user = NULL;
        mn_perms_free(c->perms);
        c->perms = t->perms;
        t->perms = NULL;
        if (t->acc && c->nsubs == 0)
            c->acc = t->acc;
        if (t->set_limits) {
            c->user_msubs = t->msubs;
            c->user_mpay = t->mpay;
            c->expires_unix_ms = t->expires_unix_ms;
        }
    }
    mn_client_auth_done(c, t->result, t->reason);
    mn_client_unref(c);
    free(t->reason);
    free(t->user);
    mn_perms_free(t->perms);
    free(t);
}

/* Hand the answer to the owner worker.  The compare-and-swap only guards
 * two racing completions; a completion after the first one has been
 * applied touches a freed ticket (the ABI says: exactly once). */
static modnats_rc complete(modnats_auth_ticket *t, modnats_rc result, const char *reason,
                           bool identity, char *user, mn_perms *perms, mn_account *acc)
{
    int expect = 0;
    if (!t || !atomic_compare_exchange_strong(&t->used, &expect, 1)) {
        free(user);
        mn_perms_free(perms);
        return MODNATS_ERR;
    }
    t->result = result == MODNATS_OK ? MODNATS_OK : MODNATS_DENY;
    t->reason = reason ? strdup(reason) : NULL;
    t->set_identity = identity;
    t->user = user;
    t->perms = perms;
    t->acc = acc;
    mn_worker_post(t->c->w, task_auth_done, t);
    return MODNATS_OK;
}

modnats_rc mn_auth_complete_login(modnats_auth_ticket *t, modnats_rc result, const char *reason,
                                  const char *user, const modnats_permissions *perms,
                                  modnats_account *account)
{
    if (!t)
        return MODNATS_ERR;
    mn_perms *cp = NULL;
    char *u = NULL;
    if (result == MODNATS_OK) {
        /* Fail before consuming the ticket, so the module can still deny. */
        if (perms && !(cp = mn_perms_compile(perms)))
            return MODNATS_ERR;
        if (user && !(u = strdup(user))) {
            mn_perms_free(cp);
            return MODNATS_ERR;
        }
    }
    return complete(t, result, reason, true, u, cp, (mn_account *)account);
}

modnats_rc mn_auth_complete_ex(modnats_auth_ticket *t, modnats_rc result, const char *reason,
                               const modnats_login *l)
{
    if (!t || (l && l->size < offsetof(modnats_login, reserved)))
        return MODNATS_ERR;
    if (!l || result != MODNATS_OK)
        return mn_auth_complete(t, result, reason);
    /* Set before the ticket is handed over; read by the owner after. */
    t->set_limits = true;
    t->msubs = l->max_subs;
    t->mpay = l->max_payload;
    t->expires_unix_ms = l->expires_unix_ms;
    modnats_rc rc = mn_auth_complete_login(t, result, reason, l->user, l->perms, l->account);
    if (rc != MODNATS_OK)
        t->set_limits = false;
    return rc;
}

modnats_rc mn_auth_complete(modnats_auth_ticket *t, modnats_rc result, const char *reason)
{
    return complete(t, result, reason, false, NULL, NULL, NULL);
}

void mn_client_send_info(mn_client *c, bool ldm)
{
    if (c->state == MN_CS_CLOSED || c->proto < 1)
        return;
    size_t n;
    char *info = mn_server_info(c->srv, c, ldm, &n);
    if (info) {
        send_raw(c, info, n);
        free(info);
    }
}

void mn_client_send_ldm_info(mn_client *c)
{
    mn_client_send_info(c, true);
}

void mn_client_tick(mn_client *c)
{
    mn_server *s = c->srv;
    uint64_t now = c->w->now_ms;
    if (c->state == MN_CS_CLOSED)
        return;
    if (c->state == MN_CS_NEW) {
        if (MN_UNLIKELY(c->tls_fallback_ms != 0) && now >= c->tls_fallback_ms)
            tls_first_fallback(c);
        if (MN_UNLIKELY(c->tls != NULL) && !mn_tls_ready(c->tls) && now >= c->tls_deadline_ms &&
            (c->tls_peeked || !c->tls_optional)) {
            mn_error("%s:%d - cid:%llu - TLS handshake timeout", c->ip, c->rport,
                     (unsigned long long)c->cid);
            mn_client_close(c, NULL);
            return;
        }
        int64_t to = atomic_load(&s->auth_timeout_ms);
        if ((s->auth_required || !c->saw_input) && to > 0 && now - c->start_ms >= (uint64_t)to) {
            mn_client_close(c, "Authentication Timeout");
            return;
        }
    }
    if (MN_UNLIKELY(c->expires_unix_ms) && c->state == MN_CS_CONNECTED &&
        mn_unix_ms() >= c->expires_unix_ms) {
        mn_client_close(c, "User Authentication Expired");
        return;
    }
    if (c->ldm_close_at_ms && now >= c->ldm_close_at_ms) {
        mn_client_close(c, NULL);
        return;
    }
    int64_t pi = atomic_load(&s->ping_interval_ms);
    if (c->state == MN_CS_CONNECTED && pi > 0 && now - c->last_ping_ms >= (uint64_t)pi) {
        c->last_ping_ms = now;
        if (now - c->last_in_ms < (uint64_t)pi) {
            /* Recent traffic proves the client alive; no ping needed. */
            c->pings_out = 0;
        } else if (c->pings_out + 1 > atomic_load(&s->ping_max)) {
            mn_client_close(c, "Stale Connection");
            return;
        } else {
            c->pings_out++;
            SEND_LIT(c, "PING\r\n");
        }
    }
    bool stalled;
    int64_t wd = atomic_load(&s->write_deadline_ms);
    pthread_mutex_lock(&c->lock);
    /* stall_ms may be a moment newer than this turn's `now` (another
     * worker wrote since): that is no stall, not a huge unsigned gap. */
    stalled = wd > 0 && c->olen > c->ooff && c->stall_ms && now > c->stall_ms &&
              now - c->stall_ms > (uint64_t)wd;
    pthread_mutex_unlock(&c->lock);
    if (stalled) {
        atomic_fetch_add(&s->slow_consumers, 1);
        mn_notice("%s:%d - cid:%llu - Slow Consumer Detected: WriteDeadline exceeded",
                  c->ip, c->rport, (unsigned long long)c->cid);
        mn_client_close(c, "Slow Consumer");
        return;
    }
    drain_dead(c);
}

/* ---------------------------------------------------------- monitoring */

static char *dupn(const char *s)
{
    return s ? strdup(s) : NULL;
}

void mn_client_info(mn_client *c, modnats_conn_info *info, bool with_subs)
{
    size_t size = info->size;
    memset(info, 0, size);
    info->size = size;
    info->cid = c->cid;
    info->kind = "Client";
    info->ip = dupn(c->ip);
    info->port = c->rport;
    info->name = dupn(c->name);
    info->lang = dupn(c->lang);
    info->version = dupn(c->version);
    info->account = dupn(c->acc ? c->acc->name : NULL);
    info->user = dupn(c->user);
    uint64_t now_mono = mn_now_ms(), now_unix = mn_unix_ms();
    info->start_unix_ms = now_unix - (now_mono - c->start_ms);
    info->last_activity_unix_ms = now_unix - (now_mono - c->last_in_ms);
    info->in_msgs = c->in_msgs;
    info->in_bytes = c->in_bytes;
    pthread_mutex_lock(&c->lock);
    info->out_msgs = c->out_msgs;
    info->out_bytes = c->out_bytes;
    info->pending_bytes = c->olen - c->ooff;
    pthread_mutex_unlock(&c->lock);
    info->subscriptions = c->nsubs;
    modnats_tls_info ti = { .size = sizeof(ti) };
    if (size >= offsetof(modnats_conn_info, tls_cipher_suite) + sizeof(info->tls_cipher_suite) &&
        MN_UNLIKELY(c->tls != NULL) && mn_tls_peer(c->tls, &ti) == MN_OK) {
        const char *v = ti.version && !strncmp(ti.version, "TLSv", 4) ? ti.version + 4 : ti.version;
        info->tls_version = dupn(v);
        info->tls_cipher_suite = dupn(ti.cipher);
    }
    if (with_subs && c->nsubs > 0) {
        const char **subs = calloc(c->nsubs + 1, sizeof(*subs));
        size_t k = 0;
        for (uint32_t b = 0; subs && b < c->nsids_buckets; b++) {
            for (mn_csub *cs = c->sids[b]; cs && k < c->nsubs; cs = cs->hnext) {
                size_t n = cs->sub.subject_len + 1 + cs->sub.queue_len + 1;
                char *e = malloc(n);
                if (!e)
                    continue;
                if (cs->sub.queue_len)
                    snprintf(e, n, "%s %s", cs->sub.subject, cs->sub.queue);
                else
                    snprintf(e, n, "%s", cs->sub.subject);
                subs[k++] = e;
            }
        }
        info->subs = subs;
    }
}

void mn_conn_info_free(modnats_conn_info *info)
{
    free((char *)info->ip);
    free((char *)info->name);
    free((char *)info->lang);
    free((char *)info->version);
    free((char *)info->account);
    free((char *)info->user);
    if (info->size >= offsetof(modnats_conn_info, tls_cipher_suite) + sizeof(info->tls_cipher_suite)) {
        free((char *)info->tls_version);
        free((char *)info->tls_cipher_suite);
    }
    if (info->subs) {
        for (size_t i = 0; info->subs[i]; i++)
            free((char *)info->subs[i]);
        free((void *)info->subs);
    }
}
