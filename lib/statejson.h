/*
 * statejson: protobuf-c messages as JSON (jansson), for `ctr state`,
 * `ctr containers state|stats` and the containerd-state dump, so that the
 * daemon's answer and the database dump print the same shape.
 *
 * Shape: protobuf's JSON mapping with the proto field names as written in
 * schema/api.proto (bundlePath, systemPid, network_stats, rx_Packets, ...).
 * Every field is always present: empty strings, 0, false, [] and, for an
 * unset sub-message, the object of its zero values; so two dumps compare
 * key for key. Maps are objects keyed by the entry's key; enums print their
 * name; google.protobuf.Timestamp is {"seconds", "nanos"}. Integers are JSON
 * numbers; a uint64 above INT64_MAX (jansson's limit) becomes a real.
 *
 * Every function returns a new reference (the caller json_decref()s it), or
 * NULL when out of memory. The message stays owned by the caller.
 */
#ifndef LIB_STATEJSON_H
#define LIB_STATEJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "api.pb-c.h"

/* {"containers": [...], "machine": {"cpus", "memory"}} */
json_t *statejson_state(const Types__StateResponse *r);
/* {"id", "bundlePath", "processes": [...], "status", "labels", "pids", "runtime"} */
json_t *statejson_container(const Types__Container *c);
/* Any message, same rules (used for StatsResponse). */
json_t *statejson_message(const ProtobufCMessage *m);

/* Descriptor helpers shared with the wire tests: the in-memory size of one
 * value of a field type, and whether a message is a map<K,V> entry (what
 * protoc-c makes of a map: repeated XxxEntry{key = 1, value = 2}). */
size_t statejson_value_size(ProtobufCType t);
int statejson_is_map_entry(const ProtobufCMessageDescriptor *d);

#endif
