/*
 * ab_io.c - accounts' exports and imports, in nats-server's shapes:
 *
 *   exports = ( { stream = "a.>"; },
 *               { service = "svc.>"; accounts = ("B"); response_type = "stream";
 *                 response_threshold = "1s"; } );
 *   imports = ( { stream = { account = "A"; subject = "a.>"; }; prefix = "from_a"; },
 *               { service = { account = "A"; subject = "svc.x"; }; to = "x"; } );
 *
 * read at init (problems as "file:line: problem"), applied through the
 * core's ABI 1.1 calls once every account exists.  An import that no
 * export allows stops the server, as nats-server's
 * 'Error adding stream import "a.>": stream import not authorized'.
 */
#include "ab.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct io_ctx {
    const modnats_host_api *api;
    modnats_module         *self;
    size_t                  errors;
} io_ctx;

static void fail(io_ctx *x, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(io_ctx *x, const char *where, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    x->errors++;
    x->api->log(x->self, MODNATS_LOG_ERROR, "%s: %s", where, buf);
}

static bool sv_push(ab_strv *v, const char *s)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        char **nv = realloc(v->v, cap * sizeof *nv);
        if (!nv)
            return false;
        v->v = nv;
        v->cap = cap;
    }
    if (!(v->v[v->n] = strdup(s)))
        return false;
    v->n++;
    return true;
}

static bool valid_subject(const char *s)
{
    if (!s || !*s || s[0] == '.' || s[strlen(s) - 1] == '.' || strstr(s, ".."))
        return false;
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return false;
    return true;
}

static const char *where_of(io_ctx *x, const modnats_config *g, const char *key, char *buf,
                            size_t len)
{
    if (MODNATS_HAS(x->api, cfg_where))
        return x->api->cfg_where(g, key, buf, len);
    snprintf(buf, len, "configuration");
    return buf;
}

static void check_known(io_ctx *x, const modnats_config *g, const char *where,
                        const char *const *known)
{
    if (!MODNATS_HAS(x->api, cfg_key))
        return;
    const char *k;
    for (size_t i = 0; (k = x->api->cfg_key(g, i)) != NULL; i++) {
        bool ok = false;
        for (const char *const *p = known; *p && !ok; p++)
            ok = strcasecmp(*p, k) == 0;
        if (!ok)
            fail(x, where, "unknown field \"%s\"", k);
    }
}

static ab_io *new_io(io_ctx *x, ab_conf *c, const char *account, const char *where)
{
    ab_io *v = realloc(c->io, (c->nio + 1) * sizeof *v);
    if (!v) {
        fail(x, where, "out of memory");
        return NULL;
    }
    c->io = v;
    ab_io *e = &c->io[c->nio++];
    *e = (ab_io){ 0 };
    snprintf(e->where, sizeof e->where, "%s", where);
    e->account = strdup(account);
    return e;
}

static void read_export(io_ctx *x, const modnats_config *g, const char *acct, ab_conf *c)
{
    char where[160];
    where_of(x, g, NULL, where, sizeof where);
    static const char *const known[] = { "stream", "service", "accounts", "response_type",
                                         "response", "response_threshold", "threshold", NULL };
    check_known(x, g, where, known);
    const char *st = NULL, *sv = NULL;
    bool has_st = x->api->cfg_string(g, "stream", &st) == MODNATS_OK;
    bool has_sv = x->api->cfg_string(g, "service", &sv) == MODNATS_OK;
    if (has_st == has_sv) {
        fail(x, where, "an export names one \"stream\" or one \"service\" subject");
        return;
    }
    const char *subj = has_st ? st : sv;
    if (!valid_subject(subj)) {
        fail(x, where, "invalid export subject \"%s\"", subj);
        return;
    }
    ab_io *e = new_io(x, c, acct, where);
    if (!e)
        return;
    e->kind = has_st ? MODNATS_EXPORT_STREAM : MODNATS_EXPORT_SERVICE;
    e->subject = strdup(subj);
    size_t n = x->api->cfg_list_len(g, "accounts");
    for (size_t i = 0; i < n; i++) {
        const char *a = x->api->cfg_list_string(g, "accounts", i);
        if (!a)
            fail(x, where, "accounts must be a list of account names");
        else if (!sv_push(&e->accts, a))
            fail(x, where, "out of memory");
    }
    const char *rt = NULL;
    if (x->api->cfg_string(g, "response_type", &rt) == MODNATS_OK ||
        x->api->cfg_string(g, "response", &rt) == MODNATS_OK) {
        if (!has_sv)
            fail(x, where, "response_type applies to service exports only");
        else if (!strcasecmp(rt, "singleton") || !strcasecmp(rt, "single"))
            e->rtype = MODNATS_RESP_SINGLETON;
        else if (!strcasecmp(rt, "stream"))
            e->rtype = MODNATS_RESP_STREAM;
        else if (!strcasecmp(rt, "chunked"))
            e->rtype = MODNATS_RESP_CHUNKED;
        else
            fail(x, where, "unknown response type \"%s\" (singleton, stream or chunked)", rt);
    }
    static const char *const thk[] = { "response_threshold", "threshold", NULL };
    for (const char *const *k = thk; *k; k++) {
        const char *ds = NULL;
        int64_t ms = 0;
        modnats_rc r = x->api->cfg_string(g, *k, &ds);
        if (r == MODNATS_OK) {
            if (!ab_duration_ms(ds, &ms) || ms <= 0) {
                fail(x, where, "%s: \"%s\" is not a positive duration", *k, ds);
                continue;
            }
        } else if (r == MODNATS_ENOTFOUND) {
            continue;
        } else if (x->api->cfg_int(g, *k, &ms) == MODNATS_OK && ms > 0) {
            ms *= 1000;
        } else {
            fail(x, where, "%s must be a duration", *k);
            continue;
        }
        if (!has_sv)
            fail(x, where, "response_threshold applies to service exports only");
        e->threshold_ms = (uint64_t)ms;
    }
    if (!e->account || !e->subject)
        fail(x, where, "out of memory");
}

