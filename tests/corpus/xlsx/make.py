#!/usr/bin/env python3
"""Regenerates the question-sheet import corpus (see README.md).

Writes each sheet of the data below as CSV text; the .csv files are kept as
they are (`;` or `,`, with or without BOM, CRLF or LF), the others are
converted to .xlsx by LibreOffice Calc (soffice --headless, Vietnamese
locale, so that "2,5" becomes the number 2.5 as in a Vietnamese teacher's
Excel). Every .xlsx is read back (sheet XML and shared strings) and
compared with the cells written; expected.json is written from the same
data. Python 3 standard library only.

Usage: python3 tests/corpus/xlsx/make.py [--soffice PATH] [--keep]
"""
import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"NB": "MD.B", "TH": "MD.H", "VD": "MD.V", "VDC": "MD.VC", "Biết": "MD.B",
          "Hiểu": "MD.H", "Vận dụng": "MD.V", "Vận dụng cao": "MD.VC", "nb": "MD.B",
          "th": "MD.H", "vd": "MD.V", "[VD]": "MD.V", "": None}
# LibreOffice's CSV filter: separator ',', quote '"', UTF-8, from line 1,
# default column formats, language vi-VN (1066), quoted fields not forced
# to text, no detection of dates and other special numbers.
INFILTER = "CSV:44,34,76,1,,1066,false,false"

T = "VN18.TOAN.10."
C_MENHDE = T + "SDS.01.01.01"
C_TAPHOP = T + "SDS.01.02.01"
C_BAC2 = T + "SDS.03.02.01"
C_HTL = T + "HHDL.01.01.01"
C_VECTO = T + "HHDL.02.01.01"
C_XS = T + "TKXS.02.01.01"

# Column names as a teacher writes them.
HEAD = {"stt": "STT", "kind": "Loại", "stem": "Câu hỏi", "key": "Đáp án", "level": "Mức độ",
        "code": "Mã", "expl": "Lời giải", "points": "Điểm"}
HEAD_ASCII = {"stt": "Stt", "kind": "Loai", "stem": "Cau hoi", "key": "Dap an",
              "level": "Muc do", "code": "Ma", "expl": "Loi giai", "points": "Diem"}
STD = ["stt", "kind", "stem", "A", "B", "C", "D", "key", "level", "code", "expl"]


def q(stem, opts=(), key="", want=None, kind="", level="", code="", expl="", points="",
      stt=None, latex=False):
    """One question row. key: the Đáp án cell; want: the key the reader must
    give (preview form), defaulting to key; kind: the Loại cell."""
    return {"stem": stem, "opts": list(opts), "key": key, "want": key if want is None else want,
            "kind": kind, "level": level, "code": code, "expl": expl, "points": points,
            "stt": stt, "latex": latex}


def kind_of(r):
    k = r["kind"].lower()
    if "nhiều đáp án" in k or "nhieu dap an" in k or isinstance(r["want"], list):
        return "MR"
    if "sai" in k:
        return "TF4"
    if "ngắn" in k or "ngan" in k:
        return "SHORT"
    if "luận" in k or "luan" in k:
        return "ESSAY"
    return "MCQ4"


def tf(marks):
    return {l: m == "Đ" for l, m in zip("abcd", marks)}


