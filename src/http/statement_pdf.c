/* statement_pdf.c: the monthly service-credit statement laid out as PDF
 * (statement.h).  The numbers come in as the JSON the API answers
 * (api_statement.c gathers them), so the PDF can only say what the
 * endpoints say.
 *
 * Why cairo and pango: Debian's cairo writes PDF with embedded, subset
 * fonts, and pango shapes any script a tenant's name or an alert id may be
 * written in (fontconfig finds the fonts); both are maintained and
 * packaged for every Debian release.  Writing PDF by hand would limit text
 * to the standard fonts' Latin-1.
 *
 * Layout: A4 portrait in points, one column; the breaches table continues
 * on as many pages as it needs, its header repeated on each; every page
 * names the tenant, the month and its number. */
#include <cairo-pdf.h>
#include <pango/pangocairo.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/statement.h"
#include "util/err.h"

#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 48.0
#define BOTTOM (PAGE_H - MARGIN - 24.0)     /* the footer below */
#define ROW_H 13.5

struct pdf {
    cairo_t *cr;
    PangoContext *ctx;
    double y;
    int page;
    const char *footer;
};

/* Text at (x, y) in a box w wide (w <= 0: as wide as it is), aligned
 * left, right (align 1) or centred (2); the height it took. */
static double text(struct pdf *p, double x, double y, double w, const char *font, int align,
                   const char *s)
{
    PangoLayout *l = pango_layout_new(p->ctx);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(l, fd);
    pango_font_description_free(fd);
    if (w > 0) {
        pango_layout_set_width(l, (int)(w * PANGO_SCALE));
        pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
        pango_layout_set_alignment(l, align == 1 ? PANGO_ALIGN_RIGHT
                                      : align == 2 ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
    }
    pango_layout_set_text(l, s ? s : "", -1);
    cairo_move_to(p->cr, x, y);
    pango_cairo_show_layout(p->cr, l);
    int pw, ph;
    pango_layout_get_size(l, &pw, &ph);
    g_object_unref(l);
    return (double)ph / PANGO_SCALE;
}

static void rule(struct pdf *p, double y)
{
    cairo_set_line_width(p->cr, 0.5);
    cairo_move_to(p->cr, MARGIN, y);
    cairo_line_to(p->cr, PAGE_W - MARGIN, y);
    cairo_stroke(p->cr);
}

static void footer(struct pdf *p)
{
    char buf[320];
    snprintf(buf, sizeof(buf), "%s  ·  page %d", p->footer, p->page);
    cairo_set_source_rgb(p->cr, 0.4, 0.4, 0.4);
    text(p, MARGIN, PAGE_H - MARGIN, PAGE_W - 2 * MARGIN, "Sans 8", 2, buf);
    cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static void new_page(struct pdf *p)
{
    footer(p);
    cairo_show_page(p->cr);
    p->page++;
    p->y = MARGIN;
}

/* Cents as "1,234.56" (negative with a sign). */
static void money(int64_t cents, char *buf, size_t len)
{
    char digits[32];
    uint64_t v = cents < 0 ? (uint64_t)(-(cents + 1)) + 1 : (uint64_t)cents;
    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)(v / 100));
    char grouped[48];
    size_t n = strlen(digits), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            grouped[k++] = ',';
        grouped[k++] = digits[i];
    }
    grouped[k] = '\0';
    snprintf(buf, len, "%s%s.%02llu", cents < 0 ? "-" : "", grouped,
             (unsigned long long)(v % 100));
}

static int64_t jint(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* "2026-09-10T10:31:00.000Z" → "2026-09-10 10:31" (UTC). */
static void when(const char *iso, char *buf, size_t len)
{
    if (strlen(iso) < 16) {
        snprintf(buf, len, "%s", iso);
        return;
    }
    snprintf(buf, len, "%.10s %.5s", iso, iso + 11);
}

/* ---- sections ----------------------------------------------------------------- */

static void header(struct pdf *p, const json_t *st)
{
    p->y += text(p, MARGIN, p->y, 0, "Sans Bold 22", 0, "Service-credit statement") + 6;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s (%s)", jstr(st, "tenant_name"), jstr(st, "tenant_id"));
    p->y += text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, "Sans Bold 12", 0, buf) + 2;
    snprintf(buf, sizeof(buf), "Month %s, %s to %s (%s)", jstr(st, "month"),
             jstr(st, "start_date"), jstr(st, "end_date"), jstr(st, "timezone"));
    p->y += text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, "Sans 10", 0, buf) + 1;
    snprintf(buf, sizeof(buf), "Issued %s UTC", jstr(st, "generated_at"));
    p->y += text(p, MARGIN, p->y, PAGE_W - 2 * MARGIN, "Sans 10", 0, buf) + 10;
    rule(p, p->y);
    p->y += 10;
}

