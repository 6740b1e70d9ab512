"""The live monitor and the exam-room controls through the real server:
every student of the session's classes (also those not started) with state,
answered count, last seen and time left; conditional polling by ETag (304
without a body); the proctor's reopen (scores removed, saves accepted again,
scored again on the next submit) and force submit, both audited and bounded
by teaching assignments; the access code (required, wrong, right, throttled)
and the allowed address ranges of a start (the harness connects from
127.0.0.1)."""
import time

from test_delivery import PW, _published_session, _setup, _user


def _teacher_of_other_subject(env, s, st):
    _user(env, "gv.van.dlv", "teacher", "VAN")
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     " SELECT u.school_id, u.id, 'VAN', c.id FROM users u JOIN classes c"
                     " ON c.school_id = u.school_id AND c.name = '10D1'"
                     " WHERE u.username = 'gv.van.dlv' ON CONFLICT DO NOTHING")
    return s.login("gv.van.dlv", PW)


def _audit(env, action, attempt):
    return env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE action = '{action}'"
                            f" AND entity = 'attempt' AND entity_id = '{attempt}'")


def _key(env, s, st, sid, ref):
    """The key of the version the session's test delivers (another module may
    have corrected the demo item's key since: a newer version)."""
    version = env.cluster.psql(
        "SELECT ti.version FROM test_items ti JOIN sessions x ON x.test_id = ti.test_id"
        f" WHERE x.id = {sid} AND ti.item_ref = '{ref}'")
    item = s.request("GET", f"/api/v1/items/{int(ref[1:])}?version={version}",
                     token=st["tok"]["gv"]).json()
    return item["scoring"]["key"]


def test_monitor_rows_and_etag(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    _, sid = _published_session(s, st)
    path = f"/api/v1/sessions/{sid}/monitor"
    r = s.request("GET", path, token=gv)
    assert r.status == 200, r
    mon = r.json()
    tag = r.headers.get("ETag")
    assert tag and tag.startswith('"') and len(tag) == 34, r.headers
    # Every student of the class, none started yet.
    assert len(mon["students"]) == 6 and mon["counts"]["total"] == 6, mon["counts"]
    assert mon["counts"]["not_started"] == 6 and mon["counts"]["in_progress"] == 0, mon
    assert mon["items_total"] > 0 and mon["test"]["duration_seconds"] == 2700, mon
    assert all(x["state"] == "not_started" and x["answered"] == 0 and x["attempt_id"] is None
               and x["items_total"] == mon["items_total"] for x in mon["students"]), mon
    # Unchanged: 304 without a body; a stale or malformed tag gets the view.
    r = s.request("GET", path, token=gv, headers={"If-None-Match": tag})
    assert r.status == 304 and r.body == b"" and r.headers.get("ETag") == tag, r
    r = s.request("GET", path, token=gv, headers={"If-None-Match": 'W/' + tag})
    assert r.status == 304, r
    r = s.request("GET", path, token=gv, headers={"If-None-Match": '"0123"'})
    assert r.status == 200 and r.json()["counts"]["total"] == 6, r

    # A start changes the tag; the row shows the attempt and its time left.
    u = st["students"][0]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    r = s.request("GET", path, token=gv, headers={"If-None-Match": tag})
    assert r.status == 200, r
    tag2 = r.headers["ETag"]
    assert tag2 != tag
    row = next(x for x in r.json()["students"] if x["attempt_id"] == a["id"])
    assert row["state"] == "in_progress" and 2680 <= row["time_left_seconds"] <= 2700, row
    assert row["last_seen_at"] and row["extra_seconds"] == 0, row
    assert r.json()["counts"]["in_progress"] == 1 and r.json()["counts"]["not_started"] == 5
    # A save changes it too (the attempt row itself is not touched).
    ref = a["payload"]["items"][0]["ref"]
    assert s.request("GET", path, token=gv, headers={"If-None-Match": tag2}).status == 304
    opt = a["payload"]["items"][0].get("options")
    value = opt[0]["id"] if opt else "1"
    rs = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                   {"response": value, "seq": 1}, st["tok"][u])
    assert rs.status == 200, rs
    r = s.request("GET", path, token=gv, headers={"If-None-Match": tag2})
    assert r.status == 200, r
    row = next(x for x in r.json()["students"] if x["attempt_id"] == a["id"])
    assert row["answered"] == 1, row
    # Extra time shows in the row; staff of another school see nothing.
    assert s.request("PATCH", f"/api/v1/attempts/{a['id']}", {"extra_seconds": 600},
                     gv).status == 200
    row = next(x for x in s.request("GET", path, token=gv).json()["students"]
               if x["attempt_id"] == a["id"])
    assert row["extra_seconds"] == 600 and row["time_left_seconds"] > 3200, row
    assert s.request("GET", path, token=st["tok"][u]).status == 403
    assert s.request("GET", "/api/v1/sessions/99999999/monitor", token=gv).status == 404


