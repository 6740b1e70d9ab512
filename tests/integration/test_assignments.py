"""Teaching assignments (teacher x subject x class) through the real server:
the school_admin manages them (audited), /me tells a teacher what they
teach, and every write of a teacher (items, sessions, extra time, marks,
release, publish into records, record edits) outside them is refused with
403 not_assigned by the handlers, and with SQLSTATE KT403 by the database
when the same write is made directly as kiemtra_app under the teacher's
tenant settings."""
import os
import subprocess
import tempfile
import time

from test_delivery import PW, _blueprint, _demo_items
from test_foundation import _read_logins, _roster_csv, _write

SCHOOL = "ASG-A"
YEAR = "2026-2027"


def _user(env, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người " + username,
                "--role", role, "--school", SCHOOL]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


def _window(class_ids):
    now = time.time()
    return {"class_ids": class_ids,
            "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}


def _setup(env):
    """School ASG-A: a school_admin, a Toán teacher (gv) assigned TOAN x 10A1
    only, a Vật lí teacher (vl) assigned VL x 10A1, a Toán subject head;
    classes 10A1 (3 students) and 10A2 (2 students); approved Toán items and
    a published TOAN test. Made once per run."""
    s = env.main_server()
    if getattr(env, "asg_state", None):
        return s, env.asg_state
    st = env.asg_state = {}
    env.cli("schools", "add", SCHOOL, "Trường phân công", "--province", "TST", "Sở thử nghiệm")
    ids = {"bgh": _user(env, "bgh.asg", "school_admin"),
           "gv": _user(env, "gv.asg", "teacher", "TOAN"),
           "vl": _user(env, "gv.vl.asg", "teacher", "VL"),
           "tt": _user(env, "tt.asg", "subject_head", "TOAN")}
    tmp = tempfile.mkdtemp()
    rows = [[f"ASG{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nữ", "10A1"] for i in range(1, 4)]
    rows += [[f"ASG{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nam", "10A2"] for i in range(11, 13)]
    path = _write(tmp, "asg.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", SCHOOL, "--year", YEAR)
    students = {row[0]: row[1] for row in _read_logins(path + ".logins.csv")}
    tok = {k: s.login(u, PW) for k, u in (("bgh", "bgh.asg"), ("gv", "gv.asg"),
                                           ("vl", "gv.vl.asg"), ("tt", "tt.asg"))}
    for u, p in students.items():
        tok[u] = s.login(u, p)
    cls = {}
    for name in ("10A1", "10A2"):
        cls[name] = int(env.cluster.psql(
            "SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
            f" WHERE s.code = '{SCHOOL}' AND c.name = '{name}'"))
    for teacher, subject in (("gv", "TOAN"), ("vl", "VL")):
        r = s.request("POST", "/api/v1/assignments",
                      {"teacher_id": ids[teacher], "subject": subject, "class_id": cls["10A1"]},
                      tok["bgh"])
        assert r.status == 201, r
    chosen, per = [], {}
    for it in _demo_items():  # one MCQ4 and one ESSAY of the same topic
        if it["kind"] in ("MCQ4", "ESSAY") and it["kind"] not in {k[0] for k in per} \
                and it["outcome"].startswith("VN18.TOAN.10.SDS."):
            per[(it["kind"], it["level"])] = 1
            chosen.append(it)
    assert {k[0] for k in per} == {"MCQ4", "ESSAY"}, per
    items = []
    for it in chosen:
        it = dict(it, identifier="ASG-" + it["identifier"])
        r = s.request("POST", "/api/v1/items", it, tok["gv"])
        assert r.status == 201, r
        iid = r.json()["id"]
        assert s.request("PATCH", f"/api/v1/items/{iid}", {"status": "submitted"},
                         tok["gv"]).status == 200
        assert s.request("PATCH", f"/api/v1/items/{iid}", {"status": "approved"},
                         tok["tt"]).status == 200
        items.append(iid)
    body = {"title": "Kiểm tra thường xuyên — Toán 10", "subject": "TOAN", "grade": 10,
            "kind": "gk", "duration_seconds": 2700, "forms": 1, "blueprint": _blueprint(per)}
    r = s.request("POST", "/api/v1/tests", body, tok["gv"])
    assert r.status == 201, r
    tid = r.json()["id"]
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=tok["gv"])
    assert r.status == 200, r
    st.update(tok=tok, ids=ids, cls=cls, students=sorted(students), items=items, test=tid,
              demo=chosen)
    return s, st


