/* Transitional: users.c replaces this file (users, sessions, audit). */
#include "store/store_int.h"
#include "store/store_users.h"
const struct store_user_ops sql_user_ops = {0};
int store_audit_add_in(struct db_conn *c, const struct sw_audit *a) { return SW_E_STORE; }
