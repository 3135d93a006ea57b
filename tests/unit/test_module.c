/*
 * test_module.c - the core's half of the plugin ABI (core/module.c and the
 * settings readers of core/hostapi.c), without a running server and
 * without .so files (tests/abi loads real ones):
 *
 *   - hook chains: priority order, registration order among equals, the
 *     first answer other than DEFER ends the chain, refusals;
 *   - the service registry: lookup by name and version, duplicates refused;
 *   - the host API's cfg_* readers over an mn_cfg tree;
 *   - the loader over the static registry: this file defines
 *     mn_static_modules (module.c declares it weak), so mn_modules_load()
 *     finds fake modules "built in" and runs the real checks: ABI, names,
 *     settings against declared options (with file:line), sizes and
 *     durations converted, init/fini order, reload.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgtree.h"
#include "module.h"
#include "opts.h"
#include "server.h"

/* ---- hook chains on hand-made module records ----------------------------- */

static char g_calls[256];       /* which hooks ran, in order */

static void called(const char *what)
{
    strncat(g_calls, what, sizeof g_calls - strlen(g_calls) - 1);
}

typedef struct hook_ud {
    const char *tag;
    modnats_rc  answer;
} hook_ud;

static modnats_rc record_hook(void *ud, modnats_event_hdr *ev)
{
    hook_ud *h = ud;
    assert_int_equal(ev->type, MODNATS_EV_CONNECT);
    called(h->tag);
    return h->answer;
}

static int cleanup(void **state)
{
    (void)state;
    mn_modules_fini();      /* also empties the chains and the registry */
    g_calls[0] = '\0';
    return 0;
}

static modnats_rc run_connect(void)
{
    modnats_conn_event ev;
    memset(&ev, 0, sizeof ev);
    ev.hdr.size = sizeof ev;
    ev.hdr.type = MODNATS_EV_CONNECT;
    g_calls[0] = '\0';
    return mn_hooks_run(MODNATS_EV_CONNECT, &ev.hdr);
}

static void test_hook_order(void **state)
{
    (void)state;
    modnats_module ma = {.name = "a"}, mb = {.name = "b"};
    hook_ud a10 = {"a10 ", MODNATS_DEFER}, b_5 = {"b-5 ", MODNATS_DEFER},
            b10 = {"b10 ", MODNATS_DEFER}, a0 = {"a0 ", MODNATS_DEFER},
            a10bis = {"a10bis ", MODNATS_DEFER};
    assert_false(mn_hooks_any(MODNATS_EV_CONNECT));
    assert_int_equal(run_connect(), MODNATS_DEFER);       /* no hooks: DEFER */
    assert_string_equal(g_calls, "");

    assert_int_equal(mn_module_hook(&ma, MODNATS_EV_CONNECT, 10, record_hook, &a10), MODNATS_OK);
    assert_int_equal(mn_module_hook(&mb, MODNATS_EV_CONNECT, -5, record_hook, &b_5), MODNATS_OK);
    assert_int_equal(mn_module_hook(&mb, MODNATS_EV_CONNECT, 10, record_hook, &b10), MODNATS_OK);
    assert_int_equal(mn_module_hook(&ma, MODNATS_EV_CONNECT, 0, record_hook, &a0), MODNATS_OK);
    assert_int_equal(mn_module_hook(&ma, MODNATS_EV_CONNECT, 10, record_hook, &a10bis),
                     MODNATS_OK);
    assert_true(mn_hooks_any(MODNATS_EV_CONNECT));
    assert_false(mn_hooks_any(MODNATS_EV_AUTH));
    assert_int_equal(mn_hooks[MODNATS_EV_CONNECT].n, 5);
    assert_ptr_equal(mn_hooks[MODNATS_EV_CONNECT].hooks[0].m, &mb);

    /* Lowest number first; equal priorities in registration order. */
    assert_int_equal(run_connect(), MODNATS_DEFER);
    assert_string_equal(g_calls, "b-5 a0 a10 b10 a10bis ");

    /* The first answer other than DEFER ends the chain. */
    a10.answer = MODNATS_DENY;
    assert_int_equal(run_connect(), MODNATS_DENY);
    assert_string_equal(g_calls, "b-5 a0 a10 ");
    a0.answer = MODNATS_OK;
    assert_int_equal(run_connect(), MODNATS_OK);
    assert_string_equal(g_calls, "b-5 a0 ");
    b_5.answer = MODNATS_PENDING;
    assert_int_equal(run_connect(), MODNATS_PENDING);
    assert_string_equal(g_calls, "b-5 ");
    b_5.answer = MODNATS_ERR;
    assert_int_equal(run_connect(), MODNATS_ERR);
    assert_string_equal(g_calls, "b-5 ");

    /* Other events have their own chains. */
    modnats_event_hdr hdr = {sizeof hdr, MODNATS_EV_SHUTDOWN};
    assert_int_equal(mn_hooks_run(MODNATS_EV_SHUTDOWN, &hdr), MODNATS_DEFER);
}

