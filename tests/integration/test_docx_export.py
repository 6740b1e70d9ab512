"""A form of a published test as a Word document, through the real server on
the demo school (`kiemtra demo`): GET /api/v1/tests/{id}/forms/{code}.docx
gives a .docx that LibreOffice opens (converted to PDF headless), whose
text has the header, the questions, the form's code and its answer key
with the keys the form preview shows; a draft, an unknown form and a
student are refused. LibreOffice (soffice) and pdftotext are required:
the test fails without them (scripts/deps.sh test). In Chromium
(tests/browser/staff_docx.mjs) the published test's page offers one
"Tải Word (.docx)" link per form, which downloads de-<code>.docx."""
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
