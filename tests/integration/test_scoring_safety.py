"""A scoring failure never becomes a silent 0. An ill-typed item (a multiple
response set to a single outcome) is refused at import over HTTP and by
`kiemtra import`, with the rule, element and line named; one already in the
bank (written through SQL as the schema owner, as an older import would have
left it) is refused when a test using it is published. An answer that the
engine cannot score in a delivered test (an integer overflow) waits for a
teacher: counted in the monitor and the results, listed for marking, kept out
of the learner record until marked, and never stored as 0."""
import io
import os
import tempfile
import zipfile

from test_foundation import _read_logins, _roster_csv, _write

PW = "mat-khau-an-toan-cham"
NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
YEAR = "2026-2027"

# The student picks several answers; CHOSEN is single: scoring stops as soon
# as two are picked. The rule is on line 12.
BAD = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="saf-bad" title="Chọn các số chẵn" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <outcomeDeclaration identifier="CHOSEN" cardinality="single" baseType="identifier"/>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="0">
    <simpleChoice identifier="A">2</simpleChoice><simpleChoice identifier="B">3</simpleChoice>
    <simpleChoice identifier="C">4</simpleChoice></choiceInteraction></itemBody>
  <responseProcessing>
    <setOutcomeValue identifier="SCORE"><baseValue baseType="float">0</baseValue></setOutcomeValue>
    <setOutcomeValue identifier="CHOSEN"><variable identifier="RESPONSE"/></setOutcomeValue>
  </responseProcessing>
</assessmentItem>
"""
BAD_LINE = 12

# Well typed, but 99999999999 squared does not fit a 64-bit integer: the
# engine stops on that answer, whatever a static check says.
SQUARE = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="saf-square" title="Bình phương" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="integer"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"
      normalMaximum="1"/>
  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">
    <defaultValue><value>1</value></defaultValue></outcomeDeclaration>
  <itemBody><p>Số nguyên dương nào có bình phương bằng 49?
    <textEntryInteraction responseIdentifier="RESPONSE" expectedLength="12"/></p></itemBody>
  <responseProcessing>
    <responseCondition><responseIf>
      <match><product><variable identifier="RESPONSE"/><variable identifier="RESPONSE"/></product>
        <baseValue baseType="integer">49</baseValue></match>
      <setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue>
    </responseIf></responseCondition>
  </responseProcessing>
</assessmentItem>
"""

CHOICE = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="saf-choice" title="Thủ đô" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>B</value></correctResponse></responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"
      normalMaximum="1"/>
  <itemBody><choiceInteraction responseIdentifier="RESPONSE" maxChoices="1">
    <simpleChoice identifier="A">Huế</simpleChoice><simpleChoice identifier="B">Hà Nội</simpleChoice>
  </choiceInteraction></itemBody>
  <responseProcessing
      template="http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"/>
</assessmentItem>
"""


def _test_doc(ident, refs):
    items = "".join(f'<assessmentItemRef identifier="{r}" href="{r}.xml"/>' for r in refs)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentTest xmlns="{NS}" identifier="{ident}" title="Đề {ident}">
  <testPart identifier="P1" navigationMode="nonlinear" submissionMode="simultaneous">
    <assessmentSection identifier="S1" title="Phần 1" visible="true">{items}</assessmentSection>
  </testPart>
</assessmentTest>
"""


def _setup(env):
    """School SAF-A: a teacher and class 10S1 of two students."""
    s = env.main_server()
    if getattr(env, "safety_state", None):
        return s, env.safety_state
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'SAF-A'") == "0":
        env.cli("schools", "add", "SAF-A", "Trường chấm an toàn", "--province", "TST",
                "Sở thử nghiệm")
    env.cli("users", "add", "--username", "gv.saf", "--full-name", "Cô Giáo Chấm",
            "--role", "teacher", "--school", "SAF-A", "--subject", "TOAN",
            env={"KIEMTRA_NEW_PASSWORD": PW})
    tmp = tempfile.mkdtemp()
    rows = [[f"SAF{i:03d}", f"Học Sinh {i}", "01/01/2010", "Nữ", "10S1"] for i in (1, 2)]
    path = _write(tmp, "10s1.csv", _roster_csv(rows))
    env.cli("users", "import", path, "--school", "SAF-A", "--year", YEAR)
    tok = {"gv": s.login("gv.saf", PW)}
    for row in _read_logins(path + ".logins.csv"):
        tok[row[0]] = s.login(row[0], row[1])
    cls = int(env.cluster.psql("SELECT c.id FROM classes c JOIN schools s ON s.id = c.school_id"
                               " WHERE s.code = 'SAF-A' AND c.name = '10S1'"))
    # The teacher teaches TOAN to 10S1 (teaching assignments bound their writes).
    env.cluster.psql("INSERT INTO teaching_assignments (school_id, teacher_id, subject, class_id)"
                     f" SELECT u.school_id, u.id, 'TOAN', {cls} FROM users u"
                     " WHERE u.username = 'gv.saf' ON CONFLICT DO NOTHING")
    env.safety_state = {"tok": tok, "class_id": cls, "tmp": tmp}
    return s, env.safety_state


