/*
 * Unit tests for itembank/latex.c: the exact MathML of each construct of
 * the subset (numbers, identifiers, operators, fractions, roots, scripts,
 * delimiters, Greek letters, symbols, accents, text, spaces), the
 * <math><semantics>…<annotation> wrapping with the LaTeX kept, that every
 * result passes the item HTML allow-list unchanged but for xmlns, and the
 * refusals with their Vietnamese reasons.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "latex.h"

#define HEAD "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><semantics>"
#define ANN(tex)                                                                                   \
    "<annotation encoding=\"application/x-tex\">" tex "</annotation></semantics></math>"

/* tex converted (inline): the content of its top <mrow>, checked against
 * the allow-list on the way. */
static char *
body(const char *tex)
{
    char err[256];
    char *m = kt_latex_to_mathml(tex, 0, err, sizeof err);
    cr_assert(m, "%s: %s", tex, err);
    cr_assert_eq(strncmp(m, HEAD "<mrow>", strlen(HEAD "<mrow>")), 0, "%s", m);
    json_t *probs = json_array();
    char *clean = kt_html_clean(m, "stem", probs);
    cr_assert(clean, "%s refused by the allow-list: %s", m, json_dumps(probs, 0));
    /* the cleaner drops only the namespace MathML has anyway in HTML */
    cr_expect_str_eq(clean + strlen("<math>"), m + strlen(HEAD) - strlen("<semantics>"));
    free(clean);
    json_decref(probs);
    const char *a = strstr(m, "<annotation");
    cr_assert(a);
    size_t from = strlen(HEAD "<mrow>"), to = (size_t)(a - m) - strlen("</mrow>");
    char *r = strndup(m + from, to - from);
    free(m);
    return r;
}

#define EXPECT_MML(tex, want)                                                                      \
    do {                                                                                           \
        char *got_ = body(tex);                                                                    \
        cr_expect_str_eq(got_, want, "%s", tex);                                                   \
        free(got_);                                                                                \
    } while (0)

#define EXPECT_REFUSED(tex, reason)                                                                \
    do {                                                                                           \
        char err_[256];                                                                            \
        char *m_ = kt_latex_to_mathml(tex, 0, err_, sizeof err_);                                  \
        cr_expect_null(m_, "%s gave %s", tex, m_);                                                 \
        free(m_);                                                                                  \
        cr_expect_str_eq(err_, reason, "%s", tex);                                                 \
    } while (0)

Test(latex, wrapping_keeps_the_latex_in_the_annotation)
{
    char *m = kt_latex_to_mathml("x<1 & \"y\"", 0, NULL, 0);
    cr_expect_null(m); /* & is refused */
    m = kt_latex_to_mathml("x<1", 0, NULL, 0);
    cr_expect_str_eq(m, HEAD "<mrow><mi>x</mi><mo>&lt;</mo><mn>1</mn></mrow>" ANN("x&lt;1"));
    free(m);
    m = kt_latex_to_mathml("x", 1, NULL, 0);
    cr_expect_str_eq(m, "<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"block\">"
                        "<semantics><mrow><mi>x</mi></mrow>" ANN("x"));
    free(m);
}

Test(latex, numbers_identifiers_operators)
{
    EXPECT_MML("12.5+x-y", "<mn>12.5</mn><mo>+</mo><mi>x</mi><mo>−</mo><mi>y</mi>");
    EXPECT_MML("a=b>c", "<mi>a</mi><mo>=</mo><mi>b</mi><mo>&gt;</mo><mi>c</mi>");
    EXPECT_MML("(-2;2)", "<mo stretchy=\"false\">(</mo><mo>−</mo><mn>2</mn>"
                         "<mo separator=\"true\">;</mo><mn>2</mn><mo stretchy=\"false\">)</mo>");
    EXPECT_MML("[a,b]", "<mo stretchy=\"false\">[</mo><mi>a</mi><mo separator=\"true\">,</mo>"
                        "<mi>b</mi><mo stretchy=\"false\">]</mo>");
    EXPECT_MML("|x|:n!", "<mo stretchy=\"false\">|</mo><mi>x</mi><mo stretchy=\"false\">|</mo>"
                         "<mo>:</mo><mi>n</mi><mo stretchy=\"false\">!</mo>");
    EXPECT_MML("x ≤ 2·y", "<mi>x</mi><mo>≤</mo><mn>2</mn><mo>·</mo><mi>y</mi>");
}

Test(latex, functions)
{
    EXPECT_MML("\\sin x", "<mi>sin</mi><mo>\xE2\x81\xA1</mo><mi>x</mi>");
    EXPECT_MML("\\cos^2x", "<msup><mi>cos</mi><mn>2</mn></msup><mo>\xE2\x81\xA1</mo><mi>x</mi>");
    EXPECT_MML("\\log_2 8", "<msub><mi>log</mi><mn>2</mn></msub><mo>\xE2\x81\xA1</mo><mn>8</mn>");
    EXPECT_MML("\\lim_{x\\to 0}", "<munder><mo movablelimits=\"true\" form=\"prefix\">lim</mo>"
                                  "<mrow><mi>x</mi><mo>→</mo><mn>0</mn></mrow></munder>");
    EXPECT_MML("\\max", "<mo movablelimits=\"true\" form=\"prefix\">max</mo>");
}

