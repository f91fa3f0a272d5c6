/* config: flags > config file > SLAWATCH_* environment > defaults,
 * checked in one place (cfg_check). */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stddef.h>

struct cfg {
    char listen_host[64];
    int listen_port;
    char db[1024];
    char config_file[1024];
    size_t max_body_bytes;      /* JSON bodies */
    size_t max_bulk_bytes;      /* NDJSON bulk bodies */
    unsigned max_connections;
    unsigned threads;           /* libmicrohttpd's thread pool */
    unsigned conn_timeout_s;    /* idle: no byte received or sent for this long */
    unsigned header_timeout_s;  /* a request's line and headers must be in by then */
    unsigned request_timeout_s; /* and its whole body by then (conn_guard.h) */
    unsigned drain_timeout_s;   /* SIGTERM: wait this long for requests in flight */
    unsigned bulk_workers;      /* threads running bulk imports (http/bulk.h) */
    unsigned bulk_max_concurrent;   /* imports admitted at once, in all */
    unsigned bulk_max_per_tenant;   /* and per tenant (beyond: 429) */
    char log_level[16];

    /* users, sessions, TLS (issue #6) */
    char tls_cert[1024];        /* PEM files; both or neither: HTTPS */
    char tls_key[1024];
    unsigned max_conn_per_ip;   /* concurrent connections per client address; 0 = none */
    char password_cost[16];     /* argon2id limits: interactive | moderate | min */
    unsigned login_max_failures;    /* per email within login_window_s: lockout */
    unsigned login_ip_max_failures; /* per client address within login_window_s */
    unsigned login_window_s;
    unsigned login_lockout_s;
    unsigned session_idle_s;    /* a session unused this long ends */
    unsigned session_lifetime_s;    /* and ends this long after login anyway */

    /* notifications (src/notify): delivery workers, retries, flood control, SMTP */
    /* the WebSocket hub (src/ws) */
    unsigned ws_metrics_interval_ms, ws_ping_interval_ms, ws_pong_timeout_ms;
    unsigned ws_max_queue_msgs, ws_max_queue_bytes;
    unsigned ws_recheck_interval_ms;    /* sockets' credentials checked again this often */
    int notify_enabled;         /* 0: rows are written but this node delivers none */
    int scheduler_enabled;      /* 0: this node detects no warning/breach (an API-only node) */
    int notify_allow_private;   /* 1: tenants' webhook/Slack URLs may be internal addresses */
    unsigned notify_max_attempts;   /* a row is dead after this many failures */
    unsigned notify_backoff_ms;     /* base of the exponential backoff */
    unsigned notify_backoff_max_ms;
    unsigned notify_lease_ms;       /* a claimed row is retried after this if we die */
    unsigned notify_flood_max;      /* notices per recipient per window (0 = no limit) */
    unsigned notify_flood_window_ms;
    unsigned notify_connect_timeout_ms; /* per delivery: connecting */
    unsigned notify_timeout_ms;         /* per delivery: the whole transfer */
    unsigned notify_per_destination;    /* deliveries in flight to one host:port */
    unsigned notify_max_in_flight;      /* deliveries in flight per channel */
    unsigned notify_breaker_failures;   /* failures in a row that open a breaker */
    unsigned notify_breaker_cooldown_ms;    /* open this long before a probe */
    char smtp_url[512];         /* smtp://host:587 or smtps://host:465 ("" = no email) */
    char smtp_from[256];        /* envelope and From: address */
    char smtp_starttls[16];     /* off | try | required */
    char smtp_ca_file[512];     /* PEM CA bundle for the relay's TLS ("" = the system's) */
    char pagerduty_events_url[512];     /* PagerDuty Events API base (+ /v2/enqueue) */
    char public_url[512];       /* where users reach the dashboard ("" = no links in notices) */
};

/* Defaults. */
void cfg_init(struct cfg *c);
/* Applies SLAWATCH_* variables from the environment. */
int cfg_load_env(struct cfg *c, char *err, size_t errlen);
/* Applies a `key = value` file (# comments). */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);
/* Sets one key (the file's and the flag's names: listen, db, threads, ...). */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen);
/* Checks the whole configuration; says what is wrong. */
int cfg_check(const struct cfg *c, char *err, size_t errlen);
/* The i-th setting's key (as in the file and README), NULL past the last;
 * *env its SLAWATCH_* variable.  For documentation checks (tests). */
const char *cfg_setting(size_t i, const char **env);
/* "HOST:PORT" into its parts. */
int cfg_parse_listen(const char *s, char *host, size_t hostlen, int *port);

#endif
