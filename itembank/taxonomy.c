/*
 * Taxonomy CSV validation: checks each row's code against the scheme of
 * DOMAIN-VN §4.6 (VN18.<MON>.<LOP>.<MACH>.<CD>.<ND>.<YC>, NL.*, NLC.*, NLDT.*,
 * PC.*, MD.*, DT.*), its subject, grade and text, finds duplicates and
 * conflicting names, and derives the ancestors of every outcome from its code
 * prefixes. One Vietnamese message per problem, with row and column. Pure.
 */
#include "taxonomy.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "text.h"

#define MAX_SEGS 7
#define MAX_CODE_BYTES 64
#define MAX_NAME_CHARS 500
#define MAX_TEXT_CHARS 4000

enum { C_CODE, C_SUBJECT, C_GRADE, C_STRAND, C_TOPIC, C_UNIT, C_TEXT, C_KIND, C_PARENT, NCOLS };
#define NREQUIRED C_KIND /* kind and parent are optional */

static const struct {
    const char *label;
    const char *keys[3]; /* folded header texts naming the column */
} columns[NCOLS] = {
    [C_CODE] = {"code", {"code", "ma"}},
    [C_SUBJECT] = {"subject", {"subject", "mon"}},
    [C_GRADE] = {"grade", {"grade", "lop"}},
    [C_STRAND] = {"strand", {"strand", "mach", "mach noi dung"}},
    [C_TOPIC] = {"topic", {"topic", "chu de"}},
    [C_UNIT] = {"unit", {"unit", "noi dung"}},
    [C_TEXT] = {"text", {"text", "yeu cau can dat"}},
    [C_KIND] = {"kind", {"kind", "loai"}},
    [C_PARENT] = {"parent", {"parent", "ma cha"}},
};

