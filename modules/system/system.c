/*
 * system.c - the system account's events and requests, as nats-server
 * publishes and answers them (shapes: docs/modules/system.md):
 *
 *  - $SYS.ACCOUNT.<account>.CONNECT / .DISCONNECT advisories
 *    (io.nats.server.advisory.v1.client_connect / client_disconnect) for
 *    every client login and logout, published in the system account from
 *    the CONNECT/DISCONNECT hooks (the connection's worker);
 *  - $SYS.REQ.SERVER.PING (statsz of every server), and
 *    $SYS.REQ.SERVER.PING.<KIND> / $SYS.REQ.SERVER.<id>.<KIND> for STATSZ,
 *    IDZ, VARZ, CONNZ, SUBSZ, ROUTEZ, ACCOUNTZ, HEALTHZ (the last ones from
 *    the monitor module's "monitor.render" service when it is loaded);
 *  - $SYS.REQ.ACCOUNT.<account>.CONNZ: the account's connections.
 *
 * Requests arrive on I/O workers; they are queued for the module's own
 * thread, which builds the answer (connz waits for the workers, so never
 * on one) and publishes it to the request's reply subject.
 */
#include <modnats/modnats.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define SYS_PRIORITY 900   /* after the modules that may refuse a login */

/* A copy of the monitor module's "monitor.render" service, version 1
 * (modules/monitor/mon_render.h). */
typedef struct mon_render_v1 {
    size_t size;
    char *(*render)(const char *path, const char *query, int *status, size_t *len);
} mon_render_v1;

typedef enum req_kind {
    RQ_STATSZ, RQ_IDZ, RQ_VARZ, RQ_CONNZ, RQ_SUBSZ, RQ_ROUTEZ, RQ_ACCOUNTZ, RQ_HEALTHZ,
    RQ_JSZ, RQ_LEAFZ, RQ_GATEWAYZ, RQ_ACC_CONNZ, RQ_ACC_SUBSZ, RQ_ACC_CONNS,
} req_kind;

typedef struct req {
    struct req *next;
    req_kind    kind;
    char       *reply;
    char       *account;     /* RQ_ACC_*: the account; RQ_JSZ: the /jsz query
                                built from the request's options (or NULL) */
} req;

static struct {
    const modnats_host_api *api;
    modnats_module         *self;
    _Atomic(modnats_account *) sys;   /* where events go (workers read it) */
    modnats_account        *subs_acc;    /* where subs[] are (the timer's) */
    bool                    warned;      /* "no system account" said once */
    modnats_sub            *subs[4];
    modnats_timer          *setup;
    pthread_t               thread;
    bool                    thread_started;
    pthread_mutex_t         lock;
    pthread_cond_t          cond;
    req                    *head, *tail;
    bool                    stop;
    _Atomic uint64_t        seq;
    /* identity, read once at init (before the workers run) */
    char                    host[64], ver[32];
    const char *const      *tags;    /* the core's, valid for the server's life */
    size_t                  ntags;
} g = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

/* ------------------------------------------------------------- JSON */

typedef struct buf {
    char  *p;
    size_t len, cap;
    bool   oom;
} buf;

