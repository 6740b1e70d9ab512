"""Managing tests and sessions through the real server, on the demo school
(`kiemtra demo`): the test list with its filters, editing a draft, archive
and unarchive, deleting a test never taken (and refusing one taken), the
builder's availability check against what publishing then does, a form's
preview with its key against a student's view of the same form, the
session list, edit and cancel, the checks of a session's window, the
school's time zone."""
import datetime
import json
import os
import shutil
import tempfile
import time

PW = "mat-khau-thu-nghiem"
SCHOOL = "DEMO-THPT"
ROOT_NODE = "VN18.TOAN.10"
NO_ZONE = "Thời điểm phải ghi rõ múi giờ, ví dụ 2026-12-10T07:30:00+07:00."
SECRET_KEYS = ("\"key\"", "\"keys\"", "statement_keys", "explanation", "rubric", "model_answer")


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _setup(env):
    """The demo school, its logins, class 10A1 and a second class 10A9, the
    demo teacher assigned to teach TOAN to both, a teacher assigned to
    nothing. Made once per run."""
    s = env.main_server()
    st = getattr(env, "tsapi_state", None)
    if st:
        return s, st
    tmp = tempfile.mkdtemp()
    try:
        path = os.path.join(tmp, "demo.json")
        env.cli("demo", "--credentials", path)
        creds = json.load(open(path))
    finally:
        shutil.rmtree(tmp)
    psql = env.cluster.psql
    school = psql(f"SELECT id FROM schools WHERE code = '{SCHOOL}'")
    year = psql(f"SELECT school_year FROM classes WHERE school_id = {school} AND name = '10A1'")
    psql(f"INSERT INTO classes (school_id, school_year, name, grade) VALUES ({school}, '{year}',"
         " '10A9', 10) ON CONFLICT DO NOTHING")
    c1 = int(psql(f"SELECT id FROM classes WHERE school_id = {school} AND name = '10A1'"))
    c9 = int(psql(f"SELECT id FROM classes WHERE school_id = {school} AND name = '10A9'"))
    # Sessions are bounded by teaching assignments (0020/0021).
    psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
         f" SELECT {school}, u.id, 'TOAN', c.id FROM users u, classes c"
         f" WHERE u.username IN ('gv.toan', 'tt.toan') AND c.id IN ({c1}, {c9})"
         " ON CONFLICT DO NOTHING")
    if psql("SELECT count(*) FROM users WHERE username = 'gv.khac'") == "0":
        env.cli("users", "add", "--username", "gv.khac", "--full-name", "Giáo viên khác",
                "--role", "teacher", "--school", SCHOOL, "--subject", "TOAN",
                env={"KIEMTRA_NEW_PASSWORD": PW})
    tok = {k: s.login(creds[k]["username"], creds[k]["password"])
           for k in ("teacher", "subject_head", "school_admin")}
    tok["other"] = s.login("gv.khac", PW)
    students = creds["students"]
    tok["students"] = [s.login(x["username"], x["password"]) for x in students[:6]]
    st = env.tsapi_state = {"tok": tok, "school": int(school), "c1": c1, "c9": c9,
                            "sessions": []}
    return s, st


def _blueprint():
    """The demo test's blueprint, 22 items, 10 points."""
    rows = [("MD.B", "DT.NLC", 8, "0.25"), ("MD.H", "DT.NLC", 4, "0.25"),
            ("MD.H", "DT.DS", 2, "1"), ("MD.V", "DT.DS", 2, "1"),
            ("MD.H", "DT.TLN", 2, "0.5"), ("MD.V", "DT.TLN", 4, "0.5")]
    return [{"node": ROOT_NODE, "level": lv, "format": f, "count": n, "points": p}
            for lv, f, n, p in rows]


def _create(s, tok, title="Đề quản lý", duration=1800, blueprint=None, forms=2):
    body = {"title": title, "subject": "TOAN", "grade": 10, "kind": "tx",
            "duration_seconds": duration, "forms": forms,
            "blueprint": blueprint if blueprint is not None else _blueprint()}
    r = s.request("POST", "/api/v1/tests", body, tok)
    assert r.status == 201, r
    return r.json()["id"]


def _published(s, st, **kw):
    tid = _create(s, st["tok"]["teacher"], **kw)
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=st["tok"]["teacher"])
    assert r.status == 200, r
    return tid


