/*
 * server.c - the server object: listener, workers, the global account,
 * INFO, and the main thread's signal loop (shutdown, reload, lame duck,
 * log reopen).
 *
 * The main thread owns no socket after start-up.  It blocks every signal
 * before starting the workers, so signals arrive only here, through
 * sigtimedwait, and are turned into tasks posted to the workers.
 */
#include "server.h"
#include "acctio.h"
#include "log.h"
#include "qsbr.h"
#include "account.h"
#include "module.h"
#include "timer.h"
#include "mconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void make_server_id(char out[57])
{
    static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    unsigned char rnd[55];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        uint64_t x = mn_now_ms() ^ (uint64_t)getpid() << 20;
        for (size_t i = 0; i < sizeof(rnd); i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            rnd[i] = (unsigned char)(x >> 33);
        }
    }
    out[0] = 'N';
    for (int i = 0; i < 55; i++)
        out[i + 1] = b32[rnd[i] & 31];
    out[56] = 0;
}

static int open_listener(mn_server *s, char *err, size_t errlen)
{
    const mn_opts *o = &s->opts;
    const char *host = o->host && *o->host ? o->host : "0.0.0.0";
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", o->port < 0 ? 0 : o->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve listen address %s: %s", host, gai_strerror(rc));
        return MN_ERR;
    }
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* Bind now (a taken port fails start-up at once), listen only
         * when the server runs: no client connects while modules init. */
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        last_errno = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "Error listening on port: %s:%s, \"%s\"", host, portstr,
                 strerror(last_errno));
        return MN_ERR;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    s->port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    s->listen_fd = fd;
    return MN_OK;
}

static void apply_tunables(mn_server *s, const mn_opts *o)
{
    atomic_store(&s->max_payload, o->max_payload);
    atomic_store(&s->max_pending, o->max_pending);
    atomic_store(&s->max_control_line, o->max_control_line);
    atomic_store(&s->max_connections, o->max_connections);
    atomic_store(&s->max_subs, o->max_subscriptions);
    atomic_store(&s->ping_interval_ms, o->ping_interval_ms);
    atomic_store(&s->ping_max, o->ping_max);
    atomic_store(&s->write_deadline_ms, o->write_deadline_ms);
    atomic_store(&s->auth_timeout_ms, o->auth_timeout_ms);
}

/* Authentication is the auth modules' business: the core asks for
 * credentials (INFO auth_required) exactly when one is loaded. */
static bool opts_need_auth(const mn_opts *o)
{
    MN_UNUSED(o);
    return mn_hooks_any(MODNATS_EV_AUTH);
}

void mn_server_modules_ready(mn_server *s)
{
    s->auth_required = opts_need_auth(&s->opts);
    mn_acc_default_system();
}

int mn_server_init(mn_server *s, const mn_opts *o, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->opts = *o;   /* shallow: s takes ownership of o's strings */
    s->listen_fd = -1;
    s->start_ms = mn_now_ms();
    make_server_id(s->server_id);
    s->server_name = strdup(o->server_name && *o->server_name ? o->server_name : s->server_id);
    apply_tunables(s, o);
    s->auth_required = opts_need_auth(o);
    s->start_host = o->host;
    s->headers_off = o->no_header_support;
    s->jetstream_on = o->jetstream;
    s->start_tags = o->server_tags;
    s->nstart_tags = o->nserver_tags;
    pthread_mutex_init(&s->auth_lock, NULL);
    pthread_mutex_init(&s->urls_lock, NULL);
    if (mn_server_tls_init(s, err, errlen) != MN_OK)
        return MN_ERR;

    mn_g_server = s;
    s->start_unix_ms = mn_unix_ms();
    s->config_load_unix_ms = s->start_unix_ms;
    s->gacc = mn_account_get_or_create("$G");
    if (!s->gacc) {
        snprintf(err, errlen, "out of memory");
        return MN_ENOMEM;
    }
    if (open_listener(s, err, errlen) != MN_OK)
        return MN_ERR;

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    s->nworkers = o->io_threads > 0 ? o->io_threads : (ncpu > 0 ? (int)ncpu : 1);
    if (s->nworkers > 64)
        s->nworkers = 64;
    s->workers = calloc((size_t)s->nworkers, sizeof(*s->workers));
    if (!s->workers) {
        snprintf(err, errlen, "out of memory");
        return MN_ENOMEM;
    }
    for (int i = 0; i < s->nworkers; i++) {
        s->workers[i].idx = i;
        s->workers[i].srv = s;
        s->workers[i].epfd = s->workers[i].evfd = -1;
    }
    /* Set up every worker's epoll now, so modules can add listeners in
     * their init; the threads start in mn_server_run. */
    for (int i = 0; i < s->nworkers; i++) {
        if (mn_worker_init(&s->workers[i]) != MN_OK) {
            snprintf(err, errlen, "cannot set up I/O worker %d: %s", i, strerror(errno));
            return MN_ERR;
        }
    }
    return MN_OK;
}

