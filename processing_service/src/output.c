/* One orders record in, one record out, inside the open transaction: its
 * status on the notifications topic (with the traceparent passed on), or,
 * when it is not an order, the record itself on <orders>.dlq with the
 * headers of record.h. See processor_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "processor_int.h"
#include "rules.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/record.h"
#include "shared/util.h"

/* The producer refuses larger records (message.max.bytes default). */
#define DLQ_TOO_LARGE_CODE "record_too_large"
#define DLQ_SERVICE "processing_service"

/* Produce one record in the open transaction; the producer copies what it
 * needs, except 'hdrs', which it owns on success. Returns 0, or -1 with
 * the error code in *errp (the caller still owns 'hdrs'). */
static int produce(struct processor *p, const char *topic, const void *key,
                   size_t key_len, void *value, size_t len,
                   rd_kafka_headers_t *hdrs, rd_kafka_resp_err_t *errp)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        p->producer, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_KEY(key, key_len),
                        RD_KAFKA_V_VALUE(value, len),
                        RD_KAFKA_V_HEADERS(hdrs),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                /* Wait for deliveries to make room. */
                rd_kafka_poll(p->producer, 10);
        }
        *errp = err;
        return err ? -1 : 0;
}

/* Send the record 'msg' unchanged to the dead letter topic with headers
 * naming 'err'. Returns 0, or -1 with the produce error in *errp. */
static int send_to_dlq(struct processor *p, const rd_kafka_message_t *msg,
                       const struct model_error *err, rd_kafka_resp_err_t *errp)
{
        const struct record_fault fault = {
                DLQ_SERVICE, "decode", err->code, err->message, err->field,
        };
        rd_kafka_headers_t *hdrs = record_dlq_headers_of(msg, &fault);
        int ret;

        ret = produce(p, p->dlq_topic, msg->key, msg->key_len, msg->payload,
                      msg->len, hdrs, errp);
        if (ret < 0 && *errp == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                /* Larger than the producer may send: keep the key and the
                 * headers, say why the value is missing. Nothing stalls. */
                record_header_add_str(hdrs, "dlq.value.omitted",
                                      DLQ_TOO_LARGE_CODE);
                record_header_add_int(hdrs, "dlq.value.bytes",
                                      (long long)msg->len);
                ret = produce(p, p->dlq_topic, msg->key, msg->key_len, NULL, 0,
                              hdrs, errp);
        }
        if (ret < 0)
                rd_kafka_headers_destroy(hdrs);
        return ret;
}

/* Produce the status of 'order' to the notifications topic, passing on
 * the traceparent of 'msg'. Returns 0, or -1 with *errp. */
static int send_status(struct processor *p, const rd_kafka_message_t *msg,
                       struct order_status *status, rd_kafka_resp_err_t *errp)
{
        rd_kafka_headers_t *hdrs;
        size_t len = 0;
        char *value;
        int ret;

        time_now_rfc3339(status->processed_at, sizeof(status->processed_at));
        value = order_status_encode(status, &len);
        if (!value) {
                *errp = RD_KAFKA_RESP_ERR__FAIL;
                return -1;
        }
        hdrs = rd_kafka_headers_new(2);
        record_header_add_str(hdrs, "content-type", "application/json");
        record_pass_traceparent(msg, hdrs);
        ret = produce(p, p->cfg->notifications_topic, status->order.order_id,
                      strlen(status->order.order_id), value, len, hdrs, errp);
        if (ret < 0)
                rd_kafka_headers_destroy(hdrs);
        free(value);
        return ret;
}

static enum outcome outcome_of(const struct order_status *status)
{
        if (status->status == ORDER_STATUS_CONFIRMED)
                return OUTCOME_CONFIRMED;
        if (!strcmp(status->reason, RULES_REASON_QUANTITY_LIMIT))
                return OUTCOME_QUANTITY_LIMIT;
        if (!strcmp(status->reason, RULES_REASON_UNKNOWN_ITEM))
                return OUTCOME_UNKNOWN_ITEM;
        return OUTCOME_REJECTED_OTHER;
}

/* Remember that 'msg' is processed: the transaction commits msg->offset+1
 * as the partition's next offset. */
static void txn_track_offset(struct processor *p, const rd_kafka_message_t *msg)
{
        const char *topic = rd_kafka_topic_name(msg->rkt);
        rd_kafka_topic_partition_t *tp;

        tp = rd_kafka_topic_partition_list_find(p->txn_offsets, topic,
                                                msg->partition);
        if (!tp)
                tp = rd_kafka_topic_partition_list_add(p->txn_offsets, topic,
                                                       msg->partition);
        tp->offset = msg->offset + 1;
}

/* Decode 'msg' and produce what it gives. Returns 0 with *outcome, or -1
 * with the produce error in *perr. */
static int output_record(struct processor *p, const rd_kafka_message_t *msg,
                         enum outcome *outcome, rd_kafka_resp_err_t *perr)
{
        struct model_error merr = {0};
        struct order_status status;
        struct order order;
        int ret;

        if (!msg->payload) {
                snprintf(merr.code, sizeof(merr.code), "invalid_json");
                snprintf(merr.message, sizeof(merr.message),
                         "the record has no value");
                ret = -1;
        } else {
                ret = order_decode(msg->payload, msg->len, ORDER_FROM_RECORD,
                                   &order, &merr);
        }
        if (ret == 0) {
                rules_check(&order, p->rules, &status);
                *outcome = outcome_of(&status);
                return send_status(p, msg, &status, perr);
        }
        *outcome = OUTCOME_DLQ;
        ret = send_to_dlq(p, msg, &merr, perr);
        log_write(LOG_LEVEL_WARN, "record sent to the dead letter topic",
                  (struct log_field[]){
                          LOG_INT("kafka.partition", msg->partition),
                          LOG_INT("kafka.offset", msg->offset),
                          LOG_STR("error.code", merr.code),
                          LOG_STR("error.message", merr.message),
                  },
                  4);
        return ret;
}

/* Check one orders record and produce its status, or send it to the dead
 * letter topic, inside the open transaction (opened here if need be). */
void process_record(struct processor *p, const rd_kafka_message_t *msg)
{
        rd_kafka_resp_err_t perr = RD_KAFKA_RESP_ERR_NO_ERROR;
        int64_t polled_us = time_monotonic_us(); /* just polled */
        enum outcome outcome;

        if (txn_begin(p) < 0)
                return;
        if (output_record(p, msg, &outcome, &perr) < 0) {
                log_write(LOG_LEVEL_ERROR, "cannot produce",
                          (struct log_field[]){
                                  LOG_STR("error.code", rd_kafka_err2name(perr)),
                                  LOG_STR("error.message", rd_kafka_err2str(perr)),
                          },
                          2);
                producer_check_fatal(p);
                if (!p->producer_fatal)
                        txn_abort(p, true);
                return;
        }
        p->txn_outcomes[outcome]++;
        p->txn_records++;
        txn_track_offset(p, msg);
        txn_track_record(p, msg, polled_us);
        metric_gauge_set(p->m_open_records, (double)p->txn_records);
}
