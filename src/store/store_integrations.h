/* store_integrations.h: the integrations subject of store.h: per tenant,
 * how another tool's documents become alerts or findings (issue 15).
 *
 * The store keeps an integration's configuration as the JSON text the
 * HTTP layer validated (src/http/ingest.h reads it); it does not look
 * inside.  Nothing is cached: an ingest request reads its integration
 * (one primary-key lookup), so a change on one node holds on every node
 * from the next request. */
#ifndef SW_STORE_INTEGRATIONS_H
#define SW_STORE_INTEGRATIONS_H

#include "store/store.h"

#define SW_INTEGRATION_KIND_MAX 31

struct sw_integration {
    char tenant_id[SW_ID_MAX + 1];
    char id[SW_ID_MAX + 1];
    char kind[SW_INTEGRATION_KIND_MAX + 1];
    char *config;                       /* JSON text; owned (sw_integration_clear) */
    int64_t created_at, updated_at;
    char updated_by[SW_NAME_MAX + 32];
};

/* Frees what a get or list filled in (config); the struct may be reused. */
void sw_integration_clear(struct sw_integration *x);

typedef int (*store_integration_cb)(const struct sw_integration *x, void *ud);

struct store_integration_ops {
    /* Creates or replaces (tenant_id, id): *created tells which.  config is
     * borrowed.  SW_E_NOTFOUND: no such tenant. */
    int (*put)(struct store *s, const char *tenant_id, const char *id, const char *kind,
               const char *config, int64_t now, const char *actor, bool *created);
    /* SW_E_NOTFOUND when there is none. */
    int (*get)(struct store *s, const char *tenant_id, const char *id,
               struct sw_integration *out);
    /* A tenant's integrations by id (x valid in the callback only). */
    int (*list)(struct store *s, const char *tenant_id, store_integration_cb cb, void *ud);
    /* SW_E_NOTFOUND when there is none. */
    int (*del)(struct store *s, const char *tenant_id, const char *id);
};

static inline int store_integration_put(struct store *s, const char *tenant_id, const char *id,
                                        const char *kind, const char *config, int64_t now,
                                        const char *actor, bool *created)
{ return s->integrations->put(s, tenant_id, id, kind, config, now, actor, created); }
static inline int store_integration_get(struct store *s, const char *tenant_id, const char *id,
                                        struct sw_integration *out)
{ return s->integrations->get(s, tenant_id, id, out); }
static inline int store_integration_list(struct store *s, const char *tenant_id,
                                         store_integration_cb cb, void *ud)
{ return s->integrations->list(s, tenant_id, cb, ud); }
static inline int store_integration_delete(struct store *s, const char *tenant_id, const char *id)
{ return s->integrations->del(s, tenant_id, id); }

#endif
