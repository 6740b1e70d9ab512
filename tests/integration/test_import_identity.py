"""Item identity on import: an item is known by where it came from (the
package's manifest identifier, else a fingerprint of its manifest; the name of
a single file, else its content) and its identifier. Unrelated packages that
both use `choice` give two items; the same package re-imported with a change
gives a new version of its item; an approved item re-imported with a change
stays approved and delivered at its approved version until the new version
is approved; the reply (HTTP and `kiemtra import`) says which is which."""
import io
import os
import tempfile
import zipfile

from test_delivery import _setup

NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
RP = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/match_correct"
Q = "/api/v1/items/import?subject=TOAN&grade=10"


def _item(ident, prompt):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{NS}" identifier="{ident}" title="{prompt}" adaptive="false"
    timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>B</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>{prompt}</prompt>
      <simpleChoice identifier="A">Một</simpleChoice>
      <simpleChoice identifier="B">Hai</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{RP}"/>
</assessmentItem>
"""


def _test(ident, refs):
    items = "".join(f'<assessmentItemRef identifier="R{k}" href="{r}.xml"/>'
                    for k, r in enumerate(refs, 1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentTest xmlns="{NS}" identifier="{ident}" title="Đề {ident}">
  <timeLimits maxTime="1800"/>
  <testPart identifier="P1" navigationMode="nonlinear" submissionMode="simultaneous">
    <assessmentSection identifier="S1" title="Phần 1" visible="true">{items}</assessmentSection>
  </testPart>
</assessmentTest>
"""


def _package(manifest_id, items, test=None):
    """items: {identifier: prompt}; test: a test identifier over all of them."""
    res = "".join(f'<resource identifier="r-{i}" type="imsqti_item_xmlv2p1" href="{i}.xml">'
                  f'<file href="{i}.xml"/></resource>' for i in items)
    if test:
        res += (f'<resource identifier="t-{test}" type="imsqti_test_xmlv2p1" href="{test}.xml">'
                f'<file href="{test}.xml"/></resource>')
    ident = f' identifier="{manifest_id}"' if manifest_id else ""
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("imsmanifest.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><manifest xmlns="http://www.imsglobal.'
                   f'org/xsd/imscp_v1p1"{ident}><organizations/><resources>{res}</resources>'
                   "</manifest>")
        for i, prompt in items.items():
            z.writestr(f"{i}.xml", _item(i, prompt))
        if test:
            z.writestr(f"{test}.xml", _test(test, list(items)))
    return b.getvalue()


def _import(s, tok, body, name, status=201):
    r = s.request("POST", Q + (f"&filename={name}" if name else ""), body, tok)
    assert r.status == status, r
    return r.json()


def _prompt(s, tok, iid, version=None):
    q = f"?version={version}" if version else ""
    return s.request("GET", f"/api/v1/items/{iid}{q}", token=tok).json()["title"]


