"""Accounts from the web (gateway/users.c): listing and searching users,
creating and editing accounts, password resets and login slips, the roster
import with its dry run. Each route is tried by the roles it serves and by
those it refuses: a student gets 403, a teacher touching a class not taught
gets 403, a school admin of another school sees nothing (404)."""
import json
import os
import shutil
import tempfile
from urllib.parse import quote

from test_foundation import _read_logins, _roster_csv, _write, _xlsx

PW = "mat-khau-thu-nghiem"
YEAR = "2026-2027"
ALPHABET = set("abcdefghijkmnpqrstuvwxyz23456789")
CSV = {"Content-Type": "text/csv"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _user(env, username, role, school="UAPI-A", subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người " + username,
                "--role", role, "--school", school]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


def _class_id(env, school, name):
    return int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                                f" WHERE s.code = '{school}' AND c.name = '{name}'"))


def _setup(env):
    """School UAPI-A: a school admin, teacher gv.ua teaching TOAN to 10U1
    (a row of teaching_assignments), teacher gv2.ua teaching nothing,
    classes 10U1 (4 students) and 10U2 (2 students); school UAPI-B with its
    own school admin. Made once per run."""
    if getattr(env, "uapi", None):
        return env.uapi
    for code in ("UAPI-A", "UAPI-B"):
        env.cli("schools", "add", code, "Trường " + code, "--province", "TST", "Sở thử nghiệm")
    ids = {
        "bgh": _user(env, "bgh.ua", "school_admin"),
        "gv": _user(env, "gv.ua", "teacher", subject="TOAN"),
        "gv2": _user(env, "gv2.ua", "teacher", subject="VAN"),
        "bghb": _user(env, "bgh.ub", "school_admin", school="UAPI-B"),
    }
    tmp = tempfile.mkdtemp()
    try:
        rows = [[f"UA{i:03d}", f"Học Sinh Đặng {i}", "01/01/2010", "Nữ", "10U1"]
                for i in range(1, 5)]
        rows += [[f"UA{i:03d}", f"Học Sinh Lê {i}", "01/01/2010", "Nam", "10U2"]
                 for i in range(5, 7)]
        path = _write(tmp, "ua.csv", _roster_csv(rows))
        env.cli("users", "import", path, "--school", "UAPI-A", "--year", YEAR)
        logins = {r[0]: r[1] for r in _read_logins(path + ".logins.csv")}
    finally:
        shutil.rmtree(tmp)
    c1, c2 = _class_id(env, "UAPI-A", "10U1"), _class_id(env, "UAPI-A", "10U2")
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     f" SELECT school_id, {ids['gv']}, 'TOAN', {c1} FROM classes WHERE id = {c1}")
    s = env.main_server()
    env.uapi = {
        "ids": ids, "c1": c1, "c2": c2, "logins": logins,
        "t_bgh": s.login("bgh.ua", PW), "t_gv": s.login("gv.ua", PW),
        "t_gv2": s.login("gv2.ua", PW), "t_bghb": s.login("bgh.ub", PW),
        "t_student": s.login("ua006", logins["ua006"]),
    }
    return env.uapi


def _uid(env, username):
    return int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{username}'"))


def _fields(r):
    return {d["field"] for d in r.json()["error"]["details"]}


def _login_status(s, username, password):
    return s.request("POST", "/api/v1/auth/login",
                     {"username": username, "password": password}).status


# --------------------------------------------------------------------------
# GET /api/v1/users

