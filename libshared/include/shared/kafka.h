/* Kafka set-up shared by the services: client configuration from
 * struct config, librdkafka's logs into ours, topic creation, readiness. */
#ifndef SHARED_KAFKA_H
#define SHARED_KAFKA_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "shared/config.h"

enum kafka_client_role {
        KAFKA_ROLE_PRODUCER,
        KAFKA_ROLE_CONSUMER,
};

/* Collect every KAFKA_<NAME> variable that is not a shared setting into
 * cfg->kafka_props (sorted by variable) and check each with librdkafka.
 * Called by config_load(). Returns 0, or -1 with errstr naming the
 * variable at fault. */
int kafka_props_load(struct config *cfg, char *errstr, size_t errstr_size);

/* A new librdkafka configuration with bootstrap.servers, client.id
 * (the service name) and every KAFKA_* property of 'cfg', and librdkafka's
 * log lines routed to log.h. For consumers also group.id,
 * auto.offset.reset and the "range" assignor (a cooperative one is refused:
 * see kafka.c). Returns it (the caller owns it until it is handed to
 * rd_kafka_new()), or NULL with errstr naming the variable at fault. */
rd_kafka_conf_t *kafka_conf_new(const struct config *cfg,
                                enum kafka_client_role role,
                                char *errstr, size_t errstr_size);

/* The value a KAFKA_* variable gave librdkafka property 'name', or NULL.
 * Borrowed from 'cfg'. */
const char *kafka_user_property(const struct config *cfg, const char *name);

enum kafka_default_mode {
        KAFKA_DEFAULT,  /* the user's KAFKA_* value, when given, wins */
        KAFKA_REQUIRED, /* a different user value is a configuration error */
};

/* Set property 'name' of 'conf' (made by kafka_conf_new() from 'cfg') to
 * 'value', unless the user chose it through KAFKA_*: then, with
 * KAFKA_REQUIRED, a value other than 'value' is refused. Returns 0, or -1
 * with errstr naming the variable at fault. */
int kafka_conf_default(rd_kafka_conf_t *conf, const struct config *cfg,
                       const char *name, const char *value,
                       enum kafka_default_mode mode, char *errstr,
                       size_t errstr_size);

/* One property set on a client's configuration with kafka_conf_default():
 * a guarantee the client rests on (KAFKA_REQUIRED), or a default of ours
 * (KAFKA_DEFAULT). */
struct kafka_setting {
        const char *name;
        const char *value;
        enum kafka_default_mode mode;
};

/* A static array of settings and its length, as kafka_conf_with() takes
 * them. */
#define KAFKA_SETTINGS(a) (a), (sizeof(a) / sizeof((a)[0]))

/* kafka_conf_new(), then kafka_conf_default() for each of 'settings' in
 * order. Returns the configuration (the caller owns it), or NULL with
 * errstr naming the variable at fault. */
rd_kafka_conf_t *kafka_conf_with(const struct config *cfg,
                                 enum kafka_client_role role,
                                 const struct kafka_setting *settings,
                                 size_t nsettings, char *errstr,
                                 size_t errstr_size);

/* rd_kafka_new() that takes 'conf' in every case: it is owned by the new
 * client, or destroyed when none could be made (then errstr says
 * "cannot create <what>: ..."). A consumer also gets its main queue
 * forwarded to rd_kafka_consumer_poll(). Returns the client, or NULL. */
rd_kafka_t *kafka_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                             const char *what, char *errstr,
                             size_t errstr_size);

/* For a start-up check that a configuration can be built: destroys
 * 'conf' and returns 0, or returns -1 when it is NULL (its builder has
 * set errstr). */
int kafka_conf_check(rd_kafka_conf_t *conf);

/* Create each of 'topics' that does not exist yet with 'partitions' and
 * 'replication_factor'; one that exists already is fine, and so is one that
 * another instance creates at the same moment. Uses 'rk' (any client).
 * Returns 0, or -1 with errstr. */
