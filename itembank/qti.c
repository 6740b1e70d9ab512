/*
 * QTI 2.0/2.1/2.2/3.0 item, test and section documents into the model of
 * qti.h. QTI 3 kebab-case names (qti-choice-interaction, max-choices) are
 * folded to their 2.x camelCase spelling first, so one walk serves all
 * versions. DOCTYPEs are refused before parsing; the parser never touches the
 * network, never loads a DTD and never substitutes entities.
 */
#include "qti.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
#define NAME_MAX_LEN 96

struct ctx {
    kt_arena *a;
    kt_qti_errors *errs;
    const char *file;
    const xmlChar *ns; /* the root's namespace: elements in others are foreign */
    kt_qti_version version;
    size_t errs_before;
    kt_qti_item *item;
    long cur; /* index of the interaction being walked (its choices), or -1 */
};

static const char *const INTERACTIONS[] = {
    "choice",       "order",        "associate",        "match",           "gapMatch",
    "inlineChoice", "textEntry",    "extendedText",     "hottext",         "hotspot",
    "selectPoint",  "graphicOrder", "graphicAssociate", "graphicGapMatch", "positionObject",
    "slider",       "media",        "upload",           "drawing",         "endAttempt",
};

static const char *const CHOICES[] = {
    "simpleChoice", "simpleAssociableChoice", "gapText",           "gapImg",       "gap",
    "hottext",      "hotspotChoice",          "associableHotspot", "inlineChoice",
};

/* XHTML and QTI body content that needs nothing more than a walk. */
static const char *const BODY[] = {
    "a",
    "abbr",
    "acronym",
    "address",
    "article",
    "aside",
    "audio",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "kbd",
    "label",
    "li",
    "nav",
    "object",
    "ol",
    "p",
    "param",
    "picture",
    "pre",
    "q",
    "rb",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "samp",
    "section",
    "small",
    "source",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "track",
    "tt",
    "u",
    "ul",
    "var",
    "video",
    "wbr",
    "prompt",
    "feedbackBlock",
    "feedbackInline",
    "templateBlock",
    "templateInline",
    "printedVariable",
    "rubricBlock",
    "infoControl",
    "include",
    "stylesheet",
    "simpleMatchSet",
    "positionObjectStage",
    "contentBody",
    "math",
};

static const char *const RP_TEMPLATES[] = {
    "match_correct", "map_response",    "map_response_point",
    "CC2_match",     "CC2_match_basic", "CC2_map_response",
};

static const char *const RESPONSE_ATTRS[] = {"identifier", "cardinality", "baseType", NULL};
static const char *const OUTCOME_ATTRS[] = {
    "identifier",     "cardinality",           "baseType",
    "view",           "interpretation",        "longInterpretation",
    "normalMaximum",  "normalMinimum",         "masteryValue",
    "externalScored", "variableIdentifierRef", NULL};
static const char *const TEMPLATE_ATTRS[] = {"identifier",    "cardinality",  "baseType",
                                             "paramVariable", "mathVariable", NULL};

static bool
eq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

#define IN(s, list) in_list((s), (list), sizeof(list) / sizeof *(list))

/* ---- errors ---------------------------------------------------------- */

void
kt_qti_errors_init(kt_qti_errors *e)
{
    memset(e, 0, sizeof *e);
    e->arena = kt_arena_new();
}

void
kt_qti_errors_free(kt_qti_errors *e)
{
    kt_arena_free(e->arena);
    memset(e, 0, sizeof *e);
}

static void
error_addv(kt_qti_errors *e, const char *file, long line, long column, const char *element,
           const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    kt_qti_error *x = KT_ARENA_PUSH(e->arena, e->v, e->n, e->cap);
    x->file = kt_arena_strdup(e->arena, file ? file : "");
    x->line = line;
    x->column = column;
    x->element = kt_arena_strdup(e->arena, element);
    x->message = kt_arena_strdup(e->arena, msg);
}

