/*
 * mconn.h - module-owned connections: listeners and dials whose protocol a
 * module speaks (routes, gateways, leaf nodes), on the core's workers.
 *
 * The core owns the socket, the epoll registration, buffering and closing;
 * the module gets bytes (modnats_conn_ops.on_data) and writes bytes
 * (conn_write).  Every ops callback runs on the connection's worker.  A
 * connection is reference counted and freed through qsbr after on_close.
 */
#ifndef MN_MCONN_H
#define MN_MCONN_H

#include "server.h"

typedef struct mn_mconn mn_mconn;
typedef struct mn_mlistener mn_mlistener;

modnats_listener *mn_mconn_listen(modnats_module *m, const char *host, int port,
                                  const modnats_conn_ops *ops, void *ud);
modnats_rc mn_mconn_dial(modnats_module *m, const char *host, int port,
                         const modnats_conn_ops *ops, void *ud);
/* The same with TLS from the first byte (tls: an mn_tls_ctx; NULL: plain):
 * the handshake runs before on_open. */
modnats_listener *mn_mconn_listen_tls(modnats_module *m, const char *host, int port,
                                      const modnats_conn_ops *ops, void *ud,
                                      const modnats_tls *tls);
modnats_rc mn_mconn_dial_tls(modnats_module *m, const char *host, int port,
                             const modnats_conn_ops *ops, void *ud, const modnats_tls *tls);
/* Upgrade an open connection once its queued plain output is out (owner). */
modnats_rc mn_mconn_start_tls(modnats_conn *c, const modnats_tls *tls);
int        mn_mconn_tls_info(const modnats_conn *c, modnats_tls_info *out);
/* New accepts of a listen_tls listener use tls (reload of certificates). */
modnats_rc mn_mlistener_set_tls(modnats_listener *l, const modnats_tls *tls);
/* Worker tick: TLS handshake timeouts. */
void mn_mconn_tick(mn_worker *w);
/* Worker side: an epoll event for a module connection or listener. */
void mn_mconn_event(mn_worker *w, void *ptr, uint32_t events);
/* Host API on a modnats_conn that is a module connection. */
bool       mn_mconn_is(const void *conn);
modnats_rc mn_mconn_write(modnats_conn *c, const void *buf, size_t len);
modnats_rc mn_mconn_close(modnats_conn *c, const char *reason);
uint64_t   mn_mconn_id(const modnats_conn *c);
const char *mn_mconn_ip(const modnats_conn *c);
int        mn_mconn_port(const modnats_conn *c);
uint64_t   mn_mconn_pending(const modnats_conn *c);   /* queued output (any thread) */
modnats_rc mn_mconn_set_ud(modnats_conn *c, void *ud);
int        mn_mlistener_port(const modnats_listener *l);
/* Worker, end of a loop turn: write what conn_write queued (drops the
 * list's reference). */
void mn_mconn_flush(void *conn);
/* Worker shutdown: close every module connection of w. */
void mn_mconn_close_all(mn_worker *w);
/* Main thread, after the workers stopped: close the listeners. */
void mn_mlisteners_free(void);

#endif
