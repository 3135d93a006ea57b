/*
 * test_ip_allow.c - the contrib example contrib/examples/ip_allow, built out
 * of tree against the installed SDK by the abi.sdk fixture
 * ($ABI_IP_ALLOW_DIR), in a real server:
 *
 *  ip_allow_v4: a client from 127.0.0.1 logs in with 127.0.0.0/8 listed
 *    (on_match = "allow"), and is refused with allow = ["10.0.0.0/8"].
 *  ip_allow_v6: over IPv6 loopback, "::1/128" lets the client in, an IPv4
 *    list does not.
 *  ip_allow_defer_with_auth_basic: by default (on_match = "defer") a listed
 *    address still has to pass auth_basic's password check; an unlisted
 *    one is refused even with the right password.
 *  ip_allow_bad_network: a malformed network stops the server.
 *  ip_allow_reload: SIGHUP applies a new list; a list that does not parse
 *    is refused by the module's RELOAD hook (ERR), which the core logs,
 *    and the previous list stays in force.
 */
#include "abi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *dir(void) { return abi_env_dir("ABI_IP_ALLOW_DIR"); }

static void ip_allow_v4(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ip_allow\"];\n"
                             "ip_allow = { allow = [\"127.0.0.0/8\", \"10.0.0.0/8\"]; on_match = \"allow\"; };\n",
                             dir(), NULL);
    natsConnection *nc = it_nats_connect(s);
    IT_NATS_OK(natsConnection_Flush(nc));
    it_nats_close(nc);
    it_ok();
}

static void ip_allow_v4_refused(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ip_allow\"];\n"
                             "ip_allow = { allow = [\"10.0.0.0/8\"]; on_match = \"allow\"; };\n",
                             dir(), NULL);
    natsOptions *o = it_nats_opts(s);
    natsConnection *nc = NULL;
    natsStatus st = natsConnection_Connect(&nc, o);
    natsOptions_Destroy(o);
    assert_int_not_equal(st, NATS_OK);
    const char *err = nats_GetLastError(NULL);
    if (!err || !it_contains_ci(err, "Authorization Violation"))
        fail_msg("libnats: %s (%s)", natsStatus_GetText(st), err ? err : "");
    abi_log_expect(s, "[ip_allow] refused 127.0.0.1:", 2000);
    abi_log_expect(s, "authentication error: ip_allow: address not in the allow list", 2000);
    it_ok();
}

/* Connect to [::1]:port; -1 when IPv6 loopback is unavailable. */
static int connect_v6(int port)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
    a.sin6_addr = in6addr_loopback;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Log in over IPv6 with CONNECT+PING; returns what came back. */
static void v6_login(int port, char *out, size_t cap)
{
    int fd = connect_v6(port);
    if (fd < 0)
        fail_msg("cannot connect to [::1]:%d", port);
    static const char req[] = "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1))
        fail_msg("write");
    size_t len = 0;
    long long end = it_now_ms() + 5000;
    while (it_now_ms() < end && len + 1 < cap) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, out + len, cap - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        out[len] = 0;
        if (strstr(out, "PONG\r\n") || strstr(out, "-ERR"))
            break;
    }
    out[len] = 0;
    close(fd);
}

static void ip_allow_v6(void **state)
{
    (void)state;
    int probe = connect_v6(9);   /* is there an IPv6 loopback at all? */
    if (probe >= 0)
        close(probe);
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
    a.sin6_addr = in6addr_loopback;
    bool have_v6 = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    if (!have_v6) {
        fprintf(stderr, "no IPv6 loopback here: IPv6 case skipped\n");
        skip();
    }
    const char *extra[] = { "-a", "::", NULL };
    it_server *s = abi_start("modules = [\"ip_allow\"];\n"
                             "ip_allow = { allow = [\"::1/128\"]; on_match = \"allow\"; };\n",
                             dir(), extra);
    char buf[4096];
    v6_login(s->port, buf, sizeof buf);
    if (!strstr(buf, "PONG\r\n"))
        fail_msg("::1 with [\"::1/128\"] listed: %s", buf);
    /* 127.0.0.1 through the dual-stack listener is not ::1. */
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n");
    abi_expect(r, "-ERR 'Authorization Violation'", 5000);
    it_raw_close(r);
    it_server_stop(s);

    it_server *t = abi_start("modules = [\"ip_allow\"];\n"
                             "ip_allow = { allow = [\"127.0.0.1/32\", \"fe80::/10\"]; on_match = \"allow\"; };\n",
                             dir(), extra);
    v6_login(t->port, buf, sizeof buf);
    if (!strstr(buf, "-ERR 'Authorization Violation'"))
        fail_msg("::1 with only 127.0.0.1/32 and fe80::/10 listed: %s", buf);
    /* IPv4 via the dual-stack listener (::ffff:127.0.0.1) matches 127.0.0.1/32. */
    r = abi_login(t, "");
    it_raw_close(r);
    it_ok();
}