int kafka_topics_ensure(rd_kafka_t *rk, const char *const *topics,
                        size_t ntopics, int partitions, int replication_factor,
                        int timeout_ms, char *errstr, size_t errstr_size);

/* kafka_topics_ensure() until it succeeds: while the cluster does not
 * answer (it may still be starting) each failure is logged and tried again
 * after 'retry_ms'. Returns 0, or -1 once shutdown is requested. */
int kafka_topics_ensure_retry(rd_kafka_t *rk, const char *const *topics,
                              size_t ntopics, int partitions,
                              int replication_factor, int timeout_ms,
                              int retry_ms);

/* How many partitions 'topic' has, or -1 with errstr (no answer within
 * 'timeout_ms', or no such topic). */
int kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           char *errstr, size_t errstr_size);

/* Create 'topic' with the topic configs 'configs' ('nconfigs' name, value
 * pairs, as NewTopic's set_config takes them); one that exists already
 * (or that another client creates at the same moment) is fine, whatever
 * its configs. Returns 0, or -1 with errstr. */
int kafka_topic_create(rd_kafka_t *rk, const char *topic, int partitions,
                       int replication_factor, const char *const *configs,
                       size_t nconfigs, int timeout_ms, char *errstr,
                       size_t errstr_size);

/* True when the cluster answers a metadata request within 'timeout_ms' and
 * every one of 'topics' exists there with its partitions led. */
bool kafka_topics_ready(rd_kafka_t *rk, const char *const *topics,
                        size_t ntopics, int timeout_ms);

/* Whether 'err' of an error callback is an authentication failure (SASL
 * or TLS). kafka_conf_new()'s log callback has logged it once as an error,
 * so error callbacks need not: a wrong password is one line, not one per
 * reconnect. */
bool kafka_error_is_auth(int err);

/* A client has reached the broker: the next authentication failure is an
 * error line again (called by the readiness watch). */
void kafka_auth_succeeded(void);

/* The value of header 'name' of 'msg' as a new NUL-terminated string
 * (free(3) it), or NULL when absent. */
char *kafka_header_dup(const rd_kafka_message_t *msg, const char *name);

/* --- consumers (kafka_consumer.c) --- */

/* Subscribe 'consumer' to 'topic'. Returns 0, or -1 with errstr. */
int kafka_subscribe(rd_kafka_t *consumer, const char *topic, char *errstr,
                    size_t errstr_size);

/* The consumer lag: over the assigned partitions, the high watermark
 * (cached from the last fetch: no request) minus the position. A
 * partition with no position yet (nothing consumed since it was assigned)
 * counts 0: its position is unknown, not its start, and counting from the
 * low watermark would report a partition's whole history as lag after
 * every rebalance, for as long as it stays idle. -1 when the assignment
 * cannot be read. */
int64_t kafka_consumer_lag(rd_kafka_t *consumer);

/* How long ago, in ms on the wall clock, 'msg' was stamped (its
 * CreateTime: when its producer called produce()); -1 when it has no
 * timestamp. A record from the future (clocks of two hosts) is 0 ms old.
 * For the stage histograms of docs/bench.md. */
int64_t kafka_record_age_ms(const rd_kafka_message_t *msg);

/* --- producers (kafka_producer.c) --- */

/* When 'err' (of an error callback of 'rk') is a fatal error, write the
 * underlying one into 'reason' and return its code; else return
 * RD_KAFKA_RESP_ERR_NO_ERROR. */
rd_kafka_resp_err_t kafka_fatal_error(rd_kafka_t *rk, int err, char *reason,
                                      size_t reason_size);

/* Retire a producer replaced after a fatal error (its successor already
 * takes new records): purge what it holds, so each message gets its
 * delivery report (failed: purged), serve those reports for up to
 * 'timeout_ms' (also polling 'serving', the successor, when not NULL, so
 * its reports do not wait), and destroy it. Returns how many messages
 * were still held at the end. Call on the thread that polls 'old'. */
int kafka_producer_retire(rd_kafka_t *old, rd_kafka_t *serving,
                          int timeout_ms);

#endif
