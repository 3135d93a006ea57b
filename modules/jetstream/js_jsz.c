/*
 * js_jsz.c - the "jetstream.jsz" service (js_jsz.h): what nats-server's
 * /jsz and the "jetstream" section of /varz show, built on the JetStream
 * thread.
 *
 * A call (from the monitor's HTTP thread, or the system module's) queues
 * a JS_JOB_MON job carrying a pointer to a js_call and waits on the call's
 * condition variable; the JetStream thread builds the JSON in queue order
 * (so it sees every write acknowledged before) and signals.  The call is
 * shared by the two sides: whoever lets go of it last frees it, so a
 * caller that gave up waiting leaves nothing dangling.  js_jsz_close (at
 * fini, before the thread stops) refuses new calls and waits for those in
 * progress.
 *
 * Accounts: those js_acct.c says have JetStream (never the system
 * account; "$G" only on a server without accounts), as nats-server.  API
 * counters: the server's (js_g.api_total / api_errors) at the top, each
 * account's own (js_acct.c, counted as each API request is taken) in its details and
 * in $JS.API.INFO.
 */
#include "js_events.h"
#include "js_jsz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CALL_WAIT_S 10            /* a caller waits at most this long */
#define DEFAULT_LIMIT 1024        /* nats-server's default for the account list */

typedef struct js_call {
    pthread_mutex_t lock;
    pthread_cond_t  cond;
    int             refs;         /* the caller and the job */
    bool            done;
    bool            varz;
    js_jsz_opts     o;
    char           *account;      /* a copy of o.account */
    char           *result;       /* malloc'd JSON, or NULL */
} js_call;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  g_idle = PTHREAD_COND_INITIALIZER;
static bool            g_open;
static int             g_inflight;

static void call_unref(js_call *c)
{
    pthread_mutex_lock(&c->lock);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&c->lock);
    if (!last)
        return;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    free(c->account);
    free(c->result);
    free(c);
}

/* ---- the JSON (JetStream thread) ---- */

/* {"total","errors"}: the server's (acc NULL) or an account's. */
static json_t *api_stats(modnats_account *acc)
{
    uint64_t total = js_g.api_total, errors = js_g.api_errors;
    if (acc)
        js_acct_api_get(acc, &total, &errors);
    json_t *a = json_object();
    json_object_set_new(a, "total", json_integer((json_int_t)total));
    json_object_set_new(a, "errors", json_integer((json_int_t)errors));
    return a;
}

static json_t *config_json(void)
{
    json_t *c = json_object();
    /* modnats has no default limit: -1 says "none" (nats-server computes
     * 75% of the memory and of the disk) */
    json_object_set_new(c, "max_memory", json_integer(js_g.max_mem > 0 ? js_g.max_mem : -1));
    json_object_set_new(c, "max_storage", json_integer(js_g.max_file > 0 ? js_g.max_file : -1));
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jetstream", js_g.store_dir ? js_g.store_dir : "");
    json_object_set_new(c, "store_dir", json_string(dir));
    if (js_g.domain)
        json_object_set_new(c, "domain", json_string(js_g.domain));
    return c;
}

typedef struct acc_list {
    modnats_account **v;
    size_t            n, cap;
    modnats_account  *sys, *global;
} acc_list;

static void collect_account(void *ud, modnats_account *a)
{
    acc_list *l = ud;
    if (a == l->sys)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        modnats_account **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = a;
}

static int by_acc_name(const void *a, const void *b)
{
    const modnats_account *x = *(modnats_account *const *)a, *y = *(modnats_account *const *)b;
    return strcmp(js_g.api->account_name(x), js_g.api->account_name(y));
}

/* The accounts JetStream serves, sorted by name (l->v, freed by the caller). */
static void accounts(acc_list *l)
{
    const modnats_host_api *api = js_g.api;
    memset(l, 0, sizeof *l);
    l->sys = MODNATS_HAS(api, account_system) ? api->account_system() : NULL;
    l->global = api->account_global();
    api->accounts_foreach(collect_account, l);
    /* only those with JetStream enabled (js_acct.c: "$G" only on a
     * server without accounts, as nats-server); asked outside the walk */
    js_account_limits lim;
    for (size_t i = 0; i < l->n;)
        if (js_acct_get(l->v[i], &lim))
            i++;
        else
            l->v[i] = l->v[--l->n];
    if (l->n)
        qsort(l->v, l->n, sizeof *l->v, by_acc_name);
}

static int by_stream_name(const void *a, const void *b)
{
    const js_stream *x = *(js_stream *const *)a, *y = *(js_stream *const *)b;
    return strcmp(x->cfg.name, y->cfg.name);
}

