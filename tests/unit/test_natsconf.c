/*
 * test_natsconf.c - the reader for nats-server's config format
 * (core/natsconf.c): every construct nats-server 2.9 accepts, the types it
 * gives values, variables and includes, every error with its
 * "file:line:col:" text; the rule that tells the format from libconfig;
 * loading such files through mn_config_load() (the same keys, the implied
 * modules' groups, refusals of what modnats lacks); and --convert, whose
 * libconfig output must load to the same options.  Each test works in its
 * own mkdtemp() directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* nftw */
#endif
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cfgtree.h"
#include "natsconf.h"
#include "opts.h"

typedef struct fixture {
    char    dir[64];
    char    path[128];
    char    err[1024];
    mn_cfg *tree;
    mn_opts o;
} fixture;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_natsconf.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/nats.conf", f->dir);
    mn_opts_defaults(&f->o);
    *state = f;
    return 0;
}

/* server_tags, freed here until mn_opts_free() frees them (harmless after). */
static void drop_tags(mn_opts *o)
{
    for (int i = 0; i < o->nserver_tags; i++)
        free(o->server_tags[i]);
    free(o->server_tags);
    o->server_tags = NULL;
    o->nserver_tags = 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    mn_cfg_free(f->tree);
    drop_tags(&f->o);
    mn_opts_free(&f->o);
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void put(fixture *f, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", f->dir, name);
    char *slash = strrchr(p, '/');
    *slash = '\0';
    mkdir(p, 0700);
    *slash = '/';
    FILE *fp = fopen(p, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Parse text as the file nats.conf in the test's dir. */
static int parse(fixture *f, const char *text)
{
    mn_cfg_free(f->tree);
    f->tree = NULL;
    put(f, "nats.conf", text);
    return mn_natsconf_parse_file(f->path, &f->tree, f->err, sizeof f->err);
}

static void expect_err(fixture *f, const char *text, const char *msg)
{
    char want[1024];
    assert_int_equal(parse(f, text), MN_EINVAL);
    snprintf(want, sizeof want, "%s:%s", f->path, msg);
    assert_string_equal(f->err, want);
    assert_null(f->tree);
}

/* Load text (as nats.conf) through mn_config_load into fresh options. */
static int load(fixture *f, const char *text)
{
    drop_tags(&f->o);
    mn_opts_free(&f->o);
    mn_opts_defaults(&f->o);
    put(f, "nats.conf", text);
    f->o.config_file = strdup(f->path);
    return mn_config_load(&f->o, f->err, sizeof f->err);
}

static const mn_cfg *get(const mn_cfg *g, const char *name, mn_cfg_type type)
{
    const mn_cfg *n = mn_cfg_get(g, name);
    if (!n)
        fail_msg("no key \"%s\"", name);
    assert_int_equal(n->type, type);
    return n;
}

static void at(const mn_cfg *n, int line, int col)
{
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
}

/* ---- the constructs ----------------------------------------------------- */

static void test_separators(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f,
        "a: 1\n"
        "b = 2\n"
        "c 3\n"
        "  d:4; e=5, f   6\n"
        "g\n  : 7\n"
        "\"quoted key\": 8\n"
        "'sq key' = 9\n"
        "h: 10 # comment\n"
        "i: 11 // comment\n"
        "// whole line\n"
        "# whole line\n"), MN_OK);
    const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "quoted key", "sq key", "h", "i"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(get(f->tree, names[i], MN_CFG_INT)->i, (int64_t)i + 1);
    assert_int_equal(f->tree->nkids, 11);
    at(mn_cfg_get(f->tree, "a"), 1, 1);
    at(mn_cfg_get(f->tree, "d"), 4, 3);
    at(mn_cfg_get(f->tree, "e"), 4, 8);
    at(mn_cfg_get(f->tree, "f"), 4, 13);
    assert_string_equal(mn_cfg_get(f->tree, "a")->file, f->path);
    /* A later key wins. */
    assert_int_equal(parse(f, "port: 1\nport: 2\n"), MN_OK);
    assert_int_equal(f->tree->nkids, 1);
    assert_int_equal(get(f->tree, "port", MN_CFG_INT)->i, 2);
    assert_int_equal(parse(f, ""), MN_OK);
    assert_int_equal(f->tree->nkids, 0);
}

static void test_blocks(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f,
        "authorization {\n"
        "  user: a\n"
        "  password = b\n"
        "  inner { x: 1, y: 2 }\n"
        "  other: {}\n"
        "}\n"
        "cluster: { listen: 127.0.0.1:6222 }\n"
        "one {a: 1; b: 2}\n"), MN_OK);
    const mn_cfg *a = get(f->tree, "authorization", MN_CFG_GROUP);
    at(a, 1, 1);
    assert_string_equal(get(a, "user", MN_CFG_STRING)->s, "a");
    assert_string_equal(get(a, "password", MN_CFG_STRING)->s, "b");
    const mn_cfg *in = get(a, "inner", MN_CFG_GROUP);
    assert_int_equal(get(in, "y", MN_CFG_INT)->i, 2);
    at(mn_cfg_get(in, "y"), 4, 17);
    assert_int_equal(get(a, "other", MN_CFG_GROUP)->nkids, 0);
    assert_string_equal(get(get(f->tree, "cluster", MN_CFG_GROUP), "listen", MN_CFG_STRING)->s,
                        "127.0.0.1:6222");
    assert_int_equal(get(get(f->tree, "one", MN_CFG_GROUP), "b", MN_CFG_INT)->i, 2);

    /* A file wrapped in { }, and a stray '}' at the end, as nats-server. */
    assert_int_equal(parse(f, "{\n  port: 1\n}\n"), MN_OK);
    assert_int_equal(get(f->tree, "port", MN_CFG_INT)->i, 1);
    assert_int_equal(parse(f, "{ port: 1 }"), MN_OK);
    assert_int_equal(parse(f, "port: 1\n}\n\n"), MN_OK);
    assert_int_equal(get(f->tree, "port", MN_CFG_INT)->i, 1);
    assert_int_equal(parse(f, "port: 1\n}\n# trailing comment\n"), MN_OK);
}

