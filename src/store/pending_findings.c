/* Transitional: findings*.c replace this file. */
#include "store/store_int.h"
#include "store/store_findings.h"
const struct store_finding_ops sql_finding_ops = {0};
