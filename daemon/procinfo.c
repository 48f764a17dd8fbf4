#include "procinfo.h"
#include "jsonlax.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *
dup_str(const char *s)
{
	if (s == NULL || *s == '\0')
		return (char *)protobuf_c_empty_string;
	return strdup(s);
}

static size_t
strv_from_json(json_t *arr, char ***out)
{
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0, k = 0;

	*out = NULL;
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(char *));
	if (*out == NULL)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(arr, i));

		if (s != NULL)
			(*out)[k++] = strdup(s);
	}
	return k;
}

/* The body as separate allocations, freed by types__process__free_unpacked:
 * no pid and no stdio (those are each process's own, procinfo_fill). */
static Types__Process *
build(json_t *process)
{
	Types__Process *p = malloc(sizeof(*p));
	json_t *user, *caps, *rl;

	if (p == NULL)
		return NULL;
	types__process__init(p);
	p->terminal = json_is_true(json_object_get(process, "terminal"));
	p->cwd = dup_str(json_string_value(json_object_get(process, "cwd")));
	p->n_args = strv_from_json(json_object_get(process, "args"), &p->args);
	p->n_env = strv_from_json(json_object_get(process, "env"), &p->env);
	user = json_object_get(process, "user");
	if (json_is_object(user)) {
		json_t *gids = json_object_get(user, "additionalGids");

		p->user = malloc(sizeof(*p->user));
		if (p->user != NULL) {
			types__user__init(p->user);
			p->user->uid = (uint32_t)json_integer_value(json_object_get(user, "uid"));
			p->user->gid = (uint32_t)json_integer_value(json_object_get(user, "gid"));
			if (json_array_size(gids) > 0) {
				p->user->additionalgids = calloc(json_array_size(gids),
				    sizeof(uint32_t));
				for (size_t i = 0; p->user->additionalgids &&
				     i < json_array_size(gids); i++)
					p->user->additionalgids[p->user->n_additionalgids++] =
					    (uint32_t)json_integer_value(json_array_get(gids, i));
			}
		}
	}
	caps = json_object_get(process, "capabilities");
	if (json_is_object(caps))
		caps = json_object_get(caps, "bounding");
	p->n_capabilities = strv_from_json(caps, &p->capabilities);
	p->apparmorprofile = dup_str(json_string_value(json_object_get(process, "apparmorProfile")));
	p->selinuxlabel = dup_str(json_string_value(json_object_get(process, "selinuxLabel")));
	p->nonewprivileges = json_is_true(json_object_get(process, "noNewPrivileges"));
	rl = json_object_get(process, "rlimits");
	if (json_array_size(rl) > 0) {
		p->rlimits = calloc(json_array_size(rl), sizeof(Types__Rlimit *));
		for (size_t i = 0; p->rlimits && i < json_array_size(rl); i++) {
			json_t *r = json_array_get(rl, i);
			Types__Rlimit *l = malloc(sizeof(*l));

			if (l == NULL)
				break;
			types__rlimit__init(l);
			l->type = dup_str(json_string_value(json_object_get(r, "type")));
			/* uint64: RLIM_INFINITY is read as a real (jsonlax.h). */
			l->soft = jsonlax_uint64(json_object_get(r, "soft"));
			l->hard = jsonlax_uint64(json_object_get(r, "hard"));
			p->rlimits[p->n_rlimits++] = l;
		}
	}
	return p;
}

/*
 * A body lives as long as a process refers to it. Built as above it is ~20
 * small allocations, with malloc's header and rounding on each; copied into
 * one block it is about 500 bytes for the bench's `sleep`. The copy is
 * measured first, then made, after a header for the intern table.
 */
struct pack {
	char *base;	/* NULL while measuring */
	size_t used;
};

static void *
pack_take(struct pack *k, size_t n, size_t align)
{
	void *p;

	k->used = (k->used + align - 1) & ~(align - 1);
	p = k->base != NULL ? k->base + k->used : NULL;
	k->used += n;
	return p;
}

static char *
pack_str(struct pack *k, const char *s)
{
	size_t n;
	char *d;

	if (s == NULL || *s == '\0') /* "" or a strdup that failed */
		return (char *)protobuf_c_empty_string;
	n = strlen(s) + 1;
	if ((d = pack_take(k, n, 1)) != NULL)
		memcpy(d, s, n);
	return d;
}

static char **
pack_strv(struct pack *k, char **v, size_t n)
{
	char **d = pack_take(k, n * sizeof(char *), sizeof(void *));

	for (size_t i = 0; i < n; i++) {
		char *s = pack_str(k, v[i]);

		if (d != NULL)
			d[i] = s;
	}
	return d;
}

