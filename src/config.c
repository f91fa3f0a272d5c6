/* config.c: the settings table and the three sources that fill it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void cfg_init(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
    c->listen_port = 8080;
    snprintf(c->db, sizeof(c->db), "sqlite:./slawatch.db");
    c->max_body_bytes = 1 << 20;
    c->max_bulk_bytes = 64u << 20;
    c->max_connections = 4096;
    c->threads = 2;
    c->conn_timeout_s = 60;
    c->header_timeout_s = 20;
    c->request_timeout_s = 120;
    /* one address may hold an eighth of max_connections: slow clients from
     * one place cannot take every slot, while hundreds of dashboards behind
     * one NAT (or a benchmark on loopback) still fit */
    c->max_conn_per_ip = 512;
    c->drain_timeout_s = 10;
    /* one import at a time on one thread: the other core stays with the
     * HTTP threads; four admitted (each buffers up to max_bulk_bytes) */
    c->bulk_workers = 1;
    c->bulk_max_concurrent = 4;
    c->bulk_max_per_tenant = 2;
    snprintf(c->log_level, sizeof(c->log_level), "info");
    snprintf(c->password_cost, sizeof(c->password_cost), "interactive");
    c->login_max_failures = 5;
    c->login_ip_max_failures = 50;
    c->login_window_s = 15 * 60;
    c->login_lockout_s = 15 * 60;
    c->session_idle_s = 12 * 3600;
    c->session_lifetime_s = 7 * 86400;
    c->ws_metrics_interval_ms = 5000;
    c->ws_ping_interval_ms = 30000;
    c->ws_pong_timeout_ms = 75000;
    c->ws_max_queue_msgs = 256;
    c->ws_max_queue_bytes = 1u << 20;
    c->ws_recheck_interval_ms = 500;
    c->notify_enabled = 1;
    c->scheduler_enabled = 1;
    c->notify_max_attempts = 8;
    c->notify_backoff_ms = 2000;
    c->notify_backoff_max_ms = 10 * 60 * 1000;
    c->notify_lease_ms = 60 * 1000;
    c->notify_flood_max = 20;
    c->notify_flood_window_ms = 60 * 1000;
    c->notify_connect_timeout_ms = 5000;
    c->notify_timeout_ms = 15000;
    c->notify_per_destination = 4;
    c->notify_max_in_flight = 64;
    c->notify_breaker_failures = 5;
    c->notify_breaker_cooldown_ms = 30 * 1000;
    snprintf(c->smtp_from, sizeof(c->smtp_from), "slawatch@localhost");
    snprintf(c->smtp_starttls, sizeof(c->smtp_starttls), "required");
    snprintf(c->pagerduty_events_url, sizeof(c->pagerduty_events_url),
             "https://events.pagerduty.com");
}

int cfg_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return SW_E_INVAL;
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {   /* [::1]:8080 */
        s++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return SW_E_INVAL;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || p < 0 || p > 65535)
        return SW_E_INVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    *port = (int)p;
    return 0;
}

static int parse_size(const char *v, unsigned long long lo, unsigned long long hi,
                      unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)v[0]))
        return SW_E_INVAL;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n < lo || n > hi)
        return SW_E_INVAL;
    *out = n;
    return 0;
}

