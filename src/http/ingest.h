/* ingest: documents of the tools SOCs run, turned into alerts and findings.
 *
 * Three sources share one shape: a body holds elements (Alertmanager's
 * alerts, a DefectDojo page's results, a generic integration's objects),
 * each element maps to one item (an alert or a finding as its source sees
 * it) or to an error naming the JSON pointer that did not map.  This
 * module is pure (no store, no request): api_ingest.c runs it on a bulk
 * worker and writes the items through the store's sync paths; the unit
 * tests and the fuzzer call it directly.
 *
 * Hostile input: every string that reaches an item is bounded and checked
 * here: ids by http_id_valid, free text cleaned (control characters become
 * spaces, over-long text is cut at a character boundary: a tool's title is
 * not refused for a newline), instants within the usual skew.
 *
 *   ingest_util.c      JSON pointers, instants in the formats tools write,
 *                      text cleaning, FIELD specs shared by the mappings
 *   ingest_sources.c   Alertmanager (webhook version 4) and DefectDojo (API v2)
 *   ingest_map.c       generic integrations: a mapping by JSON pointers
 */
#ifndef SW_HTTP_INGEST_H
#define SW_HTTP_INGEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store_alerts.h"
#include "store/store_findings.h"

#define INGEST_FUTURE_SKEW_MS (5 * SLA_MS_PER_MIN)
#define INGEST_POINTER_MAX 512          /* bytes of one JSON pointer */
#define INGEST_MAP_MAX 256              /* entries of one value map */
#define INGEST_MAP_KEY_MAX 256

enum ingest_kind { INGEST_ALERT, INGEST_FINDING };

/* One element's item.  The strings of alert / finding point into the
 * item's own buffers: an item is filled in place and not moved. */
struct ingest_item {
    enum ingest_kind kind;
    bool skip;                          /* nothing to track (DefectDojo's Info): unchanged */
    struct sw_alert_new alert;          /* kind alert: sync = true */
    struct sw_finding_sync finding;     /* kind finding */
    char id[SW_ID_MAX + 1];
    char project_id[SW_ID_MAX + 1];
    char title[SW_FINDING_TITLE_MAX + 1];
    char source[SW_SOURCE_MAX + 1];
};

/* Why an element did not map: field is a JSON pointer into the element
 * ("/labels/severity", a mapping's pointer), or "" for the element. */
struct ingest_err {
    char field[INGEST_POINTER_MAX + 1];
    char msg[256];
};

/* ---- ingest_util.c ---------------------------------------------------------- */

/* RFC 6901: the value at ptr in doc ("" is doc itself), or NULL. */
json_t *ingest_pointer(json_t *doc, const char *ptr);
/* A valid pointer: "" or "/"-separated tokens, "~" only as ~0 or ~1, at
 * most INGEST_POINTER_MAX bytes, no NUL. */
bool ingest_pointer_valid(const char *ptr);

/* Instants as tools write them. */
enum ingest_time_fmt {
    INGEST_TIME_AUTO,       /* a string: RFC 3339 (also "+hhmm" offsets, a space for T, no
                               zone = UTC, a date alone = its midnight UTC) or digits; a
                               number: epoch seconds below 1e11, else milliseconds */
    INGEST_TIME_RFC3339,    /* strings only, as above */
    INGEST_TIME_EPOCH_S,    /* seconds (fractions kept to the ms), number or digits */
    INGEST_TIME_EPOCH_MS,
};
int ingest_time_fmt_parse(const char *s, enum ingest_time_fmt *out);
/* v as an instant: 0 with *out, or SW_E_INVAL (not an instant, before 1970
 * or after 9999). */
int ingest_time(json_t *v, enum ingest_time_fmt fmt, int64_t *out);

/* s (len bytes of UTF-8, not necessarily valid) as free text for out (cap
 * bytes with the NUL): invalid bytes and everything http_text_valid
 * refuses become spaces, runs of spaces one, ends trimmed, cut at a
 * character boundary. */
void ingest_text(const char *s, size_t len, char *out, size_t cap);
/* A scalar as text (strings as they are, integers and reals in decimal,
 * true/false); NULL for null, objects and arrays.  buf holds numbers. */
