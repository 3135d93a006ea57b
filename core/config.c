/*
 * config.c - the config files: the main file (-c) and the conf.d directory,
 * in libconfig syntax with nats-server's key names and nesting.
 *
 * Every file is parsed first, so a syntax error anywhere stops the load
 * before any option changes; then each file's settings are applied in
 * order (the main file, then every .conf file of conf.d sorted by
 * name), a later file
 * overriding an earlier one key by key, and no file overriding what the
 * command line set (mn_opts.cli_set).  Every mistake a user can make comes
 * back as "file:line: problem".
 *
 * Keys of the top level are described by one table (`keys` below); the
 * groups that need more than one field (authorization, cluster, ...) have
 * their own small functions.
 */
#include "opts.h"
#include "acctio.h"
#include "cfgtree.h"
#include "log.h"
#include "module.h"
#include "natsconf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct cfg_ctx {
    mn_opts    *o;
    const char *path;       /* the file being applied, for messages */
    char       *err;
    size_t      errlen;
} cfg_ctx;

/* Reports "file:line: message" about node s (or the file if s is NULL);
 * "file:line:col: message" when the node knows its column (nats-server
 * files). */
static int fail(cfg_ctx *c, const mn_cfg *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(cfg_ctx *c, const mn_cfg *s, const char *fmt, ...)
{
    if (!c->err || !c->errlen)
        return MN_EINVAL;
    const char *file = s && s->file ? s->file : c->path;
    int n;
    if (s && s->col > 0)
        n = snprintf(c->err, c->errlen, "%s:%d:%d: ", file, s->line, s->col);
    else if (s)
        n = snprintf(c->err, c->errlen, "%s:%d: ", file, s->line);
    else
        n = snprintf(c->err, c->errlen, "%s: ", file);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return MN_EINVAL;
}

static bool shielded(cfg_ctx *c, uint32_t bit)
{
    return bit && (c->o->cli_set & bit);
}

static void set_str(char **dst, const char *val)
{
    free(*dst);
    *dst = (val && *val) ? strdup(val) : NULL;
}

/* ---- value readers: type checks and nats-server's units ----------------- */

static int get_int(cfg_ctx *c, const mn_cfg *s, const char *path,
                   int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    *out = 0;
    switch (s->type) {
    case MN_CFG_INT:
        v = s->i;
        break;
    case MN_CFG_FLOAT: {
        /* Autoconvert in the spirit of CONFIG_OPTION_AUTOCONVERT, but never
         * silently dropping a fraction. */
        double d = s->d;
        if (d != d || d < -9.2e18 || d > 9.2e18 || d != (double)(int64_t)d)
            return fail(c, s, "\"%s\" must be an integer", path);
        v = (int64_t)d;
        break;
    }
    default:
        return fail(c, s, "\"%s\" must be an integer", path);
    }
    if (v < lo || v > hi)
        return fail(c, s, "\"%s\" must be between %lld and %lld", path,
                    (long long)lo, (long long)hi);
    *out = v;
    return MN_OK;
}

/* "64KB", "1 mb", "10k": nats-server's suffixes, k = 1000, kb/ki/kib = 1024. */
static int parse_size(const char *s, int64_t *out)
{
    static const struct { const char *sfx; int64_t mul; } units[] = {
        {"", 1},
        {"k", 1000LL}, {"kb", 1LL << 10}, {"ki", 1LL << 10}, {"kib", 1LL << 10},
        {"m", 1000000LL}, {"mb", 1LL << 20}, {"mi", 1LL << 20}, {"mib", 1LL << 20},
        {"g", 1000000000LL}, {"gb", 1LL << 30}, {"gi", 1LL << 30}, {"gib", 1LL << 30},
        {"t", 1000000000000LL}, {"tb", 1LL << 40}, {"ti", 1LL << 40}, {"tib", 1LL << 40},
        {"p", 1000000000000000LL}, {"pb", 1LL << 50}, {"pi", 1LL << 50}, {"pib", 1LL << 50},
    };
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (!isdigit((unsigned char)*p))
        return MN_EINVAL;
    int64_t num = 0;
    while (isdigit((unsigned char)*p)) {
        if (num > (INT64_MAX - 9) / 10)
            return MN_EINVAL;
        num = num * 10 + (*p++ - '0');
    }
    while (isspace((unsigned char)*p))
        p++;
    const char *sfx = p;
    size_t len = 0;
    while (isalpha((unsigned char)p[len]))
        len++;
    p += len;
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return MN_EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].sfx) == len && strncasecmp(units[i].sfx, sfx, len) == 0) {
            if (num > INT64_MAX / units[i].mul)
                return MN_EINVAL;
            *out = (neg ? -num : num) * units[i].mul;
            return MN_OK;
        }
    }
    return MN_EINVAL;
}

static int get_size(cfg_ctx *c, const mn_cfg *s, const char *path,
                    int64_t lo, int64_t hi, int64_t *out)
{
    *out = 0;
    if (s->type != MN_CFG_STRING)
        return get_int(c, s, path, lo, hi, out);
    int64_t v;
    if (parse_size(s->s, &v) != MN_OK)
        return fail(c, s, "\"%s\" must be a size: an integer or a string such as "
                    "\"64KB\", \"1MB\", \"1GB\"", path);
    if (v < lo || v > hi)
        return fail(c, s, "\"%s\" must be between %lld and %lld bytes", path,
                    (long long)lo, (long long)hi);
    *out = v;
    return MN_OK;
}

/* Go's time.ParseDuration ("1h30m", "1.5s", "500ms", "0"), to nanoseconds. */
static int parse_duration_ns(const char *s, int64_t *out)
{
    static const struct { const char *u; double ns; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"\xce\xbcs", 1e3},
        {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (strcmp(p, "0") == 0) {
        *out = 0;
        return MN_OK;
    }
    if (!*p)
        return MN_EINVAL;
    double total = 0;
    while (*p) {
        if (!isdigit((unsigned char)*p) && *p != '.')
            return MN_EINVAL;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        /* strtod also takes "1e3", "inf" and hex; Go does not. */
        for (const char *q = p; q < end; q++)
            if (!isdigit((unsigned char)*q) && *q != '.')
                return MN_EINVAL;
        if (end == p || errno)
            return MN_EINVAL;
        p = end;
        size_t best = 0;
        double mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].u);
            if (ul > best && strncmp(p, units[i].u, ul) == 0) {
                best = ul;
                mul = units[i].ns;
            }
        }
        if (!best)
            return MN_EINVAL;   /* Go requires a unit on every number */
        p += best;
        total += v * mul;
        if (total > 9.2e18)
            return MN_EINVAL;
    }
    *out = (int64_t)(neg ? -total : total);
    return MN_OK;
}

/* A duration: a number of seconds, or a Go duration string. */
int mn_parse_size(const char *str, int64_t *out)
{
    return str ? parse_size(str, out) : MN_EINVAL;
}

int mn_parse_duration_ms(const char *str, int64_t *out)
{
    int64_t ns;
    if (!str || parse_duration_ns(str, &ns) != MN_OK)
        return MN_EINVAL;
    *out = ns / 1000000;
    return MN_OK;
}

static int get_duration_ms(cfg_ctx *c, const mn_cfg *s, const char *path,
                           int64_t min_ms, int64_t *out)
{
    int64_t ns = 0;
    bool ok = true;
    switch (s->type) {
    case MN_CFG_INT: {
        /* nats-server's 2m is the integer 2000000 as written "2m": where a
         * duration is meant, the unit says what the writer meant. */
        if (s->s && parse_duration_ns(s->s, &ns) == MN_OK)
            break;
        int64_t secs = s->i;
        ok = secs > -9200000000LL && secs < 9200000000LL;
        ns = secs * 1000000000LL;
        break;
    }
    case MN_CFG_FLOAT: {
        double d = s->d * 1e9;
        ok = d == d && d > -9.2e18 && d < 9.2e18;
        ns = ok ? (int64_t)d : 0;
        break;
    }
    case MN_CFG_STRING:
        ok = parse_duration_ns(s->s, &ns) == MN_OK;
        break;
    default:
        ok = false;
    }
    if (!ok)
        return fail(c, s, "\"%s\" must be a duration: a number of seconds or a "
                    "string such as \"2m\", \"30s\", \"500ms\"", path);
    int64_t ms = ns / 1000000;
    if (ns > 0 && ms == 0)
        ms = 1;     /* "500us" should not become "off" */
    if (ms < min_ms)
        return fail(c, s, min_ms > 0 ? "\"%s\" must be a positive duration"
                                     : "\"%s\" must not be negative", path);
    *out = ms;
    return MN_OK;
}

static int get_bool(cfg_ctx *c, const mn_cfg *s, const char *path, bool *out)
{
    if (s->type == MN_CFG_BOOL) {
        *out = s->b;
        return MN_OK;
    }
    /* nats-server configs say yes/no/on/off; in libconfig they must be quoted. */
    if (s->type == MN_CFG_STRING) {
        static const char *const yes[] = {"true", "yes", "on"};
        static const char *const no[] = {"false", "no", "off"};
        const char *v = s->s;
        for (size_t i = 0; i < 3; i++) {
            if (strcasecmp(v, yes[i]) == 0) { *out = true; return MN_OK; }
            if (strcasecmp(v, no[i]) == 0) { *out = false; return MN_OK; }
        }
    }
    return fail(c, s, "\"%s\" must be a boolean (true or false)", path);
}

