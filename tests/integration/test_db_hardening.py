"""The database as a second line of defence, and what PostgreSQL and the
outbox leak or repeat.

- Under a student's tenant the application role sees no item versions (keys,
  score tables), no password hash of anyone, no user row but the student's
  own and no form but those of the student's attempts; the student's pages
  still work.
- The application role cannot rewrite an item version, a published test or
  its forms, nor change a mark or a result of a locked semester; a lock that
  lands while a teacher's edit is in flight is answered 409 term_locked.
- A slow statement is logged without its parameters, in a 0600 file.
- Two gateways deliver every exchange-record version exactly once, also when
  one of them dies while sending.
"""
import os
import re
import signal
import subprocess
import time

from harness import Server, free_port
from test_delivery import _published_session, _setup
from test_records import _receiver, _rx


def _ids(env, username):
    row = env.cluster.psql("SELECT id, school_id, province_id, role FROM users"
                           f" WHERE username = '{username}'")
    uid, school, province, role = row.split("|")
    return {"user_id": uid, "school_id": school, "province_id": province, "role": role,
            "admin_province": ""}


def _app(env, tenant, sql):
    """Runs sql as kiemtra_app with the tenant settings pgpool.c sets, in a
    transaction that is rolled back. Returns the finished psql process."""
    sets = "".join(f"SET LOCAL kiemtra.{k} = '{v}'; " for k, v in tenant.items())
    return env.cluster.psql(f"BEGIN; {sets}{sql}; ROLLBACK", user="kiemtra_app", check=False)


def _app_value(env, tenant, sql):
    p = _app(env, tenant, sql)
    assert p.returncode == 0, (sql, p.stderr)
    return p.stdout.strip()


def _holding(env, sql):
    """Starts psql as the owner running sql then pg_sleep(2.5) in one
    transaction; returns once it sleeps (its locks taken)."""
    p = subprocess.Popen(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", env.cluster.sock, "-p",
         str(env.cluster.port), "-U", "kiemtra", "-d", "kiemtra", "-c",
         f"BEGIN; {sql}; SELECT pg_sleep(2.5); COMMIT"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while env.cluster.psql("SELECT count(*) FROM pg_stat_activity"
                           " WHERE wait_event = 'PgSleep'") == "0":
        assert time.time() < deadline and p.poll() is None, p.communicate()[1]
        time.sleep(0.05)
    return p


def _student_attempt(s, st, student):
    _, sid = _published_session(s, st)
    r = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][student])
    assert r.status == 201, r
    return r.json()


def test_student_tenant_sees_no_keys_hashes_or_other_forms(env):
    s, st = _setup(env)
    student = st["students"][0]
    attempt = _student_attempt(s, st, student)
    me = _ids(env, student)
    teacher = _ids(env, "gv.dlv")
    # What the application role can read as this student, statement by statement.
    assert _app_value(env, teacher, "SELECT count(*) > 0 FROM item_versions") == "t"
    leaks = {}
    for name, sql, want in (
            ("item versions", "SELECT count(*) FROM item_versions", "0"),
            ("item keys", "SELECT count(*) FROM item_versions WHERE scoring <> '{}'", "0"),
            ("items", "SELECT count(*) FROM items", "0"),
            ("user rows", "SELECT count(*) FROM users", "1"),
            ("forms", "SELECT count(*) FROM test_forms",
             "SELECT count(DISTINCT form_id) FROM attempts"),
    ):
        got = _app_value(env, me, sql)
        if want.startswith("SELECT"):
            want = _app_value(env, me, want)
        if got != want:
            leaks[name] = (got, want)
    assert not leaks, leaks
    # No password hash for anyone, whatever the tenant.
    for who in (me, teacher):
        p = _app(env, who, "SELECT count(password_hash) FROM users")
        assert p.returncode != 0 and "permission denied" in p.stderr, (who["role"], p.stdout)
    # The student's own pages still work.
    view = s.request("GET", f"/api/v1/attempts/{attempt['id']}", token=st["tok"][student])
    assert view.status == 200 and view.json()["payload"]["items"], view
    assert view.json()["form_code"] == attempt["form_code"], view
    classes = s.request("GET", "/api/v1/classes", token=st["tok"][student]).json()["classes"]
    assert [c["students"] for c in classes] == [len(st["students"])], classes
    me_page = s.request("GET", "/api/v1/me", token=st["tok"][student])
    assert me_page.status == 200 and me_page.json()["username"] == student, me_page


