/* Transitional: analytics.c replaces this file. */
#include "store/store_int.h"
#include "store/store_analytics.h"
const struct store_analytics_ops sql_analytics_ops = {0};
int store_rollup_change_in(struct db_conn *c, const struct sw_alert *before,
                           const struct sw_alert *after) { return SW_E_STORE; }
