#include "util/err.h"

const char *sw_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define X(name, val, msg) case val: return msg;
    SW_ERRNO_MAP(X)
#undef X
    }
    return "unknown error";
}
