/*
 * QTI assessmentTests as published kiemtra tests: the model of qti.c plus a
 * walk of the XML for what the model keeps only as text (branchRule,
 * preCondition, itemSessionControl, rubricBlock...), each feature kiemtra
 * does not deliver reported by name; then per form a selection and ordering
 * of every section from the form's seed and the student payload.
 */
#include "qti_deliver.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "assembly.h"
#include "forms.h"
#include "prng.h"
#include "qti.h"
#include "qti_render.h"
#include "rp_compile.h"

#define NAME_LEN 96
#define CODE_DOMAIN 0x51D1C0DEull
#define MAX_REFS KT_ASM_MAX_COUNT
#define MAX_ITEM_POINTS 10000 /* hundredths: an item's MAXSCORE is taken up to 100 points */

__attribute__((format(printf, 3, 4))) static void
problem(json_t *problems, const char *element, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_array_append_new(problems, json_pack("{s:s?,s:s}", "element", element, "message", msg));
}

static bool
eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* An attribute by its 2.x name or QTI 3 kebab-case spelling; malloc'd. */
static char *
xattr(const xmlNode *n, const char *camel)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)camel);
    if (!v) {
        char k[NAME_LEN];
        kt_qti_kebab(camel, k, sizeof k);
        v = xmlGetNoNsProp(n, (const xmlChar *)k);
    }
    char *s = v ? strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static bool
xattr_is(const xmlNode *n, const char *name, const char *value)
{
    char *v = xattr(n, name);
    bool yes = eq(v, value);
    free(v);
    return yes;
}

/* ---- features kept only in the XML ---------------------------------------- */

/* Only "the sum of the items' SCORE" is delivered as a test outcome:
 * setOutcomeValue(testVariables SCORE) or (sum(testVariables SCORE)),
 * without weights, sections or categories. */
static bool
expr_is_score_total(const xmlNode *e)
{
    char buf[NAME_LEN];
    if (!e)
        return false;
    const char *name = kt_qti_fold_name((const char *)e->name, buf, sizeof buf);
    if (eq(name, "sum")) {
        const xmlNode *only = NULL;
        int n = 0;
        for (const xmlNode *c = e->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE) {
                only = c;
                n++;
            }
        return n == 1 && expr_is_score_total(only);
    }
    if (!eq(name, "testVariables") || !xattr_is(e, "variableIdentifier", "SCORE"))
        return false;
    static const char *const NOT[] = {"weightIdentifier", "sectionIdentifier", "includeCategory",
                                      "excludeCategory", "baseType"};
    for (size_t i = 0; i < sizeof NOT / sizeof *NOT; i++) {
        char *v = xattr(e, NOT[i]);
        free(v);
        if (v)
            return false;
    }
    return true;
}

static void
check_outcome_processing(const xmlNode *op, json_t *problems)
{
    char buf[NAME_LEN];
    for (const xmlNode *rule = op->children; rule; rule = rule->next) {
        if (rule->type != XML_ELEMENT_NODE)
            continue;
        const xmlNode *expr = NULL;
        for (const xmlNode *c = rule->children; c && !expr; c = c->next)
            if (c->type == XML_ELEMENT_NODE)
                expr = c;
        if (!eq(kt_qti_fold_name((const char *)rule->name, buf, sizeof buf), "setOutcomeValue") ||
            !expr_is_score_total(expr)) {
            problem(problems, "outcomeProcessing",
                    "Xử lý kết quả của đề (outcomeProcessing) chỉ được hỗ trợ khi là tổng SCORE "
                    "của các câu (testVariables SCORE, không trọng số); quy tắc %s chưa giao được.",
                    (const char *)rule->name);
            return;
        }
    }
}

static void
check_session_control(const xmlNode *n, json_t *problems)
{
    char *v = xattr(n, "maxAttempts");
    if (v && !eq(v, "1"))
        problem(problems, "itemSessionControl",
                "itemSessionControl maxAttempts=\"%s\" chưa giao được: mỗi câu được trả lời một "
                "lượt (maxAttempts=\"1\").",
                v);
    free(v);
    static const struct {
        const char *attr, *bad, *why;
    } RULES[] = {
        {"showFeedback", "true", "phản hồi không hiển thị trong khi làm bài"},
        {"showSolution", "true", "lời giải không hiển thị cho học sinh"},
        {"allowComment", "true", "học sinh không gửi được ghi chú"},
        {"validateResponses", "true", "câu trả lời không bị kiểm tra trước khi chuyển câu"},
        {"allowSkipping", "false", "học sinh luôn được bỏ qua câu"},
    };
    for (size_t i = 0; i < sizeof RULES / sizeof *RULES; i++)
        if (xattr_is(n, RULES[i].attr, RULES[i].bad))
            problem(problems, "itemSessionControl",
                    "itemSessionControl %s=\"%s\" chưa giao được (%s).", RULES[i].attr,
                    RULES[i].bad, RULES[i].why);
}

