/* The notifications subject of the SQL store (src/store/notify_config.c,
 * outbox.c) on SQLite and PostgreSQL: config round trip; store_notice_in
 * over every channel mix and its live-dashboard path; thresholds; one row
 * per (event, channel, recipient) with random keys that differ between two
 * databases; claim, lease, record, release, history; flood control and
 * digests; faults injected into every write; migration 0012 over existing
 * rows; and, on PostgreSQL, two nodes claiming and flood-gating one table
 * at once. */
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
#include "pgtest.h"
#include "store/store_int.h"
#include "store/store_notify.h"
#include "storetest.h"

#define T0 INT64_C(1767225600000)
#define LEASE 30000
#define CH(c) (1u << (c))

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

/* ---- fixtures ------------------------------------------------------------------ */

static void tenant(struct store *s, const char *id)
{
    struct sw_tenant t = {.created_at = T0};
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.name, sizeof(t.name), "Tenant %s", id);
    assert_int_equal(store_tenant_create(s, &t, NULL), 0);
}

/* A config: channels, NULL-terminated recipient lists, thresholds (0-ended). */
static int config(struct store *s, const char *tenant_id, unsigned channels,
                  const char *const *email, const char *const *slack, const char *const *hook,
                  const int *thr, const char *secret)
{
    struct sw_notify_config *c = calloc(1, sizeof(*c));
    snprintf(c->tenant_id, sizeof(c->tenant_id), "%s", tenant_id);
    c->channels = channels;
    const char *const *lists[NOTIFY_NCHANNELS] = {NULL, email, slack, hook};
    for (int ch = NOTIFY_EMAIL; ch < NOTIFY_NCHANNELS; ch++)
        for (size_t i = 0; lists[ch] && lists[ch][i]; i++)
            snprintf(c->rcpt[ch][c->nrcpt[ch]++], SW_URL_MAX + 1, "%s", lists[ch][i]);
    for (size_t i = 0; thr && thr[i]; i++)
        c->thresholds[c->nthresholds++] = thr[i];
    snprintf(c->webhook_secret, sizeof(c->webhook_secret), "%s", secret ? secret : "");
    c->updated_at = T0 + 1;
    int rc = store_notify_config_put(s, c);
    free(c);
    return rc;
}

static void notice(struct sw_notice *n, const char *tenant_id, const char *type,
                   const char *item, int thr)
{
    memset(n, 0, sizeof(*n));
    snprintf(n->tenant_id, sizeof(n->tenant_id), "%s", tenant_id);
    snprintf(n->type, sizeof(n->type), "%s", type);
    snprintf(n->item_kind, sizeof(n->item_kind), "alert");
    snprintf(n->item_id, sizeof(n->item_id), "%s", item);
    snprintf(n->severity, sizeof(n->severity), "high");
    snprintf(n->clock, sizeof(n->clock), "ack");
    n->threshold_pct = thr;
    n->due_at = T0 + 3600000;
    n->occurred_at = T0;
}

struct nin {
    const struct sw_notice *n;
    int64_t event_id;
    int rows;
    bool fail;          /* roll back after writing */
};

static int nin_tx(struct db_conn *c, void *ud)
{
    struct nin *x = ud;
    int rc = store_notice_in(c, x->n, x->event_id);
    if (rc < 0)
        return rc;
    x->rows = rc;
    return x->fail ? SW_E_INVAL : 0;
}

/* store_notice_in in a transaction of its own: rows written or SW_E_*. */
static int notice_in(struct store *s, const struct sw_notice *n, int64_t event_id)
{
    struct nin x = {.n = n, .event_id = event_id};
    int rc = db_tx(sql_of(s)->db, DB_TX_WRITE, nin_tx, &x);
    return rc < 0 ? rc : x.rows;
}

static int sla_notice(struct store *s, const char *tenant_id, const char *type, int64_t ev)
{
    struct sw_notice n;
    char item[32];
    snprintf(item, sizeof(item), "A-%lld", (long long)ev);
    notice(&n, tenant_id, type, item, 0);
    return notice_in(s, &n, ev);
}

/* One int64 from a query with one text (?1) or int (?2) parameter. */
static int64_t q(struct store *s, const char *sql, const char *text, int64_t v)
{
    struct db_conn *c = db_acquire(sql_of(s)->db);
    assert_non_null(c);
    struct db_stmt *st;
    assert_int_equal(db_prep(c, sql, &st), 0);
    if (text)
        db_bind_text(st, 1, text);
    else
        db_bind_int64(st, 1, v);
    assert_int_equal(db_step_one(st), 1);
    int64_t r = db_col_int64(st, 0);
    db_reset(st);
    db_release(c);
    return r;
}

static const char Q_ROWS[] = "SELECT count(*) FROM outbox WHERE ?1 = ?1";
static const char Q_ROWS_OF[] = "SELECT count(*) FROM outbox WHERE tenant_id = ?1";
static const char Q_PENDING_DUE[] =
    "SELECT count(*) FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1";
static const char Q_DIGESTED[] =
    "SELECT count(*) FROM outbox WHERE state = 'digested' AND ?1 = ?1";
static const char Q_DIGESTS[] =
    "SELECT count(*) FROM outbox WHERE type = '" NOTIFY_TYPE_DIGEST "' AND ?1 = ?1";
static const char Q_FLOOD[] = "SELECT count(*) FROM notify_flood WHERE ?1 = ?1";
static const char Q_ATTEMPTS[] = "SELECT count(*) FROM notification_attempts WHERE ?1 = ?1";
static const char Q_ATTEMPTS_OF[] =
    "SELECT count(*) FROM notification_attempts WHERE outbox_id = ?1";
static const char Q_STATE_PENDING[] =
    "SELECT count(*) FROM outbox WHERE id = ?1 AND state = 'pending'";
static const char Q_NEXT_AT[] = "SELECT next_attempt_at FROM outbox WHERE id = ?1";
static const char Q_DELIVERED_OF_DIGEST[] =
    "SELECT count(*) FROM outbox WHERE digest_id = ?1 AND delivered_at IS NOT NULL";
