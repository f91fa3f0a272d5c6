/* demo.c: `slawatch demo`, a realistic dashboard to look at in one command.
 *
 * A temporary SQLite database (on /dev/shm when there is one, removed on
 * exit) is filled in three phases, then served exactly as `serve` does:
 *
 *   1. history, through the store API before the server starts: four
 *      tenants on the four templates, 90 days of alerts whose times to
 *      acknowledge and to resolve are lognormal around a fraction of each
 *      target (per tenant: a strong team, an average one, a weaker one with
 *      a bad incident week; nights and weekends slower), so a few percent
 *      breach.  The history goes in before the scheduler runs because the
 *      scheduler, rightly, treats any clock it sees running past its due
 *      instant as a live breach: alerts that were acknowledged in time long
 *      ago would otherwise raise breaches in the seconds between their
 *      creation and their acknowledgement.  Clocks whose stop would lie in
 *      the future stay running: that is the open backlog, and those already
 *      past due are the active breaches the scheduler reports at start.
 *   2. the rest through the public HTTP API from a thread, once the server
 *      listens: the demo user (platform_admin, password printed once),
 *      findings in projects with pauses, closes and policy overrides,
 *      escalation chains, notification settings (websocket).
 *   3. live traffic through the same API every few seconds until SIGINT or
 *      SIGTERM: new alerts (some late enough to warn and breach within a
 *      minute), acknowledgements and resolutions.
 *
 * `listening on http://HOST:PORT` is printed once phases 1 and 2 are done,
 * followed by the login.  SLAWATCH_ADMIN_TOKEN is honoured as by serve. */
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config.h"
#include "core/sla.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/server.h"
#include "store/store.h"
#include "store/store_alerts.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xalloc.h"

#define HISTORY_DAYS 90
#define MIN_MS SLA_MS_PER_MIN
#define HOUR_MS SLA_MS_PER_HOUR
#define DAY_MS SLA_MS_PER_DAY

/* ---- the cast ------------------------------------------------------------ */

struct demo_tenant {
    const char *id, *name, *tmpl, *prefix;
    double ack_f, res_f;    /* median time as a fraction of the target */
    double sigma;           /* spread of the lognormal */
    int per_day;            /* alerts on an average weekday */
    const char *projects[3], *project_names[3];
};

static const struct demo_tenant TENANTS[] = {
    {"acme-bank", "Acme Bank", "enterprise", "ACME", 0.31, 0.33, 0.52, 40,
     {"core-banking", "payments", "mobile-app"}, {"Core banking", "Card payments", "Mobile app"}},
    {"globex", "Globex Corporation", "premium", "GLX", 0.38, 0.40, 0.56, 34,
     {"erp", "ecommerce", "corp-it"}, {"ERP", "E-commerce", "Corporate IT"}},
    {"initech", "Initech", "standard", "INI", 0.40, 0.40, 0.60, 26,
     {"tps-reports", "intranet", "billing"}, {"TPS reports", "Intranet", "Billing"}},
    {"gov-agency", "Federal Records Agency", "government", "GOV", 0.30, 0.32, 0.48, 20,
     {"records-portal", "identity", "archives"}, {"Records portal", "Identity", "Archives"}},
};
#define NTENANTS (sizeof(TENANTS) / sizeof(TENANTS[0]))

static const char *const TITLES[] = {
    "Brute-force login attempts on VPN gateway", "Impossible travel sign-in",
    "Beacon to known command-and-control domain", "Privilege escalation on domain controller",
    "Suspicious PowerShell encoded command", "DNS tunnelling pattern detected",
    "User clicked phishing link", "Ransomware canary file modified",
    "Unusual outbound SMB traffic", "New domain admin account created",
    "EDR sensor tamper attempt", "Internal host port scan",
    "MFA disabled on privileged account", "Anomalous cloud storage download",
    "Web shell detected on DMZ host", "Credential dumping (LSASS access)",
    "Malicious OAuth app consent", "Lateral movement via PsExec",
    "Known exploit attempt against public web server", "Mass file deletion on file share",
};
static const char *const SOURCES[] = {"crowdstrike", "splunk", "sentinel", "guardduty",
                                      "okta", "zscaler", "suricata", "defender"};
