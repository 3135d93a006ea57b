/*
 * abi_mod.h - helpers shared by the ABI test modules.  Header-only and built
 * on <modnats/modnats.h> alone, like any third-party module: the test
 * modules see nothing of the core but the installed SDK.
 *
 * Each test module keeps its host API table and its module handle in
 * file-scope statics set by init (a module is loaded once per process).
 */
#ifndef ABI_MOD_H
#define ABI_MOD_H

#include <modnats/modnats.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The descriptor every test module returns: current ABI, given name,
 * options, init and fini. */
#define ABI_TEST_DESC(var, modname, opts, initfn, finifn)                    \
    static const modnats_module_desc var = {                                 \
        .magic = MODNATS_MODULE_MAGIC,                                       \
        .size = sizeof(modnats_module_desc),                                 \
        .abi_major = MODNATS_ABI_MAJOR,                                      \
        .abi_minor = MODNATS_ABI_MINOR,                                      \
        .name = modname,                                                     \
        .version = "1.0",                                                    \
        .description = "ABI test module " modname,                           \
        .options = opts,                                                     \
        .init = initfn,                                                      \
        .fini = finifn,                                                      \
    }

/* Publish a formatted body on subject (length slen) in account a, as
 * `origin`.  The host copies everything before returning. */
static inline modnats_rc abi_vpub(const modnats_host_api *api, modnats_module *m,
                                  modnats_account *a, modnats_origin origin,
                                  const char *subject, size_t slen, const char *fmt, va_list ap)
{
    char body[1024];
    int n = vsnprintf(body, sizeof body, fmt, ap);
    if (n < 0)
        return MODNATS_ERR;
    if ((size_t)n >= sizeof body)
        n = (int)sizeof body - 1;
    modnats_msg msg = {
        .size = sizeof(modnats_msg),
        .subject = subject, .subject_len = slen,
        .data = body, .data_len = (size_t)n,
    };
    return api->publish(m, a ? a : api->account_global(), &msg, origin);
}

static inline modnats_rc abi_pub(const modnats_host_api *api, modnats_module *m,
                                 const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline modnats_rc abi_pub(const modnats_host_api *api, modnats_module *m,
                                 const char *subject, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    modnats_rc rc = abi_vpub(api, m, NULL, 0, subject, strlen(subject), fmt, ap);
    va_end(ap);
    return rc;
}

/* Answer a request (no-op when it has no reply subject). */
static inline modnats_rc abi_reply(const modnats_host_api *api, modnats_module *m,
                                   const modnats_msg *req, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline modnats_rc abi_reply(const modnats_host_api *api, modnats_module *m,
                                   const modnats_msg *req, const char *fmt, ...)
{
    if (!req->reply || req->reply_len == 0)
        return MODNATS_OK;
    va_list ap;
    va_start(ap, fmt);
    modnats_rc rc = abi_vpub(api, m, NULL, 0, req->reply, req->reply_len, fmt, ap);
    va_end(ap);
    return rc;
}

/* A field of an event struct is present when the struct the core built is
 * big enough to hold it. */
#define ABI_EV_HAS(ev, type, field) \
    ((ev)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

#endif