static int get_str(cfg_ctx *c, const mn_cfg *s, const char *path,
                   const char **out)
{
    *out = "";
    if (s->type != MN_CFG_STRING)
        return fail(c, s, "\"%s\" must be a string", path);
    *out = s->s;
    return MN_OK;
}

static int get_group(cfg_ctx *c, const mn_cfg *s, const char *path)
{
    if (s->type != MN_CFG_GROUP)
        return fail(c, s, "\"%s\" must be a group: %s = { ... }", path, path);
    return MN_OK;
}

/* "host:port", "[::1]:4222", ":4222" or a bare port number. */
static int get_listen(cfg_ctx *c, const mn_cfg *s, const char *path,
                      char **host, int *port)
{
    int64_t p;
    *host = NULL;
    *port = 0;
    if (s->type != MN_CFG_STRING) {
        if (s->type != MN_CFG_INT)
            return fail(c, s, "\"%s\" must be \"host:port\" or a port number", path);
        int rc = get_int(c, s, path, -1, 65535, &p);
        if (rc != MN_OK)
            return rc;
        *host = NULL;
        *port = (int)p;
        return MN_OK;
    }
    const char *v = s->s;
    const char *colon = strrchr(v, ':');
    if (!colon)
        return fail(c, s, "\"%s\" must be \"host:port\", got \"%s\"", path, v);
    const char *h = v;
    size_t hlen = (size_t)(colon - v);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return fail(c, s, "\"%s\": an IPv6 host needs brackets: \"[%.*s]:port\"",
                    path, (int)hlen, h);
    }
    char *endp;
    errno = 0;
    long pv = strtol(colon + 1, &endp, 10);
    if (!colon[1] || *endp || errno || pv < -1 || pv > 65535)
        return fail(c, s, "\"%s\": bad port in \"%s\"", path, v);
    *host = hlen ? strndup(h, hlen) : NULL;
    *port = (int)pv;
    return MN_OK;
}

/* ---- the top-level keys ------------------------------------------------- */

typedef enum { V_INT, V_SIZE, V_DUR, V_BOOL, V_STR, V_FN } vkind;

typedef struct keydef keydef;
typedef int (*key_fn)(cfg_ctx *c, const keydef *k, mn_cfg *s);

struct keydef {
    const char *name;
    vkind       kind;
    size_t      off;        /* field in mn_opts (int, int64_t, bool, char *) */
    uint32_t    bit;        /* the cli_set bit that shields the field */
    int64_t     lo, hi;     /* V_INT, V_SIZE; V_DUR uses lo as the minimum */
    key_fn      fn;         /* V_FN */
};

#define F(field) offsetof(mn_opts, field)
#define I64 INT64_MAX

static int k_port(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    int64_t p;
    int rc;
    if (s->type == MN_CFG_STRING &&
        strcmp(s->s, "RANDOM_PORT") == 0)
        p = -1;
    else if ((rc = get_int(c, s, k->name, -1, 65535, &p)) != MN_OK)
        return rc;
    if (!shielded(c, MN_OPT_PORT))
        c->o->port = p == 0 ? 4222 : (int)p;    /* nats-server: 0 = default */
    return MN_OK;
}

static int k_host(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    const char *v;
    int rc = get_str(c, s, k->name, &v);
    if (rc == MN_OK && !shielded(c, MN_OPT_HOST))
        set_str(&c->o->host, *v ? v : "0.0.0.0");
    return rc;
}

static int k_listen(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    char *host;
    int port;
    int rc = get_listen(c, s, k->name, &host, &port);
    if (rc != MN_OK)
        return rc;
    if (!shielded(c, MN_OPT_HOST) && host)
        set_str(&c->o->host, host);
    if (!shielded(c, MN_OPT_PORT))
        c->o->port = port == 0 ? 4222 : port;
    free(host);
    return MN_OK;
}

static int k_http(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    char *host;
    int port;
    int rc = get_listen(c, s, k->name, &host, &port);
    if (rc != MN_OK)
        return rc;
    bool https = k->bit == MN_OPT_HTTPS;
    if (!shielded(c, k->bit)) {
        if (host)
            set_str(&c->o->http_host, host);
        *(https ? &c->o->https_port : &c->o->http_port) = port;
    }
    free(host);
    return MN_OK;
}

/* Names a key inside a group or list for messages: "authorization.users[1].user";
 * idx is s's place in its parent. */
static void subpath(char *buf, size_t len, const char *parent, const mn_cfg *s, size_t idx)
{
    if (s->name)
        snprintf(buf, len, "%s.%s", parent, s->name);
    else
        snprintf(buf, len, "%s[%zu]", parent, idx);
}

/* The name of a libconfig setting's file as the user can open it: libconfig
 * names an @included file as written, relative to the including file's
 * directory.  Returns a new string, or NULL when out of memory. */
static char *source_name(const char *main_path, const char *file)
{
    if (!file || file == main_path || !strcmp(file, main_path))
        return strdup(main_path);
    if (file[0] == '/')
        return strdup(file);
    const char *slash = strrchr(main_path, '/');
    int dlen = slash ? (int)(slash - main_path) + 1 : 0;
    size_t len = (size_t)dlen + strlen(file) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%.*s%s", dlen, main_path, file);
    return out;
}

/* A libconfig setting as a cfgtree node (recursively); NULL when out of
 * memory.  main_path is the file libconfig was asked to read. */
static mn_cfg *to_tree(const config_setting_t *s, const char *main_path)
{
    int t = config_setting_type(s);
    mn_cfg_type ct = t == CONFIG_TYPE_BOOL ? MN_CFG_BOOL
                   : (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) ? MN_CFG_INT
                   : t == CONFIG_TYPE_FLOAT ? MN_CFG_FLOAT
                   : t == CONFIG_TYPE_STRING ? MN_CFG_STRING
                   : t == CONFIG_TYPE_GROUP ? MN_CFG_GROUP : MN_CFG_LIST;
    char *file = source_name(main_path, config_setting_source_file(s));
    mn_cfg *n = file ? mn_cfg_new(config_setting_name(s), ct, file,
                                  (int)config_setting_source_line(s)) : NULL;
    free(file);
    if (!n)
        return NULL;
    switch (ct) {
    case MN_CFG_BOOL: n->b = config_setting_get_bool(s); break;
    case MN_CFG_INT: n->i = config_setting_get_int64(s); break;
    case MN_CFG_FLOAT: n->d = config_setting_get_float(s); break;
    case MN_CFG_STRING:
        if (!(n->s = strdup(config_setting_get_string(s)))) {
            mn_cfg_free(n);
            return NULL;
        }
        break;
    case MN_CFG_GROUP:
    case MN_CFG_LIST:
        for (int i = 0; i < config_setting_length(s); i++) {
            mn_cfg *kid = to_tree(config_setting_get_elem(s, (unsigned)i), main_path);
            if (!kid || mn_cfg_add(n, kid) != MN_OK) {
                mn_cfg_free(kid);
                mn_cfg_free(n);
                return NULL;
            }
        }
        break;
    }
    return n;
}

/* Drop, at any depth, the keys a nats-server file defined only to be
 * referenced as $variables (nats-server does not count them as settings);
 * nothing to do for libconfig trees. */
static void prune_vars(mn_cfg *g)
{
    size_t w = 0;
    for (size_t r = 0; r < g->nkids; r++) {
        mn_cfg *k = g->kids[r];
        if (g->type == MN_CFG_GROUP && k->var_used && k->name) {
            mn_cfg_free(k);
            continue;
        }
        prune_vars(k);
        g->kids[w++] = k;
    }
    g->nkids = w;
}

/* Merge group g (owned) into o->module_cfg: a later file's settings replace
 * the same keys of an earlier one. */
static int merge_module_group(cfg_ctx *c, const mn_cfg *s, mn_cfg *g)
{
    if (!c->o->module_cfg && !(c->o->module_cfg = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0))) {
        mn_cfg_free(g);
        return fail(c, s, "out of memory");
    }
    mn_cfg *old = mn_cfg_get(c->o->module_cfg, g->name);
    if (!old)
        return mn_cfg_add(c->o->module_cfg, g) == MN_OK ? MN_OK : fail(c, s, "out of memory");
    for (size_t i = 0; i < g->nkids; i++) {
        if (mn_cfg_add(old, g->kids[i]) != MN_OK) {
            mn_cfg_free(g);
            return fail(c, s, "out of memory");
        }
        g->kids[i] = NULL;
    }
    g->nkids = 0;
    mn_cfg_free(g);
    return MN_OK;
}

/* A module's settings group, stored under the module's name. */
static int add_module_group_as(cfg_ctx *c, const mn_cfg *s, const char *module)
{
    mn_cfg *g = mn_cfg_dup(s);
    if (!g)
        return fail(c, s, "out of memory");
    prune_vars(g);
    free(g->name);
    if (!(g->name = strdup(module))) {
        mn_cfg_free(g);
        return fail(c, s, "out of memory");
    }
    return merge_module_group(c, s, g);
}

static int add_module_group(cfg_ctx *c, const mn_cfg *s)
{
    return add_module_group_as(c, s, s->name);
}

/* authorization = { ... }: the auth_basic module's settings (users,
 * permissions, ...), which it validates itself.  The core keeps only the
 * authentication timeout. */