/* Notification settings (src/notify): numbers with their ranges, SMTP. */
static int cfg_set_notify(struct cfg *c, const char *key, const char *value, char *err,
                          size_t errlen)
{
    static const struct {
        const char *key;
        size_t off;
        unsigned long long lo, hi;
    } nums[] = {
        {"notify_max_attempts", offsetof(struct cfg, notify_max_attempts), 1, 100},
        {"notify_backoff_ms", offsetof(struct cfg, notify_backoff_ms), 1, 3600000},
        {"notify_backoff_max_ms", offsetof(struct cfg, notify_backoff_max_ms), 1, 86400000},
        {"notify_lease_ms", offsetof(struct cfg, notify_lease_ms), 100, 86400000},
        {"notify_flood_max", offsetof(struct cfg, notify_flood_max), 0, 1000000},
        {"notify_flood_window_ms", offsetof(struct cfg, notify_flood_window_ms), 1, 86400000},
        {"notify_connect_timeout_ms", offsetof(struct cfg, notify_connect_timeout_ms), 100,
         600000},
        {"notify_timeout_ms", offsetof(struct cfg, notify_timeout_ms), 100, 600000},
        {"notify_per_destination", offsetof(struct cfg, notify_per_destination), 1, 1000},
        {"notify_max_in_flight", offsetof(struct cfg, notify_max_in_flight), 1, 10000},
        {"notify_breaker_failures", offsetof(struct cfg, notify_breaker_failures), 1, 1000},
        {"notify_breaker_cooldown_ms", offsetof(struct cfg, notify_breaker_cooldown_ms), 10,
         86400000},
    };
    unsigned long long n;
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (strcmp(key, nums[i].key))
            continue;
        if (parse_size(value, nums[i].lo, nums[i].hi, &n) < 0)
            goto bad;
        *(unsigned *)((char *)c + nums[i].off) = (unsigned)n;
        return 0;
    }
    if (!strcmp(key, "notify_allow_private")) {
        if (strcmp(value, "on") && strcmp(value, "off"))
            goto bad;
        c->notify_allow_private = !strcmp(value, "on");
    } else if (!strcmp(key, "notify")) {
        if (strcmp(value, "on") && strcmp(value, "off"))
            goto bad;
        c->notify_enabled = !strcmp(value, "on");

    } else if (!strcmp(key, "smtp_url")) {
        if (strlen(value) >= sizeof(c->smtp_url) ||
            (*value && strncmp(value, "smtp://", 7) && strncmp(value, "smtps://", 8)))
            goto bad;
        snprintf(c->smtp_url, sizeof(c->smtp_url), "%s", value);
    } else if (!strcmp(key, "smtp_from")) {
        /* a bare address: it is the envelope sender too */
        if (strlen(value) >= sizeof(c->smtp_from) || !strchr(value, '@') ||
            strpbrk(value, " <>\r\n\t,;\""))
            goto bad;
        snprintf(c->smtp_from, sizeof(c->smtp_from), "%s", value);
    } else if (!strcmp(key, "smtp_starttls")) {
        if (strcmp(value, "off") && strcmp(value, "try") && strcmp(value, "required"))
            goto bad;
        snprintf(c->smtp_starttls, sizeof(c->smtp_starttls), "%s", value);
    } else if (!strcmp(key, "smtp_ca_file")) {
        if (strlen(value) >= sizeof(c->smtp_ca_file) || strpbrk(value, "\r\n"))
            goto bad;
        snprintf(c->smtp_ca_file, sizeof(c->smtp_ca_file), "%s", value);
    } else {
        snprintf(err, errlen, "unknown setting '%s'", key);
        return SW_E_INVAL;
    }
    return 0;
bad:
    /* never echo smtp_url: it may carry a password */
    snprintf(err, errlen, "invalid value for %s%s%s%s", key, strcmp(key, "smtp_url") ? ": '" : "",
             strcmp(key, "smtp_url") ? value : "", strcmp(key, "smtp_url") ? "'" : "");
    return SW_E_INVAL;
}

