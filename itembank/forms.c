/*
 * Forms of a test: blueprint rows from JSON, assembly of the selection and
 * the forms (engine/assembly.c), the test_items rows and each form's student
 * payload (parts, items in form order, options permuted, content only).
 */
#include "forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "item.h"

static void
problem(json_t *problems, const char *field, const char *message)
{
    json_array_append_new(problems, json_pack("{s:s,s:s}", "field", field, "message", message));
}

int64_t
kt_forms_points(const json_t *v)
{
    char buf[32];
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_real(v)) {
        kt_decimal d;
        if (kt_decimal_from_double(json_real_value(v), &d) < 0)
            return -1;
        kt_decimal_format(d, '.', buf, sizeof(buf));
        s = buf;
    }
    kt_decimal d;
    if (!s || kt_decimal_parse(s, &d) < 0 || d.units <= 0 || d.units % (KT_DECIMAL_SCALE / 100))
        return -1;
    return d.units / (KT_DECIMAL_SCALE / 100);
}

kt_bp_cell *
kt_forms_cells(const json_t *bp, int forms, json_t *problems, size_t *ncells)
{
    *ncells = json_array_size(bp);
    if (!json_is_array(bp) || *ncells == 0) {
        problem(problems, "blueprint", "Ma trận đề phải có ít nhất một dòng.");
        return NULL;
    }
    kt_bp_cell *cells = calloc(*ncells, sizeof(*cells));
    if (!cells)
        abort();
    size_t i;
    const json_t *row;
    char field[64];
    json_array_foreach(bp, i, row)
    {
        const char *node = json_string_value(json_object_get(row, "node"));
        const char *level = json_string_value(json_object_get(row, "level"));
        const char *format = json_string_value(json_object_get(row, "format"));
        json_t *count = json_object_get(row, "count");
        snprintf(field, sizeof(field), "blueprint[%zu].node", i);
        if (!node || !kt_item_code_valid(node))
            problem(problems, field, "Mã nội dung (node) phải là một mã của chương trình.");
        snprintf(field, sizeof(field), "blueprint[%zu].level", i);
        if (!level || strncmp(level, "MD.", 3) != 0 || !kt_item_code_valid(level))
            problem(problems, field, "Mức độ (level) phải là mã MD.* (ví dụ MD.B).");
        snprintf(field, sizeof(field), "blueprint[%zu].format", i);
        if (!format || strncmp(format, "DT.", 3) != 0 || !kt_item_code_valid(format))
            problem(problems, field, "Dạng câu hỏi (format) phải là mã DT.* (ví dụ DT.NLC).");
        snprintf(field, sizeof(field), "blueprint[%zu].count", i);
        if (!json_is_integer(count))
            problem(problems, field, "Số câu (count) phải là số nguyên.");
        int64_t pts = kt_forms_points(json_object_get(row, "points"));
        snprintf(field, sizeof(field), "blueprint[%zu].points", i);
        if (pts < 0)
            problem(problems, field,
                    "Điểm mỗi câu (points) phải là số dương, tối đa hai chữ số thập phân.");
        cells[i] = (kt_bp_cell){node ? node : "", level ? level : "", format ? format : "",
                                json_is_integer(count) ? (int)json_integer_value(count) : 0,
                                pts > 0 ? pts : 0};
    }
    kt_asm_problem *ap = NULL;
    size_t nap = 0;
    if (json_array_size(problems) == 0 && kt_asm_validate(cells, *ncells, forms, &ap, &nap) < 0)
        for (size_t k = 0; k < nap; k++) {
            if (ap[k].row)
                snprintf(field, sizeof(field), "blueprint[%zu]", ap[k].row - 1);
            else
                snprintf(field, sizeof(field), "blueprint");
            problem(problems, field, ap[k].message);
        }
    free(ap);
    return cells;
}

json_t *
kt_forms_points_json(int64_t hundredths)
{
    char buf[32];
    kt_decimal d = {hundredths * (KT_DECIMAL_SCALE / 100)};
    kt_decimal_format(d, '.', buf, sizeof(buf));
    return json_string(buf);
}

static const char *const roman[] = {"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"};

