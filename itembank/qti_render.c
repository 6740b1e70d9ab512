/*
 * QTI items as student views: the item body walked with an allow-list of
 * XHTML and MathML (elements and attributes), interactions turned into
 * placeholders plus JSON, scoring data never copied. Anything outside the
 * lists is either dropped with its content (feedback, scorer rubrics) or
 * refused by name, so a published form shows exactly what the student needs.
 */
#include "qti_render.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "html.h"
#include "qti.h"

#define MATHML_NS "http://www.w3.org/1998/Math/MathML"
#define NAME_LEN 96

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void
sb_add(sbuf *b, const char *s, size_t n)
{
    b->p = kt_grow(b->p, &b->cap, b->n + n + 1, 1);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void
sb_str(sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* Text or an attribute value with <, >, & and " escaped. */
static void
sb_esc(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sb_str(b, "&amp;");
            break;
        case '<':
            sb_str(b, "&lt;");
            break;
        case '>':
            sb_str(b, "&gt;");
            break;
        case '"':
            sb_str(b, "&quot;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

static char *
sb_take(sbuf *b)
{
    char *p = b->p ? b->p : strdup("");
    if (!p)
        abort();
    b->p = NULL;
    b->n = b->cap = 0;
    return p;
}

struct gaps {
    json_t *ids; /* gap identifiers in document order */
};

struct rctx {
    kt_qti_errors *errs;
    const char *file;
    const xmlChar *ns; /* the root's namespace */
    bool v3;
    const char *const *assets;
    size_t nassets;
    json_t *interactions, *used_assets, *decls;
    bool in_interaction;
    struct gaps *gaps; /* set while the content of a gapMatch is rendered */
};

__attribute__((format(printf, 3, 4))) static void
fail(struct rctx *r, const xmlNode *n, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kt_qti_error_add(r->errs, r->file, n ? xmlGetLineNo(n) : 0, 0, n ? (const char *)n->name : NULL,
                     "%s", msg);
}

static bool
eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static const char *
fold(const xmlNode *n, char *buf)
{
    return kt_qti_fold_name((const char *)n->name, buf, NAME_LEN);
}

static bool
is_qti(const struct rctx *r, const xmlNode *n)
{
    return !n->ns || (r->ns && xmlStrEqual(n->ns->href, r->ns));
}

static bool
is_mathml(const xmlNode *n)
{
    return n->ns && xmlStrEqual(n->ns->href, (const xmlChar *)MATHML_NS);
}

/* An attribute by its 2.x name, or its QTI 3 kebab-case spelling; malloc'd. */
static char *
qattr(const struct rctx *r, const xmlNode *n, const char *camel)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)camel);
    if (!v && r->v3) {
        char k[NAME_LEN];
        kt_qti_kebab(camel, k, sizeof k);
        v = xmlGetNoNsProp(n, (const xmlChar *)k);
    }
    if (!v)
        return NULL;
    char *s = strdup((const char *)v);
    xmlFree(v);
    if (!s)
        abort();
    return s;
}

static bool
qattr_bool(const struct rctx *r, const xmlNode *n, const char *name, bool def)
{
    char *v = qattr(r, n, name);
    bool out = v ? eq(v, "true") || eq(v, "1") : def;
    free(v);
    return out;
}

/* A non-negative integer attribute into *out: 1, 0 when absent (*out
 * untouched), -1 when malformed. */
static int
qattr_int(const struct rctx *r, const xmlNode *n, const char *name, long *out)
{
    char *v = qattr(r, n, name), *end;
    if (!v)
        return 0;
    long x = strtol(v, &end, 10);
    bool ok = end != v && *end == '\0' && x >= 0 && x <= 100000;
    free(v);
    if (ok)
        *out = x;
    return ok ? 1 : -1;
}

/* ---- XHTML and MathML: the allow-list of html.c --------------------------- */

/* Replaced by their content: links and labels lead nowhere in a test. */
static const char *const UNWRAP[] = {"a", "label", "nav", "details", "summary", "contentBody",
                                     NULL};
/* Never shown to a student, content included. */
static const char *const DROP[] = {"feedbackInline", "feedbackBlock", "modalFeedback",
                                   "stylesheet", NULL};

/* Copies the attributes of n that the allow-list keeps (xml:lang as lang). */
static void
copy_attrs(sbuf *b, const xmlNode *n, const char *el, bool math)
{
    for (const xmlAttr *a = n->properties; a; a = a->next) {
        const char *name = (const char *)a->name;
        bool lang = a->ns && xmlStrEqual(a->ns->prefix, (const xmlChar *)"xml") && eq(name, "lang");
        if (!lang && (a->ns || !(math ? kt_mathml_attr_ok(name) : kt_html_attr_ok(el, name))))
            continue;
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        sb_str(b, " ");
        sb_str(b, lang ? "lang" : name);
        sb_str(b, "=\"");
        sb_esc(b, v ? (const char *)v : "");
        sb_str(b, "\"");
        xmlFree(v);
    }
}

static void render_nodes(struct rctx *r, const xmlNode *first, sbuf *b, int depth);

static bool
too_deep(struct rctx *r, const xmlNode *n, int depth)
{
    if (depth <= KT_QTI_MAX_DEPTH)
        return false;
    fail(r, n, "Nội dung lồng quá sâu (tối đa %d cấp).", KT_QTI_MAX_DEPTH);
    return true;
}

static void
render_math(struct rctx *r, const xmlNode *n, sbuf *b, int depth, bool top)
{
    if (too_deep(r, n, depth))
        return;
    const char *name = (const char *)n->name;
    if (eq(name, "annotation") || eq(name, "annotation-xml"))
        return; /* alternative encodings (TeX, XHTML): not shown */
    if (!kt_mathml_element_ok(name)) {
        fail(r, n, "Phần tử MathML %s chưa hiển thị được cho học sinh.", name);
        return;
    }
    sb_str(b, "<");
    sb_str(b, name);
    if (top)
        sb_str(b, " xmlns=\"" MATHML_NS "\"");
    copy_attrs(b, n, name, true);
    sb_str(b, ">");
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            sb_esc(b, (const char *)c->content);
        else if (c->type == XML_ELEMENT_NODE && (is_mathml(c) || !c->ns || is_qti(r, c)))
            render_math(r, c, b, depth + 1, false);
        else if (c->type == XML_ELEMENT_NODE)
            fail(r, c, "Phần tử %s trong công thức chưa hiển thị được cho học sinh.",
                 (const char *)c->name);
    }
    sb_str(b, "</");
    sb_str(b, name);
    sb_str(b, ">");
}