static void test_lists(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f,
        "a: [1, 2, 3]\n"
        "b: [\n  x\n  y # c\n  // c\n  z,\n]\n"
        "c = []\n"
        "d [ {user: u1, password: p1}\n    {user: u2, password: p2} ]\n"
        "e: [[1, 2], [3]]\n"
        "routes = [\n  nats-route://127.0.0.1:5245\n  nats://u:p@h:5246\n]\n"), MN_OK);
    const mn_cfg *a = get(f->tree, "a", MN_CFG_LIST);
    assert_int_equal(a->nkids, 3);
    assert_int_equal(a->kids[2]->i, 3);
    assert_null(a->kids[0]->name);
    at(a->kids[1], 1, 8);
    const mn_cfg *b = get(f->tree, "b", MN_CFG_LIST);
    assert_int_equal(b->nkids, 3);
    assert_string_equal(b->kids[1]->s, "y");
    assert_string_equal(b->kids[2]->s, "z");
    at(b->kids[2], 6, 3);
    assert_int_equal(get(f->tree, "c", MN_CFG_LIST)->nkids, 0);
    const mn_cfg *d = get(f->tree, "d", MN_CFG_LIST);
    assert_int_equal(d->nkids, 2);
    assert_string_equal(get(d->kids[1], "password", MN_CFG_STRING)->s, "p2");
    at(mn_cfg_get(d->kids[1], "user"), 10, 6);
    const mn_cfg *e = get(f->tree, "e", MN_CFG_LIST);
    assert_int_equal(e->kids[0]->type, MN_CFG_LIST);
    assert_int_equal(e->kids[0]->kids[1]->i, 2);
    const mn_cfg *r = get(f->tree, "routes", MN_CFG_LIST);
    assert_string_equal(r->kids[0]->s, "nats-route://127.0.0.1:5245");
    assert_string_equal(r->kids[1]->s, "nats://u:p@h:5246");
}

static void test_strings(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f,
        "a: \"x \\\"y\\\" \\\\ \\t\\n\\r \\x41\"\n"
        "b: 'raw \\t \"kept\"'\n"
        "c: bare_word\n"
        "d: nats://user:pass@127.0.0.1:4222\n"
        "e: 127.0.0.1:4222\n"
        "f: \"multi\nline\"\n"
        "g: \"\"\n"
        "h: (\nline one\n  line two\n)\n"
        "i: /var/lib/nats\n"
        "j: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\n"
        "k: \"has # and // inside\"\n"
        "l: foo#bar\n"), MN_OK);
    assert_string_equal(get(f->tree, "a", MN_CFG_STRING)->s, "x \"y\" \\ \t\n\r A");
    assert_string_equal(get(f->tree, "b", MN_CFG_STRING)->s, "raw \\t \"kept\"");
    assert_string_equal(get(f->tree, "c", MN_CFG_STRING)->s, "bare_word");
    assert_string_equal(get(f->tree, "d", MN_CFG_STRING)->s, "nats://user:pass@127.0.0.1:4222");
    assert_string_equal(get(f->tree, "e", MN_CFG_STRING)->s, "127.0.0.1:4222");
    assert_string_equal(get(f->tree, "f", MN_CFG_STRING)->s, "multi\nline");
    assert_string_equal(get(f->tree, "g", MN_CFG_STRING)->s, "");
    assert_string_equal(get(f->tree, "h", MN_CFG_STRING)->s, "\nline one\n  line two");
    at(mn_cfg_get(f->tree, "i"), 13, 1);
    assert_string_equal(get(f->tree, "i", MN_CFG_STRING)->s, "/var/lib/nats");
    assert_string_equal(get(f->tree, "j", MN_CFG_STRING)->s,
                        "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
    assert_string_equal(get(f->tree, "k", MN_CFG_STRING)->s, "has # and // inside");
    assert_string_equal(get(f->tree, "l", MN_CFG_STRING)->s, "foo#bar");
}

