/*
 * test_auth_basic_unit.c - unit tests of auth_basic's logic without a
 * server: settings read through a fake host API whose modnats_config is a
 * libconfig setting read with the core's conventions (same syntax as
 * the server's files; a single value reads as a list of one), validation
 * errors and their log lines, subjects, durations, plain and bcrypt
 * password checks, the login decision for every mode, NKey strings and
 * signatures (against fixtures made by the Go nkeys package, see
 * tests/gen/), nkey users and accounts.
 */
#include "ab.h"
#include "nkey_fixtures.h"

#include <crypt.h>
#include <libconfig.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* ------------------------------------------------ a fake host API */

static char g_log[8192];

static void fake_log(modnats_module *m, int level, const char *fmt, ...)
{
    (void)m;
    (void)level;
    size_t len = strlen(g_log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_log + len, sizeof g_log - len, fmt, ap);
    va_end(ap);
    len = strlen(g_log);
    if (len + 1 < sizeof g_log) {
        g_log[len] = '\n';
        g_log[len + 1] = '\0';
    }
}

static config_setting_t *member(const modnats_config *c, const char *key)
{
    return c ? config_setting_get_member((config_setting_t *)c, key) : NULL;
}

static modnats_rc fake_bool(const modnats_config *c, const char *key, bool *out)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return MODNATS_ENOTFOUND;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return MODNATS_ERR;
    *out = config_setting_get_bool(s);
    return MODNATS_OK;
}

static modnats_rc fake_int(const modnats_config *c, const char *key, int64_t *out)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return MODNATS_ENOTFOUND;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return MODNATS_ERR;
    *out = config_setting_get_int64(s);
    return MODNATS_OK;
}

static modnats_rc fake_string(const modnats_config *c, const char *key, const char **out)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return MODNATS_ENOTFOUND;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return MODNATS_ERR;
    *out = config_setting_get_string(s);
    return MODNATS_OK;
}

/* As the core: a single value (or group) reads as a list of one. */
static size_t fake_list_len(const modnats_config *c, const char *key)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return 1;
    return (size_t)config_setting_length(s);
}

static const char *fake_list_string(const modnats_config *c, const char *key, size_t i)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return NULL;
    if (config_setting_type(s) == CONFIG_TYPE_STRING)
        return i == 0 ? config_setting_get_string(s) : NULL;
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return NULL;
    config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
    return e && config_setting_type(e) == CONFIG_TYPE_STRING ? config_setting_get_string(e) : NULL;
}

static const modnats_config *fake_child(const modnats_config *c, const char *key, size_t i)
{
    config_setting_t *s = member(c, key);
    if (!s)
        return NULL;
    if (config_setting_type(s) == CONFIG_TYPE_GROUP)
        return i == 0 ? (const modnats_config *)s : NULL;
    if (config_setting_type(s) == CONFIG_TYPE_LIST) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (e && config_setting_type(e) == CONFIG_TYPE_GROUP)
            return (const modnats_config *)e;
    }
    return NULL;
}

static const char *fake_key(const modnats_config *c, size_t i)
{
    config_setting_t *s = (config_setting_t *)c;
    if (!s || config_setting_type(s) != CONFIG_TYPE_GROUP || i >= (size_t)config_setting_length(s))
        return NULL;
    return config_setting_name(config_setting_get_elem(s, (unsigned)i));
}

static const char *fake_where(const modnats_config *c, const char *key, char *buf, size_t len)
{
    config_setting_t *s = key ? member(c, key) : (config_setting_t *)c;
    snprintf(buf, len, "test.conf:%d", s ? (int)config_setting_source_line(s) : 0);
    return buf;
}

static const modnats_host_api g_api = {
    .size = sizeof(modnats_host_api),
    .abi_major = MODNATS_ABI_MAJOR,
    .abi_minor = MODNATS_ABI_MINOR,
    .log = fake_log,
    .cfg_bool = fake_bool,
    .cfg_int = fake_int,
    .cfg_string = fake_string,
    .cfg_list_len = fake_list_len,
    .cfg_list_string = fake_list_string,
    .cfg_child = fake_child,
    .cfg_key = fake_key,
    .cfg_where = fake_where,
};

static config_t g_cfg;

/* Load `authorization = { <text> };` plus top-level extra and parse the
 * group into *c.  Returns load's result; g_log has its log lines. */
static modnats_rc load(const char *text, ab_conf *c)
{
    char buf[8192];
    snprintf(buf, sizeof buf, "authorization = { %s };\n", text);
    config_destroy(&g_cfg);
    config_init(&g_cfg);
    if (!config_read_string(&g_cfg, buf))
        fail_msg("libconfig: %s at line %d in:\n%s", config_error_text(&g_cfg),
                 config_error_line(&g_cfg), buf);
    g_log[0] = '\0';
    config_setting_t *grp = config_lookup(&g_cfg, "authorization");
    return ab_conf_load(&g_api, NULL, (const modnats_config *)grp, c);
}

static void load_ok(const char *text, ab_conf *c)
{
    if (load(text, c) != MODNATS_OK)
        fail_msg("settings refused:\n%s\nlog:\n%s", text, g_log);
}