static int k_authorization(cfg_ctx *c, const keydef *k, mn_cfg *g)
{
    int rc = get_group(c, g, k->name);
    if (rc != MN_OK)
        return rc;
    bool callout = false;
    for (int i = 0; i < (int)g->nkids && rc == MN_OK; i++) {
        mn_cfg *s = g->kids[i];
        char path[128];
        subpath(path, sizeof path, k->name, s, (size_t)i);
        if (!strcasecmp(s->name, "timeout")) {
            rc = get_duration_ms(c, s, path, 1, &c->o->auth_timeout_ms);
        } else if (!strcasecmp(s->name, "auth_callout")) {
            /* nats-server 2.10's auth callout: the auth_callout module's */
            callout = true;
            if (!mn_module_available(c->o, "auth_callout"))
                rc = fail(c, s, "\"%s\" needs the auth_callout module, which this build does "
                          "not have", path);
            else if ((rc = get_group(c, s, path)) == MN_OK)
                rc = add_module_group_as(c, s, "auth_callout");
        }
    }
    if (rc != MN_OK || !callout)
        return rc == MN_OK ? add_module_group_as(c, g, "auth_basic") : rc;
    /* auth_basic gets the rest of the block */
    mn_cfg *rest = mn_cfg_new(g->name, MN_CFG_GROUP, g->file, g->line);
    for (size_t i = 0; rest && i < g->nkids; i++) {
        mn_cfg *d = strcasecmp(g->kids[i]->name, "auth_callout") ? mn_cfg_dup(g->kids[i]) : NULL;
        if (d && mn_cfg_add(rest, d) != MN_OK) {
            mn_cfg_free(d);
            mn_cfg_free(rest);
            rest = NULL;
        }
    }
    if (!rest)
        return fail(c, g, "out of memory");
    rc = add_module_group_as(c, rest, "auth_basic");
    mn_cfg_free(rest);
    return rc;
}

/* no_auth_user = "name" (top level, as nats-server has it) belongs to the
 * auth_basic module too. */
/* Put node n (owned) into module's settings group under the name key. */
static int put_in_module_group(cfg_ctx *c, const mn_cfg *where, const char *module,
                               const char *key, mn_cfg *n)
{
    mn_cfg *g = mn_cfg_new(module, MN_CFG_GROUP, where->file, where->line);
    if (n) {
        free(n->name);
        n->name = strdup(key);
    }
    if (!g || !n || !n->name || mn_cfg_add(g, n) != MN_OK) {
        mn_cfg_free(g);
        mn_cfg_free(n);
        return fail(c, where, "out of memory");
    }
    return merge_module_group(c, where, g);
}

static int k_no_auth_user(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    const char *v;
    int rc = get_str(c, s, k->name, &v);
    if (rc != MN_OK)
        return rc;
    return put_in_module_group(c, s, "auth_basic", "no_auth_user", mn_cfg_dup(s));
}

/* system_account = "NAME": the auth_basic module declares the accounts,
 * so it names the system account too (the core's default is "$SYS"). */
static int k_system_account(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    const char *v;
    int rc = get_str(c, s, k->name, &v);
    if (rc != MN_OK)
        return rc;
    return put_in_module_group(c, s, "auth_basic", "system_account", mn_cfg_dup(s));
}

/* no_system_account = true: no default "$SYS" (read at start-up; a
 * reload does not change it). */
static int k_no_system_account(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    bool v = false;
    int rc = get_bool(c, s, k->name, &v);
    if (rc == MN_OK)
        mn_acc_no_default_system(v);
    return rc;
}

/* accounts = { A = { users = (...); }; ... }: accounts and their users are
 * the auth_basic module's settings, as authorization is.  nats-server's
 * list form (accounts = [A, B]) names accounts without users. */
static int k_accounts(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    mn_cfg *acc = NULL;
    if (s->type == MN_CFG_GROUP) {
        acc = mn_cfg_dup(s);
    } else if (s->type == MN_CFG_LIST) {
        acc = mn_cfg_new(k->name, MN_CFG_GROUP, s->file, s->line);
        for (size_t i = 0; acc && i < s->nkids; i++) {
            mn_cfg *e = s->kids[i];
            if (e->type != MN_CFG_STRING) {
                mn_cfg_free(acc);
                return fail(c, e, "\"%s\": list entries must be account names", k->name);
            }
            mn_cfg *g = mn_cfg_new(e->s, MN_CFG_GROUP, e->file, e->line);
            if (!g || mn_cfg_add(acc, g) != MN_OK) {
                mn_cfg_free(g);
                mn_cfg_free(acc);
                acc = NULL;
            }
        }
    } else {
        return fail(c, s, "\"%s\" must be a group of accounts: %s = { A = { users = (...); }; }",
                    k->name, k->name);
    }
    return put_in_module_group(c, s, "auth_basic", "accounts", acc);
}

/* Operator mode (operator, trusted_keys, resolver, resolver_preload and
 * their nats-server aliases): the auth_jwt module's settings, under one
 * spelling each.  `resolver: MEMORY` (a string) becomes the group
 * { type = "MEMORY" } so the module reads one shape. */
static int k_auth_jwt(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    static const struct { const char *alias, *key; } names[] = {
        {"operators", "operator"}, {"trusted_operators", "operator"},
        {"trusted", "trusted_keys"},
    };
    const char *key = k->name;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(names[i].alias, key))
            key = names[i].key;
    if (!mn_module_available(c->o, "auth_jwt"))
        return fail(c, s, "\"%s\" needs the auth_jwt module, which this build does not have",
                    s->name);
    mn_cfg *n;
    if (!strcasecmp(key, "resolver") && s->type == MN_CFG_STRING) {
        n = mn_cfg_new(key, MN_CFG_GROUP, s->file, s->line);
        if (n && mn_cfg_set_str(n, "type", s->s) != MN_OK) {
            mn_cfg_free(n);
            n = NULL;
        }
    } else {
        n = mn_cfg_dup(s);
    }
    return put_in_module_group(c, s, "auth_jwt", key, n);
}

/* jetstream: true | "enabled" | { store_dir = "..."; ... }.  The group as
 * written is the jetstream module's settings group (the module checks its
 * keys); mn_opts_imply_modules() loads the module.  Where the module is not
 * installed, mn_opts_validate() refuses jetstream. */
static int k_jetstream(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    bool on = false;
    int rc;
    mn_opts *o = c->o;
    if (s->type == MN_CFG_GROUP) {
        on = true;
        for (int i = 0; i < (int)s->nkids; i++) {
            mn_cfg *e = s->kids[i];
            const char *name = e->name, *v;
            char path[128];
            subpath(path, sizeof path, k->name, e, (size_t)i);
            if (!strcasecmp(name, "enabled")) {
                if ((rc = get_bool(c, e, path, &on)) != MN_OK)
                    return rc;
            } else if (!strcasecmp(name, "store_dir") || !strcasecmp(name, "store")) {
                if ((rc = get_str(c, e, path, &v)) != MN_OK)
                    return rc;
                if (!shielded(c, MN_OPT_SD))
                    set_str(&o->store_dir, v);
            }
        }
        if (mn_module_available(o, "jetstream") &&
            (rc = add_module_group_as(c, s, "jetstream")) != MN_OK)
            return rc;
    } else if (s->type == MN_CFG_STRING &&
               (!strcasecmp(s->s, "enabled") ||
                !strcasecmp(s->s, "disabled"))) {
        on = !strcasecmp(s->s, "enabled");
    } else if ((rc = get_bool(c, s, k->name, &on)) != MN_OK) {
        return rc;
    }
    if (!shielded(c, MN_OPT_JS))
        o->jetstream = on;
    return MN_OK;
}

/* Is module NAME installed where the loader would look (module_path,
 * then mn_module_dirs())?  Used to load a module implicitly for the
 * nats-server block it serves only once that module exists. */
bool mn_module_available(const mn_opts *o, const char *name)
{
    if (mn_module_is_static(name))
        return true;
    char path[4200];
    if (o->module_path) {
        snprintf(path, sizeof path, "%s/%s.so", o->module_path, name);
        if (access(path, F_OK) == 0)
            return true;
    }
    static char dirs[4][4096];
    size_t nd = mn_module_dirs(dirs, 4);
    for (size_t i = 0; i < nd; i++) {
        snprintf(path, sizeof path, "%s/%s.so", dirs[i], name);
        if (access(path, F_OK) == 0)
            return true;
    }
    return false;
}

/* cluster { listen, name, routes, ... }: recorded so that mn_opts_validate()
 * can refuse it until the cluster module exists.  Once the cluster module
 * is installed, the group as written is also its settings group, and
 * mn_opts_imply_modules() loads it. */
