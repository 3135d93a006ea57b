/*
 * auth_jwt.c - the auth_jwt module: nats-server's operator mode.
 *
 * At init it reads the trusted operators (operator JWTs, trusted_keys), the
 * resolver (MEMORY with resolver_preload, or a directory: `full`), checks
 * every account JWT against the operators, and gives each account to the
 * core: limits (account_set_limits), exports and imports (account_export,
 * account_import; activation tokens of token_req exports are verified
 * here).  A client logs in with its user JWT and a signature of the nonce;
 * the AUTH hook decides synchronously (every account JWT is in memory, so
 * nothing blocks: two Ed25519 checks) and gives the client its account,
 * permissions, limits and expiry (conn_login).
 *
 * The full resolver answers the $SYS.REQ.*CLAIMS* requests in the system
 * account (aj_sys.c) on a thread of the module's; an accepted account JWT
 * is stored, applied to the core at once, and users it now revokes are
 * disconnected (the module tracks its logins through CONNECT and
 * DISCONNECT).
 */
#include "aj.h"
#include "aj_mod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

aj_mod g_aj;

/* Before auth_basic's hook (0): a CONNECT with a user JWT is ours whatever
 * else is configured; one without defers to the other modules. */
#define AJ_AUTH_PRIORITY (-10)

static const modnats_option options[] = {
    { "operator", MODNATS_OPT_STRING_LIST, false,
      "trusted operator JWTs: file paths or the JWTs themselves" },
    { "trusted_keys", MODNATS_OPT_STRING_LIST, false, "trusted operator public keys" },
    { "system_account", MODNATS_OPT_STRING, false,
      "the system account's public key (default: the operator's system_account)" },
    { "resolver", MODNATS_OPT_GROUP, false,
      "{ type = \"MEMORY\" } or { type = \"full\"; dir = \"...\"; allow_delete; interval; limit }" },
    { "resolver_preload", MODNATS_OPT_GROUP, false, "{ <account public key> = \"<account JWT>\" }" },
    { NULL, 0, false, NULL },
};

int64_t aj_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ settings */

static bool add_key(aj_strv *s, const char *k)
{
    if (aj_strv_has(s, k))
        return true;
    char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (!nv)
        return false;
    s->v = nv;
    return (s->v[s->n] = strdup(k)) != NULL && ++s->n;
}

static modnats_rc load_operators(const modnats_config *cfg)
{
    const modnats_host_api *api = g_aj.api;
    char where[256];
    size_t n = api->cfg_list_len(cfg, "operator");
    for (size_t i = 0; i < n; i++) {
        const char *v = api->cfg_list_string(cfg, "operator", i);
        api->cfg_where(cfg, "operator", where, sizeof where);
        char *text = NULL;
        if (strncmp(v, "eyJ", 3) == 0) {
            text = strdup(v);
        } else if (!(text = aj_read_file(v))) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: operator: cannot read %s: %s", where, v,
                     strerror(errno));
            return MODNATS_ERR;
        }
        char *tok = aj_jwt_extract(text);
        free(text);
        aj_jwt *op = NULL;
        char err[256];
        bool ok = aj_jwt_decode(tok, AJ_OPERATOR, &op, err, sizeof err);
        free(tok);
        if (!ok) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: operator %s: %s", where, v, err);
            return MODNATS_ERR;
        }
        if (strcmp(op->iss, op->sub) != 0 && !aj_strv_has(&op->u.op.signing_keys, op->iss)) {
            api->log(g_aj.self, MODNATS_LOG_ERROR,
                     "%s: operator %s: not self-signed (issuer %s)", where, op->sub, op->iss);
            aj_jwt_free(op);
            return MODNATS_ERR;
        }
        const char *te = aj_jwt_time_error(op, aj_now_ms() / 1000);
        if (te) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: operator %s: JWT %s", where, op->sub, te);
            aj_jwt_free(op);
            return MODNATS_ERR;
        }
        aj_jwt **nv = realloc(g_aj.trust.operators, (g_aj.trust.noperators + 1) * sizeof *nv);
        if (!nv) {
            aj_jwt_free(op);
            return MODNATS_ERR;
        }
        g_aj.trust.operators = nv;
        nv[g_aj.trust.noperators++] = op;
        if (!add_key(&g_aj.trust.keys, op->sub))
            return MODNATS_ERR;
        for (size_t k = 0; k < op->u.op.signing_keys.n; k++)
            if (!add_key(&g_aj.trust.keys, op->u.op.signing_keys.v[k]))
                return MODNATS_ERR;
        api->log(g_aj.self, MODNATS_LOG_INFO, "Trusted operator %s (%s)", op->sub,
                 op->name ? op->name : "unnamed");
    }
    n = api->cfg_list_len(cfg, "trusted_keys");
    for (size_t i = 0; i < n; i++) {
        const char *k = api->cfg_list_string(cfg, "trusted_keys", i);
        uint8_t raw[MNK_RAW_LEN];
        mnk_err e = mnk_decode(k, MNK_OPERATOR, raw);
        if (e != MNK_OK) {
            api->cfg_where(cfg, "trusted_keys", where, sizeof where);
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: trusted_keys: %s: %s (an operator key expected)",
                     where, k, mnk_strerror(e));
            return MODNATS_ERR;
        }
        if (!add_key(&g_aj.trust.keys, k))
            return MODNATS_ERR;
    }
    return MODNATS_OK;
}

