/* api_events.c: an item's history (GET /alerts/{id}/events and
 * /findings/{id}/events), oldest first, paged like every list: `limit`
 * (1..1000, default 100) and `cursor` = the next_cursor of the previous
 * page (null on the last one). */
#include <stdio.h>

#include "http/api.h"
#include "http/http.h"
#include "http/json_out.h"
#include "http/server.h"

#define EVENTS_DEFAULT 100
#define EVENTS_MAX 1000

struct page {
    json_t *items;
    int limit, n;
    int64_t last;
    bool more;
};

static int add_event(const struct sw_event *e, void *ud)
{
    struct page *p = ud;
    if (p->n == p->limit) {
        p->more = true;         /* the limit+1-th row: there is a next page */
        return 1;
    }
    json_t *data = e->data ? json_loads(e->data, 0, NULL) : NULL;
    json_array_append_new(p->items, json_pack("{s:I, s:s, s:s, s:o, s:o}", "id",
                                              (json_int_t)e->id, "type", e->type, "actor",
                                              e->actor, "at", json_time(e->at), "data",
                                              data ? data : json_null()));
    p->last = e->id;
    p->n++;
    return 0;
}

void api_events_page(struct req *r, const char *kind, const char *item_id)
{
    struct page p = {.items = json_array()};
    int64_t after = 0, limit = EVENTS_DEFAULT;
    if (q_int(r, "cursor", 0, INT64_MAX, &after) < 0 ||
        q_int(r, "limit", 1, EVENTS_MAX, &limit) < 0) {
        json_decref(p.items);
        return;
    }
    p.limit = (int)limit;
    int rc = store_event_list(r->srv->store, r->tenant_id, kind, item_id, after, p.limit + 1,
                              add_event, &p);
    if (rc < 0) {
        json_decref(p.items);
        http_fail(r, rc, "events");
        return;
    }
    char cur[32];
    snprintf(cur, sizeof(cur), "%lld", (long long)p.last);
    http_json(r, 200, json_pack("{s:o, s:o}", "items", p.items, "next_cursor",
                                p.more ? json_string(cur) : json_null()));
}
