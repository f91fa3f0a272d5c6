/* The scheduler loop: sleeps until the earliest due instant, wakes early on
 * a hint, does nothing while nothing is due, stops promptly, and backs off
 * (without flooding the log) while its store fails.  The sources here are
 * small in-memory queues; the real ones (findings, alerts) are tested
 * against SQLite in their own tests. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sched/sched.h"
#include "util/backoff.h"
#include "util/err.h"
#include "util/log.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t due[64];
static int ndue;
static int64_t fired_at[64];
static int nfired;
static int next_calls;
static int process_calls;
static int failing;             /* the store answers SW_E_UNAVAILABLE */
static int held;                /* due items another node holds: claims get none */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int q_next(struct store *s, int64_t now, int64_t *at)
{
    pthread_mutex_lock(&mu);
    next_calls++;
    if (failing) {
        pthread_mutex_unlock(&mu);
        return SW_E_UNAVAILABLE;
    }
    int64_t best = INT64_MAX;
    for (int i = 0; i < ndue; i++)
        if (due[i] < best)
            best = due[i];
    *at = best;
    pthread_mutex_unlock(&mu);
    return 0;
}

static int q_process(struct store *s, int64_t now, int limit, int *processed)
{
    pthread_mutex_lock(&mu);
    process_calls++;
    if (failing) {
        pthread_mutex_unlock(&mu);
        return SW_E_UNAVAILABLE;
    }
    int n = 0;
    for (int i = 0; i < ndue && n < limit && !held;) {
        if (due[i] <= now) {
            fired_at[nfired++] = now - due[i];     /* lateness */
            due[i] = due[--ndue];
            n++;
        } else {
            i++;
        }
    }
    *processed = n;
    pthread_mutex_unlock(&mu);
    return 0;
}

static void add_due(int64_t at)
{
    pthread_mutex_lock(&mu);
    due[ndue++] = at;
    pthread_mutex_unlock(&mu);
}

