/* Webhook workers: a bounded queue under one lock, a libcurl easy handle
 * per worker (kept between jobs, so connections are reused). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "shared/deadline.h"
#include "shared/log.h"
#include "shared/metrics.h"
#include "shared/shutdown.h"
#include "shared/trace.h"
#include "shared/util.h"
#include "webhook.h"

struct webhook {
        struct webhook_options opts;
        char *url;
        webhook_done_fn done_fn;
        void *done_arg;

        /* lock guards everything below. */
        pthread_mutex_t lock;
        pthread_cond_t not_empty;  /* a job queued, or stopping */
        pthread_cond_t not_full;   /* a slot freed, or stopping */
        pthread_cond_t stop_cond;  /* stopping: cuts backoff waits short */
        struct webhook_job **ring;
        size_t head, count;
        size_t busy;               /* jobs taken by workers, not finished */
        bool stopping;

        pthread_t *threads;
        int nthreads;
};

struct webhook_job *webhook_job_new(const rd_kafka_message_t *msg,
                                    const char *traceparent)
{
        struct webhook_job *job = calloc(1, sizeof(*job));
        rd_kafka_headers_t *hdrs = NULL;
        const char *topic = rd_kafka_topic_name(msg->rkt);

        if (!job)
                return NULL;
        ecs_event_id(job->event_id, sizeof(job->event_id), topic,
                     msg->partition, msg->offset);
        job->partition = msg->partition;
        job->offset = msg->offset;
        job->topic = memdup(topic, strlen(topic));
        job->value = memdup(msg->payload, msg->len);
        job->value_len = msg->len;
        if (!job->topic || !job->value)
                goto fail;
        if (msg->key) {
                job->key = memdup(msg->key, msg->key_len);
                job->key_len = msg->key_len;
                if (!job->key)
                        goto fail;
        }
        if (traceparent && !(job->traceparent = strdup(traceparent)))
                goto fail;
        if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
                job->headers = rd_kafka_headers_copy(hdrs);
        return job;
fail:
        webhook_job_free(job);
        return NULL;
}

void webhook_job_free(struct webhook_job *job)
{
        if (!job)
                return;
        free(job->topic);
        free(job->value);
        free(job->key);
        free(job->traceparent);
        if (job->headers)
                rd_kafka_headers_destroy(job->headers);
        free(job);
}

/* Discard the response body: only the status matters. */
static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
        (void)ptr;
        (void)arg;
        return size * nmemb;
}

/* One POST of 'job'. Fills res->http_status, curl_code, error. */
static void attempt(struct webhook *wh, CURL *curl, struct webhook_job *job,
                    struct webhook_result *res)
{
        struct curl_slist *hdrs = NULL, *h;
        char line[ECS_EVENT_ID_SIZE + 64];
                char curlerr[CURL_ERROR_SIZE] = "";
        CURLcode rc;

        res->http_status = 0;
        res->curl_code = 0;
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        snprintf(line, sizeof(line), "Idempotency-Key: %s", job->event_id);
        if (hdrs && (h = curl_slist_append(hdrs, line)))
                hdrs = h;
        /* Only a well-formed traceparent is passed on: the header value
         * must never carry CR or LF into the request. */
        if (traceparent_parse(job->traceparent, NULL, 0)) {
                snprintf(line, sizeof(line), "traceparent: %.64s",
                         job->traceparent);
                if (hdrs && (h = curl_slist_append(hdrs, line)))
                        hdrs = h;
        }
        if (hdrs && (h = curl_slist_append(hdrs, "Expect:")))
                hdrs = h; /* no 100-continue round trip */
        if (!hdrs) {
                res->curl_code = CURLE_OUT_OF_MEMORY;
                snprintf(res->error, sizeof(res->error), "out of memory");
                return;
        }
        curl_easy_setopt(curl, CURLOPT_URL, wh->url);
        curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L); /* threads */
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, job->value);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)job->value_len);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(curl, CURLOPT_USERAGENT,
                         "notification_service/" PIPELINE_VERSION);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, wh->opts.timeout_ms);
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                         wh->opts.connect_timeout_ms);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_body);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlerr);
        curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);

        rc = curl_easy_perform(curl);
        metric_counter_inc(wh->opts.attempts);
        res->curl_code = (int)rc;
        if (rc == CURLE_OK) {
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE,
                                  &res->http_status);
                snprintf(res->error, sizeof(res->error), "HTTP %ld",
                         res->http_status);
        } else {
                snprintf(res->error, sizeof(res->error), "%s",
                         curlerr[0] ? curlerr : curl_easy_strerror(rc));
        }
        /* The header list is ours again once the transfer is over. */
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
        curl_slist_free_all(hdrs);
}

