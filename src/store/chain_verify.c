/* chain_verify.c: checking the hash chains and exporting them
 * (store_proof.h); the format is chain_int.h's, the appending chain.c's.
 *
 * Verify walks each chain in seq order over one snapshot (a read
 * transaction), rebuilding every record from its row and hashing it into
 * the chain, and stops at the first record that does not hold:
 *   deleted    a link whose row is gone, a gap in seq, or fewer links
 *              than the head counts;
 *   altered    the row's digest does not give the stored hash;
 *   reordered  it does, but after another record than the one before it
 *              (two links swapped, a row moved);
 *   head       the links hold but the head names another last hash;
 *   inserted   a row that is on no chain (written around the store).
 * Tamper-evident, not tamper-proof: whoever can write the database can
 * also recompute every hash after the record they change.  What catches
 * that is a head kept elsewhere (docs/audit.md: an auditor keeps the last
 * line of each export and checks it is still in the next one). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/chain_int.h"
#include "store/proof_int.h"
#include "util/xalloc.h"

#define BATCH 1000

static const char SQL_HEADS_ALL[] =
    "SELECT log, tenant_id, seq, hash, started_at, adopted FROM chain_heads "
    "ORDER BY log, tenant_id";
static const char SQL_HEADS_TENANT[] =
    "SELECT log, tenant_id, seq, hash, started_at, adopted FROM chain_heads "
    "WHERE tenant_id = ?1 ORDER BY log, tenant_id";

#define WALK(table, cols)                                                             \
    "SELECT l.seq, l.hash, r.id IS NULL, " cols " FROM chain_links l "              \
    "LEFT JOIN " table " r ON r.id = l.row_id "                                      \
    "WHERE l.log = ?1 AND l.tenant_id = ?2 AND l.seq > ?3 ORDER BY l.seq LIMIT ?4"
static const char SQL_WALK_EVENTS[] = WALK("events", CHAIN_EVENT_COLS("r."));
static const char SQL_WALK_AUDIT[] = WALK("audit_log", CHAIN_AUDIT_COLS("r."));
/* row_id too: l.row_id when the row is gone */
static const char SQL_LINK_IDS[] =
    "SELECT seq, row_id, hash FROM chain_links WHERE log = ?1 AND tenant_id = ?2 AND seq > ?3 "
    "ORDER BY seq LIMIT 1000";
static const char SQL_LINK_HASH[] =
    "SELECT hash FROM chain_links WHERE log = ?1 AND tenant_id = ?2 AND seq = ?3";

static const char SQL_COUNT_EVENTS_ALL[] = "SELECT count(*) FROM events";
static const char SQL_COUNT_EVENTS_TENANT[] = "SELECT count(*) FROM events WHERE tenant_id = ?1";
static const char SQL_COUNT_AUDIT_ALL[] = "SELECT count(*) FROM audit_log";
static const char SQL_COUNT_AUDIT_TENANT[] =
    "SELECT count(*) FROM audit_log WHERE tenant_id = ?1";
static const char SQL_IDS_EVENTS[] =
    "SELECT id, tenant_id FROM events WHERE id > ?1 ORDER BY id LIMIT 1000";
static const char SQL_IDS_AUDIT[] =
    "SELECT id, tenant_id FROM audit_log WHERE id > ?1 ORDER BY id LIMIT 1000";

/* ---- verify --------------------------------------------------------------- */

struct ids {
    int64_t *v;
    size_t n, cap;
};

static void ids_add(struct ids *a, int64_t id)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = id;
}

static int id_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

struct verify {
    const char *tenant;             /* NULL = every chain */
    struct sw_chain_report *rep;
    size_t n, cap;
    struct ids linked[CHAIN_LOG_COUNT];
    bool links_bad[CHAIN_LOG_COUNT];    /* some link lost its row */
    struct chain_text t;
};

static enum chain_log log_of(const char *name)
{
    return !strcmp(name, "audit") ? CHAIN_AUDIT : CHAIN_EVENTS;
}