char *mn_server_info(mn_server *s, mn_client *c, bool ldm, size_t *len)
{
    const char *host = s->start_host && *s->start_host ? s->start_host : "0.0.0.0";
    pthread_mutex_lock(&s->urls_lock);
    char *urls = s->connect_urls_json ? strdup(s->connect_urls_json) : NULL;
    if (c)
        c->info_urls_gen = s->urls_gen;
    pthread_mutex_unlock(&s->urls_lock);
    char *out = NULL;
    int n = asprintf(&out,
                     "INFO {\"server_id\":\"%s\",\"server_name\":\"%s\",\"version\":\"%s\","
                     "\"proto\":%d,\"go\":\"modnats\",\"host\":\"%s\",\"port\":%d,\"headers\":%s,"
                     "\"max_payload\":%lld,\"client_id\":%llu,\"client_ip\":\"%s\"%s%s%s%s%s%s%s%s%s%s"
                     ",\"modnats_version\":\"%s\"}\r\n",
                     s->server_id, s->server_name, MN_NATS_COMPAT_VERSION, MN_PROTO_VERSION,
                     host, s->port, s->headers_off ? "false" : "true",
                     (long long)atomic_load(&s->max_payload),
                     (unsigned long long)(c ? c->cid : 0), c ? c->ip : "",
                     s->auth_required ? ",\"auth_required\":true" : "",
                     s->tls_on ? (s->tls_optional ? ",\"tls_available\":true"
                                                  : ",\"tls_required\":true") : "",
                     s->tls_on && s->tls_verify ? ",\"tls_verify\":true" : "",
                     s->jetstream_on ? ",\"jetstream\":true" : "",
                     c && c->nonce[0] ? ",\"nonce\":\"" : "", c && c->nonce[0] ? c->nonce : "",
                     c && c->nonce[0] ? "\"" : "",
                     urls ? ",\"connect_urls\":" : "", urls ? urls : "",
                     ldm ? ",\"ldm\":true" : "", MN_VERSION);
    free(urls);
    if (n < 0)
        return NULL;
    *len = (size_t)n;
    return out;
}

/* ------------------------------------------------------- worker tasks */

static void task_stop(mn_worker *w, void *arg)
{
    MN_UNUSED(arg);
    w->stop = true;
}

static void task_stop_listening(mn_worker *w, void *arg)
{
    MN_UNUSED(arg);
    mn_server *s = w->srv;
    if (s->listen_fd >= 0) {
        close(s->listen_fd);   /* closing removes it from the epoll set */
        s->listen_fd = -1;
    }
}

typedef struct ldm_plan {
    uint64_t start_ms;      /* first close */
    uint64_t spread_ms;     /* closes spread over this long */
} ldm_plan;

static void task_lame_duck(mn_worker *w, void *arg)
{
    ldm_plan *p = arg;
    size_t n = w->nclients, i = 0;
    /* Spread the closes over the duration, but (as nats-server does) never
     * more than a second apart, so a few clients do not take minutes. */
    uint64_t gap = n ? p->spread_ms / n : 0;
    if (gap > 1000)
        gap = 1000;
    for (mn_client *c = w->clients; c; c = c->next, i++) {
        mn_client_send_ldm_info(c);
        uint64_t at = p->start_ms + gap * i;
        c->ldm_close_at_ms = at ? at : 1;
    }
    free(p);
}

/* ------------------------------------------------------------- files */

static void write_pid_file(mn_server *s)
{
    if (!s->opts.pid_file)
        return;
    FILE *f = fopen(s->opts.pid_file, "w");
    if (!f) {
        mn_error("cannot write pid file %s: %s", s->opts.pid_file, strerror(errno));
        return;
    }
    fprintf(f, "%d", (int)getpid());
    fclose(f);
}

static char *ports_file_path(mn_server *s)
{
    if (!s->opts.ports_file_dir)
        return NULL;
    size_t n = strlen(s->opts.ports_file_dir) + 64;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/modnats_%d.ports", s->opts.ports_file_dir, (int)getpid());
    return p;
}

static void write_ports_file(mn_server *s)
{
    char *path = ports_file_path(s);
    if (!path)
        return;
    FILE *f = fopen(path, "w");
    if (!f) {
        mn_error("cannot write ports file %s: %s", path, strerror(errno));
    } else {
        const char *h = s->opts.host && *s->opts.host && strcmp(s->opts.host, "0.0.0.0") != 0
                            ? s->opts.host : "127.0.0.1";
        fprintf(f, "{\"nats\":[\"nats://%s:%d\"]}", h, s->port);
        fclose(f);
    }
    free(path);
}

