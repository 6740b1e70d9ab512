/*
 * Logging: one line per event on stderr, "ts level msg key=value ...".
 * Thread-safe (one write(2) per line). The access log is a separate JSON
 * line per request so that it can be shipped and parsed as is.
 */
#ifndef KT_LOG_H
#define KT_LOG_H

enum kt_log_level { KT_LOG_DEBUG, KT_LOG_INFO, KT_LOG_WARN, KT_LOG_ERROR };

void kt_log_set_level(enum kt_log_level level);
void kt_log(enum kt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a complete line (adds the newline) with a single write(2). */
void kt_log_raw(const char *line, int len);

#define log_debug(...) kt_log(KT_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) kt_log(KT_LOG_INFO, __VA_ARGS__)
#define log_warn(...) kt_log(KT_LOG_WARN, __VA_ARGS__)
#define log_error(...) kt_log(KT_LOG_ERROR, __VA_ARGS__)

#endif
