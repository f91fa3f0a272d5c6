/* log.c: lines to stderr (or a test's writer), and the rate limiter. */
#include "util/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"

static atomic_int min_level = LOG_INFO;
static log_writer_fn writer;
static void *writer_ud;

void log_set_level(enum log_level lvl)
{
    min_level = (int)lvl;
}

void log_set_writer(log_writer_fn fn, void *ud)
{
    writer = fn;
    writer_ud = ud;
}

static void emit(enum log_level lvl, const char *text)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if ((int)lvl < min_level)
        return;
    if (writer) {
        writer(lvl, text, writer_ud);
        return;
    }
    char line[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             ts.tv_nsec / 1000000, names[lvl], text);
    fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl < min_level)
        return;
    char text[960];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    emit(lvl, text);
}

/* ---- rate limiting ------------------------------------------------------ */

void log_limit_init(struct log_limit *l, int64_t interval_ms)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    l->interval_ms = interval_ms;
}

void log_limit_destroy(struct log_limit *l)
{
    pthread_mutex_destroy(&l->mu);
}

/* Under l->mu: says how many copies of the slot's message were held back. */
static void flush_slot(struct log_limit_slot *sl)
{
    if (sl->suppressed && sl->text[0])
        log_msg(sl->lvl, "%s (repeated %u times)", sl->text, sl->suppressed);
    sl->suppressed = 0;
}

static void limited(struct log_limit *l, int64_t now, enum log_level lvl, const char *fmt,
                    va_list ap)
{
    char text[LOG_LIMIT_TEXT];
    vsnprintf(text, sizeof(text), fmt, ap);
    pthread_mutex_lock(&l->mu);
    struct log_limit_slot *sl = NULL, *oldest = &l->slot[0];
    for (int i = 0; i < LOG_LIMIT_SLOTS && !sl; i++) {
        if (l->slot[i].text[0] && !strcmp(l->slot[i].text, text))
            sl = &l->slot[i];
        else if (!l->slot[i].text[0] ||
                 (oldest->text[0] && l->slot[i].printed_at < oldest->printed_at))
            oldest = &l->slot[i];
    }
    if (sl && now - sl->printed_at < l->interval_ms) {
        sl->suppressed++;
    } else if (sl) {
        if (sl->suppressed)
            log_msg(lvl, "%s (repeated %u times)", text, sl->suppressed);
        else
            log_msg(lvl, "%s", text);
        sl->suppressed = 0;
        sl->printed_at = now;
        sl->lvl = lvl;
    } else {
        flush_slot(oldest);     /* pushed out: its count is not lost */
        log_msg(lvl, "%s", text);
        memcpy(oldest->text, text, sizeof(text));
        oldest->printed_at = now;
        oldest->lvl = lvl;
    }
    pthread_mutex_unlock(&l->mu);
}

void log_limited(struct log_limit *l, enum log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    limited(l, sw_mono_ms(), lvl, fmt, ap);
    va_end(ap);
}

void log_limited_at(struct log_limit *l, int64_t now_ms, enum log_level lvl, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    limited(l, now_ms, lvl, fmt, ap);
    va_end(ap);
}

void log_limit_reset(struct log_limit *l)
{
    pthread_mutex_lock(&l->mu);
    for (int i = 0; i < LOG_LIMIT_SLOTS; i++) {
        flush_slot(&l->slot[i]);
        l->slot[i].text[0] = '\0';
    }
    pthread_mutex_unlock(&l->mu);
}