static void remove_files(mn_server *s)
{
    char *path = ports_file_path(s);
    if (path) {
        unlink(path);
        free(path);
    }
    if (s->opts.pid_file)
        unlink(s->opts.pid_file);
}

/* ------------------------------------------------------------ reload */

static void server_reload(mn_server *s)
{
    mn_opts fresh;
    char err[1024] = "";
    if (mn_config_reload(&s->opts, &fresh, err, sizeof(err)) != MN_OK) {
        mn_error("Reload failed, keeping the running configuration: %s", err);
        return;
    }
    if (mn_opts_imply_modules(&fresh) != MN_OK || mn_opts_validate(&fresh, err, sizeof(err)) != MN_OK) {
        mn_error("Reload failed, keeping the running configuration: %s", err[0] ? err : "out of memory");
        mn_opts_free(&fresh);
        return;
    }
    if (fresh.port != s->opts.port && !(s->opts.port < 0))
        mn_warn("Reload: port cannot change at run time (restart needed)");
    if ((fresh.host || s->opts.host) &&
        (!fresh.host || !s->opts.host || strcmp(fresh.host, s->opts.host) != 0))
        mn_warn("Reload: host cannot change at run time (restart needed)");
    if (fresh.io_threads != s->opts.io_threads)
        mn_warn("Reload: io_threads cannot change at run time (restart needed)");
    if (mn_modules_reload(&fresh, err, sizeof(err)) != MN_OK) {
        mn_error("Reload failed, keeping the running configuration: %s", err);
        mn_opts_free(&fresh);
        return;
    }
    apply_tunables(s, &fresh);
    mn_server_tls_reload(s, &fresh);
    s->config_load_unix_ms = mn_unix_ms();
    mn_log_init(fresh.log_file, fresh.debug, fresh.trace, fresh.logtime);

    /* Swap the credentials under the lock; keep the rest of the old
     * options (listener, names) as they were. */
    pthread_mutex_lock(&s->auth_lock);
    mn_opts old = s->opts;
    mn_opts keep = fresh;
    keep.host = old.host;  old.host = fresh.host;
    keep.port = old.port;
    keep.server_name = old.server_name;  old.server_name = fresh.server_name;
    keep.io_threads = old.io_threads;
    /* Read by the workers without a lock (INFO, HPUB): as started. */
    if (fresh.no_header_support != old.no_header_support)
        mn_warn("Reload: no_header_support cannot change at run time (restart needed)");
    keep.no_header_support = old.no_header_support;
    keep.jetstream = old.jetstream;
    keep.pid_file = old.pid_file;  old.pid_file = fresh.pid_file;
    keep.ports_file_dir = old.ports_file_dir;  old.ports_file_dir = fresh.ports_file_dir;
    /* Tags are read by monitoring without a lock: they stay as started. */
    keep.server_tags = old.server_tags;  old.server_tags = fresh.server_tags;
    keep.nserver_tags = old.nserver_tags;  old.nserver_tags = fresh.nserver_tags;
    s->opts = keep;
    s->auth_required = opts_need_auth(&keep);
    pthread_mutex_unlock(&s->auth_lock);
    mn_opts_free(&old);
    mn_notice("Reloaded server configuration");
}

/* ------------------------------------------------------------- run */

static void post_all(mn_server *s, mn_task_fn fn)
{
    for (int i = 0; i < s->nworkers; i++)
        mn_worker_post(&s->workers[i], fn, NULL);
}

static void run_leftover_tasks(mn_server *s);
/* Every asynchronous signal blocked in the calling thread, and so in every
 * thread it starts from then on (the workers, and the modules' own threads
 * started in their init): the main thread takes them with sigtimedwait.
 * Called before the modules load, so that no module thread is picked to
 * receive, say, SIGHUP with its default action (ending the process).
 * *set (may be NULL) receives the blocked set. */
void mn_server_block_signals(sigset_t *set)
{
    sigset_t all;
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (set)
        *set = all;
}

