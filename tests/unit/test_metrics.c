/* Unit tests of the metrics registry and its Prometheus text rendering. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shared/metrics.h"

static double answer_fn(void *arg)
{
        return *(const double *)arg;
}

/* A small registry renders byte for byte as the 0.0.4 text format: one
 * HELP and TYPE per name, series in creation order, le merged after the
 * series labels, cumulative buckets, _count equal to the +Inf bucket. */
static void render_exact_for_small_registry(void **state)
{
        static const double bounds[] = {0.1, 1.0};
        static const char expected[] =
                "# HELP http_requests_total Requests by route and code.\n"
                "# TYPE http_requests_total counter\n"
                "http_requests_total{route=\"/orders\",code=\"202\"} 3\n"
                "http_requests_total{route=\"/orders\",code=\"400\"} 1\n"
                "# HELP queue_depth Records waiting.\n"
                "# TYPE queue_depth gauge\n"
                "queue_depth 2.5\n"
                "# HELP answer The answer, with a \\\\ and a \\n in help.\n"
                "# TYPE answer gauge\n"
                "answer{kind=\"fn\"} 42\n"
                "# HELP latency_seconds Latency.\n"
                "# TYPE latency_seconds histogram\n"
                "latency_seconds_bucket{route=\"/orders\",le=\"0.1\"} 1\n"
                "latency_seconds_bucket{route=\"/orders\",le=\"1\"} 2\n"
                "latency_seconds_bucket{route=\"/orders\",le=\"+Inf\"} 3\n"
                "latency_seconds_sum{route=\"/orders\"} 5.55\n"
                "latency_seconds_count{route=\"/orders\"} 3\n"
                "latency_seconds_bucket{le=\"0.1\"} 0\n"
                "latency_seconds_bucket{le=\"1\"} 0\n"
                "latency_seconds_bucket{le=\"+Inf\"} 0\n"
                "latency_seconds_sum 0\n"
                "latency_seconds_count 0\n";
        double answer = 42.0;
        struct metrics *m = metrics_new();
        struct metric_counter *ok, *bad, *again;
        struct metric_gauge *depth;
        struct metric_histogram *lat;
        size_t len = 0;
        char *out;

        assert_non_null(m);
        ok = metrics_counter(m, "http_requests_total",
                             "Requests by route and code.",
                             "route=\"/orders\",code=\"202\"");
        bad = metrics_counter(m, "http_requests_total", "ignored help",
                              "route=\"/orders\",code=\"400\"");
        assert_non_null(ok);
        assert_non_null(bad);
        depth = metrics_gauge(m, "queue_depth", "Records waiting.", NULL);
        assert_int_equal(metrics_gauge_fn(m, "answer",
                                          "The answer, with a \\ and a \n in help.",
                                          "kind=\"fn\"", answer_fn, &answer),
                         0);
        lat = metrics_histogram(m, "latency_seconds", "Latency.",
                                "route=\"/orders\"", bounds, 2);
        assert_non_null(lat);
        assert_non_null(metrics_histogram(m, "latency_seconds", "Latency.",
                                          NULL, bounds, 2));

        metric_counter_add(ok, 2);
        metric_counter_inc(ok);
        metric_counter_inc(bad);
        /* Get-or-create: the same name and labels is the same series. */
        again = metrics_counter(m, "http_requests_total", NULL,
                                "route=\"/orders\",code=\"202\"");
        assert_ptr_equal(again, ok);
        assert_int_equal(metric_counter_value(again), 3);

        metric_gauge_set(depth, 1.0);
        metric_gauge_add(depth, 1.5);
        metric_histogram_observe(lat, 0.05);
        metric_histogram_observe(lat, 0.5);
        metric_histogram_observe(lat, 5.0);

        out = metrics_render(m, &len);
        assert_non_null(out);
        assert_string_equal(out, expected);
        assert_int_equal(len, strlen(expected));
        free(out);
        metrics_destroy(m);
}

/* A value equal to a bound falls in that bucket ("le" = less or equal),
 * buckets are cumulative, and the default latency buckets span 0.5 ms to
 * 10 s in ascending order. */
static void histogram_buckets_cumulative(void **state)
{
        struct metrics *m = metrics_new();
        struct metric_histogram *h;
        char *out;

        assert_int_equal(metrics_latency_buckets_count, 14);
        assert_true(metrics_latency_buckets[0] == 0.0005);
        assert_true(metrics_latency_buckets[metrics_latency_buckets_count - 1] ==
                    10.0);
        for (size_t i = 1; i < metrics_latency_buckets_count; i++)
                assert_true(metrics_latency_buckets[i] >
                            metrics_latency_buckets[i - 1]);

        h = metrics_histogram(m, "op_seconds", "Op.", NULL,
                              metrics_latency_buckets,
                              metrics_latency_buckets_count);
        assert_non_null(h);
        metric_histogram_observe(h, 0.0001); /* first bucket */
        metric_histogram_observe(h, 0.0005); /* on the bound: first bucket */
        metric_histogram_observe(h, 0.003);  /* le 0.005 */
        metric_histogram_observe(h, 10.0);   /* on the last bound */
        metric_histogram_observe(h, 11.0);   /* +Inf only */

        out = metrics_render(m, NULL);
        assert_non_null(out);
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"0.0005\"} 2\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"0.001\"} 2\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"0.0025\"} 2\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"0.005\"} 3\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"5\"} 3\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"10\"} 4\n"));
        assert_non_null(strstr(out, "op_seconds_bucket{le=\"+Inf\"} 5\n"));
        assert_non_null(strstr(out, "op_seconds_count 5\n"));
        assert_non_null(strstr(out, "op_seconds_sum 21.0036\n"));
        free(out);
        metrics_destroy(m);
}

