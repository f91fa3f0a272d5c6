/* chain.c: the hash chains of the audit log and the item events (issue 17):
 * each appended row gets its place in its chain; rows older than the chains
 * are adopted by migration 0050.  chain_int.h has the record format,
 * chain_verify.c the checking and the export.
 *
 * One chain per (log, tenant).  Several nodes append to one PostgreSQL at
 * once, and a chain must never fork nor skip: a record's position is taken
 * under its chain head's row lock ({FOR_UPDATE} on chain_heads), so the
 * appends of one chain are serialized.  That lock is taken as late as
 * possible, just before COMMIT (db_precommit), and for all the chains a
 * transaction touched in one order (log, tenant): an append never holds a
 * head while it waits for another row, so heads add no deadlock, and a
 * head is held only for the link inserts and the COMMIT itself.  The cost
 * is that commits which append to the same tenant's chain are serialized
 * (their COMMITs, fsync included, one after the other); different tenants
 * never wait for each other, and the alert writer's group commit puts a
 * whole batch on a chain with one lock (docs/benchmarks.md has figures).
 *
 * While the transaction runs, each appended row only leaves (its id, the
 * sha256 digest of its record) in memory; at COMMIT the digests are hashed
 * into the chain and written as link rows.  The rows themselves are never
 * rewritten: the logs stay append-only. */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/chain_int.h"
#include "util/xalloc.h"

const char chain_genesis[CHAIN_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

const char *chain_log_name(enum chain_log log)
{
    return log == CHAIN_AUDIT ? "audit" : "events";
}

/* ---- the record ----------------------------------------------------------- */

static void put(struct chain_text *t, const char *s, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2 + 256;
        t->p = xrealloc(t->p, t->cap);
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void put_lit(struct chain_text *t, const char *s)
{
    put(t, s, strlen(s));
}

static void put_int(struct chain_text *t, int64_t v)
{
    char b[24], *e = b + sizeof(b), *p = e;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    put(t, p, (size_t)(e - p));
}

/* s's characters inside a JSON string. */
static void put_esc(struct chain_text *t, const char *s)
{
    const char *run = s;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p != '"' && *p != '\\' && *p >= 0x20 && *p != 0x7f)
            continue;
        put(t, run, (size_t)((const char *)p - run));
        static const char hexd[] = "0123456789abcdef";
        char esc[6] = {'\\', 'u', '0', '0', hexd[*p >> 4], hexd[*p & 15]};
        put(t, esc, 6);
        run = (const char *)p + 1;
    }
    put_lit(t, run);
}

/* A JSON string; NULL is null. */
static void put_str(struct chain_text *t, const char *s)
{
    if (!s) {
        put_lit(t, "null");
        return;
    }
    put_lit(t, "\"");
    put_esc(t, s);
    put_lit(t, "\"");
}

static void put_key(struct chain_text *t, const char *key)
{
    put_lit(t, ",\"");
    put_lit(t, key);
    put_lit(t, "\":");
}

void chain_record(struct chain_text *t, enum chain_log log, const struct chain_row *r)
{
    static const char *const keys[CHAIN_LOG_COUNT][6] = {
        [CHAIN_AUDIT] = {"actor", "at", "action", "target", "before", "after"},
        [CHAIN_EVENTS] = {"item_kind", "item_id", "type", "actor", "at", "data"},
    };
    t->n = 0;
    put_lit(t, "{\"chain\":");
    put_lit(t, "\"");          /* "log/tenant" */
    put_lit(t, chain_log_name(log));
    put_lit(t, "/");
    put_esc(t, r->tenant_id);
    put_lit(t, "\"");
    put_key(t, "id");
    put_int(t, r->id);
    put_key(t, "tenant_id");
    put_str(t, r->tenant_id);
    /* "at" sits at its place in each log's column order */
    for (int i = 0, c = 0; i < 6; i++) {
        put_key(t, keys[log][i]);
        if (!strcmp(keys[log][i], "at"))
            put_int(t, r->at);
        else
            put_str(t, r->col[c++]);
    }
    put_lit(t, "}");
}