int mn_server_run(mn_server *s)
{
    sigset_t set;
    mn_server_block_signals(&set);

    if (s->listen_fd >= 0 && listen(s->listen_fd, 4096) != 0) {
        mn_fatal("Error listening on port %d: %s", s->port, strerror(errno));
        return MN_ERR;
    }
    for (int i = 0; i < s->nworkers; i++) {
        if (mn_worker_start(&s->workers[i]) != MN_OK) {
            mn_fatal("cannot start I/O worker %d: %s", i, strerror(errno));
            for (int j = 0; j < i; j++) {
                mn_worker_post(&s->workers[j], task_stop, NULL);
                pthread_join(s->workers[j].thread, NULL);
            }
            return MN_ERR;
        }
    }
    mn_timers_set_worker(&s->workers[0]);
    write_pid_file(s);
    write_ports_file(s);
    mn_notice("Listening for client connections on %s:%d",
              s->opts.host && *s->opts.host ? s->opts.host : "0.0.0.0", s->port);
    mn_notice("Server is ready");

    bool ldm = false;
    uint64_t ldm_end = 0, ldm_grace_end = 0;
    for (;;) {
        struct timespec to = { .tv_sec = 0, .tv_nsec = 200 * 1000000L };
        siginfo_t si;
        int sig = sigtimedwait(&set, &si, &to);
        if (sig == SIGINT || sig == SIGTERM || sig == SIGQUIT) {
            mn_notice("Trapped \"%s\" signal", sig == SIGINT ? "interrupt" : sig == SIGTERM ? "terminated" : "quit");
            break;
        } else if (sig == SIGHUP) {
            mn_notice("Trapped \"hangup\" signal");
            server_reload(s);
        } else if (sig == SIGUSR1) {
            mn_log_reopen();
            mn_notice("Reopened log file");
        } else if (sig == SIGUSR2 && !ldm) {
            ldm = true;
            atomic_store(&s->lame_duck, true);
            mn_notice("Entering lame duck mode, stop accepting new clients");
            mn_worker_post(&s->workers[0], task_stop_listening, NULL);
            uint64_t now = mn_now_ms();
            int64_t dur = s->opts.lame_duck_duration_ms;
            int64_t grace = s->opts.lame_duck_grace_period_ms;
            if (grace >= dur)
                grace = dur / 2;
            for (int i = 0; i < s->nworkers; i++) {
                ldm_plan *p = malloc(sizeof(*p));
                if (!p)
                    continue;
                p->start_ms = now + (uint64_t)grace;
                p->spread_ms = (uint64_t)(dur - grace);
                mn_worker_post(&s->workers[i], task_lame_duck, p);
            }
            ldm_end = now + (uint64_t)dur + 100;
            ldm_grace_end = now + (uint64_t)grace;
        }
        if (ldm && mn_now_ms() >= ldm_grace_end && atomic_load(&s->nclients) == 0) {
            mn_notice("Lame duck mode complete, shutting down");
            break;
        }
        if (ldm && mn_now_ms() >= ldm_end)
            break;
    }

    mn_notice("Initiating Shutdown...");
    if (mn_hooks_any(MODNATS_EV_SHUTDOWN)) {
        modnats_event_hdr ev = { sizeof(ev), MODNATS_EV_SHUTDOWN };
        mn_hooks_notify(MODNATS_EV_SHUTDOWN, &ev);
    }
    atomic_store(&s->shutting_down, true);
    post_all(s, task_stop);
    for (int i = 0; i < s->nworkers; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].thread, NULL);
    run_leftover_tasks(s);   /* module code is still loaded */
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        s->listen_fd = -1;
    }
    mn_mlisteners_free();
    remove_files(s);
    mn_notice("Server Exiting..");
    return MN_OK;
}

/* Tasks posted after a worker stopped still hold references; some (a
 * module's dial being adopted) call back into a module, so this runs once
 * before the modules are unloaded, and again at the end. */
static void run_leftover_tasks(mn_server *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        mn_worker *w = &s->workers[i];
        pthread_mutex_lock(&w->inbox_lock);
        mn_task *t = w->inbox;
        w->inbox = w->inbox_last = NULL;
        pthread_mutex_unlock(&w->inbox_lock);
        while (t) {
            mn_task *nx = t->next;
            t->fn(w, t->arg);
            free(t);
            t = nx;
        }
    }
}

void mn_server_free(mn_server *s)
{
    run_leftover_tasks(s);
    for (int i = 0; i < s->nworkers; i++) {
        mn_worker *w = &s->workers[i];
        for (size_t k = 0; k < w->ncaches; k++)
            if (w->caches[k])
                mn_match_cache_free(w->caches[k]);
        free(w->caches);
        free(w->flush);
        free(w->rbuf);
        if (w->epfd >= 0)
            close(w->epfd);
        if (w->evfd >= 0)
            close(w->evfd);
        pthread_mutex_destroy(&w->inbox_lock);
    }
    free(s->workers);
    mn_mlisteners_free();
    mn_qsbr_drain_all();
    mn_accounts_free();
    s->gacc = NULL;
    free(s->server_name);
    free(s->connect_urls_json);
    pthread_mutex_destroy(&s->urls_lock);
    pthread_mutex_destroy(&s->auth_lock);
    mn_server_tls_free(s);
    mn_opts_free(&s->opts);
}
