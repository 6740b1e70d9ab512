/*
 * Word (.docx) question reader. The archive is vetted as package.c vets
 * content packages (entry count, names, symlinks, sizes, compression ratio)
 * and a macro-enabled document is refused; word/document.xml is parsed
 * without DTD or entities as qti.c does. The body becomes a list of blocks
 * (paragraphs as text with per-byte run marks and embedded objects, tables
 * as cells of paragraphs; the label of Word's automatic numbering is put
 * before a numbered paragraph's text), and one pass over the blocks
 * recognises the conventions of docs/IMPORT-WORD.md: questions, options,
 * statements, keys, explanations, rubrics, parts, levels, codes and the
 * answer key section (with rubrics and worked solutions per question).
 */
#include "docx.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sodium.h>
#include <zip.h>

#include "item.h"
#include "latex.h"
#include "omml.h"
#include "package.h"
#include "text.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define R_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define A_NS "http://schemas.openxmlformats.org/drawingml/2006/main"
#define V_NS "urn:schemas-microsoft-com:vml"
#define MC_NS "http://schemas.openxmlformats.org/markup-compatibility/2006"
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_HUGE)
#define OBJ '\x01' /* an embedded object (picture, equation) in a paragraph's text */

enum { F_B = 1, F_I = 2, F_U = 4, F_RED = 8, F_SUP = 16, F_SUB = 32, F_OBJ = 64, F_HL = 128 };
enum { P_MATHTYPE = 1, P_BADIMG = 2, P_LATEX = 4, P_MATHTYPE_LOST = 8 };

/* A paragraph: its text with the run marks of every byte, and the HTML of
 * the objects (one per OBJ byte, in order). */
struct para {
    char *text;        /* NUL-terminated */
    unsigned char *fl; /* F_* of each byte of text */
    size_t n, cap;
    char **objs; /* HTML of each OBJ byte */
    size_t nobjs, objs_cap;
    unsigned pflags;     /* P_* */
    int index;           /* 1-based paragraph number in the document */
    char latex_err[240]; /* P_LATEX: the first formula kept as text and why */
};

struct cell {
    struct para **paras;
    size_t n, cap;
};

struct block {
    struct para *p;      /* a paragraph, or NULL for a table */
    struct cell **cells; /* table: rows * cols cells, row-major (missing cells empty) */
    size_t rows, cols;
    int index; /* first paragraph of the block */
};

struct opt {
    char label; /* 'A'..'H' or 'a'..'d' */
    char *html;
    unsigned marks; /* F_U, F_RED, F_B, and F_OBJ standing for a leading '*' */
    int empty;
};

enum zone { Z_STEM, Z_OPTIONS, Z_STATEMENTS, Z_EXPL, Z_RUBRIC };
enum mode { M_ANY, M_MCQ, M_TF, M_SHORT, M_ESSAY };

struct question {
    int number, part, para;
    enum mode mode;
    enum zone zone;
    kt_strbuf stem, expl;
    kt_strbuf model; /* the "Hướng dẫn chấm" lines as HTML (ESSAY model_answer) */
    struct opt opts[16];
    /* Outside the parts, lines "a)" ... "d)" at the end of the stem: the
     * statements of a Đúng/Sai question if the answer section gives it Đ/S
     * marks, else stem text (an essay's sub-questions) */
    struct opt alt[4];
    size_t nalt, alt_from, alt_to; /* the stem's bytes they took */
    size_t nopts;
    int options_outside; /* more options than fit */
    char *inline_key;    /* "Đáp án: ..." inside the question */
    const char *level;
    json_t *codes;  /* taxonomy codes met in the question */
    json_t *rubric; /* [{criterion, points}] */
    unsigned pflags;
    char latex_err[240]; /* P_LATEX: as the paragraph's */
};

struct key {
    int part, number;
    char *value;
};

struct ctx {
    zip_t *zip;
    kt_docx_result *out;
    xmlDoc *doc;
    /* relationships of the main part */
    char **rel_ids, **rel_targets;
    size_t nrels, rels_cap;
    struct block *blocks;
    size_t nblocks, blocks_cap;
    int para_counter;
    /* pass state */
    int part;
    enum mode mode;
    int in_answers, key_part, stopped;
    struct question *q;
    struct question **qs;
    size_t nqs, qs_cap;
    struct key *keys;
    size_t nkeys, keys_cap;
    /* the answer section's "Câu N." entries: rubric and explanation of
     * question N of the part (key_part), merged into it when built */
    struct question *aq; /* the entry being read, NULL when none */
    struct question **extras;
    size_t nextras, extras_cap;
    int ans_expl; /* the section is a "HƯỚNG DẪN GIẢI": "Câu N. text" is text */
    size_t bi;    /* index of the block being handled */
    /* Word's automatic numbering (numbering.xml): the label of a numbered
     * paragraph ("Câu 3.", "B.", "c)") is read as if typed */
    char *numbering_part;
    struct numdef *nums;
    size_t nnums;
    struct abstract_num *absnums;
    size_t nabsnums;
};

/* A level of a numbering definition: its format, label text, start value
 * and the run marks of its label. */
struct numlvl {
    char fmt[16];  /* decimal, upperLetter, lowerLetter, upperRoman, ... */
    char text[48]; /* "Câu %1." */
    int start;
    unsigned char fl;
};

/* A w:abstractNum with its counters: the paragraphs of every w:num that
 * refers to it count on, a w:num with a start override restarts it when
 * first used (as LibreOffice writes "restart numbering"). */
struct abstract_num {
    int id;
    struct numlvl lvl[9];
    int count[9];
    int counted[9]; /* whether count[] holds a value */
};

struct numdef {
    int id, abstract;
    int start_override[9]; /* -1: none */
    int used;
};

static void *
xrealloc(void *p, size_t n)
{
    if (!(p = realloc(p, n ? n : 1)))
        abort();
    return p;
}

#define PUSH(arr, n, cap)                                                                          \
    ((n) == (cap) ? ((cap) = (cap) ? 2 * (cap) : 8,                                                \
                     (arr) = xrealloc((arr), (cap) * sizeof *(arr)), &(arr)[(n)++])                \
                  : &(arr)[(n)++])

static char *
xstrndup(const char *s, size_t n)
{
    char *d = xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* ---- problems ------------------------------------------------------------ */

static const char *const ROMAN[] = {"", "I", "II", "III", "IV"};

__attribute__((format(printf, 5, 6))) static void
problem(kt_docx_result *out, const char *severity, int number, int para, const char *fmt, ...)
{
    char msg[768], where[96] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *p =
        json_pack("{s:s, s:i, s:i}", "severity", severity, "question", number, "paragraph", para);
    if (number > 0)
        snprintf(where, sizeof where, "Câu %d (đoạn %d): ", number, para);
    else if (para > 0)
        snprintf(where, sizeof where, "Đoạn %d: ", para);
    json_object_set_new(p, "message", json_sprintf("%s%s", where, msg));
    json_array_append_new(out->problems, p);
}

static void
qproblem(struct ctx *c, const struct question *q, const char *severity, const char *msg)
{
    if (q->part > 0)
        problem(c->out, severity, q->number, q->para, "(phần %s) %s", ROMAN[q->part], msg);
    else
        problem(c->out, severity, q->number, q->para, "%s", msg);
}

/* The P_* flags of paragraph p, and its first formula kept as text, on q. */
static void
take_flags(struct question *q, const struct para *p)
{
    q->pflags |= p->pflags;
    if (!q->latex_err[0])
        memcpy(q->latex_err, p->latex_err, sizeof q->latex_err);
}

/* ---- archive ------------------------------------------------------------- */

static int
unsafe_name(const char *name)
{
    if (*name == '/' || *name == '\\' || (isalpha((unsigned char)name[0]) && name[1] == ':'))
        return 1;
    for (const char *s = name; *s;) {
        size_t n = strcspn(s, "/\\");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return 1;
        s += n;
        s += *s != '\0';
    }
    return 0;
}

static int
vet_archive(struct ctx *c)
{
    zip_int64_t n = zip_get_num_entries(c->zip, 0);
    zip_uint64_t total = 0;
    if (n > KT_PKG_MAX_ENTRIES) {
        problem(c->out, "error", 0, 0, "Tệp Word có quá nhiều phần (%lld, tối đa %d).",
                (long long)n, KT_PKG_MAX_ENTRIES);
        return -1;
    }
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        zip_uint8_t os;
        zip_uint32_t attr;
        if (zip_stat_index(c->zip, (zip_uint64_t)i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME) ||
            (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) !=
                (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) {
            problem(c->out, "error", 0, 0, "Tệp Word bị hỏng (mục thứ %lld của tệp nén).",
                    (long long)i + 1);
            return -1;
        }
        if (unsafe_name(st.name)) {
            problem(c->out, "error", 0, 0, "Tên phần không an toàn trong tệp Word: %s.", st.name);
            return -1;
        }
        if (zip_file_get_external_attributes(c->zip, (zip_uint64_t)i, 0, &os, &attr) == 0 &&
            os == ZIP_OPSYS_UNIX && ((attr >> 16) & S_IFMT) == S_IFLNK) {
            problem(c->out, "error", 0, 0, "Tệp Word chứa liên kết tượng trưng (%s).", st.name);
            return -1;
        }
        if (st.size > KT_PKG_MAX_ENTRY) {
            problem(c->out, "error", 0, 0, "Phần %s giải nén ra quá lớn (tối đa %u MB).", st.name,
                    KT_PKG_MAX_ENTRY >> 20);
            return -1;
        }
        if (st.size > KT_PKG_RATIO_FLOOR && st.size / KT_PKG_MAX_RATIO > st.comp_size) {
            problem(c->out, "error", 0, 0,
                    "Phần %s có tỉ lệ nén bất thường (trên %d lần), nghi là zip bomb.", st.name,
                    KT_PKG_MAX_RATIO);
            return -1;
        }
        total += st.size;
        const char *base = strrchr(st.name, '/');
        if (strcmp(base ? base + 1 : st.name, "vbaProject.bin") == 0) {
            problem(c->out, "error", 0, 0,
                    "Tệp Word có macro (.docm) không được nhận. Hãy mở tệp và lưu lại dưới dạng "
                    "Tài liệu Word (.docx).");
            return -1;
        }
    }
    if (total > KT_PKG_MAX_TOTAL) {
        problem(c->out, "error", 0, 0, "Tệp Word giải nén ra quá lớn (tối đa %u MB).",
                KT_PKG_MAX_TOTAL >> 20);
        return -1;
    }
    return 0;
}

/* An entry's bytes, NUL-terminated, malloc'd; NULL when absent or broken. */
static char *
read_entry(struct ctx *c, const char *path, size_t *len)
{
    zip_int64_t idx = zip_name_locate(c->zip, path, 0);
    zip_stat_t st;
    zip_file_t *f;
    char extra;
    if (idx < 0 || zip_stat_index(c->zip, (zip_uint64_t)idx, 0, &st) < 0 ||
        !(f = zip_fopen_index(c->zip, (zip_uint64_t)idx, 0)))
        return NULL;
    char *data = xrealloc(NULL, st.size + 1);
    int ok = zip_fread(f, data, st.size) == (zip_int64_t)st.size && zip_fread(f, &extra, 1) == 0;
    zip_fclose(f);
    if (!ok) {
        free(data);
        return NULL;
    }
    data[st.size] = '\0';
    *len = st.size;
    return data;
}

static xmlDoc *
parse_xml(const char *buf, size_t len, const char *name)
{
    if (len > INT32_MAX || memmem(buf, len, "<!DOCTYPE", 9) || memmem(buf, len, "<!ENTITY", 8))
        return NULL;
    xmlDoc *d = xmlReadMemory(buf, (int)len, name, "UTF-8", XML_OPTIONS);
    if (d && d->intSubset) {
        xmlFreeDoc(d);
        return NULL;
    }
    return d;
}

static int
is_el(const xmlNode *n, const char *ns, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, local) == 0;
}

static char *
attr(const xmlNode *n, const char *ns, const char *name)
{
    xmlChar *v = ns ? xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns)
                    : xmlGetNoNsProp(n, (const xmlChar *)name);
    char *s = v ? xstrndup((const char *)v, strlen((const char *)v)) : NULL;
    xmlFree(v);
    return s;
}

/* Resolves a relationship target against the folder "word". */
static char *
resolve_target(const char *dir, const char *target)
{
    char out[1024] = "";
    size_t o = 0;
    if (*target == '/') {
        target++;
        dir = "";
    }
    char joined[1024];
    snprintf(joined, sizeof joined, "%s%s%s", dir, *dir ? "/" : "", target);
    for (const char *s = joined; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (o == 0)
                return NULL;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else if (n && !(n == 1 && s[0] == '.')) {
            if (o + n + 2 >= sizeof out)
                return NULL;
            if (o)
                out[o++] = '/';
            memcpy(out + o, s, n);
            o += n;
        }
        s += n;
        s += *s == '/';
    }
    return xstrndup(out, o);
}