static const char Q_NOTICE_NULL[] =
    "SELECT count(*) FROM outbox WHERE id = ?1 AND notice IS NULL";

/* ---- live dashboards ------------------------------------------------------------ */

#define LIVE_MAX 64

struct live_log {
    pthread_mutex_t mu;
    int n;
    char tenant[LIVE_MAX][SW_ID_MAX + 1];
    char text[LIVE_MAX][2048];
};

static void on_live(void *ud, const char *tenant_id, const char *text, size_t len)
{
    struct live_log *l = ud;
    pthread_mutex_lock(&l->mu);
    if (l->n < LIVE_MAX) {
        snprintf(l->tenant[l->n], sizeof(l->tenant[0]), "%s", tenant_id);
        snprintf(l->text[l->n], sizeof(l->text[0]), "%.*s", (int)len, text);
        l->n++;
    }
    pthread_mutex_unlock(&l->mu);
}

static void live_watch(struct store *s, struct live_log *l)
{
    memset(l, 0, sizeof(*l));
    pthread_mutex_init(&l->mu, NULL);
    s->live = on_live;
    s->live_ud = l;
}

static int live_count(struct live_log *l)
{
    pthread_mutex_lock(&l->mu);
    int n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

static bool key_shape(const char *k)
{
    if (strlen(k) != NOTIFY_KEY_LEN || strncmp(k, "ntf_", 4) != 0)
        return false;
    for (const char *p = k + 4; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

/* ---- history into an array -------------------------------------------------------- */

#define ROWS_MAX 64

struct rows {
    int n;
    struct sw_outbox_row r[ROWS_MAX];       /* notice: a copy (rows_free) */
    size_t nattempts[ROWS_MAX];
    struct sw_notify_attempt last[ROWS_MAX];
};

static int rows_cb(const struct sw_outbox_row *r, const struct sw_notify_attempt *a, size_t na,
                   void *ud)
{
    struct rows *x = ud;
    if (x->n == ROWS_MAX)
        return 1;
    x->r[x->n] = *r;
    x->r[x->n].notice = r->notice ? strdup(r->notice) : NULL;
    x->nattempts[x->n] = na;
    if (na)
        x->last[x->n] = a[na - 1];
    x->n++;
    return 0;
}

static void rows_free(struct rows *x)
{
    for (int i = 0; i < x->n; i++)
        free(x->r[i].notice);
    x->n = 0;
}

static struct rows *history(struct store *s, const char *tenant_id, int64_t before, int limit)
{
    struct rows *x = calloc(1, sizeof(*x));
    assert_int_equal(store_notify_history(s, tenant_id, before, limit, rows_cb, x), 0);
    return x;
}

static const struct sw_outbox_row *row_by_id(struct rows *x, int64_t id)
{
    for (int i = 0; i < x->n; i++)
        if (x->r[i].id == id)
            return &x->r[i];
    return NULL;
}

static void release_all(struct sw_outbox_row *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sw_outbox_row_release(&out[i]);
}

/* ---- config ------------------------------------------------------------------------- */

struct cfg_read {
    struct sw_notify_config *cfg;
};

static int cfg_read_tx(struct db_conn *c, void *ud)
{
    struct cfg_read *x = ud;
    return store_notify_config_in(c, x->cfg->tenant_id, x->cfg);
}

static void test_config(void **state)
{
    struct storetest *t = *state;
    tenant(t->s, "acme");
    struct sw_notify_config *got = calloc(1, sizeof(*got));
    assert_int_equal(store_notify_config_get(t->s, "acme", got), SW_E_NOTFOUND);
    const char *email[] = {"a@example.com", "b@example.com", NULL};
    const char *hook[] = {"https://hooks.example.com/1", NULL};
    const int thr[] = {80, 90, 0};
    assert_int_equal(config(t->s, "ghost", CH(NOTIFY_EMAIL), email, NULL, NULL, thr, NULL),
                     SW_E_NOTFOUND);
    assert_int_equal(config(t->s, "acme", CH(NOTIFY_WEBSOCKET) | CH(NOTIFY_EMAIL) |
                                              CH(NOTIFY_WEBHOOK),
                            email, NULL, hook, thr, "s3cret"),
                     0);
    assert_int_equal(store_notify_config_get(t->s, "acme", got), 0);
    assert_string_equal(got->tenant_id, "acme");
    assert_int_equal(got->channels,
                     CH(NOTIFY_WEBSOCKET) | CH(NOTIFY_EMAIL) | CH(NOTIFY_WEBHOOK));
    assert_int_equal(got->nrcpt[NOTIFY_EMAIL], 2);
    assert_string_equal(got->rcpt[NOTIFY_EMAIL][1], "b@example.com");
    assert_int_equal(got->nrcpt[NOTIFY_SLACK], 0);
    assert_int_equal(got->nrcpt[NOTIFY_WEBHOOK], 1);
    assert_string_equal(got->rcpt[NOTIFY_WEBHOOK][0], "https://hooks.example.com/1");
    assert_int_equal(got->nthresholds, 2);
    assert_int_equal(got->thresholds[1], 90);
    assert_true(got->webhook_secret_set);
    assert_string_equal(got->webhook_secret, "");       /* never leaves the store */
    assert_true(got->updated_at == T0 + 1);

    /* replaced; "" keeps the stored secret */
    const int thr2[] = {50, 0};
    assert_int_equal(config(t->s, "acme", CH(NOTIFY_SLACK), NULL, email, NULL, thr2, ""), 0);
    memset(got, 0, sizeof(*got));
    snprintf(got->tenant_id, sizeof(got->tenant_id), "acme");
    struct cfg_read r = {got};
    assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_READ, cfg_read_tx, &r), 0);
    assert_string_equal(got->webhook_secret, "s3cret");
    assert_int_equal(got->channels, CH(NOTIFY_SLACK));
    assert_int_equal(got->nrcpt[NOTIFY_EMAIL], 0);
    assert_int_equal(got->nrcpt[NOTIFY_SLACK], 2);
    assert_int_equal(got->nthresholds, 1);

    storetest_reopen(t);
    assert_int_equal(store_notify_config_get(t->s, "acme", got), 0);
    assert_int_equal(got->thresholds[0], 50);
    free(got);
}

/* ---- notices: channel mixes and the live path ---------------------------------------- */

static void test_notice_channels(void **state)
{
    struct storetest *t = *state;
    struct live_log live;
    live_watch(t->s, &live);
    const char *email[] = {"a@example.com", "b@example.com", NULL};
    const char *slack[] = {"https://hooks.slack.com/services/T/B/x", NULL};
    const char *hook[] = {"https://h.example.com/1", "https://h.example.com/2", NULL};
    const int thr[] = {80, 0};
    tenant(t->s, "none");       /* no config at all */
    tenant(t->s, "empty");      /* a config without channels */
    tenant(t->s, "mail");       /* email + slack: no websocket */
    tenant(t->s, "ws");         /* websocket only */
    tenant(t->s, "all");        /* every channel */
    assert_int_equal(config(t->s, "empty", 0, NULL, NULL, NULL, thr, NULL), 0);
    assert_int_equal(config(t->s, "mail", CH(NOTIFY_EMAIL) | CH(NOTIFY_SLACK), email, slack,
                            hook, thr, NULL), 0);     /* webhook list, channel off */
    assert_int_equal(config(t->s, "ws", CH(NOTIFY_WEBSOCKET), NULL, NULL, NULL, thr, NULL), 0);
    assert_int_equal(config(t->s, "all", CH(NOTIFY_WEBSOCKET) | CH(NOTIFY_EMAIL) |
                                             CH(NOTIFY_SLACK) | CH(NOTIFY_WEBHOOK),
                            email + 1, slack, hook, thr, "k"), 0);

    assert_int_equal(sla_notice(t->s, "none", "sla.breach", 1), 0);
    assert_int_equal(sla_notice(t->s, "empty", "sla.breach", 2), 0);
    assert_int_equal(sla_notice(t->s, "mail", "sla.breach", 3), 3);
    assert_int_equal(sla_notice(t->s, "ws", "sla.breach", 4), 1);
    assert_int_equal(sla_notice(t->s, "all", "sla.escalation", 5), 5);

    /* the live path: every tenant without the websocket channel, once */
    assert_int_equal(live_count(&live), 3);
    const char *want[] = {"none", "empty", "mail"};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(live.tenant[i], want[i]);
        json_t *b = json_loads(live.text[i], 0, NULL);
        assert_non_null(b);
        assert_true(key_shape(json_string_value(json_object_get(b, "id"))));
        assert_string_equal(json_string_value(json_object_get(b, "type")), "sla.breach");
        assert_string_equal(json_string_value(json_object_get(b, "tenant_id")), want[i]);
        json_decref(b);
    }

    /* rows: per channel x recipient, each body carrying its own key */
    struct rows *x = history(t->s, "all", 0, 50);
    assert_int_equal(x->n, 5);
    int per[NOTIFY_NCHANNELS] = {0};
    for (int i = 0; i < x->n; i++) {
        const struct sw_outbox_row *r = &x->r[i];
        per[r->channel]++;
        assert_true(key_shape(r->key));
        assert_int_equal(r->state, SW_OUTBOX_PENDING);
        assert_int_equal(r->event_id, 5);
        assert_string_equal(r->type, "sla.escalation");
        assert_string_equal(r->item_id, "A-5");
        if (r->channel == NOTIFY_WEBSOCKET)
            assert_string_equal(r->recipient, "all");
        json_t *b = json_loads(r->notice, 0, NULL);
        assert_string_equal(json_string_value(json_object_get(b, "id")), r->key);
        json_decref(b);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(x->r[j].key, r->key);
    }
    assert_int_equal(per[NOTIFY_WEBSOCKET], 1);
    assert_int_equal(per[NOTIFY_EMAIL], 1);
    assert_int_equal(per[NOTIFY_SLACK], 1);
    assert_int_equal(per[NOTIFY_WEBHOOK], 2);
    rows_free(x);
    free(x);

    /* rolled back: no row, no live message */
    struct sw_notice n;
    notice(&n, "mail", "sla.breach", "A-9", 0);
    struct nin rb = {.n = &n, .event_id = 9, .fail = true};
    assert_int_equal(db_tx(sql_of(t->s)->db, DB_TX_WRITE, nin_tx, &rb), SW_E_INVAL);
    assert_int_equal(q(t->s, Q_ROWS_OF, "mail", 0), 3);
    assert_int_equal(live_count(&live), 3);

    /* the enqueue op writes rows only (test notices never go live) */
    notice(&n, "mail", NOTIFY_TYPE_TEST, "test-1", 0);
    n.test = true;
    int rows = -1;
    assert_int_equal(store_notify_enqueue(t->s, &n, 0, &rows), 0);
    assert_int_equal(rows, 3);
    assert_int_equal(live_count(&live), 3);
    t->s->live = NULL;
    pthread_mutex_destroy(&live.mu);
}

