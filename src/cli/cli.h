/* cli: the command-line front end (serve, token create, routes). */
#ifndef SW_CLI_H
#define SW_CLI_H

int cli_main(int argc, char **argv);
/* `slawatch demo` (demo.c): argv[0] is "demo". */
int cli_demo(int argc, char **argv);
/* `slawatch audit verify|export` (cli_audit.c): argv[0] is "audit". */
int cli_audit(int argc, char **argv);

struct store;
/* For commands in other files: --db/--config/env as every command reads
 * them, and the store opened (migrated).  0, or the exit status after a
 * message on stderr. */
int cli_open_store(int argc, char **argv, struct store **s);

#endif
