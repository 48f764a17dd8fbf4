/* log: leveled logging to stderr, "time level message", with or without errno. */
#ifndef LIB_LOG_H
#define LIB_LOG_H

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

void log_set_level(int level);
/* Parses "debug", "info", "warn"/"warning", "error"; -1 if unknown. */
int log_level_parse(const char *name);
int log_enabled(int level);
/* "[tag] " after the level on every line from now on; NULL: none. Kept. */
void log_set_tag(const char *tag);

#define LOG_FMT __attribute__((format(printf, 1, 2)))
void log_debug(const char *fmt, ...) LOG_FMT;
void log_info(const char *fmt, ...) LOG_FMT;
void log_warnx(const char *fmt, ...) LOG_FMT;	/* without errno */
void log_warn(const char *fmt, ...) LOG_FMT;	/* appends strerror(errno) */
void log_errorx(const char *fmt, ...) LOG_FMT;
/* Before the loop runs: print and exit(1). */
void fatalx(const char *fmt, ...) LOG_FMT __attribute__((noreturn));
void fatal(const char *fmt, ...) LOG_FMT __attribute__((noreturn));

#endif
