/*
 * acctio.c - sharing between accounts and account limits (see acctio.h).
 *
 * Exports and imports are management data under one global mutex (they
 * change at start-up, on reload or when an auth module applies an account
 * JWT, never per message).  Each import is an in-process subscription:
 *
 *  - a stream import subscribes in the exporter on the exported subject;
 *    its callback maps the subject (token mapping or prefix) and routes the
 *    message again in the importer, with origin MN_ORIGIN_IMPORT;
 *  - a service import subscribes in the importer on its local subject; its
 *    callback maps the subject to the exporter's and, for a request,
 *    replaces the reply by a fresh "_R_.<account tag>.<n>" subject that
 *    the exporter's reply map remembers (requester's account and reply,
 *    response type, expiry).  One subscription per exporter on
 *    "_R_.<tag>.>" routes answers back, and forgets the mapping after one
 *    answer (singleton), an empty message (chunked) or the threshold.
 *
 * Callbacks hold no management lock; an import's record is retired
 * through qsbr after its subscription went, so a callback running on
 * another worker still sees it whole.  Publish loops between accounts are
 * cut by the router's depth bound.
 */
#include "acctio.h"
#include "account.h"
#include "log.h"
#include "mconn.h"
#include "perms.h"
#include "qsbr.h"
#include "submap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

extern const modnats_host_api mn_host_api;

#define RESP_DEFAULT_MS   (2u * 60u * 1000u)   /* nats-server's response threshold */
#define RESP_MAX_ENTRIES  (1u << 20)
#define MAP_BUF           4096   /* max_control_line's default: any subject a client can send */

typedef struct acc_export {
    struct acc_export  *next;
    modnats_export_kind kind;
    char               *subject;
    char              **accounts;   /* NULL: public */
    size_t              naccounts;
    modnats_response_type rtype;
    uint64_t            threshold_ms;
} acc_export;

typedef struct acc_import {
    struct acc_import  *next;       /* owner's imports (g_lock) */
    mn_account         *owner, *from;
    modnats_export_kind kind;
    char               *subject;    /* in the exporter's space */
    char               *local;      /* in the importer's space (streams with a
                                       prefix: NULL) */
    char               *prefix;     /* streams: NULL or the prefix */
    modnats_response_type rtype;
    uint64_t            threshold_ms;
    modnats_sub        *isub;
} acc_import;

typedef struct resp_entry {
    struct resp_entry *next;
    mn_account        *to;          /* the requester's account */
    uint64_t           expires_ms;
    modnats_response_type rtype;
    uint32_t           keylen, rlen;
    char              *reply;       /* after key[] */
    char               key[];
} resp_entry;

struct mn_acc_io {
    mn_account       *acc;
    struct mn_acc_io *all_next;     /* every io (g_lock) */
    acc_export       *exports;
    acc_import       *imports;
    size_t            nexports, nimports;
    /* replies of requests this account serves (rlock) */
    pthread_mutex_t   rlock;
    char              rprefix[16];  /* "_R_.xxxxxx." */
    size_t            rprefix_len;
    modnats_sub      *rsub;
    uint64_t          rnext, rseed;
    resp_entry      **rtab;
    size_t            rbuckets, nresp;
    uint64_t          last_sweep_ms;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mn_acc_io *g_all;
static _Atomic(mn_account *) g_sys;

/* ------------------------------------------------------------ helpers */

static char *dup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool valid_sub(const char *s)
{
    return s && *s && mn_subject_valid_sub(s, strlen(s));
}

static void rand_tag(char *out, size_t n)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[32];
    if (n > sizeof r || getrandom(r, n, 0) != (ssize_t)n) {
        uint64_t x = mn_now_ms() ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < n && i < sizeof r; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            r[i] = (unsigned char)(x >> 33);
        }
    }
    for (size_t i = 0; i < n; i++)
        out[i] = al[r[i] % (sizeof al - 1)];
}

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

/* ------------------------------------------------------ routing paths */

/* The message body as routing wants it: headers then payload, adjacent
 * (every path into routing keeps them so). */
