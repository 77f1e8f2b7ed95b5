/* The dead-letter producer of notifications.dlq: idempotent, acks=all.
 * A record is only "done" once the DLQ has acknowledged it; one whose
 * delivery failed, or that could not be queued because the producer failed
 * fatally, is kept and produced again (at most once a second), and a
 * producer with a fatal error (an idempotent producer's can follow a broker
 * restart) is replaced by a new one.
 *
 * Threads: dlq_produce() from any thread; dlq_poll(), dlq_flush() and the
 * 'acked' callback on one thread (the consumer's). */
#ifndef NOTIFICATION_DLQ_H
#define NOTIFICATION_DLQ_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "shared/config.h"

struct dlq;
struct metric_counter;

/* A record produced with 'opaque' was acknowledged. Runs inside
 * dlq_poll()/dlq_flush(); it owns 'opaque' from then on. */
typedef void (*dlq_acked_fn)(void *arg, void *opaque);

/* Check that the DLQ producer can be configured from 'cfg' (no KAFKA_*
 * variable weakens it), without starting one. Returns 0, or -1 with errstr
 * naming the variable at fault. */
int dlq_check_config(const struct config *cfg, char *errstr,
                     size_t errstr_size);

/* A producer for 'topic' configured from 'cfg' (borrowed: it must outlive
 * the dlq). 'records' and 'errors' count acknowledged and failed
 * deliveries (may be NULL). Returns it, or NULL with errstr. */
struct dlq *dlq_new(const struct config *cfg, const char *topic,
                    dlq_acked_fn acked, void *acked_arg,
                    struct metric_counter *records,
                    struct metric_counter *errors, char *errstr,
                    size_t errstr_size);

/* Produce key, value (copied) and 'hdrs' (consumed in every case) with
 * 'opaque', a heap pointer handed to 'acked' once acknowledged, and freed
 * with free(3) by dlq_destroy() if never. A record librdkafka refuses now
 * is kept and tried again. Any thread. Returns 0, or -1 when out of memory
 * or shutting down (the caller keeps 'opaque'). */
int dlq_produce(struct dlq *d, const void *key, size_t key_len,
                const void *value, size_t value_len, rd_kafka_headers_t *hdrs,
                void *opaque);

/* Serve delivery reports for up to 'timeout_ms', produce failed records
 * again, and replace a producer that failed fatally. */
void dlq_poll(struct dlq *d, int timeout_ms);

/* Wait up to 'timeout_ms' for every queued record. Returns how many are
 * still not acknowledged. */
int dlq_flush(struct dlq *d, int timeout_ms);

/* The current producer handle, for admin requests (topic creation) and
 * tests; it changes when the producer is replaced. */
rd_kafka_t *dlq_handle(struct dlq *d);

/* Free everything (records not acknowledged are dropped). No operation if
 * NULL. */
void dlq_destroy(struct dlq *d);

#endif
