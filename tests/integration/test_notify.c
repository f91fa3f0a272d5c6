/* Notifications end to end: the real binary delivers through its outbox to
 * real receivers on loopback (an HTTP sink for Slack and webhooks, an SMTP
 * sink for email), started here.  Retries, dead rows, flood control, crash
 * recovery (kill -9), tenant isolation and input validation. */
#include <pthread.h>
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
#include <sodium.h>

#include "harness.h"
#include "harness_sinks.h"

#define SECRET "whsec-0123456789abcdef"

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

/* Sinks and a server whose SMTP points at the sink, fast backoff; extra
 * NAME=VALUE settings (NULL-terminated) on top. */
static struct fx *fx_new(const char *const *extra)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->http = http_sink_start(0);
    f->smtp = smtp_sink_start();
    assert_non_null(f->http);
    assert_non_null(f->smtp);
    srv_init(&f->s);
    env_add(f, "SLAWATCH_SMTP_URL=smtp://127.0.0.1:%d", smtp_sink_port(f->smtp));
    env_add(f, "SLAWATCH_SMTP_FROM=slawatch@example.test");
    env_add(f, "SLAWATCH_SMTP_STARTTLS=off");
    env_add(f, "SLAWATCH_NOTIFY_BACKOFF_MS=100");
    env_add(f, "SLAWATCH_PASSWORD_COST=min");
    for (size_t i = 0; extra && extra[i]; i++)
        env_add(f, "%s", extra[i]);
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

/* Configures tenant with a webhook (and optionally more) on the sink. */
static void configure_webhook(struct fx *f, const char *tenant)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"webhook_secret\":\"" SECRET "\"}",
             http_sink_port(f->http));
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", tenant);
    assert_int_equal(api(&f->s, "POST", path, ADMIN_TOKEN, body, NULL), 200);
}

static long send_test(struct fx *f, const char *tenant, const char *body, int *enqueued)
{
    char path[128];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/test", tenant);
    long st = api(&f->s, "POST", path, ADMIN_TOKEN, body, &r);
    if (enqueued)
        *enqueued = (int)json_integer_value(json_object_get(r.json, "enqueued"));
    http_free(&r);
    return st;
}

