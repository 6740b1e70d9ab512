/*
 * QTI export. Items of the Vietnamese kinds are built as QTI 2.2 trees with
 * libxml2 (HTML fragments parsed safely, MathML put in its namespace) and,
 * for 3.0, renamed by the same converter kt_qti_convert uses; every result
 * is checked with kt_qti_parse. Packages are written in memory with libzip:
 * a manifest, one resource per item with its assets and kiemtra tags.
 */
#include "qti_export.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "decimal.h"
#include "item.h"
#include "text.h"

#define NS_QTI22 "http://www.imsglobal.org/xsd/imsqti_v2p2"
#define NS_QTI30 "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
#define NS_MATHML "http://www.w3.org/1998/Math/MathML"
#define NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define NS_CP22 "http://www.imsglobal.org/xsd/imscp_v1p1"
#define NS_CP30 "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
#define RPT22 "http://www.imsglobal.org/question/qti_v2p2/rptemplates/"
#define RPT30 "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/"
#define MANIFEST_ID "KIEMTRA-EXPORT"
#define ZIP_MTIME 946684800 /* 2000-01-01: the same input gives the same archive */
#define NAME_LEN 96
#define X(s) ((const xmlChar *)(s))

/* Every QTI element of items, tests and sections in its 2.x spelling (with
 * the QTI 3 catalog and companion-materials containers, so that 3.0 -> 2.2
 * -> 3.0 gives the names back); what is not here is XHTML and keeps its name
 * in QTI 3. Sorted for bsearch. */
static const char *const QTI_ELEMENTS[] = {
    "and",
    "anyN",
    "areaMapEntry",
    "areaMapping",
    "assessmentItem",
    "assessmentItemRef",
    "assessmentSection",
    "assessmentSectionRef",
    "assessmentStimulus",
    "assessmentStimulusRef",
    "assessmentTest",
    "associableHotspot",
    "associateInteraction",
    "baseValue",
    "branchRule",
    "card",
    "cardEntry",
    "catalog",
    "catalogInfo",
    "choiceInteraction",
    "companionMaterialsInfo",
    "containerSize",
    "contains",
    "contextDeclaration",
    "correct",
    "correctResponse",
    "customInteraction",
    "customOperator",
    "default",
    "defaultValue",
    "delete",
    "divide",
    "drawingInteraction",
    "durationGTE",
    "durationLT",
    "endAttemptInteraction",
    "equal",
    "equalRounded",
    "exitResponse",
    "exitTemplate",
    "exitTest",
    "extendedTextInteraction",
    "feedbackBlock",
    "feedbackInline",
    "fieldValue",
    "fileHref",
    "gap",
    "gapImg",
    "gapMatchInteraction",
    "gapText",
    "gcd",
    "graphicAssociateInteraction",
    "graphicGapMatchInteraction",
    "graphicOrderInteraction",
    "gt",
    "gte",
    "hotspotChoice",
    "hotspotInteraction",
    "hottext",
    "hottextInteraction",
    "htmlContent",
    "index",
    "infoControl",
    "inlineChoice",
    "inlineChoiceInteraction",
    "inside",
    "integerDivide",
    "integerModulus",
    "integerToFloat",
    "interpolationTable",
    "interpolationTableEntry",
    "isNull",
    "itemBody",
    "itemSessionControl",
    "itemSubset",
    "lcm",
    "lookupOutcomeValue",
    "lt",
    "lte",
    "mapEntry",
    "mapResponse",
    "mapResponsePoint",
    "mapping",
    "match",
    "matchInteraction",
    "matchTable",
    "matchTableEntry",
    "mathConstant",
    "mathOperator",
    "max",
    "mediaInteraction",
    "member",
    "min",
    "modalFeedback",
    "multiple",
    "not",
    "null",
    "numberCorrect",
    "numberIncorrect",
    "numberPresented",
    "numberResponded",
    "numberSelected",
    "or",
    "orderInteraction",
    "ordered",
    "ordering",
    "outcomeCondition",
    "outcomeDeclaration",
    "outcomeElse",
    "outcomeElseIf",
    "outcomeIf",
    "outcomeMaximum",
    "outcomeMinimum",
    "outcomeProcessing",
    "outcomeProcessingFragment",
    "patternMatch",
    "portableCustomInteraction",
    "positionObjectInteraction",
    "positionObjectStage",
    "power",
    "preCondition",
    "printedVariable",
    "product",
    "prompt",
    "random",
    "randomFloat",
    "randomInteger",
    "repeat",
    "responseCondition",
    "responseDeclaration",
    "responseElse",
    "responseElseIf",
    "responseIf",
    "responseProcessing",
    "responseProcessingFragment",
    "round",
    "roundTo",
    "rubricBlock",
    "selectPointInteraction",
    "selection",
    "setCorrectResponse",
    "setDefaultValue",
    "setOutcomeValue",
    "setTemplateValue",
    "simpleAssociableChoice",
    "simpleChoice",
    "simpleMatchSet",
    "sliderInteraction",
    "statsOperator",
    "stimulusBody",
    "stringMatch",
    "stylesheet",
    "substring",
    "subtract",
    "sum",
    "templateBlock",
    "templateCondition",
    "templateConstraint",
    "templateDeclaration",
    "templateDefault",
    "templateElse",
    "templateElseIf",
    "templateIf",
    "templateInline",
    "templateProcessing",
    "testFeedback",
    "testPart",
    "testVariables",
    "textEntryInteraction",
    "timeLimits",
    "truncate",
    "uploadInteraction",
    "value",
    "variable",
    "variableMapping",
    "weight",
};

/* QTI 3 wraps the content of these in qti-content-body. */
static const char *const CONTENT_BODY_HOLDERS[] = {"rubricBlock", "modalFeedback", "feedbackBlock",
                                                   "testFeedback"};

/* QTI 3 names whose 2.x spelling is not the plain camelCase fold. */
static const char *const ACRONYMS[][2] = {
    {"qti-duration-gte", "durationGTE"},
    {"qti-duration-lt", "durationLT"},
};

static bool
eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (eq(s, list[i]))
            return true;
    return false;
}

static int
cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static bool
is_qti_name(const char *name)
{
    return bsearch(name, QTI_ELEMENTS, sizeof QTI_ELEMENTS / sizeof *QTI_ELEMENTS,
                   sizeof *QTI_ELEMENTS, cmp_name) != NULL;
}

