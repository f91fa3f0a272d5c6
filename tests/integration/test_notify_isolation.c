/* Delivery isolation: one tenant's broken receiver must not delay another
 * tenant's notices.  A receiver that hangs holds at most
 * notify_per_destination transfers, the others go out beside them; a
 * destination that keeps failing trips its circuit breaker (skipped, not
 * sent, visible in /metrics) until a probe succeeds; and skipped rows still
 * reach the dead state after notify_max_attempts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_sinks.h"

#define SECRET "whsec-isolation-0123456789"
#define MIN_MS 60000LL

struct fx {
    struct sw_server s;
    struct http_sink *fast, *slow;
    char env[16][160];
    const char *envp[17];
    size_t nenv;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void env_add(struct fx *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->env[f->nenv], sizeof(f->env[0]), fmt, ap);
    va_end(ap);
    f->envp[f->nenv] = f->env[f->nenv];
    f->nenv++;
    f->envp[f->nenv] = NULL;
}

static struct fx *fx_new(const char *const *extra)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->fast = http_sink_start(0);
    f->slow = http_sink_start(0);
    assert_non_null(f->fast);
    assert_non_null(f->slow);
    srv_init(&f->s);
    env_add(f, "SLAWATCH_NOTIFY_BACKOFF_MS=100");
    env_add(f, "SLAWATCH_PASSWORD_COST=min");
    for (size_t i = 0; extra && extra[i]; i++)
        env_add(f, "%s", extra[i]);
    srv_start(&f->s, NULL, f->envp);
    return f;
}

static void fx_free(struct fx *f)
{
    /* SIGTERM with transfers hanging: they are aborted, exit 0 at once */
    if (f->s.pid > 0)
        assert_int_equal(srv_stop(&f->s), 0);
    srv_cleanup(&f->s);
    http_sink_stop(f->fast);
    http_sink_stop(f->slow);
    free(f);
}

static void configure(struct fx *f, const char *tenant, struct http_sink *to, const char *path)
{
    char body[512], url[256];
    snprintf(url, sizeof(url), "/api/v1/sla/notifications/%s/configure", tenant);
    snprintf(body, sizeof(body),
             "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":"
             "[\"http://127.0.0.1:%d%s\"]},\"thresholds\":[80,90,100],"
             "\"webhook_secret\":\"" SECRET "\"}",
             http_sink_port(to), path);
    assert_int_equal(api(&f->s, "POST", url, ADMIN_TOKEN, body, NULL), 200);
}

static void iso(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

/* A critical alert whose ack clock (15 min) is due at due. */
static void create_alert(struct sw_server *s, const char *tenant, const char *id, int64_t due)
{
    char body[512], when[40];
    iso(due - 15 * MIN_MS, when, sizeof(when));
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"critical\","
             "\"created_at\":\"%s\"}", id, tenant, when);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
}

static size_t hook_count(struct http_sink *h, const char *type, const char *item)
{
    size_t n = 0;
    for (size_t i = 0; i < http_sink_count(h); i++) {
        struct sink_request q;
        if (!http_sink_get(h, i, &q))
            continue;
        json_t *j = json_loads(q.body, 0, NULL);
        const char *t = json_string_value(json_object_get(j, "type"));
        const char *it = json_string_value(json_object_get(j, "item_id"));
        if (t && !strcmp(t, type) && (!item || (it && !strcmp(it, item))))
            n++;
        json_decref(j);
        sink_request_free(&q);
    }
    return n;
}

/* The value of one sample line of /metrics ("name{labels}"), -1 if absent;
 * the whole text in *text when given (caller frees). */
static double metric(struct fx *f, const char *sample, char **text)
{
    struct http_resp r;
    assert_int_equal(api(&f->s, "GET", "/metrics", NULL, NULL, &r), 200);
    char needle[512];
    snprintf(needle, sizeof(needle), "\n%s ", sample);
    const char *p = strstr(r.body, needle);
    double v = p ? atof(p + strlen(needle)) : -1;
    if (text)
        *text = strdup(r.body);
    http_free(&r);
    return v;
}