FILES = [
    {"name": "01_mot_lua_chon", "ext": "xlsx",
     "convention": "The documented header (STT, Loại, Câu hỏi, A-D, Đáp án, Mức độ, Mã, Lời giải), "
                   "single choice with Loại left empty, levels NB/TH/VD/VDC, codes with a competency.",
     "cols": STD, "head": HEAD,
     "rows": [
         q("Câu nào sau đây là một mệnh đề?",
           ["Hôm nay trời đẹp quá!", "Số 15 chia hết cho 4.", "Bạn có đi học không?", "Hãy làm bài tập."],
           "B", level="NB", code=C_MENHDE + ", NL.TOAN.TDLL",
           expl="“Số 15 chia hết cho 4” là câu khẳng định sai, nên là mệnh đề."),
         q("Cho A = {1; 2; 3; 4} và B = {3; 4; 5}. Tập hợp A ∩ B là",
           ["{1; 2}", "{3; 4}", "{1; 2; 3; 4; 5}", "{5}"], "B", level="NB", code=C_TAPHOP,
           expl="A ∩ B gồm các phần tử thuộc cả A và B."),
         q("Toạ độ đỉnh I của parabol y = x² − 4x + 3 là",
           ["I(2; −1)", "I(−2; 15)", "I(4; 3)", "I(2; 1)"], "A", level="TH", code=C_BAC2,
           expl="Hoành độ đỉnh x = 2, tung độ y(2) = −1."),
         q("Cho tam giác ABC có a = 7, b = 5, c = 3. Số đo góc A là",
           ["60°", "90°", "120°", "150°"], "C", level="VD", code=C_HTL,
           expl="cos A = (25 + 9 − 49)/30 = −1/2 nên A = 120°."),
         q("Có bao nhiêu giá trị nguyên của m để x² − 2mx + m + 6 = 0 vô nghiệm?",
           ["4", "5", "6", "3"], "A", level="VDC", code=C_BAC2),
         q("Một hộp có 5 bi đỏ và 3 bi xanh. Lấy ngẫu nhiên 2 bi. Xác suất để được 2 bi đỏ là",
           ["5/14", "5/8", "3/14", "15/28"], "A", level="TH", code=C_XS,
           expl="P = C(5,2)/C(8,2) = 10/28 = 5/14."),
     ]},
    {"name": "02_moi_loai", "ext": "xlsx",
     "convention": "Every kind through the Loại column: MCQ, nhiều đáp án (keys \"A, C\", an option E), "
                   "đúng-sai (\"Đ S Đ S\" and \"a) Đ b) S c) S d) Đ\"), trả lời ngắn (decimal comma, "
                   "a number cell in the .xlsx), tự luận with Điểm; levels Biết/Hiểu/Vận dụng.",
     "cols": ["stt", "kind", "stem", "A", "B", "C", "D", "E", "key", "level", "code", "expl", "points"],
     "head": HEAD,
     "rows": [
         q("Cho hình bình hành ABCD. Đẳng thức nào sau đây đúng?",
           ["AB + AD = AC (vectơ)", "AB + AD = BD (vectơ)", "AB = CD (vectơ)", "AC = BD (vectơ)"],
           "A", kind="MCQ", level="Biết", code=C_VECTO, expl="Quy tắc hình bình hành."),
         q("Những số nào sau đây là số nguyên tố?", ["2", "4", "7", "9", "11"], "A, C, E",
           want=["A", "C", "E"], kind="nhiều đáp án", level="Hiểu",
           expl="2, 7 và 11 chỉ có hai ước dương."),
         q("Cho hàm số y = x² − 2x. Xét tính đúng sai của các khẳng định sau.",
           ["Đồ thị đi qua gốc toạ độ.", "Hàm số đồng biến trên ℝ.", "Đỉnh của parabol là I(1; −1).",
            "Giá trị lớn nhất của hàm số là −1."], "Đ S Đ S", want=tf("ĐSĐS"), kind="đúng-sai",
           level="Hiểu", code=C_BAC2, expl="a = 1 > 0 nên hàm số có giá trị nhỏ nhất −1."),
         q("Gieo một con xúc xắc. Xét tính đúng sai của các khẳng định sau.",
           ["Không gian mẫu có 6 phần tử.", "Xác suất ra mặt 7 chấm là 1/6.",
            "Xác suất ra mặt chẵn là 2/3.", "Xác suất ra mặt 1 chấm là 1/6."],
           "a) Đ b) S c) S d) Đ", want=tf("ĐSSĐ"), kind="Đúng/Sai", level="Vận dụng", code=C_XS),
         q("Tính 5 : 2.", [], "2,5", want="2.5", kind="trả lời ngắn", level="Biết",
           expl="5 : 2 = 2,5."),
         q("Nghiệm của phương trình 4x + 3 = 0 là bao nhiêu?", [], "-0,75", want="-0.75",
           kind="trả lời ngắn", level="Hiểu"),
         q("Giải phương trình x² − 1 = 0.", [], "x = 1 hoặc x = −1.", want=None, kind="tự luận",
           level="Vận dụng", points="1,5", expl="Đưa về (x − 1)(x + 1) = 0."),
     ]},
    {"name": "03_khong_dau_thu_tu_khac", "ext": "xlsx",
     "convention": "A title line above the header; the header without diacritics (Dap an, Cau hoi, "
                   "Muc do, Loai, Loi giai, Ma, Stt) and in another order (options D, C, B, A); "
                   "kinds and Đúng/Sai marks typed without diacritics (\"dung sai\", \"D S D S\"), "
                   "levels in lower case.",
     "title": ["DE KIEM TRA 15 PHUT - TOAN 10"],
     "cols": ["key", "stem", "D", "C", "B", "A", "level", "kind", "expl", "code", "stt"],
     "head": HEAD_ASCII,
     "rows": [
         q("Số tập con của tập hợp X = {a; b; c} là", ["3", "6", "7", "8"], "D",
           kind="trac nghiem", level="nb", expl="Tập 3 phần tử có 8 tập con.", code=C_TAPHOP),
         q("Các số nào sau đây là số chẵn?", ["12", "15", "18", "21"], "A; C", want=["A", "C"],
           kind="nhieu dap an", level="th"),
         q("Cho tập A = {1; 2}. Xét tính đúng sai của các khẳng định sau.",
           ["1 ∈ A", "3 ∈ A", "∅ ⊂ A", "A có 3 tập con"], "D S D S", want=tf("ĐSĐS"),
           kind="dung sai", level="th", expl="A có 4 tập con."),
         q("Tính 3 : 4.", [], "0,75", want="0.75", kind="tra loi ngan", level="vd"),
     ]},
    {"name": "04_cham_phay", "ext": "csv", "sep": ";", "bom": True, "eol": "\r\n",
     "convention": "CSV as Excel saves it in Vietnam: UTF-8 with BOM, ';' separator, CRLF, decimal "
                   "comma in short answers (\"2,5\", \"-1,25\"), a stem over two lines in a quoted "
                   "field.",
     "cols": ["stt", "kind", "stem", "A", "B", "C", "D", "key", "level", "expl"], "head": HEAD,
     "rows": [
         q("Tính 5 : 2.", [], "2,5", want="2.5", kind="trả lời ngắn", level="NB",
           expl="5 : 2 = 2,5."),
         q("Cho hàm số f(x) = 2x + 1.\nTính f(−1,125).", [], "-1,25", want="-1.25",
           kind="trả lời ngắn", level="TH", expl="f(−1,125) = −2,25 + 1 = −1,25."),
         q("Giá trị của 0,5 + 0,25 là", ["0,75", "0,3", "7,5", "0,55"], "A", level="NB",
           expl="0,5 + 0,25 = 0,75."),
         q("Trung bình cộng của 6; 7; 8; 9; 10 là", ["7", "7,5", "8", "8,5"], "C", level="TH"),
     ]},
    {"name": "05_latex", "ext": "xlsx",
     "convention": "LaTeX typed in cells ($…$ in stems, options and explanations): kept as text, "
                   "with the Word reader's warning per question.",
     "cols": STD, "head": HEAD,
     "rows": [
         q("Nghiệm của phương trình $x^2 - 4x + 3 = 0$ là",
           ["$x = 1; x = 3$", "$x = -1; x = -3$", "$x = 2$", "vô nghiệm"], "A", level="NB",
           expl="$\\Delta' = 4 - 3 = 1$.", latex=True),
         q("Giá trị của $\\frac{1}{2} + \\frac{1}{3}$ là",
           ["$\\frac{5}{6}$", "$\\frac{2}{5}$", "$\\frac{1}{6}$", "$1$"], "A", level="TH",
           latex=True),
         q("Số nào lớn nhất?", ["1", "2", "3", "4"], "D", level="NB"),
     ]},
    {"name": "06_dau_phay_so_cau", "ext": "csv", "sep": ",", "bom": False, "eol": "\n",
     "convention": "CSV with ',' and no BOM, STT written \"Câu 1\", levels in brackets (\"[VD]\"), "
                   "a stem holding commas (quoted), an empty line between questions.",
     "cols": ["stt", "stem", "A", "B", "C", "D", "key", "level"], "head": HEAD,
     "rows": [
         q("Cho a, b, c là ba số thực dương. Khẳng định nào đúng?",
           ["a + b > 0", "a − b > 0", "a·b < 0", "a < 0"], "A", level="NB", stt="Câu 1"),
         None,  # an empty line
         q("Số nghiệm của x² = 4 là", ["0", "1", "2", "3"], "C", level="[VD]", stt="Câu 2"),
     ]},
]

