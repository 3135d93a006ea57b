/*
 * cl_route.c - route connections: the handshake, the full mesh, reconnects.
 *
 * Handshake as nats-server 2.9 does it: the dialer sends CONNECT then
 * INFO, the acceptor sends INFO at once; each side registers the route
 * when the peer's INFO arrives (cluster name and self checks first), then
 * sends all its interest.  The first route registered for a server id
 * wins; a later one to the same id is closed (nats-server's rule).
 *
 * Full mesh: when a route registers while others exist, its INFO (with
 * "ip": nats-route://host:port/) is forwarded to the other routes; a
 * server getting an INFO for an id it does not know dials that URL.
 * Explicit routes are redialed forever with back-off; a registered
 * implicit route that drops is redialed a few times by the side with the
 * smaller server id, as nats-server does, so a cross-dial that dropped
 * both connections heals.
 *
 * Threads: on_open/on_data/on_close run on the connection's worker; the
 * housekeeping timer (dials, PINGs, auth timeouts) on worker 0.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CL_INFO_TIMEOUT_MS 5000
#define CL_BACKOFF_MIN_MS 100
#define CL_BACKOFF_MAX_MS 2000
#define CL_TICK_MS 100

static modnats_rc on_open(void *ud, modnats_conn *conn);
static modnats_rc on_data(void *ud, modnats_conn *conn, const char *buf, size_t len);
static void on_close(void *ud, modnats_conn *conn, const char *reason);

/* Every callback's ud is the connection's route: a dial's from the start,
 * an accepted connection's once on_open gave it one (conn_set_ud). */
static const modnats_conn_ops route_ops = {
    .size = sizeof(modnats_conn_ops), .on_open = on_open, .on_data = on_data,
    .on_close = on_close,
};

/* ----------------------------------------------------------- routes */

void cl_route_ref(cl_route *r)
{
    atomic_fetch_add(&r->refs, 1);
}

void cl_route_unref(cl_route *r)
{
    if (atomic_fetch_sub(&r->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&r->wlock);
    pthread_mutex_destroy(&r->slock);
    free(r->conn_user);
    free(r->conn_pass);
    cl_perms_free(r->peer_export);
    cl_url_free(&r->url);
    free(r->remote_name);
    free(r->remote_host);
    free(r->gossip_url);
    cl_strv_free(r->connect_urls, r->nconnect_urls);
    free(r->rbuf);
    free(r);
}

static cl_route *route_new(bool solicited, int explicit_idx)
{
    cl_route *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    atomic_store(&r->refs, 1);
    pthread_mutex_init(&r->wlock, NULL);
    pthread_mutex_init(&r->slock, NULL);
    r->solicited = solicited;
    r->explicit_idx = explicit_idx;
    r->state = solicited ? CL_DIALING : CL_OPEN;
    return r;
}

/* g_cl.lock held. */
static void link_route(cl_route *r)
{
    r->next = g_cl.routes;
    g_cl.routes = r;
}

static void unlink_route(cl_route *r)
{
    for (cl_route **pp = &g_cl.routes; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            return;
        }
    }
}

bool cl_route_write(cl_route *r, const void *buf, size_t len)
{
    bool ok = false;
    pthread_mutex_lock(&r->wlock);
    if (r->conn)
        ok = CL_API->conn_write(r->conn, buf, len) == MODNATS_OK;
    pthread_mutex_unlock(&r->wlock);
    return ok;
}

/* Close a route from any thread (the caller holds a reference, no lock). */
static void close_route(cl_route *r, const char *err)
{
    bool mine = r->has_owner && pthread_equal(r->owner, pthread_self());
    if (mine) {
        /* On the owner: on_close cannot run meanwhile, and conn_close may
         * call it synchronously, so no lock of ours may be held. */
        pthread_mutex_lock(&r->wlock);
        modnats_conn *c = r->conn;
        pthread_mutex_unlock(&r->wlock);
        if (c)
            CL_API->conn_close(c, err);
        return;
    }
    pthread_mutex_lock(&r->wlock);
    if (r->conn)
        CL_API->conn_close(r->conn, err);   /* posted to the owner */
    pthread_mutex_unlock(&r->wlock);
}

bool cl_origin_is_ours(modnats_origin o)
{
    return o != 0 && MODNATS_ORIGIN_MODULE(o) == g_cl.origin_module;
}

static cl_route *active_by_id_locked(const char *id, const cl_route *except)
{
    for (cl_route *r = g_cl.routes; r; r = r->next)
        if (r != except && r->state == CL_ACTIVE && strcmp(r->remote_id, id) == 0)
            return r;
    return NULL;
}

static bool dialing_to_locked(const char *id, const cl_url *u)
{
    for (cl_route *r = g_cl.routes; r; r = r->next) {
        if (!r->solicited || r->state == CL_ACTIVE || r->state == CL_CLOSED)
            continue;
        if (id && r->remote_id[0] && strcmp(r->remote_id, id) == 0)
            return true;
        if (u && r->url.host && r->url.port == u->port && strcasecmp(r->url.host, u->host) == 0)
            return true;
    }
    return false;
}

static size_t active_count_locked(void)
{
    size_t n = 0;
    for (cl_route *r = g_cl.routes; r; r = r->next)
        n += r->state == CL_ACTIVE;
    return n;
}

/* ----------------------------------------------------- connect URLs */

