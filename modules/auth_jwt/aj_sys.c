/*
 * aj_sys.c - the full resolver's requests in the system account, as
 * nats-server answers them (nsc push, nsc delete, a LIST for tooling):
 *
 *   $SYS.REQ.CLAIMS.UPDATE, $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE
 *       body: an account JWT.  Validated (signature, trusted operator, the
 *       <id> of the subject), stored, applied; the reply is
 *       {"data":{"account":<id>,"code":200,"message":"jwt updated"},"server":{..}}
 *       or {"error":{"account":<id>,"code":4xx/500,"description":..},"server":{..}}.
 *       Stricter than nats-server 2.9.10, which stores (and acknowledges)
 *       an account JWT of an operator it does not trust; we refuse it.
 *   $SYS.ACCOUNT.<id>.CLAIMS.UPDATE   the same, the older event form (no reply).
 *   $SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP   replies with the JWT itself.
 *   $SYS.REQ.CLAIMS.LIST     {"data":["<id>", ...],"server":{..}}
 *   $SYS.REQ.CLAIMS.DELETE   body: a generic JWT signed by a trusted
 *       operator naming nats.accounts; only with allow_delete.
 *
 * Message callbacks run on I/O workers and must not block, while an update
 * writes a file and walks the logins: each request is copied to a queue
 * and handled on the module's own thread, which also publishes the reply.
 * The same thread finishes PENDING logins whose account must be read from
 * the directory first, and once a second closes the logins of expired
 * accounts (aj_login.c).  It runs in every operator mode; the requests are
 * subscribed with the full resolver only.
 */
#include "aj_mod.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct aj_req {
    struct aj_req *next;
    char   *subject, *reply;   /* reply NULL: no answer wanted */
    char   *data;  size_t len;
    aj_pending_login *login;   /* instead of a request: a login to finish */
} aj_req;

static pthread_t thr;
static bool running;
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static aj_req *q_head, **q_tail = &q_head;
static bool q_stop;
static modnats_sub *subs[6];
static modnats_account *sys_acc;
static uint64_t seq;

static void req_free(aj_req *r)
{
    aj_pending_free(r->login);
    free(r->subject);
    free(r->reply);
    free(r->data);
    free(r);
}

static void enqueue(aj_req *r)
{
    pthread_mutex_lock(&q_mu);
    *q_tail = r;
    q_tail = &r->next;
    pthread_cond_signal(&q_cv);
    pthread_mutex_unlock(&q_mu);
}

static void on_msg(void *ud, modnats_sub *sub, const modnats_msg *m, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    aj_req *r = calloc(1, sizeof *r);
    if (!r)
        return;
    r->subject = strndup(m->subject, m->subject_len);
    r->reply = m->reply_len ? strndup(m->reply, m->reply_len) : NULL;
    r->data = malloc(m->data_len + 1);
    if (!r->subject || (m->reply_len && !r->reply) || !r->data) {
        req_free(r);
        return;
    }
    memcpy(r->data, m->data, m->data_len);
    r->data[m->data_len] = '\0';
    r->len = m->data_len;
    enqueue(r);
}

modnats_rc aj_sys_post_login(aj_pending_login *p)
{
    aj_req *r = running ? calloc(1, sizeof *r) : NULL;
    if (!r)
        return MODNATS_ERR;
    r->login = p;
    enqueue(r);
    return MODNATS_OK;
}

static void reply_raw(const aj_req *r, const char *data, size_t len)
{
    if (!r->reply)
        return;
    modnats_msg m = { .size = sizeof m };
    m.subject = r->reply;
    m.subject_len = strlen(r->reply);
    m.data = data;
    m.data_len = len;
    g_aj.api->publish(g_aj.self, sys_acc, &m, 0);
}