static int k_cluster(cfg_ctx *c, const keydef *k, mn_cfg *g)
{
    int rc = get_group(c, g, k->name);
    if (rc != MN_OK)
        return rc;
    mn_opts *o = c->o;
    char *host = NULL, *listen = NULL;
    int port = 0;
    for (int i = 0; i < (int)g->nkids && rc == MN_OK; i++) {
        mn_cfg *s = g->kids[i];
        const char *name = s->name, *v;
        char path[128];
        int64_t n;
        subpath(path, sizeof path, k->name, s, (size_t)i);
        if (!strcasecmp(name, "listen")) {
            free(host);
            host = NULL;
            rc = get_listen(c, s, path, &host, &port);
            free(listen);
            listen = NULL;
            if (rc == MN_OK && s->type == MN_CFG_STRING)
                listen = strdup(s->s);
        } else if (!strcasecmp(name, "port")) {
            if ((rc = get_int(c, s, path, -1, 65535, &n)) == MN_OK)
                port = (int)n;
        } else if (!strcasecmp(name, "host")) {
            if ((rc = get_str(c, s, path, &v)) == MN_OK)
                set_str(&host, v);
        } else if (!strcasecmp(name, "name")) {
            if ((rc = get_str(c, s, path, &v)) == MN_OK && !shielded(c, MN_OPT_CLUSTERNAME))
                set_str(&o->cluster_name, v);
        } else if (!strcasecmp(name, "routes")) {
            int t = s->type;
            if (t != MN_CFG_LIST && t != MN_CFG_LIST) {
                rc = fail(c, s, "\"%s\" must be a list of URLs", path);
                break;
            }
            size_t len = 1;
            for (int j = 0; j < (int)s->nkids; j++) {
                const char *r = s->kids[j]->type == MN_CFG_STRING ? s->kids[j]->s : NULL;
                if (!r) {
                    rc = fail(c, s, "\"%s\" must be a list of URLs", path);
                    break;
                }
                len += strlen(r) + 1;
            }
            if (rc != MN_OK)
                break;
            char *joined = calloc(1, len);
            for (int j = 0; joined && j < (int)s->nkids; j++) {
                if (j)
                    strcat(joined, ",");
                strcat(joined, s->kids[j]->s);
            }
            if (!shielded(c, MN_OPT_ROUTES))
                set_str(&o->routes, joined);
            free(joined);
        } else if (!strcasecmp(name, "advertise") || !strcasecmp(name, "cluster_advertise")) {
            if ((rc = get_str(c, s, path, &v)) == MN_OK && !shielded(c, MN_OPT_CLUSTER))
                set_str(&o->cluster_advertise, v);
        }
        /* TODO(cluster module): validate the remaining keys. */
    }
    if (rc == MN_OK && !shielded(c, MN_OPT_CLUSTER) && (listen || port)) {
        char url[300];
        if (listen)
            snprintf(url, sizeof url, "%s", listen);
        else
            snprintf(url, sizeof url, "%s:%d", host ? host : "0.0.0.0", port);
        set_str(&o->cluster_url, url);
    }
    free(host);
    free(listen);
    if (rc == MN_OK && mn_module_available(o, "cluster"))
        rc = add_module_group_as(c, g, "cluster");
    return rc;
}

/* tls { cert_file, key_file, ca_file, verify, verify_and_map, timeout, ... }:
 * TLS for client connections (core/tls.c checks every key). */
static int k_tls(cfg_ctx *c, const keydef *k, mn_cfg *g)
{
    int rc = get_group(c, g, k->name);
    if (rc != MN_OK || shielded(c, MN_OPT_TLS))
        return rc;
    c->o->tls = true;
    return mn_tls_settings_parse(&c->o->tls_set, g, k->name, c->err, c->errlen);
}

/* Already read by collect_modules() before any file is applied. */
static int k_modules(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    MN_UNUSED(c); MN_UNUSED(k); MN_UNUSED(s);
    return MN_OK;
}

static void free_tags(mn_opts *o)
{
    for (int i = 0; i < o->nserver_tags; i++)
        free(o->server_tags[i]);
    free(o->server_tags);
    o->server_tags = NULL;
    o->nserver_tags = 0;
}

/* server_tags = ["az:1", "ssd"] or one string: nats-server trims and
 * lowercases each tag and keeps them in order (duplicates dropped). */
