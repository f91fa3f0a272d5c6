/* dispatch.c: claimed rows become transfers.  Each row goes to its
 * destination (host:port), which admits at most notify_per_destination
 * transfers at once and keeps a short queue; its circuit breaker
 * (breaker.c) decides whether the row is sent, sent as the probe, or
 * skipped.  Finished transfers are judged, recorded, and move their
 * destination's queue on.  The design is at the top of notifier.c. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/worker.h"
#include "util/xalloc.h"
#include "ws/ws.h"

/* Slack's mrkdwn treats &, < and > as markup. */
static char *slack_escape(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p; p++)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *out = xmalloc(n + 1), *o = out;
    for (const char *p = s; *p; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

/* A Slack member id from the notice's "engaged", if it is one (letters
 * and digits only: nothing else may reach the <@...> markup). */
static void slack_member(const char *notice, char out[NOTIFY_SLACK_ID_MAX + 1])
{
    out[0] = '\0';
    json_t *o = json_loads(notice, 0, NULL);
    const char *id =
        json_string_value(json_object_get(json_object_get(o, "engaged"), "slack_user_id"));
    bool ok = id && *id && strlen(id) <= NOTIFY_SLACK_ID_MAX;
    for (const char *p = id; ok && *p; p++)
        ok = (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z');
    if (ok)
        snprintf(out, NOTIFY_SLACK_ID_MAX + 1, "%s", id);
    json_decref(o);
}

/* Signed as webhooks are: the tenant's secret over the exact body. */
static int signed_post(struct notifier *n, struct job *j, struct delivery *d, char *body)
{
    const struct sw_outbox_row *r = &j->row;
    if (!r->secret[0]) {
        free(body);
        snprintf(d->error, sizeof(d->error),
                 "the tenant has no webhook_secret: not sent unsigned");
        return -1;
    }
    char sig[NOTIFY_SIG_HEX + 1];
    notify_sign_hex(body, strlen(body), r->secret, sig);
    char h_sig[NOTIFY_SIG_HEX + 64], h_key[NOTIFY_KEY_LEN + 64];
    snprintf(h_sig, sizeof(h_sig), "X-Slawatch-Signature: sha256=%s", sig);
    snprintf(h_key, sizeof(h_key), "Idempotency-Key: %s", r->key);
    const char *headers[] = {h_sig, h_key, NULL};
    return notify_xfer_http(&j->x, &n->o, r->recipient, body, headers) < 0 ? 1 : 0;
}

/* Prepares the transfer of a row into j->x.  0, or a failure that needs
 * no transfer (in *d: no secret, no SMTP server).  Every body gets the
 * item's link here (public_url is this node's setting, not the row's). */
static int prepare(struct notifier *n, struct job *j, struct delivery *d)
{
    const struct sw_outbox_row *r = &j->row;
    memset(d, 0, sizeof(*d));
    if (!r->notice) {
        snprintf(d->error, sizeof(d->error), "the row has no notice");
        return -1;
    }
    char *notice = notify_body_with_url(r->notice, n->o.public_url);
    int rc = -2;
    switch (r->channel) {
    case NOTIFY_SLACK: {
        char *details = notify_details(notice);
        char *text = slack_escape(details);
        char member[NOTIFY_SLACK_ID_MAX + 1];
        slack_member(notice, member);
        if (member[0] && r->person[0]) {     /* the person, by a mention Slack resolves */
            char *t = xasprintf("<@%s> %s", member, text);
            free(text);
            text = t;
        }
        json_t *o = json_pack("{s:s}", "text", text);
        char *body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        free(text);
        free(details);
        if (!body)
            abort();    /* only on out of memory */
        rc = notify_xfer_http(&j->x, &n->o, r->recipient, body, NULL) < 0 ? -2 : 0;
        break;
    }
    case NOTIFY_WEBHOOK:
        rc = signed_post(n, j, d, xstrdup(notice));
        rc = rc > 0 ? -2 : rc;
        break;
    case NOTIFY_PHONE: {    /* the tenant's voice webhook: {to, message} */
        json_t *b = json_loads(notice, 0, NULL);
        char *message = notify_summary(notice);
        json_t *o = json_pack("{s:s, s:s, s:s}", "id", r->key, "to",
                              json_string_value(json_object_get(b, "to"))
                                  ? json_string_value(json_object_get(b, "to")) : "",
                              "message", message);
        if (json_object_get(b, "url"))
            json_object_set(o, "url", json_object_get(b, "url"));
        char *body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        json_decref(b);
        free(message);
        if (!body)
            abort();
        rc = signed_post(n, j, d, body);
        rc = rc > 0 ? -2 : rc;
        break;
    }
    case NOTIFY_PAGER: {    /* PagerDuty Events API v2: our URL, not a tenant's */
        char *body = notify_pagerduty_body(r->notice, r->recipient, n->o.public_url);
        char *url = xasprintf("%s/v2/enqueue", n->o.pagerduty_events_url
                                                   ? n->o.pagerduty_events_url : "");
        struct notify_opts o = n->o;
        o.allow_private = true;     /* the operator's setting: it may be internal */
        rc = notify_xfer_http(&j->x, &o, url, body, NULL) < 0 ? -2 : 0;
        free(url);
        break;
    }
    case NOTIFY_EMAIL: {
        char *summary = notify_summary(notice);
        char *subject = xasprintf("[slawatch] %s", summary);
        char *text = notify_details(notice);
        char *msg = notify_email_message(n->o.smtp_from, r->recipient, subject, text, r->key,
                                         j->at);
        free(text);
        free(subject);
        free(summary);
        int erc = notify_xfer_email(&j->x, &n->o, r->recipient, msg);
        if (erc == SW_E_INVAL) {
            notify_xfer_release(&j->x);
            snprintf(d->error, sizeof(d->error), "no SMTP server configured (smtp_url)");
            rc = -1;
        } else {
            rc = erc < 0 ? -2 : 0;
        }
        break;
    }
    default:
        snprintf(d->error, sizeof(d->error), "unknown channel");
        rc = -1;
        break;
    }
    free(notice);
    if (rc != -2)
        return rc;
    notify_xfer_release(&j->x);
    snprintf(d->error, sizeof(d->error), "cannot create a client for this delivery");
    return -1;
}

/* ---- destinations ------------------------------------------------------------------ */

static unsigned dest_bucket(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % DEST_BUCKETS;
}

static struct dest *dest_get(struct worker *w, const char *name)
{
    unsigned b = dest_bucket(name);
    for (struct dest *d = w->dests[b]; d; d = d->next)
        if (!strcmp(d->name, name))
            return d;
    struct dest *d = xcalloc(1, sizeof(*d));
    snprintf(d->name, sizeof(d->name), "%s", name);
    pthread_mutex_lock(&w->dmu);
    d->next = w->dests[b];
    w->dests[b] = d;
    w->ndests++;
    pthread_mutex_unlock(&w->dmu);
    return d;
}

/* Forgets destinations idle and healthy for DEST_FORGET_MS (bounds memory
 * and the /metrics series). */
void notify_dest_forget(struct worker *w, int64_t now)
{
    if (now < w->next_forget)
        return;
    w->next_forget = now + 60000;
    pthread_mutex_lock(&w->dmu);
    for (unsigned b = 0; b < DEST_BUCKETS; b++)
        for (struct dest **pp = &w->dests[b]; *pp;) {
            struct dest *d = *pp;
            if (!d->in_flight && !d->queued && d->br.state == NOTIFY_BREAKER_CLOSED &&
                !d->br.failures && now - d->last_used > DEST_FORGET_MS) {
                *pp = d->next;
                free(d);
                w->ndests--;
            } else {
                pp = &d->next;
            }
        }
    pthread_mutex_unlock(&w->dmu);
}

/* ---- starting and finishing transfers ------------------------------------------------ */

/* Not sent: the breaker is open.  A failed attempt, due again at its
 * backoff or when the breaker lets a probe through, whichever is later. */
static void skip(struct worker *w, struct dest *d, struct job *j, int64_t now)
{
    struct delivery res;
    memset(&res, 0, sizeof(res));
    int64_t left = d->br.open_until - now;
    snprintf(res.error, sizeof(res.error),
             "not sent: circuit open for %.120s after repeated failures (next probe in %lld s)",
             d->name, (long long)((left > 0 ? left : 0) + 999) / 1000);
    j->skipped = true;
    j->at = notify_wall_ms();
    w->n->skipped++;
    notify_judge(w, j, &res, notify_wall_ms() + (left > 0 ? left : 0));
    notify_conclude(w, j);
}

/* Starts j's transfer (the gate said go); one that cannot start is
 * concluded as a failed attempt. */
static void start(struct worker *w, struct dest *d, struct job *j, bool probe)
{
    struct delivery res;
    j->probe = probe;
    j->at = notify_wall_ms();
    j->t0 = notify_mono_ms();
    if (prepare(w->n, j, &res) < 0) {
        pthread_mutex_lock(&w->dmu);
        if (probe)
            notify_breaker_probe_abandoned(&d->br);
        pthread_mutex_unlock(&w->dmu);
        notify_judge(w, j, &res, 0);
        notify_conclude(w, j);
        return;
    }
    if (curl_multi_add_handle(w->multi, j->x.easy) != CURLM_OK) {
        pthread_mutex_lock(&w->dmu);
        if (probe)
            notify_breaker_probe_abandoned(&d->br);
        pthread_mutex_unlock(&w->dmu);
        memset(&res, 0, sizeof(res));
        snprintf(res.error, sizeof(res.error), "cannot start the transfer");
        notify_judge(w, j, &res, 0);
        notify_conclude(w, j);
        return;
    }
    j->d = d;
    j->next = w->running;
    w->running = j;
    pthread_mutex_lock(&w->dmu);
    d->in_flight++;
    d->last_used = j->t0;
    pthread_mutex_unlock(&w->dmu);
    w->in_flight++;
}

enum admit { ADMIT_STARTED, ADMIT_SKIPPED, ADMIT_FULL };

/* Runs j now if its destination admits it. */
static enum admit admit(struct worker *w, struct dest *d, struct job *j, int64_t now)
{
    pthread_mutex_lock(&w->dmu);
    enum notify_gate g = d->in_flight >= w->n->o.per_destination
                             ? NOTIFY_GATE_WAIT
                             : notify_breaker_gate(&d->br, now);
    pthread_mutex_unlock(&w->dmu);
    switch (g) {
    case NOTIFY_GATE_GO:
    case NOTIFY_GATE_PROBE:
        start(w, d, j, g == NOTIFY_GATE_PROBE);
        return ADMIT_STARTED;
    case NOTIFY_GATE_OPEN:
        skip(w, d, j, now);
        return ADMIT_SKIPPED;
    case NOTIFY_GATE_WAIT:
        break;
    }
    return ADMIT_FULL;
}

static struct job *dequeue(struct worker *w, struct dest *d)
{
    struct job *j = d->q_head;
    pthread_mutex_lock(&w->dmu);
    d->q_head = j->next;
    if (!d->q_head)
        d->q_tail = NULL;
    d->queued--;
    pthread_mutex_unlock(&w->dmu);
    w->queued_total--;
    j->next = NULL;
    return j;
}

/* Starts what d's queue can start now. */
static void drain(struct worker *w, struct dest *d, int64_t now)
{
    while (d->q_head) {
        struct job *j = dequeue(w, d);
        if (admit(w, d, j, now) != ADMIT_FULL)
            continue;
        pthread_mutex_lock(&w->dmu);        /* not yet: back at the head */
        j->next = d->q_head;
        d->q_head = j;
        if (!d->q_tail)
            d->q_tail = j;
        d->queued++;
        pthread_mutex_unlock(&w->dmu);
        w->queued_total++;
        return;
    }
}

/* A claimed row: started, skipped, queued at its destination, or given
 * back for later when the destination's queue is full. */
void notify_dispatch(struct worker *w, struct job *j, int64_t now)
{
    char name[NOTIFY_DEST_MAX];
    /* a pager row's recipient is a routing key: its destination is PagerDuty */
    notify_destination(w->ch == NOTIFY_PAGER ? NOTIFY_WEBHOOK : w->ch,
                       w->ch == NOTIFY_PAGER ? w->n->o.pagerduty_events_url : j->row.recipient,
                       w->n->o.smtp_url, name);
    struct dest *d = dest_get(w, name);
    if (!d->q_head && admit(w, d, j, now) != ADMIT_FULL)
        return;
    int per = w->n->o.per_destination;
    if (d->queued < per && w->queued_total < w->n->o.max_in_flight) {
        j->next = NULL;
        pthread_mutex_lock(&w->dmu);
        if (d->q_tail)
            d->q_tail->next = j;
        else
            d->q_head = j;
        d->q_tail = j;
        d->queued++;
        pthread_mutex_unlock(&w->dmu);
        w->queued_total++;
        return;
    }
    /* full: back to the outbox, due when the destination is likely through
     * what it holds now */
    int64_t later = notify_give_back_ms(d->avg_ms, d->in_flight + d->queued, per,
                                        w->n->o.timeout_ms);
    notify_give_back(w, j, notify_wall_ms() + later);
    notify_job_free(j);
}

/* Queued rows whose lease is half gone go back to the outbox (due now):
 * waiting longer could let another node take them while we still hold
 * them. */
void notify_expire_queued(struct worker *w, int64_t now)
{
    if (!w->queued_total)
        return;
    int64_t limit = w->n->o.lease_ms / 2;
    for (unsigned b = 0; b < DEST_BUCKETS; b++)
        for (struct dest *d = w->dests[b]; d; d = d->next)
            while (d->q_head && now - d->q_head->claimed > limit) {
                struct job *j = dequeue(w, d);
                notify_give_back(w, j, notify_wall_ms());
                notify_job_free(j);
            }
}

/* Transfers that finished: judged, recorded, their destinations' breakers
 * told, and the next rows of those destinations started. */
void notify_finish(struct worker *w)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(w->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *easy = m->easy_handle;
        CURLcode code = m->data.result;
        struct job **pp = &w->running, *j = NULL;
        for (; *pp; pp = &(*pp)->next)
            if ((*pp)->x.easy == easy) {
                j = *pp;
                *pp = j->next;
                break;
            }
        curl_multi_remove_handle(w->multi, easy);
        if (!j)
            continue;
        w->in_flight--;
        struct delivery res;
        notify_xfer_result(&j->x, code, &res);
        struct dest *d = j->d;
        int64_t now = notify_mono_ms();
        int64_t took = now - j->t0;
        bool was_open;
        pthread_mutex_lock(&w->dmu);
        d->in_flight--;
        if (took < 1)
            took = 1;           /* avg_ms 0 means "none yet" */
        d->avg_ms = d->avg_ms ? (d->avg_ms * 3 + took) / 4 : took;
        was_open = d->br.state != NOTIFY_BREAKER_CLOSED;
        notify_breaker_result(&d->br, &w->n->bcfg, j->probe, res.dest_down, now);
        bool opened = !was_open && d->br.state == NOTIFY_BREAKER_OPEN;
        bool reopened = was_open && j->probe && d->br.state == NOTIFY_BREAKER_OPEN;
        bool closed = was_open && d->br.state == NOTIFY_BREAKER_CLOSED;
        int64_t cool = d->br.open_until - now;
        pthread_mutex_unlock(&w->dmu);
        if (opened || reopened)
            log_warn("notify: %s destination %s: %s; breaker open, nothing sent there for "
                     "%lld ms", notify_channel_name(w->ch), d->name,
                     reopened ? "the probe failed too" : "failing again and again",
                     (long long)cool);
        else if (closed)
            log_info("notify: %s destination %s answers again: breaker closed",
                     notify_channel_name(w->ch), d->name);
        notify_xfer_release(&j->x);
        notify_judge(w, j, &res, 0);
        notify_conclude(w, j);
        drain(w, d, now);
    }
}

/* The dashboards of every node: a signal through the store (NOTIFY on
 * PostgreSQL), which each node's hub queues for the tenant's clients. */
void notify_deliver_websocket(struct worker *w, struct job *j)
{
    struct delivery res;
    memset(&res, 0, sizeof(res));
    j->at = notify_wall_ms();
    j->t0 = notify_mono_ms();
    if (!j->row.notice) {
        snprintf(res.error, sizeof(res.error), "the row has no notice");
    } else {
        /* to the dashboards on every node, this one included */
        int rc = store_live_publish(w->n->store, j->row.tenant_id, j->row.notice);
        if (rc == 0)
            res.ok = true;
        else
            snprintf(res.error, sizeof(res.error), "live publish: %s", sw_strerror(rc));
    }
    notify_judge(w, j, &res, 0);
    notify_conclude(w, j);
}

/* Whether this worker holds row id already: its lease ran out while we
 * still send it (a transfer longer than notify_lease_ms) and the claim
 * gave it back to us.  Sending it twice from here would help nobody. */
bool notify_holding(struct worker *w, int64_t id)
{
    for (struct job *j = w->running; j; j = j->next)
        if (j->row.id == id)
            return true;
    for (struct job *j = w->unrecorded; j; j = j->next)
        if (j->row.id == id)
            return true;
    if (!w->queued_total)
        return false;
    for (unsigned b = 0; b < DEST_BUCKETS; b++)
        for (struct dest *d = w->dests[b]; d; d = d->next)
            for (struct job *j = d->q_head; j; j = j->next)
                if (j->row.id == id)
                    return true;
    return false;
}

/* Everything this worker holds goes back to the outbox (stopping). */
void notify_drain_out(struct worker *w)
{
    int64_t now = notify_wall_ms();
    while (w->running) {
        struct job *j = w->running;
        w->running = j->next;
        curl_multi_remove_handle(w->multi, j->x.easy);
        w->in_flight--;
        notify_give_back(w, j, now);
        notify_job_free(j);
    }
    for (unsigned b = 0; b < DEST_BUCKETS; b++)
        for (struct dest *d = w->dests[b]; d; d = d->next)
            while (d->q_head) {
                struct job *j = dequeue(w, d);
                notify_give_back(w, j, now);
                notify_job_free(j);
            }
    notify_give_back_flush(w);
    notify_flush_unrecorded(w);
    while (w->unrecorded) {     /* the store still refuses: the lease brings them back */
        struct job *j = w->unrecorded;
        w->unrecorded = j->next;
        notify_job_free(j);
    }
}
