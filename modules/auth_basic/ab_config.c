/*
 * ab_config.c - read and validate auth_basic's settings group.
 *
 * The group is nats-server's `authorization` block: `token`, or `user` and
 * `password`, or a `users` list of { user; password; permissions; },
 * `default_permissions` for list users without their own, and
 * `no_auth_user`; users may be nkey users ({ nkey = "U..."; }), and an
 * `accounts` group binds users to named accounts.  Permissions follow nats-server's shapes: `publish` and
 * `subscribe` are a subject, a list of subjects (allow) or a group
 * { allow; deny; }; `allow_responses` is a bool or { max; expires; }.
 * Every problem is logged, with its place ("authorization.users[1].password"),
 * and makes init fail; nothing is half-applied.
 */
#include "ab.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct ab_ctx {
    const modnats_host_api *api;
    modnats_module         *self;
    int                     errors;
} ab_ctx;

#define AB_GROUP "authorization"

static void problem(ab_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(ab_ctx *x, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    x->errors++;
    x->api->log(x->self, MODNATS_LOG_ERROR, "%s", buf);
}

/* ------------------------------------------------------------ strings */

static bool strv_push(ab_strv *v, const char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        char **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return false;
        v->v = nv;
        v->cap = cap;
    }
    char *d = strdup(s);
    if (!d)
        return false;
    v->v[v->n++] = d;
    return true;
}

static void strv_free(ab_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    *v = (ab_strv){ 0 };
}

/* ------------------------------------------------------------ subjects */

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f'; }

static bool subject_valid_n(const char *s, size_t n)
{
    if (n == 0)
        return false;
    size_t tok = 0;   /* length of the current token */
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (is_blank(ch) || ch == '\0')
            return false;
        if (ch == '.') {
            if (tok == 0)
                return false;
            /* ">" is a whole token and only the last one */
            if (tok == 1 && s[i - 1] == '>')
                return false;
            tok = 0;
        } else {
            tok++;
        }
    }
    return tok > 0;
}

bool ab_subject_valid(const char *s, bool allow_queue)
{
    if (!s)
        return false;
    const char *sp = strchr(s, ' ');
    if (!sp || !allow_queue)
        return subject_valid_n(s, strlen(s));
    /* "subject queue": a queue-group permission */
    const char *q = sp + 1;
    if (!subject_valid_n(s, (size_t)(sp - s)) || !*q)
        return false;
    for (; *q; q++)
        if (is_blank(*q))
            return false;
    return true;
}

/* ------------------------------------------------------------ durations */

bool ab_duration_ms(const char *s, int64_t *out_ms)
{
    if (!s || !*s)
        return false;
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return true;
    }
    double total_ms = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
        char *end;
        double v = strtod(s, &end);
        if (end == s)
            return false;
        s = end;
        static const struct { const char *u; double ms; } units[] = {
            { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "\xce\xbcs", 1e-3 },
            { "ms", 1 }, { "s", 1e3 }, { "m", 60e3 }, { "h", 3600e3 },
        };
        size_t best = 0, bestlen = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].u);
            if (ul > bestlen && strncmp(s, units[i].u, ul) == 0) {
                best = i;
                bestlen = ul;
            }
        }
        if (bestlen == 0)
            return false;   /* Go wants a unit on every number */
        total_ms += v * units[best].ms;
        s += bestlen;
    }
    if (total_ms > 9.2e15)
        return false;
    *out_ms = (int64_t)llround(neg ? -total_ms : total_ms);
    return true;
}

/* ------------------------------------------------------ typed reads */

/* Read a string under any of the names in keys (aliases).  Returns OK,
 * ENOTFOUND, or ERR after logging a type error. */
static modnats_rc get_string(ab_ctx *x, const modnats_config *g, const char *path,
                             const char *const *keys, const char **out)
{
    for (; *keys; keys++) {
        modnats_rc rc = x->api->cfg_string(g, *keys, out);
        if (rc == MODNATS_OK)
            return MODNATS_OK;
        if (rc != MODNATS_ENOTFOUND) {
            problem(x, "%s.%s must be a string", path, *keys);
            return MODNATS_ERR;
        }
    }
    return MODNATS_ENOTFOUND;
}

/* A subject or a list of subjects under key; appended to out.  Returns
 * false if key is there but holds something else. */
