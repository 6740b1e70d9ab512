/*
 * Line-oriented logging to stderr. Each line is formatted into a stack buffer
 * and written with one write(2), so lines from different worker threads never
 * interleave. Timestamps are UTC ISO 8601 with milliseconds.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum kt_log_level min_level = KT_LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void
kt_log_set_level(enum kt_log_level level)
{
    min_level = level;
}

void
kt_log_raw(const char *line, int len)
{
    char buf[8192];
    if (len < 0 || (size_t)len >= sizeof(buf) - 1)
        len = (int)sizeof(buf) - 2;
    memcpy(buf, line, (size_t)len);
    buf[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, buf, (size_t)len);
    (void)w;
}

void
kt_log(enum kt_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char buf[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(buf) - 1)
        n = (int)sizeof(buf) - 1;
    kt_log_raw(buf, n);
}
