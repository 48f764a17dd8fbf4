/*
 * test_metrics.c: lib/metrics.c against values worked out by hand (and,
 * for the EWMAs, the figures go-metrics' own tests use: 3 events, one tick,
 * then a minute of idle ticks).
 */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "tap.h"

#define S 1000000000LL	/* one second in ns */

static int
close_to(double got, double want, double tol)
{
	if (fabs(got - want) <= tol)
		return 1;
	printf("#   got %.12g, want %.12g (+- %g)\n", got, want, tol);
	return 0;
}

static void
test_percentiles(void)
{
	int64_t one_to_ten[] = { 7, 3, 10, 1, 9, 2, 8, 5, 4, 6 };
	int64_t gaps[] = { 10, 20, 40, 80, 160 };
	int64_t one[] = { 42 };

	metrics_sort(one_to_ten, 10);
	is_int(one_to_ten[0], 1, "sort: smallest first");
	is_int(one_to_ten[9], 10, "sort: largest last");
	/* pos = p * (n + 1) = 5.5: halfway between the 5th and 6th values. */
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.5), 5.5, 1e-12), "1..10: median 5.5");
	/* pos 8.25: 8 + 0.25 * (9 - 8). */
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.75), 8.25, 1e-12), "1..10: 75%% 8.25");
	/* pos 2.75: 2 + 0.75 * (3 - 2). */
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.25), 2.75, 1e-12), "1..10: 25%% 2.75");
	/* pos 10.45 >= n: the largest. */
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.95), 10, 1e-12), "1..10: 95%% 10");
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.999), 10, 1e-12), "1..10: 99.9%% 10");
	/* pos 0.55 < 1: the smallest. */
	ok(close_to(metrics_percentile_sorted(one_to_ten, 10, 0.05), 1, 1e-12), "1..10: 5%% 1");

	/* Uneven gaps show the interpolation is between neighbours. */
	ok(close_to(metrics_percentile_sorted(gaps, 5, 0.5), 40, 1e-12), "gaps: median 40 (pos 3)");
	ok(close_to(metrics_percentile_sorted(gaps, 5, 0.75), 120, 1e-12),
	    "gaps: 75%% 120 (pos 4.5: 80 + .5 * 80)");
	ok(close_to(metrics_percentile_sorted(gaps, 5, 0.25), 15, 1e-12),
	    "gaps: 25%% 15 (pos 1.5: 10 + .5 * 10)");
	/* pos 0.99 * 6 = 5.94 >= 5: the largest. */
	ok(close_to(metrics_percentile_sorted(gaps, 5, 0.99), 160, 1e-12), "gaps: 99%% 160");

	ok(close_to(metrics_percentile_sorted(one, 1, 0.5), 42, 0), "one value: every percentile is it");
	ok(close_to(metrics_percentile_sorted(one, 0, 0.5), 0, 0), "no values: 0");
}

