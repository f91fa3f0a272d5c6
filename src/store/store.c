/* store.c: picks the backend from the database URL. */
#include "store/store.h"

#include <stdio.h>
#include <string.h>

int store_open(const char *url, struct store **out, char *err, size_t errlen)
{
    if (strncmp(url, "sqlite:", 7) == 0) {
        if (!url[7]) {
            snprintf(err, errlen, "sqlite: needs a path, as in sqlite:./slawatch.db");
            return SW_E_INVAL;
        }
        return store_sqlite_open(url + 7, out, err, errlen);
    }
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        snprintf(err, errlen, "the PostgreSQL backend is not built into this version; "
                              "use --db sqlite:PATH");
        return SW_E_INVAL;
    }
    snprintf(err, errlen, "unknown database URL '%s' (expected sqlite:PATH)", url);
    return SW_E_INVAL;
}