/* The student's payload of one form: parts, then the items in form order
 * with their options permuted; content only, never keys. */
static json_t *
form_payload(const json_t *test, const json_t *candidates, const json_t *formats,
             const kt_asm_selection *sel, const kt_asm_form *form, const kt_bp_cell *cells)
{
    json_t *parts = json_array(), *items = json_array();
    for (int p = 1; p <= sel->nparts; p++) {
        const char *fmt = cells[sel->part_cell[p - 1]].format;
        const char *name = json_string_value(json_object_get(formats, fmt));
        char title[200];
        snprintf(title, sizeof(title), "Phần %s. %s", p <= 10 ? roman[p - 1] : "?",
                 name ? name : fmt);
        json_array_append_new(parts, json_pack("{s:i,s:s,s:s,s:o}", "part", p, "format", fmt,
                                               "title", title, "points",
                                               kt_forms_points_json(sel->part_points[p - 1])));
    }
    for (size_t k = 0; k < form->nentries; k++) {
        const kt_asm_entry *e = &form->entries[k];
        const json_t *cand = json_array_get(candidates, e->item);
        json_t *content = json_deep_copy(json_object_get(cand, "content"));
        json_t *opts = json_object_get(content, "options");
        if (e->perm && json_is_array(opts)) {
            json_t *shuffled = json_array();
            for (size_t o = 0; o < e->noptions; o++)
                json_array_append(shuffled, json_array_get(opts, e->perm[o]));
            json_object_set_new(content, "options", shuffled);
        }
        char ref[32];
        snprintf(ref, sizeof(ref), "c%lld",
                 (long long)json_integer_value(json_object_get(cand, "id")));
        json_object_set_new(content, "ref", json_string(ref));
        json_object_set_new(content, "number", json_integer((json_int_t)k + 1));
        json_object_set_new(content, "part", json_integer(e->part));
        json_object_set_new(content, "kind", json_incref(json_object_get(cand, "kind")));
        json_object_set_new(content, "points", kt_forms_points_json(e->points));
        json_array_append_new(items, content);
    }
    const json_t *t = test;
    return json_pack("{s:{s:O,s:O,s:O,s:O,s:O,s:o},s:o,s:o}", "test", "title",
                     json_object_get(t, "title"), "subject", json_object_get(t, "subject"),
                     "grade", json_object_get(t, "grade"), "kind", json_object_get(t, "kind"),
                     "duration_seconds", json_object_get(t, "duration_seconds"),
                     "total_points", kt_forms_points_json(sel->total_points), "parts", parts, "items",
                     items);
}

/* The candidates as assembly sees them (strings point into candidates);
 * free with asm_items_free. */
static kt_asm_item *
asm_items(const json_t *candidates, const char ****tags_out)
{
    size_t nitems = json_array_size(candidates);
    kt_asm_item *items = calloc(nitems ? nitems : 1, sizeof(*items));
    const char ***tags = calloc(nitems ? nitems : 1, sizeof(*tags));
    if (!items || !tags)
        abort();
    for (size_t i = 0; i < nitems; i++) {
        const json_t *c = json_array_get(candidates, i);
        const json_t *tj = json_object_get(c, "tags");
        tags[i] = calloc(json_array_size(tj) + 1, sizeof(char *));
        for (size_t k = 0; k < json_array_size(tj); k++)
            tags[i][k] = json_string_value(json_array_get(tj, k));
        const json_t *opts = json_object_get(json_object_get(c, "content"), "options");
        items[i] = (kt_asm_item){
            .item_id = json_integer_value(json_object_get(c, "id")),
            .version = (int)json_integer_value(json_object_get(c, "version")),
            .tags = tags[i],
            .ntags = json_array_size(tj),
            .uses = json_integer_value(json_object_get(c, "uses")),
            .stimulus = json_string_value(json_object_get(json_object_get(c, "content"),
                                                          "stimulus")),
            .noptions = json_is_array(opts) ? json_array_size(opts) : 0,
            .shuffle_options = json_is_array(opts),
        };
    }
    *tags_out = tags;
    return items;
}

