/* The notifier's pure parts: backoff bounds, signature, idempotency keys,
 * the webhook body, texts, the email message. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "core/sla.h"
#include "notify/notify.h"
#include "notify/notify_int.h"

#define BASE 2000
#define CAP (10 * 60 * 1000)

static void test_backoff_doubles_within_jitter(void **state)
{
    for (int n = 1; n <= 8; n++) {
        int64_t d = (int64_t)BASE << (n - 1);
        int64_t lo = notify_backoff_ms(n, BASE, CAP, 0);
        int64_t mid = notify_backoff_ms(n, BASE, CAP, UINT32_MAX / 2);
        int64_t hi = notify_backoff_ms(n, BASE, CAP, UINT32_MAX);
        assert_int_equal(lo, d * 8 / 10);
        assert_true(mid >= d - 1 && mid <= d + 1);
        assert_int_equal(hi, d * 12 / 10);
        for (int k = 0; k < 200; k++) {
            int64_t j = notify_backoff_ms(n, BASE, CAP, randombytes_random());
            assert_true(j >= lo && j <= hi);
        }
    }
}

static void test_backoff_capped(void **state)
{
    /* 2 s * 2^9 = 1024 s > 600 s: capped, jitter below the cap only */
    assert_int_equal(notify_backoff_ms(10, BASE, CAP, UINT32_MAX), CAP);
    assert_int_equal(notify_backoff_ms(10, BASE, CAP, 0), CAP * 8 / 10);
    assert_int_equal(notify_backoff_ms(1000, BASE, CAP, UINT32_MAX), CAP);     /* no overflow */
    assert_true(notify_backoff_ms(1000, BASE, CAP, 0) >= CAP * 8 / 10);
    assert_int_equal(notify_backoff_ms(0, BASE, CAP, 0), BASE * 8 / 10);      /* as attempt 1 */
    assert_true(notify_backoff_ms(1, 1, CAP, 0) >= 1);
}

