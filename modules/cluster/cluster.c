/*
 * cluster.c - the cluster module: routes between the servers of a cluster,
 * a full mesh that interoperates with nats-server 2.9 (docs/modules/cluster.md).
 *
 * Settings group, with nats-server's cluster {} keys:
 *
 *   cluster = { name = "C1"; listen = "127.0.0.1:6222";   # or host/port
 *               routes = ["nats-route://127.0.0.1:6223"];
 *               no_advertise = false; connect_retries = 3; advertise = "h:p";
 *               authorization = { user = "r"; password = "p"; timeout = 2; };
 *               permissions = { import = [..]; export = { allow = [..]; deny = [..]; }; }; };
 *
 * SIGHUP applies routes, credentials, permissions and timers at once
 * (cl_on_reload); the name, listener and advertise need a restart.
 * This file: the entry point, settings, init/fini and the "routez"
 * service.  The protocol lives in cl_route.c, cl_proto.c, cl_interest.c.
 */
#include "cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

cl_global g_cl;

static const modnats_option cl_options[] = {
    { "name", MODNATS_OPT_STRING, false, "cluster name (default: a random one, adopted from peers)" },
    { "listen", MODNATS_OPT_STRING, false, "route listener, host:port (or a nats-route:// URL)" },
    { "host", MODNATS_OPT_STRING, false, "route listener host (default 0.0.0.0)" },
    { "port", MODNATS_OPT_INT, false, "route listener port (default 6222; 0 or -1: random)" },
    { "routes", MODNATS_OPT_STRING_LIST, false, "seed routes, nats-route://[user:pass@]host:port" },
    { "no_advertise", MODNATS_OPT_BOOL, false, "do not tell clients the cluster's other URLs" },
    { "connect_retries", MODNATS_OPT_INT, false, "redials of a lost implicit route (default 3)" },
    { "advertise", MODNATS_OPT_STRING, false, "host:port other servers should dial for us" },
    { "authorization", MODNATS_OPT_GROUP, false, "route credentials: user, password, timeout" },
    { "ping_interval", MODNATS_OPT_DURATION, false, "route PING interval (default 2m)" },
    { "ping_max", MODNATS_OPT_INT, false, "unanswered PINGs before a route is stale (default 2)" },
    { "tls", MODNATS_OPT_GROUP, false, "route TLS: cert_file, key_file, ca_file, timeout, ... "
      "(peers' certificates are always verified)" },
    { "permissions", MODNATS_OPT_GROUP, false, "route permissions: import, export (allow/deny lists)" },
    { NULL, 0, false, NULL },
};

uint64_t cl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cl_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cl_url_free(cl_url *u)
{
    free(u->host);
    free(u->user);
    free(u->pass);
    memset(u, 0, sizeof(*u));
}

bool cl_url_copy(const cl_url *in, cl_url *out)
{
    memset(out, 0, sizeof(*out));
    out->port = in->port;
    out->host = strdup(in->host);
    out->user = in->user ? strdup(in->user) : NULL;
    out->pass = in->pass ? strdup(in->pass) : NULL;
    if (!out->host || (in->user && !out->user) || (in->pass && !out->pass)) {
        cl_url_free(out);
        return false;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char *unescape(const char *s, size_t n)
{
    char *o = malloc(n + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 0 + 1 && i + 2 <= n - 1 + 1 && hexval(s[i + 1]) >= 0 &&
            i + 2 < n + 1 && hexval(s[i + 2]) >= 0) {
            o[k++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            o[k++] = s[i];
        }
    }
    o[k] = 0;
    return o;
}

/* [scheme://][user[:pass]@]host[:port][/...], host may be [v6]. */
bool cl_url_parse(const char *s, int default_port, cl_url *out)
{
    memset(out, 0, sizeof(*out));
    if (!s || !*s)
        return false;
    const char *p = strstr(s, "://");
    p = p ? p + 3 : s;
    const char *end = p + strcspn(p, "/?#");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            out->user = unescape(p, (size_t)(colon - p));
            out->pass = unescape(colon + 1, (size_t)(at - colon - 1));
        } else {
            out->user = unescape(p, (size_t)(at - p));
        }
        p = at + 1;
    }
    const char *hs = p, *he, *portp = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb)
            goto bad;
        hs = p + 1;
        he = rb;
        if (rb + 1 < end && rb[1] == ':')
            portp = rb + 2;
    } else {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        he = colon ? colon : end;
        if (colon)
            portp = colon + 1;
    }
    out->port = default_port;
    if (portp) {
        char *e = NULL;
        long v = strtol(portp, &e, 10);
        if (e != end || v < 0 || v > 65535)
            goto bad;
        out->port = (int)v;
    }
    out->host = he > hs ? strndup(hs, (size_t)(he - hs)) : strdup("127.0.0.1");
    if (!out->host)
        goto bad;
    return true;