static const char *const kinds[] = {"subject", "grade",   "strand",     "topic",   "unit",
                                    "outcome", "competency", "quality", "level", "format"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
/* Kind of a VN18 code by its number of segments (2..7). */
static const char *const vn_kinds[MAX_SEGS + 1] = {NULL,    NULL,   "subject", "grade",
                                                    "strand", "topic", "unit",   "outcome"};
static const char *const level_names[] = {"", "", "môn", "lớp", "mạch", "chủ đề", "nội dung"};

struct slot {
    const char *code; /* points into the node; NULL: free */
    size_t node;
};

struct ctx {
    kt_taxonomy *t;
    size_t nodes_cap, errors_cap;
    char names[NCOLS][32];
    struct slot *map;
    size_t mask;
};

static size_t
nchars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* A value short enough to quote inside a message. */
static const char *
show(const char *v, char buf[64])
{
    kt_copy_utf8(buf, 57, v);
    if (strlen(v) > strlen(buf))
        strcat(buf, "…");
    return buf;
}

__attribute__((format(printf, 4, 5))) static void
add_error(struct ctx *c, size_t row, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kt_row_error_vadd(&c->t->errors, &c->t->nerrors, &c->errors_cap, row,
                      col < 0 ? "" : c->names[col], fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Code syntax                                                              */

static int
all_of(const char *s, const char *set)
{
    return *s && s[strspn(s, set)] == '\0';
}

#define DIGITS "0123456789"
#define UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Splits code at dots into seg (pointers into buf); returns the count or -1. */
static int
split(const char *code, char buf[MAX_CODE_BYTES + 1], char *seg[MAX_SEGS + 1])
{
    size_t len = strlen(code);
    if (len > MAX_CODE_BYTES)
        return -1;
    memcpy(buf, code, len + 1);
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == MAX_SEGS)
            return -1;
        seg[n++] = p;
        char *dot = strchr(p, '.');
        if (!dot)
            break;
        *dot = '\0';
        p = dot + 1;
    }
    return n;
}

static int
two_digits(const char *s, int lo, int hi)
{
    if (strlen(s) != 2 || !all_of(s, DIGITS))
        return 0;
    int v = (s[0] - '0') * 10 + (s[1] - '0');
    return v >= lo && v <= hi;
}

static int
is_edition(const char *s)
{
    size_t n = strlen(s);
    return (n == 4 || n == 5) && s[0] == 'V' && s[1] == 'N' && all_of((char[]){s[2], s[3], 0}, DIGITS) &&
           (n == 4 || (s[4] >= 'A' && s[4] <= 'Z'));
}

static int
is_subject_code(const char *s)
{
    return strlen(s) <= 12 && *s >= 'A' && *s <= 'Z' && all_of(s, UPPER DIGITS);
}

const char *
kt_taxonomy_code_kind(const char *code, char *why, size_t whylen)
{
    char b[64], buf[MAX_CODE_BYTES + 1];
    char *seg[MAX_SEGS + 1];
    if (!*code) {
        snprintf(why, whylen, "Thiếu mã");
        return NULL;
    }
    if (strlen(code) > MAX_CODE_BYTES) {
        snprintf(why, whylen, "Mã '%s' dài quá %d ký tự", show(code, b), MAX_CODE_BYTES);
        return NULL;
    }
    if (!all_of(code, UPPER DIGITS ".")) {
        snprintf(why, whylen,
                 "Mã '%s' chỉ được gồm chữ in hoa không dấu, chữ số và dấu chấm"
                 " (ví dụ VN18.TOAN.10.SDS.01.01.01)",
                 show(code, b));
        return NULL;
    }
    int n = split(code, buf, seg);
    for (int i = 0; i < n; i++)
        if (!*seg[i]) {
            snprintf(why, whylen, "Mã '%s' có phần rỗng giữa hai dấu chấm", code);
            return NULL;
        }
    if (n < 0) {
        snprintf(why, whylen, "Mã '%s' có quá nhiều phần (tối đa %d)", code, MAX_SEGS);
        return NULL;
    }
    if (is_edition(seg[0])) {
        if (n < 2) {
            snprintf(why, whylen, "Mã '%s' thiếu mã môn sau %s", code, seg[0]);
            return NULL;
        }
        if (!is_subject_code(seg[1])) {
            snprintf(why, whylen, "Mã môn '%s' trong mã '%s' không hợp lệ (ví dụ TOAN, NV, KHTN)",
                     seg[1], code);
            return NULL;
        }
        if (n >= 3 && !two_digits(seg[2], 1, 12)) {
            snprintf(why, whylen, "Lớp '%s' trong mã '%s' phải gồm 2 chữ số từ 01 đến 12",
                     seg[2], code);
            return NULL;
        }
        if (n >= 4 && (strlen(seg[3]) > 10 || !all_of(seg[3], UPPER))) {
            snprintf(why, whylen,
                     "Mạch '%s' trong mã '%s' phải là chữ in hoa không dấu (ví dụ SDS, HHDL)",
                     seg[3], code);
            return NULL;
        }
        if (n >= 5 && !two_digits(seg[4], 1, 99)) {
            snprintf(why, whylen, "Số thứ tự chủ đề '%s' trong mã '%s' phải gồm 2 chữ số từ 01",
                     seg[4], code);
            return NULL;
        }
        if (n >= 6 && !two_digits(seg[5], n == 7 ? 0 : 1, 99)) {
            snprintf(why, whylen,
                     "Số thứ tự nội dung '%s' trong mã '%s' phải gồm 2 chữ số"
                     " (00 khi chủ đề không chia nội dung)",
                     seg[5], code);
            return NULL;
        }
        if (n == 7 && !two_digits(seg[6], 1, 99)) {
            snprintf(why, whylen,
                     "Số thứ tự yêu cầu cần đạt '%s' trong mã '%s' phải gồm 2 chữ số từ 01",
                     seg[6], code);
            return NULL;
        }
        return vn_kinds[n];
    }
    static const struct {
        const char *prefix, *kind;
    } flat[] = {{"PC", "quality"},     {"NLC", "competency"}, {"NLDT", "competency"},
                {"MD", "level"},       {"DT", "format"}};
    for (size_t i = 0; i < sizeof(flat) / sizeof(flat[0]); i++)
        if (strcmp(seg[0], flat[i].prefix) == 0) {
            if (n != 2) {
                snprintf(why, whylen, "Mã '%s' phải có dạng %s.<MÃ>", code, flat[i].prefix);
                return NULL;
            }
            return flat[i].kind;
        }
    if (strcmp(seg[0], "NL") == 0) {
        if ((n != 2 && n != 3) || !is_subject_code(seg[1])) {
            snprintf(why, whylen, "Mã năng lực '%s' phải có dạng NL.<MÔN> hoặc NL.<MÔN>.<THÀNH_PHẦN>",
                     code);
            return NULL;
        }
        return "competency";
    }
    snprintf(why, whylen,
             "Mã '%s' không theo quy ước: cần VN18.<MÔN>.<LỚP>.<MẠCH>.<CĐ>.<ND>.<YC>"
             " hoặc NL.*, NLC.*, NLDT.*, PC.*, MD.*, DT.*",
             show(code, b));
    return NULL;
}

char *
kt_taxonomy_implied_parent(const char *code)
{
    char why[256], buf[MAX_CODE_BYTES + 1];
    char *seg[MAX_SEGS + 1];
    const char *kind = kt_taxonomy_code_kind(code, why, sizeof(why));
    if (!kind)
        return NULL;
    int n = split(code, buf, seg);
    int keep;
    if (is_edition(seg[0]))
        keep = n == 2 ? 0 : (n == 7 && strcmp(seg[5], "00") == 0) ? 5 : n - 1;
    else
        keep = strcmp(seg[0], "NL") == 0 && n == 3 ? 2 : 0;
    if (keep <= 0)
        return NULL;
    size_t len = 1;
    for (int i = 0; i < keep; i++)
        len += strlen(seg[i]) + 1;
    char *out = malloc(len);
    if (!out)
        abort();
    memcpy(out, code, len - 2);
    out[len - 2] = '\0';
    return out;
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                    */

static size_t
hash_code(const char *s)
{
    uint64_t h = 14695981039346656037u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)h;
}

static struct slot *
find_slot(struct ctx *c, const char *code)
{
    struct slot *s = &c->map[hash_code(code) & c->mask];
    while (s->code && strcmp(s->code, code) != 0)
        s = &c->map[(size_t)(s - c->map + 1) & c->mask];
    return s;
}

static kt_tx_node *
append(struct ctx *c, struct slot *s, size_t row, const char *kind, const char *code,
       const char *parent, const char *subject, int grade, const char *name, const char *text)
{
    kt_taxonomy *t = c->t;
    t->nodes = kt_grow(t->nodes, &c->nodes_cap, t->nnodes + 1, sizeof(kt_tx_node));
    kt_tx_node *n = &t->nodes[t->nnodes];
    *n = (kt_tx_node){.source_row = row, .kind = kind, .grade = grade};
    n->code = kt_xstrdup(code);
    n->parent = parent ? kt_xstrdup(parent) : NULL;
    n->subject = subject ? kt_xstrdup(subject) : NULL;
    n->name = kt_xstrdup(name);
    n->text = kt_xstrdup(text);
    s->code = n->code;
    s->node = t->nnodes++;
    return n;
}

static void
set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = v ? kt_xstrdup(v) : NULL;
}

