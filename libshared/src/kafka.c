/* Kafka set-up shared by the services: client configuration, librdkafka's
 * logs into ours, topic creation through the Admin API, readiness. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "shared/deadline.h"
#include "shared/kafka.h"
#include "shared/log.h"
#include "shared/shutdown.h"
#include "shared/util.h"

/* glibc: the executable's base name ("order_service"). */
extern char *program_invocation_short_name;

/* Set once an authentication failure has been logged as an error; cleared
 * by kafka_auth_succeeded(). Any thread. */
static atomic_bool auth_failure_logged;

/* A broker refusing us: SASL credentials, or a TLS handshake (a CA that
 * does not match, a certificate for another name). librdkafka 2.0.2 says
 * so with these words in its FAIL lines, and in ERROR lines for a client
 * without an error callback. */
static bool is_auth_failure(const char *fac, const char *buf)
{
        return fac && (strcmp(fac, "FAIL") == 0 || strcmp(fac, "ERROR") == 0) &&
               buf &&
               (strstr(buf, "SASL authentication error") ||
                strstr(buf, "SSL handshake failed") ||
                strstr(buf, "Authentication failed"));
}

void kafka_auth_succeeded(void)
{
        atomic_store(&auth_failure_logged, false);
}

bool kafka_error_is_auth(int err)
{
        return err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
               err == RD_KAFKA_RESP_ERR__SSL;
}

/* librdkafka's log lines, at syslog levels, into log.h. Runs on
 * librdkafka's internal threads (no log.queue is set); log.h is
 * thread-safe. 'rk' can be NULL for messages logged before it exists.
 * An authentication failure repeats on every reconnect of every client:
 * the first is one error line that says what to check, the rest debug. */
static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                         const char *buf)
{
        const char *message = buf ? buf : "";
        enum log_level our;
        struct log_field fields[3];
        size_t n = 2;

        if (level <= 3) /* emerg, alert, crit, err */
                our = LOG_LEVEL_ERROR;
        else if (level == 4)
                our = LOG_LEVEL_WARN;
        else if (level <= 6) /* notice, info */
                our = LOG_LEVEL_INFO;
        else
                our = LOG_LEVEL_DEBUG;
        if (level <= 4 && is_auth_failure(fac, buf)) {
                if (atomic_exchange(&auth_failure_logged, true)) {
                        our = LOG_LEVEL_DEBUG;
                } else {
                        our = LOG_LEVEL_ERROR;
                        message = "kafka authentication failed: check "
                                  "KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD "
                                  "and KAFKA_SSL_CA_LOCATION; not ready until "
                                  "it succeeds, repeats logged at debug";
                        fields[n++] = LOG_STR("error.message", buf);
                }
        }
        if (!log_enabled(our))
                return;
        fields[0] = LOG_STR("kafka.fac", fac);
        fields[1] = LOG_STR("kafka.client", rk ? rd_kafka_name(rk) : NULL);
        log_write(our, message, fields, n);
}

/* Set 'name' to 'value'; on failure errstr names the variable 'env'. */
static int conf_set(rd_kafka_conf_t *conf, const char *env, const char *name,
                    const char *value, char *errstr, size_t errstr_size)
{
        char rderr[256];

        if (rd_kafka_conf_set(conf, name, value, rderr, sizeof(rderr)) ==
            RD_KAFKA_CONF_OK)
                return 0;
        snprintf(errstr, errstr_size, "%s: %s", env, rderr);
        return -1;
}

