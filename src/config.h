/* config: flags > config file > SLAWATCH_* environment > defaults,
 * checked in one place (cfg_check). */
#ifndef SW_CONFIG_H
#define SW_CONFIG_H

#include <stddef.h>

struct cfg {
    char listen_host[64];
    int listen_port;
    char db[1024];
    char config_file[1024];
    size_t max_body_bytes;      /* JSON bodies */
    size_t max_bulk_bytes;      /* NDJSON bulk bodies */
    unsigned max_connections;
    unsigned threads;           /* libmicrohttpd's thread pool */
    unsigned conn_timeout_s;
    unsigned drain_timeout_s;   /* SIGTERM: wait this long for requests in flight */
    char log_level[16];
};

/* Defaults. */
void cfg_init(struct cfg *c);
/* Applies SLAWATCH_* variables from the environment. */
int cfg_load_env(struct cfg *c, char *err, size_t errlen);
/* Applies a `key = value` file (# comments). */
int cfg_load_file(struct cfg *c, const char *path, char *err, size_t errlen);
/* Sets one key (the file's and the flag's names: listen, db, threads, ...). */
int cfg_set(struct cfg *c, const char *key, const char *value, char *err, size_t errlen);
/* Checks the whole configuration; says what is wrong. */
int cfg_check(const struct cfg *c, char *err, size_t errlen);
/* "HOST:PORT" into its parts. */
int cfg_parse_listen(const char *s, char *host, size_t hostlen, int *port);

#endif
