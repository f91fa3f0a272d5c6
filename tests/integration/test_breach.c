/* The scheduler end to end: a stale alert becomes a breach within a second,
 * pushed to a connected dashboard, delivered to a real webhook receiver and
 * SMTP sink exactly once (also across a kill -9), escalated on schedule,
 * by hand, and stopped by an acknowledgement; tenant isolation and input
 * validation of the escalation endpoints.
 *
 * No clock is faked: alerts are created with created_at in the past, so
 * their deadlines fall a second or two after creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_sinks.h"
#include "harness_ws.h"

#define SECRET "whsec-breach-0123456789"
#define MIN_MS 60000LL

struct fx {
    struct sw_server s;
    struct http_sink *http;
    struct smtp_sink *smtp;
    char env[16][160];
    const char *envp[17];
    size_t nenv;
};

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

static void env_base(struct fx *f)
{
    f->nenv = 0;
    env_add(f, "SLAWATCH_SMTP_URL=smtp://127.0.0.1:%d", smtp_sink_port(f->smtp));
    env_add(f, "SLAWATCH_SMTP_FROM=slawatch@example.test");
    env_add(f, "SLAWATCH_SMTP_STARTTLS=off");
    env_add(f, "SLAWATCH_NOTIFY_BACKOFF_MS=100");
    env_add(f, "SLAWATCH_PASSWORD_COST=min");
}

static struct fx *fx_new(bool notify)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->http = http_sink_start(0);
    f->smtp = smtp_sink_start();
    assert_non_null(f->http);
    assert_non_null(f->smtp);
    srv_init(&f->s);
    env_base(f);
    if (!notify)
        env_add(f, "SLAWATCH_NOTIFY=off");
    srv_start(&f->s, NULL, f->envp);
    return f;
}

static void fx_free(struct fx *f)
{
    if (f->s.pid > 0)
        assert_int_equal(srv_stop(&f->s), 0);
    srv_cleanup(&f->s);
    http_sink_stop(f->http);
    smtp_sink_stop(f->smtp);
    free(f);
}

static void configure(struct fx *f, const char *tenant, const char *channels)
{
    char body[1024], path[160];
    snprintf(body, sizeof(body),
             "{\"channels\":%s,\"recipients\":{\"email\":[\"soc@%s.test\"],\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"thresholds\":[80,90,100],"
             "\"webhook_secret\":\"" SECRET "\"}",
             channels, tenant, http_sink_port(f->http));
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", tenant);
    assert_int_equal(api(&f->s, "POST", path, ADMIN_TOKEN, body, NULL), 200);
}

/* RFC 3339 with milliseconds. */
static void iso(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, (int)(ms % 1000));
}

static int64_t parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    int ms = 0;
    if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    const char *dot = strchr(s, '.');
    if (dot)
        ms = atoi(dot + 1);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* Creates a critical alert whose ack clock (15 min) is due at ack_due. */
static void create_alert(struct sw_server *s, const char *tenant, const char *id,
                         const char *sev, int64_t created_at)
{
    char body[512], when[40];
    iso(created_at, when, sizeof(when));
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"%s\",\"severity\":\"%s\",\"created_at\":\"%s\"}", id,
             tenant, sev, when);
    assert_int_equal(api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
}

static json_t *get_json(struct sw_server *s, const char *path, const char *token, long want)
{
    struct http_resp r;
    long st = api(s, "GET", path, token ? token : ADMIN_TOKEN, NULL, &r);
    if (st != want)
        fail_msg("GET %s answered %ld: %s", path, st, r.body ? r.body : "");
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

/* Webhook requests of a type (and item). */
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

static size_t mail_count(struct smtp_sink *m, const char *type)
{
    size_t n = 0;
    char needle[64];
    snprintf(needle, sizeof(needle), "type: %s", type);
    for (size_t i = 0; i < smtp_sink_count(m); i++) {
        struct sink_mail ml;
        if (!smtp_sink_get(m, i, &ml))
            continue;
        if (ml.data && strstr(ml.data, needle))
            n++;
        sink_mail_free(&ml);
    }
    return n;
}

/* Events of an alert, in order, as "type[:pct]" joined by commas. */
static void event_types(struct sw_server *s, const char *tenant, const char *id, char *out,
                        size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/alerts/%s/events?tenant_id=%s", id, tenant);
    json_t *j = get_json(s, path, NULL, 200);
    json_t *items = json_object_get(j, "items");
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *e = json_array_get(items, i);
        const char *t = json_string_value(json_object_get(e, "type"));
        if (strncmp(t, "sla.", 4) != 0)
            continue;
        size_t k = strlen(out);
        json_t *pct = json_object_get(json_object_get(e, "data"), "threshold_pct");
        if (json_is_integer(pct))
            snprintf(out + k, len - k, "%s%s:%lld", k ? "," : "", t,
                     (long long)json_integer_value(pct));
        else
            snprintf(out + k, len - k, "%s%s", k ? "," : "", t);
    }
    json_decref(j);
}

