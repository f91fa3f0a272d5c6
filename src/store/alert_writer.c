/* alert_writer.c: creating alerts (store_alerts.h create, create_async,
 * create_many), the subject's hot path.
 *
 * Group commit.  A commit is an fsync (SQLite synchronous=FULL, PostgreSQL
 * synchronous_commit), so one transaction per single-alert POST would cap
 * ingest at the disk's fsync rate.  Single creates therefore go to the
 * store's alert writer: one thread that takes everything queued, writes it
 * in one transaction, commits once, then hands each caller its own result
 * (a callback: the HTTP handler's connection is suspended meanwhile, so no
 * server thread waits; create() waits on its own condition variable).
 * While it commits, new requests queue and the next batch takes them all,
 * so the batch grows with the load and an answer never precedes its
 * commit.  If a batch fails, its items are retried one transaction each,
 * so one bad row cannot fail the others.  On SQLite (one writer at a
 * time) the writer and bulk batches queue on a process-local mutex rather
 * than in the driver's busy handler.
 *
 * Idempotence.  INSERT ... ON CONFLICT DO NOTHING, then the stored row is
 * read: two nodes creating the same alert at once both succeed, one
 * CREATED and one DUPLICATE (PostgreSQL makes the second insert wait for
 * the first's commit).  Deadlocks between two nodes' batches are retried
 * by db_tx.  The scheduler hint goes once per transaction, with the
 * earliest instant created. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/alerts_int.h"
#include "store/rollups_int.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define BATCH_ROWS 10000
#define WRITERS_MAX 2
/* How often an extra writer asks whether other nodes share the database. */
#define SOLO_CHECK_MS 1000

/* ---- one alert inside a transaction ----------------------------------------- */

/* Policies seen in the current transaction, by (tenant, project). */
#define PCACHE_SLOTS 16

struct pcache {
    struct {
        char tenant_id[SW_ID_MAX + 1];
        char project_id[SW_ID_MAX + 1];
        int rc;                         /* alert_policy_load_in's result */
        struct sw_alert_policy p;
    } e[PCACHE_SLOTS];
    size_t n, next;
    int64_t min_next;   /* earliest next_check_at created (0 = none): the scheduler's hint */
    struct cal_memo cals;   /* calendars looked up in this transaction */
    struct alert_volume *vol;   /* the alerts created, for their day's volume */
};

static struct pcache *pcache_new(void)
{
    struct pcache *pc = xmalloc(sizeof(*pc));
    pc->vol = alert_volume_new();
    return pc;
}

static void pcache_free(struct pcache *pc)
{
    alert_volume_free(pc->vol);
    free(pc);
}

/* A new transaction must not trust what a rolled-back one read. */
static void pcache_reset(struct pcache *pc)
{
    pc->n = pc->next = 0;
    pc->min_next = 0;
    pc->cals = (struct cal_memo){0};
    alert_volume_reset(pc->vol);
}

static int pcache_get(struct db_conn *c, struct pcache *pc, const char *tenant_id,
                      const char *project_id, const struct sw_alert_policy **out)
{
    if (!project_id)
        project_id = "";
    for (size_t i = 0; i < pc->n; i++) {
        if (strcmp(pc->e[i].tenant_id, tenant_id) == 0 &&
            strcmp(pc->e[i].project_id, project_id) == 0) {
            *out = &pc->e[i].p;
            return pc->e[i].rc;
        }
    }
    size_t k = pc->n < PCACHE_SLOTS ? pc->n++ : (pc->next++ % PCACHE_SLOTS);
    int rc = alert_policy_load_in(c, tenant_id, project_id, ALERT_LOCK_SHARE, &pc->e[k].p);
    if (rc < 0) {
        if (k == pc->n - 1)
            pc->n--;    /* failures of the store are not cached */
        return rc;
    }
    snprintf(pc->e[k].tenant_id, sizeof(pc->e[k].tenant_id), "%s", tenant_id);
    snprintf(pc->e[k].project_id, sizeof(pc->e[k].project_id), "%s", project_id);
    pc->e[k].rc = rc;
    *out = &pc->e[k].p;
    return rc;
}

