/* findings_contacts.c: walking a breached finding's escalation contacts
 * (the vulnerability seed: "the execution against a specific finding lives
 * with the finding"): engaging a contact, and someone taking the
 * escalation, which stops the later levels.
 *
 * Each engaged level is a finding_escalations row written in the
 * scheduler's transaction with its event and notices, so "who was engaged,
 * when and how" is kept beside the item; an acknowledgement stamps those
 * rows and sets FINDING_ESC_ACKED in contacts_fired, which the scheduler's
 * cells read (findings_due.c): no later contact is ever claimed.  Both run
 * under the finding's row lock, so on several nodes a contact is engaged
 * once and never after it was taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify.h"
#include "store/findings_int.h"
#include "util/xalloc.h"

static const char SQL_ENGAGE[] =
    "INSERT INTO finding_escalations (tenant_id, finding_id, level, user_id, via, engaged_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (tenant_id, finding_id, level) DO UPDATE SET user_id = excluded.user_id, "
    "  via = excluded.via, engaged_at = excluded.engaged_at, acked_at = NULL, acked_by = NULL";

#define ESC_COLS "SELECT level, user_id, via, engaged_at, COALESCE(acked_at, 0), " \
                 "COALESCE(acked_by, '') FROM finding_escalations "                 \
                 "WHERE tenant_id = ?1 AND finding_id = ?2 ORDER BY level"
static const char SQL_ESC_GET[] = ESC_COLS;
static const char SQL_ESC_LOCK[] = ESC_COLS " {FOR_UPDATE}";

static const char SQL_ACK[] =
    "UPDATE finding_escalations SET acked_at = ?3, acked_by = ?4 "
    "WHERE tenant_id = ?1 AND finding_id = ?2 AND acked_at IS NULL";
static const char SQL_ACK_FLAG[] =
    "UPDATE findings SET contacts_fired = contacts_fired + ?3, updated_at = ?4 "
    "WHERE tenant_id = ?1 AND id = ?2";

static void via_text(unsigned via, char *out, size_t len)
{
    out[0] = '\0';
    for (int ch = 0; ch < NOTIFY_NCHANNELS; ch++)
        if (via & (1u << ch)) {
            size_t k = strlen(out);
            snprintf(out + k, len - k, "%s%s", k ? "," : "",
                     notify_channel_name((enum notify_channel)ch));
        }
}

int findings_contact_fire_in(struct db_conn *c, const struct sw_finding *r,
                             const struct sla_contact *ct, int64_t now)
{
    struct sw_notice *n = xcalloc(1, sizeof(*n));
    n->escalation_level = ct->level;
    snprintf(n->escalation_target, sizeof(n->escalation_target), "%s", ct->user);
    /* contacts are told by email, and on Slack when they have a member id */
    int rc = store_person_route_in(c, r->tenant_id, ct->user, "email",
                                   (1u << NOTIFY_EMAIL) | (1u << NOTIFY_SLACK), ct->level,
                                   &n->engaged);
    char via[64] = "";
    via_text(n->engaged.via, via, sizeof(via));
    if (rc == 0) {
        json_t *d = json_pack("{s:i, s:s, s:i, s:o, s:s}", "level", ct->level, "user", ct->user,
                              "days_after_breach", ct->days_after_breach, "engaged",
                              n->engaged.user[0] ? json_string(n->engaged.user) : json_null(),
                              "via", via);
        if (n->engaged.note[0])
            json_object_set_new(d, "note", json_string(n->engaged.note));
        rc = findings_fire_in(c, r, "sla.escalation", d, n, now);
    }
    if (rc == 0 && n->engaged.user[0]) {
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_ENGAGE, &st)) == 0) {
            db_bind_text(st, 1, r->tenant_id);
            db_bind_text(st, 2, r->id);
            db_bind_int64(st, 3, ct->level);
            db_bind_text(st, 4, n->engaged.user);
            db_bind_text(st, 5, via);
            db_bind_int64(st, 6, now);
            rc = db_exec(st);
        }
    }
    free(n);
    return rc;
}