static int k_server_tags(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    size_t n = s->type == MN_CFG_STRING ? 1 : s->type == MN_CFG_LIST ? s->nkids : 0;
    if (s->type != MN_CFG_STRING && s->type != MN_CFG_LIST)
        return fail(c, s, "\"%s\" must be a list of strings: [\"az:1\", \"ssd\"]", k->name);
    for (size_t i = 0; i < n; i++) {
        const mn_cfg *e = s->type == MN_CFG_STRING ? s : s->kids[i];
        if (e->type != MN_CFG_STRING)
            return fail(c, e, "\"%s\" must be a list of strings: [\"az:1\", \"ssd\"]",
                        k->name);
    }
    char **v = n ? calloc(n, sizeof *v) : NULL;
    int nv = 0;
    if (n && !v)
        return fail(c, s, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *t = (s->type == MN_CFG_STRING ? s : s->kids[i])->s;
        while (isspace((unsigned char)*t))
            t++;
        size_t len = strlen(t);
        while (len && isspace((unsigned char)t[len - 1]))
            len--;
        char *tag = strndup(t, len);
        if (!tag) {
            for (int j = 0; j < nv; j++)
                free(v[j]);
            free(v);
            return fail(c, s, "out of memory");
        }
        for (char *p = tag; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        bool dup = !*tag;
        for (int j = 0; j < nv && !dup; j++)
            dup = strcmp(v[j], tag) == 0;
        if (dup)
            free(tag);
        else
            v[nv++] = tag;
    }
    free_tags(c->o);
    c->o->server_tags = v;
    c->o->nserver_tags = nv;
    return MN_OK;
}

static const keydef keys[] = {
    {"port",                   V_FN,   0, 0, 0, 0, k_port},
    {"host",                   V_FN,   0, 0, 0, 0, k_host},
    {"net",                    V_FN,   0, 0, 0, 0, k_host},
    {"listen",                 V_FN,   0, 0, 0, 0, k_listen},
    {"server_name",            V_STR,  F(server_name), MN_OPT_NAME, 0, 0, NULL},
    {"client_advertise",       V_STR,  F(client_advertise), MN_OPT_ADVERTISE, 0, 0, NULL},
    {"max_payload",            V_SIZE, F(max_payload), MN_OPT_MAXPAYLOAD, 1, 64 << 20, NULL},
    {"max_control_line",       V_SIZE, F(max_control_line), 0, 32, INT32_MAX, NULL},
    {"max_pending",            V_SIZE, F(max_pending), 0, 1, I64, NULL},
    {"max_pending_size",       V_SIZE, F(max_pending), 0, 1, I64, NULL},
    {"max_connections",        V_INT,  F(max_connections), 0, 1, INT32_MAX, NULL},
    {"max_conn",               V_INT,  F(max_connections), 0, 1, INT32_MAX, NULL},
    {"max_subscriptions",      V_INT,  F(max_subscriptions), 0, 0, INT32_MAX, NULL},
    {"max_subs",               V_INT,  F(max_subscriptions), 0, 0, INT32_MAX, NULL},
    {"ping_interval",          V_DUR,  F(ping_interval_ms), 0, 1, 0, NULL},
    {"ping_max",               V_INT,  F(ping_max), 0, 1, INT32_MAX, NULL},
    {"ping_max_out",           V_INT,  F(ping_max), 0, 1, INT32_MAX, NULL},
    {"write_deadline",         V_DUR,  F(write_deadline_ms), 0, 1, 0, NULL},
    {"lame_duck_duration",     V_DUR,  F(lame_duck_duration_ms), 0, 1, 0, NULL},
    {"lame_duck_grace_period", V_DUR,  F(lame_duck_grace_period_ms), 0, 0, 0, NULL},
    {"io_threads",             V_INT,  F(io_threads), MN_OPT_THREADS, 0, 1024, NULL},
    {"debug",                  V_BOOL, F(debug), MN_OPT_DEBUG, 0, 0, NULL},
    {"trace",                  V_BOOL, F(trace), MN_OPT_TRACE, 0, 0, NULL},
    {"trace_verbose",          V_BOOL, F(trace_verbose), MN_OPT_TRACE, 0, 0, NULL},
    {"logtime",                V_BOOL, F(logtime), MN_OPT_LOGTIME, 0, 0, NULL},
    {"logtime_utc",            V_BOOL, F(logtime_utc), MN_OPT_LOGTIMEUTC, 0, 0, NULL},
    {"log_file",               V_STR,  F(log_file), MN_OPT_LOGFILE, 0, 0, NULL},
    {"logfile",                V_STR,  F(log_file), MN_OPT_LOGFILE, 0, 0, NULL},
    {"log_size_limit",         V_SIZE, F(log_size_limit), MN_OPT_LOGSIZE, 0, I64, NULL},
    {"logfile_size_limit",     V_SIZE, F(log_size_limit), MN_OPT_LOGSIZE, 0, I64, NULL},
    {"store_dir",              V_STR,  F(store_dir), MN_OPT_SD, 0, 0, NULL},
    {"max_traced_msg_len",     V_INT,  F(max_traced_msg_len), MN_OPT_TRACELEN, 0, INT32_MAX, NULL},
    {"syslog",                 V_BOOL, F(syslog), MN_OPT_SYSLOG, 0, 0, NULL},
    {"remote_syslog",          V_STR,  F(remote_syslog), MN_OPT_RSYSLOG, 0, 0, NULL},
    {"pid_file",               V_STR,  F(pid_file), MN_OPT_PIDFILE, 0, 0, NULL},
    {"module_path",            V_STR,  F(module_path), MN_OPT_MODPATH, 0, 0, NULL},
    {"pidfile",                V_STR,  F(pid_file), MN_OPT_PIDFILE, 0, 0, NULL},
    {"ports_file_dir",         V_STR,  F(ports_file_dir), MN_OPT_PORTSDIR, 0, 0, NULL},
    {"http",                   V_FN,   0, MN_OPT_HTTP, 0, 0, k_http},
    {"https",                  V_FN,   0, MN_OPT_HTTPS, 0, 0, k_http},
    {"http_port",              V_INT,  F(http_port), MN_OPT_HTTP, -1, 65535, NULL},
    {"monitor_port",           V_INT,  F(http_port), MN_OPT_HTTP, -1, 65535, NULL},
    {"https_port",             V_INT,  F(https_port), MN_OPT_HTTPS, -1, 65535, NULL},
    {"prof_port",              V_INT,  F(prof_port), MN_OPT_PROFILE, 0, 65535, NULL},
    {"authorization",          V_FN,   0, 0, 0, 0, k_authorization},
    {"no_auth_user",           V_FN,   0, 0, 0, 0, k_no_auth_user},
    {"system_account",         V_FN,   0, 0, 0, 0, k_system_account},
    {"no_system_account",      V_FN,   0, 0, 0, 0, k_no_system_account},
    {"no_system",              V_FN,   0, 0, 0, 0, k_no_system_account},
    {"no_sys_acc",             V_FN,   0, 0, 0, 0, k_no_system_account},
    {"accounts",               V_FN,   0, 0, 0, 0, k_accounts},
    {"jetstream",              V_FN,   0, 0, 0, 0, k_jetstream},
    {"cluster",                V_FN,   0, 0, 0, 0, k_cluster},
    {"operator",               V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"operators",              V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"trusted_operators",      V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"trusted",                V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"trusted_keys",           V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"resolver",               V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"resolver_preload",       V_FN,   0, 0, 0, 0, k_auth_jwt},
    {"tls",                    V_FN,   0, 0, 0, 0, k_tls},
    {"modules",                V_FN,   0, 0, 0, 0, k_modules},
    {"no_header_support",      V_BOOL, F(no_header_support), 0, 0, 0, NULL},
    {"allow_non_tls",          V_BOOL, F(allow_non_tls), 0, 0, 0, NULL},
    {"server_tags",            V_FN,   0, 0, 0, 0, k_server_tags},
};

static int apply_key(cfg_ctx *c, const keydef *k, mn_cfg *s)
{
    char *field = (char *)c->o + k->off;
    int64_t v;
    int rc;
    switch (k->kind) {
    case V_INT:
        if ((rc = get_int(c, s, k->name, k->lo, k->hi, &v)) == MN_OK && !shielded(c, k->bit))
            *(int *)(void *)field = (int)v;
        return rc;
    case V_SIZE:
        if ((rc = get_size(c, s, k->name, k->lo, k->hi, &v)) == MN_OK && !shielded(c, k->bit))
            *(int64_t *)(void *)field = v;
        return rc;
    case V_DUR:
        if ((rc = get_duration_ms(c, s, k->name, k->lo, &v)) == MN_OK && !shielded(c, k->bit))
            *(int64_t *)(void *)field = v;
        return rc;
    case V_BOOL: {
        bool b = false;
        if ((rc = get_bool(c, s, k->name, &b)) == MN_OK && !shielded(c, k->bit))
            *(bool *)(void *)field = b;
        return rc;
    }
    case V_STR: {
        const char *str;
        if ((rc = get_str(c, s, k->name, &str)) == MN_OK && !shielded(c, k->bit))
            set_str((char **)(void *)field, str);
        return rc;
    }
    case V_FN:
        return k->fn(c, k, s);
    }
    return MN_ERR;
}

static bool is_module(const mn_opts *o, const char *name)
{
    for (int i = 0; i < o->nmodules; i++)
        if (strcmp(o->modules[i], name) == 0)
            return true;
    return false;
}

/* nats-server's top-level keys that modnats does not serve (yet).  Each is
 * refused with its place, never dropped; a row with `warn` is ignored with
 * a warning instead, where ignoring it is provably harmless. */
static const struct {
    const char *name;
    const char *module;     /* the module that will serve it, or NULL */
    const char *warn;       /* why ignoring it is harmless, or NULL */
} nats_keys[] = {
    {"gateway", "gateway", NULL},
    {"leafnodes", "leafnodes", NULL},
    {"leaf", "leafnodes", NULL},
    {"websocket", "websocket", NULL},
    {"ws", "websocket", NULL},
    {"mqtt", "mqtt", NULL},
    {"system", NULL, NULL},
    {"root", NULL, NULL},
    {"roots", NULL, NULL},
    {"account_resolver", NULL, NULL},
    {"accounts_resolver", NULL, NULL},
    {"resolver_tls", NULL, NULL},
    {"resolver_pinned_accounts", NULL, NULL},
    {"default_js_domain", NULL, NULL},
    {"ocsp", NULL, NULL},
    {"ocsp_cache", NULL, NULL},
    {"http_base_path", NULL, NULL},
    {"max_sub_tokens", NULL, NULL},
    {"max_subscription_tokens", NULL, NULL},
    {"mappings", NULL, NULL},
    {"maps", NULL, NULL},
    {"disable_sublist_cache", NULL, "a cache of nats-server's subject index; modnats has its own"},
    {"no_sublist_cache", NULL, "a cache of nats-server's subject index; modnats has its own"},
    {"connect_error_reports", NULL, "how often route, gateway and leaf node connect errors are "
                                    "logged; modnats has none of these connections"},
    {"reconnect_error_reports", NULL, "how often route, gateway and leaf node reconnect errors "
                                      "are logged; modnats has none of these connections"},
    {"syslog_name", NULL, "the Windows event log source name; not used on this system"},
};

static int apply_file(cfg_ctx *c, mn_cfg *root)
{
    for (size_t i = 0; i < root->nkids; i++) {
        mn_cfg *s = root->kids[i];
        const char *name = s->name;
        const keydef *k = NULL;
        for (size_t j = 0; j < sizeof keys / sizeof keys[0] && !k; j++)
            if (strcasecmp(keys[j].name, name) == 0)
                k = &keys[j];
        int rc = MN_OK;
        if (k) {
            rc = apply_key(c, k, s);
        } else if (is_module(c->o, name)) {
            /* The module's own group: kept as a tree for the loader, which
             * checks it against the options the module declares. */
            rc = get_group(c, s, name);
            if (rc == MN_OK)
                rc = add_module_group(c, s);
        } else if (s->var_used) {
            /* a nats-server variable, not a setting */
        } else {
            size_t j = 0;
            while (j < sizeof nats_keys / sizeof nats_keys[0] &&
                   strcasecmp(nats_keys[j].name, name) != 0)
                j++;
            if (j == sizeof nats_keys / sizeof nats_keys[0])
                rc = fail(c, s, "unknown option \"%s\"", name);
            else if (nats_keys[j].module)
                rc = fail(c, s, "\"%s\" needs the %s module, which this build does not have",
                          name, nats_keys[j].module);
            else if (!nats_keys[j].warn)
                rc = fail(c, s, "\"%s\" is a nats-server option that modnats does not "
                          "support yet", name);
            else if (s->col > 0)
                mn_warn("%s:%d:%d: \"%s\" ignored: %s", s->file, s->line, s->col, name,
                        nats_keys[j].warn);
            else
                mn_warn("%s:%d: \"%s\" ignored: %s", s->file, s->line, name,
                        nats_keys[j].warn);
        }
        if (rc != MN_OK)
            return rc;
    }
    return MN_OK;
}

/* modules = ["a", "b"] (or a single string) in any file.  Read before any
 * file is applied so that a module's group may come before, or in another
 * file than, the list that names the module. */
static int collect_modules(cfg_ctx *c, const mn_cfg *root)
{
    for (size_t i = 0; i < root->nkids; i++) {
        const mn_cfg *s = root->kids[i];
        if (strcasecmp(s->name, "modules") != 0)
            continue;
        int t = s->type;
        size_t n = t == MN_CFG_STRING ? 1 : s->nkids;
        if (t != MN_CFG_STRING && t != MN_CFG_LIST)
            return fail(c, s, "\"modules\" must be a list of module names: [\"a\", \"b\"]");
        for (size_t j = 0; j < n; j++) {
            const char *m = t == MN_CFG_STRING ? s->s
                          : s->kids[j]->type == MN_CFG_STRING ? s->kids[j]->s : NULL;
            if (!m)
                return fail(c, s, "\"modules\" must be a list of module names: [\"a\", \"b\"]");
            bool ok = isalpha((unsigned char)m[0]);
            for (const char *p = m; *p && ok; p++)
                ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
            if (!ok)
                return fail(c, s, "\"modules\": \"%s\" is not a valid module name "
                            "(letters, digits, '_' and '-', starting with a letter)", m);
            if (is_module(c->o, m))
                continue;
            char **v = realloc(c->o->modules, ((size_t)c->o->nmodules + 1) * sizeof *v);
            if (!v)
                return fail(c, s, "out of memory");
            c->o->modules = v;
            if (!(v[c->o->nmodules] = strdup(m)))
                return fail(c, s, "out of memory");
            c->o->nmodules++;
        }
    }
    return MN_OK;
}

/* ---- finding and parsing the files -------------------------------------- */

typedef struct file_list {
    char **v;
    int    n;
} file_list;

static int push(file_list *l, const char *path)
{
    char **v = realloc(l->v, ((size_t)l->n + 1) * sizeof *v);
    if (!v)
        return MN_ENOMEM;
    l->v = v;
    if (!(v[l->n] = strdup(path)))
        return MN_ENOMEM;
    l->n++;
    return MN_OK;
}

static void free_list(file_list *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the .conf files of dir in byte order (not the locale's), skipping hidden files,
 * anything that is not a regular file, and the main file itself. */
static int list_confd(cfg_ctx *c, const char *dir, const struct stat *main_st,
                      file_list *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        c->path = dir;
        return fail(c, NULL, "cannot read the conf.d directory: %s", strerror(errno));
    }
    file_list names = {0};
    struct dirent *e;
    int rc = MN_OK;
    while ((e = readdir(d)) && rc == MN_OK) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0)
            continue;
        rc = push(&names, e->d_name);
    }
    closedir(d);
    if (names.n)
        qsort(names.v, (size_t)names.n, sizeof *names.v, cmp_str);
    for (int i = 0; i < names.n && rc == MN_OK; i++) {
        size_t len = strlen(dir) + strlen(names.v[i]) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = MN_ENOMEM;
            break;
        }
        snprintf(path, len, "%s/%s", dir, names.v[i]);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            !(main_st && st.st_dev == main_st->st_dev && st.st_ino == main_st->st_ino))
            rc = push(out, path);
        free(path);
    }
    free_list(&names);
    if (rc == MN_ENOMEM)
        rc = fail(c, NULL, "out of memory");
    return rc;
}