def _refused(r, subject, cls, doing):
    assert r.status == 403, r
    e = r.json()["error"]
    assert e["code"] == "not_assigned", e
    want = f"Thầy/cô không được phân công dạy môn {subject}"
    if cls:
        want += f" ở lớp {cls}"
    assert e["message"].startswith(want + ", nên không thể "), e["message"]
    assert doing in e["message"], e["message"]


def _student_id(env, username):
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


# --------------------------------------------------------------------------
# The routes

def test_school_admin_manages_assignments(env):
    s, st = _setup(env)
    tok, ids, cls = st["tok"], st["ids"], st["cls"]
    body = {"teacher_id": ids["tt"], "subject": "TOAN", "class_id": cls["10A2"]}
    r = s.request("POST", "/api/v1/assignments", body, tok["bgh"])
    assert r.status == 201, r
    row = r.json()
    assert row["subject"] == "TOAN" and row["teacher"]["id"] == ids["tt"], row
    assert row["teacher"]["username"] == "tt.asg" and row["teacher"]["full_name"], row
    assert row["class"] == {"id": cls["10A2"], "name": "10A2", "grade": 10,
                            "school_year": YEAR}, row
    r = s.request("POST", "/api/v1/assignments", body, tok["bgh"])
    assert r.status == 409 and r.json()["error"]["code"] == "duplicate_assignment", r
    # 422 naming the field, in Vietnamese.
    student = _student_id(env, st["students"][0])
    for bad, field in (({"teacher_id": student, "subject": "TOAN", "class_id": cls["10A1"]},
                        "teacher_id"),
                       ({"teacher_id": 999999, "subject": "TOAN", "class_id": cls["10A1"]},
                        "teacher_id"),
                       ({"teacher_id": ids["gv"], "subject": "toán", "class_id": cls["10A1"]},
                        "subject"),
                       ({"teacher_id": ids["gv"], "subject": "TOAN", "class_id": 999999},
                        "class_id"),
                       ({"teacher_id": ids["gv"], "subject": "TOAN"}, "class_id")):
        r = s.request("POST", "/api/v1/assignments", bad, tok["bgh"])
        assert r.status == 422, (bad, r)
        e = r.json()["error"]
        assert e["details"][0]["field"] == field and field in e["message"], e
        assert any(ch in e["message"] for ch in "ạảãáàâêôơưđ"), e
    # Teachers and students neither create nor delete.
    for who in ("gv", "tt", st["students"][0]):
        assert s.request("POST", "/api/v1/assignments", body, tok[who]).status == 403
        assert s.request("DELETE", f"/api/v1/assignments/{row['id']}",
                         token=tok[who]).status == 403
    assert s.request("GET", "/api/v1/assignments", token=tok[st["students"][0]]).status == 403
    # Lists: the school's for its admin (with filters), one's own for a teacher.
    every = s.request("GET", "/api/v1/assignments", token=tok["bgh"]).json()["assignments"]
    assert {(a["teacher"]["username"], a["subject"], a["class"]["name"]) for a in every} == {
        ("gv.asg", "TOAN", "10A1"), ("gv.vl.asg", "VL", "10A1"), ("tt.asg", "TOAN", "10A2")}
    by_class = s.request("GET", f"/api/v1/assignments?class_id={cls['10A2']}",
                         token=tok["bgh"]).json()["assignments"]
    assert [a["teacher"]["username"] for a in by_class] == ["tt.asg"], by_class
    by_teacher = s.request("GET", f"/api/v1/assignments?teacher_id={ids['vl']}",
                           token=tok["bgh"]).json()["assignments"]
    assert [a["subject"] for a in by_teacher] == ["VL"], by_teacher
    assert s.request("GET", "/api/v1/assignments?class_id=x", token=tok["bgh"]).status == 400
    mine = s.request("GET", "/api/v1/assignments", token=tok["gv"]).json()["assignments"]
    assert [(a["subject"], a["class"]["name"]) for a in mine] == [("TOAN", "10A1")], mine
    other = s.request("GET", f"/api/v1/assignments?teacher_id={ids['vl']}",
                      token=tok["gv"]).json()["assignments"]
    assert other == [], other
    # /me says what the caller teaches.
    me = s.request("GET", "/api/v1/me", token=tok["vl"]).json()
    assert me["assignments"] == [{"subject": "VL", "class_id": cls["10A1"],
                                  "class_name": "10A1"}], me
    assert me["subjects"] == ["VL"], me
    me = s.request("GET", "/api/v1/me", token=tok["tt"]).json()
    assert me["subjects"] == ["TOAN"] and len(me["assignments"]) == 1, me
    assert s.request("GET", "/api/v1/me", token=tok[st["students"][0]]).json()["assignments"] == []
    # Delete: audited, then gone.
    r = s.request("DELETE", f"/api/v1/assignments/{row['id']}", token=tok["bgh"])
    assert r.status == 204, r
    assert s.request("DELETE", f"/api/v1/assignments/{row['id']}", token=tok["bgh"]).status == 404
    audit = env.cluster.psql(
        "SELECT action, old_value->>'subject', new_value->>'subject' FROM audit_log"
        f" WHERE entity = 'teaching_assignment' AND entity_id = '{row['id']}' ORDER BY id")
    assert audit.splitlines() == ["assignment.create||TOAN", "assignment.delete|TOAN|"], audit
    assert s.request("GET", "/api/v1/me", token=tok["tt"]).json()["assignments"] == []


