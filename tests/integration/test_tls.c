/*
 * test_tls.c - TLS on the client port against a real server: libnats over
 * TLS without and with client certificates (verify: none, wrong CA, good),
 * verify_and_map (certificates that name users with permissions, one
 * that names nobody), a plain-text client on the TLS port, a client that
 * never starts the handshake, certificates reloaded on SIGHUP (and a bad
 * new one refused), and handshake_first (modnats only: nats-server 2.9
 * lacks it), allow_non_tls (TLS and plain-text clients on one port, also
 * 2.10), and certificates or keys that must stop the server.
 *
 * The certificates are made once per run by tests/gen/gen_certs.sh with
 * the openssl CLI; the configs are in nats-server's format, which both
 * servers read.  A small OpenSSL client checks what libnats does not show
 * (which certificate the server presents, INFO over TLS).
 */
#include "itnats.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_certs[256];

static const char *cert(const char *name)
{
    static char buf[8][512];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 512, "%s/%s", g_certs, name);
    return b;
}

/* A server config with a tls block (extra keys inside it) and more. */
static const char *conf(const char *tls_extra, const char *srv_cert, const char *rest)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "tls {\n  cert_file: \"%s/%s-cert.pem\"\n  key_file: \"%s/%s-key.pem\"\n"
             "  ca_file: \"%s/ca.pem\"\n  timeout: 1\n%s}\n%s",
             g_certs, srv_cert, g_certs, srv_cert, g_certs, tls_extra ? tls_extra : "",
             rest ? rest : "");
    return buf;
}

/* libnats options for TLS, with a client certificate when who != NULL
 * ("alice" -> alice-cert.pem/alice-key.pem). */
static natsOptions *tls_opts(const it_server *s, const char *who)
{
    natsOptions *o = it_nats_opts(s);
    IT_NATS_OK(natsOptions_SetSecure(o, true));
    IT_NATS_OK(natsOptions_LoadCATrustedCertificates(o, cert("ca.pem")));
    if (who) {
        char c[64], k[64];
        snprintf(c, sizeof c, "%s-cert.pem", who);
        snprintf(k, sizeof k, "%s-key.pem", who);
        IT_NATS_OK(natsOptions_LoadCertificatesChain(o, cert(c), cert(k)));
    }
    return o;
}

static natsStatus try_connect(const it_server *s, const char *who, natsConnection **nc)
{
    natsOptions *o = tls_opts(s, who);
    natsStatus st = natsConnection_Connect(nc, o);
    natsOptions_Destroy(o);
    return st;
}

static natsConnection *connect_as(const it_server *s, const char *who)
{
    natsConnection *nc = NULL;
    natsStatus st = try_connect(s, who, &nc);
    if (st != NATS_OK)
        fail_msg("TLS connect as %s: %s (%s)", who ? who : "(no cert)", natsStatus_GetText(st),
                 nats_GetLastError(NULL) ? nats_GetLastError(NULL) : "");
    return nc;
}

static void refused(const it_server *s, const char *who)
{
    natsConnection *nc = NULL;
    natsStatus st = try_connect(s, who, &nc);
    if (st == NATS_OK) {
        it_nats_close(nc);
        fail_msg("TLS connect as %s was accepted", who ? who : "(no cert)");
    }
}

/* One round trip: sub on a, pub on b, expect the message (or not). */
static bool delivers(natsConnection *pub, natsConnection *sub, const char *subj)
{
    natsSubscription *ss = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&ss, sub, subj));
    IT_NATS_OK(natsConnection_Flush(sub));
    natsConnection_PublishString(pub, subj, "over tls");
    natsConnection_FlushTimeout(pub, 2000);
    natsMsg *m = NULL;
    bool got = natsSubscription_NextMsg(&m, ss, 1000) == NATS_OK;
    if (got) {
        assert_string_equal(natsMsg_GetData(m), "over tls");
        natsMsg_Destroy(m);
    }
    natsSubscription_Destroy(ss);
    return got;
}

/* ---- a small OpenSSL client -------------------------------------------- */

typedef struct tls_peek {
    char subject_cn[128];
    char info[2048];
} tls_peek;