/* A light lexical pass run before libconfig, for two faults of libconfig
 * 1.5: it silently wraps an integer literal that does not fit in 32 bits
 * unless it carries an L suffix (5000000000 reads as 705032704), and it
 * leaks memory on a string left open at the end of the file.  Both come back
 * as file:line here.  (Files pulled in with @include are not scanned.) */
static int prescan(cfg_ctx *c, const char *text)
{
    unsigned line = 1;
    const char *p = text;
    while (*p) {
        if (*p == '\n') {
            line++;
            p++;
        } else if (*p == '"') {
            unsigned start = line;
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (*p == '\n')
                    line++;
            }
            /* libconfig 1.5 also leaks its buffer on this one. */
            if (!*p)
                return snprintf(c->err, c->errlen, "%s:%u: unterminated string",
                                c->path, start), MN_EINVAL;
            p++;
        } else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                if (*p == '\n')
                    line++;
            if (*p)
                p += 2;
        } else if (isalpha((unsigned char)*p) || *p == '*' || *p == '@') {
            /* a name, true/false, or @include: never a number */
            p++;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '*')
                p++;
        } else if (isdigit((unsigned char)*p) ||
                   ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
            const char *start = p;
            if (*p == '-' || *p == '+')
                p++;
            while (isalnum((unsigned char)*p) || *p == '.' ||
                   ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
                p++;
            size_t len = (size_t)(p - start);
            bool wide = p[-1] == 'L' || memchr(start, '.', len) != NULL;
            bool hex = len > 2 && (strncasecmp(start, "0x", 2) == 0 ||
                                   strncasecmp(start, "-0x", 3) == 0);
            if (!wide && !hex && !memchr(start, 'e', len) && !memchr(start, 'E', len)) {
                errno = 0;
                long long v = strtoll(start, NULL, 10);
                if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
                    return snprintf(c->err, c->errlen,
                                    "%s:%u: the integer %.*s does not fit in 32 bits: "
                                    "write %.*sL, or a size string such as \"5GB\"",
                                    c->path, line, (int)len, start, (int)len, start),
                           MN_EINVAL;
            } else if (hex && !wide) {
                const char *digits = start + (*start == '-' ? 3 : 2);
                size_t nd = (size_t)(p - digits);
                while (nd > 1 && *digits == '0') {
                    digits++;
                    nd--;
                }
                if (nd > 8)
                    return snprintf(c->err, c->errlen,
                                    "%s:%u: the integer %.*s does not fit in 32 bits: "
                                    "write %.*sL",
                                    c->path, line, (int)len, start, (int)len, start),
                           MN_EINVAL;
            }
        } else {
            p++;
        }
    }
    return MN_OK;
}

static char *slurp(FILE *f, size_t *outlen)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
        if (cap - len - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (buf)
        buf[len] = '\0';
    *outlen = len;
    return buf;
}

/* nats-server's syntax allows "name { ... }"; libconfig wants "name = {".
 * Recognising the habit on the failing line turns a bare "syntax error"
 * into one that says what to write. */
static bool bare_group_on_line(const char *path, int line)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[512];
    bool hit = false;
    for (int n = 1; fgets(buf, sizeof buf, f); ) {
        if (n == line || n == line - 1) {
            const char *p = buf;
            while (isspace((unsigned char)*p))
                p++;
            if (isalpha((unsigned char)*p)) {
                while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
                    p++;
                while (isspace((unsigned char)*p))
                    p++;
                hit = hit || *p == '{';
            }
        }
        if (strchr(buf, '\n') && ++n > line)
            break;
    }
    fclose(f);
    return hit;
}

/* Read one file, in whichever format it is written (mn_natsconf_detect),
 * into *tree (a GROUP, owned by the caller). */
static int read_one(cfg_ctx *c, const char *path, mn_cfg **tree)
{
    c->path = path;
    *tree = NULL;
    struct stat st;
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(c, NULL, "cannot open the config file: %s", strerror(errno));
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return fail(c, NULL, "cannot open the config file: it is a directory");
    }
    size_t len = 0;
    char *text = slurp(f, &len);
    fclose(f);
    if (!text)
        return fail(c, NULL, "cannot read the config file: %s", strerror(errno));
    if (mn_natsconf_detect(text, len) == MN_CONF_NATS) {
        int rc = mn_natsconf_parse(text, len, path, tree, c->err, c->errlen);
        free(text);
        return rc;
    }
    int rc = prescan(c, text);
    free(text);
    if (rc != MN_OK)
        return rc;

    config_t cfg;
    config_init(&cfg);
    config_set_options(&cfg, config_get_options(&cfg) | CONFIG_OPTION_AUTOCONVERT);
    char *dir = dir_of(path);
    config_set_include_dir(&cfg, dir);   /* @include is relative to the file */
    free(dir);
    if (config_read_file(&cfg, path) == CONFIG_TRUE) {
        *tree = to_tree(config_root_setting(&cfg), path);
        config_destroy(&cfg);
        return *tree ? MN_OK : fail(c, NULL, "out of memory");
    }
    const char *efile = config_error_file(&cfg);
    if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
        snprintf(c->err, c->errlen, "%s: cannot read the config file: %s",
                 efile ? efile : path, config_error_text(&cfg));
    else
        snprintf(c->err, c->errlen, "%s:%d: %s%s", efile ? efile : path,
                 config_error_line(&cfg), config_error_text(&cfg),
                 (!efile || strcmp(efile, path) == 0) &&
                 bare_group_on_line(path, config_error_line(&cfg))
                     ? " (libconfig needs \"=\" or \":\" before a group: name = { ... })"
                     : "");
    config_destroy(&cfg);
    return MN_EINVAL;
}

int mn_config_load(mn_opts *o, char *errbuf, size_t errlen)
{
    char dummy[1];
    cfg_ctx c = {.o = o, .path = "", .err = errbuf ? errbuf : dummy,
                 .errlen = errbuf ? errlen : sizeof dummy};
    file_list files = {0};
    mn_cfg **trees = NULL;
    int ntrees = 0, rc = MN_OK;
    struct stat main_st;
    bool have_main_st = false;

    if (o->config_file) {
        if ((rc = push(&files, o->config_file)) != MN_OK)
            goto oom;
        have_main_st = stat(o->config_file, &main_st) == 0;
    }
    if (o->confd_dir) {
        rc = list_confd(&c, o->confd_dir, have_main_st ? &main_st : NULL, &files);
    } else if (o->config_file) {
        char *base = dir_of(o->config_file);
        size_t len = base ? strlen(base) + sizeof "/conf.d" : 0;
        char *dir = base ? malloc(len) : NULL;
        struct stat st;
        if (!dir) {
            free(base);
            goto oom;
        }
        snprintf(dir, len, "%s/conf.d", base);
        free(base);
        /* The default conf.d is optional; an explicit --confd is not. */
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            rc = list_confd(&c, dir, have_main_st ? &main_st : NULL, &files);
        free(dir);
    }
    if (rc != MN_OK)
        goto out;

    if (files.n && !(trees = calloc((size_t)files.n, sizeof *trees)))
        goto oom;
    for (; ntrees < files.n; ntrees++)
        if ((rc = read_one(&c, files.v[ntrees], &trees[ntrees])) != MN_OK)
            goto out;
    for (int i = 0; i < ntrees; i++) {
        c.path = files.v[i];
        if ((rc = collect_modules(&c, trees[i])) != MN_OK)
            goto out;
    }
    for (int i = 0; i < ntrees; i++) {
        c.path = files.v[i];
        if ((rc = apply_file(&c, trees[i])) != MN_OK)
            goto out;
    }

    for (int i = 0; i < o->nconfig_files; i++)
        free(o->config_files[i]);
    free(o->config_files);
    o->config_files = files.v;
    o->nconfig_files = files.n;
    files.v = NULL;
    files.n = 0;
    goto out;

oom:
    rc = MN_ENOMEM;
    snprintf(c.err, c.errlen, "out of memory");
out:
    for (int i = 0; i < ntrees; i++)
        mn_cfg_free(trees[i]);
    free(trees);
    free_list(&files);
    return rc;
}