static const double COMP_X[] = {0, 110, 170, 230, 300, 390};
static const char *const COMP_H[] = {"Severity", "Items", "Met", "Breached", "Compliance",
                                     "Grade"};

static void compliance(struct pdf *p, const json_t *st)
{
    p->y += text(p, MARGIN, p->y, 0, "Sans Bold 13", 0, "Compliance by severity") + 6;
    for (int i = 0; i < 6; i++)
        text(p, MARGIN + COMP_X[i], p->y, 0, "Sans Bold 10", 0, COMP_H[i]);
    p->y += ROW_H + 2;
    const json_t *by = json_object_get(st, "by_severity");
    size_t i;
    const json_t *row;
    json_array_foreach(by, i, row) {
        char c[5][32];
        snprintf(c[0], 32, "%lld", (long long)jint(row, "total"));
        snprintf(c[1], 32, "%lld", (long long)jint(row, "met"));
        snprintf(c[2], 32, "%lld", (long long)jint(row, "breached"));
        const json_t *pct = json_object_get(row, "compliance_pct");
        if (json_is_number(pct))
            snprintf(c[3], 32, "%.2f %%", json_number_value(pct));
        else
            snprintf(c[3], 32, "no items");
        snprintf(c[4], 32, "%s", json_is_string(json_object_get(row, "grade"))
                                     ? jstr(row, "grade") : "-");
        text(p, MARGIN + COMP_X[0], p->y, 0, "Sans 10", 0, jstr(row, "severity"));
        for (int k = 0; k < 5; k++)
            text(p, MARGIN + COMP_X[k + 1], p->y, 0, "Sans 10", 0, c[k]);
        p->y += ROW_H;
    }
    p->y += 12;
}

/* x of each column and its width (right-aligned numbers) */
static const struct { double x, w; int align; const char *h; } BR[] = {
    {0, 70, 0, "Alert"}, {72, 38, 0, "Severity"}, {112, 26, 0, "Clock"},
    {140, 78, 0, "Due (UTC)"}, {220, 78, 0, "Stopped (UTC)"}, {300, 40, 1, "Minutes"},
    {342, 30, 1, "Hours"}, {374, 56, 1, "Rate/h"}, {432, 67, 1, "Credit"},
};
#define NBR (sizeof(BR) / sizeof(BR[0]))

static void breach_head(struct pdf *p)
{
    for (size_t k = 0; k < NBR; k++)
        text(p, MARGIN + BR[k].x, p->y, BR[k].w, "Sans Bold 8", BR[k].align, BR[k].h);
    p->y += ROW_H;
    rule(p, p->y);
    p->y += 2;
}

static void breaches(struct pdf *p, const json_t *st)
{
    const json_t *list = json_object_get(st, "breaches");
    const json_t *items = json_object_get(list, "items");
    p->y += text(p, MARGIN, p->y, 0, "Sans Bold 13", 0, "Breaches and credits") + 6;
    if (json_array_size(items) == 0) {
        p->y += text(p, MARGIN, p->y, 0, "Sans 10", 0, "No billed breach this month.") + 12;
        return;
    }
    breach_head(p);
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it) {
        if (p->y + ROW_H > BOTTOM) {
            new_page(p);
            breach_head(p);
        }
        char c[NBR][96];
        snprintf(c[0], 96, "%s", jstr(it, "alert_id"));
        snprintf(c[1], 96, "%s", jstr(it, "severity"));
        snprintf(c[2], 96, "%s", !strcmp(jstr(it, "clock"), "ack") ? "MTTA" : "MTTR");
        when(jstr(it, "due_at"), c[3], 96);
        when(jstr(it, "stopped_at"), c[4], 96);
        snprintf(c[5], 96, "%.0f", json_number_value(json_object_get(it, "overage_min")));
        snprintf(c[6], 96, "%lld", (long long)jint(it, "hours_billed"));
        money(jint(it, "rate_cents_per_hour"), c[7], 96);
        money(jint(it, "amount_cents"), c[8], 96);
        for (size_t k = 0; k < NBR; k++)
            text(p, MARGIN + BR[k].x, p->y, BR[k].w, "Sans 8", BR[k].align, c[k]);
        p->y += ROW_H;
    }
    if (json_is_true(json_object_get(list, "truncated"))) {
        char buf[160];
        snprintf(buf, sizeof(buf), "Only the first %zu breaches are listed; the totals below "
                 "cover the whole month.", json_array_size(items));
        p->y += text(p, MARGIN, p->y + 4, PAGE_W - 2 * MARGIN, "Sans Italic 9", 0, buf) + 4;
    }
    p->y += 12;
}

