"""The maximum score of imported QTI items without MAXSCORE: a multiple choice
scored by a mapping (A, B, C worth 1 each) is worth 3 by its own rules, so a
student with SCORE 1 earns a third of the item's points, not all of them. An
item whose maximum cannot be read from its rules (SCORE is the number the
student typed) blocks publishing, with the item named, until a teacher
states its maximum with PATCH /api/v1/items/{id}; the teacher's preview
reports the maximum and where it comes from."""
import io
import zipfile

from test_delivery import _setup

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
MAP_RP = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/map_response"

MAPPED = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="ms-mapped" title="Chọn các số nguyên tố"
    adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="multiple" baseType="identifier">
    <correctResponse><value>A</value><value>B</value><value>C</value></correctResponse>
    <mapping defaultValue="0">
      <mapEntry mapKey="A" mappedValue="1"/>
      <mapEntry mapKey="B" mappedValue="1"/>
      <mapEntry mapKey="C" mappedValue="1"/>
      <mapEntry mapKey="D" mappedValue="-1"/>
    </mapping>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="0">
      <prompt>Số nào là số nguyên tố?</prompt>
      <simpleChoice identifier="A">2</simpleChoice>
      <simpleChoice identifier="B">3</simpleChoice>
      <simpleChoice identifier="C">5</simpleChoice>
      <simpleChoice identifier="D">9</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{MAP_RP}"/>
</assessmentItem>
"""

# SCORE is whatever integer the student types: no maximum can be read.
TYPED = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="ms-typed" title="Tự đánh giá"
    adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="integer"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>Em làm được mấy bước? <textEntryInteraction responseIdentifier="RESPONSE"/></p>
  </itemBody>
  <responseProcessing>
    <setOutcomeValue identifier="SCORE"><variable identifier="RESPONSE"/></setOutcomeValue>
  </responseProcessing>
</assessmentItem>
"""