static modnats_rc load_resolver(const modnats_config *cfg)
{
    const modnats_host_api *api = g_aj.api;
    char where[256];
    const modnats_config *r = api->cfg_child(cfg, "resolver", 0);
    if (!r)
        return MODNATS_OK;
    api->cfg_where(cfg, "resolver", where, sizeof where);
    static const char *const known[] = { "type", "dir", "allow_delete", "interval", "limit",
                                         "timeout", "ttl", NULL };
    for (size_t i = 0; api->cfg_key(r, i); i++) {
        const char *k = api->cfg_key(r, i);
        size_t j = 0;
        while (known[j] && strcasecmp(known[j], k) != 0)
            j++;
        if (!known[j]) {
            api->cfg_where(r, k, where, sizeof where);
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: resolver has no option \"%s\"", where, k);
            return MODNATS_ERR;
        }
    }
    const char *type = NULL;
    if (api->cfg_string(r, "type", &type) != MODNATS_OK || !type) {
        api->log(g_aj.self, MODNATS_LOG_ERROR,
                 "%s: resolver needs a type: MEMORY, or full with a dir", where);
        return MODNATS_ERR;
    }
    if (!strcasecmp(type, "MEMORY") || !strcasecmp(type, "mem")) {
        g_aj.resolver = AJ_RES_MEMORY;
        return MODNATS_OK;
    }
    if (strcasecmp(type, "full") != 0) {
        api->log(g_aj.self, MODNATS_LOG_ERROR,
                 "%s: resolver type \"%s\" is not supported (MEMORY or full; the URL and cache "
                 "resolvers are not implemented)", where, type);
        return MODNATS_ERR;
    }
    g_aj.resolver = AJ_RES_FULL;
    const char *dir = NULL;
    if (api->cfg_string(r, "dir", &dir) != MODNATS_OK || !dir || !*dir) {
        api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: the full resolver needs a dir", where);
        return MODNATS_ERR;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        api->cfg_where(r, "dir", where, sizeof where);
        api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: resolver dir %s: %s", where, dir,
                 strerror(errno));
        return MODNATS_ERR;
    }
    if (!(g_aj.store.dir = strdup(dir)))
        return MODNATS_ERR;
    bool b = false;
    if (api->cfg_bool(r, "allow_delete", &b) == MODNATS_ERR) {
        api->cfg_where(r, "allow_delete", where, sizeof where);
        api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: allow_delete must be true or false", where);
        return MODNATS_ERR;
    }
    g_aj.store.allow_delete = b;
    int64_t lim = 0;
    if (api->cfg_int(r, "limit", &lim) == MODNATS_ERR || lim < 0) {
        api->cfg_where(r, "limit", where, sizeof where);
        api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: limit must be a number of accounts", where);
        return MODNATS_ERR;
    }
    g_aj.store.limit = lim;
    /* interval/timeout pace the sync between the servers of a cluster;
     * with one server there is nothing to sync: accepted, unused. */
    return MODNATS_OK;
}

