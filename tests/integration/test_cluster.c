/* Several nodes on one PostgreSQL (API.md "Databases and several nodes"):
 * two `slawatch serve` processes on one database.
 *
 *   - what one node writes holds on the other from the next request: a
 *     tenant, a policy, a token and its revocation, a session and its end;
 *   - each breach is notified once in total whichever node detects it
 *     (deliveries counted by Idempotency-Key at a real receiver);
 *   - a WebSocket client on one node sees breaches the other detected;
 *   - a node killed with -9 during concurrent ingest through both loses no
 *     acknowledged write: every alert answered 2xx is readable from the
 *     survivor.
 * On SQLite (one process owns the file) the test says so and skips. */
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

#include "harness.h"
#include "harness_sinks.h"
#include "harness_ws.h"

#define SECRET "whsec-cluster-0123456789"
#define MIN_MS 60000

struct fx {
    struct sw_server a, b;
    struct http_sink *hook;
};

static const char *const base_env[] = {
    "SLAWATCH_ADMIN_TOKEN=" ADMIN_TOKEN,
    "SLAWATCH_PASSWORD_COST=min",
    "SLAWATCH_NOTIFY_ALLOW_PRIVATE=on",
    "SLAWATCH_NOTIFY_BACKOFF_MS=100",
    /* every notice its own delivery: the test counts them */
    "SLAWATCH_NOTIFY_FLOOD_MAX=0",
    NULL,
};

