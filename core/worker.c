/*
 * worker.c - an I/O worker: one thread, one epoll instance, its clients.
 *
 * Each loop turn: wait for events (offline for qsbr while blocked), handle
 * them (reads, writes, posted tasks, accepts on worker 0), write out every
 * client that got output during the turn, run the timers every 250 ms, and
 * pass a quiescent point.  Other threads talk to a worker only by posting a
 * task (mn_worker_post), which wakes it through an eventfd.
 */
#include "server.h"
#include "log.h"
#include "qsbr.h"
#include "timer.h"
#include "mconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TAG_EVENTFD  ((uint64_t)1)
#define TAG_LISTENER ((uint64_t)2)
#define MAX_EVENTS   256
#define TICK_MS      250
#define CACHE_ENTRIES 4096

_Thread_local mn_worker *mn_current_worker;

uint64_t mn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void mn_worker_post(mn_worker *w, mn_task_fn fn, void *arg)
{
    mn_task *t = malloc(sizeof(*t));
    if (!t) {
        mn_error("out of memory posting a task to worker %d", w->idx);
        return;
    }
    t->fn = fn;
    t->arg = arg;
    t->next = NULL;
    pthread_mutex_lock(&w->inbox_lock);
    bool was_empty = w->inbox == NULL;
    if (w->inbox_last)
        w->inbox_last->next = t;
    else
        w->inbox = t;
    w->inbox_last = t;
    pthread_mutex_unlock(&w->inbox_lock);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t n = write(w->evfd, &one, sizeof(one));
        MN_UNUSED(n);   /* the counter cannot overflow in practice */
    }
}

static void run_inbox(mn_worker *w)
{
    uint64_t v;
    ssize_t n = read(w->evfd, &v, sizeof(v));
    MN_UNUSED(n);
    pthread_mutex_lock(&w->inbox_lock);
    mn_task *t = w->inbox;
    w->inbox = w->inbox_last = NULL;
    pthread_mutex_unlock(&w->inbox_lock);
    while (t) {
        mn_task *nx = t->next;
        t->fn(w, t->arg);
        free(t);
        t = nx;
    }
}

/* c->lock held by the caller. */
void mn_worker_schedule_flush(mn_worker *w, mn_client *c)
{
    if (w->nflush == w->capflush) {
        size_t cap = w->capflush ? w->capflush * 2 : 64;
        mn_client **nf = realloc(w->flush, cap * sizeof(*nf));
        if (!nf) {
            /* Cannot track it: write right away instead. */
            c->flush_queued = false;
            return;
        }
        w->flush = nf;
        w->capflush = cap;
    }
    mn_client_ref(c);
    w->flush[w->nflush++] = c;
}

void mn_worker_stall(mn_worker *w, mn_client *c)
{
    if (c->stalled_listed)
        return;
    if (w->nstalled == w->capstalled) {
        size_t cap = w->capstalled ? w->capstalled * 2 : 16;
        mn_client **v = realloc(w->stalled, cap * sizeof(*v));
        if (!v) {
            /* Cannot track it: no stall; the hard limit still holds. */
            mn_client_unref(c->stall_on);
            c->stall_on = NULL;
            return;
        }
        w->stalled = v;
        w->capstalled = cap;
    }
    mn_client_ref(c);
    c->stalled_listed = true;
    w->stalled[w->nstalled++] = c;
    mn_client_stall_begin(c, w->now_ms);
}

static void check_stalls(mn_worker *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->nstalled; i++) {
        mn_client *c = w->stalled[i];
        if (mn_client_stall_over(c, w->now_ms)) {
            c->stalled_listed = false;
            mn_client_unref(c);
        } else {
            w->stalled[k++] = c;
        }
    }
    w->nstalled = k;
}

int mn_worker_schedule_mflush(mn_worker *w, void *mconn)
{
    if (w->nmflush == w->capmflush) {
        size_t cap = w->capmflush ? w->capmflush * 2 : 16;
        void **v = realloc(w->mflush, cap * sizeof(*v));
        if (!v)
            return MN_ENOMEM;
        w->mflush = v;
        w->capmflush = cap;
    }
    w->mflush[w->nmflush++] = mconn;
    return MN_OK;
}

static void flush_all(mn_worker *w)
{
    for (size_t i = 0; i < w->nmflush; i++)
        mn_mconn_flush(w->mflush[i]);
    w->nmflush = 0;
    /* Flushing cannot add to the list: it only writes. */
    for (size_t i = 0; i < w->nflush; i++) {
        mn_client *c = w->flush[i];
        mn_client_flush(c);
        mn_client_unref(c);
    }
    w->nflush = 0;
}

mn_match_cache *mn_worker_cache(mn_worker *w, mn_account *acc)
{
    if (MN_LIKELY(acc->idx < w->ncaches && w->caches[acc->idx]))
        return w->caches[acc->idx];
    if (acc->idx >= w->ncaches) {
        size_t n = acc->idx + 8;
        mn_match_cache **nc = realloc(w->caches, n * sizeof(*nc));
        if (!nc)
            return NULL;
        memset(nc + w->ncaches, 0, (n - w->ncaches) * sizeof(*nc));
        w->caches = nc;
        w->ncaches = n;
    }
    w->caches[acc->idx] = mn_match_cache_new(acc->sl, CACHE_ENTRIES);
    return w->caches[acc->idx];
}

