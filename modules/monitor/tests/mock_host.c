/*
 * mock_host.c - loads monitor.so into a fake core, for testing the module
 * without the server: a host API whose stats and conns_foreach return
 * fixed data (two clients, three subscriptions).
 *
 *   mock_host path/to/monitor.so PORT [seconds]
 *
 * Exits 0 after `seconds` (default 2) with fini run, 3 when init failed
 * (e.g. the port is taken), 2 on usage or load errors.  monitor.mockhost
 * runs it on a taken port and on a free one.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modnats/modnats.h>

struct modnats_config { int port; };

static void mock_log(modnats_module *m, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[mock %d] ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static modnats_rc mock_cfg_int(const modnats_config *c, const char *key, int64_t *out)
{
    if (strcmp(key, "port") != 0)
        return MODNATS_ENOTFOUND;
    *out = c->port;
    return MODNATS_OK;
}

static modnats_rc mock_cfg_string(const modnats_config *c, const char *key, const char **out)
{
    if (strcmp(key, "host") != 0)
        return MODNATS_ENOTFOUND;
    *out = "127.0.0.1";
    return MODNATS_OK;
}

static modnats_rc mock_stats(modnats_stats *s)
{
    s->server_id = "NMOCKSERVER";
    s->server_name = "mock";
    s->version = "0.1.0";
    s->compat_version = "2.10.0";
    s->host = "0.0.0.0";
    s->port = 4222;
    s->max_payload = 1048576;
    s->max_control_line = 4096;
    s->max_pending = 67108864;
    s->max_connections = 65536;
    s->ping_interval_ms = 120000;
    s->ping_max = 2;
    s->auth_timeout_ms = 2000;
    s->write_deadline_ms = 10000;
    s->start_unix_ms = 1795307693000ull;
    s->io_threads = 2;
    s->in_msgs = 1; s->in_bytes = 5; s->out_msgs = 2; s->out_bytes = 10;
    s->connections = 2; s->total_connections = 3;
    s->subscriptions = 3; s->sublist_inserts = 3; s->sublist_matches = 4; s->sublist_cache_hits = 1;
    return MODNATS_OK;
}

static modnats_rc mock_conns(bool with_subs, void (*fn)(void *, const modnats_conn_info *), void *ud)
{
    static const char *const subs_a[] = { "foo", "bar.>", NULL };
    static const char *const subs_b[] = { "foo q1", NULL };
    modnats_conn_info a = { .size = sizeof(a), .cid = 1, .kind = "Client", .ip = "127.0.0.1",
                            .port = 50001, .name = "a", .lang = "C", .version = "3.4.1",
                            .account = "$G", .start_unix_ms = 1795307694000ull,
                            .last_activity_unix_ms = 1795307695123ull, .out_msgs = 1,
                            .out_bytes = 5, .subscriptions = 2, .rtt_us = 430 };
    modnats_conn_info b = a;
    b.cid = 2; b.port = 50002; b.name = "b<&>"; b.subscriptions = 1; b.in_msgs = 1; b.in_bytes = 5;
    b.rtt_us = 1500;
    if (with_subs) {
        a.subs = subs_a;
        b.subs = subs_b;
    }
    fn(ud, &a);
    fn(ud, &b);
    return MODNATS_OK;
}

static const char *mock_id(void) { return "NMOCKSERVER"; }
static modnats_account *mock_acc(const char *name) { return NULL; }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mock_host monitor.so PORT [seconds]\n");
        return 2;
    }
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 2;
    }
    modnats_entry_fn entry = (modnats_entry_fn)dlsym(h, MODNATS_ENTRY_SYMBOL);
    if (!entry) {
        fprintf(stderr, "no entry point\n");
        return 2;
    }
    const modnats_module_desc *d = entry();
    modnats_host_api api = { .size = sizeof(api), .abi_major = MODNATS_ABI_MAJOR,
                             .abi_minor = MODNATS_ABI_MINOR, .server_version = "0.1.0",
                             .log = mock_log, .cfg_int = mock_cfg_int,
                             .cfg_string = mock_cfg_string, .stats = mock_stats,
                             .conns_foreach = mock_conns, .server_id = mock_id,
                             .server_name = mock_id, .account_get = mock_acc };
    modnats_config cfg = { atoi(argv[2]) };
    if (d->init((modnats_module *)&api, &api, &cfg) != MODNATS_OK)
        return 3;
    printf("ready\n");
    fflush(stdout);
    sleep(argc > 3 ? (unsigned)atoi(argv[3]) : 2);
    if (d->fini)
        d->fini((modnats_module *)&api);
    return 0;
}