rd_kafka_conf_t *kafka_conf_new(const struct config *cfg,
                                enum kafka_client_role role, char *errstr,
                                size_t errstr_size)
{
        rd_kafka_conf_t *conf;

        if (!cfg || !cfg->bootstrap_servers) {
                snprintf(errstr, errstr_size,
                         "KAFKA_BOOTSTRAP_SERVERS: not set");
                return NULL;
        }
        conf = rd_kafka_conf_new();
        if (conf_set(conf, "KAFKA_BOOTSTRAP_SERVERS", "bootstrap.servers",
                     cfg->bootstrap_servers, errstr, errstr_size) < 0)
                goto fail;
        /* struct config does not carry the service name, but each service
         * is its own executable of the same name; KAFKA_CLIENT_ID, applied
         * below, still overrides it. */
        if (program_invocation_short_name && *program_invocation_short_name &&
            conf_set(conf, "client.id", "client.id",
                     program_invocation_short_name, errstr, errstr_size) < 0)
                goto fail;
        if (role == KAFKA_ROLE_CONSUMER) {
                if (!cfg->group_id || !*cfg->group_id) {
                        snprintf(errstr, errstr_size,
                                 "KAFKA_GROUP_ID: required for a consumer");
                        goto fail;
                }
                if (conf_set(conf, "KAFKA_GROUP_ID", "group.id", cfg->group_id,
                             errstr, errstr_size) < 0)
                        goto fail;
                if (cfg->auto_offset_reset &&
                    conf_set(conf, "KAFKA_AUTO_OFFSET_RESET",
                             "auto.offset.reset", cfg->auto_offset_reset,
                             errstr, errstr_size) < 0)
                        goto fail;
        }
        if (role == KAFKA_ROLE_CONSUMER) {
                const char *strategy = kafka_user_property(
                        cfg, "partition.assignment.strategy");

                /* librdkafka 2.0.2 aborts when a cooperative-sticky
                 * consumer closes before its first assignment, and the
                 * services' rebalance callbacks are written for the eager
                 * protocol. */
                if (strategy && strstr(strategy, "cooperative")) {
                        snprintf(errstr, errstr_size,
                                 "KAFKA_PARTITION_ASSIGNMENT_STRATEGY: use "
                                 "'range' or 'roundrobin', not '%s'",
                                 strategy);
                        goto fail;
                }
                if (conf_set(conf, "partition.assignment.strategy",
                             "partition.assignment.strategy", "range", errstr,
                             errstr_size) < 0)
                        goto fail;
        }
        /* Pass-through properties last, so that they win. config_load()
         * has checked them already; a failure here still names them. */
        for (size_t i = 0; i < cfg->kafka_props_count; i++) {
                const struct kafka_property *p = &cfg->kafka_props[i];

                if (conf_set(conf, p->env ? p->env : p->name, p->name,
                             p->value, errstr, errstr_size) < 0)
                        goto fail;
        }
        rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
        return conf;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

const char *kafka_user_property(const struct config *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->kafka_props_count; i++)
                if (strcmp(cfg->kafka_props[i].name, name) == 0)
                        return cfg->kafka_props[i].value;
        return NULL;
}

int kafka_conf_default(rd_kafka_conf_t *conf, const struct config *cfg,
                       const char *name, const char *value,
                       enum kafka_default_mode mode, char *errstr,
                       size_t errstr_size)
{
        const struct kafka_property *user = NULL;

        for (size_t i = 0; i < cfg->kafka_props_count && !user; i++)
                if (strcmp(cfg->kafka_props[i].name, name) == 0)
                        user = &cfg->kafka_props[i];
        if (!user)
                return conf_set(conf, name, name, value, errstr, errstr_size);
        if (mode == KAFKA_REQUIRED && strcmp(user->value, value) != 0) {
                snprintf(errstr, errstr_size,
                         "%s: must be '%s' (the service's guarantees depend "
                         "on it)", user->env ? user->env : name, value);
                return -1;
        }
        return 0; /* the user's value, set by kafka_conf_new(), stands */
}

rd_kafka_conf_t *kafka_conf_with(const struct config *cfg,
                                 enum kafka_client_role role,
                                 const struct kafka_setting *settings,
                                 size_t nsettings, char *errstr,
                                 size_t errstr_size)
{
        rd_kafka_conf_t *conf = kafka_conf_new(cfg, role, errstr, errstr_size);

        for (size_t i = 0; conf && i < nsettings; i++) {
                if (kafka_conf_default(conf, cfg, settings[i].name,
                                       settings[i].value, settings[i].mode,
                                       errstr, errstr_size) < 0) {
                        rd_kafka_conf_destroy(conf);
                        conf = NULL;
                }
        }
        return conf;
}

