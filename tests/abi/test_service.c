/*
 * test_service.c - the service registry (modules svc_store, svc_user):
 * svc_store registers "store" v1; svc_user, loaded after it, finds it in
 * its init and serves requests through it.  Versions are exact (v2 is not
 * found), a second registration of a name and version fails, and a user
 * loaded before the provider finds nothing and stops the server.
 */
#include "abi.h"

#include <stdio.h>

static void request(natsConnection *nc, const char *subj, const char *body, const char *want)
{
    natsMsg *reply = NULL;
    IT_NATS_OK(natsConnection_RequestString(&reply, nc, subj, body, 5000));
    assert_string_equal(natsMsg_GetData(reply), want);
    natsMsg_Destroy(reply);
}

static void service_lookup(void **state)
{
    (void)state;
    it_server *s = abi_start("modules = [\"svc_store\", \"svc_user\"];\n", NULL, NULL);
    abi_log_expect(s, "[svc_store] second register of store v1: rc=-1", 1000);
    abi_log_expect(s, "module svc_store: service \"store\" v1 is already offered by module svc_store", 1000);
    abi_log_expect(s, "[svc_user] store v2 absent, missing absent", 1000);
    natsConnection *nc = it_nats_connect(s);
    request(nc, "svc.store.get", "greeting", "hello from svc_user");
    request(nc, "svc.store.put", "color=blue", "put rc=0");
    request(nc, "svc.store.get", "color", "blue");
    request(nc, "svc.store.get", "nothing", "(none)");
    it_nats_close(nc);
    it_ok();
}

static void service_missing(void **state)
{
    (void)state;
    char path[1024], msg[1400];
    abi_module_path(abi_module_dir(), "svc_user.so", path, sizeof path);
    snprintf(msg, sizeof msg, "module svc_user: %s: init failed (see the lines above)", path);
    abi_refusal r;
    abi_expect_refusal("modules = [\"svc_user\", \"svc_store\"];\n", NULL, msg, &r);
    assert_true(abi_file_has_line(r.log, "[ERR] [svc_user] service \"store\" v1 not found: load svc_store first"));
    it_ok();
}

int main(int argc, char **argv)
{
    abi_init(argc, argv);
    const struct CMUnitTest tests[] = { ABI_TEST(service_lookup), ABI_TEST(service_missing) };
    return ABI_RUN(tests);
}
