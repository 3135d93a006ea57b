/*
 * harness.h - run a real NATS server process for the integration tests.
 *
 * A test starts the server binary (modnats, or the reference nats-server
 * when MN_TEST_SERVER points at it) as a child on a free loopback port, waits
 * until it accepts connections, talks to it with libnats or a raw socket,
 * and stops it.  A crash, a sanitizer report or any other abnormal exit
 * fails the test; the server's log is kept in the test's temp dir and its
 * tail is printed when something went wrong.
 *
 * The tests are cmocka tests.  Every test uses it_setup / it_teardown; a
 * test calls it_ok() as its last statement, so teardown knows whether the
 * body ran to the end (if not, the server logs are printed).
 */
#ifndef MN_IT_HARNESS_H
#define MN_IT_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <sys/types.h>

typedef enum it_flavour {
    IT_MODNATS = 0,
    IT_NATS_SERVER,      /* the Go reference server */
} it_flavour;

typedef struct it_server {
    pid_t pid;           /* 0 when not running */
    int   port;
    char  url[64];       /* nats://127.0.0.1:<port> */
    char  conf[400];     /* config file path, "" if none */
    char  log[400];      /* stdout+stderr of the server */
    char *extra[16];     /* extra command-line arguments (owned) */
    int   nextra;
    int   exit_status;   /* waitpid status of the last run */
    bool  exited;
    bool  sent_term;     /* the harness sent SIGTERM to the last run */
} it_server;

/* Call first from main(): argv[1] may name the server binary; the env var
 * MN_TEST_SERVER wins over it. */
void        it_init(int argc, char **argv);
const char *it_server_binary(void);
it_flavour  it_get_flavour(void);
bool        it_is_nats_server(void);

/* The current test's temp dir (created by it_setup). */
const char *it_tmpdir(void);

/* Write text to <tmpdir>/<name>; returns the path (static storage per call
 * site is not needed: the result is copied into out). */
void it_write_file(const char *name, const char *text, char *out, size_t outlen);
/* Run the server on a config holding conf_text (on 127.0.0.1, a random
 * port) and expect it to exit non-zero within 10 s; for modnats its output
 * must also contain `logged` (nats-server's wording differs: only its exit
 * is checked).  Fails the test otherwise. */
void it_expect_refused(const char *conf_text, const char *logged);

/* Start a server.  conf_text: config file contents or NULL; extra args are
 * a NULL-terminated list (or NULL).  Picks a free port.  Fails the test
 * (cmocka) if the server does not come up.  Returns the server. */
it_server *it_server_start(const char *conf_text, const char *const *extra);

/* Start again with the same port, config and args (after it_server_stop). */
void it_server_restart(it_server *s);

/* Rewrite the server's config file (for reload tests). */
void it_server_rewrite_conf(it_server *s, const char *conf_text);

void it_server_signal(it_server *s, int sig);

/* SIGTERM, bounded wait, SIGKILL.  Returns true when the exit was clean
 * (exit code 0, or killed by the SIGTERM we sent; nats-server answers
 * SIGTERM with exit code 1, accepted for that flavour only). */
bool it_server_stop(it_server *s);

/* Wait up to timeout_ms for the server to exit by itself. True if it did. */
bool it_server_wait_exit(it_server *s, int timeout_ms);

/* Was the last exit clean (see it_server_stop)? */
bool it_server_exit_clean(const it_server *s);

void it_server_print_log(const it_server *s, int lines);

/* Servers that send nothing first (TLS handshake_first): a start counts
 * as ready once the port accepts, without waiting for INFO. */
void it_set_probe_connect_only(bool on);

/* Does 127.0.0.1:port accept a connection and send INFO (within 2 s)? */
bool it_port_accepting(int port);

/* cmocka fixtures: setup makes a temp dir; teardown stops every server the
 * test started, prints logs if the test did not reach it_ok() or a server
 * exited abnormally, and fails the test in the latter case. */
int  it_setup(void **state);
int  it_teardown(void **state);
void it_ok(void);

/* Monotonic milliseconds, and a short sleep for polling loops. */
long long it_now_ms(void);
void      it_sleep_ms(int ms);

/* ---- raw protocol connections ---- */

typedef struct it_raw {
    int    fd;
    char  *buf;          /* everything received so far (NUL-terminated) */
    size_t len, cap;
    size_t pos;          /* it_raw_expect searches from here */
    bool   closed;       /* peer closed (EOF or reset) */
    char  *info;         /* the first INFO line's JSON */
} it_raw;

/* Connect to 127.0.0.1:port without waiting for anything (rcvbuf as
 * below).  Fails the test if the TCP connect fails. */
it_raw *it_raw_connect(int port, int rcvbuf);

/* Connect to 127.0.0.1:port, read the INFO line.  rcvbuf > 0 sets
 * SO_RCVBUF before connecting.  Fails the test on error. */
it_raw *it_raw_open(int port, int rcvbuf);
void    it_raw_close(it_raw *r);
void    it_raw_send(it_raw *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void    it_raw_send_bytes(it_raw *r, const void *data, size_t len);

/* Read until needle appears after r->pos (then move pos past it): true.
 * False on timeout or when the peer closed without sending it. */
bool it_raw_expect(it_raw *r, const char *needle, int timeout_ms);

/* Read (discarding nothing) until the peer closes; true if it did within
 * timeout_ms. */
bool it_raw_wait_closed(it_raw *r, int timeout_ms);

/* Read whatever arrives within timeout_ms (for "nothing else came"). */
void it_raw_drain(it_raw *r, int timeout_ms);

/* The first INFO line received (without "INFO " and CRLF), owned by r. */
const char *it_raw_info(it_raw *r);

/* Count occurrences of needle in the received data. */
size_t it_raw_count(const it_raw *r, const char *needle);

/* Print what the connection received (for failure messages). */
void it_raw_dump(const it_raw *r, const char *label);

/* Is a substring present, case-insensitively? */
bool it_contains_ci(const char *hay, const char *needle);

/* The emulated power cut (powercut/powercut_shim.c records in side/<name>
 * each file's size at its last fsync).  it_wal_cut cuts every write-ahead
 * log (*.log) in dir back to that size (or to nothing); it_wal_synced
 * says whether every one is fsync'd to its end. */
void it_wal_cut(const char *dir, const char *side);
bool it_wal_synced(const char *dir, const char *side);

/* Run tests/gen/gen_jwt.sh (gen_sh) "scenario" into dir, the Go generator
 * built in bin_dir; fails the test if it fails. */
void it_gen_jwt_scenario(const char *gen_sh, const char *bin_dir, const char *dir);

#endif
