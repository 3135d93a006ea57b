/*
 * js_acct.c - which accounts have JetStream, and their limits, as
 * nats-server 2.9 decides them (docs/adr-002-jetstream-account-limits.md).
 *
 * The answers come from the modules that know the accounts, through the
 * "jetstream.accounts" services (js_accounts.h): auth_jwt (account JWTs),
 * then auth_basic (the accounts of the settings).  When neither decides
 * (no accounts configured) every account but the system account has
 * JetStream without limits.  Everything here runs on the JetStream
 * thread; answers are cached per account until a provider's generation
 * moves (reload, JWT update), so a publish costs no lookup.
 */
#include "jetstream.h"
#include "js_accounts.h"

#include <stdlib.h>
#include <string.h>

typedef struct acct_entry {
    modnats_account  *acc;
    uint64_t          gen;
    bool              enabled;
    js_account_limits lim;
    uint64_t          api_total, api_errors;   /* kept across generations */
} acct_entry;

static acct_entry *cache;
static size_t ncache;

/* Providers register during their init, which is over before the first
 * request reaches the JetStream thread: looked up once. */
static const js_accounts_v1 *providers[2];
static bool looked_up;

static const js_accounts_v1 *provider(const char *name)
{
    if (!MODNATS_HAS(js_g.api, service_get))
        return NULL;
    const js_accounts_v1 *p = js_g.api->service_get(name, 1);
    return p && p->size >= offsetof(js_accounts_v1, reserved) && p->lookup ? p : NULL;
}

static acct_entry *entry(modnats_account *acc)
{
    for (size_t i = 0; i < ncache; i++)
        if (cache[i].acc == acc)
            return &cache[i];
    acct_entry *v = realloc(cache, (ncache + 1) * sizeof *v);
    if (!v)
        return NULL;
    cache = v;
    acct_entry *e = &cache[ncache++];
    memset(e, 0, sizeof *e);    /* gen 0: never current (generation() >= 1) */
    e->acc = acc;
    return e;
}

/* The account's API counters and the server's (js_g, /jsz's top level). */
void js_acct_api_count(modnats_account *acc, uint64_t total, uint64_t errors)
{
    js_g.api_total += total;
    js_g.api_errors += errors;
    acct_entry *e = entry(acc);
    if (e) {
        e->api_total += total;
        e->api_errors += errors;
    }
}

void js_acct_api_get(modnats_account *acc, uint64_t *total, uint64_t *errors)
{
    acct_entry *e = entry(acc);
    *total = e ? e->api_total : 0;
    *errors = e ? e->api_errors : 0;
}

static uint64_t generation(const js_accounts_v1 *const *pv, size_t n)
{
    uint64_t g = 1;
    for (size_t i = 0; i < n; i++)
        if (pv[i] && pv[i]->generation)
            g += pv[i]->generation();
    return g;
}

bool js_acct_get(modnats_account *acc, js_account_limits *out)
{
    if (!looked_up) {
        providers[0] = provider(JS_ACCOUNTS_SERVICE_JWT);
        providers[1] = provider(JS_ACCOUNTS_SERVICE_CONFIG);
        looked_up = true;
    }
    const js_accounts_v1 *const *pv = providers;
    uint64_t gen = generation(pv, 2);
    acct_entry *e = entry(acc);
    if (e && e->gen == gen) {
        *out = e->lim;
        return e->enabled;
    }
    js_account_limits lim = JS_ACCOUNT_LIMITS_UNLIMITED;
    bool enabled;
    if (!acc || (MODNATS_HAS(js_g.api, account_system) && acc == js_g.api->account_system())) {
        enabled = false;    /* nats-server never gives the system account JetStream */
    } else {
        js_account_state st = JS_ACCOUNT_UNKNOWN;
        const char *name = js_g.api->account_name(acc);
        for (size_t i = 0; i < 2 && st == JS_ACCOUNT_UNKNOWN; i++) {
            if (!pv[i])
                continue;
            js_account_limits l = JS_ACCOUNT_LIMITS_UNLIMITED;
            st = pv[i]->lookup(name ? name : "", &l);
            if (st == JS_ACCOUNT_ENABLED)
                lim = l;
        }
        enabled = st != JS_ACCOUNT_DISABLED;
    }
    lim.size = sizeof lim;
    if (e) {
        e->gen = gen;
        e->enabled = enabled;
        e->lim = lim;
    }
    *out = lim;
    return enabled;
}

