"""Delivery of an imported QTI test through the real server: a content package
(a choice item with an image, a textEntry item, two more choice items and two
assessmentTests) is imported, the linear test is published (forms, duration
from maxTime, selection and ordering per section), students take it (no key
material in anything they receive, images through the attempt's asset route,
going back refused server-side, QTI responses saved as {RESPONSE_ID: value}),
and the submit scores each item by its own response processing. A test with a
branchRule and a missing item is refused with every problem named."""
import io
import json
import zipfile

from test_delivery import _setup

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
RP = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


def _choice(ident, key, img=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="{ident}" title="Câu {ident}" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>{key}</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>Chọn đáp án {img}</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <prompt>Thủ đô của Việt Nam là?</prompt>
      <simpleChoice identifier="A">Huế</simpleChoice>
      <simpleChoice identifier="B">Hà Nội</simpleChoice>
      <simpleChoice identifier="C">Đà Nẵng</simpleChoice>
      <simpleChoice identifier="D" fixed="true">Không phải các phương án trên</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{RP}"/>
  <modalFeedback outcomeIdentifier="FEEDBACK" identifier="B" showHide="show">LOIGIAI</modalFeedback>
</assessmentItem>
"""


# SCORE 2 of MAXSCORE 2 when the float 2.5 is typed.
TEXT_ITEM = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="qd-text" title="Điền số" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="KQ" cardinality="single" baseType="float">
    <correctResponse><value>2.5</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">
    <defaultValue><value>2</value></defaultValue>
  </outcomeDeclaration>
  <itemBody>
    <p>5 : 2 = <textEntryInteraction responseIdentifier="KQ" expectedLength="4"/></p>
    <rubricBlock view="scorer"><p>DAPAN-CHO-GIAO-VIEN</p></rubricBlock>
  </itemBody>
  <responseProcessing>
    <responseCondition>
      <responseIf>
        <match><variable identifier="KQ"/><correct identifier="KQ"/></match>
        <setOutcomeValue identifier="SCORE"><baseValue baseType="float">2</baseValue></setOutcomeValue>
      </responseIf>
    </responseCondition>
  </responseProcessing>
</assessmentItem>
"""


def _test_doc(ident, part1_extra="", refs2=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentTest xmlns="{NS}" identifier="{ident}" title="Đề QTI {ident}">
  <timeLimits maxTime="1800"/>
  <testPart identifier="P1" navigationMode="linear" submissionMode="individual">
    <assessmentSection identifier="S1" title="Phần trắc nghiệm" visible="true">
      <ordering shuffle="true"/>
      <assessmentItemRef identifier="R1" href="items/qd-choice.xml"/>
      <assessmentItemRef identifier="R2" href="items/qd-text.xml"/>{part1_extra}
    </assessmentSection>
    <assessmentSection identifier="S2" title="Phần chọn" visible="true">
      <selection select="1"/>
      <assessmentItemRef identifier="R3" href="items/qd-third.xml"/>
      <assessmentItemRef identifier="R4" href="items/qd-fourth.xml"/>{refs2}
    </assessmentSection>
  </testPart>
  <outcomeProcessing>
    <setOutcomeValue identifier="SCORE"><sum><testVariables variableIdentifier="SCORE"/></sum>
    </setOutcomeValue>
  </outcomeProcessing>
</assessmentTest>
"""


BRANCH = """
      <assessmentItemRef identifier="R5" href="items/qd-missing.xml">
        <branchRule target="EXIT_TEST"><baseValue baseType="boolean">true</baseValue></branchRule>
      </assessmentItemRef>"""

ITEMS = {"items/qd-choice.xml": _choice("qd-choice", "B", '<img src="img/hinh.png" alt="Hình"/>'),
         "items/qd-text.xml": TEXT_ITEM,
         "items/qd-third.xml": _choice("qd-third", "B"),
         "items/qd-fourth.xml": _choice("qd-fourth", "B")}


def _package():
    res = []
    for href in ITEMS:
        ident = href.split("/")[1][:-4]
        files = f'<file href="{href}"/>' + ('<file href="items/img/hinh.png"/>'
                                           if ident == "qd-choice" else "")
        res.append(f'<resource identifier="{ident}" type="imsqti_item_xmlv2p1" href="{href}">'
                   f'{files}</resource>')
    deps = "".join(f'<dependency identifierref="{h.split("/")[1][:-4]}"/>' for h in ITEMS)
    for t in ("qd-linear",):
        res.append(f'<resource identifier="{t}" type="imsqti_test_xmlv2p1" href="{t}.xml">'
                   f'<file href="{t}.xml"/>{deps}</resource>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://www.imsglobal.org/'
                'xsd/imscp_v1p1" identifier="qd-pkg"><organizations/><resources>'
                + "".join(res) + "</resources></manifest>")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", manifest)
        for href, xml in ITEMS.items():
            z.writestr(href, xml)
        z.writestr("items/img/hinh.png", PNG)
        z.writestr("qd-linear.xml", _test_doc("qd-linear"))
    return b.getvalue()


def _imported(env):
    s, st = _setup(env)
    if getattr(env, "qti_delivery", None):
        return s, st, env.qti_delivery
    r = s.request("POST", "/api/v1/items/import?subject=TOAN&grade=10&filename=qd.zip",
                  _package(), st["tok"]["gv"], {"Content-Type": "application/zip"})
    assert r.status == 201, r
    j = r.json()
    assert len(j["imported"]) == 4 and j["assets"] == 1, j
    tests = {t["identifier"]: t["id"] for t in j["tests"]}
    # A loose test document: its references are not checked at import.
    r = s.request("POST", "/api/v1/items/import?filename=qd-branch.xml",
                  _test_doc("qd-branch", refs2=BRANCH).encode(), st["tok"]["gv"])
    assert r.status == 201, r
    tests.update({t["identifier"]: t["id"] for t in r.json()["tests"]})
    assert set(tests) == {"qd-linear", "qd-branch"}, tests
    env.qti_delivery = tests
    return s, st, tests


BODY = {"subject": "TOAN", "grade": 10, "kind": "tx", "forms": 2}


def test_qti_unsupported_features_refused_by_name(env):
    s, st, tests = _imported(env)
    r = s.request("POST", f"/api/v1/qti-tests/{tests['qd-branch']}/publish", BODY, st["tok"]["gv"])
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "qti_not_deliverable", err
    elements = [p["element"] for p in err["details"]]
    assert "branchRule" in elements, err
    missing = [p for p in err["details"] if p["element"] == "assessmentItemRef"]
    assert len(missing) == 1 and "R5" in missing[0]["message"], err
    assert env.cluster.psql("SELECT count(*) FROM tests WHERE source_qti_test_id = "
                            f"{tests['qd-branch']}") == "0"
    # Invalid requests and unknown tests.
    bad = s.request("POST", f"/api/v1/qti-tests/{tests['qd-linear']}/publish",
                    dict(BODY, forms=0), st["tok"]["gv"])
    assert bad.status == 422 and bad.json()["error"]["details"][0]["field"] == "forms", bad
    assert s.request("POST", "/api/v1/qti-tests/999999/publish", BODY,
                     st["tok"]["gv"]).status == 404
    student = st["tok"][st["students"][0]]
    assert s.request("POST", f"/api/v1/qti-tests/{tests['qd-linear']}/publish", BODY,
                     student).status == 403


def test_qti_publish_take_and_score(env):
    s, st, tests = _imported(env)
    gv = st["tok"]["gv"]
    r = s.request("POST", f"/api/v1/qti-tests/{tests['qd-linear']}/publish", BODY, gv)
    assert r.status == 201, r
    t = r.json()
    assert t["status"] == "published" and t["duration_seconds"] == 1800, t
    assert t["navigation_mode"] == "linear" and t["source_qti_test_id"] == tests["qd-linear"], t
    assert len(t["form_codes"]) == 2 and len(t["items"]) == 4, t
    assert {i["points"] for i in t["items"]} == {"1.00", "2.00"}, t["items"]
    tid = t["id"]
    forms = env.cluster.psql(f"SELECT payload::text FROM test_forms WHERE test_id = {tid}")
    for needle in ("correct", "2.5", "LOIGIAI", "DAPAN", "responseProcessing", "mapping",
                   "modalFeedback", "rubric"):
        assert needle not in forms, needle
    win = {"class_ids": [st["class_id"]], "opens_at": "2020-01-01T00:00:00Z",
           "closes_at": "2099-01-01T00:00:00Z"}
    r = s.request("POST", f"/api/v1/tests/{tid}/sessions", win, gv)
    assert r.status == 201, r
    sid = r.json()["id"]
    u, other = st["students"][0], st["students"][1]
    tok = st["tok"][u]
    start = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
    assert start.status == 201, start
    body = start.body.decode("utf-8")
    for needle in ("correct", "2.5", "LOIGIAI", "DAPAN", "mapping", "match_correct"):
        assert needle not in body, needle
    a = start.json()
    aid = a["id"]
    assert 0 < a["remaining_seconds"] <= 1800, a
    p = a["payload"]
    assert p["test"]["navigation_mode"] == "linear", p["test"]
    # Linear: one item at a time, the next once this one is saved
    # (test_linear_delivery.py checks that nothing later leaks).
    assert len(p["items"]) == 1 and p["items_total"] == 3, p

    def put(item, value, seq):
        rid = item["interactions"][0]["response_identifier"]
        return s.request("PUT", f"/api/v1/attempts/{aid}/responses/{item['ref']}",
                         {"seq": seq, "response": {rid: value}}, tok)

    def right(item):
        return "2.5" if item["interactions"][0]["type"] == "textEntry" else "B"

    def reached():
        return s.request("GET", f"/api/v1/attempts/{aid}", token=tok).json()["payload"]["items"]

    items = p["items"]
    bad = s.request("PUT", f"/api/v1/attempts/{aid}/responses/{items[0]['ref']}",
                    {"seq": 1, "response": {"RESPONSE": {"nested": 1}}}, tok)
    assert bad.status == 400 and bad.json()["error"]["code"] == "invalid_response", bad
    assert put(items[0], right(items[0]), 1).status == 200
    items = reached()
    assert len(items) == 2, items
    assert put(items[1], right(items[1]), 2).status == 200
    assert put(items[1], right(items[1]), 3).status == 200  # the current item: still open
    back = put(items[0], right(items[0]), 4)
    assert back.status == 409 and back.json()["error"]["code"] == "linear_navigation", back
    items = reached()
    assert put(items[2], "A", 5).status == 200  # a wrong answer
    back = put(items[1], "0", 6)
    assert back.status == 409, back

    assert len(items) == 3 and [i["kind"] for i in items] == ["QTI"] * 3, items
    assert [i["part"] for i in items] == [1, 1, 2], items
    assert [x["title"] for x in p["parts"]] == ["Phần trắc nghiệm", "Phần chọn"], p["parts"]
    by_type = {}
    for it in items:
        assert "data-kt-interaction=\"0\"" in it["html"], it
        by_type[it["interactions"][0]["type"]] = by_type.get(it["interactions"][0]["type"], []) + [it]
    assert len(by_type["choice"]) == 2 and len(by_type["textEntry"]) == 1, by_type
    text = by_type["textEntry"][0]
    assert text["interactions"][0]["expected_length"] == 4, text
    assert text["points"] == "2", text
    choice = next(i for i in by_type["choice"] if i["assets"])
    ch = choice["interactions"][0]
    assert ch["choices"][3]["identifier"] == "D", ch  # fixed keeps its place
    assert ch["prompt_html"] == "Thủ đô của Việt Nam là?", ch
    # The image, through the attempt (the student's own attempt only).
    path = choice["assets"][0]
    assert path == "items/img/hinh.png" and f'data-kt-asset="{path}"' in choice["html"], choice
    img = s.request("GET", f"/api/v1/attempts/{aid}/assets/{choice['ref']}/{path}", token=tok)
    assert img.status == 200 and img.body == PNG, img
    assert img.headers["Content-Type"] == "image/png", img.headers
    assert "sandbox" in img.headers["Content-Security-Policy"], img.headers
    theirs = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=st["tok"][other]).json()
    assert s.request("GET", f"/api/v1/attempts/{theirs['id']}/assets/{choice['ref']}/{path}",
                     token=tok).status == 404
    assert s.request("GET", f"/api/v1/attempts/{aid}/assets/{choice['ref']}/{path}",
                     token=gv).status == 403
    assert s.request("GET", f"/api/v1/attempts/{aid}/assets/{choice['ref']}/items/qd-text.xml",
                     token=tok).status == 404
    saved = s.request("GET", f"/api/v1/attempts/{aid}", token=tok).json()["responses"]
    assert saved[items[1]["ref"]]["response"] == {items[1]["interactions"][0]["response_identifier"]:
                                                  right(items[1])}, saved
    # The other student's test is linear too, but their attempt is theirs.
    assert s.request("PUT", f"/api/v1/attempts/{theirs['id']}/responses/{items[0]['ref']}",
                     {"seq": 1, "response": None}, tok).status == 404
    done = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=tok)
    assert done.status == 200 and done.json()["status"] == "submitted", done
    view = s.wait_scored(aid, gv)
    # 1 (choice, right) + 2 (text: SCORE 2 of MAXSCORE 2) + 0 (wrong choice) of 4.
    assert view["result"] == {"score": "3.00", "max_score": "4.00", "needs_marking": False}, view
    rows = env.cluster.psql(f"SELECT item_ref, score, max_score, detail->'outcomes'->>'SCORE',"
                            f" detail->>'fraction' FROM attempt_scores WHERE attempt_id = {aid}"
                            " ORDER BY item_ref").splitlines()
    got = {r.split("|")[0]: r.split("|")[1:] for r in rows}
    assert len(got) == 3, rows  # only the items of the student's form
    first = next(i for i in items if i["part"] == 1 and i is not text)
    assert got[first["ref"]] == ["100", "100", "1.0", "1"], rows
    assert got[text["ref"]] == ["200", "200", "2.0", "1"], rows
    assert got[items[2]["ref"]] == ["0", "100", "0.0", "0"], rows
