/*
 * auth_callout.c - external authorization as nats-server 2.10's auth
 * callout (ADR-26), as a module: a login that is not one of `auth_users`
 * becomes a request on $SYS.REQ.USER.AUTH in the callout account, and the
 * service's answer decides it.
 *
 * The request is a JWT signed by this server's own key (an N... key made at
 * start): type authorization_request, subject a fresh user key for the
 * client (user_nkey), audience "nats-authorization-request", with the
 * server's identity, the client's address and its CONNECT options.  The
 * answer is a JWT signed by `issuer` (an account key): type
 * authorization_response, subject the same user_nkey, audience this
 * server's id, holding either an error or a user JWT, also signed by
 * `issuer`, whose subject is user_nkey and whose audience names the
 * account the client goes to; its permissions, limits and expiry apply.
 *
 * The AUTH hook answers PENDING; the answer arrives on an in-process
 * subscription (any worker) and completes the login with auth_complete_ex;
 * a timer refuses logins whose answer is late.  Configured as nats-server
 * 2.10 has it (authorization { auth_callout { } }, core/config.c moves the
 * block here) or as the module's own group.  Not done: encrypted requests
 * (xkey), operator mode (the issuer as an account JWT's signing key).
 */
#include "aj.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define AC_SUBJECT "$SYS.REQ.USER.AUTH"

typedef struct ac_pending {
    uint64_t id;
    modnats_auth_ticket *ticket;
    char     user_nkey[MNK_STR_LEN + 1];
    int64_t  deadline_ms;
} ac_pending;

static struct {
    const modnats_host_api *api;
    modnats_module *self;
    char      issuer[MNK_STR_LEN + 1];
    aj_strv   auth_users;
    modnats_account *acc;
    int64_t   timeout_ms;
    uint8_t   server_priv[MNK_RAW_LEN];
    char      server_pub[MNK_STR_LEN + 1];
    char      inbox[64];               /* "_INBOX.<random>" */
    modnats_sub   *sub;
    modnats_timer *timer;
    pthread_mutex_t mu;                /* guards pend, npend, next_id */
    ac_pending *pend;  size_t npend, cap;
    uint64_t  next_id;
} g_ac = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const modnats_option options[] = {
    { "issuer", MODNATS_OPT_STRING, true,
      "the account public key that signs the service's answers and user JWTs" },
    { "auth_users", MODNATS_OPT_STRING_LIST, false,
      "users logged in by the other auth modules (the service's own, ...)" },
    { "account", MODNATS_OPT_STRING, false, "the account the service listens in (default $G)" },
    { "timeout", MODNATS_OPT_DURATION, false, "how long to wait for an answer (default 2s)" },
    { NULL, 0, false, NULL },
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ request */

/* Encode and sign claims (taken over) as a JWT by the server's key. */
static char *sign_jwt(json_t *claims)
{
    static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    char *payload = json_dumps(claims, JSON_COMPACT);
    json_decref(claims);
    if (!payload)
        return NULL;
    size_t pl = strlen(payload);
    char *out = malloc(mnk_base64url_len(sizeof hdr) + mnk_base64url_len(pl) +
                       mnk_base64url_len(64) + 2);
    if (!out) {
        free(payload);
        return NULL;
    }
    size_t n = mnk_base64url_encode((const uint8_t *)hdr, sizeof hdr - 1, out);
    out[n++] = '.';
    n += mnk_base64url_encode((const uint8_t *)payload, pl, out + n);
    free(payload);
    uint8_t sig[64];
    if (!mnk_ed25519_sign(g_ac.server_priv, out, n, sig)) {
        free(out);
        return NULL;
    }
    out[n++] = '.';
    mnk_base64url_encode(sig, sizeof sig, out + n);
    return out;
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static char *make_request(const modnats_auth_event *e, const char *user_nkey)
{
    const modnats_host_api *api = g_ac.api;
    modnats_stats st = { .size = sizeof st };
    api->stats(&st);
    uint8_t rnd[16];
    char jti[mnk_base64url_len(sizeof rnd)];
    if (!mnk_random(rnd, sizeof rnd))
        return NULL;
    mnk_base64url_encode(rnd, sizeof rnd, jti);
    json_t *connect = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i}",
                                "jwt", opt_str(e->jwt), "nkey", opt_str(e->nkey),
                                "sig", opt_str(e->sig), "auth_token", opt_str(e->token),
                                "user", opt_str(e->user), "pass", opt_str(e->pass),
                                "name", opt_str(e->name), "protocol", 1);
    json_t *client = json_pack("{s:s, s:I, s:s, s:s}", "host", e->remote_ip ? e->remote_ip : "",
                               "id", (json_int_t)api->conn_id(e->conn), "kind", "Client",
                               "type", "nats");
    json_t *server = json_pack("{s:s, s:s, s:s, s:s}", "name", api->server_name(),
                               "host", st.host ? st.host : "0.0.0.0", "id", api->server_id(),
                               "version", st.compat_version ? st.compat_version : "");
    json_t *nats = json_pack("{s:o, s:s, s:o, s:o, s:s, s:i}", "server_id", server,
                             "user_nkey", user_nkey, "client_info", client,
                             "connect_opts", connect, "type", "authorization_request",
                             "version", 2);
    if (nats && e->nonce)
        json_object_set_new(nats, "client_nonce", json_string(e->nonce));
    json_t *claims = json_pack("{s:s, s:I, s:s, s:s, s:s, s:o}", "jti", jti,
                               "iat", (json_int_t)(now_ms() / 1000), "iss", g_ac.server_pub,
                               "sub", user_nkey, "aud", "nats-authorization-request",
                               "nats", nats);
    return claims ? sign_jwt(claims) : NULL;
}

