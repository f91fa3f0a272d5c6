/* sha1: SHA-1 (FIPS 180-4), for the WebSocket handshake alone.
 *
 * RFC 6455 fixes Sec-WebSocket-Accept as base64(SHA-1(key + GUID)); SHA-1 is
 * not used for anything secret here, and libsodium does not offer it, so a
 * small implementation beats a dependency on a TLS library for one digest. */
#ifndef SW_UTIL_SHA1_H
#define SW_UTIL_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

struct sha1_ctx {
    uint32_t h[5];
    uint64_t total;             /* bytes hashed so far */
    uint8_t block[64];
    size_t used;                /* bytes waiting in block */
};

void sha1_init(struct sha1_ctx *c);
void sha1_update(struct sha1_ctx *c, const void *data, size_t len);
void sha1_final(struct sha1_ctx *c, uint8_t out[SHA1_DIGEST_LEN]);
/* One-shot. */
void sha1(const void *data, size_t len, uint8_t out[SHA1_DIGEST_LEN]);

#endif
