/*
 * aj_jwt.c - one NATS JWT (v2) decoded and checked: three base64url parts,
 * a header that must say ed25519-nkey, claims in JSON (jansson), and an
 * Ed25519 signature of "header.payload" by the key named in `iss`.  The
 * claims of the four kinds the server uses (operator, account, user,
 * activation) are copied into plain C structs so nothing later touches
 * JSON.  Whether the issuer is *trusted* is aj_trust.c's question; here a
 * token only proves it was signed by the key it names.
 */
#include "aj.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void aj_strv_free(aj_strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

bool aj_strv_has(const aj_strv *s, const char *x)
{
    for (size_t i = 0; x && i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

const char *aj_kind_name(aj_kind k)
{
    switch (k) {
    case AJ_OPERATOR:   return "operator";
    case AJ_ACCOUNT:    return "account";
    case AJ_USER:       return "user";
    case AJ_ACTIVATION: return "activation";
    case AJ_GENERIC:    return "generic";
    case AJ_AUTH_RESPONSE: return "authorization_response";
    }
    return "?";
}

static void seterr(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

/* ---- JSON helpers: absent or wrongly typed fields read as defaults */

static char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) && json_string_length(v) > 0 ? strdup(json_string_value(v)) : NULL;
}

static int64_t jint(const json_t *o, const char *key, int64_t dflt)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return dflt;
}

static bool jbool(const json_t *o, const char *key)
{
    return json_is_true(json_object_get(o, key));
}

/* A string array, or (older JWTs) one comma-separated string. */
static bool jstrv(const json_t *o, const char *key, aj_strv *out)
{
    const json_t *v = json_object_get(o, key);
    out->v = NULL;
    out->n = 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t cap = 1;
        for (const char *p = s; *p; p++)
            cap += *p == ',';
        if (!(out->v = calloc(cap, sizeof *out->v)))
            return false;
        while (*s) {
            while (*s == ' ' || *s == ',')
                s++;
            size_t n = strcspn(s, ",");
            size_t m = n;
            while (m > 0 && s[m - 1] == ' ')
                m--;
            if (m && !(out->v[out->n++] = strndup(s, m)))
                return false;
            s += n;
        }
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return true;
    if (!(out->v = calloc(json_array_size(v), sizeof *out->v)))
        return false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e) {
        if (json_is_string(e) && !(out->v[out->n++] = strdup(json_string_value(e))))
            return false;
    }
    return true;
}

static bool parse_perms(const json_t *o, aj_perms *p)
{
    const json_t *pub = json_object_get(o, "pub"), *sub = json_object_get(o, "sub");
    const json_t *resp = json_object_get(o, "resp");
    bool ok = jstrv(pub, "allow", &p->pub_allow) && jstrv(pub, "deny", &p->pub_deny) &&
              jstrv(sub, "allow", &p->sub_allow) && jstrv(sub, "deny", &p->sub_deny);
    if (json_is_object(resp)) {
        p->has_resp = true;
        p->resp_max = jint(resp, "max", 0);
        int64_t ttl = jint(resp, "ttl", 0);   /* a Go duration: nanoseconds */
        p->resp_ttl_ms = ttl > 0 ? ttl / 1000000 : 0;
    }
    return ok;
}

static void perms_free(aj_perms *p)
{
    aj_strv_free(&p->pub_allow);
    aj_strv_free(&p->pub_deny);
    aj_strv_free(&p->sub_allow);
    aj_strv_free(&p->sub_deny);
}

