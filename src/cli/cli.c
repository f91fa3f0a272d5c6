/* cli.c: commands, flags, and the serve lifecycle. */
#include "cli/cli.h"

#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/server.h"
#include "http/users.h"
#include "store/store.h"
#include "store/store_analytics.h"
#include "util/log.h"

#ifndef SLAWATCH_VERSION
#define SLAWATCH_VERSION "dev"
#endif

static const char usage[] =
    "slawatch " SLAWATCH_VERSION ": SLA engine for security operations\n"
    "\n"
    "usage:\n"
    "  slawatch serve [--listen HOST:PORT] [--db sqlite:PATH] [--config FILE]\n"
    "  slawatch token create [--db URL] --role ROLE [--tenant ID] [--name NAME]\n"
    "                        [--expires-days N]\n"
    "  slawatch user create [--db URL] --id ID --email EMAIL --role ROLE [--tenant ID]\n"
    "                       [--role ROLE [--tenant ID]]... [--password-stdin]\n"
    "                       (password: one line on stdin, or SLAWATCH_PASSWORD)\n"
    "  slawatch rollups rebuild [--db URL] [--tenant ID]\n"
    "                             recompute the analytics rollups from the alerts\n"
    "  slawatch demo [--listen HOST:PORT]   a temporary database with 90 days of\n"
    "                             realistic data and live alerts, served with the\n"
    "                             dashboard (GET /sla-dashboard); prints the login\n"
    "  slawatch audit verify [--db URL] [--tenant ID]\n"
    "                             check the audit log's and item events' hash\n"
    "                             chains: exit 0 intact, 1 naming the first bad record\n"
    "  slawatch audit export [--db URL] --tenant ID [--log audit|events]\n"
    "                             the tenant's chains as JSON lines (docs/audit.md\n"
    "                             checks them offline with sed and sha256sum)\n"
    "  slawatch routes            list the HTTP routes (method, path, permission,\n"
    "                             where the tenant comes from)\n"
    "  slawatch --version | --help\n"
    "\n"
    "serve options (flags > config file > SLAWATCH_* environment > defaults):\n"
    "  --listen HOST:PORT   address to serve on (default 127.0.0.1:8080; port 0\n"
    "                       picks a free port); env SLAWATCH_LISTEN\n"
    "  --db URL             sqlite:PATH (default sqlite:./slawatch.db); env SLAWATCH_DB\n"
    "  --tls-cert FILE      serve HTTPS with this PEM certificate (chain) and\n"
    "  --tls-key FILE       this PEM key; env SLAWATCH_TLS_CERT, SLAWATCH_TLS_KEY\n"
    "  --config FILE        `key = value` lines: listen, db, threads, max_body_bytes,\n"
    "                       max_bulk_bytes, max_connections, connection_timeout,\n"
    "                       drain_timeout, log_level, tls_cert, tls_key,\n"
    "                       max_connections_per_ip, password_cost (interactive|\n"
    "                       moderate|min), login_max_failures, login_ip_max_failures,\n"
    "                       login_window, login_lockout, session_idle,\n"
    "                       session_lifetime (seconds)\n"
    "\n"
    "environment:\n"
    "  SLAWATCH_ADMIN_TOKEN  a platform_admin token with this value is created at\n"
    "                        start if missing; without it, a database with no token\n"
    "                        gets a new one, printed once\n"
    "\n"
    "roles: platform_admin tenant_admin manager analyst viewer ingest auditor\n";

