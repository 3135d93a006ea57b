/*
 * qsbr.h - quiescent-state-based reclamation.
 *
 * Routing state (subscriptions, match results, clients) is read by every I/O
 * thread without locks on the hot path.  An object that has been unlinked
 * from every shared structure is handed to mn_qsbr_retire(); it is freed
 * only once every registered thread has passed a quiescent point (the end
 * of an event-loop turn) or is offline (blocked in epoll_wait).  So:
 *
 *   a pointer found in shared routing state stays valid until the thread
 *   that found it reaches its next quiescent point.
 *
 * Threads that never touch routing state need not register.
 */
#ifndef MN_QSBR_H
#define MN_QSBR_H

#include "mn.h"

typedef void (*mn_qsbr_free_fn)(void *p);

/* Register the calling thread as a reader; returns MN_OK.  Thread-local. */
int  mn_qsbr_register(void);
void mn_qsbr_unregister(void);

/* The calling thread holds no reference to shared state now; frees what
 * can be freed.  Cheap: one atomic load and store when nothing is pending. */
void mn_qsbr_quiescent(void);

/* Bracket a blocking wait: an offline thread holds no references. */
void mn_qsbr_offline(void);
void mn_qsbr_online(void);

/* Free p with fn once no reader can hold it.  p must already be unlinked.
 * May be called from any thread, registered or not. */
void mn_qsbr_retire(void *p, mn_qsbr_free_fn fn);

/* Free everything still pending, unconditionally; at shutdown only, when
 * no reader runs any more. */
void mn_qsbr_drain_all(void);

#endif