static void test_hook_refused(void **state)
{
    (void)state;
    modnats_module m = {.name = "m"};
    hook_ud u = {"x", MODNATS_DEFER};
    assert_int_equal(mn_module_hook(&m, (modnats_event)0, 0, record_hook, &u), MODNATS_ERR);
    assert_int_equal(mn_module_hook(&m, MODNATS_EV__COUNT, 0, record_hook, &u), MODNATS_ERR);
    assert_int_equal(mn_module_hook(&m, (modnats_event)-1, 0, record_hook, &u), MODNATS_ERR);
    assert_int_equal(mn_module_hook(&m, MODNATS_EV_AUTH, 0, NULL, &u), MODNATS_ERR);
    assert_int_equal(mn_module_hook(NULL, MODNATS_EV_AUTH, 0, record_hook, &u), MODNATS_ERR);
    /* Hooks are registered during init only. */
    m.inited = true;
    assert_int_equal(mn_module_hook(&m, MODNATS_EV_AUTH, 0, record_hook, &u), MODNATS_ERR);
    for (int e = 0; e < MODNATS_EV__COUNT; e++)
        assert_int_equal(mn_hooks[e].n, 0);
}

static void test_services(void **state)
{
    (void)state;
    modnats_module ma = {.name = "a"}, mb = {.name = "b"};
    static const int iface1 = 1, iface2 = 2, iface3 = 3;
    assert_null(mn_service_get("kv", 1));
    assert_int_equal(mn_service_register(&ma, "kv", 1, &iface1), MODNATS_OK);
    assert_int_equal(mn_service_register(&ma, "kv", 2, &iface2), MODNATS_OK);
    /* The same name and version twice: refused, the first one stays. */
    assert_int_equal(mn_service_register(&mb, "kv", 1, &iface3), MODNATS_ERR);
    assert_int_equal(mn_service_register(&ma, "kv", 1, &iface1), MODNATS_ERR);
    assert_int_equal(mn_service_register(&mb, "other", 1, &iface3), MODNATS_OK);
    assert_ptr_equal(mn_service_get("kv", 1), &iface1);
    assert_ptr_equal(mn_service_get("kv", 2), &iface2);
    assert_ptr_equal(mn_service_get("other", 1), &iface3);
    assert_null(mn_service_get("kv", 3));
    assert_null(mn_service_get("KV", 1));            /* names are exact */
    assert_null(mn_service_get("k", 1));
    /* Names are copied. */
    char name[] = "copied";
    assert_int_equal(mn_service_register(&ma, name, 1, &iface1), MODNATS_OK);
    name[0] = 'x';
    assert_ptr_equal(mn_service_get("copied", 1), &iface1);
    assert_null(mn_service_get("xopied", 1));
    /* Bad arguments. */
    assert_int_equal(mn_service_register(&ma, NULL, 1, &iface1), MODNATS_ERR);
    assert_int_equal(mn_service_register(&ma, "", 1, &iface1), MODNATS_ERR);
    assert_int_equal(mn_service_register(&ma, "none", 1, NULL), MODNATS_ERR);
    assert_null(mn_service_get("none", 1));
    /* The host API table hands out the same functions. */
    assert_ptr_equal(mn_host_api.service_get("kv", 2), &iface2);
    assert_int_equal(mn_host_api.service_register(&mb, "kv", 2, &iface3), MODNATS_ERR);

    /* fini empties the registry. */
    mn_modules_fini();
    assert_null(mn_service_get("kv", 1));
    assert_int_equal(mn_service_register(&mb, "kv", 1, &iface3), MODNATS_OK);
    assert_ptr_equal(mn_service_get("kv", 1), &iface3);
}