static json_t *history(struct fx *f, const char *tenant)
{
    char path[128];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s?limit=500", tenant);
    assert_int_equal(api(&f->s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_incref(json_object_get(r.json, "items"));
    http_free(&r);
    return items;
}

static size_t count_state(json_t *items, const char *state)
{
    size_t n = 0, i;
    json_t *it;
    json_array_foreach(items, i, it)
        n += !strcmp(json_string_value(json_object_get(it, "state")), state);
    return n;
}

static bool wait_state(struct fx *f, const char *tenant, const char *state, size_t want,
                       int timeout_ms)
{
    int64_t end = wall_ms() + timeout_ms;
    while (wall_ms() < end) {
        json_t *items = history(f, tenant);
        size_t n = count_state(items, state);
        json_decref(items);
        if (n >= want)
            return true;
        sleep_ms(50);
    }
    return false;
}

static size_t attempts_with(json_t *items, const char *needle)
{
    size_t n = 0, i, k;
    json_t *it, *a;
    json_array_foreach(items, i, it)
        json_array_foreach(json_object_get(it, "attempts"), k, a) {
            const char *e = json_string_value(json_object_get(a, "error"));
            n += e && strstr(e, needle);
        }
    return n;
}

/* ---- a hung receiver --------------------------------------------------------- */

/* Tenant "slow" has a receiver that reads and never answers (4 alerts, 4
 * breach notices: their warnings were crossed before they reached us, so
 * never told); tenant "fast" one that answers at once.  They breach together.
 * Seen before: one worker for every destination, each hung row holding it
 * 15 s, so fast's breach came tens of seconds late. */
static void test_hung_receiver_does_not_delay_others(void **state)
{
    struct fx *f = fx_new(NULL);
    http_sink_set_hang(f->slow, true);
    it_make_tenant(&f->s, "slow");
    it_make_tenant(&f->s, "fast");
    configure(f, "slow", f->slow, "/hook");
    configure(f, "fast", f->fast, "/hook");

    int64_t due = wall_ms() + 1500;
    for (int i = 1; i <= 4; i++) {
        char id[16];
        snprintf(id, sizeof(id), "S-%d", i);
        create_alert(&f->s, "slow", id, due);
    }
    create_alert(&f->s, "fast", "F-1", due);

    int64_t got = 0, end = wall_ms() + 20000;
    while (wall_ms() < end && !got) {
        if (hook_count(f->fast, "sla.breach", "F-1") == 1)
            got = wall_ms();
        else
            sleep_ms(20);
    }
    assert_true(got > 0);
    print_message("fast tenant's breach delivered %lld ms after its deadline\n",
                  (long long)(got - due));
    assert_true(got - due <= 2000);
    /* 80 %: crossed before the alert reached us (the history rule) */
    assert_int_equal(hook_count(f->fast, "sla.warning", "F-1"), 0);

    /* the hung destination holds its 4 (notify_per_destination) and no more */
    char sample[256], *text = NULL;
    snprintf(sample, sizeof(sample),
             "slawatch_notify_destination_in_flight{channel=\"webhook\","
             "destination=\"127.0.0.1:%d\"}", http_sink_port(f->slow));
    assert_int_equal((int)metric(f, sample, &text), 4);
    assert_non_null(strstr(text, "slawatch_notify_in_flight{channel=\"webhook\"} 4\n"));
    free(text);
    fx_free(f);
}

/* ---- the circuit breaker ------------------------------------------------------- */

static void test_breaker_opens_then_recovers(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_BREAKER_FAILURES=3",
                         "SLAWATCH_NOTIFY_BREAKER_COOLDOWN_MS=2500",
                         "SLAWATCH_NOTIFY_BACKOFF_MAX_MS=400", "SLAWATCH_NOTIFY_MAX_ATTEMPTS=50",
                         "SLAWATCH_NOTIFY_FLOOD_MAX=0", NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    /* a path that is a credential (as Slack's): never in /metrics */
    configure(f, "acme", f->fast, "/services/T1/B1/XXXXsecret");
    http_sink_set_status(f->fast, 500);
    for (int i = 0; i < 5; i++)
        assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/acme/test", ADMIN_TOKEN,
                             NULL, NULL), 202);

    /* three failures in a row: open */
    char sample[256], *text = NULL;
    snprintf(sample, sizeof(sample),
             "slawatch_notify_breaker_open{channel=\"webhook\",destination=\"127.0.0.1:%d\"}",
             http_sink_port(f->fast));
    int64_t end = wall_ms() + 10000;
    while (metric(f, sample, NULL) != 1 && wall_ms() < end)
        sleep_ms(20);
    assert_int_equal((int)metric(f, sample, &text), 1);
    assert_null(strstr(text, "XXXXsecret"));
    free(text);
    /* what was in flight when it opened (at most 3 more) ends first */
    char inflight[256];
    snprintf(inflight, sizeof(inflight),
             "slawatch_notify_destination_in_flight{channel=\"webhook\","
             "destination=\"127.0.0.1:%d\"}", http_sink_port(f->fast));
    end = wall_ms() + 10000;
    while (metric(f, inflight, NULL) != 0 && wall_ms() < end)
        sleep_ms(20);
    size_t sent = http_sink_count(f->fast);
    print_message("%zu requests sent before the breaker held the rest\n", sent);
    assert_true(sent >= 3 && sent <= 3 + 3);

    /* open: nothing is sent; the rows that came due were skipped, and say so */
    sleep_ms(900);
    assert_int_equal(http_sink_count(f->fast), sent);
    json_t *items = history(f, "acme");
    assert_true(attempts_with(items, "circuit open") >= 1);
    json_decref(items);

    /* the receiver is back: after the cool-down one probe, then everything */
    http_sink_set_status(f->fast, 200);
    assert_true(wait_state(f, "acme", "delivered", 5, 10000));
    assert_int_equal((int)metric(f, sample, NULL), 0);
    assert_int_equal((int)metric(f, "slawatch_notify_dead_total", NULL), 0);
    fx_free(f);
}