static void test_numbers_and_bools(void **state)
{
    fixture *f = *state;
    assert_int_equal(parse(f,
        "i: 42\nn: -7\nfl: 0.5\nnf: -1.25\n"
        "k: 1k\nkb: 1kb\nki: 1Ki\nkib: 1KiB\n"
        "mb: 64MB\nm: 2m\ng: 1G\ntb: 10TB\np: 1p\neb: 1EB\n"
        "dur: 10s\nms: 500ms\nhm: 1h30m\nip: 10.0.0.1\n"
        "t: true\nfa: FALSE\ny: yes\nno: no\non: on\noff: Off\n"
        "date: 2016-05-04T18:53:41Z\n"), MN_OK);
    assert_int_equal(get(f->tree, "i", MN_CFG_INT)->i, 42);
    assert_null(mn_cfg_get(f->tree, "i")->s);
    assert_int_equal(get(f->tree, "n", MN_CFG_INT)->i, -7);
    assert_true(get(f->tree, "fl", MN_CFG_FLOAT)->d == 0.5);
    assert_true(get(f->tree, "nf", MN_CFG_FLOAT)->d == -1.25);
    assert_int_equal(get(f->tree, "k", MN_CFG_INT)->i, 1000);
    assert_int_equal(get(f->tree, "kb", MN_CFG_INT)->i, 1024);
    assert_int_equal(get(f->tree, "ki", MN_CFG_INT)->i, 1024);
    assert_int_equal(get(f->tree, "kib", MN_CFG_INT)->i, 1024);
    assert_int_equal(get(f->tree, "mb", MN_CFG_INT)->i, 64 << 20);
    assert_string_equal(mn_cfg_get(f->tree, "mb")->s, "64MB");   /* as written */
    assert_int_equal(get(f->tree, "m", MN_CFG_INT)->i, 2000000);
    assert_string_equal(mn_cfg_get(f->tree, "m")->s, "2m");
    assert_int_equal(get(f->tree, "g", MN_CFG_INT)->i, 1000000000);
    assert_int_equal(get(f->tree, "tb", MN_CFG_INT)->i, 10LL << 40);
    assert_int_equal(get(f->tree, "p", MN_CFG_INT)->i, 1000000000000000LL);
    assert_int_equal(get(f->tree, "eb", MN_CFG_INT)->i, 1LL << 60);
    assert_string_equal(get(f->tree, "dur", MN_CFG_STRING)->s, "10s");
    assert_string_equal(get(f->tree, "ms", MN_CFG_STRING)->s, "500ms");
    assert_string_equal(get(f->tree, "hm", MN_CFG_STRING)->s, "1h30m");
    assert_string_equal(get(f->tree, "ip", MN_CFG_STRING)->s, "10.0.0.1");
    assert_true(get(f->tree, "t", MN_CFG_BOOL)->b);
    assert_false(get(f->tree, "fa", MN_CFG_BOOL)->b);
    assert_true(get(f->tree, "y", MN_CFG_BOOL)->b);
    assert_false(get(f->tree, "no", MN_CFG_BOOL)->b);
    assert_true(get(f->tree, "on", MN_CFG_BOOL)->b);
    assert_false(get(f->tree, "off", MN_CFG_BOOL)->b);
    assert_string_equal(get(f->tree, "date", MN_CFG_STRING)->s, "2016-05-04T18:53:41Z");
    expect_err(f, "a: 99999999999999999999\n", "1:1: integer 99999999999999999999 is out of range");
    expect_err(f, "a: 9999999EB\n", "1:1: integer 9999999EB is out of range");
    expect_err(f, "a: -x\n", "1:1: expected a digit after '-', got \"-x\"");
}

