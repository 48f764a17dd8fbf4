/*
 * metrics: the arithmetic of go-metrics' timers, without I/O or clocks of
 * its own (every call that needs the time takes it, in ns), so it is tested
 * with hand-computed values.
 *
 * - sample: an exponentially-decaying reservoir (forward decay, Cormode et
 *   al.) of METRICS_RESERVOIR values, alpha METRICS_ALPHA: it holds a
 *   sample biased towards the last ~5 minutes, in fixed memory.
 * - ewma: the 1/5/15-minute moving rates, ticked every METRICS_TICK_NS.
 * - meter: a count, the three EWMAs (ticked lazily: every call brings them
 *   up to the time it is given) and the mean rate since the meter began.
 * - histogram: cumulative counts of durations in fixed buckets, their sum
 *   and count, never forgetting (what Prometheus' histograms want: the
 *   sample above is biased to the last minutes, and its percentiles cannot
 *   be summed over daemons or rated over time).
 * - timer: a sample of durations, a histogram of them, and a meter of how
 *   often they happen.
 *
 * Nothing here allocates: each struct is fixed size and owned by the caller.
 */
#ifndef LIB_METRICS_H
#define LIB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_RESERVOIR 1028
#define METRICS_ALPHA 0.015
#define METRICS_TICK_NS 5000000000LL
/* The sample's priorities are rebased this often so they never overflow. */
#define METRICS_RESCALE_NS 3600000000000LL

struct metrics_sample_item {
	double k;		/* priority: exp(alpha * age) / u */
	int64_t v;
};

struct metrics_sample {
	int64_t count;		/* every value ever offered */
	int64_t t0;		/* priorities are relative to this time */
	int n;			/* values held, <= METRICS_RESERVOIR */
	uint64_t rng;		/* xorshift64* state */
	struct metrics_sample_item heap[METRICS_RESERVOIR]; /* min-heap on k */
};

/* seed 0 picks a fixed non-zero seed (tests want reproducible samples). */
void metrics_sample_init(struct metrics_sample *s, int64_t now, uint64_t seed);
void metrics_sample_update(struct metrics_sample *s, int64_t v, int64_t now);
/* Copies the held values to out (room for METRICS_RESERVOIR); returns how many. */
size_t metrics_sample_values(const struct metrics_sample *s, int64_t *out);

struct metrics_ewma {
	double alpha;
	double rate;		/* events per ns */
	int64_t uncounted;
	bool init;
};

void metrics_ewma_init(struct metrics_ewma *a, double minutes);
void metrics_ewma_update(struct metrics_ewma *a, int64_t n);
/* One METRICS_TICK_NS tick: the events since the last tick become the rate. */
void metrics_ewma_tick(struct metrics_ewma *a);
/* Events per second. */
double metrics_ewma_rate(const struct metrics_ewma *a);

struct metrics_meter {
	int64_t count;
	int64_t start;
	int64_t last_tick;
	struct metrics_ewma m1, m5, m15;
};

void metrics_meter_init(struct metrics_meter *m, int64_t now);
void metrics_meter_mark(struct metrics_meter *m, int64_t n, int64_t now);
/* Applies every tick due by now (none happen between calls). */
void metrics_meter_tick_to(struct metrics_meter *m, int64_t now);
/* count / seconds since start; 0 before any time has passed. */
double metrics_meter_rate_mean(const struct metrics_meter *m, int64_t now);

/* Upper bounds (inclusive, ns) of the histogram buckets, 100 us to 60 s,
 * and the same as Prometheus' "le" label text (seconds); one more bucket,
 * +Inf, takes the rest. */
#define METRICS_BUCKETS 18
extern const int64_t metrics_bucket_ns[METRICS_BUCKETS];
extern const char *const metrics_bucket_le[METRICS_BUCKETS];

struct metrics_histogram {
	int64_t counts[METRICS_BUCKETS + 1];	/* per bucket, not cumulative; last: +Inf */
	int64_t count;
	int64_t sum;				/* ns */
};

void metrics_histogram_init(struct metrics_histogram *h);
/* One duration (ns); negative counts as 0. */
void metrics_histogram_observe(struct metrics_histogram *h, int64_t v);
/* Observations <= metrics_bucket_ns[i] (i == METRICS_BUCKETS: all of them). */
int64_t metrics_histogram_cumulative(const struct metrics_histogram *h, int i);

struct metrics_timer {
	struct metrics_sample sample;
	struct metrics_meter meter;
	struct metrics_histogram hist;
};

void metrics_timer_init(struct metrics_timer *t, int64_t now, uint64_t seed);
/* One duration (ns) observed at now. Negative durations count as 0. */
void metrics_timer_update(struct metrics_timer *t, int64_t duration, int64_t now);

/* What go-metrics' Log prints for a timer. Durations in ns. */
struct metrics_timer_snapshot {
	int64_t count, min, max;
	double mean, stddev;
	double p50, p75, p95, p99, p999;
	double rate1, rate5, rate15, rate_mean;	/* per second */
};

/* scratch: room for METRICS_RESERVOIR values (sorted in place). */
void metrics_timer_snapshot(struct metrics_timer *t, int64_t now, int64_t *scratch,
    struct metrics_timer_snapshot *out);

/* On a plain array of values. Population variance (divides by n), as
 * go-metrics; all zero when n is 0. */
void metrics_values_stats(const int64_t *v, size_t n, int64_t *min, int64_t *max,
    double *mean, double *stddev);
/* v sorted ascending. Percentile p (0..1) as go-metrics: pos = p * (n + 1),
 * below the first value the first, past the last the last, else linear
 * between v[floor(pos) - 1] and v[floor(pos)]. 0 when n is 0. */
double metrics_percentile_sorted(const int64_t *v, size_t n, double p);
void metrics_sort(int64_t *v, size_t n);

#endif