static void load_fails(const char *text, const char *logged)
{
    ab_conf c;
    if (load(text, &c) != MODNATS_ERR)
        fail_msg("settings accepted, expected an error: %s", text);
    if (!strstr(g_log, logged))
        fail_msg("expected \"%s\" in the log, got:\n%s", logged, g_log);
}

static ab_decision login(const ab_conf *c, const char *user, const char *pass, const char *token)
{
    ab_login l = { .user = user, .pass = pass, .token = token };
    return ab_authenticate(c, &l);
}

/* Does a full login (decision + check) succeed, and as whom? */
static bool full_login(const ab_conf *c, const char *user, const char *pass, const char *token,
                       const ab_user **as)
{
    ab_decision d = login(c, user, pass, token);
    *as = d.user;
    if (d.verdict == AB_ALLOW)
        return true;
    if (d.verdict != AB_CHECK)
        return false;
    return ab_password_check(d.stored, d.bcrypt, d.given);
}

static char *make_bcrypt(const char *password)
{
    char salt[64];
    assert_non_null(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof salt));
    struct crypt_data *cd = calloc(1, sizeof *cd);
    char *h = strdup(crypt_r(password, salt, cd));
    free(cd);
    return h;
}

static bool has(const ab_strv *v, const char *s)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i], s) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------ tests */

static void test_subjects(void **state)
{
    (void)state;
    assert_true(ab_subject_valid("foo", false));
    assert_true(ab_subject_valid("foo.*.bar", false));
    assert_true(ab_subject_valid("foo.>", false));
    assert_true(ab_subject_valid(">", false));
    assert_true(ab_subject_valid("_INBOX.>", false));
    assert_false(ab_subject_valid("", false));
    assert_false(ab_subject_valid("foo..bar", false));
    assert_false(ab_subject_valid(".foo", false));
    assert_false(ab_subject_valid("foo.", false));
    assert_false(ab_subject_valid("foo.>.bar", false));
    assert_false(ab_subject_valid("foo bar", false));
    assert_false(ab_subject_valid("foo\tbar", true));
    assert_true(ab_subject_valid("foo.* workers", true));
    assert_false(ab_subject_valid("foo.* ", true));
    assert_false(ab_subject_valid("foo.* a b", true));
}

static void test_durations(void **state)
{
    (void)state;
    int64_t ms = -5;
    assert_true(ab_duration_ms("0", &ms));
    assert_int_equal(ms, 0);
    assert_true(ab_duration_ms("2m", &ms));
    assert_int_equal(ms, 120000);
    assert_true(ab_duration_ms("1h30m", &ms));
    assert_int_equal(ms, 5400000);
    assert_true(ab_duration_ms("500ms", &ms));
    assert_int_equal(ms, 500);
    assert_true(ab_duration_ms("1.5s", &ms));
    assert_int_equal(ms, 1500);
    assert_true(ab_duration_ms("-1s", &ms));
    assert_int_equal(ms, -1000);
    assert_false(ab_duration_ms("5", &ms));
    assert_false(ab_duration_ms("5 s", &ms));
    assert_false(ab_duration_ms("1x", &ms));
    assert_false(ab_duration_ms("", &ms));
}

static void test_passwords(void **state)
{
    (void)state;
    assert_true(ab_ct_equal("secret", "secret"));
    assert_false(ab_ct_equal("secret", "secreT"));
    assert_false(ab_ct_equal("secret", "secret2"));
    assert_false(ab_ct_equal("secret", "secre"));
    assert_false(ab_ct_equal("secret", ""));
    assert_true(ab_ct_equal("", ""));

    char *h = make_bcrypt("s3cr3t");
    assert_true(ab_is_bcrypt(h));
    assert_true(ab_bcrypt_well_formed(h));
    assert_true(ab_bcrypt_check(h, "s3cr3t"));
    assert_false(ab_bcrypt_check(h, "s3cr3T"));
    assert_false(ab_bcrypt_check(h, ""));
    /* the other bcrypt prefixes nats-server accepts */
    h[2] = 'a';
    assert_true(ab_bcrypt_check(h, "s3cr3t"));
    h[2] = 'y';
    assert_true(ab_bcrypt_check(h, "s3cr3t"));
    free(h);

    assert_true(ab_is_bcrypt("$2a$10$whatever"));
    assert_false(ab_bcrypt_well_formed("$2a$10$whatever"));
    assert_false(ab_is_bcrypt("$1$abc"));
    assert_false(ab_is_bcrypt("plain"));
    assert_false(ab_is_bcrypt("$2"));
    assert_false(ab_bcrypt_check("$2a$10$whatever", "x"));
    assert_false(ab_bcrypt_well_formed(
        "$2a$03$/R1idCUBJaRb7dvAR1K8O.WJw666Qw6sKGsbYEEO5OLpb0ZS9Tgna"));   /* cost 3 */
    assert_true(ab_bcrypt_well_formed(
        "$2a$10$/R1idCUBJaRb7dvAR1K8O.WJw666Qw6sKGsbYEEO5OLpb0ZS9Tgna"));
}