# --------------------------------------------------------------------------
# The handlers

def test_teacher_writes_bounded_by_assignments(env):
    s, st = _setup(env)
    tok, cls, tid = st["tok"], st["cls"], st["test"]
    # Items: the Vật lí teacher neither creates nor edits a Toán item.
    it = dict(st["demo"][0], identifier="ASG-VL-1")
    _refused(s.request("POST", "/api/v1/items", it, tok["vl"]), "TOAN", None, "tạo câu hỏi")
    assert env.cluster.psql("SELECT count(*) FROM items WHERE identifier = 'ASG-VL-1'") == "0"
    r = s.request("POST", "/api/v1/items", dict(it, identifier="ASG-GV-2"), tok["gv"])
    assert r.status == 201, r
    iid = r.json()["id"]
    _refused(s.request("PATCH", f"/api/v1/items/{iid}", {"title": "Sửa bởi giáo viên Lí"},
                       tok["vl"]), "TOAN", None, "sửa câu hỏi")
    _refused(s.request("PATCH", f"/api/v1/items/{iid}", {"status": "submitted"}, tok["vl"]),
             "TOAN", None, "sửa câu hỏi")
    assert env.cluster.psql(f"SELECT current_version, status FROM items WHERE id = {iid}") == \
        "1|draft"
    r = s.request("PATCH", f"/api/v1/items/{iid}", {"title": "Sửa bởi giáo viên Toán"}, tok["gv"])
    assert r.status == 200 and r.json()["version"] == 2, r
    # Sessions: every class must be taught the test's subject.
    _refused(s.request("POST", f"/api/v1/tests/{tid}/sessions", _window([cls["10A1"]]),
                       tok["vl"]), "TOAN", "10A1", "mở phiên kiểm tra cho lớp này")
    _refused(s.request("POST", f"/api/v1/tests/{tid}/sessions",
                       _window([cls["10A1"], cls["10A2"]]), tok["gv"]),
             "TOAN", "10A2", "mở phiên kiểm tra cho lớp này")
    before = env.cluster.psql(f"SELECT count(*) FROM sessions WHERE test_id = {tid}")
    assert before == "0", before
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", _window([cls["10A1"]]), tok["gv"])
    assert r.status == 201, r
    sid = r.json()["id"]
    # A session of 10A2 opened by the school_admin: the Toán teacher of 10A1
    # does not release it.
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", _window([cls["10A2"]]), tok["bgh"])
    assert r.status == 201, r
    sid2 = r.json()["id"]
    _refused(s.request("POST", f"/api/v1/sessions/{sid2}/release", token=tok["gv"]),
             "TOAN", "10A2", "công bố kết quả")
    # Extra time and marks on an attempt of 10A1.
    u = st["students"][0]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok[u]).json()
    _refused(s.request("PATCH", f"/api/v1/attempts/{a['id']}", {"extra_seconds": 300},
                       tok["vl"]), "TOAN", "10A1", "cộng thêm giờ")
    assert env.cluster.psql(f"SELECT extra_seconds FROM attempts WHERE id = {a['id']}") == "0"
    r = s.request("PATCH", f"/api/v1/attempts/{a['id']}", {"extra_seconds": 300}, tok["gv"])
    assert r.status == 200, r
    essay = next(i["ref"] for i in a["payload"]["items"] if i["kind"] == "ESSAY")
    assert s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{essay}",
                     {"response": "Bài làm của em", "seq": 1}, tok[u]).status == 200
    assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok[u]).status == 200
    deadline = time.time() + 20
    while env.cluster.psql(f"SELECT scored_at IS NULL FROM attempts WHERE id = {a['id']}") == "t":
        assert time.time() < deadline, "attempt not scored"
        time.sleep(0.1)
    test = s.request("GET", f"/api/v1/tests/{tid}", token=tok["gv"]).json()
    ref_item = {x["item_ref"]: x["item_id"] for x in test["items"]}
    rubric = s.request("GET", f"/api/v1/items/{ref_item[essay]}",
                       token=tok["gv"]).json()["scoring"]["rubric"]
    marks = {"criteria": [c["points"] for c in rubric]}
    url = f"/api/v1/attempts/{a['id']}/marks/{essay}"
    _refused(s.request("PUT", url, marks, tok["vl"]), "TOAN", "10A1", "chấm điểm")
    assert env.cluster.psql(f"SELECT count(*) FROM attempt_scores WHERE attempt_id = {a['id']}"
                            " AND marked_by IS NOT NULL") == "0"
    r = s.request("PUT", url, marks, tok["gv"])
    assert r.status == 200, r
    # Release and publish into the learner record.
    _refused(s.request("POST", f"/api/v1/sessions/{sid}/release", token=tok["vl"]),
             "TOAN", "10A1", "công bố kết quả")
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", token=tok["gv"]).status == 200
    pub = {"slot": "gk", "school_year": YEAR, "semester": 1}
    _refused(s.request("POST", f"/api/v1/sessions/{sid}/publish", pub, tok["vl"]),
             "TOAN", "10A1", "đưa điểm")
    assert env.cluster.psql(f"SELECT count(*) FROM record_marks WHERE session_id = {sid}") == "0"
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish", pub, tok["gv"])
    assert r.status == 200 and r.json()["updated"] == 1, r
    # Record edits: the class and the subject must both be taught.
    student = _student_id(env, u)
    other = _student_id(env, st["students"][3])  # in 10A2

    def edit(who, c, sub, value="8"):
        return s.request("PUT", f"/api/v1/classes/{cls[c]}/records",
                         {"student_id": student if c == "10A1" else other, "subject": sub,
                          "school_year": YEAR, "semester": 1, "slot": "tx1", "value": value},
                         tok[who])
    _refused(edit("vl", "10A1", "TOAN"), "TOAN", "10A1", "sửa sổ điểm")
    _refused(edit("gv", "10A2", "TOAN"), "TOAN", "10A2", "sửa sổ điểm")
    assert edit("gv", "10A1", "TOAN").status == 200
    _refused(edit("vl", "10A1", "TOAN", None), "TOAN", "10A1", "sửa sổ điểm")
    assert env.cluster.psql(f"SELECT count(*) FROM record_marks WHERE student_id = {student}"
                            " AND slot = 'tx1' AND updated_by = " + str(st["ids"]["gv"])) == "1"
    # The school_admin is not bounded.
    assert s.request("PUT", f"/api/v1/classes/{cls['10A2']}/records",
                     {"student_id": other, "subject": "TOAN", "school_year": YEAR,
                      "semester": 1, "slot": "tx1", "value": "7"}, tok["bgh"]).status == 200
    st.update(session=sid, session2=sid2, attempt=a["id"], essay=essay, item=iid)


