/*
 * From an item document to the rule and expression structs of engine/rp.h
 * (rp_compile.h). QTI 3 names are folded to their 2.x spelling through
 * kt_qti_fold_name, so one walk serves every version; template URIs are
 * resolved to the embedded standard templates and compiled like any rules.
 */
#include "rp_compile.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "rp_check.h"
#include "xsd_regex.h"

#define NAME_LEN 96

struct cc {
    kt_arena *a;
    kt_qti_errors *errs;
    const char *file;
    kt_rp_item *item;
    size_t errs_before;
    char *unsupported; /* names joined by ", " */
    long template_line; /* rules of a standard template: the line of responseProcessing */
};

/* ---- names, attributes, errors --------------------------------------------- */

static const char *
name_of(const xmlNode *n, char *buf)
{
    return kt_qti_fold_name((const char *)n->name, buf, NAME_LEN);
}

static bool
is(const xmlNode *n, const char *name)
{
    char buf[NAME_LEN];
    return n->type == XML_ELEMENT_NODE && strcmp(name_of(n, buf), name) == 0;
}

__attribute__((format(printf, 3, 4))) static void
err(struct cc *c, const xmlNode *n, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_qti_error_add(c->errs, c->file, n ? xmlGetLineNo(n) : 0, 0,
                     n ? (const char *)n->name : NULL, "%s", msg);
}

/* An attribute by its 2.x name, whatever the document's spelling. */
static const char *
attr(struct cc *c, const xmlNode *n, const char *name)
{
    char buf[NAME_LEN];
    for (const xmlAttr *at = n->properties; at; at = at->next) {
        if (at->ns || strcmp(kt_qti_fold_name((const char *)at->name, buf, sizeof buf), name) != 0)
            continue;
        xmlChar *v = xmlNodeListGetString(n->doc, at->children, 1);
        const char *s = kt_arena_strdup(c->a, v ? (const char *)v : "");
        xmlFree(v);
        return s;
    }
    return NULL;
}

static const char *
required(struct cc *c, const xmlNode *n, const char *name)
{
    const char *v = attr(c, n, name);
    if (!v || !*v)
        err(c, n, "Thiếu thuộc tính bắt buộc %s.", name);
    return v;
}

static bool
attr_bool(struct cc *c, const xmlNode *n, const char *name, bool def)
{
    const char *v = attr(c, n, name);
    if (!v)
        return def;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        return true;
    if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
        err(c, n, "Thuộc tính %s phải là true hoặc false, không phải \"%s\".", name, v);
    return false;
}

static bool
attr_number(struct cc *c, const xmlNode *n, const char *name, double *out)
{
    const char *v = attr(c, n, name);
    kt_qv_scalar s;
    if (!v)
        return false;
    if (kt_qv_parse_scalar(KT_QV_FLOAT, v, NULL, &s) < 0) {
        err(c, n, "Thuộc tính %s phải là một số, không phải \"%s\".", name, v);
        return false;
    }
    *out = s.u.f;
    return true;
}

/* The element's text: as written for strings, trimmed by the value parser
 * for everything else. */
static const char *
text_of(struct cc *c, const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    const char *s = kt_arena_strdup(c->a, v ? (const char *)v : "");
    xmlFree(v);
    return s;
}

static size_t
count_elements(const xmlNode *n)
{
    size_t k = 0;
    for (const xmlNode *x = n->children; x; x = x->next)
        k += x->type == XML_ELEMENT_NODE;
    return k;
}

static void
note_unsupported(struct cc *c, const char *name)
{
    char pat[NAME_LEN + 4];
    if (c->unsupported) {
        snprintf(pat, sizeof pat, "%s", name);
        for (const char *p = c->unsupported; (p = strstr(p, pat)); p += strlen(pat))
            if ((p == c->unsupported || p[-1] == ' ') && (p[strlen(pat)] == ',' || !p[strlen(pat)]))
                return;
    }
    c->unsupported = c->unsupported ? kt_arena_printf(c->a, "%s, %s", c->unsupported, name)
                                    : kt_arena_strdup(c->a, name);
}

/* ---- declarations ------------------------------------------------------------ */

static int
card_base(struct cc *c, const xmlNode *n, kt_qv_card *card, kt_qv_base *base)
{
    const char *cs = required(c, n, "cardinality"), *bs = attr(c, n, "baseType");
    int ci = kt_qv_card_from_name(cs), bi = bs ? kt_qv_base_from_name(bs) : -1;
    if (cs && ci < 0) {
        err(c, n, "Bản số (cardinality) \"%s\" không hợp lệ.", cs);
        return -1;
    }
    if (bs && bi < 0) {
        err(c, n, "Kiểu cơ sở (baseType) \"%s\" không hợp lệ.", bs);
        return -1;
    }
    if (ci < 0)
        return -1;
    if (bi < 0 && ci != KT_QV_RECORD) {
        err(c, n, "Thiếu thuộc tính bắt buộc baseType.");
        return -1;
    }
    *card = (kt_qv_card)ci;
    *base = bi < 0 ? KT_QV_IDENTIFIER : (kt_qv_base)bi;
    return 0;
}

