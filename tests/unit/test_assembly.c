/*
 * Unit tests for engine/assembly.c: matching where greedy fails, least-used
 * preference, exact shortage numbers, node prefixes on dot boundaries,
 * stimulus groups kept contiguous, option permutations with fixed choices,
 * determinism and reproducible forms, mã đề codes, part order, validation.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "assembly.h"

#define NLC "DT.NLC"
#define DS "DT.DS"
#define TOPIC "VN18.TOAN.10.SDS.01"
#define OUT1 "VN18.TOAN.10.SDS.01.01.01"
#define OUT2 "VN18.TOAN.10.SDS.01.02.01"

#define MAXITEMS 64

static const char *tags[MAXITEMS][4];
static bool fixed[MAXITEMS][4];
static kt_asm_item items[MAXITEMS];
static size_t nitems;
static kt_asm_selection sel;
static kt_asm_shortage *shortages;
static size_t nshortages;
static kt_asm_form *forms;
static int nforms;

/* Adds a candidate tagged with outcome, level MD.B, format and a competency;
 * returns its index. */
static size_t
add(const char *outcome, const char *format, int64_t uses, const char *stimulus)
{
    cr_assert_lt(nitems, MAXITEMS);
    size_t i = nitems++;
    tags[i][0] = outcome;
    tags[i][1] = "MD.B";
    tags[i][2] = format;
    tags[i][3] = "NL.TOAN.MHH";
    items[i] = (kt_asm_item){.item_id = 1000 + (int64_t)i,
                             .version = 1,
                             .tags = tags[i],
                             .ntags = 4,
                             .uses = uses,
                             .stimulus = stimulus,
                             .noptions = 4,
                             .option_fixed = fixed[i],
                             .shuffle_options = true};
    return i;
}

static kt_bp_cell
cell(const char *node, const char *format, int count, int64_t points)
{
    return (kt_bp_cell){node, "MD.B", format, count, points};
}

static int
select_with(const kt_bp_cell *cells, size_t ncells, uint64_t seed)
{
    kt_asm_selection_free(&sel);
    free(shortages);
    return kt_asm_select(cells, ncells, items, nitems, seed, &sel, &shortages, &nshortages);
}

static void
make_forms(int n)
{
    kt_asm_forms_free(forms, nforms);
    nforms = n;
    cr_assert_eq(kt_asm_make_forms(&sel, items, nitems, n, &forms), 0);
}

/* The item chosen for row c (the row has count 1). */
static size_t
pick_of(size_t c)
{
    for (size_t k = 0; k < sel.npicks; k++)
        if (sel.picks[k].cell == c)
            return sel.picks[k].item;
    cr_assert_fail("row %zu has no pick", c);
    return 0;
}

static size_t
position(const kt_asm_form *f, size_t item)
{
    for (size_t e = 0; e < f->nentries; e++)
        if (f->entries[e].item == item)
            return e;
    cr_assert_fail("item %zu missing from form %d", item, f->code);
    return 0;
}

static bool
same_form(const kt_asm_form *a, const kt_asm_form *b)
{
    if (a->seed != b->seed || a->nentries != b->nentries)
        return false;
    for (size_t e = 0; e < a->nentries; e++) {
        const kt_asm_entry *x = &a->entries[e], *y = &b->entries[e];
        if (x->item != y->item || x->cell != y->cell || x->points != y->points ||
            x->part != y->part || x->noptions != y->noptions)
            return false;
        if (x->noptions && memcmp(x->perm, y->perm, x->noptions * sizeof(*x->perm)) != 0)
            return false;
    }
    return true;
}

static bool
same_order(const kt_asm_form *a, const kt_asm_form *b)
{
    for (size_t e = 0; e < a->nentries; e++)
        if (a->entries[e].item != b->entries[e].item)
            return false;
    return true;
}

static void
setup(void)
{
    nitems = 0;
    memset(fixed, 0, sizeof(fixed));
}

static void
teardown(void)
{
    kt_asm_selection_free(&sel);
    free(shortages);
    shortages = NULL;
    kt_asm_forms_free(forms, nforms);
    forms = NULL;
    nforms = 0;
}

TestSuite(assembly, .init = setup, .fini = teardown);

Test(assembly, matching_beats_greedy)
{
    /* X fits both rows and is the least used, so a greedy pass in row order
     * gives X to row 0 and leaves row 1 empty. */
    size_t x = add(OUT1, NLC, 0, NULL);
    size_t y = add(OUT2, NLC, 5, NULL);
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 1, 25), cell(OUT1, NLC, 1, 25)};
    for (uint64_t seed = 0; seed < 10; seed++) {
        cr_assert_eq(select_with(cells, 2, seed), 0, "seed %llu refused", (unsigned long long)seed);
        cr_assert_eq(sel.npicks, 2);
        cr_assert_eq(pick_of(0), y);
        cr_assert_eq(pick_of(1), x);
    }
}