static void task_adopt(mn_worker *w, void *arg)
{
    int fd = (int)(intptr_t)arg;
    if (w->stop || atomic_load(&w->srv->shutting_down) || !mn_client_new(w, fd)) {
        close(fd);
        atomic_fetch_sub(&w->srv->nclients, 1);
    }
}

static void accept_clients(mn_worker *w)
{
    mn_server *s = w->srv;
    for (int i = 0; i < 64 && s->listen_fd >= 0; i++) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                mn_error("accept: %s", strerror(errno));
            return;
        }
        atomic_fetch_add(&s->total_connections, 1);
        int n = atomic_fetch_add(&s->nclients, 1) + 1;
        if (n > atomic_load(&s->max_connections)) {
            atomic_fetch_sub(&s->nclients, 1);
            static const char msg[] = "-ERR 'maximum connections exceeded'\r\n";
            ssize_t k = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            MN_UNUSED(k);
            shutdown(fd, SHUT_WR);
            close(fd);
            mn_warn("Maximum connections exceeded, closing new connection");
            continue;
        }
        unsigned target = atomic_fetch_add(&s->next_worker, 1) % (unsigned)s->nworkers;
        mn_worker *tw = &s->workers[target];
        if (tw == w)
            task_adopt(w, (void *)(intptr_t)fd);
        else
            mn_worker_post(tw, task_adopt, (void *)(intptr_t)fd);
    }
}

static void tick(mn_worker *w)
{
    mn_client *c = w->clients;
    while (c) {
        mn_client *nx = c->next;   /* c may close (and unlink) itself */
        mn_client_tick(c);
        c = nx;
    }
    if (MN_UNLIKELY(w->mconns != NULL))
        mn_mconn_tick(w);
}

static void *worker_main(void *arg)
{
    mn_worker *w = arg;
    struct epoll_event evs[MAX_EVENTS];
    mn_qsbr_register();
    mn_current_worker = w;
    w->now_ms = mn_now_ms();
    w->next_tick_ms = w->now_ms + TICK_MS;
    while (!w->stop) {
        int timeout = (int)(w->next_tick_ms > w->now_ms ? w->next_tick_ms - w->now_ms : 0);
        if (w->idx == 0)
            timeout = mn_timers_timeout(w->now_ms, timeout);
        if (w->nstalled && timeout > 1)
            timeout = 1;   /* look at stalled publishers often */
        mn_qsbr_offline();
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
        mn_qsbr_online();
        w->now_ms = mn_now_ms();
        if (n < 0 && errno != EINTR) {
            mn_error("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = evs[i].data.u64;
            if (tag == TAG_EVENTFD) {
                run_inbox(w);
            } else if (tag == TAG_LISTENER) {
                accept_clients(w);
            } else {
                void *ptr = evs[i].data.ptr;
                if (MN_UNLIKELY(*(int *)ptr != MN_EP_CLIENT)) {
                    mn_mconn_event(w, ptr, evs[i].events);
                    continue;
                }
                mn_client *c = ptr;
                if (evs[i].events & (EPOLLOUT))
                    mn_client_on_writable(c);
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    mn_client_on_readable(c);
            }
        }
        if (w->idx == 0) {
            mn_timers_run(w->now_ms);
        }
        flush_all(w);
        if (w->nstalled)
            check_stalls(w);
        if (w->now_ms >= w->next_tick_ms) {
            tick(w);
            flush_all(w);
            w->next_tick_ms = w->now_ms + TICK_MS;
        }
        mn_qsbr_quiescent();
    }
    /* Shutdown: close what is left, then flush the last -ERRs. */
    while (w->clients)
        mn_client_close(w->clients, NULL);
    mn_mconn_close_all(w);
    w->now_ms = UINT64_MAX;   /* every stall is over */
    check_stalls(w);
    free(w->stalled);
    w->stalled = NULL;
    flush_all(w);
    free(w->mflush);
    w->mflush = NULL;
    flush_all(w);
    mn_route_scratch_free();
    mn_qsbr_quiescent();
    mn_qsbr_unregister();
    return NULL;
}

int mn_worker_init(mn_worker *w)
{
    pthread_mutex_init(&w->inbox_lock, NULL);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0)
        return MN_ERR;
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->evfd < 0)
        return MN_ERR;
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_EVENTFD };
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) != 0)
        return MN_ERR;
    if (w->idx == 0 && w->srv->listen_fd >= 0) {
        struct epoll_event lev = { .events = EPOLLIN, .data.u64 = TAG_LISTENER };
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->srv->listen_fd, &lev) != 0)
            return MN_ERR;
    }
    /* Room for 64 accounts up front: the array is read (racily) by
     * monitoring, so it should rarely move. */
    w->caches = calloc(64, sizeof(*w->caches));
    if (!w->caches)
        return MN_ENOMEM;
    w->ncaches = 64;
    w->rbuf_size = 256 * 1024;   /* pages are touched only as far as reads fill them */
    w->rbuf = malloc(w->rbuf_size);
    if (!w->rbuf)
        return MN_ENOMEM;
    w->rng = 0x9E3779B97F4A7C15ull ^ ((uint64_t)w->idx << 32) ^ mn_now_ms();
    return MN_OK;
}

int mn_worker_start(mn_worker *w)
{
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
        return MN_ERR;
    w->started = true;
    return MN_OK;
}
