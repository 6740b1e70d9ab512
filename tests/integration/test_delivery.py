"""Timed delivery through the real server: a test from a blueprint, publish
(shortage report, forms without keys), sessions, attempts (idempotent start,
forms spread over a class, seq-guarded saves acknowledged after commit,
deadline enforcement, submit and scoring), extra time, the expiry job, the
live monitor and the release of results."""
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from harness import ROOT, Server
from test_foundation import _read_logins, _roster_csv, _write

PW = "mat-khau-thu-nghiem"
SECRET_KEYS = ("\"key\"", "\"keys\"", "statement_keys", "score_table", "tolerance", "rubric",
               "model_answer", "explanation", "scoring")


def _demo_items():
    with open(os.path.join(ROOT, "demo", "items-toan10.json"), encoding="utf-8") as f:
        return json.load(f)


def _user(env, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người " + username,
                "--role", role, "--school", "DLV-A"]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})


def _setup(env):
    """School DLV-A: a teacher, a subject head, class 10D1 of 6 students, and
    approved demo items (2 per kind and level where the bank has them). Made
    once per run and kept on env (other test files import this)."""
    s = env.main_server()
    if getattr(env, "delivery_state", None):
        return s, env.delivery_state
    _STATE = env.delivery_state = {}
    env.cli("schools", "add", "DLV-A", "Trường giao đề", "--province", "TST", "Sở thử nghiệm")
    _user(env, "gv.dlv", "teacher", "TOAN")
    _user(env, "tt.dlv", "subject_head", "TOAN")
    tmp = tempfile.mkdtemp()
    rows = [[f"DLV{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nam", "10D1"] for i in range(1, 7)]
    path = _write(tmp, "10d1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", "DLV-A", "--year", "2026-2027")
    students = {row[0]: row[1] for row in _read_logins(path + ".logins.csv")}
    # Both teach TOAN to 10D1 (teaching assignments bound their writes).
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     " SELECT u.school_id, u.id, 'TOAN', c.id FROM users u JOIN classes c"
                     " ON c.school_id = u.school_id AND c.name = '10D1'"
                     " WHERE u.username IN ('gv.dlv', 'tt.dlv') ON CONFLICT DO NOTHING")
    tok = {"gv": s.login("gv.dlv", PW), "tt": s.login("tt.dlv", PW)}
    for u, p in students.items():
        tok[u] = s.login(u, p)
    chosen, per = [], {}
    for it in _demo_items():
        k = (it["kind"], it["level"])
        if it["kind"] == "MR":
            continue  # MR shares DT.NLC with MCQ4; keep the rows unambiguous
        if per.get(k, 0) < 2 and it["outcome"].startswith("VN18.TOAN.10.SDS."):
            per[k] = per.get(k, 0) + 1
            chosen.append(it)
    ids = []
    for it in chosen:
        it = dict(it, identifier="DLV-" + it["identifier"])
        r = s.request("POST", "/api/v1/items", it, tok["gv"])
        assert r.status == 201, r
        iid = r.json()["id"]
        assert s.request("PATCH", f"/api/v1/items/{iid}", {"status": "submitted"},
                         tok["gv"]).status == 200
        assert s.request("PATCH", f"/api/v1/items/{iid}", {"status": "approved"},
                         tok["tt"]).status == 200
        ids.append(iid)
    cls = env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                           " WHERE s.code = 'DLV-A' AND c.name = '10D1'")
    _STATE.update(tok=tok, students=sorted(students), pw=students, per=per, items=chosen,
                  class_id=int(cls))
    return s, _STATE


def _blueprint(per):
    rows = []
    pts = {"MCQ4": "0,25", "MR": "0.5", "TF4": "1", "SHORT": "0.5", "ESSAY": "1,5"}
    fmt = {"MCQ4": "DT.NLC", "MR": "DT.NLC", "TF4": "DT.DS", "SHORT": "DT.TLN", "ESSAY": "DT.TL"}
    for (kind, level), n in sorted(per.items()):
        rows.append({"node": "VN18.TOAN.10.SDS", "level": level, "format": fmt[kind],
                     "count": n, "points": pts[kind]})
    return rows