static const char *const ANALYSTS[] = {"j.morgan", "a.chen", "r.patel", "s.okafor",
                                       "m.garcia", "l.novak"};
static const char *const FINDINGS[] = {
    "OpenSSL out-of-bounds read (CVE-2024-5535)", "Apache Struts RCE", "Outdated TLS 1.0 enabled",
    "SQL injection in search endpoint", "Stored XSS in profile page", "Log4Shell in legacy service",
    "Default credentials on admin console", "SSRF in image fetcher", "Unpatched Exchange server",
    "Weak password policy", "Open S3 bucket with backups", "Kernel privilege escalation",
    "Missing security headers", "Jenkins script console exposed", "Expired certificate on API",
    "Directory listing enabled", "IDOR on invoices endpoint", "Outdated jQuery (XSS)",
};

/* ---- a small deterministic generator (splitmix64) --------------------------- */

struct rng {
    uint64_t s;
};

static uint64_t rnd_u64(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* (0, 1) */
static double rnd_unit(struct rng *r)
{
    return ((double)(rnd_u64(r) >> 11) + 0.5) / 9007199254740992.0;
}

static int rnd_int(struct rng *r, int n)
{
    return (int)(rnd_unit(r) * n);
}

static double rnd_normal(struct rng *r)
{
    return sqrt(-2.0 * log(rnd_unit(r))) * cos(2.0 * M_PI * rnd_unit(r));
}

static double rnd_lognormal(struct rng *r, double median, double sigma)
{
    return median * exp(sigma * rnd_normal(r));
}

/* critical 7 %, high 20 %, medium 38 %, low 35 % */
static enum sla_sev rnd_sev(struct rng *r)
{
    double u = rnd_unit(r);
    return u < 0.07 ? SLA_SEV_CRITICAL : u < 0.27 ? SLA_SEV_HIGH : u < 0.65 ? SLA_SEV_MEDIUM
                                                                          : SLA_SEV_LOW;
}

/* ---- phase 1: history through the store ---------------------------------------- */

struct hist_alert {
    char id[32];
    int64_t created, ack_at, res_at;    /* 0 = still running */
    const char *actor;
};

/* How slow the team is at instant t (1 = its usual pace). */
static double pace(const struct demo_tenant *t, int64_t at, int64_t now, struct rng *r)
{
    time_t s = (time_t)(at / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    double f = 1.0;
    if (tm.tm_hour < 7 || tm.tm_hour >= 21)
        f *= 1.25;                          /* the night shift is thinner */
    if (tm.tm_wday == 0 || tm.tm_wday == 6)
        f *= 1.3;
    double days_ago = (double)(now - at) / DAY_MS;
    if (!strcmp(t->id, "initech") && days_ago > 19 && days_ago < 23)
        f *= 2.6;                           /* the week of the ransomware incident */
    if (!strcmp(t->id, "globex"))
        f *= 0.85 + 0.45 * days_ago / HISTORY_DAYS;    /* a new shift lead: improving */
    return f * (0.9 + 0.2 * rnd_unit(r));
}

static int load_history(struct store *s, int64_t now, struct rng *r, long *n_alerts,
                        long *n_changes)
{
    int rc = 0;
    for (size_t ti = 0; ti < NTENANTS; ti++) {
        const struct demo_tenant *t = &TENANTS[ti];
        const struct sla_template *tp;
        if (sla_template_find(t->tmpl, &tp) < 0)
            return SW_E_INVAL;
        size_t cap = (size_t)t->per_day * HISTORY_DAYS * 2, n = 0;
        struct hist_alert *h = xcalloc(cap, sizeof(*h));
        struct sw_alert_new *in = xcalloc(cap, sizeof(*in));
        int64_t day0 = (now / DAY_MS - HISTORY_DAYS) * DAY_MS;
        for (int d = 0; d <= HISTORY_DAYS; d++) {
            int64_t start = day0 + (int64_t)d * DAY_MS;
            time_t ss = (time_t)(start / 1000);
            struct tm tm;
            gmtime_r(&ss, &tm);
            double vol = t->per_day * ((tm.tm_wday == 0 || tm.tm_wday == 6) ? 0.55 : 1.0) *
                         (0.8 + 0.4 * rnd_unit(r));
            for (int k = 0; k < (int)vol && n < cap; k++) {
                /* two thirds during the working day */
                int64_t ms = rnd_unit(r) < 0.66
                                 ? 8 * HOUR_MS + (int64_t)(rnd_unit(r) * 12 * HOUR_MS)
                                 : (int64_t)(rnd_unit(r) * DAY_MS);
                int64_t created = start + ms;
                if (created > now - 2 * MIN_MS)
                    continue;
                enum sla_sev sev = rnd_sev(r);
                double p = pace(t, created, now, r);
                double sevf = sev == SLA_SEV_CRITICAL ? 0.85 : sev == SLA_SEV_LOW ? 1.1 : 1.0;
                double ack_t = tp->ack_min[sev] * (double)MIN_MS;
                double res_t = tp->resolve_min[sev] * (double)MIN_MS;
                double ack = rnd_lognormal(r, t->ack_f * ack_t * p * sevf, t->sigma);
                double res = rnd_lognormal(r, t->res_f * res_t * p * sevf, t->sigma);
                if (ack < 20000)
                    ack = 20000 + rnd_unit(r) * 40000;
                if (res < ack + 2 * MIN_MS)
                    res = ack + 2 * MIN_MS + rnd_unit(r) * 10 * MIN_MS;
                struct hist_alert *a = &h[n];
                snprintf(a->id, sizeof(a->id), "%s-%05zu", t->prefix, 10000 + n);
                a->created = created;
                a->ack_at = created + (int64_t)ack <= now ? created + (int64_t)ack : 0;
                a->res_at = a->ack_at && created + (int64_t)res <= now ? created + (int64_t)res : 0;
                a->actor = ANALYSTS[rnd_int(r, 6)];
                in[n].tenant_id = t->id;
                in[n].id = a->id;
                in[n].sev = sev;
                in[n].title = TITLES[rnd_int(r, sizeof(TITLES) / sizeof(TITLES[0]))];
                in[n].source = SOURCES[rnd_int(r, sizeof(SOURCES) / sizeof(SOURCES[0]))];
                in[n].project_id = rnd_unit(r) < 0.6 ? t->projects[rnd_int(r, 3)] : NULL;
                in[n].created_at = created;
                n++;
            }
        }
        enum sw_alert_result *res = xcalloc(n ? n : 1, sizeof(*res));
        rc = store_alert_create_many(s, in, n, now, "demo", res);
        free(res);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            struct sw_alert out;
            struct sw_alert_change ch = {.actor = h[i].actor};
            char data[96];
            snprintf(data, sizeof(data), "{\"by\":\"%s\"}", h[i].actor);
            ch.data_json = data;
            if (h[i].ack_at) {
                ch.action = SW_ALERT_ACKNOWLEDGE;
                ch.at = h[i].ack_at;
                rc = store_alert_change(s, t->id, h[i].id, &ch, now, &out);
                (*n_changes)++;
            }
            if (rc == 0 && h[i].res_at) {
                ch.action = SW_ALERT_RESOLVE;
                ch.at = h[i].res_at;
                rc = store_alert_change(s, t->id, h[i].id, &ch, now, &out);
                (*n_changes)++;
            }
        }
        *n_alerts += (long)n;
        free(in);
        free(h);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int create_tenants(struct store *s, int64_t now)
{
    for (size_t i = 0; i < NTENANTS; i++) {
        struct sw_tenant t;
        memset(&t, 0, sizeof(t));
        snprintf(t.id, sizeof(t.id), "%s", TENANTS[i].id);
        snprintf(t.name, sizeof(t.name), "%s", TENANTS[i].name);
        snprintf(t.template_name, sizeof(t.template_name), "%s", TENANTS[i].tmpl);
        snprintf(t.timezone, sizeof(t.timezone), "UTC");
        t.created_at = now - (HISTORY_DAYS + 5) * DAY_MS;
        int rc = store_tenant_create(s, &t, NULL);
        for (int k = 0; rc == 0 && k < 3; k++) {
            struct sw_project p;
            memset(&p, 0, sizeof(p));
            snprintf(p.tenant_id, sizeof(p.tenant_id), "%s", t.id);
            snprintf(p.id, sizeof(p.id), "%s", TENANTS[i].projects[k]);
            snprintf(p.name, sizeof(p.name), "%s", TENANTS[i].project_names[k]);
            p.created_at = t.created_at;
            rc = store_project_create(s, &p, NULL);
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- phases 2 and 3: the HTTP API -------------------------------------------------- */

struct demo {
    char base[128];
    char token[AUTH_TOKEN_LEN + 1];
    CURL *curl;
    struct rng rng;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    /* live alerts the generator created and may move on */
    struct live_alert {
        char tenant[64], id[40];
        int state;          /* 0 open, 1 acknowledged */
        int64_t created;
    } live[256];
    size_t nlive;
    long seq;
};

struct buf {
    char *p;
    size_t n;
};

static size_t on_body(char *d, size_t sz, size_t nm, void *ud)
{
    struct buf *b = ud;
    size_t k = sz * nm;
    if (b->n + k > (1u << 20))
        return 0;
    b->p = xrealloc(b->p, b->n + k + 1);
    memcpy(b->p + b->n, d, k);
    b->n += k;
    b->p[b->n] = '\0';
    return k;
}

/* One call; the status (0 when the server cannot be reached), *out the
 * parsed JSON answer when asked for.  body steals nothing. */
static long call(struct demo *d, const char *method, const char *path, const char *body,
                 json_t **out)
{
    char url[1024], auth[AUTH_TOKEN_LEN + 32];
    snprintf(url, sizeof(url), "%s%s", d->base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", d->token);
    struct curl_slist *hd = curl_slist_append(NULL, auth);
    hd = curl_slist_append(hd, "Content-Type: application/json");
    struct buf b = {NULL, 0};
    CURL *c = d->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);   /* a demo on loopback */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hd);
    if (out)
        *out = b.p ? json_loads(b.p, 0, NULL) : NULL;
    if (status >= 400)
        log_debug("demo: %s %s: %ld %s", method, path, status, b.p ? b.p : "");
    free(b.p);
    return status;
}

/* As call with a JSON body built by json_pack (stolen). */
static long callj(struct demo *d, const char *method, const char *path, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    long st = call(d, method, path, text, NULL);
    free(text);
    return st;
}

static void iso(int64_t ms, char out[SLA_TIME_BUFSZ])
{
    sla_time_format(ms, out);
}

static void random_password(char out[20])
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char raw[16];
    randombytes_buf(raw, sizeof(raw));
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i && i % 4 == 0)
            out[k++] = '-';
        out[k++] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
    }
    out[k] = '\0';
}

/* Findings with a story: some closed, some paused once (resumed) or still
 * paused, spread over the projects and the last 60 days. */
static void load_findings(struct demo *d, int64_t now)
{
    static const char *const sevs[] = {"urgent", "critical", "high", "high", "medium",
                                       "medium", "medium", "low", "low"};
    static const char *const reasons[] = {"waiting for the vendor's patch",
                                          "change freeze before quarter close",
                                          "compensating control under review",
                                          "asset owner on leave"};
    static const char *const closes[] = {"closed", "closed", "closed", "false_positive",
                                         "accepted_risk"};
    char path[256], at[SLA_TIME_BUFSZ], at2[SLA_TIME_BUFSZ];
    for (size_t ti = 0; ti < NTENANTS; ti++) {
        const struct demo_tenant *t = &TENANTS[ti];
        for (int i = 0; i < 24; i++) {
            struct rng *r = &d->rng;
            char id[32];
            snprintf(id, sizeof(id), "VULN-%s-%03d", t->prefix, 100 + i);
            int64_t disc = now - (int64_t)(rnd_unit(r) * 60 * DAY_MS) - HOUR_MS;
            iso(disc, at);
            const char *sev = sevs[rnd_int(r, sizeof(sevs) / sizeof(sevs[0]))];
            callj(d, "POST", "/api/v1/findings",
                  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "tenant_id", t->id,
                            "project_id", t->projects[i % 3], "severity", sev, "title",
                            FINDINGS[rnd_int(r, sizeof(FINDINGS) / sizeof(FINDINGS[0]))],
                            "discovered_at", at));
            /* by index, so every tenant has each story: 0, 4: paused once
             * and resumed; 2: the same, then closed; 3, 6: still paused;
             * 1, 5: closed most of the time; 7: open */
            int story = i % 8;
            int64_t age = now - disc, last = disc;
            if (story == 0 || story == 2 || story == 3 || story == 4 || story == 6) {
                int64_t p0 = disc + (int64_t)(age * (0.1 + 0.3 * rnd_unit(r)));
                iso(p0, at);
                snprintf(path, sizeof(path), "/api/v1/findings/%s/pause?tenant_id=%s", id, t->id);
                callj(d, "POST", path, json_pack("{s:s, s:s}", "at", at, "reason",
                                                 reasons[rnd_int(r, 4)]));
                last = p0;
                if (story != 3 && story != 6) {
                    int64_t p1 = p0 + (int64_t)((now - p0) * (0.15 + 0.4 * rnd_unit(r)));
                    iso(p1, at2);
                    snprintf(path, sizeof(path), "/api/v1/findings/%s/resume?tenant_id=%s", id,
                             t->id);
                    callj(d, "POST", path, json_pack("{s:s}", "at", at2));
                    last = p1;
                }
            }
            if (story == 2 || ((story == 1 || story == 5) && rnd_unit(r) < 0.7)) {
                int64_t c = last + (int64_t)((now - last) * (0.3 + 0.6 * rnd_unit(r)));
                iso(c, at);
                snprintf(path, sizeof(path), "/api/v1/findings/%s/close?tenant_id=%s", id, t->id);
                callj(d, "POST", path, json_pack("{s:s, s:s}", "status",
                                                 closes[rnd_int(r, 5)], "at", at));
            }
        }
    }
}

static void load_settings(struct demo *d)
{
    char path[256];
    /* policies: PCI payments are stricter; the agency has its own defaults */
    callj(d, "PUT", "/api/v1/sla/policy/companies/acme-bank/projects/payments",
          json_pack("{s:i, s:i, s:i}", "urgent_hours", 12, "critical_hours", 48, "high_hours", 96));
    callj(d, "PUT", "/api/v1/sla/policy/companies/gov-agency",
          json_pack("{s:i, s:i, s:i}", "urgent_hours", 12, "critical_hours", 48, "high_hours", 120));
    callj(d, "PUT", "/api/v1/sla/policy/companies/initech/projects/billing",
          json_pack("{s:i}", "medium_hours", 360));
    for (size_t ti = 0; ti < NTENANTS; ti++) {
        const char *t = TENANTS[ti].id;
        snprintf(path, sizeof(path), "/api/v1/sla/notifications/%s/configure", t);
        callj(d, "POST", path, json_pack("{s:[s], s:[i,i,i]}", "channels", "websocket",
                                         "thresholds", 80, 90, 100));
        snprintf(path, sizeof(path), "/api/v1/sla/escalations/%s", t);
        long st = callj(d, "POST", path, json_pack(
            "{s:s, s:[{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s}]}",
            "severity", "critical", "chain",
            "level", "L1", "role", "SOC Analyst", "timeout_minutes", 10, "notification_method", "pager",
            "level", "L2", "role", "SOC Lead", "timeout_minutes", 20, "notification_method", "phone",
            "level", "Manager", "role", "SOC Manager", "timeout_minutes", 30, "notification_method", "phone",
            "level", "CISO", "role", "CISO", "timeout_minutes", 60, "notification_method", "email"));
        callj(d, "POST", path, json_pack(
            "{s:s, s:[{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s}]}",
            "severity", "high", "chain",
            "level", "L1", "role", "SOC Analyst", "timeout_minutes", 30, "notification_method", "slack",
            "level", "L2", "role", "SOC Lead", "timeout_minutes", 60, "notification_method", "pager",
            "level", "L3", "role", "Incident Response", "timeout_minutes", 120, "notification_method", "phone"));
        callj(d, "POST", path, json_pack(
            "{s:s, s:[{s:s,s:s,s:i,s:s},{s:s,s:s,s:i,s:s}]}", "severity", "medium", "chain",
            "level", "L1", "role", "SOC Analyst", "timeout_minutes", 240, "notification_method", "email",
            "level", "L2", "role", "SOC Lead", "timeout_minutes", 480, "notification_method", "slack"));
        if (st == 404 || st == 405)
            log_warn("demo: this build has no escalation chains endpoint (%ld): skipped", st);
    }
}

/* ---- phase 3: live traffic ---------------------------------------------------------- */

static void live_tick(struct demo *d)
{
    struct rng *r = &d->rng;
    int64_t now = sw_now_ms();
    char path[256], at[SLA_TIME_BUFSZ];
    /* a new alert most ticks; sometimes one that arrived late, so that it
     * warns and breaches within a minute or so */
    if (rnd_unit(r) < 0.75) {
        static const double weights[] = {0.35, 0.3, 0.2, 0.15};
        double u = rnd_unit(r), acc = 0;
        size_t ti = 0;
        for (; ti + 1 < NTENANTS; ti++)
            if (u < (acc += weights[ti]))
                break;
        const struct demo_tenant *t = &TENANTS[ti];
        const struct sla_template *tp;
        sla_template_find(t->tmpl, &tp);
        enum sla_sev sev = rnd_sev(r);
        if (rnd_unit(r) < 0.25)
            sev = SLA_SEV_CRITICAL;
        int64_t created = now;
        double v = rnd_unit(r);
        if (v < 0.22)   /* late: between 75 % and 98 % of its ack window already gone */
            created = now - (int64_t)(tp->ack_min[sev] * (double)MIN_MS * (0.75 + 0.23 * rnd_unit(r)));
        iso(created, at);
        struct live_alert *a = d->nlive < sizeof(d->live) / sizeof(d->live[0])
                                   ? &d->live[d->nlive++] : &d->live[rnd_int(r, 256)];
        snprintf(a->tenant, sizeof(a->tenant), "%s", t->id);
        snprintf(a->id, sizeof(a->id), "%s-L%04ld", t->prefix, ++d->seq);
        a->state = 0;
        a->created = created;
        callj(d, "POST", "/api/v1/alerts",
              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", a->id, "tenant_id", t->id,
                        "severity", sla_sev_name(sev), "title",
                        TITLES[rnd_int(r, sizeof(TITLES) / sizeof(TITLES[0]))], "source",
                        SOURCES[rnd_int(r, sizeof(SOURCES) / sizeof(SOURCES[0]))],
                        "created_at", at));
    }
    /* an analyst picks up the oldest open alert, another resolves one */
    if (d->nlive && rnd_unit(r) < 0.55) {
        size_t best = d->nlive;
        for (size_t i = 0; i < d->nlive; i++)
            if (d->live[i].state == 0 && now - d->live[i].created > 20000 &&
                (best == d->nlive || d->live[i].created < d->live[best].created))
                best = i;
        /* leave a few to breach: skip now and then */
        if (best < d->nlive && rnd_unit(r) < 0.8) {
            struct live_alert *a = &d->live[best];
            snprintf(path, sizeof(path), "/api/v1/alerts/%s/acknowledge?tenant_id=%s", a->id,
                     a->tenant);
            callj(d, "POST", path, json_pack("{s:s}", "by", ANALYSTS[rnd_int(r, 6)]));
            a->state = 1;
        }
    }
    if (d->nlive && rnd_unit(r) < 0.45) {
        size_t i = (size_t)rnd_int(r, (int)d->nlive);
        struct live_alert *a = &d->live[i];
        if (a->state == 1) {
            snprintf(path, sizeof(path), "/api/v1/alerts/%s/resolve?tenant_id=%s", a->id,
                     a->tenant);
            callj(d, "POST", path, json_pack("{s:s, s:s}", "by", ANALYSTS[rnd_int(r, 6)],
                                             "resolution", "true_positive"));
            d->live[i] = d->live[--d->nlive];
        }
    }
}

