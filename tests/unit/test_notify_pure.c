/* The notifier's pure parts: backoff bounds, signature, idempotency keys,
 * the webhook body, texts, the email message. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

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

static void test_body_fields_in_order(void **state)
{
    struct sw_notice n = breach();
    char *s = notify_body(&n, "ntf_x");
    assert_string_equal(s, "{\"id\":\"ntf_x\",\"type\":\"sla.breach\",\"tenant_id\":\"acme\","
                           "\"item_kind\":\"alert\",\"item_id\":\"A-1\",\"severity\":\"critical\","
                           "\"clock\":\"resolve\",\"due_at\":\"2026-11-22T10:00:00.000Z\","
                           "\"occurred_at\":\"2026-11-22T10:00:00.001Z\"}");
    free(s);
    strcpy(n.type, "sla.warning");
    n.threshold_pct = 90;
    s = notify_body(&n, "k");
    assert_non_null(strstr(s, "\"clock\":\"resolve\",\"threshold_pct\":90,\"due_at\""));
    assert_null(strstr(s, "escalation"));
    free(s);
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
                        "Content-Transfer-Encoding: 8bit\r\n"
                        "Auto-Submitted: auto-generated\r\n"
                        "\r\n"
                        "line one\r\nline two\r\n.dot\r\n");
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
        cmocka_unit_test(test_body_fields_in_order),
        cmocka_unit_test(test_summary_and_details),
        cmocka_unit_test(test_email_message),
        cmocka_unit_test(test_email_no_header_injection),
        cmocka_unit_test(test_recipient_public_hides_slack_urls),
        cmocka_unit_test(test_channel_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
