/* People and escalation routing end to end (issue 13): escalation steps and
 * finding contacts that name a person reach that person, by the step's
 * method, through real receivers started here:
 *
 *   - a real SMTP server, Debian's python3-aiosmtpd (smtp_aiosmtpd.py),
 *     which parses each message with Python's email package and reports
 *     what is wrong with it (encoded-words over 75 characters, header lines
 *     over 78, 8-bit data without BODY=8BITMIME);
 *   - an HTTP sink playing the tenant's Slack webhook, its signed webhook,
 *     its voice webhook and PagerDuty's Events API v2 (/v2/enqueue);
 *
 * and contact points, 422 for unknown or foreign people, the finding
 * escalation acknowledgement stopping level 2, exactly once across kill -9.
 *
 * No clock is faked: alerts and findings are created with their deadlines
 * in the past, so steps fall due a second or two after creation. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_sinks.h"

#define SECRET "whsec-0123456789abcdef"
#define MIN_MS 60000LL
#define TITLE "Überlastung – Datenbank 数据库 antwortet nicht mehr, Replikation steht still"
#define PD_KEY_PERSON "PDKEYPERSON0123456789abcdef0123"
#define PD_KEY_TENANT "PDKEYTENANT0123456789abcdef0123"

/* ---- the python3-aiosmtpd server --------------------------------------------- */

struct pysmtp {
    pid_t pid;
    int port;
    char portfile[300], outfile[300];
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cert, key: STARTTLS with them (NULL: plain). */
static void pysmtp_start_tls(struct pysmtp *p, const char *dir, const char *cert,
                             const char *key)
{
    char script[512];
    const char *src = getenv("SLAWATCH_SRC");
    assert_non_null(src);
    snprintf(script, sizeof(script), "%s/tests/integration/smtp_aiosmtpd.py", src);
    snprintf(p->portfile, sizeof(p->portfile), "%s/smtp.port", dir);
    snprintf(p->outfile, sizeof(p->outfile), "%s/smtp.jsonl", dir);
    /* Debian's interpreter: the one python3-aiosmtpd is installed for
     * (scripts/deps.sh), whatever python3 comes first in PATH */
    char *const argv[] = {"/usr/bin/python3", script, p->portfile, p->outfile, (char *)cert,
                          (char *)key, NULL};
    p->pid = fork();
    assert_true(p->pid >= 0);
    if (p->pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {     /* up to 10 s */
        FILE *f = fopen(p->portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &p->port);
            fclose(f);
            if (ok == 1 && p->port > 0)
                return;
        }
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid)
            fail_msg("smtp_aiosmtpd.py exited (%d): is python3-aiosmtpd installed "
                     "(scripts/deps.sh)?", WEXITSTATUS(st));
        sleep_ms(50);
    }
    fail_msg("smtp_aiosmtpd.py did not start");
}

static void pysmtp_start(struct pysmtp *p, const char *dir)
{
    pysmtp_start_tls(p, dir, NULL, NULL);
}

static void pysmtp_stop(struct pysmtp *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        int st;
        waitpid(p->pid, &st, 0);
        p->pid = 0;
    }
}

/* Every message received so far, as an array (the caller decrefs). */
static json_t *pysmtp_mails(struct pysmtp *p)
{
    json_t *a = json_array();
    FILE *f = fopen(p->outfile, "r");
    if (!f)
        return a;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *m = json_loads(line, 0, NULL);
        if (m)
            json_array_append_new(a, m);
    }
    free(line);
    fclose(f);
    return a;
}

/* Mails whose first recipient is rcpt and whose subject contains needle. */
static size_t mails_to(struct pysmtp *p, const char *rcpt, const char *needle)
{
    json_t *a = pysmtp_mails(p);
    size_t n = 0, i;
    json_t *m;
    json_array_foreach(a, i, m) {
        json_t *to = json_object_get(m, "rcpt_tos");
        const char *r0 = json_string_value(json_array_get(to, 0));
        const char *subj = json_string_value(json_object_get(m, "subject"));
        if (r0 && !strcmp(r0, rcpt) && (!needle || (subj && strstr(subj, needle))))
            n++;
    }
    json_decref(a);
    return n;
}