/* sla.warning only for the tenant's thresholds; other types always. */
static void test_thresholds(void **state)
{
    struct storetest *t = *state;
    struct live_log live;
    live_watch(t->s, &live);
    const char *email[] = {"a@example.com", NULL};
    const int thr[] = {90, 100, 0};
    tenant(t->s, "acme");
    tenant(t->s, "wsco");
    assert_int_equal(config(t->s, "acme", CH(NOTIFY_EMAIL), email, NULL, NULL, thr, NULL), 0);
    assert_int_equal(config(t->s, "wsco", CH(NOTIFY_WEBSOCKET), NULL, NULL, NULL, thr, NULL),
                     0);
    struct sw_notice n;
    int64_t ev = 1;
    const struct {
        const char *tenant, *type;
        int pct, rows;
    } cases[] = {
        {"acme", "sla.warning", 80, 0},  {"acme", "sla.warning", 90, 1},
        {"acme", "sla.warning", 100, 1}, {"acme", "sla.breach", 0, 1},
        {"acme", "sla.escalation", 0, 1}, {"wsco", "sla.warning", 80, 0},
        {"wsco", "sla.warning", 90, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        notice(&n, cases[i].tenant, cases[i].type, "A-1", cases[i].pct);
        assert_int_equal(notice_in(t->s, &n, ev++), cases[i].rows);
    }
    /* as the old store: a tenant without websocket sees every notice live,
     * its thresholds filter what is sent out; a websocket tenant none */
    assert_int_equal(live_count(&live), 5);
    t->s->live = NULL;
    pthread_mutex_destroy(&live.mu);
}

/* ---- one row per (event, channel, recipient); random keys ------------------------------- */

struct keyset {
    int n;
    char key[8][NOTIFY_KEY_LEN + 1];
};

static int keys_cb(const struct sw_outbox_row *r, const struct sw_notify_attempt *a, size_t na,
                   void *ud)
{
    struct keyset *k = ud;
    if (k->n < 8)
        snprintf(k->key[k->n++], NOTIFY_KEY_LEN + 1, "%s", r->key);
    return 0;
}

static void two_db_setup(struct store *s)
{
    const char *email[] = {"a@example.com", NULL};
    const int thr[] = {80, 0};
    tenant(s, "acme");
    assert_int_equal(config(s, "acme", CH(NOTIFY_WEBSOCKET) | CH(NOTIFY_EMAIL), email, NULL,
                            NULL, thr, NULL), 0);
}

static void test_dedupe_and_keys(void **state)
{
    struct storetest *t = *state;
    two_db_setup(t->s);
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 7), 2);
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 7), 0);   /* again: nothing */
    struct sw_notice n;
    notice(&n, "acme", "sla.warning", "A-7", 80);                     /* same event */
    assert_int_equal(notice_in(t->s, &n, 7), 0);
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 8), 2);
    assert_int_equal(q(t->s, Q_ROWS, NULL, 0), 4);
    int rows = -1;
    assert_int_equal(store_notify_enqueue(t->s, &n, 7, &rows), 0);
    assert_int_equal(rows, 0);

    /* without an event: the notice's hashed key dedupes, as before */
    notice(&n, "acme", NOTIFY_TYPE_TEST, "test-1", 0);
    n.test = true;
    assert_int_equal(store_notify_enqueue(t->s, &n, 0, &rows), 0);
    assert_int_equal(rows, 2);
    assert_int_equal(store_notify_enqueue(t->s, &n, 0, &rows), 0);
    assert_int_equal(rows, 0);
    n.occurred_at++;        /* another test notice */
    assert_int_equal(store_notify_enqueue(t->s, &n, 0, &rows), 0);
    assert_int_equal(rows, 2);

    struct keyset a = {0};
    assert_int_equal(store_notify_history(t->s, "acme", 0, 10, keys_cb, &a), 0);
    assert_int_equal(a.n, 8);
    for (int i = 0; i < a.n; i++)
        for (int j = 0; j < i; j++)
            assert_string_not_equal(a.key[i], a.key[j]);

    /* another database (a restored backup, another install): the same
     * event id gets other keys */
    char url[512], dir[128] = "";
    if (t->pg) {
        assert_int_equal(pgtest_db_create(url, sizeof(url)), 0);
    } else {
        snprintf(dir, sizeof(dir), "/tmp/slawatch-store2-XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(url, sizeof(url), "sqlite:%s/store.db", dir);
    }
    struct store *s2;
    char err[512];
    assert_int_equal(store_sql_open(url, &s2, err, sizeof(err)), 0);
    two_db_setup(s2);
    assert_int_equal(sla_notice(s2, "acme", "sla.breach", 7), 2);
    struct keyset b = {0};
    assert_int_equal(store_notify_history(s2, "acme", 0, 10, keys_cb, &b), 0);
    assert_int_equal(b.n, 2);
    for (int i = 0; i < b.n; i++) {
        assert_true(key_shape(b.key[i]));
        for (int j = 0; j < a.n; j++)
            assert_string_not_equal(b.key[i], a.key[j]);
    }
    store_close(s2);
    if (t->pg) {
        pgtest_db_drop(url);
    } else {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* ---- claim, lease, record, release, history -------------------------------------------- */

static void webhook_tenant(struct store *s)
{
    const char *email[] = {"ops@example.com", NULL};
    const char *hook[] = {"https://h.example.com/1", "https://h.example.com/2", NULL};
    const int thr[] = {80, 0};
    tenant(s, "acme");
    assert_int_equal(config(s, "acme", CH(NOTIFY_EMAIL) | CH(NOTIFY_WEBHOOK), email, NULL,
                            hook, thr, "sek"), 0);
}

static void test_claim_record(void **state)
{
    struct storetest *t = *state;
    webhook_tenant(t->s);
    for (int64_t ev = 1; ev <= 3; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 3);
    int64_t due = 0, now = wall_ms() + 1000;
    assert_int_equal(store_outbox_next_due(t->s, NOTIFY_WEBHOOK, &due), 0);
    assert_true(due <= now);
    assert_int_equal(store_outbox_next_due(t->s, NOTIFY_SLACK, &due), SW_E_NOTFOUND);

    struct sw_outbox_row out[16];
    size_t n = 99;
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_WEBHOOK, now, LEASE, NULL, out, 4, &n), 0);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i].channel, NOTIFY_WEBHOOK);
        assert_string_equal(out[i].secret, "sek");
        assert_non_null(out[i].notice);
        assert_true(out[i].next_attempt_at == now + LEASE);
        if (i)
            assert_true(out[i].id > out[i - 1].id);     /* oldest first */
    }
    int64_t first[4];
    for (size_t i = 0; i < 4; i++)
        first[i] = out[i].id;
    release_all(out, n);
    /* leased: the rest, then nothing */
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_WEBHOOK, now, LEASE, NULL, out, 16, &n), 0);
    assert_int_equal(n, 2);
    release_all(out, n);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_WEBHOOK, now, LEASE, NULL, out, 16, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(store_outbox_next_due(t->s, NOTIFY_WEBHOOK, &due), 0);
    assert_true(due == now + LEASE);
    /* the node died: after the lease any node takes them again */
    storetest_reopen(t);
    now += LEASE;
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_WEBHOOK, now, LEASE, NULL, out, 16, &n), 0);
    assert_int_equal(n, 6);
    assert_true(out[0].id == first[0]);

    struct sw_notify_attempt ok = {.at = now + 5, .ok = true, .status = 200, .duration_ms = 7};
    struct sw_notify_attempt bad = {.at = now + 6, .status = 503, .duration_ms = 9};
    snprintf(bad.error, sizeof(bad.error), "HTTP 503");
    assert_int_equal(store_outbox_record(t->s, out[0].id, &ok, SW_OUTCOME_DELIVERED, 0), 0);
    assert_int_equal(store_outbox_record(t->s, out[0].id, &ok, SW_OUTCOME_DELIVERED, 0),
                     SW_E_CONFLICT);
    assert_int_equal(store_outbox_record(t->s, out[1].id, &bad, SW_OUTCOME_RETRY, now + 60000),
                     0);
    assert_int_equal(store_outbox_record(t->s, out[2].id, &bad, SW_OUTCOME_DEAD, 0), 0);
    assert_int_equal(store_outbox_record(t->s, out[2].id, &bad, SW_OUTCOME_RETRY, 1),
                     SW_E_CONFLICT);
    assert_int_equal(store_outbox_record(t->s, 999999, &ok, SW_OUTCOME_DELIVERED, 0),
                     SW_E_NOTFOUND);
    assert_int_equal(store_outbox_release(t->s, out[3].id, now + 10), 0);
    assert_int_equal(store_outbox_release(t->s, out[0].id, now + 10), 0);  /* delivered: no-op */
    /* several in one transaction, each at its own instant; a delivered one
     * among them is left alone */
    const int64_t gb_ids[3] = {out[4].id, out[0].id, out[5].id};
    const int64_t gb_ats[3] = {now + 20, now + 21, now + 22};
    assert_int_equal(store_outbox_release_many(t->s, gb_ids, gb_ats, 3), 0);
    assert_int_equal(store_outbox_release_many(t->s, gb_ids, gb_ats, 0), 0);
    assert_int_equal(q(t->s, Q_ATTEMPTS, NULL, 0), 3);

    struct rows *x = history(t->s, "acme", 0, 50);
    assert_int_equal(x->n, 9);
    assert_true(x->r[0].id > x->r[1].id);       /* newest first */
    const struct sw_outbox_row *r = row_by_id(x, out[0].id);
    assert_int_equal(r->state, SW_OUTBOX_DELIVERED);
    assert_int_equal(r->attempts, 1);
    assert_true(r->delivered_at == now + 12);
    assert_string_equal(r->last_error, "");
    r = row_by_id(x, out[1].id);
    assert_int_equal(r->state, SW_OUTBOX_PENDING);
    assert_true(r->next_attempt_at == now + 60000);
    assert_string_equal(r->last_error, "HTTP 503");
    size_t i1 = (size_t)(r - x->r);
    assert_int_equal(x->nattempts[i1], 1);
    assert_int_equal(x->last[i1].status, 503);
    assert_false(x->last[i1].ok);
    assert_string_equal(x->last[i1].error, "HTTP 503");
    assert_true(x->last[i1].duration_ms == 9);
    r = row_by_id(x, out[2].id);
    assert_int_equal(r->state, SW_OUTBOX_DEAD);
    assert_int_equal(r->delivered_at, 0);
    r = row_by_id(x, out[3].id);
    assert_true(r->next_attempt_at == now + 10);
    r = row_by_id(x, out[4].id);
    assert_int_equal(r->state, SW_OUTBOX_PENDING);
    assert_true(r->next_attempt_at == now + 20);
    r = row_by_id(x, out[5].id);
    assert_true(r->next_attempt_at == now + 22);
    r = row_by_id(x, out[0].id);
    assert_int_equal(x->nattempts[r - x->r], 1);
    assert_true(x->last[r - x->r].ok);
    rows_free(x);
    free(x);
    /* paging */
    int64_t newest = 0;
    x = history(t->s, "acme", 0, 2);
    assert_int_equal(x->n, 2);
    newest = x->r[1].id;
    rows_free(x);
    free(x);
    x = history(t->s, "acme", newest, 50);
    assert_int_equal(x->n, 7);
    assert_true(x->r[0].id < newest);
    rows_free(x);
    free(x);
    x = history(t->s, "other", 0, 50);
    assert_int_equal(x->n, 0);
    free(x);
    release_all(out, n);
}

