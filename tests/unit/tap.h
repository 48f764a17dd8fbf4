/* tap.h: the Test Anything Protocol in a few macros, for prove. */
#ifndef TAP_H
#define TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                    \
	do {                                                             \
		int tap_c_ = (cond) ? 1 : 0;                             \
		printf("%sok %d - ", tap_c_ ? "" : "not ", ++tap_n);     \
		printf(__VA_ARGS__);                                     \
		printf("\n");                                            \
		if (!tap_c_) {                                           \
			tap_failed++;                                    \
			printf("#   failed at %s:%d: %s\n", __FILE__,     \
			    __LINE__, #cond);                            \
		}                                                        \
	} while (0)

#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long tap_g_ = (long long)(got), tap_w_ = (long long)(want); \
		ok(tap_g_ == tap_w_, __VA_ARGS__);                       \
		if (tap_g_ != tap_w_)                                    \
			printf("#   got %lld, want %lld\n", tap_g_, tap_w_); \
	} while (0)

#define is_str(got, want, ...)                                           \
	do {                                                             \
		const char *tap_g_ = (got), *tap_w_ = (want);            \
		int tap_e_ = tap_g_ && tap_w_ && strcmp(tap_g_, tap_w_) == 0; \
		ok(tap_e_, __VA_ARGS__);                                 \
		if (!tap_e_)                                             \
			printf("#   got \"%s\", want \"%s\"\n",          \
			    tap_g_ ? tap_g_ : "(null)", tap_w_ ? tap_w_ : "(null)"); \
	} while (0)

#define skip(reason) printf("ok %d # SKIP %s\n", ++tap_n, reason)

/* Prints the plan and returns main's exit code. */
#define done_testing() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