const char *ingest_scalar(json_t *v, char *buf, size_t cap, size_t *len);

/* A FIELD of a mapping: "/pointer", or {"pointer", "map", "default",
 * "format"}.  Parsed once, applied to every element. */
struct ingest_field {
    bool set;
    char pointer[INGEST_POINTER_MAX + 1];   /* "" with has_pointer false: a constant */
    bool has_pointer;
    json_t *map;                            /* object, values checked; owned, or NULL */
    char *dflt;                             /* owned, or NULL */
    enum ingest_time_fmt fmt;
};

/* Parses j (NULL: unset) into f; name is the field's name for errors
 * ("severity"); check(value) says whether a map value or the default is
 * acceptable (NULL: any text).  SW_E_INVAL with e->field "name.map.KEY"
 * style and a message. */
int ingest_field_parse(json_t *j, const char *name, bool (*check)(const char *value),
                       struct ingest_field *f, struct ingest_err *e);
void ingest_field_free(struct ingest_field *f);
/* The field's text for doc: the value at its pointer (as ingest_scalar),
 * through its map (keys compared exactly, then lower-cased), else its
 * default.  1 with *out (and *len), 0 when there is none (absent or null,
 * no default), SW_E_INVAL when a value is there but not in the map and
 * there is no default (*out: that value, for the message).  buf (cap
 * bytes) holds what is not in doc. */
int ingest_field_text(const struct ingest_field *f, json_t *doc, char *buf, size_t cap,
                      const char **out, size_t *len);
/* The field's instant: 0 and *out (0 when absent or null), or SW_E_INVAL. */
int ingest_field_time(const struct ingest_field *f, json_t *doc, int64_t *out);

/* Error helper: sets e and returns SW_E_INVAL. */
int ingest_fail(struct ingest_err *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- ingest_sources.c --------------------------------------------------------- */

/* A tenant's Alertmanager settings (the integration "alertmanager", kind
 * alertmanager): the severity FIELD over each alert ("/labels/severity",
 * the contract's map, default low). */
struct ingest_am {
    struct ingest_field severity;
};
/* cfg: the stored mapping object, or NULL for the defaults. */
int ingest_am_parse(json_t *cfg, struct ingest_am *out, struct ingest_err *e);
void ingest_am_free(struct ingest_am *am);
/* The body's alerts array, after checking the body is a version 4 webhook
 * (SW_E_INVAL naming /version or /alerts).  *status: the top-level status
 * (used for alerts without their own). */
int ingest_am_body(json_t *body, json_t **alerts, const char **status, struct ingest_err *e);
/* One alert of the body into it (tenant_id borrowed). */
int ingest_am_alert(const struct ingest_am *am, json_t *alert, const char *group_status,
                    const char *tenant_id, int64_t now, struct ingest_item *it,
                    struct ingest_err *e);

/* A DefectDojo body: a page {"results": [...]} (*results the array) or one
 * finding (*results = NULL, *one = the object).  SW_E_INVAL naming /results. */
int ingest_dd_body(json_t *body, json_t **results, json_t **one, struct ingest_err *e);
/* One DefectDojo finding into it (tenant_id, project_id borrowed; project
 * NULL = none). */
int ingest_dd_finding(json_t *f, const char *tenant_id, const char *project_id, int64_t now,
                      struct ingest_item *it, struct ingest_err *e);

/* ---- ingest_map.c -------------------------------------------------------------------- */

struct ingest_mapping;

/* Compiles a generic mapping (the integration's "mapping" object);
 * *out is the caller's (ingest_mapping_free).  SW_E_INVAL with e->field
 * naming the mapping's field ("mapping.state.map.closed"). */
int ingest_mapping_parse(json_t *mapping, struct ingest_mapping **out, struct ingest_err *e);
void ingest_mapping_free(struct ingest_mapping *m);
enum ingest_kind ingest_mapping_kind(const struct ingest_mapping *m);
/* One document into it; e->field is the mapping's pointer that did not map. */
int ingest_mapping_apply(const struct ingest_mapping *m, json_t *doc, const char *tenant_id,
                         const char *source, int64_t now, struct ingest_item *it,
                         struct ingest_err *e);

#endif