static int fail(const char *fmt, const char *arg)
{
    fprintf(stderr, "slawatch: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

/* Applies env, then --config FILE, then the other flags. */
static int load_config(struct cfg *c, int argc, char **argv, int serve_flags)
{
    char err[512];
    cfg_init(c);
    if (cfg_load_env(c, err, sizeof(err)) < 0)
        return fail("%s", err);
    for (int i = 1; i < argc - 1; i++)
        if (!strcmp(argv[i], "--config")) {
            snprintf(c->config_file, sizeof(c->config_file), "%s", argv[i + 1]);
            if (cfg_load_file(c, argv[i + 1], err, sizeof(err)) < 0)
                return fail("%s", err);
        }
    for (int i = 1; i < argc; i++) {
        const char *key = NULL;
        if (!strcmp(argv[i], "--listen") && serve_flags)
            key = "listen";
        else if (!strcmp(argv[i], "--tls-cert") && serve_flags)
            key = "tls_cert";
        else if (!strcmp(argv[i], "--tls-key") && serve_flags)
            key = "tls_key";
        else if (!strcmp(argv[i], "--db"))
            key = "db";
        else if (!strcmp(argv[i], "--config"))
            key = "";
        else if (serve_flags)
            return fail("unknown option '%s' (see slawatch --help)", argv[i]);
        else
            continue;
        if (i + 1 >= argc)
            return fail("%s needs a value", argv[i]);
        if (*key && cfg_set(c, key, argv[i + 1], err, sizeof(err)) < 0)
            return fail("%s", err);
        i++;
    }
    if (cfg_check(c, err, sizeof(err)) < 0)
        return fail("%s", err);
    if (!strcmp(c->log_level, "debug"))
        log_set_level(LOG_DEBUG);
    else if (!strcmp(c->log_level, "warn"))
        log_set_level(LOG_WARN);
    else if (!strcmp(c->log_level, "error"))
        log_set_level(LOG_ERROR);
    return 0;
}

static int open_store(const struct cfg *c, struct store **s)
{
    char err[512];
    if (store_open(c->db, s, err, sizeof(err)) < 0)
        return fail("%s", err);
    return 0;
}

int cli_open_store(int argc, char **argv, struct store **s)
{
    struct cfg c;
    int rc = load_config(&c, argc, argv, 0);
    if (rc)
        return rc;
    return open_store(&c, s) ? 1 : 0;
}

/* SLAWATCH_ADMIN_TOKEN, or a first token for an empty database. */
static int bootstrap_admin(struct store *s)
{
    const char *env = getenv("SLAWATCH_ADMIN_TOKEN");
    int64_t now = sw_now_ms();
    if (env && *env) {
        int rc = auth_token_store(s, env, "bootstrap (SLAWATCH_ADMIN_TOKEN)",
                                  ROLE_PLATFORM_ADMIN, NULL, now, 0, NULL);
        if (rc < 0 && rc != SW_E_EXISTS)
            return fail("cannot store the admin token: %s", sw_strerror(rc));
        if (strlen(env) < 16)
            log_warn("SLAWATCH_ADMIN_TOKEN is short (%zu chars): use at least 32 random ones",
                     strlen(env));
        return 0;
    }
    /* once in total, even when several nodes start together on one database */
    char secret[AUTH_TOKEN_LEN + 1];
    auth_token_generate(secret);
    struct sw_token t;
    uint8_t hash[SW_TOKEN_HASH_LEN];
    memset(&t, 0, sizeof(t));
    snprintf(t.name, sizeof(t.name), "first admin");
    snprintf(t.role, sizeof(t.role), "%s", auth_role_name(ROLE_PLATFORM_ADMIN));
    t.created_at = now;
    auth_token_hash(secret, hash);
    int rc = store_token_create_first(s, &t, hash, NULL);
    if (rc == SW_E_EXISTS)
        return 0;
    if (rc < 0)
        return fail("cannot store the first admin token: %s", sw_strerror(rc));
    printf("first admin token (platform_admin, shown once): %s\n", secret);
    fflush(stdout);
    return 0;
}

static int cmd_serve(int argc, char **argv)
{
    struct cfg c;
    struct store *s = NULL;
    struct server *srv = NULL;
    char err[512];
    int rc = load_config(&c, argc, argv, 1);
    if (rc)
        return rc;
    /* Signals go to sigwait below, never to another thread: block them
     * before any thread exists (the store starts its writer thread). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* a file size limit reached is a failed write (disk full), not death */
    signal(SIGXFSZ, SIG_IGN);

    if (open_store(&c, &s))
        return 1;
    if (bootstrap_admin(s)) {
        store_close(s);
        return 1;
    }

    if (server_start(&c, s, &srv, err, sizeof(err)) < 0) {
        store_close(s);
        return fail("%s", err);
    }
    const char *h = c.listen_host, *scheme = srv->tls ? "https" : "http";
    if (strchr(h, ':'))
        printf("listening on %s://[%s]:%d\n", scheme, h, srv->port);
    else
        printf("listening on %s://%s:%d\n", scheme, h, srv->port);
    fflush(stdout);
    log_info("serving on %s:%d, database %s", h, srv->port, c.db);

    int sig = 0;
    sigwait(&set, &sig);
    log_info("%s: draining requests in flight, then stopping",
             sig == SIGTERM ? "SIGTERM" : "SIGINT");
    server_stop(srv);
    store_close(s);
    log_info("stopped");
    return 0;
}

static int cmd_token(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "create") != 0)
        return fail("%s", "usage: slawatch token create --role ROLE [--tenant ID] [--name NAME]");
    const char *role_s = NULL, *tenant = NULL, *name = "cli";
    long days = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return fail("%s needs a value", argv[i]);
        if (!strcmp(argv[i], "--role"))
            role_s = argv[++i];
        else if (!strcmp(argv[i], "--tenant"))
            tenant = argv[++i];
        else if (!strcmp(argv[i], "--name"))
            name = argv[++i];
        else if (!strcmp(argv[i], "--expires-days"))
            days = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "--config"))
            i++;
        else
            return fail("unknown option '%s'", argv[i]);
    }
    enum sw_role role;
    if (!role_s || auth_role_parse(role_s, &role) < 0)
        return fail("%s", "--role must be platform_admin, tenant_admin, manager, analyst, "
                          "viewer, ingest or auditor");
    if (role == ROLE_PLATFORM_ADMIN && tenant)
        return fail("%s", "a platform_admin token has no --tenant");
    if (role != ROLE_PLATFORM_ADMIN && !tenant)
        return fail("%s", "this role needs --tenant ID");
    if (days < 0 || days > 3650)
        return fail("%s", "--expires-days must be 0..3650");

    struct cfg c;
    struct store *s = NULL;
    int rc = load_config(&c, argc, argv, 0);
    if (rc)
        return rc;
    if (open_store(&c, &s))
        return 1;
    struct sw_tenant t;
    if (tenant && store_tenant_get(s, tenant, &t) < 0) {
        store_close(s);
        return fail("no tenant '%s' in this database", tenant);
    }
    char secret[AUTH_TOKEN_LEN + 1];
    auth_token_generate(secret);
    int64_t now = sw_now_ms();
    rc = auth_token_store(s, secret, name, role, tenant, now,
                          days ? now + days * 86400000 : 0, NULL);
    store_close(s);
    if (rc < 0)
        return fail("cannot store the token: %s", sw_strerror(rc));
    printf("%s\n", secret);
    return 0;
}