static json_t *stream_detail(js_stream *s, const js_jsz_opts *o)
{
    char t[64];
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(s->cfg.name));
    js_fmt_time(t, sizeof t, s->created_ns);
    json_object_set_new(d, "created", json_string(t));
    json_t *cl = json_object();
    json_object_set_new(cl, "leader", json_string(js_g.api->server_id()));
    json_object_set_new(d, "cluster", cl);
    if (o->config)
        json_object_set_new(d, "config", js_cfg_json(&s->cfg));
    json_object_set_new(d, "state", js_stream_state_json(s));
    if (o->consumers && s->ncons) {
        json_t *a = json_array();
        for (size_t i = 0; i < s->ncons; i++) {
            json_t *ci = js_consumer_info_json(s, i);
            if (!o->config)
                json_object_del(ci, "config");
            json_array_append_new(a, ci);
        }
        json_object_set_new(d, "consumer_detail", a);
    }
    return d;
}

static json_t *account_detail(modnats_account *a, const js_jsz_opts *o)
{
    const char *name = js_g.api->account_name(a);
    uint64_t mem = 0, file = 0;
    js_stream **mine = calloc(js_g.nstreams + 1, sizeof *mine);
    size_t n = 0;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->acc != a)
            continue;
        if (s->cfg.memory)
            mem += s->st.bytes;
        else
            file += s->st.bytes;
        if (mine)
            mine[n++] = s;
    }
    json_t *d = json_object();
    json_object_set_new(d, "name", json_string(name));
    json_object_set_new(d, "id", json_string(name));
    json_object_set_new(d, "memory", json_integer((json_int_t)mem));
    json_object_set_new(d, "storage", json_integer((json_int_t)file));
    /* nats-server prints the unlimited reservation as uint64 max; jansson
     * has no such integer: -1 here, rewritten in the text (see below) */
    json_object_set_new(d, "reserved_memory", json_integer(-1));
    json_object_set_new(d, "reserved_storage", json_integer(-1));
    json_object_set_new(d, "accounts", json_integer(0));
    json_object_set_new(d, "ha_assets", json_integer(0));
    json_object_set_new(d, "api", api_stats(a));
    if ((o->streams || o->consumers) && n) {
        qsort(mine, n, sizeof *mine, by_stream_name);
        json_t *sd = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(sd, stream_detail(mine[i], o));
        json_object_set_new(d, "stream_detail", sd);
    }
    free(mine);
    return d;
}

/* Every `"key":-1` in txt becomes `"key":18446744073709551615` (the text
 * has room: it is reallocated). */
static char *u64max(char *txt, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":-1", key);
    size_t pl = strlen(pat);
    const char *rep = "18446744073709551615";
    for (char *p = txt ? strstr(txt, pat) : NULL; p; p = strstr(txt, pat)) {
        size_t off = (size_t)(p - txt) + pl - 2, len = strlen(txt);
        char *nt = realloc(txt, len + strlen(rep) + 1);
        if (!nt)
            return txt;
        txt = nt;
        memmove(txt + off + strlen(rep), txt + off + 2, len - off - 2 + 1);
        memcpy(txt + off, rep, strlen(rep));
    }
    return txt;
}

static char *jsz_json(const js_jsz_opts *o)
{
    uint64_t mem = 0, file = 0, msgs = 0, bytes = 0, ncons = 0;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->cfg.memory)
            mem += s->st.bytes;
        else
            file += s->st.bytes;
        msgs += s->st.msgs;
        bytes += s->st.bytes;
        ncons += js_consumers_count(s);
    }
    acc_list l;
    accounts(&l);
    json_t *r = json_object();
    json_object_set_new(r, "config", config_json());
    json_object_set_new(r, "memory", json_integer((json_int_t)mem));
    json_object_set_new(r, "storage", json_integer((json_int_t)file));
    json_object_set_new(r, "reserved_memory", json_integer(0));
    json_object_set_new(r, "reserved_storage", json_integer(0));
    json_object_set_new(r, "accounts", json_integer((json_int_t)l.n));
    json_object_set_new(r, "ha_assets", json_integer(0));
    json_object_set_new(r, "api", api_stats(NULL));
    json_object_set_new(r, "streams", json_integer((json_int_t)js_g.nstreams));
    json_object_set_new(r, "consumers", json_integer((json_int_t)ncons));
    json_object_set_new(r, "messages", json_integer((json_int_t)msgs));
    json_object_set_new(r, "bytes", json_integer((json_int_t)bytes));
    if (o->accounts || o->streams || o->consumers) {
        int64_t off = o->offset > 0 ? o->offset : 0;
        int64_t lim = o->limit > 0 ? o->limit : DEFAULT_LIMIT;
        json_t *ad = json_array();
        int64_t idx = 0;
        /* as nats-server: acc= names one account; an unknown one filters
         * nothing out */
        const char *only = NULL;
        for (size_t i = 0; o->account && !only && i < l.n; i++)
            if (!strcmp(o->account, js_g.api->account_name(l.v[i])))
                only = o->account;
        for (size_t i = 0; i < l.n; i++) {
            if (only && strcmp(only, js_g.api->account_name(l.v[i])) != 0)
                continue;
            if (idx++ < off)
                continue;
            if ((int64_t)json_array_size(ad) >= lim)
                break;
            json_array_append_new(ad, account_detail(l.v[i], o));
        }
        if (json_array_size(ad))
            json_object_set_new(r, "account_details", ad);
        else
            json_decref(ad);
    }
    free(l.v);
    char *txt = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    txt = u64max(txt, "reserved_memory");
    return u64max(txt, "reserved_storage");
}

