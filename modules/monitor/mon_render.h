/*
 * mon_render.h - the "monitor.render" service, version 1, which the
 * monitor module registers so that other modules (the system module's
 * $SYS.REQ.SERVER.*.VARZ/CONNZ/... requests) get the same JSON as the
 * HTTP endpoints.  A module using it keeps its own copy of this struct.
 */
#ifndef MON_RENDER_H
#define MON_RENDER_H

#include <stddef.h>

#define MON_RENDER_SERVICE "monitor.render"

typedef struct mon_render_v1 {
    size_t size;   /* sizeof(mon_render_v1) of the writer */
    /* The body of endpoint `path` ("/varz", "/connz", ...) with the
     * query `query` ("acc=A&subs=1", or NULL), as HTTP would answer it:
     * *status the HTTP status, *len the length.  malloc'd: the caller
     * frees it; NULL when the path is unknown or memory is short.  Never
     * from an I/O worker (connz waits for them): call it from a thread
     * of the module's.  Requests are served one at a time. */
    char *(*render)(const char *path, const char *query, int *status, size_t *len);
} mon_render_v1;

#endif