/* The stored asset an <img src> names: equal to it or the longest path
 * ending with "/" + it (package paths are relative to the package root,
 * src to the item document); NULL when none. */
static const char *
asset_of(const struct rctx *r, const char *src)
{
    while (strncmp(src, "./", 2) == 0)
        src += 2;
    size_t n = strlen(src);
    const char *best = NULL;
    if (!n || strstr(src, "..") || strchr(src, ':') || strchr(src, '?') || strchr(src, '#'))
        return NULL;
    for (size_t i = 0; i < r->nassets; i++) {
        const char *a = r->assets[i];
        size_t m = strlen(a);
        if ((m == n && eq(a, src)) || (m > n && a[m - n - 1] == '/' && eq(a + m - n, src)))
            if (!best || strlen(best) < m)
                best = a;
    }
    return best;
}

/* Percent-decodes src into out (size bytes); false when malformed. */
static bool
pct_decode(const char *src, char *out, size_t size)
{
    size_t o = 0;
    for (; *src; src++) {
        if (o + 1 >= size)
            return false;
        if (*src == '%') {
            unsigned v;
            if (!src[1] || !src[2] || sscanf(src + 1, "%2x", &v) != 1 || v == 0)
                return false;
            out[o++] = (char)v;
            src += 2;
        } else {
            out[o++] = *src;
        }
    }
    out[o] = '\0';
    return true;
}

static void
render_img(struct rctx *r, const xmlNode *n, sbuf *b)
{
    xmlChar *src = xmlGetNoNsProp(n, (const xmlChar *)"src");
    char dec[1024];
    const char *asset = src && pct_decode((const char *)src, dec, sizeof dec) ? asset_of(r, dec)
                                                                               : NULL;
    if (!asset) {
        fail(r, n, "Ảnh \"%s\" không phải tệp đính kèm của câu hỏi; chỉ ảnh trong gói được hiển "
                   "thị cho học sinh.",
             src ? (const char *)src : "");
        xmlFree(src);
        return;
    }
    xmlFree(src);
    sb_str(b, "<img data-kt-asset=\"");
    sb_esc(b, asset);
    sb_str(b, "\"");
    copy_attrs(b, n, "img", false);
    sb_str(b, "/>");
    size_t i;
    json_t *v;
    json_array_foreach(r->used_assets, i, v) if (eq(json_string_value(v), asset)) return;
    json_array_append_new(r->used_assets, json_string(asset));
}