/* The main part's path from _rels/.rels, and its relationships. */
static char *
load_rels(struct ctx *c)
{
    size_t len;
    char *main_part = NULL, *buf = read_entry(c, "_rels/.rels", &len);
    xmlDoc *d = buf ? parse_xml(buf, len, "_rels/.rels") : NULL;
    for (xmlNode *r = d ? xmlDocGetRootElement(d)->children : NULL; r && !main_part; r = r->next) {
        char *type = r->type == XML_ELEMENT_NODE ? attr(r, NULL, "Type") : NULL;
        size_t tl = type ? strlen(type) : 0;
        if (tl > 15 && strcmp(type + tl - 15, "/officeDocument") == 0) {
            char *t = attr(r, NULL, "Target");
            main_part = t ? resolve_target("", t) : NULL;
            free(t);
        }
        free(type);
    }
    xmlFreeDoc(d);
    free(buf);
    if (!main_part)
        main_part = xstrndup("word/document.xml", 17);

    const char *slash = strrchr(main_part, '/');
    char dir[512], relpath[1024];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - main_part) : 0, main_part);
    snprintf(relpath, sizeof relpath, "%s%s_rels/%s.rels", dir, *dir ? "/" : "",
             slash ? slash + 1 : main_part);
    buf = read_entry(c, relpath, &len);
    d = buf ? parse_xml(buf, len, relpath) : NULL;
    for (xmlNode *r = d ? xmlDocGetRootElement(d)->children : NULL; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE)
            continue;
        char *id = attr(r, NULL, "Id"), *t = attr(r, NULL, "Target"),
             *mode = attr(r, NULL, "TargetMode");
        char *res =
            id && t && !(mode && strcmp(mode, "External") == 0) ? resolve_target(dir, t) : NULL;
        char *type = res ? attr(r, NULL, "Type") : NULL;
        size_t tl = type ? strlen(type) : 0;
        if (tl > 10 && strcmp(type + tl - 10, "/numbering") == 0 && !c->numbering_part)
            c->numbering_part = xstrndup(res, strlen(res));
        free(type);
        if (res) {
            *PUSH(c->rel_ids, c->nrels, c->rels_cap) = id;
            c->rel_targets = xrealloc(c->rel_targets, c->rels_cap * sizeof *c->rel_targets);
            c->rel_targets[c->nrels - 1] = res;
            id = NULL;
        }
        free(id);
        free(t);
        free(mode);
    }
    xmlFreeDoc(d);
    free(buf);
    return main_part;
}

/* ---- images ------------------------------------------------------------ */

/* "<img src=\"media/<sha256>.<ext>\" alt=\"\"/>" for the relationship rid,
 * the image registered in the result; NULL when it is not a PNG, JPEG,
 * GIF or WebP picture. */
static char *
image_html(struct ctx *c, const char *rid)
{
    const char *target = NULL;
    for (size_t i = 0; i < c->nrels && !target; i++)
        if (strcmp(c->rel_ids[i], rid) == 0)
            target = c->rel_targets[i];
    size_t len;
    char *data = target ? read_entry(c, target, &len) : NULL;
    const char *type = data ? kt_media_sniff(data, len) : NULL;
    if (!type) {
        free(data);
        return NULL;
    }
    const char *ext = strcmp(type, "image/png") == 0    ? "png"
                      : strcmp(type, "image/jpeg") == 0 ? "jpg"
                      : strcmp(type, "image/gif") == 0  ? "gif"
                                                        : "webp";
    unsigned char h[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1], path[96], html[160];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(path, sizeof path, "media/%s.%s", hex, ext);
    snprintf(html, sizeof html, "<img src=\"%s\" alt=\"\"/>", path);
    kt_docx_result *out = c->out;
    for (size_t i = 0; i < out->nimages; i++)
        if (strcmp(out->images[i].path, path) == 0) {
            free(data);
            return xstrndup(html, strlen(html));
        }
    out->images = xrealloc(out->images, (out->nimages + 1) * sizeof *out->images);
    out->images[out->nimages++] =
        (kt_docx_image){xstrndup(path, strlen(path)), type, (unsigned char *)data, len};
    return xstrndup(html, strlen(html));
}

/* The first descendant of n that is element ns:local. */
static const xmlNode *
find_desc(const xmlNode *n, const char *ns, const char *local)
{
    for (const xmlNode *k = n->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(k, ns, local))
            return k;
        const xmlNode *f = find_desc(k, ns, local);
        if (f)
            return f;
    }
    return NULL;
}

/* ---- automatic numbering -------------------------------------------------- */

static unsigned char run_flags(const xmlNode *rpr);
static void para_add(struct para *p, const char *s, size_t n, unsigned char fl);
static void add_text(struct para *p, const char *s, unsigned char fl);

static int
int_attr(const xmlNode *n, int dflt)
{
    char *v = n ? attr(n, W_NS, "val") : NULL;
    int r = v && *v ? atoi(v) : dflt;
    free(v);
    return r;
}

static const xmlNode *
child_el(const xmlNode *n, const char *local)
{
    for (const xmlNode *k = n ? n->children : NULL; k; k = k->next)
        if (is_el(k, W_NS, local))
            return k;
    return NULL;
}

/* The numbering part's definitions; a part missing or broken gives none. */
static void
load_numbering(struct ctx *c)
{
    size_t len;
    char *buf = c->numbering_part ? read_entry(c, c->numbering_part, &len) : NULL;
    xmlDoc *d = buf ? parse_xml(buf, len, c->numbering_part) : NULL;
    free(buf);
    const xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
    for (const xmlNode *e = root ? root->children : NULL; e; e = e->next) {
        if (is_el(e, W_NS, "abstractNum") && c->nabsnums < 1000) {
            c->absnums = xrealloc(c->absnums, (c->nabsnums + 1) * sizeof *c->absnums);
            struct abstract_num *a = &c->absnums[c->nabsnums++];
            memset(a, 0, sizeof *a);
            char *id = attr(e, W_NS, "abstractNumId");
            a->id = id ? atoi(id) : -1;
            free(id);
            for (int l = 0; l < 9; l++)
                a->lvl[l].start = 1;
            for (const xmlNode *lv = e->children; lv; lv = lv->next) {
                if (!is_el(lv, W_NS, "lvl"))
                    continue;
                char *il = attr(lv, W_NS, "ilvl");
                int l = il ? atoi(il) : -1;
                free(il);
                if (l < 0 || l > 8)
                    continue;
                struct numlvl *x = &a->lvl[l];
                x->start = int_attr(child_el(lv, "start"), 1);
                char *f = attr(child_el(lv, "numFmt") ? child_el(lv, "numFmt") : lv, W_NS, "val");
                char *t =
                    child_el(lv, "lvlText") ? attr(child_el(lv, "lvlText"), W_NS, "val") : NULL;
                snprintf(x->fmt, sizeof x->fmt, "%s", f ? f : "decimal");
                snprintf(x->text, sizeof x->text, "%s", t ? t : "");
                free(f);
                free(t);
                x->fl = run_flags(child_el(lv, "rPr"));
            }
        } else if (is_el(e, W_NS, "num") && c->nnums < 5000) {
            c->nums = xrealloc(c->nums, (c->nnums + 1) * sizeof *c->nums);
            struct numdef *n = &c->nums[c->nnums++];
            char *id = attr(e, W_NS, "numId");
            n->id = id ? atoi(id) : -1;
            free(id);
            n->abstract = int_attr(child_el(e, "abstractNumId"), -1);
            n->used = 0;
            for (int l = 0; l < 9; l++)
                n->start_override[l] = -1;
            for (const xmlNode *o = e->children; o; o = o->next) {
                char *il = is_el(o, W_NS, "lvlOverride") ? attr(o, W_NS, "ilvl") : NULL;
                int l = il ? atoi(il) : -1;
                free(il);
                if (l >= 0 && l <= 8 && child_el(o, "startOverride"))
                    n->start_override[l] = int_attr(child_el(o, "startOverride"), 1);
            }
        }
    }
    xmlFreeDoc(d);
}

/* A counter value in a level's format: "3", "C", "c", "III", "iii". */
static void
format_counter(char *out, size_t n, int v, const char *fmt)
{
    if (strcmp(fmt, "upperLetter") == 0 || strcmp(fmt, "lowerLetter") == 0) {
        char base = fmt[0] == 'u' ? 'A' : 'a';
        int k = v < 1 ? 1 : (v - 1) / 26 + 1; /* Word: AA, BB ... after Z */
        size_t o = 0;
        for (int i = 0; i < k && o + 1 < n && i < 8; i++)
            out[o++] = (char)(base + (v < 1 ? 0 : (v - 1) % 26));
        out[o] = '\0';
    } else if (strcmp(fmt, "upperRoman") == 0 || strcmp(fmt, "lowerRoman") == 0) {
        static const char *const R[] = {"m",  "cm", "d",  "cd", "c",  "xc", "l",
                                        "xl", "x",  "ix", "v",  "iv", "i"};
        static const int V[] = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
        size_t o = 0;
        for (int i = 0; i < 13 && v > 0 && v < 4000; i++)
            while (v >= V[i] && o + 3 < n) {
                for (const char *r = R[i]; *r; r++)
                    out[o++] = fmt[0] == 'u' ? (char)toupper((unsigned char)*r) : *r;
                v -= V[i];
            }
        out[o] = '\0';
    } else {
        snprintf(out, n, "%d", v);
    }
}

/* The label of a paragraph numbered with numId at level ilvl, counting it
 * ("Câu 3.", "B.", "c)"); NULL for a bullet, no format or an unknown list.
 * Its run marks in *fl. */
static char *
number_label(struct ctx *c, int num_id, int ilvl, unsigned char *fl)
{
    struct numdef *n = NULL;
    struct abstract_num *a = NULL;
    for (size_t i = 0; i < c->nnums && !n; i++)
        if (c->nums[i].id == num_id)
            n = &c->nums[i];
    for (size_t i = 0; n && i < c->nabsnums && !a; i++)
        if (c->absnums[i].id == n->abstract)
            a = &c->absnums[i];
    if (!a || ilvl < 0 || ilvl > 8)
        return NULL;
    const struct numlvl *lv = &a->lvl[ilvl];
    if (strcmp(lv->fmt, "bullet") == 0 || strcmp(lv->fmt, "none") == 0 || !lv->text[0])
        return NULL;
    if (!n->used && n->start_override[ilvl] >= 0) {
        a->count[ilvl] = n->start_override[ilvl];
        a->counted[ilvl] = 1;
    } else if (a->counted[ilvl]) {
        a->count[ilvl]++;
    } else {
        a->count[ilvl] = lv->start;
        a->counted[ilvl] = 1;
    }
    n->used = 1;
    for (int l = ilvl + 1; l < 9; l++)
        a->counted[l] = 0; /* deeper levels restart */
    kt_strbuf b = {0};
    for (const char *t = lv->text; *t; t++) {
        if (t[0] == '%' && t[1] >= '1' && t[1] <= '9') {
            int l = t[1] - '1';
            char v[40];
            format_counter(v, sizeof v, a->counted[l] ? a->count[l] : a->lvl[l].start,
                           a->lvl[l].fmt);
            kt_strbuf_puts(&b, v);
            t++;
        } else {
            kt_strbuf_add(&b, t, 1);
        }
    }
    *fl = lv->fl;
    return kt_strbuf_take(&b);
}

/* The numbering of paragraph pn (w:pPr/w:numPr) as text before its own. */
static void
para_number(struct ctx *c, struct para *p, const xmlNode *pn)
{
    const xmlNode *ppr = child_el(pn, "pPr"), *numpr = child_el(ppr, "numPr");
    if (!numpr || !c->nnums)
        return;
    int id = int_attr(child_el(numpr, "numId"), 0), ilvl = int_attr(child_el(numpr, "ilvl"), 0);
    unsigned char fl = 0;
    char *label = id > 0 ? number_label(c, id, ilvl, &fl) : NULL;
    if (!label)
        return;
    fl |= run_flags(child_el(ppr, "rPr")); /* the number takes the paragraph mark's format */
    add_text(p, label, fl & (F_B | F_I | F_U | F_RED | F_HL));
    para_add(p, " ", 1, 0);
    free(label);
}

/* ---- paragraphs ---------------------------------------------------------- */

static void
para_add(struct para *p, const char *s, size_t n, unsigned char fl)
{
    if (p->n + n + 1 > p->cap) {
        while (p->n + n + 1 > p->cap)
            p->cap = p->cap ? 2 * p->cap : 128;
        p->text = xrealloc(p->text, p->cap);
        p->fl = xrealloc(p->fl, p->cap);
    }
    memcpy(p->text + p->n, s, n);
    memset(p->fl + p->n, fl, n);
    p->n += n;
    p->text[p->n] = '\0';
}

static void
para_obj(struct para *p, char *html)
{
    *PUSH(p->objs, p->nobjs, p->objs_cap) = html;
    para_add(p, "\x01", 1, F_OBJ);
}

