/*
 * jsbench.c: the JetStream load generator of contrib/bench.
 *
 * A libnats (nats.c) client that measures one JetStream scenario against a
 * server already running with JetStream on 127.0.0.1:PORT, and prints
 * mnbench's result lines, so run.sh treats both generators alike:
 *
 *     METRIC key|label|value|unit|higher-or-lower-is-better
 *
 * Scenarios (counts are multiplied by --scale):
 *   jspub      js_PublishAsync of 100,000 messages of 128 B to a file stream,
 *              at most 1,000 acks pending; timed until the last PubAck is in;
 *              then the stream must hold exactly that many messages.
 *   jsconsume  a file stream pre-filled (untimed) with 100,000 messages of
 *              128 B; one durable pull consumer, AckExplicit, fetches batches
 *              of 100 and acks every message (natsMsg_Ack, no reply wait);
 *              timed until the consumer's info shows every message delivered
 *              and none pending an ack; every payload's sequence is checked.
 *   kvput      5,000 kvStore_Put of 128 B (1,000 keys in turn), each waiting
 *              for its ack: rate and latency p50 / p99.
 *   kvget      1,000 keys put (untimed), then 20,000 kvStore_Get of them in a
 *              scattered order, each value checked: rate and latency p50.
 *
 * Every wait is bounded: each request has a 10 s limit and the whole run is
 * killed by SIGALRM after --timeout seconds. Any error is fatal (exit 1),
 * so run.sh shows FAIL rather than a wrong figure.
 */
#define _POSIX_C_SOURCE 200809L
#include <nats/nats.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 128
#define REQ_WAIT_MS 10000

