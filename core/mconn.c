/*
 * mconn.c - module-owned connections (see mconn.h).
 *
 * Listeners live in worker 0's epoll; accepted and dialed sockets are
 * handed round-robin to workers like client connections.  Writes append to
 * the connection's buffer under its lock and try the socket at once; what
 * the socket does not take waits for EPOLLOUT on the owner.
 */
#include "mconn.h"
#include "log.h"
#include "qsbr.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct mn_mconn {
    int                     ep_kind;   /* MN_EP_MCONN: first */
    uint64_t                cid;
    mn_worker              *w;
    modnats_module         *m;
    const modnats_conn_ops *ops;
    void                   *ud;
    char                    ip[48];
    int                     rport;
    _Atomic int             refs;
    pthread_mutex_t         lock;      /* fd, closed, output */
    int                     fd;
    bool                    closed;
    bool                    connecting;
    bool                    want_out;
    bool                    flush_queued;   /* on a worker's mflush list */
    char                   *obuf;
    size_t                  ooff, olen, ocap;
    mn_mconn               *prev, *next;   /* owner's list (owner only) */
    /* TLS (NULL: plain).  Every call on tls is made under lock. */
    mn_tls                 *tls;
    mn_tls_ctx             *tls_dial;      /* dial_tls: handshake once connected (ref) */
    mn_tls_ctx             *tls_start;     /* conn_start_tls: once plain output is out (ref) */
    bool                    tls_open_after;   /* on_open waits for the handshake */
    uint64_t                tls_deadline_ms;
    char                    host[256];     /* dialed name, for the certificate check */
};

