/* store.h: the only way to persistence.
 *
 * The store is one implementation (src/store/<subject>.c, store_int.h)
 * written once over a small SQL driver (db.h) with two drivers, SQLite and
 * PostgreSQL; which one is the database URL's choice.  Each subject's
 * operations are a table of function pointers (store_ops here, the others
 * in store_<subject>.h) that callers reach through the static inline
 * wrappers, never directly; faults are injected one level down, at the
 * driver (db_fail_after).
 *
 * Rules every operation keeps:
 *   - a function that returns 0 after a write has committed it durably;
 *   - every call is safe from any thread (backends pool or lock connections);
 *   - parameters are bound, never formatted into SQL;
 *   - errors are negative SW_E_* codes (util/err.h): SW_E_NOTFOUND,
 *     SW_E_EXISTS, SW_E_STORE for anything the database itself reported.
 */
#ifndef SW_STORE_H
#define SW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define SW_ID_MAX    128        /* external ids: printable, at most this long */
#define SW_NAME_MAX  256
#define SW_TZ_MAX    64

struct store;
struct sw_audit;          /* store_users.h */

/* ---- records --------------------------------------------------------- */

struct sw_tenant {
    char id[SW_ID_MAX + 1];
    char name[SW_NAME_MAX + 1];
    char template_name[32];     /* "" = none */
    char timezone[SW_TZ_MAX + 1];
    int64_t created_at;         /* ms since the epoch */
};

struct sw_project {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    char name[SW_NAME_MAX + 1];
    int64_t created_at;
};

#define SW_TOKEN_HASH_LEN 32

struct sw_token {
    int64_t id;
    char name[SW_NAME_MAX + 1];
    char role[32];
    char tenant_id[SW_ID_MAX + 1];  /* "" = every tenant (platform_admin) */
    int64_t created_at;
    int64_t expires_at;             /* 0 = never */
    int64_t revoked_at;             /* 0 = live */
};

/* One state change of an item: who, when, what.  Append-only. */
struct sw_event {
    int64_t id;
    char tenant_id[SW_ID_MAX + 1];
    char item_kind[16];             /* "alert" | "finding" */
    char item_id[SW_ID_MAX + 1];
    char type[48];                  /* "created", "acknowledged", "sla.breach", ... */
    char actor[SW_NAME_MAX + 32];
    int64_t at;                     /* when it happened (ms) */
    const char *data;               /* JSON text or NULL; borrowed (valid in the callback) */
};

typedef int (*store_event_cb)(const struct sw_event *e, void *ud);
typedef int (*store_tenant_cb)(const struct sw_tenant *t, void *ud);
typedef int (*store_project_cb)(const struct sw_project *p, void *ud);

/* ---- the backend interface ------------------------------------------ */

struct store_ops {
    const char *name;
    void (*close)(struct store *s);
    /* Cheap round trip to the database, for /readyz. */
    int (*ping)(struct store *s);

    /* Tenants and projects. */
    /* audit: a row committed with the change (NULL = none). */
    int (*tenant_create)(struct store *s, const struct sw_tenant *t, const struct sw_audit *audit);
    int (*tenant_get)(struct store *s, const char *id, struct sw_tenant *out);
    /* Every tenant, or only those in ids[0..n) when ids != NULL; by id. */
    int (*tenant_list)(struct store *s, const char *const *ids, size_t n,
                       store_tenant_cb cb, void *ud);
    int (*project_create)(struct store *s, const struct sw_project *p,
                          const struct sw_audit *audit);
    int (*project_get)(struct store *s, const char *tenant_id, const char *id,
                       struct sw_project *out);
    int (*project_list)(struct store *s, const char *tenant_id,
                        store_project_cb cb, void *ud);

    /* Tokens, looked up by the hash of their secret. */
    int (*token_create)(struct store *s, const struct sw_token *t,
                        const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out);
    int (*token_lookup)(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                        struct sw_token *out);
    int (*token_count)(struct store *s, int64_t *count);
    /* The first token of an empty database: created only when no token
     * exists, once in total even when several nodes start together on one
     * database; SW_E_EXISTS when there is one already. */
    int (*token_create_first)(struct store *s, const struct sw_token *t,
                              const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out);
};

/* Events of one item, oldest first; after_id for paging (0 = from the start). */
struct store_event_ops {
    int (*list)(struct store *s, const char *tenant_id, const char *item_kind,
                const char *item_id, int64_t after_id, int limit,
                store_event_cb cb, void *ud);
};

struct store_finding_ops;      /* store_findings.h */
struct store_alert_ops;        /* store_alerts.h */
struct store_user_ops;         /* store_users.h */
struct store_notify_ops;       /* store_notify.h */
struct store_analytics_ops;    /* store_analytics.h */
struct store_escalation_ops;   /* store_escalation.h */
struct store_proof_ops;        /* store_proof.h */
struct store_calendar_ops;     /* store_calendars.h */
struct store_integration_ops;  /* store_integrations.h */

