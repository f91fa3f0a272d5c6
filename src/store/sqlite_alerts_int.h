/* sqlite_alerts_int.h: what the SQLite alert files share.
 *
 * sqlite_alerts.c owns the alerts row (its columns, binding, reading, the
 * "next check" formula); sqlite_alerts_due.c (the scheduler's side and
 * escalation) uses the same functions instead of a copy, so a row is read
 * and written one way only. */
#ifndef SW_STORE_SQLITE_ALERTS_INT_H
#define SW_STORE_SQLITE_ALERTS_INT_H

#include "store/sqlite_int.h"
#include "store/store_alerts.h"

/* sqlite_alerts.c */

/* One alert inside the caller's transaction: 0, SW_E_NOTFOUND, SW_E_STORE. */
int sq_alert_get_in(struct sqlite_store *s, struct conn *c, const char *tenant_id,
                    const char *id, struct sw_alert *out);
/* Writes every column of x (by tenant_id, id) as sqlite_alerts.c's own
 * updates do; x->updated_at and x->next_check_at as given. */
int sq_alert_save(struct sqlite_store *s, struct conn *c, const struct sw_alert *x);
/* The scheduler's next instant of the two clocks: the resolved warn_pct
 * threshold and the breach (SLA_NEVER: nothing left). */
int64_t sq_alert_next_check(const struct sla_alert *a, int64_t now);
/* Appends an event of the alert; *event_id (optional) = its row id. */
int sq_alert_event_add(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                       const char *type, const char *actor, int64_t at, const char *data,
                       int64_t *event_id);

/* sqlite_alerts_due.c */

/* After a lifecycle change of x (acknowledge, resolve, reopen, severity),
 * inside its transaction: recomputes the alert's next automatic escalation
 * instant (esc_due_at) from its stored chain position.  *esc_at = that
 * instant (SLA_NEVER: none), for the scheduler hint after the commit. */
int sq_alert_escalation_sync(struct sqlite_store *s, struct conn *c, const struct sw_alert *x,
                             int64_t now, int64_t *esc_at);

#endif