/* The history of a new alert: its acknowledgement and resolution as
 * events at their instants, the rollups of its stopped clocks, and a
 * breach row for each clock that breached before it reached us (the
 * scheduler writes the others when it sees them), appended to br[*nbr]
 * (room for two) for the chunk to write in one go. */
static int history_in(struct db_conn *c, const struct sw_alert *x, const char *actor,
                      struct alert_breach *br, size_t *nbr)
{
    static const char data[] = "{\"history\":true}";
    int rc = 0;
    if (x->a.acknowledged_at)
        rc = store_alert_event_add_in(c, x, "acknowledged", actor, x->a.acknowledged_at, data,
                                      NULL);
    if (rc == 0 && x->a.resolved_at)
        rc = store_alert_event_add_in(c, x, "resolved", actor, x->a.resolved_at, data, NULL);
    if (rc == 0 && (sla_clock_is_stopped(&x->a.ack) || sla_clock_is_stopped(&x->a.resolve)))
        rc = store_rollup_change_in(c, NULL, x);
    const struct { const char *name; const struct sla_clock *k; bool breached; } cl[] = {
        {"ack", &x->a.ack, x->a.ack_alarm.breach_fired},
        {"resolve", &x->a.resolve, x->a.resolve_alarm.breach_fired},
    };
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        if (!cl[i].breached)
            continue;
        int64_t due = sla_clock_due(cl[i].k, x->updated_at);
        br[(*nbr)++] = (struct alert_breach){x->tenant_id, x->id, x->a.sev, cl[i].name, due,
                                             due + 1};
    }
    return rc;
}

/* A tracked alert, as its source now sees it (in->state since
 * in->state_at): the step sla_alert_sync takes, its events, in the row's
 * lock.  *res: DUPLICATE when nothing changed. */
static int sync_in(struct db_conn *c, struct pcache *pc, const struct sw_alert_new *in,
                   int64_t now, const char *actor, struct sw_alert *x, enum sw_alert_result *res)
{
    int rc = store_alert_get_in(c, in->tenant_id, in->id, true, x);
    if (rc < 0)
        return rc;
    struct sw_alert before = *x;
    unsigned done = 0;
    if (sla_alert_sync(&x->a, in->state, in->state_at, now, &done) < 0 || !done) {
        *x = before;
        *res = SW_ALERT_DUPLICATE;
        return 0;
    }
    /* reopened: the resolved interval is a pause; running clocks follow
     * the calendar the definition names now */
    const struct sw_alert_policy *p;
    if ((done & SLA_SYNC_REOPENED) &&
        ((rc = pcache_get(c, pc, x->tenant_id, x->project_id, &p)) < 0 ||
         (rc == 0 && ((rc = alert_pauses_record_in(c, &before, x)) < 0 ||
                      (rc = alert_follow_calendar_in(c, &pc->cals, x, p, now, NULL)) < 0))))
        return rc;
    int64_t hint_at = SLA_NEVER;
    if ((rc = alert_save_change_in(c, &before, x, now, &hint_at)) < 0)
        return rc;
    static const char data[] = "{\"via\":\"sync\"}";
    if (done & SLA_SYNC_REOPENED)
        rc = store_alert_event_add_in(c, x, "reopened", actor, x->a.resolve.last_event_at, data,
                                      NULL);
    if (rc == 0 && (done & SLA_SYNC_ACKNOWLEDGED))
        rc = store_alert_event_add_in(c, x, "acknowledged", actor, x->a.acknowledged_at, data,
                                      NULL);
    if (rc == 0 && (done & SLA_SYNC_RESOLVED))
        rc = store_alert_event_add_in(c, x, "resolved", actor, x->a.resolved_at, data, NULL);
    if (rc < 0)
        return rc;
    *res = (done & SLA_SYNC_REOPENED)   ? SW_ALERT_REOPENED
         : (done & SLA_SYNC_RESOLVED)   ? SW_ALERT_RESOLVED
                                        : SW_ALERT_ACKNOWLEDGED;
    if (!pc->min_next || hint_at < pc->min_next)
        pc->min_next = hint_at;
    return 0;
}