static void
check_xml(const xmlNode *n, const char *parent, json_t *problems, int depth)
{
    char buf[NAME_LEN], pbuf[NAME_LEN];
    if (depth > KT_QTI_MAX_DEPTH)
        return;
    static const struct {
        const char *name, *what;
    } REFUSED[] = {
        {"branchRule", "rẽ nhánh (branchRule)"},
        {"preCondition", "điều kiện trước (preCondition)"},
        {"testFeedback", "phản hồi của đề (testFeedback)"},
        {"rubricBlock", "hướng dẫn trong phần (rubricBlock)"},
        {"variableMapping", "ánh xạ biến (variableMapping)"},
        {"templateDefault", "giá trị mẫu (templateDefault)"},
        {"assessmentSectionRef", "phần tham chiếu tệp khác (assessmentSectionRef)"},
        {"assessmentStimulusRef", "ngữ liệu dùng chung (assessmentStimulusRef)"},
    };
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *name = kt_qti_fold_name((const char *)c->name, buf, sizeof buf);
        bool refused = false;
        for (size_t i = 0; i < sizeof REFUSED / sizeof *REFUSED; i++)
            if (eq(name, REFUSED[i].name)) {
                problem(problems, REFUSED[i].name, "Đề có %s, chưa giao được.", REFUSED[i].what);
                refused = true;
            }
        if (refused)
            continue;
        if (eq(name, "itemSessionControl"))
            check_session_control(c, problems);
        else if (eq(name, "outcomeProcessing"))
            check_outcome_processing(c, problems);
        else if (eq(name, "timeLimits")) {
            char *min = xattr(c, "minTime");
            if (min && strtod(min, NULL) > 0)
                problem(problems, "timeLimits",
                        "Thời gian tối thiểu (minTime) chưa giao được.");
            free(min);
            if (eq(parent, "assessmentSection") || eq(parent, "assessmentItemRef"))
                problem(problems, "timeLimits",
                        "Giới hạn thời gian của %s chưa giao được; chỉ giới hạn của cả đề "
                        "(assessmentTest) hoặc của testPart duy nhất.",
                        parent);
        }
        check_xml(c, kt_qti_fold_name((const char *)c->name, pbuf, sizeof pbuf), problems,
                  depth + 1);
    }
}

/* ---- the model ---------------------------------------------------------------- */

struct walk {
    json_t *problems;
    const kt_qti_node **refs; /* item refs in document order */
    int parts[MAX_REFS];      /* the 1-based top-level section of each */
    size_t nrefs;
    int part;
};

static void
check_node(struct walk *w, const kt_qti_node *n)
{
    if (n->kind == KT_QTI_NODE_ITEM_REF) {
        if (w->nrefs == MAX_REFS)
            problem(w->problems, "assessmentItemRef", "Đề có quá %d câu hỏi.", MAX_REFS);
        else {
            w->parts[w->nrefs] = w->part;
            w->refs[w->nrefs++] = n;
        }
        return;
    }
    if (n->kind == KT_QTI_NODE_SECTION_REF)
        return; /* reported by the XML walk */
    if (n->with_replacement)
        problem(w->problems, "selection",
                "Phần %s chọn câu có hoàn lại (withReplacement=\"true\"), chưa giao được.",
                n->identifier);
    if (n->select < 0 || (n->select > 0 && (size_t)n->select > n->nchildren))
        problem(w->problems, "selection", "Phần %s chọn %ld trong %zu mục.", n->identifier,
                n->select, n->nchildren);
    for (size_t i = 0; i < n->nchildren; i++)
        check_node(w, &n->children[i]);
}

/* Seconds from a timeLimits maxTime, 0 when absent; -1 when not a number. */
static double
seconds(const kt_qti_time_limits *t, bool has)
{
    if (!has || !t->max_time)
        return 0;
    char *end;
    double v = strtod(t->max_time, &end);
    return end == t->max_time || *end || !(v > 0) ? -1 : v;
}

