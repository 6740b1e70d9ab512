"""The item-bank routes of the staff web UI: list filters (taxonomy node
prefix, format, author) with total and per-facet counts, an item's history,
images uploaded for the editor (magic bytes, size limit, deduplication,
copied into each version and served by both asset routes, to a student only
through their attempt), KaTeX MathML kept and exported as MathML, and the
import dry run."""
import hashlib
import json
import os
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile

from harness import ROOT
from test_foundation import _read_logins, _roster_csv, _write
from test_import import ITEM

PW = "mat-khau-thu-nghiem"
MATHML = "http://www.w3.org/1998/Math/MathML"


def _png(tag):
    """A valid 1x1 PNG whose bytes differ by tag (a tEXt chunk)."""
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
            + chunk(b"tEXt", b"kt\x00" + tag.encode()) + chunk(b"IDAT", zlib.compress(b"\0\0\0\0\0"))
            + chunk(b"IEND", b""))


def _user(env, school, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Cô " + username,
                "--role", role, "--school", school]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})


def _setup(env):
    """Schools BANK-A and BANK-B: teachers, a subject head, class 10K1 of two
    students in BANK-A. Made once per run."""
    s = env.main_server()
    if getattr(env, "bank_state", None):
        return s, env.bank_state
    st = env.bank_state = {}
    for code in ("BANK-A", "BANK-B"):
        env.cli("schools", "add", code, f"Trường {code}", "--province", "TST", "Sở thử nghiệm")
    _user(env, "BANK-A", "gv.bank", "teacher", "TOAN")
    _user(env, "BANK-A", "gv2.bank", "teacher", "TOAN")
    _user(env, "BANK-A", "tt.bank", "subject_head", "TOAN")
    _user(env, "BANK-B", "gv.bankb", "teacher", "TOAN")
    tmp = tempfile.mkdtemp()
    rows = [[f"BNK{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nữ", "10K1"] for i in (1, 2)]
    path = _write(tmp, "10k1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", "BANK-A", "--year", "2026-2027")
    students = {row[0]: row[1] for row in _read_logins(path + ".logins.csv")}
    tok = {n: s.login(n, PW) for n in ("gv.bank", "gv2.bank", "tt.bank", "gv.bankb")}
    for u, p in students.items():
        tok[u] = s.login(u, p)
    cls = env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                           " WHERE s.code = 'BANK-A' AND c.name = '10K1'")
    # gv.bank teaches Toán to 10K1 (teaching assignments bound who opens a session).
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     f" SELECT u.school_id, u.id, 'TOAN', {int(cls)} FROM users u"
                     " WHERE u.username = 'gv.bank' ON CONFLICT DO NOTHING")
    st.update(tok=tok, students=sorted(students), class_id=int(cls))
    return s, st


def _item(identifier, kind="MCQ4", outcome="VN18.TOAN.10.BK.01.01", level="MD.B", **extra):
    it = {"identifier": identifier, "kind": kind, "subject": "TOAN", "grade": 10,
          "title": f"Câu {identifier}", "level": level, "outcome": outcome,
          "stem": "<p>Giá trị của biểu thức là bao nhiêu?</p>"}
    if kind == "MCQ4":
        it.update(options=[{"id": k, "html": k.lower()} for k in "ABCD"], key="A")
    elif kind == "SHORT":
        it.update(key="2,5")
    elif kind == "ESSAY":
        it.update(rubric=[{"criterion": "Lập luận", "points": "1"}])
    elif kind == "TF4":
        it.update(statements=[{"id": k, "html": f"Mệnh đề {k}", "key": k in "ac"}
                              for k in "abcd"])
    it.update(extra)
    return it


def _create(s, tok, it):
    r = s.request("POST", "/api/v1/items", it, tok)
    assert r.status == 201, r
    return r.json()


def _list(s, tok, query):
    r = s.request("GET", "/api/v1/items?" + query, token=tok)
    assert r.status == 200, r
    return r.json()


# --------------------------------------------------------------------------
# Filters, total and counts

