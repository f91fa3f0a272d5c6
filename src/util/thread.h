/* thread.h: a thread's share of the CPU. */
#ifndef SW_UTIL_THREAD_H
#define SW_UTIL_THREAD_H

/* The calling thread gives way to the process's other threads when they
 * compete for a core (nice +10, Linux schedules threads one by one): for
 * periodic summaries that read every open alert of a tenant (the
 * dashboards' metrics), never for the scheduler, the writers or the
 * requests, whose latency is the product, nor for a thread that holds the
 * SQLite write lock for long (the others would wait on it).  Best effort:
 * a failure changes nothing else. */
void thread_background(void);

#endif