void js_acct_usage(modnats_account *acc, js_acct_use *u)
{
    memset(u, 0, sizeof *u);
    for (size_t i = 0; i < js_g.nstreams; i++) {
        const js_stream *s = js_g.streams[i];
        if (s->acc != acc)
            continue;
        u->streams++;
        u->consumers += js_consumers_count(s);
        if (s->cfg.memory) {
            u->memory += s->st.bytes;
            if (s->cfg.max_bytes > 0)
                u->mem_reserved += (uint64_t)s->cfg.max_bytes;
        } else {
            u->storage += s->st.bytes;
            if (s->cfg.max_bytes > 0)
                u->file_reserved += (uint64_t)s->cfg.max_bytes;
        }
    }
}

int js_acct_check_stream(modnats_account *acc, const js_cfg *c, const js_stream *old,
                         bool update, int *code, const char **desc)
{
    js_account_limits l;
    if (!js_acct_get(acc, &l)) {
        *code = 503;
        *desc = "JetStream not enabled for account";
        return 10039;
    }
    *code = 400;
    if (l.max_bytes_required && c->max_bytes <= 0) {
        *desc = "account requires a stream config to have max bytes set";
        return 10113;
    }
    int64_t per = c->memory ? l.memory_max_stream_bytes : l.storage_max_stream_bytes;
    if (per > 0 && c->max_bytes > per) {
        *desc = "stream max bytes exceeds account limit max stream bytes";
        return 10122;
    }
    js_acct_use u;
    js_acct_usage(acc, &u);
    /* a create of an existing stream counts too (nats-server 2.9.10) */
    if (!update && l.max_streams > 0 && u.streams >= (uint64_t)l.max_streams) {
        *desc = "maximum number of streams reached";
        return 10027;
    }
    /* nats-server reserves a stream's max_bytes (at least 1) against the
     * account's storage when the stream is created or updated. */
    int64_t max = c->memory ? l.max_memory : l.max_storage;
    if (max >= 0) {
        uint64_t res = c->memory ? u.mem_reserved : u.file_reserved;
        if (old && old->cfg.memory == c->memory && old->cfg.max_bytes > 0)
            res -= (uint64_t)old->cfg.max_bytes;
        uint64_t add = c->max_bytes > 0 ? (uint64_t)c->max_bytes : 1;
        if (res + add > (uint64_t)max) {
            *code = 500;
            *desc = c->memory ? "insufficient memory resources available"
                              : "insufficient storage resources available";
            return c->memory ? 10028 : 10047;
        }
    }
    return 0;
}

bool js_acct_room(const js_stream *s, uint64_t sz)
{
    js_account_limits l;
    js_acct_get(s->acc, &l);
    int64_t max = s->cfg.memory ? l.max_memory : l.max_storage;
    if (max < 0)
        return true;
    js_acct_use u;
    js_acct_usage(s->acc, &u);
    return (s->cfg.memory ? u.memory : u.storage) + sz <= (uint64_t)max;
}

/* The type and the extra fields of the reply nats-server sends to an
 * account without JetStream; NULL: it does not answer that subject. */