/* ---- a stale alert: breach within a second, everywhere exactly once ------- */

static void test_breach_live_and_delivered(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    it_make_tenant(&f->s, "acme");
    configure(f, "acme", "[\"websocket\",\"email\",\"webhook\"]");
    struct ws_client *ws = ws_client_open(&f->s, "acme", ADMIN_TOKEN);
    assert_non_null(ws);

    int64_t due = ws_wall_ms() + 1500;           /* ack due in 1.5 s */
    create_alert(&f->s, "acme", "A-1", "critical", due - 15 * MIN_MS);

    /* alert.updated for the creation; its 80 % warning was crossed before
     * it reached us: marked, never told (the history rule) */
    json_t *m = ws_client_wait(ws, "alert.updated", 3000, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "alert_id")), "A-1");
    assert_string_equal(json_string_value(json_object_get(m, "state")), "open");
    json_decref(m);

    int64_t got = 0;
    m = ws_client_wait(ws, "sla.breach", 5000, &got);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "item_id")), "A-1");
    assert_string_equal(json_string_value(json_object_get(m, "clock")), "ack");
    int64_t due_reported = parse_iso(json_string_value(json_object_get(m, "due_at")));
    json_decref(m);
    assert_true(due_reported >= due - 1 && due_reported <= due + 1);
    int64_t delay = got - due;
    print_message("sla.breach reached the dashboard %lld ms after the deadline\n",
                  (long long)delay);
    assert_true(delay >= 0);
    assert_true(delay <= it_time_bound_ms(1000));

    /* the webhook receiver and the SMTP sink: exactly once */
    int64_t until = ws_wall_ms() + 10000;
    while ((hook_count(f->http, "sla.breach", "A-1") < 1 || mail_count(f->smtp, "sla.breach") < 1)
           && ws_wall_ms() < until)
        sleep_ms(50);
    sleep_ms(1500);     /* room for a duplicate to show up */
    assert_int_equal(hook_count(f->http, "sla.breach", "A-1"), 1);
    assert_int_equal(mail_count(f->smtp, "sla.breach"), 1);
    assert_int_equal(hook_count(f->http, "sla.warning", "A-1"), 0);
    /* and no second sla.breach on the dashboard */
    m = ws_client_wait(ws, "sla.breach", 500, NULL);
    assert_null(m);

    json_t *t = get_json(&f->s, "/api/v1/sla/alerts/A-1/tracking?tenant_id=acme", NULL, 200);
    assert_true(json_is_true(json_object_get(t, "ack_breached")));
    assert_false(json_is_true(json_object_get(t, "resolve_breached")));
    assert_int_equal(json_integer_value(json_array_get(json_object_get(t, "warnings_fired"), 0)),
                     80);
    json_decref(t);
    char types[512];
    event_types(&f->s, "acme", "A-1", types, sizeof(types));
    assert_string_equal(types, "sla.breach");

    /* acknowledging is pushed as alert.updated */
    assert_int_equal(api(&f->s, "POST", "/api/v1/alerts/A-1/acknowledge?tenant_id=acme",
                         ADMIN_TOKEN, NULL, NULL), 200);
    m = ws_client_wait(ws, "alert.updated", 3000, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "state")), "acknowledged");
    json_decref(m);

    /* the scheduler's counters are on /metrics */
    struct http_resp r;
    assert_int_equal(api(&f->s, "GET", "/metrics", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "slawatch_sched_processed_total"));
    http_free(&r);

    ws_client_close(ws);
    fx_free(f);
}

/* ---- a burst through the bulk endpoint ---------------------------------------
 * 300 alerts in one NDJSON body, one deadline: the bulk path wakes the
 * scheduler too, and a dashboard takes a burst larger than its hub queue
 * (256 messages) without being dropped as slow. */