static bool read_subjects(ab_ctx *x, const modnats_config *g, const char *path, const char *key,
                          bool queue_ok, ab_strv *out, bool *present)
{
    const char *s = NULL;
    modnats_rc rc = x->api->cfg_string(g, key, &s);
    size_t n = 0;
    *present = false;
    if (rc == MODNATS_OK) {
        *present = true;
        n = 1;
    } else {
        n = x->api->cfg_list_len(g, key);
        if (n == 0)
            return true;
        *present = true;
    }
    for (size_t i = 0; i < n; i++) {
        const char *subj = rc == MODNATS_OK ? s : x->api->cfg_list_string(g, key, i);
        if (!subj) {
            problem(x, "%s.%s must be a subject or a list of subjects", path, key);
            return false;
        }
        if (!ab_subject_valid(subj, queue_ok)) {
            problem(x, "%s.%s: subject \"%s\" is not a valid subject", path, key, subj);
            continue;
        }
        if (!strv_push(out, subj)) {
            problem(x, "out of memory");
            return false;
        }
    }
    return true;
}

/* publish / subscribe: a subject, a list (allow), or { allow; deny; }. */
static void read_subject_perm(ab_ctx *x, const modnats_config *pg, const char *path,
                              const char *const *keys, bool queue_ok,
                              ab_strv *allow, ab_strv *deny, bool *seen)
{
    for (; *keys; keys++) {
        const char *key = *keys;
        const char *s = NULL;
        modnats_rc rc = x->api->cfg_string(pg, key, &s);
        bool is_list = rc == MODNATS_OK ||
                       (x->api->cfg_list_len(pg, key) > 0 && x->api->cfg_list_string(pg, key, 0));
        if (is_list) {
            bool present;
            read_subjects(x, pg, path, key, queue_ok, allow, &present);
            *seen = true;
            continue;
        }
        const modnats_config *g = x->api->cfg_child(pg, key, 0);
        if (g) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            bool pa, pd;
            read_subjects(x, g, sub, "allow", queue_ok, allow, &pa);
            read_subjects(x, g, sub, "deny", queue_ok, deny, &pd);
            *seen = true;
            continue;
        }
        if (x->api->cfg_list_len(pg, key) > 0 || (rc != MODNATS_OK && rc != MODNATS_ENOTFOUND))
            problem(x, "%s.%s must be a subject, a list of subjects or a group { allow; deny; }",
                    path, key);
    }
}

/* allow_responses: true/false, or { max; expires; } */
static void read_responses(ab_ctx *x, const modnats_config *pg, const char *path, ab_perms *p)
{
    static const char *const keys[] = { "allow_responses", "publish_allow_responses", NULL };
    for (const char *const *k = keys; *k; k++) {
        bool b = false;
        modnats_rc rc = x->api->cfg_bool(pg, *k, &b);
        if (rc == MODNATS_OK) {
            if (b) {
                p->allow_responses = true;
                p->resp_max = AB_RESP_DEFAULT_MAX;
                p->resp_expires_ms = AB_RESP_DEFAULT_EXPIRES_MS;
            }
            continue;
        }
        const modnats_config *g = x->api->cfg_child(pg, *k, 0);
        if (!g) {
            if (rc != MODNATS_ENOTFOUND)
                problem(x, "%s.%s must be true, false or a group { max; expires; }", path, *k);
            continue;
        }
        p->allow_responses = true;
        p->resp_max = AB_RESP_DEFAULT_MAX;
        p->resp_expires_ms = AB_RESP_DEFAULT_EXPIRES_MS;

        static const char *const maxk[] = { "max", "max_msgs", "max_messages", "max_responses", NULL };
        for (const char *const *m = maxk; *m; m++) {
            int64_t v = 0;
            modnats_rc r = x->api->cfg_int(g, *m, &v);
            if (r == MODNATS_ENOTFOUND)
                continue;
            if (r != MODNATS_OK) {
                problem(x, "%s.%s.%s must be an integer", path, *k, *m);
                continue;
            }
            /* as nats-server: 0 keeps the default, negative is unlimited */
            if (v < 0 || v > UINT32_MAX)
                p->resp_max = UINT32_MAX;
            else if (v > 0)
                p->resp_max = (uint32_t)v;
        }
        static const char *const expk[] = { "expires", "expiration", "ttl", NULL };
        for (const char *const *e = expk; *e; e++) {
            const char *s = NULL;
            int64_t ms = 0;
            modnats_rc r = x->api->cfg_string(g, *e, &s);
            if (r == MODNATS_OK) {
                if (!ab_duration_ms(s, &ms)) {
                    problem(x, "%s.%s.%s: \"%s\" is not a duration (e.g. \"1m\", \"500ms\")",
                            path, *k, *e, s);
                    continue;
                }
            } else if (r == MODNATS_ENOTFOUND) {
                continue;
            } else if (x->api->cfg_int(g, *e, &ms) == MODNATS_OK) {
                ms *= 1000;   /* a bare number is seconds, as elsewhere in modnats */
            } else {
                problem(x, "%s.%s.%s must be a duration", path, *k, *e);
                continue;
            }
            if (ms < 0)
                p->resp_expires_ms = 0;   /* unlimited */
            else if (ms > 0)
                p->resp_expires_ms = (uint64_t)ms;
        }
    }
}

