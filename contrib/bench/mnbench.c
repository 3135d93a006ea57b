/*
 * mnbench: the load generator behind contrib/bench/run.sh.
 *
 * It speaks the NATS client protocol over raw loopback sockets, with no client
 * library, so that the generator stays cheap next to the server under test:
 * publishers write large pre-built buffers, subscribers read big chunks and
 * scan them for MSG/HMSG frames. One invocation runs one scenario against one
 * server that is already running, then prints its figures on stdout as
 *
 *     METRIC key|label|value|unit|higher-or-lower-is-better
 *
 * run.sh starts the servers, alternates them, takes medians and builds the
 * comparison table. Every wait is bounded (socket timeouts plus a global
 * alarm), so a hung or crashed server makes mnbench fail, never hang.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* ---- settings ---------------------------------------------------------- */

static const char *g_host = "127.0.0.1";
static int g_port;
static int g_port2;             /* route: the subscriber's server (B of the pair) */
static double g_scale = 1.0;
static long g_pid;              /* server pid, for RSS */
static int g_timeout_s = 120;   /* whole run */
static int g_io_timeout_s = 10; /* one blocking read or write */
static int g_wait_ms = 5000;    /* server start-up: retry connect this long */
static uint64_t g_count;        /* overrides the scenario's message count */
static int g_conns = 5000;      /* idle connections */
static int g_verbose;
static SSL_CTX *g_tls;          /* tls* scenarios: connections speak TLS (--tls-ca) */

#define READ_BUF (1u << 20)
#define PUB_CHUNK (128u * 1024)
#define SEQ_DIGITS 12
#define WINDOW_BYTES (16u << 20) /* delivery lag allowed before the publisher waits */

/* ---- small helpers ----------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mnbench: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void on_alarm(int sig)
{
	static const char msg[] = "mnbench: error: run exceeded --timeout\n";
	(void)sig;
	if (write(2, msg, sizeof msg - 1) < 0) {
		/* nothing left to do */
	}
	_exit(3);
}

/* Deterministic PRNG so both servers see the same subscriptions. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void metric(const char *key, const char *label, double v, const char *unit, const char *better)
{
	printf("METRIC %s|%s|%.6g|%s|%s\n", key, label, v, unit, better);
	fflush(stdout);
}

/* ---- connections ------------------------------------------------------- */

/*
 * A client connection with its own read buffer. Only the thread that owns
 * the connection reads it; writes from a second thread go through wlock.
 */
typedef struct conn {
	int fd;
	char *buf;
	size_t cap, off, len;
	pthread_mutex_t wlock;
	/* TLS: a non-blocking socket; every SSL call under slock, since a
	 * subscriber's reader and the main thread (PING) share the session. */
	SSL *ssl;
	pthread_mutex_t slock;
} conn_t;

enum { FR_MSG = 1, FR_PING, FR_PONG, FR_OK, FR_INFO };

typedef struct frame {
	int type;
	const char *line; /* control line, without CRLF */
	size_t line_len;
	const char *pl;   /* MSG/HMSG payload (headers included for HMSG) */
	size_t pl_len;
} frame_t;

static int tcp_connect(int port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, g_host, &sa.sin_addr) != 1)
		die("bad --host %s (IPv4 address expected)", g_host);
	uint64_t deadline = now_ns() + (uint64_t)g_wait_ms * 1000000u;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket: %s (raise ulimit -n?)", strerror(errno));
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			int one = 1;
			struct timeval tv = { g_io_timeout_s, 0 };
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
			return fd;
		}
		int e = errno;
		close(fd);
		if ((e != ECONNREFUSED && e != EINTR && e != EAGAIN) || now_ns() > deadline)
			die("connect %s:%d: %s", g_host, port, strerror(e));
		sleep_us(20000);
	}
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				die("write timed out after %d s (server stalled?)", g_io_timeout_s);
			die("write: %s (server closed the connection?)", strerror(errno));
		}
		p += w;
		n -= (size_t)w;
	}
}

static atomic_int g_stop; /* set when readers are being torn down on purpose */

/* ---- TLS (the tls* scenarios) ---- */

/* Waits for fd to be readable (want_read) or writable, in slices so a
 * deliberate teardown (g_stop) is seen; dies after the I/O timeout. */
static bool tls_wait(conn_t *c, bool want_read)
{
	int left = g_io_timeout_s * 1000;
	while (left > 0) {
		struct pollfd p = { c->fd, want_read ? POLLIN : POLLOUT, 0 };
		int r = poll(&p, 1, 100);
		if (r > 0)
			return true;
		if (atomic_load(&g_stop))
			return false;
		left -= 100;
	}
	die("TLS %s timed out after %d s (server stalled?)", want_read ? "read" : "write",
	    g_io_timeout_s);
}

static void tls_die(const char *what, int e)
{
	char buf[256];
	unsigned long code = ERR_get_error();
	ERR_error_string_n(code, buf, sizeof buf);
	die("TLS %s failed (ssl error %d): %s", what, e, code ? buf : strerror(errno));
}

/* INFO comes in plain text, then the handshake; CONNECT goes over TLS. */
static void tls_start(conn_t *c)
{
	char line[4096];
	size_t n = 0;
	while (n + 1 < sizeof line) {
		ssize_t r = read(c->fd, line + n, 1);
		if (r <= 0)
			die("no INFO before TLS: %s", r == 0 ? "closed" : strerror(errno));
		if (line[n++] == '\n')
			break;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->ssl = SSL_new(g_tls);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		tls_die("set-up", 0);
	for (;;) {
		int r = SSL_connect(c->ssl);
		if (r == 1)
			return;
		int e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			tls_wait(c, e == SSL_ERROR_WANT_READ);
			continue;
		}
		tls_die("handshake", e);
	}
}