/* The history's items (the caller decrefs). */
static json_t *history(struct fx *f, const char *tenant)
{
    char path[128];
    struct http_resp r;
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s?limit=500", tenant);
    assert_int_equal(api(&f->s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_incref(json_object_get(r.json, "items"));
    http_free(&r);
    assert_true(json_is_array(items));
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

/* Polls the history until `want` rows are in state (10 s at most). */
static json_t *wait_history(struct fx *f, const char *tenant, const char *state, size_t want)
{
    for (int i = 0; i < 200; i++) {
        json_t *items = history(f, tenant);
        if (count_state(items, state) >= want)
            return items;
        json_decref(items);
        sleep_ms(50);
    }
    fail_msg("history of %s never had %zu rows %s", tenant, want, state);
    return NULL;
}

/* The request to path among the sink's, the k-th (0-based). */
static bool find_request(struct http_sink *h, const char *path, size_t k, struct sink_request *out)
{
    for (size_t i = 0; i < http_sink_count(h); i++) {
        struct sink_request r;
        if (!http_sink_get(h, i, &r))
            break;
        if (!strcmp(r.path, path) && k-- == 0) {
            *out = r;
            return true;
        }
        sink_request_free(&r);
    }
    return false;
}

static void assert_signed(const struct sink_request *r, const char *secret)
{
    crypto_auth_hmacsha256_state st;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)r->body, r->body_len);
    crypto_auth_hmacsha256_final(&st, mac);
    char hex[65], want[80], got[128];
    sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
    snprintf(want, sizeof(want), "sha256=%s", hex);
    assert_non_null(sink_header(r, "X-Slawatch-Signature", got, sizeof(got)));
    assert_string_equal(got, want);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* ---- every channel, once ---------------------------------------------------- */

static void test_all_channels_exactly_once(void **state)
{
    struct fx *f = fx_new(NULL);
    struct http_resp r;
    it_make_tenant(&f->s, "acme");
    int port = http_sink_port(f->http);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"channels\":[\"websocket\",\"email\",\"slack\",\"webhook\"],"
             "\"recipients\":{\"email\":[\"ops@acme.test\"],"
             "\"slack\":[\"http://127.0.0.1:%d/services/T1/B1/XXXXsecret\"],"
             "\"webhook\":[\"http://127.0.0.1:%d/hook\"]},"
             "\"thresholds\":[100,80,90,90],\"webhook_secret\":\"" SECRET "\"}",
             port, port);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/acme/configure", ADMIN_TOKEN,
                         body, &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "webhook_secret_set")));
    assert_null(json_object_get(r.json, "webhook_secret"));
    http_free(&r);

    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/acme/config", ADMIN_TOKEN,
                         NULL, &r), 200);
    assert_null(strstr(r.body, SECRET));
    assert_null(strstr(r.body, "XXXXsecret"));      /* a Slack URL is a credential */
    assert_true(json_is_true(json_object_get(r.json, "webhook_secret_set")));
    json_t *thr = json_object_get(r.json, "thresholds");
    assert_int_equal(json_array_size(thr), 3);
    assert_int_equal(json_integer_value(json_array_get(thr, 0)), 80);
    assert_int_equal(json_integer_value(json_array_get(thr, 2)), 100);
    assert_int_equal(json_array_size(json_object_get(r.json, "channels")), 4);
    json_t *emails = json_object_get(json_object_get(r.json, "recipients"), "email");
    assert_string_equal(json_string_value(json_array_get(emails, 0)), "ops@acme.test");
    http_free(&r);

    int n = 0;
    assert_int_equal(send_test(f, "acme",
                               "{\"type\":\"sla.breach\",\"item_kind\":\"alert\","
                               "\"item_id\":\"A-1\",\"severity\":\"critical\","
                               "\"clock\":\"resolve\"}", &n), 202);
    assert_int_equal(n, 4);     /* websocket + email + slack + webhook */

    assert_true(http_sink_wait(f->http, 2, 10000));
    assert_true(smtp_sink_wait(f->smtp, 1, 10000));

    /* the webhook: signed, keyed, the body API.md describes */
    struct sink_request w;
    assert_true(find_request(f->http, "/hook", 0, &w));
    assert_string_equal(w.method, "POST");
    char h[256];
    assert_non_null(sink_header(&w, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "application/json");
    assert_signed(&w, SECRET);
    json_t *wb = json_loads(w.body, 0, NULL);
    assert_non_null(wb);
    assert_non_null(sink_header(&w, "Idempotency-Key", h, sizeof(h)));
    assert_string_equal(h, jstr(wb, "id"));
    assert_int_equal(strncmp(h, "ntf_", 4), 0);
    assert_string_equal(jstr(wb, "type"), "sla.breach");
    assert_string_equal(jstr(wb, "tenant_id"), "acme");
    assert_string_equal(jstr(wb, "item_kind"), "alert");
    assert_string_equal(jstr(wb, "item_id"), "A-1");
    assert_string_equal(jstr(wb, "severity"), "critical");
    assert_string_equal(jstr(wb, "clock"), "resolve");
    assert_true(json_is_string(json_object_get(wb, "due_at")));
    assert_true(json_is_string(json_object_get(wb, "occurred_at")));
    assert_null(json_object_get(wb, "threshold_pct"));
    assert_true(json_is_true(json_object_get(wb, "test")));
    json_decref(wb);
    sink_request_free(&w);

    /* Slack: {"text": …} to the incoming-webhook URL */
    struct sink_request sl;
    assert_true(find_request(f->http, "/services/T1/B1/XXXXsecret", 0, &sl));
    json_t *sb = json_loads(sl.body, 0, NULL);
    assert_true(json_is_string(json_object_get(sb, "text")));
    assert_non_null(strstr(jstr(sb, "text"), "SLA breach"));
    assert_non_null(strstr(jstr(sb, "text"), "A-1"));
    assert_null(sink_header(&sl, "X-Slawatch-Signature", h, sizeof(h)));
    json_decref(sb);
    sink_request_free(&sl);

    /* email: envelope and headers */
    struct sink_mail m;
    assert_true(smtp_sink_get(f->smtp, 0, &m));
    assert_string_equal(m.from, "slawatch@example.test");
    assert_int_equal(m.nrcpt, 1);
    assert_string_equal(m.rcpt[0], "ops@acme.test");
    assert_non_null(sink_mail_header(&m, "To", h, sizeof(h)));
    assert_string_equal(h, "ops@acme.test");
    assert_non_null(sink_mail_header(&m, "From", h, sizeof(h)));
    assert_string_equal(h, "slawatch@example.test");
    assert_non_null(sink_mail_header(&m, "Subject", h, sizeof(h)));
    assert_non_null(strstr(h, "[slawatch] SLA breach"));
    assert_non_null(strstr(h, "A-1"));
    assert_non_null(sink_mail_header(&m, "Message-ID", h, sizeof(h)));
    assert_int_equal(strncmp(h, "<ntf_", 5), 0);
    assert_non_null(sink_mail_header(&m, "Date", h, sizeof(h)));
    assert_non_null(strstr(m.data, "item_id: A-1"));
    sink_mail_free(&m);

    /* all four delivered once, each after one attempt; nothing more arrives */
    json_t *items = wait_history(f, "acme", "delivered", 4);
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        assert_int_equal(json_integer_value(json_object_get(it, "attempt_count")), 1);
        json_t *att = json_object_get(it, "attempts");
        assert_int_equal(json_array_size(att), 1);
        assert_true(json_is_true(json_object_get(json_array_get(att, 0), "ok")));
        assert_string_equal(jstr(it, "type"), "sla.breach");
        assert_string_equal(jstr(it, "item_id"), "A-1");
    }
    char *dump = json_dumps(items, 0);
    assert_null(strstr(dump, "XXXXsecret"));
    free(dump);
    json_decref(items);
    sleep_ms(1000);
    assert_int_equal(http_sink_count(f->http), 2);
    assert_int_equal(smtp_sink_count(f->smtp), 1);

    /* warnings go out only for the configured thresholds */
    assert_int_equal(send_test(f, "acme", "{\"type\":\"sla.warning\",\"threshold_pct\":85}", &n),
                     202);
    assert_int_equal(n, 0);
    assert_int_equal(send_test(f, "acme", "{\"type\":\"sla.warning\",\"threshold_pct\":90}", &n),
                     202);
    assert_int_equal(n, 4);
    assert_true(http_sink_wait(f->http, 4, 10000));
    assert_true(find_request(f->http, "/hook", 1, &w));
    wb = json_loads(w.body, 0, NULL);
    assert_string_equal(jstr(wb, "type"), "sla.warning");
    assert_int_equal(json_integer_value(json_object_get(wb, "threshold_pct")), 90);
    assert_signed(&w, SECRET);
    json_decref(wb);
    sink_request_free(&w);
    fx_free(f);
}

