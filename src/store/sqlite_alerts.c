/* sqlite_alerts.c: the alert subject on SQLite (placeholder, being written). */
#include "store/sqlite_int.h"
#include "store/store_alerts.h"

const struct store_alert_ops sqlite_alert_ops = {0};
