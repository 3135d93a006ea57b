/*
 * test_qsbr.c - quiescent-state-based reclamation (core/qsbr.c) with real
 * threads: an object retired by a registered thread is freed only after
 * every online reader passed a quiescent point; offline readers do not
 * hold it up; objects retired by unregistered threads are freed by a
 * registered one; mn_qsbr_drain_all frees whatever is left.  The free
 * callbacks count, so each step checks exactly what was freed.
 *
 * Reader threads are driven one command at a time by the test thread
 * (the "writer"), so every interleaving below is deterministic.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "qsbr.h"

static atomic_int g_freed;

typedef struct obj {
    int  magic;
    bool *freed_flag;
} obj;

/* May run on any thread: checks abort() rather than use cmocka's asserts,
 * which only work on the test's own thread. */
static void free_obj(void *p)
{
    obj *o = p;
    if (o->magic != 0x5eed)
        abort();                        /* freed twice */
    o->magic = 0;
    if (o->freed_flag)
        *o->freed_flag = true;
    atomic_fetch_add(&g_freed, 1);
    free(o);
}

static obj *new_obj(void)
{
    obj *o = calloc(1, sizeof *o);
    assert_non_null(o);
    o->magic = 0x5eed;
    return o;
}

/* ---- a reader thread driven by commands ------------------------------- */

typedef enum { R_NONE, R_QUIESCENT, R_OFFLINE, R_ONLINE, R_RETIRE, R_EXIT } rcmd;

typedef struct reader {
    pthread_t       tid;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
    rcmd            cmd;        /* R_NONE when idle */
    bool            do_register;
} reader;

static void *reader_main(void *arg)
{
    reader *r = arg;
    if (r->do_register && mn_qsbr_register() != MN_OK)
        abort();
    pthread_mutex_lock(&r->mu);
    for (;;) {
        r->cmd = R_NONE;
        pthread_cond_broadcast(&r->cv);
        while (r->cmd == R_NONE)
            pthread_cond_wait(&r->cv, &r->mu);
        rcmd c = r->cmd;
        if (c == R_EXIT)
            break;
        pthread_mutex_unlock(&r->mu);
        switch (c) {
        case R_QUIESCENT: mn_qsbr_quiescent(); break;
        case R_OFFLINE:   mn_qsbr_offline(); break;
        case R_ONLINE:    mn_qsbr_online(); break;
        case R_RETIRE:    mn_qsbr_retire(new_obj(), free_obj); break;
        default: break;
        }
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    if (r->do_register)
        mn_qsbr_unregister();
    return NULL;
}

/* Runs one command on the reader and waits until it is done. */
static void reader_do(reader *r, rcmd c)
{
    pthread_mutex_lock(&r->mu);
    while (r->cmd != R_NONE)
        pthread_cond_wait(&r->cv, &r->mu);
    r->cmd = c;
    pthread_cond_broadcast(&r->cv);
    if (c != R_EXIT)
        while (r->cmd != R_NONE)
            pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

static reader *reader_start(bool do_register)
{
    reader *r = calloc(1, sizeof *r);
    assert_non_null(r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->cmd = R_EXIT + 1;        /* busy until the thread is ready */
    r->do_register = do_register;
    assert_int_equal(pthread_create(&r->tid, NULL, reader_main, r), 0);
    pthread_mutex_lock(&r->mu);
    while (r->cmd != R_NONE)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    return r;
}

static void reader_stop(reader *r)
{
    reader_do(r, R_EXIT);
    pthread_join(r->tid, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

/* Every test starts and ends with nothing pending and the test thread
 * registered. */
static int setup(void **state)
{
    (void)state;
    atomic_store(&g_freed, 0);
    return mn_qsbr_register() == MN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    mn_qsbr_drain_all();
    mn_qsbr_unregister();
    return 0;
}

/* ---- tests -------------------------------------------------------------- */

static void test_alone(void **state)
{
    (void)state;
    /* Only the writer is registered: its own next quiescent point frees. */
    bool freed = false;
    obj *o = new_obj();
    o->freed_flag = &freed;
    mn_qsbr_retire(o, free_obj);
    assert_false(freed);                /* never at retire time */
    mn_qsbr_quiescent();
    assert_true(freed);
    assert_int_equal(atomic_load(&g_freed), 1);
    mn_qsbr_retire(NULL, free_obj);     /* ignored */
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 1);
}

static void test_waits_for_every_online_reader(void **state)
{
    (void)state;
    reader *a = reader_start(true);
    reader *b = reader_start(true);

    mn_qsbr_retire(new_obj(), free_obj);
    mn_qsbr_retire(new_obj(), free_obj);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 0);    /* a and b may hold them */

    reader_do(a, R_QUIESCENT);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 0);    /* b still may */

    /* A retire after a's quiescent point must wait for a again. */
    mn_qsbr_retire(new_obj(), free_obj);
    reader_do(b, R_QUIESCENT);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 2);    /* the first two only */

    /* Readers do not free the writer's list; the writer does. */
    reader_do(a, R_QUIESCENT);
    reader_do(b, R_QUIESCENT);
    assert_int_equal(atomic_load(&g_freed), 2);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 3);

    reader_stop(a);
    reader_stop(b);
}

