"""Question sheets (.xlsx, .csv) through POST /api/v1/items/import and
`kiemtra import`: every well-formed file of tests/corpus/xlsx gives exactly
the questions of expected.json (kinds, keys, levels, explanations), a dry
run stores nothing, malformed files give Vietnamese errors naming their row
and store nothing, ?partial=1 / --partial store only the good questions,
the same file imported again is recognised, and the CLI exits non-zero for
a refused file. In Chromium (tests/browser/staff_import_xlsx.mjs) the import
screen takes an .xlsx and a .csv, previews each question with its row and
the bad row with its error, and imports the good questions."""
import json
import os
import re
import tempfile
import uuid

from browser_run import in_own_cluster, run_script
from test_items import PW, _setup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "corpus", "xlsx")
EXPECTED = json.load(open(os.path.join(CORPUS, "expected.json"), encoding="utf-8"))["files"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Q = "/api/v1/items/import?subject=TOAN&grade=10"


def _read(name):
    with open(os.path.join(CORPUS, name), "rb") as f:
        return f.read()


def _ctype(name):
    return "text/csv" if name.endswith(".csv") else XLSX


def _counts(env):
    return env.cluster.psql("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM"
                            " item_versions), (SELECT count(*) FROM audit_log)")


def _post(s, tok, body, query="", ctype=XLSX):
    return s.request("POST", Q + query, body, tok, {"Content-Type": ctype}, timeout=120)


def test_question_sheets(shared_env):
    in_own_cluster(shared_env, _test_question_sheets)


def _test_question_sheets(env):
    s, tok = _setup(env)
    _corpus_over_http(env, s, tok["gv.itema"])
    _recognised_by_name_and_content(env, s, tok["gv2.itema"])
    _malformed_and_partial(env, s, tok)
    _cli(env)
    _browser(env, s)


def _corpus_over_http(env, s, t):
    good = [n for n, w in sorted(EXPECTED.items()) if not w["problems"]]
    assert len(good) >= 6, good
    for name in good:
        want = EXPECTED[name]
        body, ctype = _read(name), _ctype(name)
        fmt = "csv" if name.endswith(".csv") else "xlsx"
        before = _counts(env)
        # Dry run: the questions with their keys, nothing stored.
        d = _post(s, t, body, "&dry_run=1", ctype)
        assert d.status == 200, (name, d)
        dj = d.json()
        assert dj["dry_run"] is True and dj["would_import"] is True, (name, dj)
        assert dj["format"] == fmt and dj["origin"].startswith("docx-sha256:"), dj
        assert dj["valid"] == want["valid"] == len(want["items"]) and dj["invalid"] == 0, name
        assert all(p["severity"] == "warning" for p in dj["problems"]), (name, dj["problems"])
        assert len([p for p in dj["problems"] if "LaTeX" in p["message"]]) == \
            want["latex_warnings"], (name, dj["problems"])
        assert len(dj["items"]) == len(want["items"]), (name, dj["items"])
        for w, g in zip(want["items"], dj["items"]):
            assert (g["number"], g["paragraph"], g["part"], g["kind"], g["key"], g["level"],
                    g["action"]) == (w["number"], w["row"], 0, w["kind"], w["key"], w["level"],
                                     "new"), (name, w, g)
            assert g["identifier"] == f"TOAN-10-{fmt}-{dj['origin'][12:22]}-r{w['row']}", g
            assert g["excerpt"], g
        assert sum(1 for g in dj["items"] if g["key"] is not None) == want["keys"], name
        assert sum(1 for g in dj["items"] if g["level"]) == want["levels"], name
        assert _counts(env) == before, name
        # Stored: exactly the expected questions, drafts of the school.
        r = _post(s, t, body, "", ctype)
        assert r.status == 201, (name, r)
        j = r.json()
        assert len(j["imported"]) == len(want["items"]) and j["existing"] == [], (name, j)
        expl = 0
        for w, g in zip(want["items"], j["imported"]):
            assert g["number"] == w["number"], (w, g)
            v = s.request("GET", f"/api/v1/items/{g['id']}", token=t).json()
            assert (v["kind"], v["status"], v["subject"], v["grade"]) == \
                (w["kind"], "draft", "TOAN", 10), (name, w, v)
            assert [x for x in v["tags"] if x.startswith("MD.")] == \
                ([w["level"]] if w["level"] else []), (name, w, v["tags"])
            if w["outcome"]:
                assert w["outcome"] in v["tags"], (name, w, v["tags"])
            e = v["content"].get("explanation") or v["scoring"].get("explanation")
            assert bool(e) == w["explanation"], (name, w, v)
            expl += bool(e)
        assert expl == want["explanations"], name
        n = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'item.import'"
                             f" AND new_value->>'origin' = '{j['origin']}'")
        assert n == str(len(want["items"])), (name, n)
        # The same file again: recognised, nothing written.
        before = _counts(env)
        again = _post(s, t, body, "&dry_run=1", ctype).json()
        assert {x["action"] for x in again["items"]} == {"existing"}, again
        r = _post(s, t, body, "", ctype)
        assert r.status == 200 and r.json()["imported"] == [], r
        assert len(r.json()["existing"]) == len(want["items"]), r
        assert _counts(env) == before, name