static void perms_free(ab_perms *p)
{
    if (!p)
        return;
    strv_free(&p->pub_allow);
    strv_free(&p->pub_deny);
    strv_free(&p->sub_allow);
    strv_free(&p->sub_deny);
    free(p);
}

/* A permissions group under one of keys in g; NULL when absent or on
 * error (x->errors tells). */
static ab_perms *read_perms(ab_ctx *x, const modnats_config *g, const char *path,
                            const char *const *keys)
{
    for (; *keys; keys++) {
        const modnats_config *pg = x->api->cfg_child(g, *keys, 0);
        if (!pg) {
            const char *s;
            if (x->api->cfg_string(g, *keys, &s) != MODNATS_ENOTFOUND ||
                x->api->cfg_list_len(g, *keys) > 0)
                problem(x, "%s.%s must be a group { publish; subscribe; allow_responses; }",
                        path, *keys);
            continue;
        }
        char ppath[256];
        snprintf(ppath, sizeof ppath, "%s.%s", path, *keys);
        ab_perms *p = calloc(1, sizeof *p);
        if (!p) {
            problem(x, "out of memory");
            return NULL;
        }
        static const char *const pubk[] = { "publish", "pub", "import", NULL };
        static const char *const subk[] = { "subscribe", "sub", "export", NULL };
        bool pub_seen = false, sub_seen = false;
        read_subject_perm(x, pg, ppath, pubk, false, &p->pub_allow, &p->pub_deny, &pub_seen);
        read_subject_perm(x, pg, ppath, subk, true, &p->sub_allow, &p->sub_deny, &sub_seen);
        read_responses(x, pg, ppath, p);
        /* As nats-server: allow_responses without a publish allow list
         * allows publishing to reply subjects only.  The ABI reads an
         * empty allow list as "everything", so say it with deny ">"
         * (a response permission overrides the lists). */
        if (p->allow_responses && p->pub_allow.n == 0 && !strv_push(&p->pub_deny, ">"))
            problem(x, "out of memory");
        return p;
    }
    return NULL;
}

/* ---------------------------------------------------------------- users */

static bool check_secret(ab_ctx *x, const char *path, const char *what, const char *secret,
                         bool *bcrypt)
{
    *bcrypt = ab_is_bcrypt(secret);
    if (*bcrypt && !ab_bcrypt_well_formed(secret)) {
        problem(x, "%s.%s looks like a bcrypt hash (\"$2a$NN$...\") but is not a valid one "
                   "(60 characters, cost 04-31)", path, what);
        return false;
    }
    if (!*secret) {
        problem(x, "%s.%s must not be empty", path, what);
        return false;
    }
    return true;
}

/* Refuse keys of group g (at path) that are not in known; the ones in
 * unsupported get a message of their own.  Needs cfg_key (ABI 1.0 cores
 * without it skip the check). */
static void check_keys(ab_ctx *x, const modnats_config *g, const char *path,
                       const char *const *known, const char *const *unsupported)
{
    if (!MODNATS_HAS(x->api, cfg_key))
        return;
    const char *k;
    for (size_t i = 0; (k = x->api->cfg_key(g, i)) != NULL; i++) {
        bool ok = false, unsup = false;
        for (const char *const *p = known; *p && !ok; p++)
            ok = strcasecmp(*p, k) == 0;
        for (const char *const *p = unsupported; p && *p && !unsup; p++)
            unsup = strcasecmp(*p, k) == 0;
        if (unsup)
            problem(x, "%s.%s is not supported by auth_basic (yet)", path, k);
        else if (!ok)
            problem(x, "%s: unknown setting \"%s\"", path, k);
    }
}