static bool wait_mails(struct pysmtp *p, const char *rcpt, const char *needle, size_t n,
                       int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        if (mails_to(p, rcpt, needle) >= n)
            return true;
        sleep_ms(100);
    }
    return false;
}

/* ---- the fixture ------------------------------------------------------------------ */

struct fx {
    struct sw_server s;
    struct http_sink *http;
    struct pysmtp smtp;
    char env[16][200];
    const char *envp[17];
    size_t nenv;
    char tmp[256];
};

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

/* A fixture; tls: the SMTP server offers STARTTLS with a certificate of a
 * private CA made here (f->tmp/ca.pem), and the server requires it. */
static struct fx *fx_new_tls(bool notify, bool tls)
{
    struct fx *f = calloc(1, sizeof(*f));
    snprintf(f->tmp, sizeof(f->tmp), "/tmp/sw-people-XXXXXX");
    assert_non_null(mkdtemp(f->tmp));
    if (tls) {
        char cert[300], key[300], out[256];
        snprintf(cert, sizeof(cert), "%s/ca.pem", f->tmp);
        snprintf(key, sizeof(key), "%s/key.pem", f->tmp);
        const char *const argv[] = {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                                    "-addext", "subjectAltName=IP:127.0.0.1", NULL};
        assert_int_equal(run_capture(argv, NULL, out, sizeof(out)), 0);
        pysmtp_start_tls(&f->smtp, f->tmp, cert, key);
    } else {
        pysmtp_start(&f->smtp, f->tmp);
    }
    f->http = http_sink_start(0);
    assert_non_null(f->http);
    srv_init(&f->s);
    env_add(f, "SLAWATCH_SMTP_URL=smtp://127.0.0.1:%d", f->smtp.port);
    env_add(f, "SLAWATCH_SMTP_FROM=slawatch@example.test");
    env_add(f, "SLAWATCH_SMTP_STARTTLS=%s", tls ? "required" : "off");
    env_add(f, "SLAWATCH_NOTIFY_BACKOFF_MS=100");
    env_add(f, "SLAWATCH_NOTIFY_ALLOW_PRIVATE=on");
    env_add(f, "SLAWATCH_PASSWORD_COST=min");
    env_add(f, "SLAWATCH_PAGERDUTY_EVENTS_URL=http://127.0.0.1:%d/pd", http_sink_port(f->http));
    env_add(f, "SLAWATCH_PUBLIC_URL=https://sla.example.test");
    if (tls)
        env_add(f, "SLAWATCH_SMTP_CA_FILE=%s/ca.pem", f->tmp);
    env_add(f, "SLAWATCH_NOTIFY=%s", notify ? "on" : "off");
    srv_start(&f->s, NULL, f->envp);
    return f;
}

static struct fx *fx_new(bool notify)
{
    return fx_new_tls(notify, false);
}

static void fx_restart(struct fx *f, bool notify)
{
    snprintf(f->env[f->nenv - 1], sizeof(f->env[0]), "SLAWATCH_NOTIFY=%s", notify ? "on" : "off");
    srv_start(&f->s, NULL, f->envp);
}

static void fx_free(struct fx *f)
{
    if (f->s.pid > 0)
        assert_int_equal(srv_stop(&f->s), 0);
    srv_cleanup(&f->s);
    http_sink_stop(f->http);
    pysmtp_stop(&f->smtp);
    unlink(f->smtp.portfile);
    unlink(f->smtp.outfile);
    char p[300];
    snprintf(p, sizeof(p), "%s/ca.pem", f->tmp);
    unlink(p);
    snprintf(p, sizeof(p), "%s/key.pem", f->tmp);
    unlink(p);
    rmdir(f->tmp);
    free(f);
}

static void post_ok(struct sw_server *s, const char *method, const char *path, const char *body,
                    long want)
{
    struct http_resp r;
    long st = api(s, method, path, ADMIN_TOKEN, body, &r);
    if (st != want)
        fail_msg("%s %s: %ld, want %ld: %s", method, path, st, want, r.body);
    http_free(&r);
}

static void make_user(struct sw_server *s, const char *id, const char *role, const char *tenant)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"email\":\"%s@example.test\",\"password\":\"correct horse\","
             "\"roles\":[{\"role\":\"%s\",\"tenant_id\":\"%s\"}]}", id, id, role, tenant);
    post_ok(s, "POST", "/api/v1/users", body, 201);
}