static void
test_stats(void)
{
	int64_t classic[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	int64_t one_to_ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	int64_t min, max;
	double mean, sd;

	metrics_values_stats(classic, 8, &min, &max, &mean, &sd);
	is_int(min, 2, "stats: min");
	is_int(max, 9, "stats: max");
	ok(close_to(mean, 5, 1e-12), "stats: mean 5");
	/* sum of squared deviations 32, / n = 4: population stddev 2. */
	ok(close_to(sd, 2, 1e-12), "stats: population stddev 2 (not the sample's 2.138)");

	metrics_values_stats(one_to_ten, 10, &min, &max, &mean, &sd);
	ok(close_to(mean, 5.5, 1e-12), "1..10: mean 5.5");
	/* variance (n^2 - 1) / 12 = 8.25 */
	ok(close_to(sd, sqrt(8.25), 1e-12), "1..10: stddev sqrt(8.25)");

	metrics_values_stats(classic, 0, &min, &max, &mean, &sd);
	ok(min == 0 && max == 0 && mean == 0 && sd == 0, "no values: all zero");
}

static void
test_ewma(void)
{
	struct metrics_ewma a1, a5, a15, b;

	metrics_ewma_init(&a1, 1);
	metrics_ewma_init(&a5, 5);
	metrics_ewma_init(&a15, 15);
	/* alpha = 1 - exp(-5s / 60s / minutes) */
	ok(close_to(a1.alpha, 0.07995558537067671, 1e-15), "1-min alpha 1 - e^(-1/12)");
	ok(close_to(a5.alpha, 0.01652854617838251, 1e-15), "5-min alpha 1 - e^(-1/60)");
	ok(close_to(a15.alpha, 0.005540151995103271, 1e-15), "15-min alpha 1 - e^(-1/180)");

	metrics_ewma_update(&a1, 3);
	metrics_ewma_update(&a5, 3);
	metrics_ewma_update(&a15, 3);
	metrics_ewma_tick(&a1);
	metrics_ewma_tick(&a5);
	metrics_ewma_tick(&a15);
	/* The first tick is the instant rate: 3 events / 5 s. */
	ok(close_to(metrics_ewma_rate(&a1), 0.6, 1e-12), "first tick: 0.6/s");
	ok(close_to(metrics_ewma_rate(&a15), 0.6, 1e-12), "first tick (15-min): 0.6/s");
	for (int k = 0; k < 12; k++) {
		metrics_ewma_tick(&a1);
		metrics_ewma_tick(&a5);
		metrics_ewma_tick(&a15);
	}
	/* A minute of idle ticks: 0.6 * (1 - alpha)^12 = 0.6 * e^(-1/minutes). */
	ok(close_to(metrics_ewma_rate(&a1), 0.22072766470286553, 1e-12), "1-min after a minute");
	ok(close_to(metrics_ewma_rate(&a5), 0.49123845184678905, 1e-12), "5-min after a minute");
	ok(close_to(metrics_ewma_rate(&a15), 0.5613041910189706, 1e-12), "15-min after a minute");

	/* A blend: 1/s, then a tick with 2/s moves alpha of the way. */
	metrics_ewma_init(&b, 1);
	metrics_ewma_update(&b, 5);
	metrics_ewma_tick(&b);
	metrics_ewma_update(&b, 10);
	metrics_ewma_tick(&b);
	ok(close_to(metrics_ewma_rate(&b), 1.0799555853706767, 1e-12), "blend: 1 + alpha * (2 - 1)");
	ok(b.uncounted == 0, "a tick consumes what was counted");
}

static void
test_meter(void)
{
	struct metrics_meter m;
	int64_t t0 = 1000 * S;

	metrics_meter_init(&m, t0);
	metrics_meter_mark(&m, 3, t0 + 1 * S);
	ok(close_to(metrics_ewma_rate(&m.m1), 0, 0), "no tick due yet: rate 0");
	/* 4 s in: count 3 over 4 s. */
	ok(close_to(metrics_meter_rate_mean(&m, t0 + 4 * S), 0.75, 1e-12), "mean rate 3 / 4 s");
	metrics_meter_tick_to(&m, t0 + 5 * S);
	ok(close_to(metrics_ewma_rate(&m.m1), 0.6, 1e-12), "the tick at 5 s: 0.6/s");
	/* 62 s later: 12 ticks due at once, the first with nothing counted;
	 * the closed form for the idle ones must give the loop's figure,
	 * 0.6 * (1 - alpha)^12 = 0.6 * e^-1. */
	metrics_meter_tick_to(&m, t0 + 5 * S + 60 * S + 2 * S);
	ok(close_to(metrics_ewma_rate(&m.m1), 0.22072766470286553, 1e-12),
	    "lazy ticks: a minute later 0.6 * e^-1");
	ok(close_to(metrics_ewma_rate(&m.m5), 0.49123845184678905, 1e-12),
	    "lazy ticks: 5-min 0.6 * e^-0.2");
	is_int(m.last_tick, t0 + 65 * S, "last tick on the 5 s grid, not at the call");
	ok(close_to(metrics_meter_rate_mean(&m, t0 + 72 * S), 3.0 / 72, 1e-12), "mean rate 3 / 72 s");

	/* An idle day costs one step and decays to almost nothing. */
	metrics_meter_tick_to(&m, t0 + 86400 * S);
	ok(metrics_ewma_rate(&m.m15) < 1e-30 && metrics_ewma_rate(&m.m15) >= 0,
	    "a day idle: the 15-min rate is ~0");
	is_int(m.count, 3, "count kept");
}

static void
test_sample(void)
{
	static struct metrics_sample s;
	static int64_t vals[METRICS_RESERVOIR];
	int64_t t0 = 5 * S, sum = 0;
	size_t n;
	int twos = 0;
	bool finite = true, heap_ok = true;

	metrics_sample_init(&s, t0, 1);
	for (int k = 1; k <= 100; k++)
		metrics_sample_update(&s, k, t0 + k);
	n = metrics_sample_values(&s, vals);
	for (size_t k = 0; k < n; k++)
		sum += vals[k];
	is_int(n, 100, "under the reservoir size every value is kept");
	is_int(sum, 5050, "... the values themselves");

	/* Older values (5000 ones at t0) give way to newer ones (2000 twos ten
	 * minutes later, e^(0.015 * 600) = 8103 times the weight). A uniform
	 * reservoir would keep about 2000/7100 = 28% twos. */
	metrics_sample_init(&s, t0, 7);
	for (int k = 0; k < 5000; k++)
		metrics_sample_update(&s, 1, t0);
	is_int(s.n, METRICS_RESERVOIR, "the reservoir is bounded");
	for (int k = 0; k < 2000; k++)
		metrics_sample_update(&s, 2, t0 + 600 * S);
	is_int(s.count, 7000, "count is every value offered");
	n = metrics_sample_values(&s, vals);
	for (size_t k = 0; k < n; k++)
		twos += vals[k] == 2;
	ok(twos > (int)(0.95 * METRICS_RESERVOIR), "decay: the newer values dominate (%d of %zu)",
	    twos, n);

	/* Two hours later: priorities are rebased first, so none overflows. */
	metrics_sample_update(&s, 3, t0 + 7200 * S);
	for (int k = 0; k < s.n; k++) {
		if (!isfinite(s.heap[k].k))
			finite = false;
		if (k > 0 && s.heap[(k - 1) / 2].k > s.heap[k].k)
			heap_ok = false;
	}
	ok(finite, "after two hours every priority is finite");
	ok(heap_ok, "... and the heap is still ordered");
	is_int(s.t0, t0 + 7200 * S, "rebased on the update's time");
	n = metrics_sample_values(&s, vals);
	twos = 0;
	for (size_t k = 0; k < n; k++)
		twos += vals[k] == 3;
	is_int(twos, 1, "the newest value entered (its weight dwarfs the old ones')");
}

static void
test_timer(void)
{
	static struct metrics_timer t;
	static int64_t scratch[METRICS_RESERVOIR];
	struct metrics_timer_snapshot snap;
	int64_t t0 = 100 * S;

	metrics_timer_init(&t, t0, 3);
	metrics_timer_snapshot(&t, t0, scratch, &snap);
	ok(snap.count == 0 && snap.min == 0 && snap.max == 0 && snap.p99 == 0 &&
	    snap.rate_mean == 0, "empty timer: all zero");

	/* 1..10 ms, one every 100 ms: 10 events in the first second. */
	for (int k = 1; k <= 10; k++)
		metrics_timer_update(&t, k * 1000000LL, t0 + (k - 1) * (S / 10));
	metrics_timer_update(&t, -5, t0 + S - 1); /* a clock step: counts as 0 */
	metrics_timer_snapshot(&t, t0 + 5 * S, scratch, &snap);
	is_int(snap.count, 11, "timer count");
	is_int(snap.min, 0, "timer min (the negative one clamped)");
	is_int(snap.max, 10000000, "timer max 10 ms");
	ok(close_to(snap.mean, 55000000.0 / 11, 1e-6), "timer mean 55 ms / 11");
	/* sorted 0,1..10 ms; pos 0.5 * 12 = 6: the 6th value, 5 ms */
	ok(close_to(snap.p50, 5000000, 1e-6), "timer median 5 ms");
	/* pos 9: the 9th value, 8 ms */
	ok(close_to(snap.p75, 8000000, 1e-6), "timer 75%% 8 ms");
	ok(close_to(snap.p99, 10000000, 1e-6), "timer 99%% 10 ms");
	/* 11 events in the first 5 s tick: 2.2/s */
	ok(close_to(snap.rate1, 2.2, 1e-12), "timer 1-min rate 2.2/s");
	ok(close_to(snap.rate15, 2.2, 1e-12), "timer 15-min rate 2.2/s");
	ok(close_to(snap.rate_mean, 11.0 / 5, 1e-12), "timer mean rate 11 / 5 s");
	{
		/* stddev of {0, 1..10} ms: mean 5 ms, squares sum 110 ms^2 */
		double want = sqrt(110.0 / 11) * 1e6;

		ok(close_to(snap.stddev, want, 1e-3), "timer stddev sqrt(10) ms");
	}
}

static void
test_histogram(void)
{
	struct metrics_histogram h;
	struct metrics_timer t;
	int ordered = 1;

	for (int k = 1; k < METRICS_BUCKETS; k++)
		if (metrics_bucket_ns[k] <= metrics_bucket_ns[k - 1])
			ordered = 0;
	ok(ordered, "bucket bounds rise");
	for (int k = 0; k < METRICS_BUCKETS; k++) {
		/* The label says what the bound is: le="0.0025" is 2.5 ms. */
		double le = strtod(metrics_bucket_le[k], NULL);

		if (!close_to(le * 1e9, (double)metrics_bucket_ns[k], 0.5)) {
			ok(0, "bucket %d: le %s is its bound", k, metrics_bucket_le[k]);
			return;
		}
	}
	ok(1, "every le label is its bound in seconds");

	metrics_histogram_init(&h);
	is_int(metrics_histogram_cumulative(&h, METRICS_BUCKETS), 0, "empty: +Inf 0");
	metrics_histogram_observe(&h, 0);		/* first bucket */
	metrics_histogram_observe(&h, -5);		/* as 0 */
	metrics_histogram_observe(&h, 100000);		/* exactly 100 us: le is inclusive */
	metrics_histogram_observe(&h, 100001);		/* the next one */
	metrics_histogram_observe(&h, 30 * S);		/* le 30 */
	metrics_histogram_observe(&h, 3600 * S);	/* past 60 s: +Inf only */
	is_int(h.count, 6, "count 6");
	is_int(h.sum, 100000 + 100001 + 30 * S + 3600 * S, "sum in ns, the negative as 0");
	is_int(metrics_histogram_cumulative(&h, 0), 3, "le 0.0001: 0, -5 (as 0), 100 us");
	is_int(metrics_histogram_cumulative(&h, 1), 4, "le 0.00025: and 100.001 us");
	is_int(metrics_histogram_cumulative(&h, 15), 4, "le 10: the same");
	is_int(metrics_histogram_cumulative(&h, 16), 5, "le 30: and 30 s");
	is_int(metrics_histogram_cumulative(&h, 17), 5, "le 60: the same");
	is_int(metrics_histogram_cumulative(&h, METRICS_BUCKETS), 6, "+Inf: every one");
	is_int(metrics_histogram_cumulative(&h, METRICS_BUCKETS + 3), 6, "past +Inf: every one");

	/* A timer feeds its histogram beside its sample, and keeps every
	 * observation there when the sample forgets (it holds 1028). */
	metrics_timer_init(&t, 0, 1);
	for (int k = 0; k < 5000; k++)
		metrics_timer_update(&t, (k % 2) ? 2 * 1000000 : -1, (int64_t)k * 1000000);
	is_int(t.hist.count, 5000, "timer: 5000 in the histogram");
	is_int(t.sample.n, METRICS_RESERVOIR, "timer: the sample holds its reservoir");
	is_int(metrics_histogram_cumulative(&t.hist, 0), 2500, "timer: 2500 at 0 (the negatives)");
	is_int(metrics_histogram_cumulative(&t.hist, 4), 5000, "timer: all by 2.5 ms");
	is_int(t.hist.sum, 2500LL * 2000000, "timer: sum 2500 * 2 ms");
}

int
main(void)
{
	test_percentiles();
	test_stats();
	test_ewma();
	test_meter();
	test_sample();
	test_timer();
	test_histogram();
	return done_testing();
}
