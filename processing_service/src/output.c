/* One orders record in, one record out, inside the open transaction: its
 * status on the notifications topic (with the traceparent passed on) and
 * its dedupe changelog entry; or, when it is not an order or reuses an
 * order_id for another order, the record itself on <orders>.dlq with the
 * headers of record.h; or nothing, when its order already has a status.
 * See processor_int.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "processor_int.h"
#include "rules.h"
#include "shared/metrics.h"
#include "shared/order.h"
#include "shared/record.h"
#include "shared/util.h"

/* The producer refuses larger records (message.max.bytes default). */
#define DLQ_TOO_LARGE_CODE "record_too_large"
#define DLQ_SERVICE "processing_service"

/* The caller still owns 'hdrs' when this fails. */
int output_produce(struct processor *p, const char *topic, int32_t partition,
                   const void *key, size_t key_len, const void *value,
                   size_t len, rd_kafka_headers_t *hdrs,
                   rd_kafka_resp_err_t *errp)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                        p->producer, RD_KAFKA_V_TOPIC(topic),
                        RD_KAFKA_V_PARTITION(partition),
                        RD_KAFKA_V_KEY(key, key_len),
                        RD_KAFKA_V_VALUE((void *)value, len),
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
 * naming 'err' found at 'stage'. Returns 0, or -1 with the produce error
 * in *errp. */
static int send_to_dlq(struct processor *p, const rd_kafka_message_t *msg,
                       const char *stage, const struct model_error *err,
                       rd_kafka_resp_err_t *errp)
{
        const struct record_fault fault = {
                DLQ_SERVICE, stage, err->code, err->message, err->field,
        };
        rd_kafka_headers_t *hdrs = record_dlq_headers_of(msg, &fault);
        int ret;

        ret = output_produce(p, p->dlq_topic, RD_KAFKA_PARTITION_UA, msg->key,
                             msg->key_len, msg->payload, msg->len, hdrs, errp);
        if (ret < 0 && *errp == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                /* Larger than the producer may send: keep the key and the
                 * headers, say why the value is missing. Nothing stalls. */
                record_header_add_str(hdrs, "dlq.value.omitted",
                                      DLQ_TOO_LARGE_CODE);
                record_header_add_int(hdrs, "dlq.value.bytes",
                                      (long long)msg->len);
                ret = output_produce(p, p->dlq_topic, RD_KAFKA_PARTITION_UA,
                                     msg->key, msg->key_len, NULL, 0, hdrs,
                                     errp);
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
        ret = output_produce(p, p->cfg->notifications_topic,
                             RD_KAFKA_PARTITION_UA, status->order.order_id,
                             strlen(status->order.order_id), value, len, hdrs,
                             errp);
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

/* The status of a new order, and its changelog entry. Returns 0 with
 * *outcome, or -1 with *perr. */
static int output_status(struct processor *p, const rd_kafka_message_t *msg,
                         const struct order *order, uint64_t fingerprint,
                         enum outcome *outcome, rd_kafka_resp_err_t *perr)
{
        struct order_status status;

        rules_check(order, p->rules, &status);
        *outcome = outcome_of(&status);
        if (send_status(p, msg, &status, perr) < 0)
                return -1;
        return changelog_remember(p, msg, order, fingerprint, perr);
}

/* Decode 'msg' and check it against the dedupe store: 0 when it is an
 * order to give a status, 1 when its order already has one (*outcome),
 * -1 when it is for the DLQ (*merr, *stage). */
static int output_classify(struct processor *p, const rd_kafka_message_t *msg,
                           struct order *order, uint64_t *fingerprint,
                           struct model_error *merr, const char **stage,
                           enum outcome *outcome)
{
        *stage = "decode";
        if (!msg->payload) {
                snprintf(merr->code, sizeof(merr->code), "invalid_json");
                snprintf(merr->message, sizeof(merr->message),
                         "the record has no value");
                return -1;
        }
        if (order_decode(msg->payload, msg->len, ORDER_FROM_RECORD, order,
                         merr) < 0)
                return -1;
        switch (changelog_check(p, msg, order, fingerprint)) {
        case DEDUPE_SAME:
                *outcome = OUTCOME_DUPLICATE;
                return 1;
        case DEDUPE_CONFLICT:
                *stage = "dedupe";
                *outcome = OUTCOME_CONFLICT;
                snprintf(merr->code, sizeof(merr->code), "duplicate_order_id");
                snprintf(merr->message, sizeof(merr->message),
                         "order_id already has a status, for an order with "
                         "other content");
                snprintf(merr->field, sizeof(merr->field), "order_id");
                return -1;
        default:
                return 0;
        }
}

/* Decode 'msg' and produce what it gives. Returns 0 with *outcome, or -1
 * with the produce error in *perr. */
static int output_record(struct processor *p, const rd_kafka_message_t *msg,
                         enum outcome *outcome, rd_kafka_resp_err_t *perr)
{
        struct model_error merr = {0};
        uint64_t fingerprint = 0;
        const char *stage;
        struct order order;
        int ret;

        *outcome = OUTCOME_DLQ;
        ret = output_classify(p, msg, &order, &fingerprint, &merr, &stage,
                              outcome);
        if (ret == 0)
                return output_status(p, msg, &order, fingerprint, outcome,
                                     perr);
        if (ret == 1)
                return 0;
        ret = send_to_dlq(p, msg, stage, &merr, perr);
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