static int tcp_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = { .tv_sec = 5 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("connect: %s", strerror(errno));
    return fd;
}

/* Read one CRLF-terminated line from fd into buf (plain socket). */
static bool read_line_plain(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        ssize_t r = recv(fd, buf + n, 1, 0);
        if (r <= 0)
            return false;
        n++;
        if (n >= 2 && buf[n - 2] == '\r' && buf[n - 1] == '\n')
            break;
    }
    buf[n] = 0;
    return true;
}

/* Handshake (after the plain INFO unless first), record the server's
 * certificate CN and, when first, the INFO read over TLS. */
static bool tls_peek_server(int port, bool first, tls_peek *out)
{
    memset(out, 0, sizeof *out);
    int fd = tcp_to(port);
    if (!first && !read_line_plain(fd, out->info, sizeof out->info)) {
        close(fd);
        return false;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, cert("ca.pem"), NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    bool ok = SSL_connect(ssl) == 1;
    if (ok) {
        X509 *x = SSL_get1_peer_certificate(ssl);
        if (x) {
            X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
                                      out->subject_cn, sizeof out->subject_cn);
            X509_free(x);
        }
        if (first) {
            size_t n = 0;
            while (n + 1 < sizeof out->info && !strstr(out->info, "\r\n")) {
                int r = SSL_read(ssl, out->info + n, (int)(sizeof out->info - 1 - n));
                if (r <= 0)
                    break;
                n += (size_t)r;
                out->info[n] = 0;
            }
            ok = strncmp(out->info, "INFO ", 5) == 0;
        }
    }
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return ok;
}

/* A handshake after the plain INFO with a client limited to TLS 1.2 and
 * the given OpenSSL cipher list (NULL: default), or to the given groups
 * (NULL: default).  True when it succeeds; *cipher gets the suite's IANA
 * name. */
static bool tls_try(int port, const char *ciphers12, const char *groups, char *cipher,
                    size_t len)
{
    char line[2048];
    int fd = tcp_to(port);
    bool ok = read_line_plain(fd, line, sizeof line);
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, cert("ca.pem"), NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ciphers12) {
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_cipher_list(ctx, ciphers12);
    }
    if (groups)
        SSL_CTX_set1_groups_list(ctx, groups);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    ok = ok && SSL_connect(ssl) == 1;
    if (ok && cipher)
        snprintf(cipher, len, "%s", SSL_CIPHER_standard_name(SSL_get_current_cipher(ssl)));
    ERR_clear_error();
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return ok;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_tls_no_client_cert(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NULL, "server", NULL), NULL);
    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"tls_required\":true"));
    assert_null(strstr(it_raw_info(r), "\"tls_verify\":true"));
    it_raw_close(r);

    natsConnection *a = connect_as(s, NULL);
    natsConnection *b = connect_as(s, "alice");   /* a cert nobody asked for is fine */
    assert_true(delivers(a, b, "tls.plain"));
    assert_true(delivers(b, a, "tls.back"));
    /* A big message crosses several TLS records. */
    natsSubscription *ss = NULL;
    IT_NATS_OK(natsConnection_SubscribeSync(&ss, b, "big"));
    IT_NATS_OK(natsConnection_Flush(b));
    size_t big = 200 * 1024;
    char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    IT_NATS_OK(natsConnection_Publish(a, "big", data, (int)big));
    IT_NATS_OK(natsConnection_Flush(a));
    natsMsg *m = NULL;
    IT_NATS_OK(natsSubscription_NextMsg(&m, ss, 3000));
    assert_int_equal(natsMsg_GetDataLength(m), big);
    assert_memory_equal(natsMsg_GetData(m), data, big);
    natsMsg_Destroy(m);
    natsSubscription_Destroy(ss);
    free(data);
    it_nats_close(a);
    it_nats_close(b);
    it_ok();
}

static void test_tls_verify(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf("  verify: true\n", "server", NULL), NULL);
    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"tls_verify\":true"));
    it_raw_close(r);
    refused(s, NULL);       /* no certificate */
    refused(s, "rogue");    /* signed by another CA */
    natsConnection *a = connect_as(s, "alice");
    natsConnection *b = connect_as(s, "carol");
    assert_true(delivers(a, b, "verified"));
    it_nats_close(a);
    it_nats_close(b);
    it_ok();
}

