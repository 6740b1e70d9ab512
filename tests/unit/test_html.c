/*
 * Unit tests for itembank/html.c: teacher-written HTML against the
 * allow-list. Hostile fragments (script, event handlers, javascript: and
 * data: URLs, SVG animation of href, style, frames, parser tricks) are
 * refused by name; safe ones come back in one canonical form that is a fixed
 * point, and the demo bank is already in it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

/* The problems of a refused fragment, as one string "message | message". */
static char *
refused(const char *html)
{
    json_t *problems = json_array();
    char *out = kt_html_clean(html, "stem", problems);
    cr_assert_null(out, "accepted: %s -> %s", html, out);
    cr_assert_null(kt_html_clean(html, "stem", NULL), "accepted without a list: %s", html);
    cr_assert_gt(json_array_size(problems), 0, "refused without a reason: %s", html);
    char *all = calloc(1, 4096);
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        cr_assert_str_eq(json_string_value(json_object_get(p, "field")), "stem");
        strncat(all, json_string_value(json_object_get(p, "message")), 4000 - strlen(all));
        strncat(all, " | ", 4000 - strlen(all));
    }
    json_decref(problems);
    return all;
}

static void
assert_refused(const char *html, const char *named)
{
    char *why = refused(html);
    cr_assert(strstr(why, named), "%s: \"%s\" not named in: %s", html, named, why);
    free(why);
}

static void
assert_clean(const char *html, const char *want)
{
    json_t *problems = json_array();
    char *out = kt_html_clean(html, "stem", problems);
    char *dump = json_dumps(problems, 0);
    cr_assert_not_null(out, "%s refused: %s", html, dump);
    cr_assert_str_eq(out, want, "%s", html);
    char *again = kt_html_clean(out, "stem", NULL);
    cr_assert_str_eq(again, out, "not a fixed point: %s", out);
    free(again);
    free(out);
    free(dump);
    json_decref(problems);
}

Test(html, hostile_fragments_are_refused_by_name)
{
    assert_refused("<p>x</p><script>alert(1)</script>", "<script>");
    assert_refused("<SCRIPT SRC=//x.example/a.js></SCRIPT>", "<script>");
    assert_refused("<img src=\"a.png\" onerror=\"alert(1)\">", "onerror");
    assert_refused("<p onmouseover=alert(1)>x</p>", "onmouseover");
    assert_refused("<a href=\"javascript:alert(1)\">x</a>", "<a>");
    assert_refused("<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>", "<a>");
    assert_refused("<svg><animate attributeName=\"href\" values=\"javascript:alert(1)\"/></svg>",
                   "<svg>");
    assert_refused("<math><mi><svg><set attributeName=\"href\" to=\"javascript:1\"/></svg></mi>"
                   "</math>",
                   "<svg>");
    assert_refused("<p style=\"position:fixed;inset:0;z-index:9\">x</p>", "style");
    assert_refused("<iframe src=\"https://example.org\"></iframe>", "<iframe>");
    assert_refused("<object data=\"x.swf\"></object>", "<object>");
    assert_refused("<embed src=\"x.swf\">", "<embed>");
    assert_refused("<form action=\"/api/v1/auth/logout\"><button>x</button></form>", "<form>");
    assert_refused("<base href=\"https://example.org/\">", "<base>");
    assert_refused("<meta http-equiv=\"refresh\" content=\"0;url=https://example.org\">", "<meta>");
    assert_refused("<link rel=\"stylesheet\" href=\"https://example.org/a.css\">", "<link>");
    assert_refused("<style>body{display:none}</style>", "<style>");
    assert_refused("<math><mtext><style>x</style></mtext></math>", "<style>");
    assert_refused("<math><annotation-xml encoding=\"text/html\"></annotation-xml><mi "
                   "href=\"javascript:1\">x</mi></math>",
                   "href");
    assert_refused("<p xlink:href=\"javascript:1\">x</p>", "xlink:href");
    assert_refused("<img src=\"javascript:alert(1)\">", "<img>");
    assert_refused("<img src=\"java&#9;script:alert(1)\">", "<img>");
    assert_refused("<img src=\"data:image/svg+xml,&lt;svg onload=alert(1)&gt;\">", "<img>");
    assert_refused("<img src=\"//example.org/a.png\">", "<img>");
    assert_refused("<img src=\" javascript:alert(1)\">", "<img>");
    assert_refused("<img src=\"a.png\nb\">", "<img>");
    assert_refused("<img src=\"https://example.org/a.png\">", "<img>");
    assert_refused("<p class=\"MsoNormal\">x</p>", "class");
    /* Text to one parser, markup to another: the tree that was checked is
     * what is written, so the hidden <img> is found and refused. */
    assert_refused("<![CDATA[><img src=x onerror=alert(1)>]]>", "onerror");
    assert_refused("<?x ><img src=a.png onerror=alert(1)?>", "onerror");
}