bad:
    cl_url_free(out);
    return false;
}

/* ---------------------------------------------------------- routez */

static const char *rz_cluster_name(void)
{
    static _Thread_local char buf[256];
    pthread_mutex_lock(&g_cl.lock);
    snprintf(buf, sizeof(buf), "%s", g_cl.name ? g_cl.name : "");
    pthread_mutex_unlock(&g_cl.lock);
    return buf;
}

static size_t rz_num_routes(void)
{
    size_t n = 0;
    pthread_mutex_lock(&g_cl.lock);
    for (cl_route *r = g_cl.routes; r; r = r->next)
        n += r->state == CL_ACTIVE;
    pthread_mutex_unlock(&g_cl.lock);
    return n;
}

static int rz_foreach(void (*fn)(void *ud, const cl_routez_info *ri), void *ud)
{
    if (!fn)
        return -1;
    cl_collect_routez(fn, ud);
    return 0;
}

static const char *rz_listen_addr(void)
{
    static char buf[300];
    if (!buf[0])
        snprintf(buf, sizeof(buf), "%s:%d", g_cl.host ? g_cl.host : "0.0.0.0", g_cl.port);
    return buf;
}

static const cl_routez_v1 routez_v1 = {
    .size = sizeof(cl_routez_v1),
    .cluster_name = rz_cluster_name,
    .num_routes = rz_num_routes,
    .foreach = rz_foreach,
    .listen_addr = rz_listen_addr,
};

/* --------------------------------------------------------- settings */

static char *where(const modnats_config *cfg, const char *key, char *buf, size_t len)
{
    if (CL_API->cfg_where && CL_API->cfg_where(cfg, key, buf, len))
        return buf;
    snprintf(buf, len, "cluster");
    return buf;
}

static modnats_rc cl_on_reload(void *ud, modnats_event_hdr *hdr);

