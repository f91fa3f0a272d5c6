/* People in the SQL store (src/store/people.c, pager.c and the person rows
 * of outbox.c) on SQLite and PostgreSQL: contact points and their audit
 * rows; the route to a named person (each method, each missing contact
 * point falling back to email, a user of another tenant never engaged);
 * outbox rows per person (their address, the tenant's Slack with them,
 * not the tenant's lists), flood windows per person; PagerDuty incidents
 * acknowledged and resolved once; faults injected into each write; and, on
 * PostgreSQL, two nodes acknowledging one item's page at once. */
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
#include <jansson.h>

#include "notify/notify.h"
#include "store/store_int.h"
#include "store/store_notify.h"
#include "store/store_users.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)
#define CH(c) (1u << (c))
#define SLACK "https://hooks.slack.test/services/T0/B0/acme"
#define VOICE "https://voice.test/call"
#define TKEY "TENANTKEY0123456789abcdefABCDEF"
#define PKEY "PERSONKEY0123456789abcdefABCDEF"

/* ---- fixtures ------------------------------------------------------------------ */

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

static void user(struct store *s, const char *id, const char *tenant_id)
{
    struct sw_user u = {.created_at = T0, .nroles = 1};
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.email, sizeof(u.email), "%s@example.test", id);
    snprintf(u.roles[0].role, sizeof(u.roles[0].role), "analyst");
    snprintf(u.roles[0].tenant_id, sizeof(u.roles[0].tenant_id), "%s", tenant_id);
    assert_int_equal(store_user_create(s, &u, "", NULL, 0), 0);
}

static void contact(struct store *s, const char *id, const char *email, const char *slack,
                    const char *phone, const char *key)
{
    struct sw_contact_points cp = {.updated_at = T0};
    snprintf(cp.user_id, sizeof(cp.user_id), "%s", id);
    snprintf(cp.email, sizeof(cp.email), "%s", email ? email : "");
    snprintf(cp.slack_user_id, sizeof(cp.slack_user_id), "%s", slack ? slack : "");
    snprintf(cp.phone, sizeof(cp.phone), "%s", phone ? phone : "");
    snprintf(cp.pagerduty_routing_key, sizeof(cp.pagerduty_routing_key), "%s", key ? key : "");
    snprintf(cp.updated_by, sizeof(cp.updated_by), "test");
    assert_int_equal(store_contact_put(s, &cp, NULL, 0), 0);
}

/* acme: the tenant's email list, Slack, webhook, its key and voice webhook. */
static void acme(struct store *s)
{
    tenant(s, "acme");
    struct sw_notify_config *c = calloc(1, sizeof(*c));
    snprintf(c->tenant_id, sizeof(c->tenant_id), "acme");
    c->channels = CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK) | CH(NOTIFY_WEBHOOK) | CH(NOTIFY_WEBSOCKET);
    snprintf(c->rcpt[NOTIFY_EMAIL][c->nrcpt[NOTIFY_EMAIL]++], SW_URL_MAX + 1, "soc@example.test");
    snprintf(c->rcpt[NOTIFY_SLACK][c->nrcpt[NOTIFY_SLACK]++], SW_URL_MAX + 1, SLACK);
    snprintf(c->rcpt[NOTIFY_WEBHOOK][c->nrcpt[NOTIFY_WEBHOOK]++], SW_URL_MAX + 1,
             "https://hook.test/x");
    c->thresholds[c->nthresholds++] = 80;
    snprintf(c->webhook_secret, sizeof(c->webhook_secret), "whsec-0123456789abcdef");
    snprintf(c->pagerduty_routing_key, sizeof(c->pagerduty_routing_key), TKEY);
    snprintf(c->voice_webhook, sizeof(c->voice_webhook), VOICE);
    c->updated_at = T0;
    assert_int_equal(store_notify_config_put(s, c), 0);
    free(c);
}

static int64_t q(struct store *s, const char *sql, const char *text)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    if (text)
        db_bind_text(st, 1, text);
    else
        db_bind_int64(st, 1, 1);
    assert_int_equal(db_step_one(st), 1);
    int64_t r = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return r;
}

static const char Q_ROWS[] = "SELECT count(*) FROM outbox WHERE ?1 = ?1";
static const char Q_ROWS_CH[] = "SELECT count(*) FROM outbox WHERE channel = ?1";
static const char Q_ROWS_PERSON[] = "SELECT count(*) FROM outbox WHERE person = ?1";
static const char Q_RCPT[] = "SELECT count(*) FROM outbox WHERE recipient = ?1";
static const char Q_AUDIT[] = "SELECT count(*) FROM audit_log WHERE action = ?1";
static const char Q_CONTACTS[] = "SELECT count(*) FROM user_contacts WHERE ?1 = ?1";
static const char Q_PAGER_ACTION[] =
    "SELECT count(*) FROM outbox WHERE channel = 'pager' AND notice LIKE ?1";