static void own_client_urls(void)
{
    modnats_stats st = { .size = sizeof(st) };
    if (CL_API->stats(&st) != MODNATS_OK || st.port <= 0)
        return;
    const char *h = st.host;
    char buf[128];
    if (h && *h && strcmp(h, "0.0.0.0") != 0 && strcmp(h, "::") != 0 && strcmp(h, "[::]") != 0) {
        snprintf(buf, sizeof(buf), strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, st.port);
        g_cl.own_client_urls = calloc(1, sizeof(char *));
        if (g_cl.own_client_urls && (g_cl.own_client_urls[0] = strdup(buf)))
            g_cl.nown_client_urls = 1;
        return;
    }
    /* Listening on every address: advertise the non-loopback IPv4 ones. */
    struct ifaddrs *ifa = NULL;
    size_t n = 0;
    char **v = NULL;
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                continue;
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip, sizeof(ip));
            if (strncmp(ip, "127.", 4) == 0)
                continue;
            snprintf(buf, sizeof(buf), "%s:%d", ip, st.port);
            char **nv = realloc(v, (n + 1) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
            if ((v[n] = strdup(buf)))
                n++;
        }
        freeifaddrs(ifa);
    }
    if (n == 0) {
        snprintf(buf, sizeof(buf), "127.0.0.1:%d", st.port);
        char **nv = realloc(v, sizeof(*v));
        if (nv) {
            v = nv;
            if ((v[0] = strdup(buf)))
                n = 1;
        }
    }
    g_cl.own_client_urls = v;
    g_cl.nown_client_urls = n;
}

/* JSON array of our client URLs, into buf. */
static void urls_json(char *buf, size_t cap, char **urls, size_t n)
{
    size_t len = 0;
    buf[len++] = '[';
    for (size_t i = 0; i < n && len + 8 < cap; i++) {
        if (i)
            buf[len++] = ',';
        cl_json_escape(buf + len, cap - len - 2, urls[i]);
        len += strlen(buf + len);
    }
    buf[len++] = ']';
    buf[len] = 0;
}

/* g_cl.lock held: tell clients every client URL of the cluster. */
static void update_connect_urls_locked(void)
{
    if (g_cl.no_advertise || !MODNATS_HAS(CL_API, set_connect_urls))
        return;
    size_t cap = g_cl.nown_client_urls, n = 0;
    for (cl_route *r = g_cl.routes; r; r = r->next)
        if (r->state == CL_ACTIVE)
            cap += r->nconnect_urls;
    const char **v = calloc(cap ? cap : 1, sizeof(*v));
    if (!v)
        return;
    for (size_t i = 0; i < g_cl.nown_client_urls; i++)
        v[n++] = g_cl.own_client_urls[i];
    for (cl_route *r = g_cl.routes; r; r = r->next) {
        if (r->state != CL_ACTIVE)
            continue;
        for (size_t i = 0; i < r->nconnect_urls; i++) {
            bool dup = false;
            for (size_t j = 0; j < n && !dup; j++)
                dup = strcmp(v[j], r->connect_urls[i]) == 0;
            if (!dup)
                v[n++] = r->connect_urls[i];
        }
    }
    CL_API->set_connect_urls(g_cl.self, v, n);
    free(v);
}

/* g_cl.lock held: no_advertise changed (a reload). */
void cl_route_advertise_changed_locked(void)
{
    if (g_cl.no_advertise) {
        if (MODNATS_HAS(CL_API, set_connect_urls))
            CL_API->set_connect_urls(g_cl.self, NULL, 0);
    } else {
        update_connect_urls_locked();
    }
}

/* ------------------------------------------------------ INFO/CONNECT */

static int64_t max_payload(void)
{
    modnats_stats st = { .size = sizeof(st) };
    if (CL_API->stats(&st) == MODNATS_OK && st.max_payload > 0)
        return st.max_payload;
    return 1024 * 1024;
}

static const char *compat_version(void)
{
    modnats_stats st = { .size = sizeof(st) };
    if (CL_API->stats(&st) == MODNATS_OK && st.compat_version)
        return st.compat_version;
    return CL_API->server_version;
}

/* Our INFO, to a new route. */
static void send_info(cl_route *r)
{
    char id[128], name[512], cluster[512], host[300], urls[4096] = "", ip[600] = "";
    cl_json_escape(id, sizeof(id), CL_API->server_id());
    cl_json_escape(name, sizeof(name), CL_API->server_name());
    char perms[9000];
    pthread_mutex_lock(&g_cl.lock);
    cl_json_escape(cluster, sizeof(cluster), g_cl.name);
    bool dyn = g_cl.name_dynamic;
    bool auth = g_cl.auth_user != NULL;
    bool no_advertise = g_cl.no_advertise;
    cl_perms_info_json(cl_perms_get(), perms, sizeof(perms));
    pthread_mutex_unlock(&g_cl.lock);
    cl_json_escape(host, sizeof(host), g_cl.host && *g_cl.host ? g_cl.host : "0.0.0.0");
    if (!no_advertise && g_cl.nown_client_urls) {
        char arr[4000];
        urls_json(arr, sizeof(arr), g_cl.own_client_urls, g_cl.nown_client_urls);
        snprintf(urls, sizeof(urls), ",\"connect_urls\":%s", arr);
    }
    if (g_cl.advertise) {
        char u[500], esc[560];
        snprintf(u, sizeof(u), "nats-route://%s/", g_cl.advertise);
        cl_json_escape(esc, sizeof(esc), u);
        snprintf(ip, sizeof(ip), ",\"ip\":%s", esc);
    }
    char *out = NULL;
    int n = asprintf(&out,
                     "INFO {\"server_id\":%s,\"server_name\":%s,\"version\":\"%s\",\"proto\":2,"
                     "\"go\":\"modnats\",\"host\":%s,\"port\":%d,\"headers\":true,"
                     "\"max_payload\":%lld%s%s,\"cluster\":%s%s%s%s%s}\r\n",
                     id, name, compat_version(), host, g_cl.port, (long long)max_payload(),
                     auth ? ",\"auth_required\":true" : "",
                     g_cl.tls_on ? ",\"tls_required\":true,\"tls_verify\":true" : "", cluster,
                     dyn ? ",\"cluster_dynamic\":true" : "", urls, ip, perms);
    if (n > 0) {
        cl_route_write(r, out, (size_t)n);
        free(out);
    }
}