def test_list_filters_total_and_counts(env):
    s, st = _setup(env)
    gv, gv2 = st["tok"]["gv.bank"], st["tok"]["gv2.bank"]
    a1 = _create(s, gv, _item("BK-1"))
    a2 = _create(s, gv, _item("BK-2", "SHORT", "VN18.TOAN.10.BK.01.02", "MD.H"))
    a3 = _create(s, gv2, _item("BK-3", "ESSAY", "VN18.TOAN.10.BKX.01", "MD.V"))
    a4 = _create(s, gv2, _item("BK-4", "TF4", "VN18.TOAN.10.BK.02.01", "MD.B"))
    ids = lambda j: sorted(x["id"] for x in j["items"])  # noqa: E731

    # node: the code itself or a code below it (BK., not BKX).
    j = _list(s, gv, "node=VN18.TOAN.10.BK")
    assert ids(j) == sorted([a1["id"], a2["id"], a4["id"]]) and j["total"] == 3, j
    assert "counts" not in j, j
    assert ids(_list(s, gv, "node=VN18.TOAN.10.BK.01.02")) == [a2["id"]]
    assert ids(_list(s, gv, "node=VN18.TOAN.10.BKX")) == [a3["id"]]
    assert _list(s, gv, "node=VN18.TOAN.10.B")["total"] == 0
    # format and author.
    j = _list(s, gv, "node=VN18.TOAN.10.BK&format=SHORT")
    assert ids(j) == [a2["id"]] and j["total"] == 1, j
    j = _list(s, gv, "node=VN18.TOAN.10&author=me")
    assert ids(j) == sorted([a1["id"], a2["id"]]), j
    me2 = env.cluster.psql("SELECT id FROM users WHERE username = 'gv2.bank'")
    assert ids(_list(s, gv, f"node=VN18.TOAN.10&author={me2}")) == sorted([a3["id"], a4["id"]])
    # Rows carry the author's name, the approved version and the review comment.
    row = [x for x in _list(s, gv, "node=VN18.TOAN.10.BK.01.01")["items"]][0]
    assert row["author"]["full_name"] == "Cô gv.bank", row
    assert row["approved_version"] is None and row["review_comment"] is None, row
    # counts: each facet over the items matching the other filters.
    j = _list(s, gv, "node=VN18.TOAN.10.BK&level=MD.B&counts=1")
    assert ids(j) == sorted([a1["id"], a4["id"]]) and j["total"] == 2, j
    c = j["counts"]
    assert c["level"] == {"MD.B": 2, "MD.H": 1}, c
    assert c["kind"] == {"MCQ4": 1, "TF4": 1}, c
    assert c["status"] == {"draft": 2}, c
    # Counts and total agree with the rows, page by page (keyset paging kept).
    s.request("PATCH", f"/api/v1/items/{a4['id']}", {"status": "submitted"}, gv2)
    j = _list(s, gv, "node=VN18.TOAN.10&counts=1&limit=1")
    seen, cursor = [], None
    while True:
        page = _list(s, gv, "node=VN18.TOAN.10&limit=1" + (f"&cursor={cursor}" if cursor else ""))
        assert page["total"] == j["total"], page
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == j["total"] == 4, (seen, j)
    assert sum(j["counts"]["status"].values()) == j["total"], j
    assert j["counts"]["status"] == {"draft": 3, "submitted": 1}, j
    assert sum(j["counts"]["kind"].values()) == j["total"], j
    by_status = _list(s, gv, "node=VN18.TOAN.10&status=submitted&counts=1")
    assert [x["id"] for x in by_status["items"]] == [a4["id"]], by_status
    assert by_status["counts"]["status"] == j["counts"]["status"], by_status
    # Another school sees none of them; bad parameters are named.
    assert _list(s, st["tok"]["gv.bankb"], "node=VN18.TOAN.10.BK")["total"] == 0
    for q, word in (("format=MCQ5", "format"), ("author=ai", "author"), ("node=vn18", "node"),
                    ("counts=2", "counts")):
        r = s.request("GET", "/api/v1/items?" + q, token=gv)
        assert r.status == 400 and word in r.json()["error"]["message"], (q, r)