static void test_sign_hex_rfc4231(void **state)
{
    /* RFC 4231 test case 2 */
    char hex[NOTIFY_SIG_HEX + 1];
    const char *data = "what do ya want for nothing?";
    notify_sign_hex(data, strlen(data), "Jefe", hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* a key longer than the block size is hashed first (RFC 4231 case 6) */
    char key[132];
    memset(key, 0xaa, 131);
    key[131] = '\0';
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    notify_sign_hex(d6, strlen(d6), key, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static struct sw_notice breach(void)
{
    struct sw_notice n;
    memset(&n, 0, sizeof(n));
    strcpy(n.tenant_id, "acme");
    strcpy(n.type, "sla.breach");
    strcpy(n.item_kind, "alert");
    strcpy(n.item_id, "A-1");
    strcpy(n.severity, "critical");
    strcpy(n.clock, "resolve");
    n.due_at = 1795341600000;       /* 2026-11-22T10:00:00Z */
    n.occurred_at = 1795341600001;
    return n;
}

static void test_key_stable_and_distinct(void **state)
{
    struct sw_notice n = breach();
    char a[NOTIFY_KEY_LEN + 1], b[NOTIFY_KEY_LEN + 1];
    notify_key(&n, 0, NOTIFY_WEBHOOK, "https://x.test/h", a);
    assert_int_equal(strlen(a), NOTIFY_KEY_LEN);
    assert_memory_equal(a, "ntf_", 4);
    notify_key(&n, 0, NOTIFY_WEBHOOK, "https://x.test/h", b);
    assert_string_equal(a, b);                       /* same event, same recipient */
    n.occurred_at += 5000;                           /* seen again later: same event */
    notify_key(&n, 0, NOTIFY_WEBHOOK, "https://x.test/h", b);
    assert_string_equal(a, b);
    notify_key(&n, 0, NOTIFY_WEBHOOK, "https://x.test/other", b);
    assert_string_not_equal(a, b);
    notify_key(&n, 0, NOTIFY_SLACK, "https://x.test/h", b);
    assert_string_not_equal(a, b);
    notify_key(&n, 42, NOTIFY_WEBHOOK, "https://x.test/h", b);
    assert_string_not_equal(a, b);                   /* keyed by the event row */
    char c[NOTIFY_KEY_LEN + 1];
    notify_key(&n, 43, NOTIFY_WEBHOOK, "https://x.test/h", c);
    assert_string_not_equal(b, c);
    n.due_at += 1;                                   /* a re-armed deadline: a new event */
    notify_key(&n, 0, NOTIFY_WEBHOOK, "https://x.test/h", b);
    assert_string_not_equal(a, b);
}

/* Keys of new outbox rows: UUIDv7 in the old "ntf_" + 32 hex shape. */
static void test_key_new_uuid7(void **state)
{
    char k[NOTIFY_KEY_LEN + 1];
    const uint8_t rnd[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    /* 2026-11-22T10:00:00Z = 0x01a2_02b2_c500 ms */
    notify_key_uuid7(1795341600000, rnd, k);
    assert_string_equal(k, "ntf_" "01a202b2c500" "7fff" "bfff" "ffffffffffff");
    const uint8_t zero[10] = {0};
    notify_key_uuid7(1795341600000, zero, k);
    assert_string_equal(k, "ntf_" "01a202b2c500" "7000" "8000" "000000000000");
    notify_key_uuid7(0, zero, k);               /* no clock: still well formed */
    assert_string_equal(k, "ntf_00000000000070008000000000000000");

    /* random ones: the shape, the time, no two alike, later sorts after */
    enum { N = 20000 };
    char (*keys)[NOTIFY_KEY_LEN + 1] = malloc(N * sizeof(*keys));
    for (int i = 0; i < N; i++) {
        notify_key_new(1795341600000 + i / 100, keys[i]);
        assert_int_equal(strlen(keys[i]), NOTIFY_KEY_LEN);
        assert_memory_equal(keys[i], "ntf_", 4);
        assert_memory_equal(keys[i] + 4, "01a202b2c", 9);
        assert_int_equal(keys[i][4 + 12], '7');                   /* version */
        assert_non_null(strchr("89ab", keys[i][4 + 16]));         /* variant */
        for (int j = 4; j < NOTIFY_KEY_LEN; j++)
            assert_non_null(strchr("0123456789abcdef", keys[i][j]));
        if (i >= 100)
            assert_true(strcmp(keys[i - 100], keys[i]) < 0);
    }
    qsort(keys, N, sizeof(*keys), (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(keys[i - 1], keys[i]);
    free(keys);
}

/* ---- destinations and the circuit breaker ------------------------------- */

static void test_destination(void **state)
{
    char d[NOTIFY_DEST_MAX];
    notify_destination(NOTIFY_SLACK, "https://hooks.slack.com/services/T1/B2/XXXXsecret", "", d);
    assert_string_equal(d, "hooks.slack.com:443");              /* never the path */
    notify_destination(NOTIFY_WEBHOOK, "http://127.0.0.1:8080/hook?x=1", "", d);
    assert_string_equal(d, "127.0.0.1:8080");
    notify_destination(NOTIFY_WEBHOOK, "http://Hooks.Example.TEST/a", "", d);
    assert_string_equal(d, "hooks.example.test:80");
    notify_destination(NOTIFY_WEBHOOK, "https://user:pw@example.test:8443/a", "", d);
    assert_string_equal(d, "example.test:8443");                /* never credentials */
    notify_destination(NOTIFY_WEBHOOK, "http://[::1]:9000/h", "", d);
    assert_string_equal(d, "[::1]:9000");
    notify_destination(NOTIFY_WEBHOOK, "not a url", "", d);
    assert_string_equal(d, "invalid");
    /* email: the relay, whoever the recipient */
    notify_destination(NOTIFY_EMAIL, "ops@acme.test", "smtp://mail.example.test:587", d);
    assert_string_equal(d, "mail.example.test:587");
    notify_destination(NOTIFY_EMAIL, "ops@acme.test", "smtps://mail.example.test", d);
    assert_string_equal(d, "mail.example.test:465");
    notify_destination(NOTIFY_EMAIL, "ops@acme.test", "", d);
    assert_string_equal(d, "invalid");
}

static void test_breaker(void **state)
{
    const struct notify_breaker_cfg c = {.failures = 3, .cooldown_ms = 1000,
                                         .cooldown_max_ms = 3000};
    struct notify_breaker b;
    memset(&b, 0, sizeof(b));
    int64_t t = 10000;
    /* closed: failures in a row open it; a success (or a 4xx) in between resets */
    assert_int_equal(notify_breaker_gate(&b, t), NOTIFY_GATE_GO);
    notify_breaker_result(&b, &c, false, true, t);
    notify_breaker_result(&b, &c, false, true, t);
    notify_breaker_result(&b, &c, false, false, t);
    assert_int_equal(b.state, NOTIFY_BREAKER_CLOSED);
    assert_int_equal(b.failures, 0);
    for (int i = 0; i < 3; i++)
        notify_breaker_result(&b, &c, false, true, t);
    assert_int_equal(b.state, NOTIFY_BREAKER_OPEN);
    /* open: skipped until the cool-down ends */
    assert_int_equal(notify_breaker_gate(&b, t), NOTIFY_GATE_OPEN);
    assert_int_equal(notify_breaker_gate(&b, t + 999), NOTIFY_GATE_OPEN);
    /* a transfer started before it opened changes nothing */
    notify_breaker_result(&b, &c, false, false, t + 500);
    assert_int_equal(b.state, NOTIFY_BREAKER_OPEN);
    /* half-open: one probe, the others wait (not a failure) */
    assert_int_equal(notify_breaker_gate(&b, t + 1000), NOTIFY_GATE_PROBE);
    assert_int_equal(b.state, NOTIFY_BREAKER_HALF_OPEN);
    assert_int_equal(notify_breaker_gate(&b, t + 1001), NOTIFY_GATE_WAIT);
    /* the probe fails: open for twice as long, then three times capped */
    notify_breaker_result(&b, &c, true, true, t + 1100);
    assert_int_equal(b.state, NOTIFY_BREAKER_OPEN);
    assert_int_equal(b.open_until, t + 1100 + 2000);
    assert_int_equal(notify_breaker_gate(&b, t + 3099), NOTIFY_GATE_OPEN);
    assert_int_equal(notify_breaker_gate(&b, t + 3100), NOTIFY_GATE_PROBE);
    notify_breaker_result(&b, &c, true, true, t + 3200);
    assert_int_equal(b.open_until, t + 3200 + 3000);           /* 4000 capped at 3000 */
    /* a probe abandoned (shutdown) lets the next one go */
    assert_int_equal(notify_breaker_gate(&b, t + 6200), NOTIFY_GATE_PROBE);
    notify_breaker_probe_abandoned(&b);
    assert_int_equal(notify_breaker_gate(&b, t + 6201), NOTIFY_GATE_PROBE);
    /* the probe succeeds: closed, counts from zero, next opening at 1 s again */
    notify_breaker_result(&b, &c, true, false, t + 6300);
    assert_int_equal(b.state, NOTIFY_BREAKER_CLOSED);
    assert_int_equal(notify_breaker_gate(&b, t + 6300), NOTIFY_GATE_GO);
    for (int i = 0; i < 3; i++)
        notify_breaker_result(&b, &c, false, true, t + 7000);
    assert_int_equal(b.open_until, t + 7000 + 1000);
}

static void test_body_fields_in_order(void **state)
{
    struct sw_notice n = breach();
    char *s = notify_body(&n, "ntf_x");
    assert_string_equal(s, "{\"id\":\"ntf_x\",\"type\":\"sla.breach\",\"tenant_id\":\"acme\","
                           "\"tenant_name\":null,\"item_kind\":\"alert\",\"item_id\":\"A-1\","
                           "\"title\":null,\"severity\":\"critical\","
                           "\"clock\":\"resolve\",\"due_at\":\"2026-11-22T10:00:00.000Z\","
                           "\"overage_ms\":0,\"engaged\":null,"
                           "\"occurred_at\":\"2026-11-22T10:00:00.001Z\"}");
    free(s);
    strcpy(n.type, "sla.warning");
    n.threshold_pct = 90;
    s = notify_body(&n, "k");
    assert_non_null(strstr(s, "\"clock\":\"resolve\",\"threshold_pct\":90,\"due_at\""));
    assert_null(strstr(s, "escalation"));
    free(s);
}

/* ---- the body against jansson ------------------------------------------- */

/* The body as it was built before it was written by hand (a jansson tree,
 * dumped compact): notify_body must write the same bytes. */
static json_t *ref_str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *ref_time(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[SLA_TIME_BUFSZ];
    sla_time_format(ms, buf);
    return json_string(buf);
}

static char *ref_body(const struct sw_notice *n, const char *id, enum notify_channel ch)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id));
    json_object_set_new(o, "type", json_string(n->type));
    json_object_set_new(o, "tenant_id", json_string(n->tenant_id));
    json_object_set_new(o, "tenant_name", ref_str_or_null(n->tenant_name));
    json_object_set_new(o, "item_kind", ref_str_or_null(n->item_kind));
    json_object_set_new(o, "item_id", ref_str_or_null(n->item_id));
    json_object_set_new(o, "title", ref_str_or_null(n->title));
    json_object_set_new(o, "severity", ref_str_or_null(n->severity));
    json_object_set_new(o, "clock", ref_str_or_null(n->clock));
    if (n->threshold_pct > 0)
        json_object_set_new(o, "threshold_pct", json_integer(n->threshold_pct));
    if (n->escalation_level > 0) {
        json_object_set_new(o, "escalation_level", json_integer(n->escalation_level));
        json_object_set_new(o, "escalation_target", json_string(n->escalation_target));
    }
    json_object_set_new(o, "due_at", ref_time(n->due_at));
    json_object_set_new(o, "overage_ms", json_integer(n->overage_ms > 0 ? n->overage_ms : 0));
    const struct sw_engaged *e = &n->engaged;
    json_t *eng = json_null();
    if (e->user[0]) {
        json_t *via = json_array();
        for (int c = 0; c < NOTIFY_NCHANNELS; c++)
            if (e->via & (1u << c))
                json_array_append_new(via, json_string(notify_channel_name((enum notify_channel)c)));
        eng = json_object();
        json_object_set_new(eng, "user", json_string(e->user));
        json_object_set_new(eng, "method", ref_str_or_null(e->method));
        if (e->level > 0)
            json_object_set_new(eng, "level", json_integer(e->level));
        json_object_set_new(eng, "via", via);
        if (e->slack_user_id[0])
            json_object_set_new(eng, "slack_user_id", json_string(e->slack_user_id));
        if (e->note[0])
            json_object_set_new(eng, "note", json_string(e->note));
    }
    json_object_set_new(o, "engaged", eng);
    json_object_set_new(o, "occurred_at", ref_time(n->occurred_at));
    if (n->test)
        json_object_set_new(o, "test", json_true());
    if (ch == NOTIFY_PHONE)
        json_object_set_new(o, "to", json_string(n->engaged.phone));
    if (ch == NOTIFY_PAGER) {
        json_object_set_new(o, "event_action",
                            json_string(n->pager_action[0] ? n->pager_action : "trigger"));
        json_object_set_new(o, "dedup_key", json_string(n->dedup_key));
    }
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* Texts with everything a JSON string must escape, and UTF-8 of each length. */
static const char *const texts[] = {
    "", "plain", "quote \" and \\ backslash", "tab\tnew\nline\rret\bbs\fff",
    "ctl \x01\x1f\x7f del", "slash / </script>", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5",
    "{\"json\":[1,2]}", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static void fill(char *dst, size_t len, uint32_t r)
{
    snprintf(dst, len, "%s", texts[r % NTEXTS]);
}

static void test_body_same_as_jansson(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    for (int i = 0; i < 3000; i++) {
        struct sw_notice n;
        memset(&n, 0, sizeof(n));
#define R() (seed = seed * 1103515245u + 12345u, seed >> 8)
        fill(n.tenant_id, sizeof(n.tenant_id), R());
        fill(n.type, sizeof(n.type), R());
        fill(n.item_kind, sizeof(n.item_kind), R());
        fill(n.item_id, sizeof(n.item_id), R());
        fill(n.severity, sizeof(n.severity), R());
        fill(n.clock, sizeof(n.clock), R());
        fill(n.title, sizeof(n.title), R());
        fill(n.tenant_name, sizeof(n.tenant_name), R());
        fill(n.escalation_target, sizeof(n.escalation_target), R());
        n.threshold_pct = R() % 3 ? 0 : (int)(R() % 100);
        n.escalation_level = R() % 2 ? 0 : (int)(R() % 5);
        n.due_at = R() % 4 ? (int64_t)1795341600000 + (int64_t)R() : 0;
        n.occurred_at = R() % 4 ? (int64_t)1795341600000 + (int64_t)R() : 0;
        n.overage_ms = (int64_t)(R() % 2000000) - 1000000;
        n.test = R() % 5 == 0;
        if (R() % 2) {
            fill(n.engaged.user, sizeof(n.engaged.user), R());
            if (!n.engaged.user[0])
                snprintf(n.engaged.user, sizeof(n.engaged.user), "ana");
            fill(n.engaged.method, sizeof(n.engaged.method), R());
            n.engaged.level = (int)(R() % 4);
            n.engaged.via = R() & ((1u << NOTIFY_NCHANNELS) - 1);
            fill(n.engaged.slack_user_id, sizeof(n.engaged.slack_user_id), R());
            fill(n.engaged.note, sizeof(n.engaged.note), R());
            fill(n.engaged.phone, sizeof(n.engaged.phone), R());
        }
        fill(n.pager_action, sizeof(n.pager_action), R());
        fill(n.dedup_key, sizeof(n.dedup_key), R());
        enum notify_channel ch = (enum notify_channel)(R() % NOTIFY_NCHANNELS);
        char *want = ref_body(&n, "ntf_0123", ch), *got = notify_body_row(&n, "ntf_0123", ch);
        assert_non_null(want);
        assert_string_equal(got, want);
        free(got);
        free(want);
        want = ref_body(&n, "ntf_0123", NOTIFY_WEBHOOK);
        got = notify_body(&n, "ntf_0123");
        assert_string_equal(got, want);
        free(got);
        free(want);
#undef R
    }
}

/* A title cut in the middle of a character (a fixed-size copy): the body
 * stays valid JSON, the title ends before the cut character. */
static void test_body_cut_utf8(void **state)
{
    (void)state;
    struct sw_notice n;
    memset(&n, 0, sizeof(n));
    snprintf(n.type, sizeof(n.type), "sla.breach");
    snprintf(n.tenant_id, sizeof(n.tenant_id), "acme");
    snprintf(n.title, sizeof(n.title), "disk \xe2\x82");          /* € without its last byte */
    snprintf(n.tenant_name, sizeof(n.tenant_name), "A\xc3");     /* é without its last byte */
    snprintf(n.item_id, sizeof(n.item_id), "x\xed\xa0\x80y");   /* a surrogate: never UTF-8 */
    char *body = notify_body(&n, "ntf_1");
    json_error_t err;
    json_t *o = json_loads(body, 0, &err);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "title")), "disk ");
    assert_string_equal(json_string_value(json_object_get(o, "tenant_name")), "A");
    assert_string_equal(json_string_value(json_object_get(o, "item_id")), "x");
    json_decref(o);
    free(body);
}

static void test_summary_and_details(void **state)
{
    struct sw_notice n = breach();
    char *body = notify_body(&n, "k1");
    char *sum = notify_summary(body);
    assert_string_equal(sum, "SLA breach: alert A-1 (critical, resolve clock) in tenant acme");
    char *det = notify_details(body);
    assert_memory_equal(det, sum, strlen(sum));
    assert_non_null(strstr(det, "  item_id: A-1\n"));
    assert_non_null(strstr(det, "  due_at: 2026-11-22T10:00:00.000Z\n"));
    free(sum);
    free(det);
    free(body);

    strcpy(n.type, "sla.warning");
    n.threshold_pct = 80;
    body = notify_body(&n, "k2");
    sum = notify_summary(body);
    assert_string_equal(sum, "SLA warning at 80%: alert A-1 (critical, resolve clock) in tenant acme");
    free(sum);
    free(body);

    sum = notify_summary("{\"type\":\"notify.digest\",\"tenant_id\":\"acme\",\"count\":25,"
                         "\"items\":[{\"type\":\"sla.breach\",\"tenant_id\":\"acme\","
                         "\"item_kind\":\"finding\",\"item_id\":\"F-9\"}]}");
    assert_string_equal(sum, "25 SLA notices for tenant acme (digest)");
    free(sum);
    det = notify_details("{\"type\":\"notify.digest\",\"tenant_id\":\"acme\",\"count\":25,"
                         "\"items\":[{\"type\":\"sla.breach\",\"tenant_id\":\"acme\","
                         "\"item_kind\":\"finding\",\"item_id\":\"F-9\"}]}");
    assert_non_null(strstr(det, "- SLA breach: finding F-9 in tenant acme\n"));
    assert_non_null(strstr(det, "... and 24 more\n"));
    free(det);
    sum = notify_summary("not json");
    assert_string_equal(sum, "SLA notice");
    free(sum);
}

static void test_email_message(void **state)
{
    char *m = notify_email_message("slawatch@example.test", "ops@acme.test",
                                   "[slawatch] SLA breach", "line one\nline two\r\n.dot\n",
                                   "ntf_abc", 1795341600000);
    assert_string_equal(m,
                        "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n"
                        "From: slawatch@example.test\r\n"
                        "To: ops@acme.test\r\n"
                        "Subject: [slawatch] SLA breach\r\n"
                        "Message-ID: <ntf_abc@slawatch>\r\n"
                        "MIME-Version: 1.0\r\n"
                        "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: 7bit\r\n"
                        "Auto-Submitted: auto-generated\r\n"
                        "\r\n"
                        "line one\r\nline two\r\n.dot\r\n");
    free(m);
}

/* The people's fields: title, tenant name, overage, engaged, in the body and
 * the texts; the link added for delivery. */
static void test_body_people(void **state)
{
    struct sw_notice n = breach();
    strcpy(n.title, "Disk full on db-1");
    strcpy(n.tenant_name, "Acme Bank");
    n.overage_ms = 3 * 3600000 + 5 * 60000;
    strcpy(n.engaged.user, "mgr1");
    strcpy(n.engaged.method, "slack");
    n.engaged.level = 2;
    n.engaged.via = (1u << NOTIFY_SLACK);
    strcpy(n.engaged.slack_user_id, "U0MGR1");
    char *body = notify_body(&n, "k");
    assert_non_null(strstr(body, "\"title\":\"Disk full on db-1\""));
    assert_non_null(strstr(body, "\"tenant_name\":\"Acme Bank\""));
    assert_non_null(strstr(body, "\"overage_ms\":11100000"));
    assert_non_null(strstr(body, "\"engaged\":{\"user\":\"mgr1\",\"method\":\"slack\",\"level\":2,"
                                 "\"via\":[\"slack\"],\"slack_user_id\":\"U0MGR1\"}"));
    char *sum = notify_summary(body);
    assert_string_equal(sum, "SLA breach: alert A-1 \"Disk full on db-1\" (critical, resolve "
                             "clock) in tenant Acme Bank");
    char *det = notify_details(body);
    assert_non_null(strstr(det, "  overage: 3 h 5 min\n"));
    assert_non_null(strstr(det, "  engaged: mgr1 (slack via slack)\n"));
    free(sum);
    free(det);
    char *linked = notify_body_with_url(body, "https://sla.example.com/");
    assert_non_null(strstr(linked, "\"url\":\"https://sla.example.com/sla-dashboard#/dashboard?"
                                   "tenant=acme&alert=A-1\""));
    det = notify_details(linked);
    assert_non_null(strstr(det, "  url: https://sla.example.com/sla-dashboard#/dashboard?"));
    free(det);
    free(linked);
    linked = notify_body_with_url(body, "");
    assert_string_equal(linked, body);
    free(linked);
    free(body);
    char url[256];
    notify_item_url("http://x", "t 1", "finding", "CVE/1", url, sizeof(url));
    assert_string_equal(url, "http://x/sla-dashboard#/findings?tenant=t%201&finding=CVE%2F1");
}

static void test_pagerduty_body(void **state)
{
    struct sw_notice n = breach();
    strcpy(n.type, "sla.escalation");
    strcpy(n.title, "Disk full");
    strcpy(n.dedup_key, "slawatch/acme/alert/A-1/2");
    char *row = notify_body_row(&n, "k", NOTIFY_PAGER);
    assert_non_null(strstr(row, "\"event_action\":\"trigger\",\"dedup_key\":\"slawatch/acme/"));
    char *pd = notify_pagerduty_body(row, "R0UTINGKEY0123456789abcd", "https://sla.test");
    json_t *o = json_loads(pd, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "routing_key")),
                        "R0UTINGKEY0123456789abcd");
    assert_string_equal(json_string_value(json_object_get(o, "event_action")), "trigger");
    assert_string_equal(json_string_value(json_object_get(o, "dedup_key")),
                        "slawatch/acme/alert/A-1/2");
    json_t *p = json_object_get(o, "payload");
    assert_non_null(strstr(json_string_value(json_object_get(p, "summary")), "Disk full"));
    assert_string_equal(json_string_value(json_object_get(p, "source")), "slawatch");
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(p, "timestamp")),
                        "2026-11-22T10:00:00.001Z");
    assert_true(json_is_array(json_object_get(o, "links")));
    json_decref(o);
    free(pd);
    free(row);
    strcpy(n.pager_action, "resolve");
    row = notify_body_row(&n, "k", NOTIFY_PAGER);
    pd = notify_pagerduty_body(row, "R0UTINGKEY0123456789abcd", "");
    o = json_loads(pd, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "event_action")), "resolve");
    assert_null(json_object_get(o, "payload"));
    json_decref(o);
    free(pd);
    free(row);
    /* dedup keys: readable, or a digest when too long for PagerDuty */
    char key[256], big[200];
    notify_dedup_key("acme", "alert", "A-1", 3, key);
    assert_string_equal(key, "slawatch/acme/alert/A-1/3");
    memset(big, 'x', 128);
    big[128] = '\0';
    notify_dedup_key(big, "alert", big, 3, key);
    assert_true(strlen(key) < 256);
    assert_non_null(strstr(key, "slawatch/alert/"));
}

