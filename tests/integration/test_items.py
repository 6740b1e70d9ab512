"""Items API: creation in every Vietnamese format, validation (422 with every
problem), immutable versions, the review workflow (who may approve),
tag and diacritic-insensitive search with keyset pagination, tenant
isolation and province-shared items."""
import copy

PW = "mat-khau-thu-nghiem"


def _user(env, school, username, role, subject=None):
    if env.cluster.psql(f"SELECT count(*) FROM users WHERE username = '{username}'") == "0":
        args = ["users", "add", "--username", username, "--full-name", "Người dùng " + username,
                "--role", role, "--school", school]
        if subject:
            args += ["--subject", subject]
        env.cli(*args, env={"KIEMTRA_NEW_PASSWORD": PW})


def _setup(env):
    """Schools ITEM-A and ITEM-B (same province) and their people; returns tokens."""
    for code in ("ITEM-A", "ITEM-B"):
        if env.cluster.psql(f"SELECT count(*) FROM schools WHERE code = '{code}'") == "0":
            env.cli("schools", "add", code, f"Trường {code}", "--province", "TST", "Sở thử nghiệm")
    _user(env, "ITEM-A", "gv.itema", "teacher", "TOAN")
    _user(env, "ITEM-A", "gv2.itema", "teacher", "TOAN")
    _user(env, "ITEM-A", "tt.itema.toan", "subject_head", "TOAN")
    _user(env, "ITEM-A", "tt.itema.van", "subject_head", "NV")
    _user(env, "ITEM-A", "hs.itema", "student")
    _user(env, "ITEM-B", "gv.itemb", "teacher", "TOAN")
    s = env.main_server()
    names = ["gv.itema", "gv2.itema", "tt.itema.toan", "tt.itema.van", "hs.itema", "gv.itemb"]
    return s, {n: s.login(n, PW) for n in names}


def _mcq(identifier, **extra):
    it = {
        "identifier": identifier, "kind": "MCQ4", "subject": "TOAN", "grade": 10,
        "title": "Nhận dạng hàm số bậc hai", "level": "MD.B",
        "outcome": "VN18.TOAN.10.DSGT.03.01.01", "competencies": ["NL.TOAN.TDLL"],
        "stem": "<p>Hàm số nào sau đây là <b>hàm số bậc hai</b>?</p>",
        "options": [
            {"id": "A", "html": "<math><mi>y</mi><mo>=</mo><mn>2</mn><mi>x</mi></math>"},
            {"id": "B", "html": "<math><mi>y</mi><mo>=</mo><msup><mi>x</mi><mn>2</mn></msup></math>"},
            {"id": "C", "html": "y = 1/x"},
            {"id": "D", "html": "Không có hàm số nào", "fixed": True},
        ],
        "key": "B", "explanation": "<p>Dạng y = ax² + bx + c với a ≠ 0.</p>",
    }
    it.update(extra)
    return it


KINDS = {
    "MR": {"kind": "MR", "stem": "<p>Chọn các số nguyên tố.</p>",
           "options": [{"id": "A", "html": "2"}, {"id": "B", "html": "4"},
                       {"id": "C", "html": "5"}, {"id": "D", "html": "9"}, {"id": "E", "html": "11"}],
           "keys": ["A", "C", "E"], "scoring_mode": "per_option"},
    "TF4": {"kind": "TF4", "stem": "<p>Cho tam giác ABC vuông tại A.</p>",
            "statements": [{"id": "a", "html": "BC là cạnh huyền", "key": True},
                           {"id": "b", "html": "AB > BC", "key": False},
                           {"id": "c", "html": "Góc A bằng 90°", "key": True},
                           {"id": "d", "html": "AB = AC luôn đúng", "key": False}]},
    "SHORT": {"kind": "SHORT", "stem": "<p>Tính 5 : 2.</p>", "key": "2,5", "tolerance": "0,01"},
    "ESSAY": {"kind": "ESSAY", "stem": "<p>Chứng minh rằng √2 là số vô tỉ.</p>",
              "rubric": [{"criterion": "Giả sử phản chứng đúng", "points": "0,5"},
                         {"criterion": "Dẫn tới mâu thuẫn", "points": "0.5"}],
              "model_answer": "<p>Giả sử √2 = p/q tối giản...</p>"},
}


def _other_kind(identifier, kind):
    it = _mcq(identifier)
    for k in ("options", "key", "stem"):
        it.pop(k)
    it.update(copy.deepcopy(KINDS[kind]))
    it["title"] = f"Câu {kind}"
    return it