static void test_tls_verify_and_map(void **state)
{
    (void)state;
    const char *users =
        "authorization {\n  users = [\n"
        "    { user: \"alice@example.com\", permissions: { publish: \"alice.>\", subscribe: "
        "[\"alice.>\", \"_INBOX.>\"] } }\n"
        "    { user: \"CN=bob,OU=Ops,O=Acme,C=US\" }\n"
        "  ]\n}\n";
    it_server *s = it_server_start(conf("  verify_and_map: true\n", "server", users), NULL);
    refused(s, NULL);
    refused(s, "carol");    /* verified, but names no user */
    refused(s, "rogue");
    natsConnection *alice = connect_as(s, "alice");   /* by e-mail SAN */
    natsConnection *bob = connect_as(s, "bob");       /* by subject DN */
    assert_true(delivers(alice, bob, "alice.news"));
    /* alice's permissions came with the mapping. */
    assert_false(delivers(alice, bob, "bob.news"));
    assert_true(delivers(bob, alice, "alice.inbox"));
    it_nats_close(alice);
    it_nats_close(bob);
    it_ok();
}

static void test_tls_plain_client(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NULL, "server", NULL), NULL);
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false}\r\nPING\r\n");
    assert_true(it_raw_wait_closed(r, 3000));
    if (!it_is_nats_server()) {
        /* nats-server 2.9 just closes; modnats says why, in plain text. */
        assert_non_null(strstr(r->buf, "-ERR 'Secure Connection - TLS Required'\r\n"));
    }
    assert_null(strstr(r->buf, "PONG"));
    it_raw_close(r);
    /* libnats without TLS refuses on its own (INFO says tls_required). */
    natsConnection *nc = NULL;
    natsOptions *o = it_nats_opts(s);
    assert_int_not_equal(natsConnection_Connect(&nc, o), NATS_OK);
    natsOptions_Destroy(o);
    it_ok();
}

static void test_tls_handshake_timeout(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NULL, "server", NULL), NULL);   /* timeout: 1 */
    it_raw *r = it_raw_open(s->port, 0);
    long long t0 = it_now_ms();
    assert_true(it_raw_wait_closed(r, 5000));
    long long took = it_now_ms() - t0;
    assert_true(took >= 700 && took < 4000);
    it_raw_close(r);
    /* The server is fine afterwards. */
    natsConnection *nc = connect_as(s, NULL);
    it_nats_close(nc);
    it_ok();
}

static void test_tls_reload(void **state)
{
    (void)state;
    it_server *s = it_server_start(conf(NULL, "server", NULL), NULL);
    natsConnection *old = connect_as(s, NULL);
    tls_peek p;
    assert_true(tls_peek_server(s->port, false, &p));
    assert_string_equal(p.subject_cn, "modnats-test");

    it_server_rewrite_conf(s, conf(NULL, "server2", NULL));
    it_server_signal(s, SIGHUP);
    bool switched = false;
    for (int i = 0; i < 50 && !switched; i++) {
        it_sleep_ms(100);
        switched = tls_peek_server(s->port, false, &p) && !strcmp(p.subject_cn, "modnats-test-2");
    }
    assert_true(switched);
    /* The connection made before the reload goes on. */
    natsConnection *nw = connect_as(s, NULL);
    assert_true(delivers(old, nw, "after.reload"));

    /* A bad certificate: logged, and the current one stays. */
    char bad[4096];
    snprintf(bad, sizeof bad,
             "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  timeout: 1\n}\n",
             cert("garbage.pem"), cert("server2-key.pem"));
    it_server_rewrite_conf(s, bad);
    it_server_signal(s, SIGHUP);
    it_sleep_ms(500);
    assert_true(tls_peek_server(s->port, false, &p));
    assert_string_equal(p.subject_cn, "modnats-test-2");
    natsConnection *third = connect_as(s, NULL);
    assert_true(delivers(third, old, "still.up"));
    it_nats_close(old);
    it_nats_close(nw);
    it_nats_close(third);
    it_ok();
}

