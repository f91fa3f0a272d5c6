/* The real Prometheus Alertmanager (Debian's prometheus-alertmanager) posting
 * to the real slawatch binary, as docs/integrations.md configures it: a
 * webhook receiver with send_resolved and a bearer ingest token read from a
 * file (http_config.authorization.credentials_file).  Alerts go in through
 * Alertmanager's own API v2, the way Prometheus sends them, so the body
 * slawatch reads is Alertmanager's, not one written by hand:
 *
 *   - a firing alert becomes am-<fingerprint> with the contract's severity,
 *     title and startsAt;
 *   - ending it (endsAt) makes Alertmanager send it resolved: resolved at
 *     endsAt;
 *   - Alertmanager's repeats change nothing (one created event);
 *   - a receiver holding another tenant's ingest token writes nothing.
 *
 * Alertmanager runs on a free loopback port with clustering off and its
 * own storage dir, and is killed by the teardown (also when an assertion
 * fails half-way) and by PR_SET_PDEATHSIG if this process dies.  Without
 * the binary the test is skipped. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define AM_BIN "/usr/bin/prometheus-alertmanager"

extern char **environ;

struct fixture {
    struct sw_server *s;
    pid_t am_pid;
    struct sw_server am;    /* only .base: harness requests to Alertmanager */
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

static char *iso(int64_t ms, char *buf)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 40, "%s.%03dZ", base, (int)(ms % 1000));
    return buf;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* A loopback port nobody listens on now (Alertmanager binds it next). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    void *srv = NULL;
    if (it_server_setup(&srv) != 0)
        return -1;
    f->s = srv;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->am_pid > 0) {
        kill(f->am_pid, SIGKILL);
        while (waitpid(f->am_pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    void *srv = f->s;
    free(f);
    return it_server_teardown(&srv);
}

/* Starts Alertmanager with cfg (YAML) and waits until it is ready. */
static void am_start(struct fixture *f, const char *cfg)
{
    char cfg_path[512], store[512], log[512], listen[32], a_cfg[600], a_store[600],
        a_listen[96];
    srv_path(f->s, "alertmanager.yml", cfg_path, sizeof(cfg_path));
    srv_path(f->s, "am-data", store, sizeof(store));
    srv_path(f->s, "alertmanager.log", log, sizeof(log));
    write_file(cfg_path, cfg);
    int port = free_port();
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    snprintf(a_cfg, sizeof(a_cfg), "--config.file=%s", cfg_path);
    snprintf(a_store, sizeof(a_store), "--storage.path=%s", store);
    snprintf(a_listen, sizeof(a_listen), "--web.listen-address=%s", listen);
    const char *argv[] = {AM_BIN, a_cfg, a_store, a_listen, "--cluster.listen-address=",
                          "--log.level=debug", NULL};
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* async-signal-safe calls only, up to execve */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(127);
        if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
            _exit(127);
        execve(argv[0], (char *const *)argv, environ);
        _exit(127);
    }
    close(fd);
    assert_true(pid > 0);
    f->am_pid = pid;
    snprintf(f->am.base, sizeof(f->am.base), "http://127.0.0.1:%d", port);
    int64_t until = wall_ms() + it_time_bound_ms(15000);
    for (;;) {
        struct http_resp r;
        http_req(&f->am, "GET", "/-/ready", NULL, NULL, NULL, 0, &r);
        long st = r.status;
        http_free(&r);
        if (st == 200)
            return;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            f->am_pid = 0;
            fail_msg("alertmanager exited at start: see %s", log);
        }
        if (wall_ms() > until)
            fail_msg("alertmanager not ready on %s: see %s", listen, log);
        sleep_ms(50);
    }
}

/* Posts alerts (a JSON array) to Alertmanager's API v2, as Prometheus does. */
static void am_post(struct fixture *f, const char *alerts)
{
    struct http_resp r;
    http_req(&f->am, "POST", "/api/v2/alerts", NULL, "application/json", alerts,
             strlen(alerts), &r);
    if (r.status != 200)
        fail_msg("alertmanager POST /api/v2/alerts: %ld %s", r.status, r.body ? r.body : "");
    http_free(&r);
}