/* <value> children of n as a value of the declaration's type. */
static void
read_values(struct cc *c, const xmlNode *n, const kt_rp_decl *d, kt_qv *out)
{
    size_t k = count_elements(n), i = 0;
    const char **strs = kt_arena_alloc(c->a, (k + 1) * sizeof *strs);

    *out = kt_qv_null(d->card, d->base);
    if (d->card == KT_QV_RECORD) {
        out->items = kt_arena_alloc(c->a, (k + 1) * sizeof *out->items);
        out->fields = kt_arena_alloc(c->a, (k + 1) * sizeof *out->fields);
        for (const xmlNode *x = n->children; x; x = x->next) {
            if (!is(x, "value"))
                continue;
            const char *field = required(c, x, "fieldIdentifier"), *bs = required(c, x, "baseType");
            int b = kt_qv_base_from_name(bs);
            if (!field || b < 0 ||
                kt_qv_parse_scalar((kt_qv_base)b, text_of(c, x), c->a, &out->items[out->n]) < 0) {
                err(c, x, "Giá trị của trường bản ghi không hợp lệ.");
                continue;
            }
            out->fields[out->n++] = field;
        }
        out->null = out->n == 0;
        return;
    }
    for (const xmlNode *x = n->children; x; x = x->next)
        if (is(x, "value"))
            strs[i++] = text_of(c, x);
    if (kt_qv_parse(d->card, d->base, strs, i, c->a, out) < 0)
        err(c, n, "Giá trị không hợp lệ cho biến %s (%s %s).", d->identifier,
            kt_qv_card_name(d->card), kt_qv_base_name(d->base));
}

static void
read_mapping(struct cc *c, const xmlNode *n, const kt_rp_decl *d, kt_rp_mapping *m)
{
    m->present = true;
    m->has_lower = attr_number(c, n, "lowerBound", &m->lower);
    m->has_upper = attr_number(c, n, "upperBound", &m->upper);
    attr_number(c, n, "defaultValue", &m->default_value);
    m->entries = kt_arena_alloc(c->a, (count_elements(n) + 1) * sizeof *m->entries);
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (!is(x, "mapEntry"))
            continue;
        kt_rp_map_entry *e = &m->entries[m->nentries];
        const char *key = attr(c, x, "mapKey");
        if (!key || !attr_number(c, x, "mappedValue", &e->value)) {
            err(c, x, "mapEntry cần mapKey và mappedValue.");
            continue;
        }
        if (kt_qv_parse_scalar(d->base, key, c->a, &e->key) < 0) {
            if (*key) /* an empty key of a non-string type can never match: skipped */
                err(c, x, "mapKey \"%s\" không phải giá trị %s.", key, kt_qv_base_name(d->base));
            continue;
        }
        e->case_sensitive = attr_bool(c, x, "caseSensitive", true);
        m->nentries++;
    }
}

static int
read_area(struct cc *c, const xmlNode *n, kt_rp_area *area)
{
    static const char *const SHAPES[] = {"default", "rect", "circle", "poly", "ellipse"};
    const char *shape = required(c, n, "shape"), *coords = attr(c, n, "coords");
    size_t i = 0;
    while (shape && i < sizeof SHAPES / sizeof *SHAPES && strcmp(shape, SHAPES[i]) != 0)
        i++;
    if (!shape || i == sizeof SHAPES / sizeof *SHAPES) {
        err(c, n, "Hình (shape) \"%s\" không hợp lệ.", shape ? shape : "");
        return -1;
    }
    area->shape = (kt_rp_shape)i;
    const char *p = coords ? coords : "";
    area->coords = kt_arena_alloc(c->a, (strlen(p) / 2 + 2) * sizeof *area->coords);
    while (*p) {
        char *end;
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        double v = strtod(p, &end);
        if (end == p) {
            err(c, n, "Toạ độ (coords) \"%s\" không hợp lệ.", coords);
            return -1;
        }
        area->coords[area->ncoords++] = v;
        p = end;
    }
    static const size_t NEED[] = {0, 4, 3, 6, 4};
    if (area->ncoords < NEED[i]) {
        err(c, n, "Hình %s cần ít nhất %zu toạ độ.", shape, NEED[i]);
        return -1;
    }
    return 0;
}

static void
read_area_mapping(struct cc *c, const xmlNode *n, kt_rp_area_mapping *m)
{
    m->present = true;
    m->has_lower = attr_number(c, n, "lowerBound", &m->lower);
    m->has_upper = attr_number(c, n, "upperBound", &m->upper);
    attr_number(c, n, "defaultValue", &m->default_value);
    m->entries = kt_arena_alloc(c->a, (count_elements(n) + 1) * sizeof *m->entries);
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (!is(x, "areaMapEntry"))
            continue;
        kt_rp_area_entry *e = &m->entries[m->nentries];
        if (read_area(c, x, &e->area) < 0)
            continue;
        if (!attr_number(c, x, "mappedValue", &e->value)) {
            err(c, x, "areaMapEntry cần mappedValue.");
            continue;
        }
        m->nentries++;
    }
}

