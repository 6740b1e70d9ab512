"""`kiemtra import`: QTI items (.xml) and packages (.zip) into the question bank,
all-or-nothing per file, no duplicates on re-import, hostile input refused."""
import glob
import os
import tempfile
import zipfile

from harness import ROOT

CORPUS_PKG = os.path.join(ROOT, "..", "shared", "corpus", "qti", "tao-itemqti", "test",
                          "integration", "samples", "package", "QTI")

ITEM = """<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2"
    identifier="imp-thu-do" title="Thủ đô của Việt Nam" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>HN</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <itemBody>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="true" maxChoices="1">
      <prompt>Thành phố nào là thủ đô của Việt Nam?</prompt>
      <simpleChoice identifier="HN">Hà Nội</simpleChoice>
      <simpleChoice identifier="HUE">Huế</simpleChoice>
      <simpleChoice identifier="SG">Thành phố Hồ Chí Minh</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing
      template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"/>
</assessmentItem>
"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<assessmentItem xmlns="http://www.imsglobal.org/xsd/imsqti_v2p2" identifier="lol"
    title="&lol3;" adaptive="false" timeDependent="false"/>
"""

QTI12 = """<?xml version="1.0" encoding="UTF-8"?>
<questestinterop>
  <item ident="q12" title="Câu hỏi cũ">
    <presentation><material><mattext>1 + 1 = ?</mattext></material></presentation>
  </item>
</questestinterop>
"""

ARGS = ["--school", "IMP-A", "--subject", "KHAC", "--grade", "10"]


def _school(env):
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'IMP-A'") == "0":
        env.cli("schools", "add", "IMP-A", "Trường IMP", "--province", "TST", "Sở thử nghiệm")
    return env.cluster.psql("SELECT id FROM schools WHERE code = 'IMP-A'")


def _counts(env):
    return env.cluster.psql("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM"
                            " item_versions), (SELECT count(*) FROM item_assets),"
                            " (SELECT count(*) FROM qti_tests)")


