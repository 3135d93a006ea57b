/*
 * settings.c - ABI test module for typed options: one option of every type,
 * `name` required.  init logs every value as the host API reads it, so the
 * test sees the conversions (sizes in bytes, durations in ms).
 */
#include "abi_mod.h"

static const modnats_host_api *api;
static modnats_module *self;

static const modnats_option opts[] = {
    { "name", MODNATS_OPT_STRING, true, "a required string" },
    { "count", MODNATS_OPT_INT, false, "an integer" },
    { "enabled", MODNATS_OPT_BOOL, false, "a boolean" },
    { "limit", MODNATS_OPT_SIZE, false, "a size" },
    { "wait", MODNATS_OPT_DURATION, false, "a duration" },
    { "tags", MODNATS_OPT_STRING_LIST, false, "a list of strings" },
    { "nested", MODNATS_OPT_GROUP, false, "a group or a list of groups" },
    { NULL, 0, false, NULL },
};

static modnats_rc init(modnats_module *m, const modnats_host_api *a, const modnats_config *cfg)
{
    api = a;
    self = m;
    const char *name = "?";
    int64_t count = -1, limit = -1, wait = -1;
    bool enabled = false;
    api->cfg_string(cfg, "name", &name);
    modnats_rc crc = api->cfg_int(cfg, "count", &count);
    api->cfg_bool(cfg, "enabled", &enabled);
    api->cfg_int(cfg, "limit", &limit);
    api->cfg_int(cfg, "wait", &wait);
    char tags[256] = "";
    size_t nt = api->cfg_list_len(cfg, "tags");
    for (size_t i = 0; i < nt; i++) {
        const char *t = api->cfg_list_string(cfg, "tags", i);
        snprintf(tags + strlen(tags), sizeof tags - strlen(tags), "%s%s", i ? "," : "",
                 t ? t : "(null)");
    }
    char nested[256] = "";
    size_t nn = api->cfg_list_len(cfg, "nested");
    for (size_t i = 0; i < nn; i++) {
        const modnats_config *c = api->cfg_child(cfg, "nested", i);
        const char *x = "(absent)";
        if (c)
            api->cfg_string(c, "x", &x);
        snprintf(nested + strlen(nested), sizeof nested - strlen(nested), "%s%s", i ? "," : "",
                 c ? x : "(no group)");
    }
    const char *missing = "unchanged";
    modnats_rc mrc = api->cfg_string(cfg, "not_declared", &missing);
    api->log(self, MODNATS_LOG_INFO,
             "name=%s count=%lld (rc=%d) enabled=%s limit=%lld wait=%lld tags=[%s] nested=[%s] "
             "absent=%s (rc=%d)",
             name, (long long)count, (int)crc, enabled ? "true" : "false", (long long)limit,
             (long long)wait, tags, nested, missing, (int)mrc);
    return MODNATS_OK;
}

ABI_TEST_DESC(desc, "settings", opts, init, NULL);
MODNATS_MODULE(settings) { return &desc; }