/* Is name already a user (password users by name, nkey users by key)? */
static bool user_listed(const ab_conf *c, const char *name, bool nkey)
{
    for (size_t j = 0; j < c->nusers; j++)
        if (c->users[j].is_nkey == nkey && strcmp(c->users[j].name, name) == 0)
            return true;
    return false;
}

/* The users list in g (the authorization group, or an account's group),
 * appended to c->users; account is NULL for the global account.  where is
 * the list's path for messages ("authorization.users"). */
static void read_users(ab_ctx *x, const modnats_config *g, const char *where,
                       const char *account, ab_conf *c)
{
    size_t n = x->api->cfg_list_len(g, "users");
    if (n == 0)
        return;
    ab_user *grown = realloc(c->users, (c->nusers + n) * sizeof *c->users);
    if (!grown) {
        problem(x, "out of memory");
        return;
    }
    c->users = grown;
    static const char *const userk[] = { "user", "username", NULL };
    static const char *const passk[] = { "password", "pass", NULL };
    static const char *const permk[] = { "permissions", "permission", "authorization", NULL };
    static const char *const nkeyk[] = { "nkey", NULL };
    static const char *const known[] = { "user", "username", "password", "pass", "nkey",
                                         "permissions", "permission", "authorization", NULL };
    static const char *const unsupported[] = { "allowed_connection_types", "account", NULL };
    for (size_t i = 0; i < n; i++) {
        char path[192];
        snprintf(path, sizeof path, "%s[%zu]", where, i);
        const modnats_config *u = x->api->cfg_child(g, "users", i);
        if (!u) {
            problem(x, "%s must be a group { user; password; permissions; } or { nkey; permissions; }",
                    path);
            continue;
        }
        check_keys(x, u, path, known, unsupported);
        const char *name = NULL, *pass = NULL, *nkey = NULL;
        modnats_rc rn = get_string(x, u, path, userk, &name);
        modnats_rc rp = get_string(x, u, path, passk, &pass);
        modnats_rc rk = get_string(x, u, path, nkeyk, &nkey);
        if (rn == MODNATS_ERR || rp == MODNATS_ERR || rk == MODNATS_ERR)
            continue;
        ab_user nu = { 0 };
        if (rk == MODNATS_OK) {
            if (rn == MODNATS_OK || rp == MODNATS_OK) {
                problem(x, "%s: an nkey user takes no user or password", path);
                continue;
            }
            mnk_err e = mnk_decode(nkey, MNK_USER, nu.nkey_raw);
            if (e != MNK_OK) {
                problem(x, "%s.nkey: \"%s\" is not a user public key (%s)", path, nkey,
                        mnk_strerror(e));
                continue;
            }
            if (user_listed(c, nkey, true)) {
                problem(x, "%s: nkey \"%s\" is listed twice", path, nkey);
                continue;
            }
            nu.is_nkey = true;
            name = nkey;
        } else {
            if (rn != MODNATS_OK || !*name) {
                problem(x, "%s: needs a user (or an nkey)", path);
                continue;
            }
            if (user_listed(c, name, false)) {
                problem(x, "%s: user \"%s\" is listed twice", path, name);
                continue;
            }
            /* No password: a user that only a TLS certificate names
             * (tls verify_and_map), as nats-server allows. */
            if (rp == MODNATS_OK && !check_secret(x, path, "password", pass, &nu.bcrypt))
                continue;
            if (rp != MODNATS_OK)
                pass = NULL;
        }
        nu.name = strdup(name);
        nu.password = nu.is_nkey || !pass ? NULL : strdup(pass);
        nu.account = account ? strdup(account) : NULL;
        if (!nu.name || (!nu.is_nkey && pass && !nu.password) || (account && !nu.account)) {
            free(nu.name);
            free(nu.password);
            free(nu.account);
            problem(x, "out of memory");
            continue;
        }
        nu.perms = read_perms(x, u, path, permk);
        nu.own_perms = nu.perms != NULL;
        c->nnkeys += nu.is_nkey;
        c->users[c->nusers++] = nu;
    }
}

/* accounts = { A = { users = (...); default_permissions = {...}; }; ... }:
 * nats-server's accounts, with their imports and exports (ab_io.c). */
