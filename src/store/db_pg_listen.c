/* db_pg_listen.c: how PostgreSQL nodes hear each other (db_pg.c's
 * driver, db.h "Signals").
 *
 * One listener thread per process LISTENs on its own connection and hands
 * other nodes' signals to the subscriber; while that connection is down the
 * database is "lossy" (the subscriber was told "reset": caches off) and the
 * thread reconnects with a capped backoff.  The same thread beats every
 * second in cluster_nodes, the list of nodes alive.  A commit that must hold
 * on every node from the next request (db_signal_wait) sends a ping after
 * its signals and waits until every node alive answered it: notifications
 * arrive in commit order, so an answer proves the signals before it were
 * applied. */
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/db_pg_int.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

/* ---- the listener ------------------------------------------------------------- */

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* One statement with text parameters on a connection of our own; true
 * when it worked. */
static bool run(PGconn *h, const char *sql, int n, const char *const *vals)
{
    PGresult *r = PQexecParams(h, sql, n, NULL, vals, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

static PGconn *listen_connect(struct db *db)
{
    struct pg_db *d = db->drv_state;
    PGconn *h = pg_connect_url(d->url);
    if (PQstatus(h) != CONNECTION_OK) {
        PQfinish(h);
        return NULL;
    }
    PGresult *r = PQexec(h, "LISTEN " LISTEN_CHANNEL);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQfinish(h);
        return NULL;
    }
    return h;
}

/* "I am alive", on the server's clock (cluster_nodes may not exist yet
 * before the first migration: then nobody waits for us, which is right). */
static void heartbeat(struct db *db, PGconn *h)
{
    const char *vals[1] = {db->node};
    run(h, "INSERT INTO cluster_nodes (id, heartbeat_at) VALUES ($1, " SQL_NOW_MS ") "
           "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at", 1, vals);
}

/* Another node's ack of one of our pings. */
static void on_ack(struct db *db, const char *from, const char *payload)
{
    struct pg_db *d = db->drv_state;
    /* "<target node> <ping id>" */
    size_t nl = strlen(db->node);
    if (strncmp(payload, db->node, nl) != 0 || payload[nl] != ' ')
        return;
    const char *id = payload + nl + 1;
    pthread_mutex_lock(&d->mu);
    for (struct pg_wait *w = d->waits; w; w = w->next) {
        if (strcmp(w->id, id) != 0)
            continue;
        for (int i = 0; i < w->expected; i++)
            if (!w->done[i] && strcmp(w->node[i], from) == 0) {
                w->done[i] = true;
                w->acked++;
            }
    }
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* "<node> <channel> <payload>" from the channel. */
static void dispatch(struct db *db, PGconn *h, const char *text)
{
    const char *sp1 = strchr(text, ' ');
    if (!sp1 || (size_t)(sp1 - text) != strlen(db->node))
        return;
    char from[17];
    memcpy(from, text, sizeof(from) - 1);
    from[sizeof(from) - 1] = '\0';
    if (strcmp(from, db->node) == 0)
        return;                 /* ours: delivered at our commit already */
    const char *chan = sp1 + 1;
    const char *sp2 = strchr(chan, ' ');
    char channel[64];
    size_t cl = sp2 ? (size_t)(sp2 - chan) : strlen(chan);
    if (cl >= sizeof(channel))
        return;
    memcpy(channel, chan, cl);
    channel[cl] = '\0';
    const char *payload = sp2 ? sp2 + 1 : "";
    if (!strcmp(channel, "~ping")) {
        /* everything committed before the ping was delivered before it */
        char ack[96];
        snprintf(ack, sizeof(ack), "%s ~ack %s %s", db->node, from, payload);
        const char *vals[1] = {ack};
        run(h, "SELECT pg_notify('" LISTEN_CHANNEL "', $1)", 1, vals);
    } else if (!strcmp(channel, "~ack")) {
        on_ack(db, from, payload);
    } else {
        db_deliver(db, channel, payload);
    }
}

void *pg_listener_main(void *arg)
{
    struct db *db = arg;
    struct pg_db *d = db->drv_state;
    PGconn *h = NULL;
    int backoff = 100;
    int64_t beat = 0;
    while (!d->stop) {
        if (!h) {
            h = listen_connect(db);
            if (!h) {
                for (int t = 0; t < backoff && !d->stop; t += 50)
                    nap_ms(50);
                backoff = backoff < 5000 ? backoff * 2 : 5000;
                continue;
            }
            backoff = 100;
            beat = 0;
            if (db->lossy) {
                db->lossy = false;
                db_deliver(db, "resumed", "");
            }
        }
        if (sw_mono_ms() - beat >= 1000) {
            heartbeat(db, h);
            beat = sw_mono_ms();
        }
        struct pollfd p = {.fd = PQsocket(h), .events = POLLIN};
        int pr = poll(&p, 1, 200);
        if (pr < 0)
            continue;
        if (PQconsumeInput(h) == 0 || PQstatus(h) != CONNECTION_OK) {
            log_warn("postgres: the signal listener lost its connection: %s",
                     PQerrorMessage(h));
            PQfinish(h);
            h = NULL;
            db->lossy = true;
            db_deliver(db, "reset", "");
            continue;
        }
        PGnotify *n;
        while ((n = PQnotifies(h)) != NULL) {
            dispatch(db, h, n->extra);
            PQfreemem(n);
        }
    }
    if (h) {
        const char *vals[1] = {db->node};
        run(h, "DELETE FROM cluster_nodes WHERE id = $1", 1, vals);
    }
    PQfinish(h);
    return NULL;
}

/* ---- the commit barrier ---------------------------------------------------------- */

void pg_barrier(struct db_conn *c)
{
    struct db *db = c->db;
    struct pg_db *d = db->drv_state;
    PGconn *h = pg_conn_of(c)->h;
    struct pg_wait *w = xcalloc(1, sizeof(*w));
    /* whom to wait for: every other node alive now */
    const char *vals[1] = {db->node};
    PGresult *r = PQexecParams(h, "SELECT id FROM cluster_nodes WHERE id <> $1 AND "
                                  "heartbeat_at > " SQL_NOW_MS " - " ALIVE_MS, 1, NULL, vals,
                               NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        for (int i = 0; i < PQntuples(r) && w->expected < WAIT_NODES_MAX; i++)
            snprintf(w->node[w->expected++], sizeof(w->node[0]), "%s", PQgetvalue(r, i, 0));
    PQclear(r);
    if (w->expected == 0) {
        free(w);
        return;
    }
    uint8_t rnd[8];
    randombytes_buf(rnd, sizeof(rnd));
    for (int i = 0; i < 8; i++)
        snprintf(w->id + 2 * i, 3, "%02x", rnd[i]);
    pthread_mutex_lock(&d->mu);
    w->next = d->waits;
    d->waits = w;
    pthread_mutex_unlock(&d->mu);
    char ping[64];
    snprintf(ping, sizeof(ping), "%s ~ping %s", db->node, w->id);
    const char *pv[1] = {ping};
    bool sent = run(h, "SELECT pg_notify('" LISTEN_CHANNEL "', $1)", 1, pv);
    struct timespec until = sw_deadline_ms(CLOCK_MONOTONIC, DB_BARRIER_MS);
    pthread_mutex_lock(&d->mu);
    while (sent && w->acked < w->expected)
        if (pthread_cond_timedwait(&d->cv, &d->mu, &until) != 0)
            break;
    for (struct pg_wait **pp = &d->waits; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    pthread_mutex_unlock(&d->mu);
    if (w->acked < w->expected)
        log_warn("postgres: %d of %d nodes did not confirm an invalidation within %d ms",
                 w->expected - w->acked, w->expected, DB_BARRIER_MS);
    free(w);
}

int pg_node_register(struct db *db)
{
    struct db_conn *c = db_acquire(db);
    if (!c)
        return SW_E_UNAVAILABLE;
    const char *vals[1] = {db->node};
    bool ok = run(pg_conn_of(c)->h,
                  "INSERT INTO cluster_nodes (id, heartbeat_at) VALUES ($1, " SQL_NOW_MS ") "
                  "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
                  1, vals);
    if (!ok)
        pg_copy_msg(c, PQerrorMessage(pg_conn_of(c)->h));
    db_release(c);
    return ok ? 0 : SW_E_STORE;
}

int pg_node_count(struct db *db)
{
    struct db_conn *c = db_acquire(db);
    if (!c)
        return SW_E_UNAVAILABLE;
    PGresult *r = PQexec(pg_conn_of(c)->h, "SELECT count(*) FROM cluster_nodes WHERE "
                                        "heartbeat_at > " SQL_NOW_MS " - " ALIVE_MS);
    int n = PQresultStatus(r) == PGRES_TUPLES_OK ? atoi(PQgetvalue(r, 0, 0)) : 1;
    PQclear(r);
    db_release(c);
    return n > 0 ? n : 1;
}