static void send_connect(cl_route *r)
{
    char id[128], cluster[512], user[600] = "", pass[600] = "";
    cl_json_escape(id, sizeof(id), CL_API->server_id());
    pthread_mutex_lock(&g_cl.lock);
    cl_json_escape(cluster, sizeof(cluster), g_cl.name);
    bool dyn = g_cl.name_dynamic;
    /* Credentials: the route URL's, else the authorization block's. */
    char *u = r->url.user ? strdup(r->url.user) : g_cl.auth_user ? strdup(g_cl.auth_user) : NULL;
    char *p = r->url.user ? (r->url.pass ? strdup(r->url.pass) : NULL)
                          : g_cl.auth_pass ? strdup(g_cl.auth_pass) : NULL;
    pthread_mutex_unlock(&g_cl.lock);
    if (u) {
        char esc[520];
        cl_json_escape(esc, sizeof(esc), u);
        snprintf(user, sizeof(user), ",\"user\":%s", esc);
    }
    if (p) {
        char esc[520];
        cl_json_escape(esc, sizeof(esc), p);
        snprintf(pass, sizeof(pass), ",\"pass\":%s", esc);
    }
    char *out = NULL;
    int n = asprintf(&out,
                     "CONNECT {\"echo\":true,\"verbose\":false,\"pedantic\":false%s%s,"
                     "\"tls_required\":%s,\"headers\":true,\"name\":%s,\"cluster\":%s%s}\r\n",
                     user, pass, g_cl.tls_on ? "true" : "false", id, cluster,
                     dyn ? ",\"cluster_dynamic\":true" : "");
    free(u);
    free(p);
    if (n > 0) {
        cl_route_write(r, out, (size_t)n);
        free(out);
    }
}

/* The INFO we forward to other routes so they dial the new one. */
static char *gossip_info_locked(const cl_route *r, size_t *len)
{
    char id[128], name[512], cluster[512], host[300], ip[600], urls[4096] = "";
    cl_json_escape(id, sizeof(id), r->remote_id);
    cl_json_escape(name, sizeof(name), r->remote_name ? r->remote_name : "");
    cl_json_escape(cluster, sizeof(cluster), g_cl.name);
    cl_json_escape(host, sizeof(host), r->remote_host ? r->remote_host : "");
    cl_json_escape(ip, sizeof(ip), r->gossip_url ? r->gossip_url : "");
    if (r->nconnect_urls) {
        char arr[4000];
        urls_json(arr, sizeof(arr), r->connect_urls, r->nconnect_urls);
        snprintf(urls, sizeof(urls), ",\"connect_urls\":%s", arr);
    }
    char *out = NULL;
    int n = asprintf(&out,
                     "INFO {\"server_id\":%s,\"server_name\":%s,\"version\":\"%s\",\"proto\":2,"
                     "\"host\":%s,\"port\":%d,\"headers\":true,\"max_payload\":%lld%s,"
                     "\"ip\":%s,\"cluster\":%s%s}\r\n",
                     id, name, compat_version(), host, r->remote_port, (long long)max_payload(),
                     r->remote_auth_required ? ",\"auth_required\":true" : "", ip, cluster, urls);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return out;
}

/* g_cl.lock held.  Start a dial; false if it could not even start. */
static bool dial_locked(const cl_url *u, int explicit_idx, const char *expect_id)
{
    cl_route *r = route_new(true, explicit_idx);
    if (!r)
        return false;
    if (!cl_url_copy(u, &r->url)) {
        cl_route_unref(r);
        return false;
    }
    if (expect_id)
        snprintf(r->remote_id, sizeof(r->remote_id), "%s", expect_id);
    link_route(r);
    modnats_rc drc = g_cl.tls_dial
        ? CL_API->dial_tls(g_cl.self, u->host, u->port, &route_ops, r, g_cl.tls_dial)
        : CL_API->dial(g_cl.self, u->host, u->port, &route_ops, r);
    if (drc != MODNATS_OK) {
        unlink_route(r);
        cl_route_unref(r);
        return false;
    }
    cl_log(MODNATS_LOG_DEBUG, "dialing route %s:%d", u->host, u->port);
    return true;
}

static bool matches_explicit_locked(const char *host, int port)
{
    for (size_t i = 0; i < g_cl.nexplicit; i++) {
        const cl_url *u = &g_cl.explicit_routes[i].url;
        if (host && u->port == port && strcasecmp(u->host, host) == 0)
            return true;
    }
    return false;
}

/* An INFO naming a server we may not know: dial it (g_cl.lock held). */
static void implicit_route_locked(const char *id, const char *ip, bool auth_required,
                                  const char *host, int port)
{
    if (strcmp(id, CL_API->server_id()) == 0 || active_by_id_locked(id, NULL))
        return;
    if (matches_explicit_locked(host, port))
        return;
    cl_url u = { 0 };
    if (!ip || !cl_url_parse(ip, 6222, &u))
        return;
    if (dialing_to_locked(id, &u)) {
        cl_url_free(&u);
        return;
    }
    if (auth_required && g_cl.auth_user && !u.user) {
        u.user = strdup(g_cl.auth_user);
        u.pass = g_cl.auth_pass ? strdup(g_cl.auth_pass) : NULL;
    }
    cl_log(MODNATS_LOG_DEBUG, "implicit route to %s at %s", id, ip);
    dial_locked(&u, -1, id);
    cl_url_free(&u);
}

