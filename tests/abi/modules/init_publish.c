/*
 * init_publish.c - ABI test module that publishes during init (main thread,
 * before the I/O workers run), which the header allows ("publish: any
 * thread").  It also subscribes to what it publishes and logs the
 * delivery, so the test sees whether the message was routed at all.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static void on_hello(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    api->log(self, MODNATS_LOG_INFO, "delivered: %.*s", (int)msg->data_len, msg->data);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    (void)cfg;
    api = a;
    self = m;
    if (!api->subscribe(m, api->account_global(), "abi.init.hello", NULL, 1, 0, on_hello, NULL))
        return MODNATS_ERR;
    for (int i = 0; i < 4; i++)
        if (abi_pub(api, self, "abi.init.hello", "hello %d from init", i) != MODNATS_OK)
            return MODNATS_ERR;
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "init_publish", NULL, init, NULL);
MODNATS_MODULE(init_publish) { return &desc; }
