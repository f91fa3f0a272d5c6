/* chain_int.h: what chain.c (appending, adopting old rows) and
 * chain_verify.c (verify, export) share: the record format and the hash.
 *
 * The format is the contract with auditors (docs/audit.md verifies an
 * export with sed and sha256sum alone), so it is written by hand here,
 * byte for byte, rather than by a JSON library whose spacing or escaping
 * could change under us:
 *
 *   record  one line of JSON, keys in this order, no spaces:
 *           {"chain":"events/acme","id":12,"tenant_id":"acme","item_kind":"alert",
 *            "item_id":"a-1","type":"created","actor":"token:x","at":1767225600000,
 *            "data":"{\"ack_due_at\":...}"}
 *           {"chain":"audit/acme","id":5,"tenant_id":"acme","actor":"user:bob",
 *            "at":...,"action":"sla_policy.update","target":"policy:acme",
 *            "before":null,"after":"{...}"}
 *           Strings escape '"', '\' and bytes below 0x20 and 0x7f as \u00XX;
 *           other bytes (UTF-8) are copied.  data/before/after are the
 *           stored text as a string (null when NULL), never re-encoded.
 *           The platform's audit chain is "audit/" (tenant "").
 *   digest  sha256(record), lower-case hex
 *   hash    sha256(prev || digest), both 64 lower-case hex characters,
 *           prev = the previous record's hash, 64 zeros before the first.
 */
#ifndef SW_STORE_CHAIN_INT_H
#define SW_STORE_CHAIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_int.h"
#include "store/store_users.h"

#define CHAIN_HEX 65                /* 64 hex digits and a NUL */

enum chain_log { CHAIN_AUDIT, CHAIN_EVENTS, CHAIN_LOG_COUNT };

extern const char chain_genesis[CHAIN_HEX];

const char *chain_log_name(enum chain_log log);     /* "audit" | "events" */

/* A growing text buffer (the record). */
struct chain_text {
    char *p;
    size_t n, cap;
};
void chain_text_free(struct chain_text *t);

/* The record of one row, replacing t's text: the columns as stored (text
 * columns whole, NULL where the column is NULL). */
struct chain_row {
    int64_t id;
    const char *tenant_id;
    int64_t at;
    const char *col[5];     /* events: item_kind item_id type actor data
                             * audit:  actor action target before after */
};
void chain_record(struct chain_text *t, enum chain_log log, const struct chain_row *r);
/* The columns a chain_row is read from (p: a table alias with its dot, or
 * ""), and the read itself, from column `first` on. */
#define CHAIN_EVENT_COLS(p) \
    p "id, " p "tenant_id, " p "at, " p "item_kind, " p "item_id, " p "type, " p "actor, " p "data"
#define CHAIN_AUDIT_COLS(p) \
    p "id, " p "tenant_id, " p "at, " p "actor, " p "action, " p "target, " p "before, " p "after"
void chain_row_read(struct db_stmt *st, int first, struct chain_row *r);
void chain_record_event(struct chain_text *t, int64_t id, const struct sw_event *e);
void chain_record_audit(struct chain_text *t, int64_t id, const struct sw_audit *a);

void chain_digest(const char *rec, size_t n, char hex[CHAIN_HEX]);
void chain_link_hash(const char prev[CHAIN_HEX], const char digest[CHAIN_HEX],
                     char out[CHAIN_HEX]);

#endif
