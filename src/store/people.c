/* people.c: the people an escalation reaches: each user's contact points
 * (store_users.h contact_get/put) and, inside an event's transaction, the
 * route to a named person (store_person_route_in): which channels, to
 * which address, through which of the tenant's receivers.
 *
 * The route is resolved when the step or contact fires, from what is
 * stored at that instant, and recorded with the event (the escalation
 * says who was engaged and how), so a contact point changed later never
 * rewrites history.  A person is only reached for a tenant they hold a
 * role in: an escalation never sends one tenant's item to someone of
 * another (a user removed from the tenant since the chain was saved is
 * skipped, and the tenant's own channels get the notice instead). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/store_int.h"
#include "store/store_notify.h"
#include "store/store_users.h"
#include "util/xalloc.h"

static const char SQL_CONTACT_GET[] =
    "SELECT u.email, COALESCE(c.email, ''), COALESCE(c.slack_user_id, ''), "
    "COALESCE(c.phone, ''), COALESCE(c.pagerduty_routing_key, ''), "
    "COALESCE(c.updated_at, 0), COALESCE(c.updated_by, '') "
    "FROM users u LEFT JOIN user_contacts c ON c.user_id = u.id WHERE u.id = ?1";

static const char SQL_CONTACT_PUT[] =
    "INSERT INTO user_contacts (user_id, email, slack_user_id, phone, pagerduty_routing_key, "
    "  updated_at, updated_by) "
    "VALUES (?1, NULLIF(?2, ''), NULLIF(?3, ''), NULLIF(?4, ''), NULLIF(?5, ''), ?6, ?7) "
    "ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, "
    "  slack_user_id = excluded.slack_user_id, phone = excluded.phone, "
    "  pagerduty_routing_key = excluded.pagerduty_routing_key, "
    "  updated_at = excluded.updated_at, updated_by = excluded.updated_by";

/* platform_admin (tenant '') holds every tenant */
static const char SQL_IN_TENANT[] =
    "SELECT 1 FROM user_roles WHERE user_id = ?1 AND (tenant_id = ?2 OR tenant_id = '') "
    "LIMIT 1";
static const char SQL_USER_EXISTS[] = "SELECT 1 FROM users WHERE id = ?1";

/* ---- contact points ------------------------------------------------------- */

/* The user's contact points; *account_email = the account's address. */
static int contact_read_in(struct db_conn *c, const char *user_id, struct sw_contact_points *out,
                           char account_email[SW_EMAIL_MAX + 1])
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_CONTACT_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, user_id);
    memset(out, 0, sizeof(*out));
    if ((rc = db_step_one(st)) != 1)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    snprintf(out->user_id, sizeof(out->user_id), "%s", user_id);
    if (account_email)
        db_col_copy(st, 0, account_email, SW_EMAIL_MAX + 1);
    db_col_copy(st, 1, out->email, sizeof(out->email));
    db_col_copy(st, 2, out->slack_user_id, sizeof(out->slack_user_id));
    db_col_copy(st, 3, out->phone, sizeof(out->phone));
    db_col_copy(st, 4, out->pagerduty_routing_key, sizeof(out->pagerduty_routing_key));
    out->updated_at = db_col_int64(st, 5);
    db_col_copy(st, 6, out->updated_by, sizeof(out->updated_by));
    db_reset(st);
    return 0;
}

static int contact_get(struct store *base, const char *user_id, struct sw_contact_points *out)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = contact_read_in(c, user_id, out, NULL);
    db_release(c);
    return rc;
}

struct contact_put_ctx {
    const struct sw_contact_points *cp;
    const struct sw_audit *audits;
    size_t naudits;
};