rd_kafka_t *kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                             const char *what, char *errstr,
                             size_t errstr_size)
{
        char rderr[512];
        rd_kafka_t *rk;

        if (!conf)
                return NULL; /* its builder has set errstr */
        rk = rd_kafka_new(type, conf, rderr, sizeof(rderr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                snprintf(errstr, errstr_size, "cannot create %s: %s", what,
                         rderr);
                return NULL;
        }
        /* conf is now owned, and freed, by rk */
        if (type == RD_KAFKA_CONSUMER)
                rd_kafka_poll_set_consumer(rk);
        return rk;
}

int kafka_conf_check(rd_kafka_conf_t *conf)
{
        if (!conf)
                return -1;
        rd_kafka_conf_destroy(conf);
        return 0;
}

/* The topic 'name' in 'md', or NULL. */
static const rd_kafka_metadata_topic_t *
metadata_topic(const struct rd_kafka_metadata *md, const char *name)
{
        for (int i = 0; i < md->topic_cnt; i++) {
                if (strcmp(md->topics[i].topic, name) == 0)
                        return &md->topics[i];
        }
        return NULL;
}

/* Milliseconds left until 'deadline_ms', at least 1. */
static int remaining_ms(int64_t deadline_ms)
{
        int64_t left = deadline_ms - time_monotonic_ms();

        return left > 1 ? (int)(left > 0x7fffffff ? 0x7fffffff : left) : 1;
}

/* Fill 'newt' with a NewTopic for each of 'topics' missing from 'md'.
 * Returns how many, or -1 with errstr. */
static ssize_t topics_missing(const struct rd_kafka_metadata *md,
                              const char *const *topics, size_t ntopics,
                              int partitions, int replication_factor,
                              rd_kafka_NewTopic_t **newt, char *errstr,
                              size_t errstr_size)
{
        size_t nnew = 0;
        char rderr[256];

        for (size_t i = 0; i < ntopics; i++) {
                const rd_kafka_metadata_topic_t *t = metadata_topic(md, topics[i]);

                if (t && t->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                        continue;
                newt[nnew] = rd_kafka_NewTopic_new(topics[i], partitions,
                                                   replication_factor, rderr,
                                                   sizeof(rderr));
                if (!newt[nnew]) {
                        snprintf(errstr, errstr_size, "topic '%s': %s",
                                 topics[i], rderr);
                        rd_kafka_NewTopic_destroy_array(newt, nnew);
                        return -1;
                }
                nnew++;
        }
        return (ssize_t)nnew;
}

/* The outcome of a CreateTopics result event: 0, or -1 with errstr. */
static int topics_created(rd_kafka_event_t *ev, char *errstr,
                          size_t errstr_size)
{
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tres;
        size_t nres = 0;

        if (rd_kafka_event_error(ev)) {
                snprintf(errstr, errstr_size, "cannot create topics: %s",
                         rd_kafka_event_error_string(ev));
                return -1;
        }
        res = rd_kafka_event_CreateTopics_result(ev);
        if (!res) {
                snprintf(errstr, errstr_size,
                         "cannot create topics: unexpected event %s",
                         rd_kafka_event_name(ev));
                return -1;
        }
        tres = rd_kafka_CreateTopics_result_topics(res, &nres);
        for (size_t i = 0; i < nres; i++) {
                rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(tres[i]);
                const char *msg = rd_kafka_topic_result_error_string(tres[i]);

                /* Another instance may have created it meanwhile. */
                if (terr == RD_KAFKA_RESP_ERR_NO_ERROR ||
                    terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                        continue;
                snprintf(errstr, errstr_size, "cannot create topic '%s': %s",
                         rd_kafka_topic_result_name(tres[i]),
                         msg ? msg : rd_kafka_err2str(terr));
                return -1;
        }
        return 0;
}

/* Create 'newt' with the Admin API by 'deadline_ms'. Returns 0, or -1
 * with errstr. */
static int topics_create(rd_kafka_t *rk, rd_kafka_NewTopic_t **newt,
                         size_t nnew, int64_t deadline_ms, int timeout_ms,
                         char *errstr, size_t errstr_size)
{
        rd_kafka_AdminOptions_t *options;
        rd_kafka_queue_t *queue = NULL;
        rd_kafka_event_t *ev = NULL;
        char rderr[256];
        int ret = -1;

        options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        if (rd_kafka_AdminOptions_set_request_timeout(
                    options, remaining_ms(deadline_ms), rderr,
                    sizeof(rderr)) ||
            rd_kafka_AdminOptions_set_operation_timeout(
                    options, remaining_ms(deadline_ms), rderr,
                    sizeof(rderr))) {
                snprintf(errstr, errstr_size, "cannot create topics: %s",
                         rderr);
                goto out;
        }
        queue = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, newt, nnew, options, queue);
        /* The Admin API always posts one result event, at the latest when
         * the request timeout passes; wait a little longer than that. */
        ev = rd_kafka_queue_poll(queue, remaining_ms(deadline_ms) + 1000);
        if (!ev)
                snprintf(errstr, errstr_size,
                         "cannot create topics: timed out after %d ms",
                         timeout_ms);
        else
                ret = topics_created(ev, errstr, errstr_size);
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        if (queue)
                rd_kafka_queue_destroy(queue);
        rd_kafka_AdminOptions_destroy(options);
        return ret;
}

int kafka_topics_ensure(rd_kafka_t *rk, const char *const *topics,
                        size_t ntopics, int partitions, int replication_factor,
                        int timeout_ms, char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_NewTopic_t **newt;
        int64_t deadline_ms = deadline_in(timeout_ms);
        rd_kafka_resp_err_t err;
        ssize_t nnew;
        int ret = -1;

        if (!rk || (ntopics > 0 && !topics)) {
                snprintf(errstr, errstr_size, "no Kafka client");
                return -1;
        }
        if (ntopics == 0)
                return 0;
        /* All topics, not just ours: asking for a named topic may make the
         * broker auto-create it with its default settings. */
        err = rd_kafka_metadata(rk, 1, NULL, &md, remaining_ms(deadline_ms));
        if (err) {
                snprintf(errstr, errstr_size,
                         "cannot read cluster metadata: %s",
                         rd_kafka_err2str(err));
                return -1;
        }
        newt = calloc(ntopics, sizeof(*newt));
        if (!newt) {
                snprintf(errstr, errstr_size, "out of memory");
                rd_kafka_metadata_destroy(md);
                return -1;
        }
        nnew = topics_missing(md, topics, ntopics, partitions,
                              replication_factor, newt, errstr, errstr_size);
        if (nnew >= 0) {
                ret = nnew == 0 ? 0
                                : topics_create(rk, newt, (size_t)nnew,
                                                deadline_ms, timeout_ms,
                                                errstr, errstr_size);
                rd_kafka_NewTopic_destroy_array(newt, (size_t)nnew);
        }
        free(newt);
        rd_kafka_metadata_destroy(md);
        return ret;
}

int kafka_topics_ensure_retry(rd_kafka_t *rk, const char *const *topics,
                              size_t ntopics, int partitions,
                              int replication_factor, int timeout_ms,
                              int retry_ms)
{
        char errstr[512];

        while (kafka_topics_ensure(rk, topics, ntopics, partitions,
                                   replication_factor, timeout_ms, errstr,
                                   sizeof(errstr)) == -1) {
                log_write(LOG_LEVEL_WARN, "cannot create topics yet",
                          (struct log_field[]){
                                  LOG_STR("kafka.topic", topics[0]),
                                  LOG_STR("error.message", errstr),
                          },
                          2);
                if (shutdown_wait(retry_ms))
                        return -1;
        }
        return 0;
}

int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        const rd_kafka_metadata_topic_t *t;
        rd_kafka_resp_err_t err;
        int n = -1;

        /* All topics: naming one may make the broker auto-create it. */
        err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
        if (err)
                return error_set(errstr, errstr_size,
                                 "cannot read cluster metadata: %s",
                                 rd_kafka_err2str(err));
        t = metadata_topic(md, topic);
        if (t && t->err == RD_KAFKA_RESP_ERR_NO_ERROR && t->partition_cnt > 0)
                n = t->partition_cnt;
        else if (t && t->err)
                error_set(errstr, errstr_size, "topic '%s': %s", topic,
                          rd_kafka_err2str(t->err));
        else
                error_set(errstr, errstr_size, "topic '%s' does not exist",
                          topic);
        rd_kafka_metadata_destroy(md);
        return n;
}

int kafka_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                       int replication_factor, const char *const *configs,
                       size_t nconfigs, int timeout_ms, char *errstr,
                       size_t errstr_size)
{
        rd_kafka_NewTopic_t *newt;
        char rderr[256];
        int ret;

        newt = rd_kafka_NewTopic_new(topic, partitions, replication_factor,
                                     rderr, sizeof(rderr));
        if (!newt)
                return error_set(errstr, errstr_size, "topic '%s': %s", topic,
                                 rderr);
        for (size_t i = 0; i + 1 < nconfigs * 2; i += 2) {
                if (rd_kafka_NewTopic_set_config(newt, configs[i],
                                                 configs[i + 1])) {
                        rd_kafka_NewTopic_destroy(newt);
                        return error_set(errstr, errstr_size,
                                         "topic '%s': cannot set %s", topic,
                                         configs[i]);
                }
        }
        ret = topics_create(rk, &newt, 1, deadline_in(timeout_ms), timeout_ms,
                            errstr, errstr_size);
        rd_kafka_NewTopic_destroy(newt);
        return ret;
}

