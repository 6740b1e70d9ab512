/*
 * Test assembly (ráp đề từ ma trận): blueprint validation, item selection as
 * a maximum bipartite matching between candidates and blueprint slots (Kuhn's
 * augmenting paths, candidates tried least-used first), the per-row shortage
 * report, and form layout (trộn đề: part order fixed, items and options
 * shuffled from a per-form seed). Pure: no I/O, no clock, no globals.
 */
#include "assembly.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prng.h"

#define NONE SIZE_MAX
#define NCODES 900                          /* mã đề 100..999 */
#define GOLDEN UINT64_C(0x9e3779b97f4a7c15) /* 2^64 / golden ratio */
#define CODE_DOMAIN UINT64_C(0x6d61206465)  /* "ma de": keeps the code stream apart */

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static bool
empty(const char *s)
{
    return !s || !*s;
}

/* splitmix64's finaliser: a bijective mix of all 64 bits. */
static uint64_t
mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void
shuffle(kt_prng *p, size_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)kt_prng_below(p, i), t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ------------------------------------------------------------------------ */
/* Validation                                                               */

struct problems {
    kt_asm_problem *v;
    size_t n, cap;
};

static void
problem(struct problems *ps, size_t row, const char *fmt, ...)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 8;
        if (!(ps->v = realloc(ps->v, ps->cap * sizeof(*ps->v))))
            abort();
    }
    kt_asm_problem *p = &ps->v[ps->n++];
    p->row = row;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof(p->message), fmt, ap);
    va_end(ap);
}