/* ---- retries, dead rows ---------------------------------------------------- */

static void test_retry_then_delivered(void **state)
{
    struct fx *f = fx_new(NULL);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    http_sink_fail_next(f->http, 2);
    int n;
    assert_int_equal(send_test(f, "acme", NULL, &n), 202);
    assert_int_equal(n, 1);
    assert_true(http_sink_wait(f->http, 3, 10000));
    json_t *items = wait_history(f, "acme", "delivered", 1);
    json_t *row = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "attempt_count")), 3);
    json_t *att = json_object_get(row, "attempts");
    assert_int_equal(json_array_size(att), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *a = json_array_get(att, i);
        assert_int_equal(json_is_true(json_object_get(a, "ok")), i == 2);
        assert_int_equal(json_integer_value(json_object_get(a, "status")), i == 2 ? 200 : 500);
    }
    assert_string_equal(jstr(json_array_get(att, 0), "error"), "HTTP 500");
    json_decref(items);

    /* the three sends are the same bytes, signature and key */
    struct sink_request a, b;
    assert_true(http_sink_get(f->http, 0, &a));
    char k1[128], k2[128];
    for (size_t i = 1; i < 3; i++) {
        assert_true(http_sink_get(f->http, i, &b));
        assert_string_equal(a.body, b.body);
        assert_string_equal(sink_header(&a, "Idempotency-Key", k1, sizeof(k1)),
                            sink_header(&b, "Idempotency-Key", k2, sizeof(k2)));
        assert_signed(&b, SECRET);
        sink_request_free(&b);
    }
    sink_request_free(&a);
    sleep_ms(500);
    assert_int_equal(http_sink_count(f->http), 3);
    /* and /metrics counts them */
    struct http_resp mr;
    assert_int_equal(api(&f->s, "GET", "/metrics", NULL, NULL, &mr), 200);
    assert_non_null(strstr(mr.body, "slawatch_notify_delivered_total 1\n"));
    assert_non_null(strstr(mr.body, "slawatch_notify_failed_attempts_total 2\n"));
    http_free(&mr);
    fx_free(f);
}

