/*
 * test_procinfo.c: daemon/procinfo.c, the State info of a process. The part
 * processes share is interned: the same OCI process object gives one block,
 * counted; a different one, another; each process's own name, stdio and pid
 * are added when a reply is built. Unit tests do not link daemon objects, so
 * the module's source is included here.
 */
#include "../../daemon/procinfo.c"

#include "tap.h"

static json_t *
spec(const char *arg)
{
	json_error_t je;
	char text[1024];

	snprintf(text, sizeof(text),
	    "{\"terminal\": false, \"user\": {\"uid\": 7, \"gid\": 8, \"additionalGids\": [9, 10]},"
	    " \"args\": [\"sleep\", \"%s\"], \"env\": [\"PATH=/bin\", \"TERM=xterm\"],"
	    " \"cwd\": \"/\", \"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_CHOWN\"]},"
	    " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}],"
	    " \"noNewPrivileges\": true}", arg);
	return json_loads(text, 0, &je);
}

int
main(void)
{
	json_t *s1 = spec("100"), *s1b = spec("100"), *s2 = spec("200");
	const Types__Process *a, *b, *c;
	Types__Process out, *back;
	uint8_t buf[4096];
	size_t n;
	char *stdio = (char *)"x";

	a = procinfo_get(s1);
	b = procinfo_get(s1b);
	c = procinfo_get(s2);
	ok(a != NULL && b != NULL && c != NULL, "three bodies built");
	ok(a == b, "the same process object (parsed twice) gives the same block");
	ok(a != c, "another argument, another block");
	is_int(procinfo_count(), 2, "two distinct bodies held");
	is_str(a->args[1], "100", "the first body's argument");
	is_str(c->args[1], "200", "the second body's argument");
	is_str(a->pid, "", "a body has no name");
	is_str(a->stdin, "", "nor stdio");

	is_int(procinfo_stdio(NULL, "", "/dev/null", &stdio), 0, "stdio all /dev/null");
	ok(stdio == NULL, "kept as nothing");
	procinfo_fill(&out, a, "init", stdio, 4242);
	is_str(out.pid, "init", "fill: the name");
	is_str(out.stdin, "/dev/null", "fill: stdin /dev/null");
	is_str(out.stderr, "/dev/null", "fill: stderr /dev/null");
	is_int(out.systempid, 4242, "fill: the pid");

	is_int(procinfo_stdio("/run/x/in", "/run/x/out", "", &stdio), 0, "stdio with paths");
	procinfo_fill(&out, b, "exec1", stdio, 17);
	is_str(out.stdin, "/run/x/in", "fill: stdin");
	is_str(out.stdout, "/run/x/out", "fill: stdout");
	is_str(out.stderr, "/dev/null", "fill: an empty stderr is /dev/null");
	n = types__process__get_packed_size(&out);
	ok(n < sizeof(buf), "it encodes (%zu bytes)", n);
	types__process__pack(&out, buf);
	back = types__process__unpack(NULL, n, buf);
	ok(back != NULL, "and decodes");
	if (back != NULL) {
		is_str(back->pid, "exec1", "decoded: name");
		is_int(back->systempid, 17, "decoded: pid");
		is_str(back->stdout, "/run/x/out", "decoded: stdout");
		is_int(back->n_args, 2, "decoded: two args");
		is_str(back->env[1], "TERM=xterm", "decoded: env");
		ok(back->user != NULL && back->user->uid == 7 && back->user->gid == 8 &&
		    back->user->n_additionalgids == 2 && back->user->additionalgids[1] == 10,
		    "decoded: user 7:8 with gids 9, 10");
		ok(back->n_capabilities == 2 && strcmp(back->capabilities[1], "CAP_CHOWN") == 0,
		    "decoded: the bounding capabilities");
		ok(back->n_rlimits == 1 && back->rlimits[0]->hard == 1024 &&
		    strcmp(back->rlimits[0]->type, "RLIMIT_NOFILE") == 0, "decoded: the rlimit");
		ok(back->nonewprivileges && !back->terminal, "decoded: the flags");
		types__process__free_unpacked(back, NULL);
	}
	free(stdio);

	procinfo_put(a);
	is_int(procinfo_count(), 2, "one reference dropped: the shared block stays");
	is_str(b->args[1], "100", "and still reads");
	procinfo_put(b);
	is_int(procinfo_count(), 1, "the last reference dropped: it is freed");
	a = procinfo_get(s1);
	is_int(procinfo_count(), 2, "built again after it was freed");
	procinfo_put(a);
	procinfo_put(c);
	procinfo_put(NULL);
	is_int(procinfo_count(), 0, "nothing held at the end");

	/* Many bodies: every one is found again, whatever its bucket. */
	{
		const Types__Process *v[600];
		int found = 0;

		for (int i = 0; i < 600; i++) {
			char arg[16];
			json_t *s;

			snprintf(arg, sizeof(arg), "%d", i);
			s = spec(arg);
			v[i] = procinfo_get(s);
			json_decref(s);
		}
		is_int(procinfo_count(), 600, "600 distinct bodies");
		for (int i = 0; i < 600; i++) {
			char arg[16];
			json_t *s;

			snprintf(arg, sizeof(arg), "%d", i);
			s = spec(arg);
			found += procinfo_get(s) == v[i];
			json_decref(s);
		}
		is_int(found, 600, "each found again as the same block");
		for (int i = 0; i < 600; i++) {
			procinfo_put(v[i]);
			procinfo_put(v[i]);
		}
		is_int(procinfo_count(), 0, "all freed");
	}
	json_decref(s1);
	json_decref(s1b);
	json_decref(s2);
	return done_testing();
}