/* ---- the host API's settings readers ------------------------------------- */

static void test_cfg_readers(void **state)
{
    (void)state;
    const modnats_host_api *api = &mn_host_api;
    assert_int_equal(api->size, sizeof(modnats_host_api));
    assert_int_equal(api->abi_major, MODNATS_ABI_MAJOR);

    mn_cfg *g = mn_cfg_new("m", MN_CFG_GROUP, "f.conf", 1);
    mn_cfg *b = mn_cfg_new("On", MN_CFG_BOOL, "f.conf", 2);
    b->b = true;
    assert_int_equal(mn_cfg_add(g, b), MN_OK);
    assert_int_equal(mn_cfg_set_int(g, "n", -42), MN_OK);
    assert_int_equal(mn_cfg_set_str(g, "s", "str"), MN_OK);
    mn_cfg *l = mn_cfg_new("tags", MN_CFG_LIST, "f.conf", 3);
    assert_int_equal(mn_cfg_set_str(l, NULL, "x"), MN_OK);
    mn_cfg *lone_int = mn_cfg_new(NULL, MN_CFG_INT, "f.conf", 3);
    assert_int_equal(mn_cfg_add(l, lone_int), MN_OK);
    assert_int_equal(mn_cfg_set_str(l, NULL, "z"), MN_OK);
    assert_int_equal(mn_cfg_add(g, l), MN_OK);
    mn_cfg *users = mn_cfg_new("users", MN_CFG_LIST, "f.conf", 4);
    for (int i = 0; i < 2; i++) {
        mn_cfg *u = mn_cfg_new(NULL, MN_CFG_GROUP, "f.conf", 4 + i);
        assert_int_equal(mn_cfg_set_str(u, "user", i ? "b" : "a"), MN_OK);
        assert_int_equal(mn_cfg_add(users, u), MN_OK);
    }
    assert_int_equal(mn_cfg_add(g, users), MN_OK);
    mn_cfg *sub = mn_cfg_new("sub", MN_CFG_GROUP, "f.conf", 6);
    assert_int_equal(mn_cfg_set_int(sub, "k", 7), MN_OK);
    assert_int_equal(mn_cfg_add(g, sub), MN_OK);
    const modnats_config *c = (const modnats_config *)g;

    bool bv = false;
    int64_t iv = 0;
    const char *sv = NULL;
    assert_int_equal(api->cfg_bool(c, "on", &bv), MODNATS_OK);
    assert_true(bv);
    assert_int_equal(api->cfg_int(c, "N", &iv), MODNATS_OK);
    assert_int_equal(iv, -42);
    assert_int_equal(api->cfg_string(c, "s", &sv), MODNATS_OK);
    assert_string_equal(sv, "str");
    /* Absent and mistyped keys, outputs untouched. */
    iv = 5;
    assert_int_equal(api->cfg_int(c, "missing", &iv), MODNATS_ENOTFOUND);
    assert_int_equal(api->cfg_int(c, "s", &iv), MODNATS_ERR);
    assert_int_equal(iv, 5);
    assert_int_equal(api->cfg_bool(c, "n", &bv), MODNATS_ERR);
    assert_int_equal(api->cfg_string(c, "on", &sv), MODNATS_ERR);
    assert_int_equal(api->cfg_string(NULL, "s", &sv), MODNATS_ENOTFOUND);

    /* Lists: a single value reads as a list of one. */
    assert_int_equal(api->cfg_list_len(c, "tags"), 3);
    assert_string_equal(api->cfg_list_string(c, "tags", 0), "x");
    assert_null(api->cfg_list_string(c, "tags", 1));     /* not a string */
    assert_string_equal(api->cfg_list_string(c, "tags", 2), "z");
    assert_null(api->cfg_list_string(c, "tags", 3));
    assert_int_equal(api->cfg_list_len(c, "s"), 1);
    assert_string_equal(api->cfg_list_string(c, "s", 0), "str");
    assert_null(api->cfg_list_string(c, "s", 1));
    assert_int_equal(api->cfg_list_len(c, "missing"), 0);
    assert_null(api->cfg_list_string(c, "missing", 0));

    /* Children: a list of groups by index, a single group at 0. */
    assert_int_equal(api->cfg_list_len(c, "users"), 2);
    const modnats_config *u1 = api->cfg_child(c, "users", 1);
    assert_non_null(u1);
    assert_int_equal(api->cfg_string(u1, "user", &sv), MODNATS_OK);
    assert_string_equal(sv, "b");
    assert_null(api->cfg_child(c, "users", 2));
    const modnats_config *s0 = api->cfg_child(c, "sub", 0);
    assert_int_equal(api->cfg_int(s0, "k", &iv), MODNATS_OK);
    assert_int_equal(iv, 7);
    assert_null(api->cfg_child(c, "sub", 1));
    assert_null(api->cfg_child(c, "tags", 0));          /* strings, not groups */
    assert_null(api->cfg_child(c, "s", 0));
    assert_null(api->cfg_child(c, "missing", 0));
    mn_cfg_free(g);
}

