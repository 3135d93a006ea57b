/*
 * parser.c - the NATS client protocol parser (contract in parser.h).
 *
 * Two ways through the input.  The fast path finds a whole control line with
 * memchr, matches the verb, splits the arguments in place and, when the
 * payload and its CRLF are in the buffer too, calls back with pointers into
 * the caller's buffer: no copy, no allocation.  The slow path keeps what is
 * incomplete at the end of a buffer - part of a control line in argbuf, part
 * of a payload in msgbuf - and picks it up on the next feed.  Both paths end
 * in the same line handler, so the callbacks and the error a stream produces
 * do not depend on where it was split; only how early an error is noticed
 * may differ.  Both buffers are freed as soon as the operation they hold is
 * done, so an idle connection holds no memory here.
 *
 * Every callback runs with the parser already past its operation, which is
 * what lets a callback return MN_EAGAIN to pause: the caller resumes by
 * feeding the unconsumed rest (p->consumed says where it starts).
 *
 * Limits follow nats-server: max_control_line bounds the arguments (the text
 * after the verb and its separating blanks, without CRLF); max_payload bounds
 * the total size of PUB / HPUB.
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

enum { ST_LINE = 0, ST_PAYLOAD, ST_DEAD };

enum {
    OP_NONE = 0, OP_PUB, OP_HPUB, OP_SUB, OP_UNSUB, OP_PING, OP_PONG,
    OP_CONNECT, OP_INFO, OP_OK, OP_ERR
};

#define DEFAULT_MAX_CONTROL_LINE 4096
#define DEFAULT_MAX_PAYLOAD      (1024 * 1024)
#define LIMIT_CAP                ((size_t)1 << 30)  /* keeps size sums exact */
#define VERB_MAX                 7                  /* strlen("CONNECT") */

/* The texts the server sends as -ERR '<text>'. */
static const char E_UNKNOWN[] = "Unknown Protocol Operation";
static const char E_CONTROL[] = "maximum control line exceeded";
static const char E_PAYLOAD[] = "Maximum Payload Violation";
static const char E_PUB[]     = "Invalid Publish Arguments";
static const char E_HPUB[]    = "Invalid Header Publish Arguments";
static const char E_HEADERS[] = "Invalid Message Headers";
static const char E_SUB[]     = "Invalid Subscription Arguments";
static const char E_UNSUB[]   = "Invalid Unsubscribe Arguments";
static const char E_CONNECT[] = "Invalid Connect Arguments";
static const char E_INFO[]    = "Invalid Info Arguments";

static const char HDR_PREFIX[] = "NATS/1.0";
#define HDR_PREFIX_LEN (sizeof(HDR_PREFIX) - 1)

