/*
 * urls_mod.c - ABI test module for set_connect_urls: the STRING_LIST
 * option "initial" is set in init; a message on "urls.set" sets the URLs
 * its body lists (separated by spaces; an empty body clears them) and
 * answers "set rc=<rc>".
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;
static modnats_sub *g_sub;

static const modnats_option opts[] = {
    { "initial", MODNATS_OPT_STRING_LIST, false, "connect_urls set in init" },
    { NULL, 0, false, NULL },
};

static void on_set(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    (void)ud;
    (void)sub;
    (void)origin;
    char body[512];
    snprintf(body, sizeof body, "%.*s", (int)msg->data_len, msg->data);
    const char *urls[8];
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(body, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save))
        urls[n++] = t;
    modnats_rc rc = api->set_connect_urls(self, urls, n);
    abi_reply(api, self, msg, "set rc=%d", (int)rc);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    if (!MODNATS_HAS(api, set_connect_urls))
        return MODNATS_ERR;
    size_t n = api->cfg_list_len(cfg, "initial");
    if (n > 0) {
        const char *urls[8];
        for (size_t i = 0; i < n && i < 8; i++)
            urls[i] = api->cfg_list_string(cfg, "initial", i);
        if (api->set_connect_urls(m, urls, n < 8 ? n : 8) != MODNATS_OK)
            return MODNATS_ERR;
    }
    g_sub = api->subscribe(m, api->account_global(), "urls.set", NULL, 1, 0, on_set, NULL);
    return g_sub ? MODNATS_OK : MODNATS_ERR;
}

ABI_TEST_DESC(desc, "urls_mod", opts, init, NULL);
MODNATS_MODULE(urls_mod) { return &desc; }