def _session(s, st, tid, opens, closes, classes=None, token=None, status=201):
    body = {"class_ids": classes or [st["c1"]], "opens_at": opens, "closes_at": closes}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", body, token or st["tok"]["teacher"])
    assert r.status == status, r
    if status == 201:
        st["sessions"].append(r.json()["id"])
        return r.json()["id"]
    return r


def _count(env, sql):
    return int(env.cluster.psql(sql))


def _rows_of_test(env, tid):
    return env.cluster.psql(
        f"SELECT (SELECT count(*) FROM tests WHERE id = {tid}) || ' ' ||"
        f" (SELECT count(*) FROM test_forms WHERE test_id = {tid}) || ' ' ||"
        f" (SELECT count(*) FROM test_items WHERE test_id = {tid}) || ' ' ||"
        f" (SELECT count(*) FROM sessions WHERE test_id = {tid}) || ' ' ||"
        f" (SELECT count(*) FROM session_classes sc JOIN sessions x ON x.id = sc.session_id"
        f"   WHERE x.test_id = {tid})")


def _cleanup(env, st):
    """Sessions made here are cancelled, so that students of 10A1 are not
    offered them by later tests."""
    if st["sessions"]:
        ids = ",".join(str(x) for x in st["sessions"])
        env.cluster.psql(f"UPDATE sessions SET cancelled_at = now() WHERE id IN ({ids})"
                         " AND cancelled_at IS NULL")


# --------------------------------------------------------------------------
# Tests: list, edit, archive, delete


