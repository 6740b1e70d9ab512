"""After the test: results with item analysis, manual marking per rubric
criterion (audited), teacher overrides of short answers, and regrade after a
key correction (what changed is reported, teachers' marks stand, a second run
changes nothing)."""
from test_delivery import _published_session, _setup


def _submitted_attempt(s, st, student):
    tid, sid = _published_session(s, st)
    tok = st["tok"][student]
    a = s.request("POST", f"/api/v1/sessions/{sid}/attempts", token=tok).json()
    test = s.request("GET", f"/api/v1/tests/{tid}", token=st["tok"]["gv"]).json()
    by_ref = {}
    for x in test["items"]:
        by_ref[x["item_ref"]] = dict(x, item=s.request("GET", f"/api/v1/items/{x['item_id']}",
                                                       token=st["tok"]["gv"]).json())
    return tid, sid, a, by_ref


def _key(item):
    return item["scoring"].get("key")


def test_marking_and_results(env):
    s, st = _setup(env)
    u = st["students"][3]
    tid, sid, a, items = _submitted_attempt(s, st, u)
    tok = st["tok"][u]
    mcq = next(r for r, x in items.items() if x["item"]["kind"] == "MCQ4")
    essay = next(r for r, x in items.items() if x["item"]["kind"] == "ESSAY")
    short = next(r for r, x in items.items() if x["item"]["kind"] == "SHORT")
    for ref, value in ((mcq, _key(items[mcq]["item"])), (essay, "Lời giải của em ..."),
                       (short, "12345")):
        r = s.request("PUT", f"/api/v1/attempts/{a['id']}/responses/{ref}",
                      {"response": value, "seq": 1}, tok)
        assert r.status == 200, r
    assert s.request("POST", f"/api/v1/attempts/{a['id']}/submit", token=tok).status == 200
    view = s.wait_scored(a["id"], st["tok"]["gv"])
    assert view["result"] == {"score": "0.25", "max_score": view["result"]["max_score"],
                              "needs_marking": True}, view["result"]

    res = s.request("GET", f"/api/v1/sessions/{sid}/results", token=st["tok"]["gv"]).json()
    me = next(x for x in res["students"] if x["attempt_id"] == a["id"])
    assert me["state"] == "submitted" and me["score"] == "0.25" and me["needs_marking"], me
    assert sum(1 for x in res["students"] if x["state"] == "not_started") == 5, res["students"]
    it = next(x for x in res["items"] if x["item_ref"] == mcq)
    assert it["answered"] == 1 and it["options"] == {_key(items[mcq]["item"]): 1}, it
    assert float(it["difficulty"]) == 1.0, it
    assert len(res["distribution"]) == 10 and sum(res["distribution"]) == 1, res["distribution"]
    assert s.request("GET", f"/api/v1/sessions/{sid}/results", token=tok).status == 403

    # The essay, per rubric criterion, scaled to its 1,5 points in the test.
    rubric = items[essay]["item"]["scoring"]["rubric"]
    rubric_max = sum(float(c["points"]) for c in rubric)
    marks = [c["points"] for c in rubric]
    marks[0] = "0"
    url = f"/api/v1/attempts/{a['id']}/marks/{essay}"
    r = s.request("PUT", url, {"criteria": marks, "comment": "Thiếu ý a."}, st["tok"]["gv"])
    assert r.status == 200, r
    got = sum(float(m) for m in marks)
    expect = round(got / rubric_max * 1.5 + 1e-9, 2)
    assert abs(float(r.json()["score"]) - expect) < 1e-9, (r.json(), expect)
    assert abs(float(r.json()["attempt_score"]) - (0.25 + expect)) < 1e-9, r.json()
    view = s.request("GET", f"/api/v1/attempts/{a['id']}", token=st["tok"]["gv"]).json()
    assert view["result"]["needs_marking"] is False, view["result"]
    audit = env.cluster.psql("SELECT old_value->>'score', new_value->>'score',"
                             " new_value->'detail'->>'comment' FROM audit_log"
                             f" WHERE action = 'attempt.mark' AND entity_id = '{a['id']}'")
    assert audit == f"|{round(expect * 100)}|Thiếu ý a.", (audit, expect)
    # Bad marks are refused and change nothing.
    assert s.request("PUT", url, {"criteria": marks + ["0"]}, st["tok"]["gv"]).status == 422
    too_much = [str(float(c["points"]) + 1) for c in rubric]
    assert s.request("PUT", url, {"criteria": too_much}, st["tok"]["gv"]).status == 422
    assert s.request("PUT", url, {"criteria": marks}, tok).status == 403
    # A teacher may override an automatically scored short answer.
    surl = f"/api/v1/attempts/{a['id']}/marks/{short}"
    assert s.request("PUT", surl, {"points": "9"}, st["tok"]["gv"]).status == 422
    r = s.request("PUT", surl, {"points": "0,25"}, st["tok"]["gv"])
    assert r.status == 200 and r.json()["score"] == "0.25", r
    assert s.request("PUT", f"/api/v1/attempts/{a['id']}/marks/{short}",
                     {"criteria": ["1"]}, st["tok"]["gv"]).status == 422