struct mn_mlistener {
    int                     ep_kind;   /* MN_EP_MLISTENER: first */
    int                     fd;
    int                     port;      /* the port bound */
    modnats_module         *m;
    const modnats_conn_ops *ops;
    void                   *ud;
    mn_tls_ctx             *tls;       /* listen_tls (ref), else NULL */
    mn_mlistener           *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static mn_mlistener *g_listeners;

bool mn_mconn_is(const void *conn)
{
    return conn && *(const int *)conn == MN_EP_MCONN;
}

static void mconn_free(void *p)
{
    mn_mconn *c = p;
    pthread_mutex_destroy(&c->lock);
    mn_tls_free(c->tls);
    mn_tls_ctx_unref(c->tls_dial);
    mn_tls_ctx_unref(c->tls_start);
    free(c->obuf);
    free(c);
}

static void mconn_unref(mn_mconn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        mn_qsbr_retire(c, mconn_free);
}

static void set_events(mn_mconn *c)
{
    struct epoll_event ev = { .events = (c->connecting ? 0 : EPOLLIN) |
                                        (c->want_out || c->connecting ? EPOLLOUT : 0),
                              .data.ptr = c };
    epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void tls_begin_locked(mn_mconn *c, mn_tls_ctx *x);

/* c->lock held. */
static void write_locked(mn_mconn *c)
{
    if (MN_UNLIKELY(c->tls != NULL)) {
        if (!mn_tls_ready(c->tls))
            return;   /* output waits for the handshake */
        while (c->ooff < c->olen) {
            ssize_t n = mn_tls_write(c->tls, c->obuf + c->ooff, c->olen - c->ooff);
            if (n > 0) {
                c->ooff += (size_t)n;
                continue;
            }
            if (n != MN_TLS_WANT_WRITE && n != MN_TLS_WANT_READ)
                c->ooff = c->olen;   /* hard error: the read side reports it */
            break;
        }
    }
    while (!c->tls && c->ooff < c->olen) {
        ssize_t n = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c->ooff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        c->ooff = c->olen;   /* hard error: the read side reports it */
    }
    bool pending = c->ooff < c->olen;
    if (!pending) {
        c->ooff = c->olen = 0;
        if (c->ocap > 256 * 1024) {
            free(c->obuf);
            c->obuf = NULL;
            c->ocap = 0;
        }
        if (MN_UNLIKELY(c->tls_start != NULL)) {
            /* conn_start_tls: the plain bytes are out; the owner's next
             * EPOLLOUT drives the handshake. */
            mn_tls_ctx *x = c->tls_start;
            c->tls_start = NULL;
            tls_begin_locked(c, x);
            mn_tls_ctx_unref(x);
            pending = true;
        }
    }
    if (pending != c->want_out && !c->connecting) {
        c->want_out = pending;
        set_events(c);
    }
}

/* Owner thread: close, tell the module, forget. */
static void close_now(mn_mconn *c, const char *reason)
{
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (!c->connecting)
        write_locked(c);
    if (c->tls)
        mn_tls_shutdown(c->tls);
    c->closed = true;
    int fd = c->fd;
    c->fd = -1;
    pthread_mutex_unlock(&c->lock);
    if (fd >= 0) {
        epoll_ctl(c->w->epfd, EPOLL_CTL_DEL, fd, NULL);
        close(fd);
    }
    if (c->ops->on_close)
        c->ops->on_close(c->ud, (modnats_conn *)c, reason);
    mn_worker *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->mconns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    mconn_unref(c);
}

static void tls_step(mn_mconn *c);

static void opened(mn_mconn *c)
{
    if (MN_UNLIKELY(c->tls != NULL) && !mn_tls_ready(c->tls)) {
        c->tls_open_after = true;   /* on_open once the handshake is done */
        tls_step(c);
        return;
    }
    if (!c->ops->on_open || c->ops->on_open(c->ud, (modnats_conn *)c) == MODNATS_OK)
        return;
    close_now(c, "refused by the module");
}

/* Owner thread: take a socket in. */
static mn_mconn *adopt(mn_worker *w, int fd, bool connecting, modnats_module *m,
                       const modnats_conn_ops *ops, void *ud)
{
    mn_mconn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->ep_kind = MN_EP_MCONN;
    c->cid = atomic_fetch_add(&w->srv->next_cid, 1) + 1;
    c->w = w;
    c->m = m;
    c->ops = ops;
    c->ud = ud;
    c->fd = fd;
    c->connecting = connecting;
    atomic_store(&c->refs, 1);
    pthread_mutex_init(&c->lock, NULL);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->ip, sizeof(c->ip));
            c->rport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->ip, sizeof(c->ip));
            c->rport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct epoll_event ev = { .events = connecting ? EPOLLOUT : EPOLLIN, .data.ptr = c };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->next = w->mconns;
    if (w->mconns)
        w->mconns->prev = c;
    w->mconns = c;
    return c;
}

typedef struct adopt_task {
    int                     fd;
    bool                    connecting;
    modnats_module         *m;
    const modnats_conn_ops *ops;
    void                   *ud;
    char                    ip[48];
    int                     port;
    mn_tls_ctx             *tls;      /* ref, or NULL */
    char                    host[256];
} adopt_task;

static void task_adopt(mn_worker *w, void *arg)
{
    adopt_task *t = arg;
    mn_mconn *c = NULL;
    if (!w->stop && !atomic_load(&w->srv->shutting_down))
        c = adopt(w, t->fd, t->connecting, t->m, t->ops, t->ud);
    if (!c) {
        close(t->fd);
        if (t->ops->on_close)
            t->ops->on_close(t->ud, NULL, "server shutting down or out of memory");
    } else {
        snprintf(c->host, sizeof(c->host), "%s", t->host);
        if (t->connecting) {
            snprintf(c->ip, sizeof(c->ip), "%s", t->ip);
            c->rport = t->port;
            c->tls_dial = t->tls;   /* the handshake starts once connected */
            t->tls = NULL;
        } else {
            if (t->tls) {
                pthread_mutex_lock(&c->lock);
                tls_begin_locked(c, t->tls);
                pthread_mutex_unlock(&c->lock);
            }
            opened(c);
        }
    }
    mn_tls_ctx_unref(t->tls);
    free(t);
}

static void hand_out(mn_server *s, adopt_task *t)
{
    unsigned i = atomic_fetch_add(&s->next_worker, 1) % (unsigned)s->nworkers;
    mn_worker_post(&s->workers[i], task_adopt, t);
}