Test(assembly, least_used_items_chosen)
{
    static const int64_t uses[] = {9, 3, 7, 0, 5, 1, 8, 2, 6, 4};
    for (size_t i = 0; i < 10; i++)
        add(i % 2 ? OUT1 : OUT2, NLC, uses[i], NULL);
    /* Row 1 takes OUT1 items only; together the rows need the 4 least used. */
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 2, 25), cell(OUT1, NLC, 2, 25)};
    for (uint64_t seed = 0; seed < 20; seed++) {
        cr_assert_eq(select_with(cells, 2, seed), 0);
        cr_assert_eq(sel.npicks, 4);
        bool chosen[10] = {false};
        for (size_t k = 0; k < sel.npicks; k++)
            chosen[sel.picks[k].item] = true;
        for (size_t i = 0; i < 10; i++)
            cr_assert_eq(chosen[i], uses[i] <= 3, "seed %llu: item %zu (uses %lld) chosen=%d",
                         (unsigned long long)seed, i, (long long)uses[i], chosen[i]);
    }
}

Test(assembly, equal_uses_broken_by_seed)
{
    for (size_t i = 0; i < 10; i++)
        add(OUT1, NLC, 0, NULL);
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 1, 25)};
    bool seen[10] = {false};
    size_t distinct = 0;
    for (uint64_t seed = 0; seed < 40; seed++) {
        cr_assert_eq(select_with(cells, 1, seed), 0);
        size_t i = pick_of(0);
        distinct += !seen[i];
        seen[i] = true;
    }
    cr_assert_geq(distinct, 5, "only %zu different items over 40 seeds", distinct);
}

Test(assembly, shortage_numbers_exact)
{
    add(OUT1, NLC, 0, NULL); /* fits both rows */
    add(OUT1, NLC, 0, NULL); /* fits both rows */
    add(OUT2, NLC, 0, NULL); /* fits row 0 only */
    add(OUT1, DS, 0, NULL);  /* wrong format: fits neither */
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 3, 25), cell(OUT1, NLC, 2, 25)};
    cr_assert_eq(select_with(cells, 2, 7), 1);
    cr_assert_eq(sel.npicks, 0);
    cr_assert_eq(nshortages, 2);
    /* Row 0: 3 fit, but with row 1 served (2 items) only 1 is left for it. */
    cr_assert_eq(shortages[0].cell, 0);
    cr_assert_eq(shortages[0].needed, 3);
    cr_assert_eq(shortages[0].available, 3);
    cr_assert_eq(shortages[0].assignable, 1);
    /* Row 1: 2 fit, and row 0 alone can absorb all three, so none is left. */
    cr_assert_eq(shortages[1].cell, 1);
    cr_assert_eq(shortages[1].needed, 2);
    cr_assert_eq(shortages[1].available, 2);
    cr_assert_eq(shortages[1].assignable, 0);
}

Test(assembly, shortage_lists_only_unfillable_rows)
{
    add(OUT2, NLC, 0, NULL);
    add(OUT1, NLC, 0, NULL);
    add(OUT1, NLC, 0, NULL);
    kt_bp_cell cells[] = {cell(OUT2, NLC, 1, 25), cell(OUT1, NLC, 3, 25), cell(OUT1, DS, 1, 100)};
    cr_assert_eq(select_with(cells, 3, 1), 1);
    cr_assert_eq(nshortages, 2);
    cr_assert_eq(shortages[0].cell, 1);
    cr_assert_eq(shortages[0].needed, 3);
    cr_assert_eq(shortages[0].available, 2);
    cr_assert_eq(shortages[0].assignable, 2);
    cr_assert_eq(shortages[1].cell, 2);
    cr_assert_eq(shortages[1].needed, 1);
    cr_assert_eq(shortages[1].available, 0);
    cr_assert_eq(shortages[1].assignable, 0);
}