int cl_on_connect(cl_route *r, const char *json)
{
    if (r->solicited)
        return 0;   /* a CONNECT to the dialer: ignore */
    char *user = NULL, *pass = NULL, *name = NULL, *cluster = NULL;
    cl_json_string(json, "user", &user);
    cl_json_string(json, "pass", &pass);
    cl_json_string(json, "name", &name);
    cl_json_string(json, "cluster", &cluster);
    bool their_dyn = false;
    cl_json_bool(json, "cluster_dynamic", &their_dyn);
    int rc = 0;
    pthread_mutex_lock(&g_cl.lock);
    bool ok = !g_cl.auth_user ||
              (user && strcmp(user, g_cl.auth_user) == 0 &&
               strcmp(pass ? pass : "", g_cl.auth_pass ? g_cl.auth_pass : "") == 0);
    if (ok) {
        free(r->conn_user);
        free(r->conn_pass);
        r->conn_user = user ? strdup(user) : NULL;
        r->conn_pass = pass ? strdup(pass) : NULL;
    }
    pthread_mutex_unlock(&g_cl.lock);
    if (!ok) {
        cl_log(MODNATS_LOG_ERROR, "route from %s:%d: authorization failed",
               CL_API->conn_remote_ip(r->conn), CL_API->conn_remote_port(r->conn));
        cl_route_write(r, "-ERR 'Authorization Violation'\r\n", 32);
        rc = -1;
    }
    if (rc == 0 && name && strcmp(name, CL_API->server_id()) == 0)
        rc = -1;    /* a route to ourselves */
    if (rc == 0 && cluster && *cluster) {
        pthread_mutex_lock(&g_cl.lock);
        if (strcmp(cluster, g_cl.name) != 0) {
            if (g_cl.name_dynamic && (!their_dyn || strcmp(g_cl.name, cluster) < 0)) {
                cl_log(MODNATS_LOG_INFO, "cluster name is now \"%s\"", cluster);
                free(g_cl.name);
                g_cl.name = strdup(cluster);
                g_cl.name_dynamic = their_dyn;
            } else {
                cl_log(MODNATS_LOG_ERROR, "route from %s:%d: cluster name \"%s\" is not ours (\"%s\")",
                       CL_API->conn_remote_ip(r->conn), CL_API->conn_remote_port(r->conn),
                       cluster, g_cl.name);
                rc = -1;
            }
        }
        pthread_mutex_unlock(&g_cl.lock);
    }
    if (rc == 0)
        r->got_connect = true;
    free(user);
    free(pass);
    free(name);
    free(cluster);
    return rc;
}