static int
on_off(const xmlNode *e)
{
    char *v = attr(e, W_NS, "val");
    int on = !v || !(strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "none") == 0 ||
                     strcmp(v, "off") == 0);
    free(v);
    return on;
}

static unsigned char
run_flags(const xmlNode *rpr)
{
    unsigned char f = 0;
    for (const xmlNode *e = rpr ? rpr->children : NULL; e; e = e->next) {
        if (is_el(e, W_NS, "b") && on_off(e))
            f |= F_B;
        else if (is_el(e, W_NS, "i") && on_off(e))
            f |= F_I;
        else if (is_el(e, W_NS, "u") && on_off(e))
            f |= F_U;
        else if (is_el(e, W_NS, "color")) {
            char *v = attr(e, W_NS, "val");
            unsigned rgb;
            if (v && strlen(v) == 6 && sscanf(v, "%x", &rgb) == 1 && (rgb >> 16) >= 0xC0 &&
                ((rgb >> 8) & 0xFF) < 0x60 && (rgb & 0xFF) < 0x60)
                f |= F_RED;
            free(v);
        } else if (is_el(e, W_NS, "highlight")) { /* a highlighter colour */
            char *v = attr(e, W_NS, "val");
            if (v && strcmp(v, "none") != 0 && strcmp(v, "white") != 0)
                f |= F_HL;
            free(v);
        } else if (is_el(e, W_NS, "shd")) { /* character shading, as LibreOffice writes it */
            char *v = attr(e, W_NS, "fill");
            if (v && strlen(v) == 6 && strcmp(v, "FFFFFF") != 0 && strcmp(v, "ffffff") != 0)
                f |= F_HL;
            free(v);
        } else if (is_el(e, W_NS, "vertAlign")) {
            char *v = attr(e, W_NS, "val");
            if (v && strcmp(v, "superscript") == 0)
                f |= F_SUP;
            else if (v && strcmp(v, "subscript") == 0)
                f |= F_SUB;
            free(v);
        }
    }
    return f;
}

static void
add_text(struct para *p, const char *s, unsigned char fl)
{
    char *nfc = kt_nfc(s, strlen(s));
    const char *t = nfc ? nfc : s;
    /* OBJ bytes cannot come from text: XML 1.0 has no U+0001. */
    para_add(p, t, strlen(t), fl);
    free(nfc);
}

static void walk_inline(struct ctx *c, struct para *p, const xmlNode *n, unsigned char fl);

static void
add_picture(struct ctx *c, struct para *p, const xmlNode *n, int ole)
{
    const xmlNode *blip = find_desc(n, A_NS, "blip");
    const xmlNode *imd = find_desc(n, V_NS, "imagedata");
    char *rid = blip ? attr(blip, R_NS, "embed") : imd ? attr(imd, R_NS, "id") : NULL;
    char *html = rid ? image_html(c, rid) : NULL;
    free(rid);
    if (ole && !html) {
        /* a WMF/EMF preview, which no browser shows: the place is marked */
        p->pflags |= P_MATHTYPE_LOST;
        add_text(p, "[công thức MathType]", 0);
        return;
    }
    if (ole)
        p->pflags |= P_MATHTYPE;
    if (html)
        para_obj(p, html);
    else
        p->pflags |= P_BADIMG;
}

static void
walk_run(struct ctx *c, struct para *p, const xmlNode *r)
{
    unsigned char fl = 0;
    for (const xmlNode *e = r->children; e; e = e->next)
        if (is_el(e, W_NS, "rPr"))
            fl = run_flags(e);
    for (const xmlNode *e = r->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(e, W_NS, "t")) {
            xmlChar *t = xmlNodeGetContent(e);
            if (t)
                add_text(p, (const char *)t, fl);
            xmlFree(t);
        } else if (is_el(e, W_NS, "tab")) {
            para_add(p, "\t", 1, fl);
        } else if (is_el(e, W_NS, "br") || is_el(e, W_NS, "cr")) {
            para_add(p, "\n", 1, 0);
        } else if (is_el(e, W_NS, "drawing") || is_el(e, W_NS, "pict")) {
            add_picture(c, p, e, 0);
        } else if (is_el(e, W_NS, "object")) {
            add_picture(c, p, e, 1);
        } else if (is_el(e, MC_NS, "AlternateContent")) {
            walk_inline(c, p, e, fl);
        }
    }
}

/* Paragraph content: runs, hyperlinks, insertions, fields, equations. */
static void
walk_inline(struct ctx *c, struct para *p, const xmlNode *n, unsigned char fl)
{
    for (const xmlNode *e = n->children; e; e = e->next) {
        if (e->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(e, W_NS, "r"))
            walk_run(c, p, e);
        else if (kt_omml_is(e, "oMath") || kt_omml_is(e, "oMathPara"))
            para_obj(p, kt_omml_to_mathml(e));
        else if (is_el(e, W_NS, "del") || is_el(e, W_NS, "pPr") || is_el(e, MC_NS, "Fallback"))
            continue;
        else if (is_el(e, MC_NS, "Choice")) {
            walk_inline(c, p, e, fl);
            break; /* the first choice only */
        } else if (is_el(e, W_NS, "drawing") || is_el(e, W_NS, "pict"))
            add_picture(c, p, e, 0);
        else
            walk_inline(c, p, e, fl); /* hyperlink, ins, smartTag, sdt, fldSimple... */
    }
}

/* ---- LaTeX typed as text ------------------------------------------------- */

static int is_ws(char ch);

/* The index of the closing delimiter of a formula opening at i (0 when
 * none opens there), *open the opening delimiter's length and *display.
 * "$x$" and "$$x$$" need a closing "$" in the paragraph and a non-space
 * right after the opening and before the closing one, so that "5$" and
 * "5 $ hay 7 $" stay text (as "\$" does); "\(x\)" is a formula whatever
 * its spaces. */
static size_t
latex_end(const char *t, size_t n, size_t i, size_t *open, int *display)
{
    *display = 0;
    if (t[i] == '\\' && i + 1 < n && t[i + 1] == '(') {
        const char *e = strstr(t + i + 2, "\\)");
        *open = 2;
        return e && e > t + i + 2 ? (size_t)(e - t) : 0;
    }
    if (t[i] != '$' || (i > 0 && t[i - 1] == '\\'))
        return 0;
    size_t o = i + 1 < n && t[i + 1] == '$' ? 2 : 1, from = i + o;
    if (from >= n || is_ws(t[from]) || t[from] == '$')
        return 0;
    for (size_t j = from + 1; j < n; j++) {
        if (t[j] != '$' || t[j - 1] == '\\') /* "\$" is a dollar sign */
            continue;
        if (is_ws(t[j - 1]) || (o == 2 && (j + 1 >= n || t[j + 1] != '$')))
            return 0;
        *open = o;
        *display = o == 2;
        return j;
    }
    return 0;
}

/* Byte i of p (with its object) appended to q. */
static void
para_copy_byte(struct para *q, struct para *p, size_t i, size_t *oi)
{
    if (p->text[i] == OBJ && *oi < p->nobjs) {
        para_obj(q, p->objs[(*oi)++]);
        q->fl[q->n - 1] = p->fl[i];
    } else {
        para_add(q, p->text + i, 1, p->fl[i]);
    }
}

/* Each formula typed as LaTeX in p ("$…$", "$$…$$", "\(…\)") that
 * converts becomes an object (its MathML, as a Word equation); one that
 * does not stays as text, flagged P_LATEX with the first one and why. */
static void
latex_segments(struct para *p)
{
    if (!memchr(p->text, '$', p->n) && !strstr(p->text, "\\("))
        return;
    struct para q = {0};
    para_add(&q, "", 0, 0);
    size_t oi = 0;
    for (size_t i = 0; i < p->n;) {
        size_t open = 0;
        int display;
        size_t end = latex_end(p->text, p->n, i, &open, &display);
        if (!end) {
            para_copy_byte(&q, p, i++, &oi);
            continue;
        }
        char *tex = xstrndup(p->text + i + open, end - i - open);
        char why[160];
        char *m = kt_latex_to_mathml(tex, display, why, sizeof why);
        if (m) { /* no OBJ inside: the converter refuses control characters */
            para_obj(&q, m);
        } else {
            p->pflags |= P_LATEX;
            if (!p->latex_err[0]) {
                size_t len = strlen(tex);
                int cut = len > 80;
                if (cut) /* at a character boundary */
                    for (len = 80; len > 0 && (tex[len] & 0xC0) == 0x80; len--)
                        ;
                snprintf(p->latex_err, sizeof p->latex_err, "%.*s%.*s%s%.*s (%s)", (int)open,
                         p->text + i, (int)len, tex, cut ? "…" : "", (int)open, p->text + end, why);
            }
            for (size_t k = i; k < end + open; k++)
                para_copy_byte(&q, p, k, &oi);
        }
        free(tex);
        i = end + open;
    }
    free(p->text);
    free(p->fl);
    free(p->objs); /* the objects moved to q */
    p->text = q.text;
    p->fl = q.fl;
    p->n = q.n;
    p->cap = q.cap;
    p->objs = q.objs;
    p->nobjs = q.nobjs;
    p->objs_cap = q.objs_cap;
}

static struct para *
read_para(struct ctx *c, const xmlNode *pn)
{
    struct para *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->index = ++c->para_counter;
    para_add(p, "", 0, 0);
    para_number(c, p, pn);
    walk_inline(c, p, pn, 0);
    latex_segments(p);
    return p;
}

static void
para_free(struct para *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nobjs; i++)
        free(p->objs[i]);
    free(p->objs);
    free(p->text);
    free(p->fl);
    free(p);
}

static void read_blocks(struct ctx *c, const xmlNode *parent);

static void
cell_paras(struct ctx *c, struct cell *cell, const xmlNode *n)
{
    for (const xmlNode *e = n->children; e; e = e->next) {
        if (is_el(e, W_NS, "p")) {
            struct para *p = read_para(c, e);
            *PUSH(cell->paras, cell->n, cell->cap) = p; // NOLINT(bugprone-sizeof-expression)
        } else if (e->type == XML_ELEMENT_NODE && !is_el(e, W_NS, "tcPr"))
            cell_paras(c, cell, e); /* nested tables and content controls, flattened */
    }
}

static void
read_table(struct ctx *c, const xmlNode *t)
{
    struct block *b = PUSH(c->blocks, c->nblocks, c->blocks_cap);
    memset(b, 0, sizeof *b);
    b->index = c->para_counter + 1;
    for (const xmlNode *tr = t->children; tr; tr = tr->next) {
        if (is_el(tr, W_NS, "tr") && b->rows < 2000) {
            size_t k = 0;
            for (const xmlNode *tc = tr->children; tc; tc = tc->next)
                k += is_el(tc, W_NS, "tc");
            if (k > b->cols)
                b->cols = k > 64 ? 64 : k;
            b->rows++;
        }
    }
    b->cells = calloc(b->rows * b->cols + 1, sizeof(struct cell *));
    if (!b->cells)
        abort();
    size_t r = 0;
    for (const xmlNode *tr = t->children; tr && r < b->rows; tr = tr->next) {
        if (!is_el(tr, W_NS, "tr"))
            continue;
        size_t k = 0;
        for (const xmlNode *tc = tr->children; tc && k < b->cols; tc = tc->next) {
            if (!is_el(tc, W_NS, "tc"))
                continue;
            struct cell *cell = calloc(1, sizeof *cell);
            if (!cell)
                abort();
            cell_paras(c, cell, tc);
            b->cells[r * b->cols + k++] = cell;
        }
        r++;
    }
}

static void
read_blocks(struct ctx *c, const xmlNode *parent)
{
    for (const xmlNode *e = parent->children; e; e = e->next) {
        if (is_el(e, W_NS, "p")) {
            struct block *b = PUSH(c->blocks, c->nblocks, c->blocks_cap);
            memset(b, 0, sizeof *b);
            b->p = read_para(c, e);
            b->index = b->p->index;
        } else if (is_el(e, W_NS, "tbl")) {
            read_table(c, e);
        } else if (is_el(e, W_NS, "sdt") || is_el(e, W_NS, "sdtContent") ||
                   is_el(e, W_NS, "customXml")) {
            read_blocks(c, e);
        }
    }
}

/* ---- text helpers ---------------------------------------------------------- */

static int
is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Skips spaces, tabs, line breaks and no-break spaces. */
static size_t
skip_ws(const char *s, size_t i, size_t end)
{
    while (i < end) {
        if (is_ws(s[i]))
            i++;
        else if ((unsigned char)s[i] == 0xC2 && i + 1 < end && (unsigned char)s[i + 1] == 0xA0)
            i += 2;
        else
            break;
    }
    return i;
}

static size_t
trim_end(const char *s, size_t from, size_t end)
{
    while (end > from &&
           (is_ws(s[end - 1]) || ((unsigned char)s[end - 1] == 0xA0 && end - 1 > from &&
                                  (unsigned char)s[end - 2] == 0xC2)))
        end -= is_ws(s[end - 1]) ? 1 : 2;
    return end;
}