/* ---- the loader, over fake built-in modules ----------------------------- */

typedef struct seen_cfg {
    int64_t     interval, limit, count;
    const char *name;
    size_t      ntags;
    bool        on;
} seen_cfg;
static seen_cfg g_seen;
static int64_t  g_reload_interval;

static const modnats_option fake_opts[] = {
    {"interval", MODNATS_OPT_DURATION, false, "a duration"},
    {"limit", MODNATS_OPT_SIZE, false, "a size"},
    {"count", MODNATS_OPT_INT, false, "an int"},
    {"name", MODNATS_OPT_STRING, false, "a string"},
    {"tags", MODNATS_OPT_STRING_LIST, false, "strings"},
    {"on", MODNATS_OPT_BOOL, false, "a bool"},
    {"sub", MODNATS_OPT_GROUP, false, "a group"},
    {NULL, 0, false, NULL},
};

static hook_ud g_fake_hook = {"fake ", MODNATS_DEFER};
static hook_ud g_needy_hook = {"needy ", MODNATS_DEFER};
static const int g_fake_iface = 42;

static modnats_rc fake_reload(void *ud, modnats_event_hdr *ev)
{
    (void)ud;
    assert_int_equal(ev->type, MODNATS_EV_RELOAD);
    const modnats_reload_event *r = (const modnats_reload_event *)ev;
    g_reload_interval = -1;
    mn_host_api.cfg_int(r->cfg, "interval", &g_reload_interval);
    called("reload ");
    return MODNATS_OK;
}

static modnats_rc fake_init(modnats_module *self, const modnats_host_api *api,
                            const modnats_config *cfg)
{
    called("init:fake ");
    memset(&g_seen, 0, sizeof g_seen);
    g_seen.interval = g_seen.limit = g_seen.count = -1;
    api->cfg_int(cfg, "interval", &g_seen.interval);
    api->cfg_int(cfg, "limit", &g_seen.limit);
    api->cfg_int(cfg, "count", &g_seen.count);
    api->cfg_string(cfg, "name", &g_seen.name);
    api->cfg_bool(cfg, "on", &g_seen.on);
    g_seen.ntags = api->cfg_list_len(cfg, "tags");
    if (api->hook(self, MODNATS_EV_CONNECT, 5, record_hook, &g_fake_hook) != MODNATS_OK ||
        api->hook(self, MODNATS_EV_RELOAD, 0, fake_reload, NULL) != MODNATS_OK ||
        api->service_register(self, "fake.svc", 1, &g_fake_iface) != MODNATS_OK)
        return MODNATS_ERR;
    return MODNATS_OK;
}

static void fake_fini(modnats_module *self)
{
    (void)self;
    called("fini:fake ");
}

static const modnats_option needy_opts[] = {
    {"key", MODNATS_OPT_STRING, true, "required"},
    {NULL, 0, false, NULL},
};

