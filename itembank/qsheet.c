/*
 * Question-sheet reader: the first worksheet of an .xlsx (xlsx.c) or a CSV
 * file (engine/csv.c) as a table, its header row found among the first
 * rows by folded column names (any order, with or without diacritics),
 * then one question per row in the authoring shape of item.h. Keys, levels
 * and codes are read by the Word reader's own functions (docx.h), text is
 * escaped into HTML as the Word reader writes it, and `$…$` is kept as text
 * with the Word reader's warning. Every item given has passed
 * kt_item_validate (less identifier, subject and grade).
 */
#include "qsheet.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "item.h"
#include "omml.h"
#include "text.h"
#include "xlsx.h"

#define HEADER_SEARCH_ROWS 10 /* title lines may stand above the header */
#define NOPTS 8               /* option columns A..H */
#define NONE SIZE_MAX
#define SHOW_BYTES ((size_t)160) /* a cell quoted in a message, at most */

enum col {
    C_STT,
    C_KIND,
    C_STEM,
    C_OPT, /* C_OPT + 0 .. C_OPT + 7: A .. H */
    C_KEY = C_OPT + NOPTS,
    C_LEVEL,
    C_CODE,
    C_EXPL,
    C_POINTS,
    NCOLS
};

/* Folded header texts (kt_fold, punctuation as spaces) naming each column. */
static const char *const HEADERS[NCOLS][8] = {
    [C_STT] = {"stt", "tt", "so thu tu", "cau so", "so cau", "cau", NULL},
    [C_KIND] = {"loai", "loai cau", "loai cau hoi", "dang", "dang cau hoi", "kieu", "kieu cau hoi",
                NULL},
    [C_STEM] = {"cau hoi", "noi dung", "noi dung cau hoi", "de bai", "cau dan", NULL},
    [C_OPT + 0] = {"a", "phuong an a", NULL},
    [C_OPT + 1] = {"b", "phuong an b", NULL},
    [C_OPT + 2] = {"c", "phuong an c", NULL},
    [C_OPT + 3] = {"d", "phuong an d", NULL},
    [C_OPT + 4] = {"e", "phuong an e", NULL},
    [C_OPT + 5] = {"f", "phuong an f", NULL},
    [C_OPT + 6] = {"g", "phuong an g", NULL},
    [C_OPT + 7] = {"h", "phuong an h", NULL},
    [C_KEY] = {"dap an", "dap an dung", "dap so", NULL},
    [C_LEVEL] = {"muc do", "muc do nhan thuc", "muc", "cap do", NULL},
    [C_CODE] = {"ma", "ma yccd", "ma yeu cau can dat", "ma phan loai", "ma chuan", NULL},
    [C_EXPL] = {"loi giai", "huong dan giai", "giai thich", "giai", "loi giai chi tiet", NULL},
    [C_POINTS] = {"diem", "so diem", "thang diem", NULL},
};

enum kind { K_AUTO, K_MCQ, K_MR, K_TF, K_SHORT, K_ESSAY };

/* Folded values of the Loại column. */
static const struct {
    const char *word;
    enum kind kind;
} KINDS[] = {
    {"mcq", K_MCQ},
    {"mcq4", K_MCQ},
    {"mot lua chon", K_MCQ},
    {"mot dap an", K_MCQ},
    {"trac nghiem", K_MCQ},
    {"trac nghiem mot lua chon", K_MCQ},
    {"nhieu lua chon", K_MCQ}, /* "trắc nghiệm nhiều phương án lựa chọn" of 2025: one key */
    {"trac nghiem nhieu lua chon", K_MCQ},
    {"nhieu phuong an lua chon", K_MCQ},
    {"trac nghiem nhieu phuong an lua chon", K_MCQ},
    {"mr", K_MR},
    {"nhieu dap an", K_MR},
    {"nhieu dap an dung", K_MR},
    {"chon nhieu dap an", K_MR},
    {"tf", K_TF},
    {"tf4", K_TF},
    {"dung sai", K_TF},
    {"trac nghiem dung sai", K_TF},
    {"short", K_SHORT},
    {"tra loi ngan", K_SHORT},
    {"trac nghiem tra loi ngan", K_SHORT},
    {"essay", K_ESSAY},
    {"tu luan", K_ESSAY},
    {NULL, K_AUTO},
};