/* Is j (an account JWT found at `from`) acceptable?  Logs why not. */
static bool account_ok(const char *from, const aj_jwt *j, const char *key)
{
    char err[256];
    if (key && strcmp(key, j->sub) != 0) {
        g_aj.api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: account JWT for %s is keyed as %s",
                      from, j->sub, key);
        return false;
    }
    if (!aj_trust_account(&g_aj.trust, j, err, sizeof err)) {
        g_aj.api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: %s", from, err);
        return false;
    }
    return true;
}

static bool dir_check(void *ud, const char *file, aj_jwt *j)
{
    (void)ud;
    if (!j) {
        g_aj.api->log(g_aj.self, MODNATS_LOG_WARN, "%s: not a valid account JWT, skipped", file);
        return false;
    }
    if (!account_ok(file, j, NULL)) {
        g_aj.api->log(g_aj.self, MODNATS_LOG_WARN, "%s: skipped", file);
        return false;
    }
    return true;
}

/* Every resolver_preload entry decoded and checked (key, trust) into *out
 * (n entries, each freed with aj_jwt_free, the array with free); nothing
 * is stored.  Logs file:line for the first bad entry. */
static modnats_rc decode_preload(const modnats_config *cfg, aj_jwt ***out, size_t *n)
{
    const modnats_host_api *api = g_aj.api;
    const modnats_config *p = api->cfg_child(cfg, "resolver_preload", 0);
    char where[256];
    *out = NULL;
    *n = 0;
    size_t cnt = 0;
    while (p && api->cfg_key(p, cnt))
        cnt++;
    if (cnt == 0)
        return MODNATS_OK;
    aj_jwt **v = calloc(cnt, sizeof *v);
    if (!v)
        return MODNATS_ERR;
    for (size_t i = 0; i < cnt; i++) {
        const char *k = api->cfg_key(p, i);
        const char *text = NULL;
        char err[256];
        api->cfg_where(p, k, where, sizeof where);
        if (api->cfg_string(p, k, &text) != MODNATS_OK || !text) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: resolver_preload: %s must be an account JWT",
                     where, k);
            goto fail;
        }
        if (!aj_jwt_decode(text, AJ_ACCOUNT, &v[i], err, sizeof err)) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "%s: resolver_preload: %s: %s", where, k, err);
            goto fail;
        }
        if (!account_ok(where, v[i], k))
            goto fail;
    }
    *out = v;
    *n = cnt;
    return MODNATS_OK;
fail:
    for (size_t i = 0; i < cnt; i++)
        aj_jwt_free(v[i]);
    free(v);
    return MODNATS_ERR;
}

static modnats_rc load_preload(const modnats_config *cfg)
{
    aj_jwt **v;
    size_t n;
    if (decode_preload(cfg, &v, &n) != MODNATS_OK)
        return MODNATS_ERR;
    modnats_rc rc = MODNATS_OK;
    for (size_t i = 0; i < n; i++) {
        char err[256], pub[MNK_STR_LEN + 1];
        snprintf(pub, sizeof pub, "%s", v[i]->sub);
        if (rc == MODNATS_OK && aj_store_put(&g_aj.store, v[i], err, sizeof err) == AJ_PUT_ERR) {
            g_aj.api->log(g_aj.self, MODNATS_LOG_ERROR, "resolver_preload: %s: %s", pub, err);
            rc = MODNATS_ERR;
        } else if (rc != MODNATS_OK) {
            aj_jwt_free(v[i]);   /* put takes the others over */
        }
    }
    free(v);
    return rc;
}

/* What a reload cannot change without a restart: the trusted operators and
 * keys, the resolver's type and directory (malloc'd text). */