static void test_variables(void **state)
{
    fixture *f = *state;
    setenv("MN_TEST_NC_PORT", "4333", 1);
    setenv("MN_TEST_NC_LIST", "[a, b]", 1);
    setenv("MN_TEST_NC_WORD", "hello", 1);
    setenv("MN_TEST_NC_LOOP", "$MN_TEST_NC_LOOP", 1);
    assert_int_equal(parse(f,
        "TOP: 1\n"
        "ADMIN = { publish = \">\", subscribe = \">\" }\n"
        "port: $MN_TEST_NC_PORT\n"
        "l: $MN_TEST_NC_LIST\n"
        "w: $MN_TEST_NC_WORD\n"
        "authorization {\n"
        "  TOP: 2\n"
        "  users = [\n"
        "    {user: a, permissions: $ADMIN, n: $TOP}\n"
        "  ]\n"
        "}\n"
        "after: $TOP\n"), MN_OK);
    const mn_cfg *p = get(f->tree, "port", MN_CFG_INT);
    assert_int_equal(p->i, 4333);
    at(p, 3, 1);
    assert_string_equal(p->file, f->path);
    assert_int_equal(get(f->tree, "l", MN_CFG_LIST)->nkids, 2);
    assert_string_equal(get(f->tree, "w", MN_CFG_STRING)->s, "hello");
    const mn_cfg *auth = get(f->tree, "authorization", MN_CFG_GROUP);
    const mn_cfg *u = get(auth, "users", MN_CFG_LIST)->kids[0];
    const mn_cfg *perm = get(u, "permissions", MN_CFG_GROUP);
    assert_string_equal(get(perm, "publish", MN_CFG_STRING)->s, ">");
    assert_false(perm->var_used);
    at(perm, 9, 15);
    assert_int_equal(get(u, "n", MN_CFG_INT)->i, 2);   /* the innermost block first */
    assert_int_equal(get(f->tree, "after", MN_CFG_INT)->i, 1);
    /* The definitions are marked, so the loader does not take them as settings. */
    assert_true(mn_cfg_get(f->tree, "ADMIN")->var_used);
    assert_true(mn_cfg_get(auth, "TOP")->var_used);
    assert_true(mn_cfg_get(f->tree, "TOP")->var_used);
    assert_false(mn_cfg_get(f->tree, "port")->var_used);

    expect_err(f, "a: 1\nb: $NOPE_MN_TEST\n",
               "2:1: variable reference for 'NOPE_MN_TEST' can not be found");
    /* Case matters, and a key is visible only after it is written. */
    expect_err(f, "x: $Y\nY: 1\n", "1:1: variable reference for 'Y' can not be found");
    expect_err(f, "Y: 1\nx: $y\n", "2:1: variable reference for 'y' can not be found");
    assert_int_equal(parse(f, "x: $MN_TEST_NC_LOOP\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, "refer to each other too deeply"));
    expect_err(f, "x: $\n", "1:1: a variable needs a name after '$'");
    unsetenv("MN_TEST_NC_PORT");
    unsetenv("MN_TEST_NC_LIST");
    unsetenv("MN_TEST_NC_WORD");
    unsetenv("MN_TEST_NC_LOOP");
}

static void test_include(void **state)
{
    fixture *f = *state;
    put(f, "inc/auths.conf", "ADMIN = { publish = \">\" }\n\nport: 5\ninclude deeper.conf\n");
    put(f, "inc/deeper.conf", "\n\ndeep: yes\n");
    assert_int_equal(parse(f,
        "port: 1\n"
        "authorization {\n"
        "  include \"inc/auths.conf\"\n"
        "  users = [ {user: a, permissions: $ADMIN} ]\n"
        "}\n"
        "include 'inc/deeper.conf'\n"
        "after: 2\n"), MN_OK);
    const mn_cfg *auth = get(f->tree, "authorization", MN_CFG_GROUP);
    const mn_cfg *admin = get(auth, "ADMIN", MN_CFG_GROUP);
    char want[256];
    snprintf(want, sizeof want, "%s/inc/auths.conf", f->dir);
    assert_string_equal(admin->file, want);
    at(admin, 1, 1);
    assert_int_equal(get(auth, "port", MN_CFG_INT)->i, 5);
    const mn_cfg *deep = get(auth, "deep", MN_CFG_BOOL);
    snprintf(want, sizeof want, "%s/inc/deeper.conf", f->dir);
    assert_string_equal(deep->file, want);   /* relative to the including file */
    at(deep, 3, 1);
    assert_true(get(f->tree, "deep", MN_CFG_BOOL)->b);
    assert_int_equal(get(f->tree, "after", MN_CFG_INT)->i, 2);
    assert_int_equal(get(f->tree, "port", MN_CFG_INT)->i, 1);

    /* Errors inside an included file name that file. */
    put(f, "bad.conf", "\nx: [1,\n");
    assert_int_equal(parse(f, "include bad.conf\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s/bad.conf:2:4: list not terminated (missing ']')", f->dir);
    assert_string_equal(f->err, want);
    assert_int_equal(parse(f, "\n  include missing.conf\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:3: include \"missing.conf\": cannot read %s/missing.conf: "
             "No such file or directory", f->path, f->dir);
    assert_string_equal(f->err, want);
    put(f, "loop.conf", "include loop.conf\n");
    assert_int_equal(parse(f, "include loop.conf\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, "includes nested too deeply"));
}

static void test_errors(void **state)
{
    fixture *f = *state;
    expect_err(f, "port: 1\nfoo: [1,\n", "2:6: list not terminated (missing ']')");
    expect_err(f, "a {\n  b: 1\n", "1:3: block not terminated (missing '}')");
    expect_err(f, "a: \"open\n", "1:4: string not terminated (missing '\"')");
    expect_err(f, "a: 'open\n", "1:4: string not terminated (missing \"'\")");
    expect_err(f, "a: (\nno end\n", "1:4: text block not terminated (a ')' alone on a line)");
    expect_err(f, "a: \"\\q\"\n", "1:5: invalid escape '\\q' (allowed: \\t \\n \\r \\\" \\\\ \\xHH)");
    expect_err(f, "a: \"\\xZZ\"\n", "1:5: expected two hexadecimal digits after '\\x'");
    expect_err(f, "a: \"\\x00\"\n", "1:5: '\\x00' cannot be used in a string");
    expect_err(f, "port: 1 2\n", "1:9: expected a new line, ',' or ';' after the value, got '2'");
    expect_err(f, "port:\n", "1:1: key \"port\" has no value");
    expect_err(f, "port", "1:1: key \"port\" has no value");
    expect_err(f, "\n  = 1\n", "2:3: expected a key, got '='");
    expect_err(f, "a: [1 2]\n", "1:7: expected ',' or ']' after a list element, got '2'");
    expect_err(f, "a: [,]\n", "1:5: unexpected ',' in a list");
    expect_err(f, "port: 1\n}\nx: 1\n", "2:1: unexpected '}' (no block is open)");
    expect_err(f, "a: ,\n", "1:4: expected a value, got ','");
    expect_err(f, "\"a\n", "1:1: key not terminated (missing '\"')");
    char deep[1200] = "a: ";
    for (int i = 0; i < 300; i++)
        strcat(deep, "[");
    expect_err(f, deep, "1:204: blocks and lists nested too deeply");
    put(f, "x", "");
    char want[300];
    snprintf(want, sizeof want, "%s/none.conf", f->dir);
    assert_int_equal(mn_natsconf_parse_file(want, &f->tree, f->err, sizeof f->err), MN_EINVAL);
    assert_non_null(strstr(f->err, "none.conf: cannot open the config file: No such file"));
}

/* ---- telling the formats apart ------------------------------------------ */

static void test_detect(void **state)
{
    (void)state;
    static const struct { const char *text; mn_conf_format want; } cases[] = {
        /* shared syntax reads as libconfig, the native format */
        {"", MN_CONF_LIBCONFIG},
        {"port = 4222;\n", MN_CONF_LIBCONFIG},
        {"port: 4222\nserver_name: \"n1\"\n", MN_CONF_LIBCONFIG},
        {"authorization = { user = \"u\"; password = \"p\"; };\n", MN_CONF_LIBCONFIG},
        {"users = ( { user = \"a\"; } );\n", MN_CONF_LIBCONFIG},
        /* libconfig-only syntax wins outright */
        {"@include \"x.conf\"\nhost: localhost\n", MN_CONF_LIBCONFIG},
        {"/* c */ listen: 127.0.0.1:4222\n", MN_CONF_LIBCONFIG},
        {"max_pending = 5000000000L\nhost localhost\n", MN_CONF_LIBCONFIG},
        {"max_pending = 0x10\nhost localhost\n", MN_CONF_LIBCONFIG},
        {"max_payload = 1.0e6\nhost localhost\n", MN_CONF_LIBCONFIG},
        /* a libconfig file with a nats-server habit stays libconfig */
        {"port = 1;\nauthorization {\n  user = \"u\";\n}\n", MN_CONF_LIBCONFIG},
        {"port = 1;\nport = 2;\n", MN_CONF_LIBCONFIG},
        /* nats-server-only syntax */
        {"authorization {\n  user: a\n}\n", MN_CONF_NATS},
        {"port 4222\n", MN_CONF_NATS},
        {"listen: 127.0.0.1:4222\n", MN_CONF_NATS},
        {"host: localhost\n", MN_CONF_NATS},
        {"max_payload: 64MB\n", MN_CONF_NATS},
        {"max_pending: 5000000000\n", MN_CONF_NATS},
        {"http_port: $PORT\n", MN_CONF_NATS},
        {"include ./other.conf\n", MN_CONF_NATS},
        {"a: 'single'\n", MN_CONF_NATS},
        {"{\n port: 1\n}\n", MN_CONF_NATS},
        {"debug: yes\n", MN_CONF_NATS},
        {"cluster { routes = [\n nats-route://a:1\n ]\n}\n", MN_CONF_NATS},
        {"port 4222; debug true, trace: false\n", MN_CONF_NATS},
        {"p: (\ntext\n)\nh: x\n", MN_CONF_NATS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mn_conf_format got = mn_natsconf_detect(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].want)
            fail_msg("case %zu (%s): got %d", i, cases[i].text, (int)got);
    }
}

/* ---- through mn_config_load --------------------------------------------- */

static void test_load(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
        "# nats-server style\n"
        "listen: 127.0.0.1:4333\n"
        "server_name: n1\n"
        "max_payload: 2MB\n"
        "max_pending: 64MB\n"
        "ping_interval: 2m\n"
        "write_deadline: \"3s\"\n"
        "lame_duck_duration: 30s\n"
        "debug: yes\n"
        "logtime: off\n"
        "http: 127.0.0.1:8333\n"
        "ADMIN = { publish = \">\" }\n"
        "authorization {\n"
        "  PASS: secret\n"
        "  users = [\n"
        "    {user: alice, password: $PASS, permissions: $ADMIN}\n"
        "  ]\n"
        "  timeout: 0.5\n"
        "}\n"
        "no_auth_user: alice\n"), MN_OK);
    mn_opts *o = &f->o;
    assert_string_equal(o->host, "127.0.0.1");
    assert_int_equal(o->port, 4333);
    assert_string_equal(o->server_name, "n1");
    assert_int_equal(o->max_payload, 2 << 20);
    assert_int_equal(o->max_pending, 64 << 20);
    assert_int_equal(o->ping_interval_ms, 120000);   /* the unit as written */
    assert_int_equal(o->write_deadline_ms, 3000);
    assert_int_equal(o->lame_duck_duration_ms, 30000);
    assert_true(o->debug);
    assert_false(o->logtime);
    assert_int_equal(o->http_port, 8333);
    assert_int_equal(o->auth_timeout_ms, 500);
    /* authorization is auth_basic's group, without the variable PASS */
    const mn_cfg *ab = mn_cfg_get(o->module_cfg, "auth_basic");
    assert_non_null(ab);
    assert_null(mn_cfg_get(ab, "PASS"));
    const mn_cfg *u = get(ab, "users", MN_CFG_LIST)->kids[0];
    assert_string_equal(get(u, "password", MN_CFG_STRING)->s, "secret");
    assert_string_equal(get(get(u, "permissions", MN_CFG_GROUP), "publish", MN_CFG_STRING)->s,
                        ">");
    const mn_cfg *nau = get(ab, "no_auth_user", MN_CFG_STRING);
    assert_int_equal(nau->line, 20);
    assert_int_equal(mn_opts_imply_modules(o), MN_OK);
    assert_int_equal(o->nmodules, 2);
    assert_string_equal(o->modules[0], "auth_basic");
    assert_string_equal(o->modules[1], "monitor");
    assert_int_equal(mn_opts_validate(o, f->err, sizeof f->err), MN_OK);

    /* The errors of the key table, with the column. */
    char want[512];
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\n  port: \"x\"\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:3: \"port\" must be an integer", f->path);
    assert_string_equal(f->err, want);
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nprot: 1\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:1: unknown option \"prot\"", f->path);
    assert_string_equal(f->err, want);
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nmax_payload: 65MB\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:1: \"max_payload\" must be between 1 and 67108864",
             f->path);
    assert_string_equal(f->err, want);
}

static void test_load_refusals(void **state)
{
    fixture *f = *state;
    char want[512];
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\ngateway {\n name: A\n}\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:1: \"gateway\" needs the gateway module, which this "
             "build does not have", f->path);
    assert_string_equal(f->err, want);
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nleafnodes { port: 7422 }\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, ":2:1: \"leafnodes\" needs the leafnodes module"));
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nmappings: { a: b }\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2:1: \"mappings\" is a nats-server option that modnats "
             "does not support yet", f->path);
    assert_string_equal(f->err, want);
    /* operator mode keys are the auth_jwt module's (built next to this test) */
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\noperator: /etc/op.jwt\n"
                             "resolver: MEMORY\n"), MN_OK);
    /* Ignored with a warning where that is harmless. */
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\ndisable_sublist_cache: true\n"), MN_OK);
    /* jetstream { } is read: the jetstream module's group where it is
     * installed, else refused by mn_opts_validate. */
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\njetstream {\n store_dir: /tmp/js\n "
                             "max_mem: 1G\n}\n"), MN_OK);
    assert_true(f->o.jetstream);
    assert_string_equal(f->o.store_dir, "/tmp/js");
    if (mn_module_available(&f->o, "jetstream")) {
        assert_int_equal(mn_opts_validate(&f->o, f->err, sizeof f->err), MN_OK);
        assert_int_equal(mn_opts_imply_modules(&f->o), MN_OK);
        const mn_cfg *g = mn_cfg_get(f->o.module_cfg, "jetstream");
        assert_non_null(g);
        assert_string_equal(get(g, "store_dir", MN_CFG_STRING)->s, "/tmp/js");
        assert_non_null(mn_cfg_get(g, "max_mem"));
    } else {
        assert_int_equal(mn_opts_validate(&f->o, f->err, sizeof f->err), MN_EINVAL);
        assert_non_null(strstr(f->err, "needs the jetstream module"));
    }
    /* A variable that is also a setting is still the setting. */
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nmax_payload: 1k\nx: $max_payload\n"),
                     MN_EINVAL);
    assert_non_null(strstr(f->err, "unknown option \"x\""));
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nmax_payload: 1k\n"
                             "max_control_line: $max_payload\n"), MN_OK);
    assert_int_equal(f->o.max_payload, 1000);
    assert_int_equal(f->o.max_control_line, 1000);
}

