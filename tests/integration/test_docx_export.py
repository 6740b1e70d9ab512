"""A form of a published test as a Word document, through the real server on
the demo school (`kiemtra demo`): GET /api/v1/tests/{id}/forms/{code}.docx
gives a .docx that LibreOffice opens (converted to PDF headless), whose
text has the header, the questions, the form's code and its answer key
with the keys the form preview shows; a draft, an unknown form and a
student are refused. LibreOffice (soffice) and pdftotext are required:
the test fails without them (scripts/deps.sh test). In Chromium
(tests/browser/staff_docx.mjs) the published test's page offers one
"Tải Word (.docx)" link per form, which downloads de-<code>.docx. A test
holding one item of every kind goes through the export and back through
POST /api/v1/items/import, form by form, and comes back the same."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
import io

from browser_run import in_own_cluster, run_script

SCHOOL = "DEMO-THPT"
ROOT_NODE = "VN18.TOAN.10"


def _setup(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "demo.json")
        env.cli("demo", "--credentials", path)
        creds = json.load(open(path))
    finally:
        shutil.rmtree(tmp)
    tok = {k: s.login(creds[k]["username"], creds[k]["password"]) for k in ("teacher",)}
    tok["student"] = s.login(creds["students"][0]["username"], creds["students"][0]["password"])
    env.docx_creds = creds
    return s, tok


def _blueprint():
    rows = [("MD.B", "DT.NLC", 6, "0.25"), ("MD.H", "DT.DS", 2, "1"),
            ("MD.V", "DT.TLN", 3, "0.5")]
    return [{"node": ROOT_NODE, "level": lv, "format": f, "count": n, "points": p}
            for lv, f, n, p in rows]


def _create(s, tok, title):
    body = {"title": title, "subject": "TOAN", "grade": 10, "kind": "tx",
            "duration_seconds": 2700, "forms": 2, "blueprint": _blueprint()}
    r = s.request("POST", "/api/v1/tests", body, tok)
    assert r.status == 201, r
    return r.json()["id"]


def _published(s, tok, title):
    tid = _create(s, tok["teacher"], title)
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=tok["teacher"])
    assert r.status == 200, r
    return tid


def _pdf_text(docx_bytes):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: scripts/deps.sh test"
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is required"
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "de.docx")
        with open(src, "wb") as f:
            f.write(docx_bytes)
        profile = "file://" + os.path.join(tmp, "profile")
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, src],
                       check=True, timeout=180, capture_output=True)
        pdf = os.path.join(tmp, "de.pdf")
        assert os.path.exists(pdf), "LibreOffice did not convert the document"
        out = subprocess.run(["pdftotext", pdf, "-"], check=True, timeout=60,
                             capture_output=True)
        pages = subprocess.run(["pdfinfo", pdf], capture_output=True, timeout=60).stdout
        return out.stdout.decode("utf-8"), pages.decode("utf-8", "replace")
    finally:
        shutil.rmtree(tmp)


def test_form_docx_opens_in_libreoffice(shared_env):
    in_own_cluster(shared_env, _test_form_docx_opens_in_libreoffice)


def _test_form_docx_opens_in_libreoffice(env):
    s, tok = _setup(env)
    gv = tok["teacher"]
    tid = _create(s, gv, "Đề xuất Word")

    # A draft has no forms to print.
    r = s.request("GET", f"/api/v1/tests/{tid}/forms/101.docx", token=gv)
    assert r.status == 404 and r.json()["error"]["message"], r

    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv)
    assert r.status == 200, r
    codes = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()["form_codes"]
    code = codes[0]
    preview = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}", token=gv).json()

    r = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}.docx", token=gv)
    assert r.status == 200, r
    h = {k.lower(): v for k, v in r.headers.items()}
    assert h["content-type"] == \
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", h
    disp = h.get("content-disposition", "")
    assert f'filename="de-{code}.docx"' in disp and \
        f"filename*=UTF-8''%C4%90%E1%BB%81-{code}.docx" in disp, disp
    z = zipfile.ZipFile(io.BytesIO(r.body))
    assert {"[Content_Types].xml", "word/document.xml",
            "word/_rels/document.xml.rels"} <= set(z.namelist())
    assert "<m:oMath>" in z.read("word/document.xml").decode("utf-8")

    text, info = _pdf_text(r.body)
    flat = re.sub(r"\s+", " ", text)
    school = env.cluster.psql(f"SELECT name FROM schools WHERE code = '{SCHOOL}'")
    assert school in flat, flat[:500]
    assert "Đề xuất Word" in flat and "Môn: Toán – Lớp 10" in flat, flat[:500]
    assert "Thời gian làm bài: 45 phút" in flat, flat[:500]
    assert f"Mã đề: {code}" in flat and f"MÃ ĐỀ {code}" in flat, flat[:500]
    assert "PHẦN I." in flat and "PHẦN II." in flat and "PHẦN III." in flat, flat
    assert "Câu 1." in flat and "Câu 6." in flat and "Câu 7." not in flat, flat
    assert "HẾT" in flat and "ĐÁP ÁN" in flat, flat
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2, info
    assert flat.index("HẾT") < flat.index("MÃ ĐỀ") < flat.index("ĐÁP ÁN")
    # The key table, after the questions, with the preview's keys: part I
    # the letters, part II Đ/S per statement, part III the decimal comma.
    key = flat[flat.index("ĐÁP ÁN"):]
    items = preview["items"]
    mcq = [i["key_shown"] if i["kind"] == "MCQ4" else ", ".join(i["key_shown"])
           for i in items if i["kind"] in ("MCQ4", "MR")]
    assert len(mcq) == 6, [i["kind"] for i in items]
    assert "Câu 1 2 3 4 5 6 Đáp án " + " ".join(mcq) in key, key
    tf = [i["key_shown"] for i in items if i["kind"] == "TF4"]
    rows = " ".join(f"{n} " + " ".join("Đ" if k[c] else "S" for c in "abcd")
                    for n, k in enumerate(tf, 1))
    assert "Câu a b c d " + rows in key, key
    short = [i["key_shown"].replace(".", ",") for i in items if i["kind"] == "SHORT"]
    # (pdftotext may interleave a short row's cells: each answer, in order.)
    part3, at = key[key.index("PHẦN III"):], 0
    for value in short:
        at = part3.find(value, at)
        assert at >= 0, (value, key)
        at += len(value)

    # Another form differs in its code; unknown forms, bad codes and
    # students are refused.
    r2 = s.request("GET", f"/api/v1/tests/{tid}/forms/{codes[1]}.docx", token=gv)
    assert r2.status == 200 and r2.body != r.body
    other = next(c for c in ("100", "999", "555") if c not in codes)
    assert s.request("GET", f"/api/v1/tests/{tid}/forms/{other}.docx", token=gv).status == 404
    assert s.request("GET", f"/api/v1/tests/{tid}/forms/1a.docx", token=gv).status == 404
    assert s.request("GET", f"/api/v1/tests/999999/forms/{code}.docx", token=gv).status == 404
    r = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}.docx", token=tok["student"])
    assert r.status == 403, r
    # The JSON preview route is unchanged.
    assert s.request("GET", f"/api/v1/tests/{tid}/forms/{code}", token=gv).json() == preview


def test_form_docx_link_in_chromium(shared_env):
    in_own_cluster(shared_env, _test_form_docx_link_in_chromium)


def _test_form_docx_link_in_chromium(env):
    s, tok = _setup(env)
    tid = _published(s, tok, "Đề tải Word trong trình duyệt")
    codes = s.request("GET", f"/api/v1/tests/{tid}", token=tok["teacher"]).json()["form_codes"]
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    try:
        creds = os.path.join(tmp, "creds.json")
        with open(creds, "w") as f:
            json.dump(env.docx_creds, f)
        out_path = os.path.join(tmp, "out.docx")
        out = run_script(env, s, "staff_docx.mjs",
                         {"KT_CREDS": creds, "KT_TEST": str(tid), "KT_DOCX_OUT": out_path}, 120)
        done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
        assert len(done) == 1, out
        f = done[0]
        assert f["codes"] == codes and f["code"] == codes[1], (f, codes)
        assert f["name"] == f"de-{codes[1]}.docx", f
        with open(out_path, "rb") as fh:
            body = fh.read()
        z = zipfile.ZipFile(io.BytesIO(body))
        doc = z.read("word/document.xml").decode("utf-8")
        assert f"Mã đề: {codes[1]}" in doc and "ĐÁP ÁN" in doc, doc[:300]
        # the same document as the API gives
        r = s.request("GET", f"/api/v1/tests/{tid}/forms/{codes[1]}.docx", token=tok["teacher"])
        assert r.status == 200 and r.body == body
    finally:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------------------
# Round trip: a published test holding one item of every kind, each form
# exported and imported again through POST /api/v1/items/import, gives the
# same items and keys (docs/IMPORT-WORD.md, "Export").

RT_NODE = "VN18.TOAN.10.DSGT.03.01.01"
RT_PW = "mat-khau-thu-nghiem"


def _rt_png():
    """A 3x2 RGB PNG."""
    import struct
    import zlib

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\0" + bytes([200, 30, 30]) * 3 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _rt_items(img):
    """One item of every kind: single choice with a picture, multiple
    response, single choice with fractions, roots and a matrix (and an
    explanation), single choice with a table, Đúng/Sai, short answer with a
    decimal comma, essay with a formula and a rubric."""
    frac = "<math><mfrac><mn>1</mn><mn>2</mn></mfrac><mo>+</mo><msqrt><mn>4</mn></msqrt>" \
           "<mo>+</mo><mroot><mn>8</mn><mn>3</mn></mroot></math>"
    matrix = "<math><mi>A</mi><mo>=</mo><mrow><mo fence=\"true\">(</mo><mtable><mtr><mtd>" \
             "<mn>1</mn></mtd><mtd><mn>2</mn></mtd></mtr><mtr><mtd><mn>3</mn></mtd><mtd>" \
             "<mn>4</mn></mtd></mtr></mtable><mo fence=\"true\">)</mo></mrow></math>"

    def opts(*html):
        return [{"id": chr(65 + i), "html": h} for i, h in enumerate(html)]
    return [
        {"kind": "MCQ4",
         "stem": f"<p>Hình vẽ bên là hình gì?</p><p><img src=\"{img}\" alt=\"\"/></p>",
         "options": opts("Hình tròn", "Hình vuông", "Hình chữ nhật", "Tam giác"), "key": "C"},
        {"kind": "MR", "stem": "<p>Chọn các số nguyên tố.</p>",
         "options": opts("2", "4", "5", "9", "11"), "keys": ["A", "C", "E"]},
        {"kind": "MCQ4", "stem": f"<p>Giá trị của {frac} là</p>",
         "options": opts("<math><mn>2</mn></math>",
                         "<math><mfrac><mn>9</mn><mn>2</mn></mfrac></math>",
                         "<math><msqrt><mn>3</mn></msqrt></math>", "5"), "key": "B",
         "explanation": f"<p>Ta có {frac} bằng 4,5.</p><p>Chọn đáp án đó.</p>"},
        {"kind": "MCQ4", "stem": f"<p>Định thức của ma trận {matrix} là</p>",
         "options": opts("−2", "2", "10", "0"), "key": "A"},
        {"kind": "MCQ4", "stem": "<p>Cho bảng giá trị</p><table><tbody><tr><td>x</td><td>1</td>"
         "<td>2</td></tr><tr><td>y</td><td>3</td><td>5</td></tr></tbody></table>"
         "<p>Hàm số nào phù hợp?</p>",
         "options": opts("y = 2x + 1", "y = x + 2", "y = 3x", "y = x²"), "key": "A"},
        {"kind": "TF4", "stem": "<p>Cho tam giác ABC vuông tại A.</p>",
         "statements": [{"id": "a", "html": "BC là cạnh huyền", "key": True},
                        {"id": "b", "html": "AB là cạnh huyền", "key": False},
                        {"id": "c", "html": "Góc A bằng 90°", "key": True},
                        {"id": "d", "html": "Góc B bằng 90°", "key": False}]},
        {"kind": "SHORT", "stem": "<p>Tính 5 : 2.</p>", "key": "2,5"},
        {"kind": "ESSAY", "stem": "<p>Giải phương trình <math><msup><mi>x</mi><mn>2</mn></msup>"
         "<mo>−</mo><mn>1</mn><mo>=</mo><mn>0</mn></math>.</p>",
         "rubric": [{"criterion": "Đưa về (x − 1)(x + 1) = 0", "points": "1,5"},
                    {"criterion": "Kết luận x = 1 hoặc x = −1", "points": "0.5"}]},
    ]


def _rt_setup(env):
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'RT-A'") == "0":
        env.cli("schools", "add", "RT-A", "Trường Khứ Hồi", "--province", "RTP", "Sở khứ hồi")
    for name, role in (("gv.rt", "teacher"), ("tt.rt", "subject_head")):
        if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{name}'") == "0":
            env.cli("users", "add", "--username", name, "--full-name", "Thầy " + name, "--role",
                    role, "--school", "RT-A", "--subject", "TOAN",
                    env={"KIEMTRA_NEW_PASSWORD": RT_PW})
    s = env.main_server()
    return s, s.login("gv.rt", RT_PW), s.login("tt.rt", RT_PW)


def _plain(html):
    return re.sub(r"<[^>]+>", "", html or "")


def test_every_kind_round_trips_through_word(shared_env):
    in_own_cluster(shared_env, _test_every_kind_round_trips_through_word)


def _test_every_kind_round_trips_through_word(env):
    s, gv, tt = _rt_setup(env)
    png = _rt_png()
    r = s.request("POST", "/api/v1/media", png, gv, headers={"Content-Type": "image/png"})
    assert r.status in (200, 201), r
    img = r.json()["path"]
    originals = {}
    for n, it in enumerate(_rt_items(img), 1):
        body = dict(it, identifier=f"RT-{n}", subject="TOAN", grade=10, title=f"Khứ hồi {n}",
                    level="MD.B", outcome=RT_NODE)
        r = s.request("POST", "/api/v1/items", body, token=gv)
        assert r.status == 201, (n, r)
        iid = r.json()["id"]
        url = f"/api/v1/items/{iid}"
        assert s.request("PATCH", url, {"status": "submitted"}, token=gv).status == 200
        r = s.request("PATCH", url, {"status": "approved"}, token=tt)
        assert r.status == 200, r
        originals[iid] = s.request("GET", url, token=gv).json()
    rows = [("DT.NLC", 5, "0.25"), ("DT.DS", 1, "1"), ("DT.TLN", 1, "0.5"), ("DT.TL", 1, "2")]
    body = {"title": "Đề khứ hồi", "subject": "TOAN", "grade": 10, "kind": "tx",
            "duration_seconds": 2700, "forms": 2,
            "blueprint": [{"node": RT_NODE, "level": "MD.B", "format": f, "count": n,
                           "points": p} for f, n, p in rows]}
    r = s.request("POST", "/api/v1/tests", body, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv)
    assert r.status == 200, r
    codes = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()["form_codes"]
    assert len(codes) == 2, codes
    for code in codes:
        preview = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}", token=gv).json()
        items = preview["items"]
        assert sorted(i["item_id"] for i in items) == sorted(originals), items
        doc = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}.docx", token=gv)
        assert doc.status == 200, doc
        d = _post_docx(s, gv, doc.body, "&dry_run=1")
        assert d.status == 200 and d.json()["valid"] == 8 and d.json()["problems"] == [], \
            (code, d.json())
        r = _post_docx(s, gv, doc.body, "")
        assert r.status == 201, (code, r)
        back = r.json()["imported"]
        assert len(back) == len(items) == 8, (code, r.json())
        parts = {"MCQ4": 1, "MR": 1, "TF4": 2, "SHORT": 3, "ESSAY": 4}
        pictures = 0
        for want, got in zip(items, back):
            orig = originals[want["item_id"]]
            v = s.request("GET", f"/api/v1/items/{got['id']}", token=gv).json()
            where = (code, want["number"], want["kind"])
            assert v["kind"] == orig["kind"] == want["kind"], where
            assert got["part"] == parts[v["kind"]], (where, got)
            oc, vc, osc, vsc = orig["content"], v["content"], orig["scoring"], v["scoring"]
            assert vc["stem"] == oc["stem"], (where, vc["stem"], oc["stem"])
            if v["kind"] in ("MCQ4", "MR"):
                # the options in the form's order, labelled A, B, ... as printed
                shown = [o["html"] for o in want["options"]]
                assert [o["html"] for o in vc["options"]] == shown, (where, vc["options"])
                assert [o["id"] for o in vc["options"]] == \
                    [chr(65 + i) for i in range(len(shown))], where
                by_id = {o["id"]: o["html"] for o in oc["options"]}
                assert sorted(shown) == sorted(by_id.values()), where
                # the key: the letters the form shows, the original's options
                keys = [vc["options"][ord(k) - 65]["html"] for k in
                        ([vsc["key"]] if v["kind"] == "MCQ4" else vsc["keys"])]
                okeys = [by_id[k] for k in ([osc["key"]] if v["kind"] == "MCQ4"
                                            else osc["keys"])]
                assert sorted(keys) == sorted(okeys), (where, vsc, osc)
                assert (vsc.get("key") or vsc.get("keys")) == want["key_shown"] or \
                    vsc.get("keys") == sorted(want["key_shown"]), (where, vsc, want)
            elif v["kind"] == "TF4":
                by_id = {o["id"]: o["html"] for o in oc["statements"]}
                shown = [o["html"] for o in want["statements"]]
                assert [o["html"] for o in vc["statements"]] == shown, where
                got_keys = {vc["statements"][i]["html"]: vsc["statement_keys"][chr(97 + i)]
                            for i in range(4)}
                assert got_keys == {by_id[k]: val for k, val in
                                    osc["statement_keys"].items()}, (where, vsc, osc)
            elif v["kind"] == "SHORT":
                assert vsc["key"] == osc["key"] == "2.5", (where, vsc)
            else:
                assert vsc["rubric"] == osc["rubric"] == \
                    [{"criterion": "Đưa về (x − 1)(x + 1) = 0", "points": "1.5"},
                     {"criterion": "Kết luận x = 1 hoặc x = −1", "points": "0.5"}], \
                    (where, vsc, osc)
            assert vsc.get("explanation") == osc.get("explanation"), (where, vsc, osc)
            # the picture: the same file, stored with the imported item
            for p in re.findall(r"media/[0-9a-f]{64}\.png", vc["stem"]):
                a = s.request("GET", f"/api/v1/items/{got['id']}/assets/{p}", token=gv)
                assert a.status == 200 and a.body == png, (where, p, a)
                pictures += 1
        assert pictures == 1, (code, pictures)


def _post_docx(s, tok, body, query):
    return s.request("POST", "/api/v1/items/import?subject=TOAN&grade=10" + query, body, tok,
                     {"Content-Type": "application/vnd.openxmlformats-officedocument."
                      "wordprocessingml.document"}, timeout=120)