def test_app_role_cannot_rewrite_versions_forms_or_locked_semesters(env):
    s, st = _setup(env)
    tid, _ = _published_session(s, st)
    teacher = _ids(env, "gv.dlv")
    school = teacher["school_id"]
    student = env.cluster.psql(f"SELECT id FROM users WHERE username = '{st['students'][1]}'")
    year = "2031-2032"
    # A mark and a result of semester 1, then the semester is locked.
    env.cluster.psql(
        "INSERT INTO record_marks (school_id, student_id, class_id, subject, school_year,"
        f" semester, slot, value, source) VALUES ({school}, {student}, {st['class_id']},"
        f" 'TOAN', '{year}', 1, 'tx1', '70', 'manual');"
        "INSERT INTO record_results (school_id, student_id, subject, school_year, semester,"
        f" status, value, ruleset, ruleset_version) VALUES ({school}, {student}, 'TOAN',"
        f" '{year}', 1, 'incomplete', NULL, 'TT22-2021', '1');"
        f"INSERT INTO record_terms (school_id, school_year, semester) VALUES ({school},"
        f" '{year}', 1)")
    item = env.cluster.psql(f"SELECT item_id FROM test_items WHERE test_id = {tid} LIMIT 1")
    mark = f"student_id = {student} AND school_year = '{year}' AND semester = 1"
    forbidden = [
        f"UPDATE item_versions SET scoring = '{{}}' WHERE item_id = {item}",
        "UPDATE item_versions SET content = content || '{\"stem\": \"x\"}'"
        f" WHERE item_id = {item}",
        f"DELETE FROM item_versions WHERE item_id = {item}",
        f"UPDATE test_forms SET payload = '{{}}' WHERE test_id = {tid}",
        f"UPDATE tests SET duration_seconds = 60 WHERE id = {tid}",
        f"UPDATE test_items SET points = 1 WHERE test_id = {tid}",
        f"UPDATE record_marks SET value = '100' WHERE {mark}",
        f"DELETE FROM record_marks WHERE {mark}",
        "INSERT INTO record_marks (school_id, student_id, class_id, subject, school_year,"
        f" semester, slot, value, source) VALUES ({school}, {student}, {st['class_id']},"
        f" 'TOAN', '{year}', 1, 'tx2', '90', 'manual')",
        f"UPDATE record_results SET status = 'ok', value = '90' WHERE {mark}",
        f"UPDATE record_terms SET semester = 2 WHERE school_id = {school}"
        f" AND school_year = '{year}'",
        f"DELETE FROM record_terms WHERE school_id = {school} AND school_year = '{year}'",
    ]
    allowed = [
        # A regrade moves the scoring version; an unlocked semester takes marks.
        f"UPDATE test_items SET scoring_version = version WHERE test_id = {tid}",
        "INSERT INTO record_marks (school_id, student_id, class_id, subject, school_year,"
        f" semester, slot, value, source) VALUES ({school}, {student}, {st['class_id']},"
        f" 'TOAN', '{year}', 2, 'tx1', '90', 'manual')",
    ]
    accepted = [sql for sql in forbidden if _app(env, teacher, sql).returncode == 0]
    assert not accepted, "the application role could run:\n" + "\n".join(accepted)
    refused = {sql: _app(env, teacher, sql).stderr for sql in allowed}
    refused = {k: v for k, v in refused.items() if v}
    assert not refused, refused
    # The refusals name the reason (not only a missing privilege).
    p = _app(env, teacher, f"UPDATE record_marks SET value = '100' WHERE {mark}")
    assert "khoá sổ" in p.stderr, p.stderr
    p = _app(env, teacher, f"UPDATE item_versions SET scoring = '{{}}' WHERE item_id = {item}")
    assert "không sửa" in p.stderr, p.stderr