static void test_nothing_configured(void **state)
{
    (void)state;
    ab_conf c;
    load_ok("timeout = 2;", &c);
    assert_int_equal(c.mode, AB_MODE_NONE);
    assert_int_equal(login(&c, "a", "b", NULL).verdict, AB_DEFER);
    assert_int_equal(login(&c, NULL, NULL, NULL).verdict, AB_DEFER);
    ab_conf_free(&c);
    assert_int_equal(ab_conf_load(&g_api, NULL, NULL, &c), MODNATS_OK);
    assert_int_equal(c.mode, AB_MODE_NONE);
}

static void test_token(void **state)
{
    (void)state;
    ab_conf c;
    const ab_user *u;
    load_ok("token = \"s3cr3t\";", &c);
    assert_int_equal(c.mode, AB_MODE_TOKEN);
    assert_true(full_login(&c, NULL, NULL, "s3cr3t", &u));
    assert_null(u);
    assert_false(full_login(&c, NULL, NULL, "nope", &u));
    assert_int_equal(login(&c, NULL, NULL, NULL).verdict, AB_DENY);
    assert_int_equal(login(&c, "s3cr3t", "s3cr3t", NULL).verdict, AB_DENY);
    /* nkey/JWT logins go to the other modules */
    ab_login nk = { .nkey = "UABC" };
    assert_int_equal(ab_authenticate(&c, &nk).verdict, AB_DEFER);
    ab_conf_free(&c);

    char *h = make_bcrypt("tok");
    char text[256];
    snprintf(text, sizeof text, "token = \"%s\";", h);
    load_ok(text, &c);
    assert_true(c.token_bcrypt);
    ab_decision d = login(&c, NULL, NULL, "tok");
    assert_int_equal(d.verdict, AB_CHECK);
    assert_true(d.bcrypt);
    assert_true(full_login(&c, NULL, NULL, "tok", &u));
    assert_false(full_login(&c, NULL, NULL, "tok2", &u));
    ab_conf_free(&c);
    free(h);
}

static void test_single_user(void **state)
{
    (void)state;
    ab_conf c;
    const ab_user *u;
    load_ok("user = \"derek\"; password = \"T0pS3cr3t\"; timeout = 1;", &c);
    assert_int_equal(c.mode, AB_MODE_USER);
    assert_true(full_login(&c, "derek", "T0pS3cr3t", NULL, &u));
    assert_string_equal(u->name, "derek");
    assert_null(u->perms);
    assert_false(full_login(&c, "derek", "wrong", NULL, &u));
    assert_false(full_login(&c, "derek", NULL, NULL, &u));
    assert_false(full_login(&c, "other", "T0pS3cr3t", NULL, &u));
    assert_false(full_login(&c, NULL, NULL, NULL, &u));
    assert_false(full_login(&c, NULL, NULL, "T0pS3cr3t", &u));
    ab_conf_free(&c);

    /* nats-server's aliases */
    load_ok("username = \"a\"; pass = \"b\";", &c);
    assert_true(full_login(&c, "a", "b", NULL, &u));
    ab_conf_free(&c);
}

