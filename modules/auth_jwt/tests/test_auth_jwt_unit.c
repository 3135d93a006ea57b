/*
 * test_auth_jwt_unit.c - auth_jwt's pure code against JWTs made by the Go
 * nats-io/jwt/v2 package (tests/gen/jwt_fixtures.h): decoding, signatures,
 * wrong prefixes and kinds, tampered tokens, times, the operator trust,
 * user logins (issuer, signing keys, scoped keys, revocations, bearer,
 * nonce signatures, connection types, source CIDRs), activation tokens,
 * subject containment, JWT extraction from files, the directory store.
 */
#include "aj.h"
#include "jwt_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static bool mnk_base64url_decode_ok(const char *s, uint8_t *out, size_t *n)
{
    return mnk_base64_decode(s, out, 8, n);
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

static aj_jwt *must_decode(const char *tok, aj_kind want)
{
    aj_jwt *j = NULL;
    char err[256] = "";
    if (!aj_jwt_decode(tok, want, &j, err, sizeof err))
        fail_msg("decode: %s", err);
    return j;
}

static void expect_decode_error(const char *tok, aj_kind want, const char *needle)
{
    aj_jwt *j = NULL;
    char err[256] = "";
    if (aj_jwt_decode(tok, want, &j, err, sizeof err)) {
        aj_jwt_free(j);
        fail_msg("decoded, expected an error with \"%s\"", needle);
    }
    assert_null(j);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_decode_kinds(void **state)
{
    (void)state;
    aj_jwt *op = must_decode(FXJ_OPERATOR_JWT, AJ_OPERATOR);
    assert_int_equal(op->kind, AJ_OPERATOR);
    assert_string_equal(op->sub, FXJ_OPERATOR_PUB);
    assert_string_equal(op->iss, FXJ_OPERATOR_PUB);
    assert_string_equal(op->name, "modnats-test");
    assert_string_equal(op->u.op.system_account, FXJ_SYS_PUB);
    assert_true(aj_strv_has(&op->u.op.signing_keys, FXJ_OPERATOR_SIGNER_PUB));
    assert_true(op->iat > 1600000000);
    aj_jwt_free(op);

    aj_jwt *a = must_decode(FXJ_A_JWT, AJ_ACCOUNT);
    assert_string_equal(a->sub, FXJ_A_PUB);
    assert_string_equal(a->iss, FXJ_OPERATOR_SIGNER_PUB);
    assert_int_equal(a->u.acc.nexports, 3);
    assert_true(aj_strv_has(&a->u.acc.signing_keys, FXJ_A_SIGNER_PUB));
    assert_true(aj_strv_has(&a->u.acc.signing_keys, FXJ_A_SCOPED_PUB));
    assert_int_equal(a->u.acc.nscopes, 1);
    assert_string_equal(a->u.acc.scopes[0].role, "readonly");
    assert_int_equal(a->u.acc.conn, -1);   /* jwt's "no limit" */
    int token_req = 0;
    for (size_t i = 0; i < a->u.acc.nexports; i++)
        token_req += a->u.acc.exports[i].token_req;
    assert_int_equal(token_req, 1);
    aj_jwt_free(a);

    aj_jwt *b = must_decode(FXJ_B_JWT, AJ_ACCOUNT);
    assert_int_equal(b->u.acc.nimports, 3);
    bool svc = false, tok = false;
    for (size_t i = 0; i < b->u.acc.nimports; i++) {
        assert_string_equal(b->u.acc.imports[i].account, FXJ_A_PUB);
        svc |= b->u.acc.imports[i].kind == MODNATS_EXPORT_SERVICE;
        tok |= b->u.acc.imports[i].token != NULL;
    }
    assert_true(svc && tok);
    aj_jwt_free(b);

    aj_jwt *c = must_decode(FXJ_C_JWT, 0);
    assert_int_equal(c->kind, AJ_ACCOUNT);
    assert_int_equal(c->u.acc.conn, 1);
    assert_int_equal(c->u.acc.subs, 3);
    assert_int_equal(c->u.acc.payload, 1024);
    aj_jwt_free(c);

    aj_jwt *u = must_decode(FXJ_ALICE_PERMS_JWT, AJ_USER);
    const aj_user *ur = &u->u.user;
    assert_true(aj_strv_has(&ur->perms.pub_allow, "allowed.>"));
    assert_true(aj_strv_has(&ur->perms.pub_deny, "allowed.secret"));
    assert_true(aj_strv_has(&ur->perms.sub_allow, "_INBOX.>"));
    assert_true(ur->perms.has_resp);
    assert_int_equal(ur->perms.resp_max, 3);
    assert_int_equal(ur->perms.resp_ttl_ms, 1000);
    assert_true(aj_strv_has(&ur->src, "127.0.0.0/8"));
    assert_int_equal(ur->subs, 10);
    assert_int_equal(ur->payload, 2048);
    assert_true(aj_strv_has(&ur->conn_types, "STANDARD"));
    aj_jwt_free(u);

    aj_jwt *act = must_decode(FXJ_ACT_B_PRIVATE_JWT, AJ_ACTIVATION);
    assert_string_equal(act->sub, FXJ_B_PUB);
    assert_string_equal(act->iss, FXJ_A_PUB);
    assert_string_equal(act->u.act.subject, "a.private.>");
    assert_int_equal(act->u.act.kind, MODNATS_EXPORT_STREAM);
    aj_jwt_free(act);

    aj_jwt *del = must_decode(FXJ_DELETE_A_JWT, AJ_GENERIC);
    assert_true(aj_strv_has(&del->accounts, FXJ_A_PUB));
    aj_jwt_free(del);
}

/* Flip one character of a part: the signature no longer verifies (or the
 * part no longer decodes). */
static char *tamper(const char *tok, int part, size_t at)
{
    char *t = strdup(tok);
    char *p = t;
    for (int i = 0; i < part; i++)
        p = strchr(p, '.') + 1;
    p[at] = p[at] == 'A' ? 'B' : 'A';
    return t;
}

static void test_decode_errors(void **state)
{
    (void)state;
    expect_decode_error(FXJ_ALICE_JWT, AJ_ACCOUNT, "expected an account JWT, got a user JWT");
    expect_decode_error(FXJ_A_JWT, AJ_USER, "expected an user JWT");
    expect_decode_error("", AJ_USER, "three dot-separated parts");
    expect_decode_error("a.b", AJ_USER, "three dot-separated parts");
    expect_decode_error("a.b.c.d", AJ_USER, "three dot-separated parts");
    expect_decode_error("!!.b.c", AJ_USER, "not base64url");
    expect_decode_error(NULL, AJ_USER, "no JWT");

    char *t = tamper(FXJ_ALICE_JWT, 2, 10);
    expect_decode_error(t, AJ_USER, "signature does not verify");
    free(t);
    t = tamper(FXJ_ALICE_JWT, 1, 40);   /* claims changed under the signature */
    aj_jwt *j = NULL;
    char err[256];
    assert_false(aj_jwt_decode(t, AJ_USER, &j, err, sizeof err));
    free(t);

    /* a v1 token (alg ed25519) and a foreign algorithm: refused by name */
    const char *v1 = "eyJ0eXAiOiJqd3QiLCJhbGciOiJlZDI1NTE5In0"   /* {"typ":"jwt","alg":"ed25519"} */
                     ".e30.AAAA";
    expect_decode_error(v1, 0, "algorithm \"ed25519\" is not supported");
    const char *hs = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.AAAA";   /* HS256 */
    expect_decode_error(hs, 0, "algorithm \"HS256\"");
    /* a header that is not JWT */
    const char *typ = "eyJ0eXAiOiJYIiwiYWxnIjoiZWQyNTUxOS1ua2V5In0.e30.AAAA";
    expect_decode_error(typ, 0, "typ is not JWT");
    /* claims without nats, or of version 1 */
    const char *hdr = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ";
    char buf[512];
    snprintf(buf, sizeof buf, "%s.e30.AAAA", hdr);   /* {} */
    expect_decode_error(buf, 0, "no nats section");
    snprintf(buf, sizeof buf, "%s.%s.AAAA", hdr,
             "eyJuYXRzIjp7InZlcnNpb24iOjEsInR5cGUiOiJ1c2VyIn19");   /* version 1 */
    expect_decode_error(buf, 0, "version 1 is not supported");
}

/* The issuer's key must be of the right kind: a user JWT signed by an
 * operator key, or an account JWT by an account key, is refused even with
 * a valid signature (made here by re-labelling the header is impossible,
 * so the prefix check is exercised through the NKey decoder itself). */
static void test_nkey_prefixes_and_crc(void **state)
{
    (void)state;
    uint8_t k[MNK_RAW_LEN];
    assert_int_equal(mnk_decode(FXJ_OPERATOR_PUB, MNK_OPERATOR, k), MNK_OK);
    assert_int_equal(mnk_decode(FXJ_OPERATOR_PUB, MNK_ACCOUNT, k), MNK_BAD_PREFIX);
    assert_int_equal(mnk_decode(FXJ_A_PUB, MNK_USER, k), MNK_BAD_PREFIX);
    assert_int_equal(mnk_decode(FXJ_ALICE_PUB, MNK_USER, k), MNK_OK);
    char bad[MNK_STR_LEN + 1];
    memcpy(bad, FXJ_ALICE_PUB, sizeof bad);
    bad[MNK_STR_LEN - 1] = bad[MNK_STR_LEN - 1] == 'A' ? 'B' : 'A';
    assert_int_equal(mnk_decode(bad, MNK_USER, k), MNK_BAD_CRC);
    bad[3] = '1';   /* not base32 */
    assert_int_equal(mnk_decode(bad, MNK_USER, k), MNK_BAD_ENCODING);
}

static void test_times(void **state)
{
    (void)state;
    aj_jwt *e = must_decode(FXJ_ALICE_EXPIRED_JWT, AJ_USER);
    assert_string_equal(aj_jwt_time_error(e, now_s()), "expired");
    assert_null(aj_jwt_time_error(e, 999999999));
    assert_null(aj_jwt_time_error(e, 1000000000));   /* valid through its last second */
    aj_jwt *n = must_decode(FXJ_ALICE_NOT_YET_JWT, AJ_USER);
    assert_string_equal(aj_jwt_time_error(n, now_s()), "not valid yet");
    assert_null(aj_jwt_time_error(n, 4102444800));
    aj_jwt_free(e);
    aj_jwt_free(n);
}

static aj_trust *trust_of(const char *op_jwt)
{
    static aj_trust t;
    aj_strv_free(&t.keys);
    aj_jwt *op = must_decode(op_jwt, AJ_OPERATOR);
    t.keys.v = calloc(4, sizeof(char *));
    t.keys.v[t.keys.n++] = strdup(op->sub);
    for (size_t i = 0; i < op->u.op.signing_keys.n; i++)
        t.keys.v[t.keys.n++] = strdup(op->u.op.signing_keys.v[i]);
    aj_jwt_free(op);
    return &t;
}

static void test_trust_accounts(void **state)
{
    (void)state;
    aj_trust *t = trust_of(FXJ_OPERATOR_JWT);
    char err[256];
    aj_jwt *a = must_decode(FXJ_A_JWT, AJ_ACCOUNT);   /* by the operator's signing key */
    aj_jwt *b = must_decode(FXJ_B_JWT, AJ_ACCOUNT);   /* by the operator itself */
    aj_jwt *u = must_decode(FXJ_C_UNTRUSTED_JWT, AJ_ACCOUNT);
    assert_true(aj_trust_account(t, a, err, sizeof err));
    assert_true(aj_trust_account(t, b, err, sizeof err));
    assert_false(aj_trust_account(t, u, err, sizeof err));
    assert_non_null(strstr(err, FXJ_OTHER_OPERATOR_PUB));
    aj_jwt_free(a);
    aj_jwt_free(b);
    aj_jwt_free(u);
    /* free the static trust */
    aj_strv_free(&t->keys);
}

static const char *login(const char *acc_jwt, const char *user_jwt, const char *sig,
                         const char *ip, aj_grant *g)
{
    aj_jwt *acc = must_decode(acc_jwt, AJ_ACCOUNT);
    aj_jwt *u = must_decode(user_jwt, AJ_USER);
    aj_login_req r = { .nonce = FXJ_NONCE, .sig = sig, .remote_ip = ip ? ip : "127.0.0.1",
                       .conn_type = "STANDARD", .now = now_s() };
    aj_grant dummy;
    const char *why = aj_check_user(acc, u, &r, g ? g : &dummy);
    aj_jwt_free(acc);
    aj_jwt_free(u);
    return why;
}

static void test_user_logins(void **state)
{
    (void)state;
    aj_grant g;
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, &g));
    assert_int_equal(g.subs, -1);
    assert_int_equal(g.expires_unix_ms, 0);
    /* signed by the account's signing key, with issuer_account */
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_BY_SIGNER_JWT, FXJ_ALICE_SIG, NULL, NULL));
    /* a scoped key: the template's permissions win */
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_BY_SCOPED_JWT, FXJ_ALICE_SIG, NULL, &g));
    /* (g.perms points into the freed JWT; only its presence is checked) */
    assert_non_null(g.perms);
    /* wrong issuer: a user of B presented to A */
    assert_non_null(strstr(login(FXJ_A_JWT, FXJ_ALICE_BY_B_JWT, FXJ_ALICE_SIG, NULL, NULL),
                           "neither the account nor one of its signing keys"));
    /* A's signing key, but issuer_account says B */
    assert_non_null(strstr(login(FXJ_A_JWT, FXJ_ALICE_WRONG_ISSUER_ACC_JWT, FXJ_ALICE_SIG, NULL,
                                 NULL), "another issuer_account"));
    /* times */
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_EXPIRED_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "user JWT expired");
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_NOT_YET_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "user JWT not valid yet");
    assert_string_equal(login(FXJ_A_EXPIRED_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "account JWT expired");
    /* the nonce signature */
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_JWT, NULL, NULL, NULL),
                        "no signature of the nonce");
    char bad[200];
    snprintf(bad, sizeof bad, "%s", FXJ_ALICE_SIG);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_JWT, bad, NULL, NULL),
                        "signature of the nonce does not verify");
    /* bearer: no signature needed */
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_BEARER_JWT, NULL, NULL, NULL));
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_BEARER_JWT, bad, NULL, NULL));
    assert_string_equal(login(FXJ_A_NO_BEARER_JWT, FXJ_ALICE_BEARER_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "bearer tokens are not allowed in this account");
    assert_null(login(FXJ_A_NO_BEARER_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, NULL));
    /* connection types and sources */
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_WS_ONLY_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "connection type not allowed for this user");
    assert_string_equal(login(FXJ_A_JWT, FXJ_ALICE_SRC_JWT, FXJ_ALICE_SIG, "127.0.0.1", NULL),
                        "source address not allowed for this user");
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_SRC_JWT, FXJ_ALICE_SIG, "10.1.2.3", NULL));
    assert_null(login(FXJ_A_JWT, FXJ_ALICE_PERMS_JWT, FXJ_ALICE_SIG, "127.0.0.1", &g));
    assert_int_equal(g.subs, 10);
    assert_int_equal(g.payload, 2048);
}