static void test_bulk_burst(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    it_make_tenant(&f->s, "burst");
    struct ws_client *ws = ws_client_open(&f->s, "burst", ADMIN_TOKEN);
    assert_non_null(ws);
    enum { N = 300 };
    int64_t due = ws_wall_ms() + 2000;
    char when[40];
    iso(due - 15 * MIN_MS, when, sizeof(when));
    size_t cap = N * 160, len = 0;
    char *body = malloc(cap);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(body + len, cap - len,
                                "{\"id\":\"B-%d\",\"tenant_id\":\"burst\",\"severity\":"
                                "\"critical\",\"created_at\":\"%s\"}\n", i, when);
    struct http_resp r;
    http_req(&f->s, "POST", "/api/v1/alerts/bulk", ADMIN_TOKEN, "application/x-ndjson", body, len,
             &r);
    free(body);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(r.json, "accepted")), N);
    http_free(&r);
    int n = 0;
    int64_t worst = 0, got = 0;
    while (n < N) {
        json_t *m = ws_client_wait(ws, "sla.breach", 5000, &got);
        if (!m)
            break;
        json_decref(m);
        n++;
        if (got - due > worst)
            worst = got - due;
    }
    print_message("%d sla.breach on the dashboard, the last %lld ms after the deadline\n", n,
                  (long long)worst);
    assert_int_equal(n, N);
    assert_true(worst <= it_time_bound_ms(1000));
    ws_client_close(ws);
    fx_free(f);
}

/* ---- escalation on schedule, stopped by ack, by hand ---------------------- */

static void put_chain(struct sw_server *s, const char *tenant, const char *sev, int steps)
{
    static const char *const lv[] = {"L1", "L2", "L3", "Manager", "CISO"};
    static const char *const role[] = {"SOC Analyst", "SOC Lead", "IR Lead", "SOC Manager",
                                       "CISO"};
    static const char *const meth[] = {"slack", "pager", "phone", "email", "phone"};
    char body[2048], path[160];
    int n = snprintf(body, sizeof(body), "{\"severity\":\"%s\",\"chain\":[", sev);
    for (int i = 0; i < steps; i++)
        n += snprintf(body + n, sizeof(body) - (size_t)n,
                      "%s{\"level\":\"%s\",\"role\":\"%s\",\"timeout_minutes\":1,"
                      "\"notification_method\":\"%s\"}",
                      i ? "," : "", lv[i], role[i], meth[i]);
    snprintf(body + n, sizeof(body) - (size_t)n, "]}");
    snprintf(path, sizeof(path), "/api/v1/sla/escalations/%s", tenant);
    struct http_resp r;
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 200)
        fail_msg("chain: %ld %s", st, r.body);
    assert_int_equal(json_array_size(json_object_get(r.json, "chain")), (size_t)steps);
    http_free(&r);
}

/* The next sla.escalation of an alert on the dashboard. */
static json_t *wait_escalation(struct ws_client *ws, const char *id, int timeout_ms,
                               int64_t *recv)
{
    int64_t until = ws_wall_ms() + timeout_ms;
    for (;;) {
        int64_t left = until - ws_wall_ms();
        if (left <= 0)
            return NULL;
        json_t *m = ws_client_wait(ws, "sla.escalation", (int)left, recv);
        if (!m)
            return NULL;
        if (!strcmp(json_string_value(json_object_get(m, "item_id")), id))
            return m;
        json_decref(m);
    }
}

static long escalate(struct sw_server *s, const char *tenant, const char *id, const char *extra,
                     struct http_resp *out)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/escalate/%s?tenant_id=%s%s", id, tenant,
             extra ? extra : "");
    return api(s, "POST", path, ADMIN_TOKEN, NULL, out);
}