/* `user create`: a user with roles, and optionally a password (from
 * SLAWATCH_PASSWORD or one line of standard input, never a flag: argv is
 * visible to every local user). */
static int cmd_user(int argc, char **argv)
{
    static const char use[] =
        "usage: slawatch user create --id ID --email EMAIL --role ROLE [--tenant ID]\n"
        "                            [--role ROLE [--tenant ID]]... [--password-stdin]";
    if (argc < 2 || strcmp(argv[1], "create") != 0)
        return fail("%s", use);
    struct sw_user u;
    char err[256];
    const char *id = NULL, *email = NULL, *role = NULL;
    const char *roles[SW_USER_MAX_ROLES], *tenants[SW_USER_MAX_ROLES];
    size_t nr = 0;
    bool pw_stdin = false;
    memset(&u, 0, sizeof(u));
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--password-stdin")) {
            pw_stdin = true;
            continue;
        }
        if (i + 1 >= argc)
            return fail("%s needs a value", argv[i]);
        if (!strcmp(argv[i], "--id"))
            id = argv[++i];
        else if (!strcmp(argv[i], "--email"))
            email = argv[++i];
        else if (!strcmp(argv[i], "--role")) {
            if (nr >= SW_USER_MAX_ROLES)
                return fail("%s", "too many --role");
            role = roles[nr] = argv[++i];
            tenants[nr++] = NULL;
        } else if (!strcmp(argv[i], "--tenant")) {
            if (!role)
                return fail("%s", "--tenant goes after the --role it applies to");
            tenants[nr - 1] = argv[++i];
        } else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "--config"))
            i++;
        else
            return fail("unknown option '%s'", argv[i]);
    }
    if (!id || !http_id_valid(id))
        return fail("%s", "--id must be 1-128 printable characters without '/'");
    if (!email || !users_email_valid(email))
        return fail("%s", "--email must look like name@domain");
    if (nr == 0)
        return fail("%s", use);
    for (size_t i = 0; i < nr; i++)
        if (users_add_role(&u, roles[i], tenants[i], err, sizeof(err)) < 0)
            return fail("%s", err);

    char password[AUTH_PASSWORD_MAX + 2] = "";
    const char *env = getenv("SLAWATCH_PASSWORD");
    if (pw_stdin) {
        if (!fgets(password, sizeof(password), stdin))
            return fail("%s", "--password-stdin: no line on standard input");
        password[strcspn(password, "\r\n")] = '\0';
    } else if (env) {
        snprintf(password, sizeof(password), "%s", env);
    }
    if (password[0] && strlen(password) < AUTH_PASSWORD_MIN)
        return fail("password: at least %s bytes", "8");

    struct cfg c;
    struct store *s = NULL;
    int rc = load_config(&c, argc, argv, 0);
    if (rc)
        return rc;
    if (open_store(&c, &s))
        return 1;
    for (size_t i = 0; i < u.nroles; i++) {
        struct sw_tenant t;
        if (u.roles[i].tenant_id[0] && store_tenant_get(s, u.roles[i].tenant_id, &t) < 0) {
            store_close(s);
            return fail("no tenant '%s' in this database", u.roles[i].tenant_id);
        }
    }
    char hash[SW_PWHASH_MAX + 1] = "";
    if (password[0] && auth_password_hash(password, c.password_cost, hash) < 0) {
        store_close(s);
        return fail("%s", "cannot hash the password (argon2id needs memory)");
    }
    sodium_memzero(password, sizeof(password));
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.email, sizeof(u.email), "%s", email);
    u.created_at = sw_now_ms();
    u.has_password = hash[0] != '\0';

    /* one audit row per tenant concerned, as the API writes them */
    json_t *after = users_json(&u, NULL, NULL);
    char *after_text = json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(after);
    struct sw_audit a[SW_USER_MAX_ROLES];
    size_t na = 0;
    for (size_t i = 0; i < u.nroles; i++) {
        bool dup = false;
        for (size_t k = 0; k < na; k++)
            dup |= !strcmp(a[k].tenant_id, u.roles[i].tenant_id);
        if (dup)
            continue;
        memset(&a[na], 0, sizeof(a[na]));
        snprintf(a[na].tenant_id, sizeof(a[na].tenant_id), "%s", u.roles[i].tenant_id);
        snprintf(a[na].actor, sizeof(a[na].actor), "cli");
        a[na].at = u.created_at;
        snprintf(a[na].action, sizeof(a[na].action), "user.create");
        snprintf(a[na].target, sizeof(a[na].target), "user:%s", u.id);
        a[na].after = after_text;
        na++;
    }
    rc = store_user_create(s, &u, hash, a, na);
    free(after_text);
    sodium_memzero(hash, sizeof(hash));
    store_close(s);
    if (rc == SW_E_EXISTS)
        return fail("%s", "a user with this id or email already exists");
    if (rc < 0)
        return fail("cannot store the user: %s", sw_strerror(rc));
    printf("user %s created%s\n", id, u.has_password ? "" : " (no password: cannot log in yet)");
    return 0;
}