/* The fingerprint Alertmanager gave the alert named alertname. */
static void am_fingerprint(struct fixture *f, const char *alertname, char *out, size_t len)
{
    int64_t until = wall_ms() + it_time_bound_ms(10000);
    out[0] = '\0';
    while (!out[0]) {
        struct http_resp r;
        http_req(&f->am, "GET", "/api/v2/alerts", NULL, NULL, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        for (size_t i = 0; i < json_array_size(r.json); i++) {
            json_t *a = json_array_get(r.json, i);
            if (!strcmp(jstr(json_object_get(a, "labels"), "alertname"), alertname))
                snprintf(out, len, "%s", jstr(a, "fingerprint"));
        }
        http_free(&r);
        if (!out[0]) {
            if (wall_ms() > until)
                fail_msg("alertmanager does not list %s", alertname);
            sleep_ms(50);
        }
    }
}

/* The tracking record of alert id once its state is want (or fail). */
static json_t *wait_state(struct sw_server *s, const char *tenant, const char *id,
                          const char *want)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    int64_t until = wall_ms() + it_time_bound_ms(20000);
    for (;;) {
        struct http_resp r;
        long st = api(s, "GET", path, ADMIN_TOKEN, NULL, &r);
        if (st == 200 && !strcmp(jstr(r.json, "state"), want)) {
            json_t *j = json_incref(r.json);
            http_free(&r);
            return j;
        }
        http_free(&r);
        if (wall_ms() > until)
            fail_msg("alert %s of %s never %s (last answer %ld)", id, tenant, want, st);
        sleep_ms(100);
    }
}

/* A line of the file holds both texts. */
static bool log_has(const char *path, const char *text, const char *also)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, text) && strstr(line, also);
    fclose(f);
    return found;
}

static int count_events(struct sw_server *s, const char *tenant, const char *id,
                        const char *type)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/alerts/%s/events?tenant_id=%s", id, tenant);
    struct http_resp r;
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, &r), 200);
    int n = 0;
    json_t *items = json_object_get(r.json, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        n += !strcmp(jstr(json_array_get(items, i), "type"), type);
    http_free(&r);
    return n;
}

