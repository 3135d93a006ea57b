/*
 * jetstream.c - the jetstream module: entry point, settings, init/fini,
 * and the in-process subscriptions whose callbacks (on the I/O workers)
 * copy each request or captured message into a job for the JetStream
 * thread (docs/modules/jetstream.md, docs/adr-001-jetstream-storage.md).
 *
 *   jetstream = { store_dir = "/data"; max_memory_store = "1G";
 *                 max_file_store = "10G"; domain = "hub";
 *                 sync = "always"; sync_interval = "2m"; };
 */
#include "jetstream.h"
#include "js_events.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

js_global js_g;

static const modnats_option js_options[] = {
    { "enabled", MODNATS_OPT_BOOL, false, "false: do not run JetStream (nats-server's key)" },
    { "store_dir", MODNATS_OPT_STRING, false, "where the data lives: <store_dir>/jetstream" },
    { "store", MODNATS_OPT_STRING, false, "same as store_dir" },
    { "max_memory_store", MODNATS_OPT_SIZE, false, "bytes for memory streams (default: unlimited)" },
    { "max_mem", MODNATS_OPT_SIZE, false, "same as max_memory_store" },
    { "max_mem_store", MODNATS_OPT_SIZE, false, "same as max_memory_store" },
    { "max_file_store", MODNATS_OPT_SIZE, false, "bytes for file streams (default: unlimited)" },
    { "max_file", MODNATS_OPT_SIZE, false, "same as max_file_store" },
    { "domain", MODNATS_OPT_STRING, false, "JetStream domain: $JS.<domain>.API is served too" },
    { "sync", MODNATS_OPT_STRING, false, "\"always\" (default: ack after fsync) or \"interval\"" },
    { "sync_interval", MODNATS_OPT_DURATION, false, "WAL fsync interval with sync = interval (2m)" },
    { NULL, 0, false, NULL },
};

void js_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    js_g.api->log(js_g.self, level, "%s", buf);
}

int64_t js_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void js_queue_job(js_job *j)
{
    pthread_mutex_lock(&js_g.lock);
    if (js_g.stop) {
        pthread_mutex_unlock(&js_g.lock);
        free(j);
        return;
    }
    if (j->kind == JS_JOB_PUB && js_g.queued_bytes > JS_QUEUE_MAX_BYTES) {
        /* The disk is this far behind: refuse rather than grow without
         * bound (the publisher gets an error it can retry on). */
        pthread_mutex_unlock(&js_g.lock);
        if (j->reply_len) {
            static const char busy[] = "{\"error\":{\"code\":503,\"err_code\":10077,"
                                       "\"description\":\"jetstream ingest queue full\"}}";
            modnats_msg m = {.size = sizeof m, .subject = j->reply, .subject_len = j->reply_len,
                             .data = busy, .data_len = sizeof busy - 1};
            js_g.api->publish(js_g.self, j->acc, &m, js_g.origin);
        }
        free(j);
        return;
    }
    js_g.queued_bytes += js_job_bytes(j);
    if (js_g.tail)
        js_g.tail->next = j;
    else
        js_g.head = j;
    js_g.tail = j;
    pthread_cond_signal(&js_g.cond);
    pthread_mutex_unlock(&js_g.lock);
}

/* Copy a routed message into one allocation. */
static js_job *job_new(int kind, const modnats_msg *msg)
{
    size_t n = sizeof(js_job) + msg->subject_len + 1 + msg->reply_len + 1 + msg->hdr_len + 1 +
               msg->data_len + 1;
    js_job *j = malloc(n);
    if (!j)
        return NULL;
    memset(j, 0, sizeof *j);
    j->kind = kind;
    j->acc = msg->size > offsetof(modnats_msg, account) ? msg->account : NULL;
    if (!j->acc)
        j->acc = js_g.api->account_global();
    j->ts = js_now_ns();
    char *p = (char *)(j + 1);
#define COPY(field, src, len)            \
    j->field = p;                        \
    j->field##_len = (len);              \
    if (len)                             \
        memcpy(p, (src), (len));         \
    p[len] = 0;                          \
    p += (len) + 1;
    COPY(subject, msg->subject, msg->subject_len)
    COPY(reply, msg->reply, msg->reply_len)
    COPY(hdr, msg->hdr, msg->hdr_len)
    COPY(data, msg->data, msg->data_len)
#undef COPY
    return j;
}

static void on_api(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    js_job *j = job_new(JS_JOB_API, msg);
    if (j)
        js_queue_job(j);
}