/* {key: val, "server":{...}} (val taken over). */
static void reply_json(const aj_req *r, const char *key, json_t *val)
{
    if (!r->reply) {
        json_decref(val);
        return;
    }
    modnats_stats st = { .size = sizeof st };
    g_aj.api->stats(&st);
    char when[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%09ldZ", ts.tv_nsec);
    json_t *server = json_pack("{s:s, s:s, s:s, s:s, s:I, s:b, s:s}",
                               "name", g_aj.api->server_name() ? g_aj.api->server_name() : "",
                               "host", st.host ? st.host : "0.0.0.0",
                               "id", g_aj.api->server_id() ? g_aj.api->server_id() : "",
                               "ver", st.compat_version ? st.compat_version
                                      : st.version     ? st.version : "",
                               "seq", (json_int_t)++seq, "jetstream", 0, "time", when);
    json_t *o = json_object();
    if (server && o) {
        /* nats-server's order: the answer, then who answered */
        json_object_set_new(o, key, val);
        val = NULL;
        json_object_set_new(o, "server", server);
        server = NULL;
        char *s = json_dumps(o, JSON_COMPACT);
        if (s)
            reply_raw(r, s, strlen(s));
        free(s);
    }
    json_decref(server);
    json_decref(val);
    json_decref(o);
}

static void reply_error(const aj_req *r, const char *account, int code, const char *msg)
{
    json_t *e = account ? json_pack("{s:s, s:i, s:s}", "account", account, "code", code,
                                    "description", msg)
                        : json_pack("{s:i, s:s}", "code", code, "description", msg);
    g_aj.api->log(g_aj.self, MODNATS_LOG_WARN, "%s: %s%s%s", r->subject, account ? account : "",
                  account ? ": " : "", msg);
    reply_json(r, "error", e);
}

static void reply_ok(const aj_req *r, const char *account, const char *msg)
{
    json_t *d = account ? json_pack("{s:s, s:i, s:s}", "account", account, "code", 200,
                                    "message", msg)
                        : json_pack("{s:i, s:s}", "code", 200, "message", msg);
    reply_json(r, "data", d);
}

/* The <id> of $SYS.REQ.ACCOUNT.<id>.<...> or $SYS.ACCOUNT.<id>.<...>. */
static bool subject_account(const char *subj, char out[MNK_STR_LEN + 1])
{
    const char *p = !strncmp(subj, "$SYS.REQ.ACCOUNT.", 17) ? subj + 17
                    : !strncmp(subj, "$SYS.ACCOUNT.", 13)   ? subj + 13
                                                            : NULL;
    if (!p)
        return false;
    size_t n = strcspn(p, ".");
    if (n != MNK_STR_LEN)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static void handle_update(const aj_req *r)
{
    char id[MNK_STR_LEN + 1] = "";
    bool has_id = subject_account(r->subject, id);
    aj_jwt *j = NULL;
    char err[256];
    if (!aj_jwt_decode(r->data, AJ_ACCOUNT, &j, err, sizeof err)) {
        reply_error(r, has_id ? id : NULL, 400, err);
        return;
    }
    if (has_id && strcmp(id, j->sub) != 0) {
        reply_error(r, id, 400, "subject does not match the account JWT's subject");
        aj_jwt_free(j);
        return;
    }
    char pub[MNK_STR_LEN + 1];
    snprintf(pub, sizeof pub, "%s", j->sub);
    if (!aj_trust_account(&g_aj.trust, j, err, sizeof err)) {
        reply_error(r, pub, 400, err);
        aj_jwt_free(j);
        return;
    }
    const char *te = aj_jwt_time_error(j, aj_now_ms() / 1000);
    if (te && !strcmp(te, "expired")) {
        reply_error(r, pub, 400, "the account JWT has expired");
        aj_jwt_free(j);
        return;
    }
    aj_put rc = aj_store_put(&g_aj.store, j, err, sizeof err);   /* takes j */
    if (rc == AJ_PUT_ERR) {
        reply_error(r, pub, 500, err);
        return;
    }
    if (rc != AJ_PUT_SAME) {
        aj_apply_changed(pub);
        size_t n = aj_logins_revoke(pub, false);
        g_aj.api->log(g_aj.self, MODNATS_LOG_INFO, "Account %s %s%s", pub,
                      rc == AJ_PUT_NEW ? "added" : "updated",
                      n ? " (revoked users disconnected)" : "");
    }
    reply_ok(r, pub, "jwt updated");
}

static void handle_lookup(const aj_req *r)
{
    char id[MNK_STR_LEN + 1];
    if (!subject_account(r->subject, id))
        return;
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *j = aj_store_get_locked(&g_aj.store, id);
    char *raw = j ? strdup(j->raw) : NULL;
    pthread_rwlock_unlock(&g_aj.store.lock);
    if (raw)
        reply_raw(r, raw, strlen(raw));
    free(raw);   /* unknown: no answer, as a resolver that lacks it */
}

static void handle_list(const aj_req *r)
{
    aj_strv keys;
    if (!aj_store_keys(&g_aj.store, &keys))
        return;
    json_t *a = json_array();
    for (size_t i = 0; a && i < keys.n; i++)
        json_array_append_new(a, json_string(keys.v[i]));
    aj_strv_free(&keys);
    reply_json(r, "data", a);
}

static void handle_delete(const aj_req *r)
{
    if (!g_aj.store.allow_delete) {
        reply_error(r, NULL, 400, "delete is not allowed (resolver allow_delete is false)");
        return;
    }
    aj_jwt *j = NULL;
    char err[256];
    if (!aj_jwt_decode(r->data, AJ_GENERIC, &j, err, sizeof err)) {
        reply_error(r, NULL, 400, err);
        return;
    }
    if (!aj_strv_has(&g_aj.trust.keys, j->iss)) {
        reply_error(r, NULL, 401, "the delete request is not signed by a trusted operator");
        aj_jwt_free(j);
        return;
    }
    if (j->accounts.n == 0) {
        reply_error(r, NULL, 400, "the delete request names no accounts");
        aj_jwt_free(j);
        return;
    }
    size_t deleted = 0;
    for (size_t i = 0; i < j->accounts.n; i++) {
        const char *pub = j->accounts.v[i];
        if (aj_store_delete(&g_aj.store, pub)) {
            deleted++;
            aj_apply_changed(pub);
            aj_logins_revoke(pub, true);
        }
    }
    char msg[96];
    snprintf(msg, sizeof msg, "deleted %zu accounts", deleted);
    aj_jwt_free(j);
    reply_ok(r, NULL, msg);
}

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&q_mu);
    struct timespec next;
    clock_gettime(CLOCK_REALTIME, &next);
    for (;;) {
        while (!q_head && !q_stop) {
            if (pthread_cond_timedwait(&q_cv, &q_mu, &next) == ETIMEDOUT) {
                pthread_mutex_unlock(&q_mu);
                aj_logins_sweep();
                pthread_mutex_lock(&q_mu);
                clock_gettime(CLOCK_REALTIME, &next);
                next.tv_sec += 1;
            }
        }
        if (q_stop)
            break;
        aj_req *r = q_head;
        q_head = r->next;
        if (!q_head)
            q_tail = &q_head;
        pthread_mutex_unlock(&q_mu);
        if (r->login) {
            aj_pending_run(r->login);
            r->login = NULL;
            req_free(r);
            pthread_mutex_lock(&q_mu);
            continue;
        }
        const char *s = r->subject;
        size_t n = strlen(s);
        if (n >= 14 && !strcmp(s + n - 14, ".CLAIMS.UPDATE"))
            handle_update(r);
        else if (n >= 14 && !strcmp(s + n - 14, ".CLAIMS.LOOKUP"))
            handle_lookup(r);
        else if (!strcmp(s, "$SYS.REQ.CLAIMS.LIST"))
            handle_list(r);
        else if (!strcmp(s, "$SYS.REQ.CLAIMS.DELETE"))
            handle_delete(r);
        req_free(r);
        pthread_mutex_lock(&q_mu);
    }
    pthread_mutex_unlock(&q_mu);
    return NULL;
}

