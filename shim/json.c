/* json.c: a tiny JSON object member extractor (see json.h). */
#include <string.h>

#include "json.h"

struct cursor {
	const char *p;
	const char *end;
};

/* Appends bytes to out while there is room, always leaving a NUL slot. */
struct sink {
	char *out;
	size_t size;
	size_t len;
};

static void sink_put(struct sink *s, char c)
{
	if (s->out != NULL && s->len + 1 < s->size)
		s->out[s->len++] = c;
}

static void sink_utf8(struct sink *s, unsigned long cp)
{
	if (cp < 0x80) {
		sink_put(s, (char)cp);
	} else if (cp < 0x800) {
		sink_put(s, (char)(0xc0 | (cp >> 6)));
		sink_put(s, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sink_put(s, (char)(0xe0 | (cp >> 12)));
		sink_put(s, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sink_put(s, (char)(0x80 | (cp & 0x3f)));
	} else {
		sink_put(s, (char)(0xf0 | (cp >> 18)));
		sink_put(s, (char)(0x80 | ((cp >> 12) & 0x3f)));
		sink_put(s, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sink_put(s, (char)(0x80 | (cp & 0x3f)));
	}
}

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hex4(struct cursor *c, unsigned long *out)
{
	unsigned long v = 0;
	int i;

	if (c->end - c->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char h = *c->p++;

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned long)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned long)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned long)(h - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* At a '"': decodes the string into s (s->out may be NULL to skip it). */
static int read_string(struct cursor *c, struct sink *s)
{
	if (c->p >= c->end || *c->p != '"')
		return -1;
	c->p++;
	while (c->p < c->end) {
		char ch = *c->p++;
		unsigned long cp, lo;

		if (ch == '"') {
			if (s->out != NULL)
				s->out[s->len] = '\0';
			return 0;
		}
		if ((unsigned char)ch < 0x20)
			return -1;
		if (ch != '\\') {
			sink_put(s, ch);
			continue;
		}
		if (c->p >= c->end)
			return -1;
		ch = *c->p++;
		switch (ch) {
		case '"': case '\\': case '/': sink_put(s, ch); break;
		case 'b': sink_put(s, '\b'); break;
		case 'f': sink_put(s, '\f'); break;
		case 'n': sink_put(s, '\n'); break;
		case 'r': sink_put(s, '\r'); break;
		case 't': sink_put(s, '\t'); break;
		case 'u':
			if (hex4(c, &cp) < 0)
				return -1;
			if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 &&
			    c->p[0] == '\\' && c->p[1] == 'u') {
				struct cursor save = *c;

				c->p += 2;
				if (hex4(c, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				else
					*c = save;
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = '?';	/* a lone surrogate */
			sink_utf8(s, cp);
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/* Skips any value up to the ',' or '}' that ends it at this level. */
static int skip_value(struct cursor *c)
{
	struct sink none = { NULL, 0, 0 };
	int depth = 0;

	while (c->p < c->end) {
		char ch = *c->p;

		if (ch == '"') {
			if (read_string(c, &none) < 0)
				return -1;
			continue;
		}
		if (depth == 0 && (ch == ',' || ch == '}'))
			return 0;
		if (ch == '{' || ch == '[')
			depth++;
		else if (ch == '}' || ch == ']') {
			if (--depth < 0)
				return -1;
		}
		c->p++;
	}
	return -1;
}

/*
 * Walks the top-level object to the member `key`: 0 with c at its value,
 * 1 if the object ends without it, -1 if the text is not a well-formed
 * object up to there.
 */
static int find_member(struct cursor *c, const char *key)
{
	char name[64];

	skip_ws(c);
	if (c->p >= c->end || *c->p != '{')
		return -1;
	c->p++;
	skip_ws(c);
	if (c->p < c->end && *c->p == '}')
		return 1;
	for (;;) {
		struct sink ks = { name, sizeof(name), 0 };

		skip_ws(c);
		if (read_string(c, &ks) < 0)
			return -1;
		skip_ws(c);
		if (c->p >= c->end || *c->p != ':')
			return -1;
		c->p++;
		skip_ws(c);
		if (ks.len < sizeof(name) - 1 && strcmp(name, key) == 0)
			return 0;
		if (skip_value(c) < 0)
			return -1;
		skip_ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		return c->p < c->end && *c->p == '}' ? 1 : -1;
	}
}

/* At a value: whether it is the literal word, the whole value ("truex" is not true). */
static int literal(struct cursor *c, const char *word)
{
	size_t n = strlen(word);
	struct cursor after;

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return 0;
	after = (struct cursor){ c->p + n, c->end };
	skip_ws(&after);
	if (after.p >= after.end || (*after.p != ',' && *after.p != '}' && *after.p != ']'))
		return 0;
	c->p += n;
	return 1;
}

int shim_json_string(const char *buf, size_t len, const char *key, char *out, size_t outsz)
{
	struct cursor c = { buf, buf + len };
	struct sink vs = { out, outsz, 0 };

	if (buf == NULL || key == NULL || out == NULL || outsz == 0)
		return -1;
	if (find_member(&c, key) != 0 || c.p >= c.end || *c.p != '"')
		return -1;
	return read_string(&c, &vs);
}

int shim_json_bool(const char *buf, size_t len, const char *key, int *out)
{
	struct cursor c = { buf, buf + len };
	int rc;

	if (buf == NULL || key == NULL || out == NULL)
		return -1;
	if ((rc = find_member(&c, key)) != 0)
		return rc;
	if (literal(&c, "null"))
		return 1;
	if (literal(&c, "true"))
		*out = 1;
	else if (literal(&c, "false"))
		*out = 0;
	else
		return -1;
	return 0;
}

int shim_json_strings(const char *buf, size_t len, const char *key, char *out, size_t each,
    size_t max, size_t *n)
{
	struct cursor c = { buf, buf + len };
	int rc;

	if (buf == NULL || key == NULL || n == NULL || (max > 0 && (out == NULL || each == 0)))
		return -1;
	*n = 0;
	if ((rc = find_member(&c, key)) != 0)
		return rc;
	if (literal(&c, "null"))
		return 1;
	if (c.p >= c.end || *c.p != '[')
		return -1;
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == ']')
		return 0;
	for (;;) {
		struct sink vs = { NULL, 0, 0 };

		if (*n >= max)
			return -1;
		vs.out = out + *n * each;
		vs.size = each;
		skip_ws(&c);
		if (read_string(&c, &vs) < 0)
			return -1;
		if (vs.len + 1 >= each)
			return -1;	/* it may have been cut: refuse, do not guess */
		(*n)++;
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		return c.p < c.end && *c.p == ']' ? 0 : -1;
	}
}