/* One create of a chunk: what to create and where its outcome goes. */
struct create_req {
    const struct sw_alert_new *in;
    int64_t now;
    const char *actor;
    struct sw_alert *out;               /* NULL: duplicates are not read (bulk) */
    enum sw_alert_result *res;
};

/* Creates up to ALERT_INSERT_MAX alerts in key order: their rows in
 * multi-row INSERTs, then the `created` events of those inserted, so a
 * chunk costs a few statements (round trips on PostgreSQL) rather than two
 * per alert.  Each *res set; negative = store error (the transaction rolls
 * back). */
static int create_chunk_in(struct db_conn *c, struct pcache *pc, const struct create_req *v,
                           size_t n)
{
    struct sw_alert *xs = xcalloc(n, sizeof(*xs));
    struct sw_alert **row = xmalloc(n * sizeof(*row));
    size_t *of = xmalloc(n * sizeof(*of));      /* row k is the create v[of[k]] */
    bool *created = xmalloc(n * sizeof(*created));
    struct sw_event *ev = xmalloc(n * sizeof(*ev));
    const struct sw_event **evp = xmalloc(n * sizeof(*evp));
    char (*data)[192] = xmalloc(n * sizeof(*data));
    struct alert_breach *br = xmalloc(2 * n * sizeof(*br));
    size_t m = 0, ne = 0, nbr = 0;
    struct alert_th th = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sw_alert_new *in = v[i].in;
        const struct sw_alert_policy *p;
        rc = pcache_get(c, pc, in->tenant_id, in->project_id, &p);
        if (rc < 0)
            goto done;
        if (rc > 0) {
            *v[i].res = (enum sw_alert_result)rc;
            rc = 0;
            continue;
        }
        struct sla_alert_scopes sc;
        sw_alert_policy_scopes(p, &sc);
        struct sw_alert *x = &xs[m];
        rc = sla_alert_init(&x->a, in->sev, in->created_at ? in->created_at : v[i].now, &sc);
        /* on its calendar before anything is judged */
        if (rc == 0) {
            snprintf(x->tenant_id, sizeof(x->tenant_id), "%s", in->tenant_id);
            if ((rc = alert_calendar_start_in(c, &pc->cals, x, p)) < 0)
                goto done;
        }
        /* the history rule: what was due by now happened before we knew
         * (at the tenant's thresholds when it set a list) */
        if (rc == 0 && (rc = alert_th_load_in(c, &th, in->tenant_id)) < 0)
            goto done;
        if (rc == 0)
            rc = sla_alert_ingest(&x->a, in->acknowledged_at, in->resolved_at, v[i].now);
        if (rc == 0 && th.list) {
            x->a.ack_alarm = sla_alarm_past(&x->a.ack, th.t.v, th.t.n, v[i].now);
            x->a.resolve_alarm = sla_alarm_past(&x->a.resolve, th.t.v, th.t.n, v[i].now);
        }
        if (rc == SW_E_INVAL) {
            *v[i].res = SW_ALERT_INVALID;
            memset(x, 0, sizeof(*x));
            rc = 0;
            continue;
        }
        if (rc < 0)
            goto done;
        snprintf(x->tenant_id, sizeof(x->tenant_id), "%s", in->tenant_id);
        snprintf(x->id, sizeof(x->id), "%s", in->id);
        snprintf(x->project_id, sizeof(x->project_id), "%s", in->project_id ? in->project_id : "");
        snprintf(x->title, sizeof(x->title), "%s", in->title ? in->title : "");
        snprintf(x->source, sizeof(x->source), "%s", in->source ? in->source : "");
        x->updated_at = v[i].now;
        x->next_check_at = store_alert_next_check(&x->a, &th, v[i].now);
        row[m] = x;
        of[m++] = i;
    }
    if ((rc = alert_insert_many_in(c, row, m, created)) < 0)
        goto done;
    for (size_t k = 0; k < m; k++) {
        if (!created[k])
            continue;
        alert_due_json(row[k], NULL, data[ne], sizeof(data[ne]));
        alert_event_fill(&ev[ne], row[k], "created", v[of[k]].actor, row[k]->a.created_at,
                         data[ne]);
        evp[ne] = &ev[ne];
        ne++;
    }
    if ((rc = store_event_add_many_in(c, evp, ne)) < 0)
        goto done;
    for (size_t k = 0; k < m; k++) {
        const struct create_req *r = &v[of[k]];
        if (!created[k] && r->in->sync) {
            /* tracked already: as its source now sees it */
            if ((rc = sync_in(c, pc, r->in, r->now, r->actor, row[k], r->res)) < 0)
                goto done;
            if (r->out)
                *r->out = *row[k];
            continue;
        }
        if (!created[k]) {
            *r->res = SW_ALERT_DUPLICATE;
            if (r->out && (rc = store_alert_get_in(c, r->in->tenant_id, r->in->id, false,
                                                   r->out)) < 0)
                goto done;
            continue;
        }
        if ((rc = history_in(c, row[k], r->actor, br, &nbr)) < 0)
            goto done;
        *r->res = SW_ALERT_CREATED;
        alert_volume_add(pc->vol, row[k]);
        if (!pc->min_next || row[k]->next_check_at < pc->min_next)
            pc->min_next = row[k]->next_check_at;
        if (r->out)
            *r->out = *row[k];
    }
    rc = alert_breach_rows_in(c, br, nbr);