/* An ancestor implied by a code prefix. name NULL: a subject or grade node,
 * or a level whose name the row does not give; such nodes are only created
 * when missing, never renamed. col: the column that gave the name. */
static void
add_implied(struct ctx *c, size_t row, int col, const char *kind, const char *code,
            const char *subject, int grade, const char *name, const char *fallback)
{
    struct slot *s = find_slot(c, code);
    if (s->code) {
        kt_tx_node *n = &c->t->nodes[s->node];
        if (!name)
            return;
        if (n->create_only) {
            set_str(&n->name, name);
            n->create_only = false;
        } else if (strcmp(n->name, name) != 0) {
            char b1[64], b2[64];
            add_error(c, row, col, "Tên %s '%s' của mã %s khác với tên '%s' ở dòng %zu",
                      kind[0] == 's' ? "mạch" : kind[0] == 't' ? "chủ đề" : "nội dung",
                      show(name, b1), code, show(n->name, b2), n->source_row);
        }
        return;
    }
    char *parent = kt_taxonomy_implied_parent(code);
    kt_tx_node *n = append(c, s, row, kind, code, parent, subject, grade, name ? name : fallback, "");
    n->create_only = !name;
    n->implied = true;
    free(parent);
}

/* Creates the subject, grade, strand, topic and unit nodes above a VN code. */
static void
add_ancestors(struct ctx *c, size_t row, const char *code, const char *subject, int grade,
              char *const cells[NCOLS])
{
    char buf[MAX_CODE_BYTES + 1], prefix[MAX_CODE_BYTES + 1];
    char *seg[MAX_SEGS + 1];
    int n = split(code, buf, seg);
    size_t len = 0;
    prefix[0] = '\0';
    for (int i = 0; i < n - 1; i++) {
        len += (size_t)snprintf(prefix + len, sizeof(prefix) - len, "%s%s", i ? "." : "", seg[i]);
        int nseg = i + 1;
        if (nseg < 2)
            continue;
        if (nseg == 6 && strcmp(seg[5], "00") == 0)
            break; /* no content unit */
        char fallback[40];
        if (nseg == 2) {
            add_implied(c, row, -1, "subject", prefix, subject, 0, NULL, seg[1]);
        } else if (nseg == 3) {
            snprintf(fallback, sizeof(fallback), "Lớp %d", grade);
            add_implied(c, row, -1, "grade", prefix, subject, grade, NULL, fallback);
        } else {
            int col = nseg == 4 ? C_STRAND : nseg == 5 ? C_TOPIC : C_UNIT;
            const char *name = cells[col][0] ? cells[col] : NULL;
            add_implied(c, row, col, vn_kinds[nseg], prefix, subject, grade, name, seg[nseg - 1]);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Rows                                                                     */

static int
parse_grade(const char *v)
{
    if (!*v || strlen(v) > 2 || !all_of(v, DIGITS))
        return -1;
    int g = atoi(v);
    return g >= 1 && g <= 12 ? g : -1;
}

static void
check_row(struct ctx *c, const kt_row *r, const size_t idx[NCOLS])
{
    char *cells[NCOLS];
    int blank = 1;
    size_t row = r->source_row;
    char b[64], b2[64], why[300];
    for (int i = 0; i < NCOLS; i++) {
        const char *v = idx[i] < r->ncells ? r->cells[idx[i]] : "";
        cells[i] = kt_text_clean(v, strlen(v));
        if (!cells[i]) {
            add_error(c, row, i, "Ô không phải văn bản UTF-8 hợp lệ");
            cells[i] = kt_xstrdup("");
        }
        blank &= cells[i][0] == '\0';
    }
    if (blank)
        goto out;

    size_t before = c->t->nerrors;
    const char *code = cells[C_CODE];
    const char *kind = kt_taxonomy_code_kind(code, why, sizeof(why));
    if (!kind) {
        add_error(c, row, C_CODE, "%s", why);
        goto out;
    }
    char buf[MAX_CODE_BYTES + 1];
    char *seg[MAX_SEGS + 1];
    int nseg = split(code, buf, seg);
    int vn = is_edition(seg[0]);

    if (cells[C_KIND][0]) {
        size_t k = 0;
        while (k < NKINDS && strcmp(kinds[k], cells[C_KIND]) != 0)
            k++;
        if (k == NKINDS)
            add_error(c, row, C_KIND,
                      "Loại '%s' không hợp lệ: dùng subject, grade, strand, topic, unit, outcome,"
                      " competency, quality, level hoặc format",
                      show(cells[C_KIND], b));
        else if (strcmp(kinds[k], kind) != 0)
            add_error(c, row, C_KIND, "Loại '%s' không khớp với mã %s (mã này là %s)",
                      cells[C_KIND], code, kind);
    }

    /* Subject: from the code for VN18 and NL codes; the column must agree. */
    const char *code_subject = vn || strcmp(seg[0], "NL") == 0 ? seg[1] : NULL;
    const char *subject = cells[C_SUBJECT][0] ? cells[C_SUBJECT] : code_subject;
    if (cells[C_SUBJECT][0] && !is_subject_code(cells[C_SUBJECT]))
        add_error(c, row, C_SUBJECT, "Mã môn '%s' không hợp lệ (ví dụ TOAN, NV, KHTN)",
                  show(cells[C_SUBJECT], b));
    else if (vn && !cells[C_SUBJECT][0])
        add_error(c, row, C_SUBJECT, "Thiếu mã môn (phải là %s như trong mã)", seg[1]);
    else if (code_subject && strcmp(subject, code_subject) != 0)
        add_error(c, row, C_SUBJECT, "Môn '%s' không khớp với mã môn %s trong mã %s", subject,
                  code_subject, code);

    int grade = 0;
    if (cells[C_GRADE][0]) {
        grade = parse_grade(cells[C_GRADE]);
        if (grade < 0)
            add_error(c, row, C_GRADE, "Lớp '%s' phải là số từ 1 đến 12", show(cells[C_GRADE], b));
    }
    int code_grade = vn && nseg >= 3 ? atoi(seg[2]) : 0;
    if (code_grade && !cells[C_GRADE][0])
        add_error(c, row, C_GRADE, "Thiếu lớp (phải là %d như trong mã)", code_grade);
    else if (code_grade && grade > 0 && grade != code_grade)
        add_error(c, row, C_GRADE, "Lớp %d không khớp với lớp %s trong mã %s", grade, seg[2],
                  code);
    if (code_grade)
        grade = code_grade;

    int outcome = strcmp(kind, "outcome") == 0;
    const char *name = cells[C_TEXT], *text = "";
    if (outcome) {
        text = cells[C_TEXT];
        if (!text[0])
            add_error(c, row, C_TEXT, "Thiếu nội dung yêu cầu cần đạt");
        else if (nchars(text) > MAX_TEXT_CHARS)
            add_error(c, row, C_TEXT, "Nội dung dài quá %d ký tự", MAX_TEXT_CHARS);
        for (int col = C_STRAND; col <= C_UNIT; col++) {
            if (col == C_UNIT && strcmp(seg[5], "00") == 0)
                continue;
            if (!cells[col][0])
                add_error(c, row, col, "Thiếu tên %s (cần để tạo mã %s cha)",
                          level_names[col - C_STRAND + 4], level_names[col - C_STRAND + 4]);
        }
    } else {
        int col = strcmp(kind, "strand") == 0  ? C_STRAND
                  : strcmp(kind, "topic") == 0 ? C_TOPIC
                  : strcmp(kind, "unit") == 0  ? C_UNIT
                                               : -1;
        if (col >= 0 && cells[col][0])
            name = cells[col];
        if (!name[0])
            add_error(c, row, C_TEXT, "Thiếu tên (cột %s)", c->names[col >= 0 ? col : C_TEXT]);
    }
    if (nchars(name) > MAX_NAME_CHARS && !outcome)
        add_error(c, row, C_TEXT, "Tên dài quá %d ký tự", MAX_NAME_CHARS);

    char *implied = kt_taxonomy_implied_parent(code);
    const char *parent = implied;
    if (cells[C_PARENT][0]) {
        if (!kt_taxonomy_code_kind(cells[C_PARENT], why, sizeof(why)))
            add_error(c, row, C_PARENT, "%s", why);
        else if (implied && strcmp(implied, cells[C_PARENT]) != 0)
            add_error(c, row, C_PARENT, "Mã cha %s khác với mã cha suy ra từ mã (%s)",
                      cells[C_PARENT], implied);
        else if (strcmp(cells[C_PARENT], code) == 0)
            add_error(c, row, C_PARENT, "Mã cha không được trùng với chính mã");
        parent = cells[C_PARENT];
    }

    struct slot *s = find_slot(c, code);
    if (s->code) {
        const kt_tx_node *n = &c->t->nodes[s->node];
        if (!n->implied)
            add_error(c, row, C_CODE, "Mã %s trùng với mã ở dòng %zu", code, n->source_row);
        else if (!n->create_only && strcmp(n->name, name) != 0)
            add_error(c, row, C_TEXT, "Tên '%s' của mã %s khác với tên '%s' ở dòng %zu",
                      show(name, b), code, show(n->name, b2), n->source_row);
    }
    if (c->t->nerrors != before) {
        free(implied);
        goto out;
    }

    if (vn)
        add_ancestors(c, row, code, subject, grade, cells);
    s = find_slot(c, code); /* the map may have gained entries */
    if (s->code) {
        /* Implied only (create_only): the row now names it. */
        kt_tx_node *n = &c->t->nodes[s->node];
        set_str(&n->name, name);
        set_str(&n->parent, parent);
        set_str(&n->subject, subject);
        n->grade = grade;
        n->create_only = false;
        n->implied = false;
        n->source_row = row;
    } else {
        append(c, s, row, kind, code, parent, subject, grade, name, text);
        if (outcome)
            c->t->noutcomes++;
    }
    free(implied);
out:
    for (int i = 0; i < NCOLS; i++)
        free(cells[i]);
}

static int
match_column(const char *cell)
{
    char *key = kt_fold(cell, strlen(cell));
    int found = -1;
    for (int i = 0; key && found < 0 && i < NCOLS; i++)
        for (int j = 0; j < 3 && columns[i].keys[j]; j++)
            if (strcmp(key, columns[i].keys[j]) == 0)
                found = i;
    free(key);
    return found;
}

int
kt_taxonomy_from_table(const kt_table *t, kt_taxonomy *out)
{
    struct ctx c = {.t = out};
    size_t idx[NCOLS];
    *out = (kt_taxonomy){0};
    for (int i = 0; i < NCOLS; i++) {
        idx[i] = SIZE_MAX;
        kt_copy_utf8(c.names[i], sizeof(c.names[i]), columns[i].label);
    }
    if (t->nrows == 0) {
        add_error(&c, 0, -1, "Tệp trống: cần dòng tiêu đề code,subject,grade,strand,topic,unit,text");
        return -1;
    }
    const kt_row *h = &t->rows[0];
    for (size_t j = 0; j < h->ncells; j++) {
        int col = match_column(h->cells[j]);
        if (col < 0)
            continue;
        if (idx[col] != SIZE_MAX) {
            add_error(&c, h->source_row, col, "Cột '%s' xuất hiện hai lần ở dòng tiêu đề",
                      columns[col].label);
            continue;
        }
        idx[col] = j;
        char *name = kt_text_clean(h->cells[j], strlen(h->cells[j]));
        if (name)
            kt_copy_utf8(c.names[col], sizeof(c.names[col]), name);
        free(name);
    }
    for (int i = 0; i < NREQUIRED; i++)
        if (idx[i] == SIZE_MAX)
            add_error(&c, h->source_row, i, "Thiếu cột '%s' ở dòng tiêu đề", columns[i].label);
    if (out->nerrors)
        return -1;

    for (c.mask = 63; c.mask < 8 * (t->nrows + 1) * MAX_SEGS; c.mask = 2 * c.mask + 1)
        ;
    if (!(c.map = calloc(c.mask + 1, sizeof(struct slot))))
        abort();
    for (size_t i = 1; i < t->nrows; i++)
        check_row(&c, &t->rows[i], idx);
    free(c.map);
    if (out->nnodes == 0 && out->nerrors == 0)
        add_error(&c, 0, -1, "Không có dòng dữ liệu nào dưới dòng tiêu đề");
    return out->nerrors ? -1 : 0;
}

void
kt_taxonomy_free(kt_taxonomy *t)
{
    for (size_t i = 0; i < t->nnodes; i++) {
        kt_tx_node *n = &t->nodes[i];
        free(n->code);
        free(n->parent);
        free(n->subject);
        free(n->name);
        free(n->text);
    }
    free(t->nodes);
    free(t->errors);
    *t = (kt_taxonomy){0};
}