static void test_dead_after_max_attempts(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_MAX_ATTEMPTS=3", NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    http_sink_set_status(f->http, 500);
    assert_int_equal(send_test(f, "acme", NULL, NULL), 202);
    json_t *items = wait_history(f, "acme", "dead", 1);
    json_t *row = json_array_get(items, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "attempt_count")), 3);
    assert_int_equal(json_array_size(json_object_get(row, "attempts")), 3);
    assert_string_equal(jstr(row, "last_error"), "HTTP 500");
    assert_true(json_is_null(json_object_get(row, "delivered_at")));
    json_decref(items);
    sleep_ms(700);
    assert_int_equal(http_sink_count(f->http), 3);     /* no fourth try */

    /* the dead row raised notify.dead in the log */
    char path[320], line[2048];
    FILE *log = fopen(srv_path(&f->s, "server.log", path, sizeof(path)), "r");
    assert_non_null(log);
    bool seen = false;
    while (fgets(line, sizeof(line), log))
        seen |= strstr(line, "notify.dead") != NULL && strstr(line, "after 3 attempts") != NULL;
    fclose(log);
    assert_true(seen);
    fx_free(f);
}

/* A tenant's URL must not reach the server's own network: with
 * notify_allow_private off (the default), a webhook resolving to loopback
 * is refused at connect, never sent, and ends dead with the reason. */
static void test_internal_address_refused(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_ALLOW_PRIVATE=off", "SLAWATCH_NOTIFY_MAX_ATTEMPTS=2",
                         NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    assert_int_equal(send_test(f, "acme", NULL, NULL), 202);
    json_t *items = wait_history(f, "acme", "dead", 1);
    json_t *row = json_array_get(items, 0);
    assert_non_null(strstr(jstr(row, "last_error"), "internal address"));
    json_decref(items);
    assert_int_equal(http_sink_count(f->http), 0);
    fx_free(f);
}

/* ---- flood control ------------------------------------------------------------ */