static modnats_rc read_settings(const modnats_config *cfg, cl_perms **perms, bool with_tls)
{
    const modnats_host_api *api = CL_API;
    char w[300];
    const char *s = NULL;
    g_cl.port = 6222;
    g_cl.connect_retries = 3;
    g_cl.auth_timeout_ms = 2000;
    g_cl.ping_interval_ms = 120000;
    g_cl.ping_max = 2;

    if (api->cfg_string(cfg, "name", &s) == MODNATS_OK && s && *s) {
        if (strpbrk(s, " \t\r\n")) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s: cluster name may not contain spaces",
                     where(cfg, "name", w, sizeof(w)));
            return MODNATS_ERR;
        }
        g_cl.name = strdup(s);
    } else {
        /* nats-server's dynamic name: random, and a peer's fixed name wins. */
        char buf[32];
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        srand((unsigned)(cl_now_ms() ^ (uint64_t)(uintptr_t)&buf));
        for (int i = 0; i < 22; i++)
            buf[i] = al[rand() % (int)(sizeof(al) - 1)];
        buf[22] = 0;
        g_cl.name = strdup(buf);
        g_cl.name_dynamic = true;
    }
    s = NULL;
    if (api->cfg_string(cfg, "listen", &s) == MODNATS_OK && s) {
        cl_url u;
        /* nats-server's "host:-1" (a random port) is "host:0" here. */
        char tmp[300];
        size_t sl = strlen(s);
        if (sl >= 3 && sl < sizeof(tmp) && strcmp(s + sl - 3, ":-1") == 0) {
            snprintf(tmp, sizeof(tmp), "%.*s:0", (int)(sl - 3), s);
            s = tmp;
        } else if (strcmp(s, "-1") == 0) {
            s = "0";
        }
        if (!cl_url_parse(s, 6222, &u)) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s: cannot parse listen \"%s\"",
                     where(cfg, "listen", w, sizeof(w)), s);
            return MODNATS_ERR;
        }
        /* A bare port ("6222") parses as a host: take it as the port. */
        char *e = NULL;
        long v = strtol(u.host, &e, 10);
        if (e && !*e && !strchr(s, ':')) {
            g_cl.port = (int)v;
        } else {
            g_cl.host = strdup(u.host);
            g_cl.port = u.port;
        }
        cl_url_free(&u);
    }
    s = NULL;
    if (api->cfg_string(cfg, "host", &s) == MODNATS_OK && s) {
        free(g_cl.host);
        g_cl.host = strdup(s);
    }
    int64_t v;
    if (api->cfg_int(cfg, "port", &v) == MODNATS_OK) {
        if (v < -1 || v > 65535) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s: port %lld out of range",
                     where(cfg, "port", w, sizeof(w)), (long long)v);
            return MODNATS_ERR;
        }
        g_cl.port = v < 0 ? 0 : (int)v;   /* 0: random, the bound port is advertised */
    }
    bool b;
    if (api->cfg_bool(cfg, "no_advertise", &b) == MODNATS_OK)
        g_cl.no_advertise = b;
    if (api->cfg_int(cfg, "connect_retries", &v) == MODNATS_OK)
        g_cl.connect_retries = (int)v;
    if (api->cfg_int(cfg, "ping_interval", &v) == MODNATS_OK && v > 0)
        g_cl.ping_interval_ms = v;
    if (api->cfg_int(cfg, "ping_max", &v) == MODNATS_OK && v > 0)
        g_cl.ping_max = (int)v;
    s = NULL;
    if (api->cfg_string(cfg, "advertise", &s) == MODNATS_OK && s && *s)
        g_cl.advertise = strdup(s);

    const modnats_config *auth = api->cfg_child(cfg, "authorization", 0);
    if (auth) {
        for (size_t i = 0; api->cfg_key; i++) {
            const char *k = api->cfg_key(auth, i);
            if (!k)
                break;
            if (strcmp(k, "user") && strcmp(k, "username") && strcmp(k, "password") &&
                strcmp(k, "pass") && strcmp(k, "timeout")) {
                api->log(g_cl.self, MODNATS_LOG_ERROR,
                         "%s: unknown key \"%s\" in cluster authorization",
                         where(auth, k, w, sizeof(w)), k);
                return MODNATS_ERR;
            }
        }
        const char *u = NULL, *p = NULL;
        if (api->cfg_string(auth, "user", &u) != MODNATS_OK)
            api->cfg_string(auth, "username", &u);
        if (api->cfg_string(auth, "password", &p) != MODNATS_OK)
            api->cfg_string(auth, "pass", &p);
        if (u && *u) {
            g_cl.auth_user = strdup(u);
            g_cl.auth_pass = strdup(p ? p : "");
        }
        int64_t t;
        if (api->cfg_int(auth, "timeout", &t) == MODNATS_OK && t > 0)
            g_cl.auth_timeout_ms = t < 100 ? t * 1000 : t;   /* seconds, or ms from a duration */
    }

    /* TLS contexts are made at start-up; a reload swaps them in tls_reload. */
    const modnats_config *tls = with_tls ? api->cfg_child(cfg, "tls", 0) : NULL;
    if (tls) {
        char err[600];
        if (!MODNATS_HAS(api, tls_new)) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s: this core has no TLS for module connections",
                     where(cfg, "tls", w, sizeof(w)));
            return MODNATS_ERR;
        }
        /* nats-server verifies route certificates both ways, whatever the
         * block says: the accepting side asks for the dialer's. */
        g_cl.tls_accept = api->tls_new(g_cl.self, tls, MODNATS_TLS_SERVER | MODNATS_TLS_VERIFY,
                                       err, sizeof err);
        if (g_cl.tls_accept)
            g_cl.tls_dial = api->tls_new(g_cl.self, tls, MODNATS_TLS_VERIFY, err, sizeof err);
        if (!g_cl.tls_accept || !g_cl.tls_dial) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s", err);
            return MODNATS_ERR;
        }
        g_cl.tls_on = true;
    }

    size_t n = api->cfg_list_len(cfg, "routes");
    if (n) {
        g_cl.explicit_routes = calloc(n, sizeof(cl_explicit));
        if (!g_cl.explicit_routes)
            return MODNATS_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        const char *r = api->cfg_list_string(cfg, "routes", i);
        cl_explicit *e = &g_cl.explicit_routes[g_cl.nexplicit];
        if (!r || !cl_url_parse(r, 6222, &e->url)) {
            api->log(g_cl.self, MODNATS_LOG_ERROR, "%s: cannot parse route URL \"%s\"",
                     where(cfg, "routes", w, sizeof(w)), r ? r : "");
            return MODNATS_ERR;
        }
        e->backoff_ms = 100;
        g_cl.nexplicit++;
    }
    g_cl.cfg_port = g_cl.port;
    if (cl_perms_read(cfg, perms) != 0)
        return MODNATS_ERR;
    return MODNATS_OK;
}

