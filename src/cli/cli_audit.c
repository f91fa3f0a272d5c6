/* cli_audit.c: `slawatch audit verify` and `slawatch audit export`, the
 * hash chains of the audit log and the item events (store_proof.h) from
 * the command line, for operators and auditors with the database. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/sla.h"
#include "store/store.h"
#include "store/store_proof.h"

static int usage_fail(void)
{
    fprintf(stderr, "usage: slawatch audit verify [--db URL] [--tenant ID]\n"
                    "       slawatch audit export [--db URL] --tenant ID [--log audit|events]\n");
    return 2;
}

struct verify_out {
    int64_t records, adopted;
    int chains, broken;
};

static int print_chain(const struct sw_chain_report *r, void *ud)
{
    struct verify_out *v = ud;
    char started[SLA_TIME_BUFSZ] = "";
    if (r->started_at)
        sla_time_format(r->started_at, started);
    char name[SW_ID_MAX + 16];
    snprintf(name, sizeof(name), "%s/%s", r->log, r->tenant_id);
    v->chains++;
    v->records += r->records;
    v->adopted += r->adopted;
    if (r->intact) {
        printf("%-40s %10lld records, intact", name, (long long)r->records);
        if (r->adopted)
            printf(" (the first %lld were written before the chain began, chained at %s:"
                   " evidence from then on)", (long long)r->adopted, started);
        printf("\n");
    } else {
        v->broken++;
        printf("%-40s %s: %s\n", name, r->problem, r->detail);
    }
    return 0;
}

static int cmd_verify(const char *tenant, struct store *s)
{
    struct verify_out v = {0};
    int rc = store_chain_verify(s, tenant, print_chain, &v);
    if (rc < 0) {
        fprintf(stderr, "slawatch: audit verify: %s\n", sw_strerror(rc));
        return 2;
    }
    if (v.broken) {
        printf("%d of %d chains broken (the first bad record of each is named above)\n",
               v.broken, v.chains);
        return 1;
    }
    printf("%lld records, chain intact", (long long)v.records);
    if (v.adopted)
        printf(" (%lld of them written before migration 0050 and chained by it)",
               (long long)v.adopted);
    printf("\n");
    return 0;
}

static int print_line(const char *line, size_t len, void *ud)
{
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

static int cmd_export(const char *tenant, const char *log, struct store *s)
{
    const char *logs[2] = {"audit", "events"};
    int n = 2;
    if (log) {
        logs[0] = log;
        n = 1;
    }
    for (int i = 0; i < n; i++) {
        int64_t last;
        int rc = store_chain_export(s, logs[i], tenant, 0, INT64_MAX, print_line, NULL, &last);
        if (rc == SW_E_NOTFOUND)
            continue;           /* nothing recorded on that chain yet */
        if (rc < 0) {
            fprintf(stderr, "slawatch: audit export %s: %s\n", logs[i], sw_strerror(rc));
            return 2;
        }
    }
    return fflush(stdout) == 0 ? 0 : 2;
}

int cli_audit(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "verify") && strcmp(argv[1], "export")))
        return usage_fail();
    const char *tenant = NULL, *log = NULL;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return usage_fail();
        if (!strcmp(argv[i], "--tenant"))
            tenant = argv[++i];
        else if (!strcmp(argv[i], "--log") && !strcmp(argv[1], "export"))
            log = argv[++i];
        else if (!strcmp(argv[i], "--db") || !strcmp(argv[i], "--config"))
            i++;
        else
            return usage_fail();
    }
    bool export = !strcmp(argv[1], "export");
    if (export && (!tenant || (log && strcmp(log, "audit") && strcmp(log, "events"))))
        return usage_fail();
    struct store *s = NULL;
    int rc = cli_open_store(argc, argv, &s);
    if (rc)
        return rc;
    rc = export ? cmd_export(tenant, log, s) : cmd_verify(tenant, s);
    store_close(s);
    return rc;
}
