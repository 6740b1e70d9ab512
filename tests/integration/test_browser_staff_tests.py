"""The staff screens for tests, sessions, import and people in Debian's
headless Chromium against the real server with the `kiemtra demo` school.

tests/browser/staff_tests.mjs (playwright-core) drives the pages: the teacher
builds a test from a blueprint (a cell asking more than the bank has shows
"thiếu", then is fixed), saves, publishes 4 forms, previews one with its key,
opens a session for 10A1 (a reversed window first, refused next to the field),
imports a QTI item after a preview; a student of 10A1 logs in at / and takes
the test; the school admin adds a teacher, assigns them, resets a student's
password (the student logs in with it), imports a small roster and prints the
slips of 10A1 (5 A4 pages); the new teacher of another subject cannot open a
session of the Toán test for 10A1; a teacher resets and unlocks a student.
Screenshots of every screen at 1366×768 and 390×844 go to BUILD/screenshots.
This side checks the database against what the page reported.
"""
import json
import os
import tempfile

from browser_run import in_own_cluster, run_script, screenshots
from harness import ROOT
from test_foundation import _roster_csv, _write

# A QTI 2.1 single-choice item with the standard match_correct template, as
# the public samples write it (written here so the test needs nothing outside
# the repository).
QTI_CHOICE = """<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1" identifier="choice"
  title="Thủ đô của Việt Nam" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>ChoiceA</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float">
    <defaultValue><value>0</value></defaultValue>
  </outcomeDeclaration>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>Thủ đô của Việt Nam là thành phố nào?</prompt>
      <simpleChoice identifier="ChoiceA">Hà Nội</simpleChoice>
      <simpleChoice identifier="ChoiceB">Huế</simpleChoice>
      <simpleChoice identifier="ChoiceC">Đà Nẵng</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>
"""
NODE_TIMEOUT = 300


def test_staff_tests_sessions_people_in_chromium(shared_env):
    # Its own cluster: the screens change the demo school (accounts, classes,
    # archived tests) that other modules check as `kiemtra demo` left it.
    in_own_cluster(shared_env, _test_staff_tests_sessions_people_in_chromium)