BAD = [
    {"name": "m1_thieu_dap_an", "ext": "xlsx",
     "convention": "Question 2 has no key (its Đáp án cell is empty).",
     "cols": STD, "head": HEAD,
     "rows": [
         q("Số 2 là số gì?", ["chẵn", "lẻ", "âm", "vô tỉ"], "A", level="NB"),
         q("Số 3 là số gì?", ["chẵn", "lẻ", "âm", "vô tỉ"], "", level="NB"),
         q("Số 4 là số gì?", ["chẵn", "lẻ", "âm", "vô tỉ"], "A", level="NB", expl="4 = 2·2."),
     ],
     "problems": [{"question": 2, "message": "không tìm thấy đáp án"}]},
    {"name": "m2_dap_an_khong_co_phuong_an", "ext": "xlsx",
     "convention": "Question 3's key is 'E' but it has options A-D only.",
     "cols": STD, "head": HEAD,
     "rows": [
         q("1 + 1 bằng", ["1", "2", "3", "4"], "B", level="NB"),
         q("2 + 2 bằng", ["1", "2", "3", "4"], "D", level="NB"),
         q("3 + 3 bằng", ["5", "7", "8", "9"], "E", level="NB"),
     ],
     "problems": [{"question": 3, "column": "Đáp án", "message": "'E' không có phương án E"}]},
    {"name": "m3_khong_tieu_de", "ext": "xlsx", "no_header": True,
     "convention": "No header row: questions from the first row on.",
     "cols": STD, "head": HEAD,
     "rows": [
         q("1 + 1 bằng", ["1", "2", "3", "4"], "B", level="NB", stt="1"),
         q("2 + 2 bằng", ["1", "2", "3", "4"], "D", level="NB", stt="2"),
     ],
     "refused": True,
     "problems": [{"question": None, "message": "Không tìm thấy dòng tiêu đề"}]},
    {"name": "m4_khong_phai_xlsx", "ext": "xlsx", "raw": "text",
     "convention": "A CSV text file renamed .xlsx.",
     "cols": STD, "head": HEAD,
     "rows": [q("1 + 1 bằng", ["1", "2", "3", "4"], "B", level="NB")],
     "refused": True,
     "problems": [{"question": None, "message": "không phải tệp Excel"}]},
]


