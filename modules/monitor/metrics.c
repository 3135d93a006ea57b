/*
 * metrics.c - /metrics: the server's counters and gauges in the Prometheus
 * text exposition format (version 0.0.4), every name prefixed modnats_.
 *
 * nats-server has no such endpoint (its users run prometheus-nats-exporter
 * against /varz, which keeps working here); this one saves that hop.
 * Counters end in _total, as Prometheus wants.  The list is in
 * docs/modules/monitor.md; keep the two in step.
 */
#include "monitor.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A label value with \, " and newline escaped, as the format requires. */
static void label_value(mon_json *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\')
            mon_buf_append(b, "\\\\", 2);
        else if (*p == '"')
            mon_buf_append(b, "\\\"", 2);
        else if (*p == '\n')
            mon_buf_append(b, "\\n", 2);
        else
            mon_buf_append(b, p, 1);
    }
}

static void head(mon_json *b, const char *name, const char *type, const char *help)
{
    mon_buf_printf(b, "# HELP modnats_%s %s\n# TYPE modnats_%s %s\n", name, help, name, type);
}

static void metric_u64(mon_json *b, const char *name, const char *type, const char *help, uint64_t v)
{
    head(b, name, type, help);
    mon_buf_printf(b, "modnats_%s %" PRIu64 "\n", name, v);
}

static void metric_dbl(mon_json *b, const char *name, const char *type, const char *help, double v)
{
    char num[64];
    mon_fmt_double(num, sizeof(num), v);
    head(b, name, type, help);
    mon_buf_printf(b, "modnats_%s %s\n", name, num);
}

void mon_metrics(mon_state *st, mon_query_fn q, void *qc, mon_reply *r)
{
    modnats_stats s;
    memset(&s, 0, sizeof(s));
    s.size = sizeof(s);
    if (st->api->stats(&s) != MODNATS_OK) {
        mon_reply_text(r, 500, "stats unavailable");
        return;
    }
    mon_proc p;
    mon_proc_sample(&p);
    double now_s = (double)mon_now_ns() / 1e9;
    double start_s = (double)s.start_unix_ms / 1e3;

    mon_json b;
    mon_json_init(&b);
    head(&b, "info", "gauge", "Server identity; the value is always 1.");
    mon_buf_printf(&b, "modnats_info{server_id=\"");
    label_value(&b, s.server_id);
    mon_buf_printf(&b, "\",server_name=\"");
    label_value(&b, s.server_name);
    mon_buf_printf(&b, "\",version=\"");
    label_value(&b, s.version);
    mon_buf_printf(&b, "\",nats_version=\"");
    label_value(&b, s.compat_version);
    mon_buf_printf(&b, "\"} 1\n");

    metric_dbl(&b, "start_time_seconds", "gauge", "Start time, seconds since the Unix epoch.", start_s);
    metric_dbl(&b, "uptime_seconds", "gauge", "Seconds since the server started.",
               now_s > start_s ? now_s - start_s : 0);
    metric_dbl(&b, "config_load_time_seconds", "gauge",
               "Last configuration (re)load, seconds since the Unix epoch.",
               (double)(s.config_load_unix_ms ? s.config_load_unix_ms : s.start_unix_ms) / 1e3);
    metric_u64(&b, "connections", "gauge", "Client connections open now.", s.connections);
    metric_u64(&b, "connections_total", "counter", "Client connections accepted since start.",
               s.total_connections);
    metric_u64(&b, "in_msgs_total", "counter", "Messages received from clients.", s.in_msgs);
    metric_u64(&b, "out_msgs_total", "counter", "Messages delivered to clients.", s.out_msgs);
    metric_u64(&b, "in_bytes_total", "counter", "Payload bytes received from clients.", s.in_bytes);
    metric_u64(&b, "out_bytes_total", "counter", "Payload bytes delivered to clients.", s.out_bytes);
    metric_u64(&b, "slow_consumers_total", "counter", "Clients closed as slow consumers.",
               s.slow_consumers);
    metric_u64(&b, "subscriptions", "gauge", "Subscriptions in the global account.", s.subscriptions);
    metric_u64(&b, "sublist_cache_entries", "gauge", "Entries in the subject match cache.",
               s.sublist_cache_entries);
    metric_u64(&b, "sublist_inserts_total", "counter", "Subscriptions inserted.", s.sublist_inserts);
    metric_u64(&b, "sublist_removes_total", "counter", "Subscriptions removed.", s.sublist_removes);
    metric_u64(&b, "sublist_matches_total", "counter", "Subject match lookups.", s.sublist_matches);
    metric_u64(&b, "sublist_cache_hits_total", "counter", "Subject match lookups served by the cache.",
               s.sublist_cache_hits);
    metric_u64(&b, "max_connections", "gauge", "Configured connection limit.",
               (uint64_t)(s.max_connections > 0 ? s.max_connections : 0));
    metric_u64(&b, "max_payload_bytes", "gauge", "Configured maximum message payload.",
               (uint64_t)(s.max_payload > 0 ? s.max_payload : 0));
    metric_u64(&b, "max_pending_bytes", "gauge", "Configured per-client pending output limit.",
               (uint64_t)(s.max_pending > 0 ? s.max_pending : 0));
    metric_u64(&b, "io_threads", "gauge", "I/O worker threads.",
               (uint64_t)(s.io_threads > 0 ? s.io_threads : 0));
    metric_u64(&b, "resident_memory_bytes", "gauge", "Resident set size of the process.",
               (uint64_t)(p.rss_bytes > 0 ? p.rss_bytes : 0));
    metric_dbl(&b, "cpu_percent", "gauge", "CPU use in percent of one core, as /varz cpu.", p.cpu_pct);
    metric_u64(&b, "cores", "gauge", "CPUs the process may run on.", (uint64_t)p.cores);

    head(&b, "http_requests_total", "counter", "Monitoring requests served, by path.");
    for (int i = 0; i < MON_P__COUNT; i++) {
        uint64_t n = __atomic_load_n(&st->req_count[i], __ATOMIC_RELAXED);
        mon_buf_printf(&b, "modnats_http_requests_total{path=\"%s\"} %" PRIu64 "\n",
                       mon_path_names[i], n);
    }

    if (b.oom) {
        mon_json_free(&b);
        mon_reply_text(r, 500, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->body = mon_json_take(&b, &r->body_len);
}
