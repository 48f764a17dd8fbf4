/*
 * test_wire: our generated protobuf-c code against the 2017 Go encoding.
 *
 * For every NAME.bin in the wire dir (tests/wire, or $WIRE_DIR): decode
 * it as types.NAME, compare every field with NAME.json (a field left out of
 * the json must be zero/empty), then encode again and compare the bytes.
 * A wrong field number or type in schema/api.proto shows up here as an
 * unknown field, a missing value or different bytes.
 *
 * The comparison walks the protobuf-c descriptors, so one comparator
 * serves every message: json keys are matched to the descriptor's field
 * names (the proto names: bundlePath, network_stats, rx_Packets, ...).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "statejson.h"
#include "tap.h"

static const ProtobufCMessageDescriptor *const messages[] = {
	&types__get_server_version_request__descriptor,
	&types__get_server_version_response__descriptor,
	&types__create_container_request__descriptor,
	&types__create_container_response__descriptor,
	&types__signal_request__descriptor,
	&types__signal_response__descriptor,
	&types__update_process_request__descriptor,
	&types__update_process_response__descriptor,
	&types__add_process_request__descriptor,
	&types__add_process_response__descriptor,
	&types__rlimit__descriptor,
	&types__user__descriptor,
	&types__create_checkpoint_request__descriptor,
	&types__create_checkpoint_response__descriptor,
	&types__delete_checkpoint_request__descriptor,
	&types__delete_checkpoint_response__descriptor,
	&types__list_checkpoint_request__descriptor,
	&types__list_checkpoint_response__descriptor,
	&types__checkpoint__descriptor,
	&types__state_request__descriptor,
	&types__state_response__descriptor,
	&types__container_state__descriptor,
	&types__process__descriptor,
	&types__container__descriptor,
	&types__machine__descriptor,
	&types__update_container_request__descriptor,
	&types__update_container_response__descriptor,
	&types__update_resource__descriptor,
	&types__block_iodevice__descriptor,
	&types__weight_device__descriptor,
	&types__throttle_device__descriptor,
	&types__events_request__descriptor,
	&types__event__descriptor,
	&types__stats_request__descriptor,
	&types__stats_response__descriptor,
	&types__network_stats__descriptor,
	&types__cpu_usage__descriptor,
	&types__throttling_data__descriptor,
	&types__cpu_stats__descriptor,
	&types__pids_stats__descriptor,
	&types__memory_data__descriptor,
	&types__memory_stats__descriptor,
	&types__blkio_stats_entry__descriptor,
	&types__blkio_stats__descriptor,
	&types__hugetlb_stats__descriptor,
	&types__cgroup_stats__descriptor,
	NULL,
};

static const ProtobufCMessageDescriptor *
message_named(const char *name)
{
	size_t i;

	for (i = 0; messages[i] != NULL; i++)
		if (strcmp(messages[i]->short_name, name) == 0)
			return messages[i];
	return NULL;
}

/* ---- files ---- */

static int
dir_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* $WIRE_DIR, -DWIRE_DIR, tests/wire from the repo root (where tests run),
 * or the same found from the binary (build/tests/test_wire). The vectors
 * are the repository's own copy: the tests never read outside it. */
