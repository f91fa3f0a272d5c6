/* The database goes away, or refuses writes, while slawatch runs (issue 10
 * point 4, issue 12 item 4): writes answer 503 `unavailable` with
 * Retry-After, /readyz 503 while /healthz stays 200, no hot loop (CPU and
 * log stay quiet), and everything recovers by itself when the database is
 * back, without a restart.
 *
 *   SQLite: a real "disk full": the server's file size limit is lowered to
 *   one byte (prlimit on the running process), then lifted.
 *   PostgreSQL: a private cluster of the test's own, stopped and started
 *   again on the same port.  And a database that is not there at start: a
 *   clear error naming the URL without its password, exit non-zero. */
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

#define MIN_MS 60000

static bool on_pg(void)
{
    const char *b = getenv("SLAWATCH_TEST_BACKEND");
    return b && !strcmp(b, "postgres");
}

static void sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

/* CPU seconds (user + system) the process used so far. */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* fields 14 and 15 (utime, stime), counted after the command name */
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                            &ut, &st), 2);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long log_lines(struct sw_server *s)
{
    char path[400];
    srv_path(s, "server.log", path, sizeof(path));
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long n = 0;
    int ch;
    while ((ch = fgetc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

static long post_alert(struct sw_server *s, const char *id, int64_t created_at,
                       struct http_resp *out)
{
    char body[256], when[40] = "";
    if (created_at) {
        time_t t = (time_t)(created_at / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), ",\"created_at\":\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
    }
    snprintf(body, sizeof(body),
             "{\"id\":\"%s\",\"tenant_id\":\"acme\",\"severity\":\"critical\"%s}", id, when);
    return api(s, "POST", "/api/v1/alerts", ADMIN_TOKEN, body, out);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* While the database is gone: the API says 503 and the process idles. */
static void assert_unavailable(struct sw_server *s)
{
    struct http_resp r;
    long st = post_alert(s, "down-1", 0, &r);
    assert_int_equal(st, 503);
    assert_error_shape(&r, "unavailable", NULL);
    char ra[32];
    assert_non_null(http_resp_header(&r, "Retry-After", ra, sizeof(ra)));
    http_free(&r);
    int ready = 0;
    for (int i = 0; i < 50 && ready != 503; i++) {
        ready = (int)api(s, "GET", "/readyz", NULL, NULL, NULL);
        if (ready != 503)
            usleep(100000);
    }
    assert_int_equal(ready, 503);
    assert_int_equal(api(s, "GET", "/healthz", NULL, NULL, NULL), 200);
    /* no hot loop: 3 s of an overdue alert that cannot be written */
    double cpu0 = cpu_s(s->pid);
    long lines0 = log_lines(s);
    sleep(3);
    double cpu = cpu_s(s->pid) - cpu0;
    long lines = log_lines(s) - lines0;
    print_message("while down: %.2f s CPU and %ld log lines in 3 s\n", cpu, lines);
    assert_true(cpu < 0.6);
    assert_true(lines < 60);
}

/* After: ready again and writing, without a restart. */
static void assert_recovered(struct sw_server *s)
{
    int ready = 0;
    for (int i = 0; i < 150 && ready != 200; i++) {
        ready = (int)api(s, "GET", "/readyz", NULL, NULL, NULL);
        if (ready != 200)
            usleep(100000);
    }
    assert_int_equal(ready, 200);
    long st = 0;
    for (int i = 0; i < 50 && st != 201; i++) {
        st = post_alert(s, "up-1", 0, NULL);
        if (st != 201)
            usleep(100000);
    }
    assert_int_equal(st, 201);
    /* the overdue alert written before the outage is judged after it */
    struct http_resp r;
    bool breached = false;
    for (int i = 0; i < 100 && !breached; i++) {
        assert_int_equal(api(s, "GET", "/api/v1/sla/alerts/stale/tracking?tenant_id=acme",
                             ADMIN_TOKEN, NULL, &r), 200);
        breached = json_is_true(json_object_get(r.json, "ack_breached"));
        http_free(&r);
        if (!breached)
            usleep(100000);
    }
    assert_true(breached);
}

/* What a test started, cleaned up by the teardown also when it fails
 * half-way (no server or cluster outlives the test). */
static struct {
    struct sw_server s;
    bool started;
    char cluster_cmd[1024], cluster_state[400];
} fx;

static int teardown(void **state)
{
    if (fx.started) {
        if (fx.s.pid > 0)
            srv_kill9(&fx.s);
        if (fx.cluster_state[0]) {
            char cmd[1600];
            snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", fx.cluster_cmd,
                     fx.cluster_state);
            if (system(cmd) != 0)
                fprintf(stderr, "could not stop the private cluster\n");
            fx.s.pg = false;
        }
        srv_cleanup(&fx.s);
    }
    memset(&fx, 0, sizeof(fx));
    return 0;
}

#define s (fx.s)     /* the tests' server is the fixture's */

static void test_disk_full(void **state)
{
    if (on_pg())
        skip();         /* the PostgreSQL server's disk is its own */
    srv_init(&s);
    fx.started = true;
    const char *env[] = {"SLAWATCH_ADMIN_TOKEN=" ADMIN_TOKEN, NULL};
    srv_start(&s, NULL, env);
    it_make_tenant(&s, "acme");
    /* its ack clock runs out 2 s from now: the scheduler will want to write */
    assert_int_equal(post_alert(&s, "stale", wall_ms() - 15 * MIN_MS + 2000, NULL), 201);
    /* the soft limit only: lifting it back needs no privilege */
    sh("prlimit --pid %d --fsize=1:", (int)s.pid);
    assert_unavailable(&s);
    sh("prlimit --pid %d --fsize=unlimited:", (int)s.pid);
    assert_recovered(&s);
    assert_int_equal(srv_stop(&s), 0);
}

static void test_postgres_goes_away(void **state)
{
    if (!on_pg())
        skip();
    srv_init(&s);
    fx.started = true;
    char *statef = fx.cluster_state, *cmd = fx.cluster_cmd, url[512];
    srv_path(&s, "pg.state", statef, sizeof(fx.cluster_state));
    const char *src = getenv("SLAWATCH_SRC");
    assert_non_null(src);
    snprintf(cmd, sizeof(fx.cluster_cmd), "%s/scripts/pg-test-cluster.sh", src);
    const char *start[] = {cmd, "start", statef, NULL};
    assert_int_equal(run_capture(start, NULL, url, sizeof(url)), 0);
    s.pg = false;       /* a private cluster: dropped whole by the teardown */
    snprintf(s.db, sizeof(s.db), "%s", url);
    const char *env[] = {"SLAWATCH_ADMIN_TOKEN=" ADMIN_TOKEN, NULL};
    srv_start(&s, NULL, env);
    it_make_tenant(&s, "acme");
    assert_int_equal(post_alert(&s, "stale", wall_ms() - 15 * MIN_MS + 4000, NULL), 201);
    sh("'%s' pause '%s'", cmd, statef);
    assert_unavailable(&s);
    sh("'%s' resume '%s'", cmd, statef);
    assert_recovered(&s);
    assert_int_equal(srv_stop(&s), 0);
}
#undef s

static void test_unreachable_at_start(void **state)
{
    if (!on_pg())
        skip();
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof(cmd),
             "'%s' serve --listen 127.0.0.1:0 "
             "--db 'postgres://bob:hunter2@127.0.0.1:1/slawatch?connect_timeout=2' 2>&1",
             getenv("SLAWATCH_BIN"));
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int rc = run_capture(argv, NULL, out, sizeof(out));
    assert_int_not_equal(rc, 0);
    print_message("%s\n", out);
    assert_non_null(strstr(out, "postgres://bob:***@127.0.0.1:1/slawatch"));
    assert_null(strstr(out, "hunter2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_disk_full, teardown),
        cmocka_unit_test_teardown(test_postgres_goes_away, teardown),
        cmocka_unit_test(test_unreachable_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