static void
read_table(struct cc *c, const xmlNode *n, const kt_rp_decl *d, kt_rp_lookup_table *t,
           bool interpolation)
{
    const char *entry = interpolation ? "interpolationTableEntry" : "matchTableEntry";
    const char *def = attr(c, n, "defaultValue");

    t->kind = interpolation ? KT_RP_TABLE_INTERPOLATION : KT_RP_TABLE_MATCH;
    t->default_value = kt_qv_null(KT_QV_SINGLE, d->base);
    if (def && kt_qv_parse(KT_QV_SINGLE, d->base, &def, 1, c->a, &t->default_value) < 0)
        err(c, n, "defaultValue \"%s\" không phải giá trị %s.", def, kt_qv_base_name(d->base));
    t->entries = kt_arena_alloc(c->a, (count_elements(n) + 1) * sizeof *t->entries);
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (!is(x, entry))
            continue;
        kt_rp_table_entry *e = &t->entries[t->nentries];
        const char *target = attr(c, x, "targetValue");
        if (!attr_number(c, x, "sourceValue", &e->source) || !target ||
            kt_qv_parse(KT_QV_SINGLE, d->base, &target, 1, c->a, &e->target) < 0) {
            err(c, x, "%s cần sourceValue là số và targetValue kiểu %s.", entry,
                kt_qv_base_name(d->base));
            continue;
        }
        e->include_boundary = attr_bool(c, x, "includeBoundary", true);
        t->nentries++;
    }
}

static void
read_decl(struct cc *c, const xmlNode *n, kt_rp_decl *d, kt_rp_var_kind kind)
{
    d->kind = kind;
    d->identifier = required(c, n, "identifier");
    if (!d->identifier)
        d->identifier = "";
    if (card_base(c, n, &d->card, &d->base) < 0)
        return;
    d->default_value = d->correct = kt_qv_null(d->card, d->base);
    d->has_normal_min = attr_number(c, n, "normalMinimum", &d->normal_min);
    d->has_normal_max = attr_number(c, n, "normalMaximum", &d->normal_max);
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (is(x, "defaultValue"))
            read_values(c, x, d, &d->default_value);
        else if (is(x, "correctResponse"))
            read_values(c, x, d, &d->correct);
        else if (is(x, "mapping"))
            read_mapping(c, x, d, &d->mapping);
        else if (is(x, "areaMapping"))
            read_area_mapping(c, x, &d->area_mapping);
        else if (is(x, "matchTable"))
            read_table(c, x, d, &d->table, false);
        else if (is(x, "interpolationTable"))
            read_table(c, x, d, &d->table, true);
    }
}

static bool
is_decl(const xmlNode *x, kt_rp_var_kind *kind)
{
    if (is(x, "responseDeclaration"))
        *kind = KT_RP_RESPONSE;
    else if (is(x, "outcomeDeclaration"))
        *kind = KT_RP_OUTCOME;
    else if (is(x, "templateDeclaration"))
        *kind = KT_RP_TEMPLATE;
    else
        return false;
    return true;
}

/* Declarations of the document, then the built-ins it did not declare. */
static void
read_decls(struct cc *c, const xmlNode *root)
{
    kt_rp_item *it = c->item;
    kt_rp_var_kind kind;
    size_t k = 3;
    for (const xmlNode *x = root->children; x; x = x->next)
        k += is_decl(x, &kind);
    it->decls = kt_arena_alloc(c->a, k * sizeof *it->decls);
    for (const xmlNode *x = root->children; x; x = x->next)
        if (is_decl(x, &kind))
            read_decl(c, x, &it->decls[it->ndecls++], kind);
    static const struct {
        const char *id;
        kt_rp_var_kind kind;
        kt_qv_base base;
    } BUILTIN[] = {{"numAttempts", KT_RP_RESPONSE, KT_QV_INTEGER},
                   {"duration", KT_RP_RESPONSE, KT_QV_DURATION},
                   {"completionStatus", KT_RP_OUTCOME, KT_QV_IDENTIFIER}};
    int *slots[] = {&it->num_attempts, &it->duration, &it->completion_status};
    for (size_t i = 0; i < 3; i++) {
        int slot = kt_rp_find(it, BUILTIN[i].id);
        if (slot < 0) {
            kt_rp_decl *d = &it->decls[it->ndecls];
            d->identifier = BUILTIN[i].id;
            d->kind = BUILTIN[i].kind;
            d->card = KT_QV_SINGLE;
            d->base = BUILTIN[i].base;
            d->default_value = d->correct = kt_qv_null(KT_QV_SINGLE, BUILTIN[i].base);
            slot = (int)it->ndecls++;
        }
        *slots[i] = slot;
    }
}