static modnats_rc needy_init(modnats_module *self, const modnats_host_api *api,
                             const modnats_config *cfg)
{
    (void)cfg;
    called("init:needy ");
    /* A service registered by a module loaded earlier is found from init. */
    if (api->service_get("fake.svc", 1) != &g_fake_iface)
        called("(no fake.svc) ");
    return api->hook(self, MODNATS_EV_CONNECT, -1, record_hook, &g_needy_hook);
}

static void needy_fini(modnats_module *self)
{
    (void)self;
    called("fini:needy ");
}

static modnats_rc failing_init(modnats_module *self, const modnats_host_api *api,
                               const modnats_config *cfg)
{
    (void)self; (void)api; (void)cfg;
    called("init:failing ");
    return MODNATS_ERR;
}

#define DESC(var, nm, opts, initfn, finifn, major, minor) \
    static const modnats_module_desc var = { \
        .magic = MODNATS_MODULE_MAGIC, .size = sizeof(modnats_module_desc), \
        .abi_major = major, .abi_minor = minor, .name = nm, .version = "1.2.3", \
        .description = "a fake module", .options = opts, .init = initfn, .fini = finifn }

DESC(fake_desc, "fake", fake_opts, fake_init, fake_fini, MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR);
DESC(needy_desc, "needy", needy_opts, needy_init, needy_fini, MODNATS_ABI_MAJOR, 0);
DESC(failing_desc, "failing", NULL, failing_init, NULL, MODNATS_ABI_MAJOR, 0);
DESC(badabi_desc, "badabi", NULL, failing_init, NULL, MODNATS_ABI_MAJOR + 1, 0);
DESC(newer_desc, "newer", NULL, failing_init, NULL, MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR + 1);
DESC(liar_desc, "other", NULL, failing_init, NULL, MODNATS_ABI_MAJOR, 0);
DESC(noinit_desc, "noinit", NULL, NULL, NULL, MODNATS_ABI_MAJOR, 0);
static const modnats_module_desc badmagic_desc = {
    .magic = 0x12345678, .size = sizeof(modnats_module_desc), .abi_major = MODNATS_ABI_MAJOR,
    .name = "badmagic", .init = failing_init };

static const modnats_module_desc *fake_entry(void) { return &fake_desc; }
static const modnats_module_desc *needy_entry(void) { return &needy_desc; }
static const modnats_module_desc *failing_entry(void) { return &failing_desc; }
static const modnats_module_desc *badabi_entry(void) { return &badabi_desc; }
static const modnats_module_desc *newer_entry(void) { return &newer_desc; }
static const modnats_module_desc *liar_entry(void) { return &liar_desc; }
static const modnats_module_desc *noinit_entry(void) { return &noinit_desc; }
static const modnats_module_desc *badmagic_entry(void) { return &badmagic_desc; }
static const modnats_module_desc *null_entry(void) { return NULL; }

/* The registry module.c looks up (its declaration there is weak). */
typedef struct mn_static_module {
    const char      *name;
    modnats_entry_fn entry;
} mn_static_module;
extern const mn_static_module mn_static_modules[];
const mn_static_module mn_static_modules[] = {
    {"fake", fake_entry}, {"needy", needy_entry}, {"failing", failing_entry},
    {"badabi", badabi_entry}, {"newer", newer_entry}, {"liar", liar_entry},
    {"noinit", noinit_entry}, {"badmagic", badmagic_entry}, {"null", null_entry},
    {NULL, NULL},
};

typedef struct loader {
    mn_server srv;
    char      err[512];
} loader;

static int loader_setup(void **state)
{
    loader *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    mn_opts_defaults(&l->srv.opts);
    l->srv.opts.module_cfg = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    g_calls[0] = '\0';
    *state = l;
    return 0;
}

static int loader_teardown(void **state)
{
    loader *l = *state;
    mn_modules_fini();
    mn_opts_free(&l->srv.opts);
    free(l);
    g_calls[0] = '\0';
    return 0;
}

static void want_module(loader *l, const char *name)
{
    mn_opts *o = &l->srv.opts;
    o->modules = realloc(o->modules, ((size_t)o->nmodules + 1) * sizeof *o->modules);
    assert_non_null(o->modules);
    o->modules[o->nmodules++] = strdup(name);
}