Test(html, a_refusal_names_each_problem_once)
{
    json_t *problems = json_array();
    cr_assert_null(kt_html_clean("<p style=\"a\">1</p><p style=\"b\">2</p><script></script>",
                                 "options[1].html", problems));
    cr_assert_eq(json_array_size(problems), 2, "%zu", json_array_size(problems));
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(problems, 0), "field")),
                     "options[1].html");
    json_decref(problems);
    /* Deep nesting is refused, not walked without end. */
    char deep[64 * 3 + 80] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "<b>");
    assert_refused(deep, "lồng quá sâu");
}

Test(html, safe_fragments_come_back_canonical)
{
    assert_clean("<p>Cho <b>hàm số</b> <i>bậc hai</i></p>",
                 "<p>Cho <b>hàm số</b> <i>bậc hai</i></p>");
    assert_clean(
        "<P>Hình:<br><img src=\"hinh.png\" alt=\"Hình 1\" width=48> &nbsp;a &lt; b</P>",
        "<p>Hình:<br/><img src=\"hinh.png\" alt=\"Hình 1\" width=\"48\"/> \u00a0a &lt; b</p>");
    assert_clean("<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\">",
                 "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=\"\"/>");
    assert_clean("<img src=\"hinh/đồ thị 1.png\">", "<img src=\"hinh/đồ thị 1.png\"/>");
    assert_clean("AB > BC & \"q\"", "AB &gt; BC &amp; \"q\"");
    assert_clean("<p title='a\"b'>t</p>", "<p title=\"a&quot;b\">t</p>");
    assert_clean("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>");
    assert_clean("<table><tr><td colspan=2>1</td></tr></table>",
                 "<table><tr><td colspan=\"2\">1</td></tr></table>");
    assert_clean("<p>x<!-- ghi chú --></p><!--><img src=x onerror=alert(1)>-->", "<p>x</p>");
    assert_clean(
        "<math xmlns=\"http://www.w3.org/1998/Math/MathML\" display=\"block\">"
        "<semantics><mrow><mi>x</mi><mo stretchy=\"false\">&gt;</mo><mspace width=\"1em\"/>"
        "</mrow><annotation encoding=\"TeX\">x &gt;</annotation></semantics></math>",
        "<math display=\"block\"><semantics><mrow><mi>x</mi><mo stretchy=\"false\">&gt;"
        "</mo><mspace width=\"1em\"></mspace></mrow><annotation encoding=\"TeX\">x &gt;"
        "</annotation></semantics></math>");
    assert_clean("<p><math><mi>a</mi></math> <math><mi>b</mi></math></p>",
                 "<p><math><mi>a</mi></math> <math><mi>b</mi></math></p>");
    /* A stray end tag does not let content escape the check. */
    assert_clean("<p>x</p></div>tiếp", "<p>x</p><p>tiếp</p>");
    assert_refused("<p>x</p></div><script>1</script>", "<script>");
    /* Character references come back as NFC text. */
    assert_clean("a&#768;", "à");
    assert_clean("", "");
}

Test(html, the_demo_bank_is_already_canonical)
{
    json_error_t err;
    json_t *items = json_load_file(KIEMTRA_SOURCE_DIR "/demo/items-toan10.json", 0, &err);
    cr_assert(json_is_array(items), "%s", err.text);
    size_t i, k, n = 0;
    json_t *it, *o;
    json_array_foreach(items, i, it)
    {
        const json_t *fields[64];
        size_t nf = 0;
        fields[nf++] = json_object_get(it, "stem");
        fields[nf++] = json_object_get(it, "explanation");
        json_array_foreach(json_object_get(it, "options"), k, o) fields[nf++] =
            json_object_get(o, "html");
        json_array_foreach(json_object_get(it, "statements"), k, o) fields[nf++] =
            json_object_get(o, "html");
        for (size_t f = 0; f < nf; f++) {
            const char *s = json_string_value(fields[f]);
            if (!s)
                continue;
            assert_clean(s, s);
            n++;
        }
    }
    cr_assert_geq(n, 300, "%zu fields", n);
    json_decref(items);
}