/* ---- flood control and digests -------------------------------------------------------- */

static const char *flood_rcpt[] = {"ops@example.com", NULL};

static void flood_tenant(struct store *s, const char *id, unsigned channels)
{
    const int thr[] = {80, 0};
    tenant(s, id);
    assert_int_equal(config(s, id, channels, flood_rcpt, NULL, NULL, thr, NULL), 0);
}

static void test_flood_digest(void **state)
{
    struct storetest *t = *state;
    flood_tenant(t->s, "acme", CH(NOTIFY_EMAIL));
    for (int64_t ev = 1; ev <= 23; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 1);
    const struct sw_flood flood = {.max = 1, .window_ms = 60000};
    int64_t now = wall_ms() + 1000, win_end = now + 60000;
    struct sw_outbox_row out[32];
    size_t n = 0;
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, now, LEASE, &flood, out, 32, &n), 0);
    assert_int_equal(n, 1);                             /* the first; 22 folded */
    int64_t sent_id = out[0].id;
    release_all(out, n);
    assert_int_equal(q(t->s, Q_DIGESTED, NULL, 0), 22);
    assert_int_equal(q(t->s, Q_DIGESTS, NULL, 0), 1);
    struct sw_notify_attempt ok = {.at = now, .ok = true, .status = 250, .duration_ms = 1};
    assert_int_equal(store_outbox_record(t->s, sent_id, &ok, SW_OUTCOME_DELIVERED, 0), 0);
    int64_t due = 0;
    assert_int_equal(store_outbox_next_due(t->s, NOTIFY_EMAIL, &due), 0);
    assert_true(due == win_end);                        /* the digest, when the window ends */
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, now + 1, LEASE, &flood, out, 32,
                                        &n), 0);
    assert_int_equal(n, 0);

    /* the window closed: the digest, rendered once */
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, win_end, LEASE, &flood, out, 32,
                                        &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].type, NOTIFY_TYPE_DIGEST);
    assert_true(key_shape(out[0].key));
    json_t *b = json_loads(out[0].notice, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "id")), out[0].key);
    assert_string_equal(json_string_value(json_object_get(b, "type")), NOTIFY_TYPE_DIGEST);
    assert_string_equal(json_string_value(json_object_get(b, "tenant_id")), "acme");
    assert_string_equal(json_string_value(json_object_get(b, "channel")), "email");
    assert_int_equal(json_integer_value(json_object_get(b, "count")), 22);
    json_t *items = json_object_get(b, "items");
    assert_int_equal(json_array_size(items), SW_DIGEST_ITEMS);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "item_id")),
                        "A-2");
    json_decref(b);
    int64_t digest = out[0].id;
    release_all(out, n);

    /* a node whose clock lags folds one more into the closed window: a
     * second digest, never lost in the first */
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 24), 1);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, win_end - 1, LEASE, &flood, out,
                                        32, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(q(t->s, Q_DIGESTS, NULL, 0), 2);

    /* a failed try keeps the body; delivery stamps the rows it carried */
    struct sw_notify_attempt bad = {.at = win_end, .status = 451, .duration_ms = 1};
    snprintf(bad.error, sizeof(bad.error), "451");
    assert_int_equal(store_outbox_record(t->s, digest, &bad, SW_OUTCOME_RETRY, win_end + 5), 0);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, win_end + 5, LEASE, &flood, out,
                                        32, &n), 0);
    assert_int_equal(n, 2);                             /* the retry and the second digest */
    assert_true(out[0].id == digest);
    b = json_loads(out[0].notice, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(b, "count")), 22);
    json_decref(b);
    b = json_loads(out[1].notice, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(b, "count")), 1);
    json_decref(b);
    ok.at = win_end + 6;
    assert_int_equal(store_outbox_record(t->s, digest, &ok, SW_OUTCOME_DELIVERED, 0), 0);
    assert_int_equal(q(t->s, Q_DELIVERED_OF_DIGEST, NULL, digest), 22);
    release_all(out, n);

    /* a new window sends again */
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 25), 1);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, win_end + 10, LEASE, &flood, out,
                                        32, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(out[0].item_id, "A-25");
    release_all(out, n);

    /* websocket rows are never held back */
    flood_tenant(t->s, "wsco", CH(NOTIFY_WEBSOCKET));
    for (int64_t ev = 101; ev <= 105; ev++)
        assert_int_equal(sla_notice(t->s, "wsco", "sla.breach", ev), 1);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_WEBSOCKET, win_end + 10, LEASE, &flood,
                                        out, 32, &n), 0);
    assert_int_equal(n, 5);
    release_all(out, n);
}

