/*
 * test_shim_control.c: the shim's pure parsers: control fifo lines
 * (shim/control.c) and the runtime log's JSON strings (shim/json.c).
 * The shim is built apart (static musl), so its sources are included here.
 */
#include "../../shim/control.c"
#include "../../shim/json.c"

#include "tap.h"

static int parse(const char *line, struct shim_cmd *c)
{
	return shim_control_parse(line, strlen(line), c);
}

static void test_control(void)
{
	struct shim_cmd c;

	is_int(parse("close-stdin", &c), 0, "close-stdin parses");
	is_int(c.type, SHIM_CMD_CLOSE_STDIN, "... as CLOSE_STDIN");
	is_int(parse("close-stdin\r", &c), 0, "a trailing CR is ignored");
	is_int(parse("  close-stdin \t", &c), 0, "surrounding blanks are ignored");
	is_int(parse("resize 80 24", &c), 0, "resize W H parses");
	ok(c.type == SHIM_CMD_RESIZE && c.width == 80 && c.height == 24, "... 80x24");
	is_int(parse("resize\t65535  1", &c), 0, "tabs and runs of spaces separate words");
	ok(c.width == 65535 && c.height == 1, "... 65535x1");
	is_int(parse("resize 80", &c), -1, "resize needs two numbers");
	is_int(parse("resize 80 24 1", &c), -1, "and no more");
	is_int(parse("resize 0 24", &c), 0, "a zero size is passed on");
	ok(c.width == 0 && c.height == 24, "... 0x24");
	is_int(parse("resize 65536 24", &c), -1, "65536 is too big");
	is_int(parse("resize 99999999999999999999 24", &c), -1, "a huge number does not overflow");
	is_int(parse("resize -1 24", &c), -1, "no sign");
	is_int(parse("resize 8x 24", &c), -1, "digits only");
	is_int(parse("", &c), -1, "an empty line is refused");
	is_int(parse("   ", &c), -1, "a blank line is refused");
	is_int(parse("close-stdin now", &c), -1, "close-stdin takes no argument");
	is_int(parse("CLOSE-STDIN", &c), -1, "commands are case-sensitive");
	is_int(parse("close-stdinx", &c), -1, "no prefix match");
	is_int(shim_control_parse("close-stdin\0x", 13, &c), -1, "a NUL byte is refused");
	is_int(shim_control_parse("close-stdinXXXX", 11, &c), 0, "len bounds the line, no NUL needed");
	is_int(shim_control_parse(NULL, 0, &c), -1, "NULL line");
}

static int js(const char *obj, const char *key, char *out, size_t size)
{
	return shim_json_string(obj, strlen(obj), key, out, size);
}

static void test_json(void)
{
	char out[64];
	const char *runc = "{\"level\":\"error\",\"msg\":\"runc create failed: exec: \\\"sleep\\\": not found in $PATH\",\"time\":\"2024-01-01T00:00:00Z\"}";

	is_int(js(runc, "level", out, sizeof(out)), 0, "runc log: level");
	is_str(out, "error", "... is error");
	is_int(js(runc, "msg", out, sizeof(out)), 0, "runc log: msg");
	is_str(out, "runc create failed: exec: \"sleep\": not found in $PATH", "... with \\\" decoded");
	is_int(js("{\"msg\":\"a\\\\b\\nc\\/d\\te\"}", "msg", out, sizeof(out)), 0, "escapes");
	is_str(out, "a\\b\nc/d\te", "... \\\\ \\n \\/ \\t decoded");
	is_int(js("{\"msg\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}", "msg", out, sizeof(out)), 0, "\\u escapes");
	is_str(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "... to UTF-8, surrogate pairs joined");
	is_int(js("{\"msg\":\"\\ud800x\"}", "msg", out, sizeof(out)), 0, "a lone surrogate");
	is_str(out, "?x", "... becomes ?");
	is_int(js(" { \"n\" : 5 , \"o\": {\"msg\":\"inner\"}, \"a\":[1,\"]\"], \"msg\" : \"outer\" } ",
	    "msg", out, sizeof(out)), 0, "nested values are skipped");
	is_str(out, "outer", "... the top-level member is found");
	is_int(js("{\"text\":\"\\\"msg\\\":\\\"fake\\\"\"}", "msg", out, sizeof(out)), -1,
	    "a key inside a string value does not count");
	is_int(js("{\"msg\":5}", "msg", out, sizeof(out)), -1, "a non-string value");
	is_int(js("{\"level\":\"error\"}", "msg", out, sizeof(out)), -1, "an absent key");
	is_int(js("not json", "msg", out, sizeof(out)), -1, "not an object");
	is_int(js("{\"msg\":\"unterminated", "msg", out, sizeof(out)), -1, "an unterminated string");
	is_int(js("{\"msg\":\"bad \\q escape\"}", "msg", out, sizeof(out)), -1, "a bad escape");
	is_int(js("{\"msg\":\"0123456789\"}", "msg", out, 5), 0, "a long value");
	is_str(out, "0123", "... is truncated, NUL-terminated");
	is_int(shim_json_string("{\"msg\":\"abc\"}", 9, "msg", out, sizeof(out)), -1,
	    "len bounds the input");
}

