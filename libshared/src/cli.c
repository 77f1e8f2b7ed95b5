/* --help and --version for every service. */
#include <stdio.h>
#include <string.h>

#include "shared/cli.h"

int cli_handle(int argc, char **argv, const char *service_name,
               const char *usage)
{
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                        printf("usage: %s [--help] [--version]\n\n%s",
                               service_name, usage);
                        return 0;
                }
                if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
                        printf("%s %s\n", service_name, PIPELINE_VERSION);
                        return 0;
                }
                fprintf(stderr,
                        "%s: unknown argument '%s' (settings come from the "
                        "environment; see --help)\n",
                        service_name, argv[i]);
                return 2;
        }
        return -1;
}
