/*
 * monitor.c - the monitor module: nats-server's HTTP monitoring endpoints.
 *
 * Settings group `monitor = { port = 8222; host = "0.0.0.0"; }` (the core
 * maps nats-server's http_port / monitor_port / http keys and -m onto it).
 * init binds the port itself, so a port in use fails start-up with a
 * clear reason, then hands the socket to a libmicrohttpd daemon that runs
 * one thread of its own; every endpoint runs there and reads the core
 * through the host API's stats and conns_foreach, never on an I/O worker.
 * fini stops the daemon, which joins that thread.
 */
#include "monitor.h"
#include "mon_render.h"

#include <pthread.h>

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MON_VERSION "0.1.0"
#define MON_DEFAULT_HOST "0.0.0.0"

const char *const mon_path_names[MON_P__COUNT] = {
    [MON_P_ROOT] = "/",          [MON_P_ACCOUNTZ] = "/accountz", [MON_P_CONNZ] = "/connz",
    [MON_P_GATEWAYZ] = "/gatewayz", [MON_P_HEALTHZ] = "/healthz", [MON_P_JSZ] = "/jsz",
    [MON_P_LEAFZ] = "/leafz",
    [MON_P_METRICS] = "/metrics", [MON_P_ROUTEZ] = "/routez",   [MON_P_SUBSZ] = "/subsz",
    [MON_P_VARZ] = "/varz",
};

typedef void (*endpoint_fn)(mon_state *, mon_query_fn, void *, mon_reply *);

static const struct {
    int         path;
    endpoint_fn fn;
    bool        json;     /* JSONP (?callback=) applies */
} routes[] = {
    { MON_P_ROOT, mon_root, false },         { MON_P_VARZ, mon_varz, true },
    { MON_P_CONNZ, mon_connz, true },        { MON_P_SUBSZ, mon_subsz, true },
    { MON_P_ROUTEZ, mon_routez, true },      { MON_P_GATEWAYZ, mon_gatewayz, true },
    { MON_P_LEAFZ, mon_leafz, true },        { MON_P_ACCOUNTZ, mon_accountz, true },
    { MON_P_HEALTHZ, mon_healthz, true },    { MON_P_METRICS, mon_metrics, false },
    { MON_P_JSZ, mon_jsz, true },
};

/* One process, one monitor: the state is static. */
static mon_state g_mon;
/* HTTP and the monitor.render service take turns on the state. */
static pthread_mutex_t g_render_lock = PTHREAD_MUTEX_INITIALIZER;

static const modnats_option mon_options[] = {
    { "port", MODNATS_OPT_INT, true, "HTTP port for monitoring (-1 or 0: any free port)" },
    { "host", MODNATS_OPT_STRING, false, "address to listen on (default 0.0.0.0)" },
    { NULL, 0, false, NULL },
};

/* ------------------------------------------------------- requests */

static const char *query_get(void *ctx, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, mon_reply *r)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->body_len, r->body ? r->body : (char *)"",
                                        r->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(r->body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Wraps a JSON body as `callback(body)` for JSONP, as nats-server does. */
static void jsonp_wrap(mon_reply *r, const char *cb)
{
    mon_json b;
    mon_json_init(&b);
    mon_buf_append(&b, cb, strlen(cb));
    mon_buf_append(&b, "(", 1);
    mon_buf_append(&b, r->body, r->body_len);
    mon_buf_append(&b, ")", 1);
    if (b.oom) {
        mon_json_free(&b);
        return;   /* keep the plain JSON */
    }
    free(r->body);
    r->body = mon_json_take(&b, &r->body_len);
    r->content_type = "application/javascript";
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    mon_state *st = cls;
    mon_reply r = { 0 };

    /* MHD calls twice for a request with a body; answer on the first
     * call for GET/HEAD (they have none) and refuse the rest. */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        mon_reply_text(&r, 405, "Method Not Allowed\n");
        return send_reply(conn, &r);
    }
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(url, mon_path_names[routes[i].path]) != 0)
            continue;
        __atomic_add_fetch(&st->req_count[routes[i].path], 1, __ATOMIC_RELAXED);
        pthread_mutex_lock(&g_render_lock);
        routes[i].fn(st, query_get, conn, &r);
        pthread_mutex_unlock(&g_render_lock);
        const char *cb = query_get(conn, "callback");
        if (routes[i].json && r.status == 200 && cb && *cb)
            jsonp_wrap(&r, cb);
        return send_reply(conn, &r);
    }
    mon_reply_text(&r, 404, "404 page not found\n");
    return send_reply(conn, &r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    mon_state *st = cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    st->api->log(st->self, MODNATS_LOG_WARN, "http: %s", line);
}