/* "2.2" -> false, "3.0" -> true; anything else is reported. */
static int
target_version(const char *version, bool *v3, kt_qti_errors *errs, const char *file)
{
    if (version && (eq(version, "2.2") || eq(version, "3.0"))) {
        *v3 = eq(version, "3.0");
        return 0;
    }
    kt_qti_error_add(errs, file, 0, 0, NULL,
                     "Phiên bản QTI \"%s\" không được hỗ trợ khi xuất (chỉ \"2.2\" hoặc \"3.0\").",
                     version ? version : "");
    return -1;
}

static char *
serialise(xmlDoc *doc, bool format)
{
    xmlChar *mem = NULL;
    int len = 0;
    xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", format);
    char *out = mem ? malloc((size_t)len + 1) : NULL;
    if (!out)
        abort();
    memcpy(out, mem, (size_t)len);
    out[len] = '\0';
    xmlFree(mem);
    return out;
}

/* ---- conversion between QTI 2.x and 3.0 ---------------------------------- */

struct conv {
    bool from_v3, to_v3;
    const xmlChar *src_ns, *dst_ns; /* src_ns NULL when the source has no namespace */
};

/* assessmentItem -> assessment-item, durationGTE -> duration-gte. */
static void
kebab(const char *camel, char *buf, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; camel[i] && o + 2 < size; i++) {
        unsigned char ch = (unsigned char)camel[i];
        if (isupper(ch) && i > 0 && !isupper((unsigned char)camel[i - 1]))
            buf[o++] = '-';
        buf[o++] = (char)tolower(ch);
    }
    buf[o] = '\0';
}

/* The 2.x spelling of a QTI 3 name (a 2.x name is returned as is). */
static const char *
fold(const char *name, char *buf, size_t size)
{
    for (size_t i = 0; i < sizeof ACRONYMS / sizeof *ACRONYMS; i++)
        if (eq(name, ACRONYMS[i][0]))
            return ACRONYMS[i][1];
    return kt_qti_fold_name(name, buf, size);
}

/* True when n is an element of the document's QTI namespace. */
static bool
in_qti_ns(const struct conv *c, const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, c->dst_ns);
}

/* Points every declaration of the source QTI namespace at the target one;
 * a document without a namespace gets the target as its default. */
static void
retarget_namespace(const struct conv *c, xmlNode *n, xmlNs *added)
{
    for (xmlNs *ns = n->nsDef; ns; ns = ns->next)
        if (c->src_ns && xmlStrEqual(ns->href, c->src_ns)) {
            xmlFree((xmlChar *)ns->href);
            ns->href = xmlStrdup(c->dst_ns);
        }
    if (added && !n->ns)
        xmlSetNs(n, added);
    for (xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            retarget_namespace(c, x, added);
}

/* Renames a QTI element for the target version; false when it is XHTML. */
static bool
rename_element(const struct conv *c, xmlNode *n)
{
    char buf[NAME_LEN + 4], kebabbed[NAME_LEN];
    const char *name = (const char *)n->name;

    if (c->to_v3 && is_qti_name(name)) {
        kebab(name, kebabbed, sizeof kebabbed);
        snprintf(buf, sizeof buf, "qti-%s", kebabbed);
        xmlNodeSetName(n, X(buf));
        return true;
    }
    if (!c->to_v3 && strncmp(name, "qti-", 4) == 0) {
        xmlNodeSetName(n, X(fold(name, buf, sizeof buf)));
        return true;
    }
    return false;
}

/* maxChoices <-> max-choices; data-* and aria-* and namespaced ones stay. */
static void
rename_attributes(const struct conv *c, xmlNode *n)
{
    char buf[NAME_LEN];
    for (xmlAttr *a = n->properties; a; a = a->next) {
        const char *name = (const char *)a->name, *to = buf;
        if (a->ns || strncmp(name, "data-", 5) == 0 || strncmp(name, "aria-", 5) == 0)
            continue;
        if (c->to_v3)
            kebab(name, buf, sizeof buf);
        else
            to = kt_qti_fold_name(name, buf, sizeof buf);
        if (!eq(to, name))
            xmlNodeSetName((xmlNode *)a, X(to));
    }
}

/* A known response-processing template URI in the target version's form. */
static void
rewrite_template(const struct conv *c, xmlNode *n)
{
    xmlChar *uri = xmlGetNoNsProp(n, X("template"));
    const char *name = uri ? kt_qti_rp_template_name((const char *)uri) : NULL;
    if (name) {
        char buf[160];
        if (c->to_v3)
            snprintf(buf, sizeof buf, RPT30 "%s.xml", name);
        else
            snprintf(buf, sizeof buf, RPT22 "%s", name);
        xmlSetProp(n, X("template"), X(buf));
    }
    xmlFree(uri);
}

/* Drops the schemaLocation pairs of the source QTI namespace. */
static void
drop_schema_pairs(const struct conv *c, xmlNode *n)
{
    xmlAttr *a = xmlHasNsProp(n, X("schemaLocation"), X(NS_XSI));
    xmlChar *v = a && c->src_ns ? xmlNodeGetContent((xmlNode *)a) : NULL;
    if (!v)
        return;
    size_t len = strlen((const char *)v), o = 0;
    char *kept = malloc(len + 1), *save = NULL;
    if (!kept)
        abort();
    for (char *ns = strtok_r((char *)v, " \t\r\n", &save); ns;
         ns = strtok_r(NULL, " \t\r\n", &save)) {
        char *loc = strtok_r(NULL, " \t\r\n", &save);
        if (xmlStrEqual(X(ns), c->src_ns))
            continue;
        o +=
            (size_t)sprintf(kept + o, "%s%s%s%s", o ? " " : "", ns, loc ? " " : "", loc ? loc : "");
    }
    if (o)
        xmlSetNsProp(n, a->ns, X("schemaLocation"), X(kept));
    else
        xmlRemoveProp(a);
    free(kept);
    xmlFree(v);
}

/* QTI 3: the content of n (less its stylesheets) into a qti-content-body. */
static void
wrap_content_body(xmlNode *n)
{
    for (const xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE && xmlStrEqual(x->name, X("qti-content-body")))
            return;
    xmlNode *body = xmlNewDocNode(n->doc, n->ns, X("qti-content-body"), NULL);
    for (xmlNode *x = n->children, *next; x; x = next) {
        next = x->next;
        if (x->type == XML_ELEMENT_NODE && xmlStrEqual(x->name, X("qti-stylesheet")))
            continue;
        xmlUnlinkNode(x);
        xmlAddChild(body, x);
    }
    xmlAddChild(n, body);
}

/* QTI 2.x: the content of a contentBody n in its place; n is freed. */
static void
unwrap_content_body(xmlNode *n)
{
    for (xmlNode *x = n->children, *next; x; x = next) {
        next = x->next;
        xmlUnlinkNode(x);
        xmlAddPrevSibling(n, x);
    }
    xmlUnlinkNode(n);
    xmlFreeNode(n);
}

/* Converts n and its subtree; n may be freed (an unwrapped contentBody). */
static void
convert_element(const struct conv *c, xmlNode *n)
{
    char buf[NAME_LEN], name[NAME_LEN];
    bool qti = in_qti_ns(c, n);

    snprintf(name, sizeof name, "%s", fold((const char *)n->name, buf, sizeof buf));
    if (qti && c->from_v3 != c->to_v3 && rename_element(c, n))
        rename_attributes(c, n);
    if (qti && eq(name, "responseProcessing"))
        rewrite_template(c, n);
    drop_schema_pairs(c, n);
    for (xmlNode *x = n->children, *next; x; x = next) {
        next = x->next;
        if (x->type == XML_ELEMENT_NODE)
            convert_element(c, x);
    }
    if (qti && c->to_v3 && !c->from_v3 &&
        in_list(name, CONTENT_BODY_HOLDERS,
                sizeof CONTENT_BODY_HOLDERS / sizeof *CONTENT_BODY_HOLDERS))
        wrap_content_body(n);
    else if (qti && c->from_v3 && !c->to_v3 && eq(name, "contentBody"))
        unwrap_content_body(n);
}

static void
convert_doc(xmlDoc *doc, bool from_v3, bool to_v3)
{
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlChar *src = root->ns ? xmlStrdup(root->ns->href) : NULL;
    struct conv c = {from_v3, to_v3, src, X(to_v3 ? NS_QTI30 : NS_QTI22)};

    retarget_namespace(&c, root, src ? NULL : xmlNewNs(root, c.dst_ns, NULL));
    convert_element(&c, root);
    xmlFree(src);
}

/* 1 for a QTI 3 item, test or section, 0 for QTI 2.x, -1 for anything else. */
static int
root_version(const xmlNode *root)
{
    static const char *const ROOTS[] = {"assessmentItem", "assessmentTest", "assessmentSection"};
    char buf[NAME_LEN];
    const char *name = (const char *)root->name;

    if (!in_list(kt_qti_fold_name(name, buf, sizeof buf), ROOTS, 3))
        return -1;
    return strncmp(name, "qti-", 4) == 0;
}

char *
kt_qti_convert(const char *xml, size_t len, const char *version, kt_qti_errors *errs)
{
    bool to_v3;
    if (target_version(version, &to_v3, errs, NULL) < 0)
        return NULL;
    xmlDoc *doc = kt_qti_xml_read(xml, len, NULL, errs);
    if (!doc)
        return NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    int from = root ? root_version(root) : -1;
    bool is22 = root && root->ns && xmlStrEqual(root->ns->href, X(NS_QTI22));
    char *out = NULL;

    if (from < 0) {
        kt_qti_error_add(errs, NULL, 0, 0, root ? (const char *)root->name : NULL,
                         "Chỉ chuyển đổi được câu hỏi, đề thi hoặc phần thi QTI.");
    } else if ((from == 1 && to_v3) || (from == 0 && !to_v3 && is22)) {
        if (!(out = malloc(len + 1)))
            abort();
        memcpy(out, xml, len);
        out[len] = '\0';
    } else {
        convert_doc(doc, from == 1, to_v3);
        out = serialise(doc, false);
    }
    xmlFreeDoc(doc);
    return out;
}

/* ---- items of the Vietnamese kinds ---------------------------------------- */

struct gen {
    xmlDoc *doc;
    xmlNode *root, *body;
    xmlNs *ns;
    kt_qti_errors *errs;
    const char *id;
    const json_t *content, *scoring;
};

static xmlNode *
add(struct gen *g, xmlNode *parent, const char *name)
{
    return xmlNewChild(parent, g->ns, X(name), NULL);
}

static xmlNode *
add_text(struct gen *g, xmlNode *parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, g->ns, X(name), X(text));
}

