"""What the school exports and what teachers author is safe to open: names
that a spreadsheet would run as formulas are neutralised in every CSV the
server writes (login files of `users import`, score sheets over HTTP and
from the command line) and stay plain strings in .xlsx; item HTML outside
the allow-list is refused at save with the field and the element named,
and nothing is stored."""
import csv
import io
import os
import re
import tempfile
import zipfile

from test_foundation import _roster_csv, _write

PW = "mat-khau-thu-nghiem"
YEAR = "2026-2027"
SCHOOL = "ESF-A"
HOSTILE = {
    "ESF001": '=HYPERLINK("http://x")',
    "ESF002": "+cmd|' /C calc'!A0",
    "ESF003": "@SUM(1+1)",
    "ESF004": "-2+3",
}
PLAIN = {"ESF005": "Nguyễn Văn An", "ESF006": "Lê Thị, Bình"}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _setup(env):
    """School ESF-A with a teacher of Toán and class 10E1 whose students
    have the names above; returns (server, teacher token, class id, logins)."""
    s = env.main_server()
    if getattr(env, "esf_state", None):
        return env.esf_state
    env.cli("schools", "add", SCHOOL, "Trường xuất an toàn", "--province", "TST", "Sở thử nghiệm")
    env.cli("users", "add", "--username", "gv.esf", "--full-name", "Giáo viên ESF", "--role",
            "teacher", "--school", SCHOOL, "--subject", "TOAN", env={"KIEMTRA_NEW_PASSWORD": PW})
    tmp = tempfile.mkdtemp()
    rows = [[code, name, "01/01/2010", "Nữ", "10E1"] for code, name in {**HOSTILE, **PLAIN}.items()]
    roster = _write(tmp, "10e1.csv", _roster_csv(rows))
    logins = os.path.join(tmp, "dang-nhap.csv")
    env.cli("users", "import", roster, "--school", SCHOOL, "--year", YEAR, "--logins", logins)
    with open(logins, "rb") as f:
        raw = f.read()
    cls = int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                               f" WHERE s.code = '{SCHOOL}' AND c.name = '10E1'"))
    env.esf_state = (s, s.login("gv.esf", PW), cls, raw)
    return env.esf_state


def _check_sheet(raw, name_col, code_col, delimiter=","):
    """Every hostile name is its text behind an apostrophe, plain names are
    untouched, and no cell of the file starts a formula."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter))
    by_code = {r[code_col].lower(): r for r in rows[1:]}
    for code, name in HOSTILE.items():
        assert by_code[code.lower()][name_col] == "'" + name, (code, by_code[code.lower()])
    for code, name in PLAIN.items():
        assert by_code[code.lower()][name_col] == name, (code, by_code[code.lower()])
    for r in rows:
        for cell in r:
            assert not cell.startswith(TRIGGERS), (cell, r)


def test_login_file_neutralises_formula_names(env):
    _, _, _, raw = _setup(env)
    _check_sheet(raw, 2, 0)
    # The quote inside the name is doubled, as RFC 4180 wants.
    assert b'"\'=HYPERLINK(""http://x"")"' in raw, raw[:400]


def test_score_sheet_exports_neutralise_formula_names(env):
    s, tok, cls, _ = _setup(env)
    q = (f"/api/v1/exports/records?class_id={cls}&year={YEAR}&semester=1&subject=TOAN")
    c = s.request("GET", q + "&format=csv", token=tok)
    assert c.status == 200, c
    _check_sheet(c.body, 2, 1, ";")  # the score sheet: Vietnamese-locale Excel
    out = os.path.join(env.cluster.dir, "esf-so-diem.csv")
    env.cli("export-records", "--school", SCHOOL, "--class", "10E1", "--year", YEAR,
            "--semester", "1", "--subject", "TOAN", "--format", "csv", "--out", out)
    with open(out, "rb") as f:
        assert f.read() == c.body
    # .xlsx: names are string cells, exactly as written, never formulas.
    x = s.request("GET", q + "&format=xlsx", token=tok)
    assert x.status == 200, x
    with zipfile.ZipFile(io.BytesIO(x.body)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet, sheet[:400]
    texts = [t.replace("&quot;", '"').replace("&amp;", "&").replace("&apos;", "'")
             for t in re.findall(r"<t[^>]*>([^<]*)</t>", strings)]
    for name in HOSTILE.values():
        assert name in texts, (name, texts)


ITEM = {
    "identifier": "ESF-MCQ-1", "kind": "MCQ4", "subject": "TOAN", "grade": 10,
    "title": "Nội dung an toàn", "level": "MD.B",
    "stem": "<p>Chọn đáp án đúng.</p>",
    "options": [{"id": "A", "html": "1"}, {"id": "B", "html": "2"},
                {"id": "C", "html": "3"}, {"id": "D", "html": "4"}],
    "key": "B",
}


def _problems(r):
    assert r.status == 422, r
    return {(d["field"], d["message"]) for d in r.json()["error"]["details"]}


def _stored(env, identifier):
    return env.cluster.psql(f"SELECT count(*) FROM items WHERE identifier = '{identifier}'")


def test_item_html_outside_the_allow_list_is_refused_at_save(env):
    s, tok, _, _ = _setup(env)
    bad = dict(ITEM, stem="<p>Câu hỏi</p><script>alert(1)</script>")
    bad["options"] = [dict(o) for o in ITEM["options"]]
    bad["options"][1]["html"] = '<img src="x.png" onerror="alert(1)">'
    bad["options"][2]["html"] = '<a href="javascript:alert(1)">3</a>'
    probs = _problems(s.request("POST", "/api/v1/items", bad, tok))
    fields = {f for f, _ in probs}
    assert fields == {"stem", "options[1].html", "options[2].html"}, probs
    msg = dict(probs)
    assert "<script>" in msg["stem"] and "onerror" in msg["options[1].html"], probs
    assert "<a>" in msg["options[2].html"], probs
    assert _stored(env, "ESF-MCQ-1") == "0"
    for hostile in ('<p style="position:fixed;inset:0">x</p>',
                    '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
                    '<iframe src="https://example.org"></iframe>',
                    '<img src="javascript:alert(1)">',
                    '<img src="data:text/html;base64,PHNjcmlwdD4=">',
                    '<math><mtext><style>x</style></mtext></math>'):
        r = s.request("POST", "/api/v1/items", dict(ITEM, explanation=hostile), tok)
        assert {f for f, _ in _problems(r)} == {"explanation"}, (hostile, r)
    assert _stored(env, "ESF-MCQ-1") == "0"

    # Safe HTML is stored in its canonical form; an edit is checked the same way.
    ok = dict(ITEM, stem='<P>Hình:<br><img src="hinh.png" alt="Hình 1"> &nbsp;a &lt; b</P>')
    r = s.request("POST", "/api/v1/items", ok, tok)
    assert r.status == 201, r
    iid = r.json()["id"]
    stem = r.json()["content"]["stem"]
    assert stem == '<p>Hình:<br/><img src="hinh.png" alt="Hình 1"/> \u00a0a &lt; b</p>', stem
    content = r.json()["content"]
    content["options"][3]["html"] = '<b onclick="alert(1)">4</b>'
    r = s.request("PATCH", f"/api/v1/items/{iid}", {"content": content}, tok)
    assert {f for f, _ in _problems(r)} == {"options[3].html"}, r
    assert env.cluster.psql(f"SELECT count(*) FROM item_versions WHERE item_id = {iid}") == "1"
