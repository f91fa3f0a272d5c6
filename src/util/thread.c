/* thread.c: see thread.h. */
#include "util/thread.h"

#include <sys/resource.h>
#include <unistd.h>

#define BACKGROUND_NICE 10

void thread_background(void)
{
    /* PRIO_PROCESS with a thread id sets that thread alone (setpriority(2),
     * "BUGS": Linux threads do not share a nice value) */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), BACKGROUND_NICE);
}