def records(f):
    """The sheet as rows of cells (title lines, header, questions; None for
    an empty line) and, per question, its index among the rows."""
    out = [[t] for t in f.get("title", [])]
    if not f.get("no_header"):
        out.append([f["head"].get(c, c) for c in f["cols"]])
    at = []
    n = 0
    for r in f["rows"]:
        if r is None:
            out.append(None)
            continue
        n += 1
        cells = []
        for c in f["cols"]:
            if c in "ABCDEFGH":
                i = "ABCDEFGH".index(c)
                cells.append(r["opts"][i] if i < len(r["opts"]) else "")
            elif c == "stt":
                cells.append(r["stt"] or str(n))
            else:
                cells.append(r[c])
        at.append(len(out))
        out.append(cells)
    return out, at


def csv_text(rows, sep, eol):
    b = io.StringIO()
    w = csv.writer(b, delimiter=sep, lineterminator=eol, quoting=csv.QUOTE_MINIMAL)
    for r in rows:
        w.writerow(r if r is not None else [])
    return b.getvalue()


def line_numbers(text, eol, nrec):
    """The physical line each CSV record starts on (quoted line breaks count)."""
    starts, line, quoted, at_start = [], 1, False, True
    i = 0
    while i < len(text) and len(starts) < nrec:
        if at_start:
            starts.append(line)
            at_start = False
        ch = text[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "\n":
            line += 1
            if not quoted:
                at_start = True
        i += 1
    return starts


def read_xlsx(path):
    """The first sheet of an .xlsx as {row: {col: text}} (shared strings and
    numbers), for the check."""
    ns = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        sst = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("s:si", ns):
                sst.append("".join(t.text or "" for t in si.iter(
                    "{%s}t" % ns["s"])))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = {}
    for row in sheet.iter("{%s}row" % ns["s"]):
        r = int(row.get("r"))
        for c in row.findall("s:c", ns):
            ref = re.match(r"([A-Z]+)(\d+)", c.get("r"))
            col = 0
            for ch in ref.group(1):
                col = col * 26 + ord(ch) - 64
            v = c.find("s:v", ns)
            if v is None:
                continue
            if c.get("t") == "s":
                rows.setdefault(r, {})[col - 1] = ("s", sst[int(v.text)])
            else:
                rows.setdefault(r, {})[col - 1] = ("n", v.text)
    return rows


def check_xlsx(path, recs):
    probs = []
    got = read_xlsx(path)
    for i, r in enumerate(recs):
        for j, want in enumerate(r or []):
            have = got.get(i + 1, {}).get(j)
            if want == "":
                if have:
                    probs.append("row %d col %d: %r for an empty cell" % (i + 1, j + 1, have))
                continue
            if have is None:
                probs.append("row %d col %d: missing %r" % (i + 1, j + 1, want))
            elif have[0] == "s" and have[1] != want.replace("\r\n", "\n"):
                probs.append("row %d col %d: %r, wrote %r" % (i + 1, j + 1, have[1], want))
            elif have[0] == "n":
                try:
                    ok = abs(float(have[1]) - float(want.replace(",", "."))) < 1e-9
                except ValueError:
                    ok = False
                if not ok:
                    probs.append("row %d col %d: number %s, wrote %r" % (i + 1, j + 1, have[1], want))
    return probs


def expected_item(r, row, number):
    kind = kind_of(r)
    want = r["want"]
    return {"row": row, "number": number, "kind": kind,
            "key": None if kind == "ESSAY" else want,
            "level": LEVELS[r["level"]], "explanation": bool(r["expl"]),
            "outcome": next((c.strip() for c in r["code"].split(",") if c.strip().startswith("VN18.")), None),
            "latex": r["latex"]}


def convert(soffice, srcs, outdir, profile):
    cmd = ["timeout", "300", soffice, "-env:UserInstallation=file://" + profile, "--headless",
           "--norestore", "--infilter=" + INFILTER, "--convert-to", "xlsx:Calc MS Excel 2007 XML",
           "--outdir", outdir] + srcs
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("soffice failed (%d): %s" % (r.returncode, r.stdout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--soffice", default=shutil.which("soffice") or "soffice")
    ap.add_argument("--keep", action="store_true", help="keep the CSV sources in the work directory")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kt-xlsx-corpus-")
    profile = os.path.join(work, "profile")
    expected = {"note": "Generated by make.py from its own question data, not by reading the files "
                        "back. 'row' is the row (the physical line for CSV) of the question; "
                        "'message' of a problem is a fragment the reader's Vietnamese message must "
                        "contain; 'question' null means a problem of the whole file.",
                "files": {}}
    failures = 0
    made = []
    for f in FILES + BAD:
        recs, at = records(f)
        if f["ext"] == "csv":
            text = csv_text(recs, f["sep"], f["eol"])
            rows = line_numbers(text, f["eol"], len(recs))
            data = (("\ufeff" if f["bom"] else "") + text).encode("utf-8")
        else:
            text = csv_text(recs, ",", "\n")
            rows = [i + 1 for i in range(len(recs))]
            data = text.encode("utf-8")
        src = os.path.join(work, f["name"] + ".csv")
        with open(src, "wb") as fh:
            fh.write(data)
        made.append((f, recs, [rows[i] for i in at], src))
    srcs = [src for f, _, _, src in made if f["ext"] == "xlsx" and not f.get("raw")]
    outdir = os.path.join(work, "out")
    os.mkdir(outdir)
    convert(a.soffice, srcs, outdir, profile)
    for f, recs, rows, src in made:
        dest = os.path.join(HERE, f["name"] + "." + f["ext"])
        probs = []
        if f["ext"] == "xlsx" and not f.get("raw"):
            out = os.path.join(outdir, f["name"] + ".xlsx")
            probs = check_xlsx(out, recs)
            shutil.copyfile(out, dest)
        else:
            shutil.copyfile(src, dest)
        for p in probs:
            print("%s: %s" % (f["name"], p))
        failures += len(probs)
        qs = [r for r in f["rows"] if r is not None]
        items = [expected_item(r, row, n + 1) for n, (r, row) in enumerate(zip(qs, rows))]
        for it, r in zip(items, qs):
            if r["stt"]:
                it["number"] = int(re.sub(r"\D", "", r["stt"]))
        bad = {p["question"] for p in f.get("problems", [])}
        problems = []
        for p in f.get("problems", []):
            p = dict(p)
            p["row"] = rows[p["question"] - 1] if p["question"] else None
            problems.append(p)
        good = [] if f.get("refused") else [it for it in items if it["number"] not in bad]
        expected["files"][os.path.basename(dest)] = {
            "convention": f["convention"],
            "refused": bool(f.get("refused")),
            "questions": 0 if f.get("refused") else len(items),
            "valid": len(good),
            "keys": len([it for it in good if it["key"] is not None]),
            "levels": len([it for it in good if it["level"]]),
            "explanations": len([it for it in good if it["explanation"]]),
            "latex_warnings": len([it for it in good if it["latex"]]),
            "items": good,
            "problems": problems,
        }
        print("%-36s %2d questions, %d valid%s" % (os.path.basename(dest), len(items), len(good),
                                                     "" if not probs else "  CHECK FAILED"))
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump(expected, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    if a.keep:
        print("sources kept in", work)
    else:
        shutil.rmtree(work)
    if failures:
        sys.exit("%d check(s) failed" % failures)


if __name__ == "__main__":
    main()