void chain_row_read(struct db_stmt *st, int first, struct chain_row *r)
{
    r->id = db_col_int64(st, first);
    r->tenant_id = db_col_text(st, first + 1);
    r->at = db_col_int64(st, first + 2);
    for (int k = 0; k < 5; k++)
        r->col[k] = db_col_null(st, first + 3 + k) ? NULL : db_col_text(st, first + 3 + k);
}

void chain_record_event(struct chain_text *t, int64_t id, const struct sw_event *e)
{
    struct chain_row r = {id, e->tenant_id, e->at,
                          {e->item_kind, e->item_id, e->type, e->actor, e->data}};
    chain_record(t, CHAIN_EVENTS, &r);
}

void chain_record_audit(struct chain_text *t, int64_t id, const struct sw_audit *a)
{
    struct chain_row r = {id, a->tenant_id, a->at,
                          {a->actor, a->action, a->target, a->before, a->after}};
    chain_record(t, CHAIN_AUDIT, &r);
}

void chain_text_free(struct chain_text *t)
{
    free(t->p);
    t->p = NULL;
    t->n = t->cap = 0;
}

static void hex(const uint8_t *d, char out[CHAIN_HEX])
{
    sodium_bin2hex(out, CHAIN_HEX, d, SHA256_DIGEST_LENGTH);
}

/* SHA-256 from OpenSSL's libcrypto: it uses the CPU's SHA instructions
 * where there are some (libsodium's is portable C, twice as slow here),
 * and every event and audit row is hashed twice.  The algorithm is
 * fetched once: OpenSSL 3's SHA256() looks it up by name on every call,
 * which cost several times the hashing of a record. */
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha_md;          /* NULL: no provider has it; SHA256() then */

