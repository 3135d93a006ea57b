/*
 * parser.h - the NATS client protocol parser.
 *
 * A byte-at-a-time-capable state machine: feed it whatever a read() returned
 * and it calls back once per complete operation, however the frames were
 * split.  Verbs are case-insensitive.  When an operation's arguments and
 * payload lie whole in the fed buffer, the callback gets pointers straight
 * into that buffer (zero copy); otherwise the parser gathers the pieces in
 * buffers of its own.  Pointers passed to a callback are valid only for the
 * duration of that callback.
 *
 * Ownership: the caller owns the mn_parser struct (usually embedded in the
 * connection); mn_parser_free releases the parser's internal buffers.
 */
#ifndef MN_PARSER_H
#define MN_PARSER_H

#include "mn.h"

/* Arguments of PUB / HPUB.  hdr_len is 0 for PUB; for HPUB the payload
 * passed to on_msg is headers followed by body, total_len bytes in all,
 * the first hdr_len of them being the header block. */
typedef struct mn_pub_args {
    const char *subject;  size_t subject_len;
    const char *reply;    size_t reply_len;     /* reply_len 0: no reply */
    size_t      hdr_len;
    size_t      total_len;
} mn_pub_args;

typedef struct mn_sub_args {
    const char *subject;  size_t subject_len;
    const char *queue;    size_t queue_len;     /* 0: no queue group */
    const char *sid;      size_t sid_len;
} mn_sub_args;

/* Callbacks: return MN_OK to continue; any other value stops parsing and
 * mn_parser_feed returns it (e.g. when the connection is being closed).
 * A NULL callback accepts its operation and ignores it. */
typedef struct mn_parser_cb {
    int (*on_connect)(void *ud, const char *json, size_t len);
    int (*on_pub)(void *ud, const mn_pub_args *a, const char *payload);
    int (*on_sub)(void *ud, const mn_sub_args *a);
    /* max 0: unsubscribe now; otherwise after max messages in all. */
    int (*on_unsub)(void *ud, const char *sid, size_t sid_len, uint64_t max);
    int (*on_ping)(void *ud);
    int (*on_pong)(void *ud);
    int (*on_ok)(void *ud);                     /* "+OK" */
    /* "-ERR 'text'": msg is the text without the quotes */
    int (*on_err)(void *ud, const char *msg, size_t len);
    int (*on_info)(void *ud, const char *json, size_t len);
} mn_parser_cb;

typedef struct mn_parser {
    /* limits, set by the caller before feeding */
    size_t max_control_line;   /* default 4096 */
    size_t max_payload;        /* default 1 MiB */
    /* internal state, opaque to callers */
    int      state;
    char    *argbuf;  size_t arglen, argcap;   /* partial line / PUB args */
    char    *msgbuf;  size_t msglen, msgcap;   /* partial payload + CRLF */
    mn_pub_args pub;           /* args of the PUB whose payload is pending */
    /* set when feed returns MN_EINVAL: the exact text for -ERR, e.g.
     * "Unknown Protocol Operation" (static string, not owned) */
    const char *err;
    /* bytes of the last fed buffer consumed when feed returned */
    size_t   consumed;
} mn_parser;

/* A limit of 0 means the default (4096, 1 MiB). */
void mn_parser_init(mn_parser *p, size_t max_control_line, size_t max_payload);
void mn_parser_free(mn_parser *p);

/* Feed len bytes.  Returns MN_OK when all bytes were consumed, MN_EINVAL on
 * a protocol error (p->err says which), or the first non-MN_OK value a
 * callback returned.  After an error the parser must not be fed again,
 * except after MN_EAGAIN: a callback returning it pauses the parser after
 * that operation; p->consumed says how much of buf was used, and the
 * caller feeds the rest later. */
int  mn_parser_feed(mn_parser *p, const char *buf, size_t len,
                    const mn_parser_cb *cb, void *ud);

#endif
