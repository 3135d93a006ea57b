/*
 * cfg_walk.c - ABI test module for cfg_key and cfg_where: init walks the
 * GROUP option "tree" (nested groups and lists of groups included) and
 * logs, for every member,
 *
 *   key <path>@<file:line>
 *
 * and for every group "group <path>@<file:line>" (cfg_where with key
 * NULL), then "end <path> n=<members>" once cfg_key returns NULL.  Also
 * logs what cfg_where says for a key that is absent.
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static const modnats_option opts[] = {
    { "tree", MODNATS_OPT_GROUP, true, "any nested settings" },
    { NULL, 0, false, NULL },
};

static void walk(const modnats_config *g, const char *path, int depth)
{
    char where[512], sub[256];
    api->log(self, MODNATS_LOG_INFO, "group %s@%s", path, api->cfg_where(g, NULL, where, sizeof where));
    size_t i = 0;
    for (const char *key; depth < 8 && (key = api->cfg_key(g, i)) != NULL; i++) {
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        api->log(self, MODNATS_LOG_INFO, "key %s@%s", sub, api->cfg_where(g, key, where, sizeof where));
        size_t n = api->cfg_list_len(g, key);
        for (size_t k = 0; k < n; k++) {
            const modnats_config *c = api->cfg_child(g, key, k);
            if (!c)
                continue;
            char elem[300];
            if (n > 1)
                snprintf(elem, sizeof elem, "%s[%zu]", sub, k);
            else
                snprintf(elem, sizeof elem, "%s", sub);
            walk(c, elem, depth + 1);
        }
    }
    api->log(self, MODNATS_LOG_INFO, "end %s n=%zu", path, i);
}

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    if (!MODNATS_HAS(api, cfg_key) || !MODNATS_HAS(api, cfg_where))
        return MODNATS_ERR;
    const modnats_config *tree = api->cfg_child(cfg, "tree", 0);
    if (!tree)
        return MODNATS_ERR;
    walk(tree, "tree", 0);
    char where[512];
    api->log(self, MODNATS_LOG_INFO, "absent@%s", api->cfg_where(tree, "no_such_key", where, sizeof where));
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "cfg_walk", opts, init, NULL);
MODNATS_MODULE(cfg_walk) { return &desc; }