static void sha_fetch(void)
{
    sha_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void sha256(const void *p, size_t n, uint8_t d[SHA256_DIGEST_LENGTH])
{
    pthread_once(&sha_once, sha_fetch);
    if (!sha_md || !EVP_Digest(p, n, d, NULL, sha_md, NULL))
        SHA256(p, n, d);
}

void chain_digest(const char *rec, size_t n, char out[CHAIN_HEX])
{
    uint8_t d[SHA256_DIGEST_LENGTH];
    sha256(rec, n, d);
    hex(d, out);
}

void chain_link_hash(const char prev[CHAIN_HEX], const char digest[CHAIN_HEX],
                     char out[CHAIN_HEX])
{
    unsigned char both[2 * 64], d[SHA256_DIGEST_LENGTH];
    memcpy(both, prev, 64);
    memcpy(both + 64, digest, 64);
    sha256(both, sizeof(both), d);
    hex(d, out);
}

/* ---- links and heads ---------------------------------------------------------- */

static const char SQL_HEAD_LOCK[] =
    "SELECT seq, hash FROM chain_heads WHERE log = ?1 AND tenant_id = ?2 {FOR_UPDATE}";
static const char SQL_HEAD_NEW[] =
    "INSERT INTO chain_heads (log, tenant_id, seq, hash, started_at, adopted) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (log, tenant_id) DO NOTHING";
static const char SQL_HEAD_SET[] =
    "UPDATE chain_heads SET seq = ?3, hash = ?4 WHERE log = ?1 AND tenant_id = ?2";

/* Links go in multi-row INSERTs (db_rows), a full buffer at a time and
 * the rest at COMMIT in pieces: a batch of 50 created alerts costs three
 * statements, not one per link. */
#define LINK_CHUNK DB_ROWS_MAX
static struct db_rows link_rows =
    DB_ROWS("INSERT INTO chain_links (log, tenant_id, seq, row_id, hash) VALUES ",
            "(?1, ?2, ?3, ?4, ?5)", "", 5);

/* Links waiting to be written, of one chain. */
struct link_buf {
    int64_t seq[LINK_CHUNK], row_id[LINK_CHUNK];
    char hash[LINK_CHUNK][CHAIN_HEX];
    size_t n;
};

struct link_rows {
    const char *log, *tenant;
    const struct link_buf *b;
};

static void link_bind(struct db_stmt *st, int o, size_t i, const void *ud)
{
    const struct link_rows *l = ud;
    db_bind_text(st, o + 1, l->log);
    db_bind_text(st, o + 2, l->tenant);
    db_bind_int64(st, o + 3, l->b->seq[i]);
    db_bind_int64(st, o + 4, l->b->row_id[i]);
    db_bind_text(st, o + 5, l->b->hash[i]);
}

static int links_flush(struct db_conn *c, enum chain_log log, const char *tenant,
                       struct link_buf *b)
{
    struct link_rows l = {chain_log_name(log), tenant, b};
    int rc = db_rows_exec(c, &link_rows, b->n, link_bind, &l);
    b->n = 0;
    return rc;
}

/* Adds one record to a chain whose head is (*seq, prev). */
static int link_add(struct db_conn *c, enum chain_log log, const char *tenant,
                    struct link_buf *b, int64_t row_id, const char digest[CHAIN_HEX],
                    int64_t *seq, char prev[CHAIN_HEX])
{
    char h[CHAIN_HEX];
    chain_link_hash(prev, digest, h);
    memcpy(prev, h, CHAIN_HEX);
    ++*seq;
    b->seq[b->n] = *seq;
    b->row_id[b->n] = row_id;
    memcpy(b->hash[b->n], h, CHAIN_HEX);
    return ++b->n == LINK_CHUNK ? links_flush(c, log, tenant, b) : 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The head of (log, tenant), locked; created empty when the chain is new. */
static int head_lock(struct db_conn *c, enum chain_log log, const char *tenant, int64_t *seq,
                     char hash[CHAIN_HEX])
{
    struct db_stmt *st;
    for (int pass = 0; pass < 2; pass++) {
        int rc = db_prep(c, SQL_HEAD_LOCK, &st);
        if (rc < 0)
            return rc;
        db_bind_text(st, 1, chain_log_name(log));
        db_bind_text(st, 2, tenant);
        if ((rc = db_step_one(st)) < 0)
            return rc;
        if (rc == 1) {
            *seq = db_col_int64(st, 0);
            db_col_copy(st, 1, hash, CHAIN_HEX);
            db_reset(st);
            return 0;
        }
        /* a new chain; another node creating it too waits here for ours */
        if ((rc = db_prep(c, SQL_HEAD_NEW, &st)) < 0)
            return rc;
        db_bind_text(st, 1, chain_log_name(log));
        db_bind_text(st, 2, tenant);
        db_bind_int64(st, 3, 0);
        db_bind_text(st, 4, chain_genesis);
        db_bind_int64(st, 5, wall_ms());
        db_bind_int64(st, 6, 0);
        if ((rc = db_exec(st)) < 0)
            return rc;
    }
    return SW_E_STORE;
}

static int head_set(struct db_conn *c, enum chain_log log, const char *tenant, int64_t seq,
                    const char hash[CHAIN_HEX])
{
    struct db_stmt *st;
    int rc = db_prep(c, SQL_HEAD_SET, &st);
    if (rc < 0)
        return rc;
    db_bind_text(st, 1, chain_log_name(log));
    db_bind_text(st, 2, tenant);
    db_bind_int64(st, 3, seq);
    db_bind_text(st, 4, hash);
    return db_exec(st);
}

/* ---- appending (at COMMIT) -------------------------------------------------------- */

struct pending_rec {
    int64_t row_id;
    char digest[CHAIN_HEX];
};

/* The records a transaction appended to one chain, in append order. */
struct pending_chain {
    enum chain_log log;
    char tenant[SW_ID_MAX + 1];
    struct pending_rec *rec;
    size_t n, cap;
};

struct pending {
    struct pending_chain *ch;
    size_t n, cap;
    size_t last;                    /* the chain appended to last */
    struct chain_text text;         /* scratch: the record being digested */
};

static void pending_free(void *state)
{
    struct pending *p = state;
    for (size_t i = 0; i < p->n; i++)
        free(p->ch[i].rec);
    free(p->ch);
    chain_text_free(&p->text);
    free(p);
}

static int chain_cmp(const void *a, const void *b)
{
    const struct pending_chain *x = a, *y = b;
    if (x->log != y->log)
        return x->log < y->log ? -1 : 1;
    return strcmp(x->tenant, y->tenant);
}

/* db_precommit: every chain the transaction touched, in (log, tenant)
 * order: the one lock order of chain heads. */
static int pending_commit(struct db_conn *c, void *state)
{
    struct pending *p = state;
    qsort(p->ch, p->n, sizeof(p->ch[0]), chain_cmp);
    p->last = 0;
    struct link_buf *b = xmalloc(sizeof(*b));
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        struct pending_chain *ch = &p->ch[i];
        int64_t seq;
        char h[CHAIN_HEX];
        b->n = 0;
        if ((rc = head_lock(c, ch->log, ch->tenant, &seq, h)) < 0)
            break;
        for (size_t k = 0; k < ch->n && rc == 0; k++)
            rc = link_add(c, ch->log, ch->tenant, b, ch->rec[k].row_id, ch->rec[k].digest,
                          &seq, h);
        if (rc == 0)
            rc = links_flush(c, ch->log, ch->tenant, b);
        if (rc == 0)
            rc = head_set(c, ch->log, ch->tenant, seq, h);
    }
    free(b);
    return rc;
}

static int pending_add(struct db_conn *c, enum chain_log log, const char *tenant, int64_t id,
                       const char digest[CHAIN_HEX])
{
    void **slot = db_precommit(c, pending_commit, pending_free);
    if (!slot)
        return SW_E_STORE;          /* outside a transaction: a bug of the caller */
    struct pending *p = *slot;
    struct pending_chain *ch = NULL;
    if (p && p->last < p->n && p->ch[p->last].log == log &&
        !strcmp(p->ch[p->last].tenant, tenant))
        ch = &p->ch[p->last];
    for (size_t i = 0; p && !ch && i < p->n; i++)
        if (p->ch[i].log == log && !strcmp(p->ch[i].tenant, tenant)) {
            ch = &p->ch[i];
            p->last = i;
        }
    if (!ch) {
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 4;
            p->ch = xrealloc(p->ch, p->cap * sizeof(*p->ch));
        }
        p->last = p->n;
        ch = &p->ch[p->n++];
        memset(ch, 0, sizeof(*ch));
        ch->log = log;
        snprintf(ch->tenant, sizeof(ch->tenant), "%s", tenant);
    }
    if (ch->n == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 8;
        ch->rec = xrealloc(ch->rec, ch->cap * sizeof(*ch->rec));
    }
    ch->rec[ch->n].row_id = id;
    memcpy(ch->rec[ch->n].digest, digest, CHAIN_HEX);
    ch->n++;
    return 0;
}