static const char *const scenarios[] = {"jspub", "jsconsume", "kvput", "kvget"};

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("jsbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(natsStatus s, const char *what)
{
	if (s != NATS_OK)
		die("%s: %s (%s)", what, natsStatus_GetText(s), nats_GetLastError(NULL));
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void metric(const char *key, const char *label, double v, const char *unit,
		   const char *better)
{
	printf("METRIC %s|%s|%.6g|%s|%s\n", key, label, v, unit, better);
	fflush(stdout);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The value at quantile q of the n sorted samples. */
static double quantile(const double *v, int n, double q)
{
	int i = (int)(q * (double)n);
	if (i >= n)
		i = n - 1;
	return v[i];
}

struct bench {
	natsConnection *nc;
	jsCtx *js;
	long n; /* scaled message count of the scenario */
};

/* Counts PubAck errors of async publishes; any is fatal at the end. */
static volatile long pub_errors;

static void on_pub_err(jsCtx *js, jsPubAckErr *pae, void *closure)
{
	(void)js;
	(void)closure;
	if (pub_errors++ == 0)
		fprintf(stderr, "jsbench: async publish failed: %s (err_code %d)\n",
			pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err), (int)pae->ErrCode);
}

static void connect_js(struct bench *b, int port)
{
	char url[64];
	natsOptions *o = NULL;
	jsOptions jo;

	snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
	check(natsOptions_Create(&o), "natsOptions_Create");
	check(natsOptions_SetURL(o, url), "natsOptions_SetURL");
	check(natsOptions_SetTimeout(o, REQ_WAIT_MS), "natsOptions_SetTimeout");
	check(natsOptions_SetMaxPendingMsgs(o, 1000000), "natsOptions_SetMaxPendingMsgs");
	check(natsConnection_Connect(&b->nc, o), "connect");
	natsOptions_Destroy(o);

	check(jsOptions_Init(&jo), "jsOptions_Init");
	jo.Wait = REQ_WAIT_MS;
	jo.PublishAsync.MaxPending = 1000;
	jo.PublishAsync.ErrHandler = on_pub_err;
	jo.PublishAsync.StallWait = REQ_WAIT_MS;
	check(natsConnection_JetStream(&b->js, b->nc, &jo), "natsConnection_JetStream");
}

static void add_stream(struct bench *b, const char *name, const char *subject)
{
	jsStreamConfig cfg;
	jsErrCode ec = 0;
	natsStatus s;

	check(jsStreamConfig_Init(&cfg), "jsStreamConfig_Init");
	cfg.Name = name;
	cfg.Subjects = &subject;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	s = js_AddStream(NULL, b->js, &cfg, NULL, &ec);
	if (s != NATS_OK)
		die("add stream %s: %s (err_code %d)", name, nats_GetLastError(NULL), (int)ec);
}

static uint64_t stream_msgs(struct bench *b, const char *name)
{
	jsStreamInfo *si = NULL;
	jsErrCode ec = 0;
	uint64_t n;

	if (js_GetStreamInfo(&si, b->js, name, NULL, &ec) != NATS_OK)
		die("stream info %s: %s (err_code %d)", name, nats_GetLastError(NULL), (int)ec);
	n = si->State.Msgs;
	jsStreamInfo_Destroy(si);
	return n;
}

/* Publishes n messages of PAYLOAD bytes, the first 8 bytes of each its
 * 1-based index, with at most MaxPending acks outstanding; returns once
 * every ack is in. */
static void publish_n(struct bench *b, const char *subject, long n)
{
	char payload[PAYLOAD];
	jsPubOptions po;

	memset(payload, 'x', sizeof payload);
	for (long i = 1; i <= n; i++) {
		uint64_t seq = (uint64_t)i;
		memcpy(payload, &seq, sizeof seq);
		check(js_PublishAsync(b->js, subject, payload, PAYLOAD, NULL), "js_PublishAsync");
	}
	check(jsPubOptions_Init(&po), "jsPubOptions_Init");
	po.MaxWait = 60000;
	check(js_PublishAsyncComplete(b->js, &po), "js_PublishAsyncComplete (acks missing)");
	if (pub_errors)
		die("%ld async publishes failed", (long)pub_errors);
}

static void run_jspub(struct bench *b)
{
	long n = b->n;
	double t0, el;
	uint64_t have;

	add_stream(b, "JSB", "jsb.pub");
	t0 = now_s();
	publish_n(b, "jsb.pub", n);
	el = now_s() - t0;
	have = stream_msgs(b, "JSB");
	if (have != (uint64_t)n)
		die("stream holds %" PRIu64 " messages, published %ld", have, n);
	metric("jspub", "JS async publish with acks, 128 B", (double)n / el, "msgs/s", "higher");
}

static void run_jsconsume(struct bench *b)
{
	long n = b->n, got = 0;
	jsConsumerConfig cc;
	jsSubOptions so;
	jsErrCode ec = 0;
	natsSubscription *sub = NULL;
	double t0, el;

	add_stream(b, "JSC", "jsc.msgs");
	publish_n(b, "jsc.msgs", n);
	if (stream_msgs(b, "JSC") != (uint64_t)n)
		die("pre-fill: stream does not hold %ld messages", n);

	check(jsSubOptions_Init(&so), "jsSubOptions_Init");
	check(jsConsumerConfig_Init(&cc), "jsConsumerConfig_Init");
	cc.Durable = "BENCH";
	cc.AckPolicy = js_AckExplicit;
	cc.MaxAckPending = 20000;
	so.Config = cc;
	if (js_PullSubscribe(&sub, b->js, "jsc.msgs", "BENCH", NULL, &so, &ec) != NATS_OK)
		die("pull subscribe: %s (err_code %d)", nats_GetLastError(NULL), (int)ec);

	t0 = now_s();
	while (got < n) {
		natsMsgList list = {0};
		natsStatus s = natsSubscription_Fetch(&list, sub, 100, REQ_WAIT_MS, &ec);
		if (s != NATS_OK)
			die("fetch after %ld messages: %s (err_code %d)", got, nats_GetLastError(NULL), (int)ec);
		for (int i = 0; i < list.Count; i++) {
			natsMsg *m = list.Msgs[i];
			uint64_t seq = 0;
			if (natsMsg_GetDataLength(m) != PAYLOAD)
				die("message %ld: %d bytes, want %d", got + 1, natsMsg_GetDataLength(m), PAYLOAD);
			memcpy(&seq, natsMsg_GetData(m), sizeof seq);
			if (seq != (uint64_t)got + 1)
				die("message %ld carries index %" PRIu64 " (out of order or redelivered)", got + 1, seq);
			check(natsMsg_Ack(m, NULL), "natsMsg_Ack");
			got++;
		}
		natsMsgList_Destroy(&list);
	}
	/* All delivered; done once the server has every ack. */
	for (;;) {
		jsConsumerInfo *ci = NULL;
		if (js_GetConsumerInfo(&ci, b->js, "JSC", "BENCH", NULL, &ec) != NATS_OK)
			die("consumer info: %s (err_code %d)", nats_GetLastError(NULL), (int)ec);
		int done = ci->Delivered.Stream == (uint64_t)n && ci->NumAckPending == 0 &&
			   ci->AckFloor.Stream == (uint64_t)n;
		jsConsumerInfo_Destroy(ci);
		if (done)
			break;
	}
	el = now_s() - t0;
	natsSubscription_Destroy(sub);
	metric("jsconsume", "JS pull consume (batch 100, ack each), 128 B", (double)n / el, "msgs/s",
	       "higher");
}

static kvStore *make_bucket(struct bench *b)
{
	kvConfig kc;
	kvStore *kv = NULL;

	check(kvConfig_Init(&kc), "kvConfig_Init");
	kc.Bucket = "BENCH";
	kc.History = 1;
	kc.StorageType = js_FileStorage;
	if (js_CreateKeyValue(&kv, b->js, &kc) != NATS_OK)
		die("create KV bucket: %s", nats_GetLastError(NULL));
	return kv;
}

#define KV_KEYS 1000

static void kv_value(char *v, long key, long version)
{
	memset(v, 'v', PAYLOAD);
	snprintf(v, PAYLOAD, "key %ld version %ld", key, version);
}

static void run_kvput(struct bench *b)
{
	long n = b->n;
	kvStore *kv = make_bucket(b);
	double *lat = malloc((size_t)n * sizeof *lat);
	char key[32], val[PAYLOAD];
	double t0, el;

	if (!lat)
		die("out of memory");
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		uint64_t rev = 0;
		snprintf(key, sizeof key, "k%ld", i % KV_KEYS);
		kv_value(val, i % KV_KEYS, i / KV_KEYS);
		double a = now_s();
		check(kvStore_Put(&rev, kv, key, val, PAYLOAD), "kvStore_Put");
		lat[i] = now_s() - a;
		if (rev != (uint64_t)i + 1)
			die("put %ld got revision %" PRIu64 ", want %ld", i + 1, rev, i + 1);
	}
	el = now_s() - t0;
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	metric("kvput", "KV put (each waits for its ack), 128 B", (double)n / el, "ops/s", "higher");
	metric("kvput_p50", "KV put latency p50", quantile(lat, (int)n, 0.50) * 1e6, "us", "lower");
	metric("kvput_p99", "KV put latency p99", quantile(lat, (int)n, 0.99) * 1e6, "us", "lower");
	free(lat);
	kvStore_Destroy(kv);
}

static void run_kvget(struct bench *b)
{
	long n = b->n;
	kvStore *kv = make_bucket(b);
	double *lat = malloc((size_t)n * sizeof *lat);
	char key[32], val[PAYLOAD];
	double t0, el;

	if (!lat)
		die("out of memory");
	for (long k = 0; k < KV_KEYS; k++) {
		snprintf(key, sizeof key, "k%ld", k);
		kv_value(val, k, 0);
		check(kvStore_Put(NULL, kv, key, val, PAYLOAD), "kvStore_Put (pre-fill)");
	}
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		long k = (i * 7919) % KV_KEYS; /* 7919 is prime: every key, scattered */
		kvEntry *e = NULL;
		snprintf(key, sizeof key, "k%ld", k);
		double a = now_s();
		check(kvStore_Get(&e, kv, key), "kvStore_Get");
		lat[i] = now_s() - a;
		kv_value(val, k, 0);
		if (kvEntry_ValueLen(e) != PAYLOAD || memcmp(kvEntry_Value(e), val, PAYLOAD) != 0)
			die("get %s: wrong value", key);
		kvEntry_Destroy(e);
	}
	el = now_s() - t0;
	qsort(lat, (size_t)n, sizeof *lat, cmp_double);
	metric("kvget", "KV get of existing keys", (double)n / el, "ops/s", "higher");
	metric("kvget_p50", "KV get latency p50", quantile(lat, (int)n, 0.50) * 1e6, "us", "lower");
	free(lat);
	kvStore_Destroy(kv);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: jsbench --scenario NAME --port P [--scale X] [--timeout S]\n"
		    "       jsbench --list\n"
		    "scenarios: jspub jsconsume kvput kvget (see the top of jsbench.c)\n"
		    "The server must run with JetStream on 127.0.0.1:P.\n");
}

