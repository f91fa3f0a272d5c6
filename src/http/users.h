/* users.h: validation of user input that the HTTP handlers, the CLI and the
 * fuzzers share.  Pure functions: no request, no store. */
#ifndef SW_HTTP_USERS_H
#define SW_HTTP_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store_users.h"

/* A plausible address: 3..254 printable ASCII bytes, no space, exactly one
 * '@' with something on both sides.  (Delivery is not our business.) */
bool users_email_valid(const char *s);

/* Fills u->roles from a JSON array of {role, tenant_id?}: 1..16 entries,
 * known roles, platform_admin without a tenant and every other role with a
 * valid tenant id; duplicates folded.  On error returns SW_E_INVAL with a
 * message in err (and u->nroles unspecified). */
int users_parse_roles(json_t *roles, struct sw_user *u, char *err, size_t errlen);

/* One role: the same rules for the CLI's --role/--tenant. */
int users_add_role(struct sw_user *u, const char *role, const char *tenant_id, char *err,
                   size_t errlen);

/* The JSON of a user (never the password hash); only the roles whose
 * tenant passes visible() when it is given. */
json_t *users_json(const struct sw_user *u, bool (*visible)(const char *tenant_id, void *ud),
                   void *ud);

struct req;
/* A person a chain or policy names (people in api_people.c): 0 when
 * user_id is a user with a role in tenant_id (any user for ""), else
 * answered 422 naming field (unknown and foreign users alike). */
int people_check_user(struct req *r, const char *user_id, const char *tenant_id,
                      const char *field);

#endif