int cl_on_info(cl_route *r, const char *json)
{
    char *id = NULL, *name = NULL, *cluster = NULL, *host = NULL, *ip = NULL;
    char **urls = NULL;
    size_t nurls = 0;
    int64_t port = 0;
    bool dyn = false, auth = false;
    if (!cl_json_string(json, "server_id", &id) || !*id || strlen(id) >= CL_ID_MAX) {
        free(id);
        cl_log(MODNATS_LOG_ERROR, "route INFO without a server_id");
        return -1;
    }
    cl_json_string(json, "server_name", &name);
    cl_json_string(json, "cluster", &cluster);
    cl_json_string(json, "host", &host);
    cl_json_string(json, "ip", &ip);
    cl_json_int(json, "port", &port);
    cl_json_bool(json, "cluster_dynamic", &dyn);
    cl_json_bool(json, "auth_required", &auth);
    cl_json_strings(json, "connect_urls", &urls, &nurls);
    cl_perms *pexp = cl_perms_from_info(json);
    int rc = 0;
    const char *self_id = CL_API->server_id();

    if (r->got_info) {
        pthread_mutex_lock(&g_cl.lock);
        if (strcmp(id, r->remote_id) == 0) {
            /* An update from the peer itself: its client URLs. */
            cl_strv_free(r->connect_urls, r->nconnect_urls);
            r->connect_urls = urls;
            r->nconnect_urls = nurls;
            urls = NULL;
            nurls = 0;
            update_connect_urls_locked();
            /* Its export permissions (a reload there): announce what it
             * may now take, as nats-server does. */
            if (r->state == CL_ACTIVE && !cl_perms_equal(r->peer_export, pexp))
                cl_interest_peer_export_locked(r, r->peer_export, pexp);
            cl_perms_free(r->peer_export);
            r->peer_export = pexp;
            pexp = NULL;
        } else if (!g_cl.shutting_down) {
            implicit_route_locked(id, ip, auth, host, (int)port);
        }
        pthread_mutex_unlock(&g_cl.lock);
        goto out;
    }

    if (strcmp(id, self_id) == 0) {
        pthread_mutex_lock(&g_cl.lock);
        if (r->explicit_idx >= 0)
            g_cl.explicit_routes[r->explicit_idx].is_self = true;
        pthread_mutex_unlock(&g_cl.lock);
        cl_log(MODNATS_LOG_DEBUG, "route to self detected");
        rc = -1;
        goto out;
    }
    pthread_mutex_lock(&g_cl.lock);
    if (cluster && *cluster && strcmp(cluster, g_cl.name) != 0) {
        if (g_cl.name_dynamic && (!dyn || strcmp(g_cl.name, cluster) < 0)) {
            cl_log(MODNATS_LOG_INFO, "cluster name is now \"%s\"", cluster);
            free(g_cl.name);
            g_cl.name = strdup(cluster);
            g_cl.name_dynamic = dyn;
        } else {
            cl_log(MODNATS_LOG_ERROR, "route to %s: cluster name \"%s\" is not ours (\"%s\")", id,
                   cluster, g_cl.name);
            rc = -1;
        }
    }
    if (rc == 0 && !r->solicited && name && strcmp(name, CL_API->server_name()) == 0) {
        cl_log(MODNATS_LOG_ERROR, "remote server has a duplicate name: \"%s\"", name);
        rc = -1;
    }
    if (rc == 0 && !r->solicited && g_cl.auth_user && !r->got_connect) {
        rc = -1;
    }
    if (rc != 0) {
        pthread_mutex_unlock(&g_cl.lock);
        goto out;
    }
    r->got_info = true;
    snprintf(r->remote_id, sizeof(r->remote_id), "%s", id);
    r->remote_name = name;
    name = NULL;
    r->remote_host = host;
    host = NULL;
    r->remote_port = (int)port;
    r->remote_auth_required = auth;
    cl_perms_free(r->peer_export);
    r->peer_export = pexp;
    pexp = NULL;
    cl_strv_free(r->connect_urls, r->nconnect_urls);
    r->connect_urls = urls;
    r->nconnect_urls = nurls;
    urls = NULL;
    nurls = 0;
    if (r->explicit_idx >= 0)
        snprintf(g_cl.explicit_routes[r->explicit_idx].last_id, CL_ID_MAX, "%s", id);
    if (active_by_id_locked(id, r)) {
        pthread_mutex_unlock(&g_cl.lock);
        cl_log(MODNATS_LOG_DEBUG, "duplicate route to %s closed", id);
        rc = -1;
        goto out;
    }
    if (ip && *ip) {
        r->gossip_url = ip;
        ip = NULL;
    } else {
        char u[400];
        const char *rip = CL_API->conn_remote_ip(r->conn);
        snprintf(u, sizeof(u), strchr(rip, ':') ? "nats-route://[%s]:%d/" : "nats-route://%s:%d/",
                 rip, r->remote_port);
        r->gossip_url = strdup(u);
    }
    r->state = CL_ACTIVE;
    r->last_ping_ms = cl_now_ms();
    r->ping_sent_ns = cl_mono_ns();   /* a first PING: the rtt is known early */
    cl_route_write(r, "PING\r\n", 6);
    if (r->explicit_idx >= 0) {
        cl_explicit *e = &g_cl.explicit_routes[r->explicit_idx];
        e->failures = 0;
        e->backoff_ms = CL_BACKOFF_MIN_MS;
    }
    for (cl_known **kp = &g_cl.known; *kp;) {
        if (strcmp((*kp)->id, id) == 0) {
            cl_known *k = *kp;
            *kp = k->next;
            cl_url_free(&k->url);
            free(k);
        } else {
            kp = &(*kp)->next;
        }
    }
    cl_interest_send_all_locked(r);
    if (active_count_locked() > 1) {
        size_t glen = 0;
        char *g = gossip_info_locked(r, &glen);
        if (g) {
            for (cl_route *o = g_cl.routes; o; o = o->next)
                if (o != r && o->state == CL_ACTIVE)
                    cl_route_write(o, g, glen);
            free(g);
        }
    }
    update_connect_urls_locked();
    pthread_mutex_unlock(&g_cl.lock);
    cl_log(MODNATS_LOG_INFO, "%s:%d - route to %s (%s) registered",
           CL_API->conn_remote_ip(r->conn), CL_API->conn_remote_port(r->conn), r->remote_id,
           r->remote_name ? r->remote_name : "");
out:
    free(id);
    free(name);
    free(cluster);
    free(host);
    free(ip);
    cl_strv_free(urls, nurls);
    cl_perms_free(pexp);
    return rc;
}

void cl_on_ping(cl_route *r)
{
    cl_route_write(r, "PONG\r\n", 6);
}

void cl_on_pong(cl_route *r)
{
    uint64_t now = cl_mono_ns();
    pthread_mutex_lock(&g_cl.lock);
    r->pings_out = 0;
    if (r->ping_sent_ns && now > r->ping_sent_ns)
        atomic_store_explicit(&r->rtt_ns, now - r->ping_sent_ns, memory_order_relaxed);
    r->ping_sent_ns = 0;
    pthread_mutex_unlock(&g_cl.lock);
}

void cl_on_err(cl_route *r, const char *text)
{
    cl_log(MODNATS_LOG_ERROR, "route %s: peer sent -ERR %s", r->remote_id[0] ? r->remote_id : "?",
           text);
}

/* ------------------------------------------------------ connections */

static modnats_rc on_open(void *ud, modnats_conn *conn)
{
    cl_route *r = ud;
    if (!r) {
        /* Accepted: the route becomes the connection's ud, so on_data and
         * on_close (also after a refusal below) get it. */
        r = route_new(false, -1);
        if (!r)
            return MODNATS_ERR;
        if (CL_API->conn_set_ud(conn, r) != MODNATS_OK) {
            cl_route_unref(r);
            return MODNATS_ERR;
        }
    }
    modnats_origin o = CL_API->new_origin(g_cl.self);
    if (!cl_origin_is_ours(o)) {
        cl_log(MODNATS_LOG_ERROR, "no origin id left for a route");
        return MODNATS_ERR;
    }
    pthread_mutex_lock(&g_cl.lock);
    if (g_cl.shutting_down || r->no_redial) {
        pthread_mutex_unlock(&g_cl.lock);
        return MODNATS_ERR;
    }
    r->origin = o;
    r->owner = pthread_self();
    r->has_owner = true;
    r->state = CL_OPEN;
    r->opened_ms = cl_now_ms();
    if (!r->solicited && g_cl.auth_user)
        r->auth_deadline_ms = r->opened_ms + (uint64_t)g_cl.auth_timeout_ms;
    pthread_mutex_lock(&r->wlock);
    r->conn = conn;
    pthread_mutex_unlock(&r->wlock);
    if (!ud)
        link_route(r);
    pthread_mutex_unlock(&g_cl.lock);
    if (r->solicited)
        send_connect(r);
    send_info(r);
    cl_log(MODNATS_LOG_DEBUG, "%s:%d - route connection created (%s)", CL_API->conn_remote_ip(conn),
           CL_API->conn_remote_port(conn), r->solicited ? "dialed" : "accepted");
    return MODNATS_OK;
}

