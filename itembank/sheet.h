/*
 * Score sheets for export (sổ điểm per class, subject and semester) as CSV
 * (UTF-8 with a BOM, as Excel and the school systems expect) and as .xlsx
 * (libxlsxwriter). A sheet is JSON: title lines, one header row, rows of
 * cells; a cell is a string, null, {"tenths": 77} for a mark or {"int": 3}
 * for a whole number (STT).
 */
#ifndef KT_SHEET_H
#define KT_SHEET_H

#include <stddef.h>

#include <jansson.h>

/* The sheet of a class, subject and semester in the column layout schools
 * paste into CSDL / vnEdu / SMAS: STT (a number), Mã học sinh, Họ và tên,
 * Ngày sinh, ĐĐGtx1..n, ĐĐGgk, ĐĐGck, then the semester result (ĐTBmhk
 * for a score subject, "Kết quả học kì I/II" for a comment subject) and in
 * semester 2 the year result (ĐTBmcn / "Kết quả cả năm"); for primary
 * subjects STT, Mã lớp, Mã học sinh, Họ tên, Ngày sinh, Mức đạt được,
 * Điểm KTĐK. Then "Nhận xét" (the teacher's comment, slot nx) and "Lí do để
 * trống": why each blank result is blank (the records API's reason, or
 * that the student does not study the subject). records is the class
 * sheet of the records API (students with marks, result, year, studies);
 * with national_id a last column holds each student's "national_id" field
 * (plain text, put there by the caller). */
json_t *kt_sheet_from_records(const json_t *records, int national_id);

/* CSV of sheet (header and rows; titles are not written), marks with one
 * decimal and decimal_mark ',' or '.'. With ',' the fields are separated
 * by ';' (what Vietnamese-locale Excel opens by double-click), with '.' by
 * ','. Returns a malloc'd buffer of *len bytes, or NULL. */
char *kt_sheet_csv(const json_t *sheet, char decimal_mark, size_t *len);

/* Writes sheet as an .xlsx workbook at path (titles in the first rows,
 * then the header in bold, marks as numbers shown with one decimal).
 * File I/O: call it off any event loop. 0, or -1. */
int kt_sheet_xlsx(const json_t *sheet, const char *path);

#endif