/* Lays out src in k; the result is only usable when k->base is set. */
static Types__Process *
pack_process(struct pack *k, const Types__Process *src)
{
	Types__Process *d = pack_take(k, sizeof(*d), sizeof(void *)), t = *src;

	t.pid = pack_str(k, src->pid);
	t.stdin = pack_str(k, src->stdin);
	t.stdout = pack_str(k, src->stdout);
	t.stderr = pack_str(k, src->stderr);
	t.cwd = pack_str(k, src->cwd);
	t.apparmorprofile = pack_str(k, src->apparmorprofile);
	t.selinuxlabel = pack_str(k, src->selinuxlabel);
	t.args = pack_strv(k, src->args, src->n_args);
	t.env = pack_strv(k, src->env, src->n_env);
	t.capabilities = pack_strv(k, src->capabilities, src->n_capabilities);
	if (src->user != NULL) {
		Types__User *u = pack_take(k, sizeof(*u), sizeof(void *));
		uint32_t *g = pack_take(k, src->user->n_additionalgids * sizeof(uint32_t),
		    sizeof(uint32_t));

		if (u != NULL) {
			*u = *src->user;
			u->additionalgids = g;
			if (g != NULL && src->user->n_additionalgids > 0)
				memcpy(g, src->user->additionalgids,
				    src->user->n_additionalgids * sizeof(uint32_t));
		}
		t.user = u;
	}
	t.rlimits = pack_take(k, src->n_rlimits * sizeof(Types__Rlimit *), sizeof(void *));
	for (size_t i = 0; i < src->n_rlimits; i++) {
		Types__Rlimit *l = pack_take(k, sizeof(*l), sizeof(void *));
		char *type = pack_str(k, src->rlimits[i]->type);

		if (l != NULL) {
			*l = *src->rlimits[i];
			l->type = type;
			t.rlimits[i] = l;
		}
	}
	if (d != NULL)
		*d = t;
	return d;
}

/*
 * The intern table: bodies by the hash of their wire encoding, chained.
 * Two bodies are the same when their encodings are (the encoding of a
 * given Types__Process is deterministic); the one found is encoded again to
 * compare, so nothing but the block itself is kept per body.
 */
struct interned {
	struct interned *next;
	uint64_t hash;
	size_t refs;
	/* then the body, aligned: see body_of */
};

#define N_BUCKETS 256
#define HDR_SIZE ((sizeof(struct interned) + 15) & ~(size_t)15)

static struct interned *table[N_BUCKETS];
static size_t n_interned;

static Types__Process *
body_of(struct interned *h)
{
	return (Types__Process *)((char *)h + HDR_SIZE);
}

static struct interned *
interned_of(const Types__Process *body)
{
	return (struct interned *)((char *)body - HDR_SIZE);
}

static uint8_t *
encode(const Types__Process *p, size_t *len)
{
	uint8_t *buf;

	*len = types__process__get_packed_size(p);
	if ((buf = malloc(*len ? *len : 1)) != NULL)
		types__process__pack(p, buf);
	return buf;
}

static uint64_t
fnv1a(const uint8_t *b, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static bool
same(const Types__Process *a, const uint8_t *enc, size_t len)
{
	size_t n;
	uint8_t *mine = encode(a, &n);
	bool eq = mine != NULL && n == len && memcmp(mine, enc, len) == 0;

	free(mine);
	return eq;
}

const Types__Process *
procinfo_get(json_t *process)
{
	Types__Process *tmp = build(process);
	struct interned *h = NULL;
	struct pack k = { 0 };
	uint8_t *enc = NULL;
	size_t len = 0;
	uint64_t hash;

	if (tmp == NULL || (enc = encode(tmp, &len)) == NULL)
		goto out;
	hash = fnv1a(enc, len);
	for (h = table[hash % N_BUCKETS]; h != NULL; h = h->next) {
		if (h->hash == hash && same(body_of(h), enc, len)) {
			h->refs++;
			goto out;
		}
	}
	pack_process(&k, tmp);
	if ((h = malloc(HDR_SIZE + k.used)) == NULL)
		goto out;
	k.base = (char *)body_of(h);
	k.used = 0;
	pack_process(&k, tmp);
	h->hash = hash;
	h->refs = 1;
	h->next = table[hash % N_BUCKETS];
	table[hash % N_BUCKETS] = h;
	n_interned++;
out:
	free(enc);
	if (tmp != NULL)
		types__process__free_unpacked(tmp, NULL);
	return h != NULL ? body_of(h) : NULL;
}

void
procinfo_put(const Types__Process *body)
{
	struct interned *h, **pp;

	if (body == NULL)
		return;
	h = interned_of(body);
	if (--h->refs > 0)
		return;
	for (pp = &table[h->hash % N_BUCKETS]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	n_interned--;
	free(h);
}

size_t
procinfo_count(void)
{
	return n_interned;
}

static const char dev_null[] = "/dev/null";

int
procinfo_stdio(const char *in, const char *out_path, const char *err, char **out)
{
	const char *v[3] = { in, out_path, err };
	size_t len[3], total = 0;
	bool all_null = true;
	char *d;

	for (int i = 0; i < 3; i++) {
		if (v[i] == NULL || *v[i] == '\0')
			v[i] = dev_null;
		if (strcmp(v[i], dev_null) != 0)
			all_null = false;
		len[i] = strlen(v[i]) + 1;
		total += len[i];
	}
	*out = NULL;
	if (all_null)
		return 0;
	if ((d = malloc(total)) == NULL)
		return -1;
	*out = d;
	for (int i = 0; i < 3; i++) {
		memcpy(d, v[i], len[i]);
		d += len[i];
	}
	return 0;
}

void
procinfo_fill(Types__Process *out, const Types__Process *body, const char *name,
    const char *stdio, pid_t pid)
{
	*out = *body;
	out->pid = (char *)(name != NULL ? name : protobuf_c_empty_string);
	if (stdio == NULL) {
		out->stdin = out->stdout = out->stderr = (char *)dev_null;
	} else {
		out->stdin = (char *)stdio;
		out->stdout = out->stdin + strlen(out->stdin) + 1;
		out->stderr = out->stdout + strlen(out->stdout) + 1;
	}
	out->systempid = (uint32_t)pid;
}

char *
procinfo_strv_json(char **v, size_t n)
{
	json_t *a = json_array();
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}
