"""Exam-day failures: the gateway killed (SIGKILL) while students save, and
PostgreSQL restarted during a test. Every acknowledged answer must be in the
database afterwards, students resume on another gateway with the server's
remaining time, and saves during the outage are refused (never acknowledged)."""
import signal
import tempfile
import threading
import time

from harness import Server
from test_delivery import _blueprint, _published_session, _setup
from test_foundation import _read_logins, _roster_csv, _write


def _saver(server, token, attempt, refs, start_seq, acked, stop):
    """Saves answers in a loop; records (ref, seq, value) of every 200."""
    seq = start_seq
    while not stop.is_set():
        for ref in refs:
            seq += 1
            value = f"A{seq}" if ref.endswith("x") else str(seq)
            try:
                r = server.request("PUT", f"/api/v1/attempts/{attempt}/responses/{ref}",
                                   {"response": value, "seq": seq}, token, timeout=3)
            except OSError:
                time.sleep(0.05)  # the gateway is gone: do not spin
                continue
            if r.status == 200 and r.json()["saved_seq"] == seq:
                acked.append((ref, seq, value))
            elif r.status >= 500:
                time.sleep(0.05)  # the database is away: retry gently, as the page does
            if stop.is_set():
                return


def _check_acked(env, attempt, acked):
    """Every acknowledged save is stored, or a newer one from the same client."""
    stored = {}
    for line in env.cluster.psql(f"SELECT item_ref, seq, response #>> '{{}}' FROM responses"
                                 f" WHERE attempt_id = {attempt}").splitlines():
        ref, seq, value = line.split("|")
        stored[ref] = (int(seq), value)
    lost = [a for a in acked if a[0] not in stored or stored[a[0]][0] < a[1]
            or (stored[a[0]][0] == a[1] and stored[a[0]][1] != a[2])]
    assert not lost, f"{len(lost)} acknowledged answers lost, e.g. {lost[:3]}"


def test_gateway_killed_during_saves_loses_nothing(env):
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    u = st["students"][5]
    tok = st["tok"][u]
    g1 = Server(env)
    a = g1.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
    refs = [i["ref"] for i in a["payload"]["items"] if i["kind"] in ("SHORT", "ESSAY")]
    acked, stop = [], threading.Event()
    t = threading.Thread(target=_saver, args=(g1, tok, a["id"], refs, 0, acked, stop))
    t.start()
    time.sleep(1.0)
    g1.proc.send_signal(signal.SIGKILL)  # no goodbye: in-flight saves are cut off
    g1.proc.wait(timeout=10)
    stop.set()
    t.join(timeout=10)
    g1.log.close()
    assert len(acked) > 5, acked
    _check_acked(env, a["id"], acked)
    # Another gateway: the student resumes with the same answers and time.
    before = a["remaining_seconds"]
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
    assert r.status == 200 and r.json()["id"] == a["id"], r
    again = r.json()
    assert before - 60 <= again["remaining_seconds"] <= before, (before, again["remaining_seconds"])
    last = {}
    for ref, seq, value in acked:
        last[ref] = max(last.get(ref, (0, "")), (seq, value))
    for ref, (seq, value) in last.items():
        assert again["responses"][ref]["seq"] >= seq, (ref, again["responses"][ref], seq)


def test_database_restart_during_saves(env):
    s, st = _setup(env)
    _, sid = _published_session(s, st)
    u = st["students"][4]
    tok = st["tok"][u]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
    refs = [i["ref"] for i in a["payload"]["items"] if i["kind"] in ("SHORT", "ESSAY")]
    acked, stop = [], threading.Event()
    t = threading.Thread(target=_saver, args=(s, tok, a["id"], refs, 1000, acked, stop))
    t.start()
    time.sleep(0.8)
    env.cluster.stop()
    try:
        during = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{refs[0]}",
                           {"response": "trong lúc mất kết nối", "seq": 999999}, tok)
        assert during.status == 503, during
        time.sleep(1.0)
    finally:
        env.cluster.start()  # whatever happened, the next tests get their database back
        if s.proc.poll() is not None:
            stop.set()
    deadline = time.time() + 15
    while time.time() < deadline and s.request("GET", "/healthz").status != 200:
        time.sleep(0.2)
    assert s.request("GET", "/healthz").status == 200
    time.sleep(1.0)  # saves go on after the database is back
    stop.set()
    t.join(timeout=15)
    assert any(seq > 1000 for _, seq, _ in acked), acked
    _check_acked(env, a["id"], acked)
    # The refused save was never stored.
    stored = env.cluster.psql(f"SELECT count(*) FROM responses WHERE attempt_id = {a['id']}"
                              " AND seq = 999999")
    assert stored == "0", stored
    assert s.proc.poll() is None


def test_hundred_students_and_a_sigkill(env):
    """100 students of class 10R1 save answers on one gateway; it is killed
    with SIGKILL; on a new gateway every acknowledged save is there and the
    attempts resume with the remaining time the server keeps."""
    s, st = _setup(env)
    tmp = tempfile.mkdtemp()
    rows = [[f"RES{i:03d}", f"Học Sinh R{i}", "02/02/2010", "Nữ", "10R1"] for i in range(100)]
    path = _write(tmp, "10r1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", "DLV-A", "--year", "2026-2027")
    logins = _read_logins(path + ".logins.csv")
    cls = int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                               " WHERE s.code = 'DLV-A' AND c.name = '10R1'"))
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     f" SELECT u.school_id, u.id, 'TOAN', {cls} FROM users u"
                     " WHERE u.username = 'gv.dlv' ON CONFLICT DO NOTHING")
    test = s.request("POST", "/api/v1/tests", {
        "title": "Kiểm tra thường xuyên", "subject": "TOAN", "grade": 10, "kind": "tx",
        "duration_seconds": 1800, "forms": 4, "blueprint": _blueprint(st["per"])},
        st["tok"]["gv"]).json()
    assert s.request("POST", f"/api/v1/tests/{test['id']}/publish",
                     token=st["tok"]["gv"]).status == 200
    now = time.time()
    sess = s.request("POST", f"/api/v1/tests/{test['id']}/sessions", {
        "class_ids": [cls],
        "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600))},
        st["tok"]["gv"]).json()
    g1 = Server(env)
    students = []
    for row in logins:
        tok = g1.login(row[0], row[1])
        a = g1.request("POST", f"/api/v1/sessions/{sess['id']}/attempts", token=tok).json()
        refs = [i["ref"] for i in a["payload"]["items"] if i["kind"] in ("SHORT", "ESSAY")]
        students.append((tok, a, refs, []))
    stop = threading.Event()
    threads = [threading.Thread(target=_saver, args=(g1, tok, a["id"], refs, 0, acked, stop))
               for tok, a, refs, acked in students]
    for t in threads:
        t.start()
    time.sleep(2.0)
    g1.proc.send_signal(signal.SIGKILL)
    g1.proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=20)
    g1.log.close()
    total = sum(len(acked) for *_, acked in students)
    assert total >= 100, total
    for tok, a, refs, acked in students:
        _check_acked(env, a["id"], acked)
    # Resume on the main gateway: same attempt, answers, and the server's time.
    for tok, a, refs, acked in students[:10]:
        r = s.request("POST", f"/api/v1/sessions/{sess['id']}/attempts", token=tok).json()
        assert r["id"] == a["id"] and a["remaining_seconds"] - 120 <= r["remaining_seconds"] \
            <= a["remaining_seconds"], (a["remaining_seconds"], r["remaining_seconds"])
    print(f"{total} acknowledged saves by 100 students, none lost after SIGKILL")