/* Folded values of Đúng and Sai, for marks typed without Vietnamese letters. */
static const char *const TRUE_WORDS[] = {"d", "dung", "t", "true", NULL};
static const char *const FALSE_WORDS[] = {"s", "sai", "f", "false", NULL};

static const char LATEX_WARNING[] =
    "công thức LaTeX $…$ được giữ nguyên dạng văn bản; hãy kiểm tra trong trình soạn thảo.";

struct sheet {
    const kt_table *t;
    kt_docx_result *out;
    size_t col[NCOLS];       /* cell index of each column, NONE when absent */
    const char *name[NCOLS]; /* the header as written */
};

/* The row being read. */
struct row {
    const kt_row *r;
    size_t line; /* source row */
    int number;  /* Câu N */
    int bad;     /* an error was reported */
    int latex;   /* a cell holds $…$ */
};

/* ------------------------------------------------------------------------ */
/* Problems                                                                 */

static void
add_problem(struct sheet *s, const char *severity, int number, size_t line, const char *column,
            const char *message)
{
    json_t *p =
        json_pack("{s:s, s:i, s:I, s:I, s:s}", "severity", severity, "question", number,
                  "paragraph", (json_int_t)line, "row", (json_int_t)line, "message", message);
    if (column)
        json_object_set_new(p, "column", json_string(column));
    json_array_append_new(s->out->problems, p);
}

/* "Dòng R (Câu N): ..." */
__attribute__((format(printf, 4, 5))) static void
row_problem(struct sheet *s, struct row *w, const char *severity, const char *fmt, ...)
{
    char msg[600], full[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "Dòng %zu (Câu %d): %s", w->line, w->number, msg);
    add_problem(s, severity, w->number, w->line, NULL, full);
    if (strcmp(severity, "error") == 0)
        w->bad = 1;
}

/* "Dòng R, cột X: ..." (an error). */
__attribute__((format(printf, 4, 5))) static void
cell_error(struct sheet *s, struct row *w, enum col c, const char *fmt, ...)
{
    char msg[600], full[760];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "Dòng %zu, cột %s: %s", w->line, s->name[c], msg);
    add_problem(s, "error", w->number, w->line, s->name[c], full);
    w->bad = 1;
}

/* A cell value short enough to quote. */
static const char *
show(const char *v, char buf[SHOW_BYTES + 8])
{
    if (kt_copy_utf8(buf, SHOW_BYTES, v))
        strcat(buf, "…");
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Cells                                                                    */

static int
is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* A cell's text without the white space around it, malloc'd ("" when the
 * column is absent). */
static char *
cell(const struct sheet *s, const struct row *w, enum col c)
{
    const char *v = s->col[c] == NONE || s->col[c] >= w->r->ncells ? "" : w->r->cells[s->col[c]];
    size_t a = 0, z = strlen(v);
    while (a < z && is_space(v[a]))
        a++;
    while (z > a && is_space(v[z - 1]))
        z--;
    char *out = strndup(v + a, z - a);
    if (!out)
        abort();
    return out;
}

/* kt_fold with punctuation as spaces: "Đáp án (đúng):" -> "dap an dung". */
static char *
fold_key(const char *v)
{
    char *f = kt_fold(v, strlen(v));
    if (!f)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; f[i]; i++) {
        char ch = f[i];
        if (ch == '-' || ch == '/' || ch == '_' || ch == '.' || ch == ':' || ch == '(' ||
            ch == ')' || ch == ',' || ch == '*' || is_space(ch))
            ch = ' ';
        if (ch == ' ' && (o == 0 || f[o - 1] == ' '))
            continue;
        f[o++] = ch;
    }
    while (o > 0 && f[o - 1] == ' ')
        o--;
    f[o] = '\0';
    return f;
}

/* Text as HTML: escaped, line breaks as <br/>, tabs as spaces. */
static void
text_html(kt_strbuf *b, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\n')
            kt_strbuf_puts(b, "<br/>");
        else if (*p == '\t')
            kt_strbuf_puts(b, " ");
        else if (*p != '\r')
            kt_strbuf_escape(b, p, 1);
    }
}