int mn_config_reload(const mn_opts *current, mn_opts *fresh, char *errbuf, size_t errlen)
{
    mn_opts_defaults(fresh);
    int rc = MN_OK;
    if (current->argv) {
        mn_cli_action action;
        char *sig = NULL;
        rc = mn_opts_parse_args(fresh, current->argc, current->argv, &action, &sig,
                                errbuf, errlen);
        free(sig);
    } else {
        /* Options built without a command line (tests, embedding). */
        if (current->config_file && !(fresh->config_file = strdup(current->config_file)))
            rc = MN_ENOMEM;
        if (current->confd_dir && !(fresh->confd_dir = strdup(current->confd_dir)))
            rc = MN_ENOMEM;
    }
    if (rc == MN_OK)
        rc = mn_config_load(fresh, errbuf, errlen);
    if (rc != MN_OK)
        mn_opts_free(fresh);
    return rc;
}

/* Add name to o->modules unless there. */
static int want_module(mn_opts *o, const char *name)
{
    if (is_module(o, name))
        return MN_OK;
    char **v = realloc(o->modules, ((size_t)o->nmodules + 1) * sizeof *v);
    if (!v)
        return MN_ENOMEM;
    o->modules = v;
    if (!(v[o->nmodules] = strdup(name)))
        return MN_ENOMEM;
    o->nmodules++;
    return MN_OK;
}

static mn_cfg *module_group(mn_opts *o, const char *name)
{
    if (!o->module_cfg && !(o->module_cfg = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0)))
        return NULL;
    mn_cfg *g = mn_cfg_get(o->module_cfg, name);
    if (!g) {
        g = mn_cfg_new(name, MN_CFG_GROUP, "command line", 0);
        if (g && mn_cfg_add(o->module_cfg, g) != MN_OK) {
            mn_cfg_free(g);
            g = NULL;
        }
    }
    return g;
}

int mn_opts_imply_modules(mn_opts *o)
{
    /* --user/--pass/--auth and authorization { }: auth_basic. */
    if (o->username || o->password || o->auth_token) {
        mn_cfg *g = module_group(o, "auth_basic");
        if (!g ||
            (o->username && mn_cfg_set_str(g, "user", o->username) != MN_OK) ||
            (o->password && mn_cfg_set_str(g, "password", o->password) != MN_OK) ||
            (o->auth_token && mn_cfg_set_str(g, "token", o->auth_token) != MN_OK))
            return MN_ENOMEM;
    }
    if (mn_cfg_get(o->module_cfg, "auth_basic") && want_module(o, "auth_basic") != MN_OK)
        return MN_ENOMEM;
    /* authorization { auth_callout { } } (k_authorization): auth_callout,
     * after auth_basic, which logs in its auth_users. */
    if (mn_cfg_get(o->module_cfg, "auth_callout") && want_module(o, "auth_callout") != MN_OK)
        return MN_ENOMEM;
    /* operator, resolver, ... (k_auth_jwt): auth_jwt. */
    mn_cfg *jw = o->module_cfg ? mn_cfg_get(o->module_cfg, "auth_jwt") : NULL;
    if (jw && want_module(o, "auth_jwt") != MN_OK)
        return MN_ENOMEM;
    /* accounts { }, system_account or operator mode: the system module too
     * ($SYS advisories and requests, as nats-server has them), when this
     * build has it; after auth_basic and auth_jwt, which name the system
     * account. */
    mn_cfg *ab = o->module_cfg ? mn_cfg_get(o->module_cfg, "auth_basic") : NULL;
    if (((ab && (mn_cfg_get(ab, "accounts") || mn_cfg_get(ab, "system_account"))) || jw) &&
        mn_module_available(o, "system") && want_module(o, "system") != MN_OK)
        return MN_ENOMEM;
    /* --cluster/--routes and cluster { listen, routes }: the cluster module,
     * once it is installed (until then mn_opts_validate() refuses them).
     * The flags are put over the file's group (k_cluster). */
    if ((o->cluster_url || o->routes) && mn_module_available(o, "cluster")) {
        mn_cfg *g = module_group(o, "cluster");
        if (!g)
            return MN_ENOMEM;
        if ((o->cli_set & MN_OPT_CLUSTER) && o->cluster_url &&
            mn_cfg_set_str(g, "listen", o->cluster_url) != MN_OK)
            return MN_ENOMEM;
        if ((o->cli_set & MN_OPT_CLUSTERNAME) && o->cluster_name &&
            mn_cfg_set_str(g, "name", o->cluster_name) != MN_OK)
            return MN_ENOMEM;
        if ((o->cli_set & MN_OPT_ROUTES) && o->routes) {
            mn_cfg *l = mn_cfg_new("routes", MN_CFG_LIST, "command line", 0);
            char *copy = strdup(o->routes), *save = NULL;
            bool copied = copy != NULL;
            for (char *r = copy ? strtok_r(copy, ",", &save) : NULL; l && r;
                 r = strtok_r(NULL, ",", &save)) {
                mn_cfg *e = mn_cfg_new(NULL, MN_CFG_STRING, "command line", 0);
                if (!e || !(e->s = strdup(r)) || mn_cfg_add(l, e) != MN_OK) {
                    mn_cfg_free(e);
                    mn_cfg_free(l);
                    l = NULL;
                }
            }
            free(copy);
            if (!l || !copied || mn_cfg_add(g, l) != MN_OK) {
                mn_cfg_free(l);
                return MN_ENOMEM;
            }
        }
        if (want_module(o, "cluster") != MN_OK)
            return MN_ENOMEM;
    }
    /* -js, -sd DIR, store_dir, jetstream { }: the jetstream module, once
     * installed; the store dir as the command line and files settled it.
     * Listing the module loads it too, and INFO then says jetstream. */
    if (is_module(o, "jetstream"))
        o->jetstream = true;
    if (o->jetstream && mn_module_available(o, "jetstream")) {
        mn_cfg *g = module_group(o, "jetstream");
        if (!g || (o->store_dir && mn_cfg_set_str(g, "store_dir", o->store_dir) != MN_OK) ||
            want_module(o, "jetstream") != MN_OK)
            return MN_ENOMEM;
    }
    /* -m PORT, http_port, http: "host:port": monitor. */
    if (o->http_port != 0) {
        mn_cfg *g = module_group(o, "monitor");
        if (!g || mn_cfg_set_int(g, "port", o->http_port) != MN_OK ||
            (o->http_host && mn_cfg_set_str(g, "host", o->http_host) != MN_OK) ||
            want_module(o, "monitor") != MN_OK)
            return MN_ENOMEM;
    }
    return MN_OK;
}

/* ---- modnats --convert -------------------------------------------------- */

/* A unit-bearing integer where a duration is meant ("2m") becomes the
 * duration string, so the libconfig file means what the nats-server file
 * meant to modnats. */
static void durations_as_text(mn_cfg *n)
{
    if (n->type == MN_CFG_INT && n->s && mn_parse_duration_ms(n->s, &(int64_t){0}) == MN_OK)
        n->type = MN_CFG_STRING;
}

/* Read path (either format), check it as -c would, and leave in *out the
 * tree to print: variables resolved and their definitions dropped,
 * unit-bearing durations as text. */
static int convert_tree(const char *path, mn_cfg **out, char *errbuf, size_t errlen)
{
    char dummy[1];
    mn_opts o;
    mn_opts_defaults(&o);
    cfg_ctx c = {.o = &o, .path = path, .err = errbuf ? errbuf : dummy,
                 .errlen = errbuf ? errlen : sizeof dummy};
    mn_cfg *root = NULL;
    *out = NULL;
    int rc = read_one(&c, path, &root);
    /* Check it as -c would (the server's options are thrown away). */
    if (rc == MN_OK)
        rc = collect_modules(&c, root);
    if (rc == MN_OK)
        rc = apply_file(&c, root);
    free_tags(&o);
    mn_opts_free(&o);
    if (rc != MN_OK) {
        mn_cfg_free(root);
        return rc;
    }
    /* Variables are resolved already; their definitions are not settings. */
    size_t w = 0;
    for (size_t i = 0; i < root->nkids; i++) {
        mn_cfg *k = root->kids[i];
        bool known = false;
        for (size_t j = 0; j < sizeof keys / sizeof keys[0] && !known; j++)
            known = !strcasecmp(keys[j].name, k->name);
        if (k->var_used && !known) {
            mn_cfg_free(k);
            continue;
        }
        prune_vars(k);
        for (size_t j = 0; j < sizeof keys / sizeof keys[0]; j++)
            if (keys[j].kind == V_DUR && !strcasecmp(keys[j].name, k->name))
                durations_as_text(k);
        if (!strcasecmp(k->name, "authorization") && mn_cfg_get(k, "timeout"))
            durations_as_text(mn_cfg_get(k, "timeout"));
        root->kids[w++] = k;
    }
    root->nkids = w;
    *out = root;
    return MN_OK;
}

