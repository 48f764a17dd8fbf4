/*
 * statejson: walks a message by its protobuf-c descriptor, so the JSON shape
 * follows schema/api.proto without a hand-written printer per message.
 */
#include "statejson.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *message_json(const ProtobufCMessageDescriptor *d, const void *m);

static json_t *
uint64_json(uint64_t v)
{
	if (v > (uint64_t)INT64_MAX)
		return json_real((double)v);
	return json_integer((json_int_t)v);
}

static json_t *
bytes_json(const ProtobufCBinaryData *b)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;
	char *s;
	json_t *j;

	if ((s = malloc(4 * ((b->len + 2) / 3) + 1)) == NULL)
		return NULL;
	for (i = 0; i < b->len; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16;
		size_t rem = b->len - i;

		if (rem > 1)
			v |= (uint32_t)b->data[i + 1] << 8;
		if (rem > 2)
			v |= b->data[i + 2];
		s[o++] = tab[(v >> 18) & 63];
		s[o++] = tab[(v >> 12) & 63];
		s[o++] = rem > 1 ? tab[(v >> 6) & 63] : '=';
		s[o++] = rem > 2 ? tab[v & 63] : '=';
	}
	s[o] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
enum_json(const ProtobufCEnumDescriptor *ed, int v)
{
	unsigned i;

	for (i = 0; i < ed->n_values; i++)
		if (ed->values[i].value == v)
			return json_string(ed->values[i].name);
	return json_integer(v);
}

/* One value of type f->type at p (p NULL: the zero value). */
static json_t *
value_json(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(p ? *(const int32_t *)p : 0);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(p ? *(const uint32_t *)p : 0);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_integer(p ? *(const int64_t *)p : 0);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return uint64_json(p ? *(const uint64_t *)p : 0);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_real(p ? *(const float *)p : 0);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_real(p ? *(const double *)p : 0);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(p ? *(const protobuf_c_boolean *)p : 0);
	case PROTOBUF_C_TYPE_ENUM:
		return enum_json(f->descriptor, p ? *(const int *)p : 0);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = p ? *(char *const *)p : NULL;

		return json_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		static const ProtobufCBinaryData none = { 0, NULL };

		return bytes_json(p ? (const ProtobufCBinaryData *)p : &none);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return message_json(f->descriptor, p ? *(void *const *)p : NULL);
	}
	return json_null();
}

size_t
statejson_value_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

/* protoc-c gives a map<K,V> field a repeated XxxEntry{key = 1, value = 2}. */
int
statejson_is_map_entry(const ProtobufCMessageDescriptor *d)
{
	size_t n = strlen(d->short_name);

	return n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
	    d->n_fields == 2 && strcmp(d->fields[0].name, "key") == 0 &&
	    strcmp(d->fields[1].name, "value") == 0;
}

static json_t *
map_json(const ProtobufCFieldDescriptor *f, void *const *entries, size_t n)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *base = entries[i];
		json_t *k = value_json(&ed->fields[0], base + ed->fields[0].offset);
		json_t *v = value_json(&ed->fields[1], base + ed->fields[1].offset);
		char num[32];
		const char *key = num;

		if (k == NULL || v == NULL) {
			json_decref(k);
			json_decref(v);
			json_decref(o);
			return NULL;
		}
		/* JSON keys are strings: numeric and bool keys print as text. */
		if (json_is_string(k))
			key = json_string_value(k);
		else if (json_is_integer(k))
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(k));
		else
			snprintf(num, sizeof(num), "%s", json_is_true(k) ? "true" : "false");
		json_object_set_new(o, key, v);
		json_decref(k);
	}
	return o;
}

static json_t *
repeated_json(const ProtobufCFieldDescriptor *f, const char *m)
{
	size_t n = m ? *(const size_t *)(m + f->quantifier_offset) : 0;
	const char *arr = m ? *(char *const *)(m + f->offset) : NULL;
	size_t sz = statejson_value_size(f->type), i;
	json_t *a;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE && statejson_is_map_entry(f->descriptor))
		return map_json(f, (void *const *)arr, n);
	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		json_t *v = value_json(f, arr + i * sz);

		if (v == NULL || json_array_append_new(a, v) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* True when an optional/oneof field holds no value. */
static int
field_unset(const ProtobufCFieldDescriptor *f, const char *m)
{
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(m + f->quantifier_offset) != f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->type != PROTOBUF_C_TYPE_STRING)
		return !*(const protobuf_c_boolean *)(m + f->quantifier_offset);
	return 0;
}

static json_t *
message_json(const ProtobufCMessageDescriptor *d, const void *msg)
{
	const char *m = msg;
	json_t *o = json_object();
	unsigned i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		json_t *v;

		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			v = repeated_json(f, m);
		else if (m == NULL || field_unset(f, m))
			v = value_json(f, NULL);
		else
			v = value_json(f, m + f->offset);
		if (v == NULL || json_object_set_new(o, f->name, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *
statejson_message(const ProtobufCMessage *m)
{
	return message_json(m->descriptor, m);
}

json_t *
statejson_state(const Types__StateResponse *r)
{
	return message_json(&types__state_response__descriptor, r);
}

json_t *
statejson_container(const Types__Container *c)
{
	return message_json(&types__container__descriptor, c);
}