/* Wait 'ms' unless stopping. Returns true when stopping. */
static bool wait_or_stop(struct webhook *wh, int64_t ms)
{
        int64_t deadline = deadline_in(ms);
        bool stopping;

        pthread_mutex_lock(&wh->lock);
        while (!wh->stopping &&
               deadline_cond_wait(&wh->stop_cond, &wh->lock, deadline))
                ;
        stopping = wh->stopping;
        pthread_mutex_unlock(&wh->lock);
        return stopping;
}

/* Deliver 'job' with its retries. Returns false when stopped first. */
static bool deliver(struct webhook *wh, CURL *curl, unsigned *seed,
                    struct webhook_job *job, struct webhook_result *res)
{
        unsigned max_attempts = wh->opts.retry_limit + 1;

        memset(res, 0, sizeof(*res));
        for (unsigned n = 1; n <= max_attempts; n++) {
                if (n > 1) {
                        int64_t ms = webhook_backoff_ms(
                                n - 1, wh->opts.retry_base_ms,
                                wh->opts.retry_max_ms, (uint32_t)rand_r(seed));

                        if (wait_or_stop(wh, ms))
                                return false;
                }
                attempt(wh, curl, job, res);
                res->attempts = n;
                res->verdict = webhook_classify(res->curl_code,
                                                res->http_status);
                if (res->verdict != WEBHOOK_RETRY)
                        return true;
                if (log_enabled(LOG_LEVEL_DEBUG)) {
                        struct log_field f[3] = {
                                LOG_STR("event.id", job->event_id),
                                LOG_STR("error.message", res->error),
                                LOG_INT("webhook.attempt", n),
                        };
                        log_write(LOG_LEVEL_DEBUG, "webhook attempt failed", f, 3);
                }
        }
        return true;
}

/* A worker thread: take jobs until stopping. */
static void *worker_main(void *arg)
{
        struct webhook *wh = arg;
        CURL *curl = curl_easy_init();
        unsigned seed = 0;

        if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
                seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
        for (;;) {
                struct webhook_job *job;
                struct webhook_result res;
                bool finished;

                pthread_mutex_lock(&wh->lock);
                while (!wh->stopping && wh->count == 0)
                        pthread_cond_wait(&wh->not_empty, &wh->lock);
                if (wh->stopping) {
                        pthread_mutex_unlock(&wh->lock);
                        break;
                }
                job = wh->ring[wh->head];
                wh->head = (wh->head + 1) % wh->opts.queue_size;
                wh->count--;
                wh->busy++;
                pthread_cond_signal(&wh->not_full);
                pthread_mutex_unlock(&wh->lock);

                if (curl) {
                        finished = deliver(wh, curl, &seed, job, &res);
                } else {
                        memset(&res, 0, sizeof(res));
                        res.verdict = WEBHOOK_RETRY;
                        res.curl_code = CURLE_FAILED_INIT;
                        snprintf(res.error, sizeof(res.error),
                                 "cannot initialise libcurl");
                        finished = true;
                }
                if (finished)
                        wh->done_fn(wh->done_arg, job, &res); /* owns job */
                else
                        webhook_job_free(job); /* read again after restart */

                pthread_mutex_lock(&wh->lock);
                wh->busy--;
                pthread_mutex_unlock(&wh->lock);
        }
        curl_easy_cleanup(curl);
        return NULL;
}