static void set_contact(struct sw_server *s, const char *user, const char *body)
{
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/users/%s/contact", user);
    post_ok(s, "PUT", path, body, 200);
}

/* acme: its channels (email to soc@, Slack, a signed webhook), its
 * PagerDuty key and voice webhook; people mgr1 (email only), lead1 (Slack
 * member id, phone), pd1 (own routing key); beta's "stranger". */
static void people_setup(struct fx *f)
{
    struct sw_server *s = &f->s;
    post_ok(s, "POST", "/api/v1/tenants", "{\"id\":\"acme\",\"name\":\"Acme Bank\"}", 201);
    it_make_tenant(s, "beta");
    int hp = http_sink_port(f->http);
    char body[1024];
    snprintf(body, sizeof(body),
             "{\"channels\":[\"email\",\"slack\",\"webhook\"],\"recipients\":{\"email\":"
             "[\"soc@example.test\"],\"slack\":[\"http://127.0.0.1:%d/slack\"],\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"webhook_secret\":\"" SECRET "\","
             "\"pagerduty_routing_key\":\"" PD_KEY_TENANT "\","
             "\"voice_webhook\":\"http://127.0.0.1:%d/voice\"}", hp, hp, hp);
    post_ok(s, "POST", "/api/v1/sla/notifications/acme/configure", body, 200);
    make_user(s, "mgr1", "manager", "acme");
    make_user(s, "lead1", "analyst", "acme");
    make_user(s, "pd1", "viewer", "acme");
    make_user(s, "stranger", "analyst", "beta");
    set_contact(s, "lead1", "{\"slack_user_id\":\"U0LEAD1\",\"phone\":\"+14155550100\"}");
    set_contact(s, "pd1", "{\"pagerduty_routing_key\":\"" PD_KEY_PERSON "\"}");
}

static void iso(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* Requests of the sink whose path is path, in order (the caller decrefs:
 * an array of {body (parsed), headers}). */
static json_t *sink_bodies(struct http_sink *h, const char *path)
{
    json_t *a = json_array();
    size_t n = http_sink_count(h);
    for (size_t i = 0; i < n; i++) {
        struct sink_request q;
        if (!http_sink_get(h, i, &q))
            continue;
        if (!strcmp(q.path, path)) {
            json_t *b = json_loads(q.body, 0, NULL);
            json_array_append_new(a, b ? b : json_string(q.body));
        }
        sink_request_free(&q);
    }
    return a;
}

/* The first body at path with "type" (or Slack text containing) needle. */
static json_t *wait_body(struct http_sink *h, const char *path, const char *key,
                         const char *needle, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 100) {
        json_t *a = sink_bodies(h, path);
        size_t i;
        json_t *b;
        json_array_foreach(a, i, b) {
            const char *v = json_string_value(json_object_get(b, key));
            if (v && strstr(v, needle)) {
                json_incref(b);
                json_decref(a);
                return b;
            }
        }
        json_decref(a);
        sleep_ms(100);
    }
    return NULL;
}

static size_t count_bodies(struct http_sink *h, const char *path, const char *key,
                           const char *needle)
{
    json_t *a = sink_bodies(h, path);
    size_t n = 0, i;
    json_t *b;
    json_array_foreach(a, i, b) {
        const char *v = json_string_value(json_object_get(b, key));
        n += v && strstr(v, needle);
    }
    json_decref(a);
    return n;
}

/* ---- alerts: steps that name people ------------------------------------------------ */

static void put_people_chain(struct sw_server *s)
{
    post_ok(s, "POST", "/api/v1/sla/escalations/acme",
            "{\"severity\":\"critical\",\"chain\":["
            "{\"level\":\"L1\",\"role\":\"SOC Manager\",\"user\":\"mgr1\",\"timeout_minutes\":1,"
            "\"notification_method\":\"email\"},"
            "{\"level\":\"L2\",\"role\":\"SOC Lead\",\"user\":\"lead1\",\"timeout_minutes\":60,"
            "\"notification_method\":\"slack\"},"
            "{\"level\":\"L3\",\"role\":\"On call\",\"user\":\"pd1\",\"timeout_minutes\":60,"
            "\"notification_method\":\"pager\"},"
            "{\"level\":\"Manager\",\"role\":\"Phone\",\"user\":\"lead1\",\"timeout_minutes\":60,"
            "\"notification_method\":\"phone\"}]}", 200);
}

