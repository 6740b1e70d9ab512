"""The results and item statistics screen in Debian's headless Chromium
against the real server with the `kiemtra demo` school (its own cluster).

Twenty students of 10A1 answer the demo session through the API with a
known pattern (right, a chosen distractor, blank); this side computes the
statistics independently (statistics module, own KR-20, point-biserial and
27 % groups: expected_stats of test_results_stats) from the scores stored
in PostgreSQL and passes them to tests/browser/staff_results.mjs, which
checks the cards, the SVG histogram (one bar per bin, counts and heights),
the item table (p, r_pb, r_rest, D, flags) and a distractor table, sorts the
students, and downloads the .xlsx; the workbook is read back here.
Screenshots: results-1366/390, results-items-distractors-1366/390,
results-test-1366/390 in BUILD/screenshots.
"""
import json
import os
import shutil
import tempfile

from browser_run import in_own_cluster, run_script, screenshots
from test_results_stats import TOL, expected_stats, read_xlsx

NODE_TIMEOUT = 200
STUDENTS = 20


def test_staff_results_in_chromium(shared_env):
    in_own_cluster(shared_env, _test_staff_results)


def _answer(s, tok, aid, ref, resp):
    r = s.request("PUT", f"/api/v1/attempts/{aid}/responses/{ref}", {"response": resp, "seq": 1},
                  tok)
    assert r.status == 200, (ref, resp, r)


def _test_staff_results(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    creds = json.load(open(creds_path))
    q = env.cluster.psql
    sid, tid = map(int, q("SELECT s.id, s.test_id FROM sessions s JOIN session_classes sc"
                          " ON sc.session_id = s.id JOIN classes c ON c.id = sc.class_id"
                          " WHERE c.name = '10A1' ORDER BY s.id LIMIT 1").split("|"))
    gv = s.login(creds["teacher"]["username"], creds["teacher"]["password"])
    test = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()
    items = {x["item_ref"]: s.request("GET", f"/api/v1/items/{x['item_id']}", token=gv).json()
             for x in test["items"]}
    refs = sorted(items)
    chosen = {}
    for i, st in enumerate(creds["students"][:STUDENTS]):
        tok = s.login(st["username"], st["password"])
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
        assert a.status in (200, 201), a
        aid = a.json()["id"]
        chosen[aid] = {}
        for j, ref in enumerate(refs):
            it = items[ref]
            if it["kind"] == "MCQ4":
                key = it["scoring"]["key"]
                others = [o["id"] for o in it["content"]["options"] if o["id"] != key]
                if (i + 2 * j) % 17 == 0:
                    continue  # blank
                right = (i * 7 + j * 13) % 20 < 4 + (i * 12) // (STUDENTS - 1)
                resp = key if right else others[(i + j) % 3]
                # One item answered right mostly by the weaker half.
                if j == 1:
                    resp = key if i < STUDENTS // 2 else others[0]
                chosen[aid][ref] = resp
            elif it["kind"] == "TF4":
                resp = {x["id"]: (i + j + m) % 3 != 0 for m, x in
                        enumerate(it["content"]["statements"])}
            elif it["kind"] == "SHORT":
                resp = str(it["scoring"].get("key", "1")) if (i + j) % 3 else "0"
            else:
                continue
            _answer(s, tok, aid, ref, resp)
        assert s.request("POST", f"/api/v1/attempts/{aid}/submit", token=tok).status == 200
        s.wait_scored(aid, tok)

    # Expected values, from the stored scores in the server's student order.
    rows = q(f"SELECT a.id FROM attempts a JOIN users u ON u.id = a.student_id"
             f" WHERE a.session_id = {sid} AND a.status = 'submitted'"
             " ORDER BY u.student_code, u.id").split()
    attempts = [int(x) for x in rows]
    assert len(attempts) == STUDENTS
    scores_db = {}
    for line in q("SELECT x.attempt_id, x.item_ref, x.score FROM attempt_scores x"
                  f" JOIN attempts a ON a.id = x.attempt_id WHERE a.session_id = {sid}").split():
        aid, ref, sc = line.split("|")
        scores_db.setdefault(int(aid), {})[ref] = int(sc)
    points = dict(tuple(line.split("|")) for line in
                  q(f"SELECT item_ref, points FROM test_items WHERE test_id = {tid}").split())
    order = refs
    scores = [[scores_db[a][r] / 100 for r in order] for a in attempts]
    maxes = [int(points[r]) / 100 for r in order]
    options = [[o["id"] for o in items[r]["content"]["options"]] if items[r]["kind"] in
               ("MCQ4", "MR") else None for r in order]
    ch = [[{chosen[a][r]} if r in chosen[a] else set() for r in order] for a in attempts]
    exp = expected_stats(scores, maxes, ch, options)
    assert any(e["flags"] for e in exp["items"]), "the pattern should flag some item"
    expect = {"session_id": sid, "test_id": tid, "n": exp["n"], "mean": exp["mean"],
              "sd": exp["sd"], "median": exp["median"], "min": exp["min"], "max": exp["max"],
              "kr20": exp["kr20"], "alpha": exp["alpha"], "hist": exp["hist"],
              "items": {r: dict(e, kind=items[r]["kind"]) for r, e in zip(order, exp["items"])}}
    exp_path = os.path.join(tmp, "expect.json")
    with open(exp_path, "w") as f:
        json.dump(expect, f)

    xlsx_path = os.path.join(tmp, "download.xlsx")
    shots = screenshots(env)
    try:
        out = run_script(env, s, "staff_results.mjs", {"KT_CREDS": creds_path,
                         "KT_EXPECT": exp_path, "KT_XLSX": xlsx_path}, NODE_TIMEOUT)
        done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
        assert len(done) == 1 and done[0]["event"] == "done", out
        f = done[0]
        assert f["bars"] == 10 and f["flagged"] >= 1, f
        assert f["xlsx_name"].endswith(".xlsx") and f["xlsx_name"].startswith("Kết quả"), f
        # The downloaded workbook, read back.
        with open(xlsx_path, "rb") as fh:
            book = read_xlsx(fh.read())
        assert list(book) == ["Kết quả", "Thống kê câu hỏi", "Phương án nhiễu", "Tổng quan"]
        tk = book["Thống kê câu hỏi"]
        got = {tk[(r, 1)]: r for r in range(1, len(order) + 1)}
        for ref, e_ in zip(order, exp["items"]):
            r = got[ref]
            assert abs(tk[(r, 5)] - e_["p"]) < TOL, (ref, tk[(r, 5)], e_["p"])
            if e_["r_pb"] is not None:
                assert abs(tk[(r, 6)] - e_["r_pb"]) < TOL, (ref, tk[(r, 6)], e_["r_pb"])
            assert abs(tk[(r, 8)] - e_["d"]) < TOL, ref
        kq = book["Kết quả"]
        assert sum(1 for (r, c), v in kq.items() if c == 6 and r >= 3) == STUDENTS
        tq = book["Tổng quan"]
        vals = {tq[(r, 0)]: tq.get((r, 1)) for r in range(2, 16) if (r, 0) in tq}
        assert vals["Số bài tính thống kê (n)"] == STUDENTS
        assert abs(vals["Điểm trung bình"] - exp["mean"]) < TOL
        for name in ("results", "results-items-distractors", "results-test"):
            for width in (1366, 390):
                assert os.path.exists(os.path.join(shots, f"{name}-{width}.png")), (name, width)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