/* ----------------------------------------------------- start, stop */

/* Binds and listens on host:port; returns the socket or -1 after logging
 * why.  *bound gets the port actually bound (for port 0). */
static int listen_on(mon_state *st, const char *host, int port, int *bound)
{
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, ps, &hints, &res);
    if (rc != 0) {
        st->api->log(st->self, MODNATS_LOG_ERROR, "cannot resolve monitoring host '%s': %s",
                     host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 128) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        st->api->log(st->self, MODNATS_LOG_ERROR, "cannot listen for monitoring on %s:%d: %s",
                     host, port, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *bound = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

/* ---------------------------------------- the monitor.render service */

/* The value of key in a query string "a=1&b=2" (NULL: absent); one
 * lookup at a time per call of render (a static buffer under the lock). */
static char g_qval[256];

static const char *render_query(void *ctx, const char *key)
{
    const char *q = ctx;
    size_t kl = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t n = amp ? (size_t)(amp - q) : strlen(q);
        if (n > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
            size_t vl = n - kl - 1;
            if (vl >= sizeof g_qval)
                vl = sizeof g_qval - 1;
            memcpy(g_qval, q + kl + 1, vl);
            g_qval[vl] = 0;
            return g_qval;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static char *render(const char *path, const char *query, int *status, size_t *len)
{
    for (size_t i = 0; path && i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(path, mon_path_names[routes[i].path]) != 0)
            continue;
        mon_reply r = { 0 };
        pthread_mutex_lock(&g_render_lock);
        routes[i].fn(&g_mon, render_query, (void *)query, &r);
        pthread_mutex_unlock(&g_render_lock);
        if (status)
            *status = r.status;
        if (len)
            *len = r.body_len;
        return r.body;
    }
    return NULL;
}

static const mon_render_v1 render_v1 = { sizeof(mon_render_v1), render };

static modnats_rc mon_init(modnats_module *self, const modnats_host_api *api,
                           const modnats_config *cfg)
{
    mon_state *st = &g_mon;
    memset(st, 0, sizeof(*st));
    st->self = self;
    st->api = api;
    if (!MODNATS_HAS(api, conns_foreach) || !MODNATS_HAS(api, stats)) {
        api->log(self, MODNATS_LOG_ERROR, "this core has no stats/conns_foreach in its API");
        return MODNATS_ERR;
    }

    int64_t port = 0;
    if (api->cfg_int(cfg, "port", &port) != MODNATS_OK) {
        api->log(self, MODNATS_LOG_ERROR, "monitor: 'port' is required");
        return MODNATS_ERR;
    }
    if (port < -1 || port > 65535) {
        api->log(self, MODNATS_LOG_ERROR, "monitor port %lld is out of range (1-65535, or -1/0 for any)",
                 (long long)port);
        return MODNATS_ERR;
    }
    if (port < 0)
        port = 0;
    const char *host = MON_DEFAULT_HOST;
    if (api->cfg_string(cfg, "host", &host) != MODNATS_OK || !host || !*host)
        host = MON_DEFAULT_HOST;
    st->host = strdup(host);
    if (!st->host) {
        api->log(self, MODNATS_LOG_ERROR, "out of memory");
        return MODNATS_ERR;
    }

    int fd = listen_on(st, st->host, (int)port, &st->port);
    if (fd < 0) {
        free(st->host);
        st->host = NULL;
        return MODNATS_ERR;
    }
    st->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG,
                                  0, NULL, NULL, on_request, st,
                                  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, st,
                                  MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                                  MHD_OPTION_END);
    if (!st->daemon) {
        close(fd);
        api->log(self, MODNATS_LOG_ERROR, "cannot start the HTTP server on %s:%d", st->host, st->port);
        free(st->host);
        st->host = NULL;
        return MODNATS_ERR;
    }
    api->log(self, MODNATS_LOG_INFO, "Starting http monitor on %s:%d", st->host, st->port);
    api->service_register(self, MON_RENDER_SERVICE, 1, &render_v1);
    return MODNATS_OK;
}

static void mon_fini(modnats_module *self)
{
    mon_state *st = &g_mon;
    if (st->daemon) {
        MHD_stop_daemon(st->daemon);   /* joins the HTTP thread, closes the socket */
        st->daemon = NULL;
    }
    free(st->host);
    st->host = NULL;
}

static const modnats_module_desc mon_desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "monitor",
    .version = MON_VERSION,
    .description = "HTTP monitoring as nats-server's (/varz /connz /subsz ...) plus Prometheus /metrics",
    .options = mon_options,
    .init = mon_init,
    .fini = mon_fini,
};

MODNATS_MODULE(monitor)
{
    return &mon_desc;
}