static const char Q_INCIDENT_STATE[] =
    "SELECT CASE state WHEN 'triggered' THEN 1 WHEN 'acknowledged' THEN 2 ELSE 3 END "
    "FROM pager_incidents WHERE dedup_key = ?1";

/* ---- routes ---------------------------------------------------------------------- */

struct route_ctx {
    const char *tenant, *user, *method;
    unsigned want;
    struct sw_engaged out;
};

static int route_tx(struct db_conn *c, void *ud)
{
    struct route_ctx *x = ud;
    return store_person_route_in(c, x->tenant, x->user, x->method, x->want, 2, &x->out);
}

static struct sw_engaged route(struct store *s, const char *user, const char *method,
                               unsigned want)
{
    struct route_ctx x = {.tenant = "acme", .user = user, .method = method, .want = want};
    assert_int_equal(db_tx(sql_of(s)->db, DB_TX_READ, route_tx, &x), 0);
    return x.out;
}

/* ---- notices for a person --------------------------------------------------------- */

struct nin {
    const struct sw_notice *n;
    int64_t event_id;
    int rows;
};

static int nin_tx(struct db_conn *c, void *ud)
{
    struct nin *x = ud;
    int rc = store_notice_in(c, x->n, x->event_id);
    if (rc >= 0)
        x->rows = rc;
    return rc < 0 ? rc : 0;
}

static int notice_in(struct store *s, const struct sw_notice *n, int64_t event_id)
{
    struct nin x = {.n = n, .event_id = event_id};
    int rc = db_tx(sql_of(s)->db, DB_TX_WRITE, nin_tx, &x);
    return rc < 0 ? rc : x.rows;
}

static void escalation(struct sw_notice *n, const char *item, const struct sw_engaged *e)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->tenant_id, sizeof(n->tenant_id), "acme");
    snprintf(n->type, sizeof(n->type), "sla.escalation");
    snprintf(n->item_kind, sizeof(n->item_kind), "alert");
    snprintf(n->item_id, sizeof(n->item_id), "%s", item);
    snprintf(n->severity, sizeof(n->severity), "critical");
    snprintf(n->clock, sizeof(n->clock), "ack");
    snprintf(n->title, sizeof(n->title), "Disk full");
    n->escalation_level = 2;
    n->due_at = T0;
    n->occurred_at = T0 + 1;
    n->engaged = *e;
}

struct pager_ctx {
    const char *item;
    bool resolved;
    int rows;
};

static int pager_tx(struct db_conn *c, void *ud)
{
    struct pager_ctx *x = ud;
    int rc = store_pager_item_in(c, "acme", "alert", x->item, x->resolved, T0 + 5);
    if (rc >= 0)
        x->rows = rc;
    return rc < 0 ? rc : 0;
}