def test_items_create_every_kind(env):
    s, t = _setup(env)
    r = s.request("POST", "/api/v1/items", _mcq("ITA-MCQ"), token=t["gv.itema"])
    assert r.status == 201, r
    it = r.json()
    assert it["status"] == "draft" and it["version"] == 1 and it["kind"] == "MCQ4"
    assert it["scoring"]["key"] == "B" and "key" not in it["content"]
    assert it["content"]["options"][3]["fixed"] is True
    assert set(it["tags"]) >= {"MD.B", "VN18.TOAN.10.DSGT.03.01.01", "DT.NLC", "NL.TOAN.TDLL"}
    assert it["author"]["username"] == "gv.itema" and it["approved_by"] is None
    for kind in KINDS:
        r = s.request("POST", "/api/v1/items", _other_kind(f"ITA-{kind}", kind),
                      token=t["gv.itema"])
        assert r.status == 201, (kind, r)
        body = r.json()
        assert body["kind"] == kind
        if kind == "SHORT":  # decimal comma normalised to a dot
            assert body["scoring"]["key"] == "2.5" and body["scoring"]["tolerance"] == "0.01"
        if kind == "TF4":
            assert body["scoring"]["statement_keys"] == {"a": True, "b": False, "c": True,
                                                         "d": False}
            assert body["scoring"]["score_table"] == ["0", "0.1", "0.25", "0.5", "1"]
            assert all("key" not in st for st in body["content"]["statements"])
        if kind == "ESSAY":
            assert [c["points"] for c in body["scoring"]["rubric"]] == ["0.5", "0.5"]
            assert "rubric" not in body["content"]
    # The same identifier twice in one school is a conflict.
    r = s.request("POST", "/api/v1/items", _mcq("ITA-MCQ"), token=t["gv.itema"])
    assert r.status == 409, r
    # Audit rows for the creations.
    n = env.cluster.psql("SELECT count(*) FROM audit_log a JOIN users u ON u.id = a.actor_id"
                         " WHERE u.username = 'gv.itema' AND a.action = 'item.create'")
    assert int(n) >= 5


def test_items_invalid_lists_every_problem(env):
    s, t = _setup(env)
    bad = _mcq("ITA BAD", grade=14, key="E")
    bad["options"] = bad["options"][:3]
    bad["options"][1]["html"] = ""
    bad["surprise"] = 1
    r = s.request("POST", "/api/v1/items", bad, token=t["gv.itema"])
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["code"] == "invalid_item" and "lỗi" in err["message"]
    fields = {d["field"] for d in err["details"]}
    assert fields >= {"identifier", "grade", "key", "options", "options[1].html", "surprise"}, fields
    assert all(d["message"] for d in err["details"])
    r = s.request("POST", "/api/v1/items", {"kind": "TF4"}, token=t["gv.itema"])
    assert r.status == 422
    fields = {d["field"] for d in r.json()["error"]["details"]}
    assert fields >= {"identifier", "subject", "grade", "title", "stem", "statements"}, fields
    assert env.cluster.psql("SELECT count(*) FROM items WHERE identifier LIKE 'ITA BAD%'") == "0"


def _create(s, token, identifier, **extra):
    r = s.request("POST", "/api/v1/items", _mcq(identifier, **extra), token=token)
    assert r.status == 201, r
    return r.json()


def test_items_versions(env):
    s, t = _setup(env)
    it = _create(s, t["gv.itema"], "ITA-VER")
    content = copy.deepcopy(it["content"])
    content["stem"] = "<p>Hàm số nào là hàm số bậc hai? (sửa)</p>"
    r = s.request("PATCH", f"/api/v1/items/{it['id']}", {"version": 1, "content": content},
                  token=t["gv.itema"])
    assert r.status == 200, r
    v2 = r.json()
    assert v2["version"] == 2 and v2["current_version"] == 2 and v2["versions"] == [1, 2]
    assert v2["content"]["stem"].endswith("(sửa)</p>")
    v1 = s.request("GET", f"/api/v1/items/{it['id']}?version=1", token=t["gv.itema"]).json()
    assert v1["version"] == 1 and v1["content"]["stem"] == it["content"]["stem"]
    assert s.request("GET", f"/api/v1/items/{it['id']}", token=t["gv.itema"]).json()["version"] == 2
    assert s.request("GET", f"/api/v1/items/{it['id']}?version=9",
                     token=t["gv.itema"]).status == 404
    # A stale version is refused.
    r = s.request("PATCH", f"/api/v1/items/{it['id']}", {"version": 1, "title": "Khác"},
                  token=t["gv.itema"])
    assert r.status == 409 and r.json()["error"]["code"] == "version_conflict", r
    # A change of the key in scoring makes version 3; a bad key is 422.
    scoring = dict(v2["scoring"], key="Z")
    r = s.request("PATCH", f"/api/v1/items/{it['id']}", {"scoring": scoring}, token=t["gv.itema"])
    assert r.status == 422 and r.json()["error"]["details"][0]["field"] == "key", r
    r = s.request("PATCH", f"/api/v1/items/{it['id']}",
                  {"version": 2, "scoring": dict(v2["scoring"], key="C"),
                   "tags": v2["tags"] + ["PC.TRUNGTHUC"]}, token=t["gv.itema"])
    assert r.status == 200 and r.json()["version"] == 3 and "PC.TRUNGTHUC" in r.json()["tags"], r
    # Nothing changed: no new version.
    r = s.request("PATCH", f"/api/v1/items/{it['id']}", {"title": r.json()["title"]},
                  token=t["gv.itema"])
    assert r.status == 200 and r.json()["version"] == 3, r
    assert env.cluster.psql(f"SELECT count(*) FROM item_versions WHERE item_id = {it['id']}") == "3"