Test(assembly, node_prefix_on_dot_boundary)
{
    size_t wrong = add("VN18.TOAN.10.SDS.011", NLC, 0, NULL);
    size_t right = add(OUT2, NLC, 9, NULL);
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 1, 25)};
    cr_assert_eq(select_with(cells, 1, 3), 0);
    cr_assert_eq(pick_of(0), right);

    kt_bp_cell exact[] = {cell("VN18.TOAN.10.SDS.011", NLC, 1, 25)};
    cr_assert_eq(select_with(exact, 1, 3), 0);
    cr_assert_eq(pick_of(0), wrong);

    kt_bp_cell two[] = {cell(TOPIC, NLC, 2, 25)};
    cr_assert_eq(select_with(two, 1, 3), 1);
    cr_assert_eq(nshortages, 1);
    cr_assert_eq(shortages[0].available, 1);

    kt_bp_cell level[] = {{TOPIC, "MD.H", NLC, 1, 25}};
    cr_assert_eq(select_with(level, 1, 3), 1);
    cr_assert_eq(shortages[0].available, 0);
}

/* Every selected member of each group is contiguous, in candidate order. */
static void
assert_groups_contiguous(const kt_asm_form *f, const size_t *const *groups, const size_t *sizes,
                         size_t ngroups, uint64_t seed)
{
    for (size_t g = 0; g < ngroups; g++) {
        size_t first = position(f, groups[g][0]);
        for (size_t m = 1; m < sizes[g]; m++)
            cr_assert_eq(position(f, groups[g][m]), first + m,
                         "seed %llu form %d: group %zu member %zu at %zu, expected %zu",
                         (unsigned long long)seed, f->code, g, m, position(f, groups[g][m]),
                         first + m);
    }
}

Test(assembly, stimulus_groups_contiguous_in_every_form)
{
    size_t p2a = add(OUT1, NLC, 0, "P2");
    add(OUT1, NLC, 0, NULL);
    size_t p1a = add(OUT1, NLC, 0, "P1");
    add(OUT2, NLC, 0, NULL);
    add(OUT1, NLC, 0, NULL);
    size_t p1b = add(OUT2, NLC, 0, "P1"); /* another row, same part */
    add(OUT1, NLC, 0, NULL);
    size_t p1c = add(OUT1, NLC, 0, "P1");
    add(OUT1, NLC, 0, NULL);
    size_t p2b = add(OUT1, NLC, 0, "P2");
    /* Part II: group P3 has three members, only two are least used. */
    size_t p3a = add(OUT1, DS, 0, "P3");
    add(OUT1, DS, 9, "P3");
    add(OUT1, DS, 0, NULL);
    size_t p3c = add(OUT1, DS, 0, "P3");
    add(OUT1, DS, 0, NULL);
    kt_bp_cell cells[] = {cell(OUT1, NLC, 8, 25), cell(OUT2, NLC, 2, 25), cell(OUT1, DS, 4, 100)};
    const size_t g1[] = {p1a, p1b, p1c}, g2[] = {p2a, p2b}, g3[] = {p3a, p3c};
    const size_t *groups[] = {g1, g2, g3};
    const size_t sizes[] = {3, 2, 2};
    size_t moved = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        cr_assert_eq(select_with(cells, 3, seed), 0);
        cr_assert_eq(sel.npicks, 14);
        make_forms(4);
        for (int f = 0; f < nforms; f++) {
            assert_groups_contiguous(&forms[f], groups, sizes, 3, seed);
            moved += position(&forms[f], p1a) != 2;
        }
    }
    cr_assert_gt(moved, 100, "the P1 block barely moves (%zu of 200)", moved);
}

Test(assembly, option_permutations)
{
    size_t keep_last = add(OUT1, NLC, 0, NULL);
    fixed[keep_last][3] = true; /* "Cả ba đáp án trên" stays last */
    size_t keep_two = add(OUT1, NLC, 0, NULL);
    fixed[keep_two][0] = fixed[keep_two][2] = true;
    size_t authored = add(OUT1, NLC, 0, NULL);
    items[authored].shuffle_options = false;
    size_t free_all = add(OUT1, NLC, 0, NULL);
    items[free_all].option_fixed = NULL;
    size_t none = add(OUT1, NLC, 0, NULL);
    items[none].noptions = 0;
    kt_bp_cell cells[] = {cell(OUT1, NLC, 5, 25)};
    cr_assert_eq(select_with(cells, 1, 11), 0);
    size_t moved[MAXITEMS] = {0};
    for (uint64_t seed = 0; seed < 50; seed++) {
        kt_asm_form f;
        cr_assert_eq(kt_asm_make_form(&sel, items, nitems, seed, &f), 0);
        cr_assert_eq(f.nentries, 5);
        for (size_t e = 0; e < f.nentries; e++) {
            const kt_asm_entry *en = &f.entries[e];
            const kt_asm_item *it = &items[en->item];
            cr_assert_eq(en->noptions, it->noptions);
            if (!en->noptions) {
                cr_assert_null(en->perm);
                continue;
            }
            bool seen[4] = {false};
            for (size_t k = 0; k < en->noptions; k++) {
                cr_assert_lt(en->perm[k], en->noptions);
                cr_assert_not(seen[en->perm[k]], "item %zu: option %zu twice", en->item,
                              en->perm[k]);
                seen[en->perm[k]] = true;
                if (!it->shuffle_options || (it->option_fixed && it->option_fixed[k]))
                    cr_assert_eq(en->perm[k], k, "item %zu option %zu moved", en->item, k);
                moved[en->item] += en->perm[k] != k;
            }
        }
        kt_asm_form_free(&f);
    }
    cr_assert_gt(moved[keep_last], 0);
    cr_assert_gt(moved[keep_two], 0);
    cr_assert_gt(moved[free_all], 0);
}