/* A cluster { } block: the cluster module's group once it is installed;
 * without it, what mn_opts_validate() refuses. */
static void test_load_cluster(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f,
        "listen: 127.0.0.1:4222\n"
        "cluster {\n"
        "  name: c1\n"
        "  listen: 127.0.0.1:6222\n"
        "  authorization { user: ru, password: rp, timeout: 0.5 }\n"
        "  routes = [\n    nats-route://ru:rp@127.0.0.1:6223\n  ]\n"
        "}\n"), MN_OK);
    assert_string_equal(f->o.cluster_url, "127.0.0.1:6222");
    assert_string_equal(f->o.cluster_name, "c1");
    assert_string_equal(f->o.routes, "nats-route://ru:rp@127.0.0.1:6223");
    /* Point the module path at a directory with and without cluster.so. */
    char mp[128];
    snprintf(mp, sizeof mp, "%s/mods", f->dir);
    mkdir(mp, 0700);
    f->o.module_path = strdup(mp);
    assert_int_equal(mn_opts_imply_modules(&f->o), MN_OK);
    for (int i = 0; i < f->o.nmodules; i++)
        if (!strcmp(f->o.modules[i], "cluster"))
            return;     /* a cluster.so is installed in the default dirs */
    put(f, "mods/cluster.so", "");
    mn_opts o2;
    mn_opts_defaults(&o2);
    o2.config_file = strdup(f->path);
    o2.module_path = strdup(mp);
    assert_int_equal(mn_config_load(&o2, f->err, sizeof f->err), MN_OK);
    assert_int_equal(mn_opts_imply_modules(&o2), MN_OK);
    const mn_cfg *g = mn_cfg_get(o2.module_cfg, "cluster");
    assert_non_null(g);
    assert_string_equal(get(g, "listen", MN_CFG_STRING)->s, "127.0.0.1:6222");
    assert_int_equal(get(g, "routes", MN_CFG_LIST)->nkids, 1);
    bool found = false;
    for (int i = 0; i < o2.nmodules; i++)
        found = found || !strcmp(o2.modules[i], "cluster");
    assert_true(found);
    mn_opts_free(&o2);
}