static void render_interaction(struct rctx *r, const xmlNode *n, const char *name, sbuf *b,
                               int depth);

static bool
rubric_for_candidate(const struct rctx *r, const xmlNode *n)
{
    char *view = qattr(r, n, "view");
    bool yes = false;
    for (char *t = view ? strtok(view, " \t\n") : NULL; t; t = strtok(NULL, " \t\n"))
        yes |= eq(t, "candidate");
    free(view);
    return yes;
}

static void
render_element(struct rctx *r, const xmlNode *n, sbuf *b, int depth)
{
    char buf[NAME_LEN];
    if (too_deep(r, n, depth))
        return;
    if (is_mathml(n) || (is_qti(r, n) && eq((const char *)n->name, "math"))) {
        render_math(r, n, b, depth, true);
        return;
    }
    if (!is_qti(r, n)) {
        fail(r, n, "Phần tử %s (không gian tên %s) chưa hiển thị được cho học sinh.",
             (const char *)n->name, (const char *)n->ns->href);
        return;
    }
    const char *name = fold(n, buf);
    size_t len = strlen(name);
    if (len > 11 && eq(name + len - 11, "Interaction")) {
        render_interaction(r, n, name, b, depth);
    } else if (kt_str_in_set(name, DROP) ||
               (eq(name, "rubricBlock") && !rubric_for_candidate(r, n))) {
        return;
    } else if (eq(name, "rubricBlock")) {
        sb_str(b, "<div class=\"kt-rubric\">");
        render_nodes(r, n->children, b, depth + 1);
        sb_str(b, "</div>");
    } else if (kt_str_in_set(name, UNWRAP)) {
        render_nodes(r, n->children, b, depth + 1);
    } else if (eq(name, "gap") && r->gaps) {
        char *id = qattr(r, n, "identifier");
        if (!id) {
            fail(r, n, "Chỗ trống (gap) thiếu identifier.");
            return;
        }
        sb_str(b, "<span data-kt-gap=\"");
        sb_esc(b, id);
        sb_str(b, "\"></span>");
        json_array_append_new(r->gaps->ids, json_string(id));
        free(id);
    } else if (eq(name, "img")) {
        render_img(r, n, b);
    } else if (kt_html_element_ok(name)) {
        sb_str(b, "<");
        sb_str(b, name);
        copy_attrs(b, n, name, false);
        if (kt_html_void(name)) {
            sb_str(b, "/>");
            return;
        }
        sb_str(b, ">");
        render_nodes(r, n->children, b, depth + 1);
        sb_str(b, "</");
        sb_str(b, name);
        sb_str(b, ">");
    } else {
        fail(r, n, "Phần tử %s chưa hiển thị được cho học sinh (chưa giao được câu hỏi này).",
             (const char *)n->name);
    }
}

static void
render_nodes(struct rctx *r, const xmlNode *first, sbuf *b, int depth)
{
    for (const xmlNode *c = first; c; c = c->next) {
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE)
            sb_esc(b, (const char *)c->content);
        else if (c->type == XML_ELEMENT_NODE)
            render_element(r, c, b, depth);
    }
}

static json_t *
html_of(struct rctx *r, const xmlNode *n, int depth)
{
    sbuf b = {0};
    render_nodes(r, n->children, &b, depth + 1);
    char *s = sb_take(&b);
    json_t *j = json_string(s);
    free(s);
    return j ? j : json_string("");
}

/* ---- interactions --------------------------------------------------------- */