/* Whether s at i starts with one of the forms; returns its length or 0. */
static size_t
starts(const char *s, size_t i, const char *const *forms)
{
    for (size_t k = 0; forms[k]; k++) {
        size_t n = strlen(forms[k]);
        if (strncmp(s + i, forms[k], n) == 0)
            return n;
    }
    return 0;
}

static const char *const CAU[] = {"Câu", "CÂU", "câu", NULL};
static const char *const PHAN[] = {"PHẦN", "Phần", "phần", NULL};
static const char *const DAPAN[] = {"BẢNG ĐÁP ÁN", "Bảng đáp án", "ĐÁP ÁN", "Đáp án",
                                    "đáp án",      "Đáp Án",      NULL};
static const char *const EXPL[] = {"Lời giải",       "LỜI GIẢI",       "Lời Giải",
                                   "Hướng dẫn giải", "HƯỚNG DẪN GIẢI", "Hướng Dẫn Giải",
                                   "Giải",           "GIẢI",           NULL};
static const char *const RUBRIC[] = {"Hướng dẫn chấm", "HƯỚNG DẪN CHẤM", "Hướng Dẫn Chấm", NULL};
static const char *const TULUAN[] = {"TỰ LUẬN", "Tự luận", "tự luận", "Tự Luận", NULL};
static const char *const TRACNGHIEM[] = {"TRẮC NGHIỆM", "Trắc nghiệm", NULL};
static const char *const DUNG[] = {"Đúng", "ĐÚNG", "đúng", "Đ", "đ", NULL};
static const char *const SAI[] = {"Sai", "SAI", "sai", "S", "s", NULL};

/* "Câu N." / "Câu N:" at i: returns the offset after the marker, N in *num. */
static size_t
question_marker(const char *s, size_t i, size_t end, int *num)
{
    size_t k = starts(s, i, CAU);
    if (!k)
        return 0;
    size_t j = skip_ws(s, i + k, end);
    if (j == i + k || j >= end || !isdigit((unsigned char)s[j]))
        return 0;
    long v = 0;
    while (j < end && isdigit((unsigned char)s[j]) && v < 100000)
        v = v * 10 + (s[j++] - '0');
    j = skip_ws(s, j, end);
    if (j < end && (s[j] == '.' || s[j] == ':' || s[j] == ')')) {
        j++;
    } else if (!(j < end && s[j] == '(')) { /* "Câu 3 (NB):" */
        return 0;
    }
    *num = (int)v;
    return j;
}

/* Option label at i ("A." / "A)" / "*A."): returns its length (with the
 * '*'), letter in *letter, '*' in *star. lower: statements "a)". */
static size_t
option_label(const char *s, size_t i, size_t end, int lower, char *letter, int *star)
{
    size_t j = i;
    *star = 0;
    if (j < end && s[j] == '*') {
        *star = 1;
        j = skip_ws(s, j + 1, end);
    }
    if (j >= end)
        return 0;
    char ch = s[j];
    if (lower ? !(ch >= 'a' && ch <= 'h') : !(ch >= 'A' && ch <= 'H'))
        return 0;
    char p = j + 1 < end ? s[j + 1] : '\0';
    if (!(p == ')' || (p == '.' && !(j + 2 < end && isdigit((unsigned char)s[j + 2])))))
        return 0;
    if (lower && p == '.')
        return 0;
    *letter = ch;
    return j + 2 - i;
}

/* ---- HTML from a paragraph slice ------------------------------------------ */

static size_t
obj_index(const struct para *p, size_t at)
{
    size_t k = 0;
    for (size_t i = 0; i < at; i++)
        k += p->text[i] == OBJ;
    return k;
}

/* Bytes [from, to) of p as inline HTML: italic, superscript and subscript
 * kept, bold and underline too when keep_u (not in options and statements,
 * where they may mark the key); colours dropped; line breaks as <br/>, tabs
 * as spaces; objects as their HTML. */
static void
slice_html(kt_strbuf *b, const struct para *p, size_t from, size_t to, int keep_u)
{
    static const struct {
        unsigned char f;
        const char *open, *close;
    } tags[] = {{F_B, "<b>", "</b>"},
                {F_I, "<i>", "</i>"},
                {F_U, "<u>", "</u>"},
                {F_SUP, "<sup>", "</sup>"},
                {F_SUB, "<sub>", "</sub>"}};
    size_t oi = obj_index(p, from);
    size_t i = from;
    while (i < to) {
        if (p->text[i] == OBJ) {
            if (oi < p->nobjs)
                kt_strbuf_puts(b, p->objs[oi]);
            oi++;
            i++;
            continue;
        }
        unsigned char keep = F_I | F_SUP | F_SUB | (keep_u ? F_U | F_B : 0);
        unsigned char f = p->fl[i] & keep;
        size_t j = i;
        while (j < to && p->text[j] != OBJ && (p->fl[j] & keep) == f)
            j++;
        for (size_t t = 0; t < 5; t++)
            if (f & tags[t].f)
                kt_strbuf_puts(b, tags[t].open);
        for (size_t k = i; k < j; k++) {
            if (p->text[k] == '\n')
                kt_strbuf_puts(b, "<br/>");
            else if (p->text[k] == '\t')
                kt_strbuf_puts(b, " ");
            else
                kt_strbuf_escape(b, p->text + k, 1);
        }
        for (size_t t = 5; t-- > 0;)
            if (f & tags[t].f)
                kt_strbuf_puts(b, tags[t].close);
        i = j;
    }
}

static char *
slice_string(const struct para *p, size_t from, size_t to, int keep_u)
{
    kt_strbuf b = {0};
    from = skip_ws(p->text, from, to);
    to = trim_end(p->text, from, to);
    slice_html(&b, p, from, to, keep_u);
    return kt_strbuf_take(&b);
}

/* Appends <p>slice</p> when the slice is not blank. */
static void
add_block_html(kt_strbuf *b, const struct para *p, size_t from, size_t to)
{
    from = skip_ws(p->text, from, p->n);
    to = trim_end(p->text, from, to);
    if (from >= to)
        return;
    kt_strbuf_puts(b, "<p>");
    slice_html(b, p, from, to, 1);
    kt_strbuf_puts(b, "</p>");
}

static void
table_html(kt_strbuf *b, const struct block *t)
{
    kt_strbuf_puts(b, "<table><tbody>");
    for (size_t r = 0; r < t->rows; r++) {
        kt_strbuf_puts(b, "<tr>");
        for (size_t k = 0; k < t->cols; k++) {
            const struct cell *cell = t->cells[r * t->cols + k];
            kt_strbuf_puts(b, "<td>");
            for (size_t i = 0; cell && i < cell->n; i++) {
                const struct para *p = cell->paras[i];
                size_t from = skip_ws(p->text, 0, p->n), to = trim_end(p->text, from, p->n);
                if (i > 0)
                    kt_strbuf_puts(b, "<br/>");
                slice_html(b, p, from, to, 1);
            }
            kt_strbuf_puts(b, "</td>");
        }
        kt_strbuf_puts(b, "</tr>");
    }
    kt_strbuf_puts(b, "</tbody></table>");
}

/* ---- tags: levels and taxonomy codes ---------------------------------------- */

static const struct {
    const char *word, *code;
} LEVELS[] = {{"NB", "MD.B"},
              {"TH", "MD.H"},
              {"VDC", "MD.VC"},
              {"VD", "MD.V"},
              {"Nhận biết", "MD.B"},
              {"Thông hiểu", "MD.H"},
              {"Vận dụng cao", "MD.VC"},
              {"Vận dụng", "MD.V"},
              {"Biết", "MD.B"},
              {"Hiểu", "MD.H"},
              {"NHẬN BIẾT", "MD.B"},
              {"THÔNG HIỂU", "MD.H"},
              {"VẬN DỤNG CAO", "MD.VC"},
              {"VẬN DỤNG", "MD.V"},
              {NULL, NULL}};

const char *
kt_docx_level_of(const char *s, size_t n)
{
    for (size_t i = 0; LEVELS[i].word; i++)
        if (strlen(LEVELS[i].word) == n && memcmp(s, LEVELS[i].word, n) == 0)
            return LEVELS[i].code;
    return NULL;
}

static void
para_delete(struct para *p, size_t from, size_t to)
{
    memmove(p->text + from, p->text + to, p->n - to + 1);
    memmove(p->fl + from, p->fl + to, p->n - to);
    p->n -= to - from;
}

static int
code_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.';
}

/* Adds each code of s[from, to) (separated by spaces, commas, semicolons)
 * that is a taxonomy code; returns how many. */
int
kt_docx_add_codes(json_t *codes, const char **level, const char *s, size_t from, size_t to)
{
    int found = 0;
    size_t i = from;
    while (i < to) {
        while (i < to && !code_char(s[i]))
            i++;
        size_t j = i;
        while (j < to && code_char(s[j]))
            j++;
        size_t e = j;
        while (e > i && s[e - 1] == '.')
            e--;
        if (e > i && e - i <= 64) {
            char code[65];
            memcpy(code, s + i, e - i);
            code[e - i] = '\0';
            if (kt_item_code_valid(code) && strchr(code, '.')) {
                if (strncmp(code, "MD.", 3) == 0)
                    *level = strcmp(code, "MD.B") == 0    ? "MD.B"
                             : strcmp(code, "MD.H") == 0  ? "MD.H"
                             : strcmp(code, "MD.V") == 0  ? "MD.V"
                             : strcmp(code, "MD.VC") == 0 ? "MD.VC"
                                                          : *level;
                else
                    json_array_append_new(codes, json_string(code));
                found++;
            }
        }
        i = j > i ? j : i + 1;
    }
    return found;
}

/* Removes [NB] [TH] [VD] [VDC] (or (NB)..., [Biết]...) and bracketed or bare
 * VN18.* codes from the paragraph, noting them. */
static void
take_tags(struct para *p, const char **level, json_t *codes)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->text[i] == '[' || p->text[i] == '(') {
            char close = p->text[i] == '[' ? ']' : ')';
            size_t span = p->n - i - 1 < 80 ? p->n - i - 1 : 80;
            const char *e = memchr(p->text + i + 1, close, span);
            if (!e || e - (p->text + i) > 80)
                continue;
            size_t a = skip_ws(p->text, i + 1, (size_t)(e - p->text));
            size_t b = trim_end(p->text, a, (size_t)(e - p->text));
            const char *lv = kt_docx_level_of(p->text + a, b - a);
            int is_code = b - a > 5 && strncmp(p->text + a, "VN18.", 5) == 0;
            for (size_t k = a; is_code && k < b; k++)
                if (!code_char(p->text[k]))
                    is_code = 0;
            if (!lv && !is_code)
                continue;
            if (lv)
                *level = lv;
            else
                kt_docx_add_codes(codes, level, p->text, a, b);
            size_t from = i, to = (size_t)(e - p->text) + 1;
            if (from > 0 && p->text[from - 1] == ' ')
                from--;
            para_delete(p, from, to);
            i = from ? from - 1 : 0;
            if (from == 0)
                i = (size_t)-1; /* the loop's i++ gives 0 */
        } else if (p->text[i] == 'V' && strncmp(p->text + i, "VN18.", 5) == 0 &&
                   (i == 0 || !code_char(p->text[i - 1]))) {
            size_t j = i;
            while (j < p->n && code_char(p->text[j]))
                j++;
            if (kt_docx_add_codes(codes, level, p->text, i, j)) {
                size_t from = i > 0 && p->text[i - 1] == ' ' ? i - 1 : i;
                para_delete(p, from, j);
                i = from ? from - 1 : (size_t)-1;
            }
        }
    }
}

/* ---- keys ---------------------------------------------------------------- */

/* Reads a key value at s[*k]: a letter ("A"), a Đúng/Sai sequence (stored
 * as "DSDS"), or a number (decimal comma to dot). Returns it malloc'd, or
 * NULL (with *k unchanged) when there is none. */
void
kt_docx_place_codes(json_t *item, json_t *codes)
{
    json_t *tags = json_array(), *comps = json_array();
    size_t i;
    json_t *code;
    json_array_foreach(codes, i, code)
    {
        const char *c = json_string_value(code);
        if (strncmp(c, "VN18.", 5) == 0 && !json_object_get(item, "outcome"))
            json_object_set(item, "outcome", code);
        else if (strncmp(c, "NL.", 3) == 0)
            json_array_append(comps, code);
        else
            json_array_append(tags, code);
    }
    if (json_array_size(comps))
        json_object_set(item, "competencies", comps);
    if (json_array_size(tags))
        json_object_set(item, "tags", tags);
    json_decref(comps);
    json_decref(tags);
}