/* An alert whose ack clock breaches 1.5 s after it reaches us: the breach
 * and L1 then.  (A breach before it reached us would be history: marked,
 * never told, its chain not started; and L2 comes a minute after the
 * breach, which test_breach waits for: here later steps are taken by
 * hand.) */
static void stale_alert(struct sw_server *s, const char *id)
{
    char when[80], body[512];
    iso(wall_ms() + 1500 - 1 - 15 * MIN_MS, when, sizeof(when));
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"acme\",\"severity\":\"critical\",\"title\":\""
             TITLE "\",\"created_at\":\"%s\"}", id, when);
    post_ok(s, "POST", "/api/v1/alerts", body, 201);
}

static void test_alert_steps(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    people_setup(f);
    put_people_chain(&f->s);
    stale_alert(&f->s, "A-1");

    /* L1, email: mgr1 and nobody else gets the escalation, with the title,
     * a valid encoded subject, a link */
    assert_true(wait_mails(&f->smtp, "mgr1@example.test", "SLA escalation", 1, 5000));
    json_t *mails = pysmtp_mails(&f->smtp);
    size_t i;
    json_t *m;
    size_t esc = 0;
    json_array_foreach(mails, i, m) {
        const char *subj = json_string_value(json_object_get(m, "subject"));
        json_t *pr = json_object_get(m, "problems");
        if (json_array_size(pr))
            fail_msg("mail %zu: %s", i, json_dumps(pr, 0));
        if (!strstr(subj, "SLA escalation"))
            continue;
        esc++;
        assert_int_equal(json_array_size(json_object_get(m, "rcpt_tos")), 1);
        assert_string_equal(json_string_value(json_array_get(json_object_get(m, "rcpt_tos"), 0)),
                            "mgr1@example.test");
        assert_non_null(strstr(subj, TITLE));           /* decoded whole by Python */
        assert_non_null(strstr(subj, "Acme Bank"));
        const char *body = json_string_value(json_object_get(m, "body"));
        assert_non_null(strstr(body, "title: " TITLE));
        assert_non_null(strstr(body, "engaged: mgr1 (email via email)"));
        assert_non_null(strstr(body, "url: https://sla.example.test/sla-dashboard#/dashboard?"
                                     "tenant=acme&alert=A-1"));
        assert_non_null(strstr(body, "overage: "));
        assert_string_equal(json_string_value(json_object_get(m, "transfer_encoding")),
                            "quoted-printable");
    }
    assert_int_equal(esc, 1);
    assert_int_equal(mails_to(&f->smtp, "soc@example.test", "SLA escalation"), 0);
    assert_int_equal(mails_to(&f->smtp, "soc@example.test", "SLA breach"), 1);  /* the tenant's */
    json_decref(mails);

    /* the signed webhook carries title, url and engaged */
    json_t *wh = wait_body(f->http, "/hook", "type", "sla.escalation", 5000);
    assert_non_null(wh);
    assert_string_equal(json_string_value(json_object_get(wh, "title")), TITLE);
    assert_string_equal(json_string_value(json_object_get(wh, "tenant_name")), "Acme Bank");
    assert_non_null(strstr(json_string_value(json_object_get(wh, "url")), "alert=A-1"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(wh, "engaged"), "user")), "mgr1");
    json_decref(wh);

    /* L2 by hand, slack: the tenant's Slack webhook, mentioning the person */
    post_ok(&f->s, "POST", "/api/v1/sla/escalate/A-1?tenant_id=acme", NULL, 200);
    json_t *sl = wait_body(f->http, "/slack", "text", "<@U0LEAD1>", 6000);
    assert_non_null(sl);
    assert_non_null(strstr(json_string_value(json_object_get(sl, "text")), TITLE));
    json_decref(sl);
    assert_int_equal(count_bodies(f->http, "/slack", "text", "<@U0LEAD1>"), 1);

    /* L3 by hand, pager: PagerDuty v2 trigger with the person's key */
    post_ok(&f->s, "POST", "/api/v1/sla/escalate/A-1?tenant_id=acme", NULL, 200);
    json_t *pd = wait_body(f->http, "/pd/v2/enqueue", "event_action", "trigger", 5000);
    assert_non_null(pd);
    assert_string_equal(json_string_value(json_object_get(pd, "routing_key")), PD_KEY_PERSON);
    const char *dedup = json_string_value(json_object_get(pd, "dedup_key"));
    assert_non_null(dedup);
    char dk[256];
    snprintf(dk, sizeof(dk), "%s", dedup);
    json_t *pl = json_object_get(pd, "payload");
    assert_non_null(strstr(json_string_value(json_object_get(pl, "summary")), TITLE));
    assert_string_equal(json_string_value(json_object_get(pl, "source")), "slawatch");
    assert_string_equal(json_string_value(json_object_get(pl, "severity")), "critical");
    assert_non_null(json_string_value(json_object_get(pl, "timestamp")));
    json_decref(pd);

    /* step 4 by hand, phone: the voice webhook {to, message}, signed */
    post_ok(&f->s, "POST", "/api/v1/sla/escalate/A-1?tenant_id=acme", NULL, 200);
    json_t *vo = wait_body(f->http, "/voice", "to", "+14155550100", 5000);
    assert_non_null(vo);
    assert_non_null(strstr(json_string_value(json_object_get(vo, "message")), TITLE));
    json_decref(vo);

    /* the event log says who was engaged and how */
    struct http_resp r;
    assert_int_equal(api(&f->s, "GET", "/api/v1/sla/escalation-events/acme?alert_id=A-1",
                         ADMIN_TOKEN, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 4);
    json_t *e1 = json_array_get(items, 3), *e3 = json_array_get(items, 1);
    assert_string_equal(json_string_value(json_object_get(e1, "user")), "mgr1");
    assert_string_equal(json_string_value(json_object_get(e1, "via")), "email");
    assert_string_equal(json_string_value(json_object_get(e3, "via")), "pager");
    http_free(&r);

    /* resolved: PagerDuty gets resolve with the same dedup_key, once */
    post_ok(&f->s, "POST", "/api/v1/alerts/A-1/resolve?tenant_id=acme", "{}", 200);
    json_t *rs = wait_body(f->http, "/pd/v2/enqueue", "event_action", "resolve", 5000);
    assert_non_null(rs);
    assert_string_equal(json_string_value(json_object_get(rs, "dedup_key")), dk);
    assert_string_equal(json_string_value(json_object_get(rs, "routing_key")), PD_KEY_PERSON);
    json_decref(rs);
    sleep_ms(1500);
    assert_int_equal(count_bodies(f->http, "/pd/v2/enqueue", "event_action", "trigger"), 1);
    assert_int_equal(count_bodies(f->http, "/pd/v2/enqueue", "event_action", "resolve"), 1);
    fx_free(f);
}