/* A choice of an interaction: identifier, html, fixed (and matchMax). */
static json_t *
choice_json(struct rctx *r, const xmlNode *n, int depth, bool match_max)
{
    char *id = qattr(r, n, "identifier");
    if (!id) {
        fail(r, n, "Lựa chọn thiếu identifier.");
        return NULL;
    }
    json_t *c = json_pack("{s:s,s:o,s:b}", "identifier", id, "html", html_of(r, n, depth),
                          "fixed", qattr_bool(r, n, "fixed", false));
    long mm = 0;
    if (match_max && qattr_int(r, n, "matchMax", &mm) < 0)
        fail(r, n, "Thuộc tính matchMax phải là số nguyên không âm.");
    if (match_max)
        json_object_set_new(c, "match_max", json_integer(mm));
    free(id);
    return c;
}

/* An integer attribute as o[key]; def < 0: left out when absent. */
static void
int_field(struct rctx *r, const xmlNode *n, json_t *o, const char *attr, const char *key, long def)
{
    long v = def;
    int rc = qattr_int(r, n, attr, &v);
    if (rc < 0)
        fail(r, n, "Thuộc tính %s phải là số nguyên không âm.", attr);
    else if (rc > 0 || def >= 0)
        json_object_set_new(o, key, json_integer(v));
}

static void
str_field(struct rctx *r, const xmlNode *n, json_t *o, const char *attr, const char *key)
{
    char *v = qattr(r, n, attr);
    if (v)
        json_object_set_new(o, key, json_string(v));
    free(v);
}

/* Walks the children of an interaction: prompt, choices of the given
 * element names (into choices, or into sets for simpleMatchSet), feedback
 * dropped; other content rendered into body when body is given. */
static void
interaction_children(struct rctx *r, const xmlNode *n, json_t *o, const char *choice_el,
                     json_t *choices, sbuf *body, int depth)
{
    char buf[NAME_LEN];
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) {
            if (body && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE))
                sb_esc(body, (const char *)c->content);
            continue;
        }
        const char *name = is_qti(r, c) ? fold(c, buf) : "";
        if (eq(name, "prompt")) {
            json_object_set_new(o, "prompt_html", html_of(r, c, depth));
        } else if (choice_el && eq(name, choice_el)) {
            json_t *ch = choice_json(r, c, depth, eq(name, "simpleAssociableChoice") ||
                                                      eq(name, "gapText"));
            if (ch)
                json_array_append_new(choices, ch);
        } else if (eq(name, "simpleMatchSet") && !body) {
            json_t *set = json_array();
            interaction_children(r, c, o, "simpleAssociableChoice", set, NULL, depth + 1);
            json_array_append_new(json_object_get(o, "sets"), set);
        } else if (kt_str_in_set(name, DROP)) {
            continue;
        } else if (body) {
            render_element(r, c, body, depth + 1);
        } else {
            fail(r, c, "Phần tử %s trong tương tác chưa hiển thị được cho học sinh.",
                 (const char *)c->name);
        }
    }
}

static const char *
decl_field(const struct rctx *r, const char *id, const char *field)
{
    return json_string_value(json_object_get(json_object_get(r->decls, id), field));
}