# --------------------------------------------------------------------------
# History

def test_history_after_create_submit_return_approve(env):
    s, st = _setup(env)
    gv, tt = st["tok"]["gv.bank"], st["tok"]["tt.bank"]
    it = _create(s, gv, _item("HIS-1", outcome="VN18.TOAN.10.HIS.01"))
    iid = it["id"]
    for body, tok in (({"status": "submitted"}, gv),
                      ({"status": "draft", "comment": "Phương án B chưa đúng."}, tt),
                      ({"content": dict(it["content"], stem="<p>Giá trị đã sửa?</p>"),
                        "version": 1}, gv),
                      ({"status": "submitted"}, gv), ({"status": "approved"}, tt)):
        r = s.request("PATCH", f"/api/v1/items/{iid}", body, tok)
        assert r.status == 200, (body, r)
    r = s.request("GET", f"/api/v1/items/{iid}/history", token=gv)
    assert r.status == 200, r
    h = r.json()["history"]
    assert [x["action"] for x in h] == ["item.approve", "item.submit", "item.edit",
                                       "item.reject", "item.submit", "item.create"], h
    assert h[-1]["version"] == 1 and h[-1]["status_to"] == "draft", h[-1]
    assert h[-1]["actor"]["full_name"] == "Cô gv.bank", h[-1]
    assert h[3]["comment"] == "Phương án B chưa đúng." and h[3]["status_from"] == "submitted", h
    assert h[3]["actor"]["full_name"] == "Cô tt.bank", h[3]
    assert h[2]["version"] == 2, h[2]
    assert h[0]["status_to"] == "approved" and h[0]["actor"]["id"], h[0]
    assert h[0]["at"] >= h[-1]["at"], h
    # The list shows the approved version and the last review comment.
    row = _list(s, gv, "node=VN18.TOAN.10.HIS")["items"][0]
    assert row["approved_version"] == 2 and row["status"] == "approved", row
    # Another school's item is not found; a student may not ask.
    assert s.request("GET", f"/api/v1/items/{iid}/history",
                     token=st["tok"]["gv.bankb"]).status == 404
    assert s.request("GET", f"/api/v1/items/{iid}/history",
                     token=st["tok"][st["students"][0]]).status == 403


# --------------------------------------------------------------------------
# Images

def _upload(s, tok, data, ctype="image/png"):
    return s.request("POST", "/api/v1/media", data, tok, headers={"Content-Type": ctype})