static char *restart_settings(const modnats_config *cfg)
{
    const modnats_host_api *api = g_aj.api;
    size_t cap = 256, len = 0;
    char *s = malloc(cap);
    static const char *const lists[] = { "operator", "trusted_keys" };
    for (size_t l = 0; s && l < 2; l++) {
        size_t n = api->cfg_list_len(cfg, lists[l]);
        for (size_t i = 0; s && i <= n; i++) {
            const char *v = i < n ? api->cfg_list_string(cfg, lists[l], i) : "|";
            size_t vl = strlen(v ? v : "");
            if (len + vl + 2 > cap) {
                char *ns = realloc(s, cap = (len + vl + 2) * 2);
                if (!ns) {
                    free(s);
                    return NULL;
                }
                s = ns;
            }
            memcpy(s + len, v ? v : "", vl);
            len += vl;
            s[len++] = '\n';
        }
    }
    const modnats_config *r = api->cfg_child(cfg, "resolver", 0);
    const char *type = "", *dir = "";
    if (r) {
        api->cfg_string(r, "type", &type);
        api->cfg_string(r, "dir", &dir);
    }
    if (s) {
        char *out = NULL;
        if (asprintf(&out, "%.*sresolver %s %s", (int)len, s, type ? type : "",
                     dir ? dir : "") < 0)
            out = NULL;
        free(s);
        s = out;
    }
    return s;
}

/* SIGHUP: resolver_preload again (nats-server reloads it too).  New and
 * changed accounts are stored and applied; with the MEMORY resolver an
 * account left out is removed and its users closed.  All entries are
 * checked before any is used; operators and the resolver itself need a
 * restart. */
static modnats_rc on_reload(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    const modnats_config *cfg = ((modnats_reload_event *)ev)->cfg;
    const modnats_host_api *api = g_aj.api;
    char *now = restart_settings(cfg);
    if (!now || !g_aj.restart_settings || strcmp(now, g_aj.restart_settings) != 0) {
        free(now);
        api->log(g_aj.self, MODNATS_LOG_ERROR, "operator, trusted_keys and resolver changes "
                 "need a restart");
        return MODNATS_ERR;
    }
    free(now);
    aj_jwt **v;
    size_t n;
    if (decode_preload(cfg, &v, &n) != MODNATS_OK)
        return MODNATS_ERR;
    aj_strv before = { NULL, 0 };
    if (g_aj.resolver == AJ_RES_MEMORY && !aj_store_keys(&g_aj.store, &before)) {
        for (size_t i = 0; i < n; i++)
            aj_jwt_free(v[i]);
        free(v);
        return MODNATS_ERR;
    }
    aj_strv kept = { calloc(n ? n : 1, sizeof(char *)), 0 };
    for (size_t i = 0; i < n; i++) {
        char err[256], pub[MNK_STR_LEN + 1];
        snprintf(pub, sizeof pub, "%s", v[i]->sub);
        if (kept.v && (kept.v[kept.n] = strdup(pub)))
            kept.n++;
        aj_put put = aj_store_put(&g_aj.store, v[i], err, sizeof err);   /* takes v[i] */
        if (put == AJ_PUT_ERR) {
            api->log(g_aj.self, MODNATS_LOG_WARN, "resolver_preload: %s kept as it was: %s", pub,
                     err);
        } else if (put != AJ_PUT_SAME) {
            aj_apply_changed(pub);
            aj_logins_revoke(pub, false);
            api->log(g_aj.self, MODNATS_LOG_INFO, "Account %s %s", pub,
                     put == AJ_PUT_NEW ? "added" : "updated");
        }
    }
    free(v);
    for (size_t i = 0; kept.v && i < before.n; i++) {
        if (aj_strv_has(&kept, before.v[i]) || !aj_store_delete(&g_aj.store, before.v[i]))
            continue;
        aj_apply_changed(before.v[i]);
        aj_logins_revoke(before.v[i], true);
        api->log(g_aj.self, MODNATS_LOG_INFO, "Account %s removed", before.v[i]);
    }
    aj_strv_free(&before);
    aj_strv_free(&kept);
    return MODNATS_OK;
}

/* ------------------------------------------------------ module entry */