static void test_flood_sends_one_digest(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_FLOOD_MAX=3", "SLAWATCH_NOTIFY_FLOOD_WINDOW_MS=3000",
                         NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    for (int i = 0; i < 10; i++) {
        int n = 0;
        assert_int_equal(send_test(f, "acme", NULL, &n), 202);
        assert_int_equal(n, 1);
    }
    assert_true(http_sink_wait(f->http, 4, 15000));
    sleep_ms(1500);
    assert_int_equal(http_sink_count(f->http), 4);     /* 3 notices + 1 digest */

    size_t digests = 0;
    for (size_t i = 0; i < 4; i++) {
        struct sink_request r;
        assert_true(http_sink_get(f->http, i, &r));
        assert_signed(&r, SECRET);
        json_t *b = json_loads(r.body, 0, NULL);
        if (!strcmp(jstr(b, "type"), "notify.digest")) {
            digests++;
            assert_int_equal(json_integer_value(json_object_get(b, "count")), 7);
            assert_int_equal(json_array_size(json_object_get(b, "items")), 7);
            assert_string_equal(jstr(json_array_get(json_object_get(b, "items"), 0), "type"),
                                "notify.test");
            char k[128];
            assert_string_equal(sink_header(&r, "Idempotency-Key", k, sizeof(k)), jstr(b, "id"));
        } else {
            assert_string_equal(jstr(b, "type"), "notify.test");
        }
        json_decref(b);
        sink_request_free(&r);
    }
    assert_int_equal(digests, 1);

    json_t *items = wait_history(f, "acme", "delivered", 4);
    assert_int_equal(count_state(items, "digested"), 7);
    json_int_t digest_id = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
        if (!strcmp(jstr(it, "type"), "notify.digest"))
            digest_id = json_integer_value(json_object_get(it, "id"));
    assert_true(digest_id > 0);
    json_array_foreach(items, i, it) {
        if (strcmp(jstr(it, "state"), "digested"))
            continue;
        assert_int_equal(json_integer_value(json_object_get(it, "digest_id")), digest_id);
        assert_true(json_is_string(json_object_get(it, "delivered_at")));
        assert_int_equal(json_integer_value(json_object_get(it, "attempt_count")), 0);
    }
    json_decref(items);
    fx_free(f);
}

/* ---- crashes -------------------------------------------------------------------- */

/* Written, never attempted (delivery off on this node), kill -9: the next
 * start delivers it, once. */
static void test_kill9_before_delivery(void **state)
{
    const char *off[] = {"SLAWATCH_NOTIFY=off", NULL};
    struct fx *f = fx_new(off);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    assert_int_equal(send_test(f, "acme", NULL, NULL), 202);
    json_t *items = history(f, "acme");
    assert_int_equal(count_state(items, "pending"), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "attempt_count")),
                     0);
    json_decref(items);
    sleep_ms(300);
    assert_int_equal(http_sink_count(f->http), 0);
    srv_kill9(&f->s);

    f->envp[f->nenv - 1] = NULL;        /* the same settings, delivery on */
    srv_start(&f->s, NULL, f->envp);
    assert_true(http_sink_wait(f->http, 1, 10000));
    items = wait_history(f, "acme", "delivered", 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "attempt_count")),
                     1);
    json_decref(items);
    sleep_ms(1000);
    size_t keys;
    assert_int_equal(http_sink_count_path(f->http, "/hook", &keys), 1);
    assert_int_equal(keys, 1);
    fx_free(f);
}

/* Killed while the receiver holds the request: the lease runs out and the
 * next start sends it again with the same Idempotency-Key, so a receiver
 * that dedupes by key has it exactly once. */