/* ---- who a chain or policy may name; contact points ---------------------------------- */

static void expect_422(struct sw_server *s, const char *method, const char *path,
                       const char *token, const char *body, const char *field)
{
    struct http_resp r;
    long st = api(s, method, path, token, body, &r);
    if (st != 422)
        fail_msg("%s %s: %ld, want 422: %s", method, path, st, r.body);
    assert_error_shape(&r, "invalid", field);
    http_free(&r);
}

static void test_people_validation(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    people_setup(f);
    struct sw_server *s = &f->s;
    const char *step = "{\"severity\":\"high\",\"chain\":[{\"level\":\"L1\",\"role\":\"x\","
                       "\"timeout_minutes\":5,\"notification_method\":\"email\"},"
                       "{\"level\":\"L2\",\"role\":\"y\",\"user\":\"%s\",\"timeout_minutes\":5,"
                       "\"notification_method\":\"pager\"}]}";
    char body[512];
    snprintf(body, sizeof(body), step, "ghost");
    expect_422(s, "POST", "/api/v1/sla/escalations/acme", ADMIN_TOKEN, body, "chain[1].user");
    snprintf(body, sizeof(body), step, "stranger");     /* beta's: not acme's */
    expect_422(s, "POST", "/api/v1/sla/escalations/acme", ADMIN_TOKEN, body, "chain[1].user");
    expect_422(s, "PUT", "/api/v1/sla/policy/companies/acme", ADMIN_TOKEN,
               "{\"escalation_contacts\":[{\"level\":1,\"user\":\"stranger\"}]}",
               "escalation_contacts[0].user");
    snprintf(body, sizeof(body), step, "pd1");
    post_ok(s, "POST", "/api/v1/sla/escalations/acme", body, 200);

    /* contact points: validated, 422 naming the field */
    expect_422(s, "PUT", "/api/v1/users/lead1/contact", ADMIN_TOKEN, "{\"phone\":\"0415 555\"}",
               "phone");
    expect_422(s, "PUT", "/api/v1/users/lead1/contact", ADMIN_TOKEN,
               "{\"slack_user_id\":\"<!channel>\"}", "slack_user_id");
    expect_422(s, "PUT", "/api/v1/users/lead1/contact", ADMIN_TOKEN, "{\"email\":\"nope\"}",
               "email");
    expect_422(s, "PUT", "/api/v1/users/lead1/contact", ADMIN_TOKEN,
               "{\"pagerduty_routing_key\":\"short\"}", "pagerduty_routing_key");
    expect_422(s, "PUT", "/api/v1/users/lead1/contact", ADMIN_TOKEN, "{\"fax\":\"1\"}", "fax");

    /* a user sets their own (a dashboard session); another tenant's admin
     * cannot see nor change them */
    struct http_resp r;
    assert_int_equal(api(s, "POST", "/api/v1/session", NULL,
                         "{\"email\":\"pd1@example.test\",\"password\":\"correct horse\"}", &r),
                     200);
    char cookie[256], csrf[128], hc[300], hx[200];
    const char *sc = http_resp_header(&r, "Set-Cookie", cookie, sizeof(cookie));
    assert_non_null(sc);
    *strchr(cookie, ';') = '\0';
    snprintf(csrf, sizeof(csrf), "%s", json_string_value(json_object_get(r.json, "csrf_token")));
    http_free(&r);
    snprintf(hc, sizeof(hc), "Cookie: %s", cookie);
    snprintf(hx, sizeof(hx), "X-CSRF-Token: %s", csrf);
    const char *hdr[] = {hc, hx, NULL};
    const char *own = "{\"phone\":\"+442071838750\",\"email\":\"pager-duty@example.test\"}";
    http_req_h(s, "PUT", "/api/v1/users/pd1/contact", NULL, hdr, NULL, own, strlen(own), &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "phone")), "+442071838750");
    /* the routing key is never shown back */
    assert_string_equal(json_string_value(json_object_get(r.json, "pagerduty_routing_key")),
                        "...0123");
    http_free(&r);
    http_req_h(s, "PUT", "/api/v1/users/lead1/contact", NULL, hdr, NULL, own, strlen(own), &r);
    assert_int_equal(r.status, 404);    /* pd1 is a viewer: not lead1's admin */
    http_free(&r);
    char tok[128];
    it_make_token(s, "tenant_admin", "beta", tok, sizeof(tok));
    assert_int_equal(api(s, "GET", "/api/v1/users/pd1/contact", tok, NULL, NULL), 404);
    assert_int_equal(api(s, "PUT", "/api/v1/users/pd1/contact", tok, "{\"phone\":null}", NULL),
                     404);
    /* the tenant's people, for the escalation set-up */
    it_make_token(s, "manager", "acme", tok, sizeof(tok));
    assert_int_equal(api(s, "GET", "/api/v1/tenants/acme/people", tok, NULL, &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    http_free(&r);
    assert_int_equal(api(s, "GET", "/api/v1/tenants/beta/people", tok, NULL, NULL), 404);
    fx_free(f);
}

/* ---- findings: contacts at breach + N days, acknowledgement stops level 2 ------------- */

/* A finding discovered 4 days ago, tracked as low (in time), then rated
 * critical (72 h): its breach was a day minus `ahead` ms ago, so level 1
 * (day 0) is due at once, level 2 (day 1) in `ahead` ms.  (Created
 * critical, its breach and level 1 would be history: they happened before
 * it reached us, marked and never told.) */
static void stale_finding(struct sw_server *s, const char *id, int64_t ahead)
{
    char when[80], body[512], path[128];
    iso(wall_ms() - 72 * 3600000LL - 24 * 3600000LL + ahead, when, sizeof(when));
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"acme\",\"severity\":\"low\",\"title\":\"Ünpatched "
             "OpenSSL on web-1\",\"discovered_at\":\"%s\"}", id, when);
    post_ok(s, "POST", "/api/v1/findings", body, 201);
    snprintf(path, sizeof(path), "/api/v1/findings/%s/severity?tenant_id=acme", id);
    post_ok(s, "POST", path, "{\"severity\":\"critical\"}", 200);
}