/* The finding's escalation rows into out (lock: {FOR_UPDATE}). */
static int esc_read_in(struct db_conn *c, const char *tenant_id, const char *id, bool lock,
                       struct sw_finding_escalation *out)
{
    struct db_stmt *st;
    memset(out, 0, sizeof(*out));
    int rc = db_prep(c, lock ? SQL_ESC_LOCK : SQL_ESC_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, tenant_id);
    db_bind_text(st, 2, id);
    while ((rc = db_step(st)) == DB_ROW) {
        if (out->n >= SLA_CONTACTS_MAX)
            continue;
        out->engaged[out->n].level = db_col_int(st, 0);
        db_col_copy(st, 1, out->engaged[out->n].user, sizeof(out->engaged[0].user));
        db_col_copy(st, 2, out->engaged[out->n].via, sizeof(out->engaged[0].via));
        out->engaged[out->n].engaged_at = db_col_int64(st, 3);
        if (db_col_int64(st, 4)) {
            out->acked_at = db_col_int64(st, 4);
            db_col_copy(st, 5, out->acked_by, sizeof(out->acked_by));
        }
        out->n++;
    }
    db_reset(st);
    return rc < 0 ? rc : 0;
}

struct esc_get_ctx {
    const char *tenant_id, *id;
    struct sw_finding_escalation *out;
};

static int esc_get_tx(struct db_conn *c, void *ud)
{
    struct esc_get_ctx *x = ud;
    struct thresholds th = {0};
    struct sw_finding *r = xmalloc(sizeof(*r));
    int rc = findings_row_in(c, x->tenant_id, x->id, false, &th, r, NULL);
    free(r);
    return rc < 0 ? rc : esc_read_in(c, x->tenant_id, x->id, false, x->out);
}

int findings_escalation_get(struct store *base, const char *tenant_id, const char *id,
                            struct sw_finding_escalation *out)
{
    struct esc_get_ctx x = {tenant_id, id, out};
    return findings_read(sql_of(base), esc_get_tx, &x);
}

struct ack_ctx {
    const char *tenant_id, *id, *actor, *by_user;
    bool may_operate;
    int64_t now;
    struct sw_finding_ack out;
    struct sw_finding r;
};

static int ack_tx(struct db_conn *c, void *ud)
{
    struct ack_ctx *x = ud;
    memset(&x->out, 0, sizeof(x->out));
    struct thresholds th;
    int rc = findings_thresholds_in(c, x->tenant_id, &th);
    if (rc == 0)
        rc = findings_row_in(c, x->tenant_id, x->id, true, &th, &x->r, NULL);
    if (rc == 0)
        rc = esc_read_in(c, x->tenant_id, x->id, true, &x->out.esc);
    if (rc < 0)
        return rc;
    const struct sw_finding_escalation *e = &x->out.esc;
    if (e->n == 0 || !(x->r.contacts_fired & 7u))
        return SW_E_CONFLICT;           /* nobody engaged (yet, or since a re-arm) */
    const char *last = e->engaged[e->n - 1].user;
    if (!x->may_operate && !(x->by_user && *x->by_user && !strcmp(x->by_user, last)))
        return SW_E_DENIED;
    if (e->acked_at || (x->r.contacts_fired & FINDING_ESC_ACKED)) {
        x->out.already = true;
        return 0;
    }
    struct db_stmt *st;
    if ((rc = db_prep(c, SQL_ACK, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_int64(st, 3, x->now);
    db_bind_text(st, 4, x->actor);
    if ((rc = db_exec(st)) < 0)
        return rc;
    if ((rc = db_prep(c, SQL_ACK_FLAG, &st)) < 0)
        return rc;
    db_bind_text(st, 1, x->tenant_id);
    db_bind_text(st, 2, x->id);
    db_bind_int64(st, 3, FINDING_ESC_ACKED);
    db_bind_int64(st, 4, x->now);
    if ((rc = db_exec(st)) < 0)
        return rc;
    x->out.esc.acked_at = x->now;
    snprintf(x->out.esc.acked_by, sizeof(x->out.esc.acked_by), "%s", x->actor);
    json_t *d = json_pack("{s:i, s:s, s:s}", "level", e->engaged[e->n - 1].level, "engaged",
                          last, "by", x->actor);
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    if (!text)
        return SW_E_NOMEM;
    struct sw_event ev;
    findings_event_init(&ev, x->tenant_id, x->id, "escalation.acknowledged", x->actor, x->now,
                        text);
    rc = store_event_add_in(c, &ev, NULL);
    free(text);
    return rc;
}

int findings_escalation_ack(struct store *base, const char *tenant_id, const char *id,
                            int64_t now, const char *actor, const char *by_user,
                            bool may_operate, struct sw_finding_ack *out)
{
    struct ack_ctx *x = xcalloc(1, sizeof(*x));
    *x = (struct ack_ctx){.tenant_id = tenant_id, .id = id, .actor = actor ? actor : "",
                          .by_user = by_user, .may_operate = may_operate, .now = now};
    int rc = db_tx(sql_of(base)->db, DB_TX_WRITE, ack_tx, x);
    if (rc == 0)
        *out = x->out;
    free(x);
    return rc;
}