static int
count_gaps(const xmlNode *n)
{
    int k = 0;
    for (const xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            k += is(x, "gap") ? 1 : count_gaps(x);
    return k;
}

/* How many values the interaction bound to a response lets a candidate
 * give (kt_rp_decl.max_values, for the maximum score): maxChoices or
 * maxAssociations with their QTI defaults, or the number of gaps. A
 * response bound to two interactions, or a limit not written as a whole
 * number, stays unbounded (0). */
static int
interaction_limit(struct cc *c, const xmlNode *n)
{
    static const struct {
        const char *name, *attr;
        int def;
    } LIMITS[] = {{"choiceInteraction", "maxChoices", 1},
                  {"hottextInteraction", "maxChoices", 1},
                  {"hotspotInteraction", "maxChoices", 1},
                  {"selectPointInteraction", "maxChoices", 0},
                  {"matchInteraction", "maxAssociations", 1},
                  {"associateInteraction", "maxAssociations", 1},
                  {"graphicAssociateInteraction", "maxAssociations", 1}};
    if (is(n, "gapMatchInteraction"))
        return count_gaps(n);
    for (size_t i = 0; i < sizeof LIMITS / sizeof *LIMITS; i++) {
        if (!is(n, LIMITS[i].name))
            continue;
        const char *v = attr(c, n, LIMITS[i].attr);
        char *end;
        long k = v ? strtol(v, &end, 10) : LIMITS[i].def;
        return v && (end == v || *end || k < 0 || k > 1000) ? 0 : (int)k;
    }
    return 0;
}

/* Every interaction under n: bound[i] counts those bound to declaration i. */
static void
read_limits(struct cc *c, const xmlNode *n, int *bound)
{
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        const char *rid = attr(c, x, "responseIdentifier");
        int k = rid ? kt_rp_find(c->item, rid) : -1;
        char buf[NAME_LEN];
        const char *name = name_of(x, buf);
        size_t len = strlen(name);
        if (k >= 0 && len > 11 && strcmp(name + len - 11, "Interaction") == 0) {
            c->item->decls[k].max_values = ++bound[k] == 1 ? interaction_limit(c, x) : 0;
            continue;
        }
        read_limits(c, x, bound);
    }
}

/* ---- expressions ----------------------------------------------------------------- */

static const struct op {
    const char *name;
    kt_rp_op op;
    int min, max; /* operands; max -1: any number */
} OPS[] = {
    {"baseValue", KT_RP_BASE_VALUE, 0, 0},
    {"variable", KT_RP_VARIABLE, 0, 0},
    {"correct", KT_RP_CORRECT, 0, 0},
    {"default", KT_RP_DEFAULT, 0, 0},
    {"null", KT_RP_NULL, 0, 0},
    {"mapResponse", KT_RP_MAP_RESPONSE, 0, 0},
    {"mapResponsePoint", KT_RP_MAP_RESPONSE_POINT, 0, 0},
    {"randomInteger", KT_RP_RANDOM_INTEGER, 0, 0},
    {"randomFloat", KT_RP_RANDOM_FLOAT, 0, 0},
    {"mathConstant", KT_RP_MATH_CONSTANT, 0, 0},
    {"isNull", KT_RP_IS_NULL, 1, 1},
    {"and", KT_RP_AND, 1, -1},
    {"or", KT_RP_OR, 1, -1},
    {"not", KT_RP_NOT, 1, 1},
    {"anyN", KT_RP_ANY_N, 1, -1},
    {"multiple", KT_RP_MULTIPLE, 0, -1},
    {"ordered", KT_RP_ORDERED, 0, -1},
    {"containerSize", KT_RP_CONTAINER_SIZE, 1, 1},
    {"member", KT_RP_MEMBER, 2, 2},
    {"contains", KT_RP_CONTAINS, 2, 2},
    {"delete", KT_RP_DELETE, 2, 2},
    {"index", KT_RP_INDEX, 1, 1},
    {"fieldValue", KT_RP_FIELD_VALUE, 1, 1},
    {"random", KT_RP_RANDOM, 1, 1},
    {"repeat", KT_RP_REPEAT, 1, -1},
    {"match", KT_RP_MATCH, 2, 2},
    {"equal", KT_RP_EQUAL, 2, 2},
    {"equalRounded", KT_RP_EQUAL_ROUNDED, 2, 2},
    {"gt", KT_RP_GT, 2, 2},
    {"gte", KT_RP_GTE, 2, 2},
    {"lt", KT_RP_LT, 2, 2},
    {"lte", KT_RP_LTE, 2, 2},
    {"durationLT", KT_RP_DURATION_LT, 2, 2},
    {"durationGTE", KT_RP_DURATION_GTE, 2, 2},
    {"stringMatch", KT_RP_STRING_MATCH, 2, 2},
    {"substring", KT_RP_SUBSTRING, 2, 2},
    {"patternMatch", KT_RP_PATTERN_MATCH, 1, 1},
    {"inside", KT_RP_INSIDE, 1, 1},
    {"sum", KT_RP_SUM, 1, -1},
    {"product", KT_RP_PRODUCT, 1, -1},
    {"subtract", KT_RP_SUBTRACT, 2, 2},
    {"divide", KT_RP_DIVIDE, 2, 2},
    {"power", KT_RP_POWER, 2, 2},
    {"integerDivide", KT_RP_INTEGER_DIVIDE, 2, 2},
    {"integerModulus", KT_RP_INTEGER_MODULUS, 2, 2},
    {"integerToFloat", KT_RP_INTEGER_TO_FLOAT, 1, 1},
    {"round", KT_RP_ROUND, 1, 1},
    {"roundTo", KT_RP_ROUND_TO, 1, 1},
    {"truncate", KT_RP_TRUNCATE, 1, 1},
    {"min", KT_RP_MIN, 1, -1},
    {"max", KT_RP_MAX, 1, -1},
    {"gcd", KT_RP_GCD, 1, -1},
    {"lcm", KT_RP_LCM, 1, -1},
    {"statsOperator", KT_RP_STATS_OPERATOR, 1, 1},
    {"mathOperator", KT_RP_MATH_OPERATOR, 1, 2},
    {"numberCorrect", KT_RP_NUMBER_CORRECT, 0, 0},
    {"numberIncorrect", KT_RP_NUMBER_INCORRECT, 0, 0},
    {"numberResponded", KT_RP_NUMBER_RESPONDED, 0, 0},
    {"numberPresented", KT_RP_NUMBER_PRESENTED, 0, 0},
    {"numberSelected", KT_RP_NUMBER_SELECTED, 0, 0},
    {"testVariables", KT_RP_TEST_VARIABLES, 0, 0},
    {"outcomeMinimum", KT_RP_OUTCOME_MINIMUM, 0, 0},
    {"outcomeMaximum", KT_RP_OUTCOME_MAXIMUM, 0, 0},
};