static int fired(void)
{
    pthread_mutex_lock(&mu);
    int n = nfired;
    pthread_mutex_unlock(&mu);
    return n;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static const struct sched_source src = {"queue", q_next, q_process};

static int reset(void **state)
{
    ndue = nfired = next_calls = process_calls = failing = held = 0;
    return 0;
}

static void test_fires_on_time(void **state)
{
    struct sched *sc;
    int64_t t = now_ms();
    add_due(t + 400);
    add_due(t + 600);
    struct sched_config cfg = {.max_sleep_ms = 60000};
    assert_int_equal(sched_start(NULL, &src, 1, &cfg, NULL, NULL, &sc), 0);
    sleep_ms(100);
    assert_int_equal(fired(), 0);           /* not early */
    for (int i = 0; i < 40 && fired() < 2; i++)
        sleep_ms(50);
    assert_int_equal(fired(), 2);
    for (int i = 0; i < 2; i++)             /* not late (generous: CI is loaded) */
        assert_true(fired_at[i] >= 0 && fired_at[i] < 250);
    sched_stop(sc);
}

static void test_hint_wakes_early(void **state)
{
    struct sched *sc;
    struct sched_config cfg = {.max_sleep_ms = 60000};
    assert_int_equal(sched_start(NULL, &src, 1, &cfg, NULL, NULL, &sc), 0);
    sleep_ms(50);                           /* asleep, nothing due: 60 s */
    int64_t at = now_ms() + 100;
    add_due(at);
    sched_hint(sc, at);
    for (int i = 0; i < 40 && fired() < 1; i++)
        sleep_ms(25);
    assert_int_equal(fired(), 1);
    assert_true(fired_at[0] < 250);
    sched_stop(sc);
}

static void test_idle_does_nothing(void **state)
{
    struct sched *sc;
    struct sched_config cfg = {.max_sleep_ms = 60000};
    assert_int_equal(sched_start(NULL, &src, 1, &cfg, NULL, NULL, &sc), 0);
    sleep_ms(400);
    struct sched_stats st;
    sched_stats(sc, &st);
    assert_true(st.rounds <= 1);
    assert_true(next_calls <= 1);
    /* a hint later than the target changes nothing */
    sched_hint(sc, INT64_MAX - 1);
    sleep_ms(50);
    sched_stats(sc, &st);
    assert_true(st.rounds <= 1);
    int64_t t0 = now_ms();
    sched_stop(sc);                         /* promptly, though asleep for 60 s */
    assert_true(now_ms() - t0 < 500);
}

static void test_batches_until_drained(void **state)
{
    struct sched *sc;
    int64_t t = now_ms() - 10;
    for (int i = 0; i < 25; i++)
        add_due(t);
    struct sched_config cfg = {.max_sleep_ms = 60000, .batch = 4};
    assert_int_equal(sched_start(NULL, &src, 1, &cfg, NULL, NULL, &sc), 0);
    for (int i = 0; i < 40 && fired() < 25; i++)
        sleep_ms(25);
    assert_int_equal(fired(), 25);
    sched_stop(sc);
}

/* ---- a failing store --------------------------------------------------- */

static void test_backoff_doubles_and_caps(void **state)
{
    struct backoff b;
    backoff_init(&b, 50, 5000);
    const int64_t want[] = {50, 100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(backoff_fail(&b), want[i]);
    assert_int_equal(b.failures, 10);
    assert_int_equal(backoff_ok(&b), 10);       /* how many it ends */
    assert_int_equal(backoff_ok(&b), 0);
    assert_int_equal(backoff_fail(&b), 50);     /* starts over */
    for (int i = 0; i < 100; i++)               /* no overflow, ever */
        assert_true(backoff_fail(&b) <= 5000);
    /* odd caps: never above */
    backoff_init(&b, 30, 100);
    assert_int_equal(backoff_fail(&b), 30);
    assert_int_equal(backoff_fail(&b), 60);
    assert_int_equal(backoff_fail(&b), 100);
    backoff_init(&b, 0, 0);                     /* nonsense settings stay positive */
    assert_true(backoff_fail(&b) >= 1);
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_lines[64][512];
static int nlog;

static void capture(enum log_level lvl, const char *line, void *ud)
{
    pthread_mutex_lock(&log_mu);
    if (nlog < 64)
        snprintf(log_lines[nlog++], sizeof(log_lines[0]), "%s", line);
    pthread_mutex_unlock(&log_mu);
}

static int count_lines(const char *needle)
{
    pthread_mutex_lock(&log_mu);
    int n = 0;
    for (int i = 0; i < nlog; i++)
        n += strstr(log_lines[i], needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return n;
}

/* Disk full: the due item stays due and every store call fails.  The loop
 * must wait 50, 100, 200 ... ms between rounds (not spin), log the error
 * once, and process the item in the first round after the store is back. */
/* Items due but held by another node (its claim skips nothing we can
 * take): the scheduler looks again every 50 ms instead of spinning, and
 * takes them at once when they are free. */
static void test_held_elsewhere_no_spin(void **state)
{
    struct sched *sc;
    held = 1;
    add_due(now_ms() - 10);
    assert_int_equal(sched_start(NULL, &src, 1, NULL, NULL, NULL, &sc), 0);
    sleep_ms(500);
    pthread_mutex_lock(&mu);
    int calls = process_calls;
    held = 0;
    pthread_mutex_unlock(&mu);
    assert_true(calls >= 3 && calls <= 20);     /* ~10 in 500 ms, not thousands */
    for (int i = 0; i < 100 && fired() < 1; i++)
        sleep_ms(10);
    assert_int_equal(fired(), 1);
    sched_stop(sc);
}

static void test_store_errors_back_off(void **state)
{
    nlog = 0;
    log_set_writer(capture, NULL);
    struct sched *sc;
    add_due(now_ms() - 10);
    failing = 1;
    struct sched_config cfg = {.max_sleep_ms = 60000, .backoff_base_ms = 50,
                               .backoff_cap_ms = 400};
    assert_int_equal(sched_start(NULL, &src, 1, &cfg, NULL, NULL, &sc), 0);
    sleep_ms(1000);
    struct sched_stats st;
    sched_stats(sc, &st);
    /* 0, 50, 150, 350, 750 ms: ~5 rounds in a second (thousands when it spins) */
    print_message("%llu failed rounds in 1 s\n", (unsigned long long)st.rounds);
    assert_true(st.rounds >= 3 && st.rounds <= 8);
    assert_true(st.errors >= st.rounds);
    assert_int_equal(st.backoff_ms, 400);
    assert_int_equal(fired(), 0);
    assert_int_equal(count_lines("processing due items failed"), 1);   /* the first only */

    int64_t t0 = now_ms();
    failing = 0;
    for (int i = 0; i < 60 && fired() < 1; i++)
        sleep_ms(10);
    assert_int_equal(fired(), 1);
    assert_true(now_ms() - t0 <= 400 + 200);    /* within the cap, not a minute */
    sleep_ms(50);
    sched_stats(sc, &st);
    assert_int_equal(st.backoff_ms, 0);
    /* the held-back copies are counted, and the recovery said */
    assert_int_equal(count_lines("(repeated "), 1);
    assert_int_equal(count_lines("answers again"), 1);

    /* healthy again: a due item is processed on time, not after a backoff */
    int64_t at = now_ms() + 100;
    add_due(at);
    sched_hint(sc, at);
    for (int i = 0; i < 40 && fired() < 2; i++)
        sleep_ms(10);
    assert_int_equal(fired(), 2);
    assert_true(fired_at[1] < 150);
    sched_stop(sc);
    log_set_writer(NULL, NULL);
}

/* ---- the log limiter ---------------------------------------------------- */

static void test_log_limiter(void **state)
{
    nlog = 0;
    log_set_writer(capture, NULL);
    struct log_limit l = LOG_LIMIT_INIT(10000);
    log_limited_at(&l, 1000, LOG_ERROR, "store %s", "full");      /* printed */
    for (int i = 0; i < 5; i++)
        log_limited_at(&l, 1000 + i * 100, LOG_ERROR, "store %s", "full");
    assert_int_equal(nlog, 1);
    assert_string_equal(log_lines[0], "store full");
    /* the interval passed: once more, with the count held back */
    log_limited_at(&l, 11000, LOG_ERROR, "store full");
    assert_int_equal(nlog, 2);
    assert_string_equal(log_lines[1], "store full (repeated 5 times)");
    /* two loops' messages alternating: each limited on its own */
    for (int i = 0; i < 10; i++) {
        log_limited_at(&l, 11001 + i, LOG_ERROR, "store full");
        log_limited_at(&l, 11001 + i, LOG_ERROR, "store read-only");
    }
    assert_int_equal(nlog, 3);
    assert_string_equal(log_lines[2], "store read-only");
    /* more distinct messages than it remembers: the one pushed out says its count */
    log_limited_at(&l, 12000, LOG_ERROR, "a");
    log_limited_at(&l, 12000, LOG_ERROR, "b");
    assert_int_equal(nlog, 5);
    log_limited_at(&l, 12000, LOG_ERROR, "c");    /* pushes out "store full" */
    assert_int_equal(nlog, 7);
    assert_string_equal(log_lines[5], "store full (repeated 10 times)");
    assert_string_equal(log_lines[6], "c");
    /* recovery: every held-back count, then forgotten */
    log_limit_reset(&l);
    assert_int_equal(nlog, 8);
    assert_string_equal(log_lines[7], "store read-only (repeated 9 times)");
    log_limited_at(&l, 12001, LOG_ERROR, "store read-only");     /* news again */
    assert_int_equal(nlog, 9);
    log_limit_reset(&l);
    assert_int_equal(nlog, 9);                  /* nothing held back: nothing said */
    log_set_writer(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_fires_on_time, reset),
        cmocka_unit_test_setup(test_hint_wakes_early, reset),
        cmocka_unit_test_setup(test_idle_does_nothing, reset),
        cmocka_unit_test_setup(test_batches_until_drained, reset),
        cmocka_unit_test(test_backoff_doubles_and_caps),
        cmocka_unit_test_setup(test_held_elsewhere_no_spin, reset),
        cmocka_unit_test_setup(test_store_errors_back_off, reset),
        cmocka_unit_test(test_log_limiter),
    };
    return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
