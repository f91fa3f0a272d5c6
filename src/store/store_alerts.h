/* store_alerts.h: the alert subject of store.h (placeholder, being written). */
#ifndef SW_STORE_ALERTS_H
#define SW_STORE_ALERTS_H

#include "store/store.h"

struct store_alert_ops {
    int unused;
};

#endif