bool kafka_topics_ready(rd_kafka_t *rk, const char *const *topics,
                        size_t ntopics, int timeout_ms)
{
        const struct rd_kafka_metadata *md = NULL;
        bool ready = true;

        if (!rk || (ntopics > 0 && !topics))
                return false;
        /* All topics: see kafka_topics_ensure() about auto-creation. */
        if (rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
                return false;
        for (size_t i = 0; i < ntopics && ready; i++) {
                const rd_kafka_metadata_topic_t *t = metadata_topic(md, topics[i]);

                if (!t || t->err || t->partition_cnt < 1) {
                        ready = false;
                        break;
                }
                for (int p = 0; p < t->partition_cnt; p++) {
                        if (t->partitions[p].err ==
                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                            t->partitions[p].leader < 0) {
                                ready = false;
                                break;
                        }
                }
        }
        rd_kafka_metadata_destroy(md);
        return ready;
}

char *kafka_header_dup(const rd_kafka_message_t *msg, const char *name)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *value = NULL;
        size_t size = 0;
        if (!msg || !name)
                return NULL;
        /* The headers stay owned by the message. */
        if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return NULL;
        if (rd_kafka_header_get_last(hdrs, name, &value, &size) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
                return NULL;
        return memdup(value, value ? size : 0);
}