Test(html, one_allow_list)
{
    cr_assert(kt_html_element_ok("table") && kt_html_element_ok("sub"));
    cr_assert_not(kt_html_element_ok("script") || kt_html_element_ok("a") ||
                  kt_html_element_ok("svg") || kt_html_element_ok("iframe"));
    cr_assert(kt_html_void("br") && !kt_html_void("p"));
    cr_assert(kt_html_attr_ok("td", "colspan") && kt_html_attr_ok("p", "title"));
    cr_assert_not(kt_html_attr_ok("p", "style") || kt_html_attr_ok("img", "src") ||
                  kt_html_attr_ok("img", "onerror"));
    cr_assert(kt_mathml_element_ok("mfrac") && !kt_mathml_element_ok("maction"));
    cr_assert(kt_mathml_attr_ok("stretchy") && !kt_mathml_attr_ok("href"));
}

/* The <math> element of KaTeX's output (renderToString with output:
 * 'mathml' wraps it in <span class="katex">, which the editor drops). */
static char *
katex_math(const char *html)
{
    const char *b = strstr(html, "<math"), *e = strstr(html, "</math>");
    cr_assert(b && e && e > b, "no <math> in %s", html);
    return strndup(b, (size_t)(e + 7 - b));
}

/* Real KaTeX output (tests/unit/fixtures/katex-mathml.js): accepted as it
 * is, its LaTeX source kept in <annotation encoding="application/x-tex">,
 * every element and attribute KaTeX wrote kept, a fixed point. */
Test(html, katex_mathml_is_accepted_with_its_tex_source)
{
    json_error_t err;
    json_t *samples =
        json_load_file(KIEMTRA_SOURCE_DIR "/tests/unit/fixtures/katex-mathml.json", 0, &err);
    cr_assert(json_array_size(samples) >= 20, "%s", err.text);
    size_t i;
    json_t *sm;
    json_array_foreach(samples, i, sm)
    {
        char *math = katex_math(json_string_value(json_object_get(sm, "html")));
        json_t *problems = json_array();
        char *out = kt_html_clean(math, "stem", problems);
        char *dump = json_dumps(problems, 0);
        cr_assert_not_null(out, "refused %s: %s", math, dump);
        cr_assert(strstr(out, "<semantics><mrow>") || strstr(out, "<semantics>"), "%s", out);
        cr_assert(strstr(out, "<annotation encoding=\"application/x-tex\">"), "%s", out);
        if (json_is_true(json_object_get(sm, "display")))
            cr_assert(strstr(out, "<math display=\"block\">"), "%s", out);
        /* Nothing dropped but the redundant xmlns: same elements, same attributes. */
        for (const char *t = math; (t = strchr(t, '<')); t++) {
            if (t[1] == '/')
                continue;
            size_t n = strcspn(t + 1, " />");
            char tag[40];
            snprintf(tag, sizeof tag, "<%.*s", (int)n, t + 1);
            cr_assert(strstr(out, tag), "%s dropped from %s", tag, out);
        }
        for (const char *a = math; (a = strstr(a, "=\"")); a++) {
            const char *st = a;
            while (st > math && st[-1] != ' ')
                st--;
            char attr[40];
            snprintf(attr, sizeof attr, " %.*s=", (int)(a - st), st);
            if (strcmp(attr, " xmlns=") != 0)
                cr_assert(strstr(out, attr), "%s dropped from %s", attr, out);
        }
        char *again = kt_html_clean(out, "stem", NULL);
        cr_assert_str_eq(again, out);
        free(again);
        free(out);
        free(dump);
        free(math);
        json_decref(problems);
    }
    json_decref(samples);
}

Test(html, katex_shapes_and_their_limits)
{
    /* The KaTeX wrapper's class is not markup the allow-list keeps. */
    assert_refused("<span class=\"katex\"><math><mi>x</mi></math></span>", "class");
    /* An annotation holds text (the source), never markup. */
    assert_refused("<math><semantics><mi>x</mi><annotation encoding=\"application/x-tex\">"
                   "<b>x</b></annotation></semantics></math>",
                   "<annotation>");
    /* annotation-xml (markup in another vocabulary) is dropped, as before. */
    assert_clean("<math><semantics><mi>x</mi><annotation-xml encoding=\"text/html\"><p>x</p>"
                 "</annotation-xml></semantics></math>",
                 "<math><semantics><mi>x</mi></semantics></math>");
    cr_assert(kt_mathml_element_ok("annotation") && kt_mathml_attr_ok("encoding") &&
              kt_mathml_attr_ok("rowspacing") && kt_mathml_attr_ok("columnspacing"));
}
