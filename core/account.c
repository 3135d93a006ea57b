/*
 * account.c - the account registry (see account.h).
 *
 * A short array under a mutex: lookups happen when a client logs in or a
 * module asks, never per message (clients keep their account pointer).
 */
#include "account.h"
#include "acctio.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static mn_account **g_accs;
static size_t g_naccs;

static mn_account *find(const char *name)
{
    for (size_t i = 0; i < g_naccs; i++)
        if (strcmp(g_accs[i]->name, name) == 0)
            return g_accs[i];
    return NULL;
}

mn_account *mn_account_get(const char *name)
{
    pthread_mutex_lock(&g_lock);
    mn_account *a = find(name);
    pthread_mutex_unlock(&g_lock);
    return a;
}

mn_account *mn_account_get_or_create(const char *name)
{
    pthread_mutex_lock(&g_lock);
    mn_account *a = find(name);
    if (!a) {
        mn_account **v = realloc(g_accs, (g_naccs + 1) * sizeof(*v));
        a = calloc(1, sizeof(*a));
        if (v)
            g_accs = v;
        if (!v || !a || !(a->name = strdup(name)) || !(a->sl = mn_sublist_new())) {
            if (a)
                free(a->name);
            free(a);
            a = NULL;
        } else {
            a->idx = (uint32_t)g_naccs;
            atomic_store(&a->max_conns, -1);
            atomic_store(&a->max_subs, -1);
            atomic_store(&a->max_payload, -1);
            atomic_store(&a->max_leafnodes, -1);
            atomic_store(&a->max_imports, -1);
            atomic_store(&a->max_exports, -1);
            g_accs[g_naccs++] = a;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return a;
}

void mn_account_foreach(void (*fn)(mn_account *a, void *arg), void *arg)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_naccs; i++)
        fn(g_accs[i], arg);
    pthread_mutex_unlock(&g_lock);
}

void mn_accounts_free(void)
{
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_naccs; i++)
        mn_acc_io_free(g_accs[i]);
    for (size_t i = 0; i < g_naccs; i++) {
        mn_sublist_free(g_accs[i]->sl);
        free(g_accs[i]->name);
        free(g_accs[i]);
    }
    free(g_accs);
    g_accs = NULL;
    g_naccs = 0;
    pthread_mutex_unlock(&g_lock);
}