static void accept_on(mn_worker *w, mn_mlistener *l)
{
    for (int i = 0; i < 64; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        adopt_task *t = calloc(1, sizeof(*t));
        if (!t) {
            close(fd);
            continue;
        }
        t->fd = fd;
        t->m = l->m;
        t->ops = l->ops;
        t->ud = l->ud;
        pthread_mutex_lock(&g_lock);   /* listener_set_tls may swap it */
        if (l->tls) {
            mn_tls_ctx_ref(l->tls);
            t->tls = l->tls;
        }
        pthread_mutex_unlock(&g_lock);
        hand_out(w->srv, t);
    }
}

/* ------------------------------------------------------------------ TLS */

/* Start the session (server or client side, as x was built).  c->lock held.
 * The owner drives the handshake (tls_step). */
static void tls_begin_locked(mn_mconn *c, mn_tls_ctx *x)
{
    c->tls = mn_tls_new(x, c->fd, mn_tls_ctx_server(x), c->host[0] ? c->host : c->ip);
    c->tls_deadline_ms = mn_now_ms() + (uint64_t)mn_tls_ctx_timeout_ms(x);
    if (!c->tls)
        c->ooff = c->olen;   /* out of memory: nothing goes out; the read side closes */
}

static void tls_read_all(mn_worker *w, mn_mconn *c);

/* Owner: drive the handshake; on success write what waited, tell the
 * module (on_open) if it waits, and read what came along. */
static void tls_step(mn_mconn *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        return;
    }
    int rc = c->tls ? mn_tls_handshake(c->tls) : MN_ENOMEM;
    if (rc == MN_TLS_WANT_WRITE || rc == MN_TLS_WANT_READ) {
        bool out = rc == MN_TLS_WANT_WRITE;
        if (out != c->want_out) {
            c->want_out = out;
            set_events(c);
        }
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (rc != MN_OK) {
        char why[300];
        snprintf(why, sizeof why, "TLS handshake: %s", c->tls ? mn_tls_error(c->tls) : "out of memory");
        pthread_mutex_unlock(&c->lock);
        mn_error("%s:%d - %s", c->ip, c->rport, why);
        close_now(c, why);
        return;
    }
    c->want_out = c->olen > c->ooff;
    set_events(c);
    write_locked(c);
    pthread_mutex_unlock(&c->lock);
    mn_debug("%s:%d - module connection: TLS handshake complete", c->ip, c->rport);
    if (c->tls_open_after) {
        c->tls_open_after = false;
        opened(c);
        if (c->closed)
            return;
    }
    tls_read_all(c->w, c);
}

static void tls_read_all(mn_worker *w, mn_mconn *c)
{
    for (int round = 0; round < 64 && !c->closed; round++) {
        size_t got;
        bool more;
        pthread_mutex_lock(&c->lock);
        ssize_t r = mn_tls_read_batch(c->tls, w->rbuf, w->rbuf_size, &got, &more);
        if (r == MN_TLS_WANT_WRITE && !c->want_out) {
            c->want_out = true;
            set_events(c);
        }
        char why[200] = "closed by peer";
        if (r == MN_ERR)
            snprintf(why, sizeof why, "TLS: %s", mn_tls_error(c->tls));
        pthread_mutex_unlock(&c->lock);
        if (got && c->ops->on_data &&
            c->ops->on_data(c->ud, (modnats_conn *)c, w->rbuf, got) != MODNATS_OK) {
            close_now(c, "protocol error");
            return;
        }
        if (c->closed)
            return;
        if (r == 0 || r == MN_ERR) {
            close_now(c, why);
            return;
        }
        if (!more)
            return;
    }
}