modnats_rc aj_sys_start(void)
{
    const modnats_host_api *api = g_aj.api;
    q_stop = false;
    if (pthread_create(&thr, NULL, run, NULL) != 0)
        return MODNATS_ERR;
    running = true;
    if (g_aj.resolver != AJ_RES_FULL)
        return MODNATS_OK;   /* the thread sweeps expiries only */
    if (!g_aj.system_account) {
        api->log(g_aj.self, MODNATS_LOG_WARN, "no system account: the full resolver answers no "
                 "$SYS.REQ claims requests (updates need a restart)");
        return MODNATS_OK;
    }
    if (!(sys_acc = api->account_get_or_create(g_aj.system_account)))
        return MODNATS_ERR;
    static const char *const subjects[] = {
        "$SYS.REQ.CLAIMS.UPDATE", "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
        "$SYS.ACCOUNT.*.CLAIMS.UPDATE", "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
        "$SYS.REQ.CLAIMS.LIST", "$SYS.REQ.CLAIMS.DELETE",
    };
    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++)
        if (!(subs[i] = api->subscribe(g_aj.self, sys_acc, subjects[i], NULL, 1, 0, on_msg, NULL)))
            return MODNATS_ERR;
    return MODNATS_OK;
}

void aj_sys_stop(void)
{
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (subs[i]) {
            g_aj.api->unsubscribe(subs[i]);
            subs[i] = NULL;
        }
    if (running) {
        pthread_mutex_lock(&q_mu);
        q_stop = true;
        pthread_cond_signal(&q_cv);
        pthread_mutex_unlock(&q_mu);
        pthread_join(thr, NULL);
        running = false;
    }
    while (q_head) {
        aj_req *r = q_head;
        q_head = r->next;
        if (r->login)   /* a ticket is completed exactly once, even now */
            aj_pending_deny(r->login, "server shutting down");
        req_free(r);
    }
    q_tail = &q_head;
}