static void read_import(io_ctx *x, const modnats_config *g, const char *acct, ab_conf *c)
{
    char where[160];
    where_of(x, g, NULL, where, sizeof where);
    static const char *const known[] = { "stream", "service", "prefix", "to", NULL };
    check_known(x, g, where, known);
    const modnats_config *st = x->api->cfg_child(g, "stream", 0);
    const modnats_config *sv = x->api->cfg_child(g, "service", 0);
    if (!st == !sv) {
        fail(x, where, "an import names one \"stream\" or one \"service\" group "
                       "{ account = \"A\"; subject = \"...\"; }");
        return;
    }
    const modnats_config *src = st ? st : sv;
    static const char *const srck[] = { "account", "subject", NULL };
    check_known(x, src, where, srck);
    const char *from = NULL, *subj = NULL, *to = NULL, *prefix = NULL;
    if (x->api->cfg_string(src, "account", &from) != MODNATS_OK || !*from) {
        fail(x, where, "the import names no account");
        return;
    }
    if (x->api->cfg_string(src, "subject", &subj) != MODNATS_OK || !valid_subject(subj)) {
        fail(x, where, "the import names no valid subject");
        return;
    }
    bool has_to = x->api->cfg_string(g, "to", &to) == MODNATS_OK;
    bool has_pre = x->api->cfg_string(g, "prefix", &prefix) == MODNATS_OK;
    if (has_pre && sv) {
        fail(x, where, "prefix applies to stream imports; a service import takes \"to\"");
        return;
    }
    if (has_pre && has_to) {
        fail(x, where, "a stream import takes \"prefix\" or \"to\", not both");
        return;
    }
    if ((has_to && !valid_subject(to)) || (has_pre && !valid_subject(prefix))) {
        fail(x, where, "invalid subject \"%s\"", has_to ? to : prefix);
        return;
    }
    ab_io *e = new_io(x, c, acct, where);
    if (!e)
        return;
    e->import = true;
    e->kind = st ? MODNATS_EXPORT_STREAM : MODNATS_EXPORT_SERVICE;
    e->from = strdup(from);
    e->subject = strdup(subj);
    e->to = has_to ? strdup(to) : NULL;
    e->prefix = has_pre ? strdup(prefix) : NULL;
    if (!e->account || !e->from || !e->subject || (has_to && !e->to) || (has_pre && !e->prefix))
        fail(x, where, "out of memory");
}

/* limits = { max_connections; max_subscriptions; max_payload; max_leafnodes; } */
static void read_limits(io_ctx *x, const modnats_config *g, const char *acct, ab_conf *c)
{
    char where[160];
    where_of(x, g, NULL, where, sizeof where);
    static const struct { const char *k1, *k2; size_t off; } keys[] = {
        { "max_connections", "max_conn", offsetof(modnats_account_limits, max_conns) },
        { "max_subscriptions", "max_subs", offsetof(modnats_account_limits, max_subs) },
        { "max_payload", "max_pay", offsetof(modnats_account_limits, max_payload) },
        { "max_leafnodes", "max_leafs", offsetof(modnats_account_limits, max_leafnodes) },
    };
    static const char *const known[] = { "max_connections", "max_conn", "max_subscriptions",
                                         "max_subs", "max_payload", "max_pay", "max_leafnodes",
                                         "max_leafs", NULL };
    check_known(x, g, where, known);
    ab_io *e = new_io(x, c, acct, where);
    if (!e)
        return;
    e->limits = true;
    e->lim = (modnats_account_limits)MODNATS_ACCOUNT_LIMITS_NONE;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        int64_t v;
        if (x->api->cfg_int(g, keys[i].k1, &v) == MODNATS_OK ||
            x->api->cfg_int(g, keys[i].k2, &v) == MODNATS_OK)
            *(int64_t *)(void *)((char *)&e->lim + keys[i].off) = v;
        else if (x->api->cfg_list_len(g, keys[i].k1) || x->api->cfg_list_len(g, keys[i].k2))
            fail(x, where, "%s must be a number", keys[i].k1);
    }
    if (!e->account)
        fail(x, where, "out of memory");
}