/* A stream's subject or its DIRECT.GET subjects. */
static void on_capture(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)sub;
    (void)origin;
    const js_capture *c = ud;
    js_job *j = job_new(c->kind, msg);
    if (!j)
        return;
    j->stream_id = c->stream_id;
    js_queue_job(j);
}

modnats_sub *js_subscribe_capture(modnats_account *acc, const char *subject, const char *queue,
                                  uint64_t id,
                                  int kind)
{
    js_capture *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->stream_id = id;
    c->kind = kind;
    pthread_mutex_lock(&js_g.lock);
    c->next = js_g.captures;
    js_g.captures = c;
    pthread_mutex_unlock(&js_g.lock);
    return js_g.api->subscribe(js_g.self, acc, subject, queue, 1, js_g.origin, on_capture, c);
}

/* ---- push consumers' deliver subjects, for the INTEREST hook ---- */

typedef struct push_watch { modnats_account *acc; char *subj; } push_watch;
static pthread_mutex_t push_lock = PTHREAD_MUTEX_INITIALIZER;
static push_watch *pushes;
static size_t npushes;

void js_push_watch(modnats_account *acc, const char *deliver, bool on)
{
    pthread_mutex_lock(&push_lock);
    if (on) {
        push_watch *v = realloc(pushes, (npushes + 1) * sizeof *v);
        char *d = strdup(deliver);
        if (v && d) {
            pushes = v;
            v[npushes++] = (push_watch){acc, d};
        } else {
            free(d);
            if (v)
                pushes = v;
        }
    } else {
        for (size_t i = 0; i < npushes; i++) {
            if (pushes[i].acc == acc && !strcmp(pushes[i].subj, deliver)) {
                free(pushes[i].subj);
                pushes[i] = pushes[--npushes];
                break;
            }
        }
    }
    pthread_mutex_unlock(&push_lock);
}

static void push_watch_free(void)
{
    for (size_t i = 0; i < npushes; i++)
        free(pushes[i].subj);
    free(pushes);
    pushes = NULL;
    npushes = 0;
}

/* On the worker that changed the interest: cheap unless a push consumer's
 * deliver subject is concerned; then the JetStream thread recounts. */
static modnats_rc on_interest(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    const modnats_interest_event *e = (const modnats_interest_event *)ev;
    if (e->origin == js_g.origin || !npushes || e->subject_len >= 1024)
        return MODNATS_DEFER;
    char subj[1024];
    memcpy(subj, e->subject, e->subject_len);
    subj[e->subject_len] = 0;
    bool hit = false;
    pthread_mutex_lock(&push_lock);
    for (size_t i = 0; i < npushes && !hit; i++)
        hit = pushes[i].acc == e->account &&
              js_subject_match(subj, pushes[i].subj, strlen(pushes[i].subj));
    pthread_mutex_unlock(&push_lock);
    if (!hit)
        return MODNATS_DEFER;
    modnats_msg m = {.size = sizeof m, .subject = subj, .subject_len = e->subject_len,
                     .account = e->account};
    js_job *j = job_new(JS_JOB_INTEREST, &m);
    if (j) {
        j->acc = e->account;
        js_queue_job(j);
    }
    return MODNATS_DEFER;
}

static int add_api_sub(modnats_account *acc, const char *subject)
{
    modnats_sub *s = js_g.api->subscribe(js_g.self, acc, subject, NULL, 1, js_g.origin, on_api,
                                         NULL);
    modnats_sub **v = realloc(js_g.api_subs, (js_g.napi_subs + 1) * sizeof *v);
    if (!s || !v) {
        if (s)
            js_g.api->unsubscribe(s);
        if (v)
            js_g.api_subs = v;
        return -1;
    }
    js_g.api_subs = v;
    v[js_g.napi_subs++] = s;
    return 0;
}

/* Accounts whose API subjects are subscribed: those at start-up, and
 * any account a client logs into later (accounts from JWTs), set up in
 * the CONNECT hook before that client's first request is read. */
static pthread_mutex_t acc_lock = PTHREAD_MUTEX_INITIALIZER;
static modnats_account **served;
static size_t nserved;

