"""The web shell: the login page at /, the shared script, KaTeX served from
Debian's libjs-katex (never copied into the repository), and the strict CSP."""
import os

from harness import Server

KATEX = "/usr/share/javascript/katex"


def _h(r):
    return {k.lower(): v for k, v in dict(r.headers).items()}


def test_login_page_and_shared_script_are_served(env):
    s = env.main_server()
    r = s.request("GET", "/")
    assert r.status == 200, r
    page = r.body.decode()
    assert 'id="login-form"' in page and 'lang="vi"' in page
    csp = _h(r).get("content-security-policy", "")
    assert "default-src 'self'" in csp and "unsafe-eval" not in csp
    assert "script-src" not in csp or "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    for path in ("/common/kt.js", "/staff/core.js", "/staff/app.css"):
        r = s.request("GET", path)
        assert r.status == 200, (path, r)
    # No inline script and no event-handler attribute in the page.
    assert "<script>" not in page and " onclick=" not in page


def test_katex_comes_from_the_debian_package(env):
    s = env.main_server()
    r = s.request("GET", "/vendor/katex/katex.min.js")
    assert r.status == 200, r
    assert _h(r)["content-type"].startswith("text/javascript")
    with open(os.path.join(KATEX, "katex.min.js"), "rb") as f:
        assert r.body == f.read()
    css = s.request("GET", "/vendor/katex/katex.min.css")
    assert css.status == 200
    fonts = [n for n in os.listdir(os.path.join(KATEX, "fonts")) if n.endswith(".woff2")]
    assert fonts
    r = s.request("GET", "/vendor/katex/fonts/" + sorted(fonts)[0])
    assert r.status == 200 and _h(r)["content-type"] == "font/woff2", r
    # Only what the pages need is served: not the package's other files.
    assert s.request("GET", "/vendor/katex/katex.mjs").status == 404
    # Nothing of KaTeX lives in the repository.
    root = os.path.join(os.path.dirname(__file__), "..", "..", "web")
    for dirpath, _, files in os.walk(root):
        assert not [f for f in files if "katex" in f.lower()], dirpath


def test_without_katex_the_server_still_starts(env):
    s = Server(env, {"KIEMTRA_KATEX_DIR": "/nonexistent"})
    try:
        assert s.request("GET", "/").status == 200
        assert s.request("GET", "/vendor/katex/katex.min.js").status == 404
    finally:
        s.stop()