static void tls_write_all(conn_t *c, const char *p, size_t n)
{
	while (n > 0) {
		pthread_mutex_lock(&c->slock);
		int r = SSL_write(c->ssl, p, n > (1u << 30) ? (1 << 30) : (int)n);
		int e = r > 0 ? 0 : SSL_get_error(c->ssl, r);
		pthread_mutex_unlock(&c->slock);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			tls_wait(c, e == SSL_ERROR_WANT_READ);
		} else {
			tls_die("write", e);
		}
	}
}

/* >0 bytes, 0 on EOF or deliberate teardown. */
static ssize_t tls_read(conn_t *c, char *p, size_t n)
{
	for (;;) {
		pthread_mutex_lock(&c->slock);
		int r = SSL_read(c->ssl, p, n > (1u << 30) ? (1 << 30) : (int)n);
		int e = r > 0 ? 0 : SSL_get_error(c->ssl, r);
		pthread_mutex_unlock(&c->slock);
		if (r > 0)
			return r;
		if (e == SSL_ERROR_ZERO_RETURN || atomic_load(&g_stop))
			return 0;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (!tls_wait(c, e == SSL_ERROR_WANT_READ))
				return 0;
			continue;
		}
		if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return 0;   /* EOF without close_notify */
		tls_die("read", e);
	}
}

static void conn_send(conn_t *c, const char *p, size_t n)
{
	if (c->ssl)
		tls_write_all(c, p, n);
	else
		write_all(c->fd, p, n);
}

static void conn_send_locked(conn_t *c, const char *p, size_t n)
{
	pthread_mutex_lock(&c->wlock);
	conn_send(c, p, n);
	pthread_mutex_unlock(&c->wlock);
}

static const char CONNECT_LINE[] =
	"CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false,"
	"\"name\":\"mnbench\",\"lang\":\"c\",\"version\":\"0.1\",\"protocol\":1,"
	"\"echo\":true,\"headers\":true,\"no_responders\":false}\r\n";

/* Opens a connection to the server on `port` and sends CONNECT; the
 * server's INFO is skipped later. */
static conn_t *conn_open_port(size_t bufsize, int port)
{
	conn_t *c = xmalloc(sizeof *c);
	c->fd = tcp_connect(port);
	c->cap = bufsize;
	c->buf = xmalloc(bufsize);
	c->off = c->len = 0;
	c->ssl = NULL;
	pthread_mutex_init(&c->wlock, NULL);
	pthread_mutex_init(&c->slock, NULL);
	if (g_tls)
		tls_start(c);
	conn_send(c, CONNECT_LINE, sizeof CONNECT_LINE - 1);
	return c;
}

static conn_t *conn_open(size_t bufsize)
{
	return conn_open_port(bufsize, g_port);
}

static void conn_close(conn_t *c)
{
	if (c->ssl)
		SSL_free(c->ssl);
	close(c->fd);
	pthread_mutex_destroy(&c->wlock);
	pthread_mutex_destroy(&c->slock);
	free(c->buf);
	free(c);
}

/* Reads more bytes. Returns >0 on data, 0 on EOF or when torn down on purpose. */
static ssize_t conn_fill(conn_t *c)
{
	if (c->off == c->len) {
		c->off = c->len = 0;
	} else if (c->off > 0 && c->cap - c->len < c->cap / 2) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == c->cap) {
		c->cap *= 2;
		c->buf = realloc(c->buf, c->cap);
		if (!c->buf)
			die("out of memory");
	}
	for (;;) {
		ssize_t n = c->ssl ? tls_read(c, c->buf + c->len, c->cap - c->len)
				   : read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n > 0) {
			c->len += (size_t)n;
			return n;
		}
		if (n == 0 || atomic_load(&g_stop))
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			die("read timed out after %d s (server stalled or lost messages?)", g_io_timeout_s);
		die("read: %s", strerror(errno));
	}
}

/* The last space-separated token before e, as an unsigned number. */
static int tail_number(const char *s, const char *e, size_t *out)
{
	const char *q = e;
	size_t v = 0;
	while (q > s && q[-1] >= '0' && q[-1] <= '9')
		q--;
	if (q == e || q == s || q[-1] != ' ')
		return -1;
	for (; q < e; q++)
		v = v * 10 + (size_t)(*q - '0');
	*out = v;
	return 0;
}

/*
 * Parses the next complete frame out of the read buffer. Returns 0 when more
 * bytes are needed. A -ERR from the server ends the run: no benchmark
 * scenario expects one.
 */