/* libconfig files go through the same trees: @included nodes name the file
 * as the user can open it. */
static void test_libconfig_tree(void **state)
{
    fixture *f = *state;
    put(f, "inc/m.conf", "\nm1 = { a = 1; };\n\nno_auth_user = \"g\";\n");
    if (load(f, "modules = [\"m1\"];\n@include \"inc/m.conf\"\n") != MN_OK)
        fail_msg("%s", f->err);
    const mn_cfg *a = mn_cfg_get(mn_cfg_get(f->o.module_cfg, "m1"), "a");
    char want[256];
    snprintf(want, sizeof want, "%s/inc/m.conf", f->dir);
    assert_non_null(a);
    assert_int_equal(a->line, 2);
    assert_int_equal(a->col, 0);
    assert_string_equal(a->file, want);
    const mn_cfg *nau = mn_cfg_get(mn_cfg_get(f->o.module_cfg, "auth_basic"), "no_auth_user");
    assert_non_null(nau);
    assert_int_equal(nau->line, 4);
    assert_string_equal(nau->file, want);
    /* and their errors keep libconfig's "file:line: problem" */
    assert_int_equal(load(f, "port = 1;\nbogus = 2;\n"), MN_EINVAL);
    snprintf(want, sizeof want, "%s:2: unknown option \"bogus\"", f->path);
    assert_string_equal(f->err, want);
}

/* ---- --convert ---------------------------------------------------------- */

static char *convert(fixture *f, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    assert_non_null(out);
    *rc = mn_config_convert(f->path, out, f->err, sizeof f->err);
    fclose(out);
    return buf;
}

