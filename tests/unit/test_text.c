/*
 * Unit tests for engine/text.c: UTF-8 validation, NFC normalisation of the
 * decomposed text Word and Excel produce, white-space clean-up and the
 * accent-free folded form used to match Vietnamese headers and answers.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static bool
valid(const char *s)
{
    return kt_utf8_valid(s, strlen(s));
}

Test(text, utf8_validation)
{
    cr_assert(valid(""));
    cr_assert(valid("Nguyễn Thị Ánh 😀"));
    cr_assert_not(valid("\xC3\x28"), "bad continuation byte");
    cr_assert_not(valid("\xC0\xAF"), "overlong '/'");
    cr_assert_not(valid("\xE0\x80\xAF"), "overlong 3-byte form");
    cr_assert_not(valid("\xED\xA0\x80"), "UTF-16 surrogate");
    cr_assert_not(valid("\xF4\x90\x80\x80"), "above U+10FFFF");
    cr_assert_not(valid("Nguy\xE1\xBB"), "truncated sequence");
    cr_assert_not(valid("Nguy\xEAn"), "Windows-1258/Latin-1 byte");
    cr_assert_not(kt_utf8_valid("a\0b", 3), "embedded NUL");
}

Test(text, nfd_is_composed_to_nfc)
{
    const char *nfd = "Nguye\xCC\x82\xCC\x83n"; /* e + U+0302 + U+0303 */
    char *s = kt_nfc(nfd, strlen(nfd));
    cr_assert_str_eq(s, "Nguy\xE1\xBB\x85n"); /* U+1EC5 */
    cr_assert_str_eq(s, "Nguyễn");
    free(s);

    s = kt_nfc("  giữ nguyên  ", strlen("  giữ nguyên  "));
    cr_assert_str_eq(s, "  giữ nguyên  ", "kt_nfc changes nothing but the form");
    free(s);
    cr_assert_null(kt_nfc("\xFF", 1));
}

Test(text, clean_trims_and_collapses_space)
{
    const char *in = " \t Tra\xCC\x82\xCC\x80n \xC2\xA0 Văn\n\n An\r\n";
    char *s = kt_text_clean(in, strlen(in));
    cr_assert_str_eq(s, "Trần Văn An");
    free(s);

    s = kt_text_clean("   ", 3);
    cr_assert_str_eq(s, "");
    free(s);
    cr_assert_null(kt_text_clean("a\xC0", 2));
}

Test(text, fold_removes_case_and_diacritics)
{
    static const char *cases[][2] = {
        {"Đặng Thị Ánh", "dang thi anh"},
        {"ĐẶNG  THỊ\tÁNH ", "dang thi anh"},
        {"Da\xCC\xA3\xCC\x86ng", "dang"}, /* NFD "Dặng" */
        {"  Họ và Tên ", "ho va ten"},
        {"Mã HS", "ma hs"},
        {"Nữ", "nu"},
        {"đường", "duong"},
        {"Lớp 10A1", "lop 10a1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *s = kt_fold(cases[i][0], strlen(cases[i][0]));
        cr_assert_str_eq(s, cases[i][1], "fold(%s)", cases[i][0]);
        free(s);
    }
    cr_assert_null(kt_fold("\xE1\xBB", 2));
}
