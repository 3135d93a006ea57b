/*
 * ip_allow.c - an example third-party modnats module: an allow-list of
 * client addresses.  It is built against the installed SDK only (see
 * README.md) and shows the usual shape of an auth plugin: typed options,
 * an AUTH hook, settings re-read on reload, nothing shared but the host
 * API.
 *
 *   modules = ["ip_allow"];
 *   ip_allow = {
 *     allow = ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"];
 *     on_match = "defer";     # or "allow"
 *   };
 *
 * A client whose address is in no listed network is DENIED (it gets
 * -ERR 'Authorization Violation'; the log says why).  A client inside the
 * list is, by default, passed on (DEFER) to the next AUTH hook, e.g.
 * auth_basic's user/password check: the address filter narrows who may
 * try, it never replaces credentials.  With on_match = "allow" the
 * module logs matching clients in by itself (OK), for deployments where
 * the network is the only credential.  Note that when every AUTH hook
 * defers the core refuses the login, so "defer" alone lets nobody in:
 * that is the fail-closed choice.
 *
 * IPv4 networks also match IPv4-mapped IPv6 addresses (::ffff:a.b.c.d), as
 * a dual-stack listener reports IPv4 clients.
 */
#include <modnats/modnats.h>

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IP_ALLOW_PRIORITY 10   /* before credential modules (auth_basic: 100) */

/* A network as 16 bytes (IPv4 as ::ffff:a.b.c.d) and a prefix length. */
typedef struct net {
    unsigned char addr[16];
    int           bits;
} net;

typedef struct rules {
    net          *nets;
    size_t        n;
    bool          allow_on_match;
    struct rules *retired_next;   /* kept until fini: a hook may still read it */
} rules;

static const modnats_host_api *api;
static modnats_module *self;
static _Atomic(rules *) g_rules;
static rules *g_retired;           /* main thread only (init, reload, fini) */

static const modnats_option options[] = {
    { "allow", MODNATS_OPT_STRING_LIST, true,
      "networks allowed to log in, \"addr/bits\" or a bare address (IPv4 or IPv6)" },
    { "on_match", MODNATS_OPT_STRING, false,
      "\"defer\" (default: pass to the next auth hook) or \"allow\" (log in)" },
    { NULL, 0, false, NULL },
};

/* Parse an address into the 16-byte form; *is_v4 tells which it was. */
static bool parse_addr(const char *s, unsigned char out[16], bool *is_v4)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, s, &a4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &a4, 4);
        *is_v4 = true;
        return true;
    }
    *is_v4 = false;
    return inet_pton(AF_INET6, s, out) == 1;
}

/* "addr/bits" or "addr" into n. */
static bool parse_net(const char *text, net *n)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return false;
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    long bits = -1;
    if (slash) {
        *slash = 0;
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (slash[1] == 0 || *end || bits < 0)
            return false;
    }
    bool v4;
    if (!parse_addr(buf, n->addr, &v4))
        return false;
    long max = v4 ? 32 : 128;
    if (bits > max)
        return false;
    n->bits = (int)((bits < 0 ? max : bits) + (v4 ? 96 : 0));
    return true;
}

static bool net_contains(const net *n, const unsigned char a[16])
{
    int full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, a, (size_t)full) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (a[full] & mask);
}

/* Build rules from a settings group; NULL (after logging why) if invalid. */
static rules *rules_from(const modnats_config *cfg)
{
    const char *mode = "defer";
    api->cfg_string(cfg, "on_match", &mode);
    if (strcmp(mode, "defer") != 0 && strcmp(mode, "allow") != 0) {
        api->log(self, MODNATS_LOG_ERROR, "on_match must be \"defer\" or \"allow\", not \"%s\"",
                 mode);
        return NULL;
    }
    size_t n = api->cfg_list_len(cfg, "allow");
    rules *r = calloc(1, sizeof *r);
    if (!r || !(r->nets = calloc(n ? n : 1, sizeof *r->nets))) {
        free(r);
        return NULL;
    }
    r->n = n;
    r->allow_on_match = strcmp(mode, "allow") == 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = api->cfg_list_string(cfg, "allow", i);
        if (!s || !parse_net(s, &r->nets[i])) {
            api->log(self, MODNATS_LOG_ERROR,
                     "allow[%zu]: \"%s\" is not an IPv4 or IPv6 address or network (addr/bits)",
                     i, s ? s : "");
            free(r->nets);
            free(r);
            return NULL;
        }
    }
    return r;
}

static modnats_rc on_auth(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_auth_event *ev = (modnats_auth_event *)h;
    const rules *r = atomic_load(&g_rules);
    const char *ip = ev->remote_ip ? ev->remote_ip : "";
    unsigned char a[16];
    bool v4;
    if (parse_addr(ip, a, &v4)) {
        for (size_t i = 0; i < r->n; i++)
            if (net_contains(&r->nets[i], a))
                return r->allow_on_match ? MODNATS_OK : MODNATS_DEFER;
    }
    ev->deny_reason = "ip_allow: address not in the allow list";
    api->log(self, MODNATS_LOG_INFO, "refused %s:%d: not in the allow list", ip, ev->remote_port);
    return MODNATS_DENY;
}

static modnats_rc on_reload(void *ud, modnats_event_hdr *h)
{
    (void)ud;
    modnats_reload_event *ev = (modnats_reload_event *)h;
    rules *r = rules_from(ev->cfg);
    if (!r) {
        /* ERR: the core logs the failed reload; we keep the old list. */
        api->log(self, MODNATS_LOG_ERROR, "reload: keeping the previous allow list");
        return MODNATS_ERR;
    }
    rules *old = atomic_exchange(&g_rules, r);
    old->retired_next = g_retired;
    g_retired = old;
    api->log(self, MODNATS_LOG_INFO, "reloaded: %zu network(s), on_match=%s", r->n,
             r->allow_on_match ? "allow" : "defer");
    return MODNATS_DEFER;
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    rules *r = rules_from(cfg);
    if (!r)
        return MODNATS_ERR;
    atomic_store(&g_rules, r);
    if (api->hook(m, MODNATS_EV_AUTH, IP_ALLOW_PRIORITY, on_auth, NULL) != MODNATS_OK ||
        api->hook(m, MODNATS_EV_RELOAD, 0, on_reload, NULL) != MODNATS_OK)
        return MODNATS_ERR;
    api->log(m, MODNATS_LOG_INFO, "%zu network(s), on_match=%s", r->n,
             r->allow_on_match ? "allow" : "defer");
    return MODNATS_OK;
}

static void free_rules(rules *r)
{
    if (r) {
        free(r->nets);
        free(r);
    }
}

static void fini(modnats_module *m)
{
    (void)m;
    free_rules(atomic_exchange(&g_rules, NULL));
    while (g_retired) {
        rules *nx = g_retired->retired_next;
        free_rules(g_retired);
        g_retired = nx;
    }
}

static const modnats_module_desc desc = {
    .magic = MODNATS_MODULE_MAGIC,
    .size = sizeof(modnats_module_desc),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .name = "ip_allow",
    .version = "1.0.0",
    .description = "allow logins only from listed IPv4/IPv6 networks",
    .options = options,
    .init = init,
    .fini = fini,
};

MODNATS_MODULE(ip_allow) { return &desc; }
