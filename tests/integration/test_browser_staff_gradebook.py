"""The score book (sổ điểm) and the printing of a test in headless Chromium
against the real server with the `kiemtra demo` school, in a cluster of its
own (the semester lock and the marks would change the demo school others
check).

Three students of 10A1 take the demo test through the API (two right on the
first question, one wrong); tests/browser/staff_gradebook.mjs then drives the
pages: the teacher opens 10A1 Toán, types a whole semester for one student
with the keyboard only ("8,5", "7", "9", "6.5", "8", "9,5") and sees the
server's ĐTBmhk appear, types "7" for the next student, has "11" and "8,55"
refused with a message, publishes the session into ĐĐGgk and downloads the
.xlsx and .csv; the school_admin locks the semester (read-only sheet) and
unlocks it with a reason; the teacher prints the test (every form, one form,
its key alone) to PDF. This side checks the database, reads the downloads
back, and reads the PDFs with pdftotext / pdfinfo (poppler-utils), rendering
their pages to PNG next to the screenshots.
"""
import csv
import io
import json
import os
import re
import subprocess
import tempfile
from decimal import ROUND_HALF_UP, Decimal

from browser_run import in_own_cluster, run_script, screenshots
from test_records import _xlsx_rows

NODE_TIMEOUT = 300
YEAR = "2026-2027"


def _half_up(x):
    return Decimal(x).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _shown(d):
    """8.5 -> "8,5", 8.0 -> "8", as the page writes a mark."""
    d = _half_up(d)
    return str(int(d)) if d == d.to_integral() else str(d).replace(".", ",")


def _take_test(env, s, creds):
    """Three students take the demo test's open session for 10A1; returns
    the session and {full name: the ĐĐG mark as shown}."""
    gv = s.login(creds["teacher"]["username"], creds["teacher"]["password"])
    tests = s.request("GET", "/api/v1/tests?status=published", token=gv).json()["tests"]
    tid = tests[0]["id"]
    sessions = s.request("GET", f"/api/v1/sessions?test_id={tid}", token=gv).json()["sessions"]
    sid = sessions[0]["id"]
    test = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()
    expected = {}
    for k, st in enumerate(creds["students"][-3:]):
        tok = s.login(st["username"], st["password"])
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
        assert a.status in (200, 201), a
        a = a.json()
        mcq = next(i for i in a["payload"]["items"] if i["kind"] == "MCQ4")
        item_id = next(x["item_id"] for x in test["items"] if x["item_ref"] == mcq["ref"])
        key = s.request("GET", f"/api/v1/items/{item_id}", token=gv).json()["scoring"]["key"]
        answer = key if k < 2 else next(o["id"] for o in mcq["options"] if o["id"] != key)
        assert s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{mcq['ref']}",
                         {"response": answer, "seq": 1}, tok).status == 200
        r = s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok)
        assert r.status == 200 and r.json()["status"] == "submitted", r
        view = s.wait_scored(a["id"], gv)
        score, mx = Decimal(view["result"]["score"]), Decimal(view["result"]["max_score"])
        expected[st["full_name"]] = _shown(score / mx * 10)
    assert len(set(expected.values())) == 2, expected  # right and wrong differ
    return tid, sid, expected


def _pdf_text(path, first=None, last=None):
    args = ["pdftotext", "-layout"]
    if first:
        args += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run(args + [path, "-"], capture_output=True, text=True, check=True).stdout


def _pdf_pages(path):
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def test_staff_gradebook_and_printing_in_chromium(shared_env):
    in_own_cluster(shared_env, _test_staff_gradebook_and_printing_in_chromium)