# --------------------------------------------------------------------------
# The database, without the handlers

def _app(env, username, sql):
    """Runs sql as kiemtra_app with the tenant settings pgpool.c sets for
    username, in a transaction rolled back; returns (ok, stderr)."""
    row = env.cluster.psql("SELECT id, school_id, province_id, role FROM users"
                           f" WHERE username = '{username}'")
    uid, school, province, role = row.split("|")
    sets = (f"SELECT set_config('kiemtra.school_id', '{school}', true),"
            f" set_config('kiemtra.province_id', '{province}', true),"
            " set_config('kiemtra.admin_province', '', true),"
            f" set_config('kiemtra.user_id', '{uid}', true),"
            f" set_config('kiemtra.role', '{role}', true);")
    p = subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-v",
                        "VERBOSITY=verbose", "-h", env.cluster.sock, "-p", str(env.cluster.port),
                        "-U", "kiemtra_app", "-d", "kiemtra",
                        "-c", f"BEGIN; {sets} {sql}; ROLLBACK"],
                       capture_output=True, text=True)
    return p.returncode == 0, p.stderr


def _kt403(env, username, sql, subject, cls=None):
    ok, err = _app(env, username, sql)
    assert not ok and "KT403" in err, (username, sql, err)
    want = f"Thầy/cô không được phân công dạy môn {subject}"
    assert want + (f" ở lớp {cls}" if cls else "") in err, err