static void free_settings(bool with_tls)
{
    free(g_cl.name);
    free(g_cl.host);
    free(g_cl.advertise);
    free(g_cl.auth_user);
    free(g_cl.auth_pass);
    for (size_t i = 0; i < g_cl.nexplicit; i++)
        cl_url_free(&g_cl.explicit_routes[i].url);
    free(g_cl.explicit_routes);
    if (with_tls) {
        if (g_cl.tls_accept)
            g_cl.api->tls_free(g_cl.tls_accept);
        if (g_cl.tls_dial)
            g_cl.api->tls_free(g_cl.tls_dial);
        g_cl.tls_accept = g_cl.tls_dial = NULL;
    }
    g_cl.name = g_cl.host = g_cl.advertise = g_cl.auth_user = g_cl.auth_pass = NULL;
    g_cl.explicit_routes = NULL;
    g_cl.nexplicit = 0;
}

/* Reload, TLS part: new route certificates from cluster.tls for routes made from
 * now on (open routes keep theirs); a bad new certificate is logged and
 * the current ones stay.  */
static modnats_rc tls_reload(const modnats_reload_event *ev)
{
    const modnats_host_api *api = g_cl.api;
    const modnats_config *tls = api->cfg_child(ev->cfg, "tls", 0);
    if (!tls != !g_cl.tls_on) {
        api->log(g_cl.self, MODNATS_LOG_WARN,
                 "route TLS cannot be turned %s at run time (restart needed)", tls ? "on" : "off");
        return MODNATS_OK;
    }
    if (!tls || !MODNATS_HAS(api, listener_set_tls))
        return MODNATS_OK;
    char err[600];
    modnats_tls *acc = api->tls_new(g_cl.self, tls, MODNATS_TLS_SERVER | MODNATS_TLS_VERIFY,
                                    err, sizeof err);
    modnats_tls *dial = acc ? api->tls_new(g_cl.self, tls, MODNATS_TLS_VERIFY, err, sizeof err)
                            : NULL;
    if (!acc || !dial || api->listener_set_tls(g_cl.listener, acc) != MODNATS_OK) {
        if (acc && dial)
            snprintf(err, sizeof err, "the route listener refused the new certificates");
        api->log(g_cl.self, MODNATS_LOG_ERROR, "%s; keeping the current route certificates", err);
        if (acc)
            api->tls_free(acc);
        if (dial)
            api->tls_free(dial);
        return MODNATS_ERR;
    }
    pthread_mutex_lock(&g_cl.lock);
    modnats_tls *old_acc = g_cl.tls_accept, *old_dial = g_cl.tls_dial;
    g_cl.tls_accept = acc;
    g_cl.tls_dial = dial;
    pthread_mutex_unlock(&g_cl.lock);
    api->tls_free(old_acc);    /* the listener and open routes hold their own */
    api->tls_free(old_dial);
    api->log(g_cl.self, MODNATS_LOG_INFO, "route TLS certificates reloaded for new routes");
    return MODNATS_OK;
}