static void
render_interaction(struct rctx *r, const xmlNode *n, const char *name, sbuf *b, int depth)
{
    static const char *const DELIVERED[] = {"choice", "inlineChoice", "textEntry", "extendedText",
                                            "order",  "match",        "gapMatch",  NULL};
    char type[NAME_LEN];
    snprintf(type, sizeof type, "%.*s", (int)(strlen(name) - 11), name);
    if (!kt_str_in_set(type, DELIVERED)) {
        fail(r, n, "Tương tác %s chưa giao được cho học sinh (giao được: " KT_QTI_DELIVERED ").",
             (const char *)n->name);
        return;
    }
    if (r->in_interaction) {
        fail(r, n, "Tương tác lồng trong tương tác khác không được hỗ trợ.");
        return;
    }
    char *rid = qattr(r, n, "responseIdentifier");
    const char *card = rid ? decl_field(r, rid, "cardinality") : NULL;
    const char *bt = rid ? decl_field(r, rid, "base_type") : NULL;
    if (!rid || !card) {
        fail(r, n, "Tương tác không gắn với khai báo câu trả lời (responseDeclaration) nào.");
        free(rid);
        return;
    }
    r->in_interaction = true;
    json_t *o = json_pack("{s:s,s:s,s:s,s:s?,s:s}", "type", type, "response_identifier", rid,
                          "cardinality", card, "base_type", bt, "prompt_html", "");
    bool single = eq(card, "single");
    const char *want_bt = NULL;
    if (eq(type, "choice") || eq(type, "order")) {
        json_t *choices = json_array();
        json_object_set_new(o, "shuffle", json_boolean(qattr_bool(r, n, "shuffle", false)));
        if (eq(type, "choice")) {
            int_field(r, n, o, "maxChoices", "max_choices", 1);
            int_field(r, n, o, "minChoices", "min_choices", 0);
            if (single) /* one identifier, whatever maxChoices says */
                json_object_set_new(o, "max_choices", json_integer(1));
            else if (!eq(card, "multiple"))
                fail(r, n, "choiceInteraction cần cardinality single hoặc multiple.");
        } else {
            char *mx = qattr(r, n, "maxChoices"), *mn = qattr(r, n, "minChoices");
            if (mx || mn)
                fail(r, n, "orderInteraction với minChoices/maxChoices (chọn rồi sắp xếp một "
                           "phần) chưa giao được.");
            free(mx);
            free(mn);
            if (!eq(card, "ordered"))
                fail(r, n, "orderInteraction cần cardinality ordered.");
            str_field(r, n, o, "orientation", "orientation");
        }
        interaction_children(r, n, o, "simpleChoice", choices, NULL, depth);
        json_object_set_new(o, "choices", choices);
        want_bt = "identifier";
    } else if (eq(type, "inlineChoice")) {
        json_t *choices = json_array();
        json_object_set_new(o, "shuffle", json_boolean(qattr_bool(r, n, "shuffle", false)));
        interaction_children(r, n, o, "inlineChoice", choices, NULL, depth);
        json_object_set_new(o, "choices", choices);
        want_bt = "identifier";
        if (!single)
            fail(r, n, "inlineChoiceInteraction cần cardinality single.");
    } else if (eq(type, "textEntry") || eq(type, "extendedText")) {
        int_field(r, n, o, "expectedLength", "expected_length", -1);
        str_field(r, n, o, "placeholderText", "placeholder");
        str_field(r, n, o, "patternMask", "pattern_mask");
        if (eq(type, "extendedText")) {
            int_field(r, n, o, "expectedLines", "expected_lines", -1);
            interaction_children(r, n, o, NULL, NULL, NULL, depth);
        }
        if (!single)
            fail(r, n, "%s với nhiều chuỗi trả lời (cardinality %s) chưa giao được.",
                 (const char *)n->name, card);
        if (!bt || !(eq(bt, "string") || eq(bt, "integer") || eq(bt, "float")))
            fail(r, n, "%s chỉ giao được với baseType string, integer hoặc float.",
                 (const char *)n->name);
    } else if (eq(type, "match")) {
        json_object_set_new(o, "shuffle", json_boolean(qattr_bool(r, n, "shuffle", false)));
        json_object_set_new(o, "sets", json_array());
        int_field(r, n, o, "maxAssociations", "max_associations", 1);
        int_field(r, n, o, "minAssociations", "min_associations", 0);
        interaction_children(r, n, o, NULL, NULL, NULL, depth);
        if (json_array_size(json_object_get(o, "sets")) != 2)
            fail(r, n, "matchInteraction cần đúng hai simpleMatchSet.");
        want_bt = "directedPair";
    } else { /* gapMatch */
        struct gaps g = {json_array()};
        json_t *choices = json_array();
        sbuf body = {0};
        json_object_set_new(o, "shuffle", json_boolean(qattr_bool(r, n, "shuffle", false)));
        r->gaps = &g;
        interaction_children(r, n, o, "gapText", choices, &body, depth);
        r->gaps = NULL;
        char *html = sb_take(&body);
        json_object_set_new(o, "html", json_string(html));
        free(html);
        json_object_set_new(o, "choices", choices);
        json_object_set_new(o, "gaps", g.ids);
        want_bt = "directedPair";
        if (!json_array_size(g.ids))
            fail(r, n, "gapMatchInteraction không có chỗ trống (gap) nào.");
    }
    if (eq(type, "match") && bt && eq(bt, "pair"))
        want_bt = "pair"; /* unordered pairs: the same grid */
    if (want_bt && (!bt || !eq(bt, want_bt)))
        fail(r, n, "%s cần baseType %s.", (const char *)n->name, want_bt);
    if ((eq(type, "match") || eq(type, "gapMatch")) && !eq(card, "multiple") && !single)
        fail(r, n, "%s cần cardinality single hoặc multiple.", (const char *)n->name);
    r->in_interaction = false;
    char ph[64];
    snprintf(ph, sizeof ph, "<span data-kt-interaction=\"%zu\"></span>",
             json_array_size(r->interactions));
    sb_str(b, ph);
    json_array_append_new(r->interactions, o);
    free(rid);
}

