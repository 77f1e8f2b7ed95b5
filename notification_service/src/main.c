/* notification_service: wiring only. Skeleton until its issue lands. */
#include <stdio.h>
#include <unistd.h>

#include "shared/cli.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/shutdown.h"

static const char usage[] =
        "Settings come from the environment (and ./.env); see README.md.\n";

int main(int argc, char **argv)
{
        static const struct config_defaults defaults = {
                .service_name = "notification_service",
                .group_id     = "notification-service",
                .http_port    = 8003,
        };
        char errstr[CONFIG_ERRSTR_SIZE];
        struct config cfg;
        int r;

        if ((r = cli_handle(argc, argv, defaults.service_name, usage)) >= 0)
                return r;
        if (config_load_dotenv(".env", errstr, sizeof(errstr)) == -1 ||
            config_load(&cfg, &defaults, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                return CONFIG_EXIT_BAD;
        }
        if (log_init(defaults.service_name, cfg.log_level, STDERR_FILENO,
                     errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                config_release(&cfg);
                return 1;
        }
        if (shutdown_install() == -1) {
                log_error("cannot install signal handlers");
                r = 1;
                goto out;
        }
        log_info("%s %s started", defaults.service_name, PIPELINE_VERSION);
        while (!shutdown_wait(1000))
                ;
        log_info("%s stopped", defaults.service_name);
        r = 0;
out:
        log_fini();
        config_release(&cfg);
        return r;
}
