/*
 * test_tls.c - the ABI's TLS calls (module tls_mod): tls_new from a
 * module's settings group, listen_tls and dial_tls with both handles freed
 * right away (the core keeps its own references), conn_tls_info on both
 * ends of a module connection (peer certificate verified both ways),
 * conn_start_tls upgrading a plain module connection on both sides, and
 * conn_tls_info plus the AUTH event's tls flag for a libnats client that
 * logs in over TLS with a client certificate.
 */
#include "abi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

static char g_certs[256];

/* A free loopback port. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("no free port");
    close(fd);
    return ntohs(a.sin_port);
}

static void tls_module(void **state)
{
    (void)state;
    int port = free_port(), up = free_port();
    char conf[2048];
    snprintf(conf, sizeof conf,
             "modules = [\"tls_mod\"];\n"
             "tls_mod = { port = %d; starttls_port = %d; tls = { cert_file = \"%s/server-cert.pem\"; "
             "key_file = \"%s/server-key.pem\"; ca_file = \"%s/ca.pem\"; }; };\n"
             "tls = { cert_file = \"%s/server-cert.pem\"; key_file = \"%s/server-key.pem\"; "
             "ca_file = \"%s/ca.pem\"; verify = true; };\n",
             port, up, g_certs, g_certs, g_certs, g_certs, g_certs, g_certs);
    it_server *s = abi_start(conf, NULL, NULL);
    abi_log_expect(s, "[tls_mod] listen_tls ok, dial_tls rc=0", 3000);
    abi_log_expect(s, "[tls_mod] accept: tls rc=0 version=TLSv1.3 peer=O=modnats,CN=modnats-test "
                      "verified=1 dns=localhost", 5000);
    abi_log_expect(s, "[tls_mod] dial: tls rc=0 version=TLSv1.3 peer=O=modnats,CN=modnats-test "
                      "verified=1 dns=localhost", 5000);
    abi_log_expect(s, "[tls_mod] dial: got ping", 5000);
    /* conn_start_tls: plain bytes first, then the upgrade on both sides. */
    abi_log_expect(s, "[tls_mod] upgrade accept: start_tls rc=0", 5000);
    abi_log_expect(s, "[tls_mod] upgrade dial: start_tls rc=0", 5000);
    abi_log_expect(s, "[tls_mod] upgrade accept: tls rc=0 version=TLSv1.3 peer=- verified=0", 5000);
    abi_log_expect(s, "[tls_mod] upgrade accept: got secret", 5000);

    natsOptions *o = it_nats_opts(s);
    char ca[300], crt[300], key[300];
    snprintf(ca, sizeof ca, "%s/ca.pem", g_certs);
    snprintf(crt, sizeof crt, "%s/alice-cert.pem", g_certs);
    snprintf(key, sizeof key, "%s/alice-key.pem", g_certs);
    IT_NATS_OK(natsOptions_SetSecure(o, true));
    IT_NATS_OK(natsOptions_LoadCATrustedCertificates(o, ca));
    IT_NATS_OK(natsOptions_LoadCertificatesChain(o, crt, key));
    natsConnection *nc = it_nats_connect_opts(o);
    abi_log_expect(s, "[tls_mod] auth: tls=1 rc=0 peer=CN=alice,O=Acme,C=US "
                      "email=alice@example.com map=0", 5000);
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    char tmpl[] = "/tmp/mn-abi-certs-XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    snprintf(g_certs, sizeof g_certs, "%s", tmpl);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s' '%s'", MN_IT_GEN_CERTS, g_certs);
    if (system(cmd) != 0)
        return 1;
    const struct CMUnitTest tests[] = { ABI_TEST(tls_module) };
    int rc = ABI_RUN(tests);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_certs);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_certs);
    return rc;
}