static char *
inline_html(const char *v)
{
    kt_strbuf b = {0};
    text_html(&b, v);
    return kt_strbuf_take(&b);
}

static char *
para_html(const char *v)
{
    kt_strbuf b = {0};
    kt_strbuf_puts(&b, "<p>");
    text_html(&b, v);
    kt_strbuf_puts(&b, "</p>");
    return kt_strbuf_take(&b);
}

/* As the Word reader marks a paragraph: a '$' with another after it. */
static void
note_latex(struct row *w, const char *v)
{
    const char *d = strchr(v, '$');
    if (d && strchr(d + 1, '$'))
        w->latex = 1;
}

/* The title: the stem's text, white space collapsed, at most 80 bytes cut
 * at a character. */
static json_t *
title_of(const char *stem, int number)
{
    char *t = kt_text_clean(stem, strlen(stem));
    if (!t || !*t) {
        free(t);
        return json_sprintf("Câu %d", number);
    }
    size_t n = strlen(t), full = n;
    if (n > 80) {
        n = 80;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80)
            n--;
    }
    json_t *j = json_sprintf("%.*s%s", (int)n, t, full > n ? "…" : "");
    free(t);
    return j;
}

/* Blank after the separators a key may end with. */
static int
only_separators(const char *s, size_t i)
{
    for (; s[i]; i++)
        if (!is_space(s[i]) && s[i] != '.' && s[i] != ';' && s[i] != ',')
            return 0;
    return 1;
}

/* A decimal number (decimal comma or dot, optional sign) and nothing else:
 * "2.5" (malloc'd), else NULL. */
