/*
 * containerd-bench: starts N containers concurrently through the types.API
 * gRPC service and prints the start-time distribution, State's latency and
 * the teardown time. main.c runs the phases; stats.c summarizes durations;
 * api.c is the handful of calls it makes, on the blocking lib/grpc client.
 */
#ifndef TOOLS_BENCH_BENCH_H
#define TOOLS_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "api.pb-c.h"
#include "err.h"
#include "grpc.h"

#define BENCH_PROG "containerd-bench"

/* ---- stats.c */

/* A summary of durations in nanoseconds: the same figures as the daemon's
 * timers (min, max, mean, stddev, median, 75/95/99/99.9th percentiles). */
struct bench_dist {
	size_t count;
	int64_t min, max;
	double mean, stddev;
	double p50, p75, p95, p99, p999;
};

/* Sorts v in place and fills d; all zero when n is 0. */
void bench_dist_compute(int64_t *v, size_t n, struct bench_dist *d);
/* One line per figure, "name:  value", durations with their unit. */
void bench_dist_print(const struct bench_dist *d);
/* "850ns", "12.3us", "12.3ms", "1.23s": at least 3 significant digits. */
void bench_duration_fmt(double ns, char *buf, size_t len);
/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* ---- api.c: each returns 0, or -1 and fills e. The client is the
 * caller's; a call that fails on the transport leaves it unusable. */

int bench_call(struct grpc_client *cl, const char *method,
    const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
    ProtobufCMessage **resp, int timeout_ms, struct err *e);
int bench_create(struct grpc_client *cl, const char *id, const char *bundle,
    int timeout_ms, struct err *e);
int bench_kill(struct grpc_client *cl, const char *id, uint32_t sig,
    int timeout_ms, struct err *e);
/* State of every container; *resp is the caller's (free_unpacked). */
int bench_state(struct grpc_client *cl, Types__StateResponse **resp,
    int timeout_ms, struct err *e);
/* An Events stream replaying from since_ns (wall clock), then live. */
struct grpc_stream *bench_events_open(struct grpc_client *cl, int64_t since_ns,
    struct err *e);

#endif