/* RFC 2047: every encoded-word at most 75 characters, every line at most
 * 76, each word whole characters; the body quoted-printable when 8-bit. */
static void test_email_encoding(void **state)
{
    const char *subj = "[slawatch] SLA breach: alert A-1 \"Überlastung im Rechenzentrum "
                       "Zürich – ❗ Ausfall der Datenbank 数据库\" (critical) in tenant Acme";
    char *m = notify_email_message("a@b.test", "c@d.test", subj, "Grüße\nline two", "k", 0);
    const char *h = strstr(m, "Subject: ");
    assert_non_null(h);
    const char *end = strstr(h, "\r\nMessage-ID");
    assert_non_null(end);
    char *decoded = calloc(1, 2048);
    size_t dl = 0;
    for (const char *line = h; line < end;) {
        const char *eol = strstr(line, "\r\n");
        assert_true(eol - line <= 76);
        const char *w = strstr(line, "=?UTF-8?B?");
        assert_true(w && w < eol);
        const char *we = strstr(w + 10, "?=");
        assert_true(we && we + 2 == eol);
        assert_true(we + 2 - w <= 75);
        size_t bl = 0;
        assert_int_equal(sodium_base642bin((unsigned char *)decoded + dl, 2048 - dl, w + 10,
                                           (size_t)(we - w - 10), NULL, &bl, NULL,
                                           sodium_base64_VARIANT_ORIGINAL), 0);
        /* whole characters: no word ends inside a UTF-8 sequence */
        unsigned char last = (unsigned char)decoded[dl + bl - 1];
        assert_true(last < 0x80 || (last & 0xc0) == 0x80);
        dl += bl;
        line = eol + 2;
        if (line < end)
            assert_int_equal(line[0], ' ');
    }
    assert_string_equal(decoded, subj);
    free(decoded);
    assert_non_null(strstr(m, "Content-Transfer-Encoding: quoted-printable\r\n"));
    assert_non_null(strstr(m, "\r\n\r\nGr=C3=BC=C3=9Fe\r\nline two\r\n"));
    free(m);
    /* a long ASCII subject folds at spaces */
    char longsubj[300];
    memset(longsubj, 0, sizeof(longsubj));
    for (int i = 0; i < 30; i++)
        strcat(longsubj, "word123 ");
    m = notify_email_message("a@b.test", "c@d.test", longsubj, "x", "k", 0);
    h = strstr(m, "Subject:");
    end = strstr(h, "\r\nMessage-ID");
    for (const char *line = h; line < end;) {
        const char *eol = strstr(line, "\r\n");
        assert_true(eol - line <= 78);
        line = eol + 2;
    }
    free(m);
}