/* ---- faults: every driver call of a write fails in turn ------------------------------- */

static void test_faults_enqueue(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    struct live_log live;
    live_watch(t->s, &live);
    const char *email[] = {"a@example.com", "b@example.com", NULL};
    const int thr[] = {80, 0};
    tenant(t->s, "acme");       /* email only: its notices also go live */
    assert_int_equal(config(t->s, "acme", CH(NOTIFY_EMAIL), email, NULL, NULL, thr, NULL), 0);
    struct sw_notice n;
    notice(&n, "acme", "sla.breach", "A-1", 0);
    int rc = -1, k;
    for (k = 1; k < 100; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = notice_in(t->s, &n, 1);
        db_fail_after(db, 0, 0);
        if (rc >= 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(q(t->s, Q_ROWS, NULL, 0), 0);
        assert_int_equal(live_count(&live), 0);
    }
    assert_true(k > 3);
    assert_int_equal(rc, 2);
    assert_int_equal(live_count(&live), 1);
    /* the enqueue op */
    notice(&n, "acme", NOTIFY_TYPE_TEST, "test-1", 0);
    int rows = 0;
    for (k = 1; k < 100; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = store_notify_enqueue(t->s, &n, 0, &rows);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(q(t->s, Q_ROWS, NULL, 0), 2);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(rows, 2);
    assert_int_equal(q(t->s, Q_ROWS, NULL, 0), 4);
    t->s->live = NULL;
    pthread_mutex_destroy(&live.mu);
}

static void test_faults_claim(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    flood_tenant(t->s, "acme", CH(NOTIFY_EMAIL));
    for (int64_t ev = 1; ev <= 4; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 1);
    const struct sw_flood flood = {.max = 2, .window_ms = 60000};
    int64_t now = wall_ms() + 1000;
    struct sw_outbox_row out[8];
    size_t n = 0;
    int rc = -1, k;
    for (k = 1; k < 200; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = store_outbox_claim(t->s, NOTIFY_EMAIL, now, LEASE, &flood, out, 8, &n);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(n, 0);
        /* nothing leased, counted, folded or created */
        assert_int_equal(q(t->s, Q_PENDING_DUE, NULL, now), 4);
        assert_int_equal(q(t->s, Q_FLOOD, NULL, 0), 0);
        assert_int_equal(q(t->s, Q_DIGESTS, NULL, 0), 0);
        assert_int_equal(q(t->s, Q_DIGESTED, NULL, 0), 0);
    }
    assert_true(k > 5);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    release_all(out, n);
    assert_int_equal(q(t->s, Q_DIGESTED, NULL, 0), 2);
    /* the digest's first claim renders it */
    int64_t end = now + 60000;
    for (k = 1; k < 200; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = store_outbox_claim(t->s, NOTIFY_EMAIL, end, LEASE, &flood, out, 8, &n);
        db_fail_after(db, 0, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, SW_E_STORE);
        assert_int_equal(q(t->s, Q_PENDING_DUE, NULL, end), 3);   /* 2 leased + digest */
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_non_null(out[i].notice);
    release_all(out, n);
}

static void test_faults_record(void **state)
{
    struct storetest *t = *state;
    struct db *db = sql_of(t->s)->db;
    flood_tenant(t->s, "acme", CH(NOTIFY_EMAIL));
    for (int64_t ev = 1; ev <= 3; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 1);
    const struct sw_flood flood = {.max = 1, .window_ms = 60000};
    int64_t now = wall_ms() + 1000;
    struct sw_outbox_row out[8];
    size_t n = 0;
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, now, LEASE, &flood, out, 8, &n), 0);
    assert_int_equal(n, 1);
    release_all(out, n);
    assert_int_equal(store_outbox_claim(t->s, NOTIFY_EMAIL, now + 60000, LEASE, &flood, out, 8,
                                        &n), 0);
    assert_int_equal(n, 2);     /* the first (lease over) and the digest */
    int64_t digest = !strcmp(out[0].type, NOTIFY_TYPE_DIGEST) ? out[0].id : out[1].id;
    int64_t plain = digest == out[0].id ? out[1].id : out[0].id;
    release_all(out, n);
    struct sw_notify_attempt ok = {.at = now, .ok = true, .status = 250, .duration_ms = 3};
    const int64_t ids[] = {plain, digest};
    for (int j = 0; j < 2; j++) {
        int rc = -1, k;
        for (k = 1; k < 100; k++) {
            db_fail_after(db, k, SW_E_STORE);
            rc = store_outbox_record(t->s, ids[j], &ok, SW_OUTCOME_DELIVERED, 0);
            db_fail_after(db, 0, 0);
            if (rc == 0)
                break;
            assert_int_equal(rc, SW_E_STORE);
            assert_int_equal(q(t->s, Q_ATTEMPTS_OF, NULL, ids[j]), 0);
            assert_int_equal(q(t->s, Q_STATE_PENDING, NULL, ids[j]), 1);
            assert_int_equal(q(t->s, Q_DELIVERED_OF_DIGEST, NULL, digest), 0);
        }
        assert_true(k > 3);
        assert_int_equal(rc, 0);
        assert_int_equal(q(t->s, Q_ATTEMPTS_OF, NULL, ids[j]), 1);
    }
    assert_int_equal(q(t->s, Q_DELIVERED_OF_DIGEST, NULL, digest), 2);
    /* release too */
    assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 9), 1);
    int64_t id9 = 0;
    struct rows *x = history(t->s, "acme", 0, 1);
    id9 = x->r[0].id;
    rows_free(x);
    free(x);
    int64_t before = q(t->s, Q_NEXT_AT, NULL, id9);
    int rc = -1;
    for (int k = 1; k < 20 && rc != 0; k++) {
        db_fail_after(db, k, SW_E_STORE);
        rc = store_outbox_release(t->s, id9, before + 777);
        db_fail_after(db, 0, 0);
        if (rc != 0)
            assert_true(q(t->s, Q_NEXT_AT, NULL, id9) == before);
    }
    assert_int_equal(rc, 0);
    assert_true(q(t->s, Q_NEXT_AT, NULL, id9) == before + 777);
    assert_int_equal(q(t->s, Q_NOTICE_NULL, NULL, digest), 0);
}

