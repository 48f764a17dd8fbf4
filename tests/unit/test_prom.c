/*
 * test_prom.c: daemon/prom_text.c, the Prometheus endpoint's parts that do
 * no I/O of the loop's: label escaping, the text buffer's cap, the request
 * head's parse (well-formed, hostile, partial), a container's memory usage
 * from fake cgroup v1, co-mounted v1, v2 and hybrid trees; then the cost of
 * a scrape's per-container part at 10,000 containers against this host's
 * real /proc and cgroups (printed, with the load average). Unit tests do
 * not link daemon objects, so the module's source is included here.
 */
#include "../../daemon/prom_text.c"

#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>

#include "putfile.h"
#include "tap.h"

static char tmp[64];

static const char *
label(const char *s)
{
	static struct prom_buf b;

	prom_buf_free(&b);
	prom_buf_label(&b, s);
	return b.p != NULL ? b.p : "";
}

static void
test_text(void)
{
	struct prom_buf b = { .max = 64 };

	is_str(label("web-1.a_b"), "web-1.a_b", "label: an ordinary id as it is");
	is_str(label("a\\b"), "a\\\\b", "label: backslash doubled");
	is_str(label("say \"hi\""), "say \\\"hi\\\"", "label: quotes escaped");
	is_str(label("two\nlines"), "two\\nlines", "label: newline as \\n");
	is_str(label("caf\xc3\xa9"), "caf\xc3\xa9", "label: UTF-8 kept");
	is_str(label("bad\xff\xfe"), "bad\\\\xff\\\\xfe",
	    "label: bytes not UTF-8 as the text \\xNN, its backslash escaped");
	is_str(label(""), "", "label: empty");

	prom_buf_printf(&b, "%s", "0123456789012345678901234567890123456789");
	ok(!b.failed && b.len == 40, "buf: 40 bytes under a cap of 64");
	prom_buf_printf(&b, "%s", "0123456789012345678901234567890123456789");
	ok(b.failed, "buf: past the cap it fails");
	is_int(b.len, 40, "buf: and keeps what it had, nothing torn");
	prom_buf_put(&b, "x", 1);
	is_int(b.len, 40, "buf: nothing more once failed");
	prom_buf_free(&b);
	{
		struct prom_buf big = { 0 };

		for (int k = 0; k < 10000; k++)
			prom_buf_printf(&big, "line %d\n", k);
		ok(!big.failed && big.len == 98890 && strncmp(big.p + big.len - 10, "line 9999\n", 10) == 0,
		    "buf: grows without a cap (10,000 lines, %zu bytes)", big.len);
		prom_buf_free(&big);
	}
}

static int
parse(const char *req, bool *head)
{
	size_t hl = 0;

	return prom_request_parse(req, strlen(req), head, &hl);
}

