"""The exchange with the sector database through the real server and the
fake receiver (tests/fake_csdl.py): a grade-10 class with electives (its
study plan) and a grade-4 class; conduct entered by the homeroom teacher,
TT27 ratings, year results (conduct, danh hiệu, promotion; primary year
result and completion); nothing sent before a semester is released; the
records sent once when it is locked (or submitted); corrections after an
unlock sent as new versions and a record whose results are gone as a
CANCEL; at the end the receiver's state equals the school's export.
Also the TT27 refusals of periodic-test scores TT27 gives none."""
import os
import signal
import tempfile
import time

from harness import Server, free_port
from test_delivery import PW
from test_foundation import _read_logins, _roster_csv, _write
from test_records import _receiver, _rx

SCHOOL = "XCH-A"
YEAR = "2030-2031"  # a year of its own: other record tests count their rows


def _user(env, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người " + username,
                "--role", role, "--school", SCHOOL]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})


def _setup(env):
    s = env.main_server()
    env.cli("schools", "add", SCHOOL, "Trường trao đổi dữ liệu", "--province", "TST",
            "Sở thử nghiệm")
    _user(env, "bgh.xch", "school_admin")
    _user(env, "gvcn.xch", "teacher", "TOAN")
    _user(env, "gv.xch", "teacher", "TOAN")
    tmp = tempfile.mkdtemp()
    rows = [[f"XCH{i:03d}", f"Học Sinh Trao Đổi {i}", "01/01/2014", "Nữ", "10X1"]
            for i in range(1, 5)]
    rows += [[f"XCP{i:03d}", f"Học Sinh Tiểu Học {i}", "01/01/2020", "Nam", "4X1"]
             for i in range(1, 3)]
    path = _write(tmp, "xch.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", SCHOOL, "--year", YEAR)
    assert len(_read_logins(path + ".logins.csv")) == 6
    q = env.cluster.psql
    ids = {}
    for code in [r[0] for r in rows]:
        ids[code] = int(q(f"SELECT id FROM users WHERE student_code = '{code}'"))
    cls = {}
    for name in ("10X1", "4X1"):
        cls[name] = int(q("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                          f" WHERE s.code = '{SCHOOL}' AND c.name = '{name}'"))
    tok = {"admin": s.login("bgh.xch", PW), "gvcn": s.login("gvcn.xch", PW),
           "gv": s.login("gv.xch", PW)}
    return s, tok, ids, cls


def _slots(env, grade):
    """{subject: (mode, tx slots)} of the default configuration of a grade."""
    out = {}
    for line in env.cluster.psql(
            "SELECT subject || '|' || mode || '|' || coalesce(tx_slots, CASE WHEN"
            " periods_per_year <= 35 THEN 2 WHEN periods_per_year <= 70 THEN 3 ELSE 4 END, 0)"
            f" FROM subject_configs WHERE school_id IS NULL AND grade = {grade}").split():
        subject, mode, n = line.split("|")
        out[subject] = (mode, int(n))
    return out


def _seed(env, cls, student, semester, marks):
    """Stores marks as a fixture ({subject: {slot: value}}); the next edit
    through the API recomputes the class."""
    vals = []
    for subject, slots in marks.items():
        for slot, v in slots.items():
            vals.append(f"((SELECT school_id FROM classes WHERE id = {cls}), {student}, {cls},"
                        f" '{subject}', '{YEAR}', {semester}, '{slot}', '{v}', 'manual')")
    env.cluster.psql("INSERT INTO record_marks (school_id, student_id, class_id, subject,"
                     " school_year, semester, slot, value, source) VALUES " + ", ".join(vals) +
                     " ON CONFLICT (student_id, subject, school_year, semester, slot)"
                     " DO UPDATE SET value = EXCLUDED.value")


def _secondary_marks(config, subjects, score, only=None):
    out = {}
    for subject in subjects:
        if only and subject not in only:
            continue
        mode, n = config[subject]
        v = "D" if mode == "comment" else score
        out[subject] = {f"tx{i}": v for i in range(1, n + 1)}
        out[subject].update(gk=v, ck=v)
    return out


def _edit(s, tok, cls, student, subject, semester, slot, value):
    return s.request("PUT", f"/api/v1/classes/{cls}/records",
                     {"student_id": student, "subject": subject, "school_year": YEAR,
                      "semester": semester, "slot": slot, "value": value}, tok)


def _conduct(s, tok, cls, student, semester, level, absent=0):
    return s.request("PUT", f"/api/v1/classes/{cls}/conduct",
                     {"student_id": student, "school_year": YEAR, "semester": semester,
                      "level": level, "absent_days": absent}, tok)


def _mine(env, classes):
    return ",".join(str(c) for c in classes)


def _versions(env, classes):
    rows = env.cluster.psql("SELECT record_id || '|' || version || '|' || event FROM csdl_outbox"
                            f" WHERE class_id IN ({_mine(env, classes)})").split()
    return {r.split("|")[0]: (int(r.split("|")[1]), r.split("|")[2]) for r in rows}


def _wait_delivered(env, classes, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if env.cluster.psql("SELECT count(*) FROM csdl_outbox WHERE accepted_version < version"
                            f" AND class_id IN ({_mine(env, classes)})") == "0":
            return
        time.sleep(0.5)
    raise AssertionError("not delivered: " + env.cluster.psql(
        "SELECT record_id, version, accepted_version, last_error FROM csdl_outbox"
        f" WHERE accepted_version < version AND class_id IN ({_mine(env, classes)})"))


def _by_id(envelopes):
    return {e["idbanghi"]: e for e in envelopes}


def test_year_results_exchange_released_once_corrected_and_equal(env):
    s, tok, ids, cls = _setup(env)
    c10, c4 = cls["10X1"], cls["4X1"]
    admin = tok["admin"]
    a, b, c, d = (ids[f"XCH00{i}"] for i in range(1, 5))
    p1, p2 = ids["XCP001"], ids["XCP002"]

    # The homeroom teacher of each class (a fixture: the route that sets it is
    # tested with its audit rows elsewhere); a study plan with electives for 10X1.
    env.cluster.psql("UPDATE classes SET homeroom_teacher_id = (SELECT id FROM users WHERE"
                     f" username = 'gvcn.xch') WHERE id IN ({c10}, {c4})")
    r = s.request("PUT", f"/api/v1/classes/{c10}/study-plan",
                  {"electives": ["LY", "HOA", "SINH", "TIN"], "topics": [],
                   "exceptions": [{"student_id": c, "add": ["DIA"], "drop": ["TIN"]}]}, admin)
    assert r.status == 200, r
    plan = s.request("GET", f"/api/v1/classes/{c10}/study-plan", token=admin).json()
    subjects = {x["id"]: x["subjects"] for x in plan["students"]}
    assert "GDQPAN" in subjects[a] and "LY" in subjects[a] and "TIN" in subjects[a], subjects
    assert "DIA" in subjects[c] and "TIN" not in subjects[c], subjects

    # Marks (fixtures), then one edit through the API recomputes the class.
    conf = _slots(env, 10)
    for sem in (1, 2):
        _seed(env, c10, a, sem, _secondary_marks(conf, subjects[a], "95"))
        _seed(env, c10, b, sem, _secondary_marks(conf, subjects[b], "70"))
        low = _secondary_marks(conf, subjects[c], "60")
        for k in ("LY", "HOA", "SINH"):
            low[k] = {x: "30" for x in low[k]}
        _seed(env, c10, c, sem, low)
    _seed(env, c10, d, 1, _secondary_marks(conf, subjects[d], "80"))
    _seed(env, c10, d, 2, _secondary_marks(conf, subjects[d], "80", only={"TOAN"}))
    assert _edit(s, admin, c10, a, "TOAN", 1, "gk", "9,5").status == 200

    # Conduct: the homeroom teacher (or the school_admin) only, secondary only.
    for st, (k1, k2) in {a: ("KHA", "TOT"), b: ("TOT", "KHA"), c: ("DAT", "DAT"),
                         d: ("TOT", None)}.items():
        assert _conduct(s, tok["gvcn"], c10, st, 1, k1).status == 200
        if k2:
            assert _conduct(s, tok["gvcn"], c10, st, 2, k2, absent=3).status == 200
    r = _conduct(s, tok["gv"], c10, a, 1, "TOT")
    assert r.status == 403 and "chủ nhiệm" in r.json()["error"]["message"], r
    r = _conduct(s, admin, c4, p1, 1, "TOT")
    assert r.status == 422 and r.json()["error"]["code"] == "not_secondary", r
    r = _conduct(s, admin, c10, a, 1, "Giỏi")
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "level", r
    assert env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'record.conduct'"
                            f" AND new_value->>'class_id' = '{c10}'") == "7"

    yr = s.request("GET", f"/api/v1/classes/{c10}/year-results?year={YEAR}", token=tok["gv"]).json()
    year = {x["id"]: x["year"] for x in yr["students"]}
    assert year[a]["conduct"] == "TOT" and year[a]["award"] == "HSXS", year[a]  # Điều 8, 15
    assert year[a]["promotion"] == "LEN_LOP" and year[a]["status"] == "ok", year[a]
    assert year[b]["conduct"] == "KHA" and year[b]["award"] is None, year[b]
    assert year[b]["promotion"] == "LEN_LOP", year[b]
    assert year[c]["promotion"] == "KIEM_TRA_LAI", year[c]  # Điều 14
    assert sorted(year[c]["retest_subjects"]) == ["HOA", "LY", "SINH"], year[c]
    assert year[d]["status"] == "incomplete" and year[d]["promotion"] is None, year[d]
    assert year[a]["absent_days"] == 3

    # Primary: TT27 gives no mid-term test of Ngoại ngữ in grade 4 and no test of Đạo đức.
    r = _edit(s, admin, c4, p1, "NN1", 1, "gk", "8")
    assert r.status == 422 and r.json()["error"]["code"] == "tt27_no_test", r
    assert "Điều 7" in r.json()["error"]["message"], r
    r = _edit(s, admin, c4, p1, "DD", 1, "ck", "8")
    assert r.status == 422 and "Điều 7" in r.json()["error"]["message"], r
    assert _edit(s, admin, c4, p1, "DD", 1, "nx", "Em lễ phép, chăm ngoan.").status == 200
    conf4 = _slots(env, 4)
    for st, (lvl, test) in {p1: ("T", "90"), p2: ("H", "60")}.items():
        for sem in (1, 2):
            m = {}
            for subject, (mode, _) in conf4.items():
                m[subject] = {"level_ck": lvl}
                if mode == "primary_test":
                    m[subject]["ck"] = test
            _seed(env, c4, st, sem, m)
    assert _edit(s, admin, c4, p1, "TOAN", 1, "gk", "8").status == 200  # TT27 gives this one
    ratings = {k: "T" for k in ("PC.YN", "PC.NA", "PC.CC", "PC.TT", "PC.TN", "NLC.TCTH",
                                 "NLC.GTHT", "NLC.GQVDST", "NLDT.NN", "NLDT.TT", "NLDT.KH",
                                 "NLDT.TM", "NLDT.TC")}
    for st, v in ((p1, "T"), (p2, "Đ")):
        for sem in (1, 2):
            r = s.request("PUT", f"/api/v1/classes/{c4}/qualities",
                          {"student_id": st, "school_year": YEAR, "semester": sem,
                           "ratings": {k: v for k in ratings}}, tok["gvcn"])
            assert r.status == 200, r
    r = s.request("PUT", f"/api/v1/classes/{c4}/qualities",
                  {"student_id": p1, "school_year": YEAR, "semester": 1,
                   "ratings": {"PC.XYZ": "T"}}, admin)
    assert r.status == 422 and r.json()["error"]["details"] == [{"field": "PC.XYZ"}], r
    r = s.request("PUT", f"/api/v1/classes/{c10}/qualities",
                  {"student_id": a, "school_year": YEAR, "semester": 1, "ratings": ratings}, admin)
    assert r.status == 422 and r.json()["error"]["code"] == "not_primary", r
    yr4 = s.request("GET", f"/api/v1/classes/{c4}/year-results?year={YEAR}", token=admin).json()
    y4 = {x["id"]: x["year"] for x in yr4["students"]}
    assert y4[p1]["primary_result"] == "HTXS" and y4[p1]["completed"] is True, y4[p1]
    assert y4[p2]["primary_result"] == "HT" and y4[p2]["completed"] is True, y4[p2]

    # Nothing is sent before a semester is released; the school sees what would be.
    assert _versions(env, [c10, c4]) == {}, _versions(env, [c10, c4])
    preview = s.request("GET", f"/api/v1/classes/{c10}/exchange?year={YEAR}&preview=1",
                        token=tok["gv"]).json()
    assert len(preview) == 12, [e["idbanghi"] for e in preview]  # 4 students x (HK I, II, year)

    port = free_port()
    rx = _receiver(port, os.path.join(env.cluster.dir, "fake-csdl-xch.json"))
    sender = None
    try:
        sender = Server(env, {"KIEMTRA_CSDL_URL": f"http://127.0.0.1:{port}/records",
                              "KIEMTRA_CSDL_INTERVAL": "1", "KIEMTRA_CSDL_TIMEOUT": "2"})
        # The primary class's semester I is submitted by the school_admin.
        assert s.request("POST", f"/api/v1/classes/{c4}/records/submit",
                         {"school_year": YEAR, "semester": 1}, tok["gvcn"]).status == 403
        r = s.request("POST", f"/api/v1/classes/{c4}/records/submit",
                      {"school_year": YEAR, "semester": 1}, admin)
        assert r.status == 200 and r.json()["records"] == 2, r
        # Semester I locked: the grade-10 class's semester records go, version 1.
        r = s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 1}, admin)
        assert r.status == 200 and r.json()["records"] == 4, r
        v = _versions(env, [c10, c4])
        assert sorted(v) == sorted(f"{SCHOOL}-{code}-{YEAR}-1" for code in
                                   ("XCH001", "XCH002", "XCH003", "XCH004", "XCP001", "XCP002")), v
        assert all(x == (1, "NEW") for x in v.values()), v
        # An edit of semester II (not released) sends nothing and changes no sent record.
        assert _edit(s, admin, c10, b, "TOAN", 2, "tx1", "6").status == 200
        assert _versions(env, [c10, c4]) == v
        _wait_delivered(env, [c10, c4])

        # Semester II locked: its records and the year's go.
        r = s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 2}, admin)
        assert r.status == 200, r
        v2 = _versions(env, [c10, c4])
        assert len(v2) == 18 and all(x == (1, "NEW") for x in v2.values()), v2
        _wait_delivered(env, [c10, c4])

        # Corrections after an unlock: sent when the semester is locked again.
        assert s.request("POST", "/api/v1/records/unlock",
                         {"school_year": YEAR, "semester": 2, "reason": "Sửa điểm nhập nhầm"},
                         admin).status == 200
        assert _edit(s, admin, c10, b, "TOAN", 2, "ck", "10").status == 200
        assert _edit(s, admin, c10, d, "TOAN", 2, "ck", None).status == 200  # results gone
        assert _versions(env, [c10, c4]) == v2
        r = s.request("POST", "/api/v1/records/lock", {"school_year": YEAR, "semester": 2}, admin)
        assert r.status == 200 and r.json()["records"] == 4, r
        v3 = _versions(env, [c10, c4])
        changed = {k: x for k, x in v3.items() if x != v2[k]}
        assert changed == {f"{SCHOOL}-XCH002-{YEAR}-2": (2, "UPDATE"),
                           f"{SCHOOL}-XCH002-{YEAR}-0": (2, "UPDATE"),
                           f"{SCHOOL}-XCH004-{YEAR}-2": (2, "CANCEL"),
                           f"{SCHOOL}-XCH004-{YEAR}-0": (2, "CANCEL")}, changed
        _wait_delivered(env, [c10, c4])

        # The receiver's state equals the school's export.
        got = _rx(port, "/state")
        export = []
        for k in (c10, c4):
            r = s.request("GET", f"/api/v1/classes/{k}/exchange?year={YEAR}", token=admin)
            assert r.status == 200, r
            export += r.json()
        mine = _by_id(export)
        assert len(mine) == 18
        for rid, e in mine.items():
            assert got["records"][rid] == e["phienban"], (rid, got["records"].get(rid), e)
            if e["sukien"] == "CANCEL":
                assert rid not in got["data"] and got["cancelled"][rid] == e["phienban"], rid
            else:
                assert got["data"][rid] == e["du_lieu"], (rid, got["data"].get(rid), e)
        pairs = [tuple(x) for x in got["accepted"] if x[0] in mine]
        assert len(pairs) == len(set(pairs)) == 18 + 4, pairs  # each version once
        assert got["regressions"] == 0 and got["invalid"] == 0, got

        # The envelope: cấp học, khối, lớp, year results, conduct, awards, codes.
        ya = mine[f"{SCHOOL}-XCH001-{YEAR}-0"]["du_lieu"]
        assert (ya["ma_nhom_cap_hoc"], ya["ma_khoi"], ya["ma_lop"]) == ("04", "10", "10X1"), ya
        assert ya["ma_hoc_luc"] == 1 and ya["ma_ren_luyen"] == 1, ya
        assert ya["ma_danh_hieu"] == "HSXS" and ya["duoc_len_lop"] == 1, ya
        assert sorted(m["ma_mon"] for m in ya["diem_mon"]) == sorted(subjects[a]), ya
        gdqp = next(m for m in ya["diem_mon"] if m["ma_mon"] == "GDQPAN")
        assert gdqp["diem"] == 9.5, gdqp
        yc = mine[f"{SCHOOL}-XCH003-{YEAR}-0"]["du_lieu"]
        assert yc["xet_len_lop"] == "KIEM_TRA_LAI" and yc["kiem_tra_lai"] == 1, yc
        assert yc["duoc_len_lop"] == 0 and "ma_danh_hieu" not in yc, yc
        s1 = mine[f"{SCHOOL}-XCH002-{YEAR}-1"]["du_lieu"]
        assert s1["ma_ren_luyen"] == 1 and s1["hoc_ky"] == 1, s1  # HK I Tốt
        yb = mine[f"{SCHOOL}-XCH002-{YEAR}-0"]["du_lieu"]
        assert yb["ma_ren_luyen"] == 2 and yb["so_ngay_nghi"] == 3, yb
        pr = mine[f"{SCHOOL}-XCP001-{YEAR}-0"]["du_lieu"]
        assert pr["ma_nhom_cap_hoc"] == "02" and pr["ma_khoi"] == "4", pr
        assert pr["ket_qua_giao_duc"] == "HTXS" and pr["hoan_thanh_chuong_trinh"] == 1, pr
        assert pr["pham_chat_nang_luc"]["PC.YN"] == "T", pr
        toan = next(m for m in pr["diem_mon"] if m["ma_mon"] == "TOAN")
        assert toan == {"ma_mon": "TOAN", "diem": 9, "ket_qua": "T"}, toan
        dd = next(m for m in pr["diem_mon"] if m["ma_mon"] == "DD")
        assert "diem" not in dd, dd
        p2y = mine[f"{SCHOOL}-XCP002-{YEAR}-0"]["du_lieu"]
        assert p2y["pham_chat_nang_luc"]["PC.YN"] == "Đ", p2y
        # The sector codes are data: a school's own row wins over the default.
        env.cluster.psql("INSERT INTO csdl_code_map (school_id, kind, local_code, csdl_code,"
                         " confidence, source) SELECT id, 'mon', 'GDQPAN', '\"QPAN\"', 'U', 'test'"
                         f" FROM schools WHERE code = '{SCHOOL}'")
        pv = _by_id(s.request("GET", f"/api/v1/classes/{c10}/exchange?year={YEAR}&semester=0"
                              "&preview=1", token=admin).json())
        codes = [m["ma_mon"] for m in pv[f"{SCHOOL}-XCH001-{YEAR}-0"]["du_lieu"]["diem_mon"]]
        assert "QPAN" in codes and "GDQPAN" not in codes, codes
    finally:
        if sender:
            sender.stop()
        rx.send_signal(signal.SIGTERM)
        rx.wait(timeout=10)
