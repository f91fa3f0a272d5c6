/* harness.c: process control and HTTP for integration tests.
 *
 * Child processes.  A test process is multithreaded (libcurl, sinks, client
 * threads), so between fork and exec the child may only make
 * async-signal-safe calls: an allocation there can wait forever on a lock
 * another thread held at the fork (ASan's allocator did, and kept ctest's
 * pipe open until its timeout).  So argv and the environment are built
 * before the fork and the child only does prctl, dup2 and execve; every
 * descriptor the harness opens is close-on-exec.  PR_SET_PDEATHSIG ends a
 * child when the test process ends, however it ends (a failed assertion that
 * never reaches its teardown, ctest's timeout): no server outlives its
 * test.  Every failure path of srv_start and run_capture kills and reaps the
 * child before it fails the test. */
#include "harness.h"
#include "pgtest.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

extern char **environ;

/* The server must print its listening line within this; generous, since the
 * sanitizer builds start slowly on a loaded machine, and only a failure
 * waits it out. */
#define START_TIMEOUT_S 30
/* A command run by run_capture must finish within this. */
#define RUN_TIMEOUT_S 60

/* environ with set[] applied (NAME=VALUE, later entries win), as a new
 * NULL-terminated array of borrowed strings: free the array only. */
static char **envp_new(const char *const *set)
{
    size_t ne = 0, ns = 0;
    while (environ && environ[ne])
        ne++;
    while (set && set[ns])
        ns++;
    char **v = calloc(ne + ns + 1, sizeof(*v));
    assert_non_null(v);
    size_t k = 0;
    for (size_t i = 0; i < ne + ns; i++) {
        const char *e = i < ne ? environ[i] : set[i - ne];
        size_t name = strcspn(e, "=");
        bool replaced = false;
        for (size_t j = (i < ne ? 0 : i - ne + 1); j < ns && !replaced; j++)
            replaced = strncmp(set[j], e, name) == 0 && set[j][name] == '=';
        if (!replaced)
            v[k++] = (char *)e;
    }
    v[k] = NULL;
    return v;
}

/* fork + execve(argv[0]) with envp; the child's stdout/stderr go to out_fd /
 * err_fd (-1: inherited), and it gets death_sig when this process ends.
 * Returns the pid, or -1 if fork failed. */
static pid_t spawn(const char *const *argv, char *const *envp, int out_fd, int err_fd,
                   int death_sig)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: async-signal-safe calls only, up to execve */
    if (prctl(PR_SET_PDEATHSIG, death_sig) != 0 || getppid() != parent)
        _exit(127);
    if (out_fd >= 0 && dup2(out_fd, 1) < 0)
        _exit(127);
    if (err_fd >= 0 && dup2(err_fd, 2) < 0)
        _exit(127);
    execve(argv[0], (char *const *)argv, envp);
    _exit(127);
}

/* SIGKILL and reap; for failure paths. */
static void kill_reap(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static const char *bin(void)
{
    const char *b = getenv("SLAWATCH_BIN");
    return b ? b : "./slawatch";
}

void srv_init(struct sw_server *s)
{
    memset(s, 0, sizeof(*s));
    s->pid = -1;
    s->out_fd = -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof(s->dir), "%s/slawatch-it-XXXXXX", tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(s->dir));
    const char *backend = getenv("SLAWATCH_TEST_BACKEND");
    if (backend && !strcmp(backend, "postgres")) {
        assert_int_equal(pgtest_db_create(s->db, sizeof(s->db)), 0);
        s->pg = true;
    } else {
        snprintf(s->db, sizeof(s->db), "sqlite:%s/test.db", s->dir);
    }
}

const char *srv_path(struct sw_server *s, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", s->dir, name);
    return buf;
}

/* Kills and reaps the child, then fails the test with the message. */
#define START_FAIL(s, ...)                                                    \
    do {                                                                      \
        srv_kill9(s);                                                         \
        fail_msg(__VA_ARGS__);                                                \
    } while (0)

