/* store_escalation.h: the alerts' due instants (the scheduler's alert
 * source) and escalation chains, a subject of store.h.
 *
 * Due instants.  An alert has two queues, both indexed: next_check_at (its
 * next warning threshold or breach, over both clocks, kept by every write
 * of alerts*.c) and esc_due_at (its next automatic escalation step:
 * step k-1's instant + its timeout, while unacknowledged).  The first step
 * needs no instant of its own: it fires with the ack clock's breach.
 * process_due claims what is due in one write transaction (on PostgreSQL
 * with SKIP LOCKED: several nodes' schedulers never take the same alert)
 * and, per alert, asks the core what happened (warnings crossed, breaches,
 * steps due), writes the events (sla.warning, sla.breach, sla.escalation),
 * a breach row, the fired flags, the new instants, and each event's notice,
 * then commits: a crash re-does nothing that committed and loses nothing
 * that did not.
 *
 * Notices go through the outbox subject (store_notice_in, in the same
 * transaction), which also decides the live-dashboard path: a tenant whose
 * notification config has the websocket channel gets its notices through
 * the outbox, any other tenant on its live dashboards after the commit.
 * One path per tenant, never both.
 *
 * Chains: per tenant and severity, 1..5 steps {level, role, user?, timeout,
 * method}; saving one replaces it and reschedules the alerts walking it.
 * A step naming a user reaches that person by its method (people.c
 * resolves how when it fires; the event records it); acknowledging or
 * resolving the alert closes the PagerDuty incidents its steps opened. */
#ifndef SW_STORE_ESCALATION_H
#define SW_STORE_ESCALATION_H

#include "core/sla.h"
#include "store/store.h"

#define SW_ROLE_MAX 128

struct sw_esc_step {
    enum sla_esc_level level;
    char role[SW_ROLE_MAX + 1];
    int32_t timeout_min;
    enum sla_esc_method method;
    char user[SW_ID_MAX + 1];   /* the person told, "" = the tenant's channels */
};

struct sw_esc_chain {
    char tenant_id[SW_ID_MAX + 1];
    enum sla_sev sev;
    size_t n;
    struct sw_esc_step step[SLA_ESC_STEPS_MAX];
    int64_t updated_at;
    char updated_by[SW_NAME_MAX + 32];
};

/* The core's view of a chain (roles borrowed from c). */
static inline void sw_esc_chain_core(const struct sw_esc_chain *c,
                                     struct sla_esc_step out[SLA_ESC_STEPS_MAX])
{
    for (size_t i = 0; i < c->n && i < SLA_ESC_STEPS_MAX; i++) {
        out[i].level = c->step[i].level;
        out[i].role = c->step[i].role;
        out[i].timeout_min = c->step[i].timeout_min;
        out[i].method = c->step[i].method;
    }
}

/* One fired step (the audit history). */
struct sw_esc_event {
    int64_t id;
    char tenant_id[SW_ID_MAX + 1];
    char alert_id[SW_ID_MAX + 1];
    enum sla_sev sev;           /* the chain's severity */
    int level_index;            /* 1-based: the alert's level after it */
    enum sla_esc_level level;
    char role[SW_ROLE_MAX + 1];
    enum sla_esc_method method;
    int64_t at;                 /* when it fired */
    int64_t due_at;             /* when it was due (= at for a manual step) */
    bool manual;
    char actor[SW_NAME_MAX + 32];
    char user[SW_ID_MAX + 1];   /* the person engaged, "" = the tenant's channels */
    char via[64];               /* channels that reached them: "email,pager" */
};

/* Where an alert stands (GET /escalation-status). */
struct sw_esc_status {
    enum sla_sev sev;           /* the chain walked (or that would be) */
    bool has_chain;
    struct sw_esc_chain chain;
    int level;                  /* steps fired */
    int64_t escalated_at;       /* the current step's instant, 0 at level 0 */
    int64_t next_at;            /* the next automatic step, SLA_NEVER = none */
    int64_t fired_at[SLA_ESC_STEPS_MAX];    /* latest firing of step i, 0 = never */
    bool fired_manual[SLA_ESC_STEPS_MAX];
    bool acknowledged, resolved;
};

