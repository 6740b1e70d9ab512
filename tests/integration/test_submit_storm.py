"""A storm of submits through the real server: each acknowledged at the
commit that closes the attempt and scored behind the replies, in batches.
Every attempt ends scored exactly once with the scores scoring it alone
gives (and the answer key gives, for the single-choice questions); an
attempt left unscored by a gateway that stopped is scored by the expiry job
after its grace, once across two gateways."""
import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from harness import Server

PW = "mat-khau-bao-nop"
STUDENTS = 300


def _wait(env, sql, want, timeout=90):
    """Polls a query until it gives want (bounded in time)."""
    deadline, pause = time.time() + timeout, 0.05
    while True:
        got = env.cluster.psql(sql)
        if got == want:
            return
        assert time.time() < deadline, f"{sql!r}: {got!r}, expected {want!r}"
        time.sleep(pause)
        pause = min(pause * 2, 1.0)


def _item_scores(env, aid):
    return env.cluster.psql("SELECT item_ref || '=' || coalesce(score::text, 'NULL') || '/'"
                            " || max_score FROM attempt_scores"
                            f" WHERE attempt_id = {aid} ORDER BY item_ref").split()


def test_submit_storm_scores_every_attempt_once_as_alone(env):
    s = env.main_server()
    fx = env.cli("bench-fixture", "--students", str(STUDENTS), "--school", "STORM",
                 "--classes", "3", env={"KIEMTRA_BENCH_PASSWORD": PW})
    sid = fx.stdout.strip()
    assert sid.isdigit(), fx.stdout
    # All students start within 1 s and submit 3 s after their start: a few
    # hundred submits within a second or two, with saves still going on.
    p = env.cli("bench", "--url", f"http://127.0.0.1:{s.port}", "--session", sid,
                "--students", str(STUDENTS), "--school", "STORM", "--window", "1",
                "--duration", "3", "--think-ms", "300", "--login-rate", "0",
                "--password", PW, "--json", check=False)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["ok"] and d["errors"] == 0 and d["lost_answers"] == 0, d
    assert d["ops"]["submit"]["count"] == STUDENTS, d["ops"]["submit"]
    # Every attempt scored, bounded in time (the replies did not wait).
    _wait(env, f"SELECT count(*) FILTER (WHERE status = 'submitted') || ' '"
               f" || count(scored_at) FROM attempts WHERE session_id = {sid}",
          f"{STUDENTS} {STUDENTS}")
    # Once: one row per item of each attempt's form, all written by one
    # transaction (one store), and that store set the attempt's totals.
    per = env.cluster.psql(
        "SELECT count(*) FILTER (WHERE n <> items OR stores <> 1 OR total IS DISTINCT FROM sum)"
        " || ' ' || count(*) FROM (SELECT a.id, a.score AS total,"
        "  (SELECT count(*) FROM attempt_scores x WHERE x.attempt_id = a.id) AS n,"
        "  (SELECT count(DISTINCT x.xmin::text) FROM attempt_scores x"
        "    WHERE x.attempt_id = a.id) AS stores,"
        "  (SELECT coalesce(sum(x.score), 0) FROM attempt_scores x WHERE x.attempt_id = a.id)"
        "    AS sum,"
        "  (SELECT count(DISTINCT e->>'ref') FROM test_forms f,"
        "    jsonb_array_elements(f.payload->'items') e WHERE f.id = a.form_id) AS items"
        f" FROM attempts a WHERE a.session_id = {sid}) t")
    assert per == f"0 {STUDENTS}", per
    # The answer key: each single-choice answer scores its points when it is
    # the key and 0 otherwise (the bench answers at random: both occur).
    mcq = env.cluster.psql(
        "SELECT count(*) FILTER (WHERE x.score IS DISTINCT FROM CASE"
        "   WHEN r.response #>> '{}' = v.scoring->>'key' THEN x.max_score ELSE 0 END)"
        " || ' ' || count(*) FILTER (WHERE x.score > 0)"
        " || ' ' || count(*) FILTER (WHERE x.score = 0)"
        " FROM attempts a JOIN sessions se ON se.id = a.session_id"
        " JOIN attempt_scores x ON x.attempt_id = a.id"
        " JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = x.item_ref"
        " JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version"
        " LEFT JOIN responses r ON r.attempt_id = a.id AND r.item_ref = x.item_ref"
        f" WHERE a.session_id = {sid} AND v.kind = 'MCQ4'").split()
    assert mcq[0] == "0" and int(mcq[1]) > 0 and int(mcq[2]) > 0, mcq

    # The same answers scored alone, one attempt at a time: the teacher
    # reopens a sample (its scores removed) and each student submits again.
    teacher = env.cluster.psql("SELECT u.username FROM users u JOIN sessions se"
                               " ON se.school_id = u.school_id"
                               f" WHERE se.id = {sid} AND u.role = 'teacher'")
    gv = s.login(teacher, PW)
    sample = env.cluster.psql(
        "SELECT a.id || ' ' || u.username FROM attempts a JOIN users u ON u.id = a.student_id"
        f" WHERE a.session_id = {sid} ORDER BY a.id LIMIT 12").splitlines()
    for row in sample:
        aid, user = row.split()
        storm = _item_scores(env, aid)
        assert len(storm) > 0, aid
        r = s.request("POST", f"/api/v1/attempts/{aid}/reopen",
                      {"reason": "Chấm lại một mình", "minutes": 5}, gv)
        assert r.status == 200 and r.json()["status"] == "in_progress", r
        assert _item_scores(env, aid) == []
        tok = s.login(user, PW)
        r = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=tok)
        assert r.status == 200 and r.json()["status"] == "submitted", r
        s.wait_scored(aid, tok)
        assert _item_scores(env, aid) == storm, (aid, storm)


