/* cli: the command-line front end (serve, token create, routes). */
#ifndef SW_CLI_H
#define SW_CLI_H

int cli_main(int argc, char **argv);
/* `slawatch demo` (demo.c): argv[0] is "demo". */
int cli_demo(int argc, char **argv);

#endif