/* ---------------------------------------------------------- reload */

static bool str_eq(const char *a, const char *b)
{
    return (!a || !*a) ? (!b || !*b) : (b && strcmp(a, b) == 0);
}

/* SIGHUP: routes added and removed, route credentials, permissions, ping
 * and retry settings take effect at once, as nats-server does; the name,
 * the listen address and advertise need a restart (logged, kept). */
static modnats_rc cl_on_reload(void *ud, modnats_event_hdr *hdr)
{
    (void)ud;
    modnats_reload_event *ev = (modnats_reload_event *)hdr;
    if (hdr->size < offsetof(modnats_reload_event, cfg) + sizeof(ev->cfg) || !ev->cfg)
        return MODNATS_DEFER;
    /* Certificates first: a bad new one fails the reload before anything
     * else changes (the current certificates and settings stay). */
    if (tls_reload(ev) != MODNATS_OK)
        return MODNATS_ERR;
    struct {
        char        *name, *host, *advertise, *auth_user, *auth_pass;
        bool         name_dynamic, no_advertise;
        int          port, cfg_port, connect_retries, ping_max;
        int64_t      auth_timeout_ms, ping_interval_ms;
        cl_explicit *explicit_routes;
        size_t       nexplicit;
    } old;
    cl_perms *perms = NULL;
    pthread_mutex_lock(&g_cl.lock);
    old.name = g_cl.name;
    old.host = g_cl.host;
    old.advertise = g_cl.advertise;
    old.auth_user = g_cl.auth_user;
    old.auth_pass = g_cl.auth_pass;
    old.name_dynamic = g_cl.name_dynamic;
    old.no_advertise = g_cl.no_advertise;
    old.port = g_cl.port;
    old.cfg_port = g_cl.cfg_port;
    old.connect_retries = g_cl.connect_retries;
    old.ping_max = g_cl.ping_max;
    old.auth_timeout_ms = g_cl.auth_timeout_ms;
    old.ping_interval_ms = g_cl.ping_interval_ms;
    old.explicit_routes = g_cl.explicit_routes;
    old.nexplicit = g_cl.nexplicit;
    g_cl.name = g_cl.host = g_cl.advertise = g_cl.auth_user = g_cl.auth_pass = NULL;
    g_cl.explicit_routes = NULL;
    g_cl.nexplicit = 0;
    g_cl.name_dynamic = g_cl.no_advertise = false;
    if (read_settings(ev->cfg, &perms, false) != MODNATS_OK) {
        free_settings(false);
        g_cl.name = old.name;
        g_cl.name_dynamic = old.name_dynamic;
        g_cl.host = old.host;
        g_cl.port = old.port;
        g_cl.cfg_port = old.cfg_port;
        g_cl.advertise = old.advertise;
        g_cl.no_advertise = old.no_advertise;
        g_cl.connect_retries = old.connect_retries;
        g_cl.auth_user = old.auth_user;
        g_cl.auth_pass = old.auth_pass;
        g_cl.auth_timeout_ms = old.auth_timeout_ms;
        g_cl.ping_interval_ms = old.ping_interval_ms;
        g_cl.ping_max = old.ping_max;
        g_cl.explicit_routes = old.explicit_routes;
        g_cl.nexplicit = old.nexplicit;
        pthread_mutex_unlock(&g_cl.lock);
        return MODNATS_ERR;
    }
    /* Kept as they are: the name (a dynamic one stays what the cluster
     * agreed on), the listener, advertise. */
    if (!g_cl.name_dynamic && strcmp(g_cl.name, old.name) != 0)
        cl_log(MODNATS_LOG_WARN, "cluster name change to \"%s\" needs a restart", g_cl.name);
    if (!str_eq(g_cl.host, old.host) || g_cl.cfg_port != old.cfg_port)
        cl_log(MODNATS_LOG_WARN, "cluster listen address change needs a restart");
    if (!str_eq(g_cl.advertise, old.advertise))
        cl_log(MODNATS_LOG_WARN, "cluster advertise change needs a restart");
    free(g_cl.name);
    free(g_cl.host);
    free(g_cl.advertise);
    g_cl.name = old.name;
    g_cl.name_dynamic = old.name_dynamic;
    g_cl.host = old.host;
    g_cl.port = old.port;
    g_cl.cfg_port = old.cfg_port;
    g_cl.advertise = old.advertise;

    bool auth_changed = !str_eq(g_cl.auth_user, old.auth_user) ||
                        !str_eq(g_cl.auth_pass, old.auth_pass);
    cl_route *closing[256];
    bool auth_fail[256];
    size_t nclosing = cl_route_remap_locked(old.explicit_routes, old.nexplicit, auth_changed,
                                            closing, auth_fail, 256);
    if (g_cl.no_advertise != old.no_advertise)
        cl_route_advertise_changed_locked();
    const cl_perms *cur = cl_perms_get();
    bool perms_changed = !cl_perms_equal(cur, perms);
    if (perms_changed) {
        cl_interest_reimport_locked(cur, perms);   /* RS+/RS- for what import changed */
        cl_perms_install(perms);                   /* cur stays allocated until fini */
    } else {
        cl_perms_free(perms);
    }
    pthread_mutex_unlock(&g_cl.lock);

    free(old.auth_user);
    free(old.auth_pass);
    for (size_t i = 0; i < old.nexplicit; i++)
        cl_url_free(&old.explicit_routes[i].url);
    free(old.explicit_routes);

    cl_route_after_reload(closing, auth_fail, nclosing, perms_changed);
    cl_log(MODNATS_LOG_INFO, "reloaded: %zu explicit route(s)%s%s", g_cl.nexplicit,
           auth_changed ? ", new route credentials" : "",
           perms_changed ? ", new permissions" : "");
    return MODNATS_DEFER;
}

