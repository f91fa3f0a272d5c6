/* sqlite_findings.c: the finding subject on SQLite (placeholder, being written). */
#include "store/sqlite_int.h"
#include "store/store_findings.h"

const struct store_finding_ops sqlite_finding_ops = {0};