def test_unrelated_packages_with_one_identifier_are_two_items(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    a = _import(s, gv, _package("idn-goi-a", {"choice": "Gói A: 1 + 1 = ?"}), "a.zip")
    b = _import(s, gv, _package("idn-goi-b", {"choice": "Gói B: 4 : 2 = ?"}), "b.zip")
    assert [x["identifier"] for x in a["imported"]] == ["choice"], a
    assert [x["identifier"] for x in b["imported"]] == ["choice"], b
    assert b["updated"] == [] and b["existing"] == [], b
    ia, ib = a["imported"][0]["id"], b["imported"][0]["id"]
    assert ia != ib
    assert a["imported"][0]["status"] == "draft" and a["imported"][0]["version"] == 1, a
    assert a["origin"] == "package:idn-goi-a" and b["origin"] == "package:idn-goi-b", (a, b)
    assert _prompt(s, gv, ia) == "Gói A: 1 + 1 = ?" and _prompt(s, gv, ib) == "Gói B: 4 : 2 = ?"
    # Packages without a manifest identifier: told apart by their manifests.
    c = _import(s, gv, _package(None, {"choice": "Gói C"}), "c.zip")
    d = _import(s, gv, _package(None, {"choice": "Gói D", "cau-2": "Gói D, câu 2"}), "d.zip")
    assert c["origin"].startswith("package-sha256:") and c["origin"] != d["origin"], (c, d)
    ids = {x["id"] for x in c["imported"] + d["imported"]}
    assert len(ids) == 3 and not ids & {ia, ib}, (c, d)
    # Single files: the file name is the origin; one without a name, its content.
    e = _import(s, gv, _item("choice", "Tệp E").encode(), "cau-e.xml")
    f = _import(s, gv, _item("choice", "Tệp F").encode(), "cau-f.xml")
    assert e["imported"][0]["id"] != f["imported"][0]["id"], (e, f)
    g = _import(s, gv, _item("choice", "Tệp G").encode(), None)
    assert g["origin"].startswith("file-sha256:") and g["updated"] == [], g
    n = env.cluster.psql("SELECT count(*) FROM items i JOIN schools sc ON sc.id = i.school_id"
                         " WHERE sc.code = 'DLV-A' AND i.identifier = 'choice'")
    assert n == "7", n


def test_same_package_changed_gives_new_version(env):
    s, st = _setup(env)
    gv = st["tok"]["gv"]
    first = _import(s, gv, _package("idn-goi-sua", {"choice": "Bản đầu", "cau-2": "Câu 2"}),
                    "goi-sua.zip")
    ids = {x["identifier"]: x["id"] for x in first["imported"]}
    # Same package, one item corrected (even under another file name).
    again = _import(s, gv, _package("idn-goi-sua", {"choice": "Bản sửa", "cau-2": "Câu 2"}),
                    "goi-sua-lan-2.zip")
    assert again["imported"] == [], again
    assert again["updated"] == [{"id": ids["choice"], "identifier": "choice", "version": 2,
                                 "status": "draft", "approved_version": None}], again
    assert again["existing"] == [{"id": ids["cau-2"], "identifier": "cau-2", "version": 1}], again
    assert _prompt(s, gv, ids["choice"]) == "Bản sửa"
    assert _prompt(s, gv, ids["choice"], 1) == "Bản đầu"
    # A single file re-imported under its name after a correction.
    one = _import(s, gv, _item("cau-le", "Lần 1").encode(), "cau-le.xml")
    two = _import(s, gv, _item("cau-le", "Lần 2").encode(), "cau-le.xml")
    assert two["imported"] == [] and two["updated"][0]["id"] == one["imported"][0]["id"], two


def _publish_and_show(s, st, test_id):
    """Publishes the imported test, opens it to the class, and returns the
    item versions it delivers and what the first student is shown."""
    gv = st["tok"]["gv"]
    r = s.request("POST", f"/api/v1/qti-tests/{test_id}/publish",
                  {"subject": "TOAN", "grade": 10, "kind": "tx", "forms": 1}, gv)
    assert r.status == 201, r
    t = r.json()
    win = {"class_ids": [st["class_id"]], "opens_at": "2020-01-01T00:00:00Z",
           "closes_at": "2099-01-01T00:00:00Z"}
    r = s.request("POST", f"/api/v1/tests/{t['id']}/sessions", win, gv)
    assert r.status == 201, r
    a = s.request("POST", f"/api/v1/sessions/{r.json()['id']}/attempts",
                  token=st["tok"][st["students"][0]])
    assert a.status == 201, a
    html = " ".join(i["html"] + i["interactions"][0].get("prompt_html", "")
                    for i in a.json()["payload"]["items"])
    return [(i["item_id"], i["version"]) for i in t["items"]], html


def test_approved_item_stays_approved_and_delivered(env):
    s, st = _setup(env)
    gv, tt = st["tok"]["gv"], st["tok"]["tt"]
    pkg = _package("idn-goi-duyet", {"choice": "Câu đã duyệt"}, test="idn-de")
    r = _import(s, gv, pkg, "duyet.zip")
    iid, test_id = r["imported"][0]["id"], r["tests"][0]["id"]
    url = f"/api/v1/items/{iid}"
    assert s.request("PATCH", url, {"status": "submitted"}, gv).status == 200
    assert s.request("PATCH", url, {"status": "approved"}, tt).status == 200
    # Someone re-imports the package with a change.
    r = _import(s, gv, _package("idn-goi-duyet", {"choice": "Câu sửa chưa duyệt"},
                                test="idn-de"), "duyet.zip")
    assert r["updated"] == [{"id": iid, "identifier": "choice", "version": 2,
                             "status": "draft", "approved_version": 1}], r
    assert r["tests"] == [] and [t["id"] for t in r["tests_existing"]] == [test_id], r
    v = s.request("GET", url, token=gv).json()
    assert (v["status"], v["approved_version"], v["pending"]) == \
        ("approved", 1, {"version": 2, "status": "draft"}), v
    assert v["approved_by"] is not None and v["version"] == 2, v
    delivered, html = _publish_and_show(s, st, test_id)
    assert delivered == [(iid, 1)], delivered
    assert "Câu đã duyệt" in html and "chưa duyệt" not in html, html
    # The new version goes through review; the item stays approved meanwhile.
    r = s.request("PATCH", url, {"status": "approved"}, tt)
    assert r.status == 409, r  # a draft is not approved directly
    r = s.request("PATCH", url, {"status": "submitted", "version": 2}, gv)
    assert r.status == 200, r
    assert (r.json()["status"], r.json()["pending"]) == \
        ("approved", {"version": 2, "status": "submitted"}), r
    assert _publish_and_show(s, st, test_id)[0] == [(iid, 1)]
    r = s.request("PATCH", url, {"status": "approved"}, tt)
    assert r.status == 200, r
    assert (r.json()["status"], r.json()["approved_version"], r.json()["pending"]) == \
        ("approved", 2, None), r
    delivered, html = _publish_and_show(s, st, test_id)
    assert delivered == [(iid, 2)] and "Câu sửa chưa duyệt" in html, (delivered, html)


def test_cli_reply_names_new_items_and_new_versions(env):
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'IDN-A'") == "0":
        env.cli("schools", "add", "IDN-A", "Trường IDN", "--province", "TST", "Sở thử nghiệm")
    args = ["import", "--school", "IDN-A", "--subject", "TOAN", "--grade", "10"]
    d = tempfile.mkdtemp()
    a, b = os.path.join(d, "a.zip"), os.path.join(d, "b.zip")
    for path, prompt in ((a, "A1"), (b, "B1")):
        with open(path, "wb") as f:
            f.write(_package("idn-cli-" + os.path.basename(path), {"choice": prompt}))
    p = env.cli(*args, a, b)
    assert p.stdout.count("câu hỏi mới choice") == 2, p.stdout
    ids = env.cluster.psql("SELECT string_agg(i.id::text, ',' ORDER BY i.id) FROM items i"
                           " JOIN schools s ON s.id = i.school_id WHERE s.code = 'IDN-A'")
    assert len(ids.split(",")) == 2, ids
    with open(a, "wb") as f:
        f.write(_package("idn-cli-a.zip", {"choice": "A2"}))
    p = env.cli(*args, a, b)
    first = ids.split(",")[0]
    assert f"phiên bản mới 2 của câu hỏi choice (mã {first}), trạng thái nháp" in p.stdout, \
        p.stdout
    assert "câu hỏi choice đã có" in p.stdout and "câu hỏi mới" not in p.stdout, p.stdout
    # Both items named `choice` go into one exported package, each in its place.
    out = os.path.join(d, "xuat.zip")
    env.cli("export-qti", "--school", "IDN-A", "--out", out)
    with zipfile.ZipFile(out) as z:
        names = sorted(n for n in z.namelist() if n.endswith(".xml") and n != "imsmanifest.xml")
        docs = [z.read(n).decode() for n in names]
    second = ids.split(",")[1]
    assert names == ["items/choice-%s.xml" % second, "items/choice.xml"], names
    assert "A2" in docs[1] and "B1" in docs[0], docs