/* Names in lower case; the PUB family first since it dominates traffic. */
static const struct verb {
    char          name[VERB_MAX + 1];
    unsigned char len;
    unsigned char op;
} verbs[] = {
    { "pub", 3, OP_PUB },         { "hpub", 4, OP_HPUB },
    { "ping", 4, OP_PING },       { "pong", 4, OP_PONG },
    { "sub", 3, OP_SUB },         { "unsub", 5, OP_UNSUB },
    { "connect", 7, OP_CONNECT }, { "info", 4, OP_INFO },
    { "+ok", 3, OP_OK },          { "-err", 4, OP_ERR },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

/* '\r' is a separator too, as in nats-server, so a stray CR inside a line
 * splits arguments instead of becoming part of one. */
#define IS_BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')

typedef struct tok { const char *s; size_t n; } tok;

static int fail(mn_parser *p, const char *msg)
{
    p->err = msg;
    return MN_EINVAL;
}

/* A case-insensitive match of one byte against a lower-case name byte;
 * only letters fold (a plain "| 0x20" would also fold '\v' into '+'). */
static inline bool ci_eq(char c, char lower)
{
    return c == lower || (lower >= 'a' && lower <= 'z' && c == lower - 32);
}

/* Which verb starts s[0..n): its op (length in *vlen), 0 if s is a proper
 * prefix of some verb so more bytes are needed, -1 if no verb can match.
 * Matches the verb only; the byte after it is the caller's to check. */
static int verb_lookup(const char *s, size_t n, size_t *vlen)
{
    bool maybe = false;
    for (size_t v = 0; v < NVERBS; v++) {
        size_t len = verbs[v].len, m = n < len ? n : len, i;
        for (i = 0; i < m && ci_eq(s[i], verbs[v].name[i]); i++)
            ;
        if (i < m)
            continue;
        if (n >= len) {
            *vlen = len;
            return verbs[v].op;
        }
        maybe = true;
    }
    return maybe ? 0 : -1;
}

/* Split s[0..n) at blanks into at most max tokens; returns the token count,
 * or max + 1 if there are more. */
static int split_args(const char *s, size_t n, tok *t, int max)
{
    int    nt = 0;
    size_t i = 0;
    for (;;) {
        while (i < n && IS_BLANK(s[i]))
            i++;
        if (i == n)
            return nt;
        if (nt == max)
            return max + 1;
        t[nt].s = s + i;
        while (i < n && !IS_BLANK(s[i]))
            i++;
        t[nt].n = (size_t)(s + i - t[nt].s);
        nt++;
    }
}

/* A decimal number made only of digits.  Saturates at UINT64_MAX and says
 * so through *overflow, so absurd sizes fail a limit check cleanly. */
static bool parse_u64(const tok *t, uint64_t *out, bool *overflow)
{
    uint64_t v = 0;
    bool     ovf = false;
    for (size_t i = 0; i < t->n; i++) {
        unsigned d = (unsigned char)t->s[i] - '0';
        if (d > 9)
            return false;
        if (v > (UINT64_MAX - d) / 10)
            ovf = true;
        v = ovf ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    if (overflow)
        *overflow = ovf;
    return t->n > 0;
}

static size_t eff_limit(size_t v, size_t dflt)
{
    if (v == 0)
        return dflt;
    return v > LIMIT_CAP ? LIMIT_CAP : v;
}

/* Make *buf hold at least need bytes; contents are kept. */
static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return MN_OK;
    char *nb = realloc(*buf, need);
    if (nb == NULL)
        return MN_ENOMEM;
    *buf = nb;
    *cap = need;
    return MN_OK;
}

static void release_arg(mn_parser *p)
{
    free(p->argbuf);
    p->argbuf = NULL;
    p->arglen = p->argcap = 0;
}

static void release_msg(mn_parser *p)
{
    free(p->msgbuf);
    p->msgbuf = NULL;
    p->msglen = p->msgcap = 0;
}

/* The whole payload and its CRLF are at payload[0 .. total_len + 2). */
static int deliver_pub(mn_parser *p, const char *payload,
                       const mn_parser_cb *cb, void *ud)
{
    size_t total = p->pub.total_len;
    if (payload[total] != '\r' || payload[total + 1] != '\n')
        return fail(p, E_UNKNOWN);   /* payload longer than declared */
    if (p->pub.hdr_len > 0 && memcmp(payload, HDR_PREFIX, HDR_PREFIX_LEN) != 0)
        return fail(p, E_HEADERS);
    p->state = ST_LINE;
    int rc = cb->on_pub ? cb->on_pub(ud, &p->pub, payload) : MN_OK;
    /* The arguments may live in argbuf and the payload in msgbuf: both
     * stay until the callback has returned. */
    if (p->argbuf)
        release_arg(p);
    if (p->msgbuf)
        release_msg(p);
    return rc;
}

/* Take payload bytes from s[0..n); *used says how many were consumed. */
static int payload_feed(mn_parser *p, const char *s, size_t n, size_t *used,
                        const mn_parser_cb *cb, void *ud)
{
    size_t total = p->pub.total_len, need = total + 2;
    if (p->msglen == 0 && n >= need) {
        *used = need;
        return deliver_pub(p, s, cb, ud);
    }
    size_t take = need - p->msglen;
    if (take > n)
        take = n;
    *used = take;
    if (take == 0)
        return MN_OK;
    if (reserve(&p->msgbuf, &p->msgcap, need) != MN_OK)
        return MN_ENOMEM;
    memcpy(p->msgbuf + p->msglen, s, take);
    p->msglen += take;
    /* A missing CR is certain as soon as its byte arrives. */
    if (p->msglen > total && p->msgbuf[total] != '\r')
        return fail(p, E_UNKNOWN);
    if (p->msglen < need)
        return MN_OK;
    return deliver_pub(p, p->msgbuf, cb, ud);
}

/* Keep the subject and reply of a PUB whose payload is not all here, since
 * they point into the caller's buffer. */
static int save_pub_args(mn_parser *p)
{
    size_t sl = p->pub.subject_len, rl = p->pub.reply_len;
    if (reserve(&p->argbuf, &p->argcap, sl + rl) != MN_OK)
        return MN_ENOMEM;
    memcpy(p->argbuf, p->pub.subject, sl);
    if (rl)
        memcpy(p->argbuf + sl, p->pub.reply, rl);
    p->arglen = sl + rl;
    p->pub.subject = p->argbuf;
    if (rl)
        p->pub.reply = p->argbuf + sl;
    return MN_OK;
}

static int handle_pub(mn_parser *p, int op, const char *a, size_t an,
                      const char *line, const char *rest, size_t rest_len,
                      size_t *used, const mn_parser_cb *cb, void *ud)
{
    tok      t[4];
    uint64_t hdr = 0, total;
    int      nt = split_args(a, an, t, 4), nsizes = op == OP_PUB ? 1 : 2;
    bool     reply = nt == nsizes + 2;

    if (nt != nsizes + 1 && !reply)
        return fail(p, op == OP_PUB ? E_PUB : E_HPUB);
    if (!parse_u64(&t[nt - 1], &total, NULL))
        return fail(p, op == OP_PUB ? E_PUB : E_HPUB);
    if (op == OP_HPUB && (!parse_u64(&t[nt - 2], &hdr, NULL) || hdr > total))
        return fail(p, E_HPUB);
    if (total > eff_limit(p->max_payload, DEFAULT_MAX_PAYLOAD))
        return fail(p, E_PAYLOAD);
    /* An empty header block (HPUB s r 0 n) is a message without headers:
     * nats.js sends JetStream publishes that way and nats-server takes
     * them. */
    if (op == OP_HPUB && hdr > 0 && hdr < HDR_PREFIX_LEN)
        return fail(p, E_HEADERS);

    p->pub.subject = t[0].s;
    p->pub.subject_len = t[0].n;
    p->pub.reply = reply ? t[1].s : NULL;
    p->pub.reply_len = reply ? t[1].n : 0;
    p->pub.hdr_len = (size_t)hdr;
    p->pub.total_len = (size_t)total;
    p->state = ST_PAYLOAD;
    p->msglen = 0;
    if (rest_len < (size_t)total + 2 && line != p->argbuf &&
        save_pub_args(p) != MN_OK)
        return MN_ENOMEM;
    return payload_feed(p, rest, rest_len, used, cb, ud);
}

/* One complete control line, line[0..n) without its '\n'.  rest[0..rest_len)
 * is what follows it in the fed buffer (a PUB takes its payload from there);
 * *used is set to how much of rest was consumed. */
static int handle_line(mn_parser *p, const char *line, size_t n,
                       const char *rest, size_t rest_len, size_t *used,
                       size_t mcl, const mn_parser_cb *cb, void *ud)
{
    size_t vlen = 0, w = 0;
    int    op;

    *used = 0;
    if (n > 0 && line[n - 1] == '\r')
        n--;
    op = verb_lookup(line, n, &vlen);
    if (op <= 0)
        return fail(p, E_UNKNOWN);
    const char *a = line + vlen;
    size_t      an = n - vlen;
    if (an > 0 && !IS_BLANK(a[0]))
        return fail(p, E_UNKNOWN);   /* e.g. "PUBX" */
    while (w < an && IS_BLANK(a[w]))
        w++;
    a += w;
    an -= w;
    if (w > mcl || an > mcl)
        return fail(p, E_CONTROL);

    switch (op) {
    case OP_PUB:
    case OP_HPUB:
        return handle_pub(p, op, a, an, line, rest, rest_len, used, cb, ud);
    case OP_SUB: {
        tok t[3];
        int nt = split_args(a, an, t, 3);
        if (nt != 2 && nt != 3)
            return fail(p, E_SUB);
        mn_sub_args s = {
            .subject = t[0].s, .subject_len = t[0].n,
            .queue = nt == 3 ? t[1].s : NULL, .queue_len = nt == 3 ? t[1].n : 0,
            .sid = t[nt - 1].s, .sid_len = t[nt - 1].n,
        };
        return cb->on_sub ? cb->on_sub(ud, &s) : MN_OK;
    }
    case OP_UNSUB: {
        tok      t[2];
        uint64_t max = 0;
        bool     ovf = false;
        int      nt = split_args(a, an, t, 2);
        if (nt != 1 && nt != 2)
            return fail(p, E_UNSUB);
        if (nt == 2 && (!parse_u64(&t[1], &max, &ovf) || ovf))
            return fail(p, E_UNSUB);
        return cb->on_unsub ? cb->on_unsub(ud, t[0].s, t[0].n, max) : MN_OK;
    }
    case OP_PING:
    case OP_PONG:
    case OP_OK:
        if (an > 0)
            return fail(p, E_UNKNOWN);
        if (op == OP_PING)
            return cb->on_ping ? cb->on_ping(ud) : MN_OK;
        if (op == OP_PONG)
            return cb->on_pong ? cb->on_pong(ud) : MN_OK;
        return cb->on_ok ? cb->on_ok(ud) : MN_OK;
    default:
        break;
    }

    /* CONNECT, INFO and -ERR take the rest of the line as one argument. */
    while (an > 0 && IS_BLANK(a[an - 1]))
        an--;
    if (op == OP_CONNECT) {
        if (an == 0)
            return fail(p, E_CONNECT);
        return cb->on_connect ? cb->on_connect(ud, a, an) : MN_OK;
    }
    if (op == OP_INFO) {
        if (an == 0)
            return fail(p, E_INFO);
        return cb->on_info ? cb->on_info(ud, a, an) : MN_OK;
    }
    /* -ERR 'text': hand over the text without its quotes. */
    if (an >= 2 && a[0] == '\'' && a[an - 1] == '\'') {
        a++;
        an -= 2;
    }
    return cb->on_err ? cb->on_err(ud, a, an) : MN_OK;
}

/* Append s[0..n) to the partial control line in argbuf and reject it as
 * soon as the error is certain whatever bytes follow: a line that cannot
 * start with a verb, a verb not followed by a blank, or a line so long that
 * its blanks or its arguments must exceed the limit. */
static int line_partial(mn_parser *p, const char *s, size_t n, size_t mcl)
{
    size_t len = p->arglen + n, vlen = 0;
    if (reserve(&p->argbuf, &p->argcap, len) != MN_OK)
        return MN_ENOMEM;
    memcpy(p->argbuf + p->arglen, s, n);
    p->arglen = len;

    const char *b = p->argbuf;
    int op = verb_lookup(b, len < VERB_MAX ? len : VERB_MAX, &vlen);
    if (op < 0)
        return fail(p, E_UNKNOWN);
    if (op > 0 && len > vlen && !IS_BLANK(b[vlen]))
        return fail(p, E_UNKNOWN);
    /* A trailing CR may be the line's end, which the limit does not count. */
    if (len - (b[len - 1] == '\r') > VERB_MAX + 2 * mcl)
        return fail(p, E_CONTROL);
    return MN_OK;
}

void mn_parser_init(mn_parser *p, size_t max_control_line, size_t max_payload)
{
    memset(p, 0, sizeof(*p));
    p->max_control_line = max_control_line ? max_control_line
                                           : DEFAULT_MAX_CONTROL_LINE;
    p->max_payload = max_payload ? max_payload : DEFAULT_MAX_PAYLOAD;
}

void mn_parser_free(mn_parser *p)
{
    release_arg(p);
    release_msg(p);
}

int mn_parser_feed(mn_parser *p, const char *buf, size_t len,
                   const mn_parser_cb *cb, void *ud)
{
    p->consumed = 0;
    if (p->state == ST_DEAD)
        return p->err ? MN_EINVAL : MN_ECLOSED;

    size_t mcl = eff_limit(p->max_control_line, DEFAULT_MAX_CONTROL_LINE);
    /* No acceptable line is longer than this, CRLF included. */
    size_t maxline = VERB_MAX + 2 * mcl + 2;
    size_t pos = 0, used;
    int    rc = MN_OK;

    while (pos < len && rc == MN_OK) {
        const char *s = buf + pos;
        size_t      avail = len - pos;

        if (p->state == ST_PAYLOAD) {
            rc = payload_feed(p, s, avail, &used, cb, ud);
            pos += used;
            continue;
        }
        /* line_partial fails before argbuf can reach maxline. */
        size_t win = maxline - p->arglen;
        if (win > avail)
            win = avail;
        const char *nl = memchr(s, '\n', win);
        if (nl == NULL) {
            rc = line_partial(p, s, win, mcl);
            pos += win;
            continue;
        }
        size_t n = (size_t)(nl - s);
        pos += n + 1;
        if (p->arglen == 0) {
            rc = handle_line(p, s, n, nl + 1, len - pos, &used, mcl, cb, ud);
        } else {
            if (reserve(&p->argbuf, &p->argcap, p->arglen + n) != MN_OK) {
                rc = MN_ENOMEM;
                break;
            }
            memcpy(p->argbuf + p->arglen, s, n);
            p->arglen += n;
            rc = handle_line(p, p->argbuf, p->arglen, nl + 1, len - pos,
                             &used, mcl, cb, ud);
            /* A PUB still waiting for its payload keeps its args there. */
            if (p->state == ST_LINE)
                release_arg(p);
        }
        pos += used;
    }
    p->consumed = pos;
    if (rc != MN_OK && rc != MN_EAGAIN)
        p->state = ST_DEAD;
    return rc;
}