/* Adds `key` to module's group, written at f.conf:line. */
static mn_cfg *setting(loader *l, const char *module, const char *key, mn_cfg_type t, int line)
{
    mn_cfg *g = mn_cfg_get(l->srv.opts.module_cfg, module);
    if (!g) {
        g = mn_cfg_new(module, MN_CFG_GROUP, "f.conf", 1);
        assert_int_equal(mn_cfg_add(l->srv.opts.module_cfg, g), MN_OK);
    }
    mn_cfg *v = mn_cfg_new(key, t, "f.conf", line);
    assert_int_equal(mn_cfg_add(g, v), MN_OK);
    return v;
}

static void set_s(mn_cfg *v, const char *s)
{
    v->s = strdup(s);
}

static void test_load_and_fini(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    want_module(l, "needy");
    set_s(setting(l, "fake", "interval", MN_CFG_STRING, 2), "1m30s");
    set_s(setting(l, "fake", "limit", MN_CFG_STRING, 3), "64KB");
    setting(l, "fake", "count", MN_CFG_INT, 4)->i = -3;
    set_s(setting(l, "fake", "Name", MN_CFG_STRING, 5), "n");
    setting(l, "fake", "on", MN_CFG_BOOL, 6)->b = true;
    set_s(setting(l, "fake", "tags", MN_CFG_STRING, 7), "one");     /* a list of one */
    setting(l, "fake", "sub", MN_CFG_LIST, 8);
    set_s(setting(l, "needy", "key", MN_CFG_STRING, 9), "k");

    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_OK);
    assert_string_equal(g_calls, "init:fake init:needy ");
    assert_int_equal(g_seen.interval, 90000);    /* read as milliseconds */
    assert_int_equal(g_seen.limit, 65536);
    assert_int_equal(g_seen.count, -3);
    assert_string_equal(g_seen.name, "n");
    assert_true(g_seen.on);
    assert_int_equal(g_seen.ntags, 1);
    /* The options' own tree is not converted in place. */
    assert_int_equal(mn_cfg_get(mn_cfg_get(l->srv.opts.module_cfg, "fake"), "interval")->type,
                     MN_CFG_STRING);

    /* Hooks from both, in priority order across modules. */
    assert_int_equal(run_connect(), MODNATS_DEFER);
    assert_string_equal(g_calls, "needy fake ");
    assert_ptr_equal(mn_service_get("fake.svc", 1), &g_fake_iface);

    /* fini in reverse order, then nothing is left. */
    g_calls[0] = '\0';
    mn_modules_fini();
    assert_string_equal(g_calls, "fini:needy fini:fake ");
    assert_false(mn_hooks_any(MODNATS_EV_CONNECT));
    assert_null(mn_service_get("fake.svc", 1));
}

static void test_durations_and_sizes(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    setting(l, "fake", "interval", MN_CFG_INT, 2)->i = 3;            /* seconds */
    setting(l, "fake", "limit", MN_CFG_INT, 3)->i = 1000;
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_OK);
    assert_int_equal(g_seen.interval, 3000);
    assert_int_equal(g_seen.limit, 1000);
    assert_int_equal(g_seen.count, -1);                              /* absent */
    mn_modules_fini();

    setting(l, "fake", "interval", MN_CFG_FLOAT, 2)->d = 0.25;
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_OK);
    assert_int_equal(g_seen.interval, 250);
    mn_modules_fini();

    g_calls[0] = '\0';
    set_s(setting(l, "fake", "interval", MN_CFG_STRING, 2), "soon");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:2: module fake: \"interval\" must be a duration "
                        "(seconds or \"2s\")");
    setting(l, "fake", "interval", MN_CFG_INT, 2)->i = -1;
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:2: module fake: \"interval\" must be a duration "
                        "(seconds or \"2s\")");
    setting(l, "fake", "interval", MN_CFG_INT, 2)->i = 0;
    set_s(setting(l, "fake", "limit", MN_CFG_STRING, 3), "lots");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:3: module fake: \"limit\" must be a size "
                        "(integer or \"64KB\")");
    assert_string_equal(g_calls, "");                 /* no init ran */
}

/* A duration too large for milliseconds must be refused with file:line,
 * not overflow. */