/* The API subjects of one account (and of the domain, if any). */
static void subscribe_account(void *ud, modnats_account *acc)
{
    int *rc = ud;
    if (!acc)    /* the system account too: it is answered 10039 (js_acct.c) */
        return;
    pthread_mutex_lock(&acc_lock);
    for (size_t i = 0; i < nserved; i++) {
        if (served[i] == acc) {
            pthread_mutex_unlock(&acc_lock);
            return;
        }
    }
    modnats_account **v = realloc(served, (nserved + 1) * sizeof *v);
    if (!v) {
        pthread_mutex_unlock(&acc_lock);
        *rc = -1;
        return;
    }
    served = v;
    served[nserved++] = acc;
    const char *sfx[] = {"INFO", "STREAM.>", "CONSUMER.>"};
    if (add_api_sub(acc, "$JS.ACK.>") != 0 || add_api_sub(acc, "$JS.FC.>") != 0)
        *rc = -1;
    for (size_t i = 0; i < 3; i++) {
        char subj[300];
        snprintf(subj, sizeof subj, "$JS.API.%s", sfx[i]);
        if (add_api_sub(acc, subj) != 0)
            *rc = -1;
        if (js_g.domain) {
            snprintf(subj, sizeof subj, "$JS.%s.API.%s", js_g.domain, sfx[i]);
            if (add_api_sub(acc, subj) != 0)
                *rc = -1;
        }
    }
    pthread_mutex_unlock(&acc_lock);
}

static modnats_rc on_connect(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    int rc = 0;
    subscribe_account(&rc, js_g.api->conn_account(((modnats_conn_event *)ev)->conn));
    if (rc != 0)
        js_log(MODNATS_LOG_ERROR, "cannot subscribe to the JetStream API of an account");
    return MODNATS_DEFER;
}

static int mkdirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0750) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static modnats_rc read_settings(const modnats_config *cfg)
{
    const modnats_host_api *api = js_g.api;
    const char *s = NULL;
    char where[300];
    if (api->cfg_string(cfg, "store_dir", &s) != MODNATS_OK)
        api->cfg_string(cfg, "store", &s);
    if (s && *s) {
        js_g.store_dir = strdup(s);
    } else {
        const char *tmp = getenv("TMPDIR");
        char buf[4096];
        snprintf(buf, sizeof buf, "%s/nats", tmp && *tmp ? tmp : "/tmp");
        js_g.store_dir = strdup(buf);
        js_log(MODNATS_LOG_WARN, "no store_dir: storing under %s", buf);
    }
    js_g.max_mem = js_g.max_file = -1;
    int64_t v;
    if (api->cfg_int(cfg, "max_memory_store", &v) == MODNATS_OK ||
        api->cfg_int(cfg, "max_mem", &v) == MODNATS_OK ||
        api->cfg_int(cfg, "max_mem_store", &v) == MODNATS_OK)
        js_g.max_mem = v;
    if (api->cfg_int(cfg, "max_file_store", &v) == MODNATS_OK ||
        api->cfg_int(cfg, "max_file", &v) == MODNATS_OK)
        js_g.max_file = v;
    s = NULL;
    if (api->cfg_string(cfg, "domain", &s) == MODNATS_OK && s && *s) {
        for (const char *p = s; *p; p++) {
            if (*p == '.' || *p == '*' || *p == '>' || *p == ' ' || *p == '\t') {
                api->log(js_g.self, MODNATS_LOG_ERROR, "%s: jetstream domain \"%s\" must be "
                         "one token (no '.', '*', '>' or spaces)",
                         api->cfg_where(cfg, "domain", where, sizeof where), s);
                return MODNATS_ERR;
            }
        }
        js_g.domain = strdup(s);
    }
    js_g.sync_always = true;
    s = NULL;
    if (api->cfg_string(cfg, "sync", &s) == MODNATS_OK) {
        if (!strcasecmp(s, "always")) {
            js_g.sync_always = true;
        } else if (!strcasecmp(s, "interval")) {
            js_g.sync_always = false;
        } else {
            api->log(js_g.self, MODNATS_LOG_ERROR,
                     "%s: jetstream sync must be \"always\" or \"interval\", not \"%s\"",
                     api->cfg_where(cfg, "sync", where, sizeof where), s);
            return MODNATS_ERR;
        }
    }
    js_g.sync_interval_ms = 120000;
    if (api->cfg_int(cfg, "sync_interval", &v) == MODNATS_OK) {
        if (v <= 0) {
            api->log(js_g.self, MODNATS_LOG_ERROR, "%s: jetstream sync_interval must be > 0",
                     api->cfg_where(cfg, "sync_interval", where, sizeof where));
            return MODNATS_ERR;
        }
        js_g.sync_interval_ms = v;
    }
    return MODNATS_OK;
}