static void test_users_and_permissions(void **state)
{
    (void)state;
    char *h = make_bcrypt("bpass");
    char text[2048];
    snprintf(text, sizeof text,
             "users = ("
             "  { user = \"alice\"; password = \"pa\";"
             "    permissions = { publish = { allow = [\"foo.>\"]; deny = [\"foo.secret\"]; };"
             "                    subscribe = [\"_INBOX.>\", \"q.* workers\"]; allow_responses = true; }; },"
             "  { user = \"bob\"; password = \"%s\"; },"
             "  { user = \"carol\"; password = \"pc\";"
             "    permissions = { publish = \"one\"; subscribe = { deny = [\"secret.>\"]; };"
             "                    allow_responses = { max = 3; expires = \"1m\"; }; }; },"
             "  { user = \"dave\"; password = \"pd\"; permissions = { allow_responses = true; }; },"
             "  { nkey = \"UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4\"; }"
             ");"
             "default_permissions = { publish = [\"pub.>\"]; subscribe = [\"sub.>\"]; };",
             h);
    ab_conf c;
    const ab_user *u;
    load_ok(text, &c);
    assert_int_equal(c.mode, AB_MODE_USERS);
    assert_int_equal(c.nusers, 5);
    assert_int_equal(c.nnkeys, 1);

    assert_true(full_login(&c, "alice", "pa", NULL, &u));
    assert_string_equal(u->name, "alice");
    const ab_perms *p = u->perms;
    assert_non_null(p);
    assert_int_equal(p->pub_allow.n, 1);
    assert_true(has(&p->pub_allow, "foo.>"));
    assert_int_equal(p->pub_deny.n, 1);
    assert_true(has(&p->pub_deny, "foo.secret"));
    assert_int_equal(p->sub_allow.n, 2);
    assert_true(has(&p->sub_allow, "q.* workers"));
    assert_true(p->allow_responses);
    assert_int_equal(p->resp_max, 1);
    assert_int_equal(p->resp_expires_ms, 120000);

    modnats_permissions mp;
    ab_perms_export(p, &mp);
    assert_int_equal(mp.size, sizeof mp);
    assert_int_equal(mp.n_pub_allow, 1);
    assert_string_equal(mp.pub_allow[0], "foo.>");
    assert_int_equal(mp.n_sub_allow, 2);
    assert_true(mp.allow_responses);

    /* bcrypt user; default permissions */
    ab_decision d = login(&c, "bob", "bpass", NULL);
    assert_int_equal(d.verdict, AB_CHECK);
    assert_true(d.bcrypt);
    assert_true(full_login(&c, "bob", "bpass", NULL, &u));
    assert_false(full_login(&c, "bob", "x", NULL, &u));
    assert_ptr_equal(u->perms, c.defaults);
    assert_true(has(&u->perms->pub_allow, "pub.>"));

    assert_true(full_login(&c, "carol", "pc", NULL, &u));
    p = u->perms;
    assert_true(has(&p->pub_allow, "one"));
    assert_true(has(&p->sub_deny, "secret.>"));
    assert_int_equal(p->sub_allow.n, 0);
    assert_int_equal(p->resp_max, 3);
    assert_int_equal(p->resp_expires_ms, 60000);

    /* allow_responses alone: only responses may be published */
    assert_true(full_login(&c, "dave", "pd", NULL, &u));
    assert_int_equal(u->perms->pub_allow.n, 0);
    assert_true(has(&u->perms->pub_deny, ">"));

    assert_false(full_login(&c, "eve", "pa", NULL, &u));
    assert_false(full_login(&c, "alice", "pb", NULL, &u));
    assert_int_equal(login(&c, NULL, NULL, NULL).verdict, AB_DENY);
    assert_int_equal(login(&c, NULL, "pa", NULL).verdict, AB_DENY);
    /* the nkey user logs in with a signature only */
    ab_login nk = { .nkey = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", .pass = "" };
    assert_int_equal(ab_authenticate(&c, &nk).verdict, AB_DENY);
    assert_string_equal(ab_authenticate(&c, &nk).reason, "signature missing");
    assert_int_equal(login(&c, "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4", "", NULL).verdict,
                     AB_DENY);
    ab_conf_free(&c);
    free(h);
}

static void test_no_auth_user(void **state)
{
    (void)state;
    ab_conf c;
    const ab_user *u;
    load_ok("users = ( { user = \"a\"; password = \"pa\"; },"
            "          { user = \"guest\"; password = \"pg\";"
            "            permissions = { publish = [\"public.>\"]; }; } );"
            "no_auth_user = \"guest\";", &c);
    ab_decision d = login(&c, NULL, NULL, NULL);
    assert_int_equal(d.verdict, AB_ALLOW);
    assert_string_equal(d.user->name, "guest");
    assert_true(has(&d.user->perms->pub_allow, "public.>"));
    /* credentials that do not match are refused, not mapped to guest */
    assert_false(full_login(&c, "a", "wrong", NULL, &u));
    assert_false(full_login(&c, NULL, NULL, "tok", &u));
    assert_true(full_login(&c, "a", "pa", NULL, &u));
    assert_string_equal(u->name, "a");
    ab_conf_free(&c);
}

static void test_errors(void **state)
{
    (void)state;
    {
        /* No password: a user only a TLS certificate names (verify_and_map):
         * loads, never logs in with a password, and certificates map to
         * users by e-mail, DNS and URI SANs, then by subject. */
        ab_conf c;
        load_ok("users = ( { user = \"a\"; }, { user = \"CN=b,O=X\"; password = \"p\"; } );", &c);
        assert_int_equal(login(&c, "a", "", NULL).verdict, AB_DENY);
        assert_int_equal(login(&c, "a", NULL, NULL).verdict, AB_DENY);
        const char *emails[] = { "nobody@example.com", "a" };
        modnats_tls_info t = { .size = sizeof t, .has_cert = true, .verified = true,
                               .subject = "CN=b,O=X", .emails = emails, .nemails = 2, .map = true };
        ab_login l = { .cert = &t };
        ab_decision d = ab_authenticate(&c, &l);
        assert_int_equal(d.verdict, AB_ALLOW);
        assert_string_equal(d.user->name, "a");
        t.nemails = 1;
        d = ab_authenticate(&c, &l);
        assert_int_equal(d.verdict, AB_ALLOW);
        assert_string_equal(d.user->name, "CN=b,O=X");
        t.subject = "CN=c,O=X";
        assert_int_equal(ab_authenticate(&c, &l).verdict, AB_DENY);
        t.subject = "CN=b,O=X";
        t.verified = false;
        assert_int_equal(ab_authenticate(&c, &l).verdict, AB_DENY);
        ab_conf_free(&c);
    }
    load_fails("users = ( { password = \"x\"; } );", "authorization.users[0]: needs a user");
    load_fails("users = ( { user = \"a\"; password = \"x\"; }, { user = \"a\"; password = \"y\"; } );",
               "authorization.users[1]: user \"a\" is listed twice");
    load_fails("users = ( { user = \"a\"; password = \"x\"; } ); no_auth_user = \"b\";",
               "no_auth_user \"b\" is not a user");
    load_fails("user = \"a\"; password = \"x\"; no_auth_user = \"a\";", "there is no users list");
    load_fails("users = ( { user = \"a\"; password = \"$2a$10$short\"; } );",
               "authorization.users[0].password looks like a bcrypt hash");
    load_fails("token = \"$2b$10$bad\";", "authorization.token looks like a bcrypt hash");
    load_fails("token = \"t\"; users = ( { user = \"a\"; password = \"x\"; } );",
               "a token cannot be combined with a users list");
    load_fails("user = \"u\"; password = \"p\"; users = ( { user = \"a\"; password = \"x\"; } );",
               "a single user/password cannot be combined with a users list");
    load_fails("token = \"t\"; user = \"u\"; password = \"p\";",
               "a token cannot be combined with user/password");
    load_fails("user = \"u\";", "user \"u\" has no password");
    load_fails("password = \"p\";", "a password needs a user");
    load_fails("token = \"\";", "authorization.token must not be empty");
    load_fails("user = 5; password = \"p\";", "authorization.user must be a string");
    load_fails("users = ( { user = \"a\"; password = \"x\"; permissions = { publish = [\"foo..bar\"]; }; } );",
               "subject \"foo..bar\" is not a valid subject");
    load_fails("users = ( { user = \"a\"; password = \"x\"; permissions = { publish = 5; }; } );",
               "authorization.users[0].permissions.publish must be a subject");
    load_fails("users = ( { user = \"a\"; password = \"x\";"
               "  permissions = { allow_responses = { expires = \"soon\"; }; }; } );",
               "\"soon\" is not a duration");
    load_fails("users = ( { user = \"a\"; password = \"x\"; permissions = \"all\"; } );",
               "authorization.users[0].permissions must be a group");
    load_fails("users = ( { user = \"a\"; password = \"x\"; nkey = \"UABC\"; } );",
               "an nkey user takes no user or password");
    load_fails("users = ( { user = \"a\"; password = \"x\";"
               "  permissions = { subscribe = { allow = [\"a b c\"]; }; }; } );",
               "subject \"a b c\" is not a valid subject");
}

/* ------------------------------------------------------------ nkeys */

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* Decode and encode every kind of public key as nkeys does. */
static void test_nkey_codec(void **state)
{
    (void)state;
    static const struct { const char *pub, *hex; uint8_t prefix; } kinds[] = {
        { FX_USER_PUB, FX_USER_RAW_HEX, MNK_USER },
        { FX_ACCOUNT_PUB, FX_ACCOUNT_RAW_HEX, MNK_ACCOUNT },
        { FX_OPERATOR_PUB, FX_OPERATOR_RAW_HEX, MNK_OPERATOR },
        { FX_SERVER_PUB, FX_SERVER_RAW_HEX, MNK_SERVER },
        { FX_CLUSTER_PUB, FX_CLUSTER_RAW_HEX, MNK_CLUSTER },
        { FX_CURVE_PUB, FX_USER_RAW_HEX, MNK_CURVE },
    };
    /* CRC16-XMODEM check value */
    assert_int_equal(mnk_crc16((const uint8_t *)"123456789", 9), 0x31C3);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        uint8_t want[MNK_RAW_LEN], got[MNK_RAW_LEN];
        char enc[MNK_STR_LEN + 1];
        hex_to_bytes(kinds[i].hex, want, sizeof want);
        assert_int_equal(mnk_decode(kinds[i].pub, kinds[i].prefix, got), MNK_OK);
        assert_memory_equal(got, want, sizeof want);
        assert_true(mnk_encode(kinds[i].prefix, want, enc));
        assert_string_equal(enc, kinds[i].pub);
        /* the same key read as another kind */
        uint8_t other = kinds[i].prefix == MNK_USER ? MNK_ACCOUNT : MNK_USER;
        assert_int_equal(mnk_decode(kinds[i].pub, other, got), MNK_BAD_PREFIX);
    }
    uint8_t k[MNK_RAW_LEN];
    char enc[MNK_STR_LEN + 1];
    assert_false(mnk_encode(MNK_SEED, k, enc));   /* seeds are not public keys */
    assert_false(mnk_encode(7, k, enc));
    assert_int_equal(mnk_decode(FX_BAD_CRC, MNK_USER, k), MNK_BAD_CRC);
    assert_int_equal(mnk_decode(FX_BAD_BASE32, MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode(FX_BAD_LOWERCASE, MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode(FX_BAD_SHORT, MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode(FX_BAD_LONG, MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode(FX_USER_SEED, MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode("", MNK_USER, k), MNK_BAD_ENCODING);
    assert_int_equal(mnk_decode(NULL, MNK_USER, k), MNK_BAD_ENCODING);
    /* padding is not part of the format */
    char padded[64];
    snprintf(padded, sizeof padded, "%.55s=", FX_USER_PUB);
    assert_int_equal(mnk_decode(padded, MNK_USER, k), MNK_BAD_ENCODING);
    /* a valid CRC over an unknown prefix byte is still refused */
    uint8_t raw[MNK_BIN_LEN] = { 7 << 3 };
    hex_to_bytes(FX_USER_RAW_HEX, raw + 1, MNK_RAW_LEN);
    assert_false(mnk_encode(7 << 3, raw + 1, enc));
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[16];
    size_t n = 0;
    assert_true(mnk_base64_decode("aGk", out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "hi", 2);
    assert_true(mnk_base64_decode("aGk=", out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_true(mnk_base64_decode("-_8", out, sizeof out, &n));   /* url alphabet */
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xfb);
    assert_int_equal(out[1], 0xff);
    assert_true(mnk_base64_decode("+/8=", out, sizeof out, &n));  /* standard alphabet */
    assert_int_equal(out[0], 0xfb);
    assert_false(mnk_base64_decode("-/8", out, sizeof out, &n));  /* mixed */
    assert_false(mnk_base64_decode("aGk==", out, sizeof out, &n));
    assert_false(mnk_base64_decode("aGl", out, sizeof out, &n));  /* non-zero trailing bits */
    assert_false(mnk_base64_decode("a", out, sizeof out, &n));
    assert_false(mnk_base64_decode("a b=", out, sizeof out, &n));
    assert_false(mnk_base64_decode("AAAAAAAAAAAAAAAAAAAAAAAA", out, 4, &n));   /* too long */
    assert_true(mnk_base64_decode("", out, sizeof out, &n));
    assert_int_equal(n, 0);
}

static void test_nkey_signatures(void **state)
{
    (void)state;
    uint8_t pub[MNK_RAW_LEN];
    assert_int_equal(mnk_decode(FX_USER_PUB, MNK_USER, pub), MNK_OK);
    assert_true(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_RAWURL));
    assert_true(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_URL_PADDED));
    assert_true(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_STD));
    uint8_t sig[64];
    hex_to_bytes(FX_SIG_HEX, sig, sizeof sig);
    assert_true(mnk_ed25519_verify(pub, FX_NONCE, strlen(FX_NONCE), sig, sizeof sig));
    assert_false(mnk_ed25519_verify(pub, FX_NONCE, strlen(FX_NONCE), sig, 63));
    sig[10] ^= 1;
    assert_false(mnk_ed25519_verify(pub, FX_NONCE, strlen(FX_NONCE), sig, sizeof sig));

    assert_false(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_OTHER_KEY));
    assert_false(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_OTHER_NONCE));
    assert_false(mnk_verify_nonce(pub, FX_NONCE "x", FX_SIG_RAWURL));
    assert_false(mnk_verify_nonce(pub, "", FX_SIG_RAWURL));
    assert_false(mnk_verify_nonce(pub, FX_NONCE, FX_SIG_HEX));   /* 96 bytes as base64 */
    assert_false(mnk_verify_nonce(pub, FX_NONCE, ""));
    assert_false(mnk_verify_nonce(pub, FX_NONCE, "not base64!"));
    assert_false(mnk_verify_nonce(pub, NULL, FX_SIG_RAWURL));
    assert_false(mnk_verify_nonce(pub, FX_NONCE, NULL));
    char cut[128];
    snprintf(cut, sizeof cut, "%.84s", FX_SIG_RAWURL);   /* 63 bytes */
    assert_false(mnk_verify_nonce(pub, FX_NONCE, cut));
    /* alice's key does not verify the user key's signature */
    uint8_t alice[MNK_RAW_LEN];
    assert_int_equal(mnk_decode(FX_ALICE_PUB, MNK_USER, alice), MNK_OK);
    assert_false(mnk_verify_nonce(alice, FX_NONCE, FX_SIG_RAWURL));
    assert_true(mnk_verify_nonce(alice, FX_NONCE, FX_SIG_OTHER_KEY));
}

static ab_decision nkey_login(const ab_conf *c, const char *nkey, const char *sig, const char *nonce)
{
    ab_login l = { .nkey = nkey, .sig = sig, .nonce = nonce };
    return ab_authenticate(c, &l);
}

static void test_nkey_users(void **state)
{
    (void)state;
    ab_conf c;
    load_ok("users = ( { nkey = \"" FX_USER_PUB "\"; },"
            "          { nkey = \"" FX_ALICE_PUB "\"; permissions = { publish = [\"a.>\"]; }; },"
            "          { user = \"pw\"; password = \"pass\"; } );", &c);
    assert_int_equal(c.mode, AB_MODE_USERS);
    assert_int_equal(c.nusers, 3);
    assert_int_equal(c.nnkeys, 2);

    ab_decision d = nkey_login(&c, FX_USER_PUB, FX_SIG_RAWURL, FX_NONCE);
    assert_int_equal(d.verdict, AB_ALLOW);
    assert_string_equal(d.user->name, FX_USER_PUB);
    assert_true(d.user->is_nkey);
    assert_null(d.user->perms);
    assert_int_equal(nkey_login(&c, FX_USER_PUB, FX_SIG_STD, FX_NONCE).verdict, AB_ALLOW);
    d = nkey_login(&c, FX_ALICE_PUB, FX_SIG_OTHER_KEY, FX_NONCE);
    assert_int_equal(d.verdict, AB_ALLOW);
    assert_true(has(&d.user->perms->pub_allow, "a.>"));

    d = nkey_login(&c, FX_USER_PUB, FX_SIG_OTHER_KEY, FX_NONCE);
    assert_int_equal(d.verdict, AB_DENY);
    assert_string_equal(d.reason, "signature not verified");
    d = nkey_login(&c, FX_USER_PUB, FX_SIG_OTHER_NONCE, FX_NONCE);
    assert_string_equal(d.reason, "signature not verified");
    d = nkey_login(&c, FX_USER_PUB, NULL, FX_NONCE);
    assert_string_equal(d.reason, "signature missing");
    d = nkey_login(&c, FX_USER_PUB, FX_SIG_RAWURL, NULL);
    assert_string_equal(d.reason, "no nonce was sent in INFO");
    d = nkey_login(&c, FX_BOB_PUB, FX_SIG_RAWURL, FX_NONCE);
    assert_string_equal(d.reason, "unknown nkey");
    d = nkey_login(&c, FX_BAD_CRC, FX_SIG_RAWURL, FX_NONCE);
    assert_int_equal(d.verdict, AB_DENY);
    /* an nkey is not a user name, nor the other way round */
    assert_int_equal(login(&c, FX_USER_PUB, "", NULL).verdict, AB_DENY);
    assert_int_equal(nkey_login(&c, "pw", FX_SIG_RAWURL, FX_NONCE).verdict, AB_DENY);
    const ab_user *u;
    assert_true(full_login(&c, "pw", "pass", NULL, &u));
    /* a JWT login goes to the JWT module */
    ab_login jl = { .jwt = "eyJ0eXAiOiJKV1QifQ.e30.sig", .nkey = FX_USER_PUB, .sig = FX_SIG_RAWURL,
                    .nonce = FX_NONCE };
    assert_int_equal(ab_authenticate(&c, &jl).verdict, AB_DEFER);
    ab_conf_free(&c);

    /* no_auth_user names a password user, never an nkey (as nats-server) */
    load_fails("users = ( { nkey = \"" FX_USER_PUB "\"; }, { user = \"x\"; password = \"y\"; } );"
               "no_auth_user = \"" FX_USER_PUB "\";",
               "no_auth_user \"" FX_USER_PUB "\" is not a user of authorization.users or of an account");

    /* without nkey users here, nkey logins go to other modules */
    load_ok("users = ( { user = \"x\"; password = \"y\"; } );", &c);
    assert_int_equal(c.nnkeys, 0);
    assert_int_equal(nkey_login(&c, FX_USER_PUB, FX_SIG_RAWURL, FX_NONCE).verdict, AB_DEFER);
    ab_conf_free(&c);
}

static void test_nkey_errors(void **state)
{
    (void)state;
    load_fails("users = ( { nkey = \"" FX_BAD_CRC "\"; } );",
               "authorization.users[0].nkey: \"" FX_BAD_CRC "\" is not a user public key (checksum mismatch)");
    load_fails("users = ( { nkey = \"" FX_ACCOUNT_PUB "\"; } );", "(wrong kind of key)");
    load_fails("users = ( { nkey = \"" FX_USER_SEED "\"; } );", "is not a user public key");
    load_fails("users = ( { nkey = \"" FX_BAD_BASE32 "\"; } );", "(not a base32 key of 56 characters)");
    load_fails("users = ( { nkey = \"" FX_USER_PUB "\"; }, { nkey = \"" FX_USER_PUB "\"; } );",
               "authorization.users[1]: nkey \"" FX_USER_PUB "\" is listed twice");
    load_fails("users = ( { nkey = 5; } );", "authorization.users[0].nkey must be a string");
    load_fails("users = ( { nkey = \"" FX_USER_PUB "\"; allowed_connection_types = [\"STANDARD\"]; } );",
               "authorization.users[0].allowed_connection_types is not supported by auth_basic");
    load_fails("users = ( { user = \"a\"; password = \"b\"; passwrd = \"c\"; } );",
               "authorization.users[0]: unknown setting \"passwrd\"");
}

/* ------------------------------------------------------------ accounts */

static const ab_user *user_named(const ab_conf *c, const char *name)
{
    for (size_t i = 0; i < c->nusers; i++)
        if (strcmp(c->users[i].name, name) == 0)
            return &c->users[i];
    fail_msg("no user %s", name);
    return NULL;
}

static void test_accounts(void **state)
{
    (void)state;
    ab_conf c;
    load_ok("users = ( { user = \"g\"; password = \"g\"; } );"
            "default_permissions = { publish = [\"global.>\"]; };"
            "accounts = {"
            "  A = { users = ( { user = \"a\"; password = \"pa\"; },"
            "                  { user = \"a2\"; password = \"pa2\"; permissions = { publish = [\"own\"]; }; } ); };"
            "  B = { users = ( { nkey = \"" FX_ALICE_PUB "\"; } );"
            "        default_permissions = { publish = [\"b.>\"]; }; nkey = \"" FX_ACCOUNT_PUB "\"; };"
            "  EMPTY = { };"
            "};", &c);
    assert_int_equal(c.mode, AB_MODE_USERS);
    assert_int_equal(c.accounts.n, 3);
    assert_true(has(&c.accounts, "A"));
    assert_true(has(&c.accounts, "EMPTY"));
    assert_int_equal(c.nusers, 4);
    assert_int_equal(c.nnkeys, 1);
    const ab_user *g = user_named(&c, "g"), *a = user_named(&c, "a"), *a2 = user_named(&c, "a2"),
                  *al = user_named(&c, FX_ALICE_PUB);
    assert_null(g->account);
    assert_true(has(&g->perms->pub_allow, "global.>"));
    assert_string_equal(a->account, "A");
    assert_null(a->perms);   /* authorization's defaults are not the accounts' */
    assert_string_equal(a2->account, "A");
    assert_true(has(&a2->perms->pub_allow, "own"));
    assert_string_equal(al->account, "B");
    assert_true(has(&al->perms->pub_allow, "b.>"));

    const ab_user *u;
    assert_true(full_login(&c, "a", "pa", NULL, &u));
    assert_string_equal(u->account, "A");
    assert_false(full_login(&c, "a", "pa2", NULL, &u));
    ab_decision d = nkey_login(&c, FX_ALICE_PUB, FX_SIG_OTHER_KEY, FX_NONCE);
    assert_int_equal(d.verdict, AB_ALLOW);
    assert_string_equal(d.user->account, "B");
    ab_conf_free(&c);

    /* accounts alone are a users list; no_auth_user may name one of theirs */
    load_ok("accounts = { X = { users = ( { user = \"x\"; password = \"x\"; } ); }; };"
            "no_auth_user = \"x\";", &c);
    assert_int_equal(c.mode, AB_MODE_USERS);
    d = login(&c, NULL, NULL, NULL);
    assert_int_equal(d.verdict, AB_ALLOW);
    assert_string_equal(d.user->account, "X");
    ab_conf_free(&c);

    /* accounts without users declare accounts and nothing else */
    load_ok("accounts = { X = { }; };", &c);
    assert_int_equal(c.mode, AB_MODE_NONE);
    assert_int_equal(c.accounts.n, 1);
    ab_conf_free(&c);
}

static void test_account_errors(void **state)
{
    (void)state;
    load_fails("users = ( { user = \"a\"; password = \"x\"; } );"
               "accounts = { A = { users = ( { user = \"a\"; password = \"y\"; } ); }; };",
               "accounts.A.users[0]: user \"a\" is listed twice");
    load_fails("accounts = { A = { users = ( { nkey = \"" FX_USER_PUB "\"; } ); };"
               "             B = { users = ( { nkey = \"" FX_USER_PUB "\"; } ); }; };",
               "accounts.B.users[0]: nkey \"" FX_USER_PUB "\" is listed twice");
    load_fails("accounts = { A = { exports = ( { stream = \"a.>\"; service = \"b\"; } ); }; };",
               "an export names one \"stream\" or one \"service\" subject");
    load_fails("accounts = { A = { imports = ( { service = { account = \"B\"; subject = \"x\"; }; "
               "prefix = \"p\"; } ); }; B = { }; };",
               "prefix applies to stream imports");
    load_fails("accounts = { A = { exports = ( { service = \"s\"; response_type = \"lots\"; } ); }; };",
               "unknown response type \"lots\"");
    load_fails("accounts = { A = { userz = ( ); }; };", "accounts.A: unknown setting \"userz\"");
    load_fails("accounts = { A = 5; };", "accounts.A must be a group");
    load_fails("accounts = \"A\";", "accounts must be a group");
    {
        ab_conf c;   /* a certificate-only user in an account */
        load_ok("accounts = { A = { users = ( { user = \"a\"; } ); }; };", &c);
        ab_conf_free(&c);
    }
    load_fails("accounts = { A = { nkey = \"" FX_USER_PUB "\"; }; };",
               "accounts.A.nkey: \"" FX_USER_PUB "\" is not an account public key (wrong kind of key)");
    load_fails("token = \"t\"; accounts = { A = { users = ( { user = \"a\"; password = \"x\"; } ); }; };",
               "a token cannot be combined with a users list");
    load_fails("accounts = { A = { users = ( { user = \"a\"; password = \"x\";"
               "  permissions = { publish = [\"a..b\"]; }; } ); }; };",
               "accounts.A.users[0].permissions.publish: subject \"a..b\" is not a valid subject");
    load_fails("accounts = { a = { }; A = { }; };", "accounts.A: account \"A\" is declared twice");
}

int main(void)
{
    config_init(&g_cfg);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subjects),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_passwords),
        cmocka_unit_test(test_nothing_configured),
        cmocka_unit_test(test_token),
        cmocka_unit_test(test_single_user),
        cmocka_unit_test(test_users_and_permissions),
        cmocka_unit_test(test_no_auth_user),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_nkey_codec),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_nkey_signatures),
        cmocka_unit_test(test_nkey_users),
        cmocka_unit_test(test_nkey_errors),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_account_errors),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    config_destroy(&g_cfg);
    return rc;
}
