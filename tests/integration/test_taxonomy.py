"""GDPT 2018 taxonomy: the seed of migration 0003 through GET /api/v1/taxonomy,
`kiemtra taxonomy import` of the demo outcomes (all-or-nothing, idempotent,
stable codes whose text may not change silently)."""
import csv
import io
import os
import tempfile
import urllib.parse

from harness import ROOT

PW = "mat-khau-thu-nghiem"
DEMO = os.path.join(ROOT, "demo", "outcomes-toan10.csv")
HEADER = ["code", "subject", "grade", "strand", "topic", "unit", "text"]


def _token(env):
    s = env.main_server()
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'TRUONG-TX'") == "0":
        env.cli("schools", "add", "TRUONG-TX", "Trường TX", "--province", "TST", "Sở thử nghiệm")
        env.cli("users", "add", "--username", "gv.tx", "--full-name", "Giáo viên TX",
                "--role", "teacher", "--school", "TRUONG-TX", "--subject", "TOAN",
                env={"KIEMTRA_NEW_PASSWORD": PW})
    return s, s.login("gv.tx", PW)


def _nodes(env, **params):
    s, tok = _token(env)
    r = s.request("GET", "/api/v1/taxonomy?" + urllib.parse.urlencode(params), token=tok)
    assert r.status == 200, r
    return r.json()["nodes"]


def _csv_file(rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADER)
    for r in rows:
        w.writerow(r)
    f = tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8")
    f.write(buf.getvalue())
    f.close()
    return f.name


def _demo_rows():
    with open(DEMO, encoding="utf-8-sig") as f:
        return list(csv.reader(f))[1:]


def test_seed_visible_with_filters(env):
    topics = _nodes(env, subject="TOAN", grade=10, kind="topic")
    assert topics, topics
    codes = [t["code"] for t in topics]
    assert "VN18.TOAN.10.SDS.01" in codes and "VN18.TOAN.10.TKXS.02" in codes, codes
    t = topics[codes.index("VN18.TOAN.10.SDS.01")]
    assert t == {"code": "VN18.TOAN.10.SDS.01", "kind": "topic", "parent": "VN18.TOAN.10.SDS",
                 "subject": "TOAN", "grade": 10, "name": "Mệnh đề và tập hợp", "text": "",
                 "deprecated": False}, t
    # Document order: strands SDS, HHDL, TKXS, then topic ordinals.
    assert codes.index("VN18.TOAN.10.SDS.04") < codes.index("VN18.TOAN.10.HHDL.01") < \
        codes.index("VN18.TOAN.10.TKXS.01"), codes
    for g in range(6, 13):
        assert _nodes(env, subject="toan", grade=g, kind="topic"), g
        strands = {n["code"].split(".")[-1] for n in _nodes(env, grade=g, kind="strand")}
        assert strands == {"SDS", "HHDL", "TKXS", "THTN"}, (g, strands)
    comps = _nodes(env, kind="competency", parent="NL.TOAN")
    assert {c["code"] for c in comps} == {"NL.TOAN.TDLL", "NL.TOAN.MHH", "NL.TOAN.GQVD",
                                          "NL.TOAN.GT", "NL.TOAN.CCPT"}, comps
    assert {c["code"] for c in _nodes(env, kind="quality")} == \
        {"PC.YN", "PC.NA", "PC.CC", "PC.TT", "PC.TN"}
    assert {c["code"] for c in _nodes(env, kind="competency") if c["code"].startswith("NLC.")} \
        == {"NLC.TCTH", "NLC.GTHT", "NLC.GQVDST"}
    assert {c["code"] for c in _nodes(env, parent="NL.KHTN")} == \
        {"NL.KHTN.NT", "NL.KHTN.THTN", "NL.KHTN.VD"}
    assert [c["code"] for c in _nodes(env, kind="level")][:4] == ["MD.B", "MD.H", "MD.V", "MD.VC"]
    assert [c["code"] for c in _nodes(env, kind="format")] == ["DT.NLC", "DT.DS", "DT.TLN", "DT.TL"]
    assert any(n["code"] == "VN18.TOAN" and n["name"] == "Toán" for n in _nodes(env, kind="subject"))
    # Search, limit, errors.
    hits = _nodes(env, grade=10, q="vectơ")
    assert "VN18.TOAN.10.HHDL.02" in [h["code"] for h in hits], hits
    assert _nodes(env, q="100%_\\") == []
    assert len(_nodes(env, limit=3)) == 3
    s, tok = _token(env)
    for bad in ("grade=13", "grade=x", "kind=chapter", "limit=0", "limit=5001"):
        r = s.request("GET", "/api/v1/taxonomy?" + bad, token=tok)
        assert r.status == 400 and r.json()["error"]["code"] == "invalid_parameter", (bad, r)
    assert s.request("GET", "/api/v1/taxonomy").status == 401
    # National data: readable, not writable by the application role.
    p = env.cluster.psql("INSERT INTO taxonomy_nodes (code, kind, name) VALUES ('PC.XX', 'quality',"
                         " 'x')", user="kiemtra_app", check=False)
    assert p.returncode != 0 and "permission denied" in p.stderr, p.stderr


