/*
 * The payload of a form of a linear test, cut for delivery one item at a
 * time: split once into everything but its items and the items one by one,
 * so that the payload up to any item is two copies, not a JSON rebuild.
 */
#ifndef KT_LINEAR_FORM_H
#define KT_LINEAR_FORM_H

#include <stddef.h>

typedef struct {
    char *head;   /* the payload object without "items", with "items_total" */
    char *items;  /* the items as compact JSON, joined by commas */
    size_t *ends; /* ends[k]: length of items[] through item k + 1 */
    size_t nitems;
} kt_linear_form;

/* 0, or -1 when payload is not an object with an "items" array. */
int kt_linear_form_split(const char *payload, kt_linear_form *out);
/* The payload with its first `reach` items (clamped to 1..nitems) and
 * "items_total": nitems; malloc'd, NUL-terminated, its length in *len. */
char *kt_linear_form_payload(const kt_linear_form *f, long reach, size_t *len);
void kt_linear_form_free(kt_linear_form *f);

#endif
