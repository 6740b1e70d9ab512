"""Every case of ../shared/corpus/qti/expected/cases.jsonl through the HTTP
API: each item is imported with POST /api/v1/items/import (the reply names
the item and the version holding that exact document), then every case is
scored with POST /api/v1/items/{id}/score and every expected outcome is
compared (numbers numerically, containers as multisets, NULL as null or an
empty container). Items the importer refuses (custom interactions, ill-typed
processing, listed in docs/QTI-SUPPORT.md) cannot reach the API; their cases
are counted apart.
Skipped with a notice when the corpus is absent."""
import io
import json
import os
import zipfile
from collections import Counter

from harness import ROOT

CORPUS = os.path.join(ROOT, "..", "shared", "corpus", "qti")
CASES = os.path.join(CORPUS, "expected", "cases.jsonl")
PW = "mat-khau-thu-nghiem"
# Refused at import, so unreachable through the API; the engine's own corpus
# test (tests/unit/test_scoring.c) scores their cases.
SKIPPED_CASES = 18  # the cases of the items in REFUSED
REFUSED = {
    # customInteraction / portable custom interaction
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/qtiRecordResponse.xml",
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/pci/sample1.xml",
    # the deliberately invalid fixture (an unknown attribute on a declaration)
    "tao-testqti/test/samples/archives/QTI 2.1/invalid/NotValidableXmlItem.zip!Q01/qti.xml",
    # ill-typed: a string set to an integer outcome when RESPONSE is empty
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/composite.xml",
    "tao-itemqti/test/integration/samples/xml/qtiv2p1/responseProcessing/custom.xml",
}


def _document(rel):
    if "!" in rel:
        zpath, inner = rel.split("!", 1)
        with zipfile.ZipFile(os.path.join(CORPUS, zpath)) as z:
            return z.read(inner)
    with open(os.path.join(CORPUS, rel), "rb") as f:
        return f.read()


def _number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _same_scalar(got, want):
    a, b = _number(got), _number(want)
    if a is not None and b is not None:
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return got == want


def _same(got, want):
    if want is None:
        return got is None or got == [] or got == {}
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return False
        if all(_same_scalar(g, w) for g, w in zip(got, want)):
            return True
        return Counter(map(str, got)) == Counter(map(str, want))
    return not isinstance(got, list) and _same_scalar(got, want)


def test_every_expected_case_through_the_api(env):
    if not os.path.exists(CASES):
        print("corpus absent: scoring through the API skipped")
        return
    s = env.main_server()
    if env.cluster.psql("SELECT count(*) FROM schools WHERE code = 'SCR-A'") == "0":
        env.cli("schools", "add", "SCR-A", "Trường chấm thử", "--province", "TST", "Sở thử nghiệm")
        env.cli("users", "add", "--username", "gv.scr", "--full-name", "Giáo viên chấm thử",
                "--role", "teacher", "--school", "SCR-A", "--subject", "KHAC",
                env={"KIEMTRA_NEW_PASSWORD": PW})
    tok = s.login("gv.scr", PW)
    with open(CASES, encoding="utf-8") as f:
        cases = [json.loads(line) for line in f]
    where, refused = {}, set()
    for rel in dict.fromkeys(c["item"] for c in cases):
        r = s.request("POST", "/api/v1/items/import?subject=KHAC&grade=10&filename=x.xml",
                      _document(rel), tok, {"Content-Type": "application/xml"})
        if r.status == 422:
            refused.add(rel)
            continue
        assert r.status in (200, 201), (rel, r)
        j = r.json()
        hit = (j["imported"] + j["updated"] + j["existing"])
        assert len(hit) == 1, (rel, j)
        where[rel] = (hit[0]["id"], hit[0]["version"])
    failed, skipped = [], 0
    for c in cases:
        if c["item"] not in where:
            skipped += 1
            continue
        item_id, version = where[c["item"]]
        r = s.request("POST", f"/api/v1/items/{item_id}/score",
                      {"responses": c["responses"], "version": version}, tok)
        if r.status != 200:
            failed.append((c["item"], c["kind"], r.status, r.body[:200]))
            continue
        out = r.json()["outcomes"]
        for name, want in c["expect"].items():
            if not _same(out.get(name), want):
                failed.append((c["item"], c["kind"], name, out.get(name), want))
                break
    passed = len(cases) - skipped - len(failed)
    print(f"cases.jsonl through POST /items/{{id}}/score: {passed} passed, {len(failed)} failed,"
          f" {skipped} on items refused at import")
    assert refused == REFUSED, sorted(refused ^ REFUSED)
    assert not failed, f"{len(failed)} cases differ, e.g. {failed[:5]}"
    assert (len(cases), skipped) == (1530, SKIPPED_CASES), (len(cases), skipped)
