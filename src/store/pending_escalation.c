/* Transitional: alerts_due.c and escalation.c replace this file. */
#include "store/store_int.h"
#include "store/store_escalation.h"
const struct store_escalation_ops sql_escalation_ops = {0};
int store_alert_escalation_sync_in(struct db_conn *c, const struct sw_alert *x, int64_t now,
                                   int64_t *esc_at) { return SW_E_STORE; }