void
kt_qti_error_add(kt_qti_errors *e, const char *file, long line, long column, const char *element,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_addv(e, file, line, column, element, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
err(struct ctx *c, const xmlNode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_addv(c->errs, c->file, n ? xmlGetLineNo(n) : 0, 0, n ? (const char *)n->name : NULL, fmt,
               ap);
    va_end(ap);
}

/* ---- names and attributes ---------------------------------------------- */

/* qti-choice-interaction -> choiceInteraction; 2.x names are returned as is. */
const char *
kt_qti_fold_name(const char *name, char *buf, size_t size)
{
    size_t o = 0;
    bool up = false;

    if (strncmp(name, "qti-", 4) != 0 && !strchr(name, '-'))
        return name;
    if (strncmp(name, "qti-", 4) == 0)
        name += 4;
    for (; *name && o + 1 < size; name++) {
        if (*name == '-') {
            up = true;
            continue;
        }
        buf[o++] = up ? (char)toupper((unsigned char)*name) : *name;
        up = false;
    }
    buf[o] = '\0';
    return buf;
}

void
kt_qti_kebab(const char *camel, char *buf, size_t size)
{
    size_t o = 0;
    for (; *camel && o + 2 < size; camel++) {
        if (isupper((unsigned char)*camel)) {
            buf[o++] = '-';
            buf[o++] = (char)tolower((unsigned char)*camel);
        } else {
            buf[o++] = *camel;
        }
    }
    buf[o] = '\0';
}

static bool
is_qti(const struct ctx *c, const xmlNode *n)
{
    return n->type == XML_ELEMENT_NODE && (!n->ns || (c->ns && xmlStrEqual(n->ns->href, c->ns)));
}

#define NAME(c, n, buf) kt_qti_fold_name((const char *)(n)->name, (buf), sizeof(buf))

/* An attribute by its 2.x name (kebab-case in QTI 3), copied to the arena. */
static const char *
attr(struct ctx *c, const xmlNode *n, const char *name)
{
    char k[NAME_MAX_LEN];
    xmlChar *v;

    if (c->version == KT_QTI_V30) {
        kt_qti_kebab(name, k, sizeof k);
        name = k;
    }
    if (!(v = xmlGetNoNsProp(n, (const xmlChar *)name)))
        return NULL;
    const char *s = kt_arena_strdup(c->a, (const char *)v);
    xmlFree(v);
    return s;
}

static bool
attr_bool(struct ctx *c, const xmlNode *n, const char *name, bool def)
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

static const char *
required(struct ctx *c, const xmlNode *n, const char *name)
{
    const char *v = attr(c, n, name);
    if (!v || !*v)
        err(c, n, "Thiếu thuộc tính bắt buộc %s.", name);
    return v;
}

/* Refuses attributes of the QTI namespace that the element does not define. */
static void
check_attrs(struct ctx *c, const xmlNode *n, const char *const *allowed)
{
    char buf[NAME_MAX_LEN];
    for (const xmlAttr *at = n->properties; at; at = at->next) {
        const char *name = kt_qti_fold_name((const char *)at->name, buf, sizeof buf);
        size_t i = 0;
        if (at->ns)
            continue;
        while (allowed[i] && strcmp(allowed[i], name) != 0)
            i++;
        if (!allowed[i])
            err(c, n, "Thuộc tính %s không hợp lệ trên phần tử này.", (const char *)at->name);
    }
}

static const char *
text_of(struct ctx *c, const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    const char *s = (const char *)v, *e;
    while (s && isspace((unsigned char)*s))
        s++;
    e = s ? s + strlen(s) : NULL;
    while (e && e > s && isspace((unsigned char)e[-1]))
        e--;
    const char *out = s ? kt_arena_strndup(c->a, s, (size_t)(e - s)) : "";
    xmlFree(v);
    return out;
}

static const char *
serialise(struct ctx *c, xmlNode *n)
{
    xmlBufferPtr b = xmlBufferCreate();
    if (!b)
        abort();
    xmlNodeDump(b, n->doc, n, 0, 0);
    const char *s =
        kt_arena_strndup(c->a, (const char *)xmlBufferContent(b), (size_t)xmlBufferLength(b));
    xmlBufferFree(b);
    return s;
}

/* ---- declarations ------------------------------------------------------ */

static void
parse_values(struct ctx *c, const xmlNode *n, const char ***v, size_t *count, size_t *cap)
{
    char buf[NAME_MAX_LEN];
    for (const xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE && strcmp(NAME(c, x, buf), "value") == 0)
            *KT_ARENA_PUSH(c->a, *v, *count, *cap) = text_of(c, x);
}

static void
parse_mapping(struct ctx *c, const xmlNode *n, kt_qti_mapping *m, bool area)
{
    char buf[NAME_MAX_LEN];
    const char *entry = area ? "areaMapEntry" : "mapEntry";

    m->present = true;
    m->lower_bound = attr(c, n, "lowerBound");
    m->upper_bound = attr(c, n, "upperBound");
    m->default_value = attr(c, n, "defaultValue");
    for (const xmlNode *x = n->children; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp(NAME(c, x, buf), entry) != 0) {
            err(c, x, "Phần tử %s không được phép trong %s.", (const char *)x->name,
                area ? "areaMapping" : "mapping");
            continue;
        }
        kt_qti_map_entry *e = KT_ARENA_PUSH(c->a, m->entries, m->nentries, m->cap);
        e->value = required(c, x, "mappedValue");
        if (area) {
            e->shape = required(c, x, "shape");
            e->coords = required(c, x, "coords");
        } else {
            e->key = attr(c, x, "mapKey"); /* "" is a valid key: the empty response */
            if (!e->key)
                err(c, x, "Thiếu thuộc tính bắt buộc mapKey.");
            e->case_sensitive = attr_bool(c, x, "caseSensitive", true);
        }
    }
}

static void
parse_decl(struct ctx *c, const xmlNode *n, kt_qti_decl *d, const char *const *allowed)
{
    char buf[NAME_MAX_LEN];

    check_attrs(c, n, allowed);
    d->identifier = required(c, n, "identifier");
    d->cardinality = required(c, n, "cardinality");
    d->base_type = attr(c, n, "baseType");
    for (const xmlNode *x = n->children; x; x = x->next) {
        const char *name = x->type == XML_ELEMENT_NODE ? NAME(c, x, buf) : "";
        if (strcmp(name, "correctResponse") == 0)
            parse_values(c, x, &d->correct, &d->ncorrect, &d->correct_cap);
        else if (strcmp(name, "defaultValue") == 0)
            parse_values(c, x, &d->defaults, &d->ndefaults, &d->defaults_cap);
        else if (strcmp(name, "mapping") == 0)
            parse_mapping(c, x, &d->mapping, false);
        else if (strcmp(name, "areaMapping") == 0)
            parse_mapping(c, x, &d->area_mapping, true);
        else if (*name && !eq(name, "matchTable") && !eq(name, "interpolationTable"))
            err(c, x, "Phần tử %s không được hỗ trợ trong khai báo biến.", (const char *)x->name);
    }
}

/* ---- item body --------------------------------------------------------- */

static void
add_asset(struct ctx *c, const xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (v && *v)
        *KT_ARENA_PUSH(c->a, c->item->assets, c->item->nassets, c->item->assets_cap) =
            kt_arena_strdup(c->a, (const char *)v);
    xmlFree(v);
}

static void
collect_assets(struct ctx *c, const xmlNode *n, const char *name)
{
    if (eq(name, "img") || eq(name, "source") || eq(name, "audio") || eq(name, "video") ||
        eq(name, "track"))
        add_asset(c, n, "src");
    else if (eq(name, "object"))
        add_asset(c, n, "data");
    else if (eq(name, "include") || eq(name, "assessmentStimulusRef"))
        add_asset(c, n, "href");
    else if (eq(name, "stylesheet") && xmlHasProp(n, (const xmlChar *)"href"))
        *KT_ARENA_PUSH(c->a, c->item->stylesheets, c->item->nstylesheets,
                       c->item->stylesheets_cap) = attr(c, n, "href");
}

static void walk_body(struct ctx *c, xmlNode *n, int depth);

static void
parse_interaction(struct ctx *c, xmlNode *n, const char *name, int depth)
{
    char type[NAME_MAX_LEN], buf[NAME_MAX_LEN];
    size_t len = strlen(name) - strlen("Interaction");
    kt_qti_item *item = c->item;

    snprintf(type, sizeof type, "%.*s", (int)len, name);
    if (!IN(type, INTERACTIONS)) {
        err(c, n, "Tương tác %s không được hỗ trợ (chưa nhập được câu hỏi này).",
            (const char *)n->name);
        return;
    }
    kt_qti_interaction *it =
        KT_ARENA_PUSH(c->a, item->interactions, item->ninteractions, item->interactions_cap);
    it->type = kt_arena_strdup(c->a, type);
    it->line = xmlGetLineNo(n);
    it->response_identifier = attr(c, n, "responseIdentifier");
    if (!it->response_identifier && !eq(type, "media") && !eq(type, "drawing") &&
        !eq(type, "upload"))
        err(c, n, "Thiếu thuộc tính bắt buộc responseIdentifier.");
    for (const xmlAttr *at = n->properties; at; at = at->next) {
        xmlChar *v = xmlNodeListGetString(n->doc, at->children, 1);
        kt_qti_attr *a = KT_ARENA_PUSH(c->a, it->attrs, it->nattrs, it->attrs_cap);
        a->name = kt_arena_strdup(c->a, kt_qti_fold_name((const char *)at->name, buf, sizeof buf));
        a->value = kt_arena_strdup(c->a, v ? (const char *)v : "");
        xmlFree(v);
    }
    long outer = c->cur;
    c->cur = (long)item->ninteractions - 1;
    walk_body(c, n, depth + 1);
    c->cur = outer;
}

static void
add_choice(struct ctx *c, const xmlNode *n, const char *name)
{
    kt_qti_interaction *it = &c->item->interactions[c->cur];
    kt_qti_choice *ch = KT_ARENA_PUSH(c->a, it->choices, it->nchoices, it->choices_cap);
    ch->element = kt_arena_strdup(c->a, name);
    ch->identifier = required(c, n, "identifier");
    ch->fixed = attr_bool(c, n, "fixed", false);
}

static void
body_element(struct ctx *c, xmlNode *n, int depth)
{
    char buf[NAME_MAX_LEN];
    const char *name = NAME(c, n, buf);
    size_t len = strlen(name);

    collect_assets(c, n, name);
    if (!is_qti(c, n)) { /* MathML, XInclude, SSML, HTML5 namespaces: assets only */
        walk_body(c, n, depth + 1);
        return;
    }
    if (len > 11 && strcmp(name + len - 11, "Interaction") == 0) {
        parse_interaction(c, n, name, depth);
        return;
    }
    if (c->cur >= 0 && IN(name, CHOICES))
        add_choice(c, n, name);
    else if (!IN(name, BODY) && !IN(name, CHOICES))
        err(c, n, "Phần tử %s không được hỗ trợ trong nội dung câu hỏi.", (const char *)n->name);
    if (eq(name, "feedbackInline") || eq(name, "feedbackBlock"))
        c->item->has_inline_feedback = true;
    walk_body(c, n, depth + 1);
}

static void
walk_body(struct ctx *c, xmlNode *n, int depth)
{
    if (depth > KT_QTI_MAX_DEPTH) {
        err(c, n, "Tài liệu lồng quá sâu (tối đa %d cấp).", KT_QTI_MAX_DEPTH);
        return;
    }
    for (xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            body_element(c, x, depth);
}

/* ---- response processing ------------------------------------------------ */

const char *
kt_qti_rp_template_name(const char *uri)
{
    const char *base = strrchr(uri, '/');
    size_t len;

    base = base ? base + 1 : uri;
    len = strlen(base);
    if (len > 4 && strcasecmp(base + len - 4, ".xml") == 0)
        len -= 4;
    for (size_t i = 0; i < sizeof RP_TEMPLATES / sizeof *RP_TEMPLATES; i++)
        if (strlen(RP_TEMPLATES[i]) == len && strncasecmp(base, RP_TEMPLATES[i], len) == 0)
            return RP_TEMPLATES[i];
    return NULL;
}

static void
parse_rp(struct ctx *c, xmlNode *n)
{
    kt_qti_item *item = c->item;
    const char *uri = attr(c, n, "template");
    bool has_rules = false;

    for (const xmlNode *x = n->children; x; x = x->next)
        has_rules |= x->type == XML_ELEMENT_NODE;
    if (uri && *uri) {
        item->rp_template_uri = uri;
        if (!(item->rp_template = kt_qti_rp_template_name(uri)) && !has_rules)
            err(c, n, "Mẫu xử lý phản hồi %s không được hỗ trợ.", uri);
    }
    if (item->rp_template)
        item->rp_kind = KT_QTI_RP_TEMPLATE;
    else if (has_rules) {
        item->rp_kind = KT_QTI_RP_CUSTOM;
        item->rp_xml = serialise(c, n);
    }
}

/* ---- items ------------------------------------------------------------- */

static void
item_child(struct ctx *c, xmlNode *x)
{
    char buf[NAME_MAX_LEN];
    kt_qti_item *it = c->item;
    const char *name = NAME(c, x, buf);

    if (!is_qti(c, x))
        return; /* foreign metadata */
    if (eq(name, "responseDeclaration"))
        parse_decl(c, x, KT_ARENA_PUSH(c->a, it->responses, it->nresponses, it->responses_cap),
                   RESPONSE_ATTRS);
    else if (eq(name, "outcomeDeclaration"))
        parse_decl(c, x, KT_ARENA_PUSH(c->a, it->outcomes, it->noutcomes, it->outcomes_cap),
                   OUTCOME_ATTRS);
    else if (eq(name, "templateDeclaration"))
        parse_decl(c, x, KT_ARENA_PUSH(c->a, it->templates, it->ntemplates, it->templates_cap),
                   TEMPLATE_ATTRS);
    else if (eq(name, "templateProcessing"))
        it->has_template_processing = true;
    else if (eq(name, "stylesheet") || eq(name, "assessmentStimulusRef"))
        collect_assets(c, x, name);
    else if (eq(name, "itemBody"))
        walk_body(c, x, 2);
    else if (eq(name, "responseProcessing"))
        parse_rp(c, x);
    else if (eq(name, "modalFeedback")) {
        it->has_modal_feedback = true;
        walk_body(c, x, 2);
    } else if (!eq(name, "apipAccessibility") && !eq(name, "companionMaterialsInfo") &&
               !eq(name, "catalogInfo") && !eq(name, "contextDeclaration"))
        err(c, x, "Phần tử %s không được hỗ trợ trong câu hỏi.", (const char *)x->name);
}

static kt_qti_item *
parse_item(struct ctx *c, xmlNode *root)
{
    kt_qti_item *it = kt_arena_alloc(c->a, sizeof *it);
    xmlChar *lang = xmlNodeGetLang(root);

    c->item = it;
    it->arena = c->a;
    it->version = c->version;
    it->identifier = required(c, root, "identifier");
    it->title = attr(c, root, "title");
    it->lang = lang ? kt_arena_strdup(c->a, (const char *)lang) : NULL;
    xmlFree(lang);
    it->adaptive = attr_bool(c, root, "adaptive", false);
    it->time_dependent = attr_bool(c, root, "timeDependent", false);
    for (xmlNode *x = root->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            item_child(c, x);
    return it;
}

/* ---- tests and sections -------------------------------------------------- */

static void
parse_time_limits(struct ctx *c, const xmlNode *n, bool *has, kt_qti_time_limits *t)
{
    *has = true;
    t->min_time = attr(c, n, "minTime");
    t->max_time = attr(c, n, "maxTime");
    t->allow_late_submission = attr_bool(c, n, "allowLateSubmission", false);
}

/* Elements of a test that are kept in the XML only (delivery rules to come). */
static bool
test_passthrough(const char *name)
{
    static const char *const KEPT[] = {
        "itemSessionControl",
        "preCondition",
        "branchRule",
        "rubricBlock",
        "testFeedback",
        "variableMapping",
        "templateDefault",
        "stylesheet",
        "outcomeDeclaration",
        "contextDeclaration",
        "assessmentStimulusRef",
    };
    return IN(name, KEPT);
}

static void parse_node(struct ctx *c, xmlNode *n, kt_qti_node *node, int depth);

static void
node_child(struct ctx *c, xmlNode *x, kt_qti_node *node, int depth)
{
    char buf[NAME_MAX_LEN];
    const char *name = NAME(c, x, buf);
    bool in_section = node->kind == KT_QTI_NODE_SECTION;

    if (!is_qti(c, x) || test_passthrough(name))
        return;
    if (eq(name, "timeLimits"))
        parse_time_limits(c, x, &node->has_time_limits, &node->time_limits);
    else if (in_section && eq(name, "selection")) {
        const char *s = required(c, x, "select");
        node->select = s ? strtol(s, NULL, 10) : 0;
        node->with_replacement = attr_bool(c, x, "withReplacement", false);
    } else if (in_section && eq(name, "ordering"))
        node->shuffle = attr_bool(c, x, "shuffle", false);
    else if (in_section && (eq(name, "assessmentSection") || eq(name, "assessmentItemRef") ||
                            eq(name, "assessmentSectionRef")))
        parse_node(c, x, KT_ARENA_PUSH(c->a, node->children, node->nchildren, node->children_cap),
                   depth + 1);
    else if (!in_section && eq(name, "weight")) {
        kt_qti_weight *w = KT_ARENA_PUSH(c->a, node->weights, node->nweights, node->weights_cap);
        w->identifier = required(c, x, "identifier");
        w->value = required(c, x, "value");
    } else
        err(c, x, "Phần tử %s không được hỗ trợ ở đây.", (const char *)x->name);
}

static void
parse_node(struct ctx *c, xmlNode *n, kt_qti_node *node, int depth)
{
    char buf[NAME_MAX_LEN];
    const char *name = NAME(c, n, buf);

    if (depth > KT_QTI_MAX_DEPTH) {
        err(c, n, "Tài liệu lồng quá sâu (tối đa %d cấp).", KT_QTI_MAX_DEPTH);
        return;
    }
    node->kind = eq(name, "assessmentItemRef")      ? KT_QTI_NODE_ITEM_REF
                 : eq(name, "assessmentSectionRef") ? KT_QTI_NODE_SECTION_REF
                                                    : KT_QTI_NODE_SECTION;
    node->line = xmlGetLineNo(n);
    node->identifier = required(c, n, "identifier");
    node->title = attr(c, n, "title");
    node->visible = attr_bool(c, n, "visible", true);
    node->required = attr_bool(c, n, "required", false);
    node->fixed = attr_bool(c, n, "fixed", false);
    node->category = attr(c, n, "category");
    if (node->kind != KT_QTI_NODE_SECTION)
        node->href = required(c, n, "href");
    for (xmlNode *x = n->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            node_child(c, x, node, depth);
}

static void
parse_part(struct ctx *c, xmlNode *n, kt_qti_test_part *p)
{
    char buf[NAME_MAX_LEN];

    p->identifier = required(c, n, "identifier");
    p->navigation_mode = required(c, n, "navigationMode");
    p->submission_mode = required(c, n, "submissionMode");
    for (xmlNode *x = n->children; x; x = x->next) {
        const char *name = x->type == XML_ELEMENT_NODE ? NAME(c, x, buf) : "";
        if (!*name || !is_qti(c, x) || test_passthrough(name))
            continue;
        if (eq(name, "assessmentSection") || eq(name, "assessmentSectionRef"))
            parse_node(c, x, KT_ARENA_PUSH(c->a, p->sections, p->nsections, p->sections_cap), 3);
        else if (eq(name, "timeLimits"))
            parse_time_limits(c, x, &p->has_time_limits, &p->time_limits);
        else
            err(c, x, "Phần tử %s không được hỗ trợ trong testPart.", (const char *)x->name);
    }
}

static void
test_child(struct ctx *c, xmlNode *x, kt_qti_test *t)
{
    char buf[NAME_MAX_LEN];
    const char *name = NAME(c, x, buf);

    if (!is_qti(c, x))
        return;
    if (eq(name, "outcomeDeclaration"))
        parse_decl(c, x, KT_ARENA_PUSH(c->a, t->outcomes, t->noutcomes, t->outcomes_cap),
                   OUTCOME_ATTRS);
    else if (eq(name, "testPart"))
        parse_part(c, x, KT_ARENA_PUSH(c->a, t->parts, t->nparts, t->parts_cap));
    else if (eq(name, "timeLimits"))
        parse_time_limits(c, x, &t->has_time_limits, &t->time_limits);
    else if (eq(name, "outcomeProcessing"))
        t->outcome_processing_xml = serialise(c, x);
    else if (!test_passthrough(name))
        err(c, x, "Phần tử %s không được hỗ trợ trong đề thi.", (const char *)x->name);
}

static kt_qti_test *
parse_test(struct ctx *c, xmlNode *root, bool section)
{
    kt_qti_test *t = kt_arena_alloc(c->a, sizeof *t);

    t->arena = c->a;
    t->version = c->version;
    if (section) {
        t->section = kt_arena_alloc(c->a, sizeof *t->section);
        parse_node(c, root, t->section, 1);
        t->identifier = t->section->identifier;
        t->title = t->section->title;
        return t;
    }
    t->identifier = required(c, root, "identifier");
    t->title = attr(c, root, "title");
    for (xmlNode *x = root->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE)
            test_child(c, x, t);
    if (!t->nparts)
        err(c, root, "Đề thi không có testPart nào.");
    return t;
}

/* ---- documents ---------------------------------------------------------- */

static kt_qti_doc_kind
root_kind(const char *name)
{
    static const struct {
        const char *name;
        kt_qti_doc_kind kind;
    } ROOTS[] = {
        {"assessmentItem", KT_QTI_DOC_ITEM},         {"assessmentTest", KT_QTI_DOC_TEST},
        {"assessmentSection", KT_QTI_DOC_SECTION},   {"questestinterop", KT_QTI_DOC_QTI12},
        {"assessmentStimulus", KT_QTI_DOC_STIMULUS}, {"manifest", KT_QTI_DOC_MANIFEST},
        {"assessmentResult", KT_QTI_DOC_RESULT},     {"responseProcessing", KT_QTI_DOC_RPTEMPLATE},
    };
    for (size_t i = 0; i < sizeof ROOTS / sizeof *ROOTS; i++)
        if (eq(name, ROOTS[i].name))
            return ROOTS[i].kind;
    return KT_QTI_DOC_OTHER;
}

static kt_qti_version
version_of(const xmlNode *root)
{
    const char *ns = root->ns ? (const char *)root->ns->href : "";
    if (strstr(ns, "v3p0"))
        return KT_QTI_V30;
    if (strstr(ns, "v2p0"))
        return KT_QTI_V20;
    if (strstr(ns, "v2p2"))
        return KT_QTI_V22;
    return strncmp((const char *)root->name, "qti-", 4) == 0 ? KT_QTI_V30 : KT_QTI_V21;
}

static void
refuse_other(struct ctx *c, const xmlNode *root, kt_qti_doc_kind kind)
{
    if (kind == KT_QTI_DOC_QTI12)
        err(c, root,
            "QTI 1.2 không được hỗ trợ; hãy xuất lại ngân hàng câu hỏi ở định dạng "
            "QTI 2.1, 2.2 hoặc 3.0.");
    else if (kind == KT_QTI_DOC_STIMULUS)
        err(c, root, "Chưa hỗ trợ nhập ngữ liệu dùng chung (assessmentStimulus) riêng lẻ.");
    else
        err(c, root, "Tài liệu này không phải câu hỏi hay đề thi QTI (phần tử gốc %s).",
            (const char *)root->name);
}

static void
parse_root(struct ctx *c, xmlDoc *xml, kt_qti_doc *doc)
{
    char buf[NAME_MAX_LEN];
    xmlNode *root = xmlDocGetRootElement(xml);

    if (!root) {
        err(c, NULL, "Tài liệu XML rỗng.");
        return;
    }
    c->ns = root->ns ? root->ns->href : NULL;
    c->version = version_of(root);
    doc->kind = root_kind(NAME(c, root, buf));
    if (doc->kind == KT_QTI_DOC_ITEM)
        doc->item = parse_item(c, root);
    else if (doc->kind == KT_QTI_DOC_TEST || doc->kind == KT_QTI_DOC_SECTION)
        doc->test = parse_test(c, root, doc->kind == KT_QTI_DOC_SECTION);
    else
        refuse_other(c, root, doc->kind);
}

/* The first error libxml2 reports (later ones follow from it: after a
 * mismatched tag every enclosing element is "not finished"). */
struct first_error {
    int code, set, fatal;
    long line, col;
    char str1[64];
    char message[240];
};

#if LIBXML_VERSION >= 21200
typedef const xmlError *kt_xml_error_ptr;
#else
typedef xmlError *kt_xml_error_ptr;
#endif

static void
keep_first_error(void *ctx, kt_xml_error_ptr e)
{
    struct first_error *f = ((xmlParserCtxtPtr)ctx)->_private;
    /* The first fatal error wins over an earlier lesser one. */
    if (!f || !e || (f->set && (f->fatal || e->level != XML_ERR_FATAL)))
        return;
    f->set = 1;
    f->fatal = e->level == XML_ERR_FATAL;
    f->code = e->code;
    f->line = e->line;
    f->col = e->int2;
    snprintf(f->str1, sizeof f->str1, "%s", e->str1 ? e->str1 : "?");
    snprintf(f->message, sizeof f->message, "%s", e->message ? e->message : "");
}

/* libxml2's first error in Vietnamese (the common ones), naming the element
 * or attribute; other errors keep libxml2's English text after a Vietnamese
 * lead. */
static void
xml_error_vi(kt_qti_errors *errs, const char *file, const struct first_error *e)
{
    const char *msg = e->set && e->message[0] ? e->message : "tài liệu không đọc được";
    const char *s1 = e->str1;
    long line = e->line, col = e->col;
    switch (e->set ? e->code : 0) {
    case XML_ERR_DOCUMENT_EMPTY:
        kt_qti_error_add(errs, file, line, col, NULL, "XML không hợp lệ: tài liệu rỗng.");
        return;
    case XML_ERR_DOCUMENT_END:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: có nội dung thừa sau phần tử gốc (hoặc thuộc tính"
                         " viết sai, ví dụ thiếu dấu nháy).");
        return;
    case XML_ERR_INVALID_CHAR:
    case XML_ERR_INVALID_ENCODING:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: có ký tự không hợp lệ (tệp phải được lưu bằng"
                         " mã UTF-8).");
        return;
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: thực thể &%.40s; chưa được khai báo (XML chỉ có &lt;"
                         " &gt; &amp; &quot; &apos;; hãy viết thẳng ký tự hoặc dùng &#số;).",
                         s1);
        return;
    case XML_ERR_ATTRIBUTE_REDEFINED:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: thuộc tính %.60s được ghi hai lần trong một thẻ.", s1);
        return;
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: giá trị thuộc tính phải nằm trong dấu nháy.");
        return;
    case XML_ERR_LT_IN_ATTRIBUTE:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: giá trị thuộc tính có ký tự '<' (hãy viết &lt;).");
        return;
    case XML_ERR_NAME_REQUIRED:
        kt_qti_error_add(errs, file, line, col, NULL,
                         "XML không hợp lệ: tên thẻ sai sau dấu '<' (dấu '<' trong văn bản phải"
                         " viết là &lt;).");
        return;
    case XML_ERR_GT_REQUIRED:
        kt_qti_error_add(errs, file, line, col, NULL, "XML không hợp lệ: thiếu dấu '>' đóng thẻ.");
        return;
    case XML_ERR_TAG_NAME_MISMATCH:
        kt_qti_error_add(errs, file, line, col, s1,
                         "XML không hợp lệ: thẻ mở <%.60s> và thẻ đóng không khớp.", s1);
        return;
    case XML_ERR_TAG_NOT_FINISHED:
        kt_qti_error_add(errs, file, line, col, s1,
                         "XML không hợp lệ: thẻ <%.60s> chưa được đóng (tài liệu hết trước thẻ"
                         " đóng).",
                         s1);
        return;
    default:
        kt_qti_error_add(errs, file, line, col, NULL, "XML không hợp lệ (lỗi cú pháp): %.*s",
                         (int)strcspn(msg, "\n"), msg);
    }
}

struct _xmlDoc *
kt_qti_xml_read(const void *buf, size_t len, const char *file, kt_qti_errors *errs)
{
    if (len > KT_QTI_MAX_DOC) {
        kt_qti_error_add(errs, file, 0, 0, NULL, "Tài liệu quá lớn (tối đa %u MB).",
                         KT_QTI_MAX_DOC >> 20);
        return NULL;
    }
    if (memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8)) {
        kt_qti_error_add(errs, file, 0, 0, NULL,
                         "Tài liệu bị từ chối: có khai báo DOCTYPE/ENTITY (không an toàn, có thể "
                         "là tấn công thực thể XML).");
        return NULL;
    }
    xmlParserCtxtPtr p = xmlNewParserCtxt();
    if (!p)
        abort();
    struct first_error first = {0};
    p->_private = &first;
    p->sax->serror = keep_first_error;
    /* Forcing UTF-8 makes the DOCTYPE check complete: no UTF-16 disguise. */
    xmlDoc *xml = xmlCtxtReadMemory(p, buf, (int)len, file, "UTF-8", XML_OPTIONS);
    if (!xml || xml->intSubset) {
        if (!first.set) {
            const xmlError *e = xmlCtxtGetLastError(p);
            if (e)
                keep_first_error(p, (kt_xml_error_ptr)e);
        }
        xml_error_vi(errs, file, &first);
        xmlFreeDoc(xml);
        xml = NULL;
    }
    xmlFreeParserCtxt(p);
    return xml;
}

static void
keep_source(kt_arena *a, kt_qti_doc *doc, const char *buf, size_t len, const char *file)
{
    const char *xml = kt_arena_strndup(a, buf, len);
    if (doc->item) {
        doc->item->xml = xml;
        doc->item->xml_len = len;
        doc->item->file = file;
    } else {
        doc->test->xml = xml;
        doc->test->xml_len = len;
        doc->test->file = file;
    }
}

int
kt_qti_parse(const void *buf, size_t len, const char *file, kt_qti_doc *doc, kt_qti_errors *errs)
{
    struct ctx c = {.a = kt_arena_new(), .errs = errs, .errs_before = errs->n, .cur = -1};
    xmlDoc *xml;

    memset(doc, 0, sizeof *doc);
    c.file = kt_arena_strdup(c.a, file ? file : "");
    if ((xml = kt_qti_xml_read(buf, len, c.file, errs))) {
        parse_root(&c, xml, doc);
        xmlFreeDoc(xml);
    }
    if (errs->n > c.errs_before || (!doc->item && !doc->test)) {
        doc->item = NULL;
        doc->test = NULL;
        kt_arena_free(c.a);
        return -1;
    }
    keep_source(c.a, doc, buf, len, c.file);
    return 0;
}

void
kt_qti_item_free(kt_qti_item *item)
{
    if (item)
        kt_arena_free(item->arena);
}

void
kt_qti_test_free(kt_qti_test *test)
{
    if (test)
        kt_arena_free(test->arena);
}

void
kt_qti_doc_free(kt_qti_doc *doc)
{
    kt_qti_item_free(doc->item);
    kt_qti_test_free(doc->test);
    memset(doc, 0, sizeof *doc);
}

const char *
kt_qti_attr_get(const kt_qti_interaction *it, const char *name)
{
    for (size_t i = 0; i < it->nattrs; i++)
        if (eq(it->attrs[i].name, name))
            return it->attrs[i].value;
    return NULL;
}
