/*
 * The số định danh cá nhân structure (see national_id.h): digit 4 is 0/1
 * for births in 1900-1999 (male/female), 2/3 for 2000-2099, 4/5, 6/7, 8/9
 * for the following centuries; digits 5-6 are the last two digits of the
 * year of birth; digits 1-3 a province code 001..096.
 */
#include "national_id.h"

#include <stdio.h>
#include <string.h>

static void
add(char *why, size_t size, const char *msg)
{
    size_t n = strlen(why);
    if (n + 2 < size)
        snprintf(why + n, size - n, "%s%s", n ? " " : "", msg);
}

int
kt_national_id_check(const char *id, int gender, int birth_year, char *why, size_t size)
{
    why[0] = '\0';
    if (!id || strlen(id) != 12 || strspn(id, "0123456789") != 12) {
        add(why, size, "Số định danh cá nhân phải gồm đúng 12 chữ số.");
        return -1;
    }
    int province = (id[0] - '0') * 100 + (id[1] - '0') * 10 + (id[2] - '0');
    if (province < 1 || province > 96)
        add(why, size, "Ba chữ số đầu phải là mã tỉnh nơi đăng ký khai sinh (001 đến 096).");
    int cs = id[3] - '0';
    int year = 1900 + 100 * (cs / 2) + (id[4] - '0') * 10 + (id[5] - '0');
    if (gender == 1 && cs % 2 != 0)
        add(why, size, "Chữ số thứ tư không khớp giới tính nam.");
    if (gender == 2 && cs % 2 != 1)
        add(why, size, "Chữ số thứ tư không khớp giới tính nữ.");
    if (birth_year > 0 && year != birth_year)
        add(why, size, "Chữ số thứ 4 đến 6 không khớp năm sinh.");
    return why[0] ? -1 : 0;
}