/* Parses the test and checks every feature; w->refs gets the item refs.
 * Returns the parsed test (free with kt_qti_test_free) or NULL. */
static kt_qti_test *
read_test(const char *xml, size_t len, struct walk *w, double *max_time)
{
    kt_qti_errors errs;
    kt_qti_doc doc;
    kt_qti_errors_init(&errs);
    int rc = kt_qti_parse(xml, len, "test.xml", &doc, &errs);
    for (size_t i = 0; rc < 0 && i < errs.n; i++)
        problem(w->problems, errs.v[i].element, "%s", errs.v[i].message);
    kt_qti_errors_free(&errs);
    if (rc < 0)
        return NULL;
    kt_qti_test *t = doc.test;
    if (!t || t->section) {
        problem(w->problems, NULL, "Tài liệu không phải đề thi QTI (assessmentTest).");
        kt_qti_doc_free(&doc);
        return NULL;
    }
    *max_time = seconds(&t->time_limits, t->has_time_limits);
    for (size_t p = 0; p < t->nparts; p++) {
        const kt_qti_test_part *part = &t->parts[p];
        if (!eq(part->navigation_mode, "linear") && !eq(part->navigation_mode, "nonlinear"))
            problem(w->problems, "testPart", "navigationMode \"%s\" không hợp lệ.",
                    part->navigation_mode);
        if (p && !eq(part->navigation_mode, t->parts[0].navigation_mode))
            problem(w->problems, "testPart",
                    "Các testPart có cách di chuyển khác nhau (%s, %s), chưa giao được.",
                    t->parts[0].navigation_mode, part->navigation_mode);
        if (!eq(part->submission_mode, "individual") && !eq(part->submission_mode, "simultaneous"))
            problem(w->problems, "testPart", "submissionMode \"%s\" không hợp lệ.",
                    part->submission_mode);
        double pt = seconds(&part->time_limits, part->has_time_limits);
        if (pt != 0 && (t->nparts > 1 || *max_time != 0))
            problem(w->problems, "timeLimits",
                    "Giới hạn thời gian của testPart chỉ được dùng khi đề có một testPart và "
                    "không có giới hạn chung.");
        else if (pt != 0)
            *max_time = pt;
        for (size_t s = 0; s < part->nsections; s++) {
            w->part++;
            check_node(w, &part->sections[s]);
        }
    }
    if (*max_time < 0)
        problem(w->problems, "timeLimits", "maxTime phải là số giây dương.");
    kt_qti_errors_init(&errs);
    xmlDoc *x = kt_qti_xml_read(xml, len, "test.xml", &errs);
    kt_qti_errors_free(&errs);
    if (x)
        check_xml(xmlDocGetRootElement(x), "assessmentTest", w->problems, 1);
    xmlFreeDoc(x);
    return t;
}

/* The names an item ref may have been imported under, best first. */
static json_t *
ref_names(const kt_qti_node *n)
{
    json_t *names = json_array();
    json_array_append_new(names, json_string(n->identifier));
    const char *href = n->href ? n->href : "";
    const char *slash = strrchr(href, '/');
    const char *base = slash ? slash + 1 : href;
    const char *dot = strrchr(base, '.');
    size_t blen = dot ? (size_t)(dot - base) : strlen(base);
    if (blen) {
        json_t *s = json_stringn(base, blen);
        if (!json_equal(s, json_array_get(names, 0)))
            json_array_append(names, s);
        json_decref(s);
    }
    if (slash && slash > href) {
        const char *d = slash;
        while (d > href && d[-1] != '/')
            d--;
        json_array_append_new(names, json_stringn(d, (size_t)(slash - d)));
    }
    return names;
}

json_t *
kt_qti_test_refs(const char *xml, size_t len, json_t *problems)
{
    const kt_qti_node *refs[MAX_REFS];
    struct walk w = {.problems = problems, .refs = refs};
    double max_time = 0;
    kt_qti_test *t = read_test(xml, len, &w, &max_time);
    if (!t)
        return NULL;
    json_t *out = json_array();
    for (size_t i = 0; i < w.nrefs; i++)
        json_array_append_new(out, json_pack("{s:s,s:s?,s:o}", "ref", refs[i]->identifier,
                                             "href", refs[i]->href, "names",
                                             ref_names(refs[i])));
    kt_qti_test_free(t);
    return out;
}

