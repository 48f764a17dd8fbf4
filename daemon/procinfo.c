#include "procinfo.h"

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

Types__Process *
procinfo_from_oci(const char *name, json_t *process, const char *stdin_path,
    const char *stdout_path, const char *stderr_path)
{
	Types__Process *p = malloc(sizeof(*p));
	json_t *user, *caps, *rl;

	if (p == NULL)
		return NULL;
	types__process__init(p);
	p->pid = dup_str(name);
	p->stdin = dup_str(stdin_path && *stdin_path ? stdin_path : "/dev/null");
	p->stdout = dup_str(stdout_path && *stdout_path ? stdout_path : "/dev/null");
	p->stderr = dup_str(stderr_path && *stderr_path ? stderr_path : "/dev/null");
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
			l->soft = (uint64_t)json_integer_value(json_object_get(r, "soft"));
			l->hard = (uint64_t)json_integer_value(json_object_get(r, "hard"));
			p->rlimits[p->n_rlimits++] = l;
		}
	}
	return p;
}

void
procinfo_free(Types__Process *p)
{
	if (p != NULL)
		types__process__free_unpacked(p, NULL);
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
