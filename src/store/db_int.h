/* db_int.h: what db.c shares with the drivers (db_sqlite.c, db_pg.c).
 *
 * A driver is a table of functions over its own connection and statement
 * structs, which embed struct db_conn / struct db_stmt as their first
 * member.  db.c owns everything common: the pool, the statement cache, the
 * rewriting of ?N and {FRAGMENT}s, transactions and their retries, signals
 * queued in a transaction, fault injection and the counters; a driver only
 * talks to its database.  Driver functions return 0 / DB_ROW / DB_DONE or
 * a negative SW_E_* and leave a message in c->err. */
#ifndef SW_STORE_DB_INT_H
#define SW_STORE_DB_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/db.h"
#include "util/log.h"

#define DB_ERR_MAX 512

struct db_pending_signal;

struct db_conn {
    struct db *db;
    struct db_conn *next_free;
    bool in_tx;
    enum db_tx_kind tx_kind;
    bool broken;                    /* the driver lost it: dropped at release */
    bool barrier;                   /* COMMIT waits for the other nodes */
    struct db_pending_signal *sig_head, *sig_tail;
    /* db_precommit: work before COMMIT, state released after it */
    struct db_precommit_slot {
        db_precommit_fn fn;
        void (*release)(void *);
        void *state;
    } pre[DB_PRECOMMIT_MAX];
    int npre;
    /* the statement cache: open addressing on the SQL text's address */
    struct db_cached {
        const char *key;
        struct db_stmt *st;
    } *cache;
    size_t cache_cap, cache_n;
    char err[DB_ERR_MAX];
};

struct db_stmt {
    struct db_conn *c;
    int nparams;                    /* the highest ?N */
    bool stream;                    /* db_stream: rows in pages; the driver's reset clears it */
};

struct db_driver {
    const char *name;
    enum db_dialect dialect;
    const char *frag[DB_FRAG__COUNT];
    bool dollar_params;             /* ?N is written $N */

    /* Once per database: parse the target (after "sqlite:" or the whole
     * postgres URL), fill db->url_public; may start threads. */
    int (*open)(struct db *db, const char *target, char *err, size_t errlen);
    void (*close)(struct db *db);
    int (*connect)(struct db *db, struct db_conn **out, char *err, size_t errlen);
    void (*disconnect)(struct db_conn *c);

    /* sql is rewritten already; nparams its highest parameter number. */
    int (*prepare)(struct db_conn *c, const char *sql, int nparams, struct db_stmt **out);
    void (*finalize)(struct db_stmt *st);
    void (*bind_int64)(struct db_stmt *st, int i, int64_t v);
    void (*bind_text)(struct db_stmt *st, int i, const char *v);
    void (*bind_blob)(struct db_stmt *st, int i, const void *p, size_t n);
    void (*bind_null)(struct db_stmt *st, int i);
    int (*step)(struct db_stmt *st);
    void (*reset)(struct db_stmt *st);
    int64_t (*changes)(struct db_stmt *st);
    /* The rowid a one-row INSERT without RETURNING made (db_insert_id);
     * NULL when {RETURNING_ID} returns it as a row. */
    int64_t (*last_insert_id)(struct db_stmt *st);
    bool (*col_null)(struct db_stmt *st, int i);
    int64_t (*col_int64)(struct db_stmt *st, int i);
    const char *(*col_text)(struct db_stmt *st, int i);
    const void *(*col_blob)(struct db_stmt *st, int i, size_t *n);

    /* Statements without parameters, maybe several. */
    int (*exec)(struct db_conn *c, const char *sql);
    int (*begin)(struct db_conn *c, enum db_tx_kind kind);
    int (*commit)(struct db_conn *c);
    void (*rollback)(struct db_conn *c);
    /* Sends one signal to the other nodes with the current transaction
     * (NULL: single-node database, signals stay in the process). */
    int (*notify)(struct db_conn *c, const char *text);
    /* After a COMMIT that carried a db_signal_wait: returns once every
     * other live node answered (or after DB_BARRIER_MS). */
    void (*barrier)(struct db_conn *c);
    int (*node_count)(struct db *db);
    int (*node_register)(struct db *db);
};

struct db {
    const struct db_driver *drv;
    void *drv_state;
    char url_public[1024];
    char node[17];

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct db_conn *free_list;
    int nconn, pool_max;

    db_signal_fn sig_fn;
    void *sig_ud;
    void *owner;                    /* db_set_owner */
    _Atomic bool lossy;

    _Atomic uint64_t errors, retries;
    /* While the database is down every request and every worker round
     * fails alike: one line per message per 10 s, with a count. */
    struct log_limit down_log;
    _Atomic bool degraded;
    _Atomic int64_t fail_at;        /* faults: the call number that fails, 0 = none */
    _Atomic int fail_err;
    _Atomic int64_t calls;
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;

/* For drivers: delivers a signal from another node to the subscriber. */
void db_deliver(struct db *db, const char *channel, const char *payload);
/* For drivers: counts an error the database reported. */
void db_count_error(struct db *db);

#endif