static void read_accounts(ab_ctx *x, const modnats_config *cfg, ab_conf *c)
{
    const modnats_config *ag = x->api->cfg_child(cfg, "accounts", 0);
    if (!ag) {
        const char *s;
        if (x->api->cfg_string(cfg, "accounts", &s) != MODNATS_ENOTFOUND ||
            x->api->cfg_list_len(cfg, "accounts") > 0)
            problem(x, "accounts must be a group { NAME = { users = (...); }; ... }");
        return;
    }
    if (!MODNATS_HAS(x->api, cfg_key)) {
        problem(x, "accounts: this server cannot list the accounts group (no cfg_key)");
        return;
    }
    static const char *const known[] = { "users", "default_permissions", "default_permission",
                                         "nkey", "imports", "exports", "limits", "jetstream",
                                         NULL };
    static const char *const unsupported[] = { "mappings", "msg_trace", NULL };
    static const char *const defk[] = { "default_permissions", "default_permission", NULL };
    const char *name;
    for (size_t i = 0; (name = x->api->cfg_key(ag, i)) != NULL; i++) {
        char path[160];
        snprintf(path, sizeof path, "accounts.%s", name);
        bool dup = false;
        for (size_t j = 0; j < c->accounts.n; j++)
            dup |= strcasecmp(c->accounts.v[j], name) == 0;
        if (dup) {
            problem(x, "%s: account \"%s\" is declared twice (names ignore case)", path, name);
            continue;
        }
        if (strcmp(name, "$G") == 0) {
            problem(x, "%s: \"$G\" is the global account; it cannot be declared", path);
            continue;
        }
        if (!strv_push(&c->accounts, name)) {
            problem(x, "out of memory");
            return;
        }
        const modnats_config *a = x->api->cfg_child(ag, name, 0);
        if (!a) {
            problem(x, "%s must be a group { users = (...); }", path);
            continue;
        }
        check_keys(x, a, path, known, unsupported);
        const char *akey = NULL;
        static const char *const nkeyk[] = { "nkey", NULL };
        if (get_string(x, a, path, nkeyk, &akey) == MODNATS_OK) {
            uint8_t raw[MNK_RAW_LEN];
            mnk_err e = mnk_decode(akey, MNK_ACCOUNT, raw);
            if (e != MNK_OK)
                problem(x, "%s.nkey: \"%s\" is not an account public key (%s)", path, akey,
                        mnk_strerror(e));
        }
        x->errors += ab_io_read(x->api, x->self, a, name, c);
        x->errors += ab_js_read(x->api, x->self, a, name, c);
        char upath[192];
        snprintf(upath, sizeof upath, "%s.users", path);
        size_t first = c->nusers;
        read_users(x, a, upath, name, c);
        ab_perms *def = read_perms(x, a, path, defk);
        if (def) {
            ab_perms **grown = realloc(c->acct_defaults, (c->nacct_defaults + 1) * sizeof *grown);
            if (!grown) {
                perms_free(def);
                problem(x, "out of memory");
                continue;
            }
            c->acct_defaults = grown;
            c->acct_defaults[c->nacct_defaults++] = def;
            for (size_t j = first; j < c->nusers; j++)
                if (!c->users[j].perms)
                    c->users[j].perms = def;
        }
    }
}

/* ------------------------------------------------------------ the model */

void ab_conf_free(ab_conf *c)
{
    if (!c)
        return;
    free(c->token);
    free(c->single.name);
    free(c->single.password);
    for (size_t i = 0; i < c->nusers; i++) {
        free(c->users[i].name);
        free(c->users[i].password);
        free(c->users[i].account);
        if (c->users[i].own_perms)
            perms_free(c->users[i].perms);
    }
    free(c->users);
    perms_free(c->defaults);
    for (size_t i = 0; i < c->nacct_defaults; i++)
        perms_free(c->acct_defaults[i]);
    free(c->acct_defaults);
    strv_free(&c->accounts);
    ab_js_free(c);
    ab_io_free(c);
    *c = (ab_conf){ 0 };
}