def test_regrade_after_key_correction(env):
    s, st = _setup(env)
    students = st["students"][4:6]
    tid, sid, a, items = _submitted_attempt(s, st, students[0])
    mcq = next(r for r, x in items.items() if x["item"]["kind"] == "MCQ4")
    short = next(r for r, x in items.items() if x["item"]["kind"] == "SHORT")
    item = items[mcq]["item"]
    right = _key(item)
    other = next(o["id"] for o in item["content"]["options"] if o["id"] != right)
    attempts = {students[0]: a}
    attempts[students[1]] = s.request("POST", f"/api/v1/sessions/{sid}/attempts",
                                      token=st["tok"][students[1]]).json()
    # One student chose the published key, the other the option that turns out right.
    for u, choice in zip(students, (right, other)):
        at = attempts[u]
        assert s.request("PUT", f"/api/v1/attempts/{at['id']}/responses/{mcq}",
                         {"response": choice, "seq": 1}, st["tok"][u]).status == 200
        assert s.request("PUT", f"/api/v1/attempts/{at['id']}/responses/{short}",
                         {"response": "1", "seq": 1}, st["tok"][u]).status == 200
        assert s.request("POST", f"/api/v1/attempts/{at['id']}/submit",
                         token=st["tok"][u]).status == 200
        s.wait_scored(at["id"], st["tok"][u])
    # A teacher's mark on the short answer of the first student must survive.
    first = attempts[students[0]]["id"]
    assert s.request("PUT", f"/api/v1/attempts/{first}/marks/{short}", {"points": "0.5"},
                     st["tok"]["gv"]).status == 200
    # The key is corrected: a new version of the item.
    r = s.request("PATCH", f"/api/v1/items/{item['id']}",
                  {"scoring": dict(item["scoring"], key=other)}, st["tok"]["gv"])
    assert r.status == 200 and r.json()["version"] == item["version"] + 1, r
    r = s.request("POST", f"/api/v1/tests/{tid}/regrade",
                  {"item_ref": mcq, "version": item["version"] + 1}, st["tok"]["gv"])
    assert r.status == 200, r
    rep = r.json()
    second = attempts[students[1]]["id"]
    assert sorted((c["attempt_id"], c["old"], c["new"]) for c in rep["changed"]) == sorted(
        [(first, "0.25", "0"), (second, "0", "0.25")]), rep
    assert rep["scoring_version"] == item["version"] + 1, rep
    totals = env.cluster.psql(f"SELECT id, score FROM attempts WHERE id IN ({first}, {second})"
                              " ORDER BY id")
    assert totals.splitlines() == [f"{first}|50", f"{second}|25"], totals
    audits = env.cluster.psql("SELECT count(*) FROM audit_log WHERE action = 'attempt.regrade'"
                              f" AND new_value->>'item_ref' = '{mcq}'")
    assert audits == "2", audits
    # Regrading the short answer keeps the teacher's mark and reports it.
    r = s.request("POST", f"/api/v1/tests/{tid}/regrade",
                  {"item_ref": short, "version": items[short]["version"]}, st["tok"]["gv"])
    assert r.status == 200 and r.json()["changed"] == [], r
    # Deterministic: again changes nothing.
    again = s.request("POST", f"/api/v1/tests/{tid}/regrade",
                      {"item_ref": mcq, "version": item["version"] + 1}, st["tok"]["gv"]).json()
    assert again["changed"] == [], again
    # An older version, another item's version or a student: refused.
    assert s.request("POST", f"/api/v1/tests/{tid}/regrade", {"item_ref": mcq, "version": 99},
                     st["tok"]["gv"]).status == 422
    assert s.request("POST", f"/api/v1/tests/{tid}/regrade", {"item_ref": "c0", "version": 1},
                     st["tok"]["gv"]).status == 404
    assert s.request("POST", f"/api/v1/tests/{tid}/regrade", {"item_ref": mcq, "version": 2},
                     st["tok"][students[0]]).status == 403
    # The corrected version goes through review again, and the bank has it back.
    assert s.request("PATCH", f"/api/v1/items/{item['id']}", {"status": "submitted"},
                     st["tok"]["gv"]).status == 200
    assert s.request("PATCH", f"/api/v1/items/{item['id']}", {"status": "approved"},
                     st["tok"]["tt"]).status == 200