static void test_revocations(void **state)
{
    (void)state;
    assert_string_equal(login(FXJ_A_REVOKES_ALICE_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "user JWT revoked");
    assert_string_equal(login(FXJ_A_REVOKES_ALL_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, NULL),
                        "user JWT revoked");
    /* revoked before the user JWT was issued: a newer JWT logs in */
    assert_null(login(FXJ_A_REVOKED_LONG_AGO_JWT, FXJ_ALICE_JWT, FXJ_ALICE_SIG, NULL, NULL));
    aj_jwt *acc = must_decode(FXJ_A_REVOKES_ALICE_JWT, AJ_ACCOUNT);
    assert_true(aj_user_revoked(acc, FXJ_ALICE_PUB, now_s()));
    assert_false(aj_user_revoked(acc, FXJ_ALICE_PUB, now_s() + 20 * 365 * 86400LL));
    assert_false(aj_user_revoked(acc, "UOTHER", 0));
    aj_jwt_free(acc);
}

static void test_activations(void **state)
{
    (void)state;
    aj_jwt *a = must_decode(FXJ_A_JWT, AJ_ACCOUNT);
    const aj_export *priv = NULL;
    for (size_t i = 0; i < a->u.acc.nexports; i++)
        if (a->u.acc.exports[i].token_req)
            priv = &a->u.acc.exports[i];
    assert_non_null(priv);
    assert_null(aj_check_activation(a, FXJ_B_PUB, priv, "a.private.>", FXJ_ACT_B_PRIVATE_JWT, now_s()));
    /* C's token presented by B */
    assert_string_equal(aj_check_activation(a, FXJ_B_PUB, priv, "a.private.>", FXJ_ACT_C_PRIVATE_JWT, now_s()),
                        "activation token is for another account");
    assert_non_null(aj_check_activation(a, FXJ_B_PUB, priv, "a.private.>", NULL, now_s()));
    assert_string_equal(aj_check_activation(a, FXJ_B_PUB, priv, "a.private.>", "x.y.z", now_s()),
                        "activation token does not decode");
    /* a narrower import is covered by the token; one outside it is not */
    assert_null(aj_check_activation(a, FXJ_B_PUB, priv, "a.private.x", FXJ_ACT_B_PRIVATE_JWT,
                                    now_s()));
    assert_string_equal(aj_check_activation(a, FXJ_B_PUB, priv, "a.>", FXJ_ACT_B_PRIVATE_JWT,
                                            now_s()),
                        "activation token is for another subject");
    /* a token issued by B for B does not count for A's export */
    aj_jwt *b = must_decode(FXJ_B_JWT, AJ_ACCOUNT);
    assert_string_equal(aj_check_activation(b, FXJ_B_PUB, priv, "a.private.>", FXJ_ACT_B_PRIVATE_JWT, now_s()),
                        "activation token not signed by the exporting account");
    aj_jwt_free(b);
    aj_jwt_free(a);
}

static void test_subjects_and_cidrs(void **state)
{
    (void)state;
    assert_true(aj_subject_within("a.b.c", "a.>"));
    assert_true(aj_subject_within("a.*", "a.>"));
    assert_true(aj_subject_within("a.b", "a.*"));
    assert_true(aj_subject_within("a.>", "a.>"));
    assert_false(aj_subject_within("a.>", "a.*"));
    assert_false(aj_subject_within("a", "a.>"));
    assert_false(aj_subject_within("b.c", "a.>"));
    assert_false(aj_subject_within("a.b.c", "a.*"));
    assert_false(aj_subject_within("a.*", "a.b"));
    assert_true(aj_cidr_match("127.0.0.0/8", "127.1.2.3"));
    assert_false(aj_cidr_match("127.0.0.0/8", "128.0.0.1"));
    assert_true(aj_cidr_match("10.0.0.1", "10.0.0.1"));
    assert_true(aj_cidr_match("10.0.0.0/8", "::ffff:10.2.3.4"));
    assert_true(aj_cidr_match("::1/128", "::1"));
    assert_true(aj_cidr_match("2001:db8::/32", "2001:db8::5"));
    assert_false(aj_cidr_match("2001:db8::/32", "2001:db9::5"));
    assert_false(aj_cidr_match("10.0.0.0/33", "10.0.0.1"));
    assert_false(aj_cidr_match("bogus", "10.0.0.1"));
    assert_true(aj_cidr_match("0.0.0.0/0", "8.8.8.8"));
}

static void test_extract(void **state)
{
    (void)state;
    char text[4096];
    snprintf(text, sizeof text,
             "-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
             "-----BEGIN USER NKEY SEED-----\nSUAFAKE\n------END USER NKEY SEED------\n",
             FXJ_ALICE_JWT);
    char *j = aj_jwt_extract(text);
    assert_non_null(j);
    assert_string_equal(j, FXJ_ALICE_JWT);
    free(j);
    snprintf(text, sizeof text, "  %s  \n", FXJ_OPERATOR_JWT);
    j = aj_jwt_extract(text);
    assert_string_equal(j, FXJ_OPERATOR_JWT);
    free(j);
    assert_null(aj_jwt_extract("no jwt here\n"));
    assert_null(aj_jwt_extract(NULL));
}

static bool accept_all(void *ud, const char *file, aj_jwt *j)
{
    (void)file;
    (*(int *)ud) += j == NULL;
    return j != NULL;
}

static void test_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/aj-store-XXXXXX";
    assert_non_null(mkdtemp(dir));
    aj_store s;
    aj_store_init(&s);
    s.dir = strdup(dir);
    char err[256];
    assert_int_equal(aj_store_put(&s, must_decode(FXJ_A_JWT, AJ_ACCOUNT), err, sizeof err), AJ_PUT_NEW);
    assert_int_equal(aj_store_put(&s, must_decode(FXJ_A_JWT, AJ_ACCOUNT), err, sizeof err), AJ_PUT_SAME);
    assert_int_equal(aj_store_put(&s, must_decode(FXJ_A_REVOKES_ALICE_JWT, AJ_ACCOUNT), err,
                                  sizeof err), AJ_PUT_UPDATED);
    assert_int_equal(aj_store_put(&s, must_decode(FXJ_B_JWT, AJ_ACCOUNT), err, sizeof err), AJ_PUT_NEW);
    s.limit = 2;
    assert_int_equal(aj_store_put(&s, must_decode(FXJ_C_JWT, AJ_ACCOUNT), err, sizeof err), AJ_PUT_ERR);
    assert_non_null(strstr(err, "limit of 2"));
    aj_strv keys;
    assert_true(aj_store_keys(&s, &keys));
    assert_int_equal(keys.n, 2);
    aj_strv_free(&keys);
    assert_true(aj_store_delete(&s, FXJ_B_PUB));
    assert_false(aj_store_delete(&s, FXJ_B_PUB));
    aj_store_free(&s);

    /* read back: A (its newer JWT), not B (deleted: renamed) */
    char junk[600];
    snprintf(junk, sizeof junk, "%s/%s.jwt", dir, FXJ_SYS_PUB);
    FILE *f = fopen(junk, "w");
    fputs("garbage", f);
    fclose(f);
    aj_store_init(&s);
    s.dir = strdup(dir);
    int bad = 0;
    assert_int_equal(aj_store_load_dir(&s, accept_all, &bad, err, sizeof err), 1);
    assert_int_equal(bad, 1);
    pthread_rwlock_rdlock(&s.lock);
    const aj_jwt *a = aj_store_get_locked(&s, FXJ_A_PUB);
    assert_non_null(a);
    assert_true(aj_user_revoked(a, FXJ_ALICE_PUB, now_s()));
    assert_null(aj_store_get_locked(&s, FXJ_B_PUB));
    pthread_rwlock_unlock(&s.lock);
    aj_store_free(&s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* The signing half of mn_nkey (auth_callout signs its requests): a fresh
 * key signs, the signature verifies, base64url round-trips through the
 * decoder, and a JWT made this way decodes. */
static void test_sign_and_encode(void **state)
{
    (void)state;
    uint8_t pub[MNK_RAW_LEN], priv[MNK_RAW_LEN], sig[64];
    assert_true(mnk_ed25519_keygen(pub, priv));
    assert_true(mnk_ed25519_sign(priv, "nonce", 5, sig));
    assert_true(mnk_ed25519_verify(pub, "nonce", 5, sig, sizeof sig));
    assert_false(mnk_ed25519_verify(pub, "nonse", 5, sig, sizeof sig));
    for (size_t n = 0; n < 8; n++) {
        uint8_t in[8] = { 0xfb, 0xff, 0x00, 0x3e, 0x3f, 0x80, 0x01, 0xaa }, back[8];
        char enc[mnk_base64url_len(8)];
        size_t len = mnk_base64url_encode(in, n, enc), got = 99;
        assert_int_equal(len, strlen(enc));
        assert_null(strchr(enc, '='));
        assert_true(mnk_base64url_decode_ok(enc, back, &got));
        assert_int_equal(got, n);
        assert_memory_equal(in, back, n);
    }
    /* a user JWT signed here by an account key decodes and verifies */
    uint8_t apub[MNK_RAW_LEN], apriv[MNK_RAW_LEN];
    char akey[MNK_STR_LEN + 1];
    assert_true(mnk_ed25519_keygen(apub, apriv));
    assert_true(mnk_encode(MNK_ACCOUNT, apub, akey));
    char claims[512], tok[1200];
    snprintf(claims, sizeof claims,
             "{\"iss\":\"%s\",\"sub\":\"%s\",\"nats\":{\"type\":\"user\",\"version\":2}}",
             akey, FXJ_ALICE_PUB);
    static const char hdr[] = "{\"typ\":\"JWT\",\"alg\":\"ed25519-nkey\"}";
    size_t n = mnk_base64url_encode((const uint8_t *)hdr, strlen(hdr), tok);
    tok[n++] = '.';
    n += mnk_base64url_encode((const uint8_t *)claims, strlen(claims), tok + n);
    assert_true(mnk_ed25519_sign(apriv, tok, n, sig));
    tok[n++] = '.';
    mnk_base64url_encode(sig, sizeof sig, tok + n);
    aj_jwt *j = must_decode(tok, AJ_USER);
    assert_string_equal(j->iss, akey);
    aj_jwt_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_kinds),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_nkey_prefixes_and_crc),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_trust_accounts),
        cmocka_unit_test(test_user_logins),
        cmocka_unit_test(test_revocations),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_subjects_and_cidrs),
        cmocka_unit_test(test_extract),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_sign_and_encode),
    };
    return cmocka_run_group_tests_name("unit.mod_auth_jwt", tests, NULL, NULL);
}
