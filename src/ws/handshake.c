/* handshake.c: the server side of the opening handshake, RFC 6455 4.2.1-4.2.2:
 * which headers an upgrade request needs, and the Sec-WebSocket-Accept
 * answer.  Pure functions, so the unit tests pin them without a socket. */
#include "ws/ws.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "util/sha1.h"

static const char GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* True when the comma-separated list holds token (case-insensitive). */
static bool list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *end = e;
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - p) == tl && strncasecmp(p, token, tl) == 0)
            return true;
        p = e;
    }
    return false;
}

/* A key is 16 random bytes in base64: 22 characters and "==". */
static bool key_valid(const char *key)
{
    if (strlen(key) != 24 || strcmp(key + 22, "==") != 0)
        return false;
    for (int i = 0; i < 22; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '+' && key[i] != '/')
            return false;
    /* the last character before the padding carries 2 bits: AQgw */
    return strchr("AQgw", key[21]) != NULL;
}

enum ws_handshake_err ws_handshake_check(const char *upgrade, const char *connection,
                                         const char *version, const char *key)
{
    if (!upgrade || !list_has(upgrade, "websocket") || !connection ||
        !list_has(connection, "upgrade"))
        return WS_HS_NOT_UPGRADE;
    if (!version || strcmp(version, "13") != 0)
        return WS_HS_VERSION;
    if (!key || !key_valid(key))
        return WS_HS_KEY;
    return WS_HS_OK;
}

void ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    struct sha1_ctx c;
    uint8_t d[SHA1_DIGEST_LEN];
    sha1_init(&c);
    sha1_update(&c, key, strlen(key));
    sha1_update(&c, GUID, sizeof(GUID) - 1);
    sha1_final(&c, d);
    sodium_bin2base64(out, WS_ACCEPT_LEN + 1, d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
}