def test_items_review_workflow(env):
    s, t = _setup(env)
    it = _create(s, t["gv.itema"], "ITA-REVIEW")
    url = f"/api/v1/items/{it['id']}"
    # Approving a draft is not a transition.
    r = s.request("PATCH", url, {"status": "approved"}, token=t["tt.itema.toan"])
    assert r.status == 409, r
    # Any teacher of the school may submit.
    r = s.request("PATCH", url, {"status": "submitted"}, token=t["gv2.itema"])
    assert r.status == 200 and r.json()["status"] == "submitted", r
    # A teacher cannot approve; nor the subject head of another subject.
    r = s.request("PATCH", url, {"status": "approved"}, token=t["gv.itema"])
    assert r.status == 403 and "tổ trưởng" in r.json()["error"]["message"], r
    r = s.request("PATCH", url, {"status": "approved"}, token=t["tt.itema.van"])
    assert r.status == 403, r
    # Sending back needs a comment.
    r = s.request("PATCH", url, {"status": "draft"}, token=t["tt.itema.toan"])
    assert r.status == 422, r
    r = s.request("PATCH", url, {"status": "draft", "comment": "Sửa phương án C."},
                  token=t["tt.itema.toan"])
    assert r.status == 200 and r.json()["status"] == "draft"
    assert r.json()["review_comment"] == "Sửa phương án C."
    r = s.request("PATCH", url, {"status": "submitted"}, token=t["gv.itema"])
    assert r.status == 200
    r = s.request("PATCH", url, {"status": "approved", "version": 1}, token=t["tt.itema.toan"])
    assert r.status == 200, r
    body = r.json()
    head_id = int(env.cluster.psql("SELECT id FROM users WHERE username = 'tt.itema.toan'"))
    assert body["status"] == "approved" and body["approved_by"] == head_id and body["approved_at"]
    actions = env.cluster.psql(f"SELECT string_agg(action, ',' ORDER BY id) FROM audit_log"
                               f" WHERE entity = 'item' AND entity_id = '{it['id']}'")
    assert actions == "item.create,item.submit,item.reject,item.submit,item.approve", actions
    # Editing approved content makes a new version that goes back to draft.
    content = dict(body["content"], stem="<p>Hàm số nào là hàm bậc hai (bản mới)?</p>")
    r = s.request("PATCH", url, {"content": content}, token=t["gv.itema"])
    assert r.status == 200, r
    assert r.json()["status"] == "draft" and r.json()["version"] == 2
    assert r.json()["approved_by"] is None
    # Re-approve, then retire (subject head of the subject only).
    assert s.request("PATCH", url, {"status": "submitted"}, token=t["gv.itema"]).status == 200
    assert s.request("PATCH", url, {"status": "approved"}, token=t["tt.itema.toan"]).status == 200
    assert s.request("PATCH", url, {"status": "retired"}, token=t["gv.itema"]).status == 403
    r = s.request("PATCH", url, {"status": "retired"}, token=t["tt.itema.toan"])
    assert r.status == 200 and r.json()["status"] == "retired"
    r = s.request("PATCH", url, {"title": "Không sửa được"}, token=t["gv.itema"])
    assert r.status == 409


