/* bulk.c: see bulk.h.  One mutex guards the slot counts and the job
 * queue; workers wait on a condition for jobs. */
#include "http/bulk.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/xalloc.h"

struct job {
    struct job *next;
    bulk_fn fn;
    void *ud;
};

struct slot {
    struct slot *next;
    unsigned n;
    char key[];
};

struct bulk_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *threads;
    unsigned nthreads;
    unsigned max_total, max_per_key;
    unsigned in_flight, queued;
    struct slot *slots;             /* keys with n > 0 */
    struct job *head, **tail;
    bool stop;
};

static void *worker_main(void *arg)
{
    struct bulk_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        struct job *j = p->head;
        if (!j)
            break;          /* stopping, nothing left */
        p->head = j->next;
        if (!p->head)
            p->tail = &p->head;
        p->queued--;
        bool cancelled = p->stop;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->ud, cancelled);
        free(j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int bulk_pool_start(unsigned workers, unsigned max_total, unsigned max_per_key,
                    struct bulk_pool **out)
{
    struct bulk_pool *p = xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tail = &p->head;
    p->max_total = max_total;
    p->max_per_key = max_per_key;
    p->threads = xcalloc(workers, sizeof(*p->threads));
    for (; p->nthreads < workers; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0)
            break;
    if (p->nthreads == 0) {
        bulk_pool_free(p);
        return SW_E_IO;
    }
    *out = p;
    return 0;
}

void bulk_pool_stop(struct bulk_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    bool was = p->stop;
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (was)
        return;
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
    /* with no worker at all, queued jobs still get their cancellation */
    pthread_mutex_lock(&p->mu);
    while (p->head) {
        struct job *j = p->head;
        p->head = j->next;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->ud, true);
        free(j);
        pthread_mutex_lock(&p->mu);
    }
    p->tail = &p->head;
    pthread_mutex_unlock(&p->mu);
}

void bulk_pool_free(struct bulk_pool *p)
{
    if (!p)
        return;
    bulk_pool_stop(p);
    while (p->slots) {
        struct slot *s = p->slots;
        p->slots = s->next;
        free(s);
    }
    free(p->threads);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

bool bulk_stopping(struct bulk_pool *p)
{
    pthread_mutex_lock(&p->mu);
    bool s = p->stop;
    pthread_mutex_unlock(&p->mu);
    return s;
}

int bulk_admit(struct bulk_pool *p, const char *key)
{
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    struct slot *s = p->slots;
    while (s && strcmp(s->key, key))
        s = s->next;
    if (p->stop || p->in_flight >= p->max_total || (s && s->n >= p->max_per_key)) {
        rc = SW_E_BUSY;
    } else {
        if (!s) {
            size_t n = strlen(key);
            s = xcalloc(1, sizeof(*s) + n + 1);
            memcpy(s->key, key, n + 1);
            s->next = p->slots;
            p->slots = s;
        }
        s->n++;
        p->in_flight++;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void bulk_release(struct bulk_pool *p, const char *key)
{
    pthread_mutex_lock(&p->mu);
    for (struct slot **pp = &p->slots; *pp; pp = &(*pp)->next) {
        struct slot *s = *pp;
        if (strcmp(s->key, key))
            continue;
        p->in_flight--;
        if (--s->n == 0) {
            *pp = s->next;
            free(s);
        }
        break;
    }
    pthread_mutex_unlock(&p->mu);
}

void bulk_submit(struct bulk_pool *p, bulk_fn fn, void *ud)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->fn = fn;
    j->ud = ud;
    pthread_mutex_lock(&p->mu);
    if (p->stop) {
        pthread_mutex_unlock(&p->mu);
        fn(ud, true);
        free(j);
        return;
    }
    *p->tail = j;
    p->tail = &j->next;
    p->queued++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void bulk_counts(struct bulk_pool *p, unsigned *in_flight, unsigned *queued)
{
    pthread_mutex_lock(&p->mu);
    *in_flight = p->in_flight;
    *queued = p->queued;
    pthread_mutex_unlock(&p->mu);
}
