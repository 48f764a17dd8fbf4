/*
 * putfile.h: put(base, rel, content) writes content to base/rel, making
 * the directories on the way; for unit tests that build fake /proc and
 * cgroup trees. Exits 2 when it cannot (a test's own set-up failed).
 */
#ifndef TESTS_UNIT_PUTFILE_H
#define TESTS_UNIT_PUTFILE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void
put(const char *base, const char *rel, const char *content)
{
	char path[PATH_MAX];
	FILE *f;
	int n = snprintf(path, sizeof(path), "%s/%s", base, rel);

	if (n < 0 || n >= (int)sizeof(path)) {
		fprintf(stderr, "path too long\n");
		exit(2);
	}
	for (char *s = strchr(path + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fputs(content, f);
	fclose(f);
}

#endif
