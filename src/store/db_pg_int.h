/* db_pg_int.h: what the PostgreSQL driver's two files share: db_pg.c
 * (connections, statements, transactions) and db_pg_listen.c (the signal
 * listener, node heartbeats and the commit barrier). */
#ifndef SW_STORE_DB_PG_INT_H
#define SW_STORE_DB_PG_INT_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "store/db_int.h"

#define INT8OID 20
#define BYTEAOID 17
#define LOCKING_KEY "7308604897068083059"      /* "slawatch" as an int8 */
#define LISTEN_CHANNEL "slawatch"

/* A commit waiting for the other nodes' answers to its ping. */
#define WAIT_NODES_MAX 64
struct pg_wait {
    struct pg_wait *next;
    char id[24];
    int expected, acked;
    char node[WAIT_NODES_MAX][17];
    bool done[WAIT_NODES_MAX];
};

struct pg_db {
    char *url;
    pthread_t listener;
    bool listener_started;
    _Atomic bool stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* CLOCK_MONOTONIC: an answer arrived */
    struct pg_wait *waits;
};

/* Server time, so the nodes' clocks need not agree. */
#define SQL_NOW_MS "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)"
#define ALIVE_MS "5000"

struct pg_conn {
    struct db_conn base;
    PGconn *h;
    unsigned next_name;
};

struct pg_stmt {
    struct db_stmt base;
    char *sql;
    char name[16];
    bool prepared;
    int n;
    Oid *types;                 /* as prepared */
    Oid *btypes;                /* as bound now */
    const char **vals;
    int *lens, *fmts;
    char (*num)[24];
    PGresult *res;
    int row, nrows;
    char cursor[16];            /* db_stream: the open cursor's name, "" = none */
    bool more;                  /* ... and it may have rows left */
    int64_t changes;
    unsigned char **blob;       /* decoded bytea per column of the row */
    size_t *blob_cap;
    int nblob;
};


static inline struct pg_conn *pg_conn_of(struct db_conn *c) { return (struct pg_conn *)c; }

/* db_pg.c */
/* The message of a failed call into c->err. */
void pg_copy_msg(struct db_conn *c, const char *msg);
/* A connection to url with our defaults (timeouts, keepalives). */
PGconn *pg_connect_url(const char *url);

/* db_pg_listen.c */
/* The listener thread: started by the driver's open, stopped by close. */
void *pg_listener_main(void *arg);
void pg_barrier(struct db_conn *c);
int pg_node_register(struct db *db);
int pg_node_count(struct db *db);

#endif