static void test_finding_contacts(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    people_setup(f);
    struct sw_server *s = &f->s;
    post_ok(s, "PUT", "/api/v1/sla/policy/companies/acme",
            "{\"escalation_contacts\":[{\"level\":1,\"user\":\"mgr1\",\"days_after_breach\":0},"
            "{\"level\":2,\"user\":\"lead1\",\"days_after_breach\":1}]}", 200);
    /* F-1 is taken at once: its level 2 never comes; F-2 is not: it does */
    stale_finding(s, "F-1", 4000);
    stale_finding(s, "F-2", 4000);
    assert_true(wait_mails(&f->smtp, "mgr1@example.test", "F-1", 1, 5000));
    assert_true(wait_mails(&f->smtp, "mgr1@example.test", "F-2", 1, 5000));

    /* nobody else may take it: a viewer who is not the person engaged */
    char tok[128];
    it_make_token(s, "viewer", "acme", tok, sizeof(tok));
    assert_int_equal(api(s, "POST", "/api/v1/findings/F-1/escalation/acknowledge?tenant_id=acme",
                         tok, "{}", NULL), 403);
    struct http_resp r;
    it_make_token(s, "analyst", "acme", tok, sizeof(tok));
    assert_int_equal(api(s, "POST", "/api/v1/findings/F-1/escalation/acknowledge?tenant_id=acme",
                         tok, "{\"by\":\"night shift\"}", &r), 200);
    json_t *eng = json_object_get(r.json, "engaged");
    assert_int_equal(json_array_size(eng), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(eng, 0), "user")),
                        "mgr1");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "acknowledged_by")),
                           "night shift"));
    http_free(&r);
    /* F-2's level 2 reaches lead1: email, and Slack with the mention */
    assert_true(wait_mails(&f->smtp, "lead1@example.test", "F-2", 1, 8000));
    json_t *sl = wait_body(f->http, "/slack", "text", "<@U0LEAD1>", 3000);
    assert_non_null(sl);
    assert_non_null(strstr(json_string_value(json_object_get(sl, "text")), "F-2"));
    json_decref(sl);
    sleep_ms(1500);
    assert_int_equal(mails_to(&f->smtp, "lead1@example.test", "F-1"), 0);
    assert_int_equal(mails_to(&f->smtp, "mgr1@example.test", "F-1"), 1);
    /* the history: who was engaged, by which channels, who took it */
    assert_int_equal(api(s, "GET", "/api/v1/findings/F-1/events?tenant_id=acme", ADMIN_TOKEN,
                         NULL, &r), 200);
    bool engaged = false, taken = false;
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(r.json, "items"), i, ev) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        json_t *d = json_object_get(ev, "data");
        if (!strcmp(type, "sla.escalation")) {
            engaged = true;
            assert_string_equal(json_string_value(json_object_get(d, "engaged")), "mgr1");
            assert_string_equal(json_string_value(json_object_get(d, "via")), "email");
        }
        if (!strcmp(type, "escalation.acknowledged"))
            taken = !strcmp(json_string_value(json_object_get(d, "engaged")), "mgr1");
    }
    assert_true(engaged && taken);
    http_free(&r);
    fx_free(f);
}

