/* Transitional: outbox.c and notify_config.c replace this file. */
#include "store/store_int.h"
#include "store/store_notify.h"
const struct store_notify_ops sql_notify_ops = {0};
int store_notice_in(struct db_conn *c, const struct sw_notice *n, int64_t event_id)
{ return SW_E_STORE; }
