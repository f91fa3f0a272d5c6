/* store_proof.h: the proof subject of store.h (issue 17): what auditors and
 * customers rely on beyond the live numbers.
 *
 * Groups:
 *   - hash chains: the audit log and the item events, one chain per (log,
 *     tenant), verified and exported here (chain.c appends, chain_int.h
 *     has the format);
 * Each group's details are at its declarations. */
#ifndef SW_STORE_PROOF_H
#define SW_STORE_PROOF_H

#include "store/store.h"

/* ---- hash chains ---------------------------------------------------------- */

#define SW_CHAIN_HASH_LEN 64

/* One chain as verify found it.  A problem names the first bad record. */
struct sw_chain_report {
    char log[8];                        /* "audit" | "events" */
    char tenant_id[SW_ID_MAX + 1];      /* "" = the platform's audit chain */
    int64_t records;                    /* records walked (up to the problem) */
    int64_t adopted;                    /* chained by migration 0050: their
                                         * evidence starts at started_at */
    int64_t started_at;                 /* the chain's first link */
    char head[SW_CHAIN_HASH_LEN + 1];   /* the head as stored */
    bool intact;
    /* the first problem: altered | deleted | reordered | inserted | head */
    char problem[16];
    int64_t bad_seq;                    /* its place in the chain (0: none) */
    int64_t bad_row_id;                 /* audit_log.id / events.id (0: none) */
    char detail[256];
};

typedef int (*store_chain_report_cb)(const struct sw_chain_report *r, void *ud);
/* One line of an export (no newline), valid during the call. */
typedef int (*store_chain_line_cb)(const char *line, size_t len, void *ud);

struct store_proof_ops {
    /* Walks every chain (tenant_id NULL) or the tenant's two, recomputing
     * each record's digest and hash, and reports each chain; then looks
     * for rows that are on no chain (reported as an "inserted" problem of
     * their tenant's chain).  0 when walked, whatever was found. */
    int (*chain_verify)(struct store *s, const char *tenant_id, store_chain_report_cb cb,
                        void *ud);
    /* The chain (log, tenant) as JSON lines, seq > after_seq, at most
     * limit: {"seq":N,"prev":"hex","hash":"hex","record":{...}} where
     * record is the exact text the digest covers.  *last_seq = the last
     * seq written (after_seq when none); NOTFOUND when there is no such
     * chain. */
    int (*chain_export)(struct store *s, const char *log, const char *tenant_id,
                        int64_t after_seq, int64_t limit, store_chain_line_cb cb, void *ud,
                        int64_t *last_seq);
};

static inline int store_chain_verify(struct store *s, const char *tenant_id,
                                     store_chain_report_cb cb, void *ud)
{ return s->proof->chain_verify(s, tenant_id, cb, ud); }
static inline int store_chain_export(struct store *s, const char *log, const char *tenant_id,
                                     int64_t after_seq, int64_t limit, store_chain_line_cb cb,
                                     void *ud, int64_t *last_seq)
{ return s->proof->chain_export(s, log, tenant_id, after_seq, limit, cb, ud, last_seq); }

#endif