/* ---- exactly once across kill -9 ---------------------------------------------------- */

static void test_exactly_once_kill9(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);       /* the steps fire; nothing is delivered yet */
    people_setup(f);
    put_people_chain(&f->s);
    stale_alert(&f->s, "K-1");
    sleep_ms(3000);                     /* the breach and L1 fired */
    post_ok(&f->s, "POST", "/api/v1/sla/escalate/K-1?tenant_id=acme", NULL, 200);  /* L2 */
    sleep_ms(500);                      /* all in the outbox */
    srv_kill9(&f->s);
    fx_restart(f, true);
    assert_true(wait_mails(&f->smtp, "mgr1@example.test", "SLA escalation", 1, 6000));
    json_t *sl = wait_body(f->http, "/slack", "text", "<@U0LEAD1>", 6000);
    assert_non_null(sl);
    json_decref(sl);
    /* delivered and recorded: a crash now must send nothing again */
    sleep_ms(1000);
    srv_kill9(&f->s);
    fx_restart(f, true);
    sleep_ms(3000);
    assert_int_equal(mails_to(&f->smtp, "mgr1@example.test", "SLA escalation"), 1);
    assert_int_equal(mails_to(&f->smtp, "soc@example.test", "SLA breach"), 1);
    assert_int_equal(count_bodies(f->http, "/slack", "text", "<@U0LEAD1>"), 1);
    assert_int_equal(count_bodies(f->http, "/hook", "type", "sla.escalation"), 2);
    fx_free(f);
}