def test_tests_list_edit_archive(env):
    s, st = _setup(env)
    gv = st["tok"]["teacher"]
    draft = _create(s, gv, title="Đề nháp để sửa")
    pub = _published(s, st, title="Đề đã phát hành")

    def listed(query="", token=gv):
        r = s.request("GET", "/api/v1/tests" + query, token=token)
        assert r.status == 200, r
        return r.json()

    rows = {t["id"]: t for t in listed()["tests"]}
    assert draft in rows and pub in rows, rows.keys()
    t = rows[pub]
    assert t["status"] == "published" and t["total_points"] == "10.00" and t["forms"] == 2, t
    assert t["created_by_name"] == "Lê Minh Tuấn" and t["archived_at"] is None, t
    assert t["session_count"] == 0 and t["attempt_count"] == 0, t
    assert {"title", "subject", "grade", "kind", "duration_seconds", "created_at",
            "published_at"} <= set(t), t
    ids = [x["id"] for x in listed("?status=draft&subject=TOAN&grade=10")["tests"]]
    assert draft in ids and pub not in ids
    assert listed("?grade=11")["tests"] == []
    # Newest first, page by page with the cursor.
    page = listed("?limit=1")
    assert len(page["tests"]) == 1 and page["next_cursor"], page
    nxt = listed("?limit=1&cursor=" + page["next_cursor"])
    assert nxt["tests"][0]["id"] < page["tests"][0]["id"]
    for bad in ("?status=old", "?archived=2", "?limit=0", "?cursor=xyz"):
        r = s.request("GET", "/api/v1/tests" + bad, token=gv)
        assert r.status == 400 and r.json()["error"]["code"] == "invalid_parameter", (bad, r)
    r = s.request("GET", "/api/v1/tests", token=st["tok"]["students"][0])
    assert r.status == 403, r

    # Editing a draft: the same checks as creating one, every field named.
    r = s.request("PATCH", f"/api/v1/tests/{draft}",
                  {"title": "", "kind": "hk", "duration_seconds": 5, "forms": 0,
                   "blueprint": [{"node": "x", "level": "B", "format": "DT.NLC", "count": 1,
                                  "points": "1"}]}, gv)
    assert r.status == 422, r
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields == {"title", "kind", "duration_seconds", "forms", "blueprint[0].node",
                      "blueprint[0].level"}, fields
    r = s.request("PATCH", f"/api/v1/tests/{draft}", {"nothing": 1}, gv)
    assert r.status == 422, r
    bp = _blueprint()[:2]
    bp[0]["points"] = "0,5"
    r = s.request("PATCH", f"/api/v1/tests/{draft}",
                  {"title": "Đề nháp đã sửa", "kind": "gk", "duration_seconds": 2700,
                   "forms": 3, "blueprint": bp}, gv)
    assert r.status == 200, r
    t = r.json()
    assert (t["title"], t["kind"], t["duration_seconds"], t["forms"]) == \
        ("Đề nháp đã sửa", "gk", 2700, 3), t
    assert t["blueprint"][0]["points"] == "0.5" and len(t["blueprint"]) == 2, t
    assert _count(env, "SELECT count(*) FROM audit_log WHERE action = 'test.edit'"
                       f" AND entity_id = '{draft}'") == 1
    # A published test is not edited, and nothing changes.
    r = s.request("PATCH", f"/api/v1/tests/{pub}", {"title": "Đổi tên"}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "already_published", r
    assert env.cluster.psql(f"SELECT title FROM tests WHERE id = {pub}") == "Đề đã phát hành"
    r = s.request("PATCH", "/api/v1/tests/999999999", {"title": "x"}, gv)
    assert r.status == 404, r

    # Archive: hidden from the default list, listed with archived=1.
    r = s.request("POST", f"/api/v1/tests/{pub}/archive", token=gv)
    assert r.status == 200 and r.json()["archived_at"], r
    assert pub not in [x["id"] for x in listed()["tests"]]
    assert pub in [x["id"] for x in listed("?archived=1")["tests"]]
    assert draft not in [x["id"] for x in listed("?archived=1")["tests"]]
    # An archived test opens no session.
    now = time.time()
    r = _session(s, st, pub, _iso(now - 60), _iso(now + 3600), status=409)
    assert r.json()["error"]["code"] == "test_archived", r
    r = s.request("POST", f"/api/v1/tests/{pub}/unarchive", token=gv)
    assert r.status == 200 and r.json()["archived_at"] is None, r
    assert pub in [x["id"] for x in listed()["tests"]]
    assert _count(env, "SELECT count(*) FROM audit_log WHERE action IN ('test.archive',"
                       f" 'test.unarchive') AND entity_id = '{pub}'") == 2
    # A test with a session that has not ended cannot be archived.
    sid = _session(s, st, pub, _iso(now - 60), _iso(now + 3600))
    r = s.request("POST", f"/api/v1/tests/{pub}/archive", token=gv)
    assert r.status == 409 and r.json()["error"]["code"] == "session_open", r
    assert env.cluster.psql(f"SELECT archived_at IS NULL FROM tests WHERE id = {pub}") == "t"
    t = {x["id"]: x for x in listed()["tests"]}[pub]
    assert t["session_count"] == 1, t
    # ...and can once the session is cancelled.
    r = s.request("POST", f"/api/v1/sessions/{sid}/cancel", {"reason": "Đổi lịch"}, gv)
    assert r.status == 200, r
    r = s.request("POST", f"/api/v1/tests/{pub}/archive", token=gv)
    assert r.status == 200 and r.json()["archived_at"], r
    _cleanup(env, st)


def test_delete_only_a_test_never_taken(env):
    s, st = _setup(env)
    gv = st["tok"]["teacher"]
    now = time.time()
    # A draft goes.
    draft = _create(s, gv, title="Đề nháp để xoá")
    r = s.request("DELETE", f"/api/v1/tests/{draft}", token=gv)
    assert r.status == 200 and r.json()["deleted"], r
    assert _rows_of_test(env, draft) == "0 0 0 0 0"
    # A published test with a session nobody started goes with its forms,
    # items, sessions and their classes.
    tid = _published(s, st, title="Đề chưa ai làm")
    _session(s, st, tid, _iso(now - 60), _iso(now + 3600), classes=[st["c1"], st["c9"]])
    assert _rows_of_test(env, tid) == "1 2 22 1 2"
    # The database lets only the whole test go: its forms alone stay (0018).
    p = env.cluster.psql(f"DELETE FROM test_forms WHERE test_id = {tid}", check=False)
    assert p.returncode != 0 and "đã phát hành" in p.stderr, p.stderr
    p = env.cluster.psql(f"DELETE FROM test_items WHERE test_id = {tid}", check=False)
    assert p.returncode != 0, p.stderr
    assert _rows_of_test(env, tid) == "1 2 22 1 2"
    r = s.request("DELETE", f"/api/v1/tests/{tid}", token=st["tok"]["students"][0])
    assert r.status == 403, r
    r = s.request("DELETE", f"/api/v1/tests/{tid}", token=gv)
    assert r.status == 200, r
    assert r.json() == {"id": tid, "deleted": True, "forms": 2, "items": 22, "sessions": 1}, r
    assert _rows_of_test(env, tid) == "0 0 0 0 0"
    audit = env.cluster.psql("SELECT old_value->>'title' FROM audit_log"
                             f" WHERE action = 'test.delete' AND entity_id = '{tid}'")
    assert audit == "Đề chưa ai làm", audit
    r = s.request("DELETE", f"/api/v1/tests/{tid}", token=gv)
    assert r.status == 404, r

    # A test a student has started stays, whole.
    taken = _published(s, st, title="Đề đã có người làm")
    sid = _session(s, st, taken, _iso(now - 60), _iso(now + 3600))
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"]["students"][0])
    assert r.status == 201, r
    before = _rows_of_test(env, taken)
    assert before == "1 2 22 1 1", before
    r = s.request("DELETE", f"/api/v1/tests/{taken}", token=gv)
    assert r.status == 409 and r.json()["error"]["code"] == "test_taken", r
    assert "không xoá được" in r.json()["error"]["message"], r
    assert _rows_of_test(env, taken) == before
    assert _count(env, f"SELECT count(*) FROM attempts WHERE session_id = {sid}") == 1
    # Nor can the owner's SQL delete it (the trigger and the attempts' keys).
    p = env.cluster.psql(f"DELETE FROM tests WHERE id = {taken}", check=False)
    assert p.returncode != 0, p.stdout
    assert _rows_of_test(env, taken) == before
    t = {x["id"]: x for x in s.request("GET", "/api/v1/tests", token=gv).json()["tests"]}[taken]
    assert t["attempt_count"] == 1 and t["session_count"] == 1, t
    _cleanup(env, st)


# --------------------------------------------------------------------------
# Availability


def _fitting(env, st, node, level, fmt):
    """Approved deliverable items of the school fitting a row, counted in SQL
    by the rule assembly applies (an independent oracle)."""
    return _count(env, (
        "SELECT count(*) FROM items i JOIN item_versions v ON v.item_id = i.id"
        "  AND v.version = i.approved_version"
        f" WHERE i.school_id = {st['school']} AND i.status = 'approved' AND i.subject = 'TOAN'"
        "  AND i.grade = 10 AND v.kind <> 'QTI'"
        f"  AND v.tags @> ARRAY['{level}', '{fmt}']"
        f"  AND EXISTS (SELECT 1 FROM unnest(v.tags) g WHERE g = '{node}' OR g LIKE '{node}.%')"))


def test_availability_matches_publish(env):
    s, st = _setup(env)
    gv = st["tok"]["teacher"]

    def avail(bp, subject="TOAN", grade=10):
        r = s.request("POST", "/api/v1/blueprints/availability",
                      {"subject": subject, "grade": grade, "blueprint": bp}, gv)
        assert r.status == 200, r
        return r.json()

    # The demo blueprint is satisfiable: no shortage, the same total as publishing.
    a = avail(_blueprint())
    assert a["ok"] and a["problems"] == [] and a["total_points"] == "10", a
    for row, cell in zip(a["rows"], _blueprint()):
        assert row["available"] == _fitting(env, st, ROOT_NODE, cell["level"], cell["format"])
        assert row["shortage"] == 0 and row["assignable"] == cell["count"], row

    # Overlapping rows: the narrower row's items are also the wider row's, and
    # an item fills one slot only. Each row alone has enough; together not.
    wide = _fitting(env, st, ROOT_NODE, "MD.B", "DT.NLC")
    narrow = _fitting(env, st, ROOT_NODE + ".SDS", "MD.B", "DT.NLC")
    assert narrow >= 2 and wide > narrow, (wide, narrow)
    bp = [{"node": ROOT_NODE, "level": "MD.B", "format": "DT.NLC", "count": wide - 1,
           "points": "0.1"},
          {"node": ROOT_NODE + ".SDS", "level": "MD.B", "format": "DT.NLC", "count": 2,
           "points": "0.1"},
          {"node": ROOT_NODE, "level": "MD.V", "format": "DT.DS", "count": 1, "points": "1"},
          {"node": ROOT_NODE, "level": "MD.VC", "format": "DT.DS", "count": 3, "points": "1"}]
    a = avail(bp)
    assert not a["ok"] and a["problems"] == [], a
    rows = a["rows"]
    assert [r["available"] for r in rows] == [wide, narrow,
                                              _fitting(env, st, ROOT_NODE, "MD.V", "DT.DS"), 0]
    assert rows[0]["available"] >= bp[0]["count"] and rows[1]["available"] >= bp[1]["count"]
    assert rows[0]["shortage"] > 0 and rows[1]["shortage"] > 0, rows
    assert rows[2]["shortage"] == 0 and rows[3]["shortage"] == 3, rows
    # Publishing the same blueprint reports the same rows and numbers.
    tid = _create(s, gv, title="Đề thiếu câu", blueprint=bp)
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=gv)
    assert r.status == 409 and r.json()["error"]["code"] == "blueprint_shortage", r
    details = r.json()["error"]["details"]
    assert [d["row"] for d in details] == [i + 1 for i, x in enumerate(rows) if x["shortage"]]
    for d in details:
        row = rows[d["row"] - 1]
        assert (row["available"], row["assignable"], row["shortage"]) == \
            (d["available"], d["assignable"], d["needed"] - d["assignable"]), (row, d)

    # Rows with problems are named and have no counts; the others still do.
    a = avail([{"node": ROOT_NODE, "level": "B", "format": "DT.NLC", "count": 0, "points": "x"},
               {"node": ROOT_NODE, "level": "MD.H", "format": "DT.NLC", "count": 2,
                "points": "0,25"}])
    assert not a["ok"] and a["total_points"] == "0.5", a
    assert {p["field"] for p in a["rows"][0]["problems"]} == \
        {"blueprint[0].level", "blueprint[0].points"}, a["rows"][0]
    assert a["rows"][0]["available"] is None and a["rows"][1]["problems"] == [], a
    assert a["rows"][1]["available"] == _fitting(env, st, ROOT_NODE, "MD.H", "DT.NLC")
    assert a["rows"][1]["shortage"] == 0
    # Another grade has nothing; a bad body is refused naming the fields.
    assert avail(_blueprint()[:1], grade=11)["rows"][0]["shortage"] == 8
    r = s.request("POST", "/api/v1/blueprints/availability",
                  {"subject": "toan", "grade": 0, "blueprint": {}}, gv)
    assert r.status == 422, r
    assert {d["field"] for d in r.json()["error"]["details"]} == {"subject", "grade", "blueprint"}
    r = s.request("POST", "/api/v1/blueprints/availability",
                  {"subject": "TOAN", "grade": 10, "blueprint": _blueprint()},
                  st["tok"]["students"][0])
    assert r.status == 403, r