/* ---- forms ---------------------------------------------------------------------- */

struct resolved {
    const json_t *item; /* {id, version, status, xml, assets} */
    json_t *view;       /* kt_qti_render */
    int64_t points;     /* hundredths */
    int index;          /* 1-based position among the test's item refs */
};

struct build {
    const kt_qti_node **refs;
    size_t nrefs;
    struct resolved *res; /* per ref */
    kt_prng prng;
    json_t *items; /* payload items of the form being built */
    int part;
};

static size_t
ref_index(const struct build *b, const kt_qti_node *n)
{
    for (size_t i = 0; i < b->nrefs; i++)
        if (b->refs[i] == n)
            return i;
    return 0;
}

/* Shuffles the non-fixed entries of a JSON array in place. */
static void
shuffle_json(kt_prng *p, json_t *arr, bool (*fixed)(const json_t *))
{
    size_t n = json_array_size(arr), nfree = 0;
    size_t pos[MAX_REFS * 2];
    for (size_t i = 0; i < n && nfree < sizeof pos / sizeof *pos; i++)
        if (!fixed(json_array_get(arr, i)))
            pos[nfree++] = i;
    for (size_t i = nfree; i > 1; i--) {
        size_t j = (size_t)kt_prng_below(p, i);
        json_t *a = json_incref(json_array_get(arr, pos[i - 1]));
        json_t *c = json_incref(json_array_get(arr, pos[j]));
        json_array_set_new(arr, pos[i - 1], c);
        json_array_set_new(arr, pos[j], a);
    }
}

static bool
is_fixed(const json_t *c)
{
    return json_is_true(json_object_get(c, "fixed"));
}

/* The view of one item for one form: choices of shuffle="true"
 * interactions permuted (fixed ones keep their place). */
static json_t *
form_view(kt_prng *p, const json_t *view)
{
    json_t *v = json_deep_copy(view);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(v, "interactions"), i, it)
    {
        if (!json_is_true(json_object_get(it, "shuffle")))
            continue;
        if (json_is_array(json_object_get(it, "choices")))
            shuffle_json(p, json_object_get(it, "choices"), is_fixed);
        size_t k;
        json_t *set;
        json_array_foreach(json_object_get(it, "sets"), k, set) shuffle_json(p, set, is_fixed);
    }
    return v;
}

static void
emit_item(struct build *b, const kt_qti_node *n)
{
    const struct resolved *r = &b->res[ref_index(b, n)];
    json_t *view = form_view(&b->prng, r->view);
    char ref[16];
    snprintf(ref, sizeof ref, "q%d", r->index);
    json_t *item = json_pack("{s:s,s:i,s:i,s:s,s:o,s:O,s:O,s:O}", "ref", ref, "number",
                             (int)json_array_size(b->items) + 1, "part", b->part, "kind", "QTI",
                             "points", kt_forms_points_json(r->points), "html",
                             json_object_get(view, "html"), "interactions",
                             json_object_get(view, "interactions"), "assets",
                             json_object_get(view, "assets"));
    json_decref(view);
    json_array_append_new(b->items, item);
}

/* Selection then ordering of a section's children, then its items in that
 * order (a sub-section moves as one block). */
static void
emit_section(struct build *b, const kt_qti_node *s)
{
    size_t n = s->nchildren;
    json_t *order = json_array(); /* [{i, fixed}] */
    bool *take = calloc(n ? n : 1, sizeof *take);
    if (!take)
        abort();
    size_t want = s->select > 0 ? (size_t)s->select : n, have = 0;
    for (size_t i = 0; i < n && have < want; i++)
        if (s->children[i].required) {
            take[i] = true;
            have++;
        }
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += !take[i];
    for (size_t i = 0; i < n && have < want; i++) {
        if (take[i])
            continue;
        /* Selection sampling: each remaining child with probability
         * (still wanted) / (still available). */
        if (kt_prng_below(&b->prng, left) < want - have) {
            take[i] = true;
            have++;
        }
        left--;
    }
    for (size_t i = 0; i < n; i++)
        if (take[i])
            json_array_append_new(order, json_pack("{s:I,s:b}", "i", (json_int_t)i, "fixed",
                                                   s->children[i].fixed));
    if (s->shuffle)
        shuffle_json(&b->prng, order, is_fixed);
    size_t k;
    json_t *o;
    json_array_foreach(order, k, o)
    {
        const kt_qti_node *c = &s->children[json_integer_value(json_object_get(o, "i"))];
        if (c->kind == KT_QTI_NODE_ITEM_REF)
            emit_item(b, c);
        else if (c->kind == KT_QTI_NODE_SECTION)
            emit_section(b, c);
    }
    json_decref(order);
    free(take);
}

