/*
 * log.h - logging with nats-server's levels and look.
 *
 * Lines read "[pid] 2026/11/22 10:00:00.000000 [INF] message", to stderr or a
 * file.  mn_log_reopen() serves SIGUSR1 (log rotation).  Thread-safe.
 */
#ifndef MN_LOG_H
#define MN_LOG_H

#include "mn.h"

typedef enum { MN_LOG_FATAL, MN_LOG_ERROR, MN_LOG_WARN, MN_LOG_NOTICE,
               MN_LOG_INFO = MN_LOG_NOTICE, MN_LOG_DEBUG, MN_LOG_TRACE } mn_log_level;

/* file NULL or "" = stderr; a file is opened for append.  May be called
 * again (e.g. after a reload) to switch destination and flags.  MN_ERR with
 * errno set when the file cannot be opened (the old destination is kept). */
int  mn_log_init(const char *file, bool debug, bool trace, bool logtime);
/* Added with core/log.c: log through syslog(3) instead (-s); timestamps in
 * UTC (--logtime_utc). */
int  mn_log_init_syslog(bool debug, bool trace);
void mn_log_set_utc(bool utc);
int  mn_log_reopen(void);
void mn_log_close(void);
bool mn_log_debug_enabled(void);
bool mn_log_trace_enabled(void);
void mn_log(mn_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define mn_fatal(...)  mn_log(MN_LOG_FATAL, __VA_ARGS__)
#define mn_error(...)  mn_log(MN_LOG_ERROR, __VA_ARGS__)
#define mn_warn(...)   mn_log(MN_LOG_WARN, __VA_ARGS__)
#define mn_notice(...) mn_log(MN_LOG_NOTICE, __VA_ARGS__)
#define mn_debug(...)  do { if (mn_log_debug_enabled()) mn_log(MN_LOG_DEBUG, __VA_ARGS__); } while (0)
#define mn_trace(...)  do { if (mn_log_trace_enabled()) mn_log(MN_LOG_TRACE, __VA_ARGS__); } while (0)

#endif
