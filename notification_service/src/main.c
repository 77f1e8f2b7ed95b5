/* notification_service: wiring only. The work is in notifier.c. */
#include <stdio.h>
#include <unistd.h>

#include <curl/curl.h>

#include "notifier.h"
#include "settings.h"
#include "shared/cli.h"
#include "shared/config.h"
#include "shared/dotenv.h"
#include "shared/http.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"

int main(int argc, char **argv)
{
        static const struct config_defaults defaults = {
                .service_name = "notification_service",
                .group_id     = "notification-service",
                .http_port    = 8003,
        };
        char errstr[CONFIG_ERRSTR_SIZE];
        struct config cfg;
        struct notification_settings settings;
        struct metrics *metrics = NULL;
        struct notifier *notifier = NULL;
        struct http_server *http = NULL;
        bool curl_ready = false;
        int r;

        if ((r = cli_handle(argc, argv, defaults.service_name,
                            notification_settings_usage)) >= 0)
                return r;
        if (dotenv_load(".env", errstr, sizeof(errstr)) == -1 ||
            config_load(&cfg, &defaults, errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                return CONFIG_EXIT_BAD;
        }
        if (notification_settings_load(&settings, errstr, sizeof(errstr)) ==
            -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                config_release(&cfg);
                return CONFIG_EXIT_BAD;
        }
        if (notifier_check_config(&cfg, errstr, sizeof(errstr)) == -1) {
                notification_settings_release(&settings);
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                config_release(&cfg);
                return CONFIG_EXIT_BAD;
        }
        if (log_init(defaults.service_name, cfg.log_level, STDERR_FILENO,
                     errstr, sizeof(errstr)) == -1) {
                fprintf(stderr, "%s: %s\n", defaults.service_name, errstr);
                notification_settings_release(&settings);
                config_release(&cfg);
                return 1;
        }
        r = 1;
        if (shutdown_install() == -1) {
                log_error("cannot install signal handlers");
                goto out;
        }
        /* Once, before any thread: curl_global_init is not thread-safe. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                log_error("cannot initialise libcurl");
                goto out;
        }
        curl_ready = true;
        if (!(metrics = metrics_new())) {
                log_error("out of memory");
                goto out;
        }
        log_info("%s %s starting", defaults.service_name, PIPELINE_VERSION);
        notifier = notifier_new(&cfg, &settings, metrics, errstr,
                                sizeof(errstr));
        if (!notifier) {
                if (shutdown_requested()) { /* stopped while waiting */
                        r = 0;
                        goto out;
                }
                log_error("%s", errstr);
                goto out;
        }
        http = http_server_start(
                &(struct http_server_options){
                        .service_name = defaults.service_name,
                        .port = cfg.http_port,
                        .num_threads = 4,
                        .request_timeout_ms = 10000,
                        .is_ready = notifier_is_ready,
                        .ready_arg = notifier,
                        .metrics = metrics,
                },
                errstr, sizeof(errstr));
        if (!http) {
                log_error("%s", errstr);
                goto out;
        }
        r = notifier_run(notifier) == 0 ? 0 : 1;
        log_info("%s stopped", defaults.service_name);
out:
        http_server_stop(http);
        notifier_destroy(notifier);
        metrics_destroy(metrics);
        if (curl_ready)
                curl_global_cleanup();
        log_fini();
        notification_settings_release(&settings);
        config_release(&cfg);
        return r;
}