static char *varz_json(void)
{
    uint64_t mem = 0, file = 0;
    for (size_t i = 0; i < js_g.nstreams; i++) {
        js_stream *s = js_g.streams[i];
        if (s->cfg.memory)
            mem += s->st.bytes;
        else
            file += s->st.bytes;
    }
    acc_list l;
    accounts(&l);
    free(l.v);
    json_t *r = json_object();
    json_object_set_new(r, "config", config_json());
    json_t *st = json_object();
    json_object_set_new(st, "memory", json_integer((json_int_t)mem));
    json_object_set_new(st, "storage", json_integer((json_int_t)file));
    json_object_set_new(st, "reserved_memory", json_integer(0));
    json_object_set_new(st, "reserved_storage", json_integer(0));
    json_object_set_new(st, "accounts", json_integer((json_int_t)l.n));
    json_object_set_new(st, "ha_assets", json_integer(0));
    json_object_set_new(st, "api", api_stats(NULL));
    json_object_set_new(r, "stats", st);
    char *txt = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return txt;
}

/* ---- the job ---- */

static js_call *job_call(const js_job *j)
{
    js_call *c = NULL;
    if (j->data_len == sizeof c)
        memcpy(&c, j->data, sizeof c);
    return c;
}

void js_jsz_run(const js_job *j)
{
    js_call *c = job_call(j);
    if (!c)
        return;
    char *res = c->varz ? varz_json() : jsz_json(&c->o);
    pthread_mutex_lock(&c->lock);
    c->result = res;
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_unref(c);
}

void js_jsz_drop(const js_job *j)
{
    js_call *c = job_call(j);
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->done = true;    /* unanswered: result stays NULL */
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    call_unref(c);
}

/* ---- the service (callers' threads) ---- */

static char *call(bool varz, const js_jsz_opts *o)
{
    pthread_mutex_lock(&g_lock);
    if (!g_open) {
        pthread_mutex_unlock(&g_lock);
        return NULL;
    }
    g_inflight++;
    pthread_mutex_unlock(&g_lock);

    char *res = NULL;
    js_call *c = calloc(1, sizeof *c);
    js_job *j = calloc(1, sizeof *j + sizeof c + 1);
    if (c && j) {
        pthread_mutex_init(&c->lock, NULL);
        pthread_cond_init(&c->cond, NULL);
        c->refs = 2;
        c->varz = varz;
        if (o) {    /* the caller's struct may be older (smaller) than ours */
            size_t n = o->size < sizeof c->o ? o->size : sizeof c->o;
            memcpy(&c->o, o, n);
            c->o.size = sizeof c->o;
            if (n >= offsetof(js_jsz_opts, account) + sizeof o->account && o->account)
                c->account = strdup(o->account);
            c->o.account = c->account;
        }
        j->kind = JS_JOB_MON;
        j->acc = NULL;
        j->ts = js_now_ns();
        j->subject = j->reply = j->hdr = (char *)"";
        j->data = (char *)(j + 1);
        memcpy(j->data, &c, sizeof c);
        j->data_len = sizeof c;
        js_queue_job(j);    /* frees j when JetStream is stopping */
        j = NULL;

        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += CALL_WAIT_S;
        pthread_mutex_lock(&c->lock);
        while (!c->done)
            if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
                break;
        res = c->result;
        c->result = NULL;
        pthread_mutex_unlock(&c->lock);
        call_unref(c);
    } else {
        free(c);
        free(j);
    }

    pthread_mutex_lock(&g_lock);
    if (--g_inflight == 0)
        pthread_cond_broadcast(&g_idle);
    pthread_mutex_unlock(&g_lock);
    return res;
}

static char *svc_jsz(const js_jsz_opts *o)
{
    js_jsz_opts none = {.size = sizeof none};
    return call(false, o ? o : &none);
}

static char *svc_varz(void)
{
    return call(true, NULL);
}

static const js_jsz_v1 jsz_v1 = {.size = sizeof(js_jsz_v1), .jsz = svc_jsz, .varz = svc_varz};

void js_jsz_register(void)
{
    pthread_mutex_lock(&g_lock);
    g_open = true;
    pthread_mutex_unlock(&g_lock);
    if (MODNATS_HAS(js_g.api, service_register) && js_g.api->service_register &&
        js_g.api->service_register(js_g.self, JS_JSZ_SERVICE, 1, &jsz_v1) != MODNATS_OK)
        js_log(MODNATS_LOG_WARN, "cannot register the %s service: no /jsz", JS_JSZ_SERVICE);
}

void js_jsz_close(void)
{
    pthread_mutex_lock(&g_lock);
    g_open = false;
    while (g_inflight > 0)
        pthread_cond_wait(&g_idle, &g_lock);
    pthread_mutex_unlock(&g_lock);
}