static void
set(xmlNode *n, const char *name, const char *value)
{
    xmlNewProp(n, X(name), X(value));
}

static const char *
str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ---- HTML fragments -------------------------------------------------------- */

static void copy_children(struct gen *g, xmlNode *dst, const xmlNode *src, bool in_math,
                          const char *field);

static xmlNs *
namespace_for(xmlNode *e, const xmlChar *href, const xmlChar *prefix)
{
    xmlNs *ns = xmlSearchNsByHref(e->doc, e, href);
    return ns ? ns : xmlNewNs(e, href, prefix);
}

static void
copy_attributes(xmlNode *e, const xmlNode *src)
{
    for (const xmlAttr *a = src->properties; a; a = a->next) {
        xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
        if (a->ns)
            xmlNewNsProp(e, namespace_for(e, a->ns->href, a->ns->prefix), a->name, v);
        else
            xmlNewProp(e, a->name, v);
        xmlFree(v);
    }
}

/* An element of a fragment: no namespace means XHTML (the QTI namespace),
 * or MathML for <math> and everything inside it. QTI elements are refused. */
static void
copy_element(struct gen *g, xmlNode *dst, const xmlNode *x, bool in_math, const char *field)
{
    bool math = in_math || (!x->ns && xmlStrEqual(x->name, X("math")));
    const xmlChar *href = x->ns ? x->ns->href : math ? X(NS_MATHML) : g->ns->href;

    if (!x->ns && !math && is_qti_name((const char *)x->name)) {
        kt_qti_error_add(g->errs, g->id, 0, 0, (const char *)x->name,
                         "%s: phần tử QTI <%s> không được phép trong nội dung (chỉ XHTML và "
                         "MathML).",
                         field, (const char *)x->name);
        return;
    }
    xmlNode *e = xmlNewDocNode(g->doc, NULL, x->name, NULL);
    xmlAddChild(dst, e);
    xmlSetNs(e, namespace_for(e, href, NULL));
    copy_attributes(e, x);
    copy_children(g, e, x, math, field);
}

static void
copy_children(struct gen *g, xmlNode *dst, const xmlNode *src, bool in_math, const char *field)
{
    for (const xmlNode *x = src->children; x; x = x->next) {
        if (x->type == XML_TEXT_NODE || x->type == XML_CDATA_SECTION_NODE)
            xmlAddChild(dst, xmlNewDocText(g->doc, x->content));
        else if (x->type == XML_ELEMENT_NODE)
            copy_element(g, dst, x, in_math, field);
    }
}

/* The XHTML/MathML fragment html, parsed safely, appended under dst; field
 * names it in errors. */
