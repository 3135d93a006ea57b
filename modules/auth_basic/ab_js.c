/*
 * ab_js.c - an account's `jetstream` setting (nats-server's syntax) and
 * the "jetstream.accounts.config" service that hands it to the jetstream
 * module (modules/jetstream/js_accounts.h):
 *
 *   accounts = { A = { jetstream = "enabled"; users = (...); };
 *                B = { jetstream = { max_mem = "1G"; max_file = "10G";
 *                                    max_streams = 10; max_consumers = 100;
 *                                    max_ack_pending = 1000;
 *                                    max_bytes_required = true;
 *                                    mem_max_stream_bytes = "100MB";
 *                                    disk_max_stream_bytes = "1G"; }; }; };
 *
 * As nats-server: once accounts other than the system account are
 * declared, only those with JetStream enabled have it (the global account
 * too loses it); with none declared this module leaves the decision to
 * the jetstream module (the global account has JetStream).
 */
#include "ab.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A size as a string: "1G" (10^9), "512MB" (2^29), "100": the units of
 * nats-server's unquoted sizes, which the core reads as numbers already. */
static bool parse_size(const char *s, int64_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s)
        return false;
    int e = 0;
    switch (toupper((unsigned char)*end)) {
    case 0: break;
    case 'K': e = 1; end++; break;
    case 'M': e = 2; end++; break;
    case 'G': e = 3; end++; break;
    case 'T': e = 4; end++; break;
    default: return false;
    }
    bool binary = e && toupper((unsigned char)*end) == 'B';
    if (binary)
        end++;
    if (*end || v < -1 || (e && v < 0))
        return false;
    int64_t r = v;
    for (int i = 0; i < e; i++) {
        int64_t unit = binary ? 1024 : 1000;
        if (r > INT64_MAX / unit)
            return false;
        r *= unit;
    }
    *out = r;
    return true;
}

static size_t fail(const modnats_host_api *api, modnats_module *self,
                   const modnats_config *g, const char *key, const char *fmt, const char *arg)
{
    char where[200], msg[300];
    if (MODNATS_HAS(api, cfg_where))
        api->cfg_where(g, key, where, sizeof where);
    else
        snprintf(where, sizeof where, "configuration");
    snprintf(msg, sizeof msg, fmt, arg);
    api->log(self, MODNATS_LOG_ERROR, "%s: %s", where, msg);
    return 1;
}

/* The limits group: nats-server's keys and aliases. */
static size_t read_limits(const modnats_host_api *api, modnats_module *self,
                          const modnats_config *g, js_account_limits *l)
{
    static const struct { const char *k[4]; size_t off; } nums[] = {
        { { "max_memory", "max_mem", "mem", "memory" }, offsetof(js_account_limits, max_memory) },
        { { "max_store", "max_file", "max_disk", "store" }, offsetof(js_account_limits, max_storage) },
        { { "disk", NULL, NULL, NULL }, offsetof(js_account_limits, max_storage) },
        { { "max_streams", "streams", NULL, NULL }, offsetof(js_account_limits, max_streams) },
        { { "max_consumers", "consumers", NULL, NULL }, offsetof(js_account_limits, max_consumers) },
        { { "max_ack_pending", NULL, NULL, NULL }, offsetof(js_account_limits, max_ack_pending) },
        { { "mem_max_stream_bytes", "memory_max_stream_bytes", NULL, NULL },
          offsetof(js_account_limits, memory_max_stream_bytes) },
        { { "disk_max_stream_bytes", "store_max_stream_bytes", NULL, NULL },
          offsetof(js_account_limits, storage_max_stream_bytes) },
    };
    static const char *const bools[] = { "max_bytes_required", "max_stream_bytes", "max_bytes" };
    size_t errs = 0;
    const char *k;
    for (size_t i = 0; MODNATS_HAS(api, cfg_key) && (k = api->cfg_key(g, i)) != NULL; i++) {
        bool done = false;
        for (size_t b = 0; b < sizeof bools / sizeof bools[0] && !done; b++) {
            if (strcasecmp(k, bools[b]) != 0)
                continue;
            done = true;
            if (api->cfg_bool(g, k, &l->max_bytes_required) != MODNATS_OK)
                errs += fail(api, self, g, k, "jetstream.%s must be true or false", k);
        }
        for (size_t n = 0; n < sizeof nums / sizeof nums[0] && !done; n++) {
            for (size_t a = 0; a < 4 && nums[n].k[a] && !done; a++) {
                if (strcasecmp(k, nums[n].k[a]) != 0)
                    continue;
                done = true;
                int64_t v;
                const char *s;
                if (api->cfg_int(g, k, &v) == MODNATS_OK && v >= -1) {
                    *(int64_t *)(void *)((char *)l + nums[n].off) = v;
                } else if (api->cfg_string(g, k, &s) == MODNATS_OK && parse_size(s, &v)) {
                    *(int64_t *)(void *)((char *)l + nums[n].off) = v;
                } else {
                    errs += fail(api, self, g, k,
                                 "jetstream.%s must be a number or a size such as \"1G\" "
                                 "(-1: unlimited)", k);
                }
            }
        }
        if (!done)
            errs += fail(api, self, g, k, "jetstream: unknown field \"%s\"", k);
    }
    return errs;
}