def test_database_refuses_writes_outside_assignments(env):
    s, st = _setup(env)
    if "session" not in st:
        test_teacher_writes_bounded_by_assignments(env)
    cls, tid, sid, aid = st["cls"], st["test"], st["session"], st["attempt"]
    iid, essay, ids = st["item"], st["essay"], st["ids"]
    school = env.cluster.psql(f"SELECT id FROM schools WHERE code = '{SCHOOL}'")
    student = _student_id(env, st["students"][1])
    new_item = ("INSERT INTO items (province_id, school_id, identifier, subject, grade, status,"
                " current_version) SELECT province_id, school_id, 'ASG-SQL', 'TOAN', 10, 'draft',"
                f" 1 FROM users WHERE username = 'gv.vl.asg'")
    _kt403(env, "gv.vl.asg", new_item, "TOAN")
    _kt403(env, "gv.vl.asg", f"UPDATE items SET review_comment = 'x' WHERE id = {iid}", "TOAN")
    _kt403(env, "gv.vl.asg",
           "INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,"
           " content, scoring, created_by) SELECT item_id, 99, province_id, school_id, kind,"
           f" title, content, scoring, created_by FROM item_versions WHERE item_id = {iid}"
           " AND version = 1", "TOAN")
    max_score = ("INSERT INTO item_max_scores (item_id, version, school_id, max_score)"
                 f" VALUES ({iid}, 1, {school}, 2)")
    _kt403(env, "gv.vl.asg", max_score, "TOAN")
    new_session = ("INSERT INTO sessions (school_id, test_id, opens_at, closes_at)"
                   f" VALUES ({school}, {tid}, now(), now() + interval '1 hour')")
    _kt403(env, "gv.vl.asg", new_session, "TOAN")
    _kt403(env, "gv.asg",
           f"INSERT INTO session_classes (session_id, class_id, school_id) VALUES ({sid},"
           f" {cls['10A2']}, {school})", "TOAN", "10A2")
    _kt403(env, "gv.vl.asg", f"UPDATE sessions SET results_released = false WHERE id = {sid}",
           "TOAN", "10A1")
    _kt403(env, "gv.asg", f"UPDATE sessions SET results_released = true"
           f" WHERE id = {st['session2']}", "TOAN", "10A2")
    _kt403(env, "gv.vl.asg",
           f"UPDATE attempts SET extra_seconds = extra_seconds + 60 WHERE id = {aid}",
           "TOAN", "10A1")
    _kt403(env, "gv.vl.asg",
           f"UPDATE attempt_scores SET score = 0, marked_by = {ids['vl']}, marked_at = now()"
           f" WHERE attempt_id = {aid} AND item_ref = '{essay}'", "TOAN", "10A1")
    mark = ("INSERT INTO record_marks (school_id, student_id, class_id, subject, school_year,"
            f" semester, slot, value, source) VALUES ({school}, {student}, {cls['10A1']},"
            f" 'TOAN', '{YEAR}', 1, 'tx2', '90', 'manual')")
    _kt403(env, "gv.vl.asg", mark, "TOAN", "10A1")
    _kt403(env, "gv.vl.asg", "DELETE FROM record_marks WHERE school_id = " + school +
           " AND subject = 'TOAN' AND class_id = " + str(cls["10A1"]), "TOAN", "10A1")
    # The same writes pass for the teacher who teaches TOAN to 10A1, and for
    # roles that are not bounded (a student's own save is not touched).
    for sql in (new_item, max_score, new_session, mark,
                f"UPDATE attempts SET extra_seconds = extra_seconds + 60 WHERE id = {aid}",
                f"UPDATE attempt_scores SET score = 0, marked_by = {ids['gv']},"
                f" marked_at = now() WHERE attempt_id = {aid} AND item_ref = '{essay}'",
                f"UPDATE sessions SET results_released = true WHERE id = {sid}"):
        ok, err = _app(env, "gv.asg", sql)
        assert ok, (sql, err)
        ok, err = _app(env, "bgh.asg", sql)
        assert ok, (sql, err)
    # Without an assignment the teacher's own subject still allows items,
    # and nothing else: the Toán teacher loses 10A1 and is refused there.
    r = s.request("GET", f"/api/v1/assignments?teacher_id={ids['gv']}", token=st["tok"]["bgh"])
    aid_gv = r.json()["assignments"][0]["id"]
    env.cluster.psql(f"UPDATE teaching_assignments SET subject = 'TIN' WHERE id = {aid_gv}")
    try:
        ok, err = _app(env, "gv.asg", new_item)
        assert ok, err
        _kt403(env, "gv.asg", mark, "TOAN", "10A1")
    finally:
        env.cluster.psql(f"UPDATE teaching_assignments SET subject = 'TOAN' WHERE id = {aid_gv}")