def test_lock_landing_during_an_edit_is_409(env):
    """The server checks the lock, then writes: a lock committed in between
    is caught by the database and answered like any locked semester."""
    s, st = _setup(env)
    year = "2032-2033"
    school = _ids(env, "gv.dlv")["school_id"]
    student = int(env.cluster.psql(
        f"SELECT id FROM users WHERE username = '{st['students'][2]}'"))

    def edit(value):
        return s.request("PUT", f"/api/v1/classes/{st['class_id']}/records",
                         {"student_id": student, "subject": "TOAN", "school_year": year,
                          "semester": 1, "slot": "tx1", "value": value}, st["tok"]["gv"])

    assert edit("7").status == 200
    # The school administrator's lock, holding the mark's row while it commits.
    locker = _holding(env, f"SELECT 1 FROM record_marks WHERE student_id = {student} AND"
                           f" school_year = '{year}' AND slot = 'tx1' FOR UPDATE;"
                           " INSERT INTO record_terms (school_id, school_year, semester)"
                           f" VALUES ({school}, '{year}', 1)")
    try:
        r = edit("8")
    finally:
        _, err = locker.communicate(timeout=30)
    assert locker.returncode == 0, err
    assert r.status == 409 and r.json()["error"]["code"] == "term_locked", r
    assert "khoá sổ" in r.json()["error"]["message"], r
    value = env.cluster.psql(f"SELECT value FROM record_marks WHERE student_id = {student}"
                             f" AND school_year = '{year}' AND slot = 'tx1'")
    assert value == "70", value


def test_slow_statement_logged_without_parameters_in_a_private_file(env):
    s, st = _setup(env)
    student = st["students"][3]
    attempt = _student_attempt(s, st, student)
    essay = next(i["ref"] for i in attempt["payload"]["items"] if i["kind"] == "ESSAY")
    marker = "BAI-LAM-BI-MAT-" + os.urandom(4).hex()
    # Another transaction holds the attempt's row: the save waits past
    # log_min_duration_statement and is logged.
    holder = _holding(env, f"SELECT 1 FROM attempts WHERE id = {attempt['id']} FOR UPDATE")
    try:
        r = s.request("PUT", f"/api/v1/attempts/{attempt['id']}/responses/{essay}",
                      {"response": marker, "seq": 1}, st["tok"][student])
    finally:
        holder.communicate(timeout=30)
    assert r.status == 200, r
    log_path = os.path.join(env.cluster.dir, "postgres.log")
    deadline = time.time() + 5
    while True:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        slow = [ln for ln in text.splitlines() if "duration:" in ln and "save_batch" in ln]
        if slow or time.time() > deadline:
            break
        time.sleep(0.2)
    assert slow, "the slow save was not logged:\n" + text[-2000:]
    assert marker not in text, [ln for ln in text.splitlines() if marker in ln][:3]
    mode = os.stat(log_path).st_mode & 0o777
    assert mode == 0o600, oct(mode)
    for name in ("log_parameter_max_length", "log_parameter_max_length_on_error"):
        assert env.cluster.psql(f"SHOW {name}") == "0", name


# ---------------------------------------------------------------------------
# The outbox with two gateways.

RECORDS = 150


