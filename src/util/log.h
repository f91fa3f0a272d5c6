/* Logging to stderr, one line per message, with a level and a UTC time.
 *
 * Loops that can fail on every turn (the scheduler, the notifier workers
 * while the database is full or down) log through a limiter: the same
 * message at most once per interval, the copies it held back counted and
 * reported as "(repeated K times)" on the next line it lets through. */
#ifndef SW_UTIL_LOG_H
#define SW_UTIL_LOG_H

#include <pthread.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Where finished lines go (without the newline): NULL = stderr.  For tests. */
typedef void (*log_writer_fn)(enum log_level lvl, const char *line, void *ud);
void log_set_writer(log_writer_fn fn, void *ud);

/* ---- rate limiting ------------------------------------------------------ */

#define LOG_LIMIT_TEXT 400
#define LOG_LIMIT_SLOTS 4               /* distinct messages remembered at once */

struct log_limit_slot {
    int64_t printed_at;                 /* monotonic ms it was last let through */
    unsigned suppressed;                /* copies held back since */
    enum log_level lvl;
    char text[LOG_LIMIT_TEXT];          /* "" = free */
};

/* One limiter per loop (its few messages).  Thread-safe.  Static
 * initialisation: struct log_limit l = LOG_LIMIT_INIT(10000); */
struct log_limit {
    pthread_mutex_t mu;
    int64_t interval_ms;
    struct log_limit_slot slot[LOG_LIMIT_SLOTS];
};
#define LOG_LIMIT_INIT(ms) {PTHREAD_MUTEX_INITIALIZER, (ms), {{0, 0, LOG_INFO, ""}}}

void log_limit_init(struct log_limit *l, int64_t interval_ms);
void log_limit_destroy(struct log_limit *l);

/* Logs the message unless the same text was let through less than the
 * interval ago (then it only counts it).  A line let through after held
 * back copies ends in " (repeated K times)".  The limiter remembers the
 * last LOG_LIMIT_SLOTS distinct texts; one pushed out says its count. */
void log_limited(struct log_limit *l, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same at an explicit monotonic instant (tests). */
void log_limited_at(struct log_limit *l, int64_t now_ms, enum log_level lvl, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
/* The loop recovered: writes the held-back counts, if any, and forgets
 * the messages, so the next failure is logged at once. */
void log_limit_reset(struct log_limit *l);

#endif