void srv_start(struct sw_server *s, const char *const *extra_args, const char *const *env)
{
    char logpath[320];
    srv_path(s, "server.log", logpath, sizeof(logpath));

    /* everything the child needs, built before the fork */
    const char *argv[32];
    int n = 0;
    argv[n++] = bin();
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--db";
    argv[n++] = s->db;
    for (int i = 0; extra_args && extra_args[i] && n < 30; i++)
        argv[n++] = extra_args[i];
    argv[n] = NULL;
    const char *set[32];
    int k = 0;
    set[k++] = "SLAWATCH_ADMIN_TOKEN=" ADMIN_TOKEN;
    set[k++] = "SLAWATCH_NOTIFY_ALLOW_PRIVATE=on";   /* the tests' receivers are on loopback */
    for (int i = 0; env && env[i] && k < 31; i++)
        set[k++] = env[i];
    set[k] = NULL;
    char **envp = envp_new(set);
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

    pid_t pid = spawn(argv, envp, fds[1], log, SIGKILL);
    close(fds[1]);
    if (log >= 0)
        close(log);
    free(envp);
    if (pid < 0) {
        close(fds[0]);
        fail_msg("fork: %s", strerror(errno));
    }
    s->pid = pid;
    s->out_fd = fds[0];
    s->tls = false;

    /* read stdout until the `listening on` line */
    char buf[4096];
    size_t len = 0;
    time_t deadline = time(NULL) + START_TIMEOUT_S;
    for (;;) {
        buf[len] = '\0';
        char *p = strstr(buf, "listening on http://127.0.0.1:");
        if (p && strchr(p, '\n')) {
            s->port = atoi(p + strlen("listening on http://127.0.0.1:"));
            break;
        }
        p = strstr(buf, "listening on https://127.0.0.1:");     /* --tls-cert */
        if (p && strchr(p, '\n')) {
            s->port = atoi(p + strlen("listening on https://127.0.0.1:"));
            s->tls = true;
            break;
        }
        if (len == sizeof(buf) - 1)
            START_FAIL(s, "server printed no listening line in 4 KiB (log: %s)", logpath);
        struct pollfd pfd = {s->out_fd, POLLIN, 0};
        if (time(NULL) > deadline)
            START_FAIL(s, "server did not print its listening line in %d s (log: %s)",
                       START_TIMEOUT_S, logpath);
        int pr = poll(&pfd, 1, 200);
        if (pr < 0 && errno != EINTR)
            START_FAIL(s, "poll: %s", strerror(errno));
        if (pr > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = read(s->out_fd, buf + len, sizeof(buf) - 1 - len);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                START_FAIL(s, "server exited before listening (log: %s)", logpath);
            len += (size_t)r;
        }
    }
    if (s->port <= 0)
        START_FAIL(s, "bad port in the listening line (log: %s)", logpath);
    snprintf(s->base, sizeof(s->base), "%s://127.0.0.1:%d", s->tls ? "https" : "http",
             s->port);
}

int srv_stop(struct sw_server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int st = 0;
    for (int i = 0; i < 300; i++) {     /* 30 s */
        pid_t w = waitpid(s->pid, &st, WNOHANG);
        if (w == s->pid)
            break;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        if (i == 299) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
        }
    }
    s->pid = -1;
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 0) {
        /* show why: sanitizer reports and errors land in the server's log */
        char path[320], line[1024];
        FILE *f = fopen(srv_path(s, "server.log", path, sizeof(path)), "r");
        fprintf(stderr, "--- server exited %d; its log:\n", code);
        while (f && fgets(line, sizeof(line), f))
            fputs(line, stderr);
        if (f)
            fclose(f);
    }
    return code;
}

int it_server_setup(void **state)
{
    struct sw_server *s = calloc(1, sizeof(*s));
    srv_init(s);
    srv_start(s, NULL, NULL);
    *state = s;
    return 0;
}

int it_server_teardown(void **state)
{
    struct sw_server *s = *state;
    int code = s->pid > 0 ? srv_stop(s) : 0;
    srv_cleanup(s);
    free(s);
    assert_int_equal(code, 0);
    return 0;
}

void srv_kill9(struct sw_server *s)
{
    if (s->pid <= 0)
        return;
    kill_reap(s->pid);
    s->pid = -1;
    if (s->out_fd >= 0)
        close(s->out_fd);
    s->out_fd = -1;
}

