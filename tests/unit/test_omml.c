/*
 * Unit tests for itembank/omml.c: each Word equation construct (runs,
 * fractions, radicals, scripts, n-ary operators, delimiters, matrices,
 * accents, bars, group characters, limits, functions, equation arrays,
 * boxes) converted to presentation MathML, compared with the expected
 * markup, and accepted by the allow-list of html.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "html.h"
#include "omml.h"

#define M                                                                                          \
    "xmlns:m=\"http://schemas.openxmlformats.org/officeDocument/2006/math\" "                      \
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""
#define R(t) "<m:r><m:t>" t "</m:t></m:r>"

/* The MathML of <m:oMath>inner</m:oMath>, checked against the allow-list. */
static char *
convert(const char *root, const char *inner)
{
    char xml[8192];
    snprintf(xml, sizeof xml, "<m:%s " M ">%s</m:%s>", root, inner, root);
    xmlDoc *d = xmlReadMemory(xml, (int)strlen(xml), "t.xml", "UTF-8", XML_PARSE_NONET);
    cr_assert_not_null(d, "%s", xml);
    char *out = kt_omml_to_mathml(xmlDocGetRootElement(d));
    xmlFreeDoc(d);
    json_t *problems = json_array();
    char *clean = kt_html_clean(out, "stem", problems);
    cr_assert_not_null(clean, "refused by the allow-list: %s\n%s", out, json_dumps(problems, 0));
    free(clean);
    json_decref(problems);
    return out;
}

static void
expect(const char *inner, const char *mathml)
{
    char *got = convert("oMath", inner);
    char want[8192];
    snprintf(want, sizeof want, "<math>%s</math>", mathml);
    cr_expect_str_eq(got, want, "\n got: %s\nwant: %s", got, want);
    free(got);
}

Test(omml, runs_split_into_numbers_identifiers_operators)
{
    expect(R("2x+3,5=y"), "<mn>2</mn><mi>x</mi><mo>+</mo><mn>3,5</mn><mo>=</mo><mi>y</mi>");
    expect(R("a≤b−1"), "<mi>a</mi><mo>≤</mo><mi>b</mi><mo>−</mo><mn>1</mn>");
    expect(R("x&lt;1"), "<mi>x</mi><mo>&lt;</mo><mn>1</mn>");
    /* plain style (m:sty p) keeps a word as one identifier */
    expect("<m:r><m:rPr><m:sty m:val=\"p\"/></m:rPr><m:t>cm</m:t></m:r>", "<mi>cm</mi>");
    expect(R("απ"), "<mi>α</mi><mi>π</mi>");
}

Test(omml, fractions)
{
    expect("<m:f><m:num>" R("1") "</m:num><m:den>" R("2") "</m:den></m:f>",
           "<mfrac><mn>1</mn><mn>2</mn></mfrac>");
    expect("<m:f><m:num>" R("a+b") "</m:num><m:den>" R("2") "</m:den></m:f>",
           "<mfrac><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mn>2</mn></mfrac>");
    expect("<m:f><m:fPr><m:type m:val=\"lin\"/></m:fPr><m:num>" R("x") "</m:num><m:den>" R(
               "y") "</m:den></m:f>",
           "<mrow><mi>x</mi><mo>/</mo><mi>y</mi></mrow>");
    expect("<m:f><m:fPr><m:type m:val=\"skw\"/></m:fPr><m:num>" R("x") "</m:num><m:den>" R(
               "y") "</m:den></m:f>",
           "<mfrac bevelled=\"true\"><mi>x</mi><mi>y</mi></mfrac>");
    expect("<m:f><m:fPr><m:type m:val=\"noBar\"/></m:fPr><m:num>" R("n") "</m:num><m:den>" R(
               "k") "</m:den></m:f>",
           "<mfrac linethickness=\"0\"><mi>n</mi><mi>k</mi></mfrac>");
}

Test(omml, radicals)
{
    expect(
        "<m:rad><m:radPr><m:degHide m:val=\"1\"/></m:radPr><m:deg/><m:e>" R("2") "</m:e></m:rad>",
        "<msqrt><mn>2</mn></msqrt>");
    expect("<m:rad><m:deg/><m:e>" R("x+1") "</m:e></m:rad>",
           "<msqrt><mrow><mi>x</mi><mo>+</mo><mn>1</mn></mrow></msqrt>");
    expect("<m:rad><m:deg>" R("3") "</m:deg><m:e>" R("8") "</m:e></m:rad>",
           "<mroot><mn>8</mn><mn>3</mn></mroot>");
}