static void b_put(buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void b_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void b_printf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        b_put(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b_put(b, big, (size_t)n);
    free(big);
}

/* "key":"escaped value" (with a leading comma unless first). */
static void b_str(buf *b, bool comma, const char *key, const char *v)
{
    if (key)
        b_printf(b, "%s\"%s\":\"", comma ? "," : "", key);
    else
        b_printf(b, "%s\"", comma ? "," : "");
    for (const unsigned char *s = (const unsigned char *)(v ? v : ""); *s; s++) {
        if (*s == '"' || *s == '\\') {
            char e[2] = { '\\', (char)*s };
            b_put(b, e, 2);
        } else if (*s < 0x20) {
            b_printf(b, "\\u%04x", *s);
        } else {
            b_put(b, (const char *)s, 1);
        }
    }
    b_put(b, "\"", 1);
}

/* RFC 3339 in UTC with nanoseconds, trailing zeros cut (Go's time). */
static void fmt_time(char *out, size_t cap, int64_t unix_ns)
{
    time_t sec = (time_t)(unix_ns / 1000000000);
    long ns = (long)(unix_ns % 1000000000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    if (ns > 0 && n + 11 < cap) {
        char frac[16];
        snprintf(frac, sizeof frac, ".%09ld", ns);
        size_t fl = strlen(frac);
        while (fl > 1 && frac[fl - 1] == '0')
            frac[--fl] = 0;
        memcpy(out + n, frac, fl + 1);
        n += fl;
    }
    if (n + 2 <= cap) {
        out[n] = 'Z';
        out[n + 1] = 0;
    }
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A 22-character random id, as nats-server's event ids. */
static void new_id(char out[23])
{
    static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char r[22];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i < 22; i++)
        out[i] = al[r[i] % 62];
    out[22] = 0;
}

/* nats-server's ServerInfo object, as "server":{...}. */
static void b_server(buf *b)
{
    char t[64];
    fmt_time(t, sizeof t, now_ns());
    b_put(b, "\"server\":{", 10);
    b_str(b, false, "name", g.api->server_name());
    b_str(b, true, "host", g.host);
    b_str(b, true, "id", g.api->server_id());
    b_str(b, true, "ver", g.ver);
    if (g.ntags) {
        b_put(b, ",\"tags\":[", 9);
        for (size_t i = 0; i < g.ntags; i++)
            b_str(b, i > 0, NULL, g.tags[i]);
        b_put(b, "]", 1);
    }
    /* JetStream is on when its module offers the jetstream.jsz service */
    bool js = g.api->service_get && g.api->service_get("jetstream.jsz", 1) != NULL;
    b_printf(b, ",\"jetstream\":%s,\"flags\":0,\"seq\":%llu", js ? "true" : "false",
             (unsigned long long)(atomic_fetch_add(&g.seq, 1) + 1));
    b_str(b, true, "time", t);
    b_put(b, "}", 1);
}

static void publish(const char *subject, const buf *b)
{
    modnats_account *sys = atomic_load(&g.sys);
    if (!sys || b->oom || !b->p)
        return;
    modnats_msg m = {
        .size = sizeof m,
        .subject = subject, .subject_len = strlen(subject),
        .data = b->p, .data_len = b->len,
    };
    g.api->publish(g.self, sys, &m, 0);
}

/* ------------------------------------------------------- advisories */

static void b_client(buf *b, const modnats_conn_info *ci, bool stop)
{
    char t[64];
    b_put(b, "\"client\":{", 10);
    fmt_time(t, sizeof t, (int64_t)ci->start_unix_ms * 1000000);
    b_str(b, false, "start", t);
    b_str(b, true, "host", ci->ip);
    b_printf(b, ",\"id\":%llu", (unsigned long long)ci->cid);
    b_str(b, true, "acc", ci->account);
    if (ci->user && *ci->user)
        b_str(b, true, "user", ci->user);
    if (ci->name && *ci->name)
        b_str(b, true, "name", ci->name);
    b_str(b, true, "lang", ci->lang);
    b_str(b, true, "ver", ci->version);
    if (ci->rtt_us)
        b_printf(b, ",\"rtt\":%llu", (unsigned long long)ci->rtt_us * 1000);
    b_str(b, true, "server", g.api->server_name());
    if (stop) {
        fmt_time(t, sizeof t, now_ns());
        b_str(b, true, "stop", t);
    }
    b_str(b, true, "kind", "Client");
    b_str(b, true, "client_type", "nats");
    b_put(b, "}", 1);
}

/* Connections per account, counted from the CONNECT/DISCONNECT hooks
 * (any worker), for the account_connections advisory. */
typedef struct acc_count {
    struct acc_count *next;
    modnats_account  *acc;
    int64_t           conns;
} acc_count;
static pthread_mutex_t g_count_lock = PTHREAD_MUTEX_INITIALIZER;
static acc_count *g_counts;

static int64_t count_conn(modnats_account *a, int delta)
{
    pthread_mutex_lock(&g_count_lock);
    acc_count *c = g_counts;
    while (c && c->acc != a)
        c = c->next;
    if (!c && (c = calloc(1, sizeof *c)) != NULL) {
        c->acc = a;
        c->next = g_counts;
        g_counts = c;
    }
    int64_t n = 0;
    if (c) {
        c->conns += delta;
        if (c->conns < 0)
            c->conns = 0;
        n = c->conns;
    }
    pthread_mutex_unlock(&g_count_lock);
    return n;
}

/* The account_connections object: the account's connections here. */
static void build_conns(buf *b, const char *account, int64_t conns)
{
    char id[23], t[64];
    new_id(id);
    fmt_time(t, sizeof t, now_ns());
    b_put(b, "{", 1);
    b_str(b, false, "type", "io.nats.server.advisory.v1.account_connections");
    b_str(b, true, "id", id);
    b_str(b, true, "timestamp", t);
    b_put(b, ",", 1);
    b_server(b);
    b_str(b, true, "acc", account);
    b_printf(b, ",\"conns\":%lld,\"leafnodes\":0,\"total_conns\":%lld}", (long long)conns,
             (long long)conns);
}

/* $SYS.ACCOUNT.<acc>.SERVER.CONNS */
static void publish_conns(const char *account, int64_t conns)
{
    char subj[300];
    buf b = { 0 };
    build_conns(&b, account, conns);
    snprintf(subj, sizeof subj, "$SYS.ACCOUNT.%s.SERVER.CONNS", account);
    publish(subj, &b);
    free(b.p);
}

static modnats_rc on_conn(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    modnats_conn_event *ev = (modnats_conn_event *)hdr;
    if (!atomic_load(&g.sys))
        return MODNATS_OK;
    bool connect = hdr->type == MODNATS_EV_CONNECT;
    modnats_conn_info ci = { .size = sizeof ci };
    if (g.api->conn_info(ev->conn, &ci) != MODNATS_OK)
        return MODNATS_OK;
    char id[23], t[64], subj[300];
    new_id(id);
    fmt_time(t, sizeof t, now_ns());
    buf b = { 0 };
    b_put(&b, "{", 1);
    b_str(&b, false, "type", connect ? "io.nats.server.advisory.v1.client_connect"
                                     : "io.nats.server.advisory.v1.client_disconnect");
    b_str(&b, true, "id", id);
    b_str(&b, true, "timestamp", t);
    b_put(&b, ",", 1);
    b_server(&b);
    b_put(&b, ",", 1);
    b_client(&b, &ci, !connect);
    if (!connect) {
        /* as nats-server: from the client's side, "sent" is what it
         * published, "received" what it was delivered */
        b_printf(&b, ",\"sent\":{\"msgs\":%llu,\"bytes\":%llu}",
                 (unsigned long long)ci.in_msgs, (unsigned long long)ci.in_bytes);
        b_printf(&b, ",\"received\":{\"msgs\":%llu,\"bytes\":%llu}",
                 (unsigned long long)ci.out_msgs, (unsigned long long)ci.out_bytes);
        b_str(&b, true, "reason", ev->reason && *ev->reason ? ev->reason : "Client Closed");
    }
    b_put(&b, "}", 1);
    snprintf(subj, sizeof subj, "$SYS.ACCOUNT.%s.%s", ci.account ? ci.account : "$G",
             connect ? "CONNECT" : "DISCONNECT");
    publish(subj, &b);
    free(b.p);
    int64_t n = count_conn(g.api->conn_account(ev->conn), connect ? 1 : -1);
    publish_conns(ci.account ? ci.account : "$G", n);
    g.api->conn_info_release(&ci);
    return MODNATS_OK;
}

/* --------------------------------------------------------- requests */

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void count_acc(void *ud, modnats_account *a)
{
    (void)a;
    (*(int *)ud)++;
}

static void answer_statsz(buf *b)
{
    modnats_stats st = { .size = sizeof st };
    g.api->stats(&st);
    int naccs = 0;
    g.api->accounts_foreach(count_acc, &naccs);
    char t[64];
    fmt_time(t, sizeof t, (int64_t)st.start_unix_ms * 1000000);
    b_put(b, "{", 1);
    b_server(b);
    b_put(b, ",\"statsz\":{", 11);
    b_str(b, false, "start", t);
    b_printf(b, ",\"mem\":%ld,\"cores\":%ld,\"cpu\":0", rss_bytes(), sysconf(_SC_NPROCESSORS_ONLN));
    b_printf(b, ",\"connections\":%llu,\"total_connections\":%llu,\"active_accounts\":%d",
             (unsigned long long)st.connections, (unsigned long long)st.total_connections, naccs);
    b_printf(b, ",\"subscriptions\":%llu", (unsigned long long)st.subscriptions);
    b_printf(b, ",\"sent\":{\"msgs\":%llu,\"bytes\":%llu}", (unsigned long long)st.out_msgs,
             (unsigned long long)st.out_bytes);
    b_printf(b, ",\"received\":{\"msgs\":%llu,\"bytes\":%llu}", (unsigned long long)st.in_msgs,
             (unsigned long long)st.in_bytes);
    b_printf(b, ",\"slow_consumers\":%llu,\"active_servers\":1}}",
             (unsigned long long)st.slow_consumers);
}

static void answer_render(buf *b, const char *path, const char *query)
{
    const mon_render_v1 *r = g.api->service_get("monitor.render", 1);
    b_put(b, "{", 1);
    b_server(b);
    int status = 0;
    size_t len = 0;
    char *body = r && r->size >= sizeof *r ? r->render(path, query, &status, &len) : NULL;
    if (body && status == 200) {
        b_put(b, ",\"data\":", 8);
        b_put(b, body, len);
    } else {
        b_printf(b, ",\"error\":{\"code\":%d,\"description\":\"%s\"}", body ? status : 503,
                 body ? "request failed" : "the monitor module is not loaded");
    }
    free(body);
    b_put(b, "}", 1);
}

static void answer(const req *q)
{
    buf b = { 0 };
    switch (q->kind) {
    case RQ_STATSZ:
        answer_statsz(&b);
        break;
    case RQ_IDZ:
        b_put(&b, "{", 1);
        b_server(&b);
        b_put(&b, ",\"data\":{", 9);
        b_str(&b, false, "name", g.api->server_name());
        b_str(&b, true, "host", g.host);
        b_str(&b, true, "id", g.api->server_id());
        b_put(&b, "}}", 2);
        break;
    case RQ_VARZ:     answer_render(&b, "/varz", NULL); break;
    case RQ_CONNZ:    answer_render(&b, "/connz", NULL); break;
    case RQ_SUBSZ:    answer_render(&b, "/subsz", NULL); break;
    case RQ_ROUTEZ:   answer_render(&b, "/routez", NULL); break;
    case RQ_ACCOUNTZ: answer_render(&b, "/accountz", NULL); break;
    case RQ_HEALTHZ:  answer_render(&b, "/healthz", NULL); break;
    case RQ_LEAFZ:    answer_render(&b, "/leafz", NULL); break;
    case RQ_GATEWAYZ: answer_render(&b, "/gatewayz", NULL); break;
    case RQ_JSZ:      answer_render(&b, "/jsz", q->account); break;
    case RQ_ACC_CONNZ:
    case RQ_ACC_SUBSZ: {
        char qs[300];
        snprintf(qs, sizeof qs, "acc=%s%s", q->account ? q->account : "",
                 q->kind == RQ_ACC_SUBSZ ? "&subs=1" : "");
        answer_render(&b, q->kind == RQ_ACC_SUBSZ ? "/subsz" : "/connz", qs);
        break;
    }
    case RQ_ACC_CONNS: {
        modnats_account *a = g.api->account_get(q->account ? q->account : "");
        int64_t n = a ? count_conn(a, 0) : 0;
        build_conns(&b, q->account ? q->account : "", n);
        break;
    }
    }
    publish(q->reply, &b);
    free(b.p);
}

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g.lock);
    for (;;) {
        while (!g.head && !g.stop)
            pthread_cond_wait(&g.cond, &g.lock);
        if (g.stop)
            break;
        req *q = g.head;
        g.head = q->next;
        if (!g.head)
            g.tail = NULL;
        pthread_mutex_unlock(&g.lock);
        answer(q);
        free(q->reply);
        free(q->account);
        free(q);
        pthread_mutex_lock(&g.lock);
    }
    pthread_mutex_unlock(&g.lock);
    return NULL;
}