static const char *disabled_type(const char *p, int *extra)
{
    static const struct { const char *prefix; const char *type; int extra; } t[] = {
        {"INFO", "account_info_response", 0},
        {"STREAM.CREATE.", "stream_create_response", 0},
        {"STREAM.UPDATE.", "stream_update_response", 0},
        {"STREAM.NAMES", "stream_names_response", 1},
        {"STREAM.LIST", "stream_list_response", 2},
        {"STREAM.INFO.", "stream_info_response", 3},
        {"STREAM.DELETE.", "stream_delete_response", 0},
        {"STREAM.PURGE.", "stream_purge_response", 6},
        {"STREAM.MSG.GET.", "stream_msg_get_response", 0},
        {"STREAM.MSG.DELETE.", "stream_msg_delete_response", 0},
        {"CONSUMER.CREATE.", "consumer_create_response", 0},
        {"CONSUMER.DURABLE.CREATE.", "consumer_create_response", 0},
        {"CONSUMER.INFO.", "consumer_info_response", 0},
        {"CONSUMER.DELETE.", "consumer_delete_response", 0},
        {"CONSUMER.NAMES.", "consumer_names_response", 4},
        {"CONSUMER.LIST.", "consumer_list_response", 5},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        size_t n = strlen(t[i].prefix);
        if (!strncmp(p, t[i].prefix, n) && (t[i].prefix[n - 1] == '.' ? p[n] != 0 : !p[n])) {
            *extra = t[i].extra;
            return t[i].type;
        }
    }
    return NULL;
}

bool js_acct_refuse_api(const js_job *j, const char *p)
{
    js_account_limits l;
    if (js_acct_get(j->acc, &l))
        return false;
    int extra = 0;
    const char *type = disabled_type(p, &extra);
    /* nats-server answers the system account's INFO only */
    bool sys = MODNATS_HAS(js_g.api, account_system) && j->acc == js_g.api->account_system();
    if (!type || !j->reply_len || (sys && strcmp(p, "INFO") != 0))
        return true;    /* no answer, as nats-server (MSG.NEXT, DIRECT.GET, ...) */
    json_t *o = json_object();
    char t[128];
    snprintf(t, sizeof t, "io.nats.jetstream.api.v1.%s", type);
    json_object_set_new(o, "type", json_string(t));
    json_t *e = json_object();
    json_object_set_new(e, "code", json_integer(503));
    json_object_set_new(e, "err_code", json_integer(10039));
    json_object_set_new(e, "description", json_string("JetStream not enabled for account"));
    json_object_set_new(o, "error", e);
    if (extra >= 1 && extra <= 5) {    /* the paged replies */
        json_object_set_new(o, "total", json_integer(0));
        json_object_set_new(o, "offset", json_integer(0));
        json_object_set_new(o, "limit", json_integer(0));
    }
    if (extra == 1)
        json_object_set_new(o, "streams", json_null());
    else if (extra == 2)
        json_object_set_new(o, "streams", json_array());
    else if (extra == 4 || extra == 5)
        json_object_set_new(o, "consumers", json_array());
    else if (extra == 6)
        json_object_set_new(o, "purged", json_integer(0));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (txt)
        js_reply(j->acc, j->reply, j->reply_len, NULL, 0, txt, strlen(txt), false);
    free(txt);
    return true;
}

json_t *js_acct_limits_json(const js_account_limits *l)
{
    json_t *o = json_object();
    json_object_set_new(o, "max_memory", json_integer(l->max_memory));
    json_object_set_new(o, "max_storage", json_integer(l->max_storage));
    json_object_set_new(o, "max_streams", json_integer(l->max_streams));
    json_object_set_new(o, "max_consumers", json_integer(l->max_consumers));
    json_object_set_new(o, "max_ack_pending", json_integer(l->max_ack_pending));
    json_object_set_new(o, "memory_max_stream_bytes", json_integer(l->memory_max_stream_bytes));
    json_object_set_new(o, "storage_max_stream_bytes", json_integer(l->storage_max_stream_bytes));
    json_object_set_new(o, "max_bytes_required", json_boolean(l->max_bytes_required));
    return o;
}

void js_acct_free(void)
{
    free(cache);
    cache = NULL;
    ncache = 0;
    looked_up = false;
    providers[0] = providers[1] = NULL;
}