# --------------------------------------------------------------------------
# Form preview


def test_form_preview_matches_student_view(env):
    s, st = _setup(env)
    gv = st["tok"]["teacher"]
    tid = _published(s, st, title="Đề xem trước", forms=3)
    now = time.time()
    sid = _session(s, st, tid, _iso(now - 60), _iso(now + 3600))
    seen = set()
    for tok in st["tok"]["students"][:4]:
        r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
        assert r.status == 201, r
        att = r.json()
        code = att["form_code"]
        if code in seen:
            continue
        seen.add(code)
        mine = att["payload"]["items"]
        r = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}", token=gv)
        assert r.status == 200, r
        pv = r.json()
        assert pv["form_code"] == code and len(pv["form_codes"]) == 3, pv
        assert [i["ref"] for i in pv["items"]] == [i["ref"] for i in mine]
        kinds = set()
        for shown, it in zip(mine, pv["items"]):
            kinds.add(it["kind"])
            assert it["points"] == shown["points"] and it["number"] == shown["number"]
            assert it["explanation"], it
            if it["kind"] in ("MCQ4", "MR"):
                order = [o["id"] for o in shown["options"]]
                assert [o["id"] for o in it["options"]] == order
                keys = [it["key"]] if it["kind"] == "MCQ4" else it["keys"]
                letters = sorted(chr(65 + order.index(k)) for k in keys)
                assert (it["key_shown"] if it["kind"] == "MR" else [it["key_shown"]]) == \
                    letters, it
            elif it["kind"] == "TF4":
                ids = [x["id"] for x in shown["statements"]]
                assert [x["id"] for x in it["statements"]] == ids
                assert it["key_shown"] == {chr(97 + n): it["statement_keys"][i]
                                           for n, i in enumerate(ids)}, it
            elif it["kind"] == "SHORT":
                assert it["key_shown"] == it["key"], it
        assert {"MCQ4", "TF4", "SHORT"} <= kinds, kinds
        # The student's view carries none of it.
        text = json.dumps(att)
        assert not any(k in text for k in SECRET_KEYS), [k for k in SECRET_KEYS if k in text]
    assert len(seen) >= 2, seen
    other = next(c for c in ("100", "999", "555") if c not in
                 s.request("GET", f"/api/v1/tests/{tid}", token=gv).json()["form_codes"])
    assert s.request("GET", f"/api/v1/tests/{tid}/forms/{other}", token=gv).status == 404
    assert s.request("GET", f"/api/v1/tests/{tid}/forms/1a", token=gv).status == 404
    r = s.request("GET", f"/api/v1/tests/{tid}/forms/{code}", token=st["tok"]["students"][0])
    assert r.status == 403, r
    _cleanup(env, st)


