/* The command line every service shares: --help and --version. All
 * settings come from the environment (config.h), not from flags. */
#ifndef SHARED_CLI_H
#define SHARED_CLI_H

/* Handle argv. Returns -1 when the service should go on, or the exit status
 * to return from main(): 0 after --help or --version, 2 after an unknown
 * argument (with a one-line message on stderr). 'usage' is printed after
 * the synopsis line by --help: the service's description and variables. */
int cli_handle(int argc, char **argv, const char *service_name,
               const char *usage);

#endif