static void test_kill9_mid_delivery_same_key(void **state)
{
    const char *env[] = {"SLAWATCH_NOTIFY_LEASE_MS=1000", NULL};
    struct fx *f = fx_new(env);
    it_make_tenant(&f->s, "acme");
    configure_webhook(f, "acme");
    http_sink_set_delay(f->http, 2500);
    assert_int_equal(send_test(f, "acme", NULL, NULL), 202);
    assert_true(http_sink_wait(f->http, 1, 10000));
    srv_kill9(&f->s);
    http_sink_set_delay(f->http, 0);
    srv_start(&f->s, NULL, f->envp);
    assert_true(http_sink_wait(f->http, 2, 15000));
    json_t *items = wait_history(f, "acme", "delivered", 1);
    assert_int_equal(json_array_size(items), 1);
    json_decref(items);
    sleep_ms(1500);
    size_t keys;
    assert_int_equal(http_sink_count_path(f->http, "/hook", &keys), 2);
    assert_int_equal(keys, 1);
    struct sink_request a, b;
    assert_true(http_sink_get(f->http, 0, &a));
    assert_true(http_sink_get(f->http, 1, &b));
    assert_string_equal(a.body, b.body);
    sink_request_free(&a);
    sink_request_free(&b);
    fx_free(f);
}

/* ---- tenancy and input ---------------------------------------------------------- */

static void test_tenant_isolation(void **state)
{
    struct fx *f = fx_new(NULL);
    struct http_resp r;
    it_make_tenant(&f->s, "ta");
    it_make_tenant(&f->s, "tb");
    configure_webhook(f, "ta");
    configure_webhook(f, "tb");
    char viewer[128], admin_a[128];
    it_make_token(&f->s, "viewer", "ta", viewer, sizeof(viewer));
    it_make_token(&f->s, "tenant_admin", "ta", admin_a, sizeof(admin_a));

    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/tb/config", viewer, NULL, NULL),
                     404);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/tb", viewer, NULL, NULL), 404);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/tb/configure", admin_a,
                         "{\"channels\":[\"websocket\"]}", NULL), 404);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/tb/test", admin_a, NULL, NULL),
                     404);
    /* a viewer reads its own tenant but may not change it */
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/ta/configure", viewer,
                         "{\"channels\":[\"websocket\"]}", NULL), 403);
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/ta/test", viewer, NULL, NULL),
                     403);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/ta/config", viewer, NULL, &r),
                     200);
    assert_null(json_object_get(r.json, "webhook_secret"));
    assert_null(strstr(r.body, SECRET));
    http_free(&r);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/ta", viewer, NULL, &r), 200);
    http_free(&r);
    /* the tenant admin of ta sends a test: only ta's receiver path gets it */
    assert_int_equal(api(&f->s, "POST", "/api/v1/sla/notifications/ta/test", admin_a, NULL, &r),
                     202);
    http_free(&r);
    assert_true(http_sink_wait(f->http, 1, 10000));
    json_t *hb = history(f, "tb");
    assert_int_equal(json_array_size(hb), 0);
    json_decref(hb);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/ghost/config", ADMIN_TOKEN,
                         NULL, NULL), 404);
    fx_free(f);
}