static void ip_allow_defer_with_auth_basic(void **state)
{
    (void)state;
    /* auth_basic comes from the installed server's own module directory. */
    const char *conf =
        "modules = [\"ip_allow\", \"auth_basic\"];\n"
        "ip_allow = { allow = [\"127.0.0.1\"]; };\n"
        "authorization = { user = \"u\"; password = \"p\"; };\n";
    it_server *s = abi_start(conf, dir(), NULL);
    it_raw *r = abi_login(s, "\"user\":\"u\",\"pass\":\"p\"");
    it_raw_close(r);
    r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"u\",\"pass\":\"wrong\"}\r\nPING\r\n");
    abi_expect(r, "-ERR 'Authorization Violation'", 5000);
    it_raw_close(r);
    it_server_stop(s);

    it_server *t = abi_start(
        "modules = [\"ip_allow\", \"auth_basic\"];\n"
        "ip_allow = { allow = [\"10.1.2.3\"]; };\n"
        "authorization = { user = \"u\"; password = \"p\"; };\n", dir(), NULL);
    r = it_raw_open(t->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1,\"user\":\"u\",\"pass\":\"p\"}\r\nPING\r\n");
    abi_expect(r, "-ERR 'Authorization Violation'", 5000);
    it_raw_close(r);
    abi_log_expect(t, "[ip_allow] refused 127.0.0.1:", 2000);
    it_ok();
}

static void ip_allow_bad_network(void **state)
{
    (void)state;
    char so[1024], msg[1400];
    abi_module_path(dir(), "ip_allow.so", so, sizeof so);
    snprintf(msg, sizeof msg, "module ip_allow: %s: init failed (see the lines above)", so);
    abi_refusal r;
    abi_expect_refusal("modules = [\"ip_allow\"];\nip_allow = { allow = [\"10.0.0.0/33\"]; };\n",
                       dir(), msg, &r);
    assert_true(abi_file_has_line(r.log, "[ERR] [ip_allow] allow[0]: \"10.0.0.0/33\" is not an "
                                         "IPv4 or IPv6 address or network (addr/bits)"));
    it_ok();
}

static bool login_ok(const it_server *s)
{
    it_raw *r = it_raw_open(s->port, 0);
    it_raw_send(r, "CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n");
    bool ok = it_raw_expect(r, "PONG\r\n", 2000);
    it_raw_close(r);
    return ok;
}

static void ip_allow_reload(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"ip_allow\"];\n"
                             "ip_allow = { allow = [\"127.0.0.1\"]; on_match = \"allow\"; };\n",
                             dir(), NULL);
    assert_true(login_ok(s));
    it_server_rewrite_conf(s, "modules = [\"ip_allow\"];\n"
                              "ip_allow = { allow = [\"10.0.0.0/8\"]; on_match = \"allow\"; };\n");
    it_server_signal(s, SIGHUP);
    abi_log_expect(s, "[ip_allow] reloaded: 1 network(s), on_match=allow", 5000);
    assert_false(login_ok(s));
    it_server_rewrite_conf(s, "modules = [\"ip_allow\"];\n"
                              "ip_allow = { allow = [\"127.0.0.1\", \"nonsense\"]; on_match = \"allow\"; };\n");
    it_server_signal(s, SIGHUP);
    abi_log_expect(s, "module ip_allow refused its new settings and keeps its old ones", 5000);
    abi_log_expect(s, "[ip_allow] allow[1]: \"nonsense\" is not an IPv4 or IPv6 address", 100);
    assert_false(login_ok(s));   /* still 10.0.0.0/8 only */
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = {
        ABI_TEST(ip_allow_v4), ABI_TEST(ip_allow_v4_refused), ABI_TEST(ip_allow_v6),
        ABI_TEST(ip_allow_defer_with_auth_basic), ABI_TEST(ip_allow_bad_network),
        ABI_TEST(ip_allow_reload),
    };
    return ABI_RUN(tests);
}
