"""POST /api/v1/items/import and item assets over HTTP: an item and a package
import once, files come back with their content type, hostile input is
refused with every error listed and nothing written, and the server keeps
serving."""
import io
import zipfile

from test_foundation import _raw
from test_import import ITEM, LAUGHS, QTI12
from test_items import _setup

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")

MAP_ITEM = ITEM.replace('identifier="imp-thu-do"', 'identifier="imp-ban-do"').replace(
    "<prompt>", '<prompt><img src="hinh anh/ban-do&amp;1.png" alt="Bản đồ"/>')

MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" identifier="goi-ban-do">
  <organizations/>
  <resources>
    <resource identifier="r1" type="imsqti_item_xmlv2p2" href="cau hoi/ban-do.xml">
      <file href="cau hoi/ban-do.xml"/>
      <file href="cau hoi/hinh anh/ban-do&amp;1.png"/>
    </resource>
  </resources>
</manifest>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2" identifier="xxe"
    title="&xxe;" adaptive="false" timeDependent="false"/>
"""

Q = "/api/v1/items/import?subject=TOAN&grade=10"


def _zip(entries):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return b.getvalue()


def _counts(env):
    return env.cluster.psql("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM"
                            " item_versions), (SELECT count(*) FROM item_assets),"
                            " (SELECT count(*) FROM qti_tests), (SELECT count(*) FROM audit_log)")


def test_http_import_item_once(env):
    s, tok = _setup(env)
    t = tok["gv.itema"]
    body = ITEM.replace("imp-thu-do", "http-thu-do").encode()
    named = Q + "&filename=thu-do.xml"  # a file is known by its name and identifier
    r = s.request("POST", named, body, t, {"Content-Type": "application/xml"})
    assert r.status == 201, r
    j = r.json()
    assert [x["identifier"] for x in j["imported"]] == ["http-thu-do"] and j["errors"] == [], j
    item_id = j["imported"][0]["id"]
    g = s.request("GET", f"/api/v1/items/{item_id}", token=t)
    assert g.status == 200, g
    v = g.json()
    assert (v["kind"], v["status"], v["subject"], v["grade"]) == ("QTI", "draft", "TOAN", 10), v
    assert v["author"]["username"] == "gv.itema", v
    # Searchable without diacritics by its body text.
    found = s.request("GET", "/api/v1/items?q=thu%20do%20cua%20viet%20nam", token=t).json()
    assert item_id in [x["id"] for x in found["items"]], found
    audit = env.cluster.psql(f"SELECT count(*) FROM audit_log WHERE action = 'item.import'"
                             f" AND entity_id = '{item_id}'")
    assert audit == "1", audit
    # Again: nothing new, the existing item is named.
    before = _counts(env)
    r = s.request("POST", named, body, t)
    assert r.status == 200 and r.json()["imported"] == [], r
    assert [x["id"] for x in r.json()["existing"]] == [item_id], r
    assert _counts(env) == before
    # Changed XML of the same file: a new version, which needs its own review while
    # the approved version stays approved.
    assert s.request("PATCH", f"/api/v1/items/{item_id}", {"status": "submitted"}, t).status == 200
    r = s.request("PATCH", f"/api/v1/items/{item_id}", {"status": "approved"},
                  tok["tt.itema.toan"])
    assert r.status == 200 and r.json()["status"] == "approved", r
    changed = body.replace("Thủ đô của Việt Nam".encode(), "Thủ đô nước ta".encode())
    r = s.request("POST", named, changed, t)
    assert r.status == 201 and r.json()["updated"] == [
        {"id": item_id, "identifier": "http-thu-do", "version": 2, "status": "draft",
         "approved_version": 1}], r
    v = s.request("GET", f"/api/v1/items/{item_id}", token=t).json()
    assert (v["version"], v["status"], v["title"], v["approved_version"], v["pending"]) == \
        (2, "approved", "Thủ đô nước ta", 1, {"version": 2, "status": "draft"}), v
    assert s.request("GET", f"/api/v1/items/{item_id}?version=1", token=t).json()["title"] == \
        "Thủ đô của Việt Nam"
    before = _counts(env)
    # Items need a subject and a grade; students may not import.
    r = s.request("POST", "/api/v1/items/import", body.replace(b"http-thu-do", b"x2"), t)
    assert r.status == 400 and "subject" in r.json()["error"]["message"], r
    assert s.request("POST", Q, body, tok["hs.itema"]).status == 403
    assert s.request("POST", Q, b"", t).status == 400
    assert _counts(env) == before


def test_http_import_package_and_assets(env):
    s, tok = _setup(env)
    pkg = _zip([("imsmanifest.xml", MANIFEST), ("cau hoi/ban-do.xml", MAP_ITEM),
                ("cau hoi/hinh anh/ban-do&1.png", PNG)])
    r = s.request("POST", Q + "&filename=ban-do.zip", pkg, tok["gv.itema"],
                  {"Content-Type": "application/zip"})
    assert r.status == 201, r
    item_id = r.json()["imported"][0]["id"]
    assert r.json()["assets"] == 1, r
    path = "/api/v1/items/%d/assets/cau%%20hoi/hinh%%20anh/ban-do%%261.png" % item_id
    a = s.request("GET", path, token=tok["gv.itema"])
    assert a.status == 200 and a.body == PNG, a
    assert a.headers["Content-Type"] == "image/png", a.headers
    assert "sandbox" in a.headers.get("Content-Security-Policy", ""), a.headers
    assert s.request("GET", path + "x", token=tok["gv.itema"]).status == 404
    # Another school sees neither the item nor its file; students get 403.
    assert s.request("GET", path, token=tok["gv.itemb"]).status == 404
    assert s.request("GET", path, token=tok["hs.itema"]).status == 403


def test_http_import_hostile_input(env):
    s, tok = _setup(env)
    t = tok["gv.itema"]
    before = _counts(env)

    def refused(body, *needles):
        r = s.request("POST", Q, body, t)
        assert r.status == 422, r
        j = r.json()
        assert j["imported"] == [] and j["errors"], j
        text = " ".join(e["message"] + " " + (e["file"] or "") for e in j["errors"])
        for n in needles:
            assert n in text, (n, j)
        for e in j["errors"]:
            assert {"file", "line", "column", "message"} <= set(e), e
        return j

    refused(LAUGHS.encode(), "DOCTYPE")
    refused(XXE.encode(), "DOCTYPE")
    refused(QTI12.encode(), "1.2")
    refused(b"<assessmentItem", "tep-tai-len.xml")
    refused(_zip([("imsmanifest.xml", MANIFEST), ("../ban-do.xml", MAP_ITEM)]), "ban-do.xml")
    refused(_zip([("imsmanifest.xml", MANIFEST), ("cau hoi/ban-do.xml", MAP_ITEM),
                  ("cau hoi/hinh anh/ban-do&1.png", b"\0" * (60 << 20))]))
    # A package missing a file its manifest lists: one error per problem, nothing written.
    j = refused(_zip([("imsmanifest.xml", MANIFEST), ("cau hoi/ban-do.xml", MAP_ITEM)]),
                "ban-do&1.png")
    assert j["error"]["code"] == "import_failed", j
    # 50 MB announced, the first megabyte sent: refused before it is read.
    big = _raw(s.port, f"POST {Q} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n"
               f"Content-Length: {50 << 20}\r\n\r\n".encode() + b"x" * (1 << 20))
    assert big.startswith(b"HTTP/1.1 413 "), big[:80]
    assert _counts(env) == before
    assert s.request("GET", "/healthz").status == 200
