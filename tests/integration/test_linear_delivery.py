"""Linear QTI tests are delivered one item at a time, over HTTP.

A package of four items (each stem carries a marker, the third an image) and
two tests over them, one linear and one nonlinear, is imported and both are
published. In the linear test a student's view holds only the items reached:
every answered (or skipped, saved as null) item and the next one. No later
stem, option or image path is in any reply, the asset route refuses the
files of items not reached, a save to an item not reached is refused, and a
second student of the same form starts at the first item again (the cached
payload is cut per attempt). The teacher still sees the whole form; the
nonlinear test still sends every item at the start."""
import io
import time
import zipfile

from test_delivery import _setup

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
RP = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")
IMG = "items/img/ld-hinh.png"


def marker(n):
    """The text only item n's stem contains (and an option, for choices)."""
    return f"NOIDUNG-LD-{n}"


def _choice(n, img=""):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="ld-{n}" title="Câu {n}" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>B</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <p>{marker(n)} Chọn đáp án đúng. {img}</p>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <simpleChoice identifier="A">Phương án A của {marker(n)}</simpleChoice>
      <simpleChoice identifier="B">Phương án B</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{RP}"/>
</assessmentItem>
"""


def _text(n):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="ld-{n}" title="Câu {n}" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="KQ" cardinality="single" baseType="float">
    <correctResponse><value>2.5</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <outcomeDeclaration identifier="MAXSCORE" cardinality="single" baseType="float">
    <defaultValue><value>1</value></defaultValue>
  </outcomeDeclaration>
  <itemBody>
    <p>{marker(n)} 5 : 2 = <textEntryInteraction responseIdentifier="KQ" expectedLength="4"/></p>
  </itemBody>
  <responseProcessing>
    <responseCondition>
      <responseIf>
        <match><variable identifier="KQ"/><correct identifier="KQ"/></match>
        <setOutcomeValue identifier="SCORE"><baseValue baseType="float">1</baseValue></setOutcomeValue>
      </responseIf>
    </responseCondition>
  </responseProcessing>
</assessmentItem>
"""


def _test_doc(ident, mode):
    refs = "".join(f'\n      <assessmentItemRef identifier="R{n}" href="items/ld-{n}.xml"/>'
                   for n in range(1, 5))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentTest xmlns="{NS}" identifier="{ident}" title="Đề {ident}">
  <timeLimits maxTime="1800"/>
  <testPart identifier="P1" navigationMode="{mode}" submissionMode="individual">
    <assessmentSection identifier="S1" title="Lần lượt" visible="true">{refs}
    </assessmentSection>
  </testPart>