int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen)
{
    unsigned long long n;
    if (!strcmp(key, "listen")) {
        if (cfg_parse_listen(value, c->listen_host, sizeof(c->listen_host),
                             &c->listen_port) < 0)
            goto bad;
    } else if (!strcmp(key, "db")) {
        if (strlen(value) >= sizeof(c->db))
            goto bad;
        snprintf(c->db, sizeof(c->db), "%s", value);
    } else if (!strcmp(key, "max_body_bytes")) {
        if (parse_size(value, 1024, 1ull << 30, &n) < 0)
            goto bad;
        c->max_body_bytes = (size_t)n;
    } else if (!strcmp(key, "max_bulk_bytes")) {
        if (parse_size(value, 1024, 4ull << 30, &n) < 0)
            goto bad;
        c->max_bulk_bytes = (size_t)n;
    } else if (!strcmp(key, "max_connections")) {
        if (parse_size(value, 1, 1000000, &n) < 0)
            goto bad;
        c->max_connections = (unsigned)n;
    } else if (!strcmp(key, "threads")) {
        if (parse_size(value, 1, 256, &n) < 0)
            goto bad;
        c->threads = (unsigned)n;
    } else if (!strcmp(key, "connection_timeout")) {
        if (parse_size(value, 1, 86400, &n) < 0)
            goto bad;
        c->conn_timeout_s = (unsigned)n;
    } else if (!strcmp(key, "header_timeout")) {
        if (parse_size(value, 1, 3600, &n) < 0)
            goto bad;
        c->header_timeout_s = (unsigned)n;
    } else if (!strcmp(key, "request_timeout")) {
        if (parse_size(value, 1, 86400, &n) < 0)
            goto bad;
        c->request_timeout_s = (unsigned)n;
    } else if (!strcmp(key, "drain_timeout")) {
        if (parse_size(value, 0, 3600, &n) < 0)
            goto bad;
        c->drain_timeout_s = (unsigned)n;
    } else if (!strcmp(key, "bulk_workers")) {
        if (parse_size(value, 1, 64, &n) < 0)
            goto bad;
        c->bulk_workers = (unsigned)n;
    } else if (!strcmp(key, "bulk_max_concurrent")) {
        if (parse_size(value, 1, 10000, &n) < 0)
            goto bad;
        c->bulk_max_concurrent = (unsigned)n;
    } else if (!strcmp(key, "bulk_max_per_tenant")) {
        if (parse_size(value, 1, 10000, &n) < 0)
            goto bad;
        c->bulk_max_per_tenant = (unsigned)n;
    } else if (!strcmp(key, "log_level")) {
        if (strcmp(value, "debug") && strcmp(value, "info") && strcmp(value, "warn") &&
            strcmp(value, "error"))
            goto bad;
        snprintf(c->log_level, sizeof(c->log_level), "%s", value);
    } else if (!strcmp(key, "tls_cert") || !strcmp(key, "tls_key")) {
        char *dst = !strcmp(key, "tls_cert") ? c->tls_cert : c->tls_key;
        if (strlen(value) >= sizeof(c->tls_cert))
            goto bad;
        snprintf(dst, sizeof(c->tls_cert), "%s", value);
    } else if (!strcmp(key, "max_connections_per_ip")) {
        if (parse_size(value, 0, 1000000, &n) < 0)
            goto bad;
        c->max_conn_per_ip = (unsigned)n;
    } else if (!strcmp(key, "scheduler")) {
        if (strcmp(value, "on") && strcmp(value, "off"))
            goto bad;
        c->scheduler_enabled = !strcmp(value, "on");
    } else if (!strcmp(key, "password_cost")) {
        if (strcmp(value, "interactive") && strcmp(value, "moderate") && strcmp(value, "min"))
            goto bad;
        snprintf(c->password_cost, sizeof(c->password_cost), "%s", value);
    } else if (!strcmp(key, "login_max_failures")) {
        if (parse_size(value, 1, 1000000, &n) < 0)
            goto bad;
        c->login_max_failures = (unsigned)n;
    } else if (!strcmp(key, "login_ip_max_failures")) {
        if (parse_size(value, 1, 1000000, &n) < 0)
            goto bad;
        c->login_ip_max_failures = (unsigned)n;
    } else if (!strcmp(key, "login_window")) {
        if (parse_size(value, 1, 86400 * 30, &n) < 0)
            goto bad;
        c->login_window_s = (unsigned)n;
    } else if (!strcmp(key, "login_lockout")) {
        if (parse_size(value, 1, 86400 * 30, &n) < 0)
            goto bad;
        c->login_lockout_s = (unsigned)n;
    } else if (!strcmp(key, "session_idle")) {
        if (parse_size(value, 1, 86400 * 365, &n) < 0)
            goto bad;
        c->session_idle_s = (unsigned)n;
    } else if (!strcmp(key, "session_lifetime")) {
        if (parse_size(value, 1, 86400 * 365, &n) < 0)
            goto bad;
        c->session_lifetime_s = (unsigned)n;
    } else if (!strncmp(key, "ws_", 3)) {
        static const struct {
            const char *key;
            size_t off;
            unsigned long long lo, hi;
        } ws[] = {
            {"ws_metrics_interval_ms", offsetof(struct cfg, ws_metrics_interval_ms), 10, 3600000},
            {"ws_ping_interval_ms", offsetof(struct cfg, ws_ping_interval_ms), 10, 3600000},
            {"ws_pong_timeout_ms", offsetof(struct cfg, ws_pong_timeout_ms), 10, 3600000},
            {"ws_max_queue_msgs", offsetof(struct cfg, ws_max_queue_msgs), 1, 1000000},
            {"ws_max_queue_bytes", offsetof(struct cfg, ws_max_queue_bytes), 1024, 1u << 30},
            {"ws_recheck_interval_ms", offsetof(struct cfg, ws_recheck_interval_ms), 10, 60000},
        };
        size_t i = 0;
        while (i < sizeof(ws) / sizeof(ws[0]) && strcmp(key, ws[i].key))
            i++;
        if (i == sizeof(ws) / sizeof(ws[0])) {
            snprintf(err, errlen, "unknown setting '%s'", key);
            return SW_E_INVAL;
        }
        if (parse_size(value, ws[i].lo, ws[i].hi, &n) < 0)
            goto bad;
        *(unsigned *)((char *)c + ws[i].off) = (unsigned)n;
    } else if (!strncmp(key, "notify", 6) || !strncmp(key, "smtp_", 5)) {
        return cfg_set_notify(c, key, value, err, errlen);
    } else if (!strcmp(key, "pagerduty_events_url") || !strcmp(key, "public_url")) {
        /* http(s)://host[:port][/path], no query: a path is appended */
        char *dst = !strcmp(key, "public_url") ? c->public_url : c->pagerduty_events_url;
        int empty_ok = !strcmp(key, "public_url");
        if (strlen(value) >= sizeof(c->public_url) || (!*value && !empty_ok) ||
            (*value && strncmp(value, "http://", 7) && strncmp(value, "https://", 8)) ||
            strpbrk(value, " \t\r\n?#\"<>"))
            goto bad;
        snprintf(dst, sizeof(c->public_url), "%s", value);
    } else {
        snprintf(err, errlen, "unknown setting '%s'", key);
        return SW_E_INVAL;
    }
    return 0;
bad:
    snprintf(err, errlen, "invalid value for %s: '%s'", key, value);
    return SW_E_INVAL;
}