def test_list_users_by_role_search_and_pages(env):
    st = _setup(env)
    s = env.main_server()
    r = s.request("GET", "/api/v1/users?limit=200", token=st["t_bgh"])
    assert r.status == 200, r
    users = r.json()["users"]
    names = {u["username"] for u in users}
    assert {"bgh.ua", "gv.ua", "gv2.ua", "ua001", "ua006"} <= names, names
    assert "bgh.ub" not in names
    assert "password_hash" not in r.body.decode() and "argon2" not in r.body.decode()
    u1 = next(u for u in users if u["username"] == "ua001")
    assert set(u1) == {"id", "username", "full_name", "role", "student_code", "subject",
                       "disabled", "classes", "created_at"}, u1
    assert u1["classes"][0]["name"] == "10U1" and u1["student_code"] == "UA001"
    # Search without diacritics finds names with them; role and class filters.
    r = s.request("GET", "/api/v1/users?q=dang%202", token=st["t_bgh"]).json()["users"]
    assert [u["username"] for u in r] == ["ua002"], r
    r = s.request("GET", "/api/v1/users?q=" + quote("HỌC SINH LÊ"), token=st["t_bgh"]).json()["users"]
    assert sorted(u["username"] for u in r) == ["ua005", "ua006"], r
    r = s.request("GET", "/api/v1/users?role=teacher", token=st["t_bgh"]).json()["users"]
    assert {u["username"] for u in r} >= {"gv.ua", "gv2.ua"} and all(
        u["role"] == "teacher" for u in r), r
    r = s.request("GET", f"/api/v1/users?class_id={st['c2']}", token=st["t_bgh"]).json()
    assert sorted(u["username"] for u in r["users"]) == ["ua005", "ua006"], r
    # Keyset pages: every user once, in id order.
    seen, cursor = [], None
    while True:
        path = "/api/v1/users?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = s.request("GET", path, token=st["t_bgh"]).json()
        assert len(page["users"]) <= 2
        seen += [u["id"] for u in page["users"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == len(users), (seen, len(users))
    # A teacher sees only the students of the classes taught.
    r = s.request("GET", "/api/v1/users", token=st["t_gv"]).json()["users"]
    assert sorted(u["username"] for u in r) == ["ua001", "ua002", "ua003", "ua004"], r
    r = s.request("GET", "/api/v1/users", token=st["t_gv2"]).json()["users"]
    assert r == [], r
    # Another school's admin sees only their own school; students are refused.
    r = s.request("GET", "/api/v1/users", token=st["t_bghb"]).json()["users"]
    assert [u["username"] for u in r] == ["bgh.ub"], r
    assert s.request("GET", "/api/v1/users", token=st["t_student"]).status == 403
    for bad in ("role=admin", "limit=0", "cursor=xyz", "disabled=maybe", "class_id=abc"):
        r = s.request("GET", "/api/v1/users?" + bad, token=st["t_bgh"])
        assert r.status == 400 and r.json()["error"]["message"], (bad, r)


# --------------------------------------------------------------------------
# POST /api/v1/users

def test_create_accounts_with_generated_or_given_password(env):
    st = _setup(env)
    s = env.main_server()
    r = s.request("POST", "/api/v1/users", {"username": "gv.moi", "full_name": "  Trần  Thị Mới ",
                                            "role": "teacher", "subject": "TOAN"},
                  token=st["t_bgh"])
    assert r.status == 201, r
    body = r.json()
    pw = body["password"]
    assert len(pw) == 10 and set(pw) <= ALPHABET, pw
    assert body["user"]["full_name"] == "Trần Thị Mới" and body["user"]["subject"] == "TOAN"
    assert body["user"]["role"] == "teacher" and "password_hash" not in body["user"]
    assert _login_status(s, "gv.moi", pw) == 200
    audit = env.cluster.psql("SELECT new_value::text FROM audit_log WHERE action = 'user.create'"
                             f" AND entity_id = '{body['user']['id']}'")
    assert "gv.moi" in audit and pw not in audit and "argon2" not in audit, audit
    # A student in a class, with a given password (not echoed), username from the code.
    r = s.request("POST", "/api/v1/users", {"full_name": "Phạm Văn Mới", "role": "student",
                                            "student_code": "UA100", "class_id": st["c1"],
                                            "birth_date": "15/03/2010", "gender": 1,
                                            "password": "mot-mat-khau-dai"}, token=st["t_bgh"])
    assert r.status == 201, r
    u = r.json()["user"]
    assert "password" not in r.json() and u["username"] == "ua100"
    assert [c["id"] for c in u["classes"]] == [st["c1"]], u
    assert env.cluster.psql(f"SELECT birth_date, gender FROM users WHERE id = {u['id']}") \
        == "2010-03-15|1"
    assert _login_status(s, "ua100", "mot-mat-khau-dai") == 200
    # Duplicates: 409 naming the field.
    r = s.request("POST", "/api/v1/users", {"username": "gv.moi", "full_name": "X",
                                            "role": "teacher"}, token=st["t_bgh"])
    assert r.status == 409 and _fields(r) == {"username"}, r
    r = s.request("POST", "/api/v1/users", {"username": "ua100b", "full_name": "X",
                                            "role": "student", "student_code": "UA100",
                                            "class_id": st["c1"]}, token=st["t_bgh"])
    assert r.status == 409 and _fields(r) == {"student_code"}, r
    # A username of another school is taken too.
    r = s.request("POST", "/api/v1/users", {"username": "bgh.ub", "full_name": "X",
                                            "role": "teacher"}, token=st["t_bgh"])
    assert r.status == 409 and _fields(r) == {"username"}, r
    # Validation: every bad field named, in Vietnamese.
    r = s.request("POST", "/api/v1/users", {"username": "A b", "full_name": "", "role": "admin",
                                            "password": "ngan"}, token=st["t_bgh"])
    assert r.status == 422, r
    assert _fields(r) == {"username", "full_name", "role", "password"}, r
    assert "Mật khẩu" in r.body.decode()
    r = s.request("POST", "/api/v1/users", {"full_name": "HS", "role": "student",
                                            "subject": "TOAN", "birth_date": "31/02/2010"},
                  token=st["t_bgh"])
    assert r.status == 422 and {"student_code", "class_id", "subject", "birth_date"} <= _fields(r)
    # Another school's class is not found there.
    r = s.request("POST", "/api/v1/users", {"full_name": "HS B", "role": "student",
                                            "student_code": "UB900", "class_id": st["c1"]},
                  token=st["t_bghb"])
    assert r.status == 422 and _fields(r) == {"class_id"}, r
    assert env.cluster.psql("SELECT count(*) FROM users WHERE student_code = 'UB900'") == "0"
    for tok in ("t_gv", "t_student"):
        r = s.request("POST", "/api/v1/users", {"username": "x.y", "full_name": "X",
                                                "role": "teacher"}, token=st[tok])
        assert r.status == 403, (tok, r)


# --------------------------------------------------------------------------
# PATCH /api/v1/users/{id}

def test_patch_and_disable_account(env):
    st = _setup(env)
    s = env.main_server()
    uid = _user(env, "gv.khoa.ua", "teacher")
    tok = s.login("gv.khoa.ua", PW)
    assert s.request("GET", "/api/v1/me", token=tok).status == 200  # now remembered
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"full_name": "Nguyễn Khoá", "subject": "VAN",
                                                    "role": "subject_head"}, token=st["t_bgh"])
    assert r.status == 200, r
    u = r.json()
    assert (u["full_name"], u["subject"], u["role"]) == ("Nguyễn Khoá", "VAN", "subject_head")
    # The role change is seen at once, though the token was remembered.
    assert s.request("GET", "/api/v1/me", token=tok).json()["role"] == "subject_head"
    # Disabling ends the sessions at once and refuses new logins.
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"disabled": True}, token=st["t_bgh"])
    assert r.status == 200 and r.json()["disabled"] is True, r
    assert s.request("GET", "/api/v1/me", token=tok).status == 401
    assert _login_status(s, "gv.khoa.ua", PW) == 401
    assert env.cluster.psql(f"SELECT count(*) FROM auth_sessions WHERE user_id = {uid}") == "0"
    audit = env.cluster.psql("SELECT old_value->>'disabled', new_value->>'disabled' FROM audit_log"
                             f" WHERE action = 'user.update' AND entity_id = '{uid}'"
                             " ORDER BY id DESC LIMIT 1")
    assert audit == "false|true", audit
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"disabled": False}, token=st["t_bgh"])
    assert r.status == 200 and _login_status(s, "gv.khoa.ua", PW) == 200
    # Refused: a student made staff, admin role, self-disable, nothing to change.
    sid = _uid(env, "ua004")
    r = s.request("PATCH", f"/api/v1/users/{sid}", {"role": "teacher"}, token=st["t_bgh"])
    assert r.status == 422 and _fields(r) == {"role"}, r
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"role": "admin"}, token=st["t_bgh"])
    assert r.status == 422 and _fields(r) == {"role"}, r
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"role": "student"}, token=st["t_bgh"])
    assert r.status == 422 and _fields(r) == {"role"}, r
    r = s.request("PATCH", f"/api/v1/users/{st['ids']['bgh']}", {"disabled": True},
                  token=st["t_bgh"])
    assert r.status == 422 and _fields(r) == {"disabled"}, r
    assert "chính mình" in r.json()["error"]["details"][0]["message"]
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"full_name": "   "}, token=st["t_bgh"])
    assert r.status == 422 and _fields(r) == {"full_name"}, r
    r = s.request("PATCH", f"/api/v1/users/{uid}", {}, token=st["t_bgh"])
    assert r.status == 422, r
    # Another school: not found; a teacher or student: forbidden.
    r = s.request("PATCH", f"/api/v1/users/{uid}", {"disabled": True}, token=st["t_bghb"])
    assert r.status == 404, r
    assert env.cluster.psql(f"SELECT disabled FROM users WHERE id = {uid}") == "f"
    for t in ("t_gv", "t_student"):
        assert s.request("PATCH", f"/api/v1/users/{uid}", {"full_name": "X"},
                         token=st[t]).status == 403


