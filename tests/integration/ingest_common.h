/* ingest_common.h: helpers shared by the ingest integration tests
 * (test_ingest.c: history, Alertmanager, DefectDojo, limits;
 * test_ingest_generic.c: generic integrations): instants as tools write
 * them, posts and their counts and errors, tracking records and findings,
 * a webhook receiver that counts what was told. */
#ifndef SW_TEST_INGEST_COMMON_H
#define SW_TEST_INGEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_sinks.h"

#define MIN_MS 60000LL
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define SECRET "whsec-ingest-0123456789"

static inline int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ms → "2026-11-22T10:00:00.123Z" */
static inline char *iso(int64_t ms, char *buf)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, 40, "%s.%03dZ", base, (int)(ms % 1000));
    return buf;
}

static inline long post(struct sw_server *s, const char *path, const char *token, const char *ctype,
                 const char *body, struct http_resp *out)
{
    struct http_resp r;
    http_req(s, "POST", path, token, ctype ? ctype : "application/json", body, strlen(body),
             out ? out : &r);
    long st = out ? out->status : r.status;
    if (!out)
        http_free(&r);
    return st;
}

static inline json_t *get_json(struct sw_server *s, const char *path, long want)
{
    struct http_resp r;
    long st = api(s, "GET", path, ADMIN_TOKEN, NULL, &r);
    if (st != want)
        fail_msg("GET %s answered %ld: %s", path, st, r.body ? r.body : "");
    json_t *j = json_incref(r.json);
    http_free(&r);
    return j;
}

static inline const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static inline long long jint(json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* The answer's counts as "created/…/unchanged", errors as "index:field;…" */
static inline void assert_counts(struct http_resp *r, const char *const *keys, const long long *want)
{
    for (size_t i = 0; keys[i]; i++)
        if (jint(r->json, keys[i]) != want[i])
            fail_msg("%s: %lld, want %lld: %s", keys[i], jint(r->json, keys[i]), want[i],
                     r->body);
}

static inline void errors_of(struct http_resp *r, char *out, size_t len)
{
    out[0] = '\0';
    json_t *errs = json_object_get(r->json, "errors");
    for (size_t i = 0; i < json_array_size(errs); i++) {
        json_t *e = json_array_get(errs, i);
        size_t k = strlen(out);
        snprintf(out + k, len - k, "%s%lld:%s", k ? ";" : "", jint(e, "index"), jstr(e, "field"));
    }
}

/* Requests the webhook receiver got about an item. */
static inline size_t hook_count_item(struct http_sink *h, const char *item)
{
    size_t n = 0;
    for (size_t i = 0; i < http_sink_count(h); i++) {
        struct sink_request q;
        if (!http_sink_get(h, i, &q))
            continue;
        json_t *j = json_loads(q.body, 0, NULL);
        n += !strcmp(jstr(j, "item_id"), item);
        json_decref(j);
        sink_request_free(&q);
    }
    return n;
}

/* The alert's or finding's events that are notices (sla.*). */
static inline int sla_events(struct sw_server *s, const char *kind, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/%s/%s/events?tenant_id=%s", kind, id, tenant);
    json_t *j = get_json(s, path, 200);
    int n = 0;
    json_t *items = json_object_get(j, "items");
    for (size_t i = 0; i < json_array_size(items); i++)
        n += !strncmp(jstr(json_array_get(items, i), "type"), "sla.", 4);
    json_decref(j);
    return n;
}

static inline json_t *tracking(struct sw_server *s, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/sla/alerts/%s/tracking?tenant_id=%s", id, tenant);
    return get_json(s, path, 200);
}

static inline json_t *finding(struct sw_server *s, const char *tenant, const char *id)
{
    char path[512];
    snprintf(path, sizeof(path), "/api/v1/findings/%s?tenant_id=%s", id, tenant);
    return get_json(s, path, 200);
}

static inline void configure_hook(struct sw_server *s, const char *tenant, struct http_sink *h)
{
    char body[512], path[256];
    snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", tenant);
    snprintf(body, sizeof(body),
             "{\"channels\":[\"webhook\"],\"recipients\":{\"webhook\":"
             "[\"http://127.0.0.1:%d/hook\"]},\"thresholds\":[50,80,100],"
             "\"webhook_secret\":\"" SECRET "\"}", http_sink_port(h));
    assert_int_equal(api(s, "POST", path, ADMIN_TOKEN, body, NULL), 200);
}

#endif
