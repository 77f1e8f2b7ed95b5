/* Metrics registry and the Prometheus text format (version 0.0.4).
 *
 * Families (one per metric name) and their series live in singly linked
 * lists in creation order, so the rendered output is stable. The lists only
 * grow, under 'lock'; a series pointer handed out stays valid until
 * metrics_destroy(). Values are C11 atomics: counters as uint64, doubles as
 * the bit pattern of an IEEE 754 double in a uint64 (updated by CAS). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/metrics.h"
#include "shared/strbuf.h"

const double metrics_latency_buckets[] = {
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
        0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0,
};
const size_t metrics_latency_buckets_count =
        sizeof(metrics_latency_buckets) / sizeof(metrics_latency_buckets[0]);
const double metrics_stage_buckets[] = {
        0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006,
        0.008,   0.010,  0.012, 0.015, 0.020, 0.025, 0.030, 0.040,
        0.050,   0.075,  0.1,   0.15,  0.25,  0.5,   1.0,   2.5,
        5.0,     10.0,
};
const size_t metrics_stage_buckets_count =
        sizeof(metrics_stage_buckets) / sizeof(metrics_stage_buckets[0]);

/* A label set and a name are bounded so that a runaway label value cannot
 * make one series line unbounded. */
#define METRIC_NAME_MAX 200
#define METRIC_LABELS_MAX 1024
#define METRIC_BUCKETS_MAX 64

enum metric_type {
        METRIC_COUNTER,
        METRIC_GAUGE,
        METRIC_HISTOGRAM,
};

struct metric_counter {
        _Atomic uint64_t value;
};

struct metric_gauge {
        _Atomic uint64_t bits; /* a double */
        metric_gauge_fn fn;    /* when set, the value is fn(arg) */
        void *arg;
};

struct metric_histogram {
        size_t nbounds;
        double *bounds;           /* ascending upper bounds, without +Inf */
        _Atomic uint64_t *counts; /* nbounds + 1, per bucket (not cumulative) */
        _Atomic uint64_t sum_bits; /* a double */
};

struct metric_series {
        struct metric_series *next;
        char *labels; /* "" when none */
        union {
                struct metric_counter counter;
                struct metric_gauge gauge;
                struct metric_histogram histogram;
        } u;
};

struct metric_family {
        struct metric_family *next;
        char *name;
        char *help;
        enum metric_type type;
        struct metric_series *series;
        struct metric_series **series_tail;
};

struct metrics {
        pthread_mutex_t lock; /* guards the lists, not the values */
        struct metric_family *families;
        struct metric_family **families_tail;
};

static uint64_t double_to_bits(double v)
{
        uint64_t b;

        memcpy(&b, &v, sizeof(b));
        return b;
}

static double bits_to_double(uint64_t b)
{
        double v;

        memcpy(&v, &b, sizeof(v));
        return v;
}

/* Add 'delta' to the double stored in 'bits', lock-free. */
static void atomic_double_add(_Atomic uint64_t *bits, double delta)
{
        uint64_t old = atomic_load_explicit(bits, memory_order_relaxed);
        uint64_t new;

        do {
                new = double_to_bits(bits_to_double(old) + delta);
        } while (!atomic_compare_exchange_weak_explicit(
                bits, &old, new, memory_order_relaxed, memory_order_relaxed));
}

/* Prometheus metric names: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static bool metric_name_is_valid(const char *name)
{
        size_t len;

        if (!name || !*name)
                return false;
        len = strlen(name);
        if (len > METRIC_NAME_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          c == '_' || c == ':' ||
                          (i > 0 && c >= '0' && c <= '9');
                if (!ok)
                        return false;
        }
        return true;
}

/* Labels are given escaped by the caller; refuse only what would break
 * the line (a newline) or is absurdly long. */
static bool metric_labels_are_valid(const char *labels)
{
        return strlen(labels) <= METRIC_LABELS_MAX && !strchr(labels, '\n');
}

struct metrics *metrics_new(void)
{
        struct metrics *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        if (pthread_mutex_init(&m->lock, NULL) != 0) {
                free(m);
                return NULL;
        }
        m->families_tail = &m->families;
        return m;
}