#define MAX_QUEUED 1024

/* Where `"key"` : starts its value in the JSON object text d, or NULL. */
static const char *json_value(const char *d, size_t n, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = d; p + kl + 2 <= d + n; p++) {
        if (*p != '"' || memcmp(p + 1, key, kl) != 0 || p[kl + 1] != '"')
            continue;
        const char *v = p + kl + 2;
        while (v < d + n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
            v++;
        if (v >= d + n || *v != ':')
            continue;
        for (v++; v < d + n && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'); v++)
            ;
        return v < d + n ? v : NULL;
    }
    return NULL;
}

/* nats-server's JSZ request options ({"accounts":true,"streams":true,
 * "consumers":true,"config":true,"account":"A","offset":N,"limit":N}) as
 * the /jsz query; NULL without any.  A scan for those keys, not a JSON
 * parser: other members (server filters) are ignored; an account name
 * with a quote, backslash, '&' or '=' is left out. */
static char *jsz_query(const modnats_msg *msg)
{
    const char *d = msg->data;
    size_t n = msg->data ? msg->data_len : 0;
    if (!n)
        return NULL;
    char q[400] = "";
    size_t ql = 0;
    /* at most ~300 characters in all: q never overflows */
    static const char *const flags[][2] = { { "accounts", "accounts" }, { "streams", "streams" },
                                            { "consumers", "consumers" },
                                            { "consumer", "consumers" }, { "config", "config" } };
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        const char *v = json_value(d, n, flags[i][0]);
        if (v && (size_t)(d + n - v) >= 4 && memcmp(v, "true", 4) == 0)
            ql += (size_t)snprintf(q + ql, sizeof q - ql, "%s%s=true", ql ? "&" : "", flags[i][1]);
    }
    static const char *const nums[] = { "offset", "limit" };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        const char *v = json_value(d, n, nums[i]);
        size_t l = 0;
        while (v && v + l < d + n && l < 10 && v[l] >= '0' && v[l] <= '9')
            l++;
        if (l)
            ql += (size_t)snprintf(q + ql, sizeof q - ql, "%s%s=%.*s", ql ? "&" : "", nums[i],
                                   (int)l, v);
    }
    const char *v = json_value(d, n, "account");
    if (v && *v == '"') {
        size_t l = 0;
        while (v + 1 + l < d + n && l < 200 && !strchr("\"\\&=", v[1 + l]))
            l++;
        if (l && v + 1 + l < d + n && v[1 + l] == '"')
            ql += (size_t)snprintf(q + ql, sizeof q - ql, "%sacc=%.*s", ql ? "&" : "", (int)l,
                                   v + 1);
    }
    return ql && ql < sizeof q ? strdup(q) : NULL;
}