def _test_doc(ident, hrefs):
    refs = "".join(f'<assessmentItemRef identifier="R{i}" href="{h}"/>'
                   for i, h in enumerate(hrefs, 1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentTest xmlns="{NS}" identifier="{ident}" title="Đề {ident}">
  <testPart identifier="P1" navigationMode="nonlinear" submissionMode="individual">
    <assessmentSection identifier="S1" title="Phần 1" visible="true">{refs}</assessmentSection>
  </testPart>
</assessmentTest>
"""


def _package():
    items = {"items/ms-mapped.xml": MAPPED, "items/ms-typed.xml": TYPED}
    tests = {"ms-one": ["items/ms-mapped.xml"],
             "ms-both": ["items/ms-mapped.xml", "items/ms-typed.xml"]}
    res = [f'<resource identifier="{h[6:-4]}" type="imsqti_item_xmlv2p1" href="{h}">'
           f'<file href="{h}"/></resource>' for h in items]
    for t, hrefs in tests.items():
        deps = "".join(f'<dependency identifierref="{h[6:-4]}"/>' for h in hrefs)
        res.append(f'<resource identifier="{t}" type="imsqti_test_xmlv2p1" href="{t}.xml">'
                   f'<file href="{t}.xml"/>{deps}</resource>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://www.imsglobal.org/'
                'xsd/imscp_v1p1" identifier="ms-pkg"><organizations/><resources>'
                + "".join(res) + "</resources></manifest>")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", manifest)
        for href, xml in items.items():
            z.writestr(href, xml)
        for t, hrefs in tests.items():
            z.writestr(f"{t}.xml", _test_doc(t, hrefs))
    return b.getvalue()


def _imported(env):
    s, st = _setup(env)
    if getattr(env, "maxscore", None):
        return s, st, env.maxscore
    r = s.request("POST", "/api/v1/items/import?subject=TOAN&grade=10&filename=ms.zip",
                  _package(), st["tok"]["gv"], {"Content-Type": "application/zip"})
    assert r.status == 201, r
    j = r.json()
    ids = {i["identifier"]: i["id"] for i in j["imported"]}
    tests = {t["identifier"]: t["id"] for t in j["tests"]}
    assert set(ids) == {"ms-mapped", "ms-typed"} and set(tests) == {"ms-one", "ms-both"}, j
    env.maxscore = {"items": ids, "tests": tests}
    return s, st, env.maxscore


BODY = {"subject": "TOAN", "grade": 10, "kind": "tx", "forms": 1, "duration_seconds": 600}


def _take(env, s, st, test_id, student, answers):
    """Opens a session of test_id, lets student answer {identifier: response}
    and submit; returns {identifier: (score, max_score)} in hundredths."""
    gv = st["tok"]["gv"]
    win = {"class_ids": [st["class_id"]], "opens_at": "2020-01-01T00:00:00Z",
           "closes_at": "2099-01-01T00:00:00Z"}
    r = s.request("POST", f"/api/v1/tests/{test_id}/sessions", win, gv)
    assert r.status == 201, r
    tok = st["tok"][student]
    a = s.request("POST", f"/api/v1/sessions/{r.json()['id']}/attempts", token=tok)
    assert a.status == 201, a
    aid = a.json()["id"]
    refs = {}
    for seq, it in enumerate(a.json()["payload"]["items"], 1):
        ident = env.cluster.psql("SELECT i.identifier FROM test_items ti JOIN items i"
                                 f" ON i.id = ti.item_id WHERE ti.test_id = {test_id}"
                                 f" AND ti.item_ref = '{it['ref']}'")
        refs[it["ref"]] = ident
        rid = it["interactions"][0]["response_identifier"]
        put = s.request("PUT", f"/api/v1/attempts/{aid}/responses/{it['ref']}",
                        {"seq": seq, "response": {rid: answers[ident]}}, tok)
        assert put.status == 200, put
    done = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=tok)
    assert done.status == 200, done
    s.wait_scored(aid, tok)
    rows = env.cluster.psql("SELECT item_ref, score, max_score FROM attempt_scores"
                            f" WHERE attempt_id = {aid}").splitlines()
    return {refs[r.split("|")[0]]: (r.split("|")[1], r.split("|")[2]) for r in rows}


def test_derived_maximum_scales_the_score(env):
    s, st, ms = _imported(env)
    gv = st["tok"]["gv"]
    mapped = ms["items"]["ms-mapped"]
    # The preview names the maximum the rules allow.
    r = s.request("POST", f"/api/v1/items/{mapped}/score", {"responses": {"RESPONSE": ["A"]}}, gv)
    assert r.status == 200, r
    assert float(r.json()["outcomes"]["SCORE"]) == 1, r.json()
    assert r.json()["max_score"] == {"value": "3", "source": "derived"}, r.json()
    r = s.request("POST", f"/api/v1/qti-tests/{ms['tests']['ms-one']}/publish", BODY, gv)
    assert r.status == 201, r
    got = _take(env, s, st, r.json()["id"], st["students"][0], {"ms-mapped": ["A"]})
    # One point for the item; SCORE 1 of 3 earns a third of it.
    assert got == {"ms-mapped": ("33", "100")}, got


def test_underivable_maximum_blocks_publish_until_stated(env):
    s, st, ms = _imported(env)
    gv, student = st["tok"]["gv"], st["tok"][st["students"][1]]
    typed = ms["items"]["ms-typed"]
    both = ms["tests"]["ms-both"]
    r = s.request("POST", f"/api/v1/items/{typed}/score", {"responses": {"RESPONSE": 4}}, gv)
    assert r.status == 200, r
    mx = r.json()["max_score"]
    assert mx["value"] is None and mx["reason"], mx
    r = s.request("POST", f"/api/v1/qti-tests/{both}/publish", BODY, gv)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "max_score_unknown", err
    assert "điểm tối đa" in err["message"], err
    assert [(d["item_id"], d["identifier"]) for d in err["details"]] == [(typed, "ms-typed")], err
    assert err["details"][0]["message"], err
    assert env.cluster.psql(f"SELECT count(*) FROM tests WHERE source_qti_test_id = {both}") == "0"

    # Stating the maximum: validated, staff only, audited.
    for bad in (0, -2, "năm", 100001, True):
        r = s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": bad}, gv)
        assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "max_score", r
    r = s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": 5, "title": "Khác"}, gv)
    assert r.status == 422, r
    assert s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": 5}, student).status == 403
    r = s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": 4}, gv)
    assert r.status == 200 and r.json()["max_score"] == "4", r
    r = s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": 5, "version": 1}, gv)
    assert r.status == 200 and r.json()["max_score"] == "5", r
    assert r.json()["version"] == 1 and r.json()["status"] == "draft", r.json()
    r = s.request("PATCH", f"/api/v1/items/{typed}", {"max_score": 5, "version": 9}, gv)
    assert r.status == 404, r
    audit = env.cluster.psql("SELECT old_value->>'max_score', new_value->>'max_score' FROM audit_log"
                             f" WHERE action = 'item.max_score' AND entity_id = '{typed}'"
                             " ORDER BY id").splitlines()
    assert audit == ["|4", "4|5"], audit
    r = s.request("POST", f"/api/v1/items/{typed}/score", {"responses": {"RESPONSE": 4}}, gv)
    assert r.json()["max_score"] == {"value": "5", "source": "stated"}, r.json()

    r = s.request("POST", f"/api/v1/qti-tests/{both}/publish", BODY, gv)
    assert r.status == 201, r
    got = _take(env, s, st, r.json()["id"], st["students"][1],
                {"ms-mapped": ["A", "B", "C"], "ms-typed": "4"})
    assert got == {"ms-mapped": ("100", "100"), "ms-typed": ("80", "100")}, got