static modnats_rc on_data(void *ud, modnats_conn *conn, const char *buf, size_t len)
{
    (void)conn;
    cl_route *r = ud;
    if (!r)
        return MODNATS_ERR;
    return cl_proto_feed(r, buf, len) == 0 ? MODNATS_OK : MODNATS_ERR;
}

static void on_close(void *ud, modnats_conn *conn, const char *reason)
{
    (void)conn;
    cl_route *r = ud;
    if (!r)
        return;
    pthread_mutex_lock(&r->wlock);
    r->conn = NULL;
    pthread_mutex_unlock(&r->wlock);

    uint64_t now = cl_now_ms();
    pthread_mutex_lock(&g_cl.lock);
    bool was_active = r->state == CL_ACTIVE;
    r->state = CL_CLOSED;
    unlink_route(r);
    if (r->explicit_idx >= 0) {
        cl_explicit *e = &g_cl.explicit_routes[r->explicit_idx];
        e->dialing = false;
        if (was_active) {
            e->backoff_ms = CL_BACKOFF_MIN_MS;
        } else {
            e->failures++;
            e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : CL_BACKOFF_MIN_MS;
            if (e->backoff_ms > CL_BACKOFF_MAX_MS)
                e->backoff_ms = CL_BACKOFF_MAX_MS;
        }
        e->next_try_ms = now + e->backoff_ms;
    } else if (was_active && r->gossip_url && !g_cl.shutting_down && !r->no_redial &&
               strcmp(CL_API->server_id(), r->remote_id) < 0 &&
               !active_by_id_locked(r->remote_id, NULL)) {
        /* The smaller id redials a lost implicit route a few times. */
        cl_known *k = calloc(1, sizeof(*k));
        if (k && cl_url_parse(r->gossip_url, 6222, &k->url)) {
            snprintf(k->id, sizeof(k->id), "%s", r->remote_id);
            if (r->remote_auth_required && g_cl.auth_user && !k->url.user) {
                k->url.user = strdup(g_cl.auth_user);
                k->url.pass = g_cl.auth_pass ? strdup(g_cl.auth_pass) : NULL;
            }
            k->tries_left = g_cl.connect_retries > 0 ? g_cl.connect_retries : 3;
            k->next_try_ms = now + 50;
            k->next = g_cl.known;
            g_cl.known = k;
        } else {
            free(k);
        }
    }
    if (was_active)
        update_connect_urls_locked();
    pthread_mutex_unlock(&g_cl.lock);

    if (was_active || r->got_info)
        cl_log(MODNATS_LOG_INFO, "route to %s (%s) closed: %s", r->remote_id,
               r->remote_name ? r->remote_name : "", reason ? reason : "?");
    else
        cl_log(MODNATS_LOG_DEBUG, "route %s:%d closed: %s", r->url.host ? r->url.host : "?",
               r->url.port, reason ? reason : "?");
    cl_route_drop_interest(r);
    cl_route_unref(r);
}

/* ---------------------------------------------------- housekeeping */

static void tick(void *ud, modnats_timer *t)
{
    (void)ud;
    (void)t;
    uint64_t now = cl_now_ms();
    cl_route *closing[64];
    const char *why[64];
    size_t nclose = 0;

    pthread_mutex_lock(&g_cl.lock);
    if (g_cl.shutting_down) {
        pthread_mutex_unlock(&g_cl.lock);
        return;
    }
    for (size_t i = 0; i < g_cl.nexplicit; i++) {
        cl_explicit *e = &g_cl.explicit_routes[i];
        if (e->dialing || e->is_self || e->next_try_ms > now)
            continue;
        if (e->last_id[0] && active_by_id_locked(e->last_id, NULL))
            continue;   /* reached through the other side's dial */
        if (dial_locked(&e->url, (int)i, NULL)) {
            e->dialing = true;
        } else {
            e->failures++;
            e->backoff_ms = e->backoff_ms ? e->backoff_ms * 2 : CL_BACKOFF_MIN_MS;
            if (e->backoff_ms > CL_BACKOFF_MAX_MS)
                e->backoff_ms = CL_BACKOFF_MAX_MS;
            e->next_try_ms = now + e->backoff_ms;
        }
    }
    for (cl_known **kp = &g_cl.known; *kp;) {
        cl_known *k = *kp;
        if (active_by_id_locked(k->id, NULL) || k->tries_left <= 0) {
            *kp = k->next;
            cl_url_free(&k->url);
            free(k);
            continue;
        }
        if (k->next_try_ms <= now && !dialing_to_locked(k->id, &k->url)) {
            k->tries_left--;
            k->next_try_ms = now + 1000;
            dial_locked(&k->url, -1, k->id);
        }
        kp = &k->next;
    }
    for (cl_route *r = g_cl.routes; r; r = r->next) {
        const char *reason = NULL;
        if (r->state == CL_OPEN) {
            if (r->auth_deadline_ms && !r->got_connect && now > r->auth_deadline_ms) {
                cl_route_write(r, "-ERR 'Authentication Timeout'\r\n", 31);
                reason = "authentication timeout";
            } else if (now > r->opened_ms + CL_INFO_TIMEOUT_MS) {
                reason = "no INFO from the peer";
            }
        } else if (r->state == CL_ACTIVE && now >= r->last_ping_ms + (uint64_t)g_cl.ping_interval_ms) {
            if (r->pings_out >= g_cl.ping_max) {
                cl_route_write(r, "-ERR 'Stale Connection'\r\n", 25);
                reason = "stale connection";
            } else {
                r->pings_out++;
                r->last_ping_ms = now;
                if (!r->ping_sent_ns)
                    r->ping_sent_ns = cl_mono_ns();
                cl_route_write(r, "PING\r\n", 6);
            }
        }
        if (reason && nclose < 64) {
            cl_route_ref(r);
            closing[nclose] = r;
            why[nclose++] = reason;
        }
    }
    pthread_mutex_unlock(&g_cl.lock);
    for (size_t i = 0; i < nclose; i++) {
        close_route(closing[i], NULL);
        cl_log(MODNATS_LOG_DEBUG, "route closed: %s", why[i]);
        cl_route_unref(closing[i]);
    }
}