/* ---- live publish ------------------------------------------------------------------------ */

static struct store *second_node(struct storetest *t)
{
    struct store *b;
    char err[512];
    assert_int_equal(store_sql_open(t->url, &b, err, sizeof(err)), 0);
    for (int i = 0; i < 500 && (db_node_count(sql_of(t->s)->db) < 2 ||
                                db_signals_lossy(sql_of(b)->db));
         i++)
        sleep_ms(10);
    assert_int_equal(db_node_count(sql_of(t->s)->db), 2);
    return b;
}

static void wait_live(struct live_log *l, int n)
{
    for (int i = 0; i < 500 && live_count(l) < n; i++)
        sleep_ms(10);
}

static void test_live_publish(void **state)
{
    struct storetest *t = *state;
    struct live_log a;
    live_watch(t->s, &a);
    assert_int_equal(store_live_publish(t->s, "acme", "{\"type\":\"sla.breach\"}"), 0);
    assert_int_equal(live_count(&a), 1);
    assert_string_equal(a.tenant[0], "acme");
    assert_string_equal(a.text[0], "{\"type\":\"sla.breach\"}");
    char *big = malloc(DB_SIGNAL_MAX + 10);
    memset(big, 'x', DB_SIGNAL_MAX + 9);
    big[DB_SIGNAL_MAX + 9] = '\0';
    assert_int_equal(store_live_publish(t->s, "acme", big), SW_E_TOOBIG);
    free(big);
    if (t->pg) {
        /* every node's dashboards: published on A, seen on B; and a notice
         * committed on A for a tenant without websocket, seen on B */
        struct store *b = second_node(t);
        struct live_log lb;
        live_watch(b, &lb);
        assert_int_equal(store_live_publish(t->s, "acme", "{\"n\":2}"), 0);
        wait_live(&lb, 1);
        assert_int_equal(live_count(&lb), 1);
        assert_string_equal(lb.text[0], "{\"n\":2}");
        tenant(t->s, "acme");
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", 1), 0);
        wait_live(&lb, 2);
        assert_int_equal(live_count(&lb), 2);
        assert_string_equal(lb.tenant[1], "acme");
        assert_non_null(strstr(lb.text[1], "\"sla.breach\""));
        assert_int_equal(live_count(&a), 3);       /* A's own, once each */
        store_close(b);
        pthread_mutex_destroy(&lb.mu);
    }
    t->s->live = NULL;
    pthread_mutex_destroy(&a.mu);
}