Test(latex, fractions)
{
    EXPECT_MML("\\frac{1}{2}", "<mfrac><mn>1</mn><mn>2</mn></mfrac>");
    EXPECT_MML("\\frac12", "<mfrac><mn>1</mn><mn>2</mn></mfrac>");
    EXPECT_MML("\\dfrac{a+b}{c}",
               "<mstyle displaystyle=\"true\" scriptlevel=\"0\"><mfrac>"
               "<mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mi>c</mi></mfrac></mstyle>");
    EXPECT_MML("\\tfrac{1}{x}", "<mstyle displaystyle=\"false\" scriptlevel=\"0\"><mfrac><mn>1</mn>"
                                "<mi>x</mi></mfrac></mstyle>");
}

Test(latex, roots)
{
    EXPECT_MML("\\sqrt{x+1}", "<msqrt><mrow><mi>x</mi><mo>+</mo><mn>1</mn></mrow></msqrt>");
    EXPECT_MML("\\sqrt[3]{8}", "<mroot><mn>8</mn><mn>3</mn></mroot>");
    EXPECT_MML("\\sqrt{\\frac{1}{4}}", "<msqrt><mfrac><mn>1</mn><mn>4</mn></mfrac></msqrt>");
}

Test(latex, scripts_in_both_orders)
{
    EXPECT_MML("x^2", "<msup><mi>x</mi><mn>2</mn></msup>");
    EXPECT_MML("x^23", "<msup><mi>x</mi><mn>2</mn></msup><mn>3</mn>");
    EXPECT_MML("a_{n+1}", "<msub><mi>a</mi><mrow><mi>n</mi><mo>+</mo><mn>1</mn></mrow></msub>");
    EXPECT_MML("x_1^2", "<msubsup><mi>x</mi><mn>1</mn><mn>2</mn></msubsup>");
    EXPECT_MML("x^2_1", "<msubsup><mi>x</mi><mn>1</mn><mn>2</mn></msubsup>");
    EXPECT_MML("f'(x)", "<msup><mi>f</mi><mo>′</mo></msup><mo stretchy=\"false\">(</mo><mi>x</mi>"
                        "<mo stretchy=\"false\">)</mo>");
    EXPECT_MML("10^{-3}", "<msup><mn>10</mn><mrow><mo>−</mo><mn>3</mn></mrow></msup>");
}

Test(latex, delimiters)
{
    EXPECT_MML("\\left(\\frac{1}{2}\\right)",
               "<mrow><mo fence=\"true\">(</mo><mfrac><mn>1</mn><mn>2</mn></mfrac>"
               "<mo fence=\"true\">)</mo></mrow>");
    EXPECT_MML("\\left[a;b\\right]",
               "<mrow><mo fence=\"true\">[</mo><mi>a</mi>"
               "<mo separator=\"true\">;</mo><mi>b</mi><mo fence=\"true\">]</mo></mrow>");
    EXPECT_MML("\\left|x\\right|",
               "<mrow><mo fence=\"true\">|</mo><mi>x</mi><mo fence=\"true\">|</mo></mrow>");
    EXPECT_MML("\\left\\{x\\right.", "<mrow><mo fence=\"true\">{</mo><mi>x</mi></mrow>");
    EXPECT_MML("\\{1;2\\}", "<mo stretchy=\"false\">{</mo><mn>1</mn><mo separator=\"true\">;</mo>"
                            "<mn>2</mn><mo stretchy=\"false\">}</mo>");
}

Test(latex, greek_and_symbols)
{
    EXPECT_MML("\\alpha\\omega\\pi", "<mi>α</mi><mi>ω</mi><mi>π</mi>");
    EXPECT_MML("\\Delta\\Omega",
               "<mi mathvariant=\"normal\">Δ</mi><mi mathvariant=\"normal\">Ω</mi>");
    EXPECT_MML("\\le\\ge\\ne\\pm\\mp\\cdot\\times\\div",
               "<mo>≤</mo><mo>≥</mo><mo>≠</mo><mo>±</mo><mo>∓</mo><mo>⋅</mo><mo>×</mo><mo>÷</mo>");
    EXPECT_MML("\\in\\notin\\subset\\cup\\cap\\to\\Rightarrow\\Leftrightarrow",
               "<mo>∈</mo><mo>∉</mo><mo>⊂</mo><mo>∪</mo><mo>∩</mo><mo>→</mo><mo>⇒</mo><mo>⇔</mo>");
    EXPECT_MML("\\approx\\equiv\\perp\\parallel\\circ",
               "<mo>≈</mo><mo>≡</mo><mo>⊥</mo><mo>∥</mo><mo>∘</mo>");
    EXPECT_MML("\\infty\\emptyset\\angle\\triangle\\degree",
               "<mi mathvariant=\"normal\">∞</mi><mi mathvariant=\"normal\">∅</mi>"
               "<mi mathvariant=\"normal\">∠</mi><mi mathvariant=\"normal\">△</mi>"
               "<mi mathvariant=\"normal\">°</mi>");
    EXPECT_MML("50\\%", "<mn>50</mn><mi mathvariant=\"normal\">%</mi>");
}