/* ------------------------------------------------------- init/fini */

static modnats_rc cl_init(modnats_module *self, const modnats_host_api *api,
                          const modnats_config *cfg)
{
    memset(&g_cl, 0, sizeof(g_cl));
    g_cl.api = api;
    g_cl.self = self;
    pthread_mutex_init(&g_cl.lock, NULL);
    if (!MODNATS_HAS(api, listen) || !MODNATS_HAS(api, dial) || !MODNATS_HAS(api, sink_new) ||
        !MODNATS_HAS(api, sub_set_weight) || !MODNATS_HAS(api, conn_set_ud) ||
        !MODNATS_HAS(api, listener_port)) {
        api->log(self, MODNATS_LOG_ERROR, "this core lacks module connections or sinks");
        return MODNATS_ERR;
    }
    /* Every origin new_origin gives us carries our module's number: that
     * is how our routes' interest and messages are told apart. */
    modnats_origin probe = api->new_origin(self);
    if (probe == 0) {
        api->log(self, MODNATS_LOG_ERROR, "no origin ids");
        return MODNATS_ERR;
    }
    g_cl.origin_module = MODNATS_ORIGIN_MODULE(probe);
    cl_perms *perms = NULL;
    if (read_settings(cfg, &perms, true) != MODNATS_OK) {
        free_settings(true);
        return MODNATS_ERR;
    }
    cl_perms_install(perms);
    api->hook(self, MODNATS_EV_RELOAD, 100, cl_on_reload, NULL);
    if (cl_interest_init() != MODNATS_OK || cl_route_start() != MODNATS_OK) {
        free_settings(true);
        return MODNATS_ERR;
    }
    api->service_register(self, CL_ROUTEZ_SERVICE, 1, &routez_v1);
    return MODNATS_OK;
}

static void cl_fini(modnats_module *self)
{
    (void)self;
    cl_route_stop();
    cl_interest_fini();
    free_settings(true);
    cl_perms_fini();
}

static const modnats_module_desc cl_desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "cluster",
    .version = CL_VERSION,
    .description = "routes between servers of a cluster (full mesh, nats-server 2.9 compatible)",
    .options = cl_options,
    .init = cl_init,
    .fini = cl_fini,
};

MODNATS_MODULE(cluster)
{
    return &cl_desc;
}