static void
fragment(struct gen *g, xmlNode *dst, const char *html, const char *field)
{
    char *wrapped, label[200];
    int n = asprintf(&wrapped, "<div>%s</div>", html);
    if (n < 0)
        abort();
    snprintf(label, sizeof label, "%s (%s)", g->id, field);
    xmlDoc *f = kt_qti_xml_read(wrapped, (size_t)n, label, g->errs);
    free(wrapped);
    if (!f)
        return;
    copy_children(g, dst, xmlDocGetRootElement(f), false, field);
    xmlFreeDoc(f);
}

/* ---- declarations and rules ------------------------------------------------ */

static xmlNode *
declare(struct gen *g, const char *element, const char *id, const char *cardinality,
        const char *base_type)
{
    xmlNode *d = add(g, g->root, element);
    set(d, "identifier", id);
    set(d, "cardinality", cardinality);
    set(d, "baseType", base_type);
    return d;
}

static void
default_value(struct gen *g, xmlNode *decl, const char *value)
{
    add_text(g, add(g, decl, "defaultValue"), "value", value);
}

/* SCORE (0 until scored) and MAXSCORE; SCORE is returned. */
static xmlNode *
score_outcomes(struct gen *g, const char *max)
{
    xmlNode *score = declare(g, "outcomeDeclaration", "SCORE", "single", "float");
    default_value(g, score, "0");
    default_value(g, declare(g, "outcomeDeclaration", "MAXSCORE", "single", "float"), max);
    return score;
}

static void
rp_template(struct gen *g, const char *name)
{
    char uri[160];
    snprintf(uri, sizeof uri, RPT22 "%s", name);
    set(add(g, g->root, "responseProcessing"), "template", uri);
}

static void
base_value(struct gen *g, xmlNode *parent, const char *base_type, const char *value)
{
    set(add_text(g, parent, "baseValue", value), "baseType", base_type);
}

static void
variable(struct gen *g, xmlNode *parent, const char *element, const char *id)
{
    set(add(g, parent, element), "identifier", id);
}

static void
set_score(struct gen *g, xmlNode *parent, const char *value)
{
    xmlNode *s = add(g, parent, "setOutcomeValue");
    set(s, "identifier", "SCORE");
    base_value(g, s, "float", value);
}

/* ---- item body ------------------------------------------------------------- */

static void
begin_body(struct gen *g)
{
    g->body = add(g, g->root, "itemBody");
    fragment(g, add(g, g->body, "div"), str(g->content, "stem"), "stem");
}

/* The explanation (lời giải) for scorers, at the end of the body. */
static void
explanation(struct gen *g)
{
    const char *html = str(g->scoring, "explanation");
    if (!html)
        return;
    xmlNode *r = add(g, g->body, "rubricBlock");
    set(r, "view", "scorer");
    set(r, "class", "kt-explanation");
    fragment(g, r, html, "explanation");
}

static void
choice_interaction(struct gen *g, const char *max_choices)
{
    xmlNode *ci = add(g, g->body, "choiceInteraction");
    set(ci, "responseIdentifier", "RESPONSE");
    set(ci, "shuffle", "true");
    set(ci, "maxChoices", max_choices);
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(g->content, "options"), i, o)
    {
        char field[40];
        xmlNode *sc = add(g, ci, "simpleChoice");
        set(sc, "identifier", str(o, "id"));
        if (json_is_true(json_object_get(o, "fixed")))
            set(sc, "fixed", "true");
        snprintf(field, sizeof field, "options[%zu].html", i);
        fragment(g, sc, str(o, "html"), field);
    }
}

/* ---- the kinds --------------------------------------------------------------- */

static void
build_mcq4(struct gen *g)
{
    xmlNode *r = declare(g, "responseDeclaration", "RESPONSE", "single", "identifier");
    add_text(g, add(g, r, "correctResponse"), "value", str(g->scoring, "key"));
    score_outcomes(g, "1");
    begin_body(g);
    choice_interaction(g, "1");
    explanation(g);
    rp_template(g, "match_correct");
}

static bool
has_key(const json_t *keys, const char *id)
{
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        if (eq(json_string_value(k), id))
            return true;
    }
    return false;
}

/* Per-option scoring: each right option +1/n, each wrong one -1/n (n right
 * options, six decimal places), the total kept within [0, 1]. */
static void
mr_mapping(struct gen *g, xmlNode *decl, const json_t *keys)
{
    kt_decimal share =
        kt_decimal_mul_ratio(kt_decimal_from_int(1), 1, (int64_t)json_array_size(keys));
    char plus[32], minus[32];
    kt_decimal_format(share, '.', plus, sizeof plus);
    kt_decimal_format(kt_decimal_sub(kt_decimal_from_int(0), share), '.', minus, sizeof minus);
    xmlNode *m = add(g, decl, "mapping");
    set(m, "lowerBound", "0");
    set(m, "upperBound", "1");
    set(m, "defaultValue", "0");
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(g->content, "options"), i, o)
    {
        xmlNode *e = add(g, m, "mapEntry");
        set(e, "mapKey", str(o, "id"));
        set(e, "mappedValue", has_key(keys, str(o, "id")) ? plus : minus);
    }
}

static void
build_mr(struct gen *g)
{
    const json_t *keys = json_object_get(g->scoring, "keys");
    const char *mode = str(g->scoring, "scoring_mode");
    bool per_option = mode && eq(mode, "per_option");
    xmlNode *r = declare(g, "responseDeclaration", "RESPONSE", "multiple", "identifier");
    xmlNode *c = add(g, r, "correctResponse");
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k)
    {
        add_text(g, c, "value", json_string_value(k));
    }
    if (per_option)
        mr_mapping(g, r, keys);
    score_outcomes(g, "1");
    begin_body(g);
    choice_interaction(g, "0");
    explanation(g);
    rp_template(g, per_option ? "map_response" : "match_correct");
}

/* "a DUNG" / "b SAI" for each statement, in order; n is set. */
static void
tf4_pairs(struct gen *g, char pairs[4][16], size_t *n)
{
    const json_t *keys = json_object_get(g->scoring, "statement_keys");
    size_t i;
    json_t *s;
    *n = 0;
    json_array_foreach(json_object_get(g->content, "statements"), i, s)
    {
        if (i >= 4)
            break;
        const char *id = str(s, "id");
        snprintf(pairs[i], sizeof pairs[i], "%s %s", id,
                 json_is_true(json_object_get(keys, id)) ? "DUNG" : "SAI");
        *n = i + 1;
    }
}