Test(omml, scripts)
{
    expect("<m:sSup><m:e>" R("x") "</m:e><m:sup>" R("2") "</m:sup></m:sSup>",
           "<msup><mi>x</mi><mn>2</mn></msup>");
    expect("<m:sSub><m:e>" R("a") "</m:e><m:sub>" R("n") "</m:sub></m:sSub>",
           "<msub><mi>a</mi><mi>n</mi></msub>");
    expect("<m:sSubSup><m:e>" R("x") "</m:e><m:sub>" R("1") "</m:sub><m:sup>" R(
               "2") "</m:sup></m:sSubSup>",
           "<msubsup><mi>x</mi><mn>1</mn><mn>2</mn></msubsup>");
    expect(
        "<m:sPre><m:sub>" R("6") "</m:sub><m:sup>" R("14") "</m:sup><m:e>" R("C") "</m:e></m:sPre>",
        "<mmultiscripts><mi>C</mi><mprescripts/><mn>6</mn><mn>14</mn></mmultiscripts>");
}

Test(omml, nary_operators)
{
    expect("<m:nary><m:naryPr><m:chr m:val=\"∑\"/><m:limLoc m:val=\"undOvr\"/></m:naryPr>"
           "<m:sub>" R("k=1") "</m:sub><m:sup>" R("n") "</m:sup><m:e>" R("k") "</m:e></m:nary>",
           "<mrow><munderover><mo largeop=\"true\">∑</mo><mrow><mi>k</mi><mo>=</mo><mn>1</mn>"
           "</mrow><mi>n</mi></munderover><mi>k</mi></mrow>");
    /* an integral: the default character, limits as scripts */
    expect("<m:nary><m:naryPr><m:limLoc m:val=\"subSup\"/></m:naryPr><m:sub>" R(
               "0") "</m:sub><m:sup>" R("1") "</m:sup><m:e>" R("x") "</m:e></m:nary>",
           "<mrow><msubsup><mo largeop=\"true\">∫</mo><mn>0</mn><mn>1</mn></msubsup><mi>x</mi>"
           "</mrow>");
    expect("<m:nary><m:naryPr><m:chr m:val=\"∏\"/><m:supHide m:val=\"1\"/></m:naryPr><m:sub>" R(
               "i") "</m:sub><m:sup/><m:e>" R("a") "</m:e></m:nary>",
           "<mrow><munder><mo largeop=\"true\">∏</mo><mi>i</mi></munder><mi>a</mi></mrow>");
    expect("<m:nary><m:naryPr><m:subHide m:val=\"1\"/><m:supHide m:val=\"1\"/></m:naryPr>"
           "<m:sub/><m:sup/><m:e>" R("f") "</m:e></m:nary>",
           "<mrow><mo largeop=\"true\">∫</mo><mi>f</mi></mrow>");
}

Test(omml, delimiters)
{
    expect("<m:d><m:e>" R("x+1") "</m:e></m:d>",
           "<mrow><mo fence=\"true\">(</mo><mrow><mi>x</mi><mo>+</mo><mn>1</mn></mrow>"
           "<mo fence=\"true\">)</mo></mrow>");
    expect("<m:d><m:dPr><m:begChr m:val=\"[\"/><m:endChr m:val=\")\"/><m:sepChr m:val=\";\"/>"
           "</m:dPr><m:e>" R("1") "</m:e><m:e>" R("2") "</m:e></m:d>",
           "<mrow><mo fence=\"true\">[</mo><mn>1</mn><mo separator=\"true\">;</mo><mn>2</mn>"
           "<mo fence=\"true\">)</mo></mrow>");
    /* a system: "{" with no closing character around an equation array */
    expect("<m:d><m:dPr><m:begChr m:val=\"{\"/><m:endChr m:val=\"\"/></m:dPr><m:e><m:eqArr>"
           "<m:e>" R("x=1") "</m:e><m:e>" R("y=2") "</m:e></m:eqArr></m:e></m:d>",
           "<mrow><mo fence=\"true\">{</mo><mtable columnalign=\"left\"><mtr><mtd><mrow>"
           "<mi>x</mi><mo>=</mo><mn>1</mn></mrow></mtd></mtr><mtr><mtd><mrow><mi>y</mi>"
           "<mo>=</mo><mn>2</mn></mrow></mtd></mtr></mtable></mrow>");
}

