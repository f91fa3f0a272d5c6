/* dryrun.c: the shared half of ?dry_run=true (dryrun.h); each PUT computes
 * its own change through its store op's dry-run form. */
#include "http/dryrun.h"

#include "http/http.h"
#include "store/store_proof.h"

int q_dry_run(struct req *r, bool *out)
{
    static const char *const words[] = {"false", "true"};
    int i = -1;
    *out = false;
    if (q_enum(r, "dry_run", words, 2, &i) < 0)
        return SW_E_INVAL;
    *out = i == 1;
    return 0;
}

void answer_dry_run(struct req *r, const struct sw_dry_run *d)
{
    r->changed_nothing = true;
    http_json(r, 200, json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "dry_run", 1,
                                "would_recalculate", (json_int_t)d->would_recalculate,
                                "earlier", (json_int_t)d->earlier, "later",
                                (json_int_t)d->later, "new_breaches",
                                (json_int_t)d->new_breaches, "rearmed", (json_int_t)d->rearmed,
                                "penalty_delta_cents", (json_int_t)d->penalty_delta_cents));
}