def _recognised_by_name_and_content(env, s, t):
    """A sheet is recognised by its file name (the CSV) or its content (an
    .xlsx sent as octet-stream); nothing stored in a dry run."""
    before = _counts(env)
    r = s.request("POST", Q + "&dry_run=1&filename=cau_hoi.csv", _read("04_cham_phay.csv"), t,
                  {"Content-Type": "application/octet-stream"})
    assert r.status == 200 and r.json()["format"] == "csv", r
    assert r.json()["valid"] == EXPECTED["04_cham_phay.csv"]["valid"], r.json()
    r = s.request("POST", Q + "&dry_run=1", _read("01_mot_lua_chon.xlsx"), t,
                  {"Content-Type": "application/octet-stream"})
    assert r.status == 200 and r.json()["format"] == "xlsx", r
    assert r.json()["valid"] == EXPECTED["01_mot_lua_chon.xlsx"]["valid"], r.json()
    # Subject and grade are required.
    r = s.request("POST", "/api/v1/items/import?grade=10", _read("01_mot_lua_chon.xlsx"), t,
                  {"Content-Type": XLSX})
    assert r.status == 400 and "subject" in r.json()["error"]["message"], r
    assert _counts(env) == before


def _row_named(p):
    """An error names its row (and its question or column), in Vietnamese."""
    return re.match(r"Dòng \d+( \(Câu \d+\)|, cột [^:]+): ", p["message"]) and p["row"] > 0


def _malformed_and_partial(env, s, tok):
    t = tok["gv.itema"]
    before = _counts(env)
    for name in ("m1_thieu_dap_an.xlsx", "m2_dap_an_khong_co_phuong_an.xlsx",
                 "m3_khong_tieu_de.xlsx", "m4_khong_phai_xlsx.xlsx"):
        want = EXPECTED[name]
        d = _post(s, t, _read(name), "&dry_run=1")
        assert d.status == 200 and d.json()["would_import"] is False, (name, d)
        assert d.json()["valid"] == want["valid"], (name, d.json())
        r = _post(s, t, _read(name))
        assert r.status == 422 and r.json()["error"]["code"] == "import_failed", (name, r)
        assert r.json()["imported"] == [], r
        probs = r.json()["problems"]
        errors = [p for p in probs if p["severity"] == "error"]
        assert len(errors) == len(want["problems"]), (name, probs)
        for p in want["problems"]:
            hit = [x for x in errors if p["message"] in x["message"]
                   and x["question"] == (p["question"] or 0)]
            assert hit, (name, p, probs)
            if p["question"]:
                assert _row_named(hit[0]) and hit[0]["row"] == p["row"], hit
                assert hit[0]["message"].startswith(f"Dòng {p['row']}"), hit
            if p.get("column"):
                assert hit[0]["column"] == p["column"], hit
        if want["refused"]:
            assert "Tệp Excel không nhập được" in r.json()["error"]["message"], r.json()
        assert _counts(env) == before, name
    # The exact messages of the brief's two examples.
    m1 = _post(s, t, _read("m1_thieu_dap_an.xlsx"), "&dry_run=1").json()["problems"]
    assert "Dòng 3 (Câu 2): không tìm thấy đáp án." in [p["message"] for p in m1], m1
    m2 = _post(s, t, _read("m2_dap_an_khong_co_phuong_an.xlsx"), "&dry_run=1").json()["problems"]
    assert "Dòng 4, cột Đáp án: 'E' không có phương án E." in [p["message"] for p in m2], m2
    # Only the good questions, when the teacher chooses so.
    want = EXPECTED["m1_thieu_dap_an.xlsx"]
    r = _post(s, t, _read("m1_thieu_dap_an.xlsx"), "&partial=1")
    assert r.status == 201, r
    j = r.json()
    assert [x["number"] for x in j["imported"]] == [w["number"] for w in want["items"]], j
    assert j["invalid"] == 1 and j["valid"] == 2, j
    # A refused file stays refused with partial=1.
    before = _counts(env)
    r = _post(s, t, _read("m4_khong_phai_xlsx.xlsx"), "&partial=1")
    assert r.status == 422, r
    # A teacher of another subject is refused.
    r = _post(s, tok["tt.itema.van"], _read("05_latex.xlsx"))
    assert r.status == 403, r
    assert _counts(env) == before