static void
match_choice(struct gen *g, xmlNode *set_node, const char *id, const char *match_max)
{
    xmlNode *c = add(g, set_node, "simpleAssociableChoice");
    set(c, "identifier", id);
    set(c, "matchMax", match_max);
    set(c, "fixed", "true");
}

static void
tf4_interaction(struct gen *g)
{
    xmlNode *mi = add(g, g->body, "matchInteraction");
    set(mi, "responseIdentifier", "RESPONSE");
    set(mi, "shuffle", "false");
    set(mi, "maxAssociations", "4");
    xmlNode *statements = add(g, mi, "simpleMatchSet"), *answers = add(g, mi, "simpleMatchSet");
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(g->content, "statements"), i, s)
    {
        char field[40];
        match_choice(g, statements, str(s, "id"), "1");
        snprintf(field, sizeof field, "statements[%zu].html", i);
        fragment(g, statements->last, str(s, "html"), field);
    }
    match_choice(g, answers, "DUNG", "4");
    xmlNodeAddContent(answers->last, X("Đúng"));
    match_choice(g, answers, "SAI", "4");
    xmlNodeAddContent(answers->last, X("Sai"));
}

/* NUM_CORRECT counts the statements answered right; SCORE looks it up in
 * its matchTable (the item's score table). */
static void
tf4_rules(struct gen *g, char pairs[4][16], size_t n)
{
    xmlNode *rp = add(g, g->root, "responseProcessing");
    for (size_t i = 0; i < n; i++) {
        xmlNode *rif = add(g, add(g, rp, "responseCondition"), "responseIf");
        xmlNode *member = add(g, rif, "member");
        base_value(g, member, "directedPair", pairs[i]);
        variable(g, member, "variable", "RESPONSE");
        xmlNode *s = add(g, rif, "setOutcomeValue");
        set(s, "identifier", "NUM_CORRECT");
        xmlNode *sum = add(g, s, "sum");
        variable(g, sum, "variable", "NUM_CORRECT");
        base_value(g, sum, "integer", "1");
    }
    xmlNode *lookup = add(g, rp, "lookupOutcomeValue");
    set(lookup, "identifier", "SCORE");
    variable(g, lookup, "variable", "NUM_CORRECT");
}

static void
build_tf4(struct gen *g)
{
    char pairs[4][16];
    size_t n;
    tf4_pairs(g, pairs, &n);
    xmlNode *r = declare(g, "responseDeclaration", "RESPONSE", "multiple", "directedPair");
    xmlNode *c = add(g, r, "correctResponse");
    for (size_t i = 0; i < n; i++)
        add_text(g, c, "value", pairs[i]);
    xmlNode *table = add(g, score_outcomes(g, "1"), "matchTable");
    set(table, "defaultValue", "0");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(g->scoring, "score_table"), i, v)
    {
        char source[24];
        snprintf(source, sizeof source, "%zu", i);
        xmlNode *e = add(g, table, "matchTableEntry");
        set(e, "sourceValue", source);
        set(e, "targetValue", json_string_value(v));
    }
    default_value(g, declare(g, "outcomeDeclaration", "NUM_CORRECT", "single", "integer"), "0");
    begin_body(g);
    tf4_interaction(g);
    explanation(g);
    tf4_rules(g, pairs, n);
}

/* A SHORT key is numeric when answer_type says so or, without one, when it
 * is a plain decimal ("-1.75"), as kt_item_validate decides. */
static bool
short_numeric(const json_t *scoring)
{
    const char *type = str(scoring, "answer_type"), *s = str(scoring, "key");
    if (type)
        return eq(type, "numeric");
    s += *s == '-';
    size_t d = strspn(s, "0123456789");
    if (d && s[d] == '.')
        d += 1 + strspn(s + d + 1, "0123456789");
    return d && s[d] == '\0';
}

/* SCORE 1 when the response equals the key within the tolerance, else 0. */
static void
numeric_rules(struct gen *g)
{
    const char *tol = str(g->scoring, "tolerance");
    kt_decimal t = {0};
    xmlNode *rc = add(g, add(g, g->root, "responseProcessing"), "responseCondition");
    xmlNode *rif = add(g, rc, "responseIf");
    xmlNode *equal = add(g, rif, "equal");
    if (tol && kt_decimal_parse(tol, &t) == 0 && t.units > 0) {
        char pair[80];
        snprintf(pair, sizeof pair, "%s %s", tol, tol);
        set(equal, "toleranceMode", "absolute");
        set(equal, "tolerance", pair);
    } else {
        set(equal, "toleranceMode", "exact");
    }
    variable(g, equal, "variable", "RESPONSE");
    variable(g, equal, "correct", "RESPONSE");
    set_score(g, rif, "1");
    set_score(g, add(g, rc, "responseElse"), "0");
}

static void
build_short(struct gen *g)
{
    bool numeric = short_numeric(g->scoring);
    const char *key = str(g->scoring, "key");
    char *clean = numeric ? NULL : kt_text_clean(key, strlen(key));
    const char *value = clean ? clean : key;
    xmlNode *r =
        declare(g, "responseDeclaration", "RESPONSE", "single", numeric ? "float" : "string");
    add_text(g, add(g, r, "correctResponse"), "value", value);
    if (!numeric) {
        xmlNode *m = add(g, r, "mapping");
        set(m, "lowerBound", "0");
        set(m, "upperBound", "1");
        set(m, "defaultValue", "0");
        xmlNode *e = add(g, m, "mapEntry");
        set(e, "mapKey", value);
        set(e, "mappedValue", "1");
        set(e, "caseSensitive", "false");
    }
    score_outcomes(g, "1");
    begin_body(g);
    set(add(g, add(g, g->body, "p"), "textEntryInteraction"), "responseIdentifier", "RESPONSE");
    explanation(g);
    if (numeric)
        numeric_rules(g);
    else
        rp_template(g, "map_response");
    free(clean);
}

/* The rubric (criteria and points) and the model answer, for scorers. */
static void
essay_rubric(struct gen *g)
{
    xmlNode *r = add(g, g->body, "rubricBlock");
    set(r, "view", "scorer");
    set(r, "class", "kt-rubric");
    xmlNode *table = add(g, r, "table");
    xmlNode *head = add(g, add(g, table, "thead"), "tr"), *rows = add(g, table, "tbody");
    add_text(g, head, "th", "Tiêu chí");
    add_text(g, head, "th", "Điểm");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g->scoring, "rubric"), i, c)
    {
        xmlNode *tr = add(g, rows, "tr");
        add_text(g, tr, "td", str(c, "criterion"));
        add_text(g, tr, "td", str(c, "points"));
    }
    const char *model = str(g->scoring, "model_answer");
    if (model) {
        xmlNode *div = add(g, r, "div");
        set(div, "class", "kt-model-answer");
        fragment(g, div, model, "model_answer");
    }
}

