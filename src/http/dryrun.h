/* dryrun.h: ?dry_run=true on the policy and definition PUTs (issue 17):
 * the change is computed, nothing is stored or notified, and the answer
 * says what it would do (dryrun.c). */
#ifndef SW_HTTP_DRYRUN_H
#define SW_HTTP_DRYRUN_H

#include <stdbool.h>

struct req;
struct sw_dry_run;

/* ?dry_run=true|false (absent: false); 422 answered → negative. */
int q_dry_run(struct req *r, bool *out);
/* 200 {dry_run: true, would_recalculate, earlier, later, new_breaches,
 * rearmed, penalty_delta_cents}; no audit record (nothing changed). */
void answer_dry_run(struct req *r, const struct sw_dry_run *d);

#endif
