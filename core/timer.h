/*
 * timer.h - module timers, run on I/O worker 0.
 *
 * Timers are few (housekeeping of modules, not per connection: clients use
 * the workers' own 250 ms tick), so they live in one list under a mutex.
 * Worker 0 asks for the next deadline before it waits and runs what is due
 * after it wakes.  mn_timer_cancel waits for a running callback to finish
 * unless called from inside that callback.  A one-shot timer that fired
 * stays allocated until cancelled (or dropped at its module's fini), so
 * cancelling it is always safe.
 */
#ifndef MN_TIMER_H
#define MN_TIMER_H

#include "mn.h"
#include <modnats/modnats.h>

struct mn_worker;

modnats_timer *mn_timer_start(modnats_module *m, uint64_t after_ms, uint64_t every_ms,
                              modnats_timer_fn fn, void *ud);
void           mn_timer_cancel(modnats_timer *t);
/* Worker 0: milliseconds until the next timer is due (capped at max). */
int            mn_timers_timeout(uint64_t now_ms, int max);
/* Worker 0: run every due timer. */
void           mn_timers_run(uint64_t now_ms);
/* Cancel and free every timer of module m (NULL: all), at shutdown. */
void           mn_timers_drop(modnats_module *m);
/* Worker 0 to wake when a new earlier timer arrives (set at start). */
void           mn_timers_set_worker(struct mn_worker *w);

#endif