struct webhook *webhook_new(const struct webhook_options *opts,
                            webhook_done_fn done_fn, void *done_arg,
                            char *errstr, size_t errstr_size)
{
        struct webhook *wh = calloc(1, sizeof(*wh));

        if (!wh) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        wh->opts = *opts;
        if (wh->opts.queue_size < 1)
                wh->opts.queue_size = 1;
        if (wh->opts.workers < 1)
                wh->opts.workers = 1;
        wh->done_fn = done_fn;
        wh->done_arg = done_arg;
        pthread_mutex_init(&wh->lock, NULL);
        pthread_cond_init(&wh->not_empty, NULL);
        /* Both are waited on with deadlines: the monotonic clock. */
        deadline_cond_init(&wh->not_full);
        deadline_cond_init(&wh->stop_cond);
        wh->url = strdup(opts->url ? opts->url : "");
        wh->ring = calloc(wh->opts.queue_size, sizeof(*wh->ring));
        wh->threads = calloc((size_t)wh->opts.workers, sizeof(*wh->threads));
        if (!wh->url || !wh->ring || !wh->threads) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        wh->opts.url = wh->url;
        for (int i = 0; i < wh->opts.workers; i++) {
                int err = pthread_create(&wh->threads[i], NULL, worker_main, wh);

                if (err) {
                        snprintf(errstr, errstr_size,
                                 "cannot start webhook worker: %s",
                                 strerror(err));
                        goto fail;
                }
                wh->nthreads++;
        }
        return wh;
fail:
        webhook_destroy(wh);
        return NULL;
}

int webhook_enqueue(struct webhook *wh, struct webhook_job *job)
{
        int ret = -1;

        pthread_mutex_lock(&wh->lock);
        /* Short waits: a SIGTERM must not wait for a slow receiver to free
         * a slot (the job is then left unfinished, read again later). */
        while (!wh->stopping && wh->count == wh->opts.queue_size &&
               !shutdown_requested())
                deadline_cond_wait(&wh->not_full, &wh->lock, deadline_in(100));
        if (!wh->stopping && wh->count < wh->opts.queue_size) {
                wh->ring[(wh->head + wh->count) % wh->opts.queue_size] = job;
                wh->count++;
                pthread_cond_signal(&wh->not_empty);
                ret = 0;
        }
        pthread_mutex_unlock(&wh->lock);
        return ret;
}

bool webhook_is_full(struct webhook *wh)
{
        bool full;

        pthread_mutex_lock(&wh->lock);
        full = wh->count == wh->opts.queue_size;
        pthread_mutex_unlock(&wh->lock);
        return full;
}

size_t webhook_in_flight(struct webhook *wh)
{
        size_t n;

        pthread_mutex_lock(&wh->lock);
        n = wh->count + wh->busy;
        pthread_mutex_unlock(&wh->lock);
        return n;
}

void webhook_stop(struct webhook *wh)
{
        pthread_mutex_lock(&wh->lock);
        wh->stopping = true;
        pthread_cond_broadcast(&wh->not_empty);
        pthread_cond_broadcast(&wh->not_full);
        pthread_cond_broadcast(&wh->stop_cond);
        pthread_mutex_unlock(&wh->lock);
        for (int i = 0; i < wh->nthreads; i++)
                pthread_join(wh->threads[i], NULL);
        wh->nthreads = 0;
        /* No worker left: the queue is ours. */
        while (wh->count > 0) {
                webhook_job_free(wh->ring[wh->head]);
                wh->head = (wh->head + 1) % wh->opts.queue_size;
                wh->count--;
        }
}

void webhook_destroy(struct webhook *wh)
{
        if (!wh)
                return;
        webhook_stop(wh);
        free(wh->threads);
        free(wh->ring);
        free(wh->url);
        pthread_cond_destroy(&wh->stop_cond);
        pthread_cond_destroy(&wh->not_full);
        pthread_cond_destroy(&wh->not_empty);
        pthread_mutex_destroy(&wh->lock);
        free(wh);
}