/* ---- a relay with a private CA ------------------------------------------------------ */

/* The history's email attempts of acme: (ok, failed). */
static void email_attempts(struct sw_server *s, int *ok, int *failed, char *err, size_t len)
{
    struct http_resp r;
    assert_int_equal(api(s, "GET", "/api/v1/sla/notifications/acme?limit=100", ADMIN_TOKEN, NULL,
                         &r), 200);
    *ok = *failed = 0;
    size_t i, k;
    json_t *it, *a;
    json_array_foreach(json_object_get(r.json, "items"), i, it) {
        if (strcmp(json_string_value(json_object_get(it, "channel")), "email"))
            continue;
        json_array_foreach(json_object_get(it, "attempts"), k, a) {
            if (json_is_true(json_object_get(a, "ok"))) {
                (*ok)++;
            } else {
                (*failed)++;
                snprintf(err, len, "%s", json_string_value(json_object_get(a, "error")));
            }
        }
    }
    http_free(&r);
}

static void test_smtp_private_ca(void **state)
{
    (void)state;
    struct fx *f = fx_new_tls(true, true);
    struct sw_server *s = &f->s;
    post_ok(s, "POST", "/api/v1/tenants", "{\"id\":\"acme\",\"name\":\"Acme Bank\"}", 201);
    post_ok(s, "POST", "/api/v1/sla/notifications/acme/configure",
            "{\"channels\":[\"email\"],\"recipients\":{\"email\":[\"soc@example.test\"]}}", 200);
    /* smtp_ca_file trusts the relay's CA: delivered over STARTTLS */
    post_ok(s, "POST", "/api/v1/sla/notifications/acme/test", "{}", 202);
    assert_true(wait_mails(&f->smtp, "soc@example.test", "Test", 1, 8000));
    json_t *all = pysmtp_mails(&f->smtp);
    assert_true(json_is_true(json_object_get(json_array_get(all, 0), "tls")));
    json_decref(all);
    /* without it, the system's CAs refuse the certificate: a failed
     * attempt in the history, and nothing sent in clear */
    assert_int_equal(srv_stop(s), 0);
    f->nenv--;                          /* SLAWATCH_NOTIFY=on stays last */
    snprintf(f->env[f->nenv - 1], sizeof(f->env[0]), "SLAWATCH_NOTIFY=on");
    f->envp[f->nenv] = NULL;
    srv_start(s, NULL, f->envp);
    post_ok(s, "POST", "/api/v1/sla/notifications/acme/test", "{\"item_id\":\"T-2\"}", 202);
    int ok = 0, failed = 0;
    char err[300] = "";
    for (int i = 0; i < 80 && failed == 0; i++) {
        sleep_ms(100);
        email_attempts(s, &ok, &failed, err, sizeof(err));
    }
    assert_int_equal(ok, 1);
    assert_true(failed >= 1);
    assert_true(strstr(err, "SSL") || strstr(err, "certificate") || strstr(err, "TLS"));
    assert_int_equal(mails_to(&f->smtp, "soc@example.test", NULL), 1);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alert_steps),
        cmocka_unit_test(test_people_validation),
        cmocka_unit_test(test_finding_contacts),
        cmocka_unit_test(test_exactly_once_kill9),
        cmocka_unit_test(test_smtp_private_ca),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