static void test_convert(void **state)
{
    fixture *f = *state;
    const char *text =
        "listen: 127.0.0.1:4333\n"
        "max_payload: 2MB\n"
        "ping_interval: 2m\n"
        "debug: yes\n"
        "http: 127.0.0.1:8333\n"
        "ROLE = { publish = [\"a\", \"b\"], subscribe = \">\" }\n"
        "authorization {\n"
        "  users = [\n"
        "    {user: alice, password: \"p \\\"q\\\"\", permissions: $ROLE}\n"
        "    {user: bob, password: x}\n"
        "  ]\n"
        "  timeout: 1m\n"
        "}\n"
        "max_pending: 5GB\n";
    put(f, "nats.conf", text);
    int rc;
    char *out = convert(f, &rc);
    assert_int_equal(rc, MN_OK);
    assert_non_null(strstr(out, "listen = \"127.0.0.1:4333\";\n"));
    assert_non_null(strstr(out, "ping_interval = \"2m\";\n"));
    assert_non_null(strstr(out, "max_pending = 5368709120L /* 5GB */;\n"));
    assert_non_null(strstr(out, "password = \"p \\\"q\\\"\";"));
    assert_null(strstr(out, "ROLE"));
    assert_int_equal(mn_natsconf_detect(out, strlen(out)), MN_CONF_LIBCONFIG);

    /* The libconfig output loads to the same options and module groups. */
    assert_int_equal(load(f, text), MN_OK);
    mn_opts a = f->o;
    mn_opts_defaults(&f->o);
    put(f, "nats.conf", out);
    mn_opts b;
    mn_opts_defaults(&b);
    b.config_file = strdup(f->path);
    assert_int_equal(mn_config_load(&b, f->err, sizeof f->err), MN_OK);
    assert_string_equal(a.host, b.host);
    assert_int_equal(a.port, b.port);
    assert_int_equal(a.max_payload, b.max_payload);
    assert_int_equal(a.max_pending, b.max_pending);
    assert_int_equal(a.ping_interval_ms, b.ping_interval_ms);
    assert_int_equal(a.ping_interval_ms, 120000);
    assert_int_equal(a.auth_timeout_ms, b.auth_timeout_ms);
    assert_int_equal(a.http_port, b.http_port);
    assert_int_equal(a.debug, b.debug);
    const mn_cfg *ua = mn_cfg_get(mn_cfg_get(a.module_cfg, "auth_basic"), "users");
    const mn_cfg *ub = mn_cfg_get(mn_cfg_get(b.module_cfg, "auth_basic"), "users");
    assert_int_equal(ua->nkids, ub->nkids);
    assert_string_equal(mn_cfg_get(ua->kids[0], "password")->s,
                        mn_cfg_get(ub->kids[0], "password")->s);
    const mn_cfg *pa = mn_cfg_get(mn_cfg_get(ua->kids[0], "permissions"), "publish");
    const mn_cfg *pb = mn_cfg_get(mn_cfg_get(ub->kids[0], "permissions"), "publish");
    assert_int_equal(pa->nkids, pb->nkids);
    assert_string_equal(pa->kids[1]->s, pb->kids[1]->s);
    mn_opts_free(&a);
    mn_opts_free(&b);
    free(out);

    /* A file that does not load is not converted; nor a key libconfig
     * cannot name. */
    put(f, "nats.conf", "listen: 127.0.0.1:4333\nbogus: 1\n");
    out = convert(f, &rc);
    assert_int_equal(rc, MN_EINVAL);
    assert_non_null(strstr(f->err, ":2:1: unknown option \"bogus\""));
    free(out);
    put(f, "nats.conf", "listen: 127.0.0.1:4333\nmodules: [m]\nm { \"a.b\": 1 }\n");
    out = convert(f, &rc);
    assert_int_equal(rc, MN_EINVAL);
    assert_non_null(strstr(f->err, ":3:5: the key \"a.b\" cannot be written in libconfig"));
    free(out);
}

/* no_header_support and server_tags: read as nats-server reads them. */
static void test_headers_and_tags(void **state)
{
    fixture *f = *state;
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\n"), MN_OK);
    assert_false(f->o.no_header_support);
    assert_int_equal(f->o.nserver_tags, 0);
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nno_header_support: true\n"
                             "server_tags: [\"AZ:1\", \" ssd \", az:1, \"\"]\n"), MN_OK);
    assert_true(f->o.no_header_support);
    assert_int_equal(f->o.nserver_tags, 2);
    assert_string_equal(f->o.server_tags[0], "az:1");
    assert_string_equal(f->o.server_tags[1], "ssd");
    /* One string is one tag; a later file's list replaces an earlier one. */
    assert_int_equal(load(f, "server_tags: \"Big:One \"\nno_header_support: no\n"), MN_OK);
    assert_false(f->o.no_header_support);
    assert_int_equal(f->o.nserver_tags, 1);
    assert_string_equal(f->o.server_tags[0], "big:one");
    /* The native format too. */
    assert_int_equal(load(f, "server_tags = [\"x\", \"Y\"];\nno_header_support = true;\n"),
                     MN_OK);
    assert_true(f->o.no_header_support);
    assert_int_equal(f->o.nserver_tags, 2);
    assert_string_equal(f->o.server_tags[1], "y");
    /* Refusals, with the place. */
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nserver_tags: [a, 1]\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, "nats.conf:2:18: \"server_tags\" must be a list of strings"));
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nserver_tags: {a: 1}\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, "nats.conf:2:1: \"server_tags\" must be a list of strings"));
    assert_int_equal(load(f, "listen: 127.0.0.1:4222\nno_header_support: maybe\n"), MN_EINVAL);
    assert_non_null(strstr(f->err, "nats.conf:2:1: \"no_header_support\""));
}

static char *slurp_file(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 65536);
    assert_non_null(buf);
    buf[fread(buf, 1, 65535, fp)] = '\0';
    fclose(fp);
    return buf;
}

/* --convert FILE --confd DIR: one file for the server's keys, one per
 * module in load order, loading to what the single file loads to. */