# --------------------------------------------------------------------------
# Sessions


def test_session_window_checks(env):
    s, st = _setup(env)
    gv = st["tok"]["teacher"]
    tid = _published(s, st, title="Đề kiểm tra giờ", duration=2700)

    def refused(body, status=422):
        b = {"class_ids": [st["c1"]]}
        b.update(body)
        r = s.request("POST", f"/api/v1/tests/{tid}/sessions", b, gv)
        assert r.status == status and r.json()["error"]["code"] == "invalid_session", r
        return {d["field"]: d["message"] for d in r.json()["error"]["details"]}

    # A time without its zone is refused, naming the field.
    d = refused({"opens_at": "2030-12-10T07:30:00", "closes_at": "2030-12-10T09:00:00+07:00"})
    assert d == {"opens_at": NO_ZONE}, d
    # Every problem at once.
    d = refused({"class_ids": [], "opens_at": "2030-12-10 07:30",
                 "closes_at": "2030-02-30T09:00:00+07:00"})
    assert set(d) == {"class_ids", "opens_at", "closes_at"}, d
    d = refused({"opens_at": "2030-12-10T09:00:00+07:00", "closes_at": "2030-12-10T01:30:00Z"})
    assert d == {"closes_at": "Giờ đóng (closes_at) phải sau giờ mở (opens_at)."}, d
    # A window shorter than the test's 45 minutes.
    d = refused({"opens_at": "2030-12-10T07:30:00+07:00", "closes_at": "2030-12-10T08:00:00+07:00"})
    assert list(d) == ["closes_at"] and "45 phút" in d["closes_at"], d
    assert _count(env, f"SELECT count(*) FROM sessions WHERE test_id = {tid}") == 0
    # Exactly the duration is enough; Z and offsets are the same instants.
    sid = _session(s, st, tid, "2030-12-10T00:30:00Z", "2030-12-10T08:15:00+07:00")
    r = s.request("GET", f"/api/v1/sessions/{sid}", token=gv)
    assert r.status == 200, r
    v = r.json()
    assert (v["opens_at_local"], v["closes_at_local"]) == ("10/12/2030 07:30", "10/12/2030 08:15")
    assert v["state"] == "scheduled" and v["timezone"] == "Asia/Ho_Chi_Minh", v
    # The same checks on PATCH.
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": "2030-12-11T08:00:00"}, gv)
    assert r.status == 422, r
    assert r.json()["error"]["details"] == [{"field": "closes_at", "message": NO_ZONE}], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": "2030-12-10T07:00:00+07:00"},
                  gv)
    assert r.status == 422 and [x["field"] for x in r.json()["error"]["details"]] == \
        ["closes_at"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": "2030-12-10T08:00:00+07:00"},
                  gv)
    assert r.status == 422 and "45 phút" in r.json()["error"]["details"][0]["message"], r
    assert env.cluster.psql(f"SELECT closes_at = '2030-12-10T01:15:00Z' FROM sessions"
                            f" WHERE id = {sid}") == "t"

    # The school's zone: /me says it; views render in it; unknown zones are refused.
    me = s.request("GET", "/api/v1/me", token=gv).json()
    assert me["school_timezone"] == "Asia/Ho_Chi_Minh", me
    p = env.cluster.psql(f"UPDATE schools SET timezone = 'Mars/Olympus' WHERE id = {st['school']}",
                         check=False)
    assert p.returncode != 0, p.stdout
    env.cluster.psql(f"UPDATE schools SET timezone = 'Asia/Tokyo' WHERE id = {st['school']}")
    try:
        v = s.request("GET", f"/api/v1/sessions/{sid}", token=gv).json()
        assert v["opens_at_local"] == "10/12/2030 09:30" and v["timezone"] == "Asia/Tokyo", v
        assert s.request("GET", "/api/v1/me", token=gv).json()["school_timezone"] == "Asia/Tokyo"
    finally:
        env.cluster.psql(f"UPDATE schools SET timezone = 'Asia/Ho_Chi_Minh'"
                         f" WHERE id = {st['school']}")
    _cleanup(env, st)