static void *live_main(void *ud)
{
    struct demo *d = ud;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        pthread_mutex_unlock(&d->mu);
        live_tick(d);
        pthread_mutex_lock(&d->mu);
        struct timespec ts = sw_deadline_ms(CLOCK_REALTIME, 1500 + rnd_int(&d->rng, 2500));
        while (!d->stop && pthread_cond_timedwait(&d->cv, &d->mu, &ts) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* ---- the command ------------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void usage_err(const char *msg, const char *arg)
{
    fprintf(stderr, "slawatch: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\nusage: slawatch demo [--listen HOST:PORT] [--seed N]\n");
}

int cli_demo(int argc, char **argv)
{
    struct cfg c;
    char err[512], dir[256] = "";
    struct store *s = NULL;
    struct server *srv = NULL;
    struct demo *d = NULL;
    pthread_t live_thread;
    bool live_started = false;
    int ret = 1;
    uint64_t seed = 20261122;

    cfg_init(&c);
    if (cfg_load_env(&c, err, sizeof(err)) < 0) {
        usage_err("%s", err);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            usage_err("%s needs a value", argv[i]);
            return 2;
        }
        if (!strcmp(argv[i], "--listen")) {
            if (cfg_set(&c, "listen", argv[++i], err, sizeof(err)) < 0) {
                usage_err("%s", err);
                return 2;
            }
        } else if (!strcmp(argv[i], "--seed")) {
            seed = strtoull(argv[++i], NULL, 10);
        } else {
            usage_err("unknown option '%s'", argv[i]);
            return 2;
        }
    }
    /* a throwaway database: in memory-backed /dev/shm when there is one */
    struct stat sb;
    const char *tmp = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0
                          ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(dir, sizeof(dir), "%s/slawatch-demo-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "slawatch: cannot create a temporary directory in %s: %s\n", tmp,
                strerror(errno));
        return 1;
    }
    char db[512];
    snprintf(db, sizeof(db), "sqlite:%s/demo.db", dir);
    if (cfg_set(&c, "db", db, err, sizeof(err)) < 0 || cfg_check(&c, err, sizeof(err)) < 0) {
        usage_err("%s", err);
        goto out;
    }
    /* Signals go to sigwait below, never to another thread: block them
     * before any thread exists (the store starts its writer thread).  A
     * Ctrl-C while loading is taken once the load is done, so the temporary
     * database is always removed. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (store_open(c.db, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "slawatch: %s\n", err);
        goto out;
    }

    d = xcalloc(1, sizeof(*d));
    d->rng.s = seed;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    int64_t now = sw_now_ms();
    auth_token_generate(d->token);
    if (auth_token_store(s, d->token, "demo loader", ROLE_PLATFORM_ADMIN, NULL, now, 0, NULL) < 0) {
        fprintf(stderr, "slawatch: cannot store the demo token\n");
        goto out;
    }
    const char *env = getenv("SLAWATCH_ADMIN_TOKEN");
    if (env && *env &&
        auth_token_store(s, env, "bootstrap (SLAWATCH_ADMIN_TOKEN)", ROLE_PLATFORM_ADMIN, NULL,
                         now, 0, NULL) < 0) {
        fprintf(stderr, "slawatch: cannot store SLAWATCH_ADMIN_TOKEN\n");
        goto out;
    }

    /* phase 1 */
    uint64_t t0 = sw_mono_ns();
    long n_alerts = 0, n_changes = 0;
    int rc = create_tenants(s, now);
    if (rc == 0)
        rc = load_history(s, now, &d->rng, &n_alerts, &n_changes);
    if (rc < 0) {
        fprintf(stderr, "slawatch: cannot load the demo history: %s\n", sw_strerror(rc));
        goto out;
    }
    log_info("demo: %zu tenants, %ld alerts over %d days (%ld acknowledgements and "
             "resolutions) in %.1f s", NTENANTS, n_alerts, HISTORY_DAYS, n_changes,
             (double)(sw_mono_ns() - t0) / 1e9);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (server_start(&c, s, &srv, err, sizeof(err)) < 0) {
        fprintf(stderr, "slawatch: %s\n", err);
        goto out;
    }

    /* phase 2, through the API */
    const char *h = c.listen_host;
    const char *scheme = srv->tls ? "https" : "http";
    const char *ch = !strcmp(h, "0.0.0.0") ? "127.0.0.1" : !strcmp(h, "::") ? "::1" : h;
    if (strchr(ch, ':'))
        snprintf(d->base, sizeof(d->base), "%s://[%s]:%d", scheme, ch, srv->port);
    else
        snprintf(d->base, sizeof(d->base), "%s://%s:%d", scheme, ch, srv->port);
    d->curl = curl_easy_init();
    char password[20];
    random_password(password);
    long st = callj(d, "POST", "/api/v1/users",
                    json_pack("{s:s, s:s, s:s, s:[{s:s}]}", "id", "demo", "email",
                              "demo@slawatch.local", "password", password, "roles", "role",
                              "platform_admin"));
    if (st != 201) {
        fprintf(stderr, "slawatch: cannot create the demo user (HTTP %ld)\n", st);
        goto out;
    }
    t0 = sw_mono_ns();
    load_settings(d);
    load_findings(d, sw_now_ms());
    log_info("demo: findings, policies, escalation chains and notification settings in %.1f s",
             (double)(sw_mono_ns() - t0) / 1e9);

    if (strchr(h, ':'))
        printf("listening on %s://[%s]:%d\n", scheme, h, srv->port);
    else
        printf("listening on %s://%s:%d\n", scheme, h, srv->port);
    printf("dashboard: %s/sla-dashboard\n", d->base);
    printf("login: demo@slawatch.local / %s  (platform_admin; shown once)\n", password);
    printf("demo data in %s (removed on exit); Ctrl-C stops\n", dir);
    fflush(stdout);

    /* phase 3 */
    if (pthread_create(&live_thread, NULL, live_main, d) == 0)
        live_started = true;
    int sig = 0;
    sigwait(&set, &sig);
    log_info("%s: stopping the demo", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    ret = 0;
out:
    if (live_started) {
        pthread_mutex_lock(&d->mu);
        d->stop = true;
        pthread_cond_signal(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(live_thread, NULL);
    }
    if (d && d->curl)
        curl_easy_cleanup(d->curl);
    server_stop(srv);
    if (s)
        store_close(s);
    if (d) {
        pthread_mutex_destroy(&d->mu);
        pthread_cond_destroy(&d->cv);
        sodium_memzero(d->token, sizeof(d->token));
        free(d);
    }
    if (dir[0] && strstr(dir, "slawatch-demo-"))
        nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return ret;
}