static void enqueue(req_kind kind, const modnats_msg *msg, const char *account, size_t alen)
{
    req *q = calloc(1, sizeof *q);
    if (!q)
        return;
    q->kind = kind;
    q->reply = strndup(msg->reply, msg->reply_len);
    q->account = account ? strndup(account, alen) : kind == RQ_JSZ ? jsz_query(msg) : NULL;
    if (!q->reply || (account && !q->account)) {
        free(q->reply);
        free(q->account);
        free(q);
        return;
    }
    size_t n = 0;
    pthread_mutex_lock(&g.lock);
    for (req *r = g.head; r; r = r->next)
        n++;
    if (g.stop || n >= MAX_QUEUED) {
        pthread_mutex_unlock(&g.lock);
        free(q->reply);
        free(q->account);
        free(q);
        return;
    }
    if (g.tail)
        g.tail->next = q;
    else
        g.head = q;
    g.tail = q;
    pthread_cond_signal(&g.cond);
    pthread_mutex_unlock(&g.lock);
}

static bool kind_of(const char *s, size_t n, req_kind *k)
{
    static const struct { const char *name; req_kind k; } kinds[] = {
        { "STATSZ", RQ_STATSZ }, { "IDZ", RQ_IDZ }, { "VARZ", RQ_VARZ }, { "CONNZ", RQ_CONNZ },
        { "SUBSZ", RQ_SUBSZ }, { "ROUTEZ", RQ_ROUTEZ }, { "ACCOUNTZ", RQ_ACCOUNTZ },
        { "HEALTHZ", RQ_HEALTHZ }, { "JSZ", RQ_JSZ }, { "LEAFZ", RQ_LEAFZ },
        { "GATEWAYZ", RQ_GATEWAYZ },
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strlen(kinds[i].name) == n && memcmp(kinds[i].name, s, n) == 0) {
            *k = kinds[i].k;
            return true;
        }
    return false;
}