static void test_email_no_header_injection(void **state)
{
    char *m = notify_email_message("a@b.test", "ops@acme.test\r\nBcc: evil@x.test",
                                   "hi\r\nBcc: evil@x.test", "x", "k", 0);
    assert_null(strstr(m, "\r\nBcc:"));
    assert_non_null(strstr(m, "To: ops@acme.test  Bcc: evil@x.test\r\n"));
    free(m);
    /* non-ASCII subjects are RFC 2047 encoded */
    m = notify_email_message("a@b.test", "c@d.test", "Fälligkeit", "x", "k", 0);
    assert_non_null(strstr(m, "Subject: =?UTF-8?B?RsOkbGxpZ2tlaXQ=?=\r\n"));
    free(m);
}

static void test_recipient_public_hides_slack_urls(void **state)
{
    char out[256];
    notify_recipient_public(NOTIFY_SLACK, "https://hooks.slack.com/services/T0/B0/abcdefgh", out,
                            sizeof(out));
    assert_string_equal(out, "hooks.slack.com/...efgh");
    notify_recipient_public(NOTIFY_WEBHOOK, "https://x.test/h", out, sizeof(out));
    assert_string_equal(out, "https://x.test/h");
    notify_recipient_public(NOTIFY_EMAIL, "a@b.test", out, sizeof(out));
    assert_string_equal(out, "a@b.test");
}

