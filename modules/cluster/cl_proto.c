/*
 * cl_proto.c - the route protocol parser (nats-server 2.9, route proto 2).
 *
 * Frames are text lines ending in CRLF; RMSG/HMSG/LMSG lines are followed
 * by a payload of the announced size and CRLF.  Bytes are parsed straight
 * from the read buffer when whole frames are there; a partial frame is
 * kept in the route's own buffer until the rest arrives.  Runs on the
 * route's worker only.
 *
 *   INFO {json}  CONNECT {json}  PING  PONG  +OK  -ERR 'text'
 *   RS+ acc subject [queue weight]      RS- acc subject [queue]
 *   RMSG acc subject [reply] size
 *   RMSG acc subject + reply q1 .. qn size | RMSG acc subject | q1 .. qn size
 *   HMSG as RMSG with "hdr_size total_size" in place of size
 *   LS+ origin acc subject [queue weight], LS- acc subject [queue],
 *   LMSG origin acc subject [reply | + reply q.. | | q..] hdr_size total_size:
 *   interest and messages of a peer's leaf nodes (the origin is the leaf's
 *   cluster).  We do not announce "lnoc", so nats-server sends us RS+/RMSG
 *   for those too; when a peer does send these forms they are taken as
 *   RS+/RS-/HMSG (we have no leaf nodes to keep the origin from).
 */
#include "cluster.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CL_MAX_LINE (64 * 1024)
#define CL_MAX_ARGS 256
#define CL_MAX_PAYLOAD (64LL * 1024 * 1024)

static long long parse_size(const char *s)
{
    if (!*s)
        return -1;
    long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > CL_MAX_PAYLOAD)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static size_t split(char *line, char **args, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            *p++ = 0;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        args[n++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
    }
    return n;
}

/* The payload size(s) a message line announces; -1 on a malformed line.
 * For HMSG *hdr gets the header size. */
typedef struct msg_args {
    const char  *acc, *subject, *reply;
    const char  *queues[CL_MAX_ARGS];
    size_t       qlens[CL_MAX_ARGS];
    size_t       nq;
    bool         listed;
    long long    hdr, total;
} msg_args;

static int parse_msg_args(char **a, size_t n, bool headers, bool origin, msg_args *m)
{
    if (origin) {            /* LMSG: origin cluster first */
        if (n < 1)
            return -1;
        a++;
        n--;
    }
    size_t sizes = headers ? 2 : 1;
    if (n < 2 + sizes)
        return -1;
    m->acc = a[0];
    m->subject = a[1];
    m->reply = NULL;
    m->nq = 0;
    m->listed = true;    /* a routed message never goes to unnamed queues */
    m->hdr = 0;
    if (n == 2 + sizes) {
        /* no reply */
    } else if (n == 3 + sizes && !(a[2][1] == 0 && (a[2][0] == '+' || a[2][0] == '|'))) {
        m->reply = a[2];
    } else {
        if (a[2][1] != 0 || (a[2][0] != '+' && a[2][0] != '|'))
            return -1;
        size_t qstart = 3;
        if (a[2][0] == '+') {
            if (n < 4 + sizes)
                return -1;
            m->reply = a[3];
            qstart = 4;
        }
        for (size_t i = qstart; i < n - sizes; i++) {
            m->queues[m->nq] = a[i];
            m->qlens[m->nq] = strlen(a[i]);
            m->nq++;
        }
    }
    m->total = parse_size(a[n - 1]);
    if (headers)
        m->hdr = parse_size(a[n - 2]);
    if (m->total < 0 || m->hdr < 0 || m->hdr > m->total)
        return -1;
    return 0;
}

/* One complete line (without CRLF, NUL-terminated, writable). For message
 * lines, payload points at the payload (hdr+body, total bytes). */