/* Settings that may come from the environment, and their variables. */
static const char *const env_keys[][2] = {
    {"listen", "SLAWATCH_LISTEN"},
    {"db", "SLAWATCH_DB"},
    {"max_body_bytes", "SLAWATCH_MAX_BODY_BYTES"},
    {"max_bulk_bytes", "SLAWATCH_MAX_BULK_BYTES"},
    {"max_connections", "SLAWATCH_MAX_CONNECTIONS"},
    {"threads", "SLAWATCH_THREADS"},
    {"connection_timeout", "SLAWATCH_CONNECTION_TIMEOUT"},
    {"header_timeout", "SLAWATCH_HEADER_TIMEOUT"},
    {"request_timeout", "SLAWATCH_REQUEST_TIMEOUT"},
    {"drain_timeout", "SLAWATCH_DRAIN_TIMEOUT"},
    {"bulk_workers", "SLAWATCH_BULK_WORKERS"},
    {"bulk_max_concurrent", "SLAWATCH_BULK_MAX_CONCURRENT"},
    {"bulk_max_per_tenant", "SLAWATCH_BULK_MAX_PER_TENANT"},
    {"log_level", "SLAWATCH_LOG_LEVEL"},
    {"tls_cert", "SLAWATCH_TLS_CERT"},
    {"tls_key", "SLAWATCH_TLS_KEY"},
    {"max_connections_per_ip", "SLAWATCH_MAX_CONNECTIONS_PER_IP"},
    {"password_cost", "SLAWATCH_PASSWORD_COST"},
    {"login_max_failures", "SLAWATCH_LOGIN_MAX_FAILURES"},
    {"login_ip_max_failures", "SLAWATCH_LOGIN_IP_MAX_FAILURES"},
    {"login_window", "SLAWATCH_LOGIN_WINDOW"},
    {"login_lockout", "SLAWATCH_LOGIN_LOCKOUT"},
    {"session_idle", "SLAWATCH_SESSION_IDLE"},
    {"session_lifetime", "SLAWATCH_SESSION_LIFETIME"},
    {"ws_metrics_interval_ms", "SLAWATCH_WS_METRICS_INTERVAL_MS"},
    {"ws_ping_interval_ms", "SLAWATCH_WS_PING_INTERVAL_MS"},
    {"ws_pong_timeout_ms", "SLAWATCH_WS_PONG_TIMEOUT_MS"},
    {"ws_max_queue_msgs", "SLAWATCH_WS_MAX_QUEUE_MSGS"},
    {"ws_max_queue_bytes", "SLAWATCH_WS_MAX_QUEUE_BYTES"},
    {"ws_recheck_interval_ms", "SLAWATCH_WS_RECHECK_INTERVAL_MS"},
    {"notify", "SLAWATCH_NOTIFY"},
    {"scheduler", "SLAWATCH_SCHEDULER"},
    {"notify_allow_private", "SLAWATCH_NOTIFY_ALLOW_PRIVATE"},
    {"notify_max_attempts", "SLAWATCH_NOTIFY_MAX_ATTEMPTS"},
    {"notify_backoff_ms", "SLAWATCH_NOTIFY_BACKOFF_MS"},
    {"notify_backoff_max_ms", "SLAWATCH_NOTIFY_BACKOFF_MAX_MS"},
    {"notify_lease_ms", "SLAWATCH_NOTIFY_LEASE_MS"},
    {"notify_flood_max", "SLAWATCH_NOTIFY_FLOOD_MAX"},
    {"notify_flood_window_ms", "SLAWATCH_NOTIFY_FLOOD_WINDOW_MS"},
    {"notify_connect_timeout_ms", "SLAWATCH_NOTIFY_CONNECT_TIMEOUT_MS"},
    {"notify_timeout_ms", "SLAWATCH_NOTIFY_TIMEOUT_MS"},
    {"notify_per_destination", "SLAWATCH_NOTIFY_PER_DESTINATION"},
    {"notify_max_in_flight", "SLAWATCH_NOTIFY_MAX_IN_FLIGHT"},
    {"notify_breaker_failures", "SLAWATCH_NOTIFY_BREAKER_FAILURES"},
    {"notify_breaker_cooldown_ms", "SLAWATCH_NOTIFY_BREAKER_COOLDOWN_MS"},
    {"smtp_url", "SLAWATCH_SMTP_URL"},
    {"smtp_from", "SLAWATCH_SMTP_FROM"},
    {"smtp_starttls", "SLAWATCH_SMTP_STARTTLS"},
    {"smtp_ca_file", "SLAWATCH_SMTP_CA_FILE"},
    {"pagerduty_events_url", "SLAWATCH_PAGERDUTY_EVENTS_URL"},
    {"public_url", "SLAWATCH_PUBLIC_URL"},
};