static const char *
wire_dir(void)
{
	static char buf[PATH_MAX];
	const char *env = getenv("WIRE_DIR");
	ssize_t n;
	int up;
	char *slash;

	if (env != NULL && *env != '\0')
		return env;
#ifdef WIRE_DIR
	if (dir_exists(WIRE_DIR))
		return WIRE_DIR;
#endif
	if (dir_exists("tests/wire"))
		return "tests/wire";
	if ((n = readlink("/proc/self/exe", buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		for (up = 0; up < 3 && (slash = strrchr(buf, '/')) != NULL; up++)
			*slash = '\0';
		if (strlen(buf) + sizeof("/tests/wire") < sizeof(buf)) {
			strcat(buf, "/tests/wire");
			if (dir_exists(buf))
				return buf;
		}
	}
	return NULL;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL)
		return NULL;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			uint8_t *nb = realloc(buf, cap = (cap + 4096) * 2);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		if ((n = fread(buf + *len, 1, cap - *len - 1, f)) == 0)
			break;
		*len += n;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

/*
 * jansson keeps integers in a long long and refuses bigger ones (the json
 * has 18446744073709551615, RLIM_INFINITY). Such a number is quoted before
 * parsing, the way protobuf's JSON mapping writes 64-bit integers anyway;
 * the comparator accepts both forms.
 */
static char *
quote_big_ints(const char *in)
{
	size_t len = strlen(in), i = 0, o = 0, k;
	char *out = malloc(len * 3 + 1);
	bool str = false;

	if (out == NULL)
		return NULL;
	while (i < len) {
		if (str) {
			if (in[i] == '\\' && i + 1 < len)
				out[o++] = in[i++];
			else if (in[i] == '"')
				str = false;
			out[o++] = in[i++];
			continue;
		}
		if (in[i] == '"') {
			str = true;
			out[o++] = in[i++];
			continue;
		}
		if (in[i] == '-' || (in[i] >= '0' && in[i] <= '9')) {
			bool integer = true, big;

			for (k = i + (in[i] == '-'); k < len && strchr("0123456789.eE+-", in[k]); k++)
				if (in[k] < '0' || in[k] > '9')
					integer = false;
			errno = 0;
			big = integer && (strtoll(in + i, NULL, 10), errno == ERANGE);
			if (big)
				out[o++] = '"';
			memcpy(out + o, in + i, k - i);
			o += k - i;
			if (big)
				out[o++] = '"';
			i = k;
			continue;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
	return out;
}

/* ---- comparing ---- */

/* quiet: count mismatches without printing a TAP line for each. */
struct cmp {
	bool quiet;
	int fails;
};

static void check(struct cmp *c, bool cond, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
check(struct cmp *c, bool cond, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!cond)
		c->fails++;
	if (c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ok(cond, "%s", line);
}

/* Paths of nested fields; a cut-off name in a test line is harmless. */
static void path_fmt(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
path_fmt(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* A json integer, or a quoted one; into *u (unsigned view) and *s. */
static bool
json_int(json_t *j, uint64_t *u, int64_t *s)
{
	const char *str;
	char *end;

	if (json_is_integer(j)) {
		*s = json_integer_value(j);
		*u = (uint64_t)*s;
		return true;
	}
	if (!json_is_string(j))
		return false;
	str = json_string_value(j);
	errno = 0;
	if (*str == '-') {
		*s = strtoll(str, &end, 10);
		*u = (uint64_t)*s;
	} else {
		*u = strtoull(str, &end, 10);
		*s = (int64_t)*u;
	}
	return *str != '\0' && *end == '\0' && errno == 0;
}

static void cmp_message(struct cmp *c, const ProtobufCMessageDescriptor *d,
    const void *m, json_t *j, const char *path);

/*
 * One value of f at p (NULL: the zero value) against j (NULL: absent, so
 * zero expected).
 */
static void
cmp_value(struct cmp *c, const ProtobufCFieldDescriptor *f, const void *p,
    json_t *j, const char *path)
{
	uint64_t ju = 0, gu = 0;
	int64_t js = 0, gs = 0;
	bool sgn = false;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		gs = p ? *(const int32_t *)p : 0;
		sgn = true;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		gs = p ? *(const int64_t *)p : 0;
		sgn = true;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		gu = p ? *(const uint32_t *)p : 0;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		gu = p ? *(const uint64_t *)p : 0;
		break;
	case PROTOBUF_C_TYPE_BOOL: {
		bool got = p ? *(const protobuf_c_boolean *)p : false;

		check(c, j == NULL ? !got : json_is_boolean(j) && json_is_true(j) == got,
		    "%s = %s", path, got ? "true" : "false");
		return;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *got = p ? *(char *const *)p : NULL;

		if (got == NULL)
			got = "";
		check(c, j == NULL ? *got == '\0' :
		    json_is_string(j) && strcmp(json_string_value(j), got) == 0,
		    "%s = \"%s\"%s%s%s", path, got, j && json_is_string(j) &&
		    strcmp(json_string_value(j), got) ? " (json: \"" : "",
		    j && json_is_string(j) && strcmp(json_string_value(j), got) ?
		    json_string_value(j) : "", j && json_is_string(j) &&
		    strcmp(json_string_value(j), got) ? "\")" : "");
		return;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		const ProtobufCEnumValue *ev;
		int got = p ? *(const int *)p : 0;

		ev = protobuf_c_enum_descriptor_get_value(ed, got);
		check(c, j == NULL ? got == 0 : json_is_string(j) ?
		    ev != NULL && strcmp(ev->name, json_string_value(j)) == 0 :
		    json_is_integer(j) && json_integer_value(j) == got,
		    "%s = %d", path, got);
		return;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double got = p ? (f->type == PROTOBUF_C_TYPE_FLOAT ?
		    *(const float *)p : *(const double *)p) : 0;

		check(c, j == NULL ? got == 0 : json_is_number(j) &&
		    json_number_value(j) == got, "%s = %g", path, got);
		return;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;

		/* No bytes field in the contract; only emptiness is checked. */
		check(c, j == NULL && (b == NULL || b->len == 0),
		    "%s: bytes absent", path);
		return;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		if (j != NULL && !json_is_object(j)) {
			check(c, false, "%s: json is an object", path);
			return;
		}
		cmp_message(c, f->descriptor, p ? *(void *const *)p : NULL, j, path);
		return;
	}
	if (j == NULL) {
		check(c, sgn ? gs == 0 : gu == 0, "%s = 0 (absent in json)", path);
		return;
	}
	if (!json_int(j, &ju, &js)) {
		check(c, false, "%s: json holds an integer", path);
		return;
	}
	if (sgn)
		check(c, gs == js, "%s = %" PRId64 " (json %" PRId64 ")", path, gs, js);
	else
		check(c, gu == ju, "%s = %" PRIu64 " (json %" PRIu64 ")", path, gu, ju);
}

/* A map<K,V> field: entries (key = 1, value = 2) against a json object. */
static void
cmp_map(struct cmp *c, const ProtobufCFieldDescriptor *f, void *const *entries,
    size_t n, json_t *j, const char *path)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	char sub[512];
	size_t i;

	if (j != NULL && !json_is_object(j)) {
		check(c, false, "%s: json is an object (a map)", path);
		return;
	}
	check(c, n == (j ? json_object_size(j) : 0), "%s: %zu map entries", path, n);
	for (i = 0; i < n; i++) {
		const char *e = entries[i];
		const char *key;
		char num[32];

		if (kf->type == PROTOBUF_C_TYPE_STRING) {
			key = *(char *const *)(e + kf->offset);
		} else {
			snprintf(num, sizeof(num), "%" PRIu64, kf->type ==
			    PROTOBUF_C_TYPE_UINT64 || kf->type == PROTOBUF_C_TYPE_INT64 ?
			    *(const uint64_t *)(e + kf->offset) :
			    (uint64_t)*(const uint32_t *)(e + kf->offset));
			key = num;
		}
		path_fmt(sub, sizeof(sub), "%s[\"%s\"]", path, key);
		if (j == NULL || json_object_get(j, key) == NULL) {
			check(c, false, "%s: key in json", sub);
			continue;
		}
		cmp_value(c, vf, e + vf->offset, json_object_get(j, key), sub);
	}
}

static void
cmp_repeated(struct cmp *c, const ProtobufCFieldDescriptor *f, const char *m,
    json_t *j, const char *path)
{
	size_t n = m ? *(const size_t *)(m + f->quantifier_offset) : 0;
	const char *arr = m ? *(char *const *)(m + f->offset) : NULL;
	size_t sz = statejson_value_size(f->type), i;
	char sub[512];

	if (f->type == PROTOBUF_C_TYPE_MESSAGE && statejson_is_map_entry(f->descriptor)) {
		cmp_map(c, f, (void *const *)arr, n, j, path);
		return;
	}
	if (j != NULL && !json_is_array(j)) {
		check(c, false, "%s: json is an array", path);
		return;
	}
	check(c, n == (j ? json_array_size(j) : 0), "%s: %zu elements%s", path, n,
	    j ? "" : " (absent in json)");
	for (i = 0; i < n && j != NULL && i < json_array_size(j); i++) {
		path_fmt(sub, sizeof(sub), "%s[%zu]", path, i);
		cmp_value(c, f, arr + i * sz, json_array_get(j, i), sub);
	}
}

static void
cmp_message(struct cmp *c, const ProtobufCMessageDescriptor *d, const void *msg,
    json_t *j, const char *path)
{
	const char *m = msg, *key;
	char sub[512];
	json_t *v;
	unsigned i;

	/* Every json key must name a field of this message. */
	json_object_foreach(j, key, v) {
		bool found = false;

		for (i = 0; i < d->n_fields && !found; i++)
			found = strcmp(d->fields[i].name, key) == 0;
		check(c, found, "%s.%s is a field of %s", path, key, d->name);
	}
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		path_fmt(sub, sizeof(sub), "%s.%s", path, f->name);
		v = j ? json_object_get(j, f->name) : NULL;
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			cmp_repeated(c, f, m, v, sub);
		else
			cmp_value(c, f, m ? m + f->offset : NULL, v, sub);
	}
}

/* Fields the decoder did not know: a number in the .bin that api.proto
 * does not have. */
static size_t
unknown_fields(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	size_t n = m->n_unknown_fields, i, k;

	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(const size_t *)(base + f->quantifier_offset);
			ProtobufCMessage *const *arr =
			    *(ProtobufCMessage *const *const *)(base + f->offset);

			for (k = 0; k < cnt; k++)
				n += unknown_fields(arr[k]);
		} else if (*(ProtobufCMessage *const *)(base + f->offset) != NULL) {
			n += unknown_fields(*(ProtobufCMessage *const *)(base + f->offset));
		}
	}
	return n;
}

static bool
has_map(const ProtobufCMessageDescriptor *d, int depth)
{
	unsigned i;

	if (depth > 8)
		return false;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    (statejson_is_map_entry(f->descriptor) || has_map(f->descriptor, depth + 1)))
			return true;
	}
	return false;
}

/* ---- one vector ---- */

static void
test_vector(const char *dir, const char *name)
{
	const ProtobufCMessageDescriptor *d = message_named(name);
	char path[PATH_MAX];
	uint8_t *bin, *json_text, *packed;
	size_t bin_len, json_len, packed_len;
	ProtobufCMessage *m, *again;
	json_error_t jerr;
	char *quoted;
	json_t *j;
	struct cmp c = { false, 0 };

	ok(d != NULL, "%s: a message of api.proto", name);
	if (d == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	bin = read_file(path, &bin_len);
	ok(bin != NULL, "%s: %s read", name, path);
	snprintf(path, sizeof(path), "%s/%s.json", dir, name);
	json_text = read_file(path, &json_len);
	ok(json_text != NULL, "%s: %s read", name, path);
	if (bin == NULL || json_text == NULL) {
		free(bin);
		free(json_text);
		return;
	}
	quoted = quote_big_ints((const char *)json_text);
	j = quoted ? json_loads(quoted, 0, &jerr) : NULL;
	ok(json_is_object(j), "%s: json parses (%s)", name, j ? "ok" : jerr.text);
	m = protobuf_c_message_unpack(d, NULL, bin_len, bin);
	ok(m != NULL, "%s: %zu bytes decode as %s", name, bin_len, d->name);
	if (m != NULL && json_is_object(j)) {
		is_int(unknown_fields(m), 0, "%s: no unknown field numbers", name);
		cmp_message(&c, d, m, j, name);

		packed_len = protobuf_c_message_get_packed_size(m);
		packed = malloc(packed_len ? packed_len : 1);
		protobuf_c_message_pack(m, packed);
		if (packed_len == bin_len && memcmp(packed, bin, bin_len) == 0) {
			ok(1, "%s: re-encodes byte for byte (%zu bytes)", name, bin_len);
		} else if (has_map(d, 0)) {
			/* Map entries may come in another order: compare what
			 * the re-encoding decodes to instead. */
			struct cmp q = { true, 0 };

			again = protobuf_c_message_unpack(d, NULL, packed_len, packed);
			if (again != NULL)
				cmp_message(&q, d, again, j, name);
			ok(again != NULL && q.fails == 0 && packed_len == bin_len,
			    "%s: re-encoding (map order differs) decodes to the "
			    "same values", name);
			if (again != NULL)
				protobuf_c_message_free_unpacked(again, NULL);
		} else {
			ok(0, "%s: re-encodes byte for byte (%zu vs %zu bytes)",
			    name, packed_len, bin_len);
		}
		free(packed);
	}
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, NULL);
	json_decref(j);
	free(quoted);
	free(bin);
	free(json_text);
}

static int
bin_filter(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return n > 4 && strcmp(de->d_name + n - 4, ".bin") == 0;
}

/* Self-checks of the comparator: a wrong value must be caught. */
static void
test_comparator(void)
{
	Types__SignalRequest r = TYPES__SIGNAL_REQUEST__INIT;
	struct cmp q = { true, 0 };
	json_t *j;

	r.id = "x";
	r.signal = 9;
	j = json_pack("{s:s, s:i}", "id", "x", "signal", 9);
	cmp_message(&q, r.base.descriptor, &r, j, "self");
	is_int(q.fails, 0, "comparator: equal values pass");
	json_object_set_new(j, "signal", json_integer(15));
	q.fails = 0;
	cmp_message(&q, r.base.descriptor, &r, j, "self");
	is_int(q.fails, 1, "comparator: a different value fails");
	json_object_del(j, "signal");
	json_object_set_new(j, "pid", json_string("init"));
	q.fails = 0;
	cmp_message(&q, r.base.descriptor, &r, j, "self");
	is_int(q.fails, 2, "comparator: a value left out of the json must be zero");
	json_object_set_new(j, "bogus", json_true());
	q.fails = 0;
	cmp_message(&q, r.base.descriptor, &r, j, "self");
	is_int(q.fails, 3, "comparator: an unknown json key fails");
	json_decref(j);
}

int
main(void)
{
	const char *dir = wire_dir();
	struct dirent **ents;
	char name[256];
	int n, i;

	test_comparator();
	if (dir == NULL) {
		ok(0, "wire test vectors found (tests/wire, or set WIRE_DIR)");
		return done_testing();
	}
	n = scandir(dir, &ents, bin_filter, alphasort);
	ok(n > 0, "wire vectors in %s", dir);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(ents[i]->d_name) - 4),
		    ents[i]->d_name);
		test_vector(dir, name);
		free(ents[i]);
	}
	if (n > 0)
		free(ents);
	return done_testing();
}