def test_sessions_list_edit_cancel(env):
    s, st = _setup(env)
    gv, students = st["tok"]["teacher"], st["tok"]["students"]
    tid = _published(s, st, title="Đề buổi kiểm tra", duration=1800)
    now = time.time()
    sid = _session(s, st, tid, _iso(now - 60), _iso(now + 3600))
    later = _session(s, st, tid, _iso(now + 86400), _iso(now + 90000))

    r = s.request("GET", f"/api/v1/sessions?test_id={tid}", token=gv)
    assert r.status == 200, r
    rows = r.json()["sessions"]
    assert [x["id"] for x in rows] == [later, sid], rows
    v = rows[1]
    assert v["state"] == "open" and v["test"] == {
        "id": tid, "title": "Đề buổi kiểm tra", "subject": "TOAN", "grade": 10, "kind": "tx",
        "duration_seconds": 1800}, v
    assert v["classes"] == [{"id": st["c1"], "name": "10A1"}], v
    assert v["attempts"] == {"started": 0, "in_progress": 0, "submitted": 0}, v
    assert v["results_released"] is False and v["cancelled_at"] is None, v
    local = datetime.datetime.fromisoformat(v["opens_at"]).astimezone(
        datetime.timezone(datetime.timedelta(hours=7))).strftime("%d/%m/%Y %H:%M")
    assert v["opens_at_local"] == local, (v, local)
    assert [x["id"] for x in s.request("GET", f"/api/v1/sessions?test_id={tid}&state=scheduled",
                                       token=gv).json()["sessions"]] == [later]
    assert [x["id"] for x in s.request("GET", f"/api/v1/sessions?class_id={st['c9']}"
                                       f"&test_id={tid}", token=gv).json()["sessions"]] == []
    page = s.request("GET", f"/api/v1/sessions?test_id={tid}&limit=1", token=gv).json()
    assert [x["id"] for x in page["sessions"]] == [later] and page["next_cursor"], page
    page = s.request("GET", f"/api/v1/sessions?test_id={tid}&limit=1&cursor="
                     + page["next_cursor"], token=gv).json()
    assert [x["id"] for x in page["sessions"]] == [sid] and page["next_cursor"] is None, page
    assert s.request("GET", "/api/v1/sessions?state=done", token=gv).status == 400
    assert s.request("GET", "/api/v1/sessions", token=students[0]).status == 403
    assert s.request("GET", "/api/v1/sessions/999999999", token=gv).status == 404

    # Before anyone starts, everything may change.
    r = s.request("PATCH", f"/api/v1/sessions/{sid}",
                  {"opens_at": _iso(now - 120), "class_ids": [st["c1"], st["c9"]]}, gv)
    assert r.status == 200 and [c["name"] for c in r.json()["classes"]] == ["10A1", "10A9"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"class_ids": [st["c1"]]}, gv)
    assert r.status == 200 and r.json()["class_ids"] == [st["c1"]], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"class_ids": [999999999]}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "class_ids", r
    # A teacher who does not teach the class changes nothing.
    for method, path, body in (("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": _iso(now + 7200)}),
                               ("POST", f"/api/v1/sessions/{sid}/cancel", {"reason": "Thử"})):
        r = s.request(method, path, body, st["tok"]["other"])
        assert r.status == 403 and r.json()["error"]["code"] == "not_assigned", r
        assert "phân công" in r.json()["error"]["message"], r
    assert env.cluster.psql(f"SELECT cancelled_at IS NULL FROM sessions WHERE id = {sid}") == "t"

    # Once a student started: the opening time and the classes stay, the
    # closing time only moves later.
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=students[0])
    assert r.status == 201, r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"opens_at": _iso(now - 30)}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "attempts_started", r
    assert "giờ mở" in r.json()["error"]["message"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"class_ids": [st["c1"], st["c9"]]}, gv)
    assert r.status == 200, r  # adding a class is fine
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"class_ids": [st["c9"]]}, gv)
    assert r.status == 409 and "lớp" in r.json()["error"]["message"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": _iso(now + 3000)}, gv)
    assert r.status == 409 and "giờ đóng" in r.json()["error"]["message"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": _iso(now + 7200)}, gv)
    assert r.status == 200 and r.json()["attempts"]["started"] == 1, r
    assert _count(env, "SELECT count(*) FROM audit_log WHERE action = 'session.edit'"
                       f" AND entity_id = '{sid}'") == 4

    # Extending a window that capped an attempt's deadline moves the deadline.
    short = _session(s, st, tid, _iso(now - 60), _iso(now - 60 + 1800))
    r = s.request("POST", f"/api/v1/sessions/{short}/attempts", token=students[1])
    assert r.status == 201, r
    capped = env.cluster.psql(f"SELECT deadline = s.closes_at FROM attempts a JOIN sessions s"
                              f" ON s.id = a.session_id WHERE s.id = {short}")
    assert capped == "t"
    r = s.request("PATCH", f"/api/v1/sessions/{short}", {"closes_at": _iso(now + 7200)}, gv)
    assert r.status == 200, r
    assert env.cluster.psql(f"SELECT deadline = started_at + interval '1800 seconds'"
                            f" FROM attempts WHERE session_id = {short}") == "t"

    # Cancel: a reason is required; the session is no longer offered, no
    # attempt starts, the attempt already started is kept.
    r = s.request("POST", f"/api/v1/sessions/{sid}/cancel", {"reason": "  "}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "reason", r
    offered = [x["id"] for x in s.request("GET", "/api/v1/me/sessions", token=students[2]).json()]
    assert sid in offered, offered
    r = s.request("POST", f"/api/v1/sessions/{sid}/cancel",
                  {"reason": "Trùng lịch thi học kì"}, gv)
    assert r.status == 200, r
    v = r.json()
    assert v["state"] == "cancelled" and v["cancel_reason"] == "Trùng lịch thi học kì", v
    assert v["cancelled_at"] and v["attempts"]["started"] == 1, v
    offered = [x["id"] for x in s.request("GET", "/api/v1/me/sessions", token=students[2]).json()]
    assert sid not in offered, offered
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=students[2])
    assert r.status == 409 and r.json()["error"]["code"] == "session_cancelled", r
    assert "huỷ" in r.json()["error"]["message"], r
    mine = {x["id"]: x for x in s.request("GET", "/api/v1/me/sessions",
                                          token=students[0]).json()}
    assert mine[sid]["cancelled"] is True and mine[sid]["attempt"]["status"] == "in_progress"
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=students[0])
    assert r.status == 200, r  # resuming the attempt begun before
    assert _count(env, f"SELECT count(*) FROM attempts WHERE session_id = {sid}") == 1
    assert env.cluster.psql("SELECT new_value->>'reason' FROM audit_log"
                            f" WHERE action = 'session.cancel' AND entity_id = '{sid}'") == \
        "Trùng lịch thi học kì"
    r = s.request("POST", f"/api/v1/sessions/{sid}/cancel", {"reason": "Lần nữa"}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "already_cancelled", r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"closes_at": _iso(now + 9000)}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "session_cancelled", r
    assert [x["id"] for x in s.request("GET", f"/api/v1/sessions?test_id={tid}&state=cancelled",
                                       token=gv).json()["sessions"]] == [sid]
    _cleanup(env, st)