const char *cfg_setting(size_t i, const char **env)
{
    if (i >= sizeof(env_keys) / sizeof(env_keys[0]))
        return NULL;
    if (env)
        *env = env_keys[i][1];
    return env_keys[i][0];
}

int cfg_load_env(struct cfg *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(env_keys) / sizeof(env_keys[0]); i++) {
        const char *v = getenv(env_keys[i][1]);
        if (v && *v && cfg_set(c, env_keys[i][0], v, err, errlen) < 0) {
            size_t n = strlen(err);
            snprintf(err + n, errlen - n, " (from %s)", env_keys[i][1]);
            return SW_E_INVAL;
        }
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return SW_E_IO;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *l = trim(line);
        if (!*l)
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected key = value", path, lineno);
            rc = SW_E_INVAL;
            break;
        }
        *eq = '\0';
        char *v = trim(eq + 1);
        size_t vl = strlen(v);
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v[vl - 1] = '\0';
            v++;
        }
        char e2[512];
        if (cfg_set(c, trim(l), v, e2, sizeof(e2)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, e2);
            rc = SW_E_INVAL;
            break;
        }
    }
    fclose(f);
    return rc;
}

int cfg_check(const struct cfg *c, char *err, size_t errlen)
{
    if (strncmp(c->db, "sqlite:", 7) && strncmp(c->db, "postgres://", 11) &&
        strncmp(c->db, "postgresql://", 13)) {
        snprintf(err, errlen, "db must be sqlite:PATH or postgres://...; got '%s'", c->db);
        return SW_E_INVAL;
    }
    if (c->max_bulk_bytes < c->max_body_bytes) {
        snprintf(err, errlen, "max_bulk_bytes must be at least max_body_bytes");
        return SW_E_INVAL;
    }
    if (c->request_timeout_s < c->header_timeout_s) {
        snprintf(err, errlen, "request_timeout (the whole request) must be at least "
                              "header_timeout (its head)");
        return SW_E_INVAL;
    }
    if (!c->tls_cert[0] != !c->tls_key[0]) {
        snprintf(err, errlen, "tls_cert and tls_key go together: give both or neither");
        return SW_E_INVAL;
    }
    return 0;
}