def test_disabled_student_cannot_work(env):
    st = _setup(env)
    s = env.main_server()
    uid = _uid(env, "ua003")
    tok = s.login("ua003", st["logins"]["ua003"])
    assert s.request("GET", "/api/v1/me/sessions", token=tok).status == 200
    assert s.request("PATCH", f"/api/v1/users/{uid}", {"disabled": True},
                     token=st["t_bgh"]).status == 200
    assert s.request("GET", "/api/v1/me/sessions", token=tok).status == 401
    assert _login_status(s, "ua003", st["logins"]["ua003"]) == 401
    r = s.request("GET", "/api/v1/users?disabled=true", token=st["t_bgh"]).json()["users"]
    assert "ua003" in [u["username"] for u in r]
    assert s.request("PATCH", f"/api/v1/users/{uid}", {"disabled": False},
                     token=st["t_bgh"]).status == 200
    assert _login_status(s, "ua003", st["logins"]["ua003"]) == 200


# --------------------------------------------------------------------------
# POST /api/v1/users/{id}/password

def test_password_reset_by_teacher_and_admin(env):
    st = _setup(env)
    s = env.main_server()
    uid, old = _uid(env, "ua001"), st["logins"]["ua001"]
    tok = s.login("ua001", old)
    # Wrong tries from one computer until that computer must wait.
    codes = [_login_status(s, "ua001", f"sai-{i}") for i in range(7)]
    assert 429 in codes, codes
    r = s.request("POST", f"/api/v1/users/{uid}/password", token=st["t_gv"])
    assert r.status == 200, r
    new = r.json()["password"]
    assert len(new) == 10 and set(new) <= ALPHABET and new != old
    assert r.json()["username"] == "ua001"
    # The delay is cleared, the new password works, the old one and the old token do not.
    assert _login_status(s, "ua001", old) == 401
    assert s.request("GET", "/api/v1/me", token=tok).status == 401
    assert _login_status(s, "ua001", new) == 200
    audit = env.cluster.psql("SELECT actor_id, new_value->>'by' FROM audit_log"
                             f" WHERE action = 'user.password_reset' AND entity_id = '{uid}'")
    assert audit == f"{st['ids']['gv']}|{st['ids']['gv']}", audit
    st["logins"]["ua001"] = new
    # A teacher of another class, another teacher, a student: 403 in Vietnamese.
    other = _uid(env, "ua005")
    for tok_name, target in (("t_gv", other), ("t_gv2", uid), ("t_gv", st["ids"]["gv2"])):
        r = s.request("POST", f"/api/v1/users/{target}/password", token=st[tok_name])
        assert r.status == 403 and "lớp mình dạy" in r.json()["error"]["message"], r
    assert s.request("POST", f"/api/v1/users/{uid}/password", token=st["t_student"]).status == 403
    # Another school's admin: not found, and nothing changed.
    before = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'user.password_reset'")
    r = s.request("POST", f"/api/v1/users/{uid}/password", token=st["t_bghb"])
    assert r.status == 404, r
    assert env.cluster.psql(
        "SELECT count(*) FROM audit_log WHERE action = 'user.password_reset'") == before
    assert _login_status(s, "ua001", new) == 200
    # The school admin resets a teacher's password.
    r = s.request("POST", f"/api/v1/users/{st['ids']['gv2']}/password", token=st["t_bgh"])
    assert r.status == 200 and _login_status(s, "gv2.ua", r.json()["password"]) == 200
    assert _login_status(s, "gv2.ua", PW) == 401
    env.cluster.psql("UPDATE users SET password_hash = (SELECT password_hash FROM users"
                     " WHERE username = 'gv.ua') WHERE username = 'gv2.ua'")
    st["t_gv2"] = s.login("gv2.ua", PW)