Test(omml, matrix)
{
    expect("<m:d><m:e><m:m><m:mr><m:e>" R("1") "</m:e><m:e>" R("0") "</m:e></m:mr><m:mr><m:e>" R(
               "0") "</m:e><m:e>" R("1") "</m:e></m:mr></m:m></m:e></m:d>",
           "<mrow><mo fence=\"true\">(</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn>"
           "</mtd></mtr><mtr><mtd><mn>0</mn></mtd><mtd><mn>1</mn></mtd></mtr></mtable>"
           "<mo fence=\"true\">)</mo></mrow>");
}

Test(omml, accents_bars_groups)
{
    expect("<m:acc><m:accPr><m:chr m:val=\"⃗\"/></m:accPr><m:e>" R("AB") "</m:e></m:acc>",
           "<mover accent=\"true\"><mrow><mi>A</mi><mi>B</mi></mrow>"
           "<mo stretchy=\"true\">⃗</mo></mover>");
    expect("<m:acc><m:e>" R("a") "</m:e></m:acc>",
           "<mover accent=\"true\"><mi>a</mi><mo stretchy=\"true\">\xCC\x82</mo></mover>");
    expect("<m:bar><m:barPr><m:pos m:val=\"top\"/></m:barPr><m:e>" R("z") "</m:e></m:bar>",
           "<mover><mi>z</mi><mo stretchy=\"true\">¯</mo></mover>");
    expect("<m:bar><m:e>" R("z") "</m:e></m:bar>",
           "<munder><mi>z</mi><mo stretchy=\"true\">_</mo></munder>");
    expect("<m:groupChr><m:e>" R("a+b") "</m:e></m:groupChr>",
           "<munder><mrow><mi>a</mi><mo>+</mo><mi>b</mi></mrow><mo stretchy=\"true\">⏟</mo>"
           "</munder>");
    expect("<m:groupChr><m:groupChrPr><m:chr m:val=\"⏞\"/><m:pos m:val=\"top\"/></m:groupChrPr>"
           "<m:e>" R("x") "</m:e></m:groupChr>",
           "<mover><mi>x</mi><mo stretchy=\"true\">⏞</mo></mover>");
}

Test(omml, limits_and_functions)
{
    expect("<m:func><m:fName><m:limLow><m:e><m:r><m:rPr><m:sty m:val=\"p\"/></m:rPr><m:t>lim"
           "</m:t></m:r></m:e><m:lim>" R("x→0") "</m:lim></m:limLow></m:fName><m:e>" R(
               "f") "</m:e></m:func>",
           "<mrow><munder><mi>lim</mi><mrow><mi>x</mi><mo>→</mo><mn>0</mn></mrow></munder>"
           "<mo>\xE2\x81\xA1</mo><mi>f</mi></mrow>");
    expect("<m:limUpp><m:e>" R("x") "</m:e><m:lim>" R("n") "</m:lim></m:limUpp>",
           "<mover><mi>x</mi><mi>n</mi></mover>");
    /* a function name is one identifier even without plain style */
    expect("<m:func><m:fName>" R("sin") "</m:fName><m:e>" R("x") "</m:e></m:func>",
           "<mrow><mi>sin</mi><mo>\xE2\x81\xA1</mo><mi>x</mi></mrow>");
}

Test(omml, boxes_and_unknown)
{
    expect("<m:borderBox><m:e>" R("x") "</m:e></m:borderBox>",
           "<menclose notation=\"box\"><mi>x</mi></menclose>");
    expect("<m:box><m:e>" R("x=1") "</m:e></m:box>", "<mrow><mi>x</mi><mo>=</mo><mn>1</mn></mrow>");
    /* Word run markup inside the equation and an unknown element: their text */
    expect("<w:r><w:t>5</w:t></w:r><m:unknown>" R("y") "</m:unknown>", "<mn>5</mn><mi>y</mi>");
}

Test(omml, display_paragraph)
{
    char *got =
        convert("oMathPara", "<m:oMath>" R("x=1") "</m:oMath><m:oMath>" R("y") "</m:oMath>");
    cr_expect_str_eq(got, "<math display=\"block\"><mi>x</mi><mo>=</mo><mn>1</mn>"
                          "<mspace width=\"1em\"/><mi>y</mi></math>");
    free(got);
}
