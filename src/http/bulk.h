/* bulk: bulk imports run on their own small pool of threads, never on the
 * HTTP threads.
 *
 * An NDJSON import of 60 MB parses and writes for seconds.  On one of the
 * two HTTP threads it would hold every connection that thread serves (and
 * two imports, both threads: everyone) for that long.  So the handler
 * suspends its connection (http_defer), hands the buffered body to a bulk
 * worker and returns; the worker answers and resumes the connection.
 *
 * Admission: an import holds a slot from its headers (before its body is
 * read: the body is buffered, up to max_bulk_bytes) until it is answered.
 * At most max_total slots in all and max_per_key per key (the caller's
 * tenant); beyond, the server answers 429 with Retry-After before reading
 * the body.  Workers take the admitted imports in order; with one worker
 * they run one at a time, and interactive requests keep the HTTP threads
 * and the other CPU. */
#ifndef SW_HTTP_BULK_H
#define SW_HTTP_BULK_H

#include <stdbool.h>

struct bulk_pool;

/* The job: cancelled when the pool stops before it ran (answer 503). */
typedef void (*bulk_fn)(void *ud, bool cancelled);

int bulk_pool_start(unsigned workers, unsigned max_total, unsigned max_per_key,
                    struct bulk_pool **out);
/* Jobs not started run with cancelled = true; running ones are waited for
 * (a long one should watch bulk_stopping).  From then on bulk_admit
 * refuses and bulk_submit cancels at once; the pool stays usable for
 * bulk_release until bulk_pool_free.  NULL is fine for both. */
void bulk_pool_stop(struct bulk_pool *p);
void bulk_pool_free(struct bulk_pool *p);
bool bulk_stopping(struct bulk_pool *p);

/* A slot for key: 0, or SW_E_BUSY when key or the pool is full. */
int bulk_admit(struct bulk_pool *p, const char *key);
void bulk_release(struct bulk_pool *p, const char *key);
/* Runs fn(ud, ...) on a worker, in submission order. */
void bulk_submit(struct bulk_pool *p, bulk_fn fn, void *ud);

/* In flight (admitted, not released) and queued (submitted, not started). */
void bulk_counts(struct bulk_pool *p, unsigned *in_flight, unsigned *queued);

#endif
