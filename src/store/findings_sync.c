/* findings_sync.c: findings as other tools see them (store_findings.h
 * sync_many): a scanner's page of findings, created with their history or
 * brought to the source's state, many per transaction.
 *
 * One transaction per finding would be one fsync per finding (a DefectDojo
 * page of 1,000 would take seconds), so a batch of up to BATCH findings is
 * one transaction; each finding is still its own decision (the core's
 * sla_finding_sync on the locked row) with its own events.  Findings are
 * taken in id order, so two nodes importing overlapping pages lock rows in
 * the same order and wait for one another instead of deadlocking; a
 * deadlock anyway (a page racing single writes) is retried by db_tx.
 *
 * The same page twice changes nothing: a tracked finding in the state its
 * source reports is left alone, and a reopen needs the source's own
 * instant after the stored close (core/sla.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/findings_int.h"
#include "store/rollups_int.h"
#include "util/xalloc.h"

#define BATCH 1000

/* A group's targets read in this transaction, by project. */
#define GCACHE 8

struct sync_ctx {
    const struct sw_finding_sync *in;
    const size_t *order;        /* in[order[off..end)] */
    size_t off, end;
    int64_t now;
    const char *actor;
    enum sw_finding_result *results;
    struct sw_finding *r;
    struct sw_finding *before;  /* scratch: r as read, for the findings' numbers */
    char th_tenant[SW_ID_MAX + 1];
    struct thresholds th;
    struct {
        char tenant[SW_ID_MAX + 1], project[SW_ID_MAX + 1];
        struct group_targets g;
    } gc[GCACHE];
    size_t ngc, next_gc;
};

static int group_get(struct db_conn *c, struct sync_ctx *x, const char *tenant,
                     const char *project, const struct group_targets **out)
{
    for (size_t i = 0; i < x->ngc; i++)
        if (!strcmp(x->gc[i].tenant, tenant) && !strcmp(x->gc[i].project, project)) {
            *out = &x->gc[i].g;
            return 0;
        }
    size_t k = x->ngc < GCACHE ? x->ngc++ : (x->next_gc++ % GCACHE);
    x->gc[k].tenant[0] = '\0';      /* half loaded is not loaded */
    int rc = findings_group_in(c, tenant, project, x->now, &x->gc[k].g);
    if (rc < 0)
        return rc;
    snprintf(x->gc[k].tenant, sizeof(x->gc[k].tenant), "%s", tenant);
    snprintf(x->gc[k].project, sizeof(x->gc[k].project), "%s", project);
    *out = &x->gc[k].g;
    return 0;
}

static int event_in(struct db_conn *c, const struct sw_finding *r, const char *type,
                    const char *actor, int64_t at, const char *data)
{
    struct sw_event e;
    findings_event_init(&e, r->tenant_id, r->id, type, actor, at, data);
    return store_event_add_in(c, &e, NULL);
}

/* A tracked finding (locked in r): the step its source asks for. */
static int follow_in(struct db_conn *c, struct sync_ctx *x, const struct sw_finding_sync *it,
                     int stage, enum sw_finding_result *res)
{
    struct sw_finding *r = x->r;
    const struct group_targets *g;
    int rc = group_get(c, x, r->tenant_id, r->project_id, &g);
    if (rc < 0)
        return rc;
    struct sla_finding_layer layers[3];
    struct sla_finding_scopes scopes;
    findings_group_scopes(g, layers, &scopes);
    memcpy(x->before, r, sizeof(*r));
    struct sla_finding before = r->f;
    enum sla_finding_state want = it->only_if_tracked ? SLA_FINDING_PAUSED : it->in.state;
    int64_t at = sla_finding_state_terminal(want) && it->in.closed_at ? it->in.closed_at
                                                                       : it->state_at;
    unsigned done = 0;
    if (sla_finding_sync(&r->f, want, at, it->in.sev, &scopes, x->now, &done) < 0 || !done) {
        *res = SW_FINDING_UNCHANGED;
        return 0;
    }
    if ((rc = findings_save_in(c, r, &before.alarm, &stage, &x->th, g, x->now)) < 0)
        return rc;
    if ((before.state != r->f.state || before.sev != r->f.sev) &&
        (rc = store_finding_numbers_change_in(c, x->before, r)) < 0)
        return rc;
    char data[128];
    if (done & SLA_SYNC_REOPENED) {
        snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"open\",\"via\":\"sync\"}",
                 sla_finding_state_name(before.state));
        rc = event_in(c, r, "reopened", x->actor, r->f.clock.last_event_at, data);
    }
    if (rc == 0 && (done & SLA_SYNC_RESOLVED)) {
        snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\",\"breached\":%s,"
                 "\"via\":\"sync\"}", sla_finding_state_name(before.state),
                 sla_finding_state_name(r->f.state),
                 sla_clock_breached(&r->f.clock, x->now) ? "true" : "false");
        rc = event_in(c, r, "closed", x->actor, r->f.closed_at, data);
    }
    if (rc == 0 && (done & SLA_SYNC_SEVERITY)) {
        snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\",\"via\":\"sync\"}",
                 sla_sev_name(before.sev), sla_sev_name(r->f.sev));
        rc = event_in(c, r, "severity_changed", x->actor, x->now, data);
    }
    if (rc < 0)
        return rc;
    *res = (done & SLA_SYNC_RESOLVED)   ? SW_FINDING_CLOSED
         : (done & SLA_SYNC_REOPENED)   ? SW_FINDING_REOPENED
                                        : SW_FINDING_UPDATED;
    return 0;
}