static int pager_item(struct store *s, const char *item, bool resolved)
{
    struct pager_ctx x = {.item = item, .resolved = resolved};
    int rc = db_tx(sql_of(s)->db, DB_TX_WRITE, pager_tx, &x);
    return rc < 0 ? rc : x.rows;
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_contact_points(void **state)
{
    struct storetest *t = *state;
    struct sw_contact_points cp;
    tenant(t->s, "acme");
    assert_int_equal(store_contact_get(t->s, "ghost", &cp), SW_E_NOTFOUND);
    user(t->s, "ann", "acme");
    assert_int_equal(store_contact_get(t->s, "ann", &cp), 0);
    assert_string_equal(cp.email, "");
    assert_int_equal(cp.updated_at, 0);
    /* with its audit row, in one transaction */
    struct sw_contact_points in = {.updated_at = T0 + 7};
    snprintf(in.user_id, sizeof(in.user_id), "ann");
    snprintf(in.slack_user_id, sizeof(in.slack_user_id), "U0ANN");
    snprintf(in.phone, sizeof(in.phone), "+14155550100");
    snprintf(in.updated_by, sizeof(in.updated_by), "user:ann");
    struct sw_audit a = {.at = T0 + 7};
    snprintf(a.tenant_id, sizeof(a.tenant_id), "acme");
    snprintf(a.actor, sizeof(a.actor), "user:ann");
    snprintf(a.action, sizeof(a.action), "user.contact_update");
    snprintf(a.target, sizeof(a.target), "user:ann");
    assert_int_equal(store_contact_put(t->s, &in, &a, 1), 0);
    assert_int_equal(store_contact_get(t->s, "ann", &cp), 0);
    assert_string_equal(cp.slack_user_id, "U0ANN");
    assert_string_equal(cp.phone, "+14155550100");
    assert_int_equal(cp.updated_at, T0 + 7);
    assert_string_equal(cp.updated_by, "user:ann");
    assert_int_equal(q(t->s, Q_AUDIT, "user.contact_update"), 1);
    /* "" clears; an unknown user is not written */
    in.phone[0] = '\0';
    assert_int_equal(store_contact_put(t->s, &in, NULL, 0), 0);
    assert_int_equal(store_contact_get(t->s, "ann", &cp), 0);
    assert_string_equal(cp.phone, "");
    snprintf(in.user_id, sizeof(in.user_id), "ghost");
    assert_int_equal(store_contact_put(t->s, &in, &a, 1), SW_E_NOTFOUND);
    assert_int_equal(q(t->s, Q_AUDIT, "user.contact_update"), 1);
    /* they survive a restart */
    storetest_reopen(t);
    assert_int_equal(store_contact_get(t->s, "ann", &cp), 0);
    assert_string_equal(cp.slack_user_id, "U0ANN");
}

static void test_routes(void **state)
{
    struct storetest *t = *state;
    acme(t->s);
    tenant(t->s, "beta");
    user(t->s, "full", "acme");
    user(t->s, "bare", "acme");
    user(t->s, "own", "acme");
    user(t->s, "other", "beta");
    contact(t->s, "full", "pager@full.test", "U0FULL", "+14155550100", NULL);
    contact(t->s, "own", NULL, NULL, NULL, PKEY);

    struct sw_engaged e = route(t->s, "full", "email", CH(NOTIFY_EMAIL));
    assert_string_equal(e.user, "full");
    assert_int_equal(e.via, CH(NOTIFY_EMAIL));
    assert_string_equal(e.email, "pager@full.test");    /* the contact point over the account */
    assert_int_equal(e.level, 2);
    e = route(t->s, "full", "slack", CH(NOTIFY_SLACK));
    assert_int_equal(e.via, CH(NOTIFY_SLACK));
    assert_string_equal(e.slack_url, SLACK);
    assert_string_equal(e.slack_user_id, "U0FULL");
    e = route(t->s, "full", "phone", CH(NOTIFY_PHONE));
    assert_int_equal(e.via, CH(NOTIFY_PHONE));
    assert_string_equal(e.voice_url, VOICE);
    assert_string_equal(e.phone, "+14155550100");
    e = route(t->s, "full", "pager", CH(NOTIFY_PAGER));
    assert_string_equal(e.routing_key, TKEY);           /* no key of their own: the tenant's */
    e = route(t->s, "own", "pager", CH(NOTIFY_PAGER));
    assert_string_equal(e.routing_key, PKEY);
    assert_string_equal(e.note, "");
    /* what cannot reach them: their address instead, and why */
    e = route(t->s, "bare", "slack", CH(NOTIFY_SLACK));
    assert_int_equal(e.via, CH(NOTIFY_EMAIL));
    assert_string_equal(e.email, "bare@example.test");
    assert_non_null(strstr(e.note, "no Slack member id"));
    e = route(t->s, "bare", "phone", CH(NOTIFY_PHONE));
    assert_int_equal(e.via, CH(NOTIFY_EMAIL));
    assert_non_null(strstr(e.note, "no phone"));
    /* a finding contact: email, and Slack only with a member id (no note) */
    e = route(t->s, "bare", "email", CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK));
    assert_int_equal(e.via, CH(NOTIFY_EMAIL));
    assert_string_equal(e.note, "");
    e = route(t->s, "full", "email", CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK));
    assert_int_equal(e.via, CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK));
    /* another tenant's user, or none at all: nobody engaged */
    e = route(t->s, "other", "email", CH(NOTIFY_EMAIL));
    assert_string_equal(e.user, "");
    assert_non_null(strstr(e.note, "no role in this tenant"));
    e = route(t->s, "ghost", "email", CH(NOTIFY_EMAIL));
    assert_string_equal(e.user, "");
}