static void test_escalation(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    it_make_tenant(&f->s, "esc");      /* no notification config: dashboards still get it */
    put_chain(&f->s, "esc", "critical", 3);
    struct ws_client *ws = ws_client_open(&f->s, "esc", ADMIN_TOKEN);
    assert_non_null(ws);

    /* The chain starts with an ack breach slawatch sees happen, so each
     * alert's deadline falls after it reached us (timeouts are 1 minute:
     * L2 comes a minute after the breach, and the test waits for it).
     * E-0: its ack deadline passed ~58 s before it reached us: the breach
     * happened before slawatch knew (the history rule): shown breached,
     * never told, its chain does not start by itself; by hand it does. */
    int64_t now = ws_wall_ms();
    create_alert(&f->s, "esc", "E-0", "critical", now - MIN_MS + 2000 - 1 - 15 * MIN_MS);
    /* E-1: ack breach 1.5 s after it reached us: breach + L1 then, L2 a
     * minute later, anchored on the breach */
    int64_t breach = now + 1500;                /* the ack breach instant (due + 1 ms) */
    create_alert(&f->s, "esc", "E-1", "critical", breach - 1 - 15 * MIN_MS);
    /* E-2: L1 two seconds after E-1's; acknowledged first: no L2, ever */
    int64_t breach2 = now + 3500;
    create_alert(&f->s, "esc", "E-2", "critical", breach2 - 1 - 15 * MIN_MS);

    json_t *m = ws_client_wait(ws, "sla.breach", 3000, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "item_id")), "E-1");
    json_decref(m);
    m = wait_escalation(ws, "E-1", 3000, NULL);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "escalation_level")), 1);
    json_decref(m);
    m = wait_escalation(ws, "E-2", 4000, NULL);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "escalation_level")), 1);
    json_decref(m);
    assert_int_equal(api(&f->s, "POST", "/api/v1/alerts/E-2/acknowledge?tenant_id=esc",
                         ADMIN_TOKEN, NULL, NULL), 200);

    assert_null(wait_escalation(ws, "E-0", 500, NULL));
    json_t *t = get_json(&f->s, "/api/v1/sla/alerts/E-0/tracking?tenant_id=esc", NULL, 200);
    assert_true(json_is_true(json_object_get(t, "ack_breached")));
    assert_int_equal(json_integer_value(json_object_get(t, "escalation_level")), 0);
    json_decref(t);
    char types[512];
    event_types(&f->s, "esc", "E-0", types, sizeof(types));
    assert_string_equal(types, "");
    assert_int_equal(escalate(&f->s, "esc", "E-0", NULL, NULL), 200);
    m = wait_escalation(ws, "E-0", 3000, NULL);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "escalation_level")), 1);
    assert_string_equal(json_string_value(json_object_get(m, "escalation_target")),
                        "SOC Analyst");
    json_decref(m);

    /* E-3: by hand, three times, then exhausted */
    create_alert(&f->s, "esc", "E-3", "critical", ws_wall_ms() - 1000);
    struct http_resp r;
    const char *want[] = {"L1", "L2", "L3"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(escalate(&f->s, "esc", "E-3", NULL, &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r.json, "escalation_level")), i + 1);
        assert_string_equal(json_string_value(json_object_get(r.json, "level")), want[i]);
        http_free(&r);
        m = wait_escalation(ws, "E-3", 3000, NULL);
        assert_non_null(m);
        json_decref(m);
    }
    assert_int_equal(escalate(&f->s, "esc", "E-3", NULL, &r), 400);
    assert_error_shape(&r, "exhausted", NULL);
    http_free(&r);

    /* no chain for low alerts, nor for ?severity=high */
    create_alert(&f->s, "esc", "L-1", "low", ws_wall_ms() - 1000);
    assert_int_equal(escalate(&f->s, "esc", "L-1", NULL, &r), 400);
    assert_error_shape(&r, "no_chain", "severity");
    http_free(&r);
    assert_int_equal(escalate(&f->s, "esc", "L-1", "&severity=high", &r), 400);
    http_free(&r);
    assert_int_equal(escalate(&f->s, "esc", "L-1", "&severity=urgent", &r), 422);
    http_free(&r);
    assert_int_equal(escalate(&f->s, "esc", "nope", NULL, &r), 404);
    http_free(&r);
    assert_int_equal(api(&f->s, "POST", "/api/v1/alerts/L-1/resolve?tenant_id=esc",
                         ADMIN_TOKEN, NULL, NULL), 200);
    assert_int_equal(escalate(&f->s, "esc", "L-1", NULL, &r), 409);
    http_free(&r);

    /* E-1's L2, a minute after its breach */
    int64_t got = 0;
    m = wait_escalation(ws, "E-1", (int)(breach + MIN_MS + 5000 - ws_wall_ms()), &got);
    assert_non_null(m);
    assert_int_equal(json_integer_value(json_object_get(m, "escalation_level")), 2);
    assert_string_equal(json_string_value(json_object_get(m, "escalation_target")), "SOC Lead");
    json_decref(m);
    int64_t l2_due = breach + MIN_MS;
    print_message("L2 reached the dashboard %lld ms after it was due\n",
                  (long long)(got - l2_due));
    assert_true(got >= l2_due && got - l2_due <= it_time_bound_ms(1000));

    json_t *st = get_json(&f->s, "/api/v1/sla/escalation-status/E-1?tenant_id=esc", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(st, "escalation_level")), 2);
    json_t *steps = json_object_get(st, "steps");
    assert_int_equal(json_array_size(steps), 3);
    assert_true(json_is_string(json_object_get(json_array_get(steps, 0), "fired_at")));
    assert_true(json_is_string(json_object_get(json_array_get(steps, 1), "fired_at")));
    assert_true(json_is_null(json_object_get(json_array_get(steps, 2), "fired_at")));
    assert_int_equal(parse_iso(json_string_value(json_object_get(st, "next_escalation_at"))),
                     breach + 2 * MIN_MS);
    json_decref(st);

    /* acknowledging stops the walk */
    assert_int_equal(api(&f->s, "POST", "/api/v1/alerts/E-1/acknowledge?tenant_id=esc",
                         ADMIN_TOKEN, NULL, NULL), 200);
    st = get_json(&f->s, "/api/v1/sla/escalation-status/E-1?tenant_id=esc", NULL, 200);
    assert_true(json_is_null(json_object_get(st, "next_escalation_at")));
    assert_true(json_is_true(json_object_get(st, "acknowledged")));
    json_decref(st);
    /* E-2, acknowledged after its L1, never got its L2 (due with E-1's) */
    st = get_json(&f->s, "/api/v1/sla/escalation-status/E-2?tenant_id=esc", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(st, "escalation_level")), 1);
    json_decref(st);

    /* the audit history: every step with its trigger and timestamps */
    json_t *ev = get_json(&f->s, "/api/v1/sla/escalation-events/esc?limit=50", NULL, 200);
    json_t *items = json_object_get(ev, "items");
    assert_int_equal(json_array_size(items), 2 + 1 + 1 + 3);
    int manual = 0, autos = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *e = json_array_get(items, i);
        assert_true(json_is_string(json_object_get(e, "at")));
        if (!strcmp(json_string_value(json_object_get(e, "trigger")), "manual"))
            manual++;
        else
            autos++;
    }
    assert_int_equal(manual, 4);
    assert_int_equal(autos, 3);
    /* newest first (E-1's L2); paging */
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "level")),
                        "L2");
    json_decref(ev);
    ev = get_json(&f->s, "/api/v1/sla/escalation-events/esc?limit=4", NULL, 200);
    assert_int_equal(json_array_size(json_object_get(ev, "items")), 4);
    const char *cur = json_string_value(json_object_get(ev, "next_cursor"));
    assert_non_null(cur);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/sla/escalation-events/esc?limit=4&cursor=%s", cur);
    json_decref(get_json(&f->s, path, NULL, 200));
    json_decref(ev);

    /* the chains as stored */
    json_t *ch = get_json(&f->s, "/api/v1/sla/escalations/esc", NULL, 200);
    json_t *chains = json_object_get(ch, "chains");
    assert_int_equal(json_array_size(chains), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(chains, 0), "severity")),
                        "critical");
    json_decref(ch);

    ws_client_close(ws);
    fx_free(f);
}