static int sync_one_in(struct db_conn *c, struct sync_ctx *x, const struct sw_finding_sync *it,
                       enum sw_finding_result *res)
{
    const struct sw_finding_new *in = &it->in;
    int rc = 0;
    if (strcmp(x->th_tenant, in->tenant_id)) {
        x->th_tenant[0] = '\0';
        if ((rc = findings_thresholds_in(c, in->tenant_id, &x->th)) < 0)
            return rc;
        snprintf(x->th_tenant, sizeof(x->th_tenant), "%s", in->tenant_id);
    }
    int stage = 0;
    rc = findings_row_in(c, in->tenant_id, in->id, true, &x->th, x->r, &stage);
    if (rc == 0)
        return follow_in(c, x, it, stage, res);
    if (rc != SW_E_NOTFOUND)
        return rc;
    if (it->only_if_tracked) {
        *res = SW_FINDING_UNCHANGED;
        return 0;
    }
    struct sw_finding_new create = *in;
    if (sla_finding_state_terminal(in->state) && !in->closed_at)
        create.closed_at = it->state_at;
    bool created = false;
    rc = findings_create_in(c, &create, x->now, x->actor, &x->th, x->r, &created);
    if (rc == SW_E_NOTFOUND || rc == SW_E_INVAL) {
        *res = rc == SW_E_NOTFOUND ? SW_FINDING_NO_PROJECT : SW_FINDING_INVALID;
        return 0;
    }
    if (rc < 0)
        return rc;
    *res = created ? SW_FINDING_CREATED : SW_FINDING_UNCHANGED;
    return 0;
}

static int sync_tx(struct db_conn *c, void *ud)
{
    struct sync_ctx *x = ud;
    x->th_tenant[0] = '\0';     /* nothing read by a rolled-back attempt is trusted */
    x->ngc = x->next_gc = 0;
    for (size_t k = x->off; k < x->end; k++) {
        size_t i = x->order[k];
        int rc = sync_one_in(c, x, &x->in[i], &x->results[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int key_cmp(const void *a, const void *b, void *base)
{
    const struct sw_finding_sync *in = base;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(in[i].in.tenant_id, in[j].in.tenant_id);
    if (!c)
        c = strcmp(in[i].in.id, in[j].in.id);
    return c ? c : (i < j ? -1 : i > j);    /* the same finding twice: in input order */
}

int findings_sync_many(struct store *base, const struct sw_finding_sync *in, size_t n,
                       int64_t now, const char *actor, enum sw_finding_result *results)
{
    size_t *order = xmalloc((n ? n : 1) * sizeof(*order));
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    struct sync_ctx *x = xcalloc(1, sizeof(*x));
    x->in = in;
    x->order = order;
    x->now = now;
    x->actor = actor;
    x->results = results;
    x->r = xmalloc(sizeof(*x->r));
    x->before = xmalloc(sizeof(*x->before));
    int rc = 0;
    for (size_t off = 0; off < n && rc == 0; off += BATCH) {
        x->off = off;
        x->end = n - off > BATCH ? off + BATCH : n;
        qsort_r(order + off, x->end - off, sizeof(*order), key_cmp, (void *)in);
        rc = db_tx(sql_of(base)->db, DB_TX_WRITE, sync_tx, x);
    }
    free(x->r);
    free(x->before);
    free(x);
    free(order);
    return rc;
}