#define PFX_PING "$SYS.REQ.SERVER.PING"
#define PFX_SERVER "$SYS.REQ.SERVER."
#define PFX_ACCOUNT "$SYS.REQ.ACCOUNT."

static void on_request(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    if (!msg->reply_len)
        return;
    const char *s = msg->subject;
    size_t n = msg->subject_len;
    req_kind k;
    size_t pl = sizeof PFX_PING - 1;
    if (n == pl && memcmp(s, PFX_PING, pl) == 0) {
        enqueue(RQ_STATSZ, msg, NULL, 0);
    } else if (n > pl + 1 && memcmp(s, PFX_PING ".", pl + 1) == 0) {
        if (kind_of(s + pl + 1, n - pl - 1, &k))
            enqueue(k, msg, NULL, 0);
    } else if (n > sizeof PFX_SERVER - 1 && memcmp(s, PFX_SERVER, sizeof PFX_SERVER - 1) == 0) {
        const char *id = g.api->server_id();
        size_t il = strlen(id), off = sizeof PFX_SERVER - 1;
        if (n > off + il + 1 && memcmp(s + off, id, il) == 0 && s[off + il] == '.' &&
            kind_of(s + off + il + 1, n - off - il - 1, &k))
            enqueue(k, msg, NULL, 0);
    } else if (n > sizeof PFX_ACCOUNT - 1 && memcmp(s, PFX_ACCOUNT, sizeof PFX_ACCOUNT - 1) == 0) {
        const char *a = s + sizeof PFX_ACCOUNT - 1;
        const char *dot = memchr(a, '.', n - (size_t)(a - s));
        size_t rest = dot ? (size_t)(s + n - dot - 1) : 0;
        if (dot && rest == 5 && memcmp(dot + 1, "CONNZ", 5) == 0)
            enqueue(RQ_ACC_CONNZ, msg, a, (size_t)(dot - a));
        else if (dot && rest == 5 && memcmp(dot + 1, "SUBSZ", 5) == 0)
            enqueue(RQ_ACC_SUBSZ, msg, a, (size_t)(dot - a));
        else if (dot && rest == 5 && memcmp(dot + 1, "CONNS", 5) == 0)
            enqueue(RQ_ACC_CONNS, msg, a, (size_t)(dot - a));
    }
}