/* `rollups rebuild`: recomputes the rollups (all tenants, or one) from the
 * alerts table in one transaction; prints rows and seconds. */
static int cmd_rollups(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "rebuild") != 0)
        return fail("%s", "usage: slawatch rollups rebuild [--db URL] [--tenant ID]");
    const char *tenant = NULL;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return fail("%s needs a value", argv[i]);
        if (!strcmp(argv[i], "--tenant"))
            tenant = argv[++i];
        else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "--config"))
            i++;
        else
            return fail("unknown option '%s'", argv[i]);
    }
    struct cfg c;
    struct store *s = NULL;
    int rc = load_config(&c, argc, argv, 0);
    if (rc)
        return rc;
    if (open_store(&c, &s))
        return 1;
    struct sw_tenant t;
    if (tenant && store_tenant_get(s, tenant, &t) < 0) {
        store_close(s);
        return fail("no tenant '%s' in this database", tenant);
    }
    uint64_t t0 = sw_mono_ns();
    int64_t rows = 0;
    rc = store_rollup_rebuild(s, tenant, &rows);
    double secs = (double)(sw_mono_ns() - t0) / 1e9;
    store_close(s);
    if (rc < 0)
        return fail("rebuild failed: %s", sw_strerror(rc));
    printf("rollups rebuilt: %lld rows in %.3f s\n", (long long)rows, secs);
    return 0;
}

