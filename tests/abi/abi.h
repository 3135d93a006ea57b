/*
 * abi.h - what the ABI tests add to the integration harness
 * (tests/integration/harness.h): where the SDK-built test modules are,
 * starting a server that loads them, reading the server's log, and running
 * a server that must refuse to start.
 *
 * Every test_*.c here is a cmocka program run by ctest as
 *
 *     abi_test_X <modnats binary> [cmocka test filter]
 *
 * with ABI_MODULE_DIR (the test modules built against the installed SDK)
 * and, for the ip_allow example, ABI_IP_ALLOW_DIR in the environment.
 */
#ifndef MN_ABI_TEST_H
#define MN_ABI_TEST_H

#include "itnats.h"

#include <stdbool.h>
#include <stddef.h>

/* Call first from main(); returns what abi_run_tests needs. */
void abi_init(int argc, char **argv);
/* Run the group, honouring the optional filter argument. */
int  abi_run(const char *group, const struct CMUnitTest *tests, size_t n);
#define ABI_RUN(tests) abi_run(__FILE__, tests, sizeof(tests) / sizeof((tests)[0]))
#define ABI_TEST(fn) cmocka_unit_test_setup_teardown(fn, it_setup, it_teardown)

const char *abi_module_dir(void);        /* $ABI_MODULE_DIR */
const char *abi_env_dir(const char *var); /* another directory from the env, or fail */

/* Start a server with the config text, loading modules from dir
 * (abi_module_dir() when NULL), plus extra arguments (NULL-terminated). */
it_server *abi_start(const char *conf, const char *dir, const char *const *extra);

/* The server's log as one string (malloc'd). */
char  *abi_log_text(const it_server *s);
/* Offset of the first occurrence of needle in the log, or -1. */
long   abi_log_find(const it_server *s, const char *needle);
size_t abi_log_count(const it_server *s, const char *needle);
/* Wait until the log mentions needle; fail the test (printing the log)
 * after timeout_ms. */
void   abi_log_expect(const it_server *s, const char *needle, int timeout_ms);
/* Fail the test when the log mentions needle. */
void   abi_log_refute(const it_server *s, const char *needle);

/* A raw client logged in with the CONNECT JSON members given, checked with
 * PING/PONG. */
it_raw *abi_login(const it_server *s, const char *fields);
void    abi_expect(it_raw *r, const char *needle, int timeout_ms);
/* The local port of a raw connection (what the server sees as remote). */
int     abi_local_port(const it_raw *r);

/* A server run that must fail: what happened. */
typedef struct abi_refusal {
    char log[512];        /* its stdout + stderr */
    int  exit_code;       /* -1: killed by a signal or did not exit */
    bool tcp_accepted;    /* a TCP connect to its port succeeded while it ran */
    bool sent_info;       /* a connection received INFO */
} abi_refusal;

/* Run modnats -c <conf> --module_path <dir> on a free port until it exits
 * (at most 15 s), probing the port meanwhile. */
void abi_run_refused(const char *conf, const char *dir, abi_refusal *out);
/* abi_run_refused, then check: exit code not 0, one log line that is
 * exactly "[FTL] " + fatal_msg after the usual "[pid] date " prefix, no
 * "Listening for client connections", no "Server is ready", no INFO. */
void abi_expect_refusal(const char *conf, const char *dir, const char *fatal_msg,
                        abi_refusal *out);
/* Does the log file hold a line that is exactly "[pid] date " + tail (the
 * tail starts with the level, e.g. "[ERR] ...")?  A tail ending in '*'
 * matches lines that start so. */
bool abi_file_has_line(const char *path, const char *tail);

/* realpath of dir/name. */
void abi_module_path(const char *dir, const char *name, char *out, size_t outlen);

#endif