/* The workers still run: the last replies can still go out. */
static modnats_rc on_shutdown(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    (void)ev;
    js_jsz_close();
    js_thread_stop();
    return MODNATS_DEFER;
}

static void global_free(void)
{
    push_watch_free();
    free(served);
    served = NULL;
    nserved = 0;
    free(js_g.store_dir);
    free(js_g.domain);
    free(js_g.api_subs);
    while (js_g.captures) {
        js_capture *c = js_g.captures;
        js_g.captures = c->next;
        free(c);
    }
    pthread_mutex_destroy(&js_g.lock);
    pthread_cond_destroy(&js_g.cond);
}

static modnats_rc js_init(modnats_module *m, const modnats_host_api *api,
                          const modnats_config *cfg)
{
    memset(&js_g, 0, sizeof js_g);
    js_g.api = api;
    js_g.self = m;
    pthread_mutex_init(&js_g.lock, NULL);
    pthread_cond_init(&js_g.cond, NULL);
    bool enabled = true;
    if (api->cfg_bool(cfg, "enabled", &enabled) == MODNATS_OK && !enabled) {
        js_log(MODNATS_LOG_INFO, "JetStream disabled by configuration");
        return MODNATS_OK;
    }
    if (read_settings(cfg) != MODNATS_OK) {
        global_free();
        return MODNATS_ERR;
    }
    js_g.origin = api->new_origin(m);

    char dir[4200], err[512];
    snprintf(dir, sizeof dir, "%s/jetstream/rocks", js_g.store_dir);
    if (mkdirs(dir) != 0) {
        js_log(MODNATS_LOG_ERROR, "cannot create the store directory %s: %s", dir,
               strerror(errno));
        global_free();
        return MODNATS_ERR;
    }
    js_g.fdb = js_db_open(dir, false, err, sizeof err);
    if (js_g.fdb)
        js_g.mdb = js_db_open("/modnats-jetstream-memory", true, err, sizeof err);
    if (!js_g.fdb || !js_g.mdb || js_streams_load(err, sizeof err) != 0) {
        js_log(MODNATS_LOG_ERROR, "%s", err);
        js_streams_free();
        js_db_close(js_g.fdb);
        js_db_close(js_g.mdb);
        global_free();
        return MODNATS_ERR;
    }
    int rc = api->hook(m, MODNATS_EV_SHUTDOWN, 0, on_shutdown, NULL) == MODNATS_OK &&
                     api->hook(m, MODNATS_EV_CONNECT, 0, on_connect, NULL) == MODNATS_OK &&
                     api->hook(m, MODNATS_EV_INTEREST, 0, on_interest, NULL) == MODNATS_OK
                 ? 0 : -1;
    if (rc == 0)
        api->accounts_foreach(subscribe_account, &rc);
    if (rc != 0 || js_thread_start(err, sizeof err) != 0) {
        js_log(MODNATS_LOG_ERROR, "cannot start: %s", rc ? "subscribing to the API" : err);
        for (size_t i = 0; i < js_g.napi_subs; i++)
            api->unsubscribe(js_g.api_subs[i]);
        js_streams_free();
        js_db_close(js_g.fdb);
        js_db_close(js_g.mdb);
        global_free();
        return MODNATS_ERR;
    }
    js_jsz_register();
    js_log(MODNATS_LOG_INFO, "Starting JetStream: store %s/jetstream, sync %s%s%s, %zu streams",
           js_g.store_dir, js_g.sync_always ? "always (ack after fsync)" : "interval",
           js_g.domain ? ", domain " : "", js_g.domain ? js_g.domain : "", js_g.nstreams);
    return MODNATS_OK;
}

static void js_fini(modnats_module *m)
{
    (void)m;
    if (!js_g.fdb) {    /* disabled */
        global_free();
        return;
    }
    js_jsz_close();
    js_thread_stop();
    for (size_t i = 0; i < js_g.napi_subs; i++)
        js_g.api->unsubscribe(js_g.api_subs[i]);
    js_streams_free();
    js_acct_free();
    js_db_close(js_g.fdb);
    js_db_close(js_g.mdb);
    global_free();
}

static const modnats_module_desc js_desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "jetstream",
    .version = "0.1.0",
    .description = "JetStream: streams on RocksDB, nats-server's $JS.API",
    .options = js_options,
    .init = js_init,
    .fini = js_fini,
};

MODNATS_MODULE(jetstream) { return &js_desc; }