static void test_convert_confd(void **state)
{
    fixture *f = *state;
    const char *text =
        "listen: 127.0.0.1:4333\n"
        "max_payload: 2KB\n"
        "ping_interval: 2m\n"
        "server_tags: [Rack:7]\n"
        "no_header_support: true\n"
        "http_port: 8333\n"
        "modules: [extra]\n"
        "extra { level: 3 }\n"
        "PASS = s3cret\n"
        "authorization { user: admin, password: $PASS, timeout: 0.5 }\n";
    put(f, "nats.conf", text);
    char dir[256], p[320];
    snprintf(dir, sizeof dir, "%s/conf.out", f->dir);
    assert_int_equal(mn_config_convert_confd(f->path, dir, f->err, sizeof f->err), MN_OK);

    static const char *const names[] = {"00-server.conf", "10-extra.conf",
                                        "20-auth_basic.conf", "30-monitor.conf"};
    char *body[4];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        body[i] = slurp_file(p);
        if (!body[i])
            fail_msg("no %s", names[i]);
        assert_int_equal(mn_natsconf_detect(body[i], strlen(body[i])), MN_CONF_LIBCONFIG);
    }
    snprintf(p, sizeof p, "%s/40-cluster.conf", dir);
    assert_int_equal(access(p, F_OK), -1);
    assert_non_null(strstr(body[0], "listen = \"127.0.0.1:4333\";\n"));
    assert_non_null(strstr(body[0], "ping_interval = \"2m\";\n"));
    assert_non_null(strstr(body[0], "no_header_support = true;\n"));
    assert_non_null(strstr(body[0], "server_tags = [ \"Rack:7\" ];\n"));
    assert_null(strstr(body[0], "modules"));
    assert_null(strstr(body[0], "authorization"));
    assert_null(strstr(body[0], "PASS"));
    assert_non_null(strstr(body[1], "modules = [ \"extra\" ];\nextra = {\n  level = 3;\n};\n"));
    assert_non_null(strstr(body[2], "modules = [ \"auth_basic\" ];\nauthorization = {\n"));
    assert_non_null(strstr(body[2], "password = \"s3cret\";"));
    assert_null(strstr(body[2], "listen"));
    assert_non_null(strstr(body[3], "modules = [ \"monitor\" ];\nhttp_port = 8333;\n"));
    for (int i = 0; i < 4; i++)
        free(body[i]);

    /* --confd DIR alone loads to what the nats-server file loads to. */
    assert_int_equal(load(f, text), MN_OK);
    assert_int_equal(mn_opts_imply_modules(&f->o), MN_OK);
    mn_opts a = f->o;
    mn_opts_defaults(&f->o);
    mn_opts b;
    mn_opts_defaults(&b);
    b.confd_dir = strdup(dir);
    assert_int_equal(mn_config_load(&b, f->err, sizeof f->err), MN_OK);
    assert_int_equal(mn_opts_imply_modules(&b), MN_OK);
    assert_string_equal(a.host, b.host);
    assert_int_equal(a.port, b.port);
    assert_int_equal(a.max_payload, b.max_payload);
    assert_int_equal(a.ping_interval_ms, b.ping_interval_ms);
    assert_int_equal(a.auth_timeout_ms, b.auth_timeout_ms);
    assert_int_equal(a.auth_timeout_ms, 500);
    assert_int_equal(a.http_port, b.http_port);
    assert_true(b.no_header_support);
    assert_int_equal(b.nserver_tags, 1);
    assert_string_equal(a.server_tags[0], b.server_tags[0]);
    assert_int_equal(a.nmodules, 3);
    assert_int_equal(a.nmodules, b.nmodules);
    for (int i = 0; i < a.nmodules; i++)
        assert_string_equal(a.modules[i], b.modules[i]);
    assert_int_equal(b.nconfig_files, 4);
    assert_string_equal(mn_cfg_get(mn_cfg_get(b.module_cfg, "auth_basic"), "password")->s,
                        "s3cret");
    assert_int_equal(mn_cfg_get(mn_cfg_get(b.module_cfg, "extra"), "level")->i, 3);
    drop_tags(&a);
    drop_tags(&b);
    mn_opts_free(&a);
    mn_opts_free(&b);

    /* A directory that already holds .conf files is refused, untouched. */
    assert_int_equal(mn_config_convert_confd(f->path, dir, f->err, sizeof f->err), MN_EINVAL);
    assert_non_null(strstr(f->err, "already holds .conf files"));
    /* Without modules, only 00-server.conf. */
    put(f, "nats.conf", "port: 4444\n");
    snprintf(dir, sizeof dir, "%s/conf.small", f->dir);
    assert_int_equal(mn_config_convert_confd(f->path, dir, f->err, sizeof f->err), MN_OK);
    snprintf(p, sizeof p, "%s/00-server.conf", dir);
    char *only = slurp_file(p);
    assert_non_null(only);
    assert_non_null(strstr(only, "port = 4444;\n"));
    free(only);
    /* A file that does not load writes nothing, not even the directory. */
    put(f, "nats.conf", "port: 4444\nbogus: 1\n");
    snprintf(dir, sizeof dir, "%s/conf.bad", f->dir);
    assert_int_equal(mn_config_convert_confd(f->path, dir, f->err, sizeof f->err), MN_EINVAL);
    assert_non_null(strstr(f->err, "nats.conf:2: unknown option \"bogus\""));
    assert_int_equal(access(dir, F_OK), -1);
}

/* --convert FILE on the command line. */
static void test_convert_flag(void **state)
{
    fixture *f = *state;
    char *argv[] = {"modnats", "--convert", "x.conf", NULL};
    assert_int_equal(mn_opts_parse_args(&f->o, 3, argv, NULL, NULL, f->err, sizeof f->err),
                     MN_OK);
    assert_true(f->o.cli_set & MN_OPT_CONVERT);
    assert_string_equal(f->o.config_file, "x.conf");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_separators),
        T(test_blocks),
        T(test_lists),
        T(test_strings),
        T(test_numbers_and_bools),
        T(test_variables),
        T(test_include),
        T(test_errors),
        T(test_detect),
        T(test_load),
        T(test_load_refusals),
        T(test_load_cluster),
        T(test_libconfig_tree),
        T(test_convert),
        T(test_convert_flag),
        T(test_headers_and_tags),
        T(test_convert_confd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
