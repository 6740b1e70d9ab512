"""The live monitor and the exam-room controls in Debian's headless
Chromium against the real server with the `kiemtra demo` school.

tests/browser/staff_monitor.mjs (playwright-core) drives the pages: the
teacher turns on the access code of the demo session and watches the
monitor while 20 students of 10A1 start (with the code) and save through the
API; the table moves them from "Chưa vào" to "Đang làm" with their answered
counts; the teacher gives one 10 more minutes, submits another's attempt on
their behalf and reopens it with a reason; a student confirms the start on
the student page with the code. Screenshots at 1366×768 and 390×844 go to
BUILD/screenshots. This side checks the database against what the page did.
"""
import json
import os
import tempfile

from browser_run import in_own_cluster, run_script, screenshots

NODE_TIMEOUT = 300


def test_staff_monitor_in_chromium(shared_env):
    # Its own cluster: the screens change the demo session and its attempts.
    in_own_cluster(shared_env, _test_staff_monitor_in_chromium)


def _test_staff_monitor_in_chromium(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    sid = int(env.cluster.psql("SELECT min(id) FROM sessions"))
    shots = screenshots(env)
    out = run_script(env, s, "staff_monitor.mjs", {"KT_CREDS": creds_path,
                     "KT_SESSION": str(sid)}, NODE_TIMEOUT)
    done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
    assert len(done) == 1 and done[0]["event"] == "done", out
    f = done[0]
    q = env.cluster.psql

    # The code the page showed is the session's, and was audited.
    assert q(f"SELECT access_code FROM sessions WHERE id = {sid}") == f["code"]
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'session.room'"
             f" AND entity_id = '{sid}'") == "1"
    # 20 students through the API and the one on the student page.
    assert q(f"SELECT count(*) FROM attempts WHERE session_id = {sid}") == "21"
    assert q(f"SELECT count(*) FROM attempts a JOIN users u ON u.id = a.student_id"
             f" WHERE a.session_id = {sid} AND u.username = '{f['code_student']}'") == "1"
    # Extra time, force submit and reopen as the page did them, audited.
    ea, ra = int(f["extra_attempt"]), int(f["reopened_attempt"])
    assert q(f"SELECT extra_seconds FROM attempts WHERE id = {ea}") == "600"
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.extra_time'"
             f" AND entity_id = '{ea}'") == "1"
    assert q(f"SELECT count(*) FROM audit_log WHERE action = 'attempt.force_submit'"
             f" AND entity_id = '{ra}'") == "1"
    assert q(f"SELECT new_value->>'reason' FROM audit_log WHERE action = 'attempt.reopen'"
             f" AND entity_id = '{ra}'") == "Em bấm nộp nhầm khi máy bị treo"
    assert q(f"SELECT status, scored_at IS NULL FROM attempts WHERE id = {ra}") == "in_progress|t"
    for name in ("session-room", "monitor", "monitor-extra-dialog", "monitor-reopen-dialog"):
        for width in (1366, 390):
            assert os.path.exists(os.path.join(shots, f"{name}-{width}.png")), (name, width)
    assert os.path.exists(os.path.join(shots, "student-start-code-390.png"))
