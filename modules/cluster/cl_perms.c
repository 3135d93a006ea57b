/*
 * cl_perms.c - route permissions, nats-server's cluster { permissions {
 * import: ..., export: ... } }.
 *
 * What they restrict (as nats-server 2.9 applies them to every route):
 *   import  - which of our local interest we announce (RS+) to a route, so
 *             which messages a peer sends us.  Checked like a publish
 *             permission on the subscription's subject.
 *   export  - which RS+ of a peer we accept, so which of our messages go
 *             out.  Checked like a subscribe permission; a message whose
 *             subject an export deny entry matches never goes out, also
 *             through an accepted wildcard interest.
 * Inbound messages are not filtered (the peer only sends what we asked
 * for).  Each side is allow and/or deny lists: an empty allow list allows
 * everything, deny wins.  A subject is matched against the entries token
 * by token, its own wildcards as literal tokens ("foo.*" is allowed by
 * "foo.*", "foo.>" or ">", not by "foo.bar").
 *
 * The active set is one immutable cl_perms behind an atomic pointer
 * (delivery reads it without a lock); a reload installs a new one and
 * keeps the old until fini.
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* pattern (may hold * and >) against a subject (its wildcards literal). */
static bool pat_match(const char *pat, const char *subj)
{
    const char *p = pat, *s = subj;
    for (;;) {
        size_t pl = strcspn(p, "."), sl = strcspn(s, ".");
        if (pl == 1 && p[0] == '>')
            return *s != 0;   /* one or more tokens left */
        if (!(pl == 1 && p[0] == '*') && (pl != sl || memcmp(p, s, pl) != 0))
            return false;
        p += pl;
        s += sl;
        if (!*p || !*s)
            return !*p && !*s;
        p++;
        s++;
    }
}

static bool list_match(const cl_plist *l, const char *subj)
{
    for (size_t i = 0; i < l->n; i++)
        if (pat_match(l->v[i], subj))
            return true;
    return false;
}

static bool allowed(const cl_plist *allow, const cl_plist *deny, const char *subj)
{
    if (allow->n && !list_match(allow, subj))
        return false;
    return !list_match(deny, subj);
}

bool cl_perm_import_ok(const cl_perms *p, const char *subj)
{
    return !p || allowed(&p->imp_allow, &p->imp_deny, subj);
}

bool cl_perm_export_ok(const cl_perms *p, const char *subj)
{
    return !p || allowed(&p->exp_allow, &p->exp_deny, subj);
}

bool cl_perm_export_denied(const cl_perms *p, const char *subj, size_t len)
{
    if (!p || p->exp_deny.n == 0)
        return false;
    char stackbuf[512];
    char *s = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    if (!s)
        return false;
    memcpy(s, subj, len);
    s[len] = 0;
    bool denied = list_match(&p->exp_deny, s);
    if (s != stackbuf)
        free(s);
    return denied;
}

static void plist_free(cl_plist *l)
{
    cl_strv_free(l->v, l->n);
    l->v = NULL;
    l->n = 0;
}

void cl_perms_free(cl_perms *p)
{
    if (!p)
        return;
    plist_free(&p->imp_allow);
    plist_free(&p->imp_deny);
    plist_free(&p->exp_allow);
    plist_free(&p->exp_deny);
    free(p);
}

static bool plist_equal(const cl_plist *a, const cl_plist *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]) != 0)
            return false;
    return true;
}

bool cl_perms_equal(const cl_perms *a, const cl_perms *b)
{
    if (!a || !b)
        return a == b;
    return plist_equal(&a->imp_allow, &b->imp_allow) && plist_equal(&a->imp_deny, &b->imp_deny) &&
           plist_equal(&a->exp_allow, &b->exp_allow) && plist_equal(&a->exp_deny, &b->exp_deny);
}

static bool valid_subject_pattern(const char *s)
{
    if (!*s || strpbrk(s, " \t\r\n"))
        return false;
    for (const char *t = s;;) {
        size_t l = strcspn(t, ".");
        if (l == 0)
            return false;
        if (l == 1 && t[0] == '>' && t[1] != 0)
            return false;
        t += l;
        if (!*t)
            return true;
        t++;
    }
}

/* A string or a list of strings at key into l. */
static int read_list(const modnats_config *c, const char *key, cl_plist *l, const char *what)
{
    const modnats_host_api *api = CL_API;
    size_t n = api->cfg_list_len(c, key);
    char w[300];
    for (size_t i = 0; i < n; i++) {
        const char *s = api->cfg_list_string(c, key, i);
        if (!s || !valid_subject_pattern(s)) {
            api->log(g_cl.self, MODNATS_LOG_ERROR,
                     "%s: cluster permissions %s: \"%s\" is not a subject", 
                     api->cfg_where ? api->cfg_where(c, key, w, sizeof(w)) : "cluster", what,
                     s ? s : "(not a string)");
            return -1;
        }
        char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
        if (!nv || !(nv[l->n] = strdup(s))) {
            if (nv)
                l->v = nv;
            return -1;
        }
        l->v = nv;
        l->n++;
    }
    return 0;
}