static void test_tls_handshake_first(void **state)
{
    (void)state;
    if (it_is_nats_server()) {
        /* handshake_first is nats-server 2.10; the reference here is 2.9. */
        it_ok();
        skip();
    }
    it_set_probe_connect_only(true);
    it_server *s = it_server_start(conf("  handshake_first: true\n", "server", NULL), NULL);
    it_set_probe_connect_only(false);
    tls_peek p;
    assert_true(tls_peek_server(s->port, true, &p));   /* TLS first, then INFO over it */
    assert_non_null(strstr(p.info, "\"tls_required\":true"));
    /* A client that waits for INFO before TLS hears nothing and times out. */
    it_raw *r = it_raw_connect(s->port, 0);
    assert_true(it_raw_wait_closed(r, 5000));
    assert_int_equal(r->len, 0);
    it_raw_close(r);
    it_ok();
}

static void test_tls_flags(void **state)
{
    (void)state;
    /* nats-server's flags: --tlsverify implies --tls. */
    const char *args[] = { "--tlsverify", "--tlscert", cert("server-cert.pem"),
                           "--tlskey", cert("server-key.pem"), "--tlscacert", cert("ca.pem"),
                           NULL };
    it_server *s = it_server_start(NULL, args);
    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"tls_required\":true"));
    assert_non_null(strstr(it_raw_info(r), "\"tls_verify\":true"));
    it_raw_close(r);
    refused(s, NULL);
    natsConnection *a = connect_as(s, "alice");
    natsConnection *b = connect_as(s, "bob");
    assert_true(delivers(a, b, "flags"));
    it_nats_close(a);
    it_nats_close(b);
    it_ok();
}

static void test_tls_ciphers_curves(void **state)
{
    (void)state;
    /* cipher_suites restrict TLS 1.2 (Go's names); curve_preferences the
     * key exchange groups. */
    it_server *s = it_server_start(conf("  cipher_suites: [\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"]\n"
                                        "  curve_preferences: [\"CurveP384\"]\n", "server", NULL),
                                   NULL);
    char got[128] = "";
    assert_true(tls_try(s->port, "ECDHE-RSA-AES128-GCM-SHA256", "P-384", got, sizeof got));
    assert_string_equal(got, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_false(tls_try(s->port, "ECDHE-RSA-AES256-GCM-SHA384", "P-384", NULL, 0));
    assert_false(tls_try(s->port, NULL, "X25519", NULL, 0));   /* no common group */
    assert_true(tls_try(s->port, NULL, "P-384:X25519", got, sizeof got));
    if (!it_is_nats_server()) {
        /* min_version (nats-server 2.10): a TLS 1.2-only client is refused. */
        it_server *t = it_server_start(conf("  min_version: \"1.3\"\n", "server", NULL), NULL);
        assert_false(tls_try(t->port, "ECDHE-RSA-AES128-GCM-SHA256", NULL, NULL, 0));
        assert_true(tls_try(t->port, NULL, NULL, got, sizeof got));
        assert_null(strstr(got, "_WITH_"));   /* a TLS 1.3 suite */
    }
    it_ok();
}

static void test_tls_handshake_first_fallback(void **state)
{
    (void)state;
    if (it_is_nats_server()) {
        it_ok();   /* nats-server 2.10 */
        skip();
    }
    it_server *s = it_server_start(conf("  handshake_first: \"300ms\"\n", "server", NULL), NULL);
    /* A handshake-first client gets TLS at once and INFO over it ... */
    tls_peek p;
    assert_true(tls_peek_server(s->port, true, &p));
    assert_non_null(strstr(p.info, "\"tls_required\":true"));
    /* ... and a client that waits for INFO (libnats 3.4) gets it in plain
     * text after the delay, then starts TLS as usual. */
    long long t0 = it_now_ms();
    natsConnection *a = connect_as(s, NULL);
    assert_true(it_now_ms() - t0 >= 250);
    natsConnection *b = connect_as(s, "alice");
    assert_true(delivers(a, b, "fallback"));
    it_nats_close(a);
    it_nats_close(b);
    it_ok();
}

