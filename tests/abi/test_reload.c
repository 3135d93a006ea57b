/*
 * test_reload.c - MODNATS_EV_RELOAD (module ev_reload): SIGHUP hands the
 * hook the module's new settings group, on the main thread; a new group
 * that fails validation is refused with "file:line:" text and the hook is
 * not called (the old value stays).
 */
#include "abi.h"

#include <signal.h>
#include <string.h>

static const char *conf_with(const char *group)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "modules = [\"ev_reload\"];\nev_reload = { %s };\n", group);
    return buf;
}

static void expect_greeting(natsConnection *nc, const char *want)
{
    natsMsg *reply = NULL;
    IT_NATS_OK(natsConnection_RequestString(&reply, nc, "abi.reload.get", "", 5000));
    assert_string_equal(natsMsg_GetData(reply), want);
    natsMsg_Destroy(reply);
}

static void reload_event(void **state)
{
    (void)state;
    it_server *s = abi_start(conf_with("greeting = \"one\";"), NULL, NULL);
    natsConnection *nc = it_nats_connect(s);
    expect_greeting(nc, "one");

    it_server_rewrite_conf(s, conf_with("greeting = \"two\";"));
    it_server_signal(s, SIGHUP);
    abi_log_expect(s, "[ev_reload] reload greeting=two rc=0 main_thread=yes", 5000);
    abi_log_expect(s, "Reloaded server configuration", 5000);
    expect_greeting(nc, "two");

    /* Unknown key: refused before any hook runs. */
    it_server_rewrite_conf(s, conf_with("greeting = \"three\";\n  bogus = 1;"));
    it_server_signal(s, SIGHUP);
    char want[700];
    snprintf(want, sizeof want,
             "Reload failed, keeping the running configuration: %s:3: module ev_reload has no "
             "option \"bogus\"", s->conf);
    abi_log_expect(s, want, 5000);
    /* Wrong type. */
    it_server_rewrite_conf(s, conf_with("greeting = \"four\";\n  count = \"many\";"));
    it_server_signal(s, SIGHUP);
    snprintf(want, sizeof want,
             "Reload failed, keeping the running configuration: %s:3: module ev_reload: "
             "\"count\" must be an integer", s->conf);
    abi_log_expect(s, want, 5000);
    abi_log_refute(s, "greeting=three");
    abi_log_refute(s, "greeting=four");
    expect_greeting(nc, "two");
    it_nats_close(nc);
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(reload_event) };
    return ABI_RUN(tests);
}
