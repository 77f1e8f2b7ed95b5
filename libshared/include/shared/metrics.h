/* Metrics in the Prometheus text format (version 0.0.4).
 *
 * A registry owns its metrics; series are created once (at start, or the
 * first time a label set is seen) and then updated lock-free with atomics
 * from any thread. Rendering takes the registry lock. */
#ifndef SHARED_METRICS_H
#define SHARED_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct metric_counter;
struct metric_gauge;
struct metric_histogram;

/* Gauges that are read when rendered (queue depths, lag). Runs on the
 * thread that renders, so it must be thread-safe. */
typedef double (*metric_gauge_fn)(void *arg);

struct metrics *metrics_new(void);
/* Free the registry and every metric in it. No operation if NULL. */
void metrics_destroy(struct metrics *m);

/* Get or create the series 'name'{labels}. 'labels' is the inside of the
 * braces, already escaped ("route=\"/orders\",code=\"202\""), or NULL.
 * 'help' is used when the name is first seen. The registry owns the result,
 * which stays valid until metrics_destroy(). NULL when out of memory. */
struct metric_counter *metrics_counter(struct metrics *m, const char *name,
                                       const char *help, const char *labels);
struct metric_gauge *metrics_gauge(struct metrics *m, const char *name,
                                   const char *help, const char *labels);
/* A gauge whose value 'fn(arg)' gives when rendered. */
int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
                     const char *labels, metric_gauge_fn fn, void *arg);
/* 'bounds' are the upper bounds of the buckets, ascending; +Inf is added. */
struct metric_histogram *metrics_histogram(struct metrics *m, const char *name,
                                           const char *help,
                                           const char *labels,
                                           const double *bounds,
                                           size_t nbounds);

/* Each update accepts NULL (a series that could not be created). */
void metric_counter_add(struct metric_counter *c, uint64_t n);
void metric_counter_inc(struct metric_counter *c);
uint64_t metric_counter_value(const struct metric_counter *c);
void metric_gauge_set(struct metric_gauge *g, double v);
void metric_gauge_add(struct metric_gauge *g, double delta);
void metric_histogram_observe(struct metric_histogram *h, double v);

/* Render every metric, grouped by name with its HELP and TYPE lines.
 * Returns a new string (free(3) it) and its length, NULL when out of
 * memory. */
char *metrics_render(struct metrics *m, size_t *len_out);

/* Latency buckets in seconds, 0.5 ms .. 10 s, for *_seconds histograms. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_count;
/* Finer ones, 0.25 ms .. 10 s, 1-5 ms apart below 50 ms: for the stages
 * of the end-to-end latency, whose percentiles are read from them. */
extern const double metrics_stage_buckets[];
extern const size_t metrics_stage_buckets_count;

#endif