/* A variable by identifier; -1 when undeclared (evaluation then sees NULL). */
static int
var_of(struct cc *c, const xmlNode *n, const char *id)
{
    return id ? kt_rp_find(c->item, id) : -1;
}

/* A number or a {VAR} (or bare VAR) reference. */
static kt_rp_num_ref
num_ref_of(struct cc *c, const xmlNode *n, const char *text, double def)
{
    kt_rp_num_ref r = {.number = def, .var = -1};
    kt_qv_scalar s;
    if (!text)
        return r;
    if (kt_qv_parse_scalar(KT_QV_FLOAT, text, NULL, &s) == 0) {
        r.number = s.u.f;
        return r;
    }
    size_t len = strlen(text);
    const char *id = text[0] == '{' && len > 2 && text[len - 1] == '}'
                         ? kt_arena_strndup(c->a, text + 1, len - 2)
                         : text;
    if ((r.var = kt_rp_find(c->item, id)) < 0)
        err(c, n, "\"%s\" không phải số cũng không phải biến đã khai báo.", text);
    return r;
}

static kt_rp_num_ref
num_attr(struct cc *c, const xmlNode *n, const char *name, double def)
{
    return num_ref_of(c, n, attr(c, n, name), def);
}

static void
split_list(struct cc *c, const char *s, const char ***out, size_t *n)
{
    *n = 0;
    if (!s)
        return;
    *out = kt_arena_alloc(c->a, (strlen(s) / 2 + 2) * sizeof **out);
    for (const char *p = s; *p;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (len)
            (*out)[(*n)++] = kt_arena_strndup(c->a, p, len);
        p += len;
    }
}

static void compile_expr(struct cc *c, const xmlNode *n, kt_rp_expr *e, int depth);