def test_media_upload_checks_and_dedupe(env):
    s, st = _setup(env)
    gv = st["tok"]["gv.bank"]
    png = _png("dedupe")
    sha = hashlib.sha256(png).hexdigest()
    r = _upload(s, gv, png)
    assert r.status == 201, r
    assert r.json() == {"path": f"media/{sha}.png", "content_type": "image/png",
                        "bytes": len(png), "created": True}, r.json()
    again = _upload(s, st["tok"]["gv2.bank"], png)
    assert again.status == 200 and again.json()["path"] == f"media/{sha}.png", again
    assert env.cluster.psql(f"SELECT count(*) FROM media WHERE sha256 = '{sha}'") == "1"
    # The bytes decide the type, whatever the Content-Type says.
    r = _upload(s, gv, png, "image/jpeg")
    assert r.status == 422 and "image/png" in r.json()["error"]["message"], r
    r = _upload(s, gv, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png")
    assert r.status == 422 and "không phải ảnh" in r.json()["error"]["message"], r
    r = _upload(s, gv, b"GIF89a" + b"\0" * 20, "image/svg+xml")
    assert r.status == 415 and "PNG" in r.json()["error"]["message"], r
    jpeg = b"\xff\xd8\xff\xe0" + b"\0" * 100
    r = _upload(s, gv, jpeg, "image/jpeg; charset=binary")
    assert r.status == 201 and r.json()["path"].endswith(".jpg"), r
    # 2 MiB at most.
    big = png + b"\0" * (2 * 1024 * 1024 + 1 - len(png))
    assert _upload(s, gv, big).status == 413
    ok = png + b"\0" * (2 * 1024 * 1024 - len(png))
    assert _upload(s, gv, ok).status == 201
    # Students may not upload; nothing empty is stored.
    assert _upload(s, st["tok"][st["students"][0]], _png("hs")).status == 403
    assert _upload(s, gv, b"").status == 400
    # Served back to the school's staff, with the asset headers; not to another school.
    r = s.request("GET", f"/api/v1/media/{sha}.png", token=st["tok"]["tt.bank"])
    assert r.status == 200 and r.body == png and r.headers["Content-Type"] == "image/png", r
    assert "sandbox" in r.headers["Content-Security-Policy"], r.headers
    assert s.request("GET", f"/api/v1/media/{sha}.png", token=st["tok"]["gv.bankb"]).status == 404
    assert s.request("GET", f"/api/v1/media/{sha}.gif", token=gv).status == 404
    assert s.request("GET", "/api/v1/media/..%2Fx.png", token=gv).status == 404


def test_item_images_fixed_per_version_and_served_to_the_student(env):
    s, st = _setup(env)
    gv, tt = st["tok"]["gv.bank"], st["tok"]["tt.bank"]
    p1, p2 = _png("item-1"), _png("item-2")
    path1 = _upload(s, gv, p1).json()["path"]
    path2 = _upload(s, gv, p2).json()["path"]
    unknown = "media/" + hashlib.sha256(b"never uploaded").hexdigest() + ".png"

    # A reference to an image never uploaded (or another school's) is refused, nothing stored.
    theirs = _upload(s, st["tok"]["gv.bankb"], _png("school-b")).json()["path"]
    for bad, field in ((unknown, "options[1].html"), (theirs, "options[1].html"),
                       ("media/hinh.png", "options[1].html")):
        it = _item("IMG-BAD", outcome="VN18.TOAN.10.IMGBAD.01")
        it["options"][1]["html"] = f'<img src="{bad}" alt="b"/>'
        r = s.request("POST", "/api/v1/items", it, gv)
        assert r.status == 422, r
        err = r.json()["error"]
        assert err["details"][0]["field"] == field, err
        assert bad in err["details"][0]["message"], err
        assert "chưa được tải lên" in err["details"][0]["message"], err
    assert env.cluster.psql("SELECT count(*) FROM items WHERE identifier = 'IMG-BAD'") == "0"

    it = _item("IMG-1", outcome="VN18.TOAN.10.IMG.01",
               stem=f'<p>Quan sát hình:</p><img src="{path1}" alt="Hình 1">')
    created = _create(s, gv, it)
    iid = created["id"]
    assert f'src="{path1}"' in created["content"]["stem"], created
    file1 = path1.split("/", 1)[1]
    r = s.request("GET", f"/api/v1/items/{iid}/assets/{path1}", token=tt)
    assert r.status == 200 and r.body == p1 and r.headers["Content-Type"] == "image/png", r
    # PATCH with an unknown image: refused, no version 2.
    r = s.request("PATCH", f"/api/v1/items/{iid}",
                  {"content": dict(created["content"], stem=f'<p>Hình:</p><img src="{unknown}"/>'),
                   "version": 1}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "stem", r
    assert env.cluster.psql(f"SELECT count(*) FROM item_versions WHERE item_id = {iid}") == "1"
    # A new version with a second image: that version has both, the first keeps its own.
    r = s.request("PATCH", f"/api/v1/items/{iid}",
                  {"content": dict(created["content"],
                                   stem=f'<p>Hình:</p><img src="{path1}"/><img src="{path2}"/>'),
                   "version": 1}, gv)
    assert r.status == 200 and r.json()["version"] == 2, r
    assert s.request("GET", f"/api/v1/items/{iid}/assets/{path2}", token=gv).body == p2
    assert s.request("GET", f"/api/v1/items/{iid}/assets/{path2}?version=1",
                     token=gv).status == 404
    assert s.request("GET", f"/api/v1/items/{iid}/assets/{path1}?version=1",
                     token=gv).body == p1
    assert env.cluster.psql(f"SELECT string_agg(version || ':' || path, ',' ORDER BY version, path)"
                            f" FROM item_assets WHERE item_id = {iid}") == \
        ",".join(sorted([f"1:{path1}", f"2:{path1}", f"2:{path2}"]))

    # The package export carries the files next to the item.
    out = os.path.join(tempfile.mkdtemp(), "bank.zip")
    env.cli("export-qti", "--school", "BANK-A", "--out", out)
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        assert f"items/IMG-1/{path2}" in names, names
        doc = z.read("items/IMG-1.xml").decode()
        assert f'src="IMG-1/{path2}"' in doc, doc

    # Approved and delivered: the student loads the image through the attempt.
    for body, tok in (({"status": "submitted"}, gv), ({"status": "approved"}, tt)):
        assert s.request("PATCH", f"/api/v1/items/{iid}", body, tok).status == 200
    r = s.request("POST", "/api/v1/tests", {
        "title": "Kiểm tra ảnh", "subject": "TOAN", "grade": 10, "kind": "gk",
        "duration_seconds": 600, "forms": 1,
        "blueprint": [{"node": "VN18.TOAN.10.IMG", "level": "MD.B", "format": "DT.NLC",
                       "count": 1, "points": "1"}]}, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv)
    assert r.status == 200, r
    now = time.time()
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", {
        "class_ids": [st["class_id"]],
        "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}, gv)
    assert r.status == 201, r
    sid = r.json()["id"]
    u, other = st["students"]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u])
    assert a.status == 201, a
    a = a.json()
    ref = a["payload"]["items"][0]["ref"]
    assert path2 in json.dumps(a["payload"], ensure_ascii=False), a["payload"]
    r = s.request("GET", f"/api/v1/attempts/{a['id']}/assets/{ref}/{path2}", token=st["tok"][u])
    assert r.status == 200 and r.body == p2 and r.headers["Content-Type"] == "image/png", r
    assert "sandbox" in r.headers["Content-Security-Policy"], r.headers
    # Not another student's, not an image the item does not use, not the media route.
    assert s.request("GET", f"/api/v1/attempts/{a['id']}/assets/{ref}/{path2}",
                     token=st["tok"][other]).status == 404
    assert s.request("GET", f"/api/v1/attempts/{a['id']}/assets/{ref}/{theirs}",
                     token=st["tok"][u]).status == 404
    assert s.request("GET", f"/api/v1/media/{file1}", token=st["tok"][u]).status == 403