char *
kt_docx_read_value(const char *s, size_t *k, size_t end)
{
    size_t i = skip_ws(s, *k, end);
    if (i >= end)
        return NULL;
    char buf[64];
    size_t o = 0;
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 'A' && ch <= 'H' && !(i + 1 < end && isalpha((unsigned char)s[i + 1]))) {
        *k = i + 1;
        return xstrndup(s + i, 1);
    }
    /* Đúng/Sai: "Đ S Đ S", "ĐSĐS", "a) Đ, b) S, ..." */
    size_t j = i;
    for (;;) {
        size_t t = skip_ws(s, j, end);
        while (t < end && (s[t] == ',' || s[t] == ';' || s[t] == '-'))
            t = skip_ws(s, t + 1, end);
        if (t + 1 < end && s[t] >= 'a' && s[t] <= 'd' && s[t + 1] == ')')
            t = skip_ws(s, t + 2, end);
        size_t d = starts(s, t, DUNG), f = d ? 0 : starts(s, t, SAI);
        if ((!d && !f) || o >= 8)
            break;
        size_t after = t + d + f;
        if (after < end && isalpha((unsigned char)s[after]) && (d == 1 || f == 1) &&
            !(s[after] == 'S' || s[after] == 's'))
            break; /* a word, not a mark */
        buf[o++] = d ? 'D' : 'S';
        j = after;
    }
    if (o > 0) {
        *k = j;
        return xstrndup(buf, o);
    }
    if (isdigit(ch) || ch == '-' || (ch == 0xE2 && strncmp(s + i, "−", 3) == 0)) {
        if (ch == 0xE2) {
            buf[o++] = '-';
            i += 3;
        } else if (ch == '-') {
            buf[o++] = '-';
            i++;
        }
        size_t st = o;
        while (i < end && o < sizeof buf - 1 &&
               (isdigit((unsigned char)s[i]) || ((s[i] == ',' || s[i] == '.') && o > st &&
                                                 i + 1 < end && isdigit((unsigned char)s[i + 1]))))
            buf[o++] = s[i] == ',' ? '.' : s[i], i++;
        if (o == st)
            return NULL;
        *k = i;
        return xstrndup(buf, o);
    }
    return NULL;
}

/* A key value of the answer section: kt_docx_read_value's, and the letters of a
 * multiple-response key, "A, C", "A; C", "A C" or "AC" (ascending, as a
 * key is written), stored as "A,C". */
static char *
read_key(const char *s, size_t *k, size_t end)
{
    size_t i = skip_ws(s, *k, end), j = i, last = i;
    char buf[16];
    size_t o = 0;
    while (o < sizeof buf - 2 && j < end && s[j] >= 'A' && s[j] <= 'H' &&
           (o == 0 || s[j] > buf[o - 1])) {
        size_t after = j + 1;
        int run = after < end && s[after] >= 'A' && s[after] <= 'H' && s[after] > s[j];
        if (!run && after < end && (isalpha((unsigned char)s[after]) || (s[after] & 0x80)))
            break; /* a word, not a letter */
        if (o)
            buf[o++] = ',';
        buf[o++] = s[j];
        last = after;
        if (run) {
            j = after;
            continue;
        }
        j = skip_ws(s, after, end);
        if (j < end && (s[j] == ',' || s[j] == ';' || s[j] == '/'))
            j = skip_ws(s, j + 1, end);
    }
    if (o >= 3 && !(last < end && (isalpha((unsigned char)s[last]) || (s[last] & 0x80)))) {
        *k = last;
        return xstrndup(buf, o);
    }
    return kt_docx_read_value(s, k, end);
}

static void
add_key(struct ctx *c, int number, char *value)
{
    if (c->nkeys >= (size_t)4 * KT_DOCX_MAX_QUESTIONS) {
        free(value);
        return;
    }
    *PUSH(c->keys, c->nkeys, c->keys_cap) = (struct key){c->key_part, number, value};
}

/* "1.A 2.C", "1-A; 2-C", "Câu 1: A", "1. Đ S Đ S", "1. 2,5": returns the
 * number of pairs (stored when store). */
static int
parse_pairs(struct ctx *c, const char *s, size_t i, size_t end, int store)
{
    int pairs = 0;
    while (i < end) {
        if (!isdigit((unsigned char)s[i]) || (i > 0 && isalnum((unsigned char)s[i - 1]))) {
            i++;
            continue;
        }
        long n = 0;
        while (i < end && isdigit((unsigned char)s[i]) && n < 100000)
            n = n * 10 + (s[i++] - '0');
        size_t k = skip_ws(s, i, end);
        if (k < end && (s[k] == '.' || s[k] == '-' || s[k] == ':' || s[k] == ')'))
            k++;
        char *v = read_key(s, &k, end);
        if (!v)
            continue;
        pairs++;
        if (store)
            add_key(c, (int)n, v);
        else
            free(v);
        i = k;
    }
    return pairs;
}

/* A cell's text, all its paragraphs joined with spaces, malloc'd. */
static char *
cell_text(const struct cell *cell)
{
    kt_strbuf b = {0};
    for (size_t i = 0; cell && i < cell->n; i++) {
        if (i)
            kt_strbuf_puts(&b, " ");
        const struct para *p = cell->paras[i];
        size_t from = skip_ws(p->text, 0, p->n);
        kt_strbuf_add(&b, p->text + from, trim_end(p->text, from, p->n) - from);
    }
    return kt_strbuf_take(&b);
}

static int
is_word(const char *s, const char *const *forms)
{
    size_t k = starts(s, 0, forms);
    return k && s[skip_ws(s, k, strlen(s))] == '\0';
}

static const char *const DA_SHORT[] = {"Đáp án", "ĐÁP ÁN", "đáp án", "ĐA", "Đ/A", NULL};
static const char *const LENH[] = {"Lệnh hỏi", "LỆNH HỎI", "Lệnh Hỏi", NULL};
static const char *const Y[] = {"Ý", "ý", NULL};

/* A key table: rows "Câu | 1 | 2..." over "Đáp án | A | C...", or columns
 * "Câu | Đáp án" (repeated side by side), or "Câu | a | b | c | d" with
 * Đ/S cells. Returns whether the table was one. */
static int
key_table(struct ctx *c, const struct block *t)
{
    size_t n = t->rows * t->cols;
    char **tx = calloc(n + 1, sizeof *tx);
    int found = 0;
    if (!tx)
        abort();
    for (size_t i = 0; i < n; i++)
        tx[i] = cell_text(t->cells[i]);
#define TX(r, k) tx[(r)*t->cols + (k)]
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t k = 0; k < t->cols; k++) {
            if (!is_word(TX(r, k), CAU))
                continue;
            if (k == 0 && r + 1 < t->rows && is_word(TX(r + 1, 0), DA_SHORT)) {
                found = 1;
                for (size_t kk = 1; kk < t->cols; kk++) {
                    size_t at = 0;
                    char *v = read_key(TX(r + 1, kk), &at, strlen(TX(r + 1, kk)));
                    int num = atoi(TX(r, kk));
                    if (v && num > 0)
                        add_key(c, num, v);
                    else
                        free(v);
                }
            } else if (k + 2 < t->cols && starts(TX(r, k + 2), 0, DA_SHORT) &&
                       (starts(TX(r, k + 1), 0, LENH) || is_word(TX(r, k + 1), Y))) {
                /* official 2025 layout: Câu | Lệnh hỏi | Đáp án, one row per statement */
                found = 1;
                int num = 0;
                char marks[8];
                size_t o = 0;
                for (size_t rr = r + 1; rr <= t->rows; rr++) {
                    int next = rr < t->rows ? atoi(TX(rr, k)) : -1;
                    if ((next != 0 || (rr < t->rows && is_word(TX(rr, k), CAU))) && num > 0 && o) {
                        add_key(c, num, xstrndup(marks, o));
                        o = 0;
                    }
                    if (rr == t->rows || is_word(TX(rr, k), CAU))
                        break;
                    if (next > 0)
                        num = next, o = 0;
                    size_t at = 0;
                    char *m = kt_docx_read_value(TX(rr, k + 2), &at, strlen(TX(rr, k + 2)));
                    if (m && strlen(m) == 1 && (m[0] == 'D' || m[0] == 'S') && o < sizeof marks)
                        marks[o++] = m[0];
                    free(m);
                }
            } else if (k + 1 < t->cols &&
                       (is_word(TX(r, k + 1), DA_SHORT) || strcmp(TX(r, k + 1), "a") == 0 ||
                        strcmp(TX(r, k + 1), "a)") == 0)) {
                int tf = TX(r, k + 1)[0] == 'a';
                found = 1;
                for (size_t rr = r + 1; rr < t->rows && !is_word(TX(rr, k), CAU); rr++) {
                    int num = atoi(TX(rr, k));
                    char *v = NULL;
                    if (tf) {
                        char marks[8];
                        size_t o = 0;
                        for (size_t kk = k + 1; kk < t->cols && kk < k + 5; kk++) {
                            size_t at = 0;
                            char *m = kt_docx_read_value(TX(rr, kk), &at, strlen(TX(rr, kk)));
                            if (m && strlen(m) == 1 && (m[0] == 'D' || m[0] == 'S'))
                                marks[o++] = m[0];
                            free(m);
                        }
                        v = o ? xstrndup(marks, o) : NULL;
                    } else {
                        size_t at = 0;
                        v = read_key(TX(rr, k + 1), &at, strlen(TX(rr, k + 1)));
                    }
                    if (v && num > 0)
                        add_key(c, num, v);
                    else
                        free(v);
                }
            }
        }
    }
#undef TX
    for (size_t i = 0; i < n; i++)
        free(tx[i]);
    free(tx);
    return found;
}

/* ---- the pass over the blocks ------------------------------------------------- */

static void
finish_question(struct ctx *c)
{
    if (c->q)
        *PUSH(c->qs, c->nqs, c->qs_cap) = c->q; // NOLINT(bugprone-sizeof-expression)
    c->q = NULL;
}

static void
option_marks(const struct para *p, size_t label_at, size_t from, size_t to, int star,
             unsigned *marks)
{
    unsigned all = F_U | F_RED | F_HL | F_B;
    int any = 0;
    for (size_t i = from; i < to; i++) {
        if (is_ws(p->text[i]) || p->text[i] == OBJ)
            continue;
        all &= p->fl[i];
        any = 1;
    }
    *marks = (p->fl[label_at] & (F_U | F_RED | F_HL | F_B)) | (any ? all : 0) | (star ? F_OBJ : 0);
}

/* Options "A. ... B. ..." (or statements "a) ... b) ...") of paragraph p
 * from i. */
static void
parse_options(struct ctx *c, struct para *p, size_t i, int lower)
{
    struct question *q = c->q;
    const char *s = p->text;
    size_t end = p->n;
    while (i < end) {
        char letter;
        int star;
        size_t len = option_label(s, i, end, lower, &letter, &star);
        if (!len)
            break;
        size_t start = i + len, next = end;
        for (size_t j = start; j < end; j++) {
            char l2;
            int s2;
            if (!is_ws(s[j - 1]))
                continue;
            if (option_label(s, j, end, lower, &l2, &s2) && l2 == letter + 1) {
                next = j;
                break;
            }
        }
        if (q->nopts < sizeof q->opts / sizeof q->opts[0]) {
            struct opt *o = &q->opts[q->nopts++];
            o->label = letter;
            o->html = slice_string(p, start, next, 0);
            size_t a = skip_ws(s, start, next);
            o->empty = a >= trim_end(s, a, next);
            option_marks(p, i + len - 2, start, next, star, &o->marks);
        } else {
            q->options_outside = 1;
        }
        i = skip_ws(s, next, end);
    }
}

static void
append_to_last_option(struct question *q, const struct para *p, size_t from)
{
    struct opt *o = &q->opts[q->nopts - 1];
    char *more = slice_string(p, from, p->n, 0);
    if (*more) {
        kt_strbuf b = {0};
        kt_strbuf_puts(&b, o->html);
        if (*o->html)
            kt_strbuf_puts(&b, "<br/>");
        kt_strbuf_puts(&b, more);
        free(o->html);
        o->html = kt_strbuf_take(&b);
        o->empty = 0;
    }
    free(more);
}

/* The text of an object's HTML (a formula's characters), entities decoded
 * for the few that kt_strbuf_escape writes; a picture gives nothing. */
static void
plain_of_html(kt_strbuf *b, const char *html)
{
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}};
    int in_tag = 0;
    for (const char *h = html; *h; h++) {
        if (strncmp(h, "<annotation", 11) == 0 && strstr(h, "</annotation>")) {
            h = strstr(h, "</annotation>") + strlen("</annotation>") - 1; /* a formula's source */
            continue;
        }
        if (*h == '<')
            in_tag = 1;
        else if (*h == '>')
            in_tag = 0;
        else if (!in_tag && *h == '&') {
            for (size_t e = 0; e < 4; e++)
                if (strncmp(h, ent[e][0], strlen(ent[e][0])) == 0) {
                    kt_strbuf_puts(b, ent[e][1]);
                    h += strlen(ent[e][0]) - 1;
                    break;
                }
        } else if (!in_tag && strncmp(h, "\xE2\x81\xA1", 3) != 0) /* not U+2061 */
            kt_strbuf_add(b, h, 1);
        else if (!in_tag)
            h += 2;
    }
}

