/*
 * jsz.c - /jsz and the "jetstream" object of /varz, as nats-server 2.9.
 *
 * The numbers come from the jetstream module's "jetstream.jsz" service
 * (modules/jetstream/js_jsz.h, the whole contract, header only): it hands
 * back compact JSON built on the JetStream thread, spliced here into the
 * indented reply after "server_id" and "now".  Without the service
 * (JetStream not loaded or disabled) /jsz answers as nats-server does
 * without JetStream: "disabled": true and zeros; /varz shows "jetstream": {}.
 */
#include "monitor.h"
#include "../jetstream/js_jsz.h"

#include <stdlib.h>
#include <string.h>

static const js_jsz_v1 *jsz_service(mon_state *st)
{
    if (!MODNATS_HAS(st->api, service_get) || !st->api->service_get)
        return NULL;
    const js_jsz_v1 *jz = st->api->service_get(JS_JSZ_SERVICE, 1);
    if (!jz || jz->size < offsetof(js_jsz_v1, varz) + sizeof jz->varz || !jz->jsz || !jz->varz)
        return NULL;
    return jz;
}

/* nats-server's JSInfo of a server without JetStream. */
static void disabled(mon_json *j)
{
    mon_json_bool(j, "disabled", true);
    mon_json_obj_begin(j, "config");
    mon_json_i64(j, "max_memory", 0);
    mon_json_i64(j, "max_storage", 0);
    mon_json_obj_end(j);
    static const char *const zeros[] = { "memory", "storage", "reserved_memory",
                                         "reserved_storage", "accounts", "ha_assets" };
    for (size_t i = 0; i < sizeof zeros / sizeof zeros[0]; i++)
        mon_json_i64(j, zeros[i], 0);
    mon_json_obj_begin(j, "api");
    mon_json_i64(j, "total", 0);
    mon_json_i64(j, "errors", 0);
    mon_json_obj_end(j);
    static const char *const counts[] = { "streams", "consumers", "messages", "bytes" };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        mon_json_i64(j, counts[i], 0);
}

void mon_jsz(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    js_jsz_opts o = { .size = sizeof o };
    if (!mon_q_bool(q, qc, "accounts", &o.accounts, r) ||
        !mon_q_bool(q, qc, "streams", &o.streams, r) ||
        !mon_q_bool(q, qc, "consumers", &o.consumers, r) ||
        !mon_q_bool(q, qc, "config", &o.config, r) ||
        !mon_q_int(q, qc, "offset", &o.offset, r) || !mon_q_int(q, qc, "limit", &o.limit, r))
        return;
    /* q reuses one buffer per lookup (the render service): copy acc */
    const char *acc = q(qc, "acc");
    char *acc_copy = acc && *acc ? strdup(acc) : NULL;
    o.account = acc_copy;

    mon_json j;
    mon_json_init(&j);
    mon_json_obj_begin(&j, NULL);
    mon_json_str(&j, "server_id", st->api->server_id());
    mon_json_time(&j, "now", mon_now_ns());
    const js_jsz_v1 *jz = jsz_service(st);
    if (!jz) {
        disabled(&j);
    } else {
        char *txt = jz->jsz(&o);
        bool ok = mon_json_raw_members(&j, txt);
        free(txt);
        if (!ok) {
            free(acc_copy);
            mon_json_free(&j);
            mon_reply_text(r, 503, "JetStream did not answer\n");
            return;
        }
    }
    free(acc_copy);
    mon_json_obj_end(&j);
    mon_reply_json(r, &j);
}

void mon_varz_jetstream(mon_state *st, mon_json *j)
{
    const js_jsz_v1 *jz = jsz_service(st);
    char *txt = jz ? jz->varz() : NULL;
    if (!txt || !mon_json_raw(j, "jetstream", txt)) {
        mon_json_obj_begin(j, "jetstream");
        mon_json_obj_end(j);
    }
    free(txt);
}