static void
test_parse(void)
{
	bool head = true;
	size_t hl = 0;
	const char *full = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
	const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

	is_int(prom_request_parse(full, strlen(full), &head, &hl), 200, "GET /metrics: 200");
	ok(!head, "GET: not HEAD");
	is_int(hl, strlen(full), "the head's length with its blank line");
	is_int(parse("HEAD /metrics HTTP/1.0\r\n\r\n", &head), 200, "HEAD /metrics: 200");
	ok(head, "HEAD: head");
	is_int(parse("GET /metrics?name[]=x HTTP/1.1\r\n\r\n", &head), 200, "a query is ignored");
	is_int(parse("GET /metrics HTTP/1.1\n\n", &head), 200, "bare LF line ends taken");
	is_int(parse("\r\nGET /metrics HTTP/1.1\r\n\r\n", &head), 200,
	    "an empty line before the request line is skipped");
	is_int(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", &head), 0, "no blank line yet: 0");
	is_int(parse("GET /metr", &head), 0, "half a request line: 0");
	is_int(parse("", &head), 0, "nothing: 0");

	is_int(parse("GET / HTTP/1.1\r\n\r\n", &head), 404, "/: 404");
	is_int(parse("GET /metricsx HTTP/1.1\r\n\r\n", &head), 404, "/metricsx: 404");
	is_int(parse("GET /metrics/ HTTP/1.1\r\n\r\n", &head), 404, "/metrics/: 404");
	is_int(parse("OPTIONS * HTTP/1.1\r\n\r\n", &head), 404, "OPTIONS *: 404");
	is_int(parse("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &head), 405,
	    "POST /metrics: 405");
	is_int(parse("DELETE /metrics HTTP/1.1\r\n\r\n", &head), 405, "DELETE: 405");
	is_int(parse("get /metrics HTTP/1.1\r\n\r\n", &head), 405, "methods are case-sensitive");

	is_int(parse("hello\r\n", &head), 400, "garbage line: 400 at once, no blank line needed");
	is_int(parse("GET /metrics\r\n\r\n", &head), 400, "no version (HTTP/0.9): 400");
	is_int(parse("GET  /metrics HTTP/1.1\r\n\r\n", &head), 400, "two spaces: 400");
	is_int(parse("GET /metrics HTTP/1.1 x\r\n\r\n", &head), 400, "a fourth word: 400");
	is_int(parse("GET metrics HTTP/1.1\r\n\r\n", &head), 400, "a target without /: 400");
	is_int(parse("GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", &head), 400,
	    "a header line without a colon: 400");
	is_int(parse("GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", &head), 400,
	    "a space before the colon: 400");
	is_int(parse("GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", &head), 400,
	    "a folded header: 400");
	is_int(parse("GET /me\rtrics HTTP/1.1\r\n\r\n", &head), 400, "a bare CR: 400");
	is_int(prom_request_parse(tls, sizeof(tls) - 1, &head, &hl), 400,
	    "a TLS hello: 400 at its first bytes");
	is_int(prom_request_parse("GET /\0metrics", 13, &head, &hl), 400, "a NUL: 400");
	is_int(parse("GET /metrics HTTP/2.0\r\n\r\n", &head), 505, "HTTP/2.0: 505");
	is_int(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", &head), 505, "the HTTP/2 preface: 505");
	is_int(parse("GET /metrics HTTP/1.2\r\n\r\n", &head), 505, "HTTP/1.2: 505");
	is_int(parse("GET /metrics HTTPS/1.1\r\n\r\n", &head), 400, "not HTTP: 400");
	is_str(prom_status_text(431), "Request Header Fields Too Large", "431's reason");
}

static void
test_cgroups(void)
{
	char root[128], proc[256], cg[256];
	uint64_t v = 0;

	/* v1, a memory hierarchy of its own (and v2's line beside it). */
	snprintf(root, sizeof(root), "%s/v1", tmp);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	put(proc, "10/cgroup", "12:pids:/x/c1\n4:memory:/x/c1\n1:name=systemd:/x/c1\n0::/x/c1\n");
	put(cg, "memory/x/c1/memory.usage_in_bytes", "311296\n");
	put(cg, "x/c1/memory.current", "999\n");
	ok(prom_cgroup_memory(proc, cg, 10, &v) == 0 && v == 311296,
	    "v1: memory.usage_in_bytes (%llu), not v2's", (unsigned long long)v);
	ok(prom_cgroup_memory(proc, cg, 11, &v) == -1, "a pid that is gone: -1");
	ok(prom_cgroup_memory(proc, cg, 0, &v) == -1, "pid 0: -1");

	/* v1, memory co-mounted with cpu and no link per controller. */
	put(proc, "20/cgroup", "3:cpu,memory:/y\n0::/\n");
	put(cg, "cpu,memory/y/memory.usage_in_bytes", "4096\n");
	ok(prom_cgroup_memory(proc, cg, 20, &v) == 0 && v == 4096, "v1 co-mounted: 4096");

	/* v1, a memory line whose directory is missing: not v2's instead. */
	put(proc, "21/cgroup", "4:memory:/gone\n0::/x/c1\n");
	ok(prom_cgroup_memory(proc, cg, 21, &v) == -1, "v1, cgroup gone: -1");

	/* The root cgroup. */
	put(proc, "22/cgroup", "4:memory:/\n");
	put(cg, "memory/memory.usage_in_bytes", "123\n");
	ok(prom_cgroup_memory(proc, cg, 22, &v) == 0 && v == 123, "v1 root cgroup: 123");

	/* v2 alone. */
	snprintf(root, sizeof(root), "%s/v2", tmp);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	put(proc, "30/cgroup", "0::/system.slice/c2\n");
	put(cg, "cgroup.controllers", "cpu memory pids\n");
	put(cg, "system.slice/c2/memory.current", "8388608\n");
	ok(prom_cgroup_memory(proc, cg, 30, &v) == 0 && v == 8388608, "v2: memory.current");

	/* v2 on a hybrid host (at <root>/unified), with named v1 hierarchies only. */
	snprintf(root, sizeof(root), "%s/v2h", tmp);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	snprintf(cg, sizeof(cg), "%s/cg", root);
	put(proc, "40/cgroup", "1:name=systemd:/c3\n0::/c3\n");
	put(cg, "unified/c3/memory.current", "65536\n");
	ok(prom_cgroup_memory(proc, cg, 40, &v) == 0 && v == 65536, "v2 hybrid: unified's");

	/* Junk in the files. */
	put(proc, "41/cgroup", "0::/c4\n");
	put(cg, "unified/c4/memory.current", "max\n");
	ok(prom_cgroup_memory(proc, cg, 41, &v) == -1, "not a number: -1");
	put(proc, "42/cgroup", "garbage\n::\n0:x\n");
	ok(prom_cgroup_memory(proc, cg, 42, &v) == -1, "a cgroup file of junk: -1");
}

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
mono_now(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static int64_t
cpu_now(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

/* One scrape's per-container part at 10,000 containers, against this host:
 * each "container" is this process (its real /proc/<pid>/cgroup and
 * memory cgroup file), ids as the daemon's. */
static void
test_cost(void)
{
	enum { N = 10000 };
	struct prom_buf b = { 0 };
	char id[64], load[64] = "?";
	int64_t t0, t_state, t_mem, c0, c_state, c_mem;
	int ok_reads = 0;
	uint64_t v;
	FILE *f;

	t0 = mono_now();
	c0 = cpu_now();
	for (int k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "container-%05d", k);
		prom_buf_printf(&b, "containerd_container_state{id=\"");
		prom_buf_label(&b, id);
		prom_buf_printf(&b, "\",state=\"%s\"} 1\n", "running");
	}
	t_state = mono_now() - t0;
	c_state = cpu_now() - c0;
	t0 = mono_now();
	c0 = cpu_now();
	for (int k = 0; k < N; k++) {
		if (prom_cgroup_memory("/proc", "/sys/fs/cgroup", getpid(), &v) == 0) {
			ok_reads++;
			prom_buf_printf(&b, "containerd_container_memory_usage_bytes{id=\"container-%05d\"}"
			    " %llu\n", k, (unsigned long long)v);
		}
	}
	t_mem = mono_now() - t0;
	c_mem = cpu_now() - c0;
	if ((f = fopen("/proc/loadavg", "r")) != NULL) {
		if (fgets(load, sizeof(load), f) != NULL)
			load[strcspn(load, "\n")] = '\0';
		fclose(f);
	}
	printf("# scrape cost at %d containers: state lines %.1f ms (CPU %.1f ms), memory reads"
	       " %.1f ms (CPU %.1f ms, %.1f us each, %d read), %zu bytes; loadavg %s\n", N,
	    t_state / 1e6, c_state / 1e6, t_mem / 1e6, c_mem / 1e6, c_mem / 1e3 / N, ok_reads,
	    b.len, load);
	ok(!b.failed, "10,000 containers' lines made");
	/* Where there is no memory cgroup (a container without one), nothing
	 * is read: the figure is then only the /proc reads. */
	ok(ok_reads == 0 || ok_reads == N, "every read alike (%d)", ok_reads);
	prom_buf_free(&b);
}

int
main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/test_prom.XXXXXX");
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	test_text();
	test_parse();
	test_cgroups();
	test_cost();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", tmp);
	}
	return done_testing();
}