/* "(0,5 điểm)" / "(0,5đ)" / "0,5 điểm" in a rubric line: points as "0.5". */
static void
rubric_line(struct question *q, const struct para *p, size_t from)
{
    add_block_html(&q->model, p, from, p->n);
    const char *s = p->text;
    size_t end = trim_end(s, from, p->n);
    const char *pt = NULL;
    /* the last "điểm" with a number: "Tìm 2 điểm A, B (1 điểm)" */
    for (size_t i = end; i-- > from;)
        if (i + 1 < end &&
            (strncmp(s + i, "điểm", strlen("điểm")) == 0 || strncmp(s + i, "đ)", 3) == 0)) {
            size_t j = i;
            while (j > from && j + 8 > i && is_ws(s[j - 1]))
                j--;
            size_t k = j;
            while (k > from && k + 16 > j &&
                   (isdigit((unsigned char)s[k - 1]) || s[k - 1] == ',' || s[k - 1] == '.'))
                k--;
            if (k < j && isdigit((unsigned char)s[k])) {
                char num[32];
                size_t n = j - k < sizeof num - 1 ? j - k : sizeof num - 1;
                for (size_t t = 0; t < n; t++)
                    num[t] = s[k + t] == ',' ? '.' : s[k + t];
                num[n] = '\0';
                pt = num;
                /* criterion: the line without "(x điểm)" */
                size_t cut_from = k > from && s[k - 1] == '(' ? k - 1 : k;
                size_t cut_to = i + (strncmp(s + i, "đ)", 3) == 0 ? 2 : strlen("điểm"));
                if (cut_from < k && cut_to < end && s[cut_to] == ')')
                    cut_to++;
                kt_strbuf b = {0};
                size_t oi = obj_index(p, from);
                for (size_t t = from; t < end; t++) {
                    if (s[t] == OBJ && oi < p->nobjs)
                        plain_of_html(&b, p->objs[oi]);
                    oi += s[t] == OBJ;
                    if ((t < cut_from || t >= cut_to) && s[t] != OBJ)
                        kt_strbuf_add(&b, s + t, 1);
                }
                char *crit = kt_strbuf_take(&b);
                size_t a = skip_ws(crit, 0, strlen(crit));
                size_t z = trim_end(crit, a, strlen(crit));
                while (z > a && (crit[z - 1] == ':' || crit[z - 1] == '.' || crit[z - 1] == ','))
                    z--;
                if (!q->rubric)
                    q->rubric = json_array();
                json_array_append_new(q->rubric, json_pack("{s:s%, s:s}", "criterion", crit + a,
                                                           z - a, "points", pt));
                free(crit);
                return;
            }
        }
}

static int
only_rule_and(const char *s, size_t i, size_t end, const char *word)
{
    size_t w = strlen(word);
    int seen = 0;
    while (i < end) {
        if (!seen && strncmp(s + i, word, w) == 0) {
            seen = 1;
            i += w;
        } else if (is_ws(s[i]) || s[i] == '-' || s[i] == '*' || s[i] == '_' || s[i] == '.') {
            i++;
        } else {
            return 0;
        }
    }
    return seen;
}

static int
roman_at(const char *s, size_t i, size_t end, size_t *after)
{
    static const char *const R[] = {"IV", "III", "II", "I"};
    static const int V[] = {4, 3, 2, 1};
    for (int k = 0; k < 4; k++) {
        size_t n = strlen(R[k]);
        if (i + n <= end && strncmp(s + i, R[k], n) == 0 &&
            !(i + n < end && isalpha((unsigned char)s[i + n]))) {
            *after = i + n;
            return V[k];
        }
    }
    return 0;
}

static struct question *
new_question(struct ctx *c, int number, int para)
{
    struct question *q = calloc(1, sizeof *q);
    if (!q)
        abort();
    q->number = number;
    q->part = c->part;
    q->para = para;
    q->mode = c->mode;
    q->codes = json_array();
    return q;
}

/* "Lời giải:" / "Hướng dẫn giải" (strong forms without a colon) at i:
 * returns the offset of the text after it, 0 when none. */
static size_t
expl_marker(const char *s, size_t i, size_t end)
{
    size_t k = starts(s, i, EXPL);
    if (!k)
        return 0;
    size_t j = skip_ws(s, i + k, end);
    int colon = j < end && (s[j] == ':' || s[j] == '.');
    int strong =
        strncmp(s + i, "Giải", strlen("Giải")) != 0 && strncmp(s + i, "GIẢI", strlen("GIẢI")) != 0;
    if (colon)
        return j + 1;
    if (strong && (j >= end || s[i + k] == ' ' || s[i + k] == '\t'))
        return j;
    return 0;
}

/* A heading of worked solutions at the end of the document: "HƯỚNG DẪN
 * GIẢI", "LỜI GIẢI" (also "... CHI TIẾT"), in capitals and alone on its
 * line, followed by a "Câu N." whose number a question already has (in a
 * question, a line "HƯỚNG DẪN GIẢI" starts that question's explanation). */
static int
solutions_heading(const struct ctx *c, const char *s, size_t i, size_t end)
{
    static const char *const H[] = {"HƯỚNG DẪN GIẢI", "LỜI GIẢI", NULL};
    size_t k = starts(s, i, H);
    if (!k)
        return 0;
    size_t j = skip_ws(s, i + k, end);
    if (j < end && strncmp(s + j, "CHI TIẾT", strlen("CHI TIẾT")) == 0)
        j = skip_ws(s, j + strlen("CHI TIẾT"), end);
    while (j < end && (s[j] == ':' || s[j] == '.'))
        j = skip_ws(s, j + 1, end);
    if (j < end)
        return 0;
    for (size_t b = c->bi + 1; b < c->nblocks; b++) {
        const struct para *p = c->blocks[b].p;
        int num = 0;
        size_t a = p ? skip_ws(p->text, 0, p->n) : 0;
        if (p && (starts(p->text, a, H) || starts(p->text, a, DAPAN)))
            return 0; /* the section is further on */
        if (!p || !question_marker(p->text, a, p->n, &num))
            continue;
        for (size_t q = 0; q < c->nqs; q++)
            if (c->qs[q]->number == num)
                return 1;
        return c->q && c->q->number == num;
    }
    return 0;
}

static const char *
heading_mode(const char *s, size_t i, size_t end, enum mode *m)
{
    if (end - i > 120)
        return NULL;
    for (size_t k = i; k < end && k < i + 60; k++) {
        if (starts(s, k, TULUAN)) {
            *m = M_ESSAY;
            return "essay";
        }
        if (starts(s, k, TRACNGHIEM)) {
            *m = M_MCQ;
            return "mcq";
        }
    }
    return NULL;
}

/* A paragraph of the answer section: keys ("1.A 2.C", "Câu 1: A"), or a
 * "Câu N." entry whose "Hướng dẫn chấm:" lines are question N's rubric and
 * whose "Lời giải:" lines (or, in a "HƯỚNG DẪN GIẢI" section, the text
 * after "Câu N.") its explanation. */
static void
answer_para(struct ctx *c, struct para *p, size_t i)
{
    const char *s = p->text;
    size_t end = p->n, k;
    int num = 0;
    size_t qm = question_marker(s, i, end, &num);
    if (qm) {
        c->aq = NULL;
        if (qm < end && s[qm] == '(') { /* "Câu 1 (2 điểm)." */
            const char *e = memchr(s + qm, ')', end - qm);
            qm = e ? (size_t)(e - s) + 1 : qm;
        }
        size_t j = skip_ws(s, qm, end);
        while (j < end && (s[j] == '.' || s[j] == ':'))
            j = skip_ws(s, j + 1, end);
        if (j < end && (!c->ans_expl || parse_pairs(c, s, i, end, 0) > 0)) {
            size_t at = j;
            char *v = read_key(s, &at, end);
            int only_key = v && skip_ws(s, at, end) >= trim_end(s, at, end);
            free(v);
            if (!c->ans_expl || only_key) {
                parse_pairs(c, s, i, end, 1);
                return;
            }
        }
        struct question *q = calloc(1, sizeof *q);
        if (!q)
            abort();
        q->number = num;
        q->part = c->key_part;
        q->para = p->index;
        *PUSH(c->extras, c->nextras, c->extras_cap) = q; // NOLINT(bugprone-sizeof-expression)
        c->aq = q;
        if (j < end) {
            q->zone = Z_EXPL;
            add_block_html(&q->expl, p, j, end);
        } else {
            q->zone = c->ans_expl ? Z_EXPL : Z_STEM;
        }
        take_flags(q, p);
        return;
    }
    struct question *q = c->aq;
    if (q) {
        take_flags(q, p);
        if ((k = starts(s, i, RUBRIC))) {
            size_t j = skip_ws(s, i + k, end);
            if (j < end && s[j] == ':')
                j++;
            q->zone = Z_RUBRIC;
            if (skip_ws(s, j, end) < end)
                rubric_line(q, p, j);
            return;
        }
        if ((k = expl_marker(s, i, end))) {
            q->zone = Z_EXPL;
            add_block_html(&q->expl, p, k, end);
            return;
        }
        if (q->zone == Z_RUBRIC) {
            rubric_line(q, p, i);
            return;
        }
        if (q->zone == Z_EXPL) {
            add_block_html(&q->expl, p, i, end);
            return;
        }
    }
    parse_pairs(c, s, i, end, 1);
}

static void
handle_para_in(struct ctx *c, struct para *p)
{
    const char *s = p->text;
    size_t end = p->n, i = skip_ws(s, 0, end), k, after;
    int num = 0, r;
    char letter;
    int star;
    enum mode m;

    if (i >= end || c->stopped)
        return;
    if ((k = starts(s, i, PHAN)) && (r = roman_at(s, skip_ws(s, i + k, end), end, &after))) {
        finish_question(c);
        c->aq = NULL;
        if (c->in_answers) {
            c->key_part = r;
        } else {
            c->part = r;
            c->mode = r == 1 ? M_MCQ : r == 2 ? M_TF : r == 3 ? M_SHORT : M_ESSAY;
        }
        return;
    }
    if ((k = starts(s, i, DAPAN))) {
        size_t rest = skip_ws(s, i + k, end);
        int colon = 0;
        while (rest < end && (s[rest] == ':' || s[rest] == '.')) {
            rest = skip_ws(s, rest + 1, end);
            colon = 1;
        }
        size_t tail = trim_end(s, rest, end);
        int heading = 1; /* "ĐÁP ÁN THAM KHẢO": no lower-case word */
        for (size_t t = rest; t < tail; t++)
            if (islower((unsigned char)s[t]))
                heading = 0;
        if (!colon && !heading)
            goto not_key; /* "Đáp án nào sau đây đúng?" is text */
        if (rest >= tail || parse_pairs(c, s, rest, tail, 0) >= 2 ||
            (!c->q && parse_pairs(c, s, rest, tail, 0) == 1) || (!colon && heading)) {
            finish_question(c);
            c->in_answers = 1;
            c->aq = NULL;
            for (size_t t = rest; t + strlen("GIẢI") <= tail; t++)
                if (strncmp(s + t, "GIẢI", strlen("GIẢI")) == 0)
                    c->ans_expl = 1; /* "ĐÁP ÁN VÀ HƯỚNG DẪN GIẢI" */
            parse_pairs(c, s, rest, tail, 1);
            return;
        }
        if (c->q) {
            free(c->q->inline_key);
            c->q->inline_key = xstrndup(s + rest, tail - rest);
            return;
        }
    }
not_key:
    if (c->in_answers) {
        answer_para(c, p, i);
        return;
    }
    if (solutions_heading(c, s, i, end)) {
        finish_question(c);
        c->in_answers = 1;
        c->ans_expl = 1;
        return;
    }
    if (only_rule_and(s, i, end, "HẾT") || only_rule_and(s, i, end, "Hết")) {
        finish_question(c);
        return;
    }
    size_t qm = question_marker(s, i, end, &num);
    if (!qm && heading_mode(s, i, end, &m)) {
        finish_question(c);
        c->mode = m;
        if (m == M_ESSAY && c->part > 0)
            c->part = 4;
        return;
    }
    if (qm) {
        finish_question(c);
        if (c->nqs >= KT_DOCX_MAX_QUESTIONS) {
            c->stopped = 1;
            problem(c->out, "error", 0, p->index, "Tệp có quá nhiều câu hỏi (tối đa %d).",
                    KT_DOCX_MAX_QUESTIONS);
            return;
        }
        c->q = new_question(c, num, p->index);
        take_flags(c->q, p);
        qm = question_marker(p->text, skip_ws(p->text, 0, p->n), p->n, &num);
        if (qm && p->text[qm] == '(') { /* "Câu 1 (2,0 điểm):" */
            const char *e = memchr(p->text + qm, ')', p->n - qm);
            if (e) {
                qm = skip_ws(p->text, (size_t)(e - p->text) + 1, p->n);
                if (qm < p->n && (p->text[qm] == ':' || p->text[qm] == '.'))
                    qm++;
            }
        }
        size_t j = qm ? skip_ws(p->text, qm, p->n) : p->n;
        if ((c->q->mode == M_ANY || c->q->mode == M_MCQ) &&
            option_label(p->text, j, p->n, 0, &letter, &star) && letter == 'A') {
            parse_options(c, p, j, 0);
            c->q->zone = Z_OPTIONS;
        } else {
            add_block_html(&c->q->stem, p, qm ? qm : p->n, p->n);
        }
        return;
    }
    struct question *q = c->q;
    if (!q) {
        if (option_label(s, i, end, 0, &letter, &star))
            problem(c->out, "error", 0, p->index,
                    "phương án %c. không thuộc câu hỏi nào (thiếu dòng \"Câu N.\" phía trên).",
                    letter);
        return;
    }
    take_flags(q, p);
    if (strncmp(s + i, "Mã", strlen("Mã")) == 0) {
        size_t j = skip_ws(s, i + strlen("Mã"), end);
        if (j < end && s[j] == ':') {
            kt_docx_add_codes(q->codes, &q->level, s, j + 1, end);
            return;
        }
    }
    if ((k = expl_marker(s, i, end))) {
        q->zone = Z_EXPL;
        add_block_html(&q->expl, p, k, end);
        return;
    }
    if ((k = starts(s, i, RUBRIC))) {
        size_t j = skip_ws(s, i + k, end);
        if (j < end && s[j] == ':')
            j++;
        q->zone = Z_RUBRIC;
        if (skip_ws(s, j, end) < end)
            rubric_line(q, p, j);
        return;
    }
    if (q->zone == Z_RUBRIC) {
        rubric_line(q, p, i);
        return;
    }
    if (q->zone == Z_EXPL) {
        add_block_html(&q->expl, p, i, end);
        return;
    }
    if ((q->mode == M_ANY || q->mode == M_MCQ) && (q->zone == Z_STEM || q->zone == Z_OPTIONS) &&
        option_label(s, i, end, 0, &letter, &star) && (letter == 'A' || q->zone == Z_OPTIONS)) {
        parse_options(c, p, i, 0);
        q->zone = Z_OPTIONS;
        return;
    }
    if (q->mode == M_TF && (q->zone == Z_STEM || q->zone == Z_STATEMENTS) &&
        option_label(s, i, end, 1, &letter, &star) && (letter == 'a' || q->zone == Z_STATEMENTS)) {
        parse_options(c, p, i, 1);
        q->zone = Z_STATEMENTS;
        return;
    }
    if ((q->zone == Z_OPTIONS || q->zone == Z_STATEMENTS) && q->nopts > 0) {
        append_to_last_option(q, p, i);
        return;
    }
    size_t len;
    if (q->mode == M_ANY && q->zone == Z_STEM && q->nalt < 4 &&
        (len = option_label(s, i, end, 1, &letter, &star)) != 0 &&
        letter == (char)('a' + q->nalt) && (q->nalt == 0 || q->alt_to == q->stem.n)) {
        struct opt *o = &q->alt[q->nalt++];
        if (q->nalt == 1)
            q->alt_from = q->stem.n;
        o->label = letter;
        o->html = slice_string(p, i + len, end, 0);
        o->empty = !*o->html;
        option_marks(p, i + len - 2, i + len, end, star, &o->marks);
        add_block_html(&q->stem, p, i, end);
        q->alt_to = q->stem.n;
        return;
    }
    add_block_html(&q->stem, p, i, end);
}