static void unsubscribe_all(void)
{
    for (size_t i = 0; i < 4; i++)
        if (g.subs[i]) {
            g.api->unsubscribe(g.subs[i]);
            g.subs[i] = NULL;
        }
    g.subs_acc = NULL;
}

/* On worker 0, at start and then every second: follow the system account
 * (an auth module may name it late, e.g. from an operator JWT), and
 * subscribe to the requests there. */
static void setup(void *ud, modnats_timer *t)
{
    (void)ud;
    (void)t;
    modnats_account *sys = g.api->account_system();
    atomic_store(&g.sys, sys);
    if (!sys && !g.warned) {
        g.warned = true;
        g.api->log(g.self, MODNATS_LOG_WARN, "no system account: $SYS events are off");
    }
    if (sys == g.subs_acc)
        return;
    unsubscribe_all();
    if (!sys)
        return;
    static const char *const subjects[] = { PFX_PING, PFX_PING ".*", NULL, PFX_ACCOUNT "*.*" };
    char own[200];
    snprintf(own, sizeof own, PFX_SERVER "%s.*", g.api->server_id());
    for (size_t i = 0; i < 4; i++)
        g.subs[i] = g.api->subscribe(g.self, sys, subjects[i] ? subjects[i] : own, NULL, 1, 0,
                                     on_request, NULL);
    g.subs_acc = sys;
    g.api->log(g.self, MODNATS_LOG_DEBUG, "system account \"%s\": events and requests on",
               g.api->account_name(sys));
}