static void test_person_rows(void **state)
{
    struct storetest *t = *state;
    acme(t->s);
    user(t->s, "full", "acme");
    contact(t->s, "full", NULL, "U0FULL", NULL, PKEY);
    struct sw_engaged e = route(t->s, "full", "email", CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK));
    struct sw_notice n;
    escalation(&n, "A-1", &e);
    /* the person's address and the tenant's Slack (with them), the
     * tenant's webhook and websocket; not its email list */
    assert_int_equal(notice_in(t->s, &n, 11), 4);
    assert_int_equal(q(t->s, Q_RCPT, "full@example.test"), 1);
    assert_int_equal(q(t->s, Q_RCPT, "soc@example.test"), 0);
    assert_int_equal(q(t->s, Q_ROWS_CH, "slack"), 1);
    assert_int_equal(q(t->s, Q_ROWS_CH, "webhook"), 1);
    assert_int_equal(q(t->s, Q_ROWS_PERSON, "full"), 2);
    assert_int_equal(notice_in(t->s, &n, 11), 0);       /* the same event: nothing again */
    /* a notice naming nobody: the tenant's channels as before */
    struct sw_engaged none = {0};
    escalation(&n, "A-2", &none);
    assert_int_equal(notice_in(t->s, &n, 12), 4);
    assert_int_equal(q(t->s, Q_RCPT, "soc@example.test"), 1);

    /* pager: a trigger and its incident; acknowledged, then resolved, once each */
    e = route(t->s, "full", "pager", CH(NOTIFY_PAGER));
    escalation(&n, "A-3", &e);
    assert_int_equal(notice_in(t->s, &n, 13), 3);       /* pager, webhook, websocket */
    assert_int_equal(q(t->s, Q_RCPT, PKEY), 1);
    assert_int_equal(q(t->s, Q_INCIDENT_STATE, "slawatch/acme/alert/A-3/2"), 1);
    assert_int_equal(pager_item(t->s, "A-3", false), 1);
    assert_int_equal(pager_item(t->s, "A-3", false), 0);
    assert_int_equal(q(t->s, Q_INCIDENT_STATE, "slawatch/acme/alert/A-3/2"), 2);
    assert_int_equal(pager_item(t->s, "A-3", true), 1);
    assert_int_equal(pager_item(t->s, "A-3", true), 0);
    assert_int_equal(q(t->s, Q_INCIDENT_STATE, "slawatch/acme/alert/A-3/2"), 3);
    assert_int_equal(q(t->s, Q_PAGER_ACTION, "%\"event_action\":\"acknowledge\",\"dedup_key\":"
                                             "\"slawatch/acme/alert/A-3/2\"%"), 1);
    assert_int_equal(q(t->s, Q_PAGER_ACTION, "%\"event_action\":\"resolve\"%"), 1);
    assert_int_equal(q(t->s, Q_RCPT, PKEY), 3);         /* all to the same routing key */
    assert_int_equal(pager_item(t->s, "A-9", true), 0); /* an item that paged nobody */
}

/* Flood windows are per person: on the tenant's one Slack URL, one
 * person's burst is folded into their own digest (which still names them),
 * another's notices go out. */
static void test_person_flood(void **state)
{
    struct storetest *t = *state;
    acme(t->s);
    user(t->s, "ann", "acme");
    user(t->s, "bob", "acme");
    contact(t->s, "ann", NULL, "U0ANN", NULL, NULL);
    contact(t->s, "bob", NULL, "U0BOB", NULL, NULL);
    struct sw_engaged ea = route(t->s, "ann", "slack", CH(NOTIFY_SLACK));
    struct sw_engaged eb = route(t->s, "bob", "slack", CH(NOTIFY_SLACK));
    struct sw_notice n;
    for (int i = 0; i < 3; i++) {
        char item[16];
        snprintf(item, sizeof(item), "A-%d", i);
        escalation(&n, item, &ea);
        assert_true(notice_in(t->s, &n, 100 + i) > 0);
    }
    escalation(&n, "B-1", &eb);
    assert_true(notice_in(t->s, &n, 200) > 0);
    const struct sw_flood f = {.max = 1, .window_ms = 600000};
    struct sw_outbox_row out[16];
    size_t got = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1000;
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_SLACK, now, 30000, &f, out, 16, &got), 0);
    /* ann: 1 sent, 2 folded; bob: 1 sent */
    assert_int_equal(got, 2);
    bool ann = false, bob = false;
    for (size_t i = 0; i < got; i++) {
        ann |= !strcmp(out[i].person, "ann");
        bob |= !strcmp(out[i].person, "bob");
        struct sw_notify_attempt ok = {.at = now, .ok = true, .status = 200};
        assert_int_equal(store_outbox_record(t->s, out[i].id, &ok, SW_OUTCOME_DELIVERED, 0), 0);
        sw_outbox_row_release(&out[i]);
    }
    assert_true(ann && bob);
    /* ann's digest, when her window closes: hers, naming her */
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_SLACK, now + 600000, 30000, &f, out, 16,
                                        &got), 0);
    assert_int_equal(got, 1);
    assert_string_equal(out[0].type, NOTIFY_TYPE_DIGEST);
    assert_string_equal(out[0].person, "ann");
    assert_non_null(strstr(out[0].notice, "\"slack_user_id\":\"U0ANN\""));
    assert_non_null(strstr(out[0].notice, "\"count\":2"));
    sw_outbox_row_release(&out[0]);
}