/* A paragraph: its level tags and codes taken out first, then given to the
 * question it belongs to. */
static void
handle_para(struct ctx *c, struct para *p)
{
    const char *level = NULL;
    json_t *codes = json_array();
    if (!c->in_answers)
        take_tags(p, &level, codes);
    handle_para_in(c, p);
    if (c->q && !c->in_answers) {
        if (level)
            c->q->level = level;
        json_array_extend(c->q->codes, codes);
    }
    json_decref(codes);
}

/* A table whose every non-empty cell starts with an option label. */
static int
options_table(const struct block *t, int lower)
{
    int seen = 0;
    for (size_t i = 0; i < t->rows * t->cols; i++) {
        const struct cell *cell = t->cells[i];
        if (!cell || cell->n == 0)
            continue;
        const struct para *p = cell->paras[0];
        size_t a = skip_ws(p->text, 0, p->n);
        char letter;
        int star;
        if (a >= p->n)
            continue;
        if (!option_label(p->text, a, p->n, lower, &letter, &star))
            return 0;
        seen = 1;
    }
    return seen;
}

static void
handle_table(struct ctx *c, const struct block *t)
{
    if (c->stopped)
        return;
    if (key_table(c, t)) {
        finish_question(c);
        c->aq = NULL;
        return;
    }
    if (c->in_answers && c->aq && (c->aq->zone == Z_EXPL || c->aq->zone == Z_RUBRIC)) {
        table_html(&c->aq->expl, t);
        return;
    }
    struct question *q = c->q;
    if (!q || c->in_answers)
        return;
    int lower = q->mode == M_TF;
    if ((q->zone == Z_STEM || q->zone == Z_OPTIONS || q->zone == Z_STATEMENTS) &&
        (lower || q->mode == M_ANY || q->mode == M_MCQ) && options_table(t, lower)) {
        for (size_t i = 0; i < t->rows * t->cols; i++)
            for (size_t k = 0; t->cells[i] && k < t->cells[i]->n; k++)
                handle_para(c, t->cells[i]->paras[k]);
        return;
    }
    for (size_t i = 0; i < t->rows * t->cols; i++)
        for (size_t k = 0; t->cells[i] && k < t->cells[i]->n; k++)
            take_flags(q, t->cells[i]->paras[k]);
    table_html(q->zone == Z_EXPL || q->zone == Z_RUBRIC ? &q->expl : &q->stem, t);
}

/* ---- items ------------------------------------------------------------------ */

/* The answer-section key of q: same part first, then a key given without
 * parts whose value fits (letter for options, Đ/S for statements, number). */
static const char *
table_key(const struct ctx *c, const struct question *q, char type)
{
    const char *loose = NULL;
    for (size_t i = 0; i < c->nkeys; i++) {
        const struct key *k = &c->keys[i];
        if (k->number != q->number)
            continue;
        char t = isupper((unsigned char)k->value[0]) &&
                         (k->value[1] == '\0' || k->value[1] == ',') /* "A,C": read_key */
                     ? 'L'
                     : (k->value[0] == 'D' || k->value[0] == 'S') ? 'T' : 'N';
        if (t != type)
            continue;
        if (k->part == q->part)
            return k->value;
        if (!loose && (k->part == 0 || q->part == 0))
            loose = k->value;
    }
    return loose;
}

/* The options (or statements) marked by the first marking that singles out
 * some of them: '*', underline, red, bold. Bold marks all/none only count
 * for statements when another marking is absent. Returns a bit set. */
static unsigned
marked(const struct question *q, int statements)
{
    static const unsigned order[] = {F_OBJ, F_U, F_RED, F_HL, F_B};
    for (size_t m = 0; m < 5; m++) {
        unsigned set = 0;
        size_t n = 0;
        for (size_t i = 0; i < q->nopts; i++)
            if (q->opts[i].marks & order[m]) {
                set |= 1u << i;
                n++;
            }
        if (n > 0 && (n < q->nopts || (statements && order[m] != F_B)))
            return set;
    }
    return 0;
}

static void err(struct ctx *c, const struct question *q, int *bad, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
err(struct ctx *c, const struct question *q, int *bad, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    qproblem(c, q, "error", msg);
    *bad = 1;
}

static void
check_labels(struct ctx *c, const struct question *q, char first, const char *what, int *bad)
{
    for (size_t i = 0; i < q->nopts; i++) {
        char want = (char)(first + (int)i), got = q->opts[i].label;
        if (got > want)
            err(c, q, bad, "thiếu %s %c%s.", what, want, first == 'a' ? ")" : "");
        else if (got < want)
            err(c, q, bad, "%s %c%s bị lặp hoặc sai thứ tự.", what, got, first == 'a' ? ")" : "");
        if (got != want)
            return;
        if (q->opts[i].empty)
            err(c, q, bad, "%s %c%s để trống.", what, got, first == 'a' ? ")" : "");
    }
}

static json_t *
options_json(const struct question *q, int statements, unsigned keys)
{
    json_t *a = json_array();
    for (size_t i = 0; i < q->nopts; i++) {
        char id[2] = {q->opts[i].label, '\0'};
        json_t *o = json_pack("{s:s, s:s}", "id", id, "html", q->opts[i].html);
        if (statements)
            json_object_set_new(o, "key", json_boolean(keys & (1u << i)));
        json_array_append_new(a, o);
    }
    return a;
}

/* The title: the stem's first text, at most 80 bytes cut at a character. */
static json_t *
title_of(const struct question *q)
{
    kt_strbuf b = {0};
    const char *s = q->stem.s ? q->stem.s : "";
    int in_tag = 0, in_math = 0;
    for (size_t i = 0; s[i] && b.n < 200; i++) {
        if (strncmp(s + i, "<math", 5) == 0)
            in_math = 1;
        else if (strncmp(s + i, "</math>", 7) == 0)
            in_math = 0;
        if (s[i] == '<') {
            in_tag = 1;
            if (b.n && b.s[b.n - 1] != ' ' && strncmp(s + i, "</p>", 4) == 0)
                kt_strbuf_puts(&b, " ");
        } else if (s[i] == '>') {
            in_tag = 0;
        } else if (!in_tag && !in_math) {
            kt_strbuf_add(&b, s + i, 1);
        }
    }
    char *t = kt_strbuf_take(&b);
    size_t n;
    /* unescape the few entities of kt_strbuf_escape */
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}};
    for (size_t e = 0; e < 4; e++)
        for (char *x; (x = strstr(t, ent[e][0]));) {
            size_t l = strlen(ent[e][0]);
            memmove(x + 1, x + l, strlen(x + l) + 1);
            *x = ent[e][1][0];
        }
    n = strlen(t);
    while (n > 0 && is_ws(t[n - 1]))
        n--;
    size_t full = n;
    if (n > 80) {
        n = 80;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
            n--;
    }
    json_t *j = n ? json_sprintf("%.*s%s", (int)n, t, full > n ? "…" : "")
                  : json_sprintf("Câu %d", q->number);
    free(t);
    return j;
}

/* The answer section's entry for q (same part first, then one given
 * without parts) completes it: its rubric and explanation when q has none. */
static void
merge_extra(struct ctx *c, struct question *q)
{
    struct question *x = NULL;
    for (size_t i = 0; i < c->nextras; i++) {
        struct question *e = c->extras[i];
        if (e->number != q->number)
            continue;
        if (e->part == q->part) {
            x = e;
            break;
        }
        if (!x && (e->part == 0 || q->part == 0))
            x = e;
    }
    if (!x)
        return;
    if (!q->rubric && x->rubric && q->nopts == 0 &&
        (q->mode == M_ANY || q->mode == M_ESSAY)) { /* a rubric is an essay's */
        q->rubric = x->rubric;
        x->rubric = NULL;
        kt_strbuf m = q->model;
        q->model = x->model;
        x->model = m;
    }
    if (!q->expl.n && x->expl.n) {
        kt_strbuf e = q->expl;
        q->expl = x->expl;
        x->expl = e;
    }
    q->pflags |= x->pflags;
    if (!q->latex_err[0])
        memcpy(q->latex_err, x->latex_err, sizeof q->latex_err);
}

/* The lines a) ... d) ending the stem of a question outside the parts
 * become its statements when the answer section has Đ/S marks for it. */
static void
alt_statements(const struct ctx *c, struct question *q)
{
    if (q->mode != M_ANY || q->nopts || q->nalt != 4 || q->alt_to != q->stem.n)
        return;
    const char *v = table_key(c, q, 'T');
    if (!v || strlen(v) != 4 || q->inline_key)
        return;
    for (size_t i = 0; i < 4; i++) {
        q->opts[i] = q->alt[i];
        q->alt[i].html = NULL;
    }
    q->nopts = 4;
    q->stem.n = q->alt_from;
    q->stem.s[q->stem.n] = '\0';
}

