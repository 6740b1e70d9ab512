/*
 * Cutting a linear form's payload (itembank/linear_form.h): the gateway
 * splits each cached payload of a linear test once, then answers every view
 * with the items the student has reached and none after.
 */
#include "linear_form.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int
kt_linear_form_split(const char *payload, kt_linear_form *out)
{
    memset(out, 0, sizeof *out);
    json_t *p = json_loads(payload, 0, NULL);
    json_t *items = json_incref(json_object_get(p, "items"));
    if (!json_is_object(p) || !json_is_array(items)) {
        json_decref(items);
        json_decref(p);
        return -1;
    }
    json_object_del(p, "items");
    out->nitems = json_array_size(items);
    json_object_set_new(p, "items_total", json_integer((json_int_t)out->nitems));
    out->head = json_dumps(p, JSON_COMPACT);
    out->ends = calloc(out->nitems ? out->nitems : 1, sizeof *out->ends);
    size_t len = 0, cap = 256;
    out->items = malloc(cap);
    int rc = out->head && out->ends && out->items ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < out->nitems; k++) {
        char *one = json_dumps(json_array_get(items, k), JSON_COMPACT | JSON_ENCODE_ANY);
        size_t n = one ? strlen(one) : 0;
        while (one && len + n + 2 > cap) {
            char *grown = realloc(out->items, cap *= 2);
            if (!grown) {
                free(one);
                one = NULL;
                break;
            }
            out->items = grown;
        }
        if (!one) {
            rc = -1;
            break;
        }
        if (k)
            out->items[len++] = ',';
        memcpy(out->items + len, one, n);
        len += n;
        out->ends[k] = len;
        free(one);
    }
    if (out->items)
        out->items[len] = '\0';
    json_decref(items);
    json_decref(p);
    if (rc)
        kt_linear_form_free(out);
    return rc;
}

char *
kt_linear_form_payload(const kt_linear_form *f, long reach, size_t *len)
{
    size_t k = reach < 1 ? 1 : (size_t)reach;
    if (k > f->nitems)
        k = f->nitems;
    size_t upto = k ? f->ends[k - 1] : 0, hlen = strlen(f->head);
    /* head is "{...,"items_total":N}": the items go in before its closing
     * brace. */
    static const char key[] = ",\"items\":[";
    char *out = malloc(hlen + upto + sizeof key + 2);
    if (!out)
        return NULL;
    size_t n = hlen - 1;
    memcpy(out, f->head, n);
    memcpy(out + n, key, sizeof key - 1);
    n += sizeof key - 1;
    memcpy(out + n, f->items, upto);
    n += upto;
    memcpy(out + n, "]}", 3);
    *len = n + 2;
    return out;
}

void
kt_linear_form_free(kt_linear_form *f)
{
    free(f->head);
    free(f->items);
    free(f->ends);
    memset(f, 0, sizeof *f);
}