def test_reopen_and_force_submit(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    van = _teacher_of_other_subject(env, s, st)
    _, sid = _published_session(s, st)
    u, w = st["students"][1], st["students"][2]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    aid = a["id"]
    mcq = next(i for i in a["payload"]["items"] if i["kind"] == "MCQ4")
    right = _key(env, s, st, sid, mcq["ref"])
    wrong = next(o["id"] for o in mcq["options"] if o["id"] != right)

    def put(value, seq, attempt=aid, who=u):
        return s.request("PUT", f"/api/v1/attempts/{attempt}/responses/{mcq['ref']}",
                         {"response": value, "seq": seq}, st["tok"][who])

    assert put(wrong, 1).status == 200
    # Not submitted yet: nothing to reopen.
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "Mất điện"}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "attempt_open", r
    r = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=st["tok"][u])
    assert r.status == 200 and r.json()["status"] == "submitted", r
    first = s.wait_scored(aid, gv)["result"]
    assert first["score"] == "0.00", first
    assert put(right, 2).status == 409  # closed

    # The reason is required; a student or a teacher of another subject may not.
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "  "}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "reason", r
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "x", "minutes": 0}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "minutes", r
    assert s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "x"},
                     st["tok"][u]).status == 403
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "Mất điện"}, van)
    assert r.status == 403 and r.json()["error"]["code"] == "not_assigned", r
    assert _audit(env, "attempt.reopen", aid) == "0"

    # Reopened with the time that was left; its scores are gone.
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen",
                  {"reason": "Máy em bị treo, nộp nhầm"}, gv)
    assert r.status == 200, r
    v = r.json()
    assert v["status"] == "in_progress" and v["result"] is None, v
    assert 2600 <= v["remaining_seconds"] <= 2700, v["remaining_seconds"]
    assert env.cluster.psql(f"SELECT count(*) FROM attempt_scores WHERE attempt_id = {aid}") == "0"
    assert env.cluster.psql(f"SELECT scored_at IS NULL AND score IS NULL FROM attempts"
                            f" WHERE id = {aid}") == "t"
    audit = env.cluster.psql("SELECT new_value->>'reason', old_value->>'score' FROM audit_log"
                             f" WHERE action = 'attempt.reopen' AND entity_id = '{aid}'")
    assert audit == "Máy em bị treo, nộp nhầm|0.00", audit
    mon = s.request("GET", f"/api/v1/sessions/{sid}/monitor", token=gv).json()
    row = next(x for x in mon["students"] if x["attempt_id"] == aid)
    assert row["state"] == "in_progress" and row["reopened_at"], row
    # Saves are accepted again (the save batch sees it in progress) and the
    # next submit scores it again.
    r = put(right, 3)
    assert r.status == 200 and r.json()["saved_seq"] == 3, r
    r = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=st["tok"][u])
    assert r.status == 200 and r.json()["status"] == "submitted", r
    again = s.wait_scored(aid, gv)["result"]
    assert again["score"] == "0.25", again
    # Auto-submitted with no time left: minutes are then required; given, it works.
    env.cluster.psql(f"UPDATE attempts SET submitted_at = deadline WHERE id = {aid}")
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen", {"reason": "Hết giờ oan"}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "minutes", r
    r = s.request("POST", f"/api/v1/attempts/{aid}/reopen",
                  {"reason": "Hết giờ oan", "minutes": 5}, gv)
    assert r.status == 200 and 290 <= r.json()["remaining_seconds"] <= 300, r
    # Extra time on a reopened attempt moves its deadline by the difference.
    r = s.request("PATCH", f"/api/v1/attempts/{aid}", {"extra_seconds": 120}, gv)
    assert r.status == 200 and 400 <= r.json()["remaining_seconds"] <= 420, r.json()

    # Force submit: now, as the student's submit, scored, audited.
    b = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][w]).json()
    r = s.request("POST", f"/api/v1/attempts/{b['id']}/force-submit", token=van)
    assert r.status == 403 and r.json()["error"]["code"] == "not_assigned", r
    assert s.request("POST", f"/api/v1/attempts/{b['id']}/force-submit",
                     token=st["tok"][w]).status == 403
    r = s.request("POST", f"/api/v1/attempts/{b['id']}/force-submit", token=gv)
    assert r.status == 200, r
    v = r.json()
    assert v["status"] == "submitted" and v["submitted_by"] == "teacher", v
    v = s.wait_scored(b["id"], gv)  # scored behind the reply, as a student's submit
    assert v["result"] is not None and v["result"]["score"] == "0.00", v
    assert _audit(env, "attempt.force_submit", b["id"]) == "1"
    assert put(right, 1, attempt=b["id"], who=w).status == 409
    r = s.request("POST", f"/api/v1/attempts/{b['id']}/force-submit", token=gv)
    assert r.status == 409 and r.json()["error"]["code"] == "attempt_closed", r
    mon = s.request("GET", f"/api/v1/sessions/{sid}/monitor", token=gv).json()
    assert mon["counts"]["submitted"] == 1 and mon["counts"]["in_progress"] == 1, mon["counts"]

    # Released results: reopen refused.
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", token=gv).status == 200
    r = s.request("POST", f"/api/v1/attempts/{b['id']}/reopen", {"reason": "x"}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "results_released", r


def test_reopen_refused_for_locked_record(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    _, sid = _published_session(s, st)
    u = st["students"][3]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit",
                     token=st["tok"][u]).status == 200
    s.wait_scored(a["id"], gv)
    # A mark of this session in a locked semester (as publishing would write).
    env.cluster.psql(
        "INSERT INTO record_marks (school_id, student_id, class_id, subject, school_year,"
        " semester, slot, value, source, session_id)"
        f" SELECT a.school_id, a.student_id, {st['class_id']}, 'TOAN', '2037-2038', 1, 'tx1',"
        f" '50', 'session', a.session_id FROM attempts a WHERE a.id = {a['id']};"
        " INSERT INTO record_terms (school_id, school_year, semester)"
        f" SELECT school_id, '2037-2038', 1 FROM attempts WHERE id = {a['id']}")
    r = s.request("POST", f"/api/v1/attempts/{a['id']}/reopen", {"reason": "x"}, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "term_locked", r


def test_access_code(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    van = _teacher_of_other_subject(env, s, st)
    _, sid = _published_session(s, st)
    # Generated on request, shown to staff (session and monitor).
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"access_code": True}, van)
    assert r.status == 403, r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"access_code": "12ab"}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "access_code", r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"access_code": True}, gv)
    assert r.status == 200, r
    code = r.json()["access_code"]
    assert len(code) == 6 and code.isdigit(), code
    assert s.request("GET", f"/api/v1/sessions/{sid}", token=gv).json()["access_code"] == code
    assert s.request("GET", f"/api/v1/sessions/{sid}/monitor",
                     token=gv).json()["access_code"] == code
    assert env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'session.room'"
                            f" AND entity_id = '{sid}'") == "1"
    wrong = "%06d" % ((int(code) + 1) % 1000000)

    u, v = st["students"][4], st["students"][5]
    # Students learn that a code is needed, never the code.
    r = s.request("GET", "/api/v1/me/sessions", token=st["tok"][u])
    mine = next(x for x in r.json() if x["id"] == sid)
    assert mine["needs_access_code"] is True and code not in r.body.decode(), mine
    start = f"/api/v1/sessions/{sid}/attempts"
    r = s.request("POST", start, token=st["tok"][u])
    assert r.status == 403 and r.json()["error"]["code"] == "access_code_required", r
    assert "mã vào phòng" in r.json()["error"]["message"], r
    r = s.request("POST", start, {"access_code": wrong}, st["tok"][u])
    assert r.status == 403 and r.json()["error"]["code"] == "access_code_wrong", r
    assert "còn 9 lần" in r.json()["error"]["message"], r
    r = s.request("POST", start, {"access_code": code}, st["tok"][u])
    assert r.status == 201, r
    aid = r.json()["id"]
    # A resume needs no code.
    r = s.request("POST", start, token=st["tok"][u])
    assert r.status == 200 and r.json()["id"] == aid, r

    # Throttled: 10 wrong codes, then even the right one waits.
    for i in range(10):
        r = s.request("POST", start, {"access_code": wrong}, st["tok"][v])
        assert r.status == 403 and r.json()["error"]["code"] == "access_code_wrong", (i, r)
    r = s.request("POST", start, {"access_code": code}, st["tok"][v])
    assert r.status == 429 and r.json()["error"]["code"] == "access_code_locked", r
    assert 200 <= int(r.headers["Retry-After"]) <= 300, r.headers
    assert env.cluster.psql("SELECT count(*) FROM attempts a JOIN users u ON u.id = a.student_id"
                            f" WHERE a.session_id = {sid} AND u.username = '{v}'") == "0"
    # After the delay one more try is checked.
    env.cluster.psql("UPDATE session_code_tries SET last_failure = now() - interval '6 minutes'"
                     f" WHERE session_id = {sid}")
    r = s.request("POST", start, {"access_code": code}, st["tok"][v])
    assert r.status == 201, r

    # Set on create, and removed with null.
    tid = s.request("GET", f"/api/v1/sessions/{sid}", token=gv).json()["test_id"]
    now = time.time()
    win = {"class_ids": [st["class_id"]], "access_code": "123456",
           "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
           "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201 and r.json()["access_code"] == "123456", r
    sid2 = r.json()["id"]
    r = s.request("POST", f"/api/v1/sessions/{sid2}/attempts", token=st["tok"][u])
    assert r.status == 403 and r.json()["error"]["code"] == "access_code_required", r
    r = s.request("PATCH", f"/api/v1/sessions/{sid2}", {"access_code": None}, gv)
    assert r.status == 200 and r.json()["access_code"] is None, r
    r = s.request("POST", f"/api/v1/sessions/{sid2}/attempts", token=st["tok"][u])
    assert r.status == 201, r


def test_allowed_addresses(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    tid, sid = _published_session(s, st)
    u, w = st["students"][0], st["students"][1]
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"allowed_cidrs": ["10.0.5.0/33"]}, gv)
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "allowed_cidrs", r
    assert "10.0.5.0/33" in r.json()["error"]["details"][0]["message"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"allowed_cidrs": ["10.0.5.7/24"]}, gv)
    assert r.status == 200 and r.json()["allowed_cidrs"] == ["10.0.5.0/24"], r
    start = f"/api/v1/sessions/{sid}/attempts"
    r = s.request("POST", start, token=st["tok"][u])
    assert r.status == 403 and r.json()["error"]["code"] == "address_not_allowed", r
    assert "127.0.0.1" in r.json()["error"]["message"], r
    assert r.json()["error"]["details"][0]["address"] == "127.0.0.1", r
    # A range holding the harness's address lets the start through.
    r = s.request("PATCH", f"/api/v1/sessions/{sid}",
                  {"allowed_cidrs": ["10.0.5.0/24", "127.0.0.0/8"]}, gv)
    assert r.status == 200, r
    r = s.request("POST", start, token=st["tok"][u])
    assert r.status == 201, r
    a = r.json()
    # Started attempts keep saving even when the address rule changes.
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"allowed_cidrs": ["10.0.5.0/24"]}, gv)
    assert r.status == 200, r
    item = a["payload"]["items"][0]
    value = item["options"][0]["id"] if item.get("options") else "1"
    r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{item['ref']}",
                  {"response": value, "seq": 1}, st["tok"][u])
    assert r.status == 200, r
    r = s.request("POST", start, token=st["tok"][u])  # a resume is not checked
    assert r.status == 200, r
    r = s.request("POST", start, token=st["tok"][w])
    assert r.status == 403 and r.json()["error"]["code"] == "address_not_allowed", r
    # Set on create, cleared with [].
    now = time.time()
    win = {"class_ids": [st["class_id"]], "allowed_cidrs": ["127.0.0.1"],
           "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
           "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201 and r.json()["allowed_cidrs"] == ["127.0.0.1/32"], r
    r = s.request("PATCH", f"/api/v1/sessions/{sid}", {"allowed_cidrs": []}, gv)
    assert r.status == 200 and r.json()["allowed_cidrs"] is None, r
    r = s.request("POST", start, token=st["tok"][w])
    assert r.status == 201, r