static void test_offline_does_not_block(void **state)
{
    (void)state;
    reader *a = reader_start(true);
    reader *b = reader_start(true);
    reader_do(b, R_OFFLINE);

    mn_qsbr_retire(new_obj(), free_obj);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 0);    /* a is online */
    reader_do(a, R_OFFLINE);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 1);    /* both offline */

    /* Coming back online, a reader holds only what it finds from then on. */
    reader_do(a, R_ONLINE);
    mn_qsbr_retire(new_obj(), free_obj);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 1);
    reader_do(a, R_QUIESCENT);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 2);

    /* An unregistered (stopped) reader does not block either. */
    reader_do(b, R_ONLINE);
    mn_qsbr_retire(new_obj(), free_obj);
    reader_stop(b);
    reader_do(a, R_QUIESCENT);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 3);
    reader_stop(a);
}

static void test_reader_retires(void **state)
{
    (void)state;
    /* A registered reader retires: it frees its own list once the writer
     * (the other online thread) passed a quiescent point. */
    reader *a = reader_start(true);
    reader_do(a, R_RETIRE);
    reader_do(a, R_QUIESCENT);
    assert_int_equal(atomic_load(&g_freed), 0);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 0);    /* not the writer's list */
    reader_do(a, R_QUIESCENT);
    assert_int_equal(atomic_load(&g_freed), 1);

    /* What a reader left pending when it unregistered is freed by another. */
    reader_do(a, R_RETIRE);
    reader_stop(a);
    assert_int_equal(atomic_load(&g_freed), 1);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 2);
}

static void test_unregistered_retire(void **state)
{
    (void)state;
    reader *a = reader_start(true);
    reader *u = reader_start(false);        /* e.g. a module's own thread */
    reader_do(u, R_RETIRE);
    reader_do(u, R_RETIRE);
    reader_do(u, R_QUIESCENT);              /* a no-op for it */
    assert_int_equal(atomic_load(&g_freed), 0);
    reader_do(a, R_QUIESCENT);
    assert_int_equal(atomic_load(&g_freed), 0);    /* the writer may hold them */
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 2);    /* freed by the writer */

    /* Any registered thread frees them, once all others passed. */
    reader_do(u, R_RETIRE);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 2);    /* a may hold it */
    reader_do(a, R_QUIESCENT);
    assert_int_equal(atomic_load(&g_freed), 3);    /* freed by a */
    reader_stop(u);
    reader_stop(a);
}

static void test_drain_all(void **state)
{
    (void)state;
    reader *a = reader_start(true);        /* never quiescent: blocks all */
    reader *u = reader_start(false);
    for (int i = 0; i < 10; i++)
        mn_qsbr_retire(new_obj(), free_obj);
    for (int i = 0; i < 5; i++)
        reader_do(u, R_RETIRE);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 0);
    mn_qsbr_drain_all();
    assert_int_equal(atomic_load(&g_freed), 15);
    mn_qsbr_drain_all();                   /* nothing twice */
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 15);
    /* The lists work again after a drain. */
    mn_qsbr_retire(new_obj(), free_obj);
    reader_do(a, R_QUIESCENT);
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), 16);
    reader_stop(u);
    reader_stop(a);
}

/* ---- a stress run: readers dereference what they find ------------------- */

#define SLOTS 8

static _Atomic(obj *) g_shared[SLOTS];
static atomic_bool g_stop;
static atomic_long g_reads;
static atomic_int g_running;   /* readers that have started reading */

static void *stress_reader(void *arg)
{
    (void)arg;
    if (mn_qsbr_register() != MN_OK)
        abort();
    unsigned seed = (unsigned)(uintptr_t)&seed;
    long reads = 0;
    atomic_fetch_add(&g_running, 1);
    while (!atomic_load(&g_stop)) {
        for (int k = 0; k < 64; k++) {
            obj *o = atomic_load(&g_shared[rand_r(&seed) % SLOTS]);
            /* Freed objects have magic 0 (and ASan would see the read). */
            if (o && o->magic != 0x5eed)
                abort();
            reads++;
        }
        if ((reads & 1023) == 0) {
            mn_qsbr_offline();
            mn_qsbr_online();
        }
        mn_qsbr_quiescent();
    }
    atomic_fetch_add(&g_reads, reads);
    mn_qsbr_unregister();
    return NULL;
}

static void test_stress(void **state)
{
    (void)state;
    atomic_store(&g_stop, false);
    for (int i = 0; i < SLOTS; i++)
        atomic_store(&g_shared[i], new_obj());
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, stress_reader, NULL), 0);
    /* On a loaded machine the readers may start late: wait for them, so
     * the swaps really race with reads. */
    for (int spin = 0; atomic_load(&g_running) < 4 && spin < 10000; spin++)
        usleep(1000);
    const int swaps = 20000;
    for (int i = 0; i < swaps; i++) {
        obj *old = atomic_exchange(&g_shared[i % SLOTS], new_obj());
        mn_qsbr_retire(old, free_obj);
        mn_qsbr_quiescent();
    }
    atomic_store(&g_stop, true);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&g_reads) > 0);
    /* Most were freed on the way; the rest once the readers are gone. */
    mn_qsbr_quiescent();
    assert_int_equal(atomic_load(&g_freed), swaps);
    for (int i = 0; i < SLOTS; i++)
        free_obj(atomic_exchange(&g_shared[i], NULL));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_alone),
        T(test_waits_for_every_online_reader),
        T(test_offline_does_not_block),
        T(test_reader_retires),
        T(test_unregistered_retire),
        T(test_drain_all),
        T(test_stress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