/* A destination that never recovers: its rows are skipped while the breaker
 * is open, each skip an attempt (at most one per cool-down), so they still
 * end dead after notify_max_attempts, not parked forever, though few were
 * really sent: the first ones and one probe per cool-down. */
static void test_open_breaker_still_ends_dead(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_BREAKER_FAILURES=2",
                         "SLAWATCH_NOTIFY_BREAKER_COOLDOWN_MS=500",
                         "SLAWATCH_NOTIFY_BACKOFF_MAX_MS=200", "SLAWATCH_NOTIFY_MAX_ATTEMPTS=4",
                         "SLAWATCH_NOTIFY_FLOOD_MAX=0", NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    configure(f, "acme", f->fast, "/hook");
    http_sink_set_status(f->fast, 503);
    for (int i = 0; i < 6; i++)
        assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/acme/test", ADMIN_TOKEN,
                             NULL, NULL), 202);
    assert_true(wait_state(f, "acme", "dead", 6, 15000));
    json_t *items = history(f, "acme");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
        assert_int_equal(json_integer_value(json_object_get(it, "attempt_count")), 4);
    size_t sent = http_sink_count(f->fast);
    print_message("%zu requests sent for 6 rows x 4 attempts\n", sent);
    assert_true(sent <= 12);                 /* 24 without the breaker */
    assert_int_equal(attempts_with(items, "circuit open"), 6 * 4 - sent);
    json_decref(items);
    assert_int_equal((int)metric(f, "slawatch_notify_dead_total", NULL), 6);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hung_receiver_does_not_delay_others),
        cmocka_unit_test(test_breaker_opens_then_recovers),
        cmocka_unit_test(test_open_breaker_still_ends_dead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