static void test_tls_allow_non_tls(void **state)
{
    (void)state;
    if (it_is_nats_server()) {
        /* allow_non_tls is nats-server 2.10; the reference here is 2.9. */
        it_ok();
        skip();
    }
    it_server *s = it_server_start(conf(NULL, "server", "allow_non_tls: true\n"), NULL);
    it_raw *r = it_raw_open(s->port, 0);
    assert_non_null(strstr(it_raw_info(r), "\"tls_available\":true"));
    assert_null(strstr(it_raw_info(r), "\"tls_required\""));
    it_raw_send(r, "CONNECT {\"verbose\":false}\r\nPING\r\n");
    assert_true(it_raw_expect(r, "PONG\r\n", 3000));
    it_raw_close(r);
    /* libnats 3.4 knows only tls_required, so the TLS side is our own
     * OpenSSL client: INFO in plain text, handshake, then NATS over TLS. */
    int fd = tcp_to(s->port);
    char line[2048];
    assert_true(read_line_plain(fd, line, sizeof line));
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx, cert("ca.pem"), NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    assert_int_equal(SSL_connect(ssl), 1);
    static const char hello[] = "CONNECT {\"verbose\":false}\r\nSUB mixed.a 1\r\nPING\r\n";
    assert_int_equal(SSL_write(ssl, hello, (int)sizeof hello - 1), (int)sizeof hello - 1);
    char got[4096] = "";
    size_t n = 0;
    while (n + 1 < sizeof got && !strstr(got, "PONG\r\n")) {
        int k = SSL_read(ssl, got + n, (int)(sizeof got - 1 - n));
        assert_true(k > 0);
        n += (size_t)k;
        got[n] = 0;
    }
    natsConnection *plain = it_nats_connect(s);
    IT_NATS_OK(natsConnection_PublishString(plain, "mixed.a", "to tls"));
    IT_NATS_OK(natsConnection_Flush(plain));
    while (n + 1 < sizeof got && !strstr(got, "to tls\r\n")) {
        int k = SSL_read(ssl, got + n, (int)(sizeof got - 1 - n));
        assert_true(k > 0);
        n += (size_t)k;
        got[n] = 0;
    }
    assert_non_null(strstr(got, "MSG mixed.a 1 6\r\nto tls\r\n"));
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    it_nats_close(plain);
    it_ok();
}

static void test_tls_refused_settings(void **state)
{
    (void)state;
    char c[2048];
    snprintf(c, sizeof c, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n}\n",
             cert("garbage.pem"), cert("server-key.pem"));
    it_expect_refused(c, "tls: cannot load cert_file");
    snprintf(c, sizeof c, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n}\n",
             cert("server-cert.pem"), cert("alice-key.pem"));
    it_expect_refused(c, "does not match cert_file");
    snprintf(c, sizeof c, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  ca_file: \"%s\"\n}\n",
             cert("server-cert.pem"), cert("server-key.pem"), cert("missing.pem"));
    it_expect_refused(c, "tls: cannot load ca_file");
    snprintf(c, sizeof c, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  verfy: true\n}\n",
             cert("server-cert.pem"), cert("server-key.pem"));
    it_expect_refused(c, "\"tls.verfy\": unknown TLS setting");
    snprintf(c, sizeof c, "tls {\n  cert_file: \"%s\"\n}\n", cert("server-cert.pem"));
    it_expect_refused(c, "TLS needs a certificate and its key");
    it_ok();
}

int main(int argc, char **argv)
{
    it_init(argc, argv);
    char tmpl[] = "/tmp/mn-tls-certs-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_certs, sizeof g_certs, "%s", tmpl);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", MN_IT_GEN_CERTS, g_certs);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot generate the test certificates (%s)\n", cmd);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_no_client_cert, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_verify, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_verify_and_map, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_plain_client, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake_timeout, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_reload, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake_first, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_refused_settings, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_allow_non_tls, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_handshake_first_fallback, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_flags, it_setup, it_teardown),
        cmocka_unit_test_setup_teardown(test_tls_ciphers_curves, it_setup, it_teardown),
    };
    int rc = cmocka_run_group_tests_name("integration.tls", tests, NULL, NULL);
    nats_Close();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_certs);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_certs);
    return rc;
}
