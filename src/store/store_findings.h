/* store_findings.h: the finding subject of store.h (placeholder, being written). */
#ifndef SW_STORE_FINDINGS_H
#define SW_STORE_FINDINGS_H

#include "store/store.h"

struct store_finding_ops {
    int unused;
};

#endif