</assessmentTest>
"""


ITEMS = {"items/ld-1.xml": _choice(1), "items/ld-2.xml": _text(2),
         "items/ld-3.xml": _choice(3, '<img src="img/ld-hinh.png" alt="Hình câu 3"/>'),
         "items/ld-4.xml": _choice(4)}
TESTS = {"ld-linear": "linear", "ld-open": "nonlinear"}


def package():
    res = []
    for href in ITEMS:
        ident = href.split("/")[1][:-4]
        files = f'<file href="{href}"/>' + (f'<file href="{IMG}"/>' if ident == "ld-3" else "")
        res.append(f'<resource identifier="{ident}" type="imsqti_item_xmlv2p1" href="{href}">'
                   f'{files}</resource>')
    deps = "".join(f'<dependency identifierref="{h.split("/")[1][:-4]}"/>' for h in ITEMS)
    for t in TESTS:
        res.append(f'<resource identifier="{t}" type="imsqti_test_xmlv2p1" href="{t}.xml">'
                   f'<file href="{t}.xml"/>{deps}</resource>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://www.imsglobal.org/'
                'xsd/imscp_v1p1" identifier="ld-pkg"><organizations/><resources>'
                + "".join(res) + "</resources></manifest>")
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", manifest)
        for href, xml in ITEMS.items():
            z.writestr(href, xml)
        z.writestr(IMG, PNG)
        for t, mode in TESTS.items():
            z.writestr(f"{t}.xml", _test_doc(t, mode))
    return b.getvalue()


def publish_sessions(s, gv, class_id, subject="TOAN", grade=10):
    """Imports the package into the teacher's school, publishes both tests
    (one form each) and opens a session of each to the class: {mode: sid}."""
    r = s.request("POST", f"/api/v1/items/import?subject={subject}&grade={grade}"
                  "&filename=ld.zip", package(), gv, {"Content-Type": "application/zip"})
    assert r.status == 201, r
    tests = {t["identifier"]: t["id"] for t in r.json()["tests"]}
    assert set(tests) == set(TESTS), r.json()
    now = time.time()
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    win = {"class_ids": [class_id], "opens_at": time.strftime(fmt, time.gmtime(now - 60)),
           "closes_at": time.strftime(fmt, time.gmtime(now + 3600))}
    out = {}
    for ident, mode in TESTS.items():
        body = {"subject": subject, "grade": grade, "kind": "tx", "forms": 1,
                "title": f"Đề {mode} — lần lượt"}
        r = s.request("POST", f"/api/v1/qti-tests/{tests[ident]}/publish", body, gv)
        assert r.status == 201, r
        assert r.json()["navigation_mode"] == mode, r.json()
        r = s.request("POST", f"/api/v1/tests/{r.json()['id']}/sessions", win, gv)
        assert r.status == 201, r
        out[mode] = r.json()["id"]
    return out


def _sessions(env):
    s, st = _setup(env)
    if not getattr(env, "linear_sessions", None):
        env.linear_sessions = publish_sessions(s, st["tok"]["gv"], st["class_id"])
    return s, st, env.linear_sessions


def _seen(body):
    """The item markers a reply carries."""
    text = body.decode("utf-8")
    return {n for n in range(1, 5) if marker(n) in text}


def test_linear_items_one_at_a_time(env):
    s, st, sessions = _sessions(env)
    sid = sessions["linear"]
    u, u2 = st["students"][2], st["students"][3]
    tok, tok2 = st["tok"][u], st["tok"][u2]

    start = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok)
    assert start.status == 201, start
    a = start.json()
    aid = a["id"]
    p = a["payload"]
    assert p["test"]["navigation_mode"] == "linear", p["test"]
    # Only the first item, and how many there are in all.
    assert [i["ref"] for i in p["items"]] == ["q1"], p["items"]
    assert p["items_total"] == 4, p
    assert _seen(start.body) == {1}, start.body[:3000]
    assert IMG not in start.body.decode(), start.body[:3000]

    def view(token=tok):
        r = s.request("GET", f"/api/v1/attempts/{aid}", token=token)
        assert r.status == 200, r
        return r

    def put(ref, response, seq, token=tok, attempt=aid):
        return s.request("PUT", f"/api/v1/attempts/{attempt}/responses/{ref}",
                         {"seq": seq, "response": response}, token)

    def asset(ref):
        return s.request("GET", f"/api/v1/attempts/{aid}/assets/{ref}/{IMG}", token=tok)

    r = view()
    assert [i["ref"] for i in r.json()["payload"]["items"]] == ["q1"] and _seen(r.body) == {1}, r
    # The image of the third item, and saves that would jump ahead: refused.
    assert asset("q3").status == 404
    for ref in ("q3", "q2", "q4"):
        ahead = put(ref, {"RESPONSE": "B"}, 1)
        assert ahead.status == 409 and ahead.json()["error"]["code"] == "linear_navigation", ahead
    r = view()
    assert _seen(r.body) == {1} and r.json()["responses"] == {}, r

    # Answering the first item opens the second.
    assert put("q1", {"RESPONSE": "B"}, 2).status == 200
    r = view()
    assert [i["ref"] for i in r.json()["payload"]["items"]] == ["q1", "q2"], r
    assert _seen(r.body) == {1, 2} and asset("q3").status == 404, r

    # Another student of the same form starts from the first item.
    other = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok2)
    assert other.status == 201 and _seen(other.body) == {1}, other
    assert len(other.json()["payload"]["items"]) == 1, other

    # Skipping the second item (saved as null) opens the third, its image too.
    assert put("q2", None, 3).status == 200
    r = view()
    assert [i["ref"] for i in r.json()["payload"]["items"]] == ["q1", "q2", "q3"], r
    assert _seen(r.body) == {1, 2, 3}, r
    img = asset("q3")
    assert img.status == 200 and img.body == PNG, img
    assert put("q1", {"RESPONSE": "A"}, 4).status == 409  # left behind
    assert put("q4", {"RESPONSE": "A"}, 5).status == 409  # not reached

    # The teacher sees the whole form.
    staff = view(st["tok"]["gv"])
    assert len(staff.json()["payload"]["items"]) == 4 and _seen(staff.body) == {1, 2, 3, 4}

    # After the submit the student still sees only what was reached.
    done = s.request("POST", f"/api/v1/attempts/{aid}/submit", token=tok)
    assert done.status == 200 and done.json()["status"] == "submitted", done
    assert _seen(done.body) == {1, 2, 3}, done
    assert _seen(view().body) == {1, 2, 3}
    # The other student's attempt still holds its single item.
    o = s.request("GET", f"/api/v1/attempts/{other.json()['id']}", token=tok2)
    assert _seen(o.body) == {1}, o


def test_nonlinear_items_all_at_start(env):
    s, st, sessions = _sessions(env)
    u = st["students"][2]
    start = s.request("POST", f"/api/v1/sessions/{sessions['nonlinear']}/attempts",
                      token=st["tok"][u])
    assert start.status == 201, start
    p = start.json()["payload"]
    assert [i["ref"] for i in p["items"]] == ["q1", "q2", "q3", "q4"], p["items"]
    assert "items_total" not in p and _seen(start.body) == {1, 2, 3, 4}, p
    aid = start.json()["id"]
    img = s.request("GET", f"/api/v1/attempts/{aid}/assets/q3/{IMG}", token=st["tok"][u])
    assert img.status == 200 and img.body == PNG, img