def _cli(env):
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'XLSX-C'") == "0":
        env.cli("schools", "add", "XLSX-C", "Trường XLSX C", "--province", "TST", "Sở thử nghiệm")
    sid = env.cluster.psql("SELECT id FROM schools WHERE code = 'XLSX-C'")
    args = ["import", "--school", "XLSX-C", "--subject", "TOAN", "--grade", "10"]
    for name in ("02_moi_loai.xlsx", "04_cham_phay.csv"):
        want = EXPECTED[name]
        path = os.path.join(CORPUS, name)
        p = env.cli(*args, path)
        assert p.returncode == 0 and f"OK   {path}: {want['valid']} câu hỏi" in p.stdout, p.stdout
        rows = env.cluster.psql("SELECT v.kind FROM items i JOIN item_versions v ON"
                                f" v.item_id = i.id WHERE i.school_id = {sid}"
                                f" AND i.identifier LIKE 'TOAN-10-%-r%' ORDER BY i.id")
        assert rows.split("\n")[-len(want["items"]):] == [w["kind"] for w in want["items"]], rows
        p = env.cli(*args, path)
        assert f"({want['valid']} đã có, bỏ qua)" in p.stdout and p.returncode == 0, p.stdout
    count = env.cluster.psql(f"SELECT count(*) FROM items WHERE school_id = {sid}")
    # Refused files and files with errors: exit status 1, the rows named, nothing written.
    for bad, says in (("m1_thieu_dap_an.xlsx", "Dòng 3 (Câu 2): không tìm thấy đáp án."),
                      ("m3_khong_tieu_de.xlsx", "Không tìm thấy dòng tiêu đề"),
                      ("m4_khong_phai_xlsx.xlsx", "không phải tệp Excel")):
        p = env.cli(*args, os.path.join(CORPUS, bad), check=False)
        assert p.returncode == 1 and "LỖI" in p.stdout, (p.stdout, p.stderr)
        assert says in p.stderr, p.stderr
    assert env.cluster.psql(f"SELECT count(*) FROM items WHERE school_id = {sid}") == count
    p = env.cli(*args, "--partial", os.path.join(CORPUS, "m2_dap_an_khong_co_phuong_an.xlsx"))
    assert p.returncode == 0, p.stdout
    assert "2 câu hỏi" in p.stdout and "1 câu có lỗi" in p.stdout, p.stdout
    assert env.cluster.psql(f"SELECT count(*) FROM items WHERE school_id = {sid}") == \
        str(int(count) + 2)


def _browser(env, s):
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    tag = uuid.uuid4().hex[:8]  # new content, new origin
    path = os.path.join(tmp, "cau_hoi.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("STT;Câu hỏi;A;B;C;D;Đáp án;Mức độ\n"
                f"1;Câu một ({tag})?;a;b;c;d;A;NB\n"
                f"2;Câu hai ({tag})?;a;b;c;d;;NB\n"
                f"3;Câu ba ({tag})?;a;b;c;d;C;TH\n")
    files = [os.path.join(CORPUS, "01_mot_lua_chon.xlsx"), path]
    out = run_script(env, s, "staff_import_xlsx.mjs",
                     {"KT_USER": "gv2.itema", "KT_PASS": PW, "KT_FILES": "\n".join(files)}, 120)
    done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
    assert len(done) == 1, out
    f = done[0]
    assert "Excel (.xlsx)" in f["hint"] and "CSV" in f["hint"], f
    assert f["error"].endswith("Dòng 3 (Câu 2): không tìm thấy đáp án."), f
    # The .xlsx's questions are listed too (already in the bank).
    assert "01_mot_lua_chon.xlsx" in f["preview"], f
    assert len(f["imported"]) == 2, f
    ids = ",".join(str(i) for i in f["imported"])
    rows = env.cluster.psql("SELECT i.identifier || ' ' || v.kind || ' ' || i.status FROM items i"
                            " JOIN item_versions v ON v.item_id = i.id"
                            f" WHERE i.id IN ({ids}) ORDER BY i.id").split("\n")
    assert [r.split(" ", 1)[1] for r in rows] == ["MCQ4 draft"] * 2, rows
    assert [re.sub(r"-csv-[0-9a-f]{10}-", "-csv-X-", r.split(" ")[0]) for r in rows] == \
        ["TOAN-10-csv-X-r2", "TOAN-10-csv-X-r4"], rows