static void
asm_items_free(kt_asm_item *items, const char ***tags, size_t nitems)
{
    for (size_t i = 0; i < nitems; i++)
        free(tags[i]);
    free(tags);
    free(items);
}

void
kt_forms_build(const json_t *test, const json_t *candidates, const json_t *formats,
               uint64_t seed, kt_forms_result *out)
{
    kt_forms_result *pb = out;
    memset(out, 0, sizeof(*out));
    size_t ncells = 0;
    json_t *problems = json_array();
    int nforms = (int)json_integer_value(json_object_get(test, "forms"));
    kt_bp_cell *cells =
        kt_forms_cells(json_object_get(test, "blueprint"), nforms, problems, &ncells);
    size_t nitems = json_array_size(candidates);
    const char ***tags = NULL;
    kt_asm_item *items = asm_items(candidates, &tags);
    kt_asm_selection sel = {0};
    kt_asm_shortage *sh = NULL;
    size_t nsh = 0;
    kt_asm_form *forms = NULL;
    pb->rc = json_array_size(problems) ? -1
                                       : kt_asm_select(cells, ncells, items, nitems, seed,
                                                       &sel, &sh, &nsh);
    if (pb->rc == 1) {
        pb->shortages = json_array();
        for (size_t k = 0; k < nsh; k++) {
            const kt_bp_cell *c = &cells[sh[k].cell];
            json_array_append_new(pb->shortages,
                                  json_pack("{s:I,s:s,s:s,s:s,s:i,s:I,s:i}", "row",
                                            (json_int_t)sh[k].cell + 1, "node", c->node, "level",
                                            c->level, "format", c->format, "needed",
                                            sh[k].needed, "available",
                                            (json_int_t)sh[k].available, "assignable",
                                            sh[k].assignable));
        }
    } else if (pb->rc == 0 && kt_asm_make_forms(&sel, items, nitems, nforms, &forms) == 0) {
        pb->items = json_array();
        for (size_t k = 0; k < sel.npicks; k++) {
            const kt_asm_pick *pk = &sel.picks[k];
            char ref[32];
            snprintf(ref, sizeof(ref), "c%lld", (long long)items[pk->item].item_id);
            json_array_append_new(pb->items,
                                  json_pack("{s:s,s:I,s:i,s:I,s:i,s:I}", "ref", ref, "item",
                                            (json_int_t)items[pk->item].item_id, "version",
                                            items[pk->item].version, "cell",
                                            (json_int_t)pk->cell, "part", pk->part, "points",
                                            (json_int_t)pk->points));
        }
        pb->forms = json_array();
        for (int f = 0; f < nforms; f++) {
            char code[8];
            snprintf(code, sizeof(code), "%03d", forms[f].code);
            json_t *payload = form_payload(test, candidates, formats, &sel, &forms[f], cells);
            json_object_set_new(payload, "form_code", json_string(code));
            json_array_append_new(pb->forms,
                                  json_pack("{s:i,s:s,s:I,s:o}", "idx", f, "code", code, "seed",
                                            (json_int_t)forms[f].seed, "payload", payload));
        }
        pb->total_points = sel.total_points;
        kt_asm_forms_free(forms, nforms);
    } else {
        pb->rc = -1;
    }
    kt_asm_selection_free(&sel);
    free(sh);
    asm_items_free(items, tags, nitems);
    free(cells);
    json_decref(problems);
}