static void msg_data(const modnats_msg *m, const char **data, size_t *hlen, size_t *total)
{
    *hlen = m->hdr ? m->hdr_len : 0;
    *data = *hlen ? m->hdr : m->data;
    *total = *hlen + m->data_len;
}

static void route_in(mn_account *to, const modnats_msg *in, const char *subj, size_t slen,
                     const char *reply, size_t rlen, modnats_origin origin)
{
    mn_worker *w = mn_current_worker;
    if (!w)
        return;
    modnats_msg m = {
        .size = sizeof m,
        .subject = subj, .subject_len = slen,
        .reply = rlen ? reply : NULL, .reply_len = rlen,
        .hdr = in->hdr, .hdr_len = in->hdr ? in->hdr_len : 0,
        .data = in->data, .data_len = in->data_len,
    };
    const char *data;
    size_t hlen, total;
    msg_data(in, &data, &hlen, &total);
    mn_route_inner(w, to, origin, &m, data, hlen, total);
}

static void stream_cb(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    acc_import *im = ud;
    MN_UNUSED(sub);
    MN_UNUSED(origin);
    char buf[MAP_BUF];
    int n = mn_subject_map(im->subject, im->local ? im->local : im->subject, im->prefix,
                           msg->subject, msg->subject_len, buf, sizeof buf);
    if (n < 0)
        return;
    route_in(im->owner, msg, buf, (size_t)n, msg->reply, msg->reply_len, MN_ORIGIN_IMPORT);
}

static void resp_sweep(struct mn_acc_io *io, uint64_t now)
{
    for (size_t b = 0; b < io->rbuckets; b++) {
        resp_entry **pp = &io->rtab[b];
        while (*pp) {
            resp_entry *e = *pp;
            if (now >= e->expires_ms) {
                *pp = e->next;
                io->nresp--;
                free(e);
            } else {
                pp = &e->next;
            }
        }
    }
    io->last_sweep_ms = now;
}

/* A fresh reply subject in exporter io for a request of account `to`
 * with reply `reply`.  Writes it to out; returns its length or 0. */
static size_t resp_add(struct mn_acc_io *io, mn_account *to, const char *reply, size_t rlen,
                       modnats_response_type rtype, uint64_t threshold_ms, char *out, size_t outlen)
{
    uint64_t now = mn_now_ms();
    size_t klen = 0;
    pthread_mutex_lock(&io->rlock);
    if (now - io->last_sweep_ms >= 1000)
        resp_sweep(io, now);
    if (io->nresp >= RESP_MAX_ENTRIES)
        goto out;
    if (io->nresp + 1 > io->rbuckets * 2) {
        size_t nb = io->rbuckets ? io->rbuckets * 4 : 64;
        resp_entry **t = calloc(nb, sizeof *t);
        if (!t)
            goto out;
        for (size_t b = 0; b < io->rbuckets; b++) {
            resp_entry *e = io->rtab[b];
            while (e) {
                resp_entry *nx = e->next;
                size_t h = hash(e->key, e->keylen) & (nb - 1);
                e->next = t[h];
                t[h] = e;
                e = nx;
            }
        }
        free(io->rtab);
        io->rtab = t;
        io->rbuckets = nb;
    }
    /* "_R_.<tag>." then the counter (unique) and a scrambled form of it
     * (so a client of the exporter cannot guess live reply subjects), in
     * base 62 */
    char num[32];
    size_t k = 0;
    uint64_t v = ++io->rnext;
    uint64_t z = v + io->rseed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    static const char al[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int i = 0; i < 8; i++, z /= 62)
        num[k++] = al[z % 62];
    do { num[k++] = al[v % 62]; v /= 62; } while (v && k < sizeof num);
    klen = io->rprefix_len + k;
    if (klen + 1 > outlen) {
        klen = 0;
        goto out;
    }
    resp_entry *e = malloc(sizeof *e + klen + 1 + rlen + 1);
    if (!e) {
        klen = 0;
        goto out;
    }
    memcpy(e->key, io->rprefix, io->rprefix_len);
    for (size_t i = 0; i < k; i++)
        e->key[io->rprefix_len + i] = num[k - 1 - i];
    e->key[klen] = 0;
    e->keylen = (uint32_t)klen;
    e->reply = e->key + klen + 1;
    memcpy(e->reply, reply, rlen);
    e->reply[rlen] = 0;
    e->rlen = (uint32_t)rlen;
    e->to = to;
    e->rtype = rtype;
    e->expires_ms = now + (threshold_ms ? threshold_ms : RESP_DEFAULT_MS);
    size_t h = hash(e->key, klen) & (io->rbuckets - 1);
    e->next = io->rtab[h];
    io->rtab[h] = e;
    io->nresp++;
    memcpy(out, e->key, klen + 1);
out:
    pthread_mutex_unlock(&io->rlock);
    return klen;
}