static void tls_event(mn_worker *w, mn_mconn *c, uint32_t events)
{
    if (events & EPOLLOUT) {
        pthread_mutex_lock(&c->lock);
        if (!c->closed)
            write_locked(c);
        pthread_mutex_unlock(&c->lock);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        tls_read_all(w, c);
}

/* Worker tick: close module connections whose handshake takes too long. */
void mn_mconn_tick(mn_worker *w)
{
    mn_mconn *c = w->mconns;
    while (c) {
        mn_mconn *nx = c->next;
        if (MN_UNLIKELY(c->tls != NULL) && !c->closed && !mn_tls_ready(c->tls) &&
            w->now_ms >= c->tls_deadline_ms) {
            mn_error("%s:%d - module connection: TLS handshake timeout", c->ip, c->rport);
            close_now(c, "TLS handshake timeout");
        }
        c = nx;
    }
}

modnats_rc mn_mconn_start_tls(modnats_conn *conn, const modnats_tls *tls)
{
    mn_mconn *c = (mn_mconn *)conn;
    mn_tls_ctx *x = (mn_tls_ctx *)tls;
    if (!x || mn_current_worker != c->w)
        return MODNATS_ERR;
    pthread_mutex_lock(&c->lock);
    if (c->closed || c->tls || c->tls_start || c->connecting) {
        pthread_mutex_unlock(&c->lock);
        return MODNATS_ERR;
    }
    mn_tls_ctx_ref(x);
    c->tls_start = x;
    write_locked(c);   /* starts TLS at once when no plain output waits */
    pthread_mutex_unlock(&c->lock);
    return MODNATS_OK;
}

void mn_mconn_event(mn_worker *w, void *ptr, uint32_t events)
{
    if (*(int *)ptr == MN_EP_MLISTENER) {
        accept_on(w, ptr);
        return;
    }
    mn_mconn *c = ptr;
    if (c->closed)
        return;
    if (c->connecting) {
        int err = 0;
        socklen_t el = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
            err = errno;
        if (err != 0) {
            char why[160];
            snprintf(why, sizeof(why), "connect: %s", strerror(err));
            close_now(c, why);
            return;
        }
        pthread_mutex_lock(&c->lock);
        c->connecting = false;
        if (c->tls_dial) {
            tls_begin_locked(c, c->tls_dial);
            mn_tls_ctx_unref(c->tls_dial);
            c->tls_dial = NULL;
        }
        c->want_out = c->olen > c->ooff;
        set_events(c);
        write_locked(c);
        pthread_mutex_unlock(&c->lock);
        opened(c);
        return;
    }
    if (MN_UNLIKELY(c->tls != NULL)) {
        if (!mn_tls_ready(c->tls))
            tls_step(c);
        else
            tls_event(w, c, events);
        return;
    }
    if (events & EPOLLOUT) {
        pthread_mutex_lock(&c->lock);
        if (!c->closed)
            write_locked(c);
        pthread_mutex_unlock(&c->lock);
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t n = recv(c->fd, w->rbuf, w->rbuf_size, MSG_DONTWAIT);
        if (n == 0) {
            close_now(c, "closed by peer");
        } else if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                close_now(c, strerror(errno));
        } else if (c->ops->on_data &&
                   c->ops->on_data(c->ud, (modnats_conn *)c, w->rbuf, (size_t)n) != MODNATS_OK) {
            close_now(c, "protocol error");
        }
    }
}

static int open_socket(const char *host, int port, bool listening, int *out_fd, char *ip,
                       size_t iplen)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port < 0 ? 0 : port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = (listening ? AI_PASSIVE : 0) | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host && *host ? host : (listening ? "0.0.0.0" : "127.0.0.1"), portstr,
                    &hints, &res) != 0)
        return MN_EINVAL;
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        if (listening) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
                break;
        } else {
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
                if (ip) {
                    if (ai->ai_family == AF_INET)
                        inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, ip, (socklen_t)iplen);
                    else
                        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, ip, (socklen_t)iplen);
                }
                break;
            }
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return MN_ERR;
    *out_fd = fd;
    return MN_OK;
}

modnats_listener *mn_mconn_listen(modnats_module *m, const char *host, int port,
                                  const modnats_conn_ops *ops, void *ud)
{
    return mn_mconn_listen_tls(m, host, port, ops, ud, NULL);
}