static char *
number_of(const char *v)
{
    size_t k = 0;
    char *n = kt_docx_read_value(v, &k, strlen(v));
    if (n && (isdigit((unsigned char)n[0]) || n[0] == '-') && only_separators(v, k))
        return n;
    free(n);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Header                                                                   */

static int
header_column(const char *v)
{
    char *key = fold_key(v);
    int found = -1;
    for (int c = 0; key && *key && found < 0 && c < NCOLS; c++)
        for (int k = 0; HEADERS[c][k]; k++)
            if (strcmp(key, HEADERS[c][k]) == 0) {
                found = c;
                break;
            }
    free(key);
    return found;
}

/* The header is the row, among the first few, that names the most columns
 * and names the stem; returns its index, or NONE. */
static size_t
find_header(struct sheet *s)
{
    const kt_table *t = s->t;
    size_t best = NONE;
    int best_n = 0;
    for (size_t h = 0; h < t->nrows && h < HEADER_SEARCH_ROWS; h++) {
        size_t cur[NCOLS];
        int n = 0;
        for (int c = 0; c < NCOLS; c++)
            cur[c] = NONE;
        for (size_t j = 0; j < t->rows[h].ncells; j++) {
            int c = header_column(t->rows[h].cells[j]);
            if (c >= 0 && cur[c] == NONE) {
                cur[c] = j;
                n++;
            }
        }
        if (cur[C_STEM] != NONE && n > best_n) {
            best_n = n;
            best = h;
            memcpy(s->col, cur, sizeof cur);
        }
    }
    return best;
}

/* ------------------------------------------------------------------------ */
/* One question                                                             */

static enum kind
kind_of(struct sheet *s, struct row *w, const char *v)
{
    if (!*v)
        return K_AUTO;
    char *key = fold_key(v);
    for (size_t i = 0; key && KINDS[i].word; i++)
        if (strcmp(key, KINDS[i].word) == 0) {
            free(key);
            return KINDS[i].kind;
        }
    free(key);
    char b[SHOW_BYTES + 8];
    cell_error(s, w, C_KIND,
               "'%s' không phải loại câu hỏi (MCQ, nhiều đáp án, đúng-sai, trả lời ngắn, tự "
               "luận; để trống là trắc nghiệm một lựa chọn).",
               show(v, b));
    return K_AUTO;
}

/* The option letters of the key cell ("B", "A, C", "A;C", "AC"); a bit per
 * option index. Reports a token that is no letter or has no option. */
static unsigned
letter_keys(struct sheet *s, struct row *w, const char *v, char *const opts[NOPTS])
{
    unsigned keys = 0;
    size_t i = 0;
    while (v[i]) {
        if (is_space(v[i]) || v[i] == ',' || v[i] == ';' || v[i] == '/' || v[i] == '+' ||
            v[i] == '.') {
            i++;
            continue;
        }
        size_t j = i;
        while (v[j] && !is_space(v[j]) && v[j] != ',' && v[j] != ';' && v[j] != '/' &&
               v[j] != '+' && v[j] != '.')
            j++;
        int letters = 1;
        for (size_t k = i; k < j; k++)
            if (!((v[k] >= 'A' && v[k] <= 'H') || (v[k] >= 'a' && v[k] <= 'h')))
                letters = 0;
        if (!letters) {
            char tok[SHOW_BYTES + 8], b[SHOW_BYTES + 8];
            snprintf(tok, sizeof tok, "%.*s", (int)(j - i < 64 ? j - i : 64), v + i);
            cell_error(s, w, C_KEY,
                       "'%s' không phải chữ cái của phương án (ví dụ \"B\", hoặc \"A, C\" khi "
                       "có nhiều đáp án).",
                       show(tok, b));
        } else {
            for (size_t k = i; k < j; k++) {
                int idx = toupper((unsigned char)v[k]) - 'A';
                if (!opts[idx] || !*opts[idx])
                    cell_error(s, w, C_KEY, "'%c' không có phương án %c.", 'A' + idx, 'A' + idx);
                else
                    keys |= 1u << idx;
            }
        }
        i = j;
    }
    return keys;
}

/* Đúng/Sai marks of the four statements: the Word reader's reading ("Đ S Đ
 * S", "ĐSĐS", "a) Đ b) S ...", "Đúng, Sai, ..."), else the same typed
 * without Vietnamese letters ("D S D S", "a) D b) S", "T F T F"). A bit
 * per true statement in *keys; -1 when the cell is not that. */
static int
tf_keys(const char *v, unsigned *keys)
{
    size_t k = 0;
    char *m = kt_docx_read_value(v, &k, strlen(v));
    int ok = m && strlen(m) == 4 && strspn(m, "DS") == 4 && only_separators(v, k);
    if (ok)
        for (int i = 0; i < 4; i++)
            *keys |= (unsigned)(m[i] == 'D') << i;
    free(m);
    if (ok)
        return 0;
    char *f = fold_key(v); /* "a) D b) S" -> "a d b s" */
    if (!f)
        return -1;
    int labelled = strchr(v, ')') != NULL, want_label = labelled, bad = 0;
    size_t n = 0; /* marks read */
    *keys = 0;
    char *save = NULL;
    for (char *tok = strtok_r(f, " ", &save); tok && !bad; tok = strtok_r(NULL, " ", &save)) {
        if (want_label) { /* "a" before the mark of a), "b" before b)'s ... */
            if (n < 4 && strlen(tok) == 1 && tok[0] == "abcd"[n])
                want_label = 0;
            else
                bad = 1;
            continue;
        }
        int t = -1;
        for (size_t i = 0; TRUE_WORDS[i]; i++)
            if (strcmp(tok, TRUE_WORDS[i]) == 0)
                t = 1;
        for (size_t i = 0; FALSE_WORDS[i]; i++)
            if (strcmp(tok, FALSE_WORDS[i]) == 0)
                t = 0;
        if (t < 0 && !labelled && strspn(tok, "ds") == strlen(tok) && n + strlen(tok) <= 4) {
            for (size_t i = 0; tok[i]; i++, n++) /* "dsds" */
                *keys |= (tok[i] == 'd' ? 1u : 0u) << n;
            continue;
        }
        if (t < 0 || n >= 4) {
            bad = 1;
            continue;
        }
        *keys |= (t ? 1u : 0u) << n;
        n++;
        want_label = labelled;
    }
    free(f);
    return !bad && n == 4 ? 0 : -1;
}

static json_t *
options_json(char *const opts[NOPTS], size_t n, int statements, unsigned keys)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[2] = {statements ? (char)('a' + i) : (char)('A' + i), '\0'};
        char *html = inline_html(opts[i]);
        json_t *o = json_pack("{s:s, s:s}", "id", id, "html", html);
        free(html);
        if (statements)
            json_object_set_new(o, "key", json_boolean(keys & (1u << i)));
        json_array_append_new(a, o);
    }
    return a;
}

