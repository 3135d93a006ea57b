/*
 * aj_apply.c - account JWTs given to the core: limits (account_set_limits),
 * exports (account_export) and imports (account_import).  An export with
 * token_req is offered to its own account only, and an import of it is
 * made with `authorized` once this module has verified the importer's
 * activation token.  Cores older than ABI 1.1 lack these calls: accounts
 * then still isolate their users, but share nothing and have no limits
 * (logged once).
 */
#include "aj_mod.h"

#include <stdlib.h>
#include <string.h>

static bool have_io(void)
{
    const modnats_host_api *api = g_aj.api;
    return MODNATS_HAS(api, account_export) && MODNATS_HAS(api, account_import) &&
           MODNATS_HAS(api, account_clear_io);
}

static void apply_limits(const aj_jwt *acc, modnats_account *a)
{
    const modnats_host_api *api = g_aj.api;
    if (!MODNATS_HAS(api, account_set_limits))
        return;
    const aj_account *c = &acc->u.acc;
    modnats_account_limits l = MODNATS_ACCOUNT_LIMITS_NONE;
    l.max_conns = c->conn;
    l.max_leafnodes = c->leaf;
    l.max_subs = c->subs;
    l.max_payload = c->payload;
    l.max_imports = c->n_imports;
    l.max_exports = c->n_exports;
    if (api->account_set_limits(a, &l) != MODNATS_OK)
        api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: the core refused its limits", acc->sub);
}

static void apply_exports(const aj_jwt *acc, modnats_account *a)
{
    const modnats_host_api *api = g_aj.api;
    const char *self_only[1] = { acc->sub };
    for (size_t i = 0; i < acc->u.acc.nexports; i++) {
        const aj_export *x = &acc->u.acc.exports[i];
        modnats_export e = { .size = sizeof e };
        e.kind = x->kind;
        e.subject = x->subject;
        if (x->token_req) {
            /* only imports whose activation token we verified */
            e.accounts = self_only;
            e.n_accounts = 1;
        }
        e.response_type = x->response_type;
        e.response_threshold_ms = x->response_threshold_ms;
        modnats_rc rc = api->account_export(a, &e);
        if (rc != MODNATS_OK)
            api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: export %s refused by the core (%d)",
                     acc->sub, x->subject, (int)rc);
    }
}

/* The export of `from` that an import of `subject` of `kind` uses. */
static const aj_export *find_export(const aj_jwt *from, modnats_export_kind kind,
                                    const char *subject)
{
    for (size_t i = 0; i < from->u.acc.nexports; i++) {
        const aj_export *x = &from->u.acc.exports[i];
        if (x->kind == kind && aj_subject_within(subject, x->subject))
            return x;
    }
    return NULL;
}

/* Caller holds the store's read lock. */
static void apply_imports(const aj_jwt *acc, modnats_account *a)
{
    const modnats_host_api *api = g_aj.api;
    int64_t now = aj_now_ms() / 1000;
    for (size_t i = 0; i < acc->u.acc.nimports; i++) {
        const aj_import *im = &acc->u.acc.imports[i];
        const aj_jwt *from = aj_store_get_locked(&g_aj.store, im->account);
        if (!from) {
            api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: import of %s from unknown account %s "
                     "skipped", acc->sub, im->subject, im->account);
            continue;
        }
        const aj_export *x = find_export(from, im->kind, im->subject);
        if (!x) {
            api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: %s has no %s export for %s: import "
                     "skipped", acc->sub, im->account,
                     im->kind == MODNATS_EXPORT_SERVICE ? "service" : "stream", im->subject);
            continue;
        }
        bool authorized = false;
        if (x->token_req) {
            const char *why = aj_check_activation(from, acc->sub, x, im->subject, im->token,
                                                  now);
            if (why) {
                api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: import of %s from %s: %s",
                         acc->sub, im->subject, im->account, why);
                continue;
            }
            authorized = true;
        }
        modnats_account *fa = api->account_get_or_create(im->account);
        if (!fa)
            continue;
        modnats_import m = { .size = sizeof m };
        m.kind = im->kind;
        m.from = fa;
        m.subject = im->subject;
        m.to = im->local;
        m.prefix = im->prefix;
        m.authorized = authorized;
        modnats_rc rc = api->account_import(a, &m);
        if (rc != MODNATS_OK)
            api->log(g_aj.self, MODNATS_LOG_WARN, "account %s: import of %s from %s refused by the "
                     "core (%s)", acc->sub, im->subject, im->account,
                     rc == MODNATS_DENY ? "not authorized" : rc == MODNATS_ENOTFOUND ? "no such export"
                                                                                     : "error");
    }
}

static bool imports_from(const aj_jwt *acc, const char *pub)
{
    for (size_t i = 0; i < acc->u.acc.nimports; i++)
        if (!strcmp(acc->u.acc.imports[i].account, pub))
            return true;
    return false;
}

void aj_apply_all(void)
{
    const modnats_host_api *api = g_aj.api;
    if (!have_io() || !MODNATS_HAS(api, account_set_limits))
        api->log(g_aj.self, MODNATS_LOG_WARN, "this core (ABI %u.%u) cannot apply account limits, "
                 "exports or imports: accounts only isolate their users", api->abi_major,
                 api->abi_minor);
    pthread_rwlock_rdlock(&g_aj.store.lock);
    for (size_t i = 0; i < g_aj.store.n; i++) {
        const aj_jwt *acc = g_aj.store.v[i].jwt;
        modnats_account *a = api->account_get_or_create(acc->sub);
        if (!a)
            continue;
        apply_limits(acc, a);
        if (have_io()) {
            api->account_clear_io(a);
            apply_exports(acc, a);
        }
    }
    for (size_t i = 0; have_io() && i < g_aj.store.n; i++) {
        const aj_jwt *acc = g_aj.store.v[i].jwt;
        modnats_account *a = api->account_get(acc->sub);
        if (a)
            apply_imports(acc, a);
    }
    pthread_rwlock_unlock(&g_aj.store.lock);
}

void aj_apply_changed(const char *pub)
{
    aj_js_changed();
    const modnats_host_api *api = g_aj.api;
    pthread_rwlock_rdlock(&g_aj.store.lock);
    const aj_jwt *acc = aj_store_get_locked(&g_aj.store, pub);
    modnats_account *a = acc ? api->account_get_or_create(pub) : api->account_get(pub);
    if (a && acc)
        apply_limits(acc, a);
    if (a && have_io()) {
        /* drops its exports and imports, and the imports others had of it */
        api->account_clear_io(a);
        if (acc) {
            apply_exports(acc, a);
            apply_imports(acc, a);
        }
        for (size_t i = 0; acc && i < g_aj.store.n; i++) {
            const aj_jwt *o = g_aj.store.v[i].jwt;
            modnats_account *oa;
            if (o != acc && imports_from(o, pub) && (oa = api->account_get(o->sub)))
                apply_imports(o, oa);
        }
    }
    pthread_rwlock_unlock(&g_aj.store.lock);
}