def test_import_demo_outcomes_under_their_topics(env):
    p = env.cli("taxonomy", "import", DEMO)
    assert "30 yêu cầu cần đạt" in p.stdout, p.stdout
    outs = _nodes(env, parent="VN18.TOAN.10.SDS.01.02", kind="outcome")
    assert [o["code"] for o in outs] == ["VN18.TOAN.10.SDS.01.02.01", "VN18.TOAN.10.SDS.01.02.02"]
    assert outs[0]["text"].startswith("Nhận biết được các khái niệm cơ bản về tập hợp"), outs
    units = _nodes(env, parent="VN18.TOAN.10.SDS.01")
    assert [(u["code"], u["kind"], u["name"]) for u in units] == [
        ("VN18.TOAN.10.SDS.01.01", "unit", "Mệnh đề toán học"),
        ("VN18.TOAN.10.SDS.01.02", "unit", "Tập hợp. Các phép toán trên tập hợp")], units
    assert len(_nodes(env, subject="TOAN", grade=10, kind="outcome")) == 30
    h = env.cluster.psql("SELECT content_hash = encode(sha256(convert_to(text, 'UTF8')), 'hex')"
                         " FROM taxonomy_nodes WHERE code = 'VN18.TOAN.10.SDS.01.01.01'")
    assert h == "t"


def test_reimport_is_idempotent(env):
    env.cli("taxonomy", "import", DEMO)
    before = env.cluster.psql("SELECT count(*), max(updated_at) FROM taxonomy_nodes")
    p = env.cli("taxonomy", "import", DEMO)
    assert "0 mới, 0 cập nhật" in p.stdout, p.stdout
    assert env.cluster.psql("SELECT count(*), max(updated_at) FROM taxonomy_nodes") == before


def test_bad_rows_import_nothing_and_are_all_listed(env):
    good = ["VN18.TOAN.11.SDS.01.01.01", "TOAN", "11", "Số, Đại số và Một số yếu tố giải tích",
            "Hàm số lượng giác và phương trình lượng giác", "Góc lượng giác",
            "Nhận biết được các khái niệm cơ bản về góc lượng giác."]
    rows = [good,
            ["VN18.TOAN.11.SDS.01.01.02", "TOAN", "11", "S", "T", "U", ""],
            ["VN18.TOAN.11.SDS.01.01.03", "TOAN", "12"] + good[3:],
            ["VN18.TOAN.11.SDS.1.01.01", "TOAN", "11", "S", "T", "U", "x"],
            good]
    path = _csv_file(rows)
    try:
        p = env.cli("taxonomy", "import", path, check=False)
    finally:
        os.unlink(path)
    assert p.returncode == 1, p
    assert "có 4 lỗi, chưa ghi dữ liệu nào" in p.stderr, p.stderr
    for line in ("Dòng 3, cột 'text'", "Dòng 4, cột 'grade'", "Dòng 5, cột 'code'",
                 "Dòng 6, cột 'code': Mã VN18.TOAN.11.SDS.01.01.01 trùng với mã ở dòng 2"):
        assert line in p.stderr, (line, p.stderr)
    assert env.cluster.psql("SELECT count(*) FROM taxonomy_nodes"
                            " WHERE code LIKE 'VN18.TOAN.11.SDS.01.%'") == "0"


def test_changed_text_is_refused(env):
    env.cli("taxonomy", "import", DEMO)
    rows = _demo_rows()
    code, old_text = rows[0][0], rows[0][6]
    old_hash = env.cluster.psql(f"SELECT content_hash FROM taxonomy_nodes WHERE code = '{code}'")
    rows[0][6] = old_text + " (đã sửa)"
    rows.append(["VN18.TOAN.10.SDS.04.03.02", "TOAN", "10", rows[0][3], "Đại số tổ hợp",
                 "Nhị thức Newton", "Một yêu cầu mới."])
    path = _csv_file(rows)
    try:
        p = env.cli("taxonomy", "import", path, check=False)
        assert p.returncode == 1, p
        assert f"Dòng 2: nội dung của mã {code} khác với nội dung đã lưu" in p.stderr, p.stderr
        assert f"băm cũ {old_hash}" in p.stderr, p.stderr
        assert env.cluster.psql(f"SELECT text FROM taxonomy_nodes WHERE code = '{code}'") == \
            old_text
        assert env.cluster.psql("SELECT count(*) FROM taxonomy_nodes"
                                " WHERE code = 'VN18.TOAN.10.SDS.04.03.02'") == "0"
        # A deliberate correction goes through, and says so.
        p = env.cli("taxonomy", "import", path, "--allow-text-change")
        assert "1 mới, 1 cập nhật (1 đổi nội dung)" in p.stdout, p.stdout
        assert env.cluster.psql(f"SELECT text FROM taxonomy_nodes WHERE code = '{code}'") == \
            old_text + " (đã sửa)"
    finally:
        os.unlink(path)
    env.cli("taxonomy", "import", DEMO, "--allow-text-change")
    assert env.cluster.psql(f"SELECT content_hash FROM taxonomy_nodes WHERE code = '{code}'") == \
        old_hash
