/* The notifier's workers against a scripted store (store_notify_ops by
 * hand, no database): a store that fails (disk full) is retried 50 ms,
 * 100 ms, 200 ms ... apart, not in a loop, and logged once; an attempt the
 * store refused to record is recorded before anything new is claimed; the
 * first good answer brings the worker back at once. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "notify/notify.h"
#include "store/store_notify.h"
#include "util/log.h"
#include "util/xalloc.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int failing;                     /* next_due / claim / record answer SW_E_UNAVAILABLE */
static int record_failures;             /* the next N records fail */
static int next_due_calls[NOTIFY_NCHANNELS], claim_calls, record_calls;
static int rows_left;                   /* websocket rows claim still hands out */
static int claims_while_unrecorded;
static bool unrecorded;
static int64_t recorded_ids[8];
static int nrecorded;

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int f_next_due(struct store *s, enum notify_channel ch, int64_t *at)
{
    pthread_mutex_lock(&mu);
    next_due_calls[ch]++;
    int rc = failing ? SW_E_UNAVAILABLE : 0;
    if (!rc) {
        if (ch == NOTIFY_WEBSOCKET && rows_left > 0)
            *at = 0;            /* due now */
        else
            rc = SW_E_NOTFOUND;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int f_claim(struct store *s, enum notify_channel ch, int64_t now, int64_t lease_ms,
                   const struct sw_flood *flood, struct sw_outbox_row *out, size_t max,
                   size_t *n)
{
    pthread_mutex_lock(&mu);
    claim_calls++;
    if (unrecorded)
        claims_while_unrecorded++;
    *n = 0;
    int rc = failing ? SW_E_UNAVAILABLE : 0;
    if (!rc && ch == NOTIFY_WEBSOCKET && rows_left > 0 && max > 0) {
        struct sw_outbox_row *r = &out[0];
        memset(r, 0, sizeof(*r));
        r->id = 100 + rows_left--;
        snprintf(r->tenant_id, sizeof(r->tenant_id), "acme");
        r->channel = NOTIFY_WEBSOCKET;
        snprintf(r->type, sizeof(r->type), "sla.breach");
        snprintf(r->key, sizeof(r->key), "ntf_test");
        r->notice = xstrdup("{\"type\":\"sla.breach\"}");
        *n = 1;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int f_record(struct store *s, int64_t id, const struct sw_notify_attempt *a,
                    enum sw_outbox_outcome outcome, int64_t next)
{
    pthread_mutex_lock(&mu);
    record_calls++;
    int rc = 0;
    if (record_failures > 0) {
        record_failures--;
        unrecorded = true;
        rc = SW_E_UNAVAILABLE;
    } else {
        unrecorded = false;
        if (nrecorded < 8)
            recorded_ids[nrecorded++] = id;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int f_release(struct store *s, const int64_t *ids, const int64_t *ats, size_t n)
{
    return 0;
}

static const struct store_notify_ops fake_ops = {
    .claim = f_claim,
    .record = f_record,
    .release = f_release,
    .next_due = f_next_due,
};

static struct store fake_store;

/* sw_outbox_row_release is the store's (sqlite_notify.c): linked from sw_app. */

static int count(int *v)
{
    pthread_mutex_lock(&mu);
    int n = *v;
    pthread_mutex_unlock(&mu);
    return n;
}

static char lines[64][512];
static int nlines;

static void capture(enum log_level lvl, const char *line, void *ud)
{
    pthread_mutex_lock(&mu);
    if (nlines < 64)
        snprintf(lines[nlines++], sizeof(lines[0]), "%s", line);
    pthread_mutex_unlock(&mu);
}

static int lines_with(const char *needle)
{
    pthread_mutex_lock(&mu);
    int n = 0;
    for (int i = 0; i < nlines; i++)
        n += strstr(lines[i], needle) != NULL;
    pthread_mutex_unlock(&mu);
    return n;
}

static int reset(void **state)
{
    failing = record_failures = claim_calls = record_calls = rows_left = nlines = 0;
    claims_while_unrecorded = nrecorded = 0;
    unrecorded = false;
    memset(next_due_calls, 0, sizeof(next_due_calls));
    memset(&fake_store, 0, sizeof(fake_store));
    fake_store.notify = &fake_ops;
    log_set_writer(capture, NULL);
    return 0;
}

static int done(void **state)
{
    log_set_writer(NULL, NULL);
    return 0;
}

static struct notifier *start(void)
{
    struct notify_opts o;
    memset(&o, 0, sizeof(o));
    o.enabled = true;
    o.max_attempts = 3;
    o.backoff_ms = 100;
    o.backoff_max_ms = 1000;
    o.lease_ms = 60000;
    struct notifier *n = NULL;
    assert_int_equal(notify_start(&fake_store, NULL, &o, &n), 0);
    return n;
}

static void test_failing_store_backs_off(void **state)
{
    failing = 1;
    struct notifier *n = start();
    sleep_ms(1000);
    /* 0, 50, 150, 350, 750 ms: about 5 reads a second per worker, not thousands */
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++) {
        int k = count(&next_due_calls[ch]);
        print_message("%s worker: %d reads in 1 s of failures\n",
                      notify_channel_name((enum notify_channel)ch), k);
        assert_true(k >= 3 && k <= 8);
    }
    /* one line per worker, the copies held back */
    assert_int_equal(lines_with("reading the outbox failed"), NOTIFY_NCHANNELS);
    /* the store is back: at once (within the current wait), rows flow */
    pthread_mutex_lock(&mu);
    failing = 0;
    rows_left = 2;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < 150 && count(&nrecorded) < 2; i++)
        sleep_ms(10);
    assert_int_equal(count(&nrecorded), 2);
    assert_true(lines_with("answers again") >= 1);
    assert_true(lines_with("(repeated ") >= 1);
    notify_stop(n);
}

static void test_refused_record_retried_before_claiming(void **state)
{
    record_failures = 3;
    rows_left = 1;
    struct notifier *n = start();
    for (int i = 0; i < 300 && count(&nrecorded) < 1; i++)
        sleep_ms(10);
    assert_int_equal(count(&nrecorded), 1);
    assert_int_equal(recorded_ids[0], 101);
    assert_int_equal(count(&record_calls), 4);          /* 3 refused, then taken */
    assert_int_equal(count(&claims_while_unrecorded), 0);
    assert_int_equal(count(&claim_calls), 1);
    struct notify_stats st;
    notify_get_stats(n, &st);
    assert_int_equal(st.delivered, 1);
    notify_stop(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_failing_store_backs_off, reset, done),
        cmocka_unit_test_setup_teardown(test_refused_record_retried_before_claiming, reset,
                                        done),
    };
    return cmocka_run_group_tests_name("notifier", tests, NULL, NULL);
}