static void test_faults(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    acme(t->s);
    user(t->s, "ann", "acme");
    /* contact points with their audit row: all or nothing */
    struct sw_contact_points in = {.updated_at = T0};
    snprintf(in.user_id, sizeof(in.user_id), "ann");
    snprintf(in.phone, sizeof(in.phone), "+14155550100");
    struct sw_audit a = {.at = T0};
    snprintf(a.tenant_id, sizeof(a.tenant_id), "acme");
    snprintf(a.actor, sizeof(a.actor), "test");
    snprintf(a.action, sizeof(a.action), "user.contact_update");
    int rc = -1, k;
    for (k = 1; k < 50; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = store_contact_put(t->s, &in, &a, 1);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(q(t->s, Q_CONTACTS, NULL), 0);
        assert_int_equal(q(t->s, Q_AUDIT, "user.contact_update"), 0);
    }
    if (k <= 2)
        fail_msg("contact_put succeeded with the %d-th call failing", k);
    assert_int_equal(q(t->s, Q_CONTACTS, NULL), 1);
    assert_int_equal(q(t->s, Q_AUDIT, "user.contact_update"), 1);

    /* a person's pager notice: rows and incident together or not at all */
    contact(t->s, "ann", NULL, NULL, NULL, PKEY);
    struct sw_engaged e = route(t->s, "ann", "pager", CH(NOTIFY_PAGER));
    struct sw_notice n;
    escalation(&n, "A-1", &e);
    for (k = 1; k < 100; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = notice_in(t->s, &n, 7);
        db_fail_after(db, 0, 0);
        if (rc >= 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(q(t->s, Q_ROWS, NULL), 0);
        assert_int_equal(q(t->s, "SELECT count(*) FROM pager_incidents WHERE ?1 = ?1", NULL), 0);
    }
    assert_int_equal(rc, 3);
    /* its resolve: the row and the incident's state together */
    for (k = 1; k < 100; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = pager_item(t->s, "A-1", true);
        db_fail_after(db, 0, 0);
        if (rc >= 0)
            break;
        assert_int_equal(q(t->s, Q_INCIDENT_STATE, "slawatch/acme/alert/A-1/2"), 1);
        assert_int_equal(q(t->s, Q_ROWS, NULL), 3);
    }
    assert_int_equal(rc, 1);
    assert_int_equal(q(t->s, Q_INCIDENT_STATE, "slawatch/acme/alert/A-1/2"), 3);
}

/* ---- PostgreSQL: two nodes acknowledge one item's pages at once --------------------- */

struct racer {
    struct store *s;
    pthread_barrier_t *go;
    int rows, rc;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->go);
    r->rc = pager_item(r->s, "A-1", false);
    r->rows = r->rc > 0 ? r->rc : 0;
    return NULL;
}

static void test_two_nodes(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        return;
    acme(t->s);
    user(t->s, "ann", "acme");
    contact(t->s, "ann", NULL, NULL, NULL, PKEY);
    struct sw_engaged e = route(t->s, "ann", "pager", CH(NOTIFY_PAGER));
    struct sw_notice n;
    for (int step = 1; step <= 3; step++) {     /* three pages of one alert */
        e.level = step;
        escalation(&n, "A-1", &e);
        assert_true(notice_in(t->s, &n, 40 + step) > 0);
    }
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    for (int round = 0; round < 2; round++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        struct racer ra = {.s = t->s, .go = &go}, rb = {.s = b, .go = &go};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &ra);
        pthread_create(&tb, NULL, race, &rb);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        assert_true(ra.rc >= 0 && rb.rc >= 0);
        /* each incident acknowledged once in total */
        assert_int_equal(ra.rows + rb.rows, round == 0 ? 3 : 0);
    }
    assert_int_equal(q(t->s, Q_PAGER_ACTION, "%\"event_action\":\"acknowledge\"%"), 3);
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contact_points),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_person_rows),
        cmocka_unit_test(test_person_flood),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_two_nodes),
    };
    return storetest_run("people", tests, sizeof(tests) / sizeof(tests[0])) ? 1 : 0;
}
