/*
 * tls.c - TLS settings, contexts and per-connection sessions (see tls.h).
 *
 * The only file of the core that talks to OpenSSL.  Sessions use a plain
 * socket BIO on the connection's non-blocking fd, so a read or write that
 * cannot go on comes back as MN_TLS_WANT_READ/WRITE and the connection's
 * worker retries it on the next epoll event.
 */
#include "tls.h"
#include "cfgtree.h"
#include "opts.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------ settings */

void mn_tls_settings_init(mn_tls_settings *t)
{
    memset(t, 0, sizeof(*t));
    t->timeout_ms = MN_TLS_DEFAULT_TIMEOUT_MS;
}

void mn_tls_settings_free(mn_tls_settings *t)
{
    free(t->cert_file);
    free(t->key_file);
    free(t->ca_file);
    free(t->cipher_suites);
    free(t->curve_preferences);
    free(t->min_version);
    mn_tls_settings_init(t);
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src && !(*dst = strdup(src)))
        return MN_ENOMEM;
    return MN_OK;
}

int mn_tls_settings_copy(mn_tls_settings *dst, const mn_tls_settings *src)
{
    *dst = *src;
    if (dup_opt(&dst->cert_file, src->cert_file) || dup_opt(&dst->key_file, src->key_file) ||
        dup_opt(&dst->ca_file, src->ca_file) ||
        dup_opt(&dst->cipher_suites, src->cipher_suites) ||
        dup_opt(&dst->curve_preferences, src->curve_preferences) ||
        dup_opt(&dst->min_version, src->min_version)) {
        mn_tls_settings_free(dst);
        return MN_ENOMEM;
    }
    return MN_OK;
}