static bool add_pending(uint64_t id, modnats_auth_ticket *t, const char *user_nkey)
{
    pthread_mutex_lock(&g_ac.mu);
    if (g_ac.npend == g_ac.cap) {
        size_t cap = g_ac.cap ? g_ac.cap * 2 : 32;
        ac_pending *nv = realloc(g_ac.pend, cap * sizeof *nv);
        if (!nv) {
            pthread_mutex_unlock(&g_ac.mu);
            return false;
        }
        g_ac.pend = nv;
        g_ac.cap = cap;
    }
    ac_pending *p = &g_ac.pend[g_ac.npend++];
    p->id = id;
    p->ticket = t;
    snprintf(p->user_nkey, sizeof p->user_nkey, "%s", user_nkey);
    p->deadline_ms = now_ms() + g_ac.timeout_ms;
    pthread_mutex_unlock(&g_ac.mu);
    return true;
}

/* Remove and return the pending login `id` (false: none, e.g. timed out). */
static bool take_pending(uint64_t id, ac_pending *out)
{
    bool found = false;
    pthread_mutex_lock(&g_ac.mu);
    for (size_t i = 0; i < g_ac.npend; i++) {
        if (g_ac.pend[i].id == id) {
            *out = g_ac.pend[i];
            g_ac.pend[i] = g_ac.pend[--g_ac.npend];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&g_ac.mu);
    return found;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    modnats_auth_event *e = (modnats_auth_event *)ev;
    if (e->user && aj_strv_has(&g_ac.auth_users, e->user))
        return MODNATS_DEFER;   /* the service's own users: the other modules */
    uint8_t pub[MNK_RAW_LEN], priv[MNK_RAW_LEN];
    char user_nkey[MNK_STR_LEN + 1];
    if (!mnk_ed25519_keygen(pub, priv) || !mnk_encode(MNK_USER, pub, user_nkey)) {
        e->deny_reason = "auth callout: no key for the client";
        return MODNATS_DENY;
    }
    char *req = make_request(e, user_nkey);
    if (!req) {
        e->deny_reason = "auth callout: cannot build the request";
        return MODNATS_DENY;
    }
    pthread_mutex_lock(&g_ac.mu);
    uint64_t id = ++g_ac.next_id;
    pthread_mutex_unlock(&g_ac.mu);
    char reply[96];
    snprintf(reply, sizeof reply, "%s.%llu", g_ac.inbox, (unsigned long long)id);
    modnats_msg m = { .size = sizeof m };
    m.subject = AC_SUBJECT;
    m.subject_len = sizeof AC_SUBJECT - 1;
    m.reply = reply;
    m.reply_len = strlen(reply);
    m.data = req;
    m.data_len = strlen(req);
    modnats_rc rc = MODNATS_PENDING;
    /* filed before publishing: the answer may come at once, on any worker */
    if (!add_pending(id, e->ticket, user_nkey)) {
        e->deny_reason = "auth callout: out of memory";
        rc = MODNATS_DENY;
    } else if (g_ac.api->publish(g_ac.self, g_ac.acc, &m, 0) != MODNATS_OK) {
        ac_pending p;
        if (take_pending(id, &p)) {   /* not answered meanwhile: ours to refuse */
            e->deny_reason = "auth callout: cannot publish the request";
            rc = MODNATS_DENY;
        }
    }
    free(req);
    return rc;
}

/* ------------------------------------------------------------ answers */

/* Decide from the answer: NULL when the login was completed as OK, else
 * why (the caller refuses). */
static const char *decide(const ac_pending *p, const char *answer, char *buf, size_t len)
{
    aj_jwt *r = NULL, *u = NULL;
    char err[200];
    const char *why = NULL;
    if (!aj_jwt_decode(answer, AJ_AUTH_RESPONSE, &r, err, sizeof err)) {
        snprintf(buf, len, "auth callout answer: %s", err);
        return buf;
    }
    if (strcmp(r->iss, g_ac.issuer) != 0)
        why = "auth callout answer not signed by the issuer";
    else if (strcmp(r->sub, p->user_nkey) != 0)
        why = "auth callout answer for another client";
    else if (!r->aud || strcmp(r->aud, g_ac.api->server_id()) != 0)
        why = "auth callout answer for another server";
    else if (r->u.resp.error) {
        snprintf(buf, len, "auth callout: %s", r->u.resp.error);
        why = buf;
    } else if (!aj_jwt_decode(r->u.resp.jwt, AJ_USER, &u, err, sizeof err)) {
        snprintf(buf, len, "auth callout user JWT: %s", err);
        why = buf;
    } else if (strcmp(u->iss, g_ac.issuer) != 0) {
        why = "auth callout user JWT not signed by the issuer";
    } else if (strcmp(u->sub, p->user_nkey) != 0) {
        why = "auth callout user JWT for another client";
    } else if (aj_jwt_time_error(u, now_ms() / 1000)) {
        why = "auth callout user JWT expired or not valid yet";
    }
    modnats_account *a = NULL;
    if (!why) {
        const char *name = u->aud ? u->aud : "$G";
        if (!(a = g_ac.api->account_get(name))) {
            snprintf(buf, len, "auth callout: account \"%s\" does not exist", name);
            why = buf;
        }
    }
    if (!why) {
        modnats_permissions perms;
        aj_perms_export(&u->u.user.perms, &perms);
        modnats_login l = MODNATS_LOGIN_INIT;
        l.user = u->name ? u->name : u->sub;
        l.perms = &perms;
        l.account = a;
        l.max_subs = u->u.user.subs;
        l.max_payload = u->u.user.payload;
        l.expires_unix_ms = u->exp > 0 ? (uint64_t)u->exp * 1000 : 0;
        if (g_ac.api->auth_complete_ex(p->ticket, MODNATS_OK, NULL, &l) != MODNATS_OK)
            why = "auth callout: the core refused the login";
    }
    aj_jwt_free(u);
    aj_jwt_free(r);
    return why;
}

static void on_answer(void *ud, modnats_sub *sub, const modnats_msg *m, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    size_t il = strlen(g_ac.inbox);
    if (m->subject_len <= il + 1 || m->subject_len > il + 21)
        return;
    char idtext[24];
    memcpy(idtext, m->subject + il + 1, m->subject_len - il - 1);
    idtext[m->subject_len - il - 1] = '\0';
    char *end;
    uint64_t id = strtoull(idtext, &end, 10);
    ac_pending p;
    if (*end || !take_pending(id, &p))
        return;   /* late, or not ours */
    char *answer = strndup(m->data, m->data_len);
    char buf[256];
    const char *why = answer ? decide(&p, answer, buf, sizeof buf) : "out of memory";
    free(answer);
    if (why)
        g_ac.api->auth_complete(p.ticket, MODNATS_DENY, why);
}

/* Refuse the logins whose answer is late (worker 0). */
static void on_tick(void *ud, modnats_timer *t)
{
    (void)ud;
    (void)t;
    int64_t now = now_ms();
    for (;;) {
        ac_pending p;
        bool found = false;
        pthread_mutex_lock(&g_ac.mu);
        for (size_t i = 0; i < g_ac.npend; i++) {
            if (g_ac.pend[i].deadline_ms <= now) {
                p = g_ac.pend[i];
                g_ac.pend[i] = g_ac.pend[--g_ac.npend];
                found = true;
                break;
            }
        }
        pthread_mutex_unlock(&g_ac.mu);
        if (!found)
            break;
        g_ac.api->auth_complete(p.ticket, MODNATS_DENY, "auth callout: no answer in time");
    }
}

/* ------------------------------------------------------------ module */

static modnats_rc init(modnats_module *self, const modnats_host_api *api,
                       const modnats_config *cfg)
{
    g_ac.api = api;
    g_ac.self = self;
    char where[256];
    if (!MODNATS_HAS(api, auth_complete_ex)) {
        api->log(self, MODNATS_LOG_ERROR, "this core lacks auth_complete_ex (ABI 1.1)");
        return MODNATS_ERR;
    }
    const char *issuer = NULL;
    api->cfg_string(cfg, "issuer", &issuer);
    uint8_t raw[MNK_RAW_LEN];
    mnk_err ke = mnk_decode(issuer, MNK_ACCOUNT, raw);
    if (ke != MNK_OK) {
        api->cfg_where(cfg, "issuer", where, sizeof where);
        api->log(self, MODNATS_LOG_ERROR, "%s: issuer %s: %s (an account public key expected)",
                 where, issuer ? issuer : "", mnk_strerror(ke));
        return MODNATS_ERR;
    }
    snprintf(g_ac.issuer, sizeof g_ac.issuer, "%s", issuer);
    size_t n = api->cfg_list_len(cfg, "auth_users");
    if (n && !(g_ac.auth_users.v = calloc(n, sizeof(char *))))
        return MODNATS_ERR;
    for (size_t i = 0; i < n; i++)
        if (!(g_ac.auth_users.v[g_ac.auth_users.n++] =
                  strdup(api->cfg_list_string(cfg, "auth_users", i))))
            return MODNATS_ERR;
    const char *acc = "$G";
    api->cfg_string(cfg, "account", &acc);
    /* created if need be: auth_basic, which declares it, may load later */
    g_ac.acc = strcmp(acc, "$G") == 0 ? api->account_global() : api->account_get_or_create(acc);
    if (!g_ac.acc)
        return MODNATS_ERR;
    g_ac.timeout_ms = 2000;
    api->cfg_int(cfg, "timeout", &g_ac.timeout_ms);
    uint8_t spub[MNK_RAW_LEN];
    if (!mnk_ed25519_keygen(spub, g_ac.server_priv) ||
        !mnk_encode(MNK_SERVER, spub, g_ac.server_pub))
        return MODNATS_ERR;
    uint8_t inbox_id[12];
    char rnd[mnk_base64url_len(sizeof inbox_id)];
    if (!mnk_random(inbox_id, sizeof inbox_id))
        return MODNATS_ERR;
    mnk_base64url_encode(inbox_id, sizeof inbox_id, rnd);
    for (char *c = rnd; *c; c++)   /* subject-safe: letters and digits */
        if (*c == '-' || *c == '_')
            *c = 'x';
    snprintf(g_ac.inbox, sizeof g_ac.inbox, "_INBOX.%s", rnd);
    char wild[80];
    snprintf(wild, sizeof wild, "%s.*", g_ac.inbox);
    if (!(g_ac.sub = api->subscribe(self, g_ac.acc, wild, NULL, 1, 0, on_answer, NULL)) ||
        !(g_ac.timer = api->timer_start(self, 100, 100, on_tick, NULL)) ||
        api->hook(self, MODNATS_EV_AUTH, -100, on_auth, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    api->log(self, MODNATS_LOG_INFO, "Auth callout: %s in account %s, issuer %s",
             AC_SUBJECT, api->account_name(g_ac.acc), g_ac.issuer);
    return MODNATS_OK;
}

static void fini(modnats_module *self)
{
    (void)self;
    if (g_ac.timer)
        g_ac.api->timer_cancel(g_ac.timer);
    if (g_ac.sub)
        g_ac.api->unsubscribe(g_ac.sub);
    for (size_t i = 0; i < g_ac.npend; i++)   /* each ticket completed once */
        g_ac.api->auth_complete(g_ac.pend[i].ticket, MODNATS_DENY, "server shutting down");
    free(g_ac.pend);
    aj_strv_free(&g_ac.auth_users);
    memset(g_ac.server_priv, 0, sizeof g_ac.server_priv);
}

static const modnats_module_desc desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "auth_callout",
    .version = "0.1",
    .description = "external authorization through a service (ADR-26 auth callout)",
    .options = options,
    .init = init,
    .fini = fini,
};

MODNATS_MODULE(auth_callout) { return &desc; }