static void problem(struct sw_chain_report *r, const char *what, int64_t seq, int64_t row_id,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void problem(struct sw_chain_report *r, const char *what, int64_t seq, int64_t row_id,
                    const char *fmt, ...)
{
    if (!r->intact)
        return;                     /* the first one only */
    r->intact = false;
    snprintf(r->problem, sizeof(r->problem), "%s", what);
    r->bad_seq = seq;
    r->bad_row_id = row_id;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
    va_end(ap);
}

/* The seq of the link after which `digest` gives `stored`: where the
 * record really belongs (0 when nowhere: it was altered). */
static int find_predecessor(struct db_conn *c, const struct sw_chain_report *r,
                            const char digest[CHAIN_HEX], const char *stored, int64_t *at)
{
    char h[CHAIN_HEX];
    *at = -1;
    chain_link_hash(chain_genesis, digest, h);
    if (!strcmp(h, stored)) {
        *at = 0;
        return 0;
    }
    int64_t after = 0;
    int rc, got;
    do {
        struct db_stmt *st;
        if ((rc = db_prep(c, SQL_LINK_IDS, &st)) < 0)
            return rc;
        db_bind_text(st, 1, r->log);
        db_bind_text(st, 2, r->tenant_id);
        db_bind_int64(st, 3, after);
        got = 0;
        while ((rc = db_step(st)) == DB_ROW) {
            got++;
            after = db_col_int64(st, 0);
            chain_link_hash(db_col_text(st, 2), digest, h);
            if (*at < 0 && !strcmp(h, stored))
                *at = after;
        }
        db_reset(st);
    } while (rc >= 0 && got == BATCH && *at < 0);
    return rc < 0 ? rc : 0;
}

/* Walks one chain; r holds its head on entry. */
static int walk(struct db_conn *c, struct verify *v, struct sw_chain_report *r,
                int64_t head_seq)
{
    enum chain_log log = log_of(r->log);
    char prev[CHAIN_HEX], stored[CHAIN_HEX], digest[CHAIN_HEX], h[CHAIN_HEX];
    memcpy(prev, chain_genesis, CHAIN_HEX);
    int64_t expect = 1;
    int rc, got;
    do {
        struct db_stmt *st;
        if ((rc = db_prep(c, log == CHAIN_AUDIT ? SQL_WALK_AUDIT : SQL_WALK_EVENTS, &st)) < 0)
            return rc;
        db_bind_text(st, 1, r->log);
        db_bind_text(st, 2, r->tenant_id);
        db_bind_int64(st, 3, expect - 1);
        db_bind_int64(st, 4, BATCH);
        got = 0;
        int64_t bad_seq = 0;
        while ((rc = db_step(st)) == DB_ROW) {
            got++;
            int64_t seq = db_col_int64(st, 0);
            db_col_copy(st, 1, stored, sizeof(stored));
            if (seq != expect) {
                problem(r, "deleted", expect, 0, "records %lld to %lld of the chain are "
                        "missing (their links were deleted)", (long long)expect,
                        (long long)seq - 1);
                break;
            }
            if (db_col_int64(st, 2) != 0) {
                bad_seq = seq;          /* the row is gone: its id from the link below */
                break;
            }
            struct chain_row row;
            chain_row_read(st, 3, &row);
            ids_add(&v->linked[log], row.id);
            chain_record(&v->t, log, &row);
            chain_digest(v->t.p, v->t.n, digest);
            chain_link_hash(prev, digest, h);
            if (strcmp(h, stored)) {
                int64_t at;
                db_reset(st);
                if ((rc = find_predecessor(c, r, digest, stored, &at)) < 0)
                    return rc;
                if (at >= 0 && at != seq - 1)
                    problem(r, "reordered", seq, row.id, "record id %lld sits at seq %lld but "
                            "was chained after seq %lld", (long long)row.id, (long long)seq,
                            (long long)at);
                else
                    problem(r, "altered", seq, row.id, "record id %lld (seq %lld) was changed "
                            "after it was chained", (long long)row.id, (long long)seq);
                return 0;
            }
            memcpy(prev, h, CHAIN_HEX);
            r->records++;
            expect++;
        }
        db_reset(st);
        if (rc < 0)
            return rc;
        if (bad_seq) {
            if ((rc = db_prep(c, SQL_LINK_IDS, &st)) < 0)
                return rc;
            db_bind_text(st, 1, r->log);
            db_bind_text(st, 2, r->tenant_id);
            db_bind_int64(st, 3, bad_seq - 1);
            int64_t row_id = 0;
            if ((rc = db_step_one(st)) == 1) {
                row_id = db_col_int64(st, 1);
                db_reset(st);
            }
            v->links_bad[log] = true;
            problem(r, "deleted", bad_seq, row_id, "record id %lld (seq %lld) is gone",
                    (long long)row_id, (long long)bad_seq);
            return rc < 0 ? rc : 0;
        }
    } while (got == BATCH && r->intact);
    if (!r->intact)
        return 0;
    if (r->records < head_seq)
        problem(r, "deleted", r->records + 1, 0, "the last %lld records (seq %lld to %lld) "
                "are gone", (long long)(head_seq - r->records), (long long)r->records + 1,
                (long long)head_seq);
    else if (r->records > head_seq || strcmp(prev, r->head))
        problem(r, "head", r->records, 0, "the chain ends at %.16s..., its head says %.16s... "
                "(seq %lld)", prev, r->head, (long long)head_seq);
    return 0;
}

static struct sw_chain_report *report_add(struct verify *v, const char *log, const char *tenant)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->rep = xrealloc(v->rep, v->cap * sizeof(*v->rep));
    }
    struct sw_chain_report *r = &v->rep[v->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->log, sizeof(r->log), "%s", log);
    snprintf(r->tenant_id, sizeof(r->tenant_id), "%s", tenant);
    r->intact = true;
    return r;
}