static void test_duration_overflow(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    /* 18446744073709552 s * 1000 wraps to 384 ms. */
    setting(l, "fake", "interval", MN_CFG_INT, 2)->i = 18446744073709552LL;
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:2: module fake: \"interval\" must be a duration "
                        "(seconds or \"2s\")");
}

static void test_settings_refused(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    want_module(l, "needy");
    set_s(setting(l, "needy", "key", MN_CFG_STRING, 9), "k");

    setting(l, "fake", "bogus", MN_CFG_INT, 4);
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:4: module fake has no option \"bogus\"");
    mn_cfg *g = mn_cfg_get(l->srv.opts.module_cfg, "fake");
    mn_cfg_free(g->kids[--g->nkids]);

    static const struct { const char *key; mn_cfg_type t; const char *want; } bad[] = {
        {"on", MN_CFG_STRING, "a boolean"},
        {"count", MN_CFG_STRING, "an integer"},
        {"count", MN_CFG_FLOAT, "an integer"},
        {"name", MN_CFG_INT, "a string"},
        {"tags", MN_CFG_INT, "a list of strings"},
        {"sub", MN_CFG_STRING, "a group"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mn_cfg *v = setting(l, "fake", bad[i].key, bad[i].t, 20 + (int)i);
        if (bad[i].t == MN_CFG_STRING)
            set_s(v, "x");
        char want[256];
        snprintf(want, sizeof want, "f.conf:%d: module fake: \"%s\" must be %s", 20 + (int)i,
                 bad[i].key, bad[i].want);
        assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
        assert_string_equal(l->err, want);
        mn_cfg_free(g->kids[--g->nkids]);
    }
    /* a list of strings with a number in it */
    mn_cfg *tags = setting(l, "fake", "tags", MN_CFG_LIST, 30);
    assert_int_equal(mn_cfg_set_str(tags, NULL, "a"), MN_OK);
    assert_int_equal(mn_cfg_add(tags, mn_cfg_new(NULL, MN_CFG_INT, "f.conf", 30)), MN_OK);
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:30: module fake: \"tags\" must be a list of strings");
    mn_cfg_free(g->kids[--g->nkids]);

    /* A required option missing. */
    mn_cfg *ng = mn_cfg_get(l->srv.opts.module_cfg, "needy");
    mn_cfg_free(ng->kids[--ng->nkids]);
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:1: module needy needs option \"key\"");

    /* Settings for a module nobody listed. */
    set_s(setting(l, "needy", "key", MN_CFG_STRING, 9), "k");
    mn_cfg *ghost = mn_cfg_new("ghost", MN_CFG_GROUP, "g.conf", 12);
    assert_int_equal(mn_cfg_add(l->srv.opts.module_cfg, ghost), MN_OK);
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "g.conf:12: settings for module \"ghost\", which is not in "
                        "the modules list");
    assert_string_equal(g_calls, "");                 /* no init ran */
    assert_false(mn_hooks_any(MODNATS_EV_CONNECT));
}

static void test_required_without_group(void **state)
{
    loader *l = *state;
    want_module(l, "needy");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_non_null(strstr(l->err, "module needy needs option \"key\""));
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define OFFERS "this modnats offers ABI " STR(MODNATS_ABI_MAJOR) "." STR(MODNATS_ABI_MINOR) \
               " (same major, minor not newer needed)"

static void test_descriptor_refused(void **state)
{
    loader *l = *state;
    char badabi[200], newer[200];
    /* the versions follow the header (ABI 1.1 broke the literal 1.0) */
    snprintf(badabi, sizeof badabi, "module badabi: (built in): built for plugin ABI %d.0, "
             OFFERS, MODNATS_ABI_MAJOR + 1);
    snprintf(newer, sizeof newer, "module newer: (built in): built for plugin ABI %d.%d, "
             OFFERS, MODNATS_ABI_MAJOR, MODNATS_ABI_MINOR + 1);
    const struct { const char *name, *want; } t[] = {
        {"badabi", badabi},
        {"newer", newer},
        {"liar", "module liar: (built in): the file holds module \"other\""},
        {"noinit", "module noinit: (built in): descriptor without a valid name or init"},
        {"badmagic", "module badmagic: (built in): the entry point returned no valid module "
                     "descriptor"},
        {"null", "module null: (built in): the entry point returned no valid module "
                 "descriptor"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        mn_opts_free(&l->srv.opts);
        mn_opts_defaults(&l->srv.opts);
        want_module(l, "fake");
        want_module(l, t[i].name);
        assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_ERR);
        assert_string_equal(l->err, t[i].want);
        assert_string_equal(g_calls, "");   /* fake was opened, never inited */
    }
}

static void test_not_found_and_twice(void **state)
{
    loader *l = *state;
    l->srv.opts.module_path = strdup("/nonexistent/modules");
    want_module(l, "nope");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_ENOTFOUND);
    assert_string_equal(l->err, "module nope: /nonexistent/modules/nope.so: file not found");

    mn_opts_free(&l->srv.opts);
    mn_opts_defaults(&l->srv.opts);
    want_module(l, "bad name");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "module \"bad name\": not a valid module name");

    mn_opts_free(&l->srv.opts);
    mn_opts_defaults(&l->srv.opts);
    want_module(l, "fake");
    want_module(l, "fake");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "module fake: (built in): loaded twice");
    assert_string_equal(g_calls, "");
}