size_t ab_io_read(const modnats_host_api *api, modnats_module *self, const modnats_config *g,
                  const char *name, ab_conf *c)
{
    io_ctx x = { .api = api, .self = self };
    const modnats_config *lim = api->cfg_child(g, "limits", 0);
    if (lim)
        read_limits(&x, lim, name, c);
    static const char *const keys[] = { "exports", "imports", NULL };
    for (const char *const *k = keys; *k; k++) {
        size_t n = api->cfg_list_len(g, *k);
        for (size_t i = 0; i < n; i++) {
            const modnats_config *e = api->cfg_child(g, *k, i);
            if (!e) {
                char where[160];
                where_of(&x, g, *k, where, sizeof where);
                fail(&x, where, "%s must be a list of groups", *k);
                break;
            }
            if (k == keys)
                read_export(&x, e, name, c);
            else
                read_import(&x, e, name, c);
        }
    }
    return x.errors;
}

void ab_io_free(ab_conf *c)
{
    for (size_t i = 0; i < c->nio; i++) {
        ab_io *e = &c->io[i];
        free(e->account);
        free(e->subject);
        free(e->from);
        free(e->to);
        free(e->prefix);
        for (size_t j = 0; j < e->accts.n; j++)
            free(e->accts.v[j]);
        free(e->accts.v);
    }
    free(c->io);
    c->io = NULL;
    c->nio = 0;
    free(c->system_account);
    c->system_account = NULL;
}

bool ab_io_apply(const modnats_host_api *api, modnats_module *self, const ab_conf *c,
                 bool replace)
{
    io_ctx x = { .api = api, .self = self };
    if (c->system_account) {
        modnats_account *sys = api->account_get_or_create(c->system_account);
        if (!sys || !MODNATS_HAS(api, account_set_system) ||
            api->account_set_system(sys) != MODNATS_OK) {
            fail(&x, "system_account", "cannot make \"%s\" the system account", c->system_account);
            return false;
        }
    }
    if (c->nio == 0)
        return true;
    if (!MODNATS_HAS(api, account_import)) {
        fail(&x, c->io[0].where, "this server cannot share between accounts (ABI < 1.1)");
        return false;
    }
    if (replace)
        for (size_t i = 0; i < c->accounts.n; i++) {
            modnats_account *a = api->account_get(c->accounts.v[i]);
            if (a)
                api->account_clear_io(a);
        }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->nio; i++) {
            const ab_io *e = &c->io[i];
            if (e->limits && pass == 0) {
                modnats_account *la = api->account_get(e->account);
                if (!la || api->account_set_limits(la, &e->lim) != MODNATS_OK) {
                    fail(&x, e->where, "cannot apply the limits of account \"%s\"", e->account);
                    return false;
                }
            }
            if (e->limits || e->import != (pass == 1))
                continue;
            const char *kind = e->kind == MODNATS_EXPORT_STREAM ? "stream" : "service";
            modnats_account *a = api->account_get(e->account);
            if (!a) {
                fail(&x, e->where, "account \"%s\" missing", e->account);
                return false;
            }
            if (!e->import) {
                modnats_export ex = {
                    .size = sizeof ex, .kind = e->kind, .subject = e->subject,
                    .accounts = (const char *const *)e->accts.v, .n_accounts = e->accts.n,
                    .response_type = e->rtype, .response_threshold_ms = e->threshold_ms,
                };
                if (api->account_export(a, &ex) != MODNATS_OK) {
                    fail(&x, e->where, "Error adding %s export \"%s\"", kind, e->subject);
                    return false;
                }
                continue;
            }
            modnats_account *from = api->account_get(e->from);
            if (!from) {
                fail(&x, e->where, "\"%s\" account not defined for %s import", e->from, kind);
                return false;
            }
            modnats_import im = {
                .size = sizeof im, .kind = e->kind, .from = from, .subject = e->subject,
                .to = e->to, .prefix = e->prefix,
            };
            modnats_rc rc = api->account_import(a, &im);
            if (rc == MODNATS_DENY || rc == MODNATS_ENOTFOUND) {
                fail(&x, e->where, "Error adding %s import \"%s\": %s import not authorized", kind,
                     e->subject, kind);
                return false;
            }
            if (rc == MODNATS_ELOOP) {
                fail(&x, e->where, "Error adding %s import \"%s\": import forms a cycle", kind,
                     e->subject);
                return false;
            }
            if (rc != MODNATS_OK) {
                fail(&x, e->where, "Error adding %s import \"%s\": invalid import", kind,
                     e->subject);
                return false;
            }
        }
    }
    return true;
}