/* ---- migration 0012 over existing rows ------------------------------------------------- */

static const char MIG_BACK[] =
    "DROP INDEX outbox_event; DELETE FROM schema_version WHERE version = 12; "
    "INSERT INTO outbox (tenant_id, channel, recipient, type, event_id, notice, "
    "  idempotency_key, next_attempt_at, created_at) VALUES "
    "('a', 'email', 'x@example.com', 'sla.breach', 5, '{}', 'ntf_old1', 1, 1), "
    "('b', 'email', 'x@example.com', 'sla.breach', 5, '{}', 'ntf_old2', 1, 1), "
    "('a', 'email', 'y@example.com', 'sla.breach', 5, '{}', 'ntf_old3', 1, 1), "
    "('a', 'email', 'x@example.com', 'sla.breach', 6, '{}', 'ntf_old4', 1, 1)";
static const char Q_EVENT_OF_KEY[] =
    "SELECT COALESCE(event_id, 0) FROM outbox WHERE idempotency_key = ?1";

static void test_migration_0012(void **state)
{
    struct storetest *t = *state;
    struct db_conn *c = db_acquire(sql_of(t->s)->db);
    assert_non_null(c);
    assert_int_equal(db_exec_script(c, MIG_BACK), 0);
    db_release(c);
    storetest_reopen(t);        /* applies 0012 again, over the rows */
    assert_int_equal(q(t->s, Q_EVENT_OF_KEY, "ntf_old1", 0), 5);
    assert_int_equal(q(t->s, Q_EVENT_OF_KEY, "ntf_old2", 0), 0);    /* unlinked, kept */
    assert_int_equal(q(t->s, Q_EVENT_OF_KEY, "ntf_old3", 0), 5);
    assert_int_equal(q(t->s, Q_EVENT_OF_KEY, "ntf_old4", 0), 6);
    /* and the index holds */
    const char *email[] = {"x@example.com", NULL};
    const int thr[] = {80, 0};
    tenant(t->s, "a");
    assert_int_equal(config(t->s, "a", CH(NOTIFY_EMAIL), email, NULL, NULL, thr, NULL), 0);
    assert_int_equal(sla_notice(t->s, "a", "sla.breach", 5), 0);
    assert_int_equal(sla_notice(t->s, "a", "sla.breach", 7), 1);
}