static int perr(char *err, size_t errlen, const mn_cfg *s, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int perr(char *err, size_t errlen, const mn_cfg *s, const char *fmt, ...)
{
    int n;
    if (s->col > 0)
        n = snprintf(err, errlen, "%s:%d:%d: ", s->file ? s->file : "?", s->line, s->col);
    else
        n = snprintf(err, errlen, "%s:%d: ", s->file ? s->file : "?", s->line);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return MN_EINVAL;
}

static int p_str(const mn_cfg *s, const char *path, char **dst, char *err, size_t errlen)
{
    if (s->type != MN_CFG_STRING)
        return perr(err, errlen, s, "\"%s\" must be a string", path);
    char *v = strdup(s->s);
    if (!v)
        return MN_ENOMEM;
    free(*dst);
    *dst = v;
    return MN_OK;
}

static int p_bool(const mn_cfg *s, const char *path, bool *out, char *err, size_t errlen)
{
    if (s->type == MN_CFG_BOOL) {
        *out = s->b;
        return MN_OK;
    }
    if (s->type == MN_CFG_STRING) {
        if (!strcasecmp(s->s, "true") || !strcasecmp(s->s, "yes") || !strcasecmp(s->s, "on")) {
            *out = true;
            return MN_OK;
        }
        if (!strcasecmp(s->s, "false") || !strcasecmp(s->s, "no") || !strcasecmp(s->s, "off")) {
            *out = false;
            return MN_OK;
        }
    }
    return perr(err, errlen, s, "\"%s\" must be a boolean (true or false)", path);
}

/* A list of strings (or one string) joined with commas. */
static int p_list(const mn_cfg *s, const char *path, char **dst, char *err, size_t errlen)
{
    size_t len = 1;
    if (s->type == MN_CFG_STRING)
        return p_str(s, path, dst, err, errlen);
    if (s->type != MN_CFG_LIST)
        return perr(err, errlen, s, "\"%s\" must be a list of names", path);
    for (size_t i = 0; i < s->nkids; i++) {
        if (s->kids[i]->type != MN_CFG_STRING)
            return perr(err, errlen, s->kids[i], "\"%s\" must be a list of names", path);
        len += strlen(s->kids[i]->s) + 1;
    }
    char *j = calloc(1, len);
    if (!j)
        return MN_ENOMEM;
    for (size_t i = 0; i < s->nkids; i++) {
        if (i)
            strcat(j, ",");
        strcat(j, s->kids[i]->s);
    }
    free(*dst);
    *dst = j;
    return MN_OK;
}

/* nats-server's Go names of the curves, and OpenSSL's. */
static const struct { const char *go, *ossl; } curves[] = {
    {"CurveP256", "P-256"}, {"CurveP384", "P-384"}, {"CurveP521", "P-521"},
    {"X25519", "X25519"}, {"P256", "P-256"}, {"P384", "P-384"}, {"P521", "P-521"},
};

static const char *curve_ossl(const char *go)
{
    for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
        if (!strcasecmp(curves[i].go, go))
            return curves[i].ossl;
    return NULL;
}

int mn_tls_settings_parse(mn_tls_settings *t, const mn_cfg *g, const char *path,
                          char *err, size_t errlen)
{
    if (g->type != MN_CFG_GROUP)
        return perr(err, errlen, g, "\"%s\" must be a group: %s { cert_file: ..., key_file: ... }",
                    path, path);
    int rc = MN_OK;
    for (size_t i = 0; i < g->nkids && rc == MN_OK; i++) {
        const mn_cfg *s = g->kids[i];
        char sub[160];
        snprintf(sub, sizeof sub, "%s.%s", path, s->name ? s->name : "?");
        const char *k = s->name ? s->name : "";
        if (!strcasecmp(k, "cert_file")) {
            rc = p_str(s, sub, &t->cert_file, err, errlen);
        } else if (!strcasecmp(k, "key_file")) {
            rc = p_str(s, sub, &t->key_file, err, errlen);
        } else if (!strcasecmp(k, "ca_file")) {
            rc = p_str(s, sub, &t->ca_file, err, errlen);
        } else if (!strcasecmp(k, "verify")) {
            rc = p_bool(s, sub, &t->verify, err, errlen);
        } else if (!strcasecmp(k, "verify_and_map") || !strcasecmp(k, "map_and_verify")) {
            rc = p_bool(s, sub, &t->verify_and_map, err, errlen);
            if (t->verify_and_map)
                t->verify = true;
        } else if (!strcasecmp(k, "insecure")) {
            rc = p_bool(s, sub, &t->insecure, err, errlen);
        } else if (!strcasecmp(k, "handshake_first") || !strcasecmp(k, "first") ||
                   !strcasecmp(k, "immediate")) {
            /* true/false, or nats-server 2.10's fallback: a duration (or
             * "auto", 50ms) after which a client that sent nothing gets
             * INFO in plain text and may start TLS after it, as usual. */
            int64_t ms;
            t->first_fallback_ms = 0;
            if (s->type == MN_CFG_STRING && !strcasecmp(s->s, "auto")) {
                t->handshake_first = true;
                t->first_fallback_ms = 50;
            } else if (s->type == MN_CFG_STRING && mn_parse_duration_ms(s->s, &ms) == MN_OK &&
                       ms > 0) {
                t->handshake_first = true;
                t->first_fallback_ms = ms;
            } else if (p_bool(s, sub, &t->handshake_first, err, errlen) != MN_OK) {
                rc = perr(err, errlen, s, "\"%s\" must be true, false, \"auto\" or a "
                          "fallback delay such as \"300ms\"", sub);
            }
        } else if (!strcasecmp(k, "timeout")) {
            double sec;
            int64_t ms;
            if (s->type == MN_CFG_INT) {
                sec = (double)s->i;
            } else if (s->type == MN_CFG_FLOAT) {
                sec = s->d;
            } else if (s->type == MN_CFG_STRING && mn_parse_duration_ms(s->s, &ms) == MN_OK) {
                sec = (double)ms / 1000.0;
            } else {
                rc = perr(err, errlen, s, "\"%s\" must be a number of seconds (e.g. 2 or 0.5)",
                          sub);
                break;
            }
            if (sec <= 0) {
                rc = perr(err, errlen, s, "\"%s\" must be positive", sub);
                break;
            }
            t->timeout_ms = (int64_t)(sec * 1000.0 + 0.5);
            if (t->timeout_ms < 1)
                t->timeout_ms = 1;
        } else if (!strcasecmp(k, "cipher_suites")) {
            rc = p_list(s, sub, &t->cipher_suites, err, errlen);
        } else if (!strcasecmp(k, "curve_preferences")) {
            rc = p_list(s, sub, &t->curve_preferences, err, errlen);
            for (size_t j = 0; rc == MN_OK && s->type == MN_CFG_LIST && j < s->nkids; j++)
                if (!curve_ossl(s->kids[j]->s))
                    rc = perr(err, errlen, s->kids[j], "\"%s\": unknown curve \"%s\" (CurveP256, "
                              "CurveP384, CurveP521, X25519)", sub, s->kids[j]->s);
        } else if (!strcasecmp(k, "min_version")) {
            rc = p_str(s, sub, &t->min_version, err, errlen);
            if (rc == MN_OK && strcmp(t->min_version, "1.2") != 0 &&
                strcmp(t->min_version, "1.3") != 0)
                rc = perr(err, errlen, s, "\"%s\" must be \"1.2\" or \"1.3\"", sub);
        } else {
            rc = perr(err, errlen, s, "\"%s\": unknown TLS setting (known: cert_file, key_file, "
                      "ca_file, verify, verify_and_map, insecure, timeout, cipher_suites, "
                      "curve_preferences, min_version, handshake_first)", sub);
        }
    }
    if (rc == MN_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* ------------------------------------------------------------- context */

struct mn_tls_ctx {
    SSL_CTX    *ctx;
    bool        server, verify, map, handshake_first, insecure;
    int64_t     timeout_ms, first_fallback_ms;
    _Atomic int refs;
};

void mn_tls_global_init(void)
{
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}

/* The first OpenSSL error as text ("" when none), the queue emptied. */
static const char *ossl_err(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    buf[0] = 0;
    if (e)
        ERR_error_string_n(e, buf, len);
    ERR_clear_error();
    return buf;
}

/* cipher_suites names Go's (IANA) names; OpenSSL wants its own for TLS 1.2
 * and IANA's for TLS 1.3.  Map through the library's own table. */
static int set_ciphers(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list);
    size_t cap = strlen(list) * 2 + 64;
    char *v12 = calloc(1, cap), *v13 = calloc(1, cap);
    int rc = MN_OK;
    if (!copy || !v12 || !v13) {
        rc = MN_ENOMEM;
        goto out;
    }
    SSL_CTX_set_cipher_list(ctx, "ALL");
    STACK_OF(SSL_CIPHER) *all = SSL_CTX_get_ciphers(ctx);
    char *save = NULL;
    for (char *name = strtok_r(copy, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        const SSL_CIPHER *found = NULL;
        for (int i = 0; all && i < sk_SSL_CIPHER_num(all); i++) {
            const SSL_CIPHER *sc = sk_SSL_CIPHER_value(all, i);
            const char *std = SSL_CIPHER_standard_name(sc);
            if ((std && !strcmp(std, name)) || !strcmp(SSL_CIPHER_get_name(sc), name)) {
                found = sc;
                break;
            }
        }
        if (!found) {
            snprintf(err, errlen, "tls: unknown cipher suite \"%s\"", name);
            rc = MN_EINVAL;
            goto out;
        }
        bool is13 = !strcmp(SSL_CIPHER_get_version(found), "TLSv1.3");
        char *dst = is13 ? v13 : v12;
        if (*dst)
            strcat(dst, ":");
        strcat(dst, is13 ? SSL_CIPHER_standard_name(found) : SSL_CIPHER_get_name(found));
    }
    char eb[200];
    if (*v12 ? !SSL_CTX_set_cipher_list(ctx, v12) : !SSL_CTX_set_cipher_list(ctx, "DEFAULT")) {
        snprintf(err, errlen, "tls: cipher_suites: %s", ossl_err(eb, sizeof eb));
        rc = MN_EINVAL;
    } else if (*v13 && !SSL_CTX_set_ciphersuites(ctx, v13)) {
        snprintf(err, errlen, "tls: cipher_suites: %s", ossl_err(eb, sizeof eb));
        rc = MN_EINVAL;
    }
out:
    if (rc == MN_ENOMEM)
        snprintf(err, errlen, "out of memory");
    free(copy);
    free(v12);
    free(v13);
    return rc;
}

static int set_curves(SSL_CTX *ctx, const char *list, char *err, size_t errlen)
{
    char *copy = strdup(list);
    char buf[256] = "";
    if (!copy)
        return MN_ENOMEM;
    char *save = NULL;
    for (char *name = strtok_r(copy, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
        const char *o = curve_ossl(name);
        if (!o || strlen(buf) + strlen(o) + 2 > sizeof buf) {
            snprintf(err, errlen, "tls: unknown curve \"%s\"", name);
            free(copy);
            return MN_EINVAL;
        }
        if (*buf)
            strcat(buf, ":");
        strcat(buf, o);
    }
    free(copy);
    char eb[200];
    if (*buf && !SSL_CTX_set1_groups_list(ctx, buf)) {
        snprintf(err, errlen, "tls: curve_preferences: %s", ossl_err(eb, sizeof eb));
        return MN_EINVAL;
    }
    return MN_OK;
}

mn_tls_ctx *mn_tls_ctx_new(const mn_tls_settings *t, bool server, char *err, size_t errlen)
{
    char eb[256];
    mn_tls_global_init();
    ERR_clear_error();
    if (server && (!t->cert_file || !t->key_file)) {
        snprintf(err, errlen, "tls: a server needs cert_file and key_file");
        return NULL;
    }
    if (!t->cert_file != !t->key_file) {
        snprintf(err, errlen, "tls: cert_file and key_file go together");
        return NULL;
    }
    mn_tls_ctx *x = calloc(1, sizeof(*x));
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!x->ctx) {
        snprintf(err, errlen, "tls: %s", ossl_err(eb, sizeof eb));
        free(x);
        return NULL;
    }
    x->server = server;
    x->verify = t->verify || t->verify_and_map;
    x->map = t->verify_and_map;
    x->handshake_first = t->handshake_first;
    x->first_fallback_ms = t->handshake_first ? t->first_fallback_ms : 0;
    x->insecure = t->insecure;
    x->timeout_ms = t->timeout_ms > 0 ? t->timeout_ms : MN_TLS_DEFAULT_TIMEOUT_MS;
    atomic_store(&x->refs, 1);
    SSL_CTX *c = x->ctx;
    /* Partial writes from a buffer that may move between retries (the
     * connection's output buffer grows and compacts). */
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_num_tickets(c, 0);   /* NATS clients do not resume sessions */
    int minv = TLS1_2_VERSION;
    if (t->min_version && !strcmp(t->min_version, "1.3"))
        minv = TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(c, minv);

    if (t->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(c, t->cert_file) != 1) {
            snprintf(err, errlen, "tls: cannot load cert_file %s: %s", t->cert_file,
                     ossl_err(eb, sizeof eb));
            goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(c, t->key_file, SSL_FILETYPE_PEM) != 1) {
            if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH) {
                ERR_clear_error();
                snprintf(err, errlen, "tls: key_file %s does not match cert_file %s",
                         t->key_file, t->cert_file);
            } else {
                snprintf(err, errlen, "tls: cannot load key_file %s: %s", t->key_file,
                         ossl_err(eb, sizeof eb));
            }
            goto fail;
        }
        if (SSL_CTX_check_private_key(c) != 1) {
            snprintf(err, errlen, "tls: key_file %s does not match cert_file %s", t->key_file,
                     t->cert_file);
            goto fail;
        }
    }
    if (t->ca_file) {
        if (SSL_CTX_load_verify_locations(c, t->ca_file, NULL) != 1) {
            snprintf(err, errlen, "tls: cannot load ca_file %s: %s", t->ca_file,
                     ossl_err(eb, sizeof eb));
            goto fail;
        }
        if (server) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(t->ca_file);
            if (names)
                SSL_CTX_set_client_CA_list(c, names);
        }
    } else if (!server || x->verify) {
        SSL_CTX_set_default_verify_paths(c);
    }
    if (server)
        SSL_CTX_set_verify(c, x->verify ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                        : SSL_VERIFY_NONE, NULL);
    else
        SSL_CTX_set_verify(c, t->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (t->cipher_suites && set_ciphers(c, t->cipher_suites, err, errlen) != MN_OK)
        goto fail;
    if (t->curve_preferences && set_curves(c, t->curve_preferences, err, errlen) != MN_OK)
        goto fail;
    return x;
fail:
    SSL_CTX_free(x->ctx);
    free(x);
    return NULL;
}

void mn_tls_ctx_ref(mn_tls_ctx *x)
{
    atomic_fetch_add(&x->refs, 1);
}

void mn_tls_ctx_unref(mn_tls_ctx *x)
{
    if (x && atomic_fetch_sub(&x->refs, 1) == 1) {
        SSL_CTX_free(x->ctx);
        free(x);
    }
}

bool    mn_tls_ctx_verify(const mn_tls_ctx *x) { return x->verify; }
bool    mn_tls_ctx_server(const mn_tls_ctx *x) { return x->server; }
bool    mn_tls_ctx_map(const mn_tls_ctx *x) { return x->map; }
bool    mn_tls_ctx_handshake_first(const mn_tls_ctx *x) { return x->handshake_first; }
int64_t mn_tls_ctx_timeout_ms(const mn_tls_ctx *x) { return x->timeout_ms; }
int64_t mn_tls_ctx_first_fallback_ms(const mn_tls_ctx *x) { return x->first_fallback_ms; }

/* ------------------------------------------------------------- session */

typedef struct strv {
    char  **v;
    size_t  n;
} strv;

struct mn_tls {
    SSL    *ssl;
    bool    ready;
    bool    verify;          /* peer verification was required */
    bool    map;             /* verify_and_map */
    char    err[200];
    /* peer facts, filled once when the handshake completes */
    bool    has_cert, verified;
    char   *subject, *version, *cipher;
    strv    emails, dns, uris;
};

mn_tls *mn_tls_new(mn_tls_ctx *x, int fd, bool server, const char *host)
{
    mn_tls *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ssl = SSL_new(x->ctx);
    if (!t->ssl || SSL_set_fd(t->ssl, fd) != 1) {
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    t->verify = x->verify || (!server && !x->insecure);
    t->map = x->map;
    if (server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (host && *host && !x->insecure) {
            unsigned char ab[16];
            X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
            if (inet_pton(AF_INET, host, ab) == 1 || inet_pton(AF_INET6, host, ab) == 1) {
                X509_VERIFY_PARAM_set1_ip_asc(vp, host);
            } else {
                X509_VERIFY_PARAM_set1_host(vp, host, 0);
                SSL_set_tlsext_host_name(t->ssl, host);
            }
        }
    }
    return t;
}

static int strv_add(strv *s, const char *p, size_t n)
{
    char **v = realloc(s->v, (s->n + 2) * sizeof(*v));
    if (!v)
        return MN_ENOMEM;
    s->v = v;
    if (!(v[s->n] = strndup(p, n)))
        return MN_ENOMEM;
    v[++s->n] = NULL;
    return MN_OK;
}

static void strv_free(strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void collect_peer(mn_tls *t)
{
    const char *v = SSL_get_version(t->ssl);
    t->version = v ? strdup(v) : NULL;
    const SSL_CIPHER *sc = SSL_get_current_cipher(t->ssl);
    const char *c = sc ? SSL_CIPHER_standard_name(sc) : NULL;
    if (!c && sc)
        c = SSL_CIPHER_get_name(sc);
    t->cipher = c ? strdup(c) : NULL;
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer)
        return;
    t->has_cert = true;
    t->verified = t->verify && SSL_get_verify_result(t->ssl) == X509_V_OK;
    BIO *b = BIO_new(BIO_s_mem());
    if (b) {
        /* RFC 2253: most specific first, as Go's pkix.Name.String(). */
        if (X509_NAME_print_ex(b, X509_get_subject_name(peer), 0,
                               XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
            char *p;
            long n = BIO_get_mem_data(b, &p);
            if (n > 0)
                t->subject = strndup(p, (size_t)n);
        }
        BIO_free(b);
    }
    GENERAL_NAMES *sans = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        const ASN1_IA5STRING *s = NULL;
        strv *dst = NULL;
        if (g->type == GEN_EMAIL) {
            s = g->d.rfc822Name;
            dst = &t->emails;
        } else if (g->type == GEN_DNS) {
            s = g->d.dNSName;
            dst = &t->dns;
        } else if (g->type == GEN_URI) {
            s = g->d.uniformResourceIdentifier;
            dst = &t->uris;
        }
        if (dst && s)
            strv_add(dst, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
    }
    GENERAL_NAMES_free(sans);
    X509_free(peer);
}

/* An SSL_* result as MN_TLS_WANT_* / MN_ERR (reason kept in t->err). */
static int classify(mn_tls *t, int r)
{
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return MN_TLS_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE)
        return MN_TLS_WANT_WRITE;
    if (e == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return 0;
    }
    char eb[160];
    unsigned long code = ERR_peek_error();
    if (e == SSL_ERROR_SYSCALL && !code) {
        snprintf(t->err, sizeof t->err, "connection closed");
    } else {
        long vr = SSL_get_verify_result(t->ssl);
        if (vr != X509_V_OK && !t->ready)
            snprintf(t->err, sizeof t->err, "%s (certificate: %s)", ossl_err(eb, sizeof eb),
                     X509_verify_cert_error_string(vr));
        else
            snprintf(t->err, sizeof t->err, "%s", ossl_err(eb, sizeof eb));
    }
    ERR_clear_error();
    return MN_ERR;
}

int mn_tls_handshake(mn_tls *t)
{
    if (t->ready)
        return MN_OK;
    if (!t->ssl)
        return MN_ERR;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->ready = true;
        collect_peer(t);
        return MN_OK;
    }
    int rc = classify(t, r);
    return rc == 0 ? MN_ERR : rc;
}

bool mn_tls_ready(const mn_tls *t)
{
    return t->ready;
}

const char *mn_tls_error(const mn_tls *t)
{
    return t->err[0] ? t->err : "TLS error";
}

ssize_t mn_tls_read(mn_tls *t, void *buf, size_t n)
{
    if (!t->ssl)
        return MN_ERR;
    ERR_clear_error();
    int r = SSL_read(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    return classify(t, r);
}

ssize_t mn_tls_write(mn_tls *t, const void *buf, size_t n)
{
    if (!t->ssl)
        return MN_ERR;
    ERR_clear_error();
    int r = SSL_write(t->ssl, buf, n > INT32_MAX ? INT32_MAX : (int)n);
    if (r > 0)
        return r;
    r = classify(t, r);
    return r == 0 ? MN_ERR : r;
}

bool mn_tls_pending(const mn_tls *t)
{
    return t->ssl && (SSL_pending(t->ssl) > 0 || SSL_has_pending(t->ssl));
}

ssize_t mn_tls_read_batch(mn_tls *t, char *buf, size_t n, size_t *got, bool *more)
{
    ssize_t r = 0;
    *got = 0;
    while (*got < n) {
        r = mn_tls_read(t, buf + *got, n - *got);
        if (r <= 0)
            break;
        *got += (size_t)r;
    }
    *more = r > 0 && mn_tls_pending(t);
    return r;
}

void mn_tls_shutdown(mn_tls *t)
{
    if (!t || !t->ssl)
        return;
    if (t->ready) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);   /* one non-blocking attempt at close_notify */
    }
    ERR_clear_error();
    SSL_free(t->ssl);
    t->ssl = NULL;
}

void mn_tls_free(mn_tls *t)
{
    if (!t)
        return;
    mn_tls_shutdown(t);
    free(t->subject);
    free(t->version);
    free(t->cipher);
    strv_free(&t->emails);
    strv_free(&t->dns);
    strv_free(&t->uris);
    free(t);
}

int mn_tls_peer(const mn_tls *t, modnats_tls_info *out)
{
    if (!t || !t->ready || !out || out->size < offsetof(modnats_tls_info, reserved))
        return MN_ENOTFOUND;
    size_t size = out->size;
    memset(out, 0, size);
    out->size = size;
    out->has_cert = t->has_cert;
    out->verified = t->verified;
    out->subject = t->subject;
    out->emails = (const char *const *)t->emails.v;
    out->nemails = t->emails.n;
    out->dns = (const char *const *)t->dns.v;
    out->ndns = t->dns.n;
    out->uris = (const char *const *)t->uris.v;
    out->nuris = t->uris.n;
    out->version = t->version;
    out->cipher = t->cipher;
    out->map = t->map;
    return MN_OK;
}