void
kt_forms_result_free(kt_forms_result *r)
{
    json_decref(r->shortages);
    json_decref(r->items);
    json_decref(r->forms);
    memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------------ */
/* Availability of a blueprint before it is saved                           */

/* Copies the problems of a one-row blueprint to all, renamed for row i. */
static void
row_problems(const json_t *one, size_t i, json_t *row_list, json_t *all)
{
    size_t k;
    const json_t *p;
    json_array_foreach(one, k, p)
    {
        const char *f = json_string_value(json_object_get(p, "field"));
        const char *rest = f && strncmp(f, "blueprint[0]", 12) == 0 ? f + 12 : "";
        char field[64];
        snprintf(field, sizeof(field), "blueprint[%zu]%s", i, rest);
        json_t *q = json_pack("{s:s,s:O}", "field", field, "message", json_object_get(p, "message"));
        json_array_append(row_list, q);
        json_array_append_new(all, q);
    }
}

json_t *
kt_forms_availability(const json_t *bp, const json_t *candidates)
{
    json_t *problems = json_array(), *rows = json_array();
    size_t nrows = json_is_array(bp) ? json_array_size(bp) : 0;
    if (nrows == 0)
        json_array_append_new(problems, json_pack("{s:s,s:s}", "field", "blueprint", "message",
                                                  "Ma trận đề phải có ít nhất một dòng."));
    kt_bp_cell *valid = calloc(nrows ? nrows : 1, sizeof(*valid));
    size_t *valid_row = calloc(nrows ? nrows : 1, sizeof(*valid_row));
    json_t **row_json = calloc(nrows ? nrows : 1, sizeof(json_t *));
    if (!valid || !valid_row || !row_json)
        abort();
    size_t nitems = json_array_size(candidates), nvalid = 0;
    const char ***tags = NULL;
    kt_asm_item *items = asm_items(candidates, &tags);
    int64_t total = 0;
    long long count_all = 0;

    /* Each row on its own: its problems, or the items fitting it. */
    for (size_t i = 0; i < nrows; i++) {
        json_t *one = json_pack("[O]", json_array_get(bp, i)), *p1 = json_array();
        size_t n1 = 0;
        kt_bp_cell *cell = kt_forms_cells(one, 1, p1, &n1);
        json_t *plist = json_array();
        row_problems(p1, i, plist, problems);
        json_t *r = json_pack("{s:I,s:o}", "row", (json_int_t)i + 1, "problems", plist);
        if (cell && json_array_size(p1) == 0) {
            /* Strings of the cell point into bp, which outlives this call. */
            size_t available = 0;
            for (size_t k = 0; k < nitems; k++)
                available += kt_asm_fits(&cell[0], &items[k]);
            json_object_set_new(r, "available", json_integer((json_int_t)available));
            valid[nvalid] = cell[0];
            valid_row[nvalid++] = i;
            total += cell[0].points * cell[0].count;
            count_all += cell[0].count;
        } else {
            json_object_set_new(r, "available", json_null());
        }
        json_object_set_new(r, "assignable", json_null());
        json_object_set_new(r, "shortage", json_null());
        free(cell);
        json_decref(one);
        json_decref(p1);
        row_json[i] = r;
        json_array_append_new(rows, r);
    }
    if (count_all > KT_ASM_MAX_COUNT) {
        char msg[160];
        snprintf(msg, sizeof(msg), "Ma trận có %lld câu; một đề có nhiều nhất %d câu.", count_all,
                 KT_ASM_MAX_COUNT);
        json_array_append_new(problems,
                              json_pack("{s:s,s:s}", "field", "blueprint", "message", msg));
    }

    /* The valid rows together, as publishing assigns them: an item fills
     * at most one slot, so overlapping rows compete for the same items. */
    int rc = -1;
    if (nvalid && count_all <= KT_ASM_MAX_COUNT) {
        kt_asm_selection sel = {0};
        kt_asm_shortage *sh = NULL;
        size_t nsh = 0;
        rc = kt_asm_select(valid, nvalid, items, nitems, 0, &sel, &sh, &nsh);
        for (size_t c = 0; rc >= 0 && c < nvalid; c++) {
            json_t *r = row_json[valid_row[c]];
            int assignable = valid[c].count;
            for (size_t k = 0; rc == 1 && k < nsh; k++)
                if (sh[k].cell == c)
                    assignable = sh[k].assignable;
            json_object_set_new(r, "assignable", json_integer(assignable));
            json_object_set_new(r, "shortage", json_integer(valid[c].count - assignable));
        }
        kt_asm_selection_free(&sel);
        free(sh);
    }
    json_t *out = json_pack("{s:o,s:o,s:o,s:b}", "rows", rows, "total_points",
                            kt_forms_points_json(total), "problems", problems, "ok",
                            json_array_size(problems) == 0 && rc == 0);
    asm_items_free(items, tags, nitems);
    free(valid);
    free(valid_row);
    free(row_json);
    return out;
}