static int dispatch(cl_route *r, char *line, const char *payload, const msg_args *m,
                    int kind)
{
    if (kind == 1 || kind == 2) {            /* RMSG / HMSG */
        return cl_on_rmsg(r, m->acc, m->subject, m->reply, m->queues, m->qlens, m->nq,
                          m->listed, payload, (size_t)m->hdr, (size_t)m->total);
    }
    if (kind == 3)                           /* LMSG: as HMSG, origin dropped */
        return cl_on_rmsg(r, m->acc, m->subject, m->reply, m->queues, m->qlens, m->nq,
                          m->listed, payload, (size_t)m->hdr, (size_t)m->total);

    char *rest = line;
    while (*rest && *rest != ' ' && *rest != '\t')
        rest++;
    size_t vlen = (size_t)(rest - line);
    while (*rest == ' ' || *rest == '\t')
        rest++;

    if (vlen == 4 && strncasecmp(line, "PING", 4) == 0) {
        cl_on_ping(r);
        return 0;
    }
    if (vlen == 4 && strncasecmp(line, "PONG", 4) == 0) {
        cl_on_pong(r);
        return 0;
    }
    if (vlen == 4 && strncasecmp(line, "INFO", 4) == 0)
        return cl_on_info(r, rest);
    if (vlen == 7 && strncasecmp(line, "CONNECT", 7) == 0)
        return cl_on_connect(r, rest);
    if (vlen == 3 && strncmp(line, "+OK", 3) == 0)
        return 0;
    if (vlen == 4 && strncmp(line, "-ERR", 4) == 0) {
        cl_on_err(r, rest);
        return 0;
    }
    char *a[CL_MAX_ARGS];
    if (vlen == 3 && (strncasecmp(line, "RS+", 3) == 0 || strncasecmp(line, "RS-", 3) == 0)) {
        bool add = line[2] == '+';
        size_t n = split(rest, a, CL_MAX_ARGS);
        if (add) {
            if (n == 2)
                return cl_on_rsub(r, a[0], a[1], NULL, 1);
            if (n == 4) {
                long long w = parse_size(a[3]);
                return w < 0 ? -1 : cl_on_rsub(r, a[0], a[1], a[2], w > 0 ? (int)w : 1);
            }
            return -1;
        }
        if (n == 2 || n == 3)
            return cl_on_runsub(r, a[0], a[1], n == 3 ? a[2] : NULL);
        return -1;
    }
    if (vlen == 3 && (strncasecmp(line, "LS+", 3) == 0 || strncasecmp(line, "LS-", 3) == 0)) {
        size_t n = split(rest, a, CL_MAX_ARGS);
        if (line[2] == '+') {       /* LS+ origin acc subject [queue weight] */
            if (n == 3)
                return cl_on_rsub(r, a[1], a[2], NULL, 1);
            if (n == 5) {
                long long w = parse_size(a[4]);
                return w < 0 ? -1 : cl_on_rsub(r, a[1], a[2], a[3], w > 0 ? (int)w : 1);
            }
            return -1;
        }
        if (n == 2 || n == 3)       /* LS- acc subject [queue] */
            return cl_on_runsub(r, a[0], a[1], n == 3 ? a[2] : NULL);
        return -1;
    }
    if (vlen == 2 && (strncasecmp(line, "A+", 2) == 0 || strncasecmp(line, "A-", 2) == 0))
        return 0;
    if (vlen == 0)
        return 0;   /* empty line: tolerated */
    cl_log(MODNATS_LOG_ERROR, "route %s: unknown protocol operation \"%.*s\"",
           r->remote_id[0] ? r->remote_id : "?", (int)(vlen > 32 ? 32 : vlen), line);
    return -1;
}