/* The transaction's pending state, created on first use. */
static struct pending *pending_of(struct db_conn *c)
{
    void **slot = db_precommit(c, pending_commit, pending_free);
    if (!slot)
        return NULL;
    if (!*slot)
        *slot = xcalloc(1, sizeof(struct pending));
    return *slot;
}

int store_chain_event_in(struct db_conn *c, int64_t id, const struct sw_event *e)
{
    struct pending *p = pending_of(c);
    if (!p)
        return SW_E_STORE;
    char d[CHAIN_HEX];
    chain_record_event(&p->text, id, e);
    chain_digest(p->text.p, p->text.n, d);
    return pending_add(c, CHAIN_EVENTS, e->tenant_id, id, d);
}

int store_chain_audit_in(struct db_conn *c, int64_t id, const struct sw_audit *a)
{
    struct pending *p = pending_of(c);
    if (!p)
        return SW_E_STORE;
    char d[CHAIN_HEX];
    chain_record_audit(&p->text, id, a);
    chain_digest(p->text.p, p->text.n, d);
    return pending_add(c, CHAIN_AUDIT, a->tenant_id, id, d);
}

/* ---- adopting the rows written before the chains (migration 0050) ----------------- */

#define ADOPT_BATCH 1000

static const char SQL_ADOPT_EVENTS[] =
    "SELECT " CHAIN_EVENT_COLS("") " FROM events WHERE id > ?1 ORDER BY id LIMIT 1000";