/* import/export: a subject, a list, or { allow = ...; deny = ...; }. */
static int read_side(const modnats_config *perm, const char *key, cl_plist *allow, cl_plist *deny)
{
    const modnats_host_api *api = CL_API;
    const modnats_config *g = api->cfg_child(perm, key, 0);
    if (!g)
        return read_list(perm, key, allow, key);
    char w[300];
    for (size_t i = 0; api->cfg_key; i++) {
        const char *k = api->cfg_key(g, i);
        if (!k)
            break;
        if (strcasecmp(k, "allow") && strcasecmp(k, "deny")) {
            api->log(g_cl.self, MODNATS_LOG_ERROR,
                     "%s: unknown key \"%s\" in cluster permissions %s (allow, deny)",
                     api->cfg_where ? api->cfg_where(g, k, w, sizeof(w)) : "cluster", k, key);
            return -1;
        }
    }
    if (read_list(g, "allow", allow, key) != 0 || read_list(g, "deny", deny, key) != 0)
        return -1;
    return 0;
}

int cl_perms_read(const modnats_config *cfg, cl_perms **out)
{
    const modnats_host_api *api = CL_API;
    *out = NULL;
    const modnats_config *perm = api->cfg_child(cfg, "permissions", 0);
    if (!perm)
        return 0;
    char w[300];
    for (size_t i = 0; api->cfg_key; i++) {
        const char *k = api->cfg_key(perm, i);
        if (!k)
            break;
        if (strcasecmp(k, "import") && strcasecmp(k, "export")) {
            api->log(g_cl.self, MODNATS_LOG_ERROR,
                     "%s: unknown key \"%s\" in cluster permissions (import, export)",
                     api->cfg_where ? api->cfg_where(perm, k, w, sizeof(w)) : "cluster", k);
            return -1;
        }
    }
    cl_perms *p = calloc(1, sizeof(*p));
    if (!p)
        return -1;
    if (read_side(perm, "import", &p->imp_allow, &p->imp_deny) != 0 ||
        read_side(perm, "export", &p->exp_allow, &p->exp_deny) != 0) {
        cl_perms_free(p);
        return -1;
    }
    if (!p->imp_allow.n && !p->imp_deny.n && !p->exp_allow.n && !p->exp_deny.n) {
        cl_perms_free(p);   /* nothing restricted */
        return 0;
    }
    *out = p;
    return 0;
}

static int plist_json(char *buf, size_t cap, const cl_plist *l)
{
    size_t len = 0;
    len += (size_t)snprintf(buf + len, cap - len, "[");
    for (size_t i = 0; i < l->n && len + 8 < cap; i++) {
        if (i)
            buf[len++] = ',';
        cl_json_escape(buf + len, cap - len - 2, l->v[i]);
        len += strlen(buf + len);
    }
    if (len + 2 < cap)
        buf[len++] = ']';
    buf[len] = 0;
    return (int)len;
}

static void side_json(char *buf, size_t cap, const char *key, const cl_plist *allow,
                      const cl_plist *deny)
{
    buf[0] = 0;
    if (!allow->n && !deny->n)
        return;
    char a[2048] = "", d[2048] = "";
    if (allow->n) {
        char v[2000];
        plist_json(v, sizeof(v), allow);
        snprintf(a, sizeof(a), "\"allow\":%s", v);
    }
    if (deny->n) {
        char v[2000];
        plist_json(v, sizeof(v), deny);
        snprintf(d, sizeof(d), "\"deny\":%s", v);
    }
    snprintf(buf, cap, ",\"%s\":{%s%s%s}", key, a, allow->n && deny->n ? "," : "", d);
}

void cl_perms_info_json(const cl_perms *p, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!p)
        return;
    char imp[4200], exp[4200];
    side_json(imp, sizeof(imp), "import", &p->imp_allow, &p->imp_deny);
    side_json(exp, sizeof(exp), "export", &p->exp_allow, &p->exp_deny);
    snprintf(buf, cap, "%s%s", imp, exp);
}

/* The "export" object of a peer's INFO, as a cl_perms holding only its
 * export lists (NULL: none or nothing restricted). */
cl_perms *cl_perms_from_info(const char *json)
{
    char *obj = NULL;
    if (!cl_json_object(json, "export", &obj))
        return NULL;
    cl_perms *p = calloc(1, sizeof(*p));
    if (p) {
        cl_json_strings(obj, "allow", &p->exp_allow.v, &p->exp_allow.n);
        cl_json_strings(obj, "deny", &p->exp_deny.v, &p->exp_deny.n);
        if (!p->exp_allow.n && !p->exp_deny.n) {
            cl_perms_free(p);
            p = NULL;
        }
    }
    free(obj);
    return p;
}

const cl_perms *cl_perms_get(void)
{
    return atomic_load_explicit(&g_cl.perms, memory_order_acquire);
}

/* Install p; the old set stays allocated until fini (delivery may be
 * reading it).  Main thread. */
void cl_perms_install(cl_perms *p)
{
    cl_perms *old = atomic_exchange_explicit(&g_cl.perms, p, memory_order_acq_rel);
    if (old) {
        old->retired_next = g_cl.perms_retired;
        g_cl.perms_retired = old;
    }
    atomic_fetch_add(&g_cl.perms_gen, 1);
}

void cl_perms_fini(void)
{
    cl_perms_free(atomic_exchange(&g_cl.perms, NULL));
    while (g_cl.perms_retired) {
        cl_perms *p = g_cl.perms_retired;
        g_cl.perms_retired = p->retired_next;
        cl_perms_free(p);
    }
}