Test(assembly, deterministic_and_reproducible)
{
    for (size_t i = 0; i < 12; i++)
        add(i % 3 ? OUT1 : OUT2, i < 8 ? NLC : DS, (int64_t)(i % 4), i == 4 || i == 6 ? "S" : NULL);
    kt_bp_cell cells[] = {cell(TOPIC, NLC, 6, 25), cell(TOPIC, DS, 3, 100)};
    cr_assert_eq(select_with(cells, 2, 42), 0);
    kt_asm_selection first = sel;
    memset(&sel, 0, sizeof(sel));
    cr_assert_eq(select_with(cells, 2, 42), 0);
    cr_assert_eq(first.npicks, sel.npicks);
    cr_assert_eq(memcmp(first.picks, sel.picks, sel.npicks * sizeof(*sel.picks)), 0);
    kt_asm_selection_free(&first);

    make_forms(6);
    kt_asm_form *again;
    cr_assert_eq(kt_asm_make_forms(&sel, items, nitems, 6, &again), 0);
    for (int k = 0; k < 6; k++) {
        cr_assert_eq(forms[k].seed, kt_asm_form_seed(42, k));
        cr_assert_eq(forms[k].code, again[k].code);
        cr_assert(same_form(&forms[k], &again[k]), "form %d differs between runs", k);
        kt_asm_form one;
        cr_assert_eq(kt_asm_make_form(&sel, items, nitems, forms[k].seed, &one), 0);
        cr_assert(same_form(&forms[k], &one), "form %d not rebuilt from its seed", k);
        kt_asm_form_free(&one);
    }
    kt_asm_forms_free(again, 6);
    cr_assert_neq(kt_asm_form_seed(42, 0), kt_asm_form_seed(42, 1));
    cr_assert_neq(kt_asm_form_seed(42, 0), kt_asm_form_seed(43, 0));
}

Test(assembly, different_seeds_different_orders)
{
    for (size_t i = 0; i < 10; i++)
        add(OUT1, NLC, 0, NULL);
    kt_bp_cell cells[] = {cell(OUT1, NLC, 10, 25)};
    kt_asm_form f[5];
    for (uint64_t seed = 0; seed < 5; seed++) {
        cr_assert_eq(select_with(cells, 1, seed), 0);
        cr_assert_eq(kt_asm_make_form(&sel, items, nitems, kt_asm_form_seed(seed, 0), &f[seed]), 0);
    }
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            cr_assert_not(same_order(&f[a], &f[b]), "seeds %d and %d give one order", a, b);
    for (int a = 0; a < 5; a++)
        kt_asm_form_free(&f[a]);

    make_forms(5); /* and the forms of one test differ from each other */
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            cr_assert_not(same_order(&forms[a], &forms[b]), "forms %d and %d share an order", a, b);
}

Test(assembly, distinct_codes_for_99_forms)
{
    add(OUT1, NLC, 0, NULL);
    kt_bp_cell cells[] = {cell(OUT1, NLC, 1, 25)};
    cr_assert_eq(select_with(cells, 1, 2025), 0);
    make_forms(99);
    bool seen[1000] = {false};
    for (int f = 0; f < 99; f++) {
        cr_assert(forms[f].code >= 100 && forms[f].code <= 999, "code %d", forms[f].code);
        cr_assert_not(seen[forms[f].code], "code %d twice", forms[f].code);
        seen[forms[f].code] = true;
    }
    kt_asm_form *few;
    cr_assert_eq(kt_asm_make_forms(&sel, items, nitems, 3, &few), 0);
    for (int f = 0; f < 3; f++)
        cr_assert_eq(few[f].code, forms[f].code);
    kt_asm_forms_free(few, 3);
    cr_assert_eq(kt_asm_make_forms(&sel, items, nitems, 100, &few), -1);
    cr_assert_eq(kt_asm_make_forms(&sel, items, nitems, 0, &few), -1);
}