def _test(s, st, **extra):
    body = {"title": "Kiểm tra giữa kỳ I — Toán 10", "subject": "TOAN", "grade": 10,
            "kind": "gk", "duration_seconds": 2700, "forms": 4,
            "blueprint": _blueprint(st["per"])}
    body.update(extra)
    return s.request("POST", "/api/v1/tests", body, st["tok"]["gv"])


def _published_session(s, st, **extra):
    r = _test(s, st, **extra)
    assert r.status == 201, r
    tid = r.json()["id"]
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=st["tok"]["gv"])
    assert r.status == 200, r
    now = time.time()
    win = {"class_ids": [st["class_id"]],
           "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
           "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, st["tok"]["gv"])
    assert r.status == 201, r
    return tid, r.json()["id"]


def test_blueprint_validation_and_shortage(env):
    s, st = _setup(env)
    bad = {"title": "", "subject": "toan", "grade": 13, "kind": "hk", "duration_seconds": 5,
           "forms": 0, "blueprint": [{"node": "x", "level": "B", "format": "NLC", "count": "2",
                                      "points": "-1"}]}
    r = s.request("POST", "/api/v1/tests", bad, st["tok"]["gv"])
    assert r.status == 422, r
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields >= {"title", "subject", "grade", "kind", "duration_seconds", "forms",
                      "blueprint[0].node", "blueprint[0].level", "blueprint[0].format",
                      "blueprint[0].count", "blueprint[0].points"}, fields
    # A row the bank cannot fill: 409 naming the row, what it needs and has.
    rows = _blueprint(st["per"]) + [{"node": "VN18.TOAN.10.SDS", "level": "MD.VC",
                                     "format": "DT.DS", "count": 3, "points": "1"}]
    r = _test(s, st, blueprint=rows)
    assert r.status == 201, r
    tid = r.json()["id"]
    r = s.request("POST", f"/api/v1/tests/{tid}/publish", token=st["tok"]["gv"])
    assert r.status == 409 and r.json()["error"]["code"] == "blueprint_shortage", r
    d = r.json()["error"]["details"]
    assert d == [{"row": len(rows), "node": "VN18.TOAN.10.SDS", "level": "MD.VC",
                  "format": "DT.DS", "needed": 3, "available": 0, "assignable": 0}], d
    assert s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()["status"] == \
        "draft"
    # Students cannot build tests.
    assert s.request("POST", "/api/v1/tests", bad, st["tok"][st["students"][0]]).status == 403


def test_publish_forms_and_attempt_flow(env):
    s, st = _setup(env)
    tid, sid = _published_session(s, st)
    t = s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()
    assert t["status"] == "published" and len(t["form_codes"]) == 4, t
    assert len(set(t["form_codes"])) == 4 and all(len(c) == 3 for c in t["form_codes"]), t
    n_items = sum(r["count"] for r in _blueprint(st["per"]))
    assert len(t["items"]) == n_items, t
    # Publishing twice is refused.
    assert s.request("POST", f"/api/v1/tests/{tid}/publish",
                     token=st["tok"]["gv"]).status == 409

    # Every student starts; a second start returns the same attempt.
    attempts, forms = {}, {}
    for u in st["students"]:
        mine = s.request("GET", "/api/v1/me/sessions", token=st["tok"][u]).json()
        assert sid in [x["id"] for x in mine], mine
        r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u])
        assert r.status == 201, r
        a = r.json()
        again = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u])
        assert again.status == 200 and again.json()["id"] == a["id"], again
        body = r.body.decode()
        for secret in SECRET_KEYS:
            assert secret not in body, (secret, body[:2000])
        assert 2690 <= a["remaining_seconds"] <= 2700, a
        assert a["result"] is None and a["status"] == "in_progress", a
        attempts[u], forms[u] = a, a["form_code"]
    # Six students, four forms: neighbours in the roster get different forms.
    order = st["students"]
    assert all(forms[order[i]] != forms[order[i + 1]] for i in range(len(order) - 1)), forms
    assert len(set(forms.values())) == 4, forms
    # The same items on every form, in a different order on some.
    refs = [sorted(i["ref"] for i in attempts[u]["payload"]["items"]) for u in order]
    assert all(r == refs[0] for r in refs), refs
    seqs = {tuple(i["ref"] for i in attempts[u]["payload"]["items"]) for u in order}
    assert len(seqs) > 1, seqs

    u, other = order[0], order[1]
    a = attempts[u]
    aid = a["id"]
    items = {i["ref"]: i for i in a["payload"]["items"]}
    keyed = {("DLV-" + it["identifier"]): it for it in st["items"]}
    ids = {x["item_ref"]: x["item_id"] for x in t["items"]}
    ident = {}
    for ref, iid in ids.items():
        ident[ref] = s.request("GET", f"/api/v1/items/{iid}", token=st["tok"]["gv"]).json()[
            "identifier"]

    def put(ref, response, seq, tok=None, attempt=aid):
        return s.request("PUT", f"/api/v1/attempts/{attempt}/responses/{ref}",
                         {"response": response, "seq": seq}, tok or st["tok"][u])

    mcq = [r for r in items if items[r]["kind"] == "MCQ4"]
    right = keyed[ident[mcq[0]]]["key"]
    wrong = next(o["id"] for o in items[mcq[0]]["options"] if o["id"] != right)
    # seq 2 then a late seq 1: the newer answer stays.
    r = put(mcq[0], right, 2)
    assert r.status == 200 and r.json()["saved_seq"] == 2, r
    r = put(mcq[0], wrong, 1)
    assert r.status == 200 and r.json()["saved_seq"] == 2, r
    r = put(mcq[0], right, 2)  # a repeat is harmless
    assert r.status == 200 and r.json()["saved_seq"] == 2, r
    right1 = keyed[ident[mcq[1]]]["key"]
    wrong1 = next(o["id"] for o in items[mcq[1]]["options"] if o["id"] != right1)
    assert put(mcq[1], wrong1, 1).status == 200
    # Bad input, unknown item, someone else's attempt.
    assert put(mcq[0], {"x": 1}, 3).status == 400
    assert put(mcq[0], "A", -1).status == 400
    assert put("c999999", "A", 3).status == 404
    assert put(mcq[0], "A", 9, tok=st["tok"][other]).status == 404
    assert s.request("GET", f"/api/v1/attempts/{aid}", token=st["tok"][other]).status == 404
    saved = s.request("GET", f"/api/v1/attempts/{aid}", token=st["tok"][u]).json()
    assert saved["responses"][mcq[0]] == {"response": right, "seq": 2}, saved["responses"]

    # Extra time from the teacher moves the deadline; students cannot.
    r = s.request("PATCH", f"/api/v1/attempts/{aid}", {"extra_seconds": 600}, st["tok"]["gv"])
    assert r.status == 200 and r.json()["extra_seconds"] == 600, r
    assert 3200 <= r.json()["remaining_seconds"] <= 3300, r.json()["remaining_seconds"]
    assert s.request("PATCH", f"/api/v1/attempts/{aid}", {"extra_seconds": 60},
                     st["tok"][u]).status == 403

    mon = s.request("GET", f"/api/v1/sessions/{sid}/monitor", token=st["tok"]["gv"]).json()
    assert mon["counts"] == {"total": 6, "not_started": 0, "in_progress": 6, "submitted": 0,
                             "auto_submitted": 0, "needs_marking": 0,
                             "scoring_failed": 0}, mon["counts"]
    me = next(x for x in mon["students"] if x["attempt_id"] == aid)
    assert me["answered"] == 2 and me["last_seen_at"], me

    # Submit: idempotent, scored, hidden from the student until released.
    r = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=st["tok"][u])
    assert r.status == 200 and r.json()["status"] == "submitted", r
    assert r.json()["result"] is None and r.json()["submitted_by"] == "student", r.json()
    # Acknowledged at the commit that closed it; scored behind the reply.
    assert s.wait_scored(aid, st["tok"][u])["result"] is None  # not released yet
    assert s.request("POST", f"/api/v1/attempts/{aid}/submit",
                     token=st["tok"][u]).json()["status"] == "submitted"
    assert put(mcq[1], right1, 5).status == 409
    teacher = s.request("GET", f"/api/v1/attempts/{aid}", token=st["tok"]["gv"]).json()
    assert teacher["result"]["score"] == "0.25", teacher["result"]
    # The essays were not answered: they score 0 with nothing to mark.
    assert teacher["result"]["needs_marking"] is False, teacher["result"]
    scores = env.cluster.psql(f"SELECT item_ref, score FROM attempt_scores WHERE attempt_id = {aid}"
                              f" AND score IS NOT NULL AND score > 0")
    assert scores == f"{mcq[0]}|25", scores
    audit = env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.extra_time'"
                             f" AND entity_id = '{aid}'")
    assert audit == "1", audit

    # Release: now the student sees the score.
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", token=st["tok"]["gv"]).status == 200
    mine = s.request("GET", f"/api/v1/attempts/{aid}", token=st["tok"][u]).json()
    assert mine["result"]["score"] == "0.25", mine