/* Process whole frames from buf; *used gets how many bytes were taken. */
static int process(cl_route *r, const char *buf, size_t len, size_t *used)
{
    size_t off = 0;
    char stackline[1024];
    while (off < len) {
        const char *p = buf + off;
        const char *nl = memchr(p, '\n', len - off);
        if (!nl) {
            if (len - off > CL_MAX_LINE) {
                cl_log(MODNATS_LOG_ERROR, "route: control line too long");
                return -1;
            }
            break;
        }
        size_t ll = (size_t)(nl - p);
        size_t linelen = ll;
        if (ll > 0 && p[ll - 1] == '\r')
            ll--;
        if (ll > CL_MAX_LINE)
            return -1;
        char *line = ll < sizeof(stackline) ? stackline : malloc(ll + 1);
        if (!line)
            return -1;
        memcpy(line, p, ll);
        line[ll] = 0;

        int kind = 0;
        if (ll >= 5 && (strncasecmp(line, "RMSG ", 5) == 0 || strncasecmp(line, "RMSG\t", 5) == 0))
            kind = 1;
        else if (ll >= 5 && (strncasecmp(line, "HMSG ", 5) == 0 || strncasecmp(line, "HMSG\t", 5) == 0))
            kind = 2;
        else if (ll >= 5 && (strncasecmp(line, "LMSG ", 5) == 0 || strncasecmp(line, "LMSG\t", 5) == 0))
            kind = 3;

        int rc = 0;
        size_t frame = linelen + 1;
        if (kind) {
            static _Thread_local msg_args m;
            char *a[CL_MAX_ARGS];
            size_t n = split(line + 5, a, CL_MAX_ARGS);
            if (n > CL_MAX_ARGS ||
                parse_msg_args(a, n, kind != 1, kind == 3, &m) != 0) {
                /* p is not NUL-terminated: bound the read by the line. */
                cl_log(MODNATS_LOG_ERROR, "route: malformed message line \"%.*s\"",
                       (int)(ll < 80 ? ll : 80), p);
                rc = -1;
            } else if (off + frame + (size_t)m.total + 2 > len) {
                if (line != stackline)
                    free(line);
                break;   /* wait for the whole payload */
            } else {
                const char *pl = p + frame;
                if (pl[m.total] != '\r' || pl[m.total + 1] != '\n') {
                    cl_log(MODNATS_LOG_ERROR, "route: payload not followed by CRLF");
                    rc = -1;
                } else {
                    rc = dispatch(r, line, pl, &m, kind);
                    frame += (size_t)m.total + 2;
                }
            }
        } else {
            rc = dispatch(r, line, NULL, NULL, 0);
        }
        if (line != stackline)
            free(line);
        if (rc != 0)
            return -1;
        off += frame;
    }
    *used = off;
    return 0;
}

static int keep(cl_route *r, const char *buf, size_t len)
{
    if (r->rlen + len > r->rcap) {
        size_t cap = r->rcap ? r->rcap : 4096;
        while (cap < r->rlen + len)
            cap *= 2;
        char *nb = realloc(r->rbuf, cap);
        if (!nb)
            return -1;
        r->rbuf = nb;
        r->rcap = cap;
    }
    memcpy(r->rbuf + r->rlen, buf, len);
    r->rlen += len;
    return 0;
}

int cl_proto_feed(cl_route *r, const char *buf, size_t len)
{
    size_t used = 0;
    unsigned gen = atomic_load(&g_cl.perms_gen);
    if (r->perm_gen != gen) {
        /* A reload narrowed (or changed) what we export: recheck what we
         * hold for this route here, on its worker. */
        if (r->rbuckets)
            cl_interest_recheck_export(r);
        r->perm_gen = gen;
    }
    if (r->rlen == 0) {
        if (process(r, buf, len, &used) != 0)
            return -1;
        return used < len ? keep(r, buf + used, len - used) : 0;
    }
    if (keep(r, buf, len) != 0)
        return -1;
    if (process(r, r->rbuf, r->rlen, &used) != 0)
        return -1;
    if (used) {
        memmove(r->rbuf, r->rbuf + used, r->rlen - used);
        r->rlen -= used;
    }
    if (r->rlen == 0 && r->rcap > 1024 * 1024) {
        free(r->rbuf);
        r->rbuf = NULL;
        r->rcap = 0;
    }
    return 0;
}
