"""Results and item statistics through the real server: students answer a
session with a known pattern through the API, a teacher marks essays (one
left unmarked), and GET /sessions/{id}/results and /tests/{id}/results give
mean, population SD, median, histogram, KR-20 / alpha, and per item p,
point-biserial (item-total and item-rest), D (27 %), distractors and flags
equal to the values computed here independently (statistics module and the
textbook formulas) from the scores stored in PostgreSQL. The .xlsx exports
are read back (zip + XML). Students get 403; another school 404."""
import io
import math
import re
import statistics
import xml.etree.ElementTree as ET
import zipfile

from test_delivery import PW, _published_session, _setup

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
TOL = 1e-3


def read_xlsx(data):
    """{sheet name: {(row, col): value}} with 0-based row/col; numbers as
    float, strings as str (shared or inline)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    shared = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", NS):
            shared.append("".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")))
    rels = {r.get("Id"): r.get("Target") for r in
            ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
    out = {}
    for sh in ET.fromstring(z.read("xl/workbook.xml")).find("m:sheets", NS):
        target = rels[sh.get(f"{{{NS['r']}}}id")]
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        cells = {}
        for c in ET.fromstring(z.read(path)).iter(f"{{{NS['m']}}}c"):
            m = re.match(r"([A-Z]+)(\d+)", c.get("r"))
            col = 0
            for ch in m.group(1):
                col = col * 26 + ord(ch) - 64
            v = c.find("m:v", NS)
            if c.find("m:f", NS) is not None:
                raise AssertionError(f"formula in {sh.get('name')}!{c.get('r')}")
            if v is None:
                continue
            if c.get("t") == "s":
                val = shared[int(v.text)]
            elif c.get("t") in ("str", "inlineStr"):
                val = v.text
            else:
                val = float(v.text)
            cells[(int(m.group(2)) - 1, col - 1)] = val
        out[sh.get("name")] = cells
    return out


def expected_stats(scores, maxes, chosen, options):
    """Independent statistics. scores: list of rows (students in the server's
    order) of per-item points; maxes: per item; chosen: rows of per-item sets
    of options; options: per item list of option ids or None."""
    n, k = len(scores), len(maxes)
    totals = [sum(r) for r in scores]
    out = {"n": n, "mean": statistics.mean(totals), "sd": statistics.pstdev(totals),
           "median": statistics.median(totals), "min": min(totals), "max": max(totals)}
    tv = statistics.pvariance(totals)
    iv = [statistics.pvariance([r[j] for r in scores]) for j in range(k)]
    out["alpha"] = k / (k - 1) * (1 - sum(iv) / tv) if tv > 0 and k > 1 else None
    dich = all(r[j] in (0, maxes[j]) for r in scores for j in range(k))
    if dich and tv > 0:
        right = [[1 if r[j] == maxes[j] else 0 for j in range(k)] for r in scores]
        rt = [sum(r) for r in right]
        pq = sum((sum(r[j] for r in right) / n) * (1 - sum(r[j] for r in right) / n)
                 for j in range(k))
        out["kr20"] = k / (k - 1) * (1 - pq / statistics.pvariance(rt))
    else:
        out["kr20"] = None
    g = max(1, math.floor(0.27 * n + 0.5)) if n >= 2 else 0
    # Rank on whole hundredths as the server does: float sums of the same
    # points in another order can differ in the last bit and split a tie.
    order = sorted(range(n), key=lambda i: (-round(totals[i] * 100), i))
    upper, lower = order[:g], order[n - g:]

    def corr(x, y):
        if len(set(x)) < 2 or len(set(y)) < 2:
            return None
        return statistics.correlation(x, y)

    items = []
    for j in range(k):
        x = [r[j] for r in scores]
        it = {"p": sum(x) / (n * maxes[j]), "r_pb": corr(x, totals),
              "r_rest": corr(x, [t - v for t, v in zip(totals, x)]),
              "d": (sum(x[i] for i in upper) - sum(x[i] for i in lower)) / (g * maxes[j])}
        flags = []
        if (it["r_rest"] is not None and it["r_rest"] < 0) or it["d"] < 0:
            flags.append("negative_discrimination")
        if it["p"] < 0.2:
            flags.append("too_hard")
        if it["p"] > 0.9:
            flags.append("too_easy")
        it["flags"] = flags
        if options[j]:
            it["options"] = {}
            for o in options[j]:
                who = [i for i in range(n) if o in chosen[i][j]]
                it["options"][o] = {
                    "count": len(who), "p": len(who) / n,
                    "p_upper": sum(1 for i in upper if i in who) / g,
                    "p_lower": sum(1 for i in lower if i in who) / g,
                    "mean_total": statistics.mean(totals[i] for i in who) if who else None}
        items.append(it)
    out["items"] = items
    out["group"] = g
    hist = [0] * 10
    tmax = sum(maxes)
    for t in totals:
        hist[min(9, int(round(t * 100)) * 10 // int(round(tmax * 100)))] += 1
    out["hist"] = hist
    return out


def close(a, b, what):
    if b is None:
        assert a is None, (what, a, b)
    else:
        assert a is not None and abs(a - b) < TOL, (what, a, b)


def _answer_session(env, s, st):
    """Five students answer with a pattern, the fifth's essay is never
    marked; the sixth does not start. Returns tid, sid, items, choices."""
    tid, sid = _published_session(s, st, title="Thống kê — Toán 10")
    gv = st["tok"]["gv"]
    test = s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()
    items = {}
    for x in test["items"]:
        items[x["item_ref"]] = s.request("GET", f"/api/v1/items/{x['item_id']}", token=gv).json()
    refs = sorted(items)
    choices = {}
    students = st["students"][:6]
    for i, u in enumerate(students[:5]):
        tok = st["tok"][u]
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        choices[u] = {"attempt": a["id"]}
        for j, ref in enumerate(refs):
            it = items[ref]
            kind = it["kind"]
            if kind == "MCQ4":
                key = it["scoring"]["key"]
                # Students 0-2 mostly right, 3-4 mostly on distractor "other".
                other = next(o["id"] for o in it["content"]["options"] if o["id"] != key)
                resp = key if (i + j) % 5 < 3 - (i >= 3) else other
                if i == 3 and j % 3 == 0:
                    resp = None  # left blank
            elif kind == "MR":
                resp = ["A", "B"] if i % 2 else ["A"]
            elif kind == "TF4":
                resp = {s_["id"]: (i + m) % 2 == 0 for m, s_ in
                        enumerate(it["content"].get("statements", []))}
            elif kind == "SHORT":
                resp = str(it["scoring"].get("key", "1")) if i < 3 else "99999"
            else:
                resp = f"Bài làm của học sinh {i}"
            choices[u][ref] = resp
            if resp is not None:
                r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                              {"response": resp, "seq": 1}, tok)
                assert r.status == 200, (ref, kind, resp, r)
        assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
        s.wait_scored(a["id"], tok)
    # Essays marked for students 0-3 with different points, student 4 waits.
    for i, u in enumerate(students[:4]):
        for ref in refs:
            if items[ref]["kind"] != "ESSAY":
                continue
            rubric = items[ref]["scoring"]["rubric"]
            marks = [c["points"] if (i + m) % 2 == 0 else "0" for m, c in enumerate(rubric)]
            r = s.request("PUT", f"/api/v1/attempts/{choices[u]['attempt']}/marks/{ref}",
                          {"criteria": marks}, gv)
            assert r.status == 200, r
    return tid, sid, items, choices, students


def _db_scores(env, sid):
    """Per attempt and item_ref: score in hundredths or None (from the database)."""
    rows = env.cluster.psql("SELECT a.id, x.item_ref, coalesce(x.score::text, 'null')"
                            " FROM attempt_scores x JOIN attempts a ON a.id = x.attempt_id"
                            f" WHERE a.session_id = {sid}")
    out = {}
    for line in rows.splitlines():
        aid, ref, sc = line.split("|")
        out.setdefault(int(aid), {})[ref] = None if sc == "null" else int(sc)
    return out


def test_results_statistics_match_independent_computation(env):
    s, st = _setup(env)
    tid, sid, items, choices, students = _answer_session(env, s, st)
    gv = st["tok"]["gv"]
    res = s.request("GET", f"/api/v1/sessions/{sid}/results", token=gv)
    assert res.status == 200, res
    res = res.json()
    stats = res["statistics"]
    # The older fields are still there.
    assert {"students", "items", "marking", "distribution", "to_mark"} <= set(res), res.keys()
    order = [it["item_ref"] for it in stats["items"]]
    assert sorted(order) == sorted(items), order
    points = {ref: round(float(it["points"]) * 100) for ref, it in
              ((x["item_ref"], x) for x in stats["items"])}
    db = _db_scores(env, sid)
    # Server order of students: class, student code.
    included = [u for u in sorted(students[:5]) if all(
        v is not None for v in db[choices[u]["attempt"]].values())]
    assert len(included) == 4 and students[4] not in included, included
    assert stats["included"] == 4, stats
    pending = sum(1 for v in db[choices[students[4]]["attempt"]].values() if v is None)
    assert pending >= 1
    assert stats["excluded"]["attempts"] == 1 and stats["excluded"]["answers"] == pending, stats
    assert "chờ chấm" in stats["note"], stats
    scores = [[db[choices[u]["attempt"]][ref] / 100 for ref in order] for u in included]
    maxes = [points[ref] / 100 for ref in order]

    def chosen_set(u, ref):
        r = choices[u].get(ref)
        return set(r) if isinstance(r, list) else {r} if isinstance(r, str) else set()
    options = [[o["id"] for o in items[ref]["content"]["options"]]
               if items[ref]["kind"] in ("MCQ4", "MR") else None for ref in order]
    chosen = [[chosen_set(u, ref) if options[j] else set() for j, ref in enumerate(order)]
              for u in included]
    exp = expected_stats(scores, maxes, chosen, options)
    t = stats["test"]
    assert t["n"] == 4 and t["k"] == len(order) and t["group_size"] == exp["group"], t
    for key in ("mean", "sd", "median", "min", "max", "kr20", "alpha"):
        close(t[key], exp[key], key)
    assert [b["count"] for b in t["histogram"]] == exp["hist"], (t["histogram"], exp["hist"])
    assert stats["sd"] == "population"
    for it, e in zip(stats["items"], exp["items"]):
        for key in ("p", "r_pb", "r_rest", "d"):
            close(it[key], e[key], (it["item_ref"], key))
        assert it["flags"] == e["flags"], (it["item_ref"], it["flags"], e["flags"])
        if "options" in e:
            got = {o["option"]: o for o in it["options"]}
            assert set(got) == set(e["options"]), (got, e["options"])
            for o, eo in e["options"].items():
                assert got[o]["count"] == eo["count"], (it["item_ref"], o, got[o], eo)
                for key in ("p", "p_upper", "p_lower", "mean_total"):
                    close(got[o][key], eo[key], (it["item_ref"], o, key))
            keys = [o["option"] for o in it["options"] if o["key"]]
            sc = items[it["item_ref"]]["scoring"]
            assert keys == ([sc["key"]] if "key" in sc else sorted(sc["keys"])), (keys, sc)
    # Something is flagged and something has a distractor chosen: the pattern
    # exercises the tables (guards against a vacuous comparison).
    mcq = [it for it in stats["items"] if it["kind"] == "MCQ4"]
    assert any(o["count"] and not o["key"] for it in mcq for o in it["options"]), mcq
    assert any(it["omitted"] for it in mcq), mcq

    # The test route: the same numbers (one session), the students' points.
    tr = s.request("GET", f"/api/v1/tests/{tid}/results", token=gv)
    assert tr.status == 200, tr
    tr = tr.json()
    assert tr["statistics"]["test"] == t, (tr["statistics"]["test"], t)
    assert tr["test"]["id"] == tid and [x["id"] for x in tr["sessions"]] == [sid], tr["sessions"]
    me = next(x for x in tr["students"] if x["attempt_id"] == choices[included[0]]["attempt"])
    assert me["included"] is True and "cells" not in me, me
    assert me["points"][order[0]] == res_points(db, choices[included[0]]["attempt"], order[0]), me

    # Roles and tenants.
    stok = st["tok"][students[0]]
    for path in (f"/api/v1/sessions/{sid}/results", f"/api/v1/tests/{tid}/results",
                 f"/api/v1/sessions/{sid}/results.xlsx", f"/api/v1/tests/{tid}/results.xlsx"):
        r = s.request("GET", path, token=stok)
        assert r.status == 403 and r.json()["error"]["code"], (path, r)
    env.cli("schools", "add", "RST-B", "Trường khác", "--province", "TST", "Sở thử nghiệm",
            check=False)
    env.cli("users", "add", "--username", "gv.rstb", "--full-name", "Giáo viên khác",
            "--role", "teacher", "--school", "RST-B", "--subject", "TOAN",
            env={"KIEMTRA_NEW_PASSWORD": PW}, check=False)
    other = s.login("gv.rstb", PW)
    for path in (f"/api/v1/sessions/{sid}/results", f"/api/v1/tests/{tid}/results",
                 f"/api/v1/sessions/{sid}/results.xlsx", f"/api/v1/tests/{tid}/results.xlsx"):
        r = s.request("GET", path, token=other)
        assert r.status == 404 and r.json()["error"]["message"], (path, r)
    assert s.request("GET", "/api/v1/sessions/999999/results", token=gv).status == 404

    # The workbook of the session, read back.
    x = s.request("GET", f"/api/v1/sessions/{sid}/results.xlsx", token=gv)
    assert x.status == 200, x
    x.headers = {k.lower(): v for k, v in x.headers.items()}
    assert x.headers.get("content-type", "").startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), x.headers
    disp = x.headers.get("content-disposition", "")
    assert f'filename="ket-qua-buoi-{sid}.xlsx"' in disp and "filename*=UTF-8''K%E1%BA%BFt" in disp, disp
    check_workbook(x.body, res, stats, exp, order, students, included, choices, db)
    xt = s.request("GET", f"/api/v1/tests/{tid}/results.xlsx", token=gv)
    hd = {k.lower(): v for k, v in xt.headers.items()}
    assert xt.status == 200 and f"ket-qua-de-{tid}.xlsx" in hd["content-disposition"], hd
    assert read_xlsx(xt.body)["Tổng quan"] == read_xlsx(x.body)["Tổng quan"]


def res_points(db, attempt, ref):
    v = db[attempt][ref]
    return None if v is None else f"{v // 100}.{v % 100:02d}".rstrip("0").rstrip(".") \
        if v % 100 else str(v // 100)


def check_workbook(body, res, stats, exp, order, students, included, choices, db):
    book = read_xlsx(body)
    assert list(book) == ["Kết quả", "Thống kê câu hỏi", "Phương án nhiễu", "Tổng quan"], list(book)
    kq = book["Kết quả"]
    assert [kq.get((2, c)) for c in range(7)] == ["STT", "Mã học sinh", "Họ và tên", "Lớp",
                                                   "Mã đề", "Trạng thái", "Điểm"], kq
    rows = {kq[(r, 1)].lower(): r for r in range(3, 3 + len(res["students"]))}
    assert [kq[(r, 0)] for r in sorted(rows.values())] == list(
        map(float, range(1, len(rows) + 1)))  # STT as numbers
    for u in included:
        r = rows[u]
        total = sum(db[choices[u]["attempt"]].values())
        assert abs(kq[(r, 6)] - total / 100) < 1e-9, (u, kq[(r, 6)], total)
        for j, ref in enumerate(order):
            assert abs(kq[(r, 7 + j)] - db[choices[u]["attempt"]][ref] / 100) < 1e-9
    assert (rows[students[5]], 6) not in kq  # not started: blank score
    assert kq[(rows[students[5]], 5)] == "Chưa làm"
    tk = book["Thống kê câu hỏi"]
    for j, e in enumerate(exp["items"]):
        assert tk[(j + 1, 1)] == order[j]
        assert abs(tk[(j + 1, 5)] - e["p"]) < TOL
        for col, key in ((6, "r_pb"), (7, "r_rest")):
            if e[key] is None:
                assert (j + 1, col) not in tk
            else:
                assert abs(tk[(j + 1, col)] - e[key]) < TOL
        assert abs(tk[(j + 1, 8)] - e["d"]) < TOL
        reasons = {"negative_discrimination": "độ phân biệt âm", "too_hard": "quá khó (p < 0,2)",
                   "too_easy": "quá dễ (p > 0,9)"}
        assert tk.get((j + 1, 9), "") == "; ".join(reasons[f] for f in e["flags"])
    pa = book["Phương án nhiễu"]
    n_opt_rows = sum(len(e["options"]) + 1 for e in exp["items"] if "options" in e)
    assert max(r for r, _ in pa) == n_opt_rows, pa
    for r in range(1, n_opt_rows + 1):
        ref, opt = pa[(r, 1)], pa[(r, 2)]
        e = exp["items"][order.index(ref)]
        if opt == "Bỏ trống":
            continue
        assert pa[(r, 4)] == e["options"][opt]["count"], (ref, opt)
        assert abs(pa[(r, 5)] - e["options"][opt]["p"]) < TOL
    tq = book["Tổng quan"]
    labels = {tq[(r, 0)]: tq.get((r, 1)) for r in range(2, 16) if (r, 0) in tq}
    assert labels["Số bài tính thống kê (n)"] == 4
    assert abs(labels["Điểm trung bình"] - exp["mean"]) < TOL
    assert abs(labels["Độ lệch chuẩn (tổng thể, chia n)"] - exp["sd"]) < TOL
    assert abs(labels["Trung vị"] - exp["median"]) < TOL
    assert abs(labels["Hệ số Cronbach α"] - exp["alpha"]) < TOL
    assert labels["Bài chưa tính (còn câu chờ chấm)"] == 1
    hist_row = next(r for (r, c), v in tq.items() if v == "Phân bố điểm: từ")
    assert [tq[(hist_row + 1 + b, 2)] for b in range(10)] == exp["hist"]


def test_results_xlsx_keeps_names_as_text(env):
    """A student named like a formula stays a string cell (read_xlsx refuses
    any formula)."""
    s, st = _setup(env)
    u = st["students"][5]
    env.cluster.psql(f"UPDATE users SET full_name = '=HYPERLINK(\"http://x\",\"y\")'"
                     f" WHERE username = '{u}'")
    try:
        tid, sid = _published_session(s, st, title="=1+1 đề")
        x = s.request("GET", f"/api/v1/sessions/{sid}/results.xlsx", token=st["tok"]["gv"])
        assert x.status == 200, x
        book = read_xlsx(x.body)
        names = [v for (r, c), v in book["Kết quả"].items() if c == 2]
        assert '=HYPERLINK("http://x","y")' in names, names
        assert book["Kết quả"][(0, 0)] == "=1+1 đề"
        # No attempt scored: statistics empty but well-formed.
        res = s.request("GET", f"/api/v1/sessions/{sid}/results", token=st["tok"]["gv"]).json()
        assert res["statistics"]["included"] == 0 and res["statistics"]["test"]["mean"] is None
        assert all(it["r_pb"] is None for it in res["statistics"]["items"])
    finally:
        env.cluster.psql(f"UPDATE users SET full_name = 'Học Sinh 6' WHERE username = '{u}'")
