/*
 * timer.c - module timers on worker 0 (see timer.h).
 */
#include "timer.h"
#include "server.h"

#include <pthread.h>
#include <stdlib.h>

struct modnats_timer {
    modnats_module  *m;
    modnats_timer_fn fn;
    void            *ud;
    uint64_t         due_ms;
    uint64_t         every_ms;
    bool             cancelled;
    bool             running;
    bool             waited;      /* a cancel waits for the callback to end */
    bool             fired;       /* a one-shot that ran: kept until cancelled */
    pthread_t        runner;
    struct modnats_timer *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static modnats_timer *g_timers;
static mn_worker *g_worker;

static void task_wake(mn_worker *w, void *arg)
{
    MN_UNUSED(w);
    MN_UNUSED(arg);
}

void mn_timers_set_worker(mn_worker *w)
{
    pthread_mutex_lock(&g_lock);
    g_worker = w;
    pthread_mutex_unlock(&g_lock);
}

modnats_timer *mn_timer_start(modnats_module *m, uint64_t after_ms, uint64_t every_ms,
                              modnats_timer_fn fn, void *ud)
{
    if (!fn)
        return NULL;
    modnats_timer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->m = m;
    t->fn = fn;
    t->ud = ud;
    t->due_ms = mn_now_ms() + after_ms;
    t->every_ms = every_ms;
    pthread_mutex_lock(&g_lock);
    t->next = g_timers;
    g_timers = t;
    mn_worker *w = g_worker;
    pthread_mutex_unlock(&g_lock);
    /* Wake worker 0 so it recomputes its wait; a no-op task does that. */
    if (w && mn_current_worker != w)
        mn_worker_post(w, task_wake, NULL);
    return t;
}

static void unlink_timer(modnats_timer *t)
{
    for (modnats_timer **pp = &g_timers; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return;
        }
    }
}

void mn_timer_cancel(modnats_timer *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&g_lock);
    t->cancelled = true;
    if (t->running && pthread_equal(t->runner, pthread_self())) {
        /* From inside its own callback: mn_timers_run frees it after. */
        pthread_mutex_unlock(&g_lock);
        return;
    }
    if (t->running) {
        t->waited = true;
        while (t->running)
            pthread_cond_wait(&g_cond, &g_lock);
    }
    unlink_timer(t);
    pthread_mutex_unlock(&g_lock);
    free(t);
}

int mn_timers_timeout(uint64_t now_ms, int max)
{
    int best = max;
    pthread_mutex_lock(&g_lock);
    for (modnats_timer *t = g_timers; t; t = t->next) {
        if (t->cancelled || t->fired)
            continue;
        int64_t d = (int64_t)t->due_ms - (int64_t)now_ms;
        if (d < 0)
            d = 0;
        if (d < best)
            best = (int)d;
    }
    pthread_mutex_unlock(&g_lock);
    return best;
}

void mn_timers_run(uint64_t now_ms)
{
    pthread_mutex_lock(&g_lock);
    for (;;) {
        modnats_timer *due = NULL;
        for (modnats_timer *t = g_timers; t; t = t->next) {
            if (!t->cancelled && !t->running && !t->fired && t->due_ms <= now_ms) {
                due = t;
                break;
            }
        }
        if (!due)
            break;
        due->running = true;
        due->runner = pthread_self();
        pthread_mutex_unlock(&g_lock);
        due->fn(due->ud, due);
        pthread_mutex_lock(&g_lock);
        due->running = false;
        if (due->cancelled) {
            unlink_timer(due);
            /* A cancel waiting for us frees it once we broadcast. */
            if (due->waited)
                pthread_cond_broadcast(&g_cond);
            else
                free(due);
        } else if (due->every_ms == 0) {
            /* The handle stays valid: cancelling it later is a safe way
             * to free it (or fini drops it). */
            due->fired = true;
            if (due->waited)
                pthread_cond_broadcast(&g_cond);
        } else {
            due->due_ms = now_ms + due->every_ms;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void mn_timers_drop(modnats_module *m)
{
    pthread_mutex_lock(&g_lock);
    modnats_timer **pp = &g_timers;
    while (*pp) {
        modnats_timer *t = *pp;
        if (!m || t->m == m) {
            *pp = t->next;
            free(t);
        } else {
            pp = &t->next;
        }
    }
    pthread_mutex_unlock(&g_lock);
}