static modnats_rc on_shutdown(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    (void)ev;
    pthread_mutex_lock(&g_cl.lock);
    g_cl.shutting_down = true;
    pthread_mutex_unlock(&g_cl.lock);
    return MODNATS_DEFER;
}

modnats_rc cl_route_start(void)
{
    own_client_urls();
    CL_API->hook(g_cl.self, MODNATS_EV_SHUTDOWN, 100, on_shutdown, NULL);
    /* With TLS the handshake comes first, before INFO and CONNECT, as
     * nats-server's routes do it. */
    g_cl.listener = g_cl.tls_accept
        ? CL_API->listen_tls(g_cl.self, g_cl.host, g_cl.port, &route_ops, NULL, g_cl.tls_accept)
        : CL_API->listen(g_cl.self, g_cl.host, g_cl.port, &route_ops, NULL);
    if (!g_cl.listener) {
        cl_log(MODNATS_LOG_ERROR, "cannot listen for route connections on %s:%d",
               g_cl.host ? g_cl.host : "0.0.0.0", g_cl.port);
        return MODNATS_ERR;
    }
    /* Port 0 or -1: a random one, which INFO and routez then advertise. */
    int bound = CL_API->listener_port(g_cl.listener);
    if (bound > 0)
        g_cl.port = bound;
    cl_log(MODNATS_LOG_INFO, "listening for route connections on %s:%d (cluster \"%s\")",
           g_cl.host ? g_cl.host : "0.0.0.0", g_cl.port, g_cl.name);
    g_cl.timer = CL_API->timer_start(g_cl.self, 20, CL_TICK_MS, tick, NULL);
    if (!g_cl.timer) {
        cl_log(MODNATS_LOG_ERROR, "cannot start the route timer");
        return MODNATS_ERR;
    }
    update_connect_urls_locked();
    return MODNATS_OK;
}

void cl_route_stop(void)
{
    /* The workers are stopped: every connection got its on_close. */
    while (g_cl.known) {
        cl_known *k = g_cl.known;
        g_cl.known = k->next;
        cl_url_free(&k->url);
        free(k);
    }
    while (g_cl.routes) {   /* dials that never reached a worker */
        cl_route *r = g_cl.routes;
        g_cl.routes = r->next;
        cl_route_unref(r);
    }
    cl_strv_free(g_cl.own_client_urls, g_cl.nown_client_urls);
    g_cl.own_client_urls = NULL;
    g_cl.nown_client_urls = 0;
}

/* ---------------------------------------------------------- reload */

/* g_cl.lock held, g_cl.explicit_routes already the new list.  Point every
 * route of an old explicit entry at its new entry (same host:port, case
 * insensitive) and carry the entry's state over; routes of entries that
 * are gone become implicit, are not redialed, and are returned (with a
 * reference) in closing[] to be closed.  With auth_changed, accepted
 * routes whose CONNECT credentials no longer pass are returned too. */
size_t cl_route_remap_locked(const cl_explicit *old, size_t nold, bool auth_changed,
                             cl_route **closing, bool *auth_fail, size_t max)
{
    size_t n = 0;
    for (size_t j = 0; j < g_cl.nexplicit; j++) {
        cl_explicit *e = &g_cl.explicit_routes[j];
        for (size_t i = 0; i < nold; i++) {
            const cl_url *u = &old[i].url;
            if (u->port == e->url.port && strcasecmp(u->host, e->url.host) == 0) {
                memcpy(e->last_id, old[i].last_id, sizeof(e->last_id));
                e->dialing = old[i].dialing;
                e->is_self = old[i].is_self;
                e->next_try_ms = old[i].next_try_ms;
                e->backoff_ms = old[i].backoff_ms;
                e->failures = old[i].failures;
                break;
            }
        }
    }
    for (cl_route *r = g_cl.routes; r; r = r->next) {
        bool close = false, bad_auth = false;
        if (r->explicit_idx >= 0 && (size_t)r->explicit_idx < nold) {
            const cl_url *u = &old[r->explicit_idx].url;
            int to = -1;
            for (size_t j = 0; j < g_cl.nexplicit && to < 0; j++)
                if (g_cl.explicit_routes[j].url.port == u->port &&
                    strcasecmp(g_cl.explicit_routes[j].url.host, u->host) == 0)
                    to = (int)j;
            r->explicit_idx = to;
            if (to < 0) {
                r->no_redial = true;
                close = r->state != CL_CLOSED;
                cl_log(MODNATS_LOG_INFO, "route %s:%d removed from the settings: closing",
                       u->host, u->port);
            }
        }
        if (!close && auth_changed && !r->solicited && r->got_connect && g_cl.auth_user) {
            bool ok = r->conn_user && strcmp(r->conn_user, g_cl.auth_user) == 0 &&
                      strcmp(r->conn_pass ? r->conn_pass : "",
                             g_cl.auth_pass ? g_cl.auth_pass : "") == 0;
            if (!ok) {
                cl_log(MODNATS_LOG_INFO, "route %s: its credentials are no longer valid",
                       r->remote_id[0] ? r->remote_id : "?");
                close = bad_auth = true;
                r->no_redial = true;   /* it must come back with the new ones */
            }
        }
        if (close && n < max) {
            cl_route_ref(r);
            auth_fail[n] = bad_auth;
            closing[n++] = r;
        }
    }
    return n;
}