static void
resolve(const kt_qti_node *n, int index, const json_t *items, struct resolved *r,
        json_t *problems)
{
    json_t *names = ref_names(n);
    size_t i;
    json_t *name;
    r->index = index;
    json_array_foreach(names, i, name)
    {
        if ((r->item = json_object_get(items, json_string_value(name))))
            break;
    }
    json_decref(names);
    if (!r->item) {
        problem(problems, "assessmentItemRef",
                "Câu %s (%s) chưa được nhập vào ngân hàng của trường (không có câu hỏi QTI nào "
                "mang mã này).",
                n->identifier, n->href ? n->href : "");
        return;
    }
    const char *xml = json_string_value(json_object_get(r->item, "xml"));
    if (eq(json_string_value(json_object_get(r->item, "status")), "retired")) {
        problem(problems, "assessmentItemRef", "Câu %s đã ngừng sử dụng.", n->identifier);
        return;
    }
    const json_t *assets = json_object_get(r->item, "assets");
    size_t na = json_array_size(assets);
    const char **paths = calloc(na ? na : 1, sizeof *paths);
    if (!paths)
        abort();
    for (size_t k = 0; k < na; k++)
        paths[k] = json_string_value(json_array_get(assets, k));
    kt_qti_errors errs;
    kt_qti_errors_init(&errs);
    const char *unsupported = NULL;
    r->view = kt_qti_render(xml ? xml : "", xml ? strlen(xml) : 0, n->identifier, paths, na, &errs);
    kt_rp_item *rp = r->view ? kt_rp_compile_checked(xml, strlen(xml), n->identifier, &errs,
                                                     &unsupported)
                             : NULL;
    if (r->view && !rp) {
        json_decref(r->view);
        r->view = NULL;
    } else if (rp && unsupported && *unsupported) {
        problem(problems, unsupported, "Câu %s: chưa chấm được (%s).", n->identifier,
                unsupported);
        json_decref(r->view);
        r->view = NULL;
    }
    kt_rp_item_free(rp);
    for (size_t k = 0; k < errs.n; k++)
        if (errs.v[k].line > 0)
            problem(problems, errs.v[k].element, "Câu %s (dòng %ld): %s", n->identifier,
                    errs.v[k].line, errs.v[k].message);
        else
            problem(problems, errs.v[k].element, "Câu %s: %s", n->identifier, errs.v[k].message);
    kt_qti_errors_free(&errs);
    free(paths);
    const char *ms = r->view ? json_string_value(json_object_get(r->view, "max_score")) : NULL;
    json_t *msj = ms ? json_string(ms) : NULL;
    int64_t pts = msj ? kt_forms_points(msj) : -1;
    json_decref(msj);
    r->points = pts > 0 && pts <= MAX_ITEM_POINTS ? pts : 100;
}