/* ---- crash between commit and delivery ------------------------------------ */

static void test_crash_exactly_once(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);       /* first run: rows written, never delivered */
    it_make_tenant(&f->s, "crash");
    configure(f, "crash", "[\"email\",\"webhook\"]");
    int64_t due = ws_wall_ms() + 1000;
    create_alert(&f->s, "crash", "C-1", "critical", due - 15 * MIN_MS);
    /* wait for the breach to be committed */
    char types[512] = "";
    int64_t until = ws_wall_ms() + 6000;
    while (!strstr(types, "sla.breach") && ws_wall_ms() < until) {
        sleep_ms(100);
        event_types(&f->s, "crash", "C-1", types, sizeof(types));
    }
    assert_string_equal(types, "sla.breach");
    srv_kill9(&f->s);
    assert_int_equal(http_sink_count(f->http), 0);
    assert_int_equal(smtp_sink_count(f->smtp), 0);

    /* restart with delivery on: the committed notices go out, once */
    env_base(f);
    srv_start(&f->s, NULL, f->envp);
    until = ws_wall_ms() + 10000;
    while ((hook_count(f->http, "sla.breach", "C-1") < 1 || mail_count(f->smtp, "sla.breach") < 1)
           && ws_wall_ms() < until)
        sleep_ms(50);
    sleep_ms(2000);
    assert_int_equal(hook_count(f->http, "sla.breach", "C-1"), 1);
    assert_int_equal(mail_count(f->smtp, "sla.breach"), 1);
    assert_int_equal(hook_count(f->http, "sla.warning", "C-1"), 0);    /* before ingestion */
    /* the flags are persisted: no second breach event after the restart */
    event_types(&f->s, "crash", "C-1", types, sizeof(types));
    assert_string_equal(types, "sla.breach");

    /* and a kill -9 after delivery: nothing is sent again */
    srv_kill9(&f->s);
    srv_start(&f->s, NULL, f->envp);
    sleep_ms(2000);
    assert_int_equal(hook_count(f->http, "sla.breach", "C-1"), 1);
    assert_int_equal(mail_count(f->smtp, "sla.breach"), 1);
    fx_free(f);
}