static void
expr_attrs(struct cc *c, const xmlNode *n, kt_rp_expr *e)
{
    const char *s;
    switch (e->op) {
    case KT_RP_BASE_VALUE: {
        const char *bs = required(c, n, "baseType");
        int b = kt_qv_base_from_name(bs);
        const char *text = text_of(c, n);
        if (b < 0 || kt_qv_parse(KT_QV_SINGLE, (kt_qv_base)b, &text, 1, c->a, &e->value) < 0)
            err(c, n, "baseValue \"%s\" không phải giá trị %s.", text, bs ? bs : "?");
        break;
    }
    case KT_RP_VARIABLE:
    case KT_RP_CORRECT:
    case KT_RP_DEFAULT:
    case KT_RP_MAP_RESPONSE:
    case KT_RP_MAP_RESPONSE_POINT:
        e->identifier = required(c, n, "identifier");
        e->var = var_of(c, n, e->identifier);
        break;
    case KT_RP_RANDOM_INTEGER:
    case KT_RP_RANDOM_FLOAT:
        e->min = num_attr(c, n, "min", 0);
        e->max = num_attr(c, n, "max", NAN);
        e->step = num_attr(c, n, "step", 1);
        if (!attr(c, n, "max"))
            err(c, n, "Thiếu thuộc tính bắt buộc max.");
        break;
    case KT_RP_MATH_CONSTANT:
        e->name = required(c, n, "name");
        if (e->name && strcmp(e->name, "pi") != 0 && strcmp(e->name, "e") != 0)
            err(c, n, "Hằng số \"%s\" không có (chỉ pi và e).", e->name);
        break;
    case KT_RP_ANY_N:
        e->min = num_attr(c, n, "min", 0);
        e->max = num_attr(c, n, "max", 0);
        break;
    case KT_RP_INDEX:
        e->n = num_attr(c, n, "n", 0);
        break;
    case KT_RP_REPEAT:
        e->n = num_attr(c, n, "numberRepeats", 1);
        break;
    case KT_RP_FIELD_VALUE:
        e->name = required(c, n, "fieldIdentifier");
        break;
    case KT_RP_EQUAL:
        s = attr(c, n, "toleranceMode");
        e->tolerance_mode = !s || strcmp(s, "exact") == 0 ? KT_RP_TOL_EXACT
                            : strcmp(s, "absolute") == 0  ? KT_RP_TOL_ABSOLUTE
                                                          : KT_RP_TOL_RELATIVE;
        if (s && e->tolerance_mode == KT_RP_TOL_RELATIVE && strcmp(s, "relative") != 0)
            err(c, n, "toleranceMode \"%s\" không hợp lệ.", s);
        e->include_lower = attr_bool(c, n, "includeLowerBound", true);
        e->include_upper = attr_bool(c, n, "includeUpperBound", true);
        e->tolerance[1] = (kt_rp_num_ref){.number = NAN, .var = -1};
        if ((s = attr(c, n, "tolerance"))) {
            const char **parts;
            size_t np;
            split_list(c, s, &parts, &np);
            for (size_t i = 0; i < np && i < 2; i++)
                e->tolerance[i] = num_ref_of(c, n, parts[i], 0);
        } else if (e->tolerance_mode != KT_RP_TOL_EXACT) {
            err(c, n, "toleranceMode %s cần thuộc tính tolerance.", s ? s : "");
        }
        break;
    case KT_RP_EQUAL_ROUNDED:
    case KT_RP_ROUND_TO:
        s = attr(c, n, "roundingMode");
        e->rounding_mode = s && strcmp(s, "decimalPlaces") == 0 ? KT_RP_ROUND_DECIMAL
                                                                 : KT_RP_ROUND_SIGNIFICANT;
        e->figures = num_attr(c, n, "figures", NAN);
        if (!attr(c, n, "figures"))
            err(c, n, "Thiếu thuộc tính bắt buộc figures.");
        break;
    case KT_RP_STRING_MATCH:
        e->case_sensitive = attr_bool(c, n, "caseSensitive", true);
        e->substring = attr_bool(c, n, "substring", false);
        break;
    case KT_RP_SUBSTRING:
        e->case_sensitive = attr_bool(c, n, "caseSensitive", true);
        break;
    case KT_RP_PATTERN_MATCH: {
        const char *pat = required(c, n, "pattern");
        size_t len = pat ? strlen(pat) : 0;
        e->pattern = pat;
        e->pattern_var = -1;
        if (pat && len > 2 && pat[0] == '{' && pat[len - 1] == '}') {
            if ((e->pattern_var = kt_rp_find(c->item, kt_arena_strndup(c->a, pat + 1, len - 2))) < 0)
                err(c, n, "Biến mẫu %s chưa được khai báo.", pat);
        } else if (pat) {
            kt_rp_regex *re = kt_arena_alloc(c->a, sizeof *re);
            if (kt_xsd_regex_compile(pat, &re->re) < 0) {
                err(c, n, "Biểu thức chính quy \"%s\" không dịch được.", pat);
                break;
            }
            re->next = c->item->regexes;
            c->item->regexes = re;
            e->regex = &re->re;
        }
        break;
    }
    case KT_RP_INSIDE:
        read_area(c, n, &e->area);
        break;
    case KT_RP_STATS_OPERATOR:
    case KT_RP_MATH_OPERATOR:
        e->name = required(c, n, "name");
        break;
    case KT_RP_NUMBER_CORRECT:
    case KT_RP_NUMBER_INCORRECT:
    case KT_RP_NUMBER_RESPONDED:
    case KT_RP_NUMBER_PRESENTED:
    case KT_RP_NUMBER_SELECTED:
    case KT_RP_TEST_VARIABLES:
    case KT_RP_OUTCOME_MINIMUM:
    case KT_RP_OUTCOME_MAXIMUM:
        e->filter.section = attr(c, n, "sectionIdentifier");
        split_list(c, attr(c, n, "includeCategory"), &e->filter.include, &e->filter.ninclude);
        split_list(c, attr(c, n, "excludeCategory"), &e->filter.exclude, &e->filter.nexclude);
        e->filter.outcome = e->op == KT_RP_TEST_VARIABLES ? required(c, n, "variableIdentifier")
                            : e->op >= KT_RP_OUTCOME_MINIMUM ? required(c, n, "outcomeIdentifier")
                                                             : NULL;
        e->filter.weight = attr(c, n, "weightIdentifier");
        e->filter.base = (s = attr(c, n, "baseType")) ? kt_qv_base_from_name(s) : -1;
        break;
    default:
        break;
    }
}