def _test_staff_gradebook_and_printing_in_chromium(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    creds = json.load(open(creds_path))
    tid, sid, published = _take_test(env, s, creds)
    shots = screenshots(env)
    out = run_script(env, s, "staff_gradebook.mjs", {"KT_CREDS": creds_path,
                     "KT_PUBLISHED": json.dumps(published, ensure_ascii=False)}, NODE_TIMEOUT)
    done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
    assert len(done) == 1 and done[0]["event"] == "done", out
    f = done[0]
    q = env.cluster.psql

    def sid_of(name):
        return int(q(f"SELECT u.id FROM users u JOIN class_members m ON m.user_id = u.id"
                     f" JOIN classes c ON c.id = m.class_id AND c.name = '10A1'"
                     f" WHERE u.full_name = '{name}'"))

    def marks(student):
        rows = q(f"SELECT slot, value, source FROM record_marks WHERE student_id = {student}"
                 f" AND subject = 'TOAN' AND school_year = '{YEAR}' AND semester = 1")
        return {r.split("|")[0]: (r.split("|")[1], r.split("|")[2]) for r in rows.splitlines()}

    # Row 1: the semester typed in the page, stored in tenths as typed.
    a, b, c = (sid_of(n) for n in f["rows"])
    assert marks(a) == {"tx1": ("85", "manual"), "tx2": ("70", "manual"), "tx3": ("90", "manual"),
                        "tx4": ("65", "manual"), "gk": ("80", "manual"), "ck": ("95", "manual")}, marks(a)
    # ĐTBmhk (TT22): (ΣĐĐGtx + 2·ĐĐGgk + 3·ĐĐGck) / (n + 5), rounded half up to one decimal.
    want = _half_up((Decimal("8.5") + 7 + 9 + Decimal("6.5") + 2 * 8 + 3 * Decimal("9.5")) / 9)
    assert q(f"SELECT status, value FROM record_results WHERE student_id = {a} AND subject = 'TOAN'"
             f" AND school_year = '{YEAR}' AND semester = 1") == f"ok|{int(want * 10)}"
    assert f["avg_row0"] == _shown(want), (f["avg_row0"], want)
    assert marks(b) == {"tx1": ("70", "manual")}, marks(b)
    # The refused marks were never stored, nor audited.
    assert marks(c) == {}, marks(c)
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'record.edit' AND entity_id = '{c}'") == "0"
    assert q("SELECT count(*) FROM audit_log WHERE action = 'record.edit'") == "7"
    # The session's marks in ĐĐGgk, as the page showed them.
    for name, shown in published.items():
        st = sid_of(name)
        v, src = marks(st)["gk"]
        assert src == "session" and _shown(Decimal(v) / 10) == shown == f["published"][name], (name, v, shown, f)
        assert q(f"SELECT session_id FROM record_marks WHERE student_id = {st} AND slot = 'gk'") == str(sid)
    assert re.search(r"Đã ghi 3 điểm", f["publish_toast"]), f["publish_toast"]
    assert q("SELECT count(*) FROM audit_log WHERE action = 'record.publish'") == "3"

    # The downloads, read back.
    rows = _xlsx_rows(open(f["export_xlsx"], "rb").read())
    header = next(r for r in rows if any("ĐTBmhk" in x for x in r))
    line = next(r for r in rows if f["rows"][0] in r)
    cols = {h: line[i] if i < len(line) else "" for i, h in enumerate(header)}
    got = [Decimal(cols[h].replace(",", ".")) for h in
           ("ĐĐGtx1", "ĐĐGtx2", "ĐĐGtx3", "ĐĐGtx4", "ĐĐGgk", "ĐĐGck", "ĐTBmhk")]
    assert got == [Decimal("8.5"), 7, 9, Decimal("6.5"), 8, Decimal("9.5"), want], (cols, got)
    assert f["export_xlsx_name"].endswith(".xlsx") and "TOAN" in f["export_xlsx_name"], f
    text = open(f["export_csv"], encoding="utf-8-sig").read()
    crow = next(r for r in csv.reader(io.StringIO(text), delimiter=";") if f["rows"][0] in r)
    assert "8,5" in crow and "9,5" in crow and _shown(want) in crow, crow

    # The lock and the unlock, audited with the reason; the term is open again.
    admin = q(f"SELECT id FROM users WHERE username = '{creds['school_admin']['username']}'")
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'record.lock' AND actor_id = {admin}"
             f" AND entity_id = '{YEAR}/1'") == "1"
    assert q(f"SELECT new_value->>'reason' FROM audit_log WHERE action = 'record.unlock'"
             f" AND actor_id = {admin} AND entity_id = '{YEAR}/1'") == f["reason"]
    assert q("SELECT count(*) FROM record_terms") == "0"
    assert "Sổ đã khoá" in f["locked_notice"], f["locked_notice"]
    assert marks(a)["tx1"] == ("85", "manual")  # the key typed on the locked sheet changed nothing

    # Printing: every form with its answer sheet and key; one form; its key alone.
    codes = q(f"SELECT string_agg(code, ',' ORDER BY form_index) FROM test_forms"
              f" WHERE test_id = {f['test_id']}").split(",")
    assert f["forms"] == len(codes) and f["form_code"] == codes[0], (f, codes)
    school = q("SELECT name FROM schools WHERE code = 'DEMO-THPT'")
    gv = s.login(creds["teacher"]["username"], creds["teacher"]["password"])
    form = s.request("GET", f"/api/v1/tests/{f['test_id']}/forms/{codes[0]}", token=gv).json()
    one = os.path.join(shots, "print-form.pdf")
    n_one = _pdf_pages(one)
    t = _pdf_text(one, 1)
    flat = re.sub(r"\s+", " ", t)
    assert all(w in flat for w in school.upper().split()), flat[:600]  # two columns in layout
    assert f"Mã đề {codes[0]}" in flat and "Toán — Lớp 10" in flat, flat[:600]
    assert f"Thời gian làm bài: {form['duration_seconds'] // 60} phút" in flat, flat[:600]
    assert "Họ và tên:" in flat and "Số báo danh:" in flat, flat[:600]
    everything = re.sub(r"\s+", " ", _pdf_text(one))
    for n in range(1, len(form["items"]) + 1):
        assert f"Câu {n}." in everything, n
    assert "PHIẾU TRẢ LỜI" in everything and "ĐÁP ÁN" not in re.sub(r"\s+", " ", _pdf_text(one, 1, n_one - 1))
    # The key starts a page of its own: the last pages, and nothing of the paper on them.
    key_first = next(p for p in range(1, n_one + 1) if f"ĐÁP ÁN — MÃ ĐỀ {codes[0]}" in _pdf_text(one, p))
    key_text = re.sub(r"\s+", " ", _pdf_text(one, key_first, n_one))
    assert "PHIẾU TRẢ LỜI" not in key_text and "HẾT" not in key_text, key_text[:400]
    sheet_first = next(p for p in range(1, n_one + 1) if "PHIẾU TRẢ LỜI" in _pdf_text(one, p))
    assert "HẾT" not in _pdf_text(one, sheet_first) and sheet_first < key_first, (sheet_first, key_first)
    # (The form's shuffle decides which question is the first single choice.)
    first_mcq = next(it for it in form["items"] if it["kind"] == "MCQ4")
    assert re.search(rf"Câu {first_mcq['number']} {first_mcq['key_shown']} ", key_text), \
        key_text[:400]
    tf = next(it for it in form["items"] if it["kind"] == "TF4")
    tf_key = " ".join(f"{k}) {'Đ' if v else 'S'}" for k, v in tf["key_shown"].items())
    assert f"Câu {tf['number']} {tf_key}" in key_text, (tf_key, key_text)
    short = next(it for it in form["items"] if it["kind"] == "SHORT")
    assert f"Câu {short['number']} {short['key_shown'].replace('.', ',')}" in key_text, key_text
    # The key alone: one page with the key, no question.
    key_pdf = os.path.join(shots, "print-key.pdf")
    assert _pdf_pages(key_pdf) == 1
    kt = re.sub(r"\s+", " ", _pdf_text(key_pdf))
    assert f"ĐÁP ÁN — MÃ ĐỀ {codes[0]}" in kt and "Câu 1." not in kt and "Câu 1 " in kt, kt[:400]
    # Every form: a paper, an answer sheet and a key each, each form on new pages.
    allpdf = os.path.join(shots, "print-all.pdf")
    # (Forms differ in order, so a form's paper may take a page more or less.)
    n_all = _pdf_pages(allpdf)
    assert n_all >= len(codes) * 3, (n_all, n_one)
    all_text = re.sub(r"\s+", " ", _pdf_text(allpdf))
    for code in codes:
        assert f"Mã đề {code}" in all_text and f"ĐÁP ÁN — MÃ ĐỀ {code}" in all_text, code
    # The pages as pictures, to look at.
    for pdf, stem in ((one, "print-form-page"), (key_pdf, "print-key-page")):
        subprocess.run(["pdftoppm", "-r", "60", "-png", pdf, os.path.join(shots, stem)], check=True)
    for name in ("gradebook-1366", "gradebook-390", "gradebook-locked-1366", "gradebook-locked-390",
                 "print-form", "print-key"):
        assert os.path.exists(os.path.join(shots, name + ".png")), name
