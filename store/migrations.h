/* The numbered SQL migrations of schema/, embedded at build time. */
#ifndef STORE_MIGRATIONS_H
#define STORE_MIGRATIONS_H

struct migration {
	int version;		/* NNN of schema/NNN_name.sql */
	const char *name;	/* the file's name */
	const char *sql;
};

extern const struct migration migrations[];
extern const int migrations_count;

#endif