static struct sw_chain_report *report_find(struct verify *v, enum chain_log log,
                                           const char *tenant)
{
    for (size_t i = 0; i < v->n; i++)
        if (log_of(v->rep[i].log) == log && !strcmp(v->rep[i].tenant_id, tenant))
            return &v->rep[i];
    return report_add(v, chain_log_name(log), tenant);
}

/* Rows on no chain: counted first, looked for only when the count differs. */
static int unchained(struct db_conn *c, struct verify *v, enum chain_log log)
{
    static const char *const count_sql[CHAIN_LOG_COUNT][2] = {
        [CHAIN_AUDIT] = {SQL_COUNT_AUDIT_ALL, SQL_COUNT_AUDIT_TENANT},
        [CHAIN_EVENTS] = {SQL_COUNT_EVENTS_ALL, SQL_COUNT_EVENTS_TENANT},
    };
    struct db_stmt *st;
    int rc = db_prep(c, count_sql[log][v->tenant != NULL], &st);
    if (rc < 0)
        return rc;
    if (v->tenant)
        db_bind_text(st, 1, v->tenant);
    if ((rc = db_step_one(st)) != 1)
        return rc < 0 ? rc : SW_E_STORE;
    int64_t rows = db_col_int64(st, 0);
    db_reset(st);
    struct ids *l = &v->linked[log];
    if (l->n > 1)                       /* qsort(NULL, 0) is undefined */
        qsort(l->v, l->n, sizeof(l->v[0]), id_cmp);
    bool complete = true;       /* every chain walked to its end */
    for (size_t i = 0; i < v->n; i++)
        complete &= log_of(v->rep[i].log) != log || v->rep[i].intact;
    if (complete && (int64_t)l->n == rows)
        return 0;
    int64_t after = 0;
    int got;
    do {
        if ((rc = db_prep(c, log == CHAIN_AUDIT ? SQL_IDS_AUDIT : SQL_IDS_EVENTS, &st)) < 0)
            return rc;
        db_bind_int64(st, 1, after);
        got = 0;
        while ((rc = db_step(st)) == DB_ROW) {
            got++;
            after = db_col_int64(st, 0);
            const char *tenant = db_col_text(st, 1);
            if (v->tenant && strcmp(tenant, v->tenant))
                continue;
            if (l->n && bsearch(&after, l->v, l->n, sizeof(l->v[0]), id_cmp))
                continue;
            struct sw_chain_report *r = report_find(v, log, tenant);
            problem(r, "inserted", 0, after, "record id %lld is on no chain (written around "
                    "the store)", (long long)after);
        }
        db_reset(st);
    } while (rc >= 0 && got == BATCH);
    return rc < 0 ? rc : 0;
}

static int verify_tx(struct db_conn *c, struct verify *v)
{
    struct db_stmt *st;
    int rc = db_prep(c, v->tenant ? SQL_HEADS_TENANT : SQL_HEADS_ALL, &st);
    if (rc < 0)
        return rc;
    if (v->tenant)
        db_bind_text(st, 1, v->tenant);
    /* the heads first: the walks run their own statements */
    struct head { int64_t seq; } *heads = NULL;
    size_t nh = 0;
    while ((rc = db_step(st)) == DB_ROW) {
        struct sw_chain_report *r = report_add(v, db_col_text(st, 0), db_col_text(st, 1));
        heads = xrealloc(heads, v->n * sizeof(*heads));
        heads[nh++].seq = db_col_int64(st, 2);
        db_col_copy(st, 3, r->head, sizeof(r->head));
        r->started_at = db_col_int64(st, 4);
        r->adopted = db_col_int64(st, 5);
    }
    db_reset(st);
    for (size_t i = 0; rc >= 0 && i < nh; i++)
        rc = walk(c, v, &v->rep[i], heads[i].seq);
    free(heads);
    for (int log = 0; rc >= 0 && log < CHAIN_LOG_COUNT; log++)
        rc = unchained(c, v, (enum chain_log)log);
    return rc < 0 ? rc : 0;
}