void
kt_qti_publish_build(const char *xml, size_t len, const json_t *test, const json_t *items,
                     uint64_t seed, kt_qti_publish *out)
{
    memset(out, 0, sizeof *out);
    out->problems = json_array();
    out->rc = 1;
    const kt_qti_node *refs[MAX_REFS];
    struct walk w = {.problems = out->problems, .refs = refs};
    double max_time = 0;
    kt_qti_test *t = read_test(xml, len, &w, &max_time);
    if (!t)
        return;
    if (!w.nrefs)
        problem(out->problems, "assessmentTest", "Đề không có câu hỏi nào (assessmentItemRef).");
    const json_t *dur = json_object_get(test, "duration_seconds");
    double d = max_time > 0 ? floor(max_time) : json_is_integer(dur) ? (double)json_integer_value(dur) : 0;
    if (max_time > 0 && json_is_integer(dur) && (double)json_integer_value(dur) != d)
        problem(out->problems, "timeLimits",
                "Đề QTI đã có thời gian làm bài %.0f giây (maxTime); không đặt được "
                "duration_seconds khác.",
                d);
    else if (d < 60 || d > 14400)
        problem(out->problems, "timeLimits",
                "Thời gian làm bài phải từ 60 đến 14400 giây: đề không có maxTime thì hãy gửi "
                "duration_seconds.");
    struct resolved *res = calloc(w.nrefs ? w.nrefs : 1, sizeof *res);
    if (!res)
        abort();
    for (size_t i = 0; i < w.nrefs; i++)
        resolve(refs[i], (int)i + 1, items, &res[i], out->problems);
    int nforms = (int)json_integer_value(json_object_get(test, "forms"));
    if (json_array_size(out->problems) == 0) {
        out->rc = 0;
        out->duration_seconds = (int)d;
        out->navigation_mode = eq(t->parts[0].navigation_mode, "linear") ? "linear" : "nonlinear";
        out->items = json_array();
        for (size_t i = 0; i < w.nrefs; i++) {
            char ref[24];
            snprintf(ref, sizeof ref, "q%zu", i + 1);
            json_array_append_new(
                out->items,
                json_pack("{s:s,s:I,s:I,s:i,s:i,s:I}", "ref", ref, "item",
                          json_integer_value(json_object_get(res[i].item, "id")), "version",
                          json_integer_value(json_object_get(res[i].item, "version")), "cell",
                          (int)i, "part", w.parts[i], "points", (json_int_t)res[i].points));
        }
        out->forms = json_array();
        size_t codes[900];
        for (size_t c = 0; c < 900; c++)
            codes[c] = 100 + c;
        kt_prng cp;
        kt_prng_seed(&cp, seed ^ CODE_DOMAIN);
        for (int f = 0; f < nforms; f++) {
            size_t j = (size_t)f + (size_t)kt_prng_below(&cp, 900 - (uint64_t)f), tmp = codes[f];
            codes[f] = codes[j];
            codes[j] = tmp;
            uint64_t fseed = kt_asm_form_seed(seed, f);
            struct build b = {refs, w.nrefs, res, {{0}}, json_array(), 0};
            kt_prng_seed(&b.prng, fseed);
            json_t *parts = json_array();
            for (size_t p = 0; p < t->nparts; p++)
                for (size_t s = 0; s < t->parts[p].nsections; s++) {
                    const kt_qti_node *sec = &t->parts[p].sections[s];
                    size_t before = json_array_size(b.items);
                    b.part++;
                    emit_section(&b, sec);
                    int64_t pts = 0;
                    for (size_t k = before; k < json_array_size(b.items); k++)
                        pts += kt_forms_points(json_object_get(json_array_get(b.items, k),
                                                               "points"));
                    char title[200];
                    snprintf(title, sizeof title, "%s",
                             sec->title && *sec->title ? sec->title : sec->identifier);
                    json_array_append_new(parts, json_pack("{s:i,s:s,s:s,s:o}", "part", b.part,
                                                           "format", "QTI", "title", title,
                                                           "points", kt_forms_points_json(pts)));
                }
            int64_t total = 0;
            size_t k;
            json_t *it;
            json_array_foreach(b.items, k, it) total += kt_forms_points(json_object_get(it, "points"));
            if (f == 0)
                out->total_points = total;
            char code[8];
            snprintf(code, sizeof code, "%03zu", codes[f]);
            json_t *payload = json_pack(
                "{s:{s:O,s:O,s:O,s:O,s:i,s:o,s:s},s:o,s:o,s:s}", "test", "title",
                json_object_get(test, "title"), "subject", json_object_get(test, "subject"),
                "grade", json_object_get(test, "grade"), "kind", json_object_get(test, "kind"),
                "duration_seconds", out->duration_seconds, "total_points",
                kt_forms_points_json(total), "navigation_mode", out->navigation_mode, "parts",
                parts, "items", b.items, "form_code", code);
            json_array_append_new(out->forms, json_pack("{s:i,s:s,s:I,s:o}", "idx", f, "code",
                                                        code, "seed", (json_int_t)fseed,
                                                        "payload", payload));
        }
    }
    for (size_t i = 0; i < w.nrefs; i++)
        json_decref(res[i].view);
    free(res);
    kt_qti_test_free(t);
}

void
kt_qti_publish_free(kt_qti_publish *p)
{
    json_decref(p->problems);
    json_decref(p->items);
    json_decref(p->forms);
    memset(p, 0, sizeof *p);
}