static void
build_question(struct ctx *c, struct question *q)
{
    int bad = 0;
    merge_extra(c, q);
    alt_statements(c, q);
    json_t *item = json_object();
    int statements = q->nopts > 0 && islower((unsigned char)q->opts[0].label);
    const char *kind;
    size_t nmarks = 0;

    if (q->options_outside)
        err(c, q, &bad, "có quá nhiều phương án.");
    if (!q->stem.n)
        err(c, q, &bad, "phần đề trống.");
    if (statements || q->mode == M_TF) {
        kind = "TF4";
        if (!statements) {
            err(c, q, &bad, "không tìm thấy các ý a), b), c), d) của câu Đúng/Sai.");
        } else {
            check_labels(c, q, 'a', "ý", &bad);
            if (q->nopts != 4)
                err(c, q, &bad, "câu Đúng/Sai phải có đúng 4 ý a), b), c), d) (có %zu).", q->nopts);
            unsigned keys = marked(q, 1);
            int found = keys != 0;
            const char *v = q->inline_key;
            size_t at = 0;
            char *iv = v ? kt_docx_read_value(v, &at, strlen(v)) : NULL;
            if (!found && !(iv && (iv[0] == 'D' || iv[0] == 'S')))
                v = table_key(c, q, 'T');
            else if (!found)
                v = iv;
            if (!found && v && strlen(v) == q->nopts) {
                for (size_t i = 0; i < q->nopts; i++)
                    if (v[i] == 'D')
                        keys |= 1u << i;
                found = 1;
            }
            free(iv);
            if (!found)
                err(c, q, &bad, "không tìm thấy đáp án Đúng/Sai của các ý.");
            json_object_set_new(item, "statements", options_json(q, 1, keys));
        }
    } else if (q->nopts > 0) {
        check_labels(c, q, 'A', "phương án", &bad);
        unsigned keys = marked(q, 0);
        if (!keys && q->inline_key) {
            for (const char *s = q->inline_key; *s; s++)
                if (*s >= 'A' && *s <= 'H' && !isalpha((unsigned char)s[1]) &&
                    (s == q->inline_key || !isalpha((unsigned char)s[-1])))
                    for (size_t i = 0; i < q->nopts; i++)
                        if (q->opts[i].label == *s)
                            keys |= 1u << i;
        }
        const char *tk = keys ? NULL : table_key(c, q, 'L');
        int unknown = 0;
        for (const char *t = tk; t && *t; t++) {
            unsigned bit = 0;
            for (size_t i = 0; *t != ',' && i < q->nopts; i++)
                if (q->opts[i].label == *t)
                    bit = 1u << i;
            keys |= bit;
            unknown |= *t != ',' && !bit;
        }
        if (unknown)
            err(c, q, &bad, "đáp án %s trong bảng đáp án không có trong các phương án.", tk);
        for (size_t i = 0; i < q->nopts; i++)
            nmarks += (keys >> i) & 1;
        json_t *ks = json_array();
        for (size_t i = 0; i < q->nopts; i++)
            if (keys & (1u << i))
                json_array_append_new(ks, json_sprintf("%c", q->opts[i].label));
        if (nmarks == 0 && !tk)
            err(c, q, &bad, "không tìm thấy đáp án.");
        if (nmarks > 1) {
            kind = "MR";
            json_object_set_new(item, "keys", ks);
        } else {
            kind = "MCQ4";
            if (nmarks == 1 && q->nopts != 4)
                err(c, q, &bad,
                    "câu trắc nghiệm một lựa chọn phải có đúng 4 phương án A, B, C, D (có %zu).",
                    q->nopts);
            if (nmarks == 1)
                json_object_set(item, "key", json_array_get(ks, 0));
            json_decref(ks);
        }
        json_object_set_new(item, "options", options_json(q, 0, 0));
    } else if (q->mode == M_MCQ) {
        kind = "MCQ4";
        err(c, q, &bad, "không tìm thấy các phương án A, B, C, D.");
    } else {
        const char *v = NULL;
        char *iv = NULL;
        if (q->inline_key) {
            size_t at = 0, n = strlen(q->inline_key);
            iv = kt_docx_read_value(q->inline_key, &at, n);
            at = skip_ws(q->inline_key, at, n);
            while (at < n && (q->inline_key[at] == '.' || q->inline_key[at] == ';'))
                at = skip_ws(q->inline_key, at + 1, n);
            if (!iv || at < n) { /* not only a number: a text answer */
                free(iv);
                iv = n ? xstrndup(q->inline_key, n) : NULL;
            }
            v = iv;
        }
        if (!v && q->mode != M_ESSAY)
            v = table_key(c, q, 'N');
        if (v && q->mode != M_ESSAY) {
            kind = "SHORT";
            json_object_set_new(item, "key", json_string(v));
        } else if (q->mode == M_SHORT) {
            kind = "SHORT";
            err(c, q, &bad, "không tìm thấy đáp án (dòng \"Đáp án: ...\").");
        } else {
            kind = "ESSAY";
            if (q->model.n)
                json_object_set_new(item, "model_answer", json_string(q->model.s));
            if (q->rubric)
                json_object_set(item, "rubric", q->rubric);
            else
                err(c, q, &bad,
                    "câu tự luận chưa có hướng dẫn chấm (sau dòng \"Hướng dẫn chấm:\", mỗi ý một "
                    "dòng kèm điểm, ví dụ \"(0,5 điểm)\").");
        }
        free(iv);
    }
    json_object_set_new(item, "kind", json_string(kind));
    json_object_set_new(item, "title", title_of(q));
    json_object_set_new(item, "stem", json_string(q->stem.s ? q->stem.s : ""));
    if (q->expl.n)
        json_object_set_new(item, "explanation", json_string(q->expl.s));
    if (q->level)
        json_object_set_new(item, "level", json_string(q->level));
    kt_docx_place_codes(item, q->codes);

    if (!bad) {
        kt_item_normalize(item);
        json_t *probs = kt_item_validate(item), *pr;
        size_t i;
        json_array_foreach(probs, i, pr)
        {
            const char *f = json_string_value(json_object_get(pr, "field"));
            if (f && (strcmp(f, "identifier") == 0 || strcmp(f, "subject") == 0 ||
                      strcmp(f, "grade") == 0))
                continue;
            err(c, q, &bad, "%s: %s", f ? f : "",
                json_string_value(json_object_get(pr, "message")));
        }
        json_decref(probs);
    }
    if (q->pflags & P_MATHTYPE)
        qproblem(c, q, "warning", "công thức MathType được giữ dưới dạng ảnh.");
    if (q->pflags & P_MATHTYPE_LOST)
        qproblem(c, q, "warning",
                 "công thức MathType chỉ có ảnh xem trước dạng WMF/EMF, không hiển thị được trên "
                 "web: đã thay bằng \"[công thức MathType]\", hãy nhập lại công thức trong trình "
                 "soạn thảo.");
    if (q->pflags & P_BADIMG)
        qproblem(c, q, "warning",
                 "có hình ảnh hoặc công thức không đọc được hay không phải PNG, JPEG, GIF, WebP "
                 "(ví dụ WMF, EMF): đã bỏ qua, hãy chèn lại ảnh trong trình soạn thảo.");
    if (q->pflags & P_LATEX) {
        char m[400];
        snprintf(m, sizeof m,
                 "công thức LaTeX %s được giữ nguyên dạng văn bản; hãy kiểm tra trong trình soạn "
                 "thảo.",
                 q->latex_err);
        qproblem(c, q, "warning", m);
    }
    if (!bad)
        json_array_append_new(c->out->questions,
                              json_pack("{s:i, s:i, s:i, s:o}", "number", q->number, "part",
                                        q->part, "paragraph", q->para, "item", item));
    else
        json_decref(item);
}

static void
question_free(struct question *q)
{
    for (size_t i = 0; i < q->nopts; i++)
        free(q->opts[i].html);
    for (size_t i = 0; i < q->nalt; i++)
        free(q->alt[i].html);
    free(q->stem.s);
    free(q->expl.s);
    free(q->model.s);
    free(q->inline_key);
    json_decref(q->codes);
    json_decref(q->rubric);
    free(q);
}

/* Keeps only the images that the questions refer to. */
static void
prune_images(kt_docx_result *out)
{
    json_t *used = json_object(), *q, *ref;
    size_t i, k, o = 0;
    json_array_foreach(out->questions, i, q)
    {
        json_t *refs = kt_item_media_refs(json_object_get(q, "item"));
        json_array_foreach(refs, k, ref)
            json_object_set_new(used, json_string_value(json_object_get(ref, "path")), json_true());
        json_decref(refs);
    }
    for (i = 0; i < out->nimages; i++) {
        if (json_object_get(used, out->images[i].path)) {
            out->images[o++] = out->images[i];
        } else {
            free(out->images[i].path);
            free(out->images[i].data);
        }
    }
    out->nimages = o;
    json_decref(used);
}

/* ---- entry point --------------------------------------------------------------- */

static void
blocks_free(struct ctx *c)
{
    for (size_t i = 0; i < c->nblocks; i++) {
        struct block *b = &c->blocks[i];
        para_free(b->p);
        for (size_t k = 0; b->cells && k < b->rows * b->cols; k++) {
            struct cell *cell = b->cells[k];
            for (size_t j = 0; cell && j < cell->n; j++)
                para_free(cell->paras[j]);
            if (cell)
                free(cell->paras);
            free(cell);
        }
        free(b->cells);
    }
    free(c->blocks);
}

static int
read_document(struct ctx *c)
{
    size_t len;
    char *ct = read_entry(c, "[Content_Types].xml", &len);
    if (!ct) {
        problem(c->out, "error", 0, 0,
                "Tệp không phải tài liệu Word (.docx): thiếu phần [Content_Types].xml.");
        return -1;
    }
    int macro = strstr(ct, "macroEnabled") != NULL || strstr(ct, "vbaProject") != NULL;
    free(ct);
    if (macro) {
        problem(c->out, "error", 0, 0,
                "Tệp Word có macro (.docm) không được nhận. Hãy mở tệp và lưu lại dưới dạng "
                "Tài liệu Word (.docx).");
        return -1;
    }
    char *main_part = load_rels(c);
    char *xml = read_entry(c, main_part, &len);
    if (!xml) {
        problem(c->out, "error", 0, 0,
                "Tệp không phải tài liệu Word (.docx) đọc được: thiếu hoặc hỏng phần %s.",
                main_part);
        free(main_part);
        return -1;
    }
    c->doc = parse_xml(xml, len, main_part);
    free(xml);
    const xmlNode *root = c->doc ? xmlDocGetRootElement(c->doc) : NULL;
    const xmlNode *body = NULL;
    for (const xmlNode *e = root ? root->children : NULL; e; e = e->next)
        if (is_el(e, W_NS, "body"))
            body = e;
    if (!body) {
        problem(c->out, "error", 0, 0,
                "Phần %s không phải văn bản Word hợp lệ (XML hỏng, có DOCTYPE hoặc thiếu "
                "w:body).",
                main_part);
        free(main_part);
        return -1;
    }
    free(main_part);
    load_numbering(c);
    read_blocks(c, body);
    return 0;
}

int
kt_docx_read(const void *buf, size_t len, kt_docx_result *out)
{
    struct ctx c = {0};
    zip_error_t ze;
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->questions = json_array();
    out->problems = json_array();
    c.out = out;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(buf, len, 0, &ze);
    if (src && !(c.zip = zip_open_from_source(src, ZIP_RDONLY, &ze)))
        zip_source_free(src);
    zip_error_fini(&ze);
    if (!c.zip) {
        problem(out, "error", 0, 0,
                "Tệp không đọc được: không phải tài liệu Word (.docx) hợp lệ (tệp nén bị hỏng "
                "hoặc không phải .docx).");
        return -1;
    }
    if (vet_archive(&c) == 0 && read_document(&c) == 0) {
        for (size_t i = 0; i < c.nblocks; i++) {
            c.bi = i;
            if (c.blocks[i].p)
                handle_para(&c, c.blocks[i].p);
            else
                handle_table(&c, &c.blocks[i]);
        }
        finish_question(&c);
        for (size_t i = 0; i < c.nqs; i++)
            build_question(&c, c.qs[i]);
        if (c.nqs == 0 && !c.stopped)
            problem(
                out, "error", 0, 0,
                "Không tìm thấy câu hỏi nào (mỗi câu bắt đầu bằng \"Câu 1.\" hoặc \"Câu 1:\").");
        prune_images(out);
        rc = 0;
    }
    for (size_t i = 0; i < c.nqs; i++)
        question_free(c.qs[i]);
    free(c.qs);
    for (size_t i = 0; i < c.nextras; i++)
        question_free(c.extras[i]);
    free(c.extras);
    for (size_t i = 0; i < c.nkeys; i++)
        free(c.keys[i].value);
    free(c.keys);
    for (size_t i = 0; i < c.nrels; i++) {
        free(c.rel_ids[i]);
        free(c.rel_targets[i]);
    }
    free(c.rel_ids);
    free(c.rel_targets);
    free(c.numbering_part);
    free(c.nums);
    free(c.absnums);
    blocks_free(&c);
    xmlFreeDoc(c.doc);
    zip_discard(c.zip);
    if (rc != 0) {
        for (size_t i = 0; i < out->nimages; i++) {
            free(out->images[i].path);
            free(out->images[i].data);
        }
        free(out->images);
        out->images = NULL;
        out->nimages = 0;
        json_array_clear(out->questions);
    }
    return rc;
}

void
kt_docx_result_free(kt_docx_result *r)
{
    json_decref(r->questions);
    json_decref(r->problems);
    for (size_t i = 0; i < r->nimages; i++) {
        free(r->images[i].path);
        free(r->images[i].data);
    }
    free(r->images);
    memset(r, 0, sizeof *r);
}

size_t
kt_docx_count(const kt_docx_result *r, const char *severity)
{
    size_t n = 0, i;
    json_t *p;
    json_array_foreach(r->problems, i, p) n +=
        strcmp(json_string_value(json_object_get(p, "severity")), severity) == 0;
    return n;
}
