/*
 * Sessions (buổi kiểm tra) as staff manage them, and the helpers the tests
 * API shares with them: RFC 3339 instants that must carry their zone, the
 * checks of a session's window, and opaque list cursors.
 */
#ifndef KT_SESSIONS_H
#define KT_SESSIONS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* An RFC 3339 date-time (YYYY-MM-DDTHH:MM[:SS[.frac]] then Z or +HH:MM /
 * -HH:MM): 0 with *epoch the instant in seconds since 1970 (UTC); -2 when
 * well formed but without a zone; -1 otherwise (also impossible dates). */
int kt_rfc3339_parse(const char *s, int64_t *epoch);

/* The checks of opens_at and closes_at in a body, appended to problems as
 * {field, message}: each must be a string with its zone; closes_at after
 * opens_at when both are given. required: both must be present (create).
 * *opens / *closes are set to the instants given (0 when absent or bad). */
void kt_session_window_problems(const json_t *body, int required, json_t *problems,
                                int64_t *opens, int64_t *closes);

/* The problem of a window shorter than the test: names closes_at and says
 * the duration in minutes. */
void kt_session_short_window_problem(json_t *problems, long duration_seconds);

/* Opaque list cursors: base64url("<tag>1:<last id>"). decode: the id, or
 * -1 when c is not a cursor of that tag. */

/* Exam-room controls of a body (0025): access_code true (a new random
 * code), "NNNNNN" or null/false (none); allowed_cidrs a list of up to 32
 * ranges ("10.0.5.0/24", IPv6, or one address) or null / [] (none).
 * code_set / cidrs_set: the field was present. code: the 6 digits or ""
 * (none); cidrs: a text[] literal ("{}" for none). Problems are appended
 * as {field, message}. */
struct kt_session_room {
    int code_set, cidrs_set;
    char code[8];
    char cidrs[32 * 48];
};
void kt_session_room_fields(const json_t *body, json_t *problems, struct kt_session_room *room);

void kt_sessions_register(void);

#endif
