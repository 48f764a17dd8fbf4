/* metrics: go-metrics' timer arithmetic; see metrics.h. */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* xorshift64*: cheap, good enough to pick which values a sample keeps. */
static uint64_t
rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

/* Uniform in (0, 1]: never 0, the priority divides by it. */
static double
rng_unit(uint64_t *x)
{
	return (double)((rng_next(x) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

void
metrics_sample_init(struct metrics_sample *s, int64_t now, uint64_t seed)
{
	s->count = 0;
	s->t0 = now;
	s->n = 0;
	s->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ULL;
}

static void
heap_swap(struct metrics_sample_item *h, int a, int b)
{
	struct metrics_sample_item t = h[a];

	h[a] = h[b];
	h[b] = t;
}

static void
heap_sift_up(struct metrics_sample_item *h, int i)
{
	while (i > 0 && h[(i - 1) / 2].k > h[i].k) {
		heap_swap(h, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_sift_down(struct metrics_sample_item *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < n && h[l].k < h[m].k)
			m = l;
		if (r < n && h[r].k < h[m].k)
			m = r;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Rebases every priority on now. Multiplying all by one positive factor
 * keeps the heap order, so nothing moves. */
static void
sample_rescale(struct metrics_sample *s, int64_t now)
{
	double f = exp(-METRICS_ALPHA * (double)(now - s->t0) / 1e9);

	for (int i = 0; i < s->n; i++)
		s->heap[i].k *= f;
	s->t0 = now;
}

void
metrics_sample_update(struct metrics_sample *s, int64_t v, int64_t now)
{
	double k;

	s->count++;
	/* Before computing the new priority, so exp() never sees more than an
	 * hour (exp(54)), however long the sample sat idle. */
	if (now - s->t0 >= METRICS_RESCALE_NS)
		sample_rescale(s, now);
	k = exp(METRICS_ALPHA * (double)(now - s->t0) / 1e9) / rng_unit(&s->rng);
	if (s->n < METRICS_RESERVOIR) {
		s->heap[s->n].k = k;
		s->heap[s->n].v = v;
		heap_sift_up(s->heap, s->n);
		s->n++;
	} else if (k > s->heap[0].k) {
		/* The lowest priority makes room; a newer value usually wins. */
		s->heap[0].k = k;
		s->heap[0].v = v;
		heap_sift_down(s->heap, s->n, 0);
	}
}

size_t
metrics_sample_values(const struct metrics_sample *s, int64_t *out)
{
	for (int i = 0; i < s->n; i++)
		out[i] = s->heap[i].v;
	return (size_t)s->n;
}

void
metrics_ewma_init(struct metrics_ewma *a, double minutes)
{
	a->alpha = 1.0 - exp(-((double)METRICS_TICK_NS / 1e9) / 60.0 / minutes);
	a->rate = 0;
	a->uncounted = 0;
	a->init = false;
}

void
metrics_ewma_update(struct metrics_ewma *a, int64_t n)
{
	a->uncounted += n;
}

void
metrics_ewma_tick(struct metrics_ewma *a)
{
	double instant = (double)a->uncounted / (double)METRICS_TICK_NS;

	a->uncounted = 0;
	if (a->init) {
		a->rate += a->alpha * (instant - a->rate);
	} else {
		/* The first tick is the rate, not a blend with an invented 0. */
		a->rate = instant;
		a->init = true;
	}
}

double
metrics_ewma_rate(const struct metrics_ewma *a)
{
	return a->rate * 1e9;
}

void
metrics_meter_init(struct metrics_meter *m, int64_t now)
{
	m->count = 0;
	m->start = m->last_tick = now;
	metrics_ewma_init(&m->m1, 1);
	metrics_ewma_init(&m->m5, 5);
	metrics_ewma_init(&m->m15, 15);
}

/* k more ticks with nothing counted (the first due tick already ran, so
 * the EWMA is initialised): the rate decays by (1 - alpha)^k, in one step
 * instead of k (an idle day is 17280 ticks). */
static void
ewma_idle_ticks(struct metrics_ewma *a, int64_t k)
{
	if (k > 0)
		a->rate *= pow(1.0 - a->alpha, (double)k);
}

void
metrics_meter_tick_to(struct metrics_meter *m, int64_t now)
{
	int64_t ticks;

	if (now - m->last_tick < METRICS_TICK_NS)
		return;
	ticks = (now - m->last_tick) / METRICS_TICK_NS;
	m->last_tick += ticks * METRICS_TICK_NS;
	/* The first due tick takes what was counted since the last one. */
	metrics_ewma_tick(&m->m1);
	metrics_ewma_tick(&m->m5);
	metrics_ewma_tick(&m->m15);
	ewma_idle_ticks(&m->m1, ticks - 1);
	ewma_idle_ticks(&m->m5, ticks - 1);
	ewma_idle_ticks(&m->m15, ticks - 1);
}

void
metrics_meter_mark(struct metrics_meter *m, int64_t n, int64_t now)
{
	metrics_meter_tick_to(m, now);
	m->count += n;
	metrics_ewma_update(&m->m1, n);
	metrics_ewma_update(&m->m5, n);
	metrics_ewma_update(&m->m15, n);
}

double
metrics_meter_rate_mean(const struct metrics_meter *m, int64_t now)
{
	if (now <= m->start)
		return 0;
	return (double)m->count / ((double)(now - m->start) / 1e9);
}

/* From a fast exit's bookkeeping (well under a millisecond) to a start
 * that waits out a busy machine; roughly 1-2.5-5 per decade. */
const int64_t metrics_bucket_ns[METRICS_BUCKETS] = {
	100000, 250000, 500000,				/* 100 us .. 500 us */
	1000000, 2500000, 5000000,			/* 1 ms .. 5 ms */
	10000000, 25000000, 50000000,			/* 10 ms .. 50 ms */
	100000000, 250000000, 500000000,		/* 100 ms .. 500 ms */
	1000000000, 2500000000, 5000000000,		/* 1 s .. 5 s */
	10000000000, 30000000000, 60000000000,		/* 10 s .. 60 s */
};
const char *const metrics_bucket_le[METRICS_BUCKETS] = {
	"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "60",
};

void
metrics_histogram_init(struct metrics_histogram *h)
{
	memset(h, 0, sizeof(*h));
}

void
metrics_histogram_observe(struct metrics_histogram *h, int64_t v)
{
	int i = 0;

	if (v < 0)
		v = 0;
	while (i < METRICS_BUCKETS && v > metrics_bucket_ns[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

int64_t
metrics_histogram_cumulative(const struct metrics_histogram *h, int i)
{
	int64_t n = 0;

	if (i > METRICS_BUCKETS)
		i = METRICS_BUCKETS;
	for (int k = 0; k <= i; k++)
		n += h->counts[k];
	return n;
}

void
metrics_timer_init(struct metrics_timer *t, int64_t now, uint64_t seed)
{
	metrics_sample_init(&t->sample, now, seed);
	metrics_meter_init(&t->meter, now);
	metrics_histogram_init(&t->hist);
}

void
metrics_timer_update(struct metrics_timer *t, int64_t duration, int64_t now)
{
	if (duration < 0)
		duration = 0;
	metrics_sample_update(&t->sample, duration, now);
	metrics_meter_mark(&t->meter, 1, now);
	metrics_histogram_observe(&t->hist, duration);
}

void
metrics_values_stats(const int64_t *v, size_t n, int64_t *min, int64_t *max, double *mean,
    double *stddev)
{
	double sum = 0, m, var = 0;

	*min = *max = 0;
	*mean = *stddev = 0;
	if (n == 0)
		return;
	*min = *max = v[0];
	for (size_t i = 0; i < n; i++) {
		if (v[i] < *min)
			*min = v[i];
		if (v[i] > *max)
			*max = v[i];
		sum += (double)v[i];
	}
	m = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		var += ((double)v[i] - m) * ((double)v[i] - m);
	*mean = m;
	*stddev = sqrt(var / (double)n);
}

double
metrics_percentile_sorted(const int64_t *v, size_t n, double p)
{
	double pos = p * (double)(n + 1), lower, upper;
	size_t i;

	if (n == 0)
		return 0;
	if (pos < 1.0)
		return (double)v[0];
	if (pos >= (double)n)
		return (double)v[n - 1];
	i = (size_t)pos;
	lower = (double)v[i - 1];
	upper = (double)v[i];
	return lower + (pos - floor(pos)) * (upper - lower);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
metrics_sort(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_int64);
}

void
metrics_timer_snapshot(struct metrics_timer *t, int64_t now, int64_t *scratch,
    struct metrics_timer_snapshot *out)
{
	size_t n = metrics_sample_values(&t->sample, scratch);

	memset(out, 0, sizeof(*out));
	out->count = t->sample.count;
	metrics_values_stats(scratch, n, &out->min, &out->max, &out->mean, &out->stddev);
	metrics_sort(scratch, n);
	out->p50 = metrics_percentile_sorted(scratch, n, 0.5);
	out->p75 = metrics_percentile_sorted(scratch, n, 0.75);
	out->p95 = metrics_percentile_sorted(scratch, n, 0.95);
	out->p99 = metrics_percentile_sorted(scratch, n, 0.99);
	out->p999 = metrics_percentile_sorted(scratch, n, 0.999);
	metrics_meter_tick_to(&t->meter, now);
	out->rate1 = metrics_ewma_rate(&t->meter.m1);
	out->rate5 = metrics_ewma_rate(&t->meter.m5);
	out->rate15 = metrics_ewma_rate(&t->meter.m15);
	out->rate_mean = metrics_meter_rate_mean(&t->meter, now);
}