def _test_staff_tests_sessions_people_in_chromium(env):
    s = env.main_server()
    tmp = tempfile.mkdtemp(dir=env.cluster.dir)
    creds_path = os.path.join(tmp, "demo-credentials.json")
    env.cli("demo", "--credentials", creds_path)
    creds = json.load(open(creds_path))
    roster = _write(tmp, "10a9.csv", _roster_csv(
        [[f"BRWS{i:03d}", f"Trần Thị Lớp Mới {i}", "05/06/2010", "Nữ", "10A9"] for i in range(1, 4)]))
    qti = _write(tmp, "choice.xml", QTI_CHOICE)
    bad = _write(tmp, "hong.xml", '<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p1"'
                 ' identifier="hong" title="Hỏng" adaptive="false" timeDependent="false">\n'
                 '<itemBody><p>Thiếu thẻ đóng</itemBody>\n</assessmentItem>\n')
    shots = screenshots(env)
    out = run_script(env, s, "staff_tests.mjs", {
        "KT_CREDS": creds_path, "KT_ROSTER": roster, "KT_QTI": qti, "KT_QTI_BAD": bad,
        "KT_DOCX": os.path.join(ROOT, "tests", "corpus", "docx", "m1_thieu_dap_an.docx")},
        NODE_TIMEOUT)
    done = [json.loads(line[3:]) for line in out.splitlines() if line.startswith("@@ ")]
    assert len(done) == 1 and done[0]["event"] == "done", out
    f = done[0]
    q = env.cluster.psql

    # The test as built in the page: published, 4 forms, 22 items, 10 points.
    tid = int(f["test_id"])
    assert q(f"SELECT status, forms, total_points, duration_seconds FROM tests WHERE id = {tid}"
             ) == "published|4|1000|2700"  # 45 minutes: the change after the first save
    assert q(f"SELECT count(*) FROM test_forms WHERE test_id = {tid}") == "4"
    bp = json.loads(q(f"SELECT blueprint::text FROM tests WHERE id = {tid}"))
    assert {r["node"] for r in bp} == {"VN18.TOAN.10"}, bp  # the short topic row was fixed
    assert sum(r["count"] for r in bp) == 22, bp
    # The session: 10A1, open now, and the student's attempt submitted.
    sid = int(f["session_id"])
    assert q(f"SELECT c.name FROM session_classes sc JOIN classes c ON c.id = sc.class_id"
             f" WHERE sc.session_id = {sid}") == "10A1"
    assert q(f"SELECT opens_at < now() AND closes_at > now() + interval '2 hours'"
             f" FROM sessions WHERE id = {sid}") == "t"
    assert q(f"SELECT a.status FROM attempts a JOIN users u ON u.id = a.student_id"
             f" WHERE a.session_id = {sid} AND u.username = '{f['student']}'") == "submitted"
    assert q(f"SELECT count(*) FROM responses r JOIN attempts a ON a.id = r.attempt_id"
             f" WHERE a.session_id = {sid}") == "1"
    # Only the corrected windows were stored (the second one is cancelled below).
    assert q(f"SELECT count(*) FROM sessions WHERE test_id = {tid}") == "2"
    # The imported QTI item.
    assert q(f"SELECT i.identifier, v.kind, i.status FROM items i JOIN item_versions v"
             f" ON v.item_id = i.id WHERE i.id = {int(f['imported_item'])}") == "choice|QTI|draft"
    # Only the good file of the two was imported; the broken one's error named it.
    assert q("SELECT count(*) FROM items WHERE identifier = 'hong'") == "0"
    assert "hong.xml" in f["import_error"], f
    # The Word file: its bad question named, only the two good ones stored.
    assert "Câu 2 (đoạn" in f["docx_error"] and "đáp án" in f["docx_error"], f
    assert q("SELECT count(*) FROM items WHERE origin LIKE 'docx-sha256:%'") == "2"
    # The second session: moved, then cancelled with its reason, audited.
    s2 = int(f["session2_id"])
    assert q(f"SELECT cancel_reason, closes_at - opens_at = interval '2 hours'"
             f" FROM sessions WHERE id = {s2} AND cancelled_at IS NOT NULL") == "Trùng lịch thi học kỳ|t"
    assert q("SELECT archived_at IS NULL FROM tests WHERE title LIKE '%(đề mẫu)'") == "t"
    assert q(f"SELECT count(*) FROM tests WHERE id = {int(f['deleted_test'])}") == "0"
    # The admin's work: the teacher, the assignment, the roster, audited resets.
    assert q("SELECT role, subject FROM users WHERE username = 'gv.ly.trinhduyet'") == "teacher|VL"
    assert q("SELECT count(*) FROM teaching_assignments a JOIN users u ON u.id = a.teacher_id"
             " JOIN classes c ON c.id = a.class_id WHERE u.username = 'gv.ly.trinhduyet'"
             " AND a.subject = 'VL' AND c.name = '10A1'") == "1"
    assert q("SELECT count(*) FROM users u JOIN class_members m ON m.user_id = u.id"
             " JOIN classes c ON c.id = m.class_id WHERE c.name = '10A9'"
             " AND u.student_code LIKE 'BRWS%'") == "3"
    assert f["slips"] == 40
    # The Vật lí teacher was refused by the server for the Toán test.
    assert f["other_subject_status"] == 403, f
    assert f["other_subject_error"]["code"] == "not_assigned", f
    # The teacher's reset works: the student logs in with it.
    tr = f["teacher_reset"]
    s.login(tr["username"], tr["password"])
    for name in ("tests-list", "builder-shortage", "test-published", "session-reversed",
                 "session-view", "sessions-list", "session-cancelled", "import-preview", "import-done",
                 "people-accounts", "people-assignments", "people-roster-preview",
                 "people-roster-done", "people-slips", "session-other-subject", "people-teacher"):
        for width in (1366, 390):
            assert os.path.exists(os.path.join(shots, f"staff-{name}-{width}.png")), (name, width)