static int parse_frame(conn_t *c, frame_t *f)
{
	char *p = c->buf + c->off;
	size_t avail = c->len - c->off;
	if (avail == 0)
		return 0;
	char *nl = memchr(p, '\n', avail);
	if (!nl) {
		if (avail > 65536)
			die("protocol line longer than 64 KiB from server");
		return 0;
	}
	const char *le = nl;
	if (le > p && le[-1] == '\r')
		le--;
	size_t head = (size_t)(nl + 1 - p);
	f->line = p;
	f->line_len = (size_t)(le - p);
	switch (p[0] | 0x20) {
	case 'm':
	case 'h': {
		size_t sz;
		if (tail_number(p, le, &sz) < 0)
			die("bad MSG line from server: %.*s", (int)f->line_len, p);
		if (avail < head + sz + 2)
			return 0;
		f->type = FR_MSG;
		f->pl = nl + 1;
		f->pl_len = sz;
		c->off += head + sz + 2;
		return 1;
	}
	case 'p':
		f->type = ((p[1] | 0x20) == 'i') ? FR_PING : FR_PONG;
		break;
	case '+':
		f->type = FR_OK;
		break;
	case 'i':
		f->type = FR_INFO;
		break;
	case '-':
		die("server said: %.*s", (int)f->line_len, p);
	default:
		die("unexpected line from server: %.*s", (int)f->line_len, p);
	}
	c->off += head;
	return 1;
}

/* Sends PING and waits for its PONG: the server has then handled all we sent. */
static void conn_flush(conn_t *c)
{
	frame_t f;
	conn_send_locked(c, "PING\r\n", 6);
	for (;;) {
		while (parse_frame(c, &f)) {
			if (f.type == FR_PONG)
				return;
			if (f.type == FR_PING)
				conn_send_locked(c, "PONG\r\n", 6);
		}
		if (conn_fill(c) <= 0)
			die("server closed the connection");
	}
}

/* conn_flush that also counts the MSG frames read before the PONG. */
static uint64_t conn_flush_count(conn_t *c)
{
	frame_t f;
	uint64_t msgs = 0;
	conn_send_locked(c, "PING\r\n", 6);
	for (;;) {
		while (parse_frame(c, &f)) {
			if (f.type == FR_PONG)
				return msgs;
			if (f.type == FR_MSG)
				msgs++;
			else if (f.type == FR_PING)
				conn_send_locked(c, "PONG\r\n", 6);
		}
		if (conn_fill(c) <= 0)
			die("server closed the connection");
	}
}

/* ---- payload sequence numbers ------------------------------------------ */

