/*
 * qsbr.c - quiescent-state-based reclamation (see qsbr.h for the contract).
 *
 * A global epoch counter is bumped by every retire.  Each registered thread
 * publishes the epoch it saw at its last quiescent point, or 0 while
 * offline.  An object retired at epoch e may be freed once every online
 * thread has published an epoch >= e: each of them has passed a quiescent
 * point after the object was unlinked, so none can still hold it.
 *
 * Registered threads keep their retired objects in a thread-local list and
 * free them themselves; other threads use a global list under a mutex that
 * registered threads drain opportunistically.
 */
#include "qsbr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define QSBR_MAX_THREADS 256

typedef struct retired {
    void           *p;
    mn_qsbr_free_fn fn;
    uint64_t        epoch;
    struct retired *next;
} retired;

typedef struct {
    _Atomic uint64_t seen;   /* 0: offline */
    _Atomic int      used;
    char pad[64 - sizeof(uint64_t) - sizeof(int)];
} qsbr_slot;

static _Atomic uint64_t g_epoch = 1;
static qsbr_slot g_slots[QSBR_MAX_THREADS];
static _Atomic int g_nslots;            /* high-water mark of used slots */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static retired *g_list;                 /* retired by unregistered threads */
static _Atomic size_t g_npending;

static _Thread_local int t_slot = -1;
static _Thread_local retired *t_head;
static _Thread_local retired *t_last;    /* last node of t_head's list */
static _Thread_local size_t t_count;

int mn_qsbr_register(void)
{
    if (t_slot >= 0)
        return MN_OK;
    for (int i = 0; i < QSBR_MAX_THREADS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&g_slots[i].used, &expect, 1)) {
            atomic_store(&g_slots[i].seen, atomic_load(&g_epoch));
            t_slot = i;
            int n = atomic_load(&g_nslots);
            while (n < i + 1 && !atomic_compare_exchange_weak(&g_nslots, &n, i + 1))
                ;
            return MN_OK;
        }
    }
    return MN_ERR;
}

/* The smallest epoch any online thread may still be reading under. */
static uint64_t min_seen(void)
{
    uint64_t min = UINT64_MAX;
    int n = atomic_load(&g_nslots);
    for (int i = 0; i < n; i++) {
        if (!atomic_load(&g_slots[i].used))
            continue;
        uint64_t s = atomic_load(&g_slots[i].seen);
        if (s != 0 && s < min)
            min = s;
    }
    return min;
}

static void reclaim_local(uint64_t min)
{
    /* Items are appended in epoch order, so free from the head. */
    while (t_head && t_head->epoch <= min) {
        retired *r = t_head;
        t_head = r->next;
        if (!t_head)
            t_last = NULL;
        t_count--;
        r->fn(r->p);
        free(r);
    }
}

static void reclaim_global(uint64_t min)
{
    if (atomic_load(&g_npending) == 0 || pthread_mutex_trylock(&g_lock) != 0)
        return;
    retired **pp = &g_list;
    while (*pp) {
        retired *r = *pp;
        if (r->epoch <= min) {
            *pp = r->next;
            atomic_fetch_sub(&g_npending, 1);
            r->fn(r->p);
            free(r);
        } else {
            pp = &r->next;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

void mn_qsbr_quiescent(void)
{
    if (t_slot < 0)
        return;
    atomic_store(&g_slots[t_slot].seen, atomic_load(&g_epoch));
    if (t_head == NULL && atomic_load(&g_npending) == 0)
        return;
    uint64_t min = min_seen();
    reclaim_local(min);
    reclaim_global(min);
}

void mn_qsbr_offline(void)
{
    if (t_slot < 0)
        return;
    /* Before going to sleep, free what we can so memory is not held for
     * the length of an idle wait. */
    mn_qsbr_quiescent();
    atomic_store(&g_slots[t_slot].seen, 0);
}

void mn_qsbr_online(void)
{
    if (t_slot < 0)
        return;
    atomic_store(&g_slots[t_slot].seen, atomic_load(&g_epoch));
}

void mn_qsbr_unregister(void)
{
    if (t_slot < 0)
        return;
    atomic_store(&g_slots[t_slot].seen, 0);
    /* Hand what is still pending to the global list. */
    if (t_head) {
        pthread_mutex_lock(&g_lock);
        retired *last = t_head;
        size_t n = 1;
        while (last->next) {
            last = last->next;
            n++;
        }
        last->next = g_list;
        g_list = t_head;
        atomic_fetch_add(&g_npending, n);
        pthread_mutex_unlock(&g_lock);
        t_head = NULL;
        t_last = NULL;
        t_count = 0;
    }
    atomic_store(&g_slots[t_slot].used, 0);
    t_slot = -1;
}

void mn_qsbr_retire(void *p, mn_qsbr_free_fn fn)
{
    if (!p)
        return;
    retired *r = malloc(sizeof(*r));
    uint64_t e = atomic_fetch_add(&g_epoch, 1) + 1;
    if (!r) {
        /* Out of memory: the only safe choice left is to leak p. */
        return;
    }
    r->p = p;
    r->fn = fn;
    r->epoch = e;
    r->next = NULL;
    if (t_slot >= 0) {
        if (t_last)
            t_last->next = r;
        else
            t_head = r;
        t_last = r;
        t_count++;
        return;
    }
    pthread_mutex_lock(&g_lock);
    r->next = g_list;
    g_list = r;
    atomic_fetch_add(&g_npending, 1);
    pthread_mutex_unlock(&g_lock);
}

void mn_qsbr_drain_all(void)
{
    while (t_head) {
        retired *r = t_head;
        t_head = r->next;
        r->fn(r->p);
        free(r);
    }
    t_last = NULL;
    t_count = 0;
    pthread_mutex_lock(&g_lock);
    while (g_list) {
        retired *r = g_list;
        g_list = r->next;
        r->fn(r->p);
        free(r);
    }
    atomic_store(&g_npending, 0);
    pthread_mutex_unlock(&g_lock);
}