def test_starts_together_and_refusals(env):
    """Starts arriving together share one transaction (group commit): each
    student still gets exactly one attempt (one 201, then 200 with the same
    id), the form of their rank in the roster, and a start that cannot be
    made is refused with its own reason, whatever else was in its batch."""
    s, st = _setup(env)
    tid, sid = _published_session(s, st)
    order = st["students"]
    jobs = [u for u in order for _ in range(3)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        replies = list(pool.map(lambda u: (u, s.request(
            "POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u])), jobs))
    ids, created = {}, {}
    for u, r in replies:
        assert r.status in (200, 201), r
        ids.setdefault(u, set()).add(r.json()["id"])
        created[u] = created.get(u, 0) + (r.status == 201)
    assert all(len(v) == 1 for v in ids.values()), ids
    assert all(n == 1 for n in created.values()), created
    rows = env.cluster.psql(
        "SELECT u.username || ':' || f.form_index FROM attempts a JOIN users u ON u.id = a.student_id"
        f" JOIN test_forms f ON f.id = a.form_id WHERE a.session_id = {sid} ORDER BY u.username")
    assert rows.split() == [f"{u}:{i % 4}" for i, u in enumerate(order)], rows

    # Submits arriving together, each student three times: all answered with
    # the submitted attempt, each scored once.
    aid = {u: next(iter(v)) for u, v in ids.items()}
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        done = list(pool.map(lambda u: s.request(
            "POST", f"/api/v1/attempts/{aid[u]}/submit", token=st["tok"][u]), jobs))
    for r in done:
        assert r.status == 200 and r.json()["status"] == "submitted", r
    for u in order:
        s.wait_scored(aid[u], st["tok"][u])
    n_items = sum(r["count"] for r in _blueprint(st["per"]))
    assert env.cluster.psql(
        "SELECT count(*) || ' ' || count(DISTINCT attempt_id) FROM attempt_scores"
        f" WHERE attempt_id IN (SELECT id FROM attempts WHERE session_id = {sid})") == \
        f"{n_items * len(order)} {len(order)}"
    assert env.cluster.psql(f"SELECT count(*) FROM attempts WHERE session_id = {sid}"
                            " AND scored_at IS NOT NULL AND submitted_by = 'student'") == \
        str(len(order))
    # Another student's attempt cannot be submitted.
    r = s.request("POST", f"/api/v1/attempts/{aid[order[0]]}/submit", token=st["tok"][order[1]])
    assert r.status == 404, r

    # Refusals, sent together with starts that succeed.
    def window(opens, closes):
        body = {"class_ids": [st["class_id"]],
                "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(opens)),
                "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(closes))}
        r = s.request("POST", f"/api/v1/tests/{tid}/sessions", body, st["tok"]["gv"])
        assert r.status == 201, r
        return r.json()["id"]
    now = time.time()
    early, closed, other, fresh = (window(now + 3600, now + 7200), window(now - 60, now + 3600),
                                   window(now - 60, now + 3600), window(now - 60, now + 3600))
    env.cluster.psql(f"UPDATE sessions SET closes_at = now() - interval '1 second' WHERE id = {closed}")
    env.cluster.psql(f"DELETE FROM session_classes WHERE session_id = {other}")
    u = order[0]
    cases = [(early, 409, "not_open_yet"), (closed, 409, "session_closed"), (other, 404, "not_found"),
             (999999999, 404, "not_found")] + [(fresh, 201, None)]
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        got = list(pool.map(lambda c: s.request("POST", f"/api/v1/sessions/{c[0]}/attempts",
                                                 token=st["tok"][u]), cases))
    for (sess, status, code), r in zip(cases, got):
        assert r.status == status, (sess, r)
        if code:
            assert r.json()["error"]["code"] == code and r.json()["error"]["message"], r
    assert env.cluster.psql(f"SELECT count(*) FROM attempts WHERE session_id IN ({early}, {closed},"
                            f" {other})") == "0"


def test_deadline_and_expiry_job(env):
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    u = st["students"][2]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    ref = a["payload"]["items"][0]["ref"]
    ok = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                   {"response": "A", "seq": 1}, st["tok"][u])
    assert ok.status == 200, ok
    # Time runs out (the clock is moved by rewriting the deadline).
    env.cluster.psql(f"UPDATE attempts SET deadline = now() - interval '1 second'"
                     f" WHERE id = {a['id']}")
    late = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                     {"response": "B", "seq": 2}, st["tok"][u])
    assert late.status == 409 and late.json()["error"]["code"] == "attempt_closed", late
    deadline = time.time() + 15
    state = None
    while time.time() < deadline:
        state = env.cluster.psql(f"SELECT status, submitted_by, scored_at IS NOT NULL"
                                 f" FROM attempts WHERE id = {a['id']}")
        if state == "submitted|auto|t":
            break
        time.sleep(0.3)
    assert state == "submitted|auto|t", state
    got = s.request("GET", f"/api/v1/attempts/{a['id']}", token=st["tok"][u]).json()
    assert got["responses"][ref] == {"response": "A", "seq": 1}, got["responses"]
    assert got["remaining_seconds"] == 0, got


def test_no_key_material_reaches_a_student(env):
    """Every body a student receives during a whole test, from the session
    list to the released result, is free of key material."""
    s, st = _setup(env)
    tid, sid = _published_session(s, st)
    u = st["students"][1]
    tok = st["tok"][u]
    bodies = []

    def req(method, path, body=None):
        r = s.request(method, path, body, tok)
        bodies.append((path, r.body.decode()))
        return r

    req("GET", "/api/v1/me/sessions")
    a = req("POST", f"/api/v1/sessions/{sid}/attempts").json()
    req("GET", f"/api/v1/attempts/{a['id']}")
    answers = {"MCQ4": "A", "MR": ["A", "B"], "TF4": {"a": True, "b": False},
               "SHORT": "1,5", "ESSAY": "Bài làm"}
    for k, it in enumerate(a["payload"]["items"], 1):
        req("PUT", f"/api/v1/attempts/{a['id']}/responses/{it['ref']}",
            {"response": answers[it["kind"]], "seq": k})
    req("POST", f"/api/v1/attempts/{a['id']}/submit")
    req("GET", f"/api/v1/attempts/{a['id']}")
    bodies.append((f"/api/v1/attempts/{a['id']}", json.dumps(s.wait_scored(a["id"], tok))))
    assert s.request("POST", f"/api/v1/sessions/{sid}/release", token=st["tok"]["gv"]).status == 200
    done = req("GET", f"/api/v1/attempts/{a['id']}").json()
    assert done["result"] is not None, done
    markers = SECRET_KEYS + ("correctResponse", "mapping", "mapEntry", "responseProcessing",
                             "\"seed\"")
    for path, body in bodies:
        for m in markers:
            assert m not in body, (m, path, body[:500])
    # Other forms' orders never reach this student: the items come in this form's order only.
    codes = s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()["form_codes"]
    assert done["form_code"] in codes and len(bodies) >= 8, (done["form_code"], codes)


def test_stop_while_saves_wait_on_the_database(env):
    """A server stopped while saves wait on the database longer than the
    stop's 2 s grace (two transactions in flight, more saves queued behind
    them) exits cleanly: the queued saves are answered unavailable, the
    pool fails the transactions after the worker's queues are gone, and the
    sanitizers find no use after free and no leak. No save was
    acknowledged; resent to a running server, they are."""
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    u = st["students"][4]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    refs = [it["ref"] for it in a["payload"]["items"]]
    saves = [(refs[i % len(refs)], 1 + i // len(refs)) for i in range(6)]
    srv = Server(env, {"KIEMTRA_WORKERS": "1"})  # one queue for all of them
    holder = subprocess.Popen(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env.cluster.sock, "-p",
         str(env.cluster.port), "-U", "kiemtra", "-d", "kiemtra", "-c",
         "BEGIN; LOCK TABLE responses IN EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10

    def waiting(n):
        """Until n transactions wait for the table lock."""
        while int(env.cluster.psql("SELECT count(*) FROM pg_stat_activity"
                                   " WHERE wait_event_type = 'Lock'")) < n:
            assert time.time() < deadline, f"{n} transactions did not reach the lock"
            time.sleep(0.02)

    def save(ref_seq):
        ref, seq = ref_seq
        try:
            return srv.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                               {"response": "A", "seq": seq}, st["tok"][u], timeout=20).status
        except OSError as e:  # the stopping server closed the connection
            return type(e).__name__

    try:
        while env.cluster.psql("SELECT count(*) FROM pg_stat_activity"
                               " WHERE wait_event = 'PgSleep'") == "0":
            assert time.time() < deadline and holder.poll() is None, holder.communicate()[1]
            time.sleep(0.05)
        with ThreadPoolExecutor(len(saves)) as ex:
            # Two transactions in flight (the most per school and worker),
            # then four saves that can only wait in the queue.
            futs = [ex.submit(save, saves[0])]
            waiting(1)
            futs.append(ex.submit(save, saves[1]))
            waiting(2)
            futs += [ex.submit(save, x) for x in saves[2:]]
            time.sleep(0.5)  # they reach the server (loopback)
            assert srv.stop() == 0  # SIGTERM; no sanitizer report in its log
            got = [f.result(timeout=20) for f in futs]
        assert 200 not in got, got
    finally:
        holder.wait(timeout=20)
    for ref, seq in saves:
        r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                      {"response": "A", "seq": seq}, st["tok"][u])
        assert r.status == 200 and r.json()["saved_seq"] >= seq, r


def test_saves_that_come_together_share_a_transaction(env):
    """Saves arriving within KIEMTRA_SAVE_GATHER_MS of their queue's last
    save transaction wait for it and go together: three saves in one
    transaction (`/metrics`), each answered after that commit. A bad value
    stops the server before it serves."""
    from test_bench import _group_counts
    bad = subprocess.run([env.binary, "serve"], env=dict(env.base_env, KIEMTRA_SAVE_GATHER_MS="-1"),
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0 and "KIEMTRA_SAVE_GATHER_MS=-1 is outside 0..1000" in bad.stderr, \
        bad.stderr
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    u = st["students"][5]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][u]).json()
    refs = [it["ref"] for it in a["payload"]["items"]]
    srv = Server(env, {"KIEMTRA_WORKERS": "1", "KIEMTRA_SAVE_GATHER_MS": "1000"})

    def save(ref, seq):
        return srv.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                           {"response": "A", "seq": seq}, st["tok"][u])

    try:
        # The first goes at once (nothing sent for a while); the next three
        # come within the second after it, so they wait and go as one.
        assert save(refs[0], 1).status == 200
        before = _group_counts(srv)
        with ThreadPoolExecutor(3) as ex:
            got = list(ex.map(lambda i: save(refs[i % len(refs)], 2 + i // len(refs)), range(1, 4)))
        assert all(r.status == 200 for r in got), got
        after = _group_counts(srv)
        assert after[("rows", "save")] - before.get(("rows", "save"), 0) == 3, (before, after)
        assert after[("batches", "save")] - before.get(("batches", "save"), 0) == 1, (before, after)
    finally:
        srv.stop()