/* "HH:MM:SS" -> seconds since midnight, or -1. */
static int parse_clock(const char *s)
{
    int h, m, sec;
    char extra;
    if (!s || sscanf(s, "%d:%d:%d%c", &h, &m, &sec, &extra) != 3 ||
        h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
        return -1;
    return h * 3600 + m * 60 + sec;
}

static bool parse_user(const json_t *n, aj_user *u, char *err, size_t errlen)
{
    if (!parse_perms(n, &u->perms) || !jstrv(n, "src", &u->src) ||
        !jstrv(n, "allowed_connection_types", &u->conn_types)) {
        seterr(err, errlen, "out of memory");
        return false;
    }
    const json_t *times = json_object_get(n, "times");
    if (json_is_array(times) && json_array_size(times) > 0) {
        u->times = calloc(json_array_size(times), sizeof *u->times);
        if (!u->times) {
            seterr(err, errlen, "out of memory");
            return false;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(times, i, e) {
            const json_t *st = json_object_get(e, "start"), *en = json_object_get(e, "end");
            int a = parse_clock(json_string_value(st)), b = parse_clock(json_string_value(en));
            if (a < 0 || b < 0) {
                seterr(err, errlen, "user time range %zu is not HH:MM:SS-HH:MM:SS", i);
                return false;
            }
            u->times[u->ntimes].start_s = a;
            u->times[u->ntimes++].end_s = b;
        }
    }
    u->times_location = jstr(n, "times_location");
    u->subs = jint(n, "subs", -1);
    u->data = jint(n, "data", -1);
    u->payload = jint(n, "payload", -1);
    u->bearer = jbool(n, "bearer_token");
    return true;
}

static void user_free(aj_user *u)
{
    perms_free(&u->perms);
    aj_strv_free(&u->src);
    aj_strv_free(&u->conn_types);
    free(u->times);
    free(u->times_location);
}

static modnats_export_kind parse_io_kind(const json_t *o, const char *key)
{
    const char *t = json_string_value(json_object_get(o, key));
    if (t && !strcasecmp(t, "service"))
        return MODNATS_EXPORT_SERVICE;
    if (t && !strcasecmp(t, "stream"))
        return MODNATS_EXPORT_STREAM;
    return 0;
}

/* {"key": unix seconds, ...} */
static bool parse_revocations(const json_t *o, aj_strv *keys, int64_t **at)
{
    keys->v = NULL;
    keys->n = 0;
    *at = NULL;
    if (!json_is_object(o) || json_object_size(o) == 0)
        return true;
    size_t n = json_object_size(o);
    keys->v = calloc(n, sizeof *keys->v);
    *at = calloc(n, sizeof **at);
    if (!keys->v || !*at)
        return false;
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (!(keys->v[keys->n] = strdup(k)))
            return false;
        (*at)[keys->n++] = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    }
    return true;
}

static bool parse_account(const json_t *n, aj_account *a, char *err, size_t errlen)
{
    const json_t *lim = json_object_get(n, "limits");
    a->conn = jint(lim, "conn", -1);
    a->leaf = jint(lim, "leaf", -1);
    a->subs = jint(lim, "subs", -1);
    a->payload = jint(lim, "payload", -1);
    a->data = jint(lim, "data", -1);
    a->n_imports = jint(lim, "imports", -1);
    a->n_exports = jint(lim, "exports", -1);
    a->disallow_bearer = jbool(lim, "disallow_bearer");
    a->js_mem = jint(lim, "mem_storage", 0);
    a->js_disk = jint(lim, "disk_storage", 0);
    a->js_streams = jint(lim, "streams", 0);
    a->js_consumer = jint(lim, "consumer", 0);
    a->js_max_ack_pending = jint(lim, "max_ack_pending", 0);
    a->js_mem_max_stream_bytes = jint(lim, "mem_max_stream_bytes", 0);
    a->js_disk_max_stream_bytes = jint(lim, "disk_max_stream_bytes", 0);
    a->js_max_bytes_required = jbool(lim, "max_bytes_required");
    a->js_enabled = a->js_mem != 0 || a->js_disk != 0;
    const json_t *dp = json_object_get(n, "default_permissions");
    if (json_is_object(dp)) {
        a->has_default_perms = true;
        if (!parse_perms(dp, &a->default_perms))
            goto oom;
    }
    if (!parse_revocations(json_object_get(n, "revocations"), &a->rev_keys, &a->rev_at))
        goto oom;

    /* signing keys: plain strings, or {kind: user_scope, key, role, template} */
    const json_t *sk = json_object_get(n, "signing_keys");
    if (json_is_array(sk) && json_array_size(sk) > 0) {
        size_t cnt = json_array_size(sk);
        a->signing_keys.v = calloc(cnt, sizeof(char *));
        a->scopes = calloc(cnt, sizeof *a->scopes);
        if (!a->signing_keys.v || !a->scopes)
            goto oom;
        size_t i;
        const json_t *e;
        json_array_foreach(sk, i, e) {
            if (json_is_string(e)) {
                if (!(a->signing_keys.v[a->signing_keys.n++] = strdup(json_string_value(e))))
                    goto oom;
            } else if (json_is_object(e)) {
                aj_scope *s = &a->scopes[a->nscopes++];
                if (!(s->key = jstr(e, "key"))) {
                    seterr(err, errlen, "scoped signing key %zu without a key", i);
                    return false;
                }
                s->role = jstr(e, "role");
                if (!parse_user(json_object_get(e, "template"), &s->tmpl, err, errlen))
                    return false;
                if (!(a->signing_keys.v[a->signing_keys.n++] = strdup(s->key)))
                    goto oom;
            }
        }
    }

    const json_t *ex = json_object_get(n, "exports");
    if (json_is_array(ex) && json_array_size(ex) > 0) {
        if (!(a->exports = calloc(json_array_size(ex), sizeof *a->exports)))
            goto oom;
        size_t i;
        const json_t *e;
        json_array_foreach(ex, i, e) {
            aj_export *x = &a->exports[a->nexports++];
            x->kind = parse_io_kind(e, "type");
            x->subject = jstr(e, "subject");
            if (!x->kind || !x->subject) {
                seterr(err, errlen, "export %zu needs a type (stream or service) and a subject", i);
                return false;
            }
            x->token_req = jbool(e, "token_req");
            const char *rt = json_string_value(json_object_get(e, "response_type"));
            x->response_type = rt && !strcasecmp(rt, "Stream")    ? MODNATS_RESP_STREAM
                               : rt && !strcasecmp(rt, "Chunked") ? MODNATS_RESP_CHUNKED
                                                                  : MODNATS_RESP_SINGLETON;
            int64_t th = jint(e, "response_threshold", 0);   /* nanoseconds */
            x->response_threshold_ms = th > 0 ? (uint64_t)(th / 1000000) : 0;
            if (!parse_revocations(json_object_get(e, "revocations"), &x->rev_keys, &x->rev_at))
                goto oom;
        }
    }

    const json_t *im = json_object_get(n, "imports");
    if (json_is_array(im) && json_array_size(im) > 0) {
        if (!(a->imports = calloc(json_array_size(im), sizeof *a->imports)))
            goto oom;
        size_t i;
        const json_t *e;
        json_array_foreach(im, i, e) {
            aj_import *x = &a->imports[a->nimports++];
            x->kind = parse_io_kind(e, "type");
            x->account = jstr(e, "account");
            x->subject = jstr(e, "subject");
            x->token = jstr(e, "token");
            char *to = jstr(e, "to"), *local = jstr(e, "local_subject");
            if (x->kind == MODNATS_EXPORT_STREAM) {
                x->prefix = to;        /* streams: `to` is the old prefix */
                x->local = local;
            } else {
                x->local = local ? local : to;
                if (local)
                    free(to);
            }
            if (!x->kind || !x->account || !x->subject) {
                seterr(err, errlen, "import %zu needs a type, an account and a subject", i);
                return false;
            }
        }
    }
    return true;
oom:
    seterr(err, errlen, "out of memory");
    return false;
}

static void account_free(aj_account *a)
{
    aj_strv_free(&a->signing_keys);
    for (size_t i = 0; i < a->nscopes; i++) {
        free(a->scopes[i].key);
        free(a->scopes[i].role);
        user_free(&a->scopes[i].tmpl);
    }
    free(a->scopes);
    for (size_t i = 0; i < a->nexports; i++) {
        free(a->exports[i].subject);
        aj_strv_free(&a->exports[i].rev_keys);
        free(a->exports[i].rev_at);
    }
    free(a->exports);
    for (size_t i = 0; i < a->nimports; i++) {
        free(a->imports[i].account);
        free(a->imports[i].subject);
        free(a->imports[i].local);
        free(a->imports[i].prefix);
        free(a->imports[i].token);
    }
    free(a->imports);
    aj_strv_free(&a->rev_keys);
    free(a->rev_at);
    perms_free(&a->default_perms);
}

void aj_perms_export(const aj_perms *p, modnats_permissions *out)
{
    memset(out, 0, sizeof *out);
    out->size = sizeof *out;
    out->pub_allow = (const char *const *)p->pub_allow.v;
    out->n_pub_allow = p->pub_allow.n;
    out->pub_deny = (const char *const *)p->pub_deny.v;
    out->n_pub_deny = p->pub_deny.n;
    out->sub_allow = (const char *const *)p->sub_allow.v;
    out->n_sub_allow = p->sub_allow.n;
    out->sub_deny = (const char *const *)p->sub_deny.v;
    out->n_sub_deny = p->sub_deny.n;
    if (p->has_resp) {
        /* nats-server's defaults for a resp block without values */
        out->allow_responses = true;
        out->responses_max_msgs = p->resp_max > 0 ? (uint32_t)p->resp_max : 1;
        out->responses_expires_ms = p->resp_ttl_ms > 0 ? (uint64_t)p->resp_ttl_ms : 2 * 60 * 1000;
    }
}

void aj_jwt_free(aj_jwt *j)
{
    if (!j)
        return;
    switch (j->kind) {
    case AJ_OPERATOR:
        aj_strv_free(&j->u.op.signing_keys);
        free(j->u.op.system_account);
        break;
    case AJ_ACCOUNT:
        account_free(&j->u.acc);
        break;
    case AJ_USER:
        user_free(&j->u.user);
        break;
    case AJ_ACTIVATION:
        free(j->u.act.subject);
        break;
    case AJ_GENERIC:
        break;
    case AJ_AUTH_RESPONSE:
        free(j->u.resp.jwt);
        free(j->u.resp.error);
        break;
    }
    aj_strv_free(&j->accounts);
    free(j->raw);
    free(j->jti);
    free(j->iss);
    free(j->sub);
    free(j->name);
    free(j->aud);
    free(j->issuer_account);
    free(j);
}

/* base64url of one part into a malloc'd, NUL-terminated buffer. */
static uint8_t *b64part(const char *p, size_t len, size_t *outlen)
{
    char *s = strndup(p, len);
    uint8_t *out = malloc(len + 1);
    bool ok = s && out && mnk_base64_decode(s, out, len, outlen);
    free(s);
    if (!ok) {
        free(out);
        return NULL;
    }
    out[*outlen] = '\0';
    return out;
}

static uint8_t issuer_prefix(aj_kind k)
{
    return k == AJ_USER || k == AJ_ACTIVATION || k == AJ_AUTH_RESPONSE ? MNK_ACCOUNT
                                                                       : MNK_OPERATOR;
}

static aj_kind kind_of(const char *t)
{
    if (!t)
        return 0;
    if (!strcmp(t, "operator"))   return AJ_OPERATOR;
    if (!strcmp(t, "account"))    return AJ_ACCOUNT;
    if (!strcmp(t, "user"))       return AJ_USER;
    if (!strcmp(t, "activation")) return AJ_ACTIVATION;
    if (!strcmp(t, "generic"))    return AJ_GENERIC;
    if (!strcmp(t, "authorization_response")) return AJ_AUTH_RESPONSE;
    return 0;
}

bool aj_jwt_decode(const char *token, aj_kind want, aj_jwt **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!token) {
        seterr(err, errlen, "no JWT");
        return false;
    }
    while (isspace((unsigned char)*token))
        token++;
    size_t tlen = strlen(token);
    while (tlen > 0 && isspace((unsigned char)token[tlen - 1]))
        tlen--;
    const char *d1 = memchr(token, '.', tlen);
    const char *d2 = d1 ? memchr(d1 + 1, '.', tlen - (size_t)(d1 + 1 - token)) : NULL;
    if (!d1 || !d2 || memchr(d2 + 1, '.', tlen - (size_t)(d2 + 1 - token))) {
        seterr(err, errlen, "not a JWT (three dot-separated parts expected)");
        return false;
    }
    size_t hl, pl, sl;
    uint8_t *hdr = b64part(token, (size_t)(d1 - token), &hl);
    uint8_t *pay = b64part(d1 + 1, (size_t)(d2 - d1 - 1), &pl);
    uint8_t *sig = b64part(d2 + 1, tlen - (size_t)(d2 + 1 - token), &sl);
    json_t *h = NULL, *c = NULL;
    aj_jwt *j = NULL;
    bool ok = false;
    if (!hdr || !pay || !sig) {
        seterr(err, errlen, "a JWT part is not base64url");
        goto done;
    }
    json_error_t je;
    if (!(h = json_loadb((const char *)hdr, hl, 0, &je)) || !json_is_object(h)) {
        seterr(err, errlen, "JWT header is not a JSON object");
        goto done;
    }
    const char *typ = json_string_value(json_object_get(h, "typ"));
    const char *alg = json_string_value(json_object_get(h, "alg"));
    if (!typ || strcasecmp(typ, "JWT") != 0) {
        seterr(err, errlen, "JWT header: typ is not JWT");
        goto done;
    }
    if (!alg || strcasecmp(alg, "ed25519-nkey") != 0) {
        seterr(err, errlen, "JWT header: algorithm %s%s%s is not supported (ed25519-nkey, v2 JWTs)",
               alg ? "\"" : "", alg ? alg : "(none)", alg ? "\"" : "");
        goto done;
    }
    if (!(c = json_loadb((const char *)pay, pl, 0, &je)) || !json_is_object(c)) {
        seterr(err, errlen, "JWT claims are not a JSON object");
        goto done;
    }
    const json_t *n = json_object_get(c, "nats");
    if (!json_is_object(n)) {
        seterr(err, errlen, "JWT claims have no nats section");
        goto done;
    }
    if (jint(n, "version", 0) != 2) {
        seterr(err, errlen, "JWT claims version %lld is not supported (2 expected)",
               (long long)jint(n, "version", 0));
        goto done;
    }
    const char *ts = json_string_value(json_object_get(n, "type"));
    aj_kind kind = kind_of(ts);
    if (!ts && want == AJ_GENERIC)
        kind = AJ_GENERIC;   /* generic claims (a delete request) may have no type */
    if (!kind) {
        seterr(err, errlen, "JWT of unknown type \"%s\"", ts ? ts : "");
        goto done;
    }
    if (want && kind != want) {
        seterr(err, errlen, "expected an %s JWT, got a%s %s JWT", aj_kind_name(want),
               kind == AJ_OPERATOR || kind == AJ_ACCOUNT || kind == AJ_ACTIVATION ? "n" : "",
               aj_kind_name(kind));
        goto done;
    }
    if (!(j = calloc(1, sizeof *j)) || !(j->raw = strndup(token, tlen))) {
        seterr(err, errlen, "out of memory");
        goto done;
    }
    j->kind = kind;
    j->jti = jstr(c, "jti");
    j->iss = jstr(c, "iss");
    j->sub = jstr(c, "sub");
    j->name = jstr(c, "name");
    j->aud = jstr(c, "aud");
    j->iat = jint(c, "iat", 0);
    j->exp = jint(c, "exp", 0);
    j->nbf = jint(c, "nbf", 0);
    j->issuer_account = jstr(n, "issuer_account");
    if (!j->iss || !j->sub) {
        seterr(err, errlen, "JWT without iss or sub");
        goto done;
    }
    /* the signature, by the key iss names */
    uint8_t ikey[MNK_RAW_LEN];
    mnk_err ke = mnk_decode(j->iss, issuer_prefix(kind), ikey);
    if (ke != MNK_OK) {
        seterr(err, errlen, "%s JWT issuer %s: %s (an %s key expected)", aj_kind_name(kind),
               j->iss, mnk_strerror(ke), mnk_prefix_name(issuer_prefix(kind)));
        goto done;
    }
    if (!mnk_ed25519_verify(ikey, token, (size_t)(d2 - token), sig, sl)) {
        seterr(err, errlen, "%s JWT signature does not verify", aj_kind_name(kind));
        goto done;
    }
    /* the subject's kind */
    uint8_t skey[MNK_RAW_LEN];
    uint8_t sp = kind == AJ_OPERATOR                         ? MNK_OPERATOR
                 : kind == AJ_USER || kind == AJ_AUTH_RESPONSE ? MNK_USER
                                                               : MNK_ACCOUNT;
    if (kind != AJ_GENERIC && (ke = mnk_decode(j->sub, sp, skey)) != MNK_OK) {
        seterr(err, errlen, "%s JWT subject %s: %s", aj_kind_name(kind), j->sub, mnk_strerror(ke));
        goto done;
    }
    switch (kind) {
    case AJ_OPERATOR:
        ok = jstrv(n, "signing_keys", &j->u.op.signing_keys);
        j->u.op.system_account = jstr(n, "system_account");
        j->u.op.strict_signing = jbool(n, "strict_signing_key_usage");
        if (!ok)
            seterr(err, errlen, "out of memory");
        break;
    case AJ_ACCOUNT:
        ok = parse_account(n, &j->u.acc, err, errlen);
        break;
    case AJ_USER:
        ok = parse_user(n, &j->u.user, err, errlen);
        break;
    case AJ_ACTIVATION:
        j->u.act.subject = jstr(n, "subject");
        j->u.act.kind = parse_io_kind(n, "kind");
        ok = j->u.act.subject != NULL;
        if (!ok)
            seterr(err, errlen, "activation JWT without a subject");
        break;
    case AJ_GENERIC:
        ok = jstrv(n, "accounts", &j->accounts);
        if (!ok)
            seterr(err, errlen, "out of memory");
        break;
    case AJ_AUTH_RESPONSE:
        j->u.resp.jwt = jstr(n, "jwt");
        j->u.resp.error = jstr(n, "error");
        ok = j->u.resp.jwt || j->u.resp.error;
        if (!ok)
            seterr(err, errlen, "authorization response with neither a jwt nor an error");
        break;
    }
done:
    json_decref(h);
    json_decref(c);
    free(hdr);
    free(pay);
    free(sig);
    if (!ok) {
        aj_jwt_free(j);
        return false;
    }
    *out = j;
    return true;
}