int mn_config_convert(const char *path, FILE *out, char *errbuf, size_t errlen)
{
    char dummy[1];
    if (!errbuf) {
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    mn_cfg *root;
    int rc = convert_tree(path, &root, errbuf, errlen);
    if (rc != MN_OK)
        return rc;
    fprintf(out, "# %s, in libconfig syntax (modnats --convert)\n", path);
    rc = mn_natsconf_print_libconfig(out, root, errbuf, errlen);
    mn_cfg_free(root);
    return rc;
}

/* ---- modnats --convert FILE --confd DIR ----------------------------------- */

/* The module a nats-server top-level key configures (the module that
 * serves it once loaded), or NULL for the core's keys. */
static const char *key_module(const char *name)
{
    static const struct { const char *key, *module; } map[] = {
        {"authorization", "auth_basic"}, {"no_auth_user", "auth_basic"},
        {"accounts", "auth_basic"}, {"system_account", "auth_basic"},
        {"operator", "auth_jwt"}, {"operators", "auth_jwt"}, {"trusted_operators", "auth_jwt"},
        {"trusted", "auth_jwt"}, {"trusted_keys", "auth_jwt"}, {"resolver", "auth_jwt"},
        {"resolver_preload", "auth_jwt"},
        {"http", "monitor"}, {"http_port", "monitor"}, {"monitor_port", "monitor"},
        {"https", "monitor"}, {"https_port", "monitor"},
        {"cluster", "cluster"}, {"jetstream", "jetstream"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcasecmp(map[i].key, name))
            return map[i].module;
    return NULL;
}

typedef struct confd_file {
    char   *module;     /* NULL: 00-server.conf */
    mn_cfg *root;       /* a GROUP holding the keys of this file */
} confd_file;

static void confd_files_free(confd_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].module);
        mn_cfg_free(f[i].root);
    }
    free(f);
}

/* The file for module m (NULL: the server's), added at the end if new. */
static confd_file *confd_slot(confd_file **v, size_t *n, const char *m)
{
    for (size_t i = 0; i < *n; i++)
        if ((!m && !(*v)[i].module) || (m && (*v)[i].module && !strcmp((*v)[i].module, m)))
            return &(*v)[i];
    confd_file *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    *v = nv;
    confd_file *f = &nv[*n];
    f->module = m ? strdup(m) : NULL;
    f->root = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    if ((m && !f->module) || !f->root) {
        free(f->module);
        mn_cfg_free(f->root);
        return NULL;
    }
    (*n)++;
    return f;
}

/* Split a converted tree into the files of a conf.d layout: the server's
 * keys in files[0], then one file per module, in the order the modules
 * would load from the single file (its modules list first, then those its
 * nats-server keys imply: auth_basic, auth_jwt, cluster, monitor).  Moves
 * root's members; root is left empty. */
static int confd_split(mn_cfg *root, confd_file **out, size_t *nout)
{
    confd_file *v = NULL;
    size_t n = 0;
    int rc = MN_ENOMEM;
    if (!confd_slot(&v, &n, NULL))
        goto fail;
    /* Slots in load order, first the modules named by modules = [...]. */
    for (size_t i = 0; i < root->nkids; i++) {
        const mn_cfg *k = root->kids[i];
        if (strcasecmp(k->name, "modules") != 0)
            continue;
        size_t cnt = k->type == MN_CFG_STRING ? 1 : k->nkids;
        for (size_t j = 0; j < cnt; j++) {
            const char *m = k->type == MN_CFG_STRING ? k->s : k->kids[j]->s;
            if (m && !confd_slot(&v, &n, m))
                goto fail;
        }
    }
    static const char *const implied[] = {"auth_basic", "auth_jwt", "cluster", "monitor", "jetstream"};
    for (size_t j = 0; j < sizeof implied / sizeof implied[0]; j++) {
        bool used = false;
        for (size_t i = 0; i < root->nkids && !used; i++) {
            const char *m = key_module(root->kids[i]->name);
            used = m && !strcmp(m, implied[j]);
        }
        if (used && !confd_slot(&v, &n, implied[j]))
            goto fail;
    }
    /* Each module's file starts with its modules line. */
    for (size_t i = 1; i < n; i++) {
        mn_cfg *l = mn_cfg_new("modules", MN_CFG_LIST, NULL, 0);
        mn_cfg *e = mn_cfg_new(NULL, MN_CFG_STRING, NULL, 0);
        if (!l || !e || !(e->s = strdup(v[i].module)) || mn_cfg_add(l, e) != MN_OK) {
            mn_cfg_free(l);
            mn_cfg_free(e);
            goto fail;
        }
        if (mn_cfg_add(v[i].root, l) != MN_OK) {
            mn_cfg_free(l);
            goto fail;
        }
    }
    /* Then every key to its file: a module's own group (name = a listed
     * module) and the nats-server keys a module serves to that module's
     * file, the rest to the server's. */
    size_t r = 0;
    for (; r < root->nkids; r++) {
        mn_cfg *k = root->kids[r];
        if (!strcasecmp(k->name, "modules")) {
            mn_cfg_free(k);
            root->kids[r] = NULL;
            continue;
        }
        const char *m = key_module(k->name);
        confd_file *f = &v[0];
        for (size_t i = 1; i < n; i++)
            if ((m && !strcmp(v[i].module, m)) || !strcmp(v[i].module, k->name))
                f = &v[i];
        if (mn_cfg_add(f->root, k) != MN_OK)
            goto fail;
        root->kids[r] = NULL;
    }
    root->nkids = 0;
    *out = v;
    *nout = n;
    return MN_OK;
fail:
    /* Members not moved yet stay in root, which the caller frees. */
    {
        size_t w = 0;
        for (size_t i = 0; i < root->nkids; i++)
            if (root->kids[i])
                root->kids[w++] = root->kids[i];
        root->nkids = w;
    }
    confd_files_free(v, n);
    return rc;
}

/* "00-server.conf", then NN-module.conf numbered in load order (10, 20, ...
 * or 10, 11, ... when there are many), so the sorted conf.d order is the
 * load order. */
static void confd_name(char *buf, size_t len, const confd_file *f, size_t i, size_t n)
{
    if (!f->module)
        snprintf(buf, len, "00-server.conf");
    else
        snprintf(buf, len, "%02zu-%s.conf", n <= 9 ? i * 10 : 9 + i, f->module);
}

int mn_config_convert_confd(const char *path, const char *dir, char *errbuf, size_t errlen)
{
    char dummy[1];
    if (!errbuf) {
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    mn_cfg *root;
    int rc = convert_tree(path, &root, errbuf, errlen);
    if (rc != MN_OK)
        return rc;
    confd_file *files = NULL;
    size_t n = 0;
    char **text = NULL;
    size_t *tlen = NULL;
    if ((rc = confd_split(root, &files, &n)) != MN_OK) {
        snprintf(errbuf, errlen, "out of memory");
        mn_cfg_free(root);
        return rc;
    }
    mn_cfg_free(root);
    if (n > 89) {
        snprintf(errbuf, errlen, "%s: too many modules for one conf.d layout", path);
        rc = MN_EINVAL;
        goto out;
    }
    /* Everything is rendered before anything is written. */
    text = calloc(n, sizeof *text);
    tlen = calloc(n, sizeof *tlen);
    if (!text || !tlen) {
        snprintf(errbuf, errlen, "out of memory");
        rc = MN_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n && rc == MN_OK; i++) {
        FILE *m = open_memstream(&text[i], &tlen[i]);
        if (!m) {
            snprintf(errbuf, errlen, "out of memory");
            rc = MN_ENOMEM;
            break;
        }
        if (files[i].module)
            fprintf(m, "# %s: the %s module (modnats --convert --confd)\n", path,
                    files[i].module);
        else
            fprintf(m, "# %s: the server's settings (modnats --convert --confd)\n", path);
        rc = mn_natsconf_print_libconfig(m, files[i].root, errbuf, errlen);
        if (fclose(m) != 0 && rc == MN_OK) {
            snprintf(errbuf, errlen, "out of memory");
            rc = MN_ENOMEM;
        }
    }
    if (rc != MN_OK)
        goto out;

    /* A new directory, or an existing one without .conf files: the layout
     * must be all that `modnats --confd DIR` reads there. */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errbuf, errlen, "%s: cannot create the directory: %s", dir, strerror(errno));
        rc = MN_EINVAL;
        goto out;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(errbuf, errlen, "%s: cannot open the directory: %s", dir, strerror(errno));
        rc = MN_EINVAL;
        goto out;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 5 && !strcmp(de->d_name + l - 5, ".conf")) {
            snprintf(errbuf, errlen, "%s: already holds .conf files (%s); give a new or "
                     "empty directory", dir, de->d_name);
            rc = MN_EINVAL;
            break;
        }
    }
    closedir(d);
    for (size_t i = 0; i < n && rc == MN_OK; i++) {
        char name[300], fpath[4400];
        confd_name(name, sizeof name, &files[i], i, n);
        snprintf(fpath, sizeof fpath, "%s/%s", dir, name);
        FILE *f = fopen(fpath, "wx");
        bool ok = f && fwrite(text[i], 1, tlen[i], f) == tlen[i];
        if (f && fclose(f) != 0)
            ok = false;
        if (!ok) {
            snprintf(errbuf, errlen, "%s: cannot write: %s", fpath, strerror(errno));
            rc = MN_EINVAL;
        }
    }
out:
    for (size_t i = 0; text && i < n; i++)
        free(text[i]);
    free(text);
    free(tlen);
    confd_files_free(files, n);
    return rc;
}