#define THREADS 4
#define INCREMENTS 100000

struct worker {
        struct metrics *m;
        int id;
};

/* Each thread looks the series up itself (as request threads do) and
 * updates counters, a gauge and a histogram. */
static void *worker_run(void *arg)
{
        struct worker *w = arg;
        struct metric_counter *c =
                metrics_counter(w->m, "ops_total", "Ops.", NULL);
        struct metric_gauge *g = metrics_gauge(w->m, "level", "Level.", NULL);
        struct metric_histogram *h =
                metrics_histogram(w->m, "op_seconds", "Op.", NULL,
                                  metrics_latency_buckets,
                                  metrics_latency_buckets_count);

        for (int i = 0; i < INCREMENTS; i++) {
                metric_counter_inc(c);
                metric_gauge_add(g, 1.0);
                metric_histogram_observe(h, 1.0);
                if (i % 10000 == 0) {
                        /* Lazily created series while others update. */
                        char labels[32];
                        snprintf(labels, sizeof(labels), "t=\"%d\"", w->id);
                        metric_counter_inc(metrics_counter(
                                w->m, "lazy_total", "Lazy.", labels));
                        free(metrics_render(w->m, NULL));
                }
        }
        return NULL;
}

/* 4 threads x 100k increments give exactly 400k: no update is lost. */
static void concurrent_updates_are_exact(void **state)
{
        struct metrics *m = metrics_new();
        pthread_t t[THREADS];
        struct worker w[THREADS];
        char *out;

        for (int i = 0; i < THREADS; i++) {
                w[i] = (struct worker){.m = m, .id = i};
                assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]),
                                 0);
        }
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);

        assert_int_equal(metric_counter_value(
                                 metrics_counter(m, "ops_total", NULL, NULL)),
                         THREADS * INCREMENTS);
        out = metrics_render(m, NULL);
        assert_non_null(out);
        assert_non_null(strstr(out, "\nops_total 400000\n"));
        assert_non_null(strstr(out, "\nlevel 400000\n"));
        assert_non_null(strstr(out, "\nop_seconds_sum 400000\n"));
        assert_non_null(strstr(out, "\nop_seconds_count 400000\n"));
        assert_non_null(strstr(out, "\nop_seconds_bucket{le=\"0.5\"} 0\n"));
        assert_non_null(strstr(out, "\nop_seconds_bucket{le=\"1\"} 400000\n"));
        assert_non_null(strstr(out, "\nlazy_total{t=\"3\"} 10\n"));
        /* One HELP per name even though four threads created the series. */
        assert_non_null(strstr(out, "# HELP ops_total"));
        assert_null(strstr(strstr(out, "# HELP ops_total") + 1,
                           "# HELP ops_total"));
        free(out);
        metrics_destroy(m);
}

/* Every call accepts NULL, and bad names, type clashes and unordered
 * bounds give NULL rather than a broken exposition. */
static void null_safety_and_refusals(void **state)
{
        static const double unordered[] = {1.0, 0.5};
        struct metrics *m = metrics_new();
        size_t len = 99;
        char *out;

        metrics_destroy(NULL);
        metric_counter_add(NULL, 1);
        metric_counter_inc(NULL);
        assert_int_equal(metric_counter_value(NULL), 0);
        metric_gauge_set(NULL, 1.0);
        metric_gauge_add(NULL, 1.0);
        metric_histogram_observe(NULL, 1.0);
        assert_null(metrics_counter(NULL, "a_total", "A.", NULL));
        assert_null(metrics_gauge(NULL, "a", "A.", NULL));
        assert_int_equal(metrics_gauge_fn(NULL, "a", "A.", NULL, answer_fn,
                                          NULL),
                         -1);
        assert_null(metrics_histogram(NULL, "h", "H.", NULL,
                                      metrics_latency_buckets, 2));
        assert_null(metrics_render(NULL, &len));
        assert_int_equal(len, 0);

        assert_null(metrics_counter(m, NULL, "A.", NULL));
        assert_null(metrics_counter(m, "", "A.", NULL));
        assert_null(metrics_counter(m, "9starts_with_digit", "A.", NULL));
        assert_null(metrics_counter(m, "has space", "A.", NULL));
        assert_null(metrics_counter(m, "a_total", "A.", "x=\"1\"\nforged 1"));
        assert_non_null(metrics_counter(m, "a_total", "A.", NULL));
        assert_null(metrics_gauge(m, "a_total", "A.", NULL)); /* type clash */
        assert_int_equal(metrics_gauge_fn(m, "g", "G.", NULL, NULL, NULL), -1);
        assert_null(metrics_histogram(m, "h", "H.", NULL, unordered, 2));
        assert_null(metrics_histogram(m, "h", "H.", NULL, NULL, 2));

        out = metrics_render(m, &len);
        assert_non_null(out);
        assert_string_equal(out, "# HELP a_total A.\n# TYPE a_total counter\n"
                                 "a_total 0\n");
        assert_int_equal(len, strlen(out));
        free(out);
        metrics_destroy(m);

        /* An empty registry renders as an empty string, not NULL. */
        m = metrics_new();
        out = metrics_render(m, &len);
        assert_non_null(out);
        assert_int_equal(len, 0);
        free(out);
        metrics_destroy(m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(render_exact_for_small_registry),
                cmocka_unit_test(histogram_buckets_cumulative),
                cmocka_unit_test(concurrent_updates_are_exact),
                cmocka_unit_test(null_safety_and_refusals),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