def _import(s, gv, name, body, ctype="application/xml"):
    return s.request("POST", f"/api/v1/items/import?subject=TOAN&grade=10&filename={name}",
                     body.encode() if isinstance(body, str) else body, gv, {"Content-Type": ctype})


def _stored(env, ident):
    return env.cluster.psql(f"SELECT count(*) FROM items WHERE identifier = '{ident}'")


def test_ill_typed_item_refused_at_import(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    r = _import(s, gv, "saf-bad.xml", BAD)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "import_failed", err
    (p,) = err["details"]
    assert p["element"] == "setOutcomeValue" and p["line"] == BAD_LINE, p
    assert p["file"] == "saf-bad.xml", p
    for word in ("setOutcomeValue", "CHOSEN", "multiple identifier", "single identifier"):
        assert word in p["message"], p
    # In a package the whole file is refused, the well-typed item with it.
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("imsmanifest.xml", '<?xml version="1.0"?><manifest xmlns="http://www.'
                   'imsglobal.org/xsd/imscp_v1p1" identifier="m"><organizations/><resources>'
                   '<resource identifier="a" type="imsqti_item_xmlv2p1" href="saf-bad.xml">'
                   '<file href="saf-bad.xml"/></resource>'
                   '<resource identifier="b" type="imsqti_item_xmlv2p1" href="saf-choice.xml">'
                   '<file href="saf-choice.xml"/></resource></resources></manifest>')
        z.writestr("saf-bad.xml", BAD)
        z.writestr("saf-choice.xml", CHOICE)
    r = _import(s, gv, "saf.zip", b.getvalue(), "application/zip")
    assert r.status == 422, r
    (p,) = r.json()["error"]["details"]
    assert p["file"] == "saf.zip!saf-bad.xml" and p["line"] == BAD_LINE, p
    assert _stored(env, "saf-bad") == "0" and _stored(env, "saf-choice") == "0"
    # The command line refuses it the same way, file and line first.
    path = _write(st["tmp"], "saf-bad.xml", BAD)
    c = env.cli("import", "--school", "SAF-A", "--subject", "TOAN", "--grade", "10", path,
                check=False)
    assert c.returncode == 1, (c.stdout, c.stderr)
    assert f"{path}:{BAD_LINE}:0: setOutcomeValue: Sai kiểu dữ liệu trong setOutcomeValue" \
           " (biến CHOSEN)" in c.stderr, c.stderr
    assert f"LỖI {path}" in c.stdout, c.stdout
    assert _stored(env, "saf-bad") == "0"


def test_ill_typed_item_in_the_bank_refused_at_publish(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    # Stored before the check existed: written as the schema owner.
    env.cluster.psql(
        "WITH s AS (SELECT id, province_id FROM schools WHERE code = 'SAF-A'),"
        " i AS (INSERT INTO items (province_id, school_id, identifier, subject, grade, status)"
        "  SELECT province_id, id, 'saf-bad', 'TOAN', 10, 'approved' FROM s"
        "  RETURNING id, province_id, school_id)"
        " INSERT INTO item_versions (item_id, version, province_id, school_id, kind, title,"
        "  content, scoring, search_text, qti_xml)"
        " SELECT id, 1, province_id, school_id, 'QTI', 'Chọn các số chẵn', '{}', '{}', '',"
        f" $x${BAD}$x$ FROM i")
    r = _import(s, gv, "saf-choice.xml", CHOICE)
    assert r.status == 201, r
    r = _import(s, gv, "saf-old.xml", _test_doc("saf-old", ["saf-choice", "saf-bad"]))
    assert r.status == 201, r
    qt = r.json()["tests"][0]["id"]
    body = {"subject": "TOAN", "grade": 10, "kind": "tx", "forms": 1, "duration_seconds": 600}
    r = s.request("POST", f"/api/v1/qti-tests/{qt}/publish", body, gv)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "qti_not_deliverable", err
    found = [p for p in err["details"] if p["element"] == "setOutcomeValue"]
    assert len(found) == 1, err
    msg = found[0]["message"]
    for word in ("saf-bad", f"dòng {BAD_LINE}", "setOutcomeValue (biến CHOSEN)", "multiple"):
        assert word in msg, msg
    assert env.cluster.psql(f"SELECT count(*) FROM tests WHERE source_qti_test_id = {qt}") == "0"


def test_unscorable_answer_waits_for_a_teacher(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    for name, xml in (("saf-square.xml", SQUARE), ("saf-choice.xml", CHOICE)):
        r = _import(s, gv, name, xml)
        assert r.status in (200, 201), r
    r = _import(s, gv, "saf-live.xml", _test_doc("saf-live", ["saf-square", "saf-choice"]))
    assert r.status == 201, r
    qt = r.json()["tests"][0]["id"]
    body = {"subject": "TOAN", "grade": 10, "kind": "gk", "forms": 1, "duration_seconds": 600}
    r = s.request("POST", f"/api/v1/qti-tests/{qt}/publish", body, gv)
    assert r.status == 201, r
    tid = r.json()["id"]
    win = {"class_ids": [st["class_id"]], "opens_at": "2020-01-01T00:00:00Z",
           "closes_at": "2099-01-01T00:00:00Z"}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201, r
    sid = r.json()["id"]
    attempts = {}
    for u, square in (("saf001", "7"), ("saf002", "99999999999")):
        tok = st["tok"][u]
        a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
        refs = {i["interactions"][0]["type"]: i["ref"] for i in a["payload"]["items"]}
        for seq, (kind, value) in enumerate((("textEntry", square), ("choice", "B")), 1):
            r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{refs[kind]}",
                          {"seq": seq, "response": {"RESPONSE": value}}, tok)
            assert r.status == 200, r
        assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
        s.wait_scored(a["id"], tok)
        attempts[u] = (a["id"], refs["textEntry"])
    good, (bad, ref) = attempts["saf001"][0], attempts["saf002"]

    # The overflowing answer: no score, the reason kept, the attempt open for marking.
    where = f" FROM attempt_scores WHERE attempt_id = {bad} AND item_ref = '{ref}'"
    row = env.cluster.psql("SELECT coalesce(score::text, 'NULL'), detail->>'error'" + where)
    assert row.startswith("NULL|") and "overflow" in row, row
    assert env.cluster.psql("SELECT state" + where) == "scoring_failed"
    view = s.request("GET", f"/api/v1/attempts/{bad}", token=gv).json()
    assert view["result"] == {"score": "1.00", "max_score": "2.00", "needs_marking": True}, view
    view = s.request("GET", f"/api/v1/attempts/{good}", token=gv).json()
    assert view["result"] == {"score": "2.00", "max_score": "2.00", "needs_marking": False}, view

    # Counted in the live monitor and in the results, and listed for marking.
    mon = s.request("GET", f"/api/v1/sessions/{sid}/monitor", token=gv).json()
    assert mon["counts"]["needs_marking"] == 1 and mon["counts"]["scoring_failed"] == 1, mon
    me = next(x for x in mon["students"] if x["student_code"] == "SAF002")
    assert me["needs_marking"] is True and me["scoring_failed"] == 1, me
    res = s.request("GET", f"/api/v1/sessions/{sid}/results", token=gv).json()
    assert res["marking"] == {"needs_marking": 0, "scoring_failed": 1}, res["marking"]
    (todo,) = res["to_mark"]
    assert todo["attempt_id"] == bad and todo["item_ref"] == ref, todo
    assert todo["state"] == "scoring_failed" and "overflow" in todo["error"], todo
    item = next(i for i in res["items"] if i["item_ref"] == ref)
    assert item["scoring_failed"] == 1 and item["scored"] == 1, item
    me = next(x for x in res["students"] if x["student_code"] == "SAF002")
    assert me["needs_marking"] is True and me["score"] == "1.00", me

    # Not published into the learner record as 0 while it waits.
    pub = {"slot": "gk", "school_year": YEAR, "semester": 1}
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish", pub, gv)
    assert r.status == 409 and r.json()["error"]["code"] == "marking_pending", r
    assert "không chấm tự động được" in r.json()["error"]["message"], r
    assert env.cluster.psql("SELECT count(*) FROM record_marks WHERE session_id = "
                            f"{sid}") == "0"
    # The database itself refuses an engine score on a failed answer.
    p = env.cluster.psql(f"UPDATE attempt_scores SET score = 0 WHERE attempt_id = {bad}"
                         f" AND item_ref = '{ref}'", check=False)
    assert p.returncode != 0 and "attempt_scores_failed_unscored" in p.stderr, p.stderr

    # The teacher marks it; then the record takes the teacher's mark.
    r = s.request("PUT", f"/api/v1/attempts/{bad}/marks/{ref}",
                  {"points": "0.5", "comment": "Đáp số sai, cách làm đúng một phần."}, gv)
    assert r.status == 200 and float(r.json()["attempt_score"]) == 1.5, r
    assert env.cluster.psql("SELECT state" + where) == "marked"
    res = s.request("GET", f"/api/v1/sessions/{sid}/results", token=gv).json()
    assert res["to_mark"] == [] and res["marking"]["scoring_failed"] == 0, res
    mon = s.request("GET", f"/api/v1/sessions/{sid}/monitor", token=gv).json()
    assert mon["counts"]["needs_marking"] == 0, mon["counts"]
    r = s.request("POST", f"/api/v1/sessions/{sid}/publish", pub, gv)
    assert r.status == 200, r
    marks = env.cluster.psql("SELECT u.student_code, m.value FROM record_marks m JOIN users u"
                             f" ON u.id = m.student_id WHERE m.session_id = {sid}"
                             " ORDER BY u.student_code")
    assert marks.splitlines() == ["SAF001|100", "SAF002|75"], marks