static void totals(struct pdf *p, const json_t *st)
{
    const json_t *sum = json_object_get(st, "summary");
    if (p->y + 8 * ROW_H > BOTTOM)
        new_page(p);
    p->y += text(p, MARGIN, p->y, 0, "Sans Bold 13", 0, "Totals") + 6;
    char a[64], b[64], c[64], d[64];
    money(jint(sum, "total_cents"), a, sizeof(a));
    money(jint(sum, "credited_cents"), c, sizeof(c));
    money(jint(sum, "excess_cents"), d, sizeof(d));
    const json_t *cap = json_object_get(sum, "cap_cents");
    if (json_is_integer(cap))
        money(json_integer_value(cap), b, sizeof(b));
    else
        snprintf(b, sizeof(b), "none");
    const char *rows[][2] = {
        {"Penalties (MTTR and MTTA breaches)", a},
        {"Monthly cap", b},
        {"Cap applied", json_is_true(json_object_get(sum, "capped")) ? "yes" : "no"},
        {"Above the cap (not credited)", d},
        {"Service credit due", c},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *font = i + 1 == sizeof(rows) / sizeof(rows[0]) ? "Sans Bold 10" : "Sans 10";
        text(p, MARGIN, p->y, 0, font, 0, rows[i][0]);
        text(p, MARGIN + 250, p->y, 120, font, 1, rows[i][1]);
        p->y += ROW_H + 3;
    }
    p->y += 8;
    p->y += text(p, MARGIN, p->y, 0, "Sans Italic 8", 0,
                 "Amounts in the contract's currency.  Each breach bills its rate for every "
                 "started hour over its due instant;");
    text(p, MARGIN, p->y, 0, "Sans Italic 8", 0,
         "MTTA rows are late acknowledgements, MTTR rows late resolutions.  The monthly cap "
         "limits the credit.");
}

/* ---- the document -------------------------------------------------------------------- */

static cairo_status_t to_stream(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS
                                                : CAIRO_STATUS_WRITE_ERROR;
}

#if defined(__SANITIZE_ADDRESS__)
/* fontconfig keeps its caches behind offset-encoded pointers that
 * LeakSanitizer cannot follow: its reachable caches would be reported as
 * leaks in every process that rendered a statement. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\n";
}
#endif

/* One font map for the process, made once and kept: pango's default map
 * is per thread and dropped with the thread, which leaks fontconfig's
 * state each time a server thread renders (LeakSanitizer sees it).  A
 * font map is not to be used by two threads at once: statements are
 * rendered one at a time (they are rare and take milliseconds). */
static PangoFontMap *font_map;
static pthread_once_t font_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t render_mu = PTHREAD_MUTEX_INITIALIZER;

static void font_map_init(void)
{
    font_map = pango_cairo_font_map_new();
}

static int render(const json_t *st, char **buf, size_t *len);

int statement_pdf(const json_t *st, char **buf, size_t *len)
{
    pthread_once(&font_once, font_map_init);
    pthread_mutex_lock(&render_mu);
    int rc = render(st, buf, len);
    pthread_mutex_unlock(&render_mu);
    return rc;
}

static int render(const json_t *st, char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f)
        return SW_E_NOMEM;
    cairo_surface_t *s = cairo_pdf_surface_create_for_stream(to_stream, f, PAGE_W, PAGE_H);
    char title[160], footer_text[256];
    snprintf(title, sizeof(title), "Service-credit statement %s %s", jstr(st, "tenant_id"),
             jstr(st, "month"));
    snprintf(footer_text, sizeof(footer_text), "%s · %s", jstr(st, "tenant_id"),
             jstr(st, "month"));
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, title);
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "slawatch");
    struct pdf p = {cairo_create(s), pango_font_map_create_context(font_map), MARGIN, 1,
                    footer_text};
    /* sizes in points of the page (pango's default is 96 dpi) */
    pango_cairo_context_set_resolution(p.ctx, 72);
    pango_cairo_update_context(p.cr, p.ctx);
    cairo_set_source_rgb(p.cr, 0, 0, 0);
    header(&p, st);
    compliance(&p, st);
    breaches(&p, st);
    totals(&p, st);
    footer(&p);
    cairo_show_page(p.cr);
    cairo_status_t cs = cairo_status(p.cr);
    g_object_unref(p.ctx);
    cairo_destroy(p.cr);
    cairo_surface_finish(s);
    if (cs == CAIRO_STATUS_SUCCESS)
        cs = cairo_surface_status(s);
    cairo_surface_destroy(s);
    if (fclose(f) != 0 || cs != CAIRO_STATUS_SUCCESS) {
        free(*buf);
        *buf = NULL;
        *len = 0;
        return SW_E_IO;
    }
    return 0;
}
