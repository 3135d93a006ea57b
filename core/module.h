/*
 * module.h - the module loader, the event hook chains and the service
 * registry: the core's half of the plugin ABI (sdk/include/modnats).
 *
 * Modules are loaded once, on the main thread, after the server object
 * exists and before the workers start; hooks and services are registered
 * during their init only, so the workers read the chains without locks.
 */
#ifndef MN_MODULE_H
#define MN_MODULE_H

#include "mn.h"
#include "cfgtree.h"
#include <modnats/modnats.h>
#include <pthread.h>

struct mn_server;

struct modnats_module {
    char                      *name;
    char                      *path;     /* file loaded, or "(built in)" */
    void                      *dl;       /* dlopen handle; NULL if built in */
    const modnats_module_desc *desc;
    mn_cfg                    *cfg;      /* its settings group (owned) */
    bool                       inited;
    uint32_t                   idx;      /* 1-based: the high bits of its origins */
    _Atomic uint32_t           next_origin;
    /* what the module holds, released for it at shutdown if it did not */
    pthread_mutex_t            res_lock;
    struct mn_isub            *isubs;    /* in-process subscriptions */
    struct mn_sink            *sinks;
};

typedef struct mn_hook {
    int              prio;
    unsigned         seq;
    modnats_hook_fn  fn;
    void            *ud;
    modnats_module  *m;
} mn_hook;

typedef struct mn_hook_chain {
    mn_hook *hooks;
    size_t   n;
} mn_hook_chain;

extern mn_hook_chain mn_hooks[MODNATS_EV__COUNT];

static inline bool mn_hooks_any(modnats_event ev)
{
    return mn_hooks[ev].n > 0;
}

/* Run the chain of ev: the first answer other than DEFER wins; DEFER when
 * every hook deferred (or there is none).  For decisions (AUTH,
 * permissions). */
modnats_rc mn_hooks_run(modnats_event ev, modnats_event_hdr *e);
/* Notifications (CONNECT, DISCONNECT, INTEREST, SHUTDOWN): every hook runs
 * whatever the others answer; DENY if any hook denied. */
modnats_rc mn_hooks_notify(modnats_event ev, modnats_event_hdr *e);

/* Load and init every module named in the options' module list, with the
 * settings groups in the options' module config.  On failure: one line in
 * err naming the file and why; modules already initialised are finalised. */
int  mn_modules_load(struct mn_server *s, char *err, size_t errlen);
/* Load (without init) and describe the modules named by the options, for
 * --list-modules.  Prints to stdout. */
int  mn_modules_list(struct mn_server *s, char *err, size_t errlen);
/* SIGHUP: validate each loaded module's new settings group from fresh
 * and run the RELOAD chain, each hook seeing its own module's group.
 * Nothing is applied when a group fails validation. */
struct mn_opts;
int  mn_modules_reload(const struct mn_opts *fresh, char *err, size_t errlen);
/* fini every module in reverse order, then unload. */
void mn_modules_fini(void);

/* Behind the host API's hook / service_register / service_get. */
modnats_rc  mn_module_hook(modnats_module *m, modnats_event ev, int priority,
                           modnats_hook_fn fn, void *ud);
modnats_rc  mn_service_register(modnats_module *m, const char *name, uint32_t version,
                                const void *iface);
const void *mn_service_get(const char *name, uint32_t version);

/* The host API table handed to every module. */
extern const modnats_host_api mn_host_api;

/* hostapi.c: after m's fini, drop the subscriptions, sinks and timers it
 * left behind. */
void mn_module_release_all(modnats_module *m);

/* Is module name linked into this binary (slim builds)? */
bool mn_module_is_static(const char *name);

/* Directories searched for NAME.so, in order. */
size_t mn_module_dirs(char dirs[][4096], size_t max);

#endif
