/*
 * js_jsz.h - the "jetstream.jsz" service (version 1) the jetstream module
 * registers for monitoring: the data of nats-server's /jsz and of the
 * "jetstream" section of /varz.  Another module finds it with
 *
 *     const js_jsz_v1 *jz = api->service_get(JS_JSZ_SERVICE, 1);
 *
 * and may copy this header (it is the whole contract; fields are only
 * appended, `size` says how much of the struct the writer filled).
 * Without the service JetStream is off, and /jsz says "disabled".
 *
 * The calls run on the JetStream thread (it owns every stream): the
 * caller's thread waits for the answer, so never call them from an I/O
 * worker.  They return compact JSON text, malloc'd (the caller frees), or
 * NULL when JetStream is stopping, busy past the wait or short of memory.
 */
#ifndef JS_JSZ_H
#define JS_JSZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JS_JSZ_SERVICE "jetstream.jsz"

/* nats-server's JSzOptions (the /jsz query). */
typedef struct js_jsz_opts {
    size_t      size;            /* sizeof(js_jsz_opts) of the caller */
    const char *account;         /* acc=: only this account's details (NULL: all) */
    bool        accounts;        /* account_details */
    bool        streams;         /* stream_detail (implies accounts) */
    bool        consumers;       /* consumer_detail (implies streams) */
    bool        config;          /* configurations in the details */
    int64_t     offset, limit;   /* over the accounts (limit 0: 1024) */
    void       *reserved[4];
} js_jsz_opts;

typedef struct js_jsz_v1 {
    size_t size;                 /* sizeof(js_jsz_v1) of the writer */
    /* The JSON object of /jsz without "server_id" and "now": {"config":
     * {...},"memory":..,"storage":..,...,"account_details":[...]}, the
     * members in nats-server's order. */
    char *(*jsz)(const js_jsz_opts *o);
    /* The "jetstream" object of /varz: {"config":{...},"stats":{...}}. */
    char *(*varz)(void);
    void  *reserved[4];
} js_jsz_v1;

#endif