static const char SQL_ADOPT_AUDIT[] =
    "SELECT " CHAIN_AUDIT_COLS("") " FROM audit_log WHERE id > ?1 ORDER BY id LIMIT 1000";

/* One chain being adopted. */
struct adopt_chain {
    char tenant[SW_ID_MAX + 1];
    int64_t seq;
    char hash[CHAIN_HEX];
    struct link_buf b;
};

struct adopt {
    struct adopt_chain **ch;        /* sorted by tenant */
    size_t n, cap;
};

static struct adopt_chain *adopt_find(struct adopt *a, const char *tenant)
{
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int cmp = strcmp(a->ch[mid]->tenant, tenant);
        if (cmp == 0)
            return a->ch[mid];
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->ch = xrealloc(a->ch, a->cap * sizeof(*a->ch));
    }
    memmove(&a->ch[lo + 1], &a->ch[lo], (a->n - lo) * sizeof(*a->ch));
    struct adopt_chain *ch = xcalloc(1, sizeof(*ch));
    snprintf(ch->tenant, sizeof(ch->tenant), "%s", tenant);
    memcpy(ch->hash, chain_genesis, CHAIN_HEX);
    a->ch[lo] = ch;
    a->n++;
    return ch;
}

/* Walks one log in id order, chaining each tenant's rows as they come. */
static int adopt_log(struct db_conn *c, enum chain_log log, int64_t now)
{
    struct adopt a = {0};
    struct chain_text t = {0};
    int64_t after = 0;
    int rc = 0, got;
    do {
        struct db_stmt *st;
        if ((rc = db_prep(c, log == CHAIN_AUDIT ? SQL_ADOPT_AUDIT : SQL_ADOPT_EVENTS, &st)) < 0)
            break;
        db_bind_int64(st, 1, after);
        got = 0;
        /* the rows first (the driver may buffer them), then the links */
        struct row { int64_t id; char tenant[SW_ID_MAX + 1]; char d[CHAIN_HEX]; } *rows =
            xmalloc(ADOPT_BATCH * sizeof(*rows));
        while ((rc = db_step(st)) == DB_ROW && got < ADOPT_BATCH) {
            struct row *r = &rows[got++];
            r->id = db_col_int64(st, 0);
            db_col_copy(st, 1, r->tenant, sizeof(r->tenant));
            struct chain_row cr;
            chain_row_read(st, 0, &cr);
            chain_record(&t, log, &cr);
            chain_digest(t.p, t.n, r->d);
            after = r->id;
        }
        db_reset(st);
        for (int i = 0; rc >= 0 && i < got; i++) {
            struct adopt_chain *ch = adopt_find(&a, rows[i].tenant);
            rc = link_add(c, log, ch->tenant, &ch->b, rows[i].id, rows[i].d, &ch->seq, ch->hash);
        }
        free(rows);
    } while (rc >= 0 && got == ADOPT_BATCH);
    struct db_stmt *st;
    for (size_t i = 0; i < a.n; i++) {
        struct adopt_chain *ch = a.ch[i];
        if (rc >= 0)
            rc = links_flush(c, log, ch->tenant, &ch->b);
        if (rc >= 0 && (rc = db_prep(c, SQL_HEAD_NEW, &st)) >= 0) {
            db_bind_text(st, 1, chain_log_name(log));
            db_bind_text(st, 2, ch->tenant);
            db_bind_int64(st, 3, ch->seq);
            db_bind_text(st, 4, ch->hash);
            db_bind_int64(st, 5, now);
            db_bind_int64(st, 6, ch->seq);
            rc = db_exec(st);
        }
        free(ch);
    }
    free(a.ch);
    chain_text_free(&t);
    return rc < 0 ? rc : 0;
}

int store_chain_adopt_in(struct db_conn *c)
{
    int64_t now = wall_ms();
    int rc = adopt_log(c, CHAIN_AUDIT, now);
    return rc < 0 ? rc : adopt_log(c, CHAIN_EVENTS, now);
}