int proof_chain_verify(struct store *base, const char *tenant_id, store_chain_report_cb cb,
                        void *ud)
{
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    struct verify v = {.tenant = tenant_id};
    int rc = db_begin(c, DB_TX_READ);       /* one snapshot: rows, links and heads agree */
    if (rc == 0) {
        rc = verify_tx(c, &v);
        db_rollback(c);
    }
    db_release(c);
    for (size_t i = 0; rc == 0 && i < v.n; i++)
        if (cb(&v.rep[i], ud))
            break;
    free(v.rep);
    for (int i = 0; i < CHAIN_LOG_COUNT; i++)
        free(v.linked[i].v);
    chain_text_free(&v.t);
    return rc;
}

/* ---- export ---------------------------------------------------------------- */

static const char SQL_HEAD_GET[] =
    "SELECT seq FROM chain_heads WHERE log = ?1 AND tenant_id = ?2";

static int export_tx(struct db_conn *c, enum chain_log log, const char *tenant,
                     int64_t after_seq, int64_t limit, store_chain_line_cb cb, void *ud,
                     int64_t *last)
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_HEAD_GET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, chain_log_name(log));
    db_bind_text(st, 2, tenant);
    if ((rc = db_step_one(st)) <= 0)
        return rc < 0 ? rc : SW_E_NOTFOUND;
    db_reset(st);
    char prev[CHAIN_HEX];
    memcpy(prev, chain_genesis, CHAIN_HEX);
    if (after_seq > 0) {
        if ((rc = db_prep(c, SQL_LINK_HASH, &st)) < 0)
            return rc;
        db_bind_text(st, 1, chain_log_name(log));
        db_bind_text(st, 2, tenant);
        db_bind_int64(st, 3, after_seq);
        if ((rc = db_step_one(st)) <= 0)
            return rc < 0 ? rc : SW_E_NOTFOUND;
        db_col_copy(st, 0, prev, sizeof(prev));
        db_reset(st);
    }
    struct chain_text rec = {0}, line = {0};
    int64_t seq = after_seq, left = limit;
    int got;
    do {
        if ((rc = db_prep(c, log == CHAIN_AUDIT ? SQL_WALK_AUDIT : SQL_WALK_EVENTS, &st)) < 0)
            break;
        db_bind_text(st, 1, chain_log_name(log));
        db_bind_text(st, 2, tenant);
        db_bind_int64(st, 3, seq);
        db_bind_int64(st, 4, left < BATCH ? left : BATCH);
        got = 0;
        bool stop = false;
        while (!stop && (rc = db_step(st)) == DB_ROW) {
            got++;
            left--;
            seq = db_col_int64(st, 0);
            const char *hash = db_col_text(st, 1);
            const char *rtext = "null";     /* the row is gone: the check fails there */
            if (db_col_int64(st, 2) == 0) {
                struct chain_row row;
                chain_row_read(st, 3, &row);
                chain_record(&rec, log, &row);
                rtext = rec.p;
            }
            char *l = xasprintf("{\"seq\":%lld,\"prev\":\"%s\",\"hash\":\"%s\",\"record\":%s}",
                                (long long)seq, prev, hash, rtext);
            snprintf(prev, sizeof(prev), "%s", hash);
            stop = cb(l, strlen(l), ud) != 0;
            free(l);
        }
        db_reset(st);
        if (stop)
            break;
    } while (rc >= 0 && got == BATCH && left > 0);
    chain_text_free(&rec);
    chain_text_free(&line);
    *last = seq;
    return rc < 0 ? rc : 0;
}

int proof_chain_export(struct store *base, const char *log, const char *tenant_id,
                        int64_t after_seq, int64_t limit, store_chain_line_cb cb, void *ud,
                        int64_t *last_seq)
{
    if (strcmp(log, "audit") && strcmp(log, "events"))
        return SW_E_INVAL;
    struct db_conn *c = db_acquire(sql_of(base)->db);
    if (!c)
        return SW_E_UNAVAILABLE;
    int rc = db_begin(c, DB_TX_READ);
    if (rc == 0) {
        rc = export_tx(c, log_of(log), tenant_id, after_seq, limit, cb, ud, last_seq);
        db_rollback(c);
    }
    db_release(c);
    return rc;
}