void srv_cleanup(struct sw_server *s)
{
    if (s->pid > 0)
        srv_kill9(s);
    if (getenv("SLAWATCH_KEEP_TEMP"))
        return;
    if (s->pg)
        pgtest_db_drop(s->db);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

struct grow {
    char *p;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    struct grow *g = ud;
    size_t k = size * n;
    g->p = realloc(g->p, g->len + k + 1);
    memcpy(g->p + g->len, ptr, k);
    g->len += k;
    g->p[g->len] = '\0';
    return k;
}

/* One easy handle per thread: keep-alive between calls, like a real client. */
static __thread CURL *tl_curl;

void http_req(struct sw_server *s, const char *method, const char *path, const char *token,
              const char *ctype, const char *body, size_t body_len, struct http_resp *out)
{
    http_req_h(s, method, path, token, NULL, ctype, body, body_len, out);
}

void http_req_h(struct sw_server *s, const char *method, const char *path, const char *token,
                const char *const *headers, const char *ctype, const char *body,
                size_t body_len, struct http_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (!tl_curl)
        tl_curl = curl_easy_init();
    CURL *c = tl_curl;
    curl_easy_reset(c);
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", s->base, path);
    struct grow b = {calloc(1, 1), 0}, h = {calloc(1, 1), 0};
    struct curl_slist *hdrs = NULL;
    char line[600];
    if (token) {
        size_t n = strlen(token) + 32;
        char *auth = malloc(n);
        snprintf(auth, n, "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, auth);
        free(auth);
    }
    if (body) {
        snprintf(line, sizeof(line), "Content-Type: %s", ctype ? ctype : "application/json");
        hdrs = curl_slist_append(hdrs, line);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (int i = 0; headers && headers[i]; i++)
        hdrs = curl_slist_append(hdrs, headers[i]);
    if (!strncmp(s->base, "https:", 6)) {   /* the tests' self-signed certificate */
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    /* a request's own bound, scaled like latency bounds under the sanitizers */
    curl_easy_setopt(c, CURLOPT_TIMEOUT, it_time_bound_ms(60000) / 1000);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        out->status = -1;
        free(b.p);
        free(h.p);
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.p;
    out->len = b.len;
    out->headers = h.p;
    out->json = json_loadb(b.p, b.len, 0, NULL);
}

void http_thread_done(void)
{
    if (tl_curl)
        curl_easy_cleanup(tl_curl);
    tl_curl = NULL;
}

void http_free(struct http_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

const char *http_resp_header(struct http_resp *r, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(eol - v), v);
            return buf;
        }
        p = eol + 2;
    }
    return NULL;
}

long api(struct sw_server *s, const char *method, const char *path, const char *token,
         const char *json_body, struct http_resp *out)
{
    struct http_resp tmp;
    struct http_resp *r = out ? out : &tmp;
    http_req(s, method, path, token, NULL, json_body, json_body ? strlen(json_body) : 0, r);
    long st = r->status;
    if (!out)
        http_free(&tmp);
    return st;
}

void assert_error_shape(struct http_resp *r, const char *code, const char *field)
{
    assert_non_null(r->json);
    json_t *e = json_object_get(r->json, "error");
    assert_true(json_is_object(e));
    assert_true(json_is_string(json_object_get(e, "message")));
    if (code)
        assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    if (field) {
        json_t *f = json_object_get(e, "field");
        assert_true(json_is_string(f));
        assert_string_equal(json_string_value(f), field);
    }
}

int run_capture(const char *const *argv, const char *const *env, char *out, size_t outlen)
{
    int fds[2];
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    char **envp = envp_new(env);
    /* SIGTERM, not SIGKILL: timeout(1) passes it on to its command */
    pid_t pid = spawn(argv, envp, fds[1], -1, SIGTERM);
    close(fds[1]);
    free(envp);
    if (pid < 0) {
        close(fds[0]);
        fail_msg("fork: %s", strerror(errno));
    }
    size_t len = 0;
    time_t deadline = time(NULL) + RUN_TIMEOUT_S;
    for (;;) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        if (time(NULL) > deadline) {
            kill_reap(pid);
            close(fds[0]);
            fail_msg("%s did not finish in %d s", argv[0], RUN_TIMEOUT_S);
        }
        int pr = poll(&pfd, 1, 200);
        if (pr <= 0)
            continue;
        char tmp[512];
        char *dst = len + 1 < outlen ? out + len : tmp;
        size_t cap = len + 1 < outlen ? outlen - 1 - len : sizeof(tmp);
        ssize_t k = read(fds[0], dst, cap);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        if (dst != tmp)
            len += (size_t)k;       /* beyond outlen: drained and dropped */
    }
    out[len] = '\0';
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = '\0';
    close(fds[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

long it_time_bound_ms(long ms)
{
    const char *e = getenv("SLAWATCH_TEST_TIME_SCALE");
    long k = e ? atol(e) : 1;
    return ms * (k > 1 ? k : 1);
}

void it_make_tenant(struct sw_server *s, const char *id)
{
    char body[512];
    snprintf(body, sizeof(body), "{\"id\":\"%s\",\"name\":\"Tenant %s\"}", id, id);
    assert_int_equal(api(s, "POST", "/api/v1/tenants", ADMIN_TOKEN, body, NULL), 201);
}

void it_make_token(struct sw_server *s, const char *role, const char *tenant, char *out,
                   size_t len)
{
    char body[512];
    struct http_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s-%s\",\"role\":\"%s\",\"tenant_id\":\"%s\"}",
             role, tenant, role, tenant);
    assert_int_equal(api(s, "POST", "/api/v1/tokens", ADMIN_TOKEN, body, &r), 201);
    snprintf(out, len, "%s", json_string_value(json_object_get(r.json, "token")));
    http_free(&r);
}
