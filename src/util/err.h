/* slawatch error codes: one X-macro, negative returns, one strerror.
 * Modules return 0 or a negative SW_E_*; only src/http maps them to HTTP. */
#ifndef SW_UTIL_ERR_H
#define SW_UTIL_ERR_H

#define SW_ERRNO_MAP(X)                                                  \
    X(INVAL,    -1, "invalid argument")                                  \
    X(NOTFOUND, -2, "not found")                                         \
    X(EXISTS,   -3, "already exists")                                    \
    X(CONFLICT, -4, "conflicting state")                                 \
    X(STORE,    -5, "storage error")                                     \
    X(NOMEM,    -6, "out of memory")                                     \
    X(IO,       -7, "input/output error")                                \
    X(DENIED,   -8, "permission denied")                                 \
    X(TOOBIG,   -9, "too large")                                         \
    X(BUSY,     -10, "busy, try again")                                  \
    X(EXHAUSTED, -11, "nothing left")                                    \
    X(AUTH,     -12, "authentication failed")                            \
    X(UNAVAILABLE, -13, "database unavailable or refusing writes")       \
    X(RETRY,    -14, "transaction conflict, retry")

enum {
#define X(name, val, msg) SW_E_##name = (val),
    SW_ERRNO_MAP(X)
#undef X
};

/* Static string for an error code; never NULL. */
const char *sw_strerror(int err);

#endif