/* ---- isolation, roles, validation ----------------------------------------- */

static void test_isolation_and_validation(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    it_make_tenant(&f->s, "t1");
    it_make_tenant(&f->s, "t2");
    char viewer1[128], analyst2[128], manager1[128];
    it_make_token(&f->s, "viewer", "t1", viewer1, sizeof(viewer1));
    it_make_token(&f->s, "analyst", "t2", analyst2, sizeof(analyst2));
    it_make_token(&f->s, "manager", "t1", manager1, sizeof(manager1));
    put_chain(&f->s, "t1", "high", 2);
    create_alert(&f->s, "t1", "X-1", "high", ws_wall_ms() - 1000);

    const char *chain = "{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"r\","
                        "\"timeout_minutes\":5,\"notification_method\":\"email\"}]}";
    struct http_resp r;
    /* a viewer reads but cannot configure */
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalations/t1", viewer1, NULL, NULL), 200);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/escalations/t1", viewer1, chain, NULL), 403);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/escalate/X-1?tenant_id=t1", viewer1, NULL,
                         NULL), 403);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/escalations/t1", manager1, chain, NULL), 200);
    /* another tenant's objects are not found */
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalations/t1", analyst2, NULL, NULL), 404);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/escalate/X-1?tenant_id=t1", analyst2, NULL,
                         NULL), 404);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/escalate/X-1?tenant_id=t2", analyst2, NULL,
                         NULL), 404);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalation-status/X-1?tenant_id=t2",
                         analyst2, NULL, NULL), 404);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalation-status/X-1?tenant_id=t1",
                         analyst2, NULL, NULL), 404);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalation-events/t1", analyst2, NULL, NULL),
                     404);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalation-events/t1", viewer1, NULL, NULL),
                     200);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalations/nope", ADMIN_TOKEN, NULL, NULL),
                     404);

    /* validation names the field */
    struct { const char *body, *field; } bad[] = {
        {"{\"severity\":\"urgent\",\"chain\":[]}", "severity"},
        {"{\"severity\":\"high\",\"chain\":[]}", "chain"},
        {"{\"severity\":\"high\"}", "chain"},
        {"{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"r\",\"timeout_minutes\":5,"
         "\"notification_method\":\"email\"},{\"level\":\"L2\",\"role\":\"r\","
         "\"timeout_minutes\":0,\"notification_method\":\"email\"}]}", "chain[1].timeout_minutes"},
        {"{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"r\","
         "\"timeout_minutes\":1441,\"notification_method\":\"email\"}]}",
         "chain[0].timeout_minutes"},
        {"{\"severity\":\"high\",\"chain\":[{\"level\":\"L4\",\"role\":\"r\",\"timeout_minutes\":5,"
         "\"notification_method\":\"email\"}]}", "chain[0].level"},
        {"{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"\",\"timeout_minutes\":5,"
         "\"notification_method\":\"email\"}]}", "chain[0].role"},
        {"{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"r\",\"timeout_minutes\":5,"
         "\"notification_method\":\"sms\"}]}", "chain[0].notification_method"},
        {"{\"severity\":\"high\",\"chain\":[1,2,3,4,5,6]}", "chain"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long st = api(&f->s, "POST", "/api/v1/sla/escalations/t1", ADMIN_TOKEN, bad[i].body, &r);
        if (st != 422)
            fail_msg("case %zu: %ld %s", i, st, r.body);
        assert_error_shape(&r, "invalid", bad[i].field);
        http_free(&r);
    }
    /* five steps is the most, and fine */
    put_chain(&f->s, "t1", "low", 5);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_breach_live_and_delivered),
        cmocka_unit_test(test_bulk_burst),
        cmocka_unit_test(test_escalation),
        cmocka_unit_test(test_crash_exactly_once),
        cmocka_unit_test(test_isolation_and_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