static void service_cb(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    acc_import *im = ud;
    MN_UNUSED(sub);
    /* A request forwarded by a peer server was already sent to the
     * exporter there, by the server its requester is connected to. */
    if (origin != 0 && origin != MN_ORIGIN_IMPORT)
        return;
    char subj[MAP_BUF], rep[128];
    int n = mn_subject_map(im->local, im->subject, NULL, msg->subject, msg->subject_len,
                           subj, sizeof subj);
    if (n < 0)
        return;
    size_t rlen = 0;
    if (msg->reply_len) {
        struct mn_acc_io *io = atomic_load(&im->from->io);
        if (!io)
            return;
        rlen = resp_add(io, im->owner, msg->reply, msg->reply_len, im->rtype, im->threshold_ms,
                        rep, sizeof rep);
        if (rlen == 0)
            return;
    }
    route_in(im->from, msg, subj, (size_t)n, rep, rlen, 0);
}

/* An answer on "_R_.<tag>.<n>" in the exporter: back to the requester. */
static void resp_cb(void *ud, modnats_sub *sub, const modnats_msg *msg, modnats_origin origin)
{
    struct mn_acc_io *io = ud;
    MN_UNUSED(sub);
    MN_UNUSED(origin);
    char reply[MAP_BUF];
    mn_account *to = NULL;
    uint64_t now = mn_now_ms();
    pthread_mutex_lock(&io->rlock);
    if (io->rbuckets) {
        resp_entry **pp = &io->rtab[hash(msg->subject, msg->subject_len) & (io->rbuckets - 1)];
        for (; *pp; pp = &(*pp)->next) {
            resp_entry *e = *pp;
            if (e->keylen != msg->subject_len || memcmp(e->key, msg->subject, e->keylen) != 0)
                continue;
            bool drop = now >= e->expires_ms;
            if (!drop && e->rlen < sizeof reply) {
                to = e->to;
                memcpy(reply, e->reply, e->rlen + 1);
            }
            if (drop || e->rtype == MODNATS_RESP_SINGLETON ||
                (e->rtype == MODNATS_RESP_CHUNKED && msg->data_len == 0)) {
                *pp = e->next;
                io->nresp--;
                free(e);
            }
            break;
        }
    }
    pthread_mutex_unlock(&io->rlock);
    if (to)
        route_in(to, msg, reply, strlen(reply), msg->reply, msg->reply_len, MN_ORIGIN_IMPORT);
}

/* ------------------------------------------------------- management */

/* a's io record, created if needed.  g_lock held. */
static struct mn_acc_io *io_of(mn_account *a)
{
    struct mn_acc_io *have = atomic_load(&a->io);
    if (have)
        return have;
    struct mn_acc_io *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->acc = a;
    pthread_mutex_init(&io->rlock, NULL);
    memcpy(io->rprefix, "_R_.", 4);
    rand_tag(io->rprefix + 4, 6);
    io->rprefix[10] = '.';
    io->rprefix[11] = 0;
    io->rprefix_len = 11;
    if (getrandom(&io->rseed, sizeof io->rseed, 0) != (ssize_t)sizeof io->rseed)
        io->rseed = mn_now_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)io;
    io->all_next = g_all;
    g_all = io;
    atomic_store(&a->io, io);
    return io;
}

static void export_free(acc_export *e)
{
    if (!e)
        return;
    free(e->subject);
    for (size_t i = 0; i < e->naccounts; i++)
        free(e->accounts[i]);
    free(e->accounts);
    free(e);
}

