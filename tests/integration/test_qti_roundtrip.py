"""QTI out and back in: GET /items/{id}/qti in 2.2 and 3.0, POST
/items/{id}/score (the teacher's preview) for Vietnamese and imported
items, and `kiemtra export-qti` -> `kiemtra import` into another school
keeping identifiers, tags and scores."""
import json
import os
import tempfile
import zipfile

from harness import ROOT
from test_import import ITEM

PW = "mat-khau-thu-nghiem"


def _setup(env):
    s = env.main_server()
    for code in ("QTI-A", "QTI-B"):
        if env.cluster.psql(f"SELECT count(*) FROM schools WHERE code = '{code}'") == "0":
            env.cli("schools", "add", code, f"Trường {code}", "--province", "TST",
                    "Sở thử nghiệm")
            env.cli("users", "add", "--username", f"gv.{code.lower()}", "--full-name",
                    "Giáo viên " + code, "--role", "teacher", "--school", code, "--subject",
                    "TOAN", env={"KIEMTRA_NEW_PASSWORD": PW})
    return s, s.login("gv.qti-a", PW), s.login("gv.qti-b", PW)


def _demo(kinds):
    with open(os.path.join(ROOT, "demo", "items-toan10.json"), encoding="utf-8") as f:
        items = json.load(f)
    out = []
    for k in kinds:
        out.append(next(i for i in items if i["kind"] == k))
    return out


def test_item_qti_export_and_preview_scoring(env):
    s, ta, tb = _setup(env)
    ids = {}
    for it in _demo(["MCQ4", "TF4", "SHORT"]):
        it = dict(it, identifier="RT-" + it["identifier"])
        r = s.request("POST", "/api/v1/items", it, ta)
        assert r.status == 201, r
        ids[it["kind"]] = (r.json()["id"], it)
    mcq_id, mcq = ids["MCQ4"]
    x22 = s.request("GET", f"/api/v1/items/{mcq_id}/qti", token=ta)
    assert x22.status == 200 and x22.headers["Content-Type"].startswith("application/xml"), x22
    assert b"imsqti_v2p2" in x22.body and f'identifier="{mcq["identifier"]}"'.encode() in x22.body
    x30 = s.request("GET", f"/api/v1/items/{mcq_id}/qti?version=3.0", token=ta)
    assert x30.status == 200 and b"<qti-assessment-item" in x30.body, x30.body[:300]
    assert s.request("GET", f"/api/v1/items/{mcq_id}/qti?version=1.2", token=ta).status == 400
    assert s.request("GET", f"/api/v1/items/{mcq_id}/qti", token=tb).status == 404

    def score(item_id, responses, tok=ta):
        return s.request("POST", f"/api/v1/items/{item_id}/score", {"responses": responses}, tok)

    r = score(mcq_id, {"RESPONSE": mcq["key"]})
    assert r.status == 200 and r.json()["outcomes"]["SCORE"] == "1", r
    wrong = next(o["id"] for o in mcq["options"] if o["id"] != mcq["key"])
    assert score(mcq_id, {"RESPONSE": wrong}).json()["outcomes"]["SCORE"] == "0"
    tf_id, tf = ids["TF4"]
    keys = {st["id"]: st["key"] for st in tf["statements"]}
    three = dict(keys, a=not keys["a"])
    assert score(tf_id, {"RESPONSE": three}).json()["outcomes"]["SCORE"] == "0.5"
    sh_id, sh = ids["SHORT"]
    assert score(sh_id, {"RESPONSE": sh["key"].replace(".", ",")}).json()["outcomes"][
        "SCORE"] == "1"
    assert score(mcq_id, {"RESPONSE": {"x": 1}}).status == 422
    assert s.request("POST", f"/api/v1/items/{mcq_id}/score", {"responses": []}, ta).status == 400
    # An imported QTI item is scored by its own response processing.
    imp = s.request("POST", "/api/v1/items/import?subject=TOAN&grade=10",
                    ITEM.replace("imp-thu-do", "rt-thu-do").encode(), ta)
    assert imp.status == 201, imp
    qid = imp.json()["imported"][0]["id"]
    out = score(qid, {"RESPONSE": "HN"}).json()["outcomes"]
    assert float(out["SCORE"]) == 1.0, out
    assert float(score(qid, {"RESPONSE": "HUE"}).json()["outcomes"]["SCORE"]) == 0.0
    assert float(score(qid, {}).json()["outcomes"]["SCORE"]) == 0.0
    assert s.request("GET", f"/api/v1/items/{qid}/qti?version=3.0", token=ta).body.count(
        b"<qti-simple-choice") == 3


