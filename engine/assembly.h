/*
 * Test assembly from a blueprint (ma trận đề): picks one candidate item per
 * blueprint slot by bipartite matching, preferring least-used items, or
 * reports per row why the bank cannot fill it; then lays out N forms (mã đề)
 * that share the selected items and differ by item order within a part and
 * by option order. Pure and deterministic: the same inputs and seed give the
 * same selection and forms.
 */
#ifndef KT_ASSEMBLY_H
#define KT_ASSEMBLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KT_ASM_MAX_COUNT 200   /* items per blueprint row, and per test */
#define KT_ASM_MAX_FORMS 99    /* mã đề per test */
#define KT_ASM_MAX_POINTS 1000 /* points per item, hundredths: a test is out of 10 */

/* One row of the blueprint: `count` items of one level and format drawn from
 * one taxonomy node, each worth `points`. */
typedef struct {
    const char *node;   /* outcome code, or a strand/topic/unit prefix of one */
    const char *level;  /* level tag, e.g. MD.B */
    const char *format; /* format tag, e.g. DT.NLC; rows of one format form a part */
    int count;          /* items, 1..KT_ASM_MAX_COUNT */
    int64_t points;     /* per item, hundredths (25 = 0,25 điểm) */
} kt_bp_cell;

/* A candidate item: the caller passes approved items of the subject and
 * grade, one version per item (an item id appears at most once). */
typedef struct {
    int64_t item_id;
    int version;
    const char *const *tags; /* taxonomy codes: outcome, level, format, competencies */
    size_t ntags;
    int64_t uses;         /* times in earlier published tests; fewer is preferred */
    const char *stimulus; /* shared-stimulus group key, NULL if none */
    size_t noptions;
    const bool *option_fixed; /* noptions flags (QTI fixed="true"), NULL: none fixed */
    bool shuffle_options;     /* false: options keep their authored order */
} kt_asm_item;

typedef struct {
    size_t item;    /* index into the candidate array */
    size_t cell;    /* index into the blueprint */
    int64_t points; /* cells[cell].points */
    int part;       /* 1-based: Phần I is 1 */
} kt_asm_pick;

/* Parts are the blueprint's formats in order of first appearance. */
typedef struct {
    uint64_t seed; /* test seed given to kt_asm_select; forms derive theirs */
    size_t npicks;
    kt_asm_pick *picks; /* by part, then blueprint row, then candidate order */
    int nparts;
    size_t *part_cell;    /* part p is named by cells[part_cell[p - 1]].format */
    int64_t *part_points; /* part p totals part_points[p - 1] hundredths */
    int64_t total_points; /* hundredths */
} kt_asm_selection;

/* A blueprint row the bank cannot fill. */
typedef struct {
    size_t cell;      /* index into the blueprint */
    int needed;       /* cells[cell].count */
    size_t available; /* distinct candidates matching the row */
    int assignable;   /* how many the row gets when every other row is filled as far as it can be */
} kt_asm_shortage;

typedef struct {
    size_t item; /* index into the candidate array */
    size_t cell;
    int64_t points;
    int part;
    size_t noptions;
    size_t *perm; /* perm[k] = authored index of the option shown k-th; NULL when noptions == 0 */
} kt_asm_entry;

typedef struct {
    int code;      /* mã đề 100..999; set by kt_asm_make_forms, 0 from kt_asm_make_form */
    uint64_t seed; /* form seed: kt_asm_make_form with it rebuilds this form */
    size_t nentries;
    kt_asm_entry *entries; /* question order: entries[0] is câu 1 */
    size_t *perm_pool;     /* storage the entries' perm arrays point into */
} kt_asm_form;

typedef struct {
    size_t row;        /* 1-based blueprint row (cells[row - 1]); 0 for the whole test */
    char message[240]; /* Vietnamese */
} kt_asm_problem;

/* Checks the blueprint and the number of forms and lists every problem:
 * empty codes, count outside 1..200, points outside 1..1000, more than 200
 * items in total, forms outside 1..99. Returns 0 when clean, -1 otherwise;
 * *problems (possibly NULL) is freed by the caller either way. */
int kt_asm_validate(const kt_bp_cell *cells, size_t ncells, int forms, kt_asm_problem **problems,
                    size_t *nproblems);

/* An item fits a row when it carries the row's level tag, its format tag and
 * a tag equal to node or extending it at a dot (node "A.01" covers "A.01.02",
 * not "A.011"). Each item fills at most one slot. Among the feasible
 * assignments the least-used items win (equal uses in an order drawn from
 * seed); a feasible blueprint is never refused.
 * Returns 0 with *out filled; 1 when some row cannot be filled, with
 * *shortages listing exactly those rows (in blueprint order) and *out empty;
 * -1 when the blueprint is invalid (see kt_asm_validate). Free *out with
 * kt_asm_selection_free and *shortages with free() in every case. */
int kt_asm_select(const kt_bp_cell *cells, size_t ncells, const kt_asm_item *items, size_t nitems,
                  uint64_t seed, kt_asm_selection *out, kt_asm_shortage **shortages,
                  size_t *nshortages);

/* Whether the item fits the row by the rule of kt_asm_select (level tag,
 * format tag, and a tag equal to the node or extending it at a dot). */
bool kt_asm_fits(const kt_bp_cell *cell, const kt_asm_item *item);

/* The seed of form form_index (0-based) of a test. */
uint64_t kt_asm_form_seed(uint64_t test_seed, int form_index);

/* One form of the selection, from its own seed: parts in order; within a
 * part the items are shuffled, the selected members of a stimulus group
 * moving as one block in candidate order (a group split across parts is
 * kept together within each part); options are shuffled except fixed ones
 * and except in items with shuffle_options false. items must be the array
 * given to kt_asm_select. out->code is left 0 (the code is stored with the
 * form seed). Returns 0, or -1 if sel does not fit items. */
int kt_asm_make_form(const kt_asm_selection *sel, const kt_asm_item *items, size_t nitems,
                     uint64_t form_seed, kt_asm_form *out);

/* All forms of a test ("trộn đề"): every form holds the same selected items;
 * form f has seed kt_asm_form_seed(sel->seed, f) and a distinct 3-digit code
 * drawn from sel->seed (the code of form f does not depend on how many forms
 * are made). Returns 0 with *out an array of forms, or -1 (forms outside
 * 1..99, or sel does not fit items). Free with kt_asm_forms_free. */
int kt_asm_make_forms(const kt_asm_selection *sel, const kt_asm_item *items, size_t nitems,
                      int forms, kt_asm_form **out);

void kt_asm_selection_free(kt_asm_selection *sel);
void kt_asm_form_free(kt_asm_form *form);
void kt_asm_forms_free(kt_asm_form *forms, int n);

#endif
