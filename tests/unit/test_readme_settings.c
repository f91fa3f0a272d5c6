/* test_readme_settings.c: the README's configuration table says what
 * src/config.c does.
 *
 * For every row `| key(s) | SLAWATCH_* variable(s) | default(s) | meaning |`
 * of the table under "### Configuration":
 *   - each key is a real setting whose environment variable is the one in
 *     the row (cfg_setting);
 *   - each documented default is a value cfg_set accepts AND the value
 *     cfg_init starts with (the whole struct compares equal after setting
 *     it), so "defaults to 1" for an on/off setting fails here;
 * and every setting of config.c has a row.
 *
 * Keys, variables and defaults are the backquoted words of their cells, in
 * order (several keys in one row pair with as many variables and defaults);
 * a cell of `—` has none.  README.md is found like docs/openapi.yaml in
 * test_openapi.c: $SLAWATCH_SRC, then ../, ../../, ./, then next to this file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_WORDS 8

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += k;
        if (len + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static char *load_readme(void)
{
    char path[1024];
    const char *env = getenv("SLAWATCH_SRC");
    if (env && *env) {
        snprintf(path, sizeof(path), "%s/README.md", env);
        char *t = slurp(path);
        if (t)
            return t;
    }
    static const char *const rel[] = {"../README.md", "../../README.md", "README.md"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        char *t = slurp(rel[i]);
        if (t)
            return t;
    }
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/test_readme_settings.c");
    if (!cut)
        return NULL;
    snprintf(path, sizeof(path), "%.*sREADME.md", (int)(cut - me), me);
    return slurp(path);
}

/* The backquoted words of one cell (between two '|'), in order. */
static size_t cell_words(const char *cell, const char *end, char out[MAX_WORDS][128])
{
    size_t n = 0;
    for (const char *p = cell; p < end && n < MAX_WORDS;) {
        const char *a = memchr(p, '`', (size_t)(end - p));
        if (!a)
            break;
        const char *b = memchr(a + 1, '`', (size_t)(end - a - 1));
        if (!b)
            break;
        snprintf(out[n++], 128, "%.*s", (int)(b - a - 1), a + 1);
        p = b + 1;
    }
    return n;
}

static const char *env_of(const char *key)
{
    const char *env, *k;
    for (size_t i = 0; (k = cfg_setting(i, &env)); i++)
        if (!strcmp(k, key))
            return env;
    return NULL;
}

static void test_table_matches_config(void **state)
{
    (void)state;
    char *text = load_readme();
    if (!text)
        fail_msg("cannot read README.md (set SLAWATCH_SRC to the source tree)");
    const char *sec = strstr(text, "### Configuration");
    assert_non_null(sec);
    const char *tab = strstr(sec, "\n| key (file)");
    assert_non_null(tab);

    char documented[128][128];
    size_t ndoc = 0, rows = 0;
    char problems[8192] = "";
    struct cfg init;
    cfg_init(&init);

    /* skip the header and the |---| line */
    const char *line = strchr(tab + 1, '\n');
    line = line ? strchr(line + 1, '\n') : NULL;
    for (; line && line[1] == '|'; line = strchr(line + 1, '\n')) {
        const char *l = line + 1, *eol = strchr(l, '\n');
        if (!eol)
            eol = l + strlen(l);
        const char *bar[5];
        size_t nb = 0;
        for (const char *p = l; p < eol && nb < 5; p++)
            if (*p == '|')
                bar[nb++] = p;
        if (nb < 5)
            continue;
        char keys[MAX_WORDS][128], envs[MAX_WORDS][128], defs[MAX_WORDS][128];
        size_t nk = cell_words(bar[0] + 1, bar[1], keys);
        size_t ne = cell_words(bar[1] + 1, bar[2], envs);
        size_t nd = cell_words(bar[2] + 1, bar[3], defs);
        rows++;
        if (nk == 0)
            continue;           /* environment-only rows (SLAWATCH_ADMIN_TOKEN) */
        size_t n = strlen(problems);
        if (ne != nk) {
            snprintf(problems + n, sizeof(problems) - n,
                     "  row of `%s`: %zu keys but %zu variables\n", keys[0], nk, ne);
            continue;
        }
        for (size_t i = 0; i < nk; i++) {
            n = strlen(problems);
            if (ndoc < 128)
                snprintf(documented[ndoc++], 128, "%s", keys[i]);
            const char *env = env_of(keys[i]);
            if (!env) {
                snprintf(problems + n, sizeof(problems) - n, "  `%s` is not a setting\n",
                         keys[i]);
                continue;
            }
            if (strcmp(env, envs[i])) {
                snprintf(problems + n, sizeof(problems) - n,
                         "  `%s`: the variable is %s, the README says %s\n", keys[i], env,
                         envs[i]);
                continue;
            }
            if (nd == 0)
                continue;       /* "—": no default (tls_cert, smtp_url) */
            const char *def = defs[nd == nk ? i : 0];
            struct cfg c;
            char err[512];
            cfg_init(&c);
            if (cfg_set(&c, keys[i], def, err, sizeof(err)) < 0)
                snprintf(problems + n, sizeof(problems) - n,
                         "  `%s`: the documented default `%s` is refused: %s\n", keys[i], def,
                         err);
            else if (memcmp(&c, &init, sizeof(c)) != 0)
                snprintf(problems + n, sizeof(problems) - n,
                         "  `%s`: the documented default `%s` is not the real default\n",
                         keys[i], def);
        }
    }
    assert_true(rows > 10);

    const char *key, *env;
    for (size_t i = 0; (key = cfg_setting(i, &env)); i++) {
        bool found = false;
        for (size_t k = 0; k < ndoc && !found; k++)
            found = !strcmp(documented[k], key);
        size_t n = strlen(problems);
        if (!found)
            snprintf(problems + n, sizeof(problems) - n, "  `%s` (%s) has no README row\n",
                     key, env);
    }
    free(text);
    if (problems[0])
        fail_msg("README.md configuration table vs src/config.c:\n%s", problems);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_matches_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
