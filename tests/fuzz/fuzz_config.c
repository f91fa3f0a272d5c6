/* fuzz_config: configuration input: `key = value` files (cfg_load_file,
 * through a memfd), single settings (cfg_set: the first line is the key,
 * the rest the value) and HOST:PORT (cfg_parse_listen). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct cfg c;
    char err[512], host[64];
    int port;

    cfg_init(&c);
    if (cfg_parse_listen(s, host, sizeof(host), &port) == 0 && (port < 0 || port > 65535))
        abort();

    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
        if (cfg_set(&c, s, nl + 1, err, sizeof(err)) == 0)
            cfg_check(&c, err, sizeof(err));
        *nl = '\n';
    }

    int fd = memfd_create("fuzz-config", 0);
    if (fd >= 0) {
        if (write(fd, data, size) == (ssize_t)size) {
            char path[64];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
            cfg_init(&c);
            if (cfg_load_file(&c, path, err, sizeof(err)) == 0)
                cfg_check(&c, err, sizeof(err));
        }
        close(fd);
    }
    free(s);
    return 0;
}
