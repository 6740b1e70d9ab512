/*
 * Unit tests for itembank/linear_form.c: a linear form's payload cut to the
 * items a student has reached is the same JSON as the payload with a
 * shortened items array (order, Unicode and every other key kept), the reach
 * is clamped, and what is not a payload is refused.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "linear_form.h"

static const char *PAYLOAD =
    "{\"test\":{\"title\":\"Đề lần lượt\",\"navigation_mode\":\"linear\"},"
    "\"items\":[{\"ref\":\"q2\",\"html\":\"<p>Câu một</p>\",\"number\":1},"
    "{\"ref\":\"q1\",\"html\":\"<p>Câu hai, \\\"trích\\\"</p>\",\"number\":2},"
    "{\"ref\":\"q3\",\"html\":\"<p>Câu ba</p>\",\"number\":3}],"
    "\"parts\":[{\"part\":1,\"title\":\"Phần I\"}],\"form_code\":\"123\"}";

/* The payload expected at a reach: the original with items [0, k). */
static json_t *
expected(size_t k)
{
    json_t *p = json_loads(PAYLOAD, 0, NULL);
    json_t *items = json_object_get(p, "items");
    while (json_array_size(items) > k)
        json_array_remove(items, json_array_size(items) - 1);
    json_object_set_new(p, "items_total", json_integer(3));
    return p;
}

Test(linear_form, prefix_is_the_payload_with_fewer_items)
{
    kt_linear_form f;
    cr_assert_eq(kt_linear_form_split(PAYLOAD, &f), 0);
    cr_assert_eq(f.nitems, 3);
    for (long reach = -1; reach <= 5; reach++) {
        size_t len = 0;
        char *out = kt_linear_form_payload(&f, reach, &len);
        cr_assert_not_null(out);
        cr_assert_eq(len, strlen(out));
        json_error_t err;
        json_t *got = json_loads(out, 0, &err);
        cr_assert_not_null(got, "reach %ld: not JSON (%s): %s", reach, err.text, out);
        size_t k = reach < 1 ? 1 : reach > 3 ? 3 : (size_t)reach;
        json_t *want = expected(k);
        cr_assert(json_equal(got, want), "reach %ld: %s", reach, out);
        cr_assert_eq(strstr(out, "Câu ba") != NULL, k == 3);
        json_decref(want);
        json_decref(got);
        free(out);
    }
    kt_linear_form_free(&f);
}

Test(linear_form, empty_items_and_empty_head)
{
    kt_linear_form f;
    cr_assert_eq(kt_linear_form_split("{\"items\":[]}", &f), 0);
    size_t len;
    char *out = kt_linear_form_payload(&f, 1, &len);
    cr_assert_str_eq(out, "{\"items_total\":0,\"items\":[]}");
    free(out);
    kt_linear_form_free(&f);
}

Test(linear_form, not_a_payload)
{
    kt_linear_form f;
    cr_assert_eq(kt_linear_form_split("[1,2]", &f), -1);
    cr_assert_eq(kt_linear_form_split("{\"items\":{}}", &f), -1);
    cr_assert_eq(kt_linear_form_split("{\"items\":", &f), -1);
    cr_assert_null(f.head);
}