/* After a reload, without the lock: close what remap returned, and with
 * new permissions tell every route our INFO (nats-server's peers resend
 * what we may now export) and PING it, so its worker rechecks the
 * interest held for it (cl_proto_feed) when the PONG comes. */
void cl_route_after_reload(cl_route **closing, const bool *auth_fail, size_t n,
                           bool perms_changed)
{
    for (size_t i = 0; i < n; i++) {
        close_route(closing[i], auth_fail[i] ? "Authorization Violation" : NULL);
        cl_route_unref(closing[i]);
    }
    if (!perms_changed)
        return;
    cl_route *v[256];
    size_t nv = 0;
    pthread_mutex_lock(&g_cl.lock);
    for (cl_route *r = g_cl.routes; r && nv < 256; r = r->next) {
        if (r->state != CL_ACTIVE)
            continue;
        cl_route_ref(r);
        v[nv++] = r;
    }
    pthread_mutex_unlock(&g_cl.lock);
    for (size_t i = 0; i < nv; i++) {
        send_info(v[i]);
        cl_route_write(v[i], "PING\r\n", 6);
        cl_route_unref(v[i]);
    }
}

/* ---------------------------------------------------------- routez */

typedef struct rz_snap {
    cl_routez_info info;
    char  *id, *name, *ip;
    char **urls;
    size_t nurls;
    char **subs;
    size_t nsubs;
} rz_snap;

void cl_collect_routez(void (*fn)(void *ud, const cl_routez_info *ri), void *ud)
{
    rz_snap *v = NULL;
    size_t n = 0;
    pthread_mutex_lock(&g_cl.lock);
    size_t cap = active_count_locked();
    v = cap ? calloc(cap, sizeof(*v)) : NULL;
    for (cl_route *r = g_cl.routes; r && v && n < cap; r = r->next) {
        if (r->state != CL_ACTIVE)
            continue;
        rz_snap *s = &v[n++];
        s->id = strdup(r->remote_id);
        s->name = strdup(r->remote_name ? r->remote_name : "");
        pthread_mutex_lock(&r->wlock);
        if (r->conn) {
            s->ip = strdup(CL_API->conn_remote_ip(r->conn));
            s->info.port = CL_API->conn_remote_port(r->conn);
            s->info.rid = CL_API->conn_id(r->conn);
            if (MODNATS_HAS(CL_API, conn_pending))
                s->info.pending_bytes = CL_API->conn_pending(r->conn);
        }
        pthread_mutex_unlock(&r->wlock);
        s->urls = calloc(r->nconnect_urls ? r->nconnect_urls : 1, sizeof(char *));
        for (size_t i = 0; s->urls && i < r->nconnect_urls; i++)
            if ((s->urls[s->nurls] = strdup(r->connect_urls[i])))
                s->nurls++;
        s->info.size = sizeof(cl_routez_info);
        s->info.did_solicit = r->solicited;
        s->info.is_configured = r->explicit_idx >= 0;
        s->info.start_unix_ms = r->opened_ms;
        s->info.in_msgs = atomic_load(&r->in_msgs);
        s->info.in_bytes = atomic_load(&r->in_bytes);
        s->info.out_msgs = atomic_load(&r->out_msgs);
        s->info.out_bytes = atomic_load(&r->out_bytes);
        s->info.subscriptions = (uint32_t)atomic_load(&r->nsubs);
        s->info.rtt_ns = atomic_load_explicit(&r->rtt_ns, memory_order_relaxed);
        pthread_mutex_lock(&r->slock);
        s->subs = calloc(r->rcount ? r->rcount : 1, sizeof(char *));
        for (size_t b = 0; s->subs && b < r->rbuckets; b++)
            for (cl_rsub *e = r->rtab[b]; e && s->nsubs < r->rcount; e = e->next)
                if ((s->subs[s->nsubs] = strdup(e->key)))
                    s->nsubs++;
        pthread_mutex_unlock(&r->slock);
    }
    pthread_mutex_unlock(&g_cl.lock);
    for (size_t i = 0; i < n; i++) {
        rz_snap *s = &v[i];
        s->info.remote_id = s->id ? s->id : "";
        s->info.remote_name = s->name ? s->name : "";
        s->info.ip = s->ip ? s->ip : "";
        s->info.connect_urls = (const char *const *)s->urls;
        s->info.nconnect_urls = s->nurls;
        s->info.subs = (const char *const *)s->subs;
        s->info.nsubs = s->nsubs;
        fn(ud, &s->info);
        free(s->id);
        free(s->name);
        free(s->ip);
        cl_strv_free(s->urls, s->nurls);
        cl_strv_free(s->subs, s->nsubs);
    }
    free(v);
}