Test(latex, accents)
{
    EXPECT_MML("\\overline{AB}", "<mover accent=\"true\"><mrow><mi>A</mi><mi>B</mi></mrow>"
                                 "<mo stretchy=\"true\">‾</mo></mover>");
    EXPECT_MML("\\vec{v}", "<mover accent=\"true\"><mi>v</mi><mo>⃗</mo></mover>");
    EXPECT_MML("\\hat x", "<mover accent=\"true\"><mi>x</mi><mo>^</mo></mover>");
    EXPECT_MML("\\bar{x}", "<mover accent=\"true\"><mi>x</mi><mo>ˉ</mo></mover>");
    EXPECT_MML("\\overrightarrow{AB}", "<mover accent=\"true\"><mrow><mi>A</mi><mi>B</mi></mrow>"
                                       "<mo stretchy=\"true\">→</mo></mover>");
}

Test(latex, text_and_spaces)
{
    EXPECT_MML("v=5\\,\\text{m/s}",
               "<mi>v</mi><mo>=</mo><mn>5</mn><mspace width=\"0.1667em\"></mspace>"
               "<mtext>m/s</mtext>");
    EXPECT_MML("\\text{với } x", "<mtext>với </mtext><mi>x</mi>");
    EXPECT_MML("\\mathrm{kg}", "<mi mathvariant=\"normal\">kg</mi>");
    EXPECT_MML("\\mathrm{d}x", "<mi mathvariant=\"normal\">d</mi><mi>x</mi>");
    EXPECT_MML("a\\;b\\quad c", "<mi>a</mi><mspace width=\"0.2778em\"></mspace><mi>b</mi>"
                                "<mspace width=\"1em\"></mspace><mi>c</mi>");
    EXPECT_MML("x\\in\\mathbb{R}", "<mi>x</mi><mo>∈</mo><mi mathvariant=\"double-struck\">R</mi>");
}

Test(latex, refusals_with_reasons)
{
    EXPECT_REFUSED("", "công thức rỗng");
    EXPECT_REFUSED("  ", "công thức rỗng");
    EXPECT_REFUSED("\\frac{1}{2", "thiếu dấu } đóng nhóm");
    EXPECT_REFUSED("x}", "thừa dấu }");
    EXPECT_REFUSED("\\foo x", "lệnh \\foo chưa được hỗ trợ");
    EXPECT_REFUSED("\\begin{matrix}", "lệnh \\begin chưa được hỗ trợ");
    EXPECT_REFUSED("\\frac{1}", "\\frac thiếu đối số");
    EXPECT_REFUSED("x^", "dấu ^ thiếu đối số");
    EXPECT_REFUSED("x^1^2", "dấu ^ lặp lại trên cùng một ký hiệu (dùng { } để nhóm)");
    EXPECT_REFUSED("\\left( x", "\\left thiếu \\right tương ứng");
    EXPECT_REFUSED("x \\right)", "\\right không có \\left tương ứng");
    EXPECT_REFUSED("\\left< x \\right>",
                   "dấu ngoặc sau \\left không được hỗ trợ (chỉ ( ) [ ] | \\{ \\} hoặc .)");
    EXPECT_REFUSED("a & b", "ký tự \"&\" không được hỗ trợ trong công thức");
    EXPECT_REFUSED("\\sqrt[3{x}", "thiếu dấu ] đóng chỉ số căn");
    EXPECT_REFUSED("\\text{a\\b}",
                   "trong \\text{…} chỉ được có chữ, không có lệnh hay dấu ngoặc { }");
    EXPECT_REFUSED("x\x01", "công thức có đối tượng nhúng hoặc ký tự điều khiển");
    EXPECT_REFUSED("x\\", "dấu \\ ở cuối công thức");
    char deep[200] = "";
    for (int k = 0; k < 30; k++)
        strcat(deep, "{");
    strcat(deep, "x");
    for (int k = 0; k < 30; k++)
        strcat(deep, "}");
    EXPECT_REFUSED(deep, "công thức lồng nhau quá sâu (tối đa 20 cấp)");
    char *m = kt_latex_to_mathml("\\foo", 0, NULL, 0); /* no room for a reason: still refused */
    cr_expect_null(m);
}