static int contact_put_tx(struct db_conn *c, void *ud)
{
    struct contact_put_ctx *x = ud;
    struct db_stmt *st;
    int rc = db_prep(c, SQL_USER_EXISTS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, x->cp->user_id);
    if ((rc = db_step_one(st)) != 1)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    db_reset(st);
    if ((rc = db_prep(c, SQL_CONTACT_PUT, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->cp->user_id);
    db_bind_text(st, 2, x->cp->email);
    db_bind_text(st, 3, x->cp->slack_user_id);
    db_bind_text(st, 4, x->cp->phone);
    db_bind_text(st, 5, x->cp->pagerduty_routing_key);
    db_bind_int64(st, 6, x->cp->updated_at);
    db_bind_text(st, 7, x->cp->updated_by);
    if ((rc = db_exec(st)) < 0)
        return rc;
    for (size_t i = 0; i < x->naudits && rc == 0; i++)
        rc = store_audit_add_in(c, &x->audits[i]);
    return rc;
}

static int contact_put(struct store *base, const struct sw_contact_points *cp,
                       const struct sw_audit *audits, size_t naudits)
{
    struct contact_put_ctx x = {.cp = cp, .audits = audits, .naudits = naudits};
    return db_tx(sql_of(base)->db, DB_TX_WRITE, contact_put_tx, &x);
}

/* users.c puts them in sql_user_ops */
int people_contact_get(struct store *s, const char *user_id, struct sw_contact_points *out);
int people_contact_put(struct store *s, const struct sw_contact_points *cp,
                       const struct sw_audit *audits, size_t naudits);

int people_contact_get(struct store *s, const char *user_id, struct sw_contact_points *out)
{
    return contact_get(s, user_id, out);
}

int people_contact_put(struct store *s, const struct sw_contact_points *cp,
                       const struct sw_audit *audits, size_t naudits)
{
    return contact_put(s, cp, audits, naudits);
}

/* ---- membership and routes -------------------------------------------------- */

int store_user_in_tenant_in(struct db_conn *c, const char *user_id, const char *tenant_id)
{
    struct db_stmt *st;
    int rc = db_prep(c, *tenant_id ? SQL_IN_TENANT : SQL_USER_EXISTS, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, user_id);
    if (*tenant_id)
        db_bind_text(st, 2, tenant_id);
    rc = db_step_one(st);
    if (rc == 1)
        db_reset(st);
    return rc;
}

static void add_note(struct sw_engaged *e, const char *what)
{
    size_t k = strlen(e->note);
    snprintf(e->note + k, sizeof(e->note) - k, "%s%s", k ? "; " : "", what);
}

int store_person_route_in(struct db_conn *c, const char *tenant_id, const char *user_id,
                          const char *method, unsigned want, int level, struct sw_engaged *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->method, sizeof(out->method), "%s", method ? method : "");
    out->level = level;
    int rc = store_user_in_tenant_in(c, user_id, tenant_id);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        snprintf(out->note, sizeof(out->note),
                 "user %.64s has no role in this tenant: the tenant's channels instead", user_id);
        return 0;
    }
    struct sw_contact_points cp;
    char account[SW_EMAIL_MAX + 1] = "";
    if ((rc = contact_read_in(c, user_id, &cp, account)) < 0)
        return rc;
    struct sw_notify_config *cfg = xmalloc(sizeof(*cfg));
    rc = store_notify_config_in(c, tenant_id, cfg);
    sodium_memzero(cfg->webhook_secret, sizeof(cfg->webhook_secret));
    bool have_cfg = rc == 0;
    if (rc == SW_E_NOTFOUND)
        rc = 0;
    if (rc < 0) {
        free(cfg);
        return rc;
    }
    snprintf(out->user, sizeof(out->user), "%s", user_id);
    snprintf(out->email, sizeof(out->email), "%s", cp.email[0] ? cp.email : account);
    snprintf(out->slack_user_id, sizeof(out->slack_user_id), "%s", cp.slack_user_id);
    snprintf(out->phone, sizeof(out->phone), "%s", cp.phone);
    const char *slack_url = have_cfg && cfg->nrcpt[NOTIFY_SLACK] ? cfg->rcpt[NOTIFY_SLACK][0] : "";
    const char *voice = have_cfg ? cfg->voice_webhook : "";
    const char *tenant_key = have_cfg ? cfg->pagerduty_routing_key : "";
    bool fell = false;      /* a method asked for cannot reach them */
    if (want & (1u << NOTIFY_EMAIL))
        out->via |= 1u << NOTIFY_EMAIL;
    if (want & (1u << NOTIFY_SLACK)) {
        /* a finding contact (email and Slack) without a member id is told
         * by email alone, as the contract says: no fallback to note */
        bool optional = want & (1u << NOTIFY_EMAIL);
        if (!cp.slack_user_id[0]) {
            if (!optional) {
                fell = true;
                add_note(out, "no Slack member id on file");
            }
        } else if (!*slack_url) {
            fell = true;
            add_note(out, "the tenant has no Slack webhook");
        } else {
            out->via |= 1u << NOTIFY_SLACK;
            snprintf(out->slack_url, sizeof(out->slack_url), "%s", slack_url);
        }
    }
    if (want & (1u << NOTIFY_PAGER)) {
        const char *key = cp.pagerduty_routing_key[0] ? cp.pagerduty_routing_key : tenant_key;
        if (!*key) {
            fell = true;
            add_note(out, "no PagerDuty routing key (the person's or the tenant's)");
        } else {
            out->via |= 1u << NOTIFY_PAGER;
            snprintf(out->routing_key, sizeof(out->routing_key), "%s", key);
        }
    }
    if (want & (1u << NOTIFY_PHONE)) {
        if (!cp.phone[0]) {
            fell = true;
            add_note(out, "no phone number on file");
        } else if (!*voice) {
            fell = true;
            add_note(out, "the tenant has no voice webhook");
        } else {
            out->via |= 1u << NOTIFY_PHONE;
            snprintf(out->voice_url, sizeof(out->voice_url), "%s", voice);
        }
    }
    /* what the method asked for cannot reach them: their address can
     * (every account has one) */
    if (fell || !out->via) {
        if (!(out->via & (1u << NOTIFY_EMAIL)))
            add_note(out, "told by email instead");
        out->via |= 1u << NOTIFY_EMAIL;
    }
    free(cfg);
    return 0;
}