static int setup(void **state)
{
    const char *backend = getenv("SLAWATCH_TEST_BACKEND");
    if (!backend || strcmp(backend, "postgres") != 0) {
        print_message("several nodes need PostgreSQL: skipped on SQLite\n");
        *state = NULL;
        return 0;
    }
    struct fx *f = calloc(1, sizeof(*f));
    srv_init(&f->a);
    srv_init(&f->b);
    /* b: its own temp dir, a's database (a drops it at cleanup) */
    snprintf(f->b.db, sizeof(f->b.db), "%s", f->a.db);
    f->b.pg = false;
    f->hook = http_sink_start(0);
    srv_start(&f->a, NULL, base_env);
    srv_start(&f->b, NULL, base_env);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    if (!f)
        return 0;
    if (f->b.pid > 0)
        assert_int_equal(srv_stop(&f->b), 0);
    if (f->a.pid > 0)
        assert_int_equal(srv_stop(&f->a), 0);
    srv_cleanup(&f->b);
    srv_cleanup(&f->a);
    http_sink_stop(f->hook);
    free(f);
    return 0;
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

/* ---- consistency across nodes ------------------------------------------------------ */

static void test_writes_hold_everywhere(void **state)
{
    struct fx *f = *state;
    if (!f)
        skip();
    char path[256], tok[128], body[512];
    for (int round = 0; round < 5; round++) {
        /* a tenant made on a: b answers for it at once */
        char id[32];
        snprintf(id, sizeof(id), "t%d", round);
        it_make_tenant(&f->a, id);
        snprintf(path, sizeof(path), "/api/v1/tenants/%s", id);
        assert_int_equal(api(&f->b, "GET", path, ADMIN_TOKEN, NULL, NULL), 200);
        /* a policy saved on b: a reads it back */
        snprintf(path, sizeof(path), "/api/v1/sla/policy/companies/%s", id);
        assert_int_equal(api(&f->b, "PUT", path, ADMIN_TOKEN, "{\"critical_hours\":48}", NULL),
                         200);
        struct http_resp r;
        assert_int_equal(api(&f->a, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
        assert_int_equal(json_integer_value(json_object_get(r.json, "critical_hours")), 48);
        http_free(&r);
        /* a token made on a works on b; revoked on b, refused by a at once */
        it_make_token(&f->a, "viewer", id, tok, sizeof(tok));
        snprintf(path, sizeof(path), "/api/v1/tenants/%s", id);
        assert_int_equal(api(&f->b, "GET", path, tok, NULL, NULL), 200);
        assert_int_equal(api(&f->a, "GET", path, tok, NULL, NULL), 200);
        assert_int_equal(api(&f->b, "GET", "/api/v1/tokens", ADMIN_TOKEN, NULL, &r), 200);
        json_int_t tid = 0;
        json_t *items = json_object_get(r.json, "items"), *it;
        size_t i;
        json_array_foreach(items, i, it) {
            const char *tt = json_string_value(json_object_get(it, "tenant_id"));
            if (tt && !strcmp(tt, id))
                tid = json_integer_value(json_object_get(it, "id"));
        }
        http_free(&r);
        assert_true(tid > 0);
        snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)tid);
        long st = api(&f->b, "DELETE", path, ADMIN_TOKEN, NULL, NULL);
        assert_true(st == 200 || st == 204);
        snprintf(path, sizeof(path), "/api/v1/tenants/%s", id);
        assert_int_equal(api(&f->a, "GET", path, tok, NULL, NULL), 401);
        assert_int_equal(api(&f->b, "GET", path, tok, NULL, NULL), 401);
    }
    /* a session opened on a is valid on b; ended on b, refused by a */
    snprintf(body, sizeof(body), "{\"id\":\"ann\",\"email\":\"ann@example.test\","
                                 "\"password\":\"correct horse battery\","
                                 "\"roles\":[{\"role\":\"viewer\",\"tenant_id\":\"t0\"}]}");
    assert_int_equal(api(&f->a, "POST", "/api/v1/users", ADMIN_TOKEN, body, NULL), 201);
    struct http_resp r;
    const char *login = "{\"email\":\"ann@example.test\",\"password\":\"correct horse battery\"}";
    http_req(&f->a, "POST", "/api/v1/session", NULL, NULL, login, strlen(login), &r);
    assert_int_equal(r.status, 200);
    char set_cookie[512], cookie[600], csrf_h[160];
    assert_non_null(http_resp_header(&r, "Set-Cookie", set_cookie, sizeof(set_cookie)));
    snprintf(csrf_h, sizeof(csrf_h), "X-CSRF-Token: %s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    http_free(&r);
    snprintf(cookie, sizeof(cookie), "Cookie: %.*s", (int)strcspn(set_cookie, ";"), set_cookie);
    const char *hdrs[] = {cookie, csrf_h, NULL};
    http_req_h(&f->b, "GET", "/api/v1/tenants/t0", NULL, hdrs, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    http_free(&r);
    http_req_h(&f->b, "DELETE", "/api/v1/session", NULL, hdrs, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 204);
    http_free(&r);
    http_req_h(&f->a, "GET", "/api/v1/tenants/t0", NULL, hdrs, NULL, NULL, 0, &r);
    assert_int_equal(r.status, 401);
    http_free(&r);
}

/* ---- each breach once, and live on every node ------------------------------------- */

static void configure(struct fx *f, const char *tenant, bool websocket)
{
    char body[512], path[128];
    snprintf(body, sizeof(body),
             "{\"channels\":[\"webhook\"%s],\"recipients\":{\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"webhook_secret\":\"" SECRET "\"}",
             websocket ? ",\"websocket\"" : "", http_sink_port(f->hook));
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", tenant);
    assert_int_equal(api(&f->a, "POST", path, ADMIN_TOKEN, body, NULL), 200);
}

static int breach_deliveries(struct fx *f, size_t *distinct)
{
    int n = 0;
    size_t k = http_sink_count(f->hook);
    for (size_t i = 0; i < k; i++) {
        struct sink_request q;
        if (!http_sink_get(f->hook, i, &q))
            continue;
        if (strstr(q.body, "\"sla.breach\""))
            n++;
        sink_request_free(&q);
    }
    http_sink_count_path(f->hook, "/hook", distinct);
    return n;
}

static void test_breach_once_across_nodes(void **state)
{
    struct fx *f = *state;
    if (!f)
        skip();
    it_make_tenant(&f->a, "acme");
    configure(f, "acme", true);
    struct ws_client *ws = ws_client_open(&f->b, "acme", ADMIN_TOKEN);
    assert_non_null(ws);
    /* 40 critical alerts whose ack clock (15 min) runs out in 2 s, made
     * through both nodes: both schedulers race for them */
    const int n = 40;
    int64_t now = ws_wall_ms();
    char when[40], body[256];
    iso(now - 15 * MIN_MS + 2000, when, sizeof(when));
    for (int i = 0; i < n; i++) {
        snprintf(body, sizeof(body), "{\"id\":\"A-%d\",\"tenant_id\":\"acme\",\"severity\":"
                                     "\"critical\",\"created_at\":\"%s\"}", i, when);
        assert_int_equal(api(i % 2 ? &f->b : &f->a, "POST", "/api/v1/alerts", ADMIN_TOKEN,
                             body, NULL), 201);
    }
    /* every breach reaches the dashboard on b */
    int live = 0;
    for (int i = 0; i < n; i++) {
        json_t *m = ws_client_wait(ws, "sla.breach", 10000, NULL);
        if (!m)
            break;
        live++;
        json_decref(m);
    }
    assert_int_equal(live, n);
    json_t *extra = ws_client_wait(ws, "sla.breach", 1000, NULL);
    assert_null(extra);         /* and none twice */
    ws_client_close(ws);
    /* each breach delivered once to the webhook, each with its own key */
    size_t distinct = 0;
    for (int t = 0; t < 100 && breach_deliveries(f, &distinct) < n; t++)
        usleep(100000);
    usleep(1000000);            /* a duplicate would come now */
    int got = breach_deliveries(f, &distinct);
    assert_int_equal(got, n);
    assert_int_equal(distinct, http_sink_count(f->hook));
}

/* A dashboard on an API-only node sees what the other node detected. */
static void test_live_from_the_other_node(void **state)
{
    struct fx *f = *state;
    if (!f)
        skip();
    /* b: no scheduler, no notifier: everything it shows comes from a */
    assert_int_equal(srv_stop(&f->b), 0);
    const char *env[8];
    int k = 0;
    for (; base_env[k]; k++)
        env[k] = base_env[k];
    env[k++] = "SLAWATCH_SCHEDULER=off";
    env[k++] = "SLAWATCH_NOTIFY=off";
    env[k] = NULL;
    srv_start(&f->b, NULL, env);
    it_make_tenant(&f->a, "quiet");     /* no notification config: the direct path */
    struct ws_client *ws = ws_client_open(&f->b, "quiet", ADMIN_TOKEN);
    assert_non_null(ws);
    char when[40], body[256];
    iso(ws_wall_ms() - 15 * MIN_MS + 1000, when, sizeof(when));
    snprintf(body, sizeof(body), "{\"id\":\"Q-1\",\"tenant_id\":\"quiet\",\"severity\":"
                                 "\"critical\",\"created_at\":\"%s\"}", when);
    assert_int_equal(api(&f->b, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, NULL), 201);
    json_t *m = ws_client_wait(ws, "sla.breach", 10000, NULL);
    assert_non_null(m);
    json_decref(m);
    ws_client_close(ws);
}

/* ---- kill -9 a node during ingest through both ------------------------------------ */

#define WRITERS 4
#define PER_WRITER 4000

struct writer {
    struct sw_server *s;
    int w;
    int acked[PER_WRITER];      /* 1: answered 2xx */
    int nacked;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    char body[256];
    for (int i = 0; i < PER_WRITER; i++) {
        snprintf(body, sizeof(body), "{\"id\":\"K-%d-%d\",\"tenant_id\":\"kill\","
                                     "\"severity\":\"low\"}", w->w, i);
        struct http_resp r;
        http_req(w->s, "POST", "/api/v1/alerts", ADMIN_TOKEN, NULL, body, strlen(body), &r);
        if (r.status == 200 || r.status == 201) {
            w->acked[i] = 1;
            w->nacked++;
        }
        bool dead = r.status == 0;
        http_free(&r);
        if (dead)
            break;      /* the node is gone */
    }
    http_thread_done();
    return NULL;
}

static void test_kill9_loses_nothing(void **state)
{
    struct fx *f = *state;
    if (!f)
        skip();
    it_make_tenant(&f->a, "kill");
    static struct writer w[WRITERS];
    pthread_t th[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].s = i % 2 ? &f->b : &f->a;
        w[i].w = i;
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    usleep(1500000);
    srv_kill9(&f->b);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    int checked = 0, acked_b = 0;
    for (int i = 0; i < WRITERS; i++) {
        if (i % 2)
            acked_b += w[i].nacked;
        for (int k = 0; k < PER_WRITER; k++) {
            if (!w[i].acked[k])
                continue;
            char path[160];
            snprintf(path, sizeof(path), "/api/v1/sla/alerts/K-%d-%d/tracking?tenant_id=kill",
                     i, k);
            assert_int_equal(api(&f->a, "GET", path, ADMIN_TOKEN, NULL, NULL), 200);
            checked++;
        }
    }
    print_message("%d acknowledged writes (%d through the killed node) all readable\n",
                  checked, acked_b);
    assert_true(acked_b > 0);
    /* b comes back on the same database and serves */
    srv_start(&f->b, NULL, base_env);
    assert_int_equal(api(&f->b, "GET", "/api/v1/tenants/kill", ADMIN_TOKEN, NULL, NULL), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_hold_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_breach_once_across_nodes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_from_the_other_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_loses_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
