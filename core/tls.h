/*
 * tls.h - TLS for the core's connections (clients, and module connections
 * such as routes), on top of OpenSSL, without OpenSSL in this header.
 *
 * Three layers:
 *  - mn_tls_settings: what a `tls { }` block (or the --tls* flags) says.
 *    Owns its strings.  Parsed from a config tree node by
 *    mn_tls_settings_parse, which checks every key ("file:line: problem").
 *  - mn_tls_ctx: a built configuration (certificates loaded, ciphers set),
 *    reference counted so a reload can swap it while connections made with
 *    the old one live on.  Immutable once built; any thread.
 *  - mn_tls: one connection's TLS state.  Not thread-safe: the caller
 *    serialises every call on one mn_tls (client.c and mconn.c hold the
 *    connection's lock).  Non-blocking: calls return MN_TLS_WANT_READ /
 *    MN_TLS_WANT_WRITE and are called again when epoll says so.
 */
#ifndef MN_TLS_H
#define MN_TLS_H

#include "mn.h"
#include <sys/types.h>
#include <modnats/modnats.h>

struct mn_cfg;

typedef struct mn_tls_settings {
    char    *cert_file, *key_file, *ca_file;
    bool     verify;            /* require and verify a peer certificate */
    bool     verify_and_map;    /* verify, and map the certificate to a user */
    bool     insecure;          /* dialing side: do not verify the server */
    bool     handshake_first;   /* TLS before INFO (nats-server 2.10) */
    int64_t  first_fallback_ms; /* handshake_first: a duration or "auto": plain INFO
                                   after this long without a ClientHello; 0: never */
    int64_t  timeout_ms;        /* handshake timeout; default 2000 */
    char    *cipher_suites;     /* Go/IANA names, comma-joined, or NULL */
    char    *curve_preferences; /* Go names, comma-joined, or NULL */
    char    *min_version;       /* "1.2" or "1.3", or NULL */
} mn_tls_settings;

#define MN_TLS_DEFAULT_TIMEOUT_MS 2000

void mn_tls_settings_init(mn_tls_settings *t);
void mn_tls_settings_free(mn_tls_settings *t);
int  mn_tls_settings_copy(mn_tls_settings *dst, const mn_tls_settings *src);
/* Read a tls group (either config format) into *t (which must be
 * initialised; keys present replace what it holds).  path names the group
 * in messages ("tls", "cluster.tls").  MN_OK, or MN_EINVAL with
 * "file:line: problem" in err. */
int  mn_tls_settings_parse(mn_tls_settings *t, const struct mn_cfg *g, const char *path,
                           char *err, size_t errlen);

typedef struct mn_tls_ctx mn_tls_ctx;

/* Build a context: server side (accepts) or client side (dials).  Loads
 * the files now, so a bad certificate is reported here (err: one line). */
mn_tls_ctx *mn_tls_ctx_new(const mn_tls_settings *t, bool server, char *err, size_t errlen);
void        mn_tls_ctx_ref(mn_tls_ctx *x);
void        mn_tls_ctx_unref(mn_tls_ctx *x);
bool        mn_tls_ctx_verify(const mn_tls_ctx *x);
bool        mn_tls_ctx_server(const mn_tls_ctx *x);
bool        mn_tls_ctx_map(const mn_tls_ctx *x);
bool        mn_tls_ctx_handshake_first(const mn_tls_ctx *x);
int64_t     mn_tls_ctx_timeout_ms(const mn_tls_ctx *x);
int64_t     mn_tls_ctx_first_fallback_ms(const mn_tls_ctx *x);

typedef struct mn_tls mn_tls;

enum { MN_TLS_WANT_READ = -10, MN_TLS_WANT_WRITE = -11 };

/* A connection's TLS over socket fd (not owned).  host: the name to check
 * the server's certificate against when dialing (NULL: no name check). */
mn_tls *mn_tls_new(mn_tls_ctx *x, int fd, bool server, const char *host);
/* Drive the handshake: MN_OK when done, MN_TLS_WANT_READ/WRITE, or
 * MN_ERR with the reason in t (mn_tls_error). */
int     mn_tls_handshake(mn_tls *t);
bool    mn_tls_ready(const mn_tls *t);
const char *mn_tls_error(const mn_tls *t);
/* > 0 bytes; 0 the peer closed; MN_TLS_WANT_READ/WRITE; MN_ERR. */
ssize_t mn_tls_read(mn_tls *t, void *buf, size_t n);
ssize_t mn_tls_write(mn_tls *t, const void *buf, size_t n);
/* Decrypted bytes (or a whole record) buffered inside OpenSSL, which
 * epoll cannot see. */
bool    mn_tls_pending(const mn_tls *t);
/* Fill buf (up to n) from t; the count goes to *got, the last
 * mn_tls_read result is returned (> 0 only when buf is full).  *more: a
 * full buffer left bytes inside OpenSSL, so another round is needed
 * (after WANT_READ nothing is held; bytes still in the socket raise
 * EPOLLIN again, level-triggered, so one peer cannot hog a worker).
 * Call with the connection's lock held. */
ssize_t mn_tls_read_batch(mn_tls *t, char *buf, size_t n, size_t *got, bool *more);
/* Send close_notify (best effort, non-blocking) and free the session;
 * the peer facts stay until mn_tls_free. */
void    mn_tls_shutdown(mn_tls *t);
void    mn_tls_free(mn_tls *t);
/* The peer's certificate facts, filled when the handshake completed;
 * strings owned by t and valid until mn_tls_free.  MN_ENOTFOUND before. */
int     mn_tls_peer(const mn_tls *t, modnats_tls_info *out);

/* Global OpenSSL set-up (idempotent). */
void mn_tls_global_init(void);

#endif