modnats_listener *mn_mconn_listen_tls(modnats_module *m, const char *host, int port,
                                      const modnats_conn_ops *ops, void *ud,
                                      const modnats_tls *tls)
{
    mn_server *s = mn_g_server;
    if (!ops || ops->size < offsetof(modnats_conn_ops, reserved))
        return NULL;
    mn_mlistener *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    if (open_socket(host, port, true, &l->fd, NULL, 0) != MN_OK) {
        mn_error("module listener on %s:%d: %s", host ? host : "0.0.0.0", port, strerror(errno));
        free(l);
        return NULL;
    }
    l->ep_kind = MN_EP_MLISTENER;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(l->fd, (struct sockaddr *)&ss, &sl) == 0)
        l->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    l->m = m;
    l->ops = ops;
    l->ud = ud;
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };
    if (s->nworkers < 1 || s->workers[0].epfd < 0 ||
        epoll_ctl(s->workers[0].epfd, EPOLL_CTL_ADD, l->fd, &ev) != 0) {
        close(l->fd);
        free(l);
        return NULL;
    }
    if (tls) {
        l->tls = (mn_tls_ctx *)tls;
        mn_tls_ctx_ref(l->tls);
    }
    pthread_mutex_lock(&g_lock);
    l->next = g_listeners;
    g_listeners = l;
    pthread_mutex_unlock(&g_lock);
    return (modnats_listener *)l;
}

modnats_rc mn_mconn_dial(modnats_module *m, const char *host, int port,
                         const modnats_conn_ops *ops, void *ud)
{
    return mn_mconn_dial_tls(m, host, port, ops, ud, NULL);
}

modnats_rc mn_mconn_dial_tls(modnats_module *m, const char *host, int port,
                             const modnats_conn_ops *ops, void *ud, const modnats_tls *tls)
{
    if (!ops || ops->size < offsetof(modnats_conn_ops, reserved) || port <= 0)
        return MODNATS_ERR;
    adopt_task *t = calloc(1, sizeof(*t));
    if (!t)
        return MODNATS_ERR;
    if (open_socket(host, port, false, &t->fd, t->ip, sizeof(t->ip)) != MN_OK) {
        free(t);
        return MODNATS_ERR;
    }
    t->connecting = true;
    t->port = port;
    t->m = m;
    t->ops = ops;
    t->ud = ud;
    snprintf(t->host, sizeof(t->host), "%s", host ? host : "");
    if (tls) {
        t->tls = (mn_tls_ctx *)tls;
        mn_tls_ctx_ref(t->tls);
    }
    hand_out(mn_g_server, t);
    return MODNATS_OK;
}

modnats_rc mn_mconn_write(modnats_conn *conn, const void *buf, size_t len)
{
    mn_mconn *c = (mn_mconn *)conn;
    pthread_mutex_lock(&c->lock);
    if (c->closed) {
        pthread_mutex_unlock(&c->lock);
        return MODNATS_ERR;
    }
    if (c->olen + len > c->ocap) {
        if (c->ooff) {
            memmove(c->obuf, c->obuf + c->ooff, c->olen - c->ooff);
            c->olen -= c->ooff;
            c->ooff = 0;
        }
        size_t cap = c->ocap ? c->ocap : 4096;
        while (cap < c->olen + len)
            cap *= 2;
        char *nb = cap > c->ocap ? realloc(c->obuf, cap) : c->obuf;
        if (!nb) {
            pthread_mutex_unlock(&c->lock);
            return MODNATS_ERR;
        }
        c->obuf = nb;
        c->ocap = cap > c->ocap ? cap : c->ocap;
    }
    memcpy(c->obuf + c->olen, buf, len);
    c->olen += len;
    mn_worker *w = mn_current_worker;
    if (c->connecting) {
        /* written once connected */
    } else if (w && c->olen - c->ooff < 64 * 1024) {
        /* On a worker: one write per peer per loop turn, carrying every
         * frame queued in that turn (as client output is). */
        if (!c->flush_queued && mn_worker_schedule_mflush(w, c) == MN_OK) {
            c->flush_queued = true;
            atomic_fetch_add(&c->refs, 1);
        } else if (!c->flush_queued) {
            write_locked(c);
        }
    } else {
        write_locked(c);
    }
    pthread_mutex_unlock(&c->lock);
    return MODNATS_OK;
}