size_t ab_js_read(const modnats_host_api *api, modnats_module *self, const modnats_config *a,
                  const char *name, ab_conf *c)
{
    js_account_limits lim = JS_ACCOUNT_LIMITS_UNLIMITED;
    bool enabled, b;
    const char *s;
    const modnats_config *g = api->cfg_child(a, "jetstream", 0);
    size_t errs = 0;
    if (g) {
        enabled = true;
        errs = read_limits(api, self, g, &lim);
    } else if (api->cfg_bool(a, "jetstream", &b) == MODNATS_OK) {
        enabled = b;
    } else if (api->cfg_string(a, "jetstream", &s) == MODNATS_OK) {
        if (!strcasecmp(s, "enabled") || !strcasecmp(s, "enable"))
            enabled = true;
        else if (!strcasecmp(s, "disabled") || !strcasecmp(s, "disable"))
            enabled = false;
        else
            return fail(api, self, a, "jetstream",
                        "expected \"enabled\" or \"disabled\" for jetstream, got \"%s\"", s);
    } else if (api->cfg_list_len(a, "jetstream") > 0) {
        return fail(api, self, a, "jetstream",
                    "jetstream must be \"enabled\", \"disabled\", a boolean or a group%s", "");
    } else {
        return 0;    /* not mentioned: no JetStream once accounts are declared */
    }
    if (errs)
        return errs;
    ab_js *v = realloc(c->js, (c->njs + 1) * sizeof *v);
    if (!v)
        return fail(api, self, a, "jetstream", "out of memory%s", "");
    c->js = v;
    v[c->njs] = (ab_js){ .account = strdup(name), .enabled = enabled, .lim = lim };
    if (!v[c->njs].account)
        return fail(api, self, a, "jetstream", "out of memory%s", "");
    c->njs++;
    return 0;
}

void ab_js_free(ab_conf *c)
{
    for (size_t i = 0; i < c->njs; i++)
        free(c->js[i].account);
    free(c->js);
    c->js = NULL;
    c->njs = 0;
}

js_account_state ab_js_lookup(const ab_conf *c, const char *name, js_account_limits *out)
{
    const char *sys = c->system_account ? c->system_account : "$SYS";
    bool others = false;
    for (size_t i = 0; i < c->accounts.n && !others; i++)
        others = strcmp(c->accounts.v[i], sys) != 0;
    if (!others)
        return JS_ACCOUNT_UNKNOWN;
    for (size_t i = 0; i < c->njs; i++) {
        if (strcmp(c->js[i].account, name) != 0)
            continue;
        if (!c->js[i].enabled)
            return JS_ACCOUNT_DISABLED;
        size_t n = out->size < sizeof *out ? out->size : sizeof *out;
        js_account_limits l = c->js[i].lim;
        l.size = n;
        memcpy(out, &l, n);
        return JS_ACCOUNT_ENABLED;
    }
    return JS_ACCOUNT_DISABLED;
}