done:
    free(br);
    free(xs);
    free(row);
    free(of);
    free(created);
    free(ev);
    free(evp);
    free(data);
    return rc;
}

/* ---- key order ----------------------------------------------------------------- */

/* Every transaction inserts its alerts in (tenant, id) order, so two nodes'
 * batches over the same keys wait for one another instead of deadlocking. */
static int key_cmp(const struct sw_alert_new *x, const struct sw_alert_new *y)
{
    int c = strcmp(x->tenant_id, y->tenant_id);
    return c ? c : strcmp(x->id, y->id);
}

/* ---- the writer ----------------------------------------------------------------- */

typedef void (*gc_done_fn)(void *ud, int rc, enum sw_alert_result res);

struct gc_item {
    const struct sw_alert_new *in;
    int64_t now;
    const char *actor;
    struct sw_alert *out;
    enum sw_alert_result res;
    int rc;
    gc_done_fn done;            /* called once, from the writer thread */
    void *ud;
    struct gc_item *next;
};

struct alert_writer;

struct writer_arg {
    struct alert_writer *w;
    int idx;                    /* 0: always writes; above: only on a lone node */
};

struct alert_writer {
    struct sql_store *s;
    pthread_t thread[WRITERS_MAX];
    struct writer_arg arg[WRITERS_MAX];
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* work queued (or stopping) */
    pthread_cond_t idle_cv;     /* an extra writer stood down (stopping wakes it) */
    struct gc_item *head, **tail;
    bool stopping;
    bool serialize;             /* SQLite: writers queue on write_mu */
    pthread_mutex_t write_mu;
};

static void write_lock(struct alert_writer *w)
{
    if (w && w->serialize)
        pthread_mutex_lock(&w->write_mu);
}

static void write_unlock(struct alert_writer *w)
{
    if (w && w->serialize)
        pthread_mutex_unlock(&w->write_mu);
}

struct gc_batch {
    struct gc_item *items;
    size_t max;
    struct pcache *pc;
};