void mn_mconn_flush(void *conn)
{
    mn_mconn *c = conn;
    pthread_mutex_lock(&c->lock);
    c->flush_queued = false;
    if (!c->closed && !c->connecting)
        write_locked(c);
    pthread_mutex_unlock(&c->lock);
    mconn_unref(c);
}

typedef struct close_req {
    mn_mconn *c;
    char     *reason;
} close_req;

static void task_close(mn_worker *w, void *arg)
{
    close_req *r = arg;
    MN_UNUSED(w);
    close_now(r->c, r->reason ? r->reason : "closed by the module");
    mconn_unref(r->c);
    free(r->reason);
    free(r);
}

modnats_rc mn_mconn_close(modnats_conn *conn, const char *reason)
{
    mn_mconn *c = (mn_mconn *)conn;
    if (mn_current_worker == c->w) {
        close_now(c, reason ? reason : "closed by the module");
        return MODNATS_OK;
    }
    close_req *r = calloc(1, sizeof(*r));
    if (!r)
        return MODNATS_ERR;
    r->c = c;
    r->reason = reason ? strdup(reason) : NULL;
    atomic_fetch_add(&c->refs, 1);
    mn_worker_post(c->w, task_close, r);
    return MODNATS_OK;
}

modnats_rc mn_mconn_set_ud(modnats_conn *conn, void *ud)
{
    mn_mconn *c = (mn_mconn *)conn;
    if (mn_current_worker != c->w)
        return MODNATS_ERR;
    c->ud = ud;
    return MODNATS_OK;
}

modnats_rc mn_mlistener_set_tls(modnats_listener *ml, const modnats_tls *tls)
{
    mn_mlistener *l = (mn_mlistener *)ml;
    if (!l || !tls)
        return MODNATS_ERR;
    pthread_mutex_lock(&g_lock);
    if (!l->tls) {
        pthread_mutex_unlock(&g_lock);
        return MODNATS_ERR;   /* a plain listener stays plain */
    }
    mn_tls_ctx *old = l->tls;
    l->tls = (mn_tls_ctx *)tls;
    mn_tls_ctx_ref(l->tls);
    pthread_mutex_unlock(&g_lock);
    mn_tls_ctx_unref(old);
    return MODNATS_OK;
}

int mn_mlistener_port(const modnats_listener *l)
{
    return l ? ((const mn_mlistener *)l)->port : -1;
}

uint64_t mn_mconn_id(const modnats_conn *c) { return ((const mn_mconn *)c)->cid; }
const char *mn_mconn_ip(const modnats_conn *c) { return ((const mn_mconn *)c)->ip; }

int mn_mconn_tls_info(const modnats_conn *conn, modnats_tls_info *out)
{
    const mn_mconn *c = (const mn_mconn *)conn;
    return c->tls ? mn_tls_peer(c->tls, out) : MN_ENOTFOUND;
}
int mn_mconn_port(const modnats_conn *c) { return ((const mn_mconn *)c)->rport; }

uint64_t mn_mconn_pending(const modnats_conn *conn)
{
    mn_mconn *c = (mn_mconn *)conn;
    pthread_mutex_lock(&c->lock);
    uint64_t n = c->olen - c->ooff;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void mn_mconn_close_all(mn_worker *w)
{
    while (w->mconns)
        close_now(w->mconns, "server shutting down");
}

void mn_mlisteners_free(void)
{
    pthread_mutex_lock(&g_lock);
    while (g_listeners) {
        mn_mlistener *l = g_listeners;
        g_listeners = l->next;
        close(l->fd);
        mn_tls_ctx_unref(l->tls);
        free(l);
    }
    pthread_mutex_unlock(&g_lock);
}
