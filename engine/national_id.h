/*
 * Structural check of the 12-digit số định danh cá nhân (the CCCD number):
 * three digits of the province of birth registration, one digit for century
 * and sex, two for the year of birth, six random. Only the structure is
 * checked: the number is not looked up anywhere.
 */
#ifndef KT_NATIONAL_ID_H
#define KT_NATIONAL_ID_H

#include <stddef.h>

/* gender: 0 unknown, 1 male, 2 female; birth_year: 0 when unknown.
 * Returns 0 when id fits, or -1 with every problem in why (Vietnamese). */
int kt_national_id_check(const char *id, int gender, int birth_year, char *why, size_t size);

#endif