enum sw_esc_outcome {
    SW_ESC_DONE,                /* a step fired */
    SW_ESC_NO_CHAIN,            /* no chain for that tenant and severity */
    SW_ESC_EXHAUSTED,           /* every step has fired */
};

/* The result of a manual step. */
struct sw_esc_result {
    enum sw_esc_outcome outcome;
    enum sla_sev sev;
    int level;                  /* after the step (DONE), else the current one */
    struct sw_esc_step step;    /* the step fired (DONE) */
    int64_t next_at;            /* the next automatic step, SLA_NEVER = none */
    int64_t event_id;
};

typedef int (*store_esc_chain_cb)(const struct sw_esc_chain *c, void *ud);
typedef int (*store_esc_event_cb)(const struct sw_esc_event *e, void *ud);

struct store_escalation_ops {
    /* The scheduler's alert source (struct sched_source). */
    int (*alerts_next_due)(struct store *s, int64_t now, int64_t *at);
    int (*alerts_process_due)(struct store *s, int64_t now, int limit, int *processed);

    /* A tenant's chains, by severity; SW_E_NOTFOUND when the tenant does not exist. */
    int (*chain_list)(struct store *s, const char *tenant_id, store_esc_chain_cb cb, void *ud);
    /* Replaces the chain of (c->tenant_id, c->sev); c must be valid
     * (sla_esc_chain_validate).  SW_E_NOTFOUND: no such tenant. */
    int (*chain_put)(struct store *s, const struct sw_esc_chain *c, int64_t now,
                     const char *actor);
    /* One step by hand.  sev < 0: the alert's own severity (ignored once the
     * alert walks a chain).  SW_E_NOTFOUND, SW_E_CONFLICT (resolved); a
     * missing or exhausted chain is 0 with out->outcome saying so. */
    int (*escalate)(struct store *s, const char *tenant_id, const char *alert_id, int sev,
                    int64_t now, const char *actor, struct sw_esc_result *out);
    int (*status)(struct store *s, const char *tenant_id, const char *alert_id, int64_t now,
                  struct sw_esc_status *out);
    /* Fired steps, newest first, id < before_id (0: from the newest);
     * alert_id NULL = every alert of the tenant. */
    int (*events)(struct store *s, const char *tenant_id, const char *alert_id,
                  int64_t before_id, int limit, store_esc_event_cb cb, void *ud);
};

static inline int store_alerts_next_due(struct store *s, int64_t now, int64_t *at)
{ return s->escalation->alerts_next_due(s, now, at); }
static inline int store_alerts_process_due(struct store *s, int64_t now, int limit,
                                           int *processed)
{ return s->escalation->alerts_process_due(s, now, limit, processed); }
static inline int store_esc_chain_list(struct store *s, const char *tenant_id,
                                       store_esc_chain_cb cb, void *ud)
{ return s->escalation->chain_list(s, tenant_id, cb, ud); }
static inline int store_esc_chain_put(struct store *s, const struct sw_esc_chain *c,
                                      int64_t now, const char *actor)
{ return s->escalation->chain_put(s, c, now, actor); }
static inline int store_escalate(struct store *s, const char *tenant_id, const char *alert_id,
                                 int sev, int64_t now, const char *actor,
                                 struct sw_esc_result *out)
{ return s->escalation->escalate(s, tenant_id, alert_id, sev, now, actor, out); }
static inline int store_esc_status(struct store *s, const char *tenant_id, const char *alert_id,
                                   int64_t now, struct sw_esc_status *out)
{ return s->escalation->status(s, tenant_id, alert_id, now, out); }
static inline int store_esc_events(struct store *s, const char *tenant_id, const char *alert_id,
                                   int64_t before_id, int limit, store_esc_event_cb cb,
                                   void *ud)
{ return s->escalation->events(s, tenant_id, alert_id, before_id, limit, cb, ud); }

#endif