def _outbox_rows(env, school, student, version):
    """RECORDS exchange records of one student in made-up school years, all
    due now at the given version (inserted, or bumped to it)."""
    env.cluster.psql(
        "INSERT INTO csdl_outbox AS o (record_id, school_id, student_id, version, event, payload)"
        f" SELECT 'DBH-' || n, {school}, {student}, {version}, 'NEW',"
        " jsonb_build_object('ma_truong', 'DLV-A', 'ma_hoc_sinh', 'DBH' || n,"
        f" 'nam_hoc', (2100 + n) || '-' || (2101 + n), 'hoc_ky', 1, 'lan', {version})"
        f" FROM generate_series(1, {RECORDS}) n"
        f" ON CONFLICT (record_id) DO UPDATE SET version = {version}, event = 'UPDATE',"
        " payload = EXCLUDED.payload, next_attempt_at = now(), attempts = 0")


def _delivered(env, version, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        left = env.cluster.psql("SELECT count(*) FROM csdl_outbox WHERE record_id LIKE 'DBH-%'"
                                f" AND (version <> {version} OR accepted_version < version)")
        if left == "0":
            return
        time.sleep(0.3)
    raise AssertionError("not delivered: " + env.cluster.psql(
        "SELECT record_id, version, accepted_version, attempts, last_error FROM csdl_outbox"
        " WHERE record_id LIKE 'DBH-%' AND accepted_version < version LIMIT 5"))


def _exactly_once(got, version):
    ours = [tuple(x) for x in got["accepted"] if x[0].startswith("DBH-")]
    assert len(ours) == len(set(ours)), "a version was accepted twice"
    assert {r for r, v in ours if v == version} == {f"DBH-{n}" for n in range(1, RECORDS + 1)}
    assert got["duplicates"] == 0 and got["regressions"] == 0 and got["invalid"] == 0, \
        {k: got[k] for k in ("duplicates", "regressions", "invalid")}


def test_two_gateways_send_each_version_once_even_when_one_dies(env):
    _setup(env)
    school = _ids(env, "gv.dlv")["school_id"]
    student = _ids(env, env.delivery_state["students"][0])["user_id"]
    port = free_port()
    rx = _receiver(port, os.path.join(env.cluster.dir, "fake-csdl-dbh.json"))
    cfg = {"KIEMTRA_CSDL_URL": f"http://127.0.0.1:{port}/records", "KIEMTRA_CSDL_INTERVAL": "1",
           "KIEMTRA_CSDL_TIMEOUT": "5"}
    gateways = []
    try:
        _outbox_rows(env, school, student, 1)
        gateways = [Server(env, cfg), Server(env, cfg)]
        _delivered(env, 1, 60)
        _exactly_once(_rx(port, "/state"), 1)

        # Every record gets version 2; the receiver leaves the first send
        # unanswered, and the gateway that made it is killed while it waits.
        _rx(port, "/control", {"mode": "hang", "count": 1})
        _outbox_rows(env, school, student, 2)
        pids = {g.proc.pid: g for g in gateways}
        victim, deadline = None, time.time() + 10
        while victim is None and time.time() < deadline:
            holder = env.cluster.psql(
                "SELECT claimed_by FROM csdl_outbox WHERE record_id LIKE 'DBH-%'"
                " AND accepted_version < version AND claimed_until > now()"
                " AND (SELECT count(*) FROM csdl_outbox WHERE record_id LIKE 'DBH-%'"
                "      AND accepted_version < version) = 1")
            m = re.search(r"/(\d+)/", holder)
            if m and int(m.group(1)) in pids:
                victim = pids[int(m.group(1))]
            time.sleep(0.05)
        assert victim is not None, "no gateway was left holding the unanswered record"
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(timeout=10)
        # The survivor takes the record over once the lease has run out.
        _delivered(env, 2, 60)
        got = _rx(port, "/state")
        _exactly_once(got, 2)
        assert len([x for x in got["accepted"] if x[0].startswith("DBH-")]) == 2 * RECORDS
    finally:
        for g in gateways:
            g.stop()
        rx.send_signal(signal.SIGTERM)
        rx.wait(timeout=10)
        # Other tests compare the whole outbox with their own receiver.
        env.cluster.psql("DELETE FROM csdl_outbox WHERE record_id LIKE 'DBH-%'")
