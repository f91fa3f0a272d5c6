/* audit: the append-only record of every write (who, tenant, when, what,
 * before and after), and GET /api/v1/audit.
 *
 * Two ways to write a row:
 *   - audit_record(): a separate insert, right after the change committed.
 *     For handlers whose store function owns its transaction and takes no
 *     audit row (a crash between the two loses the row, never the change);
 *   - audit_entry_init() + a store function taking `const struct sw_audit *`
 *     (store_users.h): the row commits in the same transaction as the change.
 * The actor and the time come from the request (r->who.actor, r->now). */
#ifndef SW_HTTP_AUDIT_H
#define SW_HTTP_AUDIT_H

#include <jansson.h>

#include "store/store_users.h"

struct req;

/* Records one action.  tenant_id NULL or "" = platform; before/after are
 * borrowed (NULL = none) and written as compact JSON.  Logs and returns the
 * store's error; the caller has already answered or may ignore it. */
int audit_record(struct req *r, const char *tenant_id, const char *action,
                 const char *target, json_t *before, json_t *after);

/* A row to hand to a store function; owns the JSON text. */
struct audit_entry {
    struct sw_audit a;
    char *before_text, *after_text;
};

void audit_entry_init(struct audit_entry *e, const struct req *r, const char *tenant_id,
                      const char *action, const char *target, json_t *before, json_t *after);
void audit_entry_release(struct audit_entry *e);

#endif