static void expect_422(struct sw_server *s, const char *path, const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, "POST", path, ADMIN_TOKEN, body, &r);
    if (st != 422)
        fail_msg("%s %s: got %ld (%s), want 422 on %s", path, body, st, r.body, field);
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void test_bad_config_422(void **state)
{
    struct fx *f = fx_new(NULL);
    struct http_resp r;
    it_make_tenant(&f->s, "acme");
    const char *p = "/api/v1/sla/notifications/acme/configure";
    expect_422(&f->s, p, "{}", "channels");
    expect_422(&f->s, p, "{\"channels\":\"email\"}", "channels");
    expect_422(&f->s, p, "{\"channels\":[\"sms\"]}", "channels");
    expect_422(&f->s, p, "{\"channels\":[\"email\"]}", "recipients.email");
    expect_422(&f->s, p, "{\"channels\":[\"email\"],\"recipients\":{\"email\":[\"nope\"]}}",
               "recipients.email");
    expect_422(&f->s, p,
               "{\"channels\":[\"email\"],\"recipients\":{\"email\":"
               "[\"a@b.test\\r\\nBcc: x@y.test\"]}}",
               "recipients.email");
    expect_422(&f->s, p, "{\"channels\":[\"email\"],\"recipients\":{\"email\":[42]}}",
               "recipients.email");
    expect_422(&f->s, p, "{\"channels\":[\"email\"],\"recipients\":{\"sms\":[\"+100\"]}}",
               "recipients.sms");
    expect_422(&f->s, p, "{\"channels\":[\"email\"],\"recipients\":[]}", "recipients");
    expect_422(&f->s, p,
               "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":[\"ftp://x.test/h\"]},"
               "\"webhook_secret\":\"" SECRET "\"}",
               "recipients.webhook");
    expect_422(&f->s, p,
               "{\"channels\":[\"slack\"],\"recipients\":{\"slack\":[\"javascript:alert(1)\"]}}",
               "recipients.slack");
    expect_422(&f->s, p,
               "{\"channels\":[\"slack\"],\"recipients\":{\"slack\":[\"https://\"]}}",
               "recipients.slack");
    /* 21 recipients */
    char body[4096];
    size_t n = (size_t)snprintf(body, sizeof(body),
                                "{\"channels\":[\"email\"],\"recipients\":{\"email\":[");
    for (int i = 0; i < 21; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "%s\"u%d@acme.test\"", i ? "," : "", i);
    snprintf(body + n, sizeof(body) - n, "]}}");
    expect_422(&f->s, p, body, "recipients.email");
    expect_422(&f->s, p, "{\"channels\":[\"websocket\"],\"thresholds\":[0]}", "thresholds");
    expect_422(&f->s, p, "{\"channels\":[\"websocket\"],\"thresholds\":[101]}", "thresholds");
    expect_422(&f->s, p, "{\"channels\":[\"websocket\"],\"thresholds\":[\"80\"]}", "thresholds");
    expect_422(&f->s, p, "{\"channels\":[\"websocket\"],\"thresholds\":[]}", "thresholds");
    expect_422(&f->s, p,
               "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":[\"http://x.test/h\"]}}",
               "webhook_secret");
    expect_422(&f->s, p,
               "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":[\"http://x.test/h\"]},"
               "\"webhook_secret\":\"short\"}",
               "webhook_secret");

    /* nothing configured yet: a test notice has nowhere to go */
    assert_int_equal(send_test(f, "acme", NULL, NULL), 409);
    expect_422(&f->s, "/api/v1/sla/notifications/acme/test", "{\"type\":\"sla.nope\"}", "type");

    /* a valid one; a later config without webhook_secret keeps the stored one */
    assert_int_equal(api(&f->s, "POST", p,
                         ADMIN_TOKEN,
                         "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":"
                         "[\"https://hooks.example.test/x\"]},\"webhook_secret\":\"" SECRET "\"}",
                         NULL), 200);
    assert_int_equal(api(&f->s, "POST", p, ADMIN_TOKEN,
                         "{\"channels\":[\"webhook\",\"websocket\"],\"recipients\":{\"webhook\":"
                         "[\"https://hooks.example.test/y\"]}}", &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "webhook_secret_set")));
    http_free(&r);
    expect_422(&f->s, "/api/v1/sla/notifications/acme/test",
               "{\"type\":\"sla.warning\"}", "threshold_pct");

    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/acme?limit=0", ADMIN_TOKEN,
                         NULL, &r), 422);
    assert_error_shape(&r, "invalid", "limit");
    http_free(&r);
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/notifications/acme?limit=x", ADMIN_TOKEN,
                         NULL, NULL), 422);
    fx_free(f);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_channels_exactly_once),
        cmocka_unit_test(test_retry_then_delivered),
        cmocka_unit_test(test_dead_after_max_attempts),
        cmocka_unit_test(test_internal_address_refused),
        cmocka_unit_test(test_flood_sends_one_digest),
        cmocka_unit_test(test_kill9_before_delivery),
        cmocka_unit_test(test_kill9_mid_delivery_same_key),
        cmocka_unit_test(test_tenant_isolation),
        cmocka_unit_test(test_bad_config_422),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