/* ------------------------------------------------------------- module */

static void sys_fini(modnats_module *self);

static modnats_rc sys_init(modnats_module *self, const modnats_host_api *api,
                           const modnats_config *cfg)
{
    (void)cfg;
    g.api = api;
    g.self = self;
    if (!MODNATS_HAS(api, conn_info) || !MODNATS_HAS(api, account_system)) {
        api->log(self, MODNATS_LOG_ERROR, "this core lacks ABI 1.1 (system account, conn_info)");
        return MODNATS_ERR;
    }
    modnats_stats st = { .size = sizeof st };
    api->stats(&st);
    snprintf(g.host, sizeof g.host, "%s", st.host && *st.host ? st.host : "0.0.0.0");
    snprintf(g.ver, sizeof g.ver, "%s", st.compat_version ? st.compat_version : st.version);
    g.tags = st.tags;
    g.ntags = st.ntags;
    atomic_store(&g.sys, api->account_system());
    g.stop = false;
    if (pthread_create(&g.thread, NULL, worker, NULL) != 0) {
        api->log(self, MODNATS_LOG_ERROR, "cannot start the request thread");
        return MODNATS_ERR;
    }
    g.thread_started = true;
    if (api->hook(self, MODNATS_EV_CONNECT, SYS_PRIORITY, on_conn, NULL) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_DISCONNECT, SYS_PRIORITY, on_conn, NULL) != MODNATS_OK ||
        !(g.setup = api->timer_start(self, 0, 1000, setup, NULL))) {
        api->log(self, MODNATS_LOG_ERROR, "cannot register hooks and timers");
        sys_fini(self);
        return MODNATS_ERR;
    }
    return MODNATS_OK;
}

static void sys_fini(modnats_module *self)
{
    (void)self;
    if (g.setup) {
        g.api->timer_cancel(g.setup);
        g.setup = NULL;
    }
    unsubscribe_all();
    if (g.thread_started) {
        pthread_mutex_lock(&g.lock);
        g.stop = true;
        pthread_cond_broadcast(&g.cond);
        pthread_mutex_unlock(&g.lock);
        pthread_join(g.thread, NULL);
        g.thread_started = false;
    }
    while (g.head) {
        req *q = g.head;
        g.head = q->next;
        free(q->reply);
        free(q->account);
        free(q);
    }
    g.tail = NULL;
    pthread_mutex_lock(&g_count_lock);
    while (g_counts) {
        acc_count *c = g_counts;
        g_counts = c->next;
        free(c);
    }
    pthread_mutex_unlock(&g_count_lock);
}

static const modnats_module_desc sys_desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "system",
    .version = "1.0.0",
    .description = "system account: $SYS connect/disconnect advisories, server PING and requests",
    .options = NULL,
    .init = sys_init,
    .fini = sys_fini,
};

MODNATS_MODULE(system) { return &sys_desc; }