static void test_channel_names(void **state)
{
    enum notify_channel ch;
    for (int i = 0; i < NOTIFY_NCHANNELS; i++) {
        assert_int_equal(notify_channel_parse(notify_channel_name((enum notify_channel)i), &ch), 0);
        assert_int_equal(ch, i);
    }
    assert_true(notify_channel_parse("sms", &ch) < 0);
    assert_true(notify_channel_parse(NULL, &ch) < 0);
}

static bool internal(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
    }
    return notify_addr_internal((struct sockaddr *)&ss);
}

/* Addresses a tenant's webhook URL must not reach (SSRF), and some it may. */
static void test_internal_addresses(void **state)
{
    const char *bad[] = {"127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                         "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                         "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00::1",
                         "::ffff:127.0.0.1", "::ffff:10.0.0.1"};
    const char *good[] = {"8.8.8.8", "172.15.255.255", "172.32.0.1", "192.169.0.1",
                          "100.128.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (!internal(bad[i]))
            fail_msg("%s should be refused", bad[i]);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (internal(good[i]))
            fail_msg("%s should be allowed", good[i]);
}

/* A row given back by a full destination: due after the destination's
 * backlog at its recent transfer time, within bounds. */
static void test_give_back_delay(void **state)
{
    (void)state;
    /* nothing finished yet (it may hang): a second */
    assert_int_equal(notify_give_back_ms(0, 8, 4, 10000), NOTIFY_GIVE_BACK_UNKNOWN_MS);
    /* a fast receiver: the floor, not a second */
    assert_int_equal(notify_give_back_ms(2, 8, 4, 10000), NOTIFY_GIVE_BACK_MIN_MS);
    /* a slow one: its 8 rows, 4 at a time, 3 s each */
    assert_int_equal(notify_give_back_ms(3000, 8, 4, 10000), 6000);
    /* never past the transfer timeout, never below the floor */
    assert_int_equal(notify_give_back_ms(20000, 8, 4, 10000), 10000);
    assert_int_equal(notify_give_back_ms(3000, 8, 4, 50), NOTIFY_GIVE_BACK_MIN_MS);
    /* odd settings do not divide by zero */
    assert_int_equal(notify_give_back_ms(500, 0, 0, 10000), 500);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_internal_addresses),
        cmocka_unit_test(test_backoff_doubles_within_jitter),
        cmocka_unit_test(test_backoff_capped),
        cmocka_unit_test(test_sign_hex_rfc4231),
        cmocka_unit_test(test_key_stable_and_distinct),
        cmocka_unit_test(test_key_new_uuid7),
        cmocka_unit_test(test_destination),
        cmocka_unit_test(test_breaker),
        cmocka_unit_test(test_body_fields_in_order),
        cmocka_unit_test(test_body_same_as_jansson),
        cmocka_unit_test(test_body_cut_utf8),
        cmocka_unit_test(test_summary_and_details),
        cmocka_unit_test(test_email_message),
        cmocka_unit_test(test_email_encoding),
        cmocka_unit_test(test_body_people),
        cmocka_unit_test(test_pagerduty_body),
        cmocka_unit_test(test_email_no_header_injection),
        cmocka_unit_test(test_recipient_public_hides_slack_urls),
        cmocka_unit_test(test_channel_names),
        cmocka_unit_test(test_give_back_delay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