struct store {
    const struct store_ops *ops;
    /* One ops table per subject, so subjects grow apart without one huge struct. */
    const struct store_event_ops *events;
    const struct store_finding_ops *findings;
    const struct store_alert_ops *alerts;
    const struct store_user_ops *users;
    const struct store_notify_ops *notify;
    const struct store_analytics_ops *analytics;
    const struct store_escalation_ops *escalation;
    const struct store_proof_ops *proof;
    const struct store_calendar_ops *calendars;
    const struct store_integration_ops *integrations;
    /* Set by the server: called after a commit that gave an item an instant
     * to look at (a next warning, breach or escalation), so the scheduler
     * wakes for it instead of at its fallback scan.  May be NULL. */
    void (*due_hint)(void *ud, int64_t at);
    void *due_hint_ud;
    /* Set by the server: an SLA notice (sla.warning, sla.breach,
     * sla.escalation, its webhook body) just committed for a tenant whose
     * notification config has no websocket channel, for its live dashboards
     * (store_escalation.h).  Called after the commit.  May be NULL. */
    void (*live)(void *ud, const char *tenant_id, const char *text, size_t len);
    void *live_ud;
};

/* Backends call this after committing a write that set next instants. */
static inline void store_hint_due(struct store *s, int64_t at)
{
    if (s->due_hint && at > 0)
        s->due_hint(s->due_hint_ud, at);
}

/* Opens "sqlite:PATH" (creating it) or "postgres://..." and migrates it.
 * *out is the caller's, freed with store_close.  On failure, a message is
 * written to err (a URL in it has its password masked). */
int store_open(const char *url, struct store **out, char *err, size_t errlen);

static inline void store_close(struct store *s)
{
    if (s)
        s->ops->close(s);
}
static inline int store_ping(struct store *s) { return s->ops->ping(s); }

/* The database as /metrics shows it. */
struct store_stats {
    const char *backend;            /* "sqlite" | "postgres" */
    uint64_t errors;                /* errors the database reported */
    uint64_t retries;               /* transactions run again (deadlock, serialization) */
    bool degraded;                  /* writes failing (disk full, read-only) */
    bool lossy;                     /* other nodes' signals may be missed (listener down) */
    int nodes;                      /* nodes alive on this database (1 on SQLite) */
};
void store_stats(struct store *s, struct store_stats *out);
/* "sqlite" or "postgres". */
const char *store_backend(struct store *s);

static inline int store_tenant_create(struct store *s, const struct sw_tenant *t,
                                      const struct sw_audit *audit)
{ return s->ops->tenant_create(s, t, audit); }
static inline int store_tenant_get(struct store *s, const char *id, struct sw_tenant *out)
{ return s->ops->tenant_get(s, id, out); }
static inline int store_tenant_list(struct store *s, const char *const *ids, size_t n,
                                    store_tenant_cb cb, void *ud)
{ return s->ops->tenant_list(s, ids, n, cb, ud); }
static inline int store_project_create(struct store *s, const struct sw_project *p,
                                       const struct sw_audit *audit)
{ return s->ops->project_create(s, p, audit); }
static inline int store_project_get(struct store *s, const char *tenant_id, const char *id,
                                    struct sw_project *out)
{ return s->ops->project_get(s, tenant_id, id, out); }
static inline int store_project_list(struct store *s, const char *tenant_id,
                                     store_project_cb cb, void *ud)
{ return s->ops->project_list(s, tenant_id, cb, ud); }
static inline int store_token_create(struct store *s, const struct sw_token *t,
                                     const uint8_t hash[SW_TOKEN_HASH_LEN], int64_t *id_out)
{ return s->ops->token_create(s, t, hash, id_out); }
static inline int store_token_lookup(struct store *s, const uint8_t hash[SW_TOKEN_HASH_LEN],
                                     struct sw_token *out)
{ return s->ops->token_lookup(s, hash, out); }
static inline int store_token_count(struct store *s, int64_t *count)
{ return s->ops->token_count(s, count); }
static inline int store_token_create_first(struct store *s, const struct sw_token *t,
                                           const uint8_t hash[SW_TOKEN_HASH_LEN],
                                           int64_t *id_out)
{
    if (s->ops->token_create_first)
        return s->ops->token_create_first(s, t, hash, id_out);
    int64_t n;      /* a single-node backend: no race to close */
    int rc = s->ops->token_count(s, &n);
    if (rc < 0)
        return rc;
    return n > 0 ? SW_E_EXISTS : s->ops->token_create(s, t, hash, id_out);
}

static inline int store_event_list(struct store *s, const char *tenant_id, const char *kind,
                                   const char *item_id, int64_t after_id, int limit,
                                   store_event_cb cb, void *ud)
{ return s->events->list(s, tenant_id, kind, item_id, after_id, limit, cb, ud); }

#endif