modnats_rc ab_conf_load(const modnats_host_api *api, modnats_module *self,
                        const modnats_config *cfg, ab_conf *out)
{
    ab_ctx x = { .api = api, .self = self };
    ab_conf c = { 0 };
    *out = (ab_conf){ 0 };
    if (!cfg)
        return MODNATS_OK;   /* no settings: the module defers every login */

    static const char *const userk[] = { "user", "username", NULL };
    static const char *const passk[] = { "password", "pass", NULL };
    static const char *const tokk[] = { "token", NULL };
    static const char *const noauthk[] = { "no_auth_user", NULL };
    static const char *const sysk[] = { "system_account", NULL };
    const char *sysacc = NULL;
    if (get_string(&x, cfg, AB_GROUP, sysk, &sysacc) == MODNATS_OK) {
        if (!*sysacc || !(c.system_account = strdup(sysacc)))
            problem(&x, "system_account must name an account");
    }
    static const char *const defk[] = { "default_permissions", "default_permission",
                                        "permissions", NULL };
    const char *user = NULL, *pass = NULL, *token = NULL, *noauth = NULL;
    modnats_rc ru = get_string(&x, cfg, AB_GROUP, userk, &user);
    modnats_rc rp = get_string(&x, cfg, AB_GROUP, passk, &pass);
    modnats_rc rt = get_string(&x, cfg, AB_GROUP, tokk, &token);
    modnats_rc rn = get_string(&x, cfg, AB_GROUP, noauthk, &noauth);
    bool has_user = ru == MODNATS_OK, has_pass = rp == MODNATS_OK, has_token = rt == MODNATS_OK;

    read_users(&x, cfg, AB_GROUP ".users", NULL, &c);
    size_t nglobal = c.nusers;   /* users of authorization, not of an account */
    c.defaults = read_perms(&x, cfg, AB_GROUP, defk);
    read_accounts(&x, cfg, &c);
    bool has_users = api->cfg_list_len(cfg, "users") > 0 || c.nusers > 0;

    if (has_token && (has_user || has_pass))
        problem(&x, AB_GROUP ": a token cannot be combined with user/password");
    if (has_users && has_token)
        problem(&x, AB_GROUP ": a token cannot be combined with a users list (or accounts users)");
    if (has_users && (has_user || has_pass))
        problem(&x, AB_GROUP ": a single user/password cannot be combined with a users list "
                    "(or accounts users)");
    if (has_user && !has_pass)
        problem(&x, AB_GROUP ": user \"%s\" has no password", user);
    if (has_pass && !has_user)
        problem(&x, AB_GROUP ": a password needs a user");
    if (has_user && !*user)
        problem(&x, AB_GROUP ".user must not be empty");

    if (has_token) {
        c.mode = AB_MODE_TOKEN;
        if (check_secret(&x, AB_GROUP, "token", token, &c.token_bcrypt) &&
            !(c.token = strdup(token)))
            problem(&x, "out of memory");
    } else if (has_user && has_pass) {
        c.mode = AB_MODE_USER;
        if (check_secret(&x, AB_GROUP, "password", pass, &c.single.bcrypt) &&
            (!(c.single.name = strdup(user)) || !(c.single.password = strdup(pass))))
            problem(&x, "out of memory");
    } else if (has_users) {
        c.mode = AB_MODE_USERS;
    }

    if (rn == MODNATS_OK) {
        if (!has_users) {
            problem(&x, "no_auth_user \"%s\" is set, but there is no users list", noauth);
        } else {
            /* as nats-server: a user name, never an nkey */
            for (size_t i = 0; i < c.nusers; i++)
                if (!c.users[i].is_nkey && strcmp(c.users[i].name, noauth) == 0)
                    c.no_auth = &c.users[i];
            if (!c.no_auth)
                problem(&x, "no_auth_user \"%s\" is not a user of " AB_GROUP ".users or of an account",
                        noauth);
        }
    }
    if (c.defaults) {
        if (!has_users)
            api->log(self, MODNATS_LOG_WARN,
                     AB_GROUP ".default_permissions only apply to users of a users list; ignored");
        for (size_t i = 0; i < nglobal; i++)
            if (!c.users[i].perms)
                c.users[i].perms = c.defaults;
    }

    if (x.errors) {
        ab_conf_free(&c);
        return MODNATS_ERR;
    }
    *out = c;
    return MODNATS_OK;
}

void ab_perms_export(const ab_perms *p, modnats_permissions *out)
{
    *out = (modnats_permissions){ .size = sizeof *out };
    out->pub_allow = (const char *const *)p->pub_allow.v;  out->n_pub_allow = p->pub_allow.n;
    out->pub_deny  = (const char *const *)p->pub_deny.v;   out->n_pub_deny  = p->pub_deny.n;
    out->sub_allow = (const char *const *)p->sub_allow.v;  out->n_sub_allow = p->sub_allow.n;
    out->sub_deny  = (const char *const *)p->sub_deny.v;   out->n_sub_deny  = p->sub_deny.n;
    out->allow_responses = p->allow_responses;
    out->responses_max_msgs = p->resp_max;
    out->responses_expires_ms = p->resp_expires_ms;
}
