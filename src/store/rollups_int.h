/* rollups_int.h: the rollup rows every kind of rollup shares
 * (rollup_rows.c): the alert rollups (analytics.c, table rollups) and the
 * findings' (finding_rollups.c, table finding_rollups) are the same shape:
 * a five-part key (tenant, local day, severity, project, kind: the alert's
 * clock or the finding's terminal status) and the values of a struct
 * sla_rollup (counts, sum, min, max, histogram, penalties).
 *
 * A change reads its row {FOR_UPDATE}, changes it in C (the histogram is a
 * blob only core/rollup.c understands) and writes it back; a row not there
 * yet is inserted ON CONFLICT DO NOTHING and, when another node inserted it
 * first, read again, locked: two nodes changing one row queue on it and
 * never lose a count.  A row whose count reaches 0 is deleted.  A rebuild
 * writes rows in multi-row upserts, BATCH at a time.
 *
 * Statements of a table (struct rollup_table) use
 *   ?1 tenant ?2 day ?3 severity ?4 project ?5 kind            (the key)
 *   ?6 count ?7 met ?8 breached ?9 sum ?10 min ?11 max ?12 hist ?13 penalty
 * and a rebuild's upsert ?1 tenant, then 12 per row (day .. penalty). */
#ifndef SW_STORE_ROLLUPS_INT_H
#define SW_STORE_ROLLUPS_INT_H

#include "core/rollup.h"
#include "store/store_int.h"
#include "util/tz.h"

/* One rollup row's key; day_lo/day_hi the local day as UTC [lo, hi) (the
 * raw reads that recompute an extreme). */
struct rkey {
    const char *tenant_id;
    const char *project_id;
    enum sla_sev sev;
    const char *kind;
    char day[SLA_DATE_BUFSZ];
    int64_t day_lo, day_hi;
};

struct rollup_table {
    const char *name;                   /* for logs */
    const char *lock, *insert, *update, *del;
    /* The extreme (max or min) of the key's raw items: *out, 0 or SW_E_*. */
    int (*raw_extreme)(struct db_conn *c, const struct rkey *k, bool max, int64_t *out);
    /* a rebuild's upserts: built once from head + rows + tail */
    const char *put_head, *put_tail;
    char *put1, *putn;
};

/* The tenant's zone (UTC when unknown), read {FOR_SHARE} (a change: side
 * by side with others) or {FOR_UPDATE} (a rebuild: alone); *out opened
 * only on success. */
int rollup_tenant_tz_in(struct db_conn *c, const char *tenant_id, bool exclusive,
                        struct tz *out);

/* The key's local day of instant at, in zone z. */
void rollup_key_day(struct tz *z, int64_t at, struct rkey *k);

/* Adds (sign > 0) or takes back (sign < 0) one sample on its row. */
int rollup_row_apply_in(struct db_conn *c, struct rollup_table *t, const struct rkey *k,
                        const struct sla_sample *smp, int sign);

/* A rebuild's rows of one tenant, written BATCH at a time. */
struct rollup_batch;
struct rollup_batch *rollup_batch_new(struct rollup_table *t, const char *tenant_id);
/* Queues one row (flushed when the batch is full). */
int rollup_batch_push(struct db_conn *c, struct rollup_batch *b, const struct rkey *k,
                      const struct sla_rollup *r);
/* Writes what is queued; *written += rows written in all. */
int rollup_batch_finish(struct db_conn *c, struct rollup_batch *b, int64_t *written);
void rollup_batch_free(struct rollup_batch *b);

/* One row of a scan, decoded but for the histogram (borrowed). */
void rollup_row_read(struct db_stmt *st, int first, struct sla_rollup *r, const uint8_t **hist,
                     size_t *hist_len);

/* ---- the subjects' rollups, inside the caller's transaction -------------- */

struct sw_finding;

/* finding_rollups.c: what a finding write changes in the findings' numbers:
 * its live group counter (open / paused) and, when it closes or reopens, its
 * closed rollup.  before NULL = a new finding.  Call after saving after
 * (an extreme taken back is recomputed from the findings table). */
int store_finding_numbers_change_in(struct db_conn *c, const struct sw_finding *before,
                                    const struct sw_finding *after);
/* One tenant's finding rollups and counters from its findings. */
int finding_numbers_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, struct tz *z,
                                      int64_t *rows);

/* alert_counts.c: an alert's volume (creation day) and auto-resolution
 * (resolved never acknowledged, on its resolution day), before NULL = new. */
struct sw_alert;
int alert_counts_change_in(struct db_conn *c, struct tz *z, const struct sw_alert *before,
                           const struct sw_alert *after);
int alert_counts_rebuild_tenant_in(struct db_conn *c, const char *tenant_id, struct tz *z,
                                   int64_t *rows);
/* New alerts' volume, summed over a writer's transaction: add each alert
 * created, flush before the commit (one upsert per key); reset when the
 * transaction starts again. */
struct alert_volume;
struct alert_volume *alert_volume_new(void);
void alert_volume_free(struct alert_volume *av);
void alert_volume_reset(struct alert_volume *av);
void alert_volume_add(struct alert_volume *av, const struct sw_alert *x);
int alert_volume_flush_in(struct db_conn *c, struct alert_volume *av);

#endif
