/* What the two consumer groups (processing, notification) do the same
 * way: subscribe, and measure their lag and their records' age (kafka.h). */
#include <stdio.h>

#include "shared/kafka.h"
#include "shared/util.h"

int64_t kafka_record_age_ms(const rd_kafka_message_t *msg)
{
        int64_t ts = rd_kafka_message_timestamp(msg, NULL), age;

        if (ts <= 0)
                return -1;
        age = time_epoch_ms() - ts;
        return age > 0 ? age : 0;
}

int kafka_subscribe(rd_kafka_t *consumer, const char *topic, char *errstr,
                    size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_resp_err_t err;

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err) {
                snprintf(errstr, errstr_size, "cannot subscribe to '%s': %s",
                         topic, rd_kafka_err2str(err));
                return -1;
        }
        return 0;
}

int64_t kafka_consumer_lag(rd_kafka_t *consumer)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        int64_t lag = 0;

        if (rd_kafka_assignment(consumer, &parts))
                return -1;
        rd_kafka_position(consumer, parts);
        for (int i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t low, high;

                /* No position: see kafka.h. */
                if (p->offset < 0 ||
                    rd_kafka_get_watermark_offsets(consumer, p->topic,
                                                   p->partition, &low,
                                                   &high) ||
                    high <= p->offset)
                        continue;
                lag += high - p->offset;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return lag;
}