# --------------------------------------------------------------------------
# POST /api/v1/classes/{id}/slips

def test_class_login_slips(env):
    st = _setup(env)
    s = env.main_server()
    r = s.request("POST", f"/api/v1/classes/{st['c1']}/slips", token=st["t_gv"])
    assert r.status == 200, r
    body = r.json()
    slips = body["slips"]
    assert body["class_name"] == "10U1"
    names = sorted(x["username"] for x in slips)
    assert names[:4] == ["ua001", "ua002", "ua003", "ua004"], names
    for x in slips:
        assert set(x) == {"id", "username", "full_name", "student_code", "class_name",
                          "password"}, x
        assert x["class_name"] == "10U1" and len(x["password"]) == 10
        assert _login_status(s, x["username"], x["password"]) == 200
        st["logins"][x["username"]] = x["password"]
    for x in slips:
        n = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'user.password_reset'"
                             f" AND entity_id = '{x['id']}' AND new_value->>'slips_of_class'"
                             f" = '{st['c1']}'")
        assert n == "1", (x, n)
    # Only the listed students; one not of the class is refused by id, nothing reset.
    one = slips[0]
    r = s.request("POST", f"/api/v1/classes/{st['c1']}/slips", {"student_ids": [one["id"]]},
                  token=st["t_bgh"])
    assert r.status == 200 and [x["id"] for x in r.json()["slips"]] == [one["id"]], r
    assert _login_status(s, one["username"], one["password"]) == 401
    st["logins"][one["username"]] = r.json()["slips"][0]["password"]
    outsider = _uid(env, "ua005")
    r = s.request("POST", f"/api/v1/classes/{st['c1']}/slips",
                  {"student_ids": [slips[1]["id"], outsider]}, token=st["t_gv"])
    assert r.status == 422 and r.json()["error"]["details"][0]["ids"] == [outsider], r
    assert _login_status(s, slips[1]["username"], st["logins"][slips[1]["username"]]) == 200
    r = s.request("POST", f"/api/v1/classes/{st['c1']}/slips", {"student_ids": "x"},
                  token=st["t_gv"])
    assert r.status == 422 and _fields(r) == {"student_ids"}, r
    # A class not taught: 403; another school: 404; a student: 403.
    r = s.request("POST", f"/api/v1/classes/{st['c2']}/slips", token=st["t_gv"])
    assert r.status == 403 and "lớp mình dạy" in r.json()["error"]["message"], r
    assert s.request("POST", f"/api/v1/classes/{st['c1']}/slips",
                     token=st["t_bghb"]).status == 404
    assert s.request("POST", f"/api/v1/classes/{st['c1']}/slips",
                     token=st["t_student"]).status == 403
    assert _login_status(s, "ua005", st["logins"]["ua005"]) == 200


