/*
 * server_tls.c - the server's client TLS context: built at start-up from
 * the tls block / --tls* flags, swapped by a reload that brings new
 * certificates (a bad new certificate is logged and the old one stays),
 * handed with a reference to each new connection.
 */
#include "server.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

int mn_server_tls_init(mn_server *s, char *err, size_t errlen)
{
    pthread_mutex_init(&s->tls_lock, NULL);
    if (!s->opts.tls)
        return MN_OK;
    char why[512];
    s->tls_ctx = mn_tls_ctx_new(&s->opts.tls_set, true, why, sizeof why);
    if (!s->tls_ctx) {
        snprintf(err, errlen, "%s", why);
        return MN_ERR;
    }
    s->tls_on = true;
    s->tls_optional = s->opts.allow_non_tls;
    s->tls_verify = mn_tls_ctx_verify(s->tls_ctx);
    return MN_OK;
}

mn_tls_ctx *mn_server_tls_ctx(mn_server *s)
{
    pthread_mutex_lock(&s->tls_lock);
    mn_tls_ctx *x = s->tls_ctx;
    if (x)
        mn_tls_ctx_ref(x);
    pthread_mutex_unlock(&s->tls_lock);
    return x;
}

/* Main thread, on SIGHUP, with the freshly read options. */
void mn_server_tls_reload(mn_server *s, const mn_opts *fresh)
{
    if (fresh->tls != (s->tls_ctx != NULL)) {
        mn_warn("Reload: TLS cannot be turned %s at run time (restart needed)",
                fresh->tls ? "on" : "off");
        return;
    }
    if (!fresh->tls)
        return;
    char why[512];
    mn_tls_ctx *x = mn_tls_ctx_new(&fresh->tls_set, true, why, sizeof why);
    if (!x) {
        mn_error("Reload: %s; keeping the current TLS certificates", why);
        return;
    }
    if (mn_tls_ctx_verify(x) != s->tls_verify)
        mn_warn("Reload: TLS verify changes for new connections; INFO keeps saying %s",
                s->tls_verify ? "tls_verify" : "no tls_verify");
    pthread_mutex_lock(&s->tls_lock);
    mn_tls_ctx *old = s->tls_ctx;
    s->tls_ctx = x;
    pthread_mutex_unlock(&s->tls_lock);
    mn_tls_ctx_unref(old);   /* connections made with it hold their own */
    mn_notice("Reload: TLS certificates loaded for new connections");
}

void mn_server_tls_free(mn_server *s)
{
    mn_tls_ctx_unref(s->tls_ctx);
    s->tls_ctx = NULL;
    pthread_mutex_destroy(&s->tls_lock);
}