static void test_real_alertmanager(void **state)
{
    struct fixture *f = *state;
    if (access(AM_BIN, X_OK) != 0) {
        print_message("%s not installed (apt-get install prometheus-alertmanager)\n", AM_BIN);
        skip();
    }
    struct sw_server *s = f->s;
    it_make_tenant(s, "prom");
    it_make_tenant(s, "other");
    char tok[128], other[128], tok_path[512], other_path[512];
    it_make_token(s, "ingest", "prom", tok, sizeof(tok));
    it_make_token(s, "ingest", "other", other, sizeof(other));
    write_file(srv_path(s, "slawatch-token", tok_path, sizeof(tok_path)), tok);
    write_file(srv_path(s, "other-token", other_path, sizeof(other_path)), other);

    /* docs/integrations.md's configuration, with short timers; alerts of
     * team "intruder" go to a receiver holding tenant other's token */
    char cfg[4096];
    snprintf(cfg, sizeof(cfg),
             "route:\n"
             "  receiver: slawatch\n"
             "  group_by: [alertname]\n"
             "  group_wait: 100ms\n"
             "  group_interval: 500ms\n"
             "  repeat_interval: 1s\n"
             "  routes:\n"
             "    - receiver: intruder\n"
             "      matchers: ['team=\"intruder\"']\n"
             "receivers:\n"
             "  - name: slawatch\n"
             "    webhook_configs:\n"
             "      - url: %s/api/v1/ingest/alertmanager?tenant_id=prom\n"
             "        send_resolved: true\n"
             "        http_config:\n"
             "          authorization:\n"
             "            type: Bearer\n"
             "            credentials_file: %s\n"
             "  - name: intruder\n"
             "    webhook_configs:\n"
             "      - url: %s/api/v1/ingest/alertmanager?tenant_id=prom\n"
             "        send_resolved: true\n"
             "        http_config:\n"
             "          authorization:\n"
             "            type: Bearer\n"
             "            credentials_file: %s\n",
             s->base, tok_path, s->base, other_path);
    am_start(f, cfg);

    int64_t now = wall_ms();
    char starts[40], ends[40], alerts[2048];
    iso(now - 5 * 60000, starts);
    snprintf(alerts, sizeof(alerts),
             "[{\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"critical\","
             "\"instance\":\"db1:9100\",\"job\":\"node\"},\"annotations\":{\"summary\":"
             "\"Disk full on db1\"},\"startsAt\":\"%s\","
             "\"generatorURL\":\"http://prometheus:9090/graph\"},"
             "{\"labels\":{\"alertname\":\"HighLatency\",\"severity\":\"warning\","
             "\"instance\":\"web1:9100\"},\"startsAt\":\"%s\"},"
             "{\"labels\":{\"alertname\":\"Intrusion\",\"severity\":\"critical\","
             "\"team\":\"intruder\"},\"startsAt\":\"%s\"}]", starts, starts, starts);
    am_post(f, alerts);
    char fp_disk[64], fp_lat[64], fp_in[64], id[80];
    am_fingerprint(f, "DiskFull", fp_disk, sizeof(fp_disk));
    am_fingerprint(f, "HighLatency", fp_lat, sizeof(fp_lat));
    am_fingerprint(f, "Intrusion", fp_in, sizeof(fp_in));

    snprintf(id, sizeof(id), "am-%s", fp_disk);
    json_t *t = wait_state(s, "prom", id, "open");
    assert_string_equal(jstr(t, "severity"), "critical");
    assert_string_equal(jstr(t, "title"), "Disk full on db1");
    assert_string_equal(jstr(t, "source"), "alertmanager");
    assert_string_equal(jstr(t, "created_at"), starts);
    json_decref(t);
    char id_lat[80];
    snprintf(id_lat, sizeof(id_lat), "am-%s", fp_lat);
    t = wait_state(s, "prom", id_lat, "open");
    assert_string_equal(jstr(t, "severity"), "medium");
    assert_string_equal(jstr(t, "title"), "HighLatency");
    json_decref(t);

    /* the alert ends (Prometheus sends it with endsAt): Alertmanager sends
     * it resolved, slawatch resolves it at endsAt */
    iso(wall_ms() - 1000, ends);
    snprintf(alerts, sizeof(alerts),
             "[{\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"critical\","
             "\"instance\":\"db1:9100\",\"job\":\"node\"},\"annotations\":{\"summary\":"
             "\"Disk full on db1\"},\"startsAt\":\"%s\",\"endsAt\":\"%s\"}]", starts, ends);
    am_post(f, alerts);
    t = wait_state(s, "prom", id, "resolved");
    assert_string_equal(jstr(t, "resolved_at"), ends);
    json_decref(t);

    /* HighLatency keeps firing: Alertmanager repeats it (repeat_interval
     * 1 s); the repeats change nothing */
    sleep_ms(2500);
    assert_int_equal(count_events(s, "prom", id_lat, "created"), 1);
    t = wait_state(s, "prom", id_lat, "open");
    json_decref(t);
    assert_int_equal(count_events(s, "prom", id, "created"), 1);
    assert_int_equal(count_events(s, "prom", id, "resolved"), 1);

    /* another tenant's token was refused (Alertmanager logs the 404 it
     * got) and wrote nothing, in either tenant */
    char log[512];
    srv_path(s, "alertmanager.log", log, sizeof(log));
    int64_t until = wall_ms() + it_time_bound_ms(10000);
    while (!log_has(log, "intruder/webhook", "status code 404")) {
        if (wall_ms() > until)
            fail_msg("alertmanager never logged the intruder's 404: see %s", log);
        sleep_ms(100);
    }
    char path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/am-%s/tracking?tenant_id=prom", fp_in);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, NULL), 404);
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/am-%s/tracking?tenant_id=other", fp_in);
    assert_int_equal(api(s, "GET", path, ADMIN_TOKEN, NULL, NULL), 404);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_real_alertmanager, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_thread_done();
    return rc;
}
