/*
 * stats: summarizes a sample of durations the way the daemon's timers do,
 * so the bench's figures and the daemon's metrics read alike.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The p-th quantile of a sorted sample, interpolated between the two
 * nearest ranks at p*(n+1), as go-metrics computes it (what containerd's
 * own timers used); so min <= every percentile <= max. */
static double
quantile(const int64_t *v, size_t n, double p)
{
	double pos = p * (double)(n + 1);
	size_t lo;

	if (pos < 1.0)
		return (double)v[0];
	if (pos >= (double)n)
		return (double)v[n - 1];
	lo = (size_t)pos;
	return (double)v[lo - 1] + (pos - (double)lo) * (double)(v[lo] - v[lo - 1]);
}

void
bench_dist_compute(int64_t *v, size_t n, struct bench_dist *d)
{
	double sum = 0, sq = 0;

	*d = (struct bench_dist){ 0 };
	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	d->count = n;
	d->min = v[0];
	d->max = v[n - 1];
	for (size_t k = 0; k < n; k++)
		sum += (double)v[k];
	d->mean = sum / (double)n;
	for (size_t k = 0; k < n; k++)
		sq += ((double)v[k] - d->mean) * ((double)v[k] - d->mean);
	d->stddev = sqrt(sq / (double)n);
	d->p50 = quantile(v, n, 0.50);
	d->p75 = quantile(v, n, 0.75);
	d->p95 = quantile(v, n, 0.95);
	d->p99 = quantile(v, n, 0.99);
	d->p999 = quantile(v, n, 0.999);
}

void
bench_duration_fmt(double ns, char *buf, size_t len)
{
	static const struct {
		double scale;
		const char *unit;
	} units[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" } };

	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		double x = ns / units[k].scale;

		if (ns >= units[k].scale) {
			snprintf(buf, len, x >= 100 ? "%.0f%s" : x >= 10 ? "%.1f%s" :
			    "%.2f%s", x, units[k].unit);
			return;
		}
	}
	snprintf(buf, len, "%.0fns", ns);
}

static void
print_duration(const char *name, double ns)
{
	char buf[32];

	bench_duration_fmt(ns, buf, sizeof(buf));
	printf("%-19s %s\n", name, buf);
}

void
bench_dist_print(const struct bench_dist *d)
{
	printf("%-19s %zu\n", "count:", d->count);
	print_duration("min:", (double)d->min);
	print_duration("max:", (double)d->max);
	print_duration("mean:", d->mean);
	print_duration("stddev:", d->stddev);
	print_duration("median:", d->p50);
	print_duration("75%:", d->p75);
	print_duration("95%:", d->p95);
	print_duration("99%:", d->p99);
	print_duration("99.9%:", d->p999);
}
