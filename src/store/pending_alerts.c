/* Transitional: alerts*.c replace this file. */
#include "store/store_int.h"
#include "store/store_alerts.h"
const struct store_alert_ops sql_alert_ops = {0};
int store_alert_get_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                       struct sw_alert *out) { return SW_E_STORE; }
int store_alert_save_in(struct db_conn *c, const struct sw_alert *x) { return SW_E_STORE; }
int store_alert_event_add_in(struct db_conn *c, const struct sw_alert *x, const char *type,
                             const char *actor, int64_t at, const char *data,
                             int64_t *event_id) { return SW_E_STORE; }
int64_t store_alert_next_check(const struct sla_alert *a, int64_t now) { return SLA_NEVER; }
struct alert_writer *store_alert_writer_new(struct sql_store *s) { return NULL; }
void store_alert_writer_free(struct alert_writer *w) { }