static void put_seq(char *dst, uint64_t v)
{
	for (int i = SEQ_DIGITS - 1; i >= 0; i--) {
		dst[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static int get_seq(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n < SEQ_DIGITS)
		return -1;
	for (int i = 0; i < SEQ_DIGITS; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d > 9)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- subscribers ------------------------------------------------------- */

enum { CHECK_NONE, CHECK_ORDER, CHECK_ONCE };

static _Atomic uint64_t g_received; /* deliveries seen by all subscribers */
static _Atomic uint8_t *g_seen;     /* CHECK_ONCE: deliveries per sequence number */
static uint64_t g_seen_n;

typedef struct sub_ctx {
	conn_t *c;
	int check;
	uint64_t count;    /* deliveries */
	uint64_t errors;   /* out of order or unreadable sequence numbers */
	uint64_t next_seq; /* CHECK_ORDER */
	uint64_t t_done;
	pthread_t th;
} sub_ctx_t;

/*
 * Counts deliveries until the PONG that answers the PING the main thread
 * sends once the publisher is done: the server queues that PONG behind every
 * message it owes this connection, so the count is then final.
 */
static void *sub_main(void *arg)
{
	sub_ctx_t *s = arg;
	conn_t *c = s->c;
	frame_t f;
	for (;;) {
		uint64_t batch = 0;
		while (parse_frame(c, &f)) {
			if (f.type == FR_MSG) {
				batch++;
				if (s->check != CHECK_NONE) {
					uint64_t seq;
					if (get_seq(f.pl, f.pl_len, &seq) < 0) {
						s->errors++;
					} else if (s->check == CHECK_ORDER) {
						if (seq != s->next_seq)
							s->errors++;
						s->next_seq = seq + 1;
					} else if (seq < g_seen_n) {
						atomic_fetch_add_explicit(&g_seen[seq], 1, memory_order_relaxed);
					} else {
						s->errors++;
					}
				}
			} else if (f.type == FR_PONG) {
				s->count += batch;
				atomic_fetch_add(&g_received, batch);
				s->t_done = now_ns();
				return NULL;
			} else if (f.type == FR_PING) {
				conn_send_locked(c, "PONG\r\n", 6);
			}
		}
		if (batch) {
			s->count += batch;
			atomic_fetch_add(&g_received, batch);
		}
		if (conn_fill(c) <= 0)
			die("subscriber connection closed by the server (slow consumer?)");
	}
}

static void subs_start(sub_ctx_t *subs, int n)
{
	for (int i = 0; i < n; i++)
		if (pthread_create(&subs[i].th, NULL, sub_main, &subs[i]) != 0)
			die("pthread_create failed");
}

/* Ends the subscribers (see sub_main) and returns the time the last one finished. */
static uint64_t subs_finish(sub_ctx_t *subs, int n)
{
	uint64_t last = 0;
	for (int i = 0; i < n; i++)
		conn_send_locked(subs[i].c, "PING\r\n", 6);
	for (int i = 0; i < n; i++) {
		pthread_join(subs[i].th, NULL);
		if (subs[i].t_done > last)
			last = subs[i].t_done;
	}
	return last;
}

/* ---- publishers -------------------------------------------------------- */

/* Waits while subscribers lag more than `window` deliveries behind. */
static void wait_window(uint64_t expected, uint64_t window)
{
	uint64_t t0 = 0;
	while (expected > atomic_load(&g_received) + window) {
		if (!t0)
			t0 = now_ns();
		else if (now_ns() - t0 > (uint64_t)g_io_timeout_s * 1000000000u)
			die("subscribers stopped receiving (%llu of %llu deliveries)",
			    (unsigned long long)atomic_load(&g_received), (unsigned long long)expected);
		sleep_us(50);
	}
}

/* Publishes n copies of one frame, as few big writes, then flushes. */
static void pub_fixed(conn_t *c, const char *subj, size_t size, uint64_t n)
{
	char hdr[256];
	int hl = snprintf(hdr, sizeof hdr, "PUB %s %zu\r\n", subj, size);
	size_t fl = (size_t)hl + size + 2;
	size_t per = PUB_CHUNK / fl;
	if (per == 0)
		per = 1;
	char *chunk = xmalloc(per * fl);
	for (size_t i = 0; i < per; i++) {
		char *d = chunk + i * fl;
		memcpy(d, hdr, (size_t)hl);
		memset(d + hl, 'x', size);
		memcpy(d + hl + size, "\r\n", 2);
	}
	while (n > 0) {
		uint64_t k = n < per ? n : per;
		conn_send(c, chunk, (size_t)k * fl);
		n -= k;
	}
	free(chunk);
	conn_flush(c);
}

/*
 * Publishes messages 0..n-1 with the sequence number at the start of the
 * payload; `subject_of` (NULL for a fixed subject) picks a subject per message
 * and says how many deliveries it should cause. Waits for lagging subscribers
 * so no server ever has to treat them as slow consumers.
 */
typedef unsigned (*subject_fn)(uint64_t i, char *dst, size_t *len);

static void pub_seq(conn_t *c, const char *subj, size_t size, uint64_t n, unsigned per_msg,
		    subject_fn subject_of)
{
	size_t frame_max = 512 + size;
	char *buf = xmalloc(PUB_CHUNK + frame_max);
	char pad[64];
	memset(pad, 'x', sizeof pad);
	uint64_t window = WINDOW_BYTES / (size + 64);
	uint64_t expected = 0;
	size_t len = 0;
	char fixed_hdr[256];
	int fixed_hl = snprintf(fixed_hdr, sizeof fixed_hdr, "PUB %s %zu\r\n", subj ? subj : "", size);

	for (uint64_t i = 0; i < n; i++) {
		char *d = buf + len;
		if (subject_of) {
			char s[128];
			size_t sl;
			expected += subject_of(i, s, &sl);
			memcpy(d, "PUB ", 4);
			memcpy(d + 4, s, sl);
			d += 4 + sl;
			d += sprintf(d, " %zu\r\n", size);
		} else {
			expected += per_msg;
			memcpy(d, fixed_hdr, (size_t)fixed_hl);
			d += fixed_hl;
		}
		put_seq(d, i);
		for (size_t k = SEQ_DIGITS; k < size; k += sizeof pad)
			memcpy(d + k, pad, size - k < sizeof pad ? size - k : sizeof pad);
		d += size;
		*d++ = '\r';
		*d++ = '\n';
		len = (size_t)(d - buf);
		if (len >= PUB_CHUNK) {
			conn_send(c, buf, len);
			len = 0;
			wait_window(expected, window);
		}
	}
	if (len)
		conn_send(c, buf, len);
	free(buf);
	conn_flush(c);
}

/* ---- scenarios --------------------------------------------------------- */

static uint64_t scaled(uint64_t base)
{
	if (g_count)
		return g_count;
	double v = (double)base * g_scale;
	return v < 1 ? 1 : (uint64_t)v;
}

static double secs(uint64_t t0, uint64_t t1)
{
	return (double)(t1 - t0) / 1e9;
}

static void scen_pub(const char *key, const char *label, size_t size, uint64_t base)
{
	uint64_t n = scaled(base);
	conn_t *c = conn_open(READ_BUF);
	conn_flush(c);
	uint64_t t0 = now_ns();
	pub_fixed(c, "bench.pub", size, n);
	uint64_t t1 = now_ns();
	conn_close(c);
	fprintf(stderr, "%s: %llu msgs in %.3f s\n", key, (unsigned long long)n, secs(t0, t1));
	metric(key, label, (double)n / secs(t0, t1), "msgs/s", "higher");
}

/* 1 publisher, nsubs plain subscribers on their own connections. */
static void scen_fanout(const char *key, const char *label, int nsubs, uint64_t base)
{
	uint64_t n = scaled(base);
	sub_ctx_t *subs = calloc((size_t)nsubs, sizeof *subs);
	for (int i = 0; i < nsubs; i++) {
		subs[i].c = conn_open(READ_BUF);
		subs[i].check = CHECK_ORDER;
		conn_send(subs[i].c, "SUB bench.fan 1\r\n", 17);
		conn_flush(subs[i].c);
	}
	conn_t *p = conn_open(READ_BUF);
	conn_flush(p);
	subs_start(subs, nsubs);
	uint64_t t0 = now_ns();
	pub_seq(p, "bench.fan", 16, n, (unsigned)nsubs, NULL);
	uint64_t t1 = subs_finish(subs, nsubs);
	for (int i = 0; i < nsubs; i++) {
		if (subs[i].count != n || subs[i].errors)
			die("%s: subscriber %d got %llu of %llu messages, %llu out of order", key, i,
			    (unsigned long long)subs[i].count, (unsigned long long)n,
			    (unsigned long long)subs[i].errors);
		conn_close(subs[i].c);
	}
	conn_close(p);
	free(subs);
	fprintf(stderr, "%s: %llu msgs x %d subs in %.3f s, all delivered in order\n", key,
		(unsigned long long)n, nsubs, secs(t0, t1));
	metric(key, label, (double)n * nsubs / secs(t0, t1), "msgs/s", "higher");
}

#define SEND_LIT(c, lit) conn_send((c), (lit), sizeof(lit) - 1)

/*
 * route: publisher on server A (--port), subscriber on server B (--port2),
 * the two clustered. B's interest reaches A over the route some time after
 * the SUB: probes are published on A until the subscriber sees one, then the
 * probe subscription goes (and late probes are drained) before the measured
 * run. The run ends once the subscriber got all n messages, in order.
 */
static void scen_route(void)
{
	uint64_t n = scaled(4000000);
	if (g_port2 <= 0)
		die("route: --port2 (the subscriber's server) is required");
	sub_ctx_t sub;
	memset(&sub, 0, sizeof sub);
	sub.c = conn_open_port(READ_BUF, g_port2);
	sub.check = CHECK_ORDER;
	/* bench.route first: once a probe arrives, A has both RS+ (in order). */
	SEND_LIT(sub.c, "SUB bench.route 1\r\nSUB bench.probe 2\r\n");
	conn_flush(sub.c);
	conn_t *p = conn_open(READ_BUF);
	conn_flush(p);
	uint64_t t_probe = now_ns(), probes = 0;
	for (;;) {
		SEND_LIT(p, "PUB bench.probe 5\r\nprobe\r\n");
		conn_flush(p);
		probes++;
		sleep_us(5000);
		if (conn_flush_count(sub.c) > 0)
			break;
		if (now_ns() - t_probe > (uint64_t)g_io_timeout_s * 1000000000u)
			die("route: B's interest never reached A (%llu probes in %d s)",
			    (unsigned long long)probes, g_io_timeout_s);
	}
	SEND_LIT(sub.c, "UNSUB 2\r\n");
	sleep_us(20000);
	conn_flush_count(sub.c); /* probes still in flight are dropped or drained */
	fprintf(stderr, "route: interest reached A after %.3f s (%llu probes)\n",
		secs(t_probe, now_ns()), (unsigned long long)probes);
	subs_start(&sub, 1);
	uint64_t t0 = now_ns();
	pub_seq(p, "bench.route", 16, n, 1, NULL);
	wait_window(n, 0); /* the last messages may still cross the route */
	uint64_t t1 = subs_finish(&sub, 1);
	if (sub.count != n || sub.errors)
		die("route: subscriber got %llu of %llu messages, %llu out of order",
		    (unsigned long long)sub.count, (unsigned long long)n,
		    (unsigned long long)sub.errors);
	conn_close(sub.c);
	conn_close(p);
	fprintf(stderr, "route: %llu msgs A -> B in %.3f s, all delivered in order\n",
		(unsigned long long)n, secs(t0, t1));
	metric("route", "1 pub on A -> 1 sub on B (route), 16 B", (double)n / secs(t0, t1),
	       "msgs/s", "higher");
}

static void scen_queue(void)
{
	enum { MEMBERS = 4 };
	uint64_t n = scaled(4000000);
	sub_ctx_t subs[MEMBERS];
	memset(subs, 0, sizeof subs);
	g_seen_n = n;
	g_seen = calloc(n, 1);
	if (!g_seen)
		die("out of memory");
	for (int i = 0; i < MEMBERS; i++) {
		subs[i].c = conn_open(READ_BUF);
		subs[i].check = CHECK_ONCE;
		conn_send(subs[i].c, "SUB bench.q workers 1\r\n", 23);
		conn_flush(subs[i].c);
	}
	conn_t *p = conn_open(READ_BUF);
	conn_flush(p);
	subs_start(subs, MEMBERS);
	uint64_t t0 = now_ns();
	pub_seq(p, "bench.q", 16, n, 1, NULL);
	uint64_t t1 = subs_finish(subs, MEMBERS);
	uint64_t sum = 0, errors = 0, missing = 0, dups = 0;
	for (int i = 0; i < MEMBERS; i++) {
		sum += subs[i].count;
		errors += subs[i].errors;
		conn_close(subs[i].c);
	}
	for (uint64_t s = 0; s < n; s++) {
		if (g_seen[s] == 0)
			missing++;
		else if (g_seen[s] > 1)
			dups++;
	}
	fprintf(stderr, "queue4: %llu msgs in %.3f s; members got %llu %llu %llu %llu\n",
		(unsigned long long)n, secs(t0, t1), (unsigned long long)subs[0].count,
		(unsigned long long)subs[1].count, (unsigned long long)subs[2].count,
		(unsigned long long)subs[3].count);
	if (sum != n || errors || missing || dups)
		die("queue4: exactly-once violated: sum %llu of %llu, %llu missing, %llu duplicated, %llu bad",
		    (unsigned long long)sum, (unsigned long long)n, (unsigned long long)missing,
		    (unsigned long long)dups, (unsigned long long)errors);
	conn_close(p);
	free((void *)g_seen);
	metric("queue4", "1 pub -> queue group of 4, 16 B", (double)n / secs(t0, t1), "msgs/s", "higher");
}

/* Responder for reqrep: echoes each request's payload to its reply subject. */
static void *responder_main(void *arg)
{
	conn_t *c = arg;
	frame_t f;
	char out[512];
	for (;;) {
		while (parse_frame(c, &f)) {
			if (f.type == FR_PING) {
				conn_send_locked(c, "PONG\r\n", 6);
				continue;
			}
			if (f.type != FR_MSG)
				continue;
			/* MSG <subject> <sid> <reply> <size> */
			const char *tok[5];
			size_t tl[5];
			int nt = 0;
			const char *q = f.line, *e = f.line + f.line_len;
			while (q < e && nt < 5) {
				while (q < e && *q == ' ')
					q++;
				const char *b = q;
				while (q < e && *q != ' ')
					q++;
				if (q > b) {
					tok[nt] = b;
					tl[nt++] = (size_t)(q - b);
				}
			}
			if (nt != 5 || tl[3] > 256 || f.pl_len > 128)
				die("reqrep: unexpected request: %.*s", (int)f.line_len, f.line);
			int hl = snprintf(out, sizeof out, "PUB %.*s %zu\r\n", (int)tl[3], tok[3], f.pl_len);
			memcpy(out + hl, f.pl, f.pl_len);
			memcpy(out + hl + f.pl_len, "\r\n", 2);
			conn_send_locked(c, out, (size_t)hl + f.pl_len + 2);
		}
		if (conn_fill(c) <= 0) {
			if (atomic_load(&g_stop))
				return NULL;
			die("responder connection closed by the server");
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void scen_reqrep(void)
{
	uint64_t n = scaled(40000), warm = 1000;
	conn_t *rs = conn_open(64 * 1024);
	conn_send(rs, "SUB bench.req 1\r\n", 17);
	conn_flush(rs);
	conn_t *rq = conn_open(64 * 1024);
	conn_send(rq, "SUB _INBOX.mnbench.reply 1\r\n", 28);
	conn_flush(rq);
	pthread_t th;
	if (pthread_create(&th, NULL, responder_main, rs) != 0)
		die("pthread_create failed");

	uint64_t *lat = xmalloc(sizeof(uint64_t) * n);
	char req[128];
	int hl = snprintf(req, sizeof req, "PUB bench.req _INBOX.mnbench.reply 16\r\n");
	uint64_t t_all = now_ns();
	for (uint64_t i = 0; i < warm + n; i++) {
		char *d = req + hl;
		put_seq(d, i);
		memcpy(d + SEQ_DIGITS, "....\r\n", 6);
		uint64_t t0 = now_ns();
		conn_send(rq, req, (size_t)hl + 16 + 2);
		frame_t f;
		int got = 0;
		while (!got) {
			while (!got && parse_frame(rq, &f)) {
				if (f.type == FR_PING) {
					conn_send(rq, "PONG\r\n", 6);
				} else if (f.type == FR_MSG) {
					uint64_t seq;
					if (get_seq(f.pl, f.pl_len, &seq) < 0 || seq != i)
						die("reqrep: reply to the wrong request");
					got = 1;
				}
			}
			if (!got && conn_fill(rq) <= 0)
				die("requester connection closed by the server");
		}
		if (i >= warm)
			lat[i - warm] = now_ns() - t0;
	}
	double total = secs(t_all, now_ns());
	atomic_store(&g_stop, 1);
	shutdown(rs->fd, SHUT_RDWR);
	pthread_join(th, NULL);
	atomic_store(&g_stop, 0);
	conn_close(rs);
	conn_close(rq);

	qsort(lat, n, sizeof *lat, cmp_u64);
	double p50 = (double)lat[n / 2] / 1e3;
	double p99 = (double)lat[(uint64_t)((double)n * 0.99)] / 1e3;
	double p999 = (double)lat[(uint64_t)((double)n * 0.999)] / 1e3;
	free(lat);
	fprintf(stderr, "reqrep: %llu requests in %.3f s\n", (unsigned long long)(n + warm), total);
	metric("reqrep.p50", "request/reply latency p50", p50, "us", "lower");
	metric("reqrep.p99", "request/reply latency p99", p99, "us", "lower");
	metric("reqrep.p999", "request/reply latency p99.9", p999, "us", "lower");
}

/*
 * Wildcard scenario. Published subjects are w.a<A>.b<B>.c<C> over a 50^3
 * space; the subscriptions mix literals and wildcards at several depths:
 *   w.aA.bB.cC (a random 37,500 of them), w.aA.bB.*, w.aA.*.cC, w.*.bB.cC,
 *   w.aA.bB.> (2,500 each), w.aA.> and w.*.*.cC (50 each),
 *   plus 2,400 that never match (w.aA.bB.cC.> and x.aA.*.cC).
 * So every publish matches 6 or 7 subscriptions, and the generator knows
 * exactly how many. Publishes walk the whole space in a scattered order, so a
 * server's match cache cannot hold the working set.
 */
#define WD 50
#define WSPACE (WD * WD * WD)
#define WSUBS 50000
#define WCONNS 4
static uint8_t *g_wlit;

static unsigned wild_subject(uint64_t i, char *dst, size_t *len)
{
	uint32_t idx = (uint32_t)((i * 7919u) % WSPACE);
	unsigned a = idx / (WD * WD), b = (idx / WD) % WD, cc = idx % WD;
	*len = (size_t)sprintf(dst, "w.a%u.b%u.c%u", a, b, cc);
	return 6u + g_wlit[idx];
}

static void scen_wildcard(void)
{
	uint64_t n = scaled(300000);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	g_wlit = calloc(WSPACE, 1);
	char *sb[WCONNS];
	size_t sl[WCONNS], scap = 2u << 20;
	for (int k = 0; k < WCONNS; k++) {
		sb[k] = xmalloc(scap);
		sl[k] = 0;
	}
	int nsub = 0;
#define ADD_SUB(...)                                                                          \
	do {                                                                                  \
		int k_ = nsub % WCONNS;                                                       \
		char s_[96];                                                                  \
		int l_ = snprintf(s_, sizeof s_, __VA_ARGS__);                                \
		sl[k_] += (size_t)sprintf(sb[k_] + sl[k_], "SUB %.*s %d\r\n", l_, s_, nsub + 1); \
		nsub++;                                                                       \
	} while (0)
	for (int lit = 0; lit < 37500;) {
		uint32_t idx = (uint32_t)(rng_next(&rng) % WSPACE);
		if (g_wlit[idx])
			continue;
		g_wlit[idx] = 1;
		ADD_SUB("w.a%u.b%u.c%u", idx / (WD * WD), (idx / WD) % WD, idx % WD);
		lit++;
	}
	for (int x = 0; x < WD; x++)
		for (int y = 0; y < WD; y++) {
			ADD_SUB("w.a%d.b%d.*", x, y);
			ADD_SUB("w.a%d.*.c%d", x, y);
			ADD_SUB("w.*.b%d.c%d", x, y);
			ADD_SUB("w.a%d.b%d.>", x, y);
		}
	for (int x = 0; x < WD; x++) {
		ADD_SUB("w.a%d.>", x);
		ADD_SUB("w.*.*.c%d", x);
	}
	while (nsub < WSUBS) {
		uint64_t r = rng_next(&rng);
		unsigned a = (unsigned)(r % WD), b = (unsigned)(r / WD % WD), cc = (unsigned)(r / WD / WD % WD);
		if (nsub % 2)
			ADD_SUB("w.a%u.b%u.c%u.>", a, b, cc);
		else
			ADD_SUB("x.a%u.*.c%u", a, cc);
	}
#undef ADD_SUB

	sub_ctx_t subs[WCONNS];
	memset(subs, 0, sizeof subs);
	for (int k = 0; k < WCONNS; k++)
		subs[k].c = conn_open(READ_BUF);
	uint64_t ts0 = now_ns();
	for (int k = 0; k < WCONNS; k++)
		conn_send(subs[k].c, sb[k], sl[k]);
	for (int k = 0; k < WCONNS; k++)
		conn_flush(subs[k].c);
	uint64_t ts1 = now_ns();
	for (int k = 0; k < WCONNS; k++)
		free(sb[k]);

	conn_t *p = conn_open(READ_BUF);
	conn_flush(p);
	uint64_t expected = 0;
	for (uint64_t i = 0; i < n; i++)
		expected += 6u + g_wlit[(i * 7919u) % WSPACE];
	subs_start(subs, WCONNS);
	uint64_t t0 = now_ns();
	pub_seq(p, NULL, 16, n, 0, wild_subject);
	uint64_t t1 = subs_finish(subs, WCONNS);
	uint64_t got = 0;
	for (int k = 0; k < WCONNS; k++) {
		got += subs[k].count;
		conn_close(subs[k].c);
	}
	conn_close(p);
	free(g_wlit);
	fprintf(stderr, "wildcard: %d subs in %.3f s; %llu publishes -> %llu deliveries in %.3f s\n", nsub,
		secs(ts0, ts1), (unsigned long long)n, (unsigned long long)got, secs(t0, t1));
	if (got != expected)
		die("wildcard: %llu deliveries, expected %llu", (unsigned long long)got,
		    (unsigned long long)expected);
	metric("wildcard", "50k wildcard subs, deliveries", (double)got / secs(t0, t1), "msgs/s", "higher");
	metric("wildcard.subs", "50k wildcard subs, SUB rate", (double)nsub / secs(ts0, ts1), "subs/s",
	       "higher");
}

/* VmRSS of the server process, in KiB. */
static long server_rss_kib(void)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%ld/status", g_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot read %s: %s", path, strerror(errno));
	long kib = -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	if (kib < 0)
		die("no VmRSS in %s", path);
	return kib;
}

static void wait_pong(conn_t *c)
{
	frame_t f;
	for (;;) {
		while (parse_frame(c, &f))
			if (f.type == FR_PONG)
				return;
		if (conn_fill(c) <= 0)
			die("server closed connection during handshake");
	}
}

static void scen_idle(void)
{
	enum { BATCH = 250 };
	if (g_pid <= 0)
		die("idleconns needs --pid SERVER_PID");
	/* Ready check, so the idle figure is of a server that finished starting. */
	conn_t *probe = conn_open(4096);
	conn_flush(probe);
	conn_close(probe);
	sleep_us(300000);
	long idle = server_rss_kib();

	int n = g_conns;
	conn_t **cs = xmalloc(sizeof *cs * (size_t)n);
	static const char ping[] = "PING\r\n";
	uint64_t t0 = now_ns();
	for (int i = 0; i < n; i += BATCH) {
		int e = i + BATCH < n ? i + BATCH : n;
		for (int j = i; j < e; j++) {
			cs[j] = conn_open(1024);
			conn_send(cs[j], ping, sizeof ping - 1);
		}
		for (int j = i; j < e; j++)
			wait_pong(cs[j]);
	}
	uint64_t t1 = now_ns();
	sleep_us(1000000);
	long loaded = server_rss_kib();
	for (int i = 0; i < n; i++)
		conn_close(cs[i]);
	free(cs);
	double per = (double)(loaded - idle) * 1024.0 / n;
	fprintf(stderr, "idleconns: %d conns in %.3f s; RSS %ld KiB idle, %ld KiB loaded\n", n,
		secs(t0, t1), idle, loaded);
	metric("idle.rss", "fresh server RSS", (double)idle, "KiB", "lower");
	metric("idle.perconn", "RSS per idle connection", per, "B", "lower");
	metric("idle.connrate", "connection setup rate", n / secs(t0, t1), "conns/s", "higher");
}

/* ---- main -------------------------------------------------------------- */

static const char *SCENARIOS[] = { "pub16", "pub1k", "pubsub", "fanout8", "queue4", "reqrep",
				   "wildcard", "idleconns", "route", "tlspubsub", "tlspub1k", NULL };

static void usage(FILE *to)
{
	fprintf(to,
		"usage: mnbench --scenario NAME --port PORT [options]\n"
		"       mnbench --free-port | --list\n"
		"options:\n"
		"  --host ADDR       server address (default 127.0.0.1)\n"
		"  --port2 PORT      route: the subscriber's server, clustered with --port\n"
		"  --scale X         multiply message counts by X (default 1)\n"
		"  --count N         exact message count, overrides --scale\n"
		"  --conns N         idle connections for idleconns (default 5000)\n"
		"  --pid PID         server pid, for RSS (idleconns)\n"
		"  --timeout S       abort the whole run after S seconds (default 120)\n"
		"  --io-timeout S    abort when one read or write blocks S seconds (default 10)\n"
		"  --wait-ms MS      retry the first connect this long (default 5000)\n"
		"  --tls-ca FILE     tls* scenarios: the CA that signed the server's certificate\n"
		"scenarios: pub16 pub1k pubsub fanout8 queue4 reqrep wildcard idleconns route\n"
		"           tlspubsub tlspub1k (pubsub and pub1k over TLS; the server must\n"
		"           have a tls block)\n");
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0)
		die("cannot find a free port: %s", strerror(errno));
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *scen = NULL, *tls_ca = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && (v ? (i++, 1) : (die("%s needs a value", name), 0)))
		if (strcmp(a, "--free-port") == 0)
			return free_port();
		else if (strcmp(a, "--list") == 0) {
			for (int k = 0; SCENARIOS[k]; k++)
				puts(SCENARIOS[k]);
			return 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "-v") == 0)
			g_verbose = 1;
		else if (OPT("--scenario"))
			scen = v;
		else if (OPT("--host"))
			g_host = v;
		else if (OPT("--port"))
			g_port = atoi(v);
		else if (OPT("--port2"))
			g_port2 = atoi(v);
		else if (OPT("--scale"))
			g_scale = atof(v);
		else if (OPT("--count"))
			g_count = strtoull(v, NULL, 10);
		else if (OPT("--conns"))
			g_conns = atoi(v);
		else if (OPT("--pid"))
			g_pid = atol(v);
		else if (OPT("--timeout"))
			g_timeout_s = atoi(v);
		else if (OPT("--io-timeout"))
			g_io_timeout_s = atoi(v);
		else if (OPT("--wait-ms"))
			g_wait_ms = atoi(v);
		else if (OPT("--tls-ca"))
			tls_ca = v;
		else {
			usage(stderr);
			die("unknown option %s", a);
		}
#undef OPT
	}
	if (!scen || g_port <= 0 || g_port > 65535 || g_scale <= 0 || g_conns <= 0) {
		usage(stderr);
		return 2;
	}

	/* idleconns needs thousands of descriptors: take all we are allowed. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	alarm((unsigned)g_timeout_s);

	if (strncmp(scen, "tls", 3) == 0) {
		if (!tls_ca)
			die("%s needs --tls-ca FILE", scen);
		g_tls = SSL_CTX_new(TLS_client_method());
		if (!g_tls || SSL_CTX_load_verify_locations(g_tls, tls_ca, NULL) != 1)
			die("cannot load --tls-ca %s", tls_ca);
		SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_mode(g_tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	}

	if (strcmp(scen, "pub16") == 0)
		scen_pub("pub16", "pub only, 16 B", 16, 10000000);
	else if (strcmp(scen, "pub1k") == 0)
		scen_pub("pub1k", "pub only, 1 KiB", 1024, 4000000);
	else if (strcmp(scen, "pubsub") == 0)
		scen_fanout("pubsub", "1 pub -> 1 sub, 16 B", 1, 4000000);
	else if (strcmp(scen, "fanout8") == 0)
		scen_fanout("fanout8", "1 pub -> 8 subs, 16 B, deliveries", 8, 1200000);
	else if (strcmp(scen, "queue4") == 0)
		scen_queue();
	else if (strcmp(scen, "reqrep") == 0)
		scen_reqrep();
	else if (strcmp(scen, "wildcard") == 0)
		scen_wildcard();
	else if (strcmp(scen, "idleconns") == 0)
		scen_idle();
	else if (strcmp(scen, "route") == 0)
		scen_route();
	else if (strcmp(scen, "tlspubsub") == 0)
		scen_fanout("tlspubsub", "TLS: 1 pub -> 1 sub, 16 B", 1, 2000000);
	else if (strcmp(scen, "tlspub1k") == 0)
		scen_pub("tlspub1k", "TLS: pub only, 1 KiB", 1024, 2000000);
	else
		die("unknown scenario %s (see --list)", scen);
	return 0;
}
