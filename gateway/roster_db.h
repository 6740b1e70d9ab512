/*
 * The roster import as stored, shared by `kiemtra users import` and
 * POST /api/v1/rosters/import: the SQL (kt_roster_plan and kt_roster_store,
 * migration 0022), the validated roster as their JSON argument, and the
 * plan's refusals as row errors in the words of engine/roster.c.
 */
#ifndef KT_ROSTER_DB_H
#define KT_ROSTER_DB_H

#include <stddef.h>

#include <jansson.h>

#include "roster.h"

/* $1 school year, $2 students (kt_roster_json) -> plan (jsonb text) */
#define KT_SQL_ROSTER_PLAN "SELECT kt_roster_plan($1::text, $2::jsonb)::text"
/* $1 school year, $2 students, $3 {code: argon2id hash} of the students to
 * create, $4 actor (NULL from the command line) -> result (jsonb text) */
#define KT_SQL_ROSTER_STORE \
    "SELECT kt_roster_store($1::text, $2::jsonb, $3::jsonb, $4::bigint)::text"
/* Sets the tenant of the command line's transaction: $1 school id. */
#define KT_SQL_ROSTER_TENANT "SELECT set_config('kiemtra.school_id', $1::text, true)"

/* The students of r as [{row, code, name, birth, gender, class, grade}]
 * (malloc'd JSON text); NULL when out of memory. */
char *kt_roster_json(const kt_roster *r);

/* Appends a row error for every student of plan (the parsed result of
 * kt_roster_plan or a refused kt_roster_store) that cannot be imported;
 * returns how many were added. */
size_t kt_roster_plan_errors(const json_t *plan, kt_row_error **errors, size_t *n, size_t *cap);

/* The student of r read from source row `row`, or NULL. */
const kt_roster_student *kt_roster_at_row(const kt_roster *r, size_t row);

#endif