/* The options: every filled column up to the last, a gap reported. */
static size_t
count_options(struct sheet *s, struct row *w, char *const opts[NOPTS], int statements)
{
    size_t last = 0;
    for (size_t i = 0; i < NOPTS; i++)
        if (*opts[i])
            last = i + 1;
    for (size_t i = 0; i < last; i++)
        if (!*opts[i]) {
            if (s->col[C_OPT + i] == NONE)
                row_problem(s, w, "error", "thiếu cột %c (%s %c%s).", (char)('A' + i),
                            statements ? "ý" : "phương án",
                            statements ? (char)('a' + i) : (char)('A' + i), statements ? ")" : "");
            else
                row_problem(s, w, "error", "thiếu %s %c%s (cột %s trống).",
                            statements ? "ý" : "phương án",
                            statements ? (char)('a' + i) : (char)('A' + i), statements ? ")" : "",
                            s->name[C_OPT + i]);
        }
    return last;
}

static const char *
level_in(const char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && ((v[0] == '[' && v[n - 1] == ']') || (v[0] == '(' && v[n - 1] == ')'))) {
        v++;
        n -= 2;
    }
    const char *lv = kt_docx_level_of(v, n);
    if (!lv && n <= 8) { /* "nb", "vdc" */
        char up[9];
        for (size_t i = 0; i < n; i++)
            up[i] = (char)toupper((unsigned char)v[i]);
        lv = kt_docx_level_of(up, n);
    }
    if (!lv) {
        json_t *codes = json_array();
        const char *md = NULL;
        if (kt_docx_add_codes(codes, &md, v, 0, n) == 1 && json_array_size(codes) == 0)
            lv = md;
        json_decref(codes);
    }
    return lv;
}

/* The Mã column: codes as the Word tag line gives them. */
static void
read_codes(struct sheet *s, struct row *w, const char *v, json_t *item, const char **level)
{
    json_t *codes = json_array();
    int found = kt_docx_add_codes(codes, level, v, 0, strlen(v)), tokens = 0;
    for (size_t i = 0; v[i];) {
        while (v[i] && (is_space(v[i]) || v[i] == ',' || v[i] == ';'))
            i++;
        if (v[i])
            tokens++;
        while (v[i] && !(is_space(v[i]) || v[i] == ',' || v[i] == ';'))
            i++;
    }
    if (found < tokens) {
        char b[SHOW_BYTES + 8], msg[400];
        snprintf(msg, sizeof msg,
                 "Dòng %zu, cột %s: '%s' có phần không phải mã phân loại (ví dụ "
                 "VN18.TOAN.10.SDS.01.01.01, NL.TOAN.GQVD); phần đó được bỏ qua.",
                 w->line, s->name[C_CODE], show(v, b));
        add_problem(s, "warning", w->number, w->line, s->name[C_CODE], msg);
    }
    kt_docx_place_codes(item, codes);
    json_decref(codes);
}

/* Options must be empty for a kind without any. */
static void
no_options(struct sheet *s, struct row *w, char *const opts[NOPTS], const char *what)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (*opts[i]) {
            cell_error(s, w, (enum col)(C_OPT + i), "%s không có phương án (cột này phải trống).",
                       what);
            return;
        }
}