static int gc_tx(struct db_conn *c, void *ud)
{
    struct gc_batch *b = ud;
    pcache_reset(b->pc);
    struct create_req v[ALERT_INSERT_MAX];
    size_t k = 0, n = 0;
    for (struct gc_item *it = b->items; it && k < b->max; it = it->next, k++) {
        v[n++] = (struct create_req){.in = it->in, .now = it->now, .actor = it->actor,
                                     .out = it->out, .res = &it->res};
        if (n == ALERT_INSERT_MAX || !it->next || k + 1 == b->max) {
            int rc = create_chunk_in(c, b->pc, v, n);
            if (rc < 0)
                return rc;
            n = 0;
        }
    }
    int rc = alert_volume_flush_in(c, b->pc->vol);
    return rc < 0 ? rc : store_hint_in(c, b->pc->min_next, b->items->now);
}

static int item_cmp(const void *a, const void *b)
{
    const struct gc_item *x = *(const struct gc_item *const *)a;
    const struct gc_item *y = *(const struct gc_item *const *)b;
    int c = key_cmp(x->in, y->in);
    return c ? c : (x < y ? -1 : x > y);
}

/* The batch relinked in key order. */
static struct gc_item *gc_sort(struct gc_item *batch)
{
    size_t n = 0;
    for (struct gc_item *it = batch; it; it = it->next)
        n++;
    if (n < 2)
        return batch;
    struct gc_item **v = xmalloc(n * sizeof(*v));
    n = 0;
    for (struct gc_item *it = batch; it; it = it->next)
        v[n++] = it;
    qsort(v, n, sizeof(*v), item_cmp);
    for (size_t i = 0; i + 1 < n; i++)
        v[i]->next = v[i + 1];
    v[n - 1]->next = NULL;
    batch = v[0];
    free(v);
    return batch;
}

/* Writes a batch in one transaction; after a failure, each item alone. */
static void gc_run(struct sql_store *s, struct alert_writer *w, struct gc_item *batch)
{
    struct gc_batch b = {.items = batch, .max = SIZE_MAX, .pc = pcache_new()};
    write_lock(w);
    int rc = db_tx(s->db, DB_TX_WRITE, gc_tx, &b);
    if (rc < 0 && batch->next) {
        /* one item's failure must not fail its neighbours */
        for (struct gc_item *it = batch; it; it = it->next) {
            struct gc_batch one = {.items = it, .max = 1, .pc = b.pc};
            it->rc = db_tx(s->db, DB_TX_WRITE, gc_tx, &one);
        }
    } else {
        for (struct gc_item *it = batch; it; it = it->next)
            it->rc = rc;
    }
    write_unlock(w);
    pcache_free(b.pc);
}

/* An extra writer (idx > 0) writes only while this node is the only one on
 * the database, asked at most every SOLO_CHECK_MS.  Every batch takes the
 * tenant's counter rows and chain head until its COMMIT, so one tenant's
 * batches commit one at a time across all nodes: with two writers on each
 * of two nodes, four small batches queued for the same rows instead of two
 * larger ones, and the database's CPU per alert went up by half (bench/
 * cluster: two nodes 0.76 x one node; with one writer each, 1.0 x).
 * Returns with w->mu held; false: stand down (the caller waits). */
static bool writer_may_write(struct alert_writer *w, int idx, int64_t *next_check, bool *solo)
{
    if (idx == 0)
        return true;
    if (sw_mono_ms() >= *next_check) {
        pthread_mutex_unlock(&w->mu);
        *solo = db_node_count(w->s->db) <= 1;     /* an error counts as alone */
        pthread_mutex_lock(&w->mu);
        *next_check = sw_mono_ms() + SOLO_CHECK_MS;
    }
    return *solo;
}

/* Takes everything queued, writes it in one transaction, commits once,
 * then tells each caller its own result.  On stop it drains the queue. */
