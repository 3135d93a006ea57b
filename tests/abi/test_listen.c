/*
 * test_listen.c - a module's own listener and outbound dials (modules
 * listen_mod, dial_mod): the ABI's hooks for routes, gateways and leaf
 * nodes.
 *
 *  listen_module: the module listens on a port of its own; a TCP client
 *    there gets the module's greeting and its bytes echoed (on_open,
 *    on_data, conn_write), and on_close runs when the client leaves.
 *  dial_module: the module dials a socket the test listens on; the peer
 *    gets the module's bytes and the module gets the peer's (on_data).
 *    conn_write on a NATS client connection is refused (ENOTSUP).
 *
 * These were written as expected-failure tests while the core had no
 * module-owned connections (listen returned NULL with a log line, dial
 * MODNATS_ENOTSUP); the #else branches below still assert that behaviour,
 * for a core built without them: set ABI_LISTEN_READY / ABI_DIAL_READY to
 * 0 there.
 */
#include "abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <modnats/modnats.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ABI_LISTEN_READY 1   /* 0: assert the old refusal (listen returned NULL) */
#define ABI_DIAL_READY 1     /* 0: assert the old MODNATS_ENOTSUP */

/* A bound, listening loopback socket and its port. */
static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("listen: %s", strerror(errno));
    *port = ntohs(a.sin_port);
    return fd;
}

static void listen_module(void **state)
{
    (void)state;
    int port;
    close(listen_any(&port));   /* a free port */
    char conf[256];
    snprintf(conf, sizeof conf, "modules = [\"listen_mod\"];\nlisten_mod = { port = %d; };\n", port);
#if !ABI_LISTEN_READY
    char so[1024], msg[1400], err[300];
    abi_module_path(abi_module_dir(), "listen_mod.so", so, sizeof so);
    snprintf(msg, sizeof msg, "module listen_mod: %s: init failed (see the lines above)", so);
    abi_refusal r;
    abi_expect_refusal(conf, NULL, msg, &r);
    snprintf(err, sizeof err, "[ERR] [listen_mod] listen(127.0.0.1:%d): module-owned connections "
                              "are not implemented in this core yet", port);
    assert_true(abi_file_has_line(r.log, err));
    assert_true(abi_file_has_line(r.log, "[ERR] [listen_mod] no listener: cannot work without it"));
#else
    it_server *s = abi_start(conf, NULL, NULL);
    char line[128];
    snprintf(line, sizeof line, "[listen_mod] listening on 127.0.0.1:%d", port);
    abi_log_expect(s, line, 2000);
    it_raw *r = it_raw_connect(port, 0);
    abi_expect(r, "hello\n", 5000);
    it_raw_send(r, "ping over the module's own protocol\n");
    abi_expect(r, "ping over the module's own protocol\n", 5000);
    /* conn_pending: most of 32 MiB queued to a client that does not read
     * is still pending. */
    it_raw_send(r, "pending?\n");
    abi_log_expect(s, "[listen_mod] pending after 32 MiB: at least 16 MiB", 5000);
    it_raw_close(r);
    abi_log_expect(s, "[listen_mod] closed: ", 2000);
#endif
    it_ok();
}

static void dial_module(void **state)
{
    (void)state;
    int port;
    int lfd = listen_any(&port);
    char conf[256], line[200];
    snprintf(conf, sizeof conf, "modules = [\"dial_mod\"];\ndial_mod = { port = %d; };\n", port);
    it_server *s = abi_start(conf, NULL, NULL);
    /* Client connections stay the core's: conn_write refuses them. */
    it_raw *c = abi_login(s, "");
    abi_log_expect(s, "[dial_mod] conn_write on a client: rc=-2", 2000);
    it_raw_close(c);
#if !ABI_DIAL_READY
    snprintf(line, sizeof line, "[dial_mod] dial(127.0.0.1:%d): rc=%d", port, MODNATS_ENOTSUP);
    abi_log_expect(s, line, 2000);
    struct pollfd p = { lfd, POLLIN, 0 };
    assert_int_equal(poll(&p, 1, 300), 0);   /* nobody dialed */
#else
    snprintf(line, sizeof line, "[dial_mod] dial(127.0.0.1:%d): rc=0", port);
    abi_log_expect(s, line, 2000);
    struct pollfd p = { lfd, POLLIN, 0 };
    assert_int_equal(poll(&p, 1, 5000), 1);
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    char buf[64] = "";
    struct pollfd q = { fd, POLLIN, 0 };
    assert_int_equal(poll(&q, 1, 5000), 1);
    assert_true(read(fd, buf, sizeof buf - 1) > 0);
    assert_string_equal(buf, "hello from dial_mod\n");
    assert_true(write(fd, "welcome", 7) == 7);
    abi_log_expect(s, "[dial_mod] dial: got welcome", 2000);
    close(fd);
#endif
    close(lfd);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(listen_module), ABI_TEST(dial_module) };
    return ABI_RUN(tests);
}