static void
build_essay(struct gen *g)
{
    kt_decimal total = {0}, p;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(g->scoring, "rubric"), i,
                       c) if (kt_decimal_parse(str(c, "points"), &p) == 0) total =
        kt_decimal_add(total, p);
    char max[32];
    kt_decimal_format(total, '.', max, sizeof max);
    declare(g, "responseDeclaration", "RESPONSE", "single", "string");
    set(score_outcomes(g, max), "externalScored", "human");
    g->body = add(g, g->root, "itemBody");
    essay_rubric(g);
    fragment(g, add(g, g->body, "div"), str(g->content, "stem"), "stem");
    set(add(g, g->body, "extendedTextInteraction"), "responseIdentifier", "RESPONSE");
    explanation(g);
}

static const struct {
    const char *kind;
    void (*build)(struct gen *);
} KINDS[] = {
    {"MCQ4", build_mcq4},   {"MR", build_mr},       {"TF4", build_tf4},
    {"SHORT", build_short}, {"ESSAY", build_essay},
};

/* kt_item_validate's problems as errors; true when there are none. */
static bool
item_valid(const json_t *item, const char *id, kt_qti_errors *errs)
{
    json_t *problems = kt_item_validate(item);
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
        kt_qti_error_add(errs, id, 0, 0, NULL, "%s: %s", str(p, "field"), str(p, "message"));
    bool ok = json_array_size(problems) == 0;
    json_decref(problems);
    return ok;
}

static void
begin_item(struct gen *g, const json_t *item)
{
    g->doc = xmlNewDoc(X("1.0"));
    g->root = xmlNewDocNode(g->doc, NULL, X("assessmentItem"), NULL);
    xmlDocSetRootElement(g->doc, g->root);
    g->ns = xmlNewNs(g->root, X(NS_QTI22), NULL);
    xmlSetNs(g->root, g->ns);
    set(g->root, "identifier", g->id);
    set(g->root, "title", str(item, "title"));
    set(g->root, "adaptive", "false");
    set(g->root, "timeDependent", "false");
    xmlNodeSetLang(g->root, X("vi"));
}

/* The promise of kt_qti_from_item: kt_qti_parse accepts what it returns. */
static bool
accepted(struct gen *g, const char *xml)
{
    kt_qti_doc d;
    int rc = kt_qti_parse(xml, strlen(xml), g->id, &d, g->errs);
    kt_qti_doc_free(&d);
    return rc == 0;
}

char *
kt_qti_from_item(const json_t *item, const char *version, kt_qti_errors *errs)
{
    const char *id = str(item, "identifier"), *kind = str(item, "kind");
    size_t before = errs->n;
    bool v3;
    if (target_version(version, &v3, errs, id) < 0 || !item_valid(item, id, errs))
        return NULL;

    json_t *content, *scoring;
    kt_item_split(item, &content, &scoring);
    struct gen g = {.errs = errs, .id = id, .content = content, .scoring = scoring};
    begin_item(&g, item);
    for (size_t i = 0; i < sizeof KINDS / sizeof *KINDS; i++)
        if (eq(kind, KINDS[i].kind))
            KINDS[i].build(&g);
    char *out = NULL;
    if (errs->n == before) {
        if (v3)
            convert_doc(g.doc, false, true);
        out = serialise(g.doc, true);
        if (!accepted(&g, out)) {
            free(out);
            out = NULL;
        }
    }
    xmlFreeDoc(g.doc);
    json_decref(content);
    json_decref(scoring);
    return out;
}

/* ---- packages ---------------------------------------------------------------- */

struct pkg_file {
    const char *name; /* archive path */
    const void *data;
    size_t len;
};

struct pkgw {
    kt_arena *a;
    kt_qti_errors *errs;
    bool v3;
    xmlNs *ns;          /* the manifest's */
    xmlNode *resources; /* the manifest's <resources> */
    struct pkg_file *files;
    size_t nfiles, files_cap;
    char **owned; /* serialised documents, freed after the archive is closed */
    size_t nowned, owned_cap;
};

static const struct {
    const char *field, *kind;
    bool list;
} TAG_FIELDS[] = {
    {"subject", "subject", false},
    {"grade", "grade", false},
    {"level", "level", false},
    {"outcome", "outcome", false},
    {"competencies", "competency", true},
    {"tags", "tag", true},
};

static bool
safe_identifier(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 100 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") == n;
}

/* Relative, '/'-separated, no empty, "." or ".." segment, no '\\', no ':'
 * (drive letters, URI schemes), no control characters. */
static bool
safe_asset_path(const char *p)
{
    if (!p || !*p || *p == '/')
        return false;
    for (const char *s = p; *s; s++)
        if (*s == '\\' || *s == ':' || (unsigned char)*s < 0x20)
            return false;
    for (const char *s = p;;) {
        size_t n = strcspn(s, "/");
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        if (!s[n])
            return true;
        s += n + 1;
    }
}

/* path as a URI reference: bytes other than unreserved ones and '/' are
 * percent-encoded (Vietnamese file names, spaces). */
static const char *
href_of(kt_arena *a, const char *path)
{
    static const char HEX[] = "0123456789ABCDEF";
    char *out = kt_arena_alloc(a, strlen(path) * 3 + 1), *o = out;
    for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
        if (isalnum(*s) || strchr("-._~/", *s)) {
            *o++ = (char)*s;
        } else {
            *o++ = '%';
            *o++ = HEX[*s >> 4];
            *o++ = HEX[*s & 15];
        }
    }
    *o = '\0';
    return out;
}

