/*
 * test_stats.c - stats and conns_foreach (module stats_mod: a request on
 * "stats.get" is answered from a module thread; see the module's header).
 *
 *  stats_counters: between two snapshots, in_msgs/out_msgs grow by exactly
 *    the known traffic (10 PUBs to two subscriptions, plus the requests
 *    and the first answer); connections and subscriptions (global account,
 *    module subscription included) match; conns_foreach lists both clients
 *    in cid order with name, account and, with_subs, their subjects
 *    ("subject queue" for queue subscriptions); without with_subs no list.
 *    conns_foreach from an I/O worker (a message callback, a CONNECT
 *    hook) returns ERR.
 *  stats_foreach_in_init: conns_foreach on the main thread during init
 *    returns (OK or ERR) instead of waiting for workers that do not run
 *    yet.
 */
#include "abi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void sync_raw(it_raw *r)
{
    it_raw_send(r, "PING\r\n");
    abi_expect(r, "PONG\r\n", 5000);
}

typedef struct snap {
    unsigned long long in, out, conns, total, subs;
    int rc, io, id_ok, worker_rc;
} snap;

/* Send a request from r (subscribed to "rep") and parse the stats line of
 * the answer; the whole answer text is left in r's buffer after pos. */
static void get_stats(it_raw *r, const char *mode, snap *out, const char **text)
{
    size_t start = r->pos;
    it_raw_send(r, "PUB stats.get rep %zu\r\n%s\r\n", strlen(mode), mode);
    abi_expect(r, "ordered=", 5000);
    sync_raw(r);
    const char *p = strstr(r->buf + start, "stats rc=");
    assert_non_null(p);
    if (sscanf(p,
               "stats rc=%d in_msgs=%llu out_msgs=%llu connections=%llu total_connections=%llu "
               "subscriptions=%llu io_threads=%d id_ok=%d worker_rc=%d",
               &out->rc, &out->in, &out->out, &out->conns, &out->total, &out->subs, &out->io,
               &out->id_ok, &out->worker_rc) != 9)
        fail_msg("cannot parse: %.200s", p);
    *text = p;
}

static void stats_counters(void **state)
{
    (void)state;
    it_server *s = abi_start("io_threads = 2;\nmodules = [\"stats_mod\"];\n", NULL, NULL);
    it_raw *one = abi_login(s, "\"name\":\"one\"");
    it_raw_send(one, "SUB t.x 1\r\nSUB t.x 2\r\nSUB rep 3\r\n");
    sync_raw(one);
    it_raw *two = abi_login(s, "\"name\":\"two\"");
    it_raw_send(two, "SUB t.y q 1\r\n");
    sync_raw(two);

    snap a, b;
    const char *text;
    get_stats(one, "subs", &a, &text);
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.io, 2);
    assert_int_equal(a.id_ok, 1);
    assert_int_equal(a.worker_rc, -1);
    assert_int_equal(a.conns, 2);
    assert_true(a.total >= 2);
    assert_int_equal(a.subs, 5);   /* stats.get (module) + 3 + 1 */
    /* Both clients, cid order, subjects sorted by the module. */
    const char *c1 = strstr(text, "conn cid=");
    assert_non_null(c1);
    if (!strstr(text, " kind=Client name=one account=$G user= subs=3 list=[rep,t.x,t.x]\n") ||
        !strstr(text, " kind=Client name=two account=$G user= subs=1 list=[t.y q]\n") ||
        !strstr(text, "foreach_rc=0 ordered=1") ||
        strstr(text, " name=one ") > strstr(text, " name=two "))
        fail_msg("conns_foreach with subs:\n%s", text);

    for (int i = 0; i < 10; i++)
        it_raw_send(two, "PUB t.x 2\r\nhi\r\n");
    sync_raw(two);
    get_stats(one, "nosubs", &b, &text);
    /* in: answer a (1), 10 PUBs, request b (1); out: 1 + 20 + 1. */
    if (b.in - a.in != 12 || b.out - a.out != 22)
        fail_msg("in_msgs +%llu (want 12), out_msgs +%llu (want 22)", b.in - a.in, b.out - a.out);
    if (!strstr(text, " name=one account=$G user= subs=3 list=null\n") ||
        !strstr(text, " name=two account=$G user= subs=1 list=null\n"))
        fail_msg("conns_foreach without subs:\n%s", text);

    /* A client that leaves is gone from the next snapshot. */
    it_raw_close(two);
    long long end = it_now_ms() + 3000;
    do {
        get_stats(one, "nosubs", &b, &text);
    } while ((b.conns != 1 || strstr(text, "name=two")) && it_now_ms() < end);
    assert_int_equal(b.conns, 1);
    assert_int_equal(b.subs, 4);
    assert_null(strstr(text, "name=two"));
    abi_log_expect(s, "[stats_mod] conns_foreach in hook rc=-1", 1000);
    abi_log_refute(s, "[stats_mod] conns_foreach in hook rc=0");
    it_raw_close(one);
    it_ok();
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("cannot find a free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

static void stats_foreach_in_init(void **state)
{
    (void)state;
    char port[16];
    snprintf(port, sizeof port, "%d", free_port());
    char conf[600], log[600];
    it_write_file("init.conf",
                  "modules = [\"stats_mod\"];\nstats_mod = { foreach_in_init = true; };\n", conf,
                  sizeof conf);
    snprintf(log, sizeof log, "%s/init.log", it_tmpdir());
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(it_server_binary(), it_server_binary(), "-a", "127.0.0.1", "-p", port, "-c", conf,
              "--module_path", abi_module_dir(), (char *)NULL);
        _exit(127);
    }
    assert_true(pid > 0);
    bool returned = false, ready = false;
    long long end = it_now_ms() + 3000;
    while (it_now_ms() < end && !ready) {
        returned = abi_file_has_line(log, "[INF] [stats_mod] conns_foreach in init rc=*");
        ready = abi_file_has_line(log, "[INF] Server is ready");
        it_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    if (!returned || !ready) {
        char cmd[700];
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
        if (system(cmd) != 0) {}
        fail_msg("conns_foreach called during init %s", returned ? "returned, but the server did not start"
                                                                  : "never returned (it waits for workers not yet started)");
    }
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(stats_counters), ABI_TEST(stats_foreach_in_init) };
    return ABI_RUN(tests);
}
