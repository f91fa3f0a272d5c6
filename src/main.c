/* slawatch: argv → config → start → wait for a signal → stop (src/cli). */
#include "cli/cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