# --------------------------------------------------------------------------
# Math

def _katex():
    with open(os.path.join(ROOT, "tests/unit/fixtures/katex-mathml.json"), encoding="utf-8") as f:
        samples = json.load(f)
    out = []
    for sm in samples:
        h = sm["html"]
        out.append((sm["tex"], h[h.index("<math"):h.index("</math>") + 7]))
    return out


def test_katex_mathml_kept_searched_and_exported(env):
    s, st = _setup(env)
    gv = st["tok"]["gv.bank"]
    samples = _katex()
    tex, math = samples[0]
    it = _item("MATH-1", outcome="VN18.TOAN.10.MATH.01", title="Rút gọn phân thức",
               stem=f"<p>Rút gọn {math}</p>")
    it["options"][0]["html"] = samples[4][1]
    created = _create(s, gv, it)
    stem = created["content"]["stem"]
    assert '<annotation encoding="application/x-tex">' in stem, stem
    assert "<semantics><mrow><mfrac>" in stem, stem
    # Search: the formula's text and the words, not the LaTeX commands.
    assert [x["id"] for x in _list(s, gv, "q=r%C3%BAt+g%E1%BB%8Dn+ph%C3%A2n+th%E1%BB%A9c")["items"]] == [created["id"]]
    assert _list(s, gv, "q=frac&node=VN18.TOAN.10.MATH")["total"] == 0
    # QTI 2.2 and 3.0: MathML in its namespace, the TeX in the annotation.
    for v in ("2.2", "3.0"):
        r = s.request("GET", f"/api/v1/items/{created['id']}/qti?version={v}", token=gv)
        assert r.status == 200, r
        root = ET.fromstring(r.body)
        maths = root.findall(f".//{{{MATHML}}}math")
        assert len(maths) == 2, r.body[:2000]
        anns = root.findall(f".//{{{MATHML}}}annotation")
        assert [a.get("encoding") for a in anns] == ["application/x-tex"] * 2, anns
        assert anns[0].text == tex, anns[0].text
    # Every KaTeX sample is accepted as it is.
    for k, (tex, math) in enumerate(samples):
        r = s.request("POST", "/api/v1/items", _item(f"MATH-X{k}", stem=f"<p>{math}</p>"), gv)
        assert r.status == 201, (tex, r)
        assert f">{tex.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</annotation>" \
            in r.json()["content"]["stem"], (tex, r.json()["content"]["stem"])