static void *writer_main(void *arg)
{
    struct writer_arg *a = arg;
    struct alert_writer *w = a->w;
    int64_t next_check = 0;
    bool solo = true;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        if (!w->head)
            break;              /* stopping, and nothing left */
        if (!w->stopping && !writer_may_write(w, a->idx, &next_check, &solo)) {
            /* the wake-up was meant for a writer: pass it on, then sit out
             * until the next check (the first writer drains on stop) */
            pthread_cond_signal(&w->cv);
            struct timespec until = sw_deadline_ms(CLOCK_REALTIME, next_check - sw_mono_ms());
            while (!w->stopping &&
                   pthread_cond_timedwait(&w->idle_cv, &w->mu, &until) != ETIMEDOUT)
                ;
            continue;
        }
        if (!w->head)
            continue;           /* taken while writer_may_write asked the database */
        struct gc_item *batch = w->head;
        w->head = NULL;
        w->tail = &w->head;
        pthread_mutex_unlock(&w->mu);
        batch = gc_sort(batch);
        gc_run(w->s, w, batch);
        for (struct gc_item *it = batch, *next; it; it = next) {
            next = it->next;    /* the item may be freed by its callback */
            it->done(it->ud, it->rc, it->res);
        }
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* SQLite has one writer at a time, so one thread.  On PostgreSQL two:
 * while one batch waits for its COMMIT (and for the rows both batches
 * update: the day's counters and the tenant's chain head, locked in one
 * order by every writer), the next one already runs its inserts, so the
 * round trips of two batches overlap instead of adding up.  The second
 * stands down while other nodes share the database (writer_may_write). */
static int writer_threads(struct sql_store *s)
{
    return db_dialect(s->db) == DB_SQLITE ? 1 : WRITERS_MAX;
}

static void writer_stop(struct alert_writer *w)
{
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_cond_broadcast(&w->idle_cv);
    pthread_mutex_unlock(&w->mu);
    for (int i = 0; i < w->nthreads; i++)
        pthread_join(w->thread[i], NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->idle_cv);
    pthread_mutex_destroy(&w->write_mu);
    free(w);
}

struct alert_writer *store_alert_writer_new(struct sql_store *s)
{
    struct alert_writer *w = xcalloc(1, sizeof(*w));
    w->s = s;
    w->tail = &w->head;
    w->serialize = db_dialect(s->db) == DB_SQLITE;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    pthread_cond_init(&w->idle_cv, NULL);
    pthread_mutex_init(&w->write_mu, NULL);
    for (int i = 0; i < writer_threads(s); i++) {
        w->arg[i] = (struct writer_arg){w, i};
        if (pthread_create(&w->thread[i], NULL, writer_main, &w->arg[i]) != 0)
            break;
        w->nthreads++;
    }
    if (w->nthreads == 0) {
        writer_stop(w);
        return NULL;    /* creates then write synchronously, one each */
    }
    return w;
}

void store_alert_writer_free(struct alert_writer *w)
{
    if (w)
        writer_stop(w);
}

static void gc_submit(struct sql_store *s, struct gc_item *it)
{
    struct alert_writer *w = s->alert_writer;
    if (!w) {
        gc_run(s, NULL, it);
        it->done(it->ud, it->rc, it->res);
        return;
    }
    pthread_mutex_lock(&w->mu);
    *w->tail = it;
    w->tail = &it->next;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* ---- create, asynchronous: the HTTP handler's path -------------------------------- */

struct async_create {
    struct gc_item item;
    void (*cb)(void *ud, int rc, enum sw_alert_result res);
    void *ud;
};

static void async_done(void *ud, int rc, enum sw_alert_result res)
{
    struct async_create *a = ud;
    void (*cb)(void *, int, enum sw_alert_result) = a->cb;
    void *cud = a->ud;
    free(a);
    cb(cud, rc, res);
}

int alert_create_async(struct store *base, const struct sw_alert_new *in, int64_t now,
                       const char *actor, struct sw_alert *out,
                       void (*cb)(void *ud, int rc, enum sw_alert_result res), void *ud)
{
    struct async_create *a = xcalloc(1, sizeof(*a));
    a->item = (struct gc_item){.in = in, .now = now, .actor = actor, .out = out,
                               .done = async_done, .ud = a};
    a->cb = cb;
    a->ud = ud;
    gc_submit(sql_of(base), &a->item);
    return 0;
}

/* ---- create, synchronous: waits for the writer ------------------------------------ */

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void sync_done(void *ud, int rc, enum sw_alert_result res)
{
    (void)rc;
    (void)res;
    struct sync_wait *sw = ud;
    pthread_mutex_lock(&sw->mu);
    sw->done = true;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
}

int alert_create(struct store *base, const struct sw_alert_new *in, int64_t now,
                 const char *actor, struct sw_alert *out, enum sw_alert_result *result)
{
    struct sync_wait sw = {.done = false};
    pthread_mutex_init(&sw.mu, NULL);
    pthread_cond_init(&sw.cv, NULL);
    struct gc_item me = {.in = in, .now = now, .actor = actor, .out = out,
                         .done = sync_done, .ud = &sw};
    gc_submit(sql_of(base), &me);
    pthread_mutex_lock(&sw.mu);
    while (!sw.done)
        pthread_cond_wait(&sw.cv, &sw.mu);
    pthread_mutex_unlock(&sw.mu);
    pthread_mutex_destroy(&sw.mu);
    pthread_cond_destroy(&sw.cv);
    if (me.rc == 0)
        *result = me.res;
    return me.rc;
}

/* ---- bulk ---------------------------------------------------------------------------- */

struct bulk {
    const struct sw_alert_new *in;
    size_t *order;              /* in[order[off..end)], in key order */
    size_t off, end;
    int64_t now;
    const char *actor;
    enum sw_alert_result *results;
    struct pcache *pc;
};

static int bulk_tx(struct db_conn *c, void *ud)
{
    struct bulk *b = ud;
    pcache_reset(b->pc);      /* policies may change between transactions */
    struct create_req v[ALERT_INSERT_MAX];
    size_t n = 0;
    for (size_t k = b->off; k < b->end; k++) {
        size_t i = b->order[k];
        v[n++] = (struct create_req){.in = &b->in[i], .now = b->now, .actor = b->actor,
                                     .res = &b->results[i]};
        if (n == ALERT_INSERT_MAX || k + 1 == b->end) {
            int rc = create_chunk_in(c, b->pc, v, n);
            if (rc < 0)
                return rc;
            n = 0;
        }
    }
    int rc = alert_volume_flush_in(c, b->pc->vol);
    return rc < 0 ? rc : store_hint_in(c, b->pc->min_next, b->now);
}

static int index_cmp(const void *a, const void *b, void *base)
{
    const struct sw_alert_new *in = base;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = key_cmp(&in[i], &in[j]);
    return c ? c : (i < j ? -1 : i > j);    /* the first of two equal keys creates */
}

int alert_create_many(struct store *base, const struct sw_alert_new *in, size_t n, int64_t now,
                      const char *actor, enum sw_alert_result *results)
{
    struct sql_store *s = sql_of(base);
    struct bulk b = {.in = in, .now = now, .actor = actor, .results = results,
                     .pc = pcache_new()};
    b.order = xmalloc((n ? n : 1) * sizeof(*b.order));
    for (size_t i = 0; i < n; i++)
        b.order[i] = i;
    int rc = 0;
    for (size_t off = 0; off < n && rc == 0; off += BATCH_ROWS) {
        b.off = off;
        b.end = n - off > BATCH_ROWS ? off + BATCH_ROWS : n;
        qsort_r(b.order + b.off, b.end - b.off, sizeof(*b.order), index_cmp, (void *)in);
        write_lock(s->alert_writer);
        rc = db_tx(s->db, DB_TX_BULK, bulk_tx, &b);
        write_unlock(s->alert_writer);
    }
    free(b.order);
    pcache_free(b.pc);
    return rc;
}