int
kt_asm_validate(const kt_bp_cell *cells, size_t ncells, int forms, kt_asm_problem **problems,
                size_t *nproblems)
{
    struct problems ps = {0};
    long long total = 0;
    if (ncells == 0)
        problem(&ps, 0, "Ma trận đề chưa có dòng nào.");
    for (size_t i = 0; i < ncells; i++) {
        const kt_bp_cell *c = &cells[i];
        size_t row = i + 1;
        if (empty(c->node))
            problem(&ps, row, "Dòng %zu của ma trận: thiếu mã yêu cầu cần đạt hoặc chủ đề.", row);
        if (empty(c->level))
            problem(&ps, row, "Dòng %zu của ma trận: thiếu mức độ (ví dụ MD.B).", row);
        if (empty(c->format))
            problem(&ps, row, "Dòng %zu của ma trận: thiếu dạng câu hỏi (ví dụ DT.NLC).", row);
        if (c->count < 1 || c->count > KT_ASM_MAX_COUNT)
            problem(&ps, row, "Dòng %zu của ma trận: số câu phải từ 1 đến %d.", row,
                    KT_ASM_MAX_COUNT);
        else
            total += c->count;
        if (c->points < 1 || c->points > KT_ASM_MAX_POINTS)
            problem(&ps, row, "Dòng %zu của ma trận: điểm mỗi câu phải từ 0,01 đến %d.", row,
                    KT_ASM_MAX_POINTS / 100);
    }
    if (total > KT_ASM_MAX_COUNT)
        problem(&ps, 0, "Ma trận có %lld câu; một đề có nhiều nhất %d câu.", total,
                KT_ASM_MAX_COUNT);
    if (forms < 1 || forms > KT_ASM_MAX_FORMS)
        problem(&ps, 0, "Số mã đề phải từ 1 đến %d.", KT_ASM_MAX_FORMS);
    *problems = ps.v;
    *nproblems = ps.n;
    return ps.n ? -1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Matching                                                                 */

/* Candidates on one side, blueprint rows on the other. A row with count k is
 * k interchangeable slots; marking a row visited when a search first reaches
 * it is the same as marking all its slots, so the search runs over rows. */
struct match {
    size_t ncells;
    const kt_bp_cell *cells;
    size_t *adj_off; /* item i fits rows adj[adj_off[i] .. adj_off[i + 1]) */
    size_t *adj;
    size_t *slot_off; /* row c's slots are slots[slot_off[c] ..], fill[c] of them used */
    size_t *slots;    /* item in each used slot */
    size_t *fill;
    size_t *assigned; /* per item: its row, or NONE */
    bool *visited;    /* per row, reset before each augmenting search */
    size_t disabled;  /* row left out (for the shortage report), or NONE */
};

static bool
fits_node(const char *node, const char *tag)
{
    size_t n = strlen(node);
    return strncmp(tag, node, n) == 0 && (tag[n] == '\0' || tag[n] == '.');
}

bool
kt_asm_fits(const kt_bp_cell *c, const kt_asm_item *it)
{
    bool level = false, format = false, node = false;
    for (size_t t = 0; t < it->ntags; t++) {
        const char *tag = it->tags[t];
        if (!tag)
            continue;
        level = level || strcmp(tag, c->level) == 0;
        format = format || strcmp(tag, c->format) == 0;
        node = node || fits_node(c->node, tag);
    }
    return level && format && node;
}

/* Looks for an augmenting path from item i; on success i holds a slot and
 * every item displaced on the way holds another one. Depth <= ncells. */
static bool
augment(struct match *m, size_t i)
{
    for (size_t k = m->adj_off[i]; k < m->adj_off[i + 1]; k++) {
        size_t c = m->adj[k];
        if (c == m->disabled || m->visited[c])
            continue;
        m->visited[c] = true;
        size_t *slot = m->slots + m->slot_off[c];
        if (m->fill[c] < (size_t)m->cells[c].count) {
            slot[m->fill[c]++] = i;
            m->assigned[i] = c;
            return true;
        }
        for (size_t s = 0; s < m->fill[c]; s++) {
            if (augment(m, slot[s])) {
                slot[s] = i;
                m->assigned[i] = c;
                return true;
            }
        }
    }
    return false;
}

/* One pass of Kuhn's algorithm over the unassigned items in `order`, stopping
 * once `target` slots are used; returns the number of augmentations. A single
 * pass suffices: an item with no augmenting path never gains one later. */
static size_t
run(struct match *m, const size_t *order, size_t n, size_t matched, size_t target)
{
    size_t gained = 0;
    for (size_t k = 0; k < n && matched + gained < target; k++) {
        size_t i = order[k];
        if (m->assigned[i] != NONE || m->adj_off[i] == m->adj_off[i + 1])
            continue;
        memset(m->visited, 0, m->ncells * sizeof(*m->visited));
        if (augment(m, i))
            gained++;
    }
    return gained;
}

struct rank {
    int64_t uses;
    uint64_t key; /* seeded tie-break */
    size_t index;
};

static int
cmp_rank(const void *a, const void *b)
{
    const struct rank *x = a, *y = b;
    if (x->uses != y->uses)
        return x->uses < y->uses ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int
cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes the rows the bank cannot fill to out. For row c, assignable is
 * M(all) - M(all rows but c), M being the maximum matching size: what c keeps
 * when the other rows are served first. It does not depend on tie-breaks,
 * and every row short in some maximum matching has assignable < needed. */
static size_t
shortages_of(struct match *m, const size_t *order, size_t nitems, size_t matched, size_t nslots,
             kt_asm_shortage *out)
{
    size_t n = 0;
    size_t *slots = xcalloc(nslots, sizeof(*slots)), *fill = xcalloc(m->ncells, sizeof(*fill));
    size_t *assigned = xcalloc(nitems, sizeof(*assigned));
    for (size_t c = 0; c < m->ncells; c++) {
        memcpy(slots, m->slots, nslots * sizeof(*slots));
        memcpy(fill, m->fill, m->ncells * sizeof(*fill));
        memcpy(assigned, m->assigned, nitems * sizeof(*assigned));
        struct match without = *m;
        without.slots = slots;
        without.fill = fill;
        without.assigned = assigned;
        without.disabled = c;
        for (size_t s = 0; s < fill[c]; s++)
            assigned[slots[m->slot_off[c] + s]] = NONE;
        size_t kept = fill[c];
        fill[c] = 0;
        size_t others = nslots - (size_t)m->cells[c].count;
        size_t regained = run(&without, order, nitems, matched - kept, others);
        int assignable = (int)(kept - regained);
        if (assignable < m->cells[c].count) {
            size_t available = 0;
            for (size_t i = 0; i < nitems; i++)
                for (size_t k = m->adj_off[i]; k < m->adj_off[i + 1]; k++)
                    available += m->adj[k] == c;
            out[n++] = (kt_asm_shortage){c, m->cells[c].count, available, assignable};
        }
    }
    free(slots);
    free(fill);
    free(assigned);
    return n;
}

static void
build_selection(const struct match *m, uint64_t seed, kt_asm_selection *out)
{
    const kt_bp_cell *cells = m->cells;
    size_t *part_of = xcalloc(m->ncells, sizeof(*part_of));
    out->seed = seed;
    out->part_cell = xcalloc(m->ncells, sizeof(*out->part_cell));
    for (size_t c = 0; c < m->ncells; c++) {
        size_t p = 0;
        while (p < (size_t)out->nparts &&
               strcmp(cells[out->part_cell[p]].format, cells[c].format) != 0)
            p++;
        if (p == (size_t)out->nparts)
            out->part_cell[out->nparts++] = c;
        part_of[c] = p;
        out->npicks += m->fill[c];
    }
    out->part_points = xcalloc((size_t)out->nparts, sizeof(*out->part_points));
    out->picks = xcalloc(out->npicks, sizeof(*out->picks));
    size_t n = 0;
    for (size_t p = 0; p < (size_t)out->nparts; p++) {
        for (size_t c = 0; c < m->ncells; c++) {
            if (part_of[c] != p)
                continue;
            size_t *slot = m->slots + m->slot_off[c];
            qsort(slot, m->fill[c], sizeof(*slot), cmp_size);
            for (size_t s = 0; s < m->fill[c]; s++)
                out->picks[n++] = (kt_asm_pick){slot[s], c, cells[c].points, (int)p + 1};
            out->part_points[p] += cells[c].points * (int64_t)m->fill[c];
        }
        out->total_points += out->part_points[p];
    }
    free(part_of);
}

int
kt_asm_select(const kt_bp_cell *cells, size_t ncells, const kt_asm_item *items, size_t nitems,
              uint64_t seed, kt_asm_selection *out, kt_asm_shortage **shortages, size_t *nshortages)
{
    memset(out, 0, sizeof(*out));
    *shortages = NULL;
    *nshortages = 0;
    kt_asm_problem *problems;
    size_t nproblems;
    int invalid = kt_asm_validate(cells, ncells, 1, &problems, &nproblems);
    free(problems);
    if (invalid)
        return -1;

    struct match m = {.ncells = ncells, .cells = cells, .disabled = NONE};
    m.adj_off = xcalloc(nitems + 1, sizeof(*m.adj_off));
    size_t nadj = 0, cap = 64;
    m.adj = xcalloc(cap, sizeof(*m.adj));
    for (size_t i = 0; i < nitems; i++) {
        for (size_t c = 0; c < ncells; c++) {
            if (!kt_asm_fits(&cells[c], &items[i]))
                continue;
            if (nadj == cap) {
                cap *= 2;
                if (!(m.adj = realloc(m.adj, cap * sizeof(*m.adj))))
                    abort();
            }
            m.adj[nadj++] = c;
        }
        m.adj_off[i + 1] = nadj;
    }
    m.slot_off = xcalloc(ncells, sizeof(*m.slot_off));
    size_t nslots = 0;
    for (size_t c = 0; c < ncells; c++) {
        m.slot_off[c] = nslots;
        nslots += (size_t)cells[c].count;
    }
    m.slots = xcalloc(nslots, sizeof(*m.slots));
    m.fill = xcalloc(ncells, sizeof(*m.fill));
    m.assigned = xcalloc(nitems, sizeof(*m.assigned));
    for (size_t i = 0; i < nitems; i++)
        m.assigned[i] = NONE;
    m.visited = xcalloc(ncells, sizeof(*m.visited));

    /* Least used first; equal uses in an order drawn from the seed. */
    struct rank *ranks = xcalloc(nitems, sizeof(*ranks));
    kt_prng p;
    kt_prng_seed(&p, seed);
    for (size_t i = 0; i < nitems; i++)
        ranks[i] = (struct rank){items[i].uses, kt_prng_next(&p), i};
    qsort(ranks, nitems, sizeof(*ranks), cmp_rank);
    size_t *order = xcalloc(nitems, sizeof(*order));
    for (size_t i = 0; i < nitems; i++)
        order[i] = ranks[i].index;
    free(ranks);

    size_t matched = run(&m, order, nitems, 0, nslots);
    int rc = 0;
    if (matched == nslots) {
        build_selection(&m, seed, out);
    } else {
        *shortages = xcalloc(ncells, sizeof(**shortages));
        *nshortages = shortages_of(&m, order, nitems, matched, nslots, *shortages);
        rc = 1;
    }
    free(order);
    free(m.adj_off);
    free(m.adj);
    free(m.slot_off);
    free(m.slots);
    free(m.fill);
    free(m.assigned);
    free(m.visited);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Forms                                                                    */

uint64_t
kt_asm_form_seed(uint64_t test_seed, int form_index)
{
    return mix64(test_seed + GOLDEN * ((uint64_t)form_index + 1));
}

static bool
same_group(const kt_asm_item *a, const kt_asm_item *b)
{
    return a->stimulus && b->stimulus && strcmp(a->stimulus, b->stimulus) == 0;
}

/* Options of one item: fixed ones stay, the others are shuffled among the
 * positions left free. */
static void
permute_options(kt_prng *p, const kt_asm_item *it, size_t *perm)
{
    size_t nfree = 0;
    for (size_t k = 0; k < it->noptions; k++) {
        perm[k] = k;
        nfree += !(it->option_fixed && it->option_fixed[k]);
    }
    if (!it->shuffle_options || nfree < 2)
        return;
    size_t *free_opts = xcalloc(nfree, sizeof(*free_opts));
    size_t n = 0;
    for (size_t k = 0; k < it->noptions; k++)
        if (!(it->option_fixed && it->option_fixed[k]))
            free_opts[n++] = k;
    shuffle(p, free_opts, nfree);
    n = 0;
    for (size_t k = 0; k < it->noptions; k++)
        if (!(it->option_fixed && it->option_fixed[k]))
            perm[k] = free_opts[n++];
    free(free_opts);
}

/* Insertion sort of pick indices by candidate index (blocks are small). */
static void
sort_by_item(const kt_asm_selection *sel, size_t *block, size_t n)
{
    for (size_t x = 1; x < n; x++)
        for (size_t y = x; y > 0 && sel->picks[block[y]].item < sel->picks[block[y - 1]].item;
             y--) {
            size_t t = block[y];
            block[y] = block[y - 1];
            block[y - 1] = t;
        }
}

int
kt_asm_make_form(const kt_asm_selection *sel, const kt_asm_item *items, size_t nitems,
                 uint64_t form_seed, kt_asm_form *out)
{
    memset(out, 0, sizeof(*out));
    size_t npool = 0;
    for (size_t k = 0; k < sel->npicks; k++) {
        const kt_asm_pick *pk = &sel->picks[k];
        if (pk->item >= nitems || pk->part < 1 || pk->part > sel->nparts)
            return -1;
        npool += items[pk->item].noptions;
    }
    out->seed = form_seed;
    out->entries = xcalloc(sel->npicks, sizeof(*out->entries));
    out->perm_pool = xcalloc(npool, sizeof(*out->perm_pool));
    size_t *part = xcalloc(sel->npicks, sizeof(*part));   /* picks of the part at hand */
    size_t *units = xcalloc(sel->npicks, sizeof(*units)); /* first pick of each block */
    size_t *block = xcalloc(sel->npicks, sizeof(*block)); /* picks of one block, candidate order */
    kt_prng p;
    kt_prng_seed(&p, form_seed);

    for (int pt = 1; pt <= sel->nparts; pt++) {
        size_t n = 0, nunits = 0;
        for (size_t k = 0; k < sel->npicks; k++)
            if (sel->picks[k].part == pt)
                part[n++] = k;
        for (size_t a = 0; a < n; a++) {
            size_t b = 0;
            while (b < a &&
                   !same_group(&items[sel->picks[part[a]].item], &items[sel->picks[part[b]].item]))
                b++;
            if (b == a)
                units[nunits++] = part[a];
        }
        shuffle(&p, units, nunits);
        for (size_t u = 0; u < nunits; u++) {
            const kt_asm_item *head = &items[sel->picks[units[u]].item];
            size_t nblock = 0;
            for (size_t a = 0; a < n; a++)
                if (part[a] == units[u] || same_group(head, &items[sel->picks[part[a]].item]))
                    block[nblock++] = part[a];
            sort_by_item(sel, block, nblock);
            for (size_t x = 0; x < nblock; x++) {
                const kt_asm_pick *pk = &sel->picks[block[x]];
                out->entries[out->nentries++] =
                    (kt_asm_entry){pk->item, pk->cell, pk->points, pk->part, 0, NULL};
            }
        }
    }

    size_t used = 0;
    for (size_t e = 0; e < out->nentries; e++) {
        kt_asm_entry *en = &out->entries[e];
        const kt_asm_item *it = &items[en->item];
        en->noptions = it->noptions;
        if (!it->noptions)
            continue;
        en->perm = out->perm_pool + used;
        used += it->noptions;
        permute_options(&p, it, en->perm);
    }
    free(part);
    free(units);
    free(block);
    return 0;
}

int
kt_asm_make_forms(const kt_asm_selection *sel, const kt_asm_item *items, size_t nitems, int forms,
                  kt_asm_form **out)
{
    *out = NULL;
    if (forms < 1 || forms > KT_ASM_MAX_FORMS)
        return -1;
    kt_asm_form *f = xcalloc((size_t)forms, sizeof(*f));
    /* Partial Fisher-Yates over 100..999: codes distinct, and form i's code
     * fixed by the first i + 1 draws. */
    size_t codes[NCODES];
    for (size_t c = 0; c < NCODES; c++)
        codes[c] = 100 + c;
    kt_prng p;
    kt_prng_seed(&p, mix64(sel->seed ^ CODE_DOMAIN));
    for (int i = 0; i < forms; i++) {
        size_t j = (size_t)i + (size_t)kt_prng_below(&p, NCODES - (size_t)i), t = codes[i];
        codes[i] = codes[j];
        codes[j] = t;
        if (kt_asm_make_form(sel, items, nitems, kt_asm_form_seed(sel->seed, i), &f[i])) {
            kt_asm_forms_free(f, i);
            return -1;
        }
        f[i].code = (int)codes[i];
    }
    *out = f;
    return 0;
}

void
kt_asm_selection_free(kt_asm_selection *sel)
{
    free(sel->picks);
    free(sel->part_cell);
    free(sel->part_points);
    memset(sel, 0, sizeof(*sel));
}

void
kt_asm_form_free(kt_asm_form *form)
{
    free(form->entries);
    free(form->perm_pool);
    memset(form, 0, sizeof(*form));
}

void
kt_asm_forms_free(kt_asm_form *forms, int n)
{
    if (!forms)
        return;
    for (int i = 0; i < n; i++)
        kt_asm_form_free(&forms[i]);
    free(forms);
}
