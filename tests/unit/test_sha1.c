/* Unit tests: SHA-1 against the FIPS 180 / RFC 3174 vectors, and the
 * WebSocket handshake (RFC 6455 4.2: the header checks and the Accept). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/sha1.h"
#include "ws/ws.h"

static void hex(const uint8_t d[SHA1_DIGEST_LEN], char out[2 * SHA1_DIGEST_LEN + 1])
{
    for (int i = 0; i < SHA1_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void check(const char *data, size_t len, size_t repeat, const char *want)
{
    struct sha1_ctx c;
    uint8_t d[SHA1_DIGEST_LEN];
    char h[2 * SHA1_DIGEST_LEN + 1];
    sha1_init(&c);
    for (size_t i = 0; i < repeat; i++)
        sha1_update(&c, data, len);
    sha1_final(&c, d);
    hex(d, h);
    assert_string_equal(h, want);
}

static void test_rfc3174_vectors(void **state)
{
    /* RFC 3174 section 7.3, TEST1..TEST4 */
    check("abc", 3, 1, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *t2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check(t2, strlen(t2), 1, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    check("a", 1, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    const char *t4 = "0123456701234567012345670123456701234567012345670123456701234567";
    check(t4, strlen(t4), 10, "dea356a2cddd90c7a7ecedc5ebb563934f460452");
    /* the empty message, and FIPS 180-2's two-block example */
    check("", 0, 1, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    const char *f = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                    "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check(f, strlen(f), 1, "a49b2446a02c645bf419f995b67091253a04a259");
}

/* Padding edges (55, 56, 63, 64, 65, 119, 120 bytes: the length field just
 * fits, spills into a second block, ...), fed whole and byte by byte.
 * Expected values: Python's hashlib.sha1(b"x" * n). */
static void test_block_edges(void **state)
{
    static const struct {
        size_t n;
        const char *want;
    } v[] = {
        {55, "cef734ba81a024479e09eb5a75b6ddae62e6abf1"},
        {56, "901305367c259952f4e7af8323f480d59f81335b"},
        {63, "0ddc4e0cccd9a12850deb5abb0853a4425559fec"},
        {64, "bb2fa3ee7afb9f54c6dfb5d021f14b1ffe40c163"},
        {65, "78c741ddc482e4cdf8c474a0876347a0905b6233"},
        {119, "4300320394f7ee239bcdce7d3b8bcee173a0cd5c"},
        {120, "ceb2821639c4b6dcb10bce0e522ca2e608ce056d"},
    };
    char buf[200];
    memset(buf, 'x', sizeof(buf));
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        check(buf, v[i].n, 1, v[i].want);
        check(buf, 1, v[i].n, v[i].want);
    }
}

static void test_websocket_accept(void **state)
{
    char acc[WS_ACCEPT_LEN + 1];
    /* RFC 6455 section 1.3 */
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /* MDN's example */
    ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", acc);
    assert_string_equal(acc, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

static void test_handshake_check(void **state)
{
    const char *k = "dGhlIHNhbXBsZSBub25jZQ==";
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13", k), WS_HS_OK);
    assert_int_equal(ws_handshake_check("WebSocket", "keep-alive, Upgrade", "13", k), WS_HS_OK);
    assert_int_equal(ws_handshake_check("websocket", "keep-alive,upgrade ", "13", k), WS_HS_OK);
    assert_int_equal(ws_handshake_check(NULL, "Upgrade", "13", k), WS_HS_NOT_UPGRADE);
    assert_int_equal(ws_handshake_check("h2c", "Upgrade", "13", k), WS_HS_NOT_UPGRADE);
    assert_int_equal(ws_handshake_check("websocket", NULL, "13", k), WS_HS_NOT_UPGRADE);
    assert_int_equal(ws_handshake_check("websocket", "keep-alive", "13", k), WS_HS_NOT_UPGRADE);
    assert_int_equal(ws_handshake_check("websocket", "Upgraded", "13", k), WS_HS_NOT_UPGRADE);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", NULL, k), WS_HS_VERSION);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "8", k), WS_HS_VERSION);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13", NULL), WS_HS_KEY);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13", ""), WS_HS_KEY);
    /* 24 characters but not 16 bytes, bad alphabet, no padding */
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13",
                                        "dGhlIHNhbXBsZSBub25jZR=="), WS_HS_KEY);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13",
                                        "dGhlIHNhbXBsZSBub25j*Q=="), WS_HS_KEY);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13",
                                        "dGhlIHNhbXBsZSBub25jZQAA"), WS_HS_KEY);
    assert_int_equal(ws_handshake_check("websocket", "Upgrade", "13",
                                        "dGhlIHNhbXBsZSBub25jZQ=="
                                        "x"), WS_HS_KEY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3174_vectors),
        cmocka_unit_test(test_block_edges),
        cmocka_unit_test(test_websocket_accept),
        cmocka_unit_test(test_handshake_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