def test_items_search_and_pagination(env):
    s, t = _setup(env)
    a = _create(s, t["gv.itema"], "ITA-SEARCH-1", title="Đồ thị hàm số bậc hai", level="MD.H")
    b = _create(s, t["gv.itema"], "ITA-SEARCH-2", title="Tập hợp và mệnh đề",
                stem="<p>Cho tập hợp A.</p>")
    for q in ("ham so bac hai", "hàm số bậc hai", "HÀM SỐ BẬC HAI", "do thi"):
        r = s.request("GET", "/api/v1/items?q=" + _quote(q), token=t["gv.itema"])
        assert r.status == 200, r
        ids = [i["id"] for i in r.json()["items"]]
        assert a["id"] in ids and b["id"] not in ids, (q, ids)
    r = s.request("GET", "/api/v1/items?q=" + _quote("tập hợp"), token=t["gv.itema"])
    assert [i["id"] for i in r.json()["items"]] == [b["id"]]
    # Tag filters.
    r = s.request("GET", "/api/v1/items?level=MD.H&subject=TOAN&grade=10", token=t["gv.itema"])
    ids = [i["id"] for i in r.json()["items"]]
    assert a["id"] in ids and b["id"] not in ids
    r = s.request("GET", "/api/v1/items?outcome=VN18.TOAN.10.DSGT.03.01.01&competency=NL.TOAN.TDLL"
                  "&status=draft", token=t["gv.itema"])
    ids = [i["id"] for i in r.json()["items"]]
    assert {a["id"], b["id"]} <= set(ids)
    first = r.json()["items"][0]
    assert set(first) == {"id", "identifier", "subject", "grade", "kind", "status", "version",
                          "title", "tags", "author", "approved_version", "review_comment", "updated_at"}
    # Keyset pagination walks everything once.
    seen, cursor = [], None
    while True:
        url = "/api/v1/items?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = s.request("GET", url, token=t["gv.itema"]).json()
        assert len(page["items"]) <= 2
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    all_ids = s.request("GET", "/api/v1/items?limit=100", token=t["gv.itema"]).json()["items"]
    assert seen == sorted(seen) and seen == [i["id"] for i in all_ids]
    assert s.request("GET", "/api/v1/items?cursor=nonsense", token=t["gv.itema"]).status == 400
    assert s.request("GET", "/api/v1/items?limit=101", token=t["gv.itema"]).status == 400
    assert s.request("GET", "/api/v1/items?status=old", token=t["gv.itema"]).status == 400


def _quote(q):
    import urllib.parse
    return urllib.parse.quote(q)


def test_items_tenant_isolation_and_roles(env):
    s, t = _setup(env)
    it = _create(s, t["gv.itema"], "ITA-TENANT")
    url = f"/api/v1/items/{it['id']}"
    assert s.request("GET", url, token=t["gv.itemb"]).status == 404
    assert s.request("PATCH", url, {"status": "submitted"}, token=t["gv.itemb"]).status == 404
    ids = [i["id"] for i in s.request("GET", "/api/v1/items?limit=100",
                                      token=t["gv.itemb"]).json()["items"]]
    assert it["id"] not in ids
    # Students have no access to the bank at all.
    assert s.request("GET", "/api/v1/items", token=t["hs.itema"]).status == 403
    assert s.request("GET", url, token=t["hs.itema"]).status == 403
    assert s.request("POST", "/api/v1/items", _mcq("ITA-HS"), token=t["hs.itema"]).status == 403
    assert s.request("GET", "/api/v1/items").status == 401
    # A province-shared item is readable by both schools but editable by neither.
    shared = env.cluster.psql(
        "WITH i AS (INSERT INTO items (province_id, school_id, identifier, subject, grade, status)"
        " SELECT id, NULL, 'SO-SHARED-1', 'TOAN', 10, 'approved' FROM provinces WHERE code = 'TST'"
        " RETURNING id, province_id)"
        " INSERT INTO item_versions (item_id, version, province_id, kind, title, content, scoring)"
        " SELECT id, 1, province_id, 'MCQ4', 'Câu dùng chung của Sở',"
        " '{\"stem\":\"<p>Hàm số chung</p>\",\"options\":[]}', '{\"key\":\"A\"}' FROM i"
        " RETURNING item_id")
    shared = shared.splitlines()[0]
    for who in ("gv.itema", "gv.itemb"):
        r = s.request("GET", f"/api/v1/items/{shared}", token=t[who])
        assert r.status == 200 and r.json()["shared"] is True, r
        r = s.request("PATCH", f"/api/v1/items/{shared}", {"title": "Sửa"}, token=t[who])
        assert r.status == 403, r
    # The trigger gave the shared row a folded search text.
    r = s.request("GET", "/api/v1/items?q=ham+so+chung", token=t["gv.itemb"])
    assert [i["id"] for i in r.json()["items"]] == [int(shared)], r
