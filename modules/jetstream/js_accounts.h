/*
 * js_accounts.h - the "jetstream.accounts" contract (version 1): how the
 * modules that know the accounts (auth_basic from its settings, auth_jwt
 * from account JWTs) tell the jetstream module which accounts have
 * JetStream and with which limits (docs/adr-002-jetstream-account-limits.md).
 *
 * A provider registers one js_accounts_v1 under its own service name
 * (JS_ACCOUNTS_SERVICE_JWT or JS_ACCOUNTS_SERVICE_CONFIG) during its init;
 * the jetstream module looks the providers up when it first needs them
 * (not at its own init: module order does not matter) and asks them, JWT
 * first, on its own thread.  The header is the whole contract: a provider
 * copies it or includes it; fields are only appended.
 */
#ifndef JS_ACCOUNTS_H
#define JS_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JS_ACCOUNTS_SERVICE_JWT    "jetstream.accounts.jwt"
#define JS_ACCOUNTS_SERVICE_CONFIG "jetstream.accounts.config"

/* An account's JetStream limits, as nats-server's JetStreamAccountLimits;
 * -1: unlimited.  Start from JS_ACCOUNT_LIMITS_UNLIMITED. */
typedef struct js_account_limits {
    size_t  size;                    /* sizeof(js_account_limits) of the writer */
    int64_t max_memory;              /* bytes of memory streams */
    int64_t max_storage;             /* bytes of file streams */
    int64_t max_streams;
    int64_t max_consumers;           /* per stream, as nats-server applies it */
    int64_t max_ack_pending;         /* caps each consumer's max_ack_pending */
    int64_t memory_max_stream_bytes; /* a memory stream's max_bytes at most */
    int64_t storage_max_stream_bytes;
    bool    max_bytes_required;      /* streams must set max_bytes */
    void   *reserved[4];
} js_account_limits;
#define JS_ACCOUNT_LIMITS_UNLIMITED \
    { sizeof(js_account_limits), -1, -1, -1, -1, -1, -1, -1, false, { 0 } }

typedef enum js_account_state {
    JS_ACCOUNT_UNKNOWN = 0,   /* not this provider's to say: ask the next */
    JS_ACCOUNT_DISABLED,      /* no JetStream (10039 "JetStream not enabled for account") */
    JS_ACCOUNT_ENABLED,       /* *out holds the limits */
} js_account_state;

typedef struct js_accounts_v1 {
    size_t size;              /* sizeof(js_accounts_v1) of the provider */
    /* The state of account `name` now.  Any thread (the jetstream module
     * calls it from its own); must not block on the network.  out->size
     * is set by the caller; the provider fills what it knows. */
    js_account_state (*lookup)(const char *name, js_account_limits *out);
    /* Bumped whenever an answer may have changed (reload, JWT update), so
     * callers can cache answers until it moves. */
    uint64_t (*generation)(void);
    void *reserved[4];
} js_accounts_v1;

#endif