static modnats_rc init(modnats_module *self, const modnats_host_api *api,
                       const modnats_config *cfg)
{
    g_aj.api = api;
    g_aj.self = self;
    aj_store_init(&g_aj.store);
    aj_logins_init();
    char where[256];
    if (load_operators(cfg) != MODNATS_OK || load_resolver(cfg) != MODNATS_OK)
        return MODNATS_ERR;
    bool operator_mode = g_aj.trust.keys.n > 0;
    api->cfg_where(cfg, NULL, where, sizeof where);
    if (!operator_mode && (g_aj.resolver != AJ_RES_NONE ||
                           api->cfg_child(cfg, "resolver_preload", 0))) {
        api->log(g_aj.self, MODNATS_LOG_ERROR,
                 "%s: a resolver needs a trusted operator (operator or trusted_keys)", where);
        return MODNATS_ERR;
    }
    if (operator_mode && g_aj.resolver == AJ_RES_NONE) {
        api->log(g_aj.self, MODNATS_LOG_ERROR,
                 "%s: operator mode needs a resolver (resolver: MEMORY with resolver_preload, "
                 "or resolver { type: full, dir: ... })", where);
        return MODNATS_ERR;
    }
    if (load_preload(cfg) != MODNATS_OK || !(g_aj.restart_settings = restart_settings(cfg)))
        return MODNATS_ERR;
    if (g_aj.resolver == AJ_RES_FULL) {
        char err[256] = "";
        size_t n = aj_store_load_dir(&g_aj.store, dir_check, NULL, err, sizeof err);
        if (err[0]) {
            api->log(g_aj.self, MODNATS_LOG_ERROR, "resolver: %s", err);
            return MODNATS_ERR;
        }
        api->log(g_aj.self, MODNATS_LOG_INFO, "Resolver directory %s: %zu account(s)",
                 g_aj.store.dir, n);
    }

    /* the system account: configured here, or by the top-level
     * system_account (auth_basic sets it, loading before us), else the
     * first operator's */
    const char *sys = NULL;
    modnats_account *cur = MODNATS_HAS(api, account_system) ? api->account_system() : NULL;
    if (api->cfg_string(cfg, "system_account", &sys) == MODNATS_OK && sys) {
        g_aj.system_account = strdup(sys);
    } else if (cur) {
        g_aj.system_account = strdup(api->account_name(cur));
    } else {
        for (size_t i = 0; i < g_aj.trust.noperators && !g_aj.system_account; i++)
            if (g_aj.trust.operators[i]->u.op.system_account)
                g_aj.system_account = strdup(g_aj.trust.operators[i]->u.op.system_account);
    }
    if (g_aj.system_account) {
        modnats_account *a = api->account_get_or_create(g_aj.system_account);
        if (!a)
            return MODNATS_ERR;
        if (MODNATS_HAS(api, account_set_system))
            api->account_set_system(a);
        else
            api->log(self, MODNATS_LOG_WARN, "this core cannot set the system account "
                     "(ABI %u.%u): $SYS events are not tied to %s", api->abi_major,
                     api->abi_minor, g_aj.system_account);
        api->log(self, MODNATS_LOG_INFO, "System account %s", g_aj.system_account);
    }
    if (!operator_mode)
        return MODNATS_OK;

    aj_apply_all();
    aj_js_register();
    if (api->require_nonce(self) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_AUTH, AJ_AUTH_PRIORITY, aj_on_auth, NULL) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_CONNECT, 0, aj_on_connect, NULL) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_DISCONNECT, 0, aj_on_disconnect, NULL) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_RELOAD, 0, on_reload, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    if (aj_sys_start() != MODNATS_OK)
        return MODNATS_ERR;
    api->log(self, MODNATS_LOG_INFO, "Operator mode: %zu trusted key(s), %s resolver",
             g_aj.trust.keys.n, g_aj.resolver == AJ_RES_FULL ? "full (directory)" : "MEMORY");
    return MODNATS_OK;
}

static void fini(modnats_module *self)
{
    (void)self;
    aj_sys_stop();
    aj_logins_free();
    for (size_t i = 0; i < g_aj.trust.noperators; i++)
        aj_jwt_free(g_aj.trust.operators[i]);
    free(g_aj.trust.operators);
    aj_strv_free(&g_aj.trust.keys);
    aj_store_free(&g_aj.store);
    free(g_aj.system_account);
    free(g_aj.restart_settings);
    memset(&g_aj, 0, sizeof g_aj);
}

static const modnats_module_desc desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "auth_jwt",
    .version = "0.1",
    .description = "decentralized JWT authentication (operator mode) and account resolvers",
    .options = options,
    .init = init,
    .fini = fini,
};

MODNATS_MODULE(auth_jwt) { return &desc; }