Test(assembly, parts_follow_blueprint_formats)
{
    for (size_t i = 0; i < 6; i++)
        add(OUT1, NLC, 0, NULL);
    for (size_t i = 0; i < 4; i++)
        add(OUT1, DS, 0, NULL);
    for (size_t i = 0; i < 3; i++)
        add(OUT2, NLC, 0, NULL);
    /* NLC first, then DS, then NLC again: the last row joins part 1. */
    kt_bp_cell cells[] = {cell(OUT1, NLC, 6, 25), cell(OUT1, DS, 4, 100), cell(OUT2, NLC, 3, 50)};
    cr_assert_eq(select_with(cells, 3, 5), 0);
    cr_assert_eq(sel.nparts, 2);
    cr_assert_eq(sel.part_cell[0], 0);
    cr_assert_eq(sel.part_cell[1], 1);
    cr_assert_eq(sel.part_points[0], 300); /* 6 × 0,25 + 3 × 0,50 */
    cr_assert_eq(sel.part_points[1], 400); /* 4 × 1,00 */
    cr_assert_eq(sel.total_points, 700);
    make_forms(10);
    for (int f = 0; f < nforms; f++) {
        cr_assert_eq(forms[f].nentries, 13);
        for (size_t e = 0; e < forms[f].nentries; e++) {
            const kt_asm_entry *en = &forms[f].entries[e];
            const char *format = cells[en->cell].format;
            cr_assert_str_eq(format, e < 9 ? NLC : DS, "form %d câu %zu is %s", f, e + 1, format);
            cr_assert_eq(en->part, e < 9 ? 1 : 2);
            cr_assert_eq(en->points, cells[en->cell].points);
        }
    }
}

Test(assembly, validation_lists_every_bad_row)
{
    kt_bp_cell cells[] = {
        cell(OUT1, NLC, 4, 25),   {"", "MD.B", NLC, 1, 25}, cell(OUT1, NLC, 0, 25),
        {OUT1, NULL, "", 201, 0}, cell(OUT1, DS, 2, 1001),
    };
    kt_asm_problem *ps;
    size_t n;
    cr_assert_eq(kt_asm_validate(cells, 5, 100, &ps, &n), -1);
    static const struct {
        size_t row;
        const char *message;
    } want[] = {
        {2, "Dòng 2 của ma trận: thiếu mã yêu cầu cần đạt hoặc chủ đề."},
        {3, "Dòng 3 của ma trận: số câu phải từ 1 đến 200."},
        {4, "Dòng 4 của ma trận: thiếu mức độ (ví dụ MD.B)."},
        {4, "Dòng 4 của ma trận: thiếu dạng câu hỏi (ví dụ DT.NLC)."},
        {4, "Dòng 4 của ma trận: số câu phải từ 1 đến 200."},
        {4, "Dòng 4 của ma trận: điểm mỗi câu phải từ 0,01 đến 10."},
        {5, "Dòng 5 của ma trận: điểm mỗi câu phải từ 0,01 đến 10."},
        {0, "Số mã đề phải từ 1 đến 99."},
    };
    cr_assert_eq(n, sizeof(want) / sizeof(want[0]), "%zu problems", n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(ps[i].row, want[i].row, "problem %zu: %s", i, ps[i].message);
        cr_assert_str_eq(ps[i].message, want[i].message);
    }
    free(ps);

    kt_bp_cell big[] = {cell(OUT1, NLC, 150, 25), cell(OUT2, NLC, 60, 25)};
    cr_assert_eq(kt_asm_validate(big, 2, 4, &ps, &n), -1);
    cr_assert_eq(n, 1);
    cr_assert_eq(ps[0].row, 0);
    cr_assert_str_eq(ps[0].message, "Ma trận có 210 câu; một đề có nhiều nhất 200 câu.");
    free(ps);

    cr_assert_eq(kt_asm_validate(big, 0, 4, &ps, &n), -1);
    cr_assert_str_eq(ps[0].message, "Ma trận đề chưa có dòng nào.");
    free(ps);

    cr_assert_eq(kt_asm_validate(big, 1, 99, &ps, &n), 0);
    cr_assert_eq(n, 0);
    free(ps);

    add(OUT1, NLC, 0, NULL);
    cr_assert_eq(select_with(cells, 5, 1), -1);
    cr_assert_eq(nshortages, 0);
}