/* ---- the item -------------------------------------------------------------- */

static char *
default_value(const xmlNode *decl)
{
    char buf[NAME_LEN];
    for (const xmlNode *d = decl->children; d; d = d->next) {
        if (d->type != XML_ELEMENT_NODE || !eq(fold(d, buf), "defaultValue"))
            continue;
        for (const xmlNode *v = d->children; v; v = v->next)
            if (v->type == XML_ELEMENT_NODE && eq(fold(v, buf), "value")) {
                xmlChar *t = xmlNodeGetContent(v);
                char *s = strdup(t ? (const char *)t : "");
                xmlFree(t);
                if (!s)
                    abort();
                return s;
            }
    }
    return NULL;
}

json_t *
kt_qti_render(const char *xml, size_t len, const char *file, const char *const *assets,
              size_t nassets, kt_qti_errors *errs)
{
    size_t before = errs->n;
    xmlDoc *doc = kt_qti_xml_read(xml, len, file, errs);
    if (!doc)
        return NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    char buf[NAME_LEN];
    struct rctx r = {.errs = errs,
                     .file = file,
                     .ns = root && root->ns ? root->ns->href : NULL,
                     .v3 = root && strncmp((const char *)root->name, "qti-", 4) == 0,
                     .assets = assets,
                     .nassets = nassets,
                     .interactions = json_array(),
                     .used_assets = json_array(),
                     .decls = json_object()};
    char *max_score = NULL;
    const xmlNode *body = NULL;
    if (!root || !eq(fold(root, buf), "assessmentItem")) {
        fail(&r, root, "Tài liệu không phải câu hỏi QTI (assessmentItem).");
    } else {
        if (qattr_bool(&r, root, "adaptive", false))
            fail(&r, root, "Câu hỏi thích ứng (adaptive=\"true\") chưa giao được.");
        for (const xmlNode *x = root->children; x; x = x->next) {
            if (x->type != XML_ELEMENT_NODE || !is_qti(&r, x))
                continue;
            const char *name = fold(x, buf);
            if (eq(name, "responseDeclaration")) {
                char *id = qattr(&r, x, "identifier"), *card = qattr(&r, x, "cardinality"),
                     *bt = qattr(&r, x, "baseType");
                if (id && card)
                    json_object_set_new(r.decls, id,
                                        json_pack("{s:s,s:s?}", "cardinality", card,
                                                  "base_type", bt));
                free(id);
                free(card);
                free(bt);
            } else if (eq(name, "outcomeDeclaration")) {
                char *id = qattr(&r, x, "identifier");
                if (id && eq(id, "MAXSCORE")) {
                    free(max_score);
                    max_score = default_value(x);
                }
                free(id);
            } else if (eq(name, "templateDeclaration") || eq(name, "templateProcessing")) {
                fail(&r, x, "Câu hỏi có biến mẫu (%s) chưa giao được.", (const char *)x->name);
            } else if (eq(name, "assessmentStimulusRef")) {
                fail(&r, x, "Ngữ liệu dùng chung (%s) chưa giao được.", (const char *)x->name);
            } else if (eq(name, "itemBody")) {
                body = x;
            }
        }
        if (!body)
            fail(&r, root, "Câu hỏi không có itemBody.");
    }
    sbuf b = {0};
    if (body)
        render_nodes(&r, body->children, &b, 2);
    char *html = sb_take(&b);
    json_t *out = NULL;
    if (errs->n == before) {
        if (!json_array_size(r.interactions))
            fail(&r, body, "Câu hỏi không có tương tác nào để học sinh trả lời.");
        else
            out = json_pack("{s:s,s:O,s:O,s:s?}", "html", html, "interactions", r.interactions,
                            "assets", r.used_assets, "max_score", max_score);
    }
    free(html);
    free(max_score);
    json_decref(r.interactions);
    json_decref(r.used_assets);
    json_decref(r.decls);
    xmlFreeDoc(doc);
    return out;
}