static int cmd_routes(void)
{
    static const struct {
        unsigned perm;
        const char *name;
    } perms[] = {{PERM_PLATFORM, "platform"}, {PERM_ADMIN, "admin"},
                 {PERM_CONFIGURE, "configure"}, {PERM_OPERATE, "operate"},
                 {PERM_INGEST, "ingest"}, {PERM_AUDIT, "audit"}, {PERM_READ, "read"}};
    for (size_t i = 0; i < http_nroutes; i++) {
        const struct route *rt = &http_routes[i];
        const char *p = (rt->flags & ROUTE_PUBLIC) ? "public" : "authenticated";
        for (size_t k = 0; k < sizeof(perms) / sizeof(perms[0]); k++)
            if (rt->perm & perms[k].perm) {
                p = perms[k].name;
                break;
            }
        static const char *const sources[] = {
            [TENANT_NONE] = "none", [TENANT_PATH] = "path", [TENANT_QUERY] = "query",
            [TENANT_BODY] = "body", [TENANT_BODY_OPT] = "body_opt",
            [TENANT_QUERY_OPT] = "query_opt"};
        /* METHOD PATH PERMISSION TENANT-SOURCE: tests/integration/test_rbac_matrix.c
         * parses these four whitespace-separated words */
        printf("%-6s %-60s %-13s %s\n", rt->method, rt->path, p, sources[rt->tenant]);
    }
    return 0;
}

int cli_main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "slawatch: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("slawatch %s\n", SLAWATCH_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "serve"))
        return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(argv[1], "token"))
        return cmd_token(argc - 1, argv + 1);
    if (!strcmp(argv[1], "user"))
        return cmd_user(argc - 1, argv + 1);
    if (!strcmp(argv[1], "routes"))
        return cmd_routes();
    if (!strcmp(argv[1], "demo"))
        return cli_demo(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rollups"))
        return cmd_rollups(argc - 1, argv + 1);
    if (!strcmp(argv[1], "audit"))
        return cli_audit(argc - 1, argv + 1);
    return fail("unknown command '%s' (see slawatch --help)", argv[1]);
}