def test_import_item_then_reimport_creates_nothing(env):
    sid = _school(env)
    d = tempfile.mkdtemp()
    path = os.path.join(d, "thu-do.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ITEM)
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("không phải QTI")
    p = env.cli("import", *ARGS, d)
    assert f"OK   {path}: 1 câu hỏi, 0 đề, 0 tệp đính kèm" in p.stdout, p.stdout
    assert "notes.txt" not in p.stdout, p.stdout
    row = env.cluster.psql(
        "SELECT i.school_id, i.subject, i.grade, i.status, v.kind, v.title,"
        " v.content->>'qti_version', v.content->'interactions'->0->>'type',"
        " v.content->'interactions'->0->>'response_identifier',"
        " v.scoring->>'response_processing', v.content::text LIKE '%HN%'"
        " FROM items i JOIN item_versions v ON v.item_id = i.id AND v.version = 1"
        " WHERE i.identifier = 'imp-thu-do'")
    assert row == f"{sid}|KHAC|10|draft|QTI|Thủ đô của Việt Nam|2.2|choice|RESPONSE|" \
                  "match_correct|f", row
    stored = env.cluster.psql("SELECT encode(convert_to(v.qti_xml, 'UTF8'), 'hex') FROM items i"
                              " JOIN item_versions v ON v.item_id = i.id"
                              " WHERE i.identifier = 'imp-thu-do'")
    with open(path, "rb") as f:
        assert bytes.fromhex(stored) == f.read()
    before = _counts(env)
    p = env.cli("import", *ARGS, path)
    assert "đã có" in p.stdout and "0 câu hỏi" in p.stdout, p.stdout
    assert _counts(env) == before
    # Items need a subject and grade.
    p = env.cli("import", "--school", "IMP-A", path, check=False)
    assert p.returncode == 1 and "--subject" in p.stderr, (p.stdout, p.stderr)
    # The school is named, or the only one: nothing is written otherwise.
    p = env.cli("import", "--school", "KHONG-CO", "--subject", "KHAC", "--grade", "10", path,
                check=False)
    assert p.returncode == 1 and "Không có trường nào có mã 'KHONG-CO'" in p.stderr, p.stderr
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'IMP-B'") == "0":
        env.cli("schools", "add", "IMP-B", "Trường IMP B", "--province", "TST", "Sở thử nghiệm")
    p = env.cli("import", "--subject", "KHAC", "--grade", "10", path, check=False)
    assert p.returncode == 1 and "hãy chỉ rõ --school" in p.stderr, p.stderr
    assert _counts(env) == before


def test_hostile_and_old_files_are_refused(env):
    _school(env)
    d = tempfile.mkdtemp()
    lol, old = os.path.join(d, "lol.xml"), os.path.join(d, "old.xml")
    with open(lol, "w") as f:
        f.write(LAUGHS)
    with open(old, "w", encoding="utf-8") as f:
        f.write(QTI12)
    before = _counts(env)
    p = env.cli("import", *ARGS, lol, old, check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert f"LỖI {lol}:" in p.stdout and f"LỖI {old}:" in p.stdout, p.stdout
    assert f"{lol}:" in p.stderr and "DOCTYPE" in p.stderr, p.stderr
    assert f"{old}:" in p.stderr and "1.2" in p.stderr, p.stderr
    assert "Tổng cộng: 0 tệp nhập được, 2 tệp lỗi" in p.stdout, p.stdout
    assert _counts(env) == before
    # A package with an entry outside the archive root.
    z = os.path.join(d, "evil.zip")
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("imsmanifest.xml", "<manifest/>")
        zf.writestr("../evil.xml", ITEM)
    p = env.cli("import", *ARGS, z, check=False)
    assert p.returncode == 1 and f"LỖI {z}:" in p.stdout, (p.stdout, p.stderr)
    assert "evil.xml" in p.stderr, p.stderr
    assert _counts(env) == before


def test_whole_corpus(env):
    """Every file of the shared corpus through `kiemtra import`, with exact
    counts (docs/QTI-SUPPORT.md lists the 22 refused files and why). An
    item is known by its package or file name and its identifier: files of
    one name (TAO's many `qti.xml`) give versions of one item, packages that
    reuse an identifier give items of their own."""
    corpus = os.path.dirname(CORPUS_PKG.split(os.sep + "tao-itemqti" + os.sep)[0] + os.sep)
    if not os.path.isdir(CORPUS_PKG):
        print("corpus absent: whole-corpus import skipped")
        return
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'IMP-C'") == "0":
        env.cli("schools", "add", "IMP-C", "Trường IMP C", "--province", "TST", "Sở thử nghiệm")
    sid = env.cluster.psql("SELECT id FROM schools WHERE code = 'IMP-C'")
    args = ["import", "--school", "IMP-C", "--subject", "KHAC", "--grade", "10", corpus]
    p = env.cli(*args, check=False)
    assert p.returncode == 1, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    assert "Sanitizer" not in p.stderr and "runtime error" not in p.stderr, p.stderr
    assert ("Tổng cộng: 290 tệp nhập được, 22 tệp lỗi, 30 tệp bỏ qua; 252 câu hỏi, 59 đề,"
            " 46 tệp đính kèm mới; 68 câu hỏi có phiên bản mới; 65 đã có.") in p.stdout, \
        p.stdout.splitlines()[-1]
    for z in sorted(glob.glob(os.path.join(CORPUS_PKG, "*.zip"))):
        line = [ln for ln in p.stdout.splitlines() if ln.startswith("OK ") and f" {z}: " in ln]
        assert line, (z, p.stdout)
    refused = [ln for ln in p.stdout.splitlines() if ln.startswith("LỖI ")]
    for ln in refused:  # every refused file has its reasons on stderr
        assert ln.split(" ", 1)[1].rsplit(":", 1)[0] in p.stderr, ln
    counts = env.cluster.psql(
        f"SELECT (SELECT count(*) FROM items WHERE school_id = {sid}),"
        f" (SELECT count(*) FROM item_versions WHERE school_id = {sid}),"
        f" (SELECT count(*) FROM item_assets WHERE school_id = {sid}),"
        f" (SELECT count(*) FROM qti_tests WHERE school_id = {sid})")
    assert counts == "252|320|46|59", counts
    ct = env.cluster.psql("SELECT DISTINCT content_type FROM item_assets"
                          f" WHERE school_id = {sid} AND path LIKE '%.png'")
    assert ct == "image/png", ct
    # A second run writes nothing new (385 item documents and 59 tests already there).
    p = env.cli(*args, check=False)
    assert "; 0 câu hỏi, 0 đề, 0 tệp đính kèm mới; 0 câu hỏi có phiên bản mới; 444 đã có" \
        in p.stdout, p.stdout.splitlines()[-1]
