/* recheck.c: the hub's checker thread: every socket's credential checked
 * again while it lives.
 *
 * Every recheck_interval (or at once after ws_hub_recheck) it copies each
 * attached client's (id, tenant, credential) under the lock, sorts them,
 * and asks the auth callback once per distinct (tenant, credential) with
 * no lock held (the callback reads the store; a thousand dashboards on
 * one token cost one lookup).  The ids to close go to the broadcaster as
 * "kicks"; it sends each a close frame and releases it before it delivers
 * anything else (hub.c, kick_all).  Clients still in the incoming list are
 * checked on the next round. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/xalloc.h"
#include "ws/hub_int.h"

/* One client as the checker sees it, copied under the lock. */
struct snap {
    uint64_t id;
    size_t tenant_off, cred_off, cred_len;
    const char *tenant;             /* into the arena, once it stops moving */
    const uint8_t *cred;
};

struct arena {
    char *p;
    size_t len, cap;
};

static size_t arena_put(struct arena *a, const void *d, size_t n)
{
    if (a->len + n > a->cap) {
        a->cap = (a->len + n) * 2 + 256;
        a->p = xrealloc(a->p, a->cap);
    }
    size_t off = a->len;
    if (n)
        memcpy(a->p + off, d, n);
    a->len += n;
    return off;
}

static int snap_cmp(const void *x, const void *y)
{
    const struct snap *a = x, *b = y;
    int c = strcmp(a->tenant, b->tenant);
    if (c)
        return c;
    if (a->cred_len != b->cred_len)
        return a->cred_len < b->cred_len ? -1 : 1;
    return a->cred_len ? memcmp(a->cred, b->cred, a->cred_len) : 0;
}

/* Under the lock: every attached client's (id, tenant, credential). */
static struct snap *snapshot(struct ws_hub *h, struct arena *a, size_t *n)
{
    size_t cap = 16, k = 0;
    struct snap *s = xmalloc(cap * sizeof(*s));
    for (unsigned b = 0; b < NBUCKETS; b++)
        for (struct tenant *t = h->buckets[b]; t; t = t->next) {
            size_t toff = arena_put(a, t->id, strlen(t->id) + 1);
            for (struct client *c = t->clients; c; c = c->next) {
                if (k == cap)
                    s = xrealloc(s, (cap *= 2) * sizeof(*s));
                s[k].id = c->id;
                s[k].tenant_off = toff;
                s[k].cred_off = arena_put(a, c->cred, c->cred_len);
                s[k].cred_len = c->cred_len;
                k++;
            }
        }
    for (size_t i = 0; i < k; i++) {
        s[i].tenant = a->p + s[i].tenant_off;
        s[i].cred = (const uint8_t *)a->p + s[i].cred_off;
    }
    *n = k;
    return s;
}

/* Without the lock: the verdicts, once per distinct (tenant, credential). */
static struct kick *judge(struct snap *s, size_t n, ws_auth_cb cb, void *ud, size_t *nk)
{
    struct kick *k = NULL;
    size_t cap = 0;
    *nk = 0;
    qsort(s, n, sizeof(*s), snap_cmp);
    for (size_t i = 0; i < n;) {
        enum ws_verdict v = cb(s[i].tenant, s[i].cred, s[i].cred_len, ud);
        size_t j = i;
        for (; j < n && snap_cmp(&s[i], &s[j]) == 0; j++) {
            if (v == WS_KEEP)
                continue;
            if (*nk == cap)
                k = xrealloc(k, (cap = cap * 2 + 8) * sizeof(*k));
            k[(*nk)++] = (struct kick){s[j].id, v};
        }
        i = j;
    }
    return k;
}

void *hub_checker_main(void *arg)
{
    struct ws_hub *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        uint64_t ns = (uint64_t)next.tv_nsec + (uint64_t)h->o.recheck_interval_ms * 1000000u;
        next.tv_sec += (time_t)(ns / 1000000000u);
        next.tv_nsec = (long)(ns % 1000000000u);
        while (!h->stopping && !h->recheck_now &&
               pthread_cond_timedwait(&h->recheck, &h->lock, &next) != ETIMEDOUT)
            ;
        if (h->stopping)
            break;
        h->recheck_now = false;
        ws_auth_cb cb = h->acb;
        void *ud = h->aud;
        if (!cb || atomic_load(&h->nclients) == 0)
            continue;
        struct arena a = {0};
        size_t n, nk;
        struct snap *s = snapshot(h, &a, &n);
        pthread_mutex_unlock(&h->lock);
        struct kick *k = judge(s, n, cb, ud, &nk);
        free(s);
        free(a.p);
        pthread_mutex_lock(&h->lock);
        if (nk) {
            if (h->nkicks + nk > h->kcap)
                h->kicks = xrealloc(h->kicks, (h->kcap = h->nkicks + nk) * sizeof(*k));
            memcpy(h->kicks + h->nkicks, k, nk * sizeof(*k));
            h->nkicks += nk;
            hub_poke(h);
        }
        free(k);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void ws_set_auth_cb(struct ws_hub *h, ws_auth_cb cb, void *ud)
{
    pthread_mutex_lock(&h->lock);
    h->acb = cb;
    h->aud = ud;
    pthread_mutex_unlock(&h->lock);
}

void ws_hub_recheck(struct ws_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->recheck_now = true;
    pthread_cond_signal(&h->recheck);
    pthread_mutex_unlock(&h->lock);
}

uint64_t ws_auth_closed_count(const struct ws_hub *h)
{
    return h ? atomic_load(&h->auth_closed) : 0;
}
