/* Producers after a fatal error (kafka.h). An idempotent or transactional
 * producer's fatal error cannot be cleared (librdkafka 2.0.2 can hit one
 * after a broker restart): the services replace the producer, each on the
 * thread that polls it, and retire the old one here, the same way. */
#include "shared/deadline.h"
#include "shared/kafka.h"

rd_kafka_resp_err_t kafka_fatal_error(rd_kafka_t *rk, int err, char *reason,
                                      size_t reason_size)
{
        if (err != RD_KAFKA_RESP_ERR__FATAL)
                return RD_KAFKA_RESP_ERR_NO_ERROR;
        reason[0] = '\0';
        err = rd_kafka_fatal_error(rk, reason, reason_size);
        /* Raised for this client but not (yet) readable: still fatal. */
        return err ? (rd_kafka_resp_err_t)err : RD_KAFKA_RESP_ERR__FATAL;
}

int kafka_producer_retire(rd_kafka_t *old, rd_kafka_t *serving,
                          int timeout_ms)
{
        int64_t deadline = deadline_in(timeout_ms);
        int left;

        /* Queued messages fail as "not persisted", in-flight ones as
         * "possibly persisted": each one's owner learns which. */
        rd_kafka_purge(old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
                                    RD_KAFKA_PURGE_F_NON_BLOCKING);
        while ((left = rd_kafka_outq_len(old)) > 0 &&
               !deadline_passed(deadline)) {
                rd_kafka_poll(old, 10);
                if (serving)
                        rd_kafka_poll(serving, 0);
        }
        rd_kafka_destroy(old);
        return left;
}