static void metric_series_free(struct metric_series *s, enum metric_type type)
{
        if (type == METRIC_HISTOGRAM) {
                free(s->u.histogram.bounds);
                free(s->u.histogram.counts);
        }
        free(s->labels);
        free(s);
}

void metrics_destroy(struct metrics *m)
{
        struct metric_family *f, *fnext;

        if (!m)
                return;
        for (f = m->families; f; f = fnext) {
                struct metric_series *s, *snext;

                fnext = f->next;
                for (s = f->series; s; s = snext) {
                        snext = s->next;
                        metric_series_free(s, f->type);
                }
                free(f->name);
                free(f->help);
                free(f);
        }
        pthread_mutex_destroy(&m->lock);
        free(m);
}

/* The family 'name', created with 'help' and 'type' when missing.
 * NULL when it exists with another type, or out of memory. Lock held. */
static struct metric_family *family_get(struct metrics *m, const char *name,
                                        const char *help, enum metric_type type)
{
        struct metric_family *f;

        for (f = m->families; f; f = f->next) {
                if (strcmp(f->name, name) == 0)
                        return f->type == type ? f : NULL;
        }
        f = calloc(1, sizeof(*f));
        if (!f)
                return NULL;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        if (!f->name || !f->help) {
                free(f->name);
                free(f->help);
                free(f);
                return NULL;
        }
        f->type = type;
        f->series_tail = &f->series;
        *m->families_tail = f;
        m->families_tail = &f->next;
        return f;
}

/* The series {labels} of family 'name', found or newly allocated; a new
 * one (*created set) is linked by series_link() once initialised. NULL on a
 * bad name, a type clash, or out of memory. Lock held. */
static struct metric_series *series_get(struct metrics *m, const char *name,
                                        const char *help, const char *labels,
                                        enum metric_type type, bool *created,
                                        struct metric_family **family)
{
        struct metric_family *f;
        struct metric_series *s;

        *created = false;
        if (!labels)
                labels = "";
        if (!metric_name_is_valid(name) || !metric_labels_are_valid(labels))
                return NULL;
        f = family_get(m, name, help, type);
        if (!f)
                return NULL;
        *family = f;
        for (s = f->series; s; s = s->next) {
                if (strcmp(s->labels, labels) == 0)
                        return s;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->labels = strdup(labels);
        if (!s->labels) {
                free(s);
                return NULL;
        }
        *created = true;
        return s;
}

/* Make a series created by series_get() visible. Lock held. */
static void series_link(struct metric_family *f, struct metric_series *s)
{
        *f->series_tail = s;
        f->series_tail = &s->next;
}

struct metric_counter *metrics_counter(struct metrics *m, const char *name,
                                       const char *help, const char *labels)
{
        struct metric_family *f = NULL;
        struct metric_series *s;
        bool created;

        if (!m)
                return NULL;
        pthread_mutex_lock(&m->lock);
        s = series_get(m, name, help, labels, METRIC_COUNTER, &created, &f);
        if (s && created) {
                atomic_init(&s->u.counter.value, 0);
                series_link(f, s);
        }
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.counter : NULL;
}

/* Get or create a gauge series; 'fn' replaces the callback (NULL: a set
 * gauge). Returns the series or NULL. */
static struct metric_gauge *gauge_get(struct metrics *m, const char *name,
                                      const char *help, const char *labels,
                                      metric_gauge_fn fn, void *arg)
{
        struct metric_family *f = NULL;
        struct metric_series *s;
        bool created;

        if (!m)
                return NULL;
        pthread_mutex_lock(&m->lock);
        s = series_get(m, name, help, labels, METRIC_GAUGE, &created, &f);
        if (s) {
                if (created)
                        atomic_init(&s->u.gauge.bits, double_to_bits(0.0));
                if (fn) {
                        s->u.gauge.fn = fn;
                        s->u.gauge.arg = arg;
                }
                if (created)
                        series_link(f, s);
        }
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.gauge : NULL;
}

struct metric_gauge *metrics_gauge(struct metrics *m, const char *name,
                                   const char *help, const char *labels)
{
        return gauge_get(m, name, help, labels, NULL, NULL);
}

int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
                     const char *labels, metric_gauge_fn fn, void *arg)
{
        if (!fn)
                return -1;
        return gauge_get(m, name, help, labels, fn, arg) ? 0 : -1;
}