def test_attempt_left_unscored_is_scored_by_the_expiry_job_once(env):
    s = env.main_server()
    fx = env.cli("bench-fixture", "--students", "4", "--school", "STORMX", "--classes", "1",
                 env={"KIEMTRA_BENCH_PASSWORD": PW})
    sid = fx.stdout.strip()
    users = env.cluster.psql("SELECT username FROM users u JOIN sessions se"
                             " ON se.school_id = u.school_id"
                             f" WHERE se.id = {sid} AND u.role = 'student'"
                             " ORDER BY username").split()
    gw = Server(env, {"KIEMTRA_EXPIRY_INTERVAL": "1"})
    holder = None
    try:
        tok = gw.login(users[0], PW)
        a = gw.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        ref = a["payload"]["items"][0]["ref"]
        # Score stores wait on a lock held here: the gateway acknowledges the
        # submit, then stops (kill -9) before its scores are stored.
        holder = subprocess.Popen(
            ["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", env.cluster.sock,
             "-p", str(env.cluster.port), "-U", "kiemtra", "-d", "kiemtra"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        holder.stdin.write("BEGIN;\nLOCK TABLE attempt_scores IN SHARE MODE;\nSELECT 'held';\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "held"
        r = gw.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok)
        assert r.status == 200, r
        v = r.json()
        assert v["status"] == "submitted" and v["scored"] is False and v["result"] is None, v
        # Idempotent while it is being scored: the same attempt, still unscored.
        again = gw.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).json()
        assert again["id"] == a["id"] and again["status"] == "submitted", again
        # The scores are stored behind the acknowledgement: wait until that
        # store is sent and blocked on the lock, then stop the gateway.
        _wait(env, "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                   " AND query LIKE '%attempt_scores%'", "t", 15)
        gw.proc.send_signal(signal.SIGKILL)
        gw.proc.wait()
        gw.log.close()
        # Its store would still run once the lock is free: ended as the
        # database ends the session of a client that is gone.
        assert env.cluster.psql("SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                " WHERE wait_event_type = 'Lock'"
                                " AND query LIKE '%attempt_scores%'") == "t"
        holder.stdin.write("COMMIT;\n")
        holder.stdin.close()
        assert holder.wait(timeout=10) == 0
        holder = None
        assert env.cluster.psql(f"SELECT scored_at IS NULL FROM attempts WHERE id = {a['id']}") \
            == "t"
    finally:
        if holder:
            holder.kill()
            holder.wait()
        if gw.proc.poll() is None:
            gw.proc.kill()
            gw.proc.wait()
    # Two gateways again, each running the expiry job every second. Within
    # the grace (a minute after the submit) the attempt is left alone ...
    gws = [Server(env, {"KIEMTRA_EXPIRY_INTERVAL": "1"}) for _ in range(2)]
    try:
        time.sleep(3)  # three runs of each job: none may take it within its grace
        assert env.cluster.psql(f"SELECT scored_at IS NULL FROM attempts WHERE id = {a['id']}") \
            == "t"
        # ... and once the grace has passed (the clock moved by the submit
        # time here), one of them scores it, once.
        env.cluster.psql("UPDATE attempts SET submitted_at = submitted_at - interval '61 seconds'"
                         f" WHERE id = {a['id']}")
        _wait(env, f"SELECT scored_at IS NOT NULL FROM attempts WHERE id = {a['id']}", "t", 30)
        time.sleep(2)  # more runs of both jobs: nothing scored again
        rows = env.cluster.psql("SELECT count(*) || ' ' || count(DISTINCT xmin::text)"
                                f" FROM attempt_scores WHERE attempt_id = {a['id']}")
        n_items = len(a["payload"]["items"])
        assert rows == f"{n_items} 1", rows
        view = gws[0].request("GET", f"/api/v1/attempts/{a['id']}",
                              token=gws[0].login(users[0], PW)).json()
        assert view["scored"] is True and view["status"] == "submitted", view
        assert ref in [x.split("=")[0] for x in _item_scores(env, a["id"])]
    finally:
        for g in gws:
            g.stop()