const char *aj_jwt_time_error(const aj_jwt *j, int64_t now)
{
    if (j->exp > 0 && now > j->exp)
        return "expired";
    if (j->nbf > 0 && now < j->nbf)
        return "not valid yet";
    return NULL;
}

static bool jwt_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == '.' || ch == '=';
}

char *aj_jwt_extract(const char *text)
{
    if (!text)
        return NULL;
    const char *p = text;
    /* armored: the first non-empty line after a BEGIN ... JWT line */
    const char *b = strstr(text, "-----BEGIN");
    while (b) {
        const char *eol = strchr(b, '\n');
        if (!eol)
            return NULL;
        if (memmem(b, (size_t)(eol - b), "JWT", 3)) {
            p = eol + 1;
            break;
        }
        b = strstr(eol, "-----BEGIN");
    }
    while (*p) {
        while (*p && isspace((unsigned char)*p))
            p++;
        size_t n = 0;
        while (p[n] && jwt_char(p[n]))
            n++;
        size_t dots = 0;
        for (size_t i = 0; i < n; i++)
            dots += p[i] == '.';
        if (n > 0 && dots == 2 && (p[n] == '\0' || isspace((unsigned char)p[n])))
            return strndup(p, n);
        p = strchr(p, '\n');
        if (!p)
            break;
    }
    return NULL;
}