struct metric_histogram *metrics_histogram(struct metrics *m, const char *name,
                                           const char *help,
                                           const char *labels,
                                           const double *bounds,
                                           size_t nbounds)
{
        struct metric_family *f = NULL;
        struct metric_series *s;
        struct metric_histogram *h;
        bool created;

        if (!m || (nbounds > 0 && !bounds) || nbounds > METRIC_BUCKETS_MAX)
                return NULL;
        for (size_t i = 0; i < nbounds; i++) {
                if (isnan(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
                        return NULL;
        }
        pthread_mutex_lock(&m->lock);
        s = series_get(m, name, help, labels, METRIC_HISTOGRAM, &created, &f);
        if (!s || !created)
                goto out;
        h = &s->u.histogram;
        h->nbounds = nbounds;
        h->bounds = calloc(nbounds ? nbounds : 1, sizeof(*h->bounds));
        h->counts = calloc(nbounds + 1, sizeof(*h->counts));
        if (!h->bounds || !h->counts) {
                metric_series_free(s, METRIC_HISTOGRAM);
                s = NULL;
                goto out;
        }
        if (nbounds)
                memcpy(h->bounds, bounds, nbounds * sizeof(*bounds));
        for (size_t i = 0; i <= nbounds; i++)
                atomic_init(&h->counts[i], 0);
        atomic_init(&h->sum_bits, double_to_bits(0.0));
        series_link(f, s);
out:
        pthread_mutex_unlock(&m->lock);
        return s ? &s->u.histogram : NULL;
}

void metric_counter_add(struct metric_counter *c, uint64_t n)
{
        if (c)
                atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void metric_counter_inc(struct metric_counter *c)
{
        metric_counter_add(c, 1);
}

uint64_t metric_counter_value(const struct metric_counter *c)
{
        if (!c)
                return 0;
        return atomic_load_explicit(&((struct metric_counter *)c)->value,
                                    memory_order_relaxed);
}

void metric_gauge_set(struct metric_gauge *g, double v)
{
        if (g)
                atomic_store_explicit(&g->bits, double_to_bits(v),
                                      memory_order_relaxed);
}

void metric_gauge_add(struct metric_gauge *g, double delta)
{
        if (g)
                atomic_double_add(&g->bits, delta);
}

void metric_histogram_observe(struct metric_histogram *h, double v)
{
        size_t i;

        if (!h || isnan(v))
                return;
        /* Buckets are "less than or equal": v == bound falls in that bucket. */
        for (i = 0; i < h->nbounds; i++) {
                if (v <= h->bounds[i])
                        break;
        }
        atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
        atomic_double_add(&h->sum_bits, v);
}

/* ---- rendering ---- */

/* The shortest decimal form of 'v' that reads back as 'v' (Prometheus
 * parses Go's float syntax: "+Inf", "-Inf", "NaN"). */
static void format_double(char *buf, size_t size, double v)
{
        if (isnan(v)) {
                snprintf(buf, size, "NaN");
                return;
        }
        if (isinf(v)) {
                snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
                return;
        }
        /* Integers print as such: %g would write 10 as "1e+01". */
        if (v > -1e15 && v < 1e15 && v == (double)(long long)v) {
                snprintf(buf, size, "%.0f", v);
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, size, "%.*g", prec, v);
                if (strtod(buf, NULL) == v)
                        return;
        }
}

static void sb_double(struct strbuf *sb, double v)
{
        char tmp[40];

        format_double(tmp, sizeof(tmp), v);
        strbuf_addstr(sb, tmp);
}

/* HELP text escapes '\' and newline. */
static void sb_help(struct strbuf *sb, const char *help)
{
        for (const char *p = help; *p; p++) {
                if (*p == '\\')
                        strbuf_addstr(sb, "\\\\");
                else if (*p == '\n')
                        strbuf_addstr(sb, "\\n");
                else
                        strbuf_add(sb, p, 1);
        }
}

/* name{labels} or name when there are none. */
static void sb_series_name(struct strbuf *sb, const char *name,
                           const char *suffix, const char *labels)
{
        strbuf_addstr(sb, name);
        strbuf_addstr(sb, suffix);
        if (*labels) {
                strbuf_addstr(sb, "{");
                strbuf_addstr(sb, labels);
                strbuf_addstr(sb, "}");
        }
}

static void render_histogram(struct strbuf *sb, const char *name,
                             const struct metric_series *s)
{
        const struct metric_histogram *h = &s->u.histogram;
        uint64_t cumulative = 0;
        char le[40];

        for (size_t i = 0; i <= h->nbounds; i++) {
                cumulative += atomic_load_explicit(
                        &((struct metric_histogram *)h)->counts[i],
                        memory_order_relaxed);
                if (i < h->nbounds)
                        format_double(le, sizeof(le), h->bounds[i]);
                else
                        snprintf(le, sizeof(le), "+Inf");
                strbuf_addstr(sb, name);
                strbuf_addstr(sb, "_bucket{");
                if (*s->labels) {
                        strbuf_addstr(sb, s->labels);
                        strbuf_addstr(sb, ",");
                }
                strbuf_addf(sb, "le=\"%s\"} %llu\n", le,
                          (unsigned long long)cumulative);
        }
        sb_series_name(sb, name, "_sum", s->labels);
        strbuf_addstr(sb, " ");
        sb_double(sb, bits_to_double(atomic_load_explicit(
                              &((struct metric_histogram *)h)->sum_bits,
                              memory_order_relaxed)));
        strbuf_addstr(sb, "\n");
        /* _count is the +Inf bucket, so the two always agree even while
         * observations race with this render. */
        sb_series_name(sb, name, "_count", s->labels);
        strbuf_addf(sb, " %llu\n", (unsigned long long)cumulative);
}

static const char *metric_type_name(enum metric_type t)
{
        switch (t) {
        case METRIC_COUNTER:
                return "counter";
        case METRIC_GAUGE:
                return "gauge";
        case METRIC_HISTOGRAM:
                return "histogram";
        }
        return "untyped";
}

char *metrics_render(struct metrics *m, size_t *len_out)
{
        struct strbuf sb = STRBUF_INIT;

        if (len_out)
                *len_out = 0;
        if (!m)
                return NULL;
        strbuf_grow(&sb, 0, 0); /* an empty registry renders as "" */
        pthread_mutex_lock(&m->lock);
        for (const struct metric_family *f = m->families; f; f = f->next) {
                if (!f->series)
                        continue;
                strbuf_addstr(&sb, "# HELP ");
                strbuf_addstr(&sb, f->name);
                strbuf_addstr(&sb, " ");
                sb_help(&sb, f->help);
                strbuf_addstr(&sb, "\n# TYPE ");
                strbuf_addstr(&sb, f->name);
                strbuf_addstr(&sb, " ");
                strbuf_addstr(&sb, metric_type_name(f->type));
                strbuf_addstr(&sb, "\n");
                for (const struct metric_series *s = f->series; s;
                     s = s->next) {
                        switch (f->type) {
                        case METRIC_COUNTER:
                                sb_series_name(&sb, f->name, "", s->labels);
                                strbuf_addf(&sb, " %llu\n",
                                          (unsigned long long)
                                                  metric_counter_value(
                                                          &s->u.counter));
                                break;
                        case METRIC_GAUGE: {
                                const struct metric_gauge *g = &s->u.gauge;
                                double v = g->fn ? g->fn(g->arg)
                                                 : bits_to_double(atomic_load_explicit(
                                                           &((struct metric_gauge *)g)->bits,
                                                           memory_order_relaxed));
                                sb_series_name(&sb, f->name, "", s->labels);
                                strbuf_addstr(&sb, " ");
                                sb_double(&sb, v);
                                strbuf_addstr(&sb, "\n");
                                break;
                        }
                        case METRIC_HISTOGRAM:
                                render_histogram(&sb, f->name, s);
                                break;
                        }
                }
        }
        pthread_mutex_unlock(&m->lock);
        if (sb.failed) {
                free(sb.buf);
                errno = ENOMEM;
                return NULL;
        }
        if (len_out)
                *len_out = sb.len;
        return sb.buf;
}