# --------------------------------------------------------------------------
# POST /api/v1/rosters/import

def _counts(env):
    return env.cluster.psql("SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM classes),"
                            " (SELECT count(*) FROM class_members)")


def test_roster_import_dry_run_then_store(env):
    st = _setup(env)
    s = env.main_server()
    rows = [["UR001", "Vũ Thị Một", "02/02/2010", "Nữ", "10U3"],
            ["UR002", "Vũ Văn Hai", "03/03/2010", "Nam", "10U3"],
            ["UA002", "Học Sinh Đặng Hai", "01/01/2010", "Nữ", "10U3"]]  # moves ua002
    body = _roster_csv(rows).encode()
    before = _counts(env)
    r = s.request("POST", f"/api/v1/rosters/import?dry_run=1&year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 200, r
    d = r.json()
    assert d["dry_run"] is True and d["ok"] is True and d["errors"] == [], d
    assert d["summary"] == {"students_create": 2, "students_update": 1, "classes_create": 1,
                            "classes_update": 0}, d
    assert [x["action"] for x in d["students"]] == ["create", "create", "update"], d
    assert _counts(env) == before
    assert env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'roster.import'"
                            f" AND actor_id = {st['ids']['bgh']}") == "0"
    # Stored: passwords of the new students, once.
    r = s.request("POST", f"/api/v1/rosters/import?year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 200, r
    d = r.json()
    assert (d["created"], d["updated"]) == (2, 1), d
    logins = {x["username"]: x for x in d["logins"]}
    assert sorted(logins) == ["ur001", "ur002"], d
    assert logins["ur001"]["class_name"] == "10U3" and logins["ur001"]["full_name"] == "Vũ Thị Một"
    for x in logins.values():
        assert len(x["password"]) == 10 and _login_status(s, x["username"], x["password"]) == 200
    c3 = _class_id(env, "UAPI-A", "10U3")
    assert env.cluster.psql(f"SELECT count(*) FROM class_members WHERE class_id = {c3}") == "3"
    assert env.cluster.psql("SELECT count(*) FROM class_members"
                            f" WHERE user_id = {_uid(env, 'ua002')}") == "1"
    assert env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'roster.import'"
                            f" AND actor_id = {st['ids']['bgh']}") == "1"
    # Again: nothing new, no passwords. Then back to 10U1 for the other tests.
    r = s.request("POST", f"/api/v1/rosters/import?year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 200 and r.json()["logins"] == [] and r.json()["updated"] == 3, r
    back = _xlsx([["Mã HS", "Họ và tên", "Ngày sinh", "Giới tính", "Lớp"],
                  ["UA002", "Học Sinh Đặng 2", 40179, "Nữ", "10U1"]])
    r = s.request("POST", f"/api/v1/rosters/import?year={YEAR}", back, headers=XLSX,
                  token=st["t_bgh"])
    assert r.status == 200 and r.json()["updated"] == 1, r
    assert env.cluster.psql(f"SELECT c.name FROM class_members m JOIN classes c"
                            f" ON c.id = m.class_id WHERE m.user_id = {_uid(env, 'ua002')}") \
        == "10U1"


def test_bad_roster_stores_nothing(env):
    st = _setup(env)
    s = env.main_server()
    uid_b = _user(env, "ub777", "teacher", school="UAPI-B")
    assert uid_b
    rows = [["UR101", "Đỗ Văn Tốt", "02/02/2010", "Nam", "10U4"],
            ["UR102", "", "31/02/2010", "Nam", "10U4"],
            ["UB777", "Trùng Trường Khác", "02/02/2010", "Nam", "10U4"]]
    body = _roster_csv(rows).encode()
    before = _counts(env)
    r = s.request("POST", f"/api/v1/rosters/import?year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 422, r
    errs = r.json()["error"]["details"]
    assert {e["row"] for e in errs} == {3}, errs
    assert {e["column"] for e in errs} >= {"Họ và tên", "Ngày sinh"}, errs
    assert _counts(env) == before
    # The dry run reports every row error, the other school's code included.
    r = s.request("POST", f"/api/v1/rosters/import?dry_run=1&year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 200 and r.json()["ok"] is False, r
    errs = r.json()["errors"]
    assert {e["row"] for e in errs} == {3, 4}, errs
    e4 = next(e for e in errs if e["row"] == 4)
    assert e4["column"] == "Mã học sinh" and "trường khác" in e4["message"], e4
    # Only that conflict left: still refused, by row, nothing stored.
    body = _roster_csv([rows[0], rows[2]]).encode()
    r = s.request("POST", f"/api/v1/rosters/import?year={YEAR}", body, headers=CSV,
                  token=st["t_bgh"])
    assert r.status == 422 and [e["row"] for e in r.json()["error"]["details"]] == [3], r
    assert _counts(env) == before
    # Not a roster at all; wrong type; wrong roles.
    r = s.request("POST", "/api/v1/rosters/import", b"PK\x03\x04garbage", headers=XLSX,
                  token=st["t_bgh"])
    assert r.status == 422 and r.json()["error"]["code"] == "unreadable_roster", r
    r = s.request("POST", "/api/v1/rosters/import", {"a": 1}, token=st["t_bgh"])
    assert r.status == 415, r
    for t in ("t_gv", "t_student"):
        assert s.request("POST", "/api/v1/rosters/import", body, headers=CSV,
                         token=st[t]).status == 403
    assert _counts(env) == before


def test_cli_import_still_refuses_codes_of_other_schools(env):
    """The command line shares the web's SQL: same plan, same refusal."""
    _setup(env)
    _user(env, "ub778", "teacher", school="UAPI-B")
    tmp = tempfile.mkdtemp()
    try:
        path = _write(tmp, "x.csv", _roster_csv([["UB778", "Ai Đó", "01/01/2010", "Nam",
                                                   "10U5"]]))
        p = env.cli("users", "import", path, "--school", "UAPI-A", "--year", YEAR, check=False)
        assert p.returncode == 1 and "Dòng 2" in p.stderr and "trường khác" in p.stderr, p
        assert not os.path.exists(path + ".logins.csv")
    finally:
        shutil.rmtree(tmp)
    assert env.cluster.psql("SELECT count(*) FROM classes WHERE name = '10U5'") == "0"
    assert json.loads(env.cluster.psql("SELECT to_json(count(*)) FROM users"
                                       " WHERE username = 'ub778'")) == 1