static void import_free(void *p)
{
    acc_import *im = p;
    free(im->subject);
    free(im->local);
    free(im->prefix);
    free(im);
}

/* Take an import out of routing and retire it.  g_lock held. */
static void import_drop(acc_import *im)
{
    if (im->isub)
        mn_host_api.unsubscribe(im->isub);
    im->isub = NULL;
    mn_qsbr_retire(im, import_free);
}

modnats_rc mn_acc_export(modnats_account *acc, const modnats_export *e)
{
    mn_account *a = (mn_account *)acc;
    if (!a || !e || e->size < offsetof(modnats_export, reserved) ||
        (e->kind != MODNATS_EXPORT_STREAM && e->kind != MODNATS_EXPORT_SERVICE) ||
        !valid_sub(e->subject) || (e->n_accounts && !e->accounts) ||
        e->response_type > MODNATS_RESP_CHUNKED)
        return MODNATS_ERR;
    acc_export *x = calloc(1, sizeof *x);
    if (!x)
        return MODNATS_ERR;
    x->kind = e->kind;
    x->rtype = e->response_type;
    x->threshold_ms = e->response_threshold_ms;
    x->subject = strdup(e->subject);
    bool ok = x->subject != NULL;
    if (ok && e->n_accounts) {
        x->accounts = calloc(e->n_accounts, sizeof *x->accounts);
        ok = x->accounts != NULL;
        for (size_t i = 0; ok && i < e->n_accounts; i++) {
            ok = e->accounts[i] && (x->accounts[i] = strdup(e->accounts[i])) != NULL;
            x->naccounts += ok;
        }
    }
    if (!ok) {
        export_free(x);
        return MODNATS_ERR;
    }
    pthread_mutex_lock(&g_lock);
    struct mn_acc_io *io = io_of(a);
    int64_t max = atomic_load(&a->max_exports);
    modnats_rc rc = MODNATS_OK;
    if (!io) {
        rc = MODNATS_ERR;
    } else {
        acc_export **pp = &io->exports;
        while (*pp && !((*pp)->kind == x->kind && strcmp((*pp)->subject, x->subject) == 0))
            pp = &(*pp)->next;
        if (*pp) {   /* the same export again: replaced */
            acc_export *old = *pp;
            x->next = old->next;
            *pp = x;
            export_free(old);
        } else if (max >= 0 && (int64_t)io->nexports >= max) {
            rc = MODNATS_DENY;
        } else {
            x->next = io->exports;
            io->exports = x;
            io->nexports++;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (rc != MODNATS_OK)
        export_free(x);
    return rc;
}

/* The export of `from` that an import of `subject` by `to` may use.
 * g_lock held.  *found: some export of that kind covers the subject. */
static acc_export *find_export(mn_account *from, mn_account *to, modnats_export_kind kind,
                               const char *subject, bool authorized, bool *found)
{
    *found = false;
    struct mn_acc_io *fio = atomic_load(&from->io);
    if (!fio)
        return NULL;
    for (acc_export *x = fio->exports; x; x = x->next) {
        if (x->kind != kind || !mn_subject_covers(x->subject, subject))
            continue;
        *found = true;
        if (authorized || !x->accounts)
            return x;
        for (size_t i = 0; i < x->naccounts; i++)
            if (strcmp(x->accounts[i], to->name) == 0)
                return x;
    }
    return NULL;
}

#define CYCLE_MAX_DEPTH 16

/* Where an import's messages appear: streams in the importer (prefix or
 * `to` applied), services in the exporter (the exported subject). */
static void import_dest(const acc_import *im, char *out, size_t len)
{
    if (im->kind == MODNATS_EXPORT_SERVICE)
        snprintf(out, len, "%s", im->subject);
    else if (im->prefix)
        snprintf(out, len, "%s.%s", im->prefix, im->subject);
    else
        snprintf(out, len, "%s", im->local ? im->local : im->subject);
}

/* Could messages on `pat` in account `at` travel, through imports of
 * this kind, to account `target` on a subject overlapping `tpat`?
 * g_lock held. */
static bool reaches(mn_account *at, const char *pat, mn_account *target, const char *tpat,
                    modnats_export_kind kind, int depth)
{
    if (at == target && mn_subject_overlap(pat, tpat))
        return true;
    if (depth >= CYCLE_MAX_DEPTH)
        return true;   /* too deep to tell: refused, as nats-server does */
    for (struct mn_acc_io *io = g_all; io; io = io->all_next) {
        for (acc_import *im = io->imports; im; im = im->next) {
            if (im->kind != kind)
                continue;
            /* the account the messages leave, the pattern they leave on */
            mn_account *src = kind == MODNATS_EXPORT_STREAM ? im->from : im->owner;
            const char *spat = kind == MODNATS_EXPORT_STREAM ? im->subject : im->local;
            if (src != at || !mn_subject_overlap(spat, pat))
                continue;
            char dest[MAP_BUF];
            import_dest(im, dest, sizeof dest);
            mn_account *dst = kind == MODNATS_EXPORT_STREAM ? im->owner : im->from;
            if (reaches(dst, dest, target, tpat, kind, depth + 1))
                return true;
        }
    }
    return false;
}

/* Would the new import im close a loop?  g_lock held. */
static bool forms_cycle(const acc_import *im)
{
    char dest[MAP_BUF];
    import_dest(im, dest, sizeof dest);
    if (im->kind == MODNATS_EXPORT_STREAM)
        return reaches(im->owner, dest, im->from, im->subject, im->kind, 0);
    return reaches(im->from, dest, im->owner, im->local, im->kind, 0);
}

modnats_rc mn_acc_import(modnats_account *acc, const modnats_import *i)
{
    mn_account *a = (mn_account *)acc;
    if (!a || !i || i->size < offsetof(modnats_import, reserved) || !i->from ||
        (i->kind != MODNATS_EXPORT_STREAM && i->kind != MODNATS_EXPORT_SERVICE) ||
        !valid_sub(i->subject) || (i->to && !valid_sub(i->to)) ||
        (i->prefix && (i->kind != MODNATS_EXPORT_STREAM || !*i->prefix ||
                       !mn_subject_valid_literal(i->prefix, strlen(i->prefix)))) ||
        (i->to && i->prefix))
        return MODNATS_ERR;
    /* Services map local -> exported: the local side may not have
     * wildcards the exported side lacks; streams the other way round. */
    if (i->to && (i->kind == MODNATS_EXPORT_STREAM ? !mn_subject_map_valid(i->subject, i->to)
                                                   : !mn_subject_map_valid(i->to, i->subject)))
        return MODNATS_ERR;
    mn_account *from = (mn_account *)i->from;
    acc_import *im = calloc(1, sizeof *im);
    if (!im)
        return MODNATS_ERR;
    im->owner = a;
    im->from = from;
    im->kind = i->kind;
    im->subject = strdup(i->subject);
    im->local = i->to ? strdup(i->to)
              : i->kind == MODNATS_EXPORT_SERVICE ? strdup(i->subject) : NULL;
    im->prefix = dup0(i->prefix);
    if (!im->subject || (i->to && !im->local) || (i->prefix && !im->prefix) ||
        (i->kind == MODNATS_EXPORT_SERVICE && !im->local)) {
        import_free(im);
        return MODNATS_ERR;
    }

    pthread_mutex_lock(&g_lock);
    modnats_rc rc = MODNATS_OK;
    bool found;
    acc_export *x = find_export(from, a, i->kind, i->subject, i->authorized, &found);
    struct mn_acc_io *io = io_of(a);
    struct mn_acc_io *fio = io_of(from);
    int64_t max = atomic_load(&a->max_imports);
    if (!x) {
        rc = found ? MODNATS_DENY : MODNATS_ENOTFOUND;
    } else if (!io || !fio) {
        rc = MODNATS_ERR;
    } else {
        /* the same import again: replaced */
        acc_import **pp = &io->imports;
        while (*pp && !((*pp)->kind == im->kind && (*pp)->from == from &&
                        strcmp((*pp)->subject, im->subject) == 0))
            pp = &(*pp)->next;
        if (*pp) {
            acc_import *old = *pp;
            *pp = old->next;
            io->nimports--;
            import_drop(old);
        }
        if (max >= 0 && (int64_t)io->nimports >= max)
            rc = MODNATS_DENY;
        else if (forms_cycle(im))
            rc = MODNATS_ELOOP;
    }
    if (rc == MODNATS_OK && im->kind == MODNATS_EXPORT_SERVICE && !fio->rsub) {
        char rs[32];
        snprintf(rs, sizeof rs, "%s>", fio->rprefix);
        fio->rsub = mn_host_api.subscribe(NULL, (modnats_account *)from, rs, NULL, 1, 0,
                                          resp_cb, fio);
        if (!fio->rsub)
            rc = MODNATS_ERR;
    }
    if (rc == MODNATS_OK) {
        im->rtype = x->rtype;
        im->threshold_ms = x->threshold_ms;
        if (im->kind == MODNATS_EXPORT_STREAM)
            im->isub = mn_host_api.subscribe(NULL, (modnats_account *)from, im->subject, NULL, 1,
                                             0, stream_cb, im);
        else
            im->isub = mn_host_api.subscribe(NULL, (modnats_account *)a, im->local, NULL, 1, 0,
                                             service_cb, im);
        if (!im->isub) {
            rc = MODNATS_ERR;
        } else {
            im->next = io->imports;
            io->imports = im;
            io->nimports++;
        }
    }
    pthread_mutex_unlock(&g_lock);
    if (rc != MODNATS_OK)
        import_free(im);
    else
        mn_debug("Account %s imports %s \"%s\" from %s", a->name,
                 i->kind == MODNATS_EXPORT_STREAM ? "stream" : "service", i->subject, from->name);
    return rc;
}

modnats_rc mn_acc_clear_io(modnats_account *acc)
{
    mn_account *a = (mn_account *)acc;
    if (!a)
        return MODNATS_ERR;
    pthread_mutex_lock(&g_lock);
    for (struct mn_acc_io *io = g_all; io; io = io->all_next) {
        acc_import **pp = &io->imports;
        while (*pp) {
            acc_import *im = *pp;
            if (io->acc == a || im->from == a) {
                *pp = im->next;
                io->nimports--;
                import_drop(im);
            } else {
                pp = &im->next;
            }
        }
    }
    struct mn_acc_io *aio = atomic_load(&a->io);
    if (aio) {
        acc_export *x = aio->exports;
        aio->exports = NULL;
        aio->nexports = 0;
        while (x) {
            acc_export *nx = x->next;
            export_free(x);
            x = nx;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return MODNATS_OK;
}

/* Shutdown: out of the sublist and freed at once (qsbr has drained, no
 * worker runs, the modules' hooks are gone). */
static void isub_free_now(modnats_sub *s)
{
    mn_isub *is = (mn_isub *)s;
    if (!is)
        return;
    mn_sublist_remove(is->acc->sl, &is->sub);
    free(is);
}

void mn_acc_io_free(mn_account *a)
{
    struct mn_acc_io *io = atomic_load(&a->io);
    if (!io)
        return;
    /* Shutdown: routing has stopped and the sublists go next. */
    pthread_mutex_lock(&g_lock);
    struct mn_acc_io **pp = &g_all;
    while (*pp && *pp != io)
        pp = &(*pp)->all_next;
    if (*pp)
        *pp = io->all_next;
    pthread_mutex_unlock(&g_lock);
    for (acc_import *im = io->imports, *nx; im; im = nx) {
        nx = im->next;
        isub_free_now(im->isub);
        import_free(im);
    }
    for (acc_export *x = io->exports, *nx; x; x = nx) {
        nx = x->next;
        export_free(x);
    }
    isub_free_now(io->rsub);
    for (size_t b = 0; b < io->rbuckets; b++)
        for (resp_entry *e = io->rtab[b], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(io->rtab);
    pthread_mutex_destroy(&io->rlock);
    free(io);
    atomic_store(&a->io, NULL);
}

/* ----------------------------------------------------------- system */

modnats_rc mn_acc_set_system(modnats_account *a)
{
    atomic_store(&g_sys, (mn_account *)a);
    return MODNATS_OK;
}

modnats_account *mn_acc_system(void)
{
    return (modnats_account *)atomic_load(&g_sys);
}

static _Atomic bool g_no_default_sys;

void mn_acc_no_default_system(bool no)
{
    atomic_store(&g_no_default_sys, no);
}

void mn_acc_default_system(void)
{
    if (atomic_load(&g_sys) || atomic_load(&g_no_default_sys))
        return;
    mn_account *a = mn_account_get_or_create("$SYS");
    if (a)
        atomic_store(&g_sys, a);
}

/* ----------------------------------------------------------- limits */

static int64_t min_limit(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

/* The client's effective limits from its account and its login. */
static void apply_limits(mn_client *c)
{
    int64_t mp = min_limit(atomic_load(&c->acc->max_payload), c->user_mpay);
    c->mpay = mp < 0 ? INT64_MAX : mp;
    c->msubs = min_limit(atomic_load(&c->acc->max_subs), c->user_msubs);
}

const char *mn_acc_admit(mn_client *c)
{
    mn_account *a = c->acc;
    if (c->expires_unix_ms && mn_unix_ms() >= c->expires_unix_ms)
        return "User Authentication Expired";
    apply_limits(c);
    int n = atomic_fetch_add(&a->nconns, 1) + 1;
    int64_t max = atomic_load(&a->max_conns);
    if (max >= 0 && n > max) {
        atomic_fetch_sub(&a->nconns, 1);
        return "maximum account active connections exceeded";
    }
    c->acc_counted = true;
    return NULL;
}

void mn_acc_leave(mn_client *c)
{
    if (c->acc_counted) {
        c->acc_counted = false;
        atomic_fetch_sub(&c->acc->nconns, 1);
    }
}

/* Lowered limits: every worker re-applies them to its clients of the
 * account and lists them; the last one closes the newest excess. */
typedef struct limits_job {
    mn_account     *a;
    pthread_mutex_t lock;
    int             left;
    mn_client     **cl;
    size_t          n, cap;
} limits_job;

static int cmp_newest(const void *x, const void *y)
{
    const mn_client *a = *(mn_client *const *)x, *b = *(mn_client *const *)y;
    return a->cid < b->cid ? 1 : a->cid > b->cid ? -1 : 0;
}

static void task_limits(mn_worker *w, void *arg)
{
    limits_job *j = arg;
    pthread_mutex_lock(&j->lock);
    for (mn_client *c = w->clients; c; c = c->next) {
        if (c->acc != j->a || c->state != MN_CS_CONNECTED)
            continue;
        apply_limits(c);
        if (j->n == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 16;
            mn_client **v = realloc(j->cl, cap * sizeof *v);
            if (!v)
                continue;
            j->cl = v;
            j->cap = cap;
        }
        mn_client_ref(c);
        j->cl[j->n++] = c;
    }
    bool last = --j->left == 0;
    pthread_mutex_unlock(&j->lock);
    if (!last)
        return;
    int64_t max = atomic_load(&j->a->max_conns);
    if (j->n > 1)   /* qsort needs a non-NULL base, even for 0 elements */
        qsort(j->cl, j->n, sizeof *j->cl, cmp_newest);
    for (size_t i = 0; i < j->n; i++) {
        if (max >= 0 && (int64_t)(j->n - i) > max)
            mn_host_api.conn_close((modnats_conn *)j->cl[i],
                                   "maximum account active connections exceeded");
        mn_client_unref(j->cl[i]);
    }
    free(j->cl);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

modnats_rc mn_acc_set_limits(modnats_account *acc, const modnats_account_limits *l)
{
    mn_account *a = (mn_account *)acc;
    if (!a || !l || l->size < offsetof(modnats_account_limits, reserved))
        return MODNATS_ERR;
    atomic_store(&a->max_conns, l->max_conns);
    atomic_store(&a->max_leafnodes, l->max_leafnodes);
    atomic_store(&a->max_subs, l->max_subs);
    atomic_store(&a->max_payload, l->max_payload);
    atomic_store(&a->max_imports, l->max_imports);
    atomic_store(&a->max_exports, l->max_exports);
    mn_server *s = mn_g_server;
    if (!s || !s->workers || !s->workers[0].started || atomic_load(&s->shutting_down))
        return MODNATS_OK;   /* before start: nobody to apply them to */
    limits_job *j = calloc(1, sizeof *j);
    if (!j)
        return MODNATS_ERR;
    j->a = a;
    j->left = s->nworkers;
    pthread_mutex_init(&j->lock, NULL);
    for (int i = 0; i < s->nworkers; i++)
        mn_worker_post(&s->workers[i], task_limits, j);
    return MODNATS_OK;
}

/* -------------------------------------------------- logins, closing */

modnats_rc mn_acc_conn_login(modnats_conn *conn, const modnats_login *l)
{
    if (!conn || !l || l->size < offsetof(modnats_login, reserved) || mn_mconn_is(conn))
        return MODNATS_ERR;
    mn_client *c = (mn_client *)conn;
    if (mn_current_worker != c->w || c->state != MN_CS_NEW)
        return MODNATS_ERR;
    if (l->account && c->nsubs > 0)
        return MODNATS_ERR;
    mn_perms *np = NULL;
    char *u = NULL;
    if (l->perms && !(np = mn_perms_compile(l->perms)))
        return MODNATS_ERR;
    if (l->user && !(u = strdup(l->user))) {
        mn_perms_free(np);
        return MODNATS_ERR;
    }
    if (l->user) {
        free(c->user);
        c->user = u;
    }
    if (l->perms) {
        mn_perms_free(c->perms);
        c->perms = np;
    }
    if (l->account)
        c->acc = (mn_account *)l->account;
    c->user_msubs = l->max_subs;
    c->user_mpay = l->max_payload;
    c->expires_unix_ms = l->expires_unix_ms;
    return MODNATS_OK;
}

typedef struct close_job {
    mn_account *a;
    char       *user, *err;
    _Atomic int left;
} close_job;

static void task_close_where(mn_worker *w, void *arg)
{
    close_job *j = arg;
    for (mn_client *c = w->clients, *nx; c; c = nx) {
        nx = c->next;
        if (c->acc == j->a && c->state == MN_CS_CONNECTED &&
            (!j->user || (c->user && strcmp(c->user, j->user) == 0)))
            mn_client_close(c, j->err);
    }
    if (atomic_fetch_sub(&j->left, 1) == 1) {
        free(j->user);
        free(j->err);
        free(j);
    }
}

modnats_rc mn_acc_conns_close_where(modnats_account *a, const char *user, const char *err)
{
    mn_server *s = mn_g_server;
    if (!a || !s || !s->workers)
        return MODNATS_ERR;
    close_job *j = calloc(1, sizeof *j);
    if (!j)
        return MODNATS_ERR;
    j->a = (mn_account *)a;
    j->user = dup0(user);
    j->err = dup0(err);
    if ((user && !j->user) || (err && !j->err)) {
        free(j->user);
        free(j->err);
        free(j);
        return MODNATS_ERR;
    }
    atomic_store(&j->left, s->nworkers);
    for (int i = 0; i < s->nworkers; i++)
        mn_worker_post(&s->workers[i], task_close_where, j);
    return MODNATS_OK;
}

/* ------------------------------------------------------- conn_info */

modnats_rc mn_acc_conn_info(modnats_conn *conn, modnats_conn_info *out)
{
    if (!conn || !out || out->size < offsetof(modnats_conn_info, reserved) || mn_mconn_is(conn))
        return MODNATS_ERR;
    mn_client *c = (mn_client *)conn;
    if (mn_current_worker != c->w)
        return MODNATS_ERR;
    size_t size = out->size > sizeof *out ? sizeof *out : out->size;
    modnats_conn_info tmp = { .size = sizeof tmp };
    mn_client_info(c, &tmp, false);
    memcpy(out, &tmp, size);
    out->size = size;
    return MODNATS_OK;
}

void mn_acc_conn_info_release(modnats_conn_info *info)
{
    if (info) {
        info->subs = NULL;
        mn_conn_info_free(info);
    }
}