static void
compile_expr(struct cc *c, const xmlNode *n, kt_rp_expr *e, int depth)
{
    char buf[NAME_LEN];
    const char *name = name_of(n, buf);
    const struct op *op = NULL;

    e->element = kt_arena_strdup(c->a, name);
    e->var = -1;
    e->pattern_var = -1;
    e->line = c->template_line ? c->template_line : xmlGetLineNo(n);
    if (depth > KT_QTI_MAX_DEPTH) {
        err(c, n, "Biểu thức lồng quá sâu (tối đa %d cấp).", KT_QTI_MAX_DEPTH);
        return;
    }
    for (size_t i = 0; i < sizeof OPS / sizeof *OPS && !op; i++)
        if (strcmp(OPS[i].name, name) == 0)
            op = &OPS[i];
    if (!op) {
        e->op = KT_RP_UNSUPPORTED;
        note_unsupported(c, name);
        return;
    }
    e->op = op->op;
    size_t k = op->max == 0 ? 0 : count_elements(n);
    if ((int)k < op->min || (op->max >= 0 && (int)k > op->max)) {
        err(c, n, "%s cần %d%s biểu thức con, không phải %zu.", name, op->min,
            op->max < 0 ? " trở lên" : "", k);
        return;
    }
    expr_attrs(c, n, e);
    e->args = k ? kt_arena_alloc(c->a, k * sizeof *e->args) : NULL;
    for (const xmlNode *x = n->children; x && k; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            compile_expr(c, x, &e->args[e->nargs++], depth + 1);
}

/* ---- rules ------------------------------------------------------------------------ */

static void compile_rules(struct cc *c, const xmlNode *parent, const xmlNode *first,
                          kt_rp_rule **rules, size_t *n, int depth);

static const xmlNode *
first_element(const xmlNode *n)
{
    for (const xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            return x;
    return NULL;
}

static const xmlNode *
next_element(const xmlNode *n)
{
    for (n = n->next; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            return n;
    return NULL;
}

/* responseCondition, templateCondition, outcomeCondition: prefix is
 * "response", "template" or "outcome". */
static void
compile_condition(struct cc *c, const xmlNode *n, kt_rp_rule *r, const char *prefix, int depth)
{
    char if_name[32], elif_name[32], else_name[32];
    snprintf(if_name, sizeof if_name, "%sIf", prefix);
    snprintf(elif_name, sizeof elif_name, "%sElseIf", prefix);
    snprintf(else_name, sizeof else_name, "%sElse", prefix);

    r->kind = KT_RP_CONDITION;
    r->branches = kt_arena_alloc(c->a, (count_elements(n) + 1) * sizeof *r->branches);
    for (const xmlNode *x = first_element(n); x; x = next_element(x)) {
        bool is_else = is(x, else_name);
        if (!is(x, if_name) && !is(x, elif_name) && !is_else) {
            err(c, x, "Phần tử %s không được phép trong %s.", (const char *)x->name,
                (const char *)n->name);
            continue;
        }
        if ((r->nbranches == 0) != is(x, if_name)) {
            err(c, x, "%s phải mở đầu bằng %s.", (const char *)n->name, if_name);
            continue;
        }
        kt_rp_branch *b = &r->branches[r->nbranches++];
        const xmlNode *rules = first_element(x);
        if (!is_else) {
            if (!rules) {
                err(c, x, "%s thiếu biểu thức điều kiện.", (const char *)x->name);
                continue;
            }
            b->condition = kt_arena_alloc(c->a, sizeof *b->condition);
            compile_expr(c, rules, b->condition, depth + 1);
            rules = next_element(rules);
        }
        compile_rules(c, x, rules, &b->rules, &b->nrules, depth + 1);
    }
}

static void
compile_rule(struct cc *c, const xmlNode *n, kt_rp_rule *r, int depth)
{
    char buf[NAME_LEN];
    const char *name = name_of(n, buf);
    static const struct {
        const char *name;
        kt_rp_rule_kind kind;
    } SETTERS[] = {
        {"setOutcomeValue", KT_RP_SET_OUTCOME},       {"setTemplateValue", KT_RP_SET_TEMPLATE},
        {"setCorrectResponse", KT_RP_SET_CORRECT},    {"setDefaultValue", KT_RP_SET_DEFAULT},
        {"lookupOutcomeValue", KT_RP_LOOKUP_OUTCOME}, {"templateConstraint", KT_RP_TEMPLATE_CONSTRAINT},
    };

    r->element = kt_arena_strdup(c->a, name);
    r->var = -1;
    r->line = c->template_line ? c->template_line : xmlGetLineNo(n);
    if (depth > KT_QTI_MAX_DEPTH) {
        err(c, n, "Quy tắc lồng quá sâu (tối đa %d cấp).", KT_QTI_MAX_DEPTH);
        return;
    }
    if (strcmp(name, "responseCondition") == 0 || strcmp(name, "templateCondition") == 0 ||
        strcmp(name, "outcomeCondition") == 0) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(name) - strlen("Condition")), name);
        compile_condition(c, n, r, prefix, depth);
        return;
    }
    if (strcmp(name, "exitResponse") == 0 || strcmp(name, "exitTemplate") == 0 ||
        strcmp(name, "exitTest") == 0) {
        r->kind = KT_RP_EXIT;
        return;
    }
    if (strcmp(name, "responseProcessingFragment") == 0) {
        r->kind = KT_RP_CONDITION; /* one unconditional branch */
        r->branches = kt_arena_alloc(c->a, sizeof *r->branches);
        r->nbranches = 1;
        compile_rules(c, n, first_element(n), &r->branches[0].rules, &r->branches[0].nrules,
                      depth + 1);
        return;
    }
    for (size_t i = 0; i < sizeof SETTERS / sizeof *SETTERS; i++) {
        if (strcmp(SETTERS[i].name, name) != 0)
            continue;
        r->kind = SETTERS[i].kind;
        if (r->kind != KT_RP_TEMPLATE_CONSTRAINT)
            r->var = var_of(c, n, r->identifier = required(c, n, "identifier"));
        if (count_elements(n) != 1) {
            err(c, n, "%s cần đúng một biểu thức.", name);
            return;
        }
        r->expr = kt_arena_alloc(c->a, sizeof *r->expr);
        compile_expr(c, first_element(n), r->expr, depth + 1);
        return;
    }
    r->kind = KT_RP_RULE_UNSUPPORTED;
    note_unsupported(c, name);
}