/* A reference as written in a document, percent-decoded, less "./". */
static const char *
decoded_ref(kt_arena *a, const char *ref)
{
    char *out = kt_arena_alloc(a, strlen(ref) + 1), *o = out;
    while (ref[0] == '.' && ref[1] == '/')
        ref += 2;
    for (const char *s = ref; *s; s++) {
        if (s[0] == '%' && isxdigit((unsigned char)s[1]) && isxdigit((unsigned char)s[2])) {
            char hex[3] = {s[1], s[2], '\0'};
            *o++ = (char)strtol(hex, NULL, 16);
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static void
add_file(struct pkgw *w, const char *name, const void *data, size_t len)
{
    struct pkg_file *f = KT_ARENA_PUSH(w->a, w->files, w->nfiles, w->files_cap);
    f->name = name;
    f->data = data;
    f->len = len;
}

/* Identifiers, versions and asset paths; true when all are usable. */
static bool
check_entries(struct pkgw *w, const struct kt_qti_export_entry *entries, size_t n)
{
    size_t before = w->errs->n;
    if (n == 0)
        kt_qti_error_add(w->errs, NULL, 0, 0, NULL, "Gói xuất phải có ít nhất một câu hỏi.");
    for (size_t i = 0; i < n; i++) {
        const struct kt_qti_export_entry *e = &entries[i];
        const char *id = e->identifier ? e->identifier : "";
        bool v3;
        if (!safe_identifier(e->identifier))
            kt_qti_error_add(w->errs, id, 0, 0, NULL,
                             "Mã câu hỏi \"%s\" không dùng được làm tên tệp trong gói.", id);
        for (size_t j = 0; j < i && e->identifier; j++)
            if (entries[j].identifier && eq(entries[j].identifier, e->identifier))
                kt_qti_error_add(w->errs, id, 0, 0, NULL, "Mã câu hỏi %s xuất hiện hai lần.", id);
        if (target_version(e->version, &v3, w->errs, id) == 0 && v3 != w->v3)
            kt_qti_error_add(w->errs, id, 0, 0, NULL,
                             "Các câu hỏi trong một gói phải cùng một phiên bản QTI.");
        for (size_t k = 0; k < e->nassets; k++) {
            const char *p = e->assets[k].path;
            if (!safe_asset_path(p))
                kt_qti_error_add(w->errs, id, 0, 0, NULL,
                                 "Đường dẫn tệp đính kèm \"%s\" không hợp lệ: phải là đường dẫn "
                                 "tương đối, không có \"..\", \".\", \"\\\", \":\" hay đoạn rỗng.",
                                 p ? p : "");
            for (size_t j = 0; j < k && p; j++)
                if (e->assets[j].path && eq(e->assets[j].path, p))
                    kt_qti_error_add(w->errs, id, 0, 0, NULL, "Tệp đính kèm %s xuất hiện hai lần.",
                                     p);
        }
    }
    return w->errs->n == before;
}

/* Asset references (src, data, href) of the document pointed at the assets'
 * place in the package: "<identifier>/<path>", relative to the document. */
static void
point_assets(struct pkgw *w, xmlNode *n, const struct kt_qti_export_entry *e)
{
    static const char *const REFS[] = {"src", "data", "href"};
    for (size_t r = 0; r < 3; r++) {
        xmlChar *v = xmlGetNoNsProp(n, X(REFS[r]));
        const char *ref = v ? decoded_ref(w->a, (const char *)v) : NULL;
        for (size_t k = 0; ref && k < e->nassets; k++)
            if (eq(ref, e->assets[k].path)) {
                const char *to = kt_arena_printf(w->a, "%s/%s", e->identifier, e->assets[k].path);
                xmlSetProp(n, X(REFS[r]), X(href_of(w->a, to)));
            }
        xmlFree(v);
    }
    for (xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            point_assets(w, x, e);
}

/* The entry's document as it goes into the package, or NULL (reported). */
static char *
package_document(struct pkgw *w, const struct kt_qti_export_entry *e)
{
    xmlDoc *d =
        kt_qti_xml_read(e->xml ? e->xml : "", e->xml ? e->xml_len : 0, e->identifier, w->errs);
    if (!d)
        return NULL;
    xmlNode *root = xmlDocGetRootElement(d);
    const char *name = w->v3 ? "qti-assessment-item" : "assessmentItem";
    char *out = NULL;
    if (!root || !xmlStrEqual(root->name, X(name)) || !root->ns ||
        !xmlStrEqual(root->ns->href, X(w->v3 ? NS_QTI30 : NS_QTI22))) {
        kt_qti_error_add(w->errs, e->identifier, 0, 0, NULL,
                         "Tài liệu không phải câu hỏi QTI %s (%s trong không gian tên %s).",
                         w->v3 ? "3.0" : "2.2", name, w->v3 ? NS_QTI30 : NS_QTI22);
    } else {
        point_assets(w, root, e);
        out = serialise(d, false);
        *KT_ARENA_PUSH(w->a, w->owned, w->nowned, w->owned_cap) = out;
    }
    xmlFreeDoc(d);
    return out;
}

static void
tag(xmlNode *parent, xmlNs *ns, const char *kind, const char *value)
{
    xmlNewProp(xmlNewTextChild(parent, ns, X("tag"), X(value)), X("kind"), X(kind));
}

/* One tag field: a string (or the integer grade), or a list of strings. */
static void
write_tag_field(struct pkgw *w, xmlNode *parent, xmlNs *ns, size_t f, const json_t *v,
                const char *id)
{
    char num[32];
    size_t i;
    json_t *x;
    bool bad = false;
    if (TAG_FIELDS[f].list && json_is_array(v)) {
        json_array_foreach(v, i, x)
        {
            if (json_is_string(x))
                tag(parent, ns, TAG_FIELDS[f].kind, json_string_value(x));
            else
                bad = true;
        }
    } else if (!TAG_FIELDS[f].list && json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        tag(parent, ns, TAG_FIELDS[f].kind, num);
    } else if (!TAG_FIELDS[f].list && json_is_string(v)) {
        tag(parent, ns, TAG_FIELDS[f].kind, json_string_value(v));
    } else {
        bad = !json_is_null(v);
    }
    if (bad)
        kt_qti_error_add(w->errs, id, 0, 0, NULL, "Nhãn %s có kiểu giá trị không hợp lệ.",
                         TAG_FIELDS[f].field);
}

/* <metadata><kt:tags xmlns:kt="urn:kiemtra:tags:1"><kt:tag kind=...>. */
static void
write_tags(struct pkgw *w, xmlNode *resource, const json_t *tags, const char *id)
{
    if (!tags)
        return;
    if (!json_is_object(tags)) {
        kt_qti_error_add(w->errs, id, 0, 0, NULL, "Nhãn phải là một đối tượng JSON.");
        return;
    }
    xmlNode *t =
        xmlNewChild(xmlNewChild(resource, w->ns, X("metadata"), NULL), NULL, X("tags"), NULL);
    xmlNs *ns = xmlNewNs(t, X(KT_PKG_TAGS_NS), X("kt"));
    xmlSetNs(t, ns);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)tags, k, v)
    {
        size_t f = 0;
        while (f < sizeof TAG_FIELDS / sizeof *TAG_FIELDS && !eq(TAG_FIELDS[f].field, k))
            f++;
        if (f == sizeof TAG_FIELDS / sizeof *TAG_FIELDS)
            kt_qti_error_add(w->errs, id, 0, 0, NULL, "Trường nhãn %s không được hỗ trợ.", k);
        else
            write_tag_field(w, t, ns, f, v, id);
    }
}

static void
write_resource(struct pkgw *w, const struct kt_qti_export_entry *e)
{
    char *doc = package_document(w, e);
    if (!doc)
        return;
    const char *path = kt_arena_printf(w->a, "items/%s.xml", e->identifier);
    xmlNode *r = xmlNewChild(w->resources, w->ns, X("resource"), NULL);
    set(r, "identifier", e->identifier);
    set(r, "type", w->v3 ? "imsqti_item_xmlv3p0" : "imsqti_item_xmlv2p2");
    set(r, "href", path);
    write_tags(w, r, e->tags, e->identifier);
    set(xmlNewChild(r, w->ns, X("file"), NULL), "href", path);
    add_file(w, path, doc, strlen(doc));
    for (size_t k = 0; k < e->nassets; k++) {
        const char *p = kt_arena_printf(w->a, "items/%s/%s", e->identifier, e->assets[k].path);
        set(xmlNewChild(r, w->ns, X("file"), NULL), "href", href_of(w->a, p));
        add_file(w, p, e->assets[k].data, e->assets[k].len);
    }
}

static xmlDoc *
new_manifest(struct pkgw *w)
{
    xmlDoc *m = xmlNewDoc(X("1.0"));
    xmlNode *root = xmlNewDocNode(m, NULL, X("manifest"), NULL);
    xmlDocSetRootElement(m, root);
    w->ns = xmlNewNs(root, X(w->v3 ? NS_CP30 : NS_CP22), NULL);
    xmlSetNs(root, w->ns);
    set(root, "identifier", MANIFEST_ID);
    xmlNode *meta = xmlNewChild(root, w->ns, X("metadata"), NULL);
    xmlNewTextChild(meta, w->ns, X("schema"), X(w->v3 ? "QTI Package" : "QTIv2.2 Package"));
    xmlNewTextChild(meta, w->ns, X("schemaversion"), X(w->v3 ? "3.0.0" : "1.0.0"));
    xmlNewChild(root, w->ns, X("organizations"), NULL);
    w->resources = xmlNewChild(root, w->ns, X("resources"), NULL);
    return m;
}

/* The bytes of a closed in-memory archive, malloc'd. */
static void *
source_bytes(zip_source_t *src, size_t *len)
{
    void *buf = NULL;
    if (zip_source_open(src) < 0)
        return NULL;
    if (zip_source_seek(src, 0, SEEK_END) == 0) {
        zip_int64_t size = zip_source_tell(src);
        if (size >= 0 && zip_source_seek(src, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)size ? (size_t)size : 1)) &&
            zip_source_read(src, buf, (zip_uint64_t)size) == size) {
            *len = (size_t)size;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    zip_source_close(src);
    return buf;
}

static bool
add_entries(zip_t *za, const struct pkg_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        zip_source_t *s = zip_source_buffer(za, files[i].data, files[i].len, 0);
        zip_int64_t idx = s ? zip_file_add(za, files[i].name, s, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            zip_source_free(s);
            return false;
        }
        zip_file_set_mtime(za, (zip_uint64_t)idx, ZIP_MTIME, 0);
    }
    return true;
}

/* files as a .zip in memory; NULL when libzip fails. */
static void *
zip_files(const struct pkg_file *files, size_t n, size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = NULL;
    void *out = NULL;
    if (src) {
        zip_source_keep(src);
        za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    }
    if (za && add_entries(za, files, n) && zip_close(za) == 0)
        out = source_bytes(src, len);
    else if (za)
        zip_discard(za);
    zip_source_free(src);
    zip_error_fini(&ze);
    return out;
}

int
kt_qti_package_write(const struct kt_qti_export_entry *entries, size_t n, void **zip_out,
                     size_t *zip_len, kt_qti_errors *errs)
{
    struct pkgw w = {.a = kt_arena_new(), .errs = errs};
    size_t before = errs->n;

    *zip_out = NULL;
    *zip_len = 0;
    w.v3 = n && entries[0].version && eq(entries[0].version, "3.0");
    if (check_entries(&w, entries, n)) {
        xmlDoc *manifest = new_manifest(&w);
        add_file(&w, "imsmanifest.xml", NULL, 0);
        for (size_t i = 0; i < n; i++)
            write_resource(&w, &entries[i]);
        char *m = serialise(manifest, true);
        w.files[0].data = m;
        w.files[0].len = strlen(m);
        if (errs->n == before && !(*zip_out = zip_files(w.files, w.nfiles, zip_len)))
            kt_qti_error_add(errs, NULL, 0, 0, NULL, "Không tạo được tệp nén của gói.");
        free(m);
        xmlFreeDoc(manifest);
    }
    for (size_t i = 0; i < w.nowned; i++)
        free(w.owned[i]);
    kt_arena_free(w.a);
    return errs->n == before ? 0 : -1;
}

/* ---- tags read back ---------------------------------------------------------- */

static const kt_qti_resource *
resource_by_href(const kt_qti_package *pkg, const char *href)
{
    for (size_t i = 0; href && i < pkg->nresources; i++)
        if (pkg->resources[i].href && eq(pkg->resources[i].href, href))
            return &pkg->resources[i];
    return NULL;
}

static bool
all_digits(const char *s)
{
    return *s && strlen(s) < 10 && strspn(s, "0123456789") == strlen(s);
}

json_t *
kt_qti_package_tags(const kt_qti_package *pkg, const char *item_file)
{
    const kt_qti_resource *r = resource_by_href(pkg, item_file);
    if (!r || !r->ntags)
        return NULL;
    json_t *o = json_object();
    for (size_t i = 0; i < r->ntags; i++) {
        const kt_qti_tag *t = &r->tags[i];
        size_t f = 0;
        while (f < sizeof TAG_FIELDS / sizeof *TAG_FIELDS && !eq(TAG_FIELDS[f].kind, t->kind))
            f++;
        const char *field =
            f < sizeof TAG_FIELDS / sizeof *TAG_FIELDS ? TAG_FIELDS[f].field : t->kind;
        if (f < sizeof TAG_FIELDS / sizeof *TAG_FIELDS && TAG_FIELDS[f].list) {
            if (!json_object_get(o, field))
                json_object_set_new(o, field, json_array());
            json_array_append_new(json_object_get(o, field), json_string(t->value));
        } else if (eq(field, "grade") && all_digits(t->value)) {
            json_object_set_new(o, field, json_integer(strtol(t->value, NULL, 10)));
        } else {
            json_object_set_new(o, field, json_string(t->value));
        }
    }
    return o;
}