int main(int argc, char **argv)
{
	const char *scen = NULL;
	int port = 0;
	double scale = 1.0;
	long timeout = 120;
	struct bench b = {0};

	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--list") == 0) {
			for (size_t k = 0; k < sizeof scenarios / sizeof *scenarios; k++)
				puts(scenarios[k]);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (!v) {
			usage(stderr);
			return 2;
		} else if (strcmp(a, "--scenario") == 0) {
			scen = v;
		} else if (strcmp(a, "--port") == 0) {
			port = atoi(v);
		} else if (strcmp(a, "--scale") == 0) {
			scale = atof(v);
		} else if (strcmp(a, "--timeout") == 0) {
			timeout = atol(v);
		} else if (strcmp(a, "--pid") == 0) {
			/* accepted for run.sh's sake; unused */
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (!scen || port <= 0 || port > 65535 || !(scale > 0) || timeout <= 0) {
		usage(stderr);
		return 2;
	}
	alarm((unsigned)timeout); /* SIGALRM's default action ends a stuck run */

	long base = 0;
	void (*fn)(struct bench *) = NULL;
	if (strcmp(scen, "jspub") == 0) {
		base = 100000, fn = run_jspub;
	} else if (strcmp(scen, "jsconsume") == 0) {
		base = 100000, fn = run_jsconsume;
	} else if (strcmp(scen, "kvput") == 0) {
		base = 5000, fn = run_kvput;
	} else if (strcmp(scen, "kvget") == 0) {
		base = 20000, fn = run_kvget;
	} else {
		die("unknown scenario %s (see --list)", scen);
	}
	b.n = (long)((double)base * scale);
	if (b.n < 1)
		b.n = 1;
	connect_js(&b, port);
	fn(&b);
	jsCtx_Destroy(b.js);
	natsConnection_Destroy(b.nc);
	nats_Close();
	return 0;
}