def test_export_import_round_trip(env):
    s, ta, tb = _setup(env)
    for it in _demo(["MCQ4", "MR", "TF4", "SHORT", "ESSAY"]):
        it = dict(it, identifier="RR-" + it["identifier"])
        assert s.request("POST", "/api/v1/items", it, ta).status == 201
    tmp = tempfile.mkdtemp()
    for version in ("2.2", "3.0"):
        out = os.path.join(tmp, f"qti-{version}.zip")
        p = env.cli("export-qti", "--school", "QTI-A", "--version", version, "--out", out)
        assert "Đã xuất" in p.stdout, p.stdout
        with zipfile.ZipFile(out) as z:
            assert "imsmanifest.xml" in z.namelist(), z.namelist()
    originals = {}
    for line in env.cluster.psql(
            "SELECT i.identifier, array_to_string(v.tags, ' ') FROM items i"
            " JOIN item_versions v ON v.item_id = i.id AND v.version = i.current_version"
            " JOIN schools s ON s.id = i.school_id WHERE s.code = 'QTI-A'"
            " AND i.identifier LIKE 'RR-%'").splitlines():
        ident, tags = line.split("|")
        originals[ident] = sorted(tags.split())
    assert len(originals) == 5, originals
    p = env.cli("import", "--school", "QTI-B", "--subject", "TOAN", "--grade", "10",
                os.path.join(tmp, "qti-2.2.zip"))
    assert "OK " in p.stdout, (p.stdout, p.stderr)
    back = {}
    for line in env.cluster.psql(
            "SELECT i.identifier, array_to_string(v.tags, ' '), i.id FROM items i"
            " JOIN item_versions v ON v.item_id = i.id AND v.version = i.current_version"
            " JOIN schools s ON s.id = i.school_id WHERE s.code = 'QTI-B'"
            " AND i.identifier LIKE 'RR-%'").splitlines():
        ident, tags, iid = line.split("|")
        back[ident] = (sorted(tags.split()), int(iid))
    assert {k: v[0] for k, v in back.items()} == originals, (back, originals)
    # The same answers score the same in both schools.
    orig_ids = dict(line.split("|") for line in env.cluster.psql(
        "SELECT i.identifier, i.id FROM items i JOIN schools s ON s.id = i.school_id"
        " WHERE s.code = 'QTI-A' AND i.identifier LIKE 'RR-%'").splitlines())
    mr = next(it for it in _demo(["MR"]))
    tf = next(it for it in _demo(["TF4"]))
    cases = {
        "RR-" + mr["identifier"]: [(mr["keys"], mr["keys"]), (mr["keys"][:1], mr["keys"][:1])],
        "RR-" + tf["identifier"]: [
            ({st["id"]: st["key"] for st in tf["statements"]},
             [f"{st['id']} {'DUNG' if st['key'] else 'SAI'}" for st in tf["statements"]]),
            ({st["id"]: True for st in tf["statements"]},
             [f"{st['id']} DUNG" for st in tf["statements"]])],
    }
    for ident, answers in cases.items():
        for vn, qti in answers:
            a = s.request("POST", f"/api/v1/items/{orig_ids[ident]}/score",
                          {"responses": {"RESPONSE": vn}}, ta).json()["outcomes"]["SCORE"]
            b = s.request("POST", f"/api/v1/items/{back[ident][1]}/score",
                          {"responses": {"RESPONSE": qti}}, tb).json()["outcomes"]["SCORE"]
            assert abs(float(a) - float(b)) < 1e-9, (ident, vn, a, b)
    # Importing the 3.0 package into the same school again changes nothing.
    before = env.cluster.psql("SELECT count(*) FROM item_versions")
    env.cli("import", "--school", "QTI-B", "--subject", "TOAN", "--grade", "10",
            os.path.join(tmp, "qti-2.2.zip"))
    assert env.cluster.psql("SELECT count(*) FROM item_versions") == before
    assert env.cli("export-qti", "--school", "QTI-A", "--version", "9",
                   "--out", os.path.join(tmp, "x.zip"), check=False).returncode == 2
