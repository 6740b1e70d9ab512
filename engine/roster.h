/*
 * Class roster validation (danh sách học sinh): turns a table with the
 * columns mã học sinh, họ và tên, ngày sinh (dd/mm/yyyy), giới tính, lớp into
 * student records, or into the complete list of problems, one per bad cell.
 * Columns are found by header text (accent- and case-insensitive, any order).
 * Pure: no I/O.
 */
#ifndef KT_ROSTER_H
#define KT_ROSTER_H

#include "table.h"

typedef struct kt_roster_student {
    size_t source_row;
    char *student_code; /* mã học sinh, NFC, trimmed */
    char *full_name;    /* họ và tên, NFC, trimmed, spaces collapsed */
    int birth_year, birth_month, birth_day;
    int gender;         /* 0 không rõ, 1 nam, 2 nữ */
    char *class_name;   /* e.g. "10A1" */
    int grade;          /* leading number of the class name, 1..12 */
} kt_roster_student;

typedef struct kt_roster {
    size_t nstudents;
    kt_roster_student *students;
    size_t nerrors;
    kt_row_error *errors;
} kt_roster;

/* Validates every row; never stops at the first problem. Returns 0 when the
 * roster is clean (nerrors == 0), -1 otherwise. *out must be freed either way. */
int kt_roster_from_table(const kt_table *t, kt_roster *out);

void kt_roster_free(kt_roster *r);

#endif
