"""Exam login codes and the password-check queue through the real server
(migration 0035, docs/BENCHMARKS.md, login storm): a teacher issues a
session's codes (returned once, stored only as a keyed hash, audited); a
code logs its own student in during the session's window and nowhere else
(wrong code, another student, another school, revoked, before the window,
after the close), every use audited, throttled like a password; a reissue
revokes the earlier code. A full password queue answers 503 with
Retry-After and a Vietnamese message."""
import hashlib
import re
import threading

from harness import Server
from test_delivery import PW, _published_session, _setup, _user

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def _issue(s, tok, sid, body=None):
    return s.request("POST", f"/api/v1/sessions/{sid}/login-codes", body or {}, tok)


def _exam_login(s, username, code):
    return s.request("POST", "/api/v1/auth/exam-login", {"username": username, "code": code})


def _audit(env, action, uid=None):
    where = f" AND entity_id = '{uid}'" if uid else ""
    return int(env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE action = '{action}'{where}"))


def test_codes_issue_login_revoke_reissue(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    _, sid = _published_session(s, st)
    issued_before = _audit(env, "exam_code.issue")
    r = _issue(s, gv, sid)
    assert r.status == 201, r
    d = r.json()
    assert d["issued"] == 6 and len(d["codes"]) == 6, d
    assert d["session"]["id"] == sid and d["session"]["valid_from"], d
    codes = {c["username"]: c for c in d["codes"]}
    assert sorted(codes) == st["students"], codes
    for c in d["codes"]:
        assert CODE.match(c["code"]), c
        assert c["full_name"] and c["class_name"] == "10D1", c
    assert len({c["code"] for c in d["codes"]}) == 6
    assert _audit(env, "exam_code.issue") == issued_before + 6
    # Stored only as a 32-byte keyed hash: the code is nowhere in the table.
    rows = env.cluster.psql(f"SELECT code_hash::text || ' ' || length(code_hash)"
                            f" FROM exam_login_codes WHERE session_id = {sid}").split("\n")
    assert len(rows) == 6 and all(x.endswith(" 32") for x in rows), rows
    plain = d["codes"][0]["code"].replace("-", "").lower().encode().hex()
    assert not any(plain in x for x in rows)
    # Students and other roles may not issue.
    u0, u1 = st["students"][0], st["students"][1]
    assert _issue(s, st["tok"][u0], sid).status == 403

    # The right code logs its student in (lower case, spaces and dashes as typed).
    uid0 = int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{u0}'"))
    used = _audit(env, "login.exam_code", uid0)
    typed = codes[u0]["code"].lower().replace("-", " ")
    r = _exam_login(s, u0, typed)
    assert r.status == 200, r
    j = r.json()
    assert j["token"] and j["user"]["username"] == u0 and j["session_id"] == sid, j
    me = s.request("GET", "/api/v1/me", token=j["token"])
    assert me.status == 200 and me.json()["username"] == u0, me
    assert _audit(env, "login.exam_code", uid0) == used + 1
    # The token lasts at most until an hour after the session closes.
    th = hashlib.sha256(j["token"].encode()).hexdigest()
    late = env.cluster.psql(
        "SELECT a.expires_at <= x.closes_at + interval '1 hour' FROM auth_sessions a"
        f" JOIN sessions x ON x.id = {sid} WHERE a.token_hash = '\\x{th}'::bytea")
    assert late == "t", late
    # The student starts the exam with it.
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=j["token"])
    assert r.status in (200, 201), r

    # Wrong code, another student's code, a malformed one.
    refused = _audit(env, "login.exam_code_refused", uid0)
    r = _exam_login(s, u0, "0000-0000-0000-0000")
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_credentials", r
    assert "mã đăng nhập" in r.json()["error"]["message"], r
    r = _exam_login(s, u0, codes[u1]["code"])
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_credentials", r
    assert _audit(env, "login.exam_code_refused", uid0) == refused + 2
    r = _exam_login(s, u0, "ABC")
    assert r.status == 400 and r.json()["error"]["code"] == "invalid_code", r
    r = s.request("POST", "/api/v1/auth/exam-login", {"username": u0})
    assert r.status == 400 and r.json()["error"]["code"] == "missing_fields", r
    # A success clears the counts these failures left.
    assert _exam_login(s, u0, codes[u0]["code"]).status == 200

    # Revoked: refused at once, audited; a session the code already gave
    # ends with it (someone else may have read the slip); a second revoke
    # finds nothing.
    uid1 = int(env.cluster.psql(f"SELECT id FROM users WHERE username = '{u1}'"))
    r = _exam_login(s, u1, codes[u1]["code"])
    assert r.status == 200, r
    t1 = r.json()["token"]
    assert s.request("GET", "/api/v1/me", token=t1).status == 200
    r = s.request("DELETE", f"/api/v1/sessions/{sid}/login-codes/{uid1}", token=gv)
    assert r.status == 200 and r.json()["revoked"] == 1, r
    assert r.json()["sessions_ended"] >= 1, r
    assert _audit(env, "exam_code.revoke", uid1) == 1
    assert s.request("GET", "/api/v1/me", token=t1).status == 401
    assert s.request("GET", "/api/v1/me", token=j["token"]).status == 200  # not another's
    # The shared fixture's token of this student ended too: other modules use it.
    assert s.request("GET", "/api/v1/me", token=st["tok"][u1]).status == 401
    st["tok"][u1] = s.login(u1, st["pw"][u1])
    r = _exam_login(s, u1, codes[u1]["code"])
    assert r.status == 401 and r.json()["error"]["code"] == "code_revoked", r
    assert s.request("DELETE", f"/api/v1/sessions/{sid}/login-codes/{uid1}",
                     token=gv).status == 404
    # Reissued for one student: the new code works, the old one of a student
    # reissued without a revoke stops working.
    r = _issue(s, gv, sid, {"student_ids": [uid1, uid0]})
    assert r.status == 201 and r.json()["issued"] == 2, r
    new = {c["username"]: c["code"] for c in r.json()["codes"]}
    assert _exam_login(s, u1, new[u1]).status == 200
    r = _exam_login(s, u0, codes[u0]["code"])
    assert r.status == 401 and r.json()["error"]["code"] == "code_revoked", r
    assert _exam_login(s, u0, new[u0]).status == 200
    live = env.cluster.psql(f"SELECT count(*) FROM exam_login_codes WHERE session_id = {sid}"
                            " AND revoked_at IS NULL")
    assert live == "6", live

    # Outside the window: more than an hour before it opens, after it closes.
    u2 = st["students"][2]
    env.cluster.psql(f"UPDATE sessions SET opens_at = now() + interval '2 hours',"
                     f" closes_at = now() + interval '3 hours' WHERE id = {sid}")
    r = _exam_login(s, u2, codes[u2]["code"])
    assert r.status == 403 and r.json()["error"]["code"] == "code_not_yet", r
    env.cluster.psql(f"UPDATE sessions SET opens_at = now() + interval '50 minutes'"
                     f" WHERE id = {sid}")
    assert _exam_login(s, u2, codes[u2]["code"]).status == 200
    env.cluster.psql(f"UPDATE sessions SET opens_at = now() - interval '2 hours',"
                     f" closes_at = now() - interval '1 minute' WHERE id = {sid}")
    r = _exam_login(s, u2, codes[u2]["code"])
    assert r.status == 403 and r.json()["error"]["code"] == "code_expired", r
    assert _audit(env, "login.exam_code_refused") >= 4
    # A closed session gets no new codes.
    assert _issue(s, gv, sid).status == 404


def test_codes_other_school_and_throttle(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    _, sid = _published_session(s, st)
    codes = {c["username"]: c["code"] for c in _issue(s, gv, sid).json()["codes"]}
    # Another school: its teacher cannot issue this session's codes, its
    # student cannot use this school's code.
    env.cli("schools", "add", "DLV-X", "Trường khác", "--province", "TST", "Sở thử nghiệm")
    for name, role in (("gv.elc.x", "teacher"), ("hs.elc.x", "student")):
        if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{name}'") == "0":
            env.cli("users", "add", "--username", name, "--full-name", "Người " + name,
                    "--role", role, "--school", "DLV-X", *(["--subject", "TOAN"]
                                                         if role == "teacher" else []),
                    env={"KIEMTRA_NEW_PASSWORD": PW})
    other = s.login("gv.elc.x", PW)
    r = _issue(s, other, sid)
    assert r.status == 404, r
    u = st["students"][3]
    r = _exam_login(s, "hs.elc.x", codes[u])
    assert r.status == 401 and r.json()["error"]["code"] == "invalid_credentials", r
    # Throttled like a password: after the free tries of a (user, address)
    # pair, 429 with Retry-After, even for the right code.
    statuses = [_exam_login(s, u, "2222-2222-2222-2222").status for _ in range(5)]
    assert statuses == [401] * 5, statuses
    r = _exam_login(s, u, codes[u])
    assert r.status == 429 and int(r.headers["Retry-After"]) > 0, r
    assert r.json()["error"]["code"] == "too_many_attempts", r
    # The teacher clears the wait; the code works again.
    uid = env.cluster.psql(f"SELECT id FROM users WHERE username = '{u}'")
    assert s.request("POST", f"/api/v1/users/{uid}/unlock", {}, gv).status == 200
    assert _exam_login(s, u, codes[u]).status == 200


def test_codes_need_the_secret_key(env):
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    nokey = Server(env, {"KIEMTRA_SECRET_KEY_FILE": env.secret_key + ".missing"})
    try:
        r = _issue(nokey, st["tok"]["gv"], sid)
        assert r.status == 503 and r.json()["error"]["code"] == "no_secret_key", r
        r = _exam_login(nokey, st["students"][0], "0000-0000-0000-0000")
        assert r.status == 503 and "KIEMTRA_SECRET_KEY_FILE" in r.json()["error"]["message"], r
    finally:
        nokey.stop()


def test_password_queue_full_is_503_with_retry_after(env):
    _setup(env)
    _user(env, "gv.queue.dlv", "teacher", "TOAN")
    q = Server(env, {"KIEMTRA_LOGIN_QUEUE": "1", "KIEMTRA_CPU_THREADS": "1",
                     "KIEMTRA_LOGIN_MAX_FAILS_ADDR": "100000"})
    try:
        out, lock = [], threading.Lock()

        def one():
            r = q.request("POST", "/api/v1/auth/login",
                          {"username": "gv.queue.dlv", "password": PW}, timeout=60)
            with lock:
                out.append(r)
        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        busy = [r for r in out if r.status == 503]
        ok = [r for r in out if r.status == 200]
        assert busy and ok and len(busy) + len(ok) == 8, [r.status for r in out]
        for r in busy:
            e = r.json()["error"]
            assert e["code"] == "login_busy" and "thử lại sau" in e["message"], e
            assert 1 <= int(r.headers["Retry-After"]) <= 60, r.headers
            assert e["details"]["retry_after"] == int(r.headers["Retry-After"]), e
        # Once the queue drained, the same login is accepted.
        assert q.login("gv.queue.dlv", PW)
    finally:
        q.stop()