/* A checkpoint's config.json (shim_restore_load): bools and a string list. */
static void test_json_config(void)
{
	const char *cfg = "{\"created\":\"2017-06-01T10:00:00Z\",\"name\":\"cp\",\"tcp\":true,"
	    "\"unixSockets\":false,\"shell\":true,\"exit\":false,\"emptyNS\":[\"network\",\"ipc\"]}\n";
	char ns[4][16];
	size_t n = 9;
	int b = 7;

	is_int(shim_json_bool(cfg, strlen(cfg), "tcp", &b), 0, "bool true");
	is_int(b, 1, "... is 1");
	is_int(shim_json_bool(cfg, strlen(cfg), "unixSockets", &b), 0, "bool false");
	is_int(b, 0, "... is 0");
	b = 7;
	is_int(shim_json_bool(cfg, strlen(cfg), "missing", &b), 1, "an absent bool: 1");
	is_int(b, 7, "... out untouched");
	is_int(shim_json_bool("{\"tcp\":null}", 12, "tcp", &b), 1, "a null bool: absent");
	is_int(shim_json_bool("{\"tcp\":\"yes\"}", 13, "tcp", &b), -1, "a string for a bool");
	is_int(shim_json_bool("{\"tcp\":truex}", 13, "tcp", &b), -1, "truex is no bool");
	is_int(shim_json_bool("[true]", 6, "tcp", &b), -1, "not an object");
	is_int(shim_json_bool("{\"a\":1", 6, "tcp", &b), -1, "an unterminated object");
	is_int(shim_json_bool("{}", 2, "tcp", &b), 1, "an empty object: absent");
	is_int(shim_json_strings(cfg, strlen(cfg), "emptyNS", &ns[0][0], sizeof(ns[0]), 4, &n), 0,
	    "a string list");
	is_int((int)n, 2, "... of 2");
	is_str(ns[0], "network", "... network");
	is_str(ns[1], "ipc", "... ipc");
	is_int(shim_json_strings(cfg, strlen(cfg), "nope", &ns[0][0], sizeof(ns[0]), 4, &n), 1,
	    "an absent list: 1");
	is_int((int)n, 0, "... of 0");
	is_int(shim_json_strings("{\"l\":[]}", 8, "l", &ns[0][0], sizeof(ns[0]), 4, &n), 0,
	    "an empty list");
	is_int((int)n, 0, "... of 0");
	is_int(shim_json_strings("{\"l\":[\"a\",1]}", 13, "l", &ns[0][0], sizeof(ns[0]), 4, &n), -1,
	    "a number in the list");
	is_int(shim_json_strings("{\"l\":[\"a\",\"b\"]}", 15, "l", &ns[0][0], sizeof(ns[0]), 1, &n),
	    -1, "more than max");
	is_int(shim_json_strings("{\"l\":[\"0123456789abcdefXYZ\"]}", 27, "l", &ns[0][0],
	    sizeof(ns[0]), 4, &n), -1, "a string too long is refused, not cut");
	is_int(shim_json_strings("{\"l\":\"network\"}", 15, "l", &ns[0][0], sizeof(ns[0]), 4, &n), -1,
	    "a string, not a list");
	is_int(shim_json_strings("{\"l\":[\"a\"", 9, "l", &ns[0][0], sizeof(ns[0]), 4, &n), -1,
	    "an unterminated list");
}

int main(void)
{
	test_control();
	test_json();
	test_json_config();
	return done_testing();
}