/* Reads one question row into a question or its problems. */
static void
read_row(struct sheet *s, struct row *w, int *points_unused)
{
    char *stem = cell(s, w, C_STEM), *kind_s = cell(s, w, C_KIND), *key = cell(s, w, C_KEY);
    char *level_s = cell(s, w, C_LEVEL), *code_s = cell(s, w, C_CODE), *expl = cell(s, w, C_EXPL);
    char *points_s = cell(s, w, C_POINTS);
    char *opts[NOPTS];
    for (size_t i = 0; i < NOPTS; i++)
        opts[i] = cell(s, w, (enum col)(C_OPT + i));
    json_t *item = json_object();
    const char *kind_name = "MCQ4";
    enum kind kind = kind_of(s, w, kind_s);
    char b[SHOW_BYTES + 8];

    note_latex(w, stem);
    note_latex(w, expl);
    note_latex(w, key);
    for (size_t i = 0; i < NOPTS; i++)
        note_latex(w, opts[i]);
    if (!*stem)
        row_problem(s, w, "error", "phần đề trống (cột %s).", s->name[C_STEM]);

    size_t nopts = 0;
    for (size_t i = 0; i < NOPTS; i++)
        nopts += *opts[i] != 0;
    char *num = NULL;
    if (kind == K_AUTO && nopts == 0 && *key && (num = number_of(key)))
        kind = K_SHORT; /* no options, a number for key: a short answer */
    free(num);

    if (kind == K_AUTO || kind == K_MCQ || kind == K_MR) {
        size_t n = count_options(s, w, opts, 0);
        if (n == 0) {
            row_problem(s, w, "error", "không tìm thấy các phương án A, B, C, D.");
        } else if (!*key) {
            row_problem(s, w, "error", "không tìm thấy đáp án.");
        } else {
            size_t before = json_array_size(s->out->problems);
            unsigned keys = letter_keys(s, w, key, opts);
            size_t nkeys = 0;
            json_t *ks = json_array();
            for (size_t i = 0; i < NOPTS; i++)
                if (keys & (1u << i)) {
                    nkeys++;
                    json_array_append_new(ks, json_sprintf("%c", (char)('A' + i)));
                }
            if (kind == K_MR || (kind == K_AUTO && nkeys > 1)) {
                kind_name = "MR";
                json_object_set(item, "keys", ks);
            } else {
                if (nkeys > 1)
                    cell_error(s, w, C_KEY,
                               "câu một lựa chọn chỉ có một đáp án (có %zu: %s); câu có nhiều "
                               "đáp án đúng ghi \"nhiều đáp án\" ở cột Loại.",
                               nkeys, show(key, b));
                else if (nkeys == 1 && n != 4)
                    row_problem(s, w, "error",
                                "câu trắc nghiệm một lựa chọn phải có đúng 4 phương án A, B, C, "
                                "D (có %zu).",
                                n);
                if (nkeys == 1)
                    json_object_set(item, "key", json_array_get(ks, 0));
            }
            json_decref(ks);
            if (nkeys == 0 && json_array_size(s->out->problems) == before)
                row_problem(s, w, "error", "không tìm thấy đáp án.");
        }
        json_object_set_new(item, "options", options_json(opts, n, 0, 0));
    } else if (kind == K_TF) {
        kind_name = "TF4";
        size_t n = count_options(s, w, opts, 1);
        if (n != 4)
            row_problem(s, w, "error",
                        "câu Đúng/Sai phải có đúng 4 ý a), b), c), d) ở các cột A, B, C, D (có "
                        "%zu).",
                        n);
        unsigned keys = 0;
        if (!*key)
            row_problem(s, w, "error", "không tìm thấy đáp án Đúng/Sai của các ý.");
        else if (tf_keys(key, &keys) < 0)
            cell_error(s, w, C_KEY,
                       "'%s' không phải đáp án Đúng/Sai của 4 ý (ví dụ \"Đ S Đ S\" hoặc \"a) Đ "
                       "b) S c) Đ d) S\").",
                       show(key, b));
        json_object_set_new(item, "statements", options_json(opts, n < 4 ? n : 4, 1, keys));
    } else if (kind == K_SHORT) {
        kind_name = "SHORT";
        no_options(s, w, opts, "câu trả lời ngắn");
        if (!*key) {
            row_problem(s, w, "error", "không tìm thấy đáp án (cột %s trống).", s->name[C_KEY]);
        } else {
            char *n = number_of(key);
            json_object_set_new(item, "key", json_string(n ? n : key));
            free(n);
        }
    } else {
        kind_name = "ESSAY";
        no_options(s, w, opts, "câu tự luận");
        char *pts = *points_s ? number_of(points_s) : NULL;
        if (!*points_s)
            row_problem(s, w, "error",
                        "câu tự luận cần số điểm ở cột %s (ví dụ 1,5) để làm hướng dẫn chấm.",
                        s->name[C_POINTS]);
        else if (!pts || pts[0] == '-')
            cell_error(s, w, C_POINTS, "'%s' không phải số điểm (ví dụ 0,5 hoặc 1,5).",
                       show(points_s, b));
        else
            json_object_set_new(
                item, "rubric",
                json_pack("[{s:s, s:s}]", "criterion", "Toàn bài (theo đáp án)", "points", pts));
        free(pts);
        const char *model = *key ? key : expl;
        if (*model) {
            char *h = para_html(model);
            json_object_set_new(item, "model_answer", json_string(h));
            free(h);
        }
    }
    if (*points_s && kind != K_ESSAY)
        *points_unused = 1;

    json_object_set_new(item, "kind", json_string(kind_name));
    json_object_set_new(item, "title", title_of(stem, w->number));
    char *h = para_html(stem);
    json_object_set_new(item, "stem", json_string(h));
    free(h);
    if (*expl) {
        h = para_html(expl);
        json_object_set_new(item, "explanation", json_string(h));
        free(h);
    }
    const char *level = NULL;
    if (*code_s)
        read_codes(s, w, code_s, item, &level);
    if (*level_s) {
        const char *lv = level_in(level_s);
        if (lv)
            level = lv;
        else
            cell_error(s, w, C_LEVEL,
                       "'%s' không phải mức độ (NB, TH, VD, VDC hoặc Nhận biết, Thông hiểu, Vận "
                       "dụng, Vận dụng cao; Biết, Hiểu).",
                       show(level_s, b));
    }
    if (level)
        json_object_set_new(item, "level", json_string(level));

    if (!w->bad) {
        kt_item_normalize(item);
        json_t *probs = kt_item_validate(item), *pr;
        size_t i;
        json_array_foreach(probs, i, pr)
        {
            const char *f = json_string_value(json_object_get(pr, "field"));
            if (f && (strcmp(f, "identifier") == 0 || strcmp(f, "subject") == 0 ||
                      strcmp(f, "grade") == 0))
                continue;
            row_problem(s, w, "error", "%s: %s", f ? f : "",
                        json_string_value(json_object_get(pr, "message")));
        }
        json_decref(probs);
    }
    if (w->latex)
        row_problem(s, w, "warning", "%s", LATEX_WARNING);
    if (!w->bad)
        json_array_append_new(s->out->questions,
                              json_pack("{s:i, s:i, s:I, s:I, s:o}", "number", w->number, "part", 0,
                                        "paragraph", (json_int_t)w->line, "row",
                                        (json_int_t)w->line, "item", item));
    else
        json_decref(item);

    for (size_t i = 0; i < NOPTS; i++)
        free(opts[i]);
    free(stem);
    free(kind_s);
    free(key);
    free(level_s);
    free(code_s);
    free(expl);
    free(points_s);
}