static void test_init_failure_unwinds(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    want_module(l, "failing");
    want_module(l, "needy");
    set_s(setting(l, "needy", "key", MN_CFG_STRING, 9), "k");
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_ERR);
    assert_string_equal(l->err, "module failing: (built in): init failed (see the lines above)");
    /* fake was initialised and is finalised; needy never started. */
    assert_string_equal(g_calls, "init:fake init:failing fini:fake ");
    assert_false(mn_hooks_any(MODNATS_EV_CONNECT));
    assert_null(mn_service_get("fake.svc", 1));
}

static void test_reload(void **state)
{
    loader *l = *state;
    want_module(l, "fake");
    setting(l, "fake", "interval", MN_CFG_INT, 2)->i = 1;
    assert_int_equal(mn_modules_load(&l->srv, l->err, sizeof l->err), MN_OK);

    /* New settings: validated, converted, handed to the RELOAD hook. */
    mn_opts fresh;
    mn_opts_defaults(&fresh);
    fresh.module_cfg = mn_cfg_new(NULL, MN_CFG_GROUP, NULL, 0);
    mn_cfg *g = mn_cfg_new("fake", MN_CFG_GROUP, "f.conf", 1);
    mn_cfg_add(fresh.module_cfg, g);
    mn_cfg *iv = mn_cfg_new("interval", MN_CFG_STRING, "f.conf", 2);
    iv->s = strdup("5s");
    mn_cfg_add(g, iv);
    g_calls[0] = '\0';
    assert_int_equal(mn_modules_reload(&fresh, l->err, sizeof l->err), MN_OK);
    assert_string_equal(g_calls, "reload ");
    assert_int_equal(g_reload_interval, 5000);

    /* A bad group: nothing applied, no hook runs. */
    free(iv->s);
    iv->s = strdup("never");
    g_calls[0] = '\0';
    assert_int_equal(mn_modules_reload(&fresh, l->err, sizeof l->err), MN_EINVAL);
    assert_string_equal(l->err, "f.conf:2: module fake: \"interval\" must be a duration "
                        "(seconds or \"2s\")");
    assert_string_equal(g_calls, "");

    /* No group at all: the hook sees an empty one. */
    mn_opts_free(&fresh);
    mn_opts_defaults(&fresh);
    assert_int_equal(mn_modules_reload(&fresh, l->err, sizeof l->err), MN_OK);
    assert_int_equal(g_reload_interval, -1);
    mn_opts_free(&fresh);
}

int main(void)
{
#define H(name) cmocka_unit_test_teardown(name, cleanup)
#define L(name) cmocka_unit_test_setup_teardown(name, loader_setup, loader_teardown)
    const struct CMUnitTest tests[] = {
        H(test_hook_order),
        H(test_hook_refused),
        H(test_services),
        H(test_cfg_readers),
        L(test_load_and_fini),
        L(test_durations_and_sizes),
        L(test_duration_overflow),
        L(test_settings_refused),
        L(test_required_without_group),
        L(test_descriptor_refused),
        L(test_not_found_and_twice),
        L(test_init_failure_unwinds),
        L(test_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