# --------------------------------------------------------------------------
# Import dry run

def test_import_dry_run_stores_nothing(env):
    s, st = _setup(env)
    gv = st["tok"]["gv.bank"]
    q = "/api/v1/items/import?subject=TOAN&grade=10&filename=thu-do.xml"
    count = lambda: env.cluster.psql(  # noqa: E731
        "SELECT count(*) FROM items i JOIN schools s ON s.id = i.school_id"
        " WHERE s.code = 'BANK-A' AND i.identifier = 'imp-thu-do'")
    audits = lambda: env.cluster.psql("SELECT count(*) FROM audit_log")  # noqa: E731
    before = audits()
    r = s.request("POST", q + "&dry_run=1", ITEM.encode(), gv)
    assert r.status == 200, r
    j = r.json()
    assert j["dry_run"] is True and j["would_import"] is True and j["errors"] == [], j
    assert [(x["identifier"], x["kind"], x["action"], x["item_id"]) for x in j["items"]] == \
        [("imp-thu-do", "QTI", "new", None)], j
    assert j["items"][0]["title"] == "Thủ đô của Việt Nam", j
    assert count() == "0" and audits() == before
    # Imported for real, the same file is unchanged, a changed one a new version.
    r = s.request("POST", q, ITEM.encode(), gv)
    assert r.status == 201, r
    iid = r.json()["imported"][0]["id"]
    j = s.request("POST", q + "&dry_run=1", ITEM.encode(), gv).json()
    assert [(x["action"], x["item_id"]) for x in j["items"]] == [("unchanged", iid)], j
    changed = ITEM.replace("Thành phố nào", "Đâu")
    before = audits()
    j = s.request("POST", q + "&dry_run=1", changed.encode(), gv).json()
    assert [(x["action"], x["item_id"], x["current_version"]) for x in j["items"]] == \
        [("new_version", iid, 1)], j
    assert env.cluster.psql(f"SELECT count(*) FROM item_versions WHERE item_id = {iid}") == "1"
    assert audits() == before
    # A file that does not parse: its errors in Vietnamese with file and line, nothing stored.
    broken = ITEM.replace("</choiceInteraction>", "")
    r = s.request("POST", q.replace("thu-do.xml", "hong.xml") + "&dry_run=1", broken.encode(), gv)
    assert r.status == 200, r
    j = r.json()
    assert j["would_import"] is False and j["items"] == [], j
    e = j["errors"][0]
    assert e["file"] == "hong.xml" and e["line"] > 0, e
    assert "XML không hợp lệ" in e["message"] and "choiceInteraction" in e["message"], e
    assert "tag" not in e["message"], e
    # Without dry_run the behaviour is as before: 422 with the same errors.
    r = s.request("POST", q.replace("thu-do.xml", "hong.xml"), broken.encode(), gv)
    assert r.status == 422 and r.json()["errors"][0]["message"] == e["message"], r
    assert count() == "1"