/* The STT of a row ("12", "Câu 12", "12."), else 0. */
static int
stt_of(const char *v)
{
    const char *d = v;
    while (*d && !isdigit((unsigned char)*d))
        d++;
    long n = 0;
    const char *e = d;
    while (isdigit((unsigned char)*e) && n < 100000)
        n = n * 10 + (*e++ - '0');
    if (e == d || n < 1 || n >= 100000)
        return 0;
    for (const char *p = e; *p; p++)
        if (isdigit((unsigned char)*p))
            return 0; /* "1.5", "1-2": not a number of a question */
    return (int)n;
}

static int
blank(const char *v)
{
    for (; *v; v++)
        if (!is_space(*v))
            return 0;
    return 1;
}

static int
row_blank(const kt_row *r)
{
    for (size_t i = 0; i < r->ncells; i++)
        if (!blank(r->cells[i]))
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Public                                                                   */

static void
result_init(kt_docx_result *out)
{
    memset(out, 0, sizeof(*out));
    out->questions = json_array();
    out->problems = json_array();
}

static int
refuse(kt_docx_result *out, const char *message)
{
    json_array_clear(out->questions);
    json_array_append_new(out->problems,
                          json_pack("{s:s, s:i, s:i, s:i, s:s}", "severity", "error", "question", 0,
                                    "paragraph", 0, "row", 0, "message", message));
    return -1;
}

int
kt_qsheet_read_table(const kt_table *t, kt_docx_result *out)
{
    result_init(out);
    struct sheet s = {.t = t, .out = out};
    for (int c = 0; c < NCOLS; c++)
        s.col[c] = NONE;
    size_t h = find_header(&s);
    if (h == NONE)
        return refuse(out, "Không tìm thấy dòng tiêu đề của bảng câu hỏi: cần một dòng (trong 10 "
                           "dòng đầu) có cột \"Câu hỏi\", các cột phương án \"A\", \"B\", \"C\", "
                           "\"D\" và cột \"Đáp án\".");
    static const char *const DEFAULT_NAMES[NCOLS] = {
        "STT", "Loại", "Câu hỏi", "A",      "B",      "C",  "D",        "E",
        "F",   "G",    "H",       "Đáp án", "Mức độ", "Mã", "Lời giải", "Điểm"};
    const kt_row *hr = &t->rows[h];
    for (int c = 0; c < NCOLS; c++)
        s.name[c] = s.col[c] == NONE ? DEFAULT_NAMES[c] : hr->cells[s.col[c]];
    /* Header cells that name no column are not read: say so. */
    for (size_t j = 0; j < hr->ncells; j++) {
        int used = 0;
        for (int c = 0; c < NCOLS; c++)
            used |= s.col[c] == j;
        const char *v = hr->cells[j];
        if (!used && !blank(v)) {
            char b[SHOW_BYTES + 8], msg[400];
            snprintf(msg, sizeof msg,
                     "Dòng %zu: cột \"%s\" không thuộc mẫu bảng câu hỏi nên không được đọc.",
                     hr->source_row, show(v, b));
            add_problem(&s, "warning", 0, hr->source_row, NULL, msg);
        }
    }
    if (s.col[C_KEY] == NONE) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Dòng %zu: không có cột \"Đáp án\"; chỉ câu tự luận nhập được khi thiếu cột "
                 "này.",
                 hr->source_row);
        add_problem(&s, "warning", 0, hr->source_row, NULL, msg);
    }
    int ordinal = 0, points_unused = 0;
    for (size_t i = h + 1; i < t->nrows; i++) {
        const kt_row *r = &t->rows[i];
        if (row_blank(r))
            continue;
        if (++ordinal > KT_DOCX_MAX_QUESTIONS) {
            char msg[160];
            snprintf(msg, sizeof msg, "Tệp có hơn %d câu hỏi; hãy chia thành nhiều tệp nhỏ hơn.",
                     KT_DOCX_MAX_QUESTIONS);
            return refuse(out, msg);
        }
        struct row w = {.r = r, .line = r->source_row, .number = ordinal};
        char *stt = cell(&s, &w, C_STT);
        int n = stt_of(stt);
        free(stt);
        if (n)
            w.number = n;
        read_row(&s, &w, &points_unused);
    }
    if (points_unused) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "Cột \"%s\" chỉ dùng cho câu tự luận; điểm của các câu khác do ma trận đề "
                 "kiểm tra quy định.",
                 s.name[C_POINTS]);
        add_problem(&s, "warning", 0, hr->source_row, s.name[C_POINTS], msg);
    }
    return 0;
}

int
kt_qsheet_read(const void *buf, size_t len, kt_qsheet_format fmt, kt_docx_result *out)
{
    kt_table t = {0};
    char err[300] = "", msg[400];
    int rc = fmt == KT_QSHEET_XLSX ? kt_xlsx_read_first_sheet(buf, len, &t, err, sizeof err)
                                   : kt_csv_parse(buf, len, &t, err, sizeof err);
    if (rc < 0) {
        kt_table_free(&t);
        result_init(out);
        snprintf(msg, sizeof msg, "%s%s",
                 fmt == KT_QSHEET_XLSX ? "" : "Không đọc được tệp CSV: ", err);
        return refuse(out, msg);
    }
    rc = kt_qsheet_read_table(&t, out);
    kt_table_free(&t);
    return rc;
}