/* ---- PostgreSQL: two nodes claiming one table --------------------------------------------- */

struct racer {
    struct store *s;
    const struct sw_flood *flood;
    size_t batch;
    int64_t now;
    int64_t *claims;        /* per id, atomically incremented */
    size_t nclaims;
    int64_t total;
    int rc;
};

/* Claims until nothing is due (rows the other node holds locked are due
 * until it commits: keep looking). */
static void *race_main(void *arg)
{
    struct racer *r = arg;
    struct sw_outbox_row out[16];
    for (;;) {
        size_t n = 0;
        int rc = store_outbox_claim(r->s, NOTIFY_EMAIL, r->now, 600000, r->flood, out,
                                    r->batch, &n);
        if (rc < 0) {
            r->rc = rc;
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            if ((size_t)out[i].id < r->nclaims)
                __atomic_add_fetch(&r->claims[out[i].id], 1, __ATOMIC_RELAXED);
            r->total++;
        }
        release_all(out, n);
        if (n == 0) {
            int64_t due = 0;
            rc = store_outbox_next_due(r->s, NOTIFY_EMAIL, &due);
            if (rc == SW_E_NOTFOUND || (rc == 0 && due > r->now))
                return NULL;
            if (rc < 0) {
                r->rc = rc;
                return NULL;
            }
        }
    }
}

static void race(struct store *a, struct store *b, const struct sw_flood *flood, size_t batch,
                 int64_t *claims, size_t nclaims, int64_t *total)
{
    int64_t now = wall_ms() + 1000;
    struct racer ra = {a, flood, batch, now, claims, nclaims, 0, 0};
    struct racer rb = {b, flood, batch, now, claims, nclaims, 0, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race_main, &ra);
    pthread_create(&tb, NULL, race_main, &rb);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(ra.rc, 0);
    assert_int_equal(rb.rc, 0);
    assert_true(ra.total > 0 || rb.total > 0);
    *total = ra.total + rb.total;
}

static void test_pg_claim_race(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    const char *email[] = {"a@example.com", "b@example.com", "c@example.com", NULL};
    const int thr[] = {80, 0};
    tenant(t->s, "acme");
    assert_int_equal(config(t->s, "acme", CH(NOTIFY_EMAIL), email, NULL, NULL, thr, NULL), 0);
    for (int64_t ev = 1; ev <= 100; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 3);
    struct store *b = second_node(t);
    int64_t *claims = calloc(1000, sizeof(*claims)), total = 0;
    race(t->s, b, NULL, 7, claims, 1000, &total);
    assert_int_equal(total, 300);
    int once = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(claims[i] <= 1);
        once += (int)claims[i];
    }
    assert_int_equal(once, 300);
    free(claims);
    store_close(b);
}

/* Flood control under two nodes: exactly max first sends, the rest in one
 * digest. */
static void test_pg_flood_race(void **state)
{
    struct storetest *t = *state;
    if (!t->pg)
        skip();
    flood_tenant(t->s, "acme", CH(NOTIFY_EMAIL));
    for (int64_t ev = 1; ev <= 200; ev++)
        assert_int_equal(sla_notice(t->s, "acme", "sla.breach", ev), 1);
    struct store *b = second_node(t);
    const struct sw_flood flood = {.max = 5, .window_ms = 3600000};
    int64_t *claims = calloc(1000, sizeof(*claims)), total = 0;
    race(t->s, b, &flood, 3, claims, 1000, &total);
    assert_int_equal(total, 5);
    assert_int_equal(q(t->s, Q_DIGESTED, NULL, 0), 195);
    assert_int_equal(q(t->s, Q_DIGESTS, NULL, 0), 1);
    free(claims);
    store_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_notice_channels),
        cmocka_unit_test(test_thresholds),
        cmocka_unit_test(test_dedupe_and_keys),
        cmocka_unit_test(test_claim_record),
        cmocka_unit_test(test_flood_digest),
        cmocka_unit_test(test_faults_enqueue),
        cmocka_unit_test(test_faults_claim),
        cmocka_unit_test(test_faults_record),
        cmocka_unit_test(test_live_publish),
        cmocka_unit_test(test_migration_0012),
        cmocka_unit_test(test_pg_claim_race),
        cmocka_unit_test(test_pg_flood_race),
    };
    return storetest_run("store_notify", tests, sizeof(tests) / sizeof(tests[0]));
}