/* The rules from first to the last element child of parent. */
static void
compile_rules(struct cc *c, const xmlNode *parent, const xmlNode *first, kt_rp_rule **rules,
              size_t *n, int depth)
{
    size_t k = 0;
    for (const xmlNode *x = first; x; x = next_element(x))
        k++;
    *n = 0;
    *rules = k ? kt_arena_alloc(c->a, k * sizeof **rules) : NULL;
    for (const xmlNode *x = first; x; x = next_element(x))
        compile_rule(c, x, &(*rules)[(*n)++], depth);
}

/* ---- processing ------------------------------------------------------------------- */

static void
compile_response_processing(struct cc *c, const xmlNode *n)
{
    kt_rp_item *it = c->item;
    const char *uri = attr(c, n, "template");
    const char *name = uri && *uri ? kt_qti_rp_template_name(uri) : NULL;

    if (!name) {
        if (uri && *uri && !first_element(n))
            err(c, n, "Mẫu xử lý phản hồi %s không được hỗ trợ.", uri);
        compile_rules(c, n, first_element(n), &it->response_rules, &it->nresponse_rules, 1);
        return;
    }
    const char *xml = kt_rp_template_xml(name);
    xmlDoc *doc = xml ? kt_qti_xml_read(xml, strlen(xml), name, c->errs) : NULL;
    if (!doc) {
        err(c, n, "Mẫu xử lý phản hồi %s không có sẵn.", name);
        return;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    c->template_line = xmlGetLineNo(n);
    compile_rules(c, root, first_element(root), &it->response_rules, &it->nresponse_rules, 1);
    c->template_line = 0;
    xmlFreeDoc(doc);
}

kt_rp_item *
kt_rp_compile(const void *xml, size_t len, const char *file, kt_qti_errors *errs,
              const char **unsupported)
{
    struct cc c = {.errs = errs, .errs_before = errs->n};
    xmlDoc *doc = kt_qti_xml_read(xml, len, file ? file : "", errs);
    if (unsupported)
        *unsupported = NULL;
    if (!doc)
        return NULL;
    c.a = kt_arena_new();
    c.file = kt_arena_strdup(c.a, file ? file : "");
    c.item = kt_arena_alloc(c.a, sizeof *c.item);
    c.item->arena = c.a;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is(root, "assessmentItem")) {
        err(&c, root, "Tài liệu không phải câu hỏi QTI (assessmentItem).");
    } else {
        c.item->identifier = attr(&c, root, "identifier");
        c.item->adaptive = attr_bool(&c, root, "adaptive", false);
        read_decls(&c, root);
        read_limits(&c, root, kt_arena_alloc(c.a, (c.item->ndecls + 1) * sizeof(int)));
        for (const xmlNode *x = first_element(root); x; x = next_element(x)) {
            if (is(x, "templateProcessing"))
                compile_rules(&c, x, first_element(x), &c.item->template_rules,
                              &c.item->ntemplate_rules, 1);
            else if (is(x, "responseProcessing"))
                compile_response_processing(&c, x);
        }
    }
    xmlFreeDoc(doc);
    if (errs->n > c.errs_before) {
        kt_rp_item_free(c.item);
        return NULL;
    }
    if (unsupported)
        *unsupported = c.unsupported;
    return c.item;
}

/* ---- static type check ---------------------------------------------------------- */

struct check_errs {
    kt_qti_errors *errs;
    const char *file;
};

static void
check_report(void *ctx, long line, const char *element, const char *message)
{
    struct check_errs *ce = ctx;
    kt_qti_error_add(ce->errs, ce->file, line, 0, element, "%s", message);
}

kt_rp_item *
kt_rp_compile_checked(const void *xml, size_t len, const char *file, kt_qti_errors *errs,
                      const char **unsupported)
{
    kt_rp_item *it = kt_rp_compile(xml, len, file, errs, unsupported);
    struct check_errs ce = {errs, file ? file : ""};
    if (it && kt_rp_check(it, check_report, &ce) > 0) {
        kt_rp_item_free(it);
        if (unsupported)
            *unsupported = NULL;
        return NULL;
    }
    return it;
}

size_t
kt_rp_typecheck(const void *xml, size_t len, const char *file, kt_qti_errors *errs)
{
    kt_qti_errors scratch;
    kt_qti_errors_init(&scratch);
    kt_rp_item *it = kt_rp_compile(xml, len, file, &scratch, NULL);
    kt_qti_errors_free(&scratch);
    struct check_errs ce = {errs, file ? file : ""};
    size_t n = it ? kt_rp_check(it, check_report, &ce) : 0;
    kt_rp_item_free(it);
    return n;
}
