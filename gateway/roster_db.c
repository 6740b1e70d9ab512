/*
 * The roster import as stored (see roster_db.h): the same JSON argument,
 * the same SQL functions and the same refusals for the command line and
 * the web, so that a roster is imported the same way by both.
 */
#include "roster_db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
kt_roster_json(const kt_roster *r)
{
    json_t *a = json_array();
    if (!a)
        return NULL;
    for (size_t i = 0; i < r->nstudents; i++) {
        const kt_roster_student *s = &r->students[i];
        char birth[16];
        snprintf(birth, sizeof(birth), "%04d-%02d-%02d", s->birth_year, s->birth_month,
                 s->birth_day);
        json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:i,s:s,s:i}", "row", (json_int_t)s->source_row,
                              "code", s->student_code, "name", s->full_name, "birth",
                              s->birth_year ? json_string(birth) : json_null(), "gender",
                              s->gender, "class", s->class_name, "grade", s->grade);
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return text;
}

static void
add(kt_row_error **errors, size_t *n, size_t *cap, size_t row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_row_error_vadd(errors, n, cap, row, "Mã học sinh", fmt, ap);
    va_end(ap);
}

size_t
kt_roster_plan_errors(const json_t *plan, kt_row_error **errors, size_t *n, size_t *cap)
{
    size_t before = *n, i;
    json_t *s;
    json_array_foreach(json_object_get(plan, "students"), i, s)
    {
        const char *action = json_string_value(json_object_get(s, "action"));
        const char *code = json_string_value(json_object_get(s, "code"));
        size_t row = (size_t)json_integer_value(json_object_get(s, "row"));
        if (!action || !code)
            continue;
        if (strcmp(action, "elsewhere") == 0)
            add(errors, n, cap, row, "Mã '%s' đã được dùng ở một trường khác", code);
        else if (strcmp(action, "taken") == 0)
            add(errors, n, cap, row,
                "Mã '%s' trùng tên đăng nhập hoặc mã của một tài khoản khác trong trường", code);
    }
    return *n - before;
}

const kt_roster_student *
kt_roster_at_row(const kt_roster *r, size_t row)
{
    for (size_t i = 0; i < r->nstudents; i++)
        if (r->students[i].source_row == row)
            return &r->students[i];
    return NULL;
}
