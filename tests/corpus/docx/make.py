#!/usr/bin/env python3
"""Regenerates the .docx import corpus (see README.md).

Writes one Flat ODT (.fodt) per corpus file from the question data below,
converts each to .docx with LibreOffice (soffice --headless), checks that the
.docx really carries each convention (run properties of the keys, OMML
equations, pictures, tables), and writes expected.json from the same data.
Python 3 standard library only.

Usage: python3 tests/corpus/docx/make.py [--soffice PATH] [--keep]
"""
import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
import zlib
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
LEVELS = {"NB": "MD.B", "TH": "MD.H", "VD": "MD.V", "VDC": "MD.VC"}
LETTERS = "ABCDEFGH"

# ---------------------------------------------------------------------------
# Question data. Rich text uses two inline markers:
#   ⟨m|STARMATH⟩  a LibreOffice Math object (exported as a Word equation, OMML)
#   ⟨img:W×H⟩     an inline PNG picture, W×H in millimetres
# Everything else is plain text ($...$ is literal text: LaTeX typed by hand).
# ---------------------------------------------------------------------------

T = "VN18.TOAN.10."
C_MENHDE = T + "SDS.01.01.01"
C_TAPHOP = T + "SDS.01.02.01"
C_TAPHOP2 = T + "SDS.01.02.02"
C_BPT = T + "SDS.02.01.01"
C_HAMSO = T + "SDS.03.01.01"
C_BAC2 = T + "SDS.03.02.01"
C_BAC2B = T + "SDS.03.02.02"
C_TOHOP = T + "SDS.04.01.01"
C_NHITHUC = T + "SDS.04.02.01"
C_HTL = T + "HHDL.01.01.01"
C_VECTO = T + "HHDL.02.01.01"
C_VECTO2 = T + "HHDL.02.02.01"
C_TOADO = T + "HHDL.03.01.01"
C_DUONGTRON = T + "HHDL.03.02.01"
C_TK = T + "TKXS.01.01.01"
C_XS = T + "TKXS.02.01.01"


def mcq(stem, opts, key, lv, expl, codes=(), table=None):
    return {"kind": "MCQ4", "stem": stem, "opts": list(opts), "key": key, "lv": lv,
            "expl": expl, "codes": list(codes), "table": table}


MCQ = [
    mcq("Câu nào sau đây là một mệnh đề?",
        ["Hôm nay trời đẹp quá!", "Số 15 chia hết cho 4.", "Bạn có đi học không?", "Hãy làm bài tập."],
        "B", "NB", "“Số 15 chia hết cho 4” là một câu khẳng định có tính sai, nên là mệnh đề.", [C_MENHDE]),
    mcq("Mệnh đề phủ định của mệnh đề “∀x ∈ ℝ, x² + 1 > 0” là",
        ["∃x ∈ ℝ, x² + 1 > 0.", "∀x ∈ ℝ, x² + 1 ≤ 0.", "∃x ∈ ℝ, x² + 1 ≤ 0.", "∃x ∈ ℝ, x² + 1 < 0."],
        "C", "TH", "Phủ định của “∀x, P(x)” là “∃x, không P(x)”.", [C_MENHDE]),
    mcq("Cho tập hợp A = {1; 2; 3; 4} và B = {3; 4; 5}. Tập hợp A ∩ B là",
        ["{1; 2}", "{3; 4}", "{1; 2; 3; 4; 5}", "{5}"],
        "B", "NB", "A ∩ B gồm các phần tử thuộc cả A và B: {3; 4}.", [C_TAPHOP]),
    mcq("Số tập con của tập hợp X = {a; b; c} là",
        ["3", "6", "7", "8"],
        "D", "TH", "Tập có n phần tử có 2ⁿ tập con; với n = 3 ta được 8 tập con.", [C_TAPHOP2]),
    mcq("Cặp số nào sau đây là nghiệm của bất phương trình 2x − y > 3?",
        ["(0; 0)", "(1; 1)", "(3; 1)", "(1; 2)"],
        "C", "NB", "Thay (3; 1): 2·3 − 1 = 5 > 3, thoả mãn.", [C_BPT]),
    mcq("Tập xác định của hàm số ⟨m|y = sqrt{x - 2}⟩ là",
        ["ℝ", "[2; +∞)", "(2; +∞)", "(−∞; 2]"],
        "B", "NB", "Hàm số xác định khi ⟨m|x - 2 >= 0⟩, tức là x ≥ 2.", [C_HAMSO]),
    mcq("Tập xác định của hàm số ⟨m|y = {x + 1} over {x - 3}⟩ là",
        ["ℝ \\ {3}", "ℝ \\ {−1}", "(3; +∞)", "ℝ"],
        "A", "NB", "Hàm số xác định khi x − 3 ≠ 0, tức là x ≠ 3.", [C_HAMSO]),
    mcq("Toạ độ đỉnh I của parabol ⟨m|y = x^2 - 4x + 3⟩ là",
        ["I(2; −1)", "I(−2; 15)", "I(4; 3)", "I(2; 1)"],
        "A", "TH", "Hoành độ đỉnh ⟨m|x = -{b} over {2a} = 2⟩, tung độ y(2) = 4 − 8 + 3 = −1.", [C_BAC2]),
    mcq("Hàm số ⟨m|y = -x^2 + 2x + 5⟩ đồng biến trên khoảng nào?",
        ["(1; +∞)", "(−∞; 1)", "(−∞; 5)", "(−1; +∞)"],
        "B", "TH", "a = −1 < 0 nên hàm số đồng biến trên (−∞; 1), với 1 là hoành độ đỉnh.", [C_BAC2]),
    mcq("Giá trị lớn nhất của hàm số ⟨m|y = -2x^2 + 8x - 1⟩ trên ℝ là",
        ["7", "−1", "2", "9"],
        "A", "VD", "Đỉnh tại x = 2, y(2) = −8 + 16 − 1 = 7.", [C_BAC2B]),
    mcq("Tam thức ⟨m|f(x) = x^2 - 5x + 6⟩ nhận giá trị âm khi và chỉ khi",
        ["x < 2 hoặc x > 3", "2 < x < 3", "x < 2", "x > 3"],
        "B", "TH", "f(x) có hai nghiệm 2 và 3, a = 1 > 0 nên f(x) < 0 khi 2 < x < 3.", [C_BAC2B]),
    mcq("Cho tam giác ABC có a = 7, b = 5, c = 3. Số đo góc A là",
        ["60°", "90°", "120°", "150°"],
        "C", "VD", "⟨m|cos A = {b^2 + c^2 - a^2} over {2bc} = {25 + 9 - 49} over {30} = -{1} over {2}⟩ nên A = 120°.",
        [C_HTL]),
    mcq("Cho tam giác ABC có b = 6, c = 8, góc A = 60°. Diện tích tam giác ABC là",
        ["⟨m|12 sqrt{3}⟩", "24", "⟨m|24 sqrt{3}⟩", "12"],
        "A", "TH", "⟨m|S = {1} over {2} bc sin A = {1} over {2} cdot 6 cdot 8 cdot {sqrt{3}} over {2} = 12 sqrt{3}⟩.",
        [C_HTL]),
    mcq("Cho hình bình hành ABCD. Đẳng thức nào sau đây đúng?",
        ["⟨m|vec{AB} + vec{AD} = vec{AC}⟩", "⟨m|vec{AB} + vec{AD} = vec{BD}⟩",
         "⟨m|vec{AB} = vec{CD}⟩", "⟨m|vec{AC} = vec{BD}⟩"],
        "A", "NB", "Theo quy tắc hình bình hành: ⟨m|vec{AB} + vec{AD} = vec{AC}⟩.", [C_VECTO]),
    mcq("Cho ⟨m|vec{a} = (2; -1)⟩ và ⟨m|vec{b} = (1; 3)⟩. Tích vô hướng ⟨m|vec{a} cdot vec{b}⟩ bằng",
        ["5", "−1", "1", "7"],
        "B", "TH", "⟨m|vec{a} cdot vec{b} = 2 cdot 1 + (-1) cdot 3 = -1⟩.", [C_VECTO2]),
    mcq("Trong mặt phẳng Oxy, khoảng cách từ điểm M(1; 2) đến đường thẳng Δ: 3x + 4y − 1 = 0 là",
        ["2", "⟨m|{11} over {5}⟩", "⟨m|{12} over {5}⟩", "10"],
        "A", "VD", "⟨m|d = {abs{3 cdot 1 + 4 cdot 2 - 1}} over {sqrt{3^2 + 4^2}} = {10} over {5} = 2⟩.", [C_TOADO]),
    mcq("Đường tròn ⟨m|(x - 1)^2 + (y + 2)^2 = 9⟩ có tâm I và bán kính R là",
        ["I(1; −2), R = 3", "I(−1; 2), R = 3", "I(1; −2), R = 9", "I(−1; 2), R = 9"],
        "A", "NB", "Đường tròn (x − a)² + (y − b)² = R² có tâm I(a; b), bán kính R.", [C_DUONGTRON]),
    mcq("Từ các chữ số 1, 2, 3, 4, 5 lập được bao nhiêu số tự nhiên có ba chữ số khác nhau?",
        ["125", "60", "10", "15"],
        "B", "TH", "Số cách là ⟨m|A_5^3 = 5 cdot 4 cdot 3 = 60⟩.", [C_TOHOP]),
    mcq("Hệ số của ⟨m|x^3⟩ trong khai triển ⟨m|(2x + 1)^4⟩ là",
        ["8", "16", "32", "24"],
        "C", "VD", "Số hạng chứa x³ là ⟨m|C_4^1 (2x)^3 = 32x^3⟩.", [C_NHITHUC]),
    mcq("Điểm kiểm tra của 5 học sinh là 6; 7; 8; 9; 10. Số trung bình ⟨m|overline{x} = {1} over {n} sum from{i=1} to{n} x_i⟩ bằng",
        ["7", "7,5", "8", "8,5"],
        "C", "NB", "⟨m|overline{x} = {6 + 7 + 8 + 9 + 10} over {5} = 8⟩.", [C_TK]),
    mcq("Gieo một con xúc xắc cân đối và đồng chất. Xác suất để xuất hiện mặt có số chấm chẵn là",
        ["⟨m|{1} over {6}⟩", "⟨m|{1} over {3}⟩", "⟨m|{1} over {2}⟩", "⟨m|{2} over {3}⟩"],
        "C", "NB", "Có 3 kết quả thuận lợi {2; 4; 6} trên 6 kết quả nên P = ⟨m|{3} over {6} = {1} over {2}⟩.", [C_XS]),
    mcq("Một hộp có 5 bi đỏ và 3 bi xanh. Lấy ngẫu nhiên 2 bi. Xác suất để lấy được 2 bi đỏ là",
        ["⟨m|{5} over {14}⟩", "⟨m|{5} over {8}⟩", "⟨m|{3} over {14}⟩", "⟨m|{15} over {28}⟩"],
        "A", "VD", "⟨m|P = {C_5^2} over {C_8^2} = {10} over {28} = {5} over {14}⟩.", [C_XS]),
    mcq("Có bao nhiêu giá trị nguyên của m để phương trình ⟨m|x^2 - 2mx + m + 6 = 0⟩ vô nghiệm?",
        ["4", "5", "6", "3"],
        "A", "VDC", "Vô nghiệm khi ⟨m|%DELTA' = m^2 - m - 6 < 0⟩, tức −2 < m < 3: m ∈ {−1; 0; 1; 2}.", [C_BAC2B]),
    mcq("Cho hình vuông ABCD cạnh a. Độ dài ⟨m|abs{vec{AB} + vec{AD}}⟩ bằng",
        ["a", "2a", "⟨m|a sqrt{2}⟩", "⟨m|{a sqrt{2}} over {2}⟩"],
        "C", "TH", "⟨m|vec{AB} + vec{AD} = vec{AC}⟩, AC = ⟨m|a sqrt{2}⟩.", [C_VECTO]),
]

# Multiple response: options A-D, several keys.
MR = [
    {"kind": "MR", "stem": "Chọn tất cả các số vô tỉ trong các số sau.",
     "opts": ["⟨m|sqrt{2}⟩", "⟨m|{1} over {3}⟩", "π", "⟨m|sqrt{9}⟩"], "key": ["A", "C"], "lv": "NB",
     "expl": "⟨m|sqrt{9} = 3⟩ và 1/3 là số hữu tỉ; √2 và π là số vô tỉ.", "codes": [C_TAPHOP], "table": None},
    {"kind": "MR", "stem": "Những điểm nào sau đây thuộc miền nghiệm của bất phương trình x + y ≤ 2?",
     "opts": ["(0; 0)", "(1; 1)", "(2; 1)", "(3; −2)"], "key": ["A", "B", "D"], "lv": "TH",
     "expl": "Thay toạ độ: 0 ≤ 2, 2 ≤ 2, 3 > 2, 1 ≤ 2.", "codes": [C_BPT], "table": None},
]


def tf(stem, stmts, keys, lv, expl, codes=()):
    return {"kind": "TF4", "stem": stem, "stmts": list(stmts), "key": dict(zip("abcd", keys)),
            "lv": lv, "expl": expl, "codes": list(codes), "table": None}


TF = [
    tf("Cho hàm số bậc hai ⟨m|y = x^2 - 2x - 3⟩ có đồ thị (P).",
       ["Đồ thị (P) có trục đối xứng là đường thẳng x = 1.", "Đồ thị (P) cắt trục tung tại điểm (0; 3).",
        "Hàm số nghịch biến trên khoảng (−∞; 1).", "Giá trị nhỏ nhất của hàm số bằng −3."],
       [True, False, True, False], "TH", "Đỉnh I(1; −4): trục đối xứng x = 1, giá trị nhỏ nhất −4; giao trục tung (0; −3).",
       [C_BAC2]),
    tf("Cho tam giác ABC có AB = 3, AC = 4 và BC = 5.",
       ["Tam giác ABC vuông tại A.", "⟨m|cos B = {3} over {5}⟩.", "Diện tích tam giác ABC bằng 12.",
        "Bán kính đường tròn ngoại tiếp tam giác ABC bằng 2,5."],
       [True, True, False, True], "VD", "3² + 4² = 5² nên vuông tại A; S = 6; R = BC/2 = 2,5.", [C_HTL]),
    tf("Trong mặt phẳng Oxy, cho A(1; 2), B(3; −2) và ⟨m|vec{u} = (2; -4)⟩.",
       ["⟨m|vec{AB} = vec{u}⟩.", "Trung điểm của AB là M(2; 0).", "⟨m|abs{vec{AB}} = 2 sqrt{3}⟩.",
        "Đường thẳng AB có phương trình 2x + y − 4 = 0."],
       [True, True, False, True], "VD", "⟨m|vec{AB} = (2; -4)⟩, ⟨m|abs{vec{AB}} = sqrt{20} = 2 sqrt{5}⟩.", [C_TOADO]),
    tf("Một lớp có 20 nam và 15 nữ. Chọn ngẫu nhiên 3 học sinh.",
       ["Số cách chọn là ⟨m|C_35^3⟩.", "Số cách chọn 3 học sinh nam là ⟨m|A_20^3⟩.",
        "Xác suất chọn được 3 học sinh nữ là ⟨m|{C_15^3} over {C_35^3}⟩.", "Có 6545 cách chọn."],
       [True, False, True, True], "VDC", "⟨m|C_35^3 = 6545⟩; chọn 3 nam là ⟨m|C_20^3⟩ (không phân biệt thứ tự).", [C_TOHOP, C_XS]),
]


def short(stem, key, lv, expl, codes=()):
    return {"kind": "SHORT", "stem": stem, "key": key, "lv": lv, "expl": expl, "codes": list(codes), "table": None}


SHORT = [
    short("Cho tam giác ABC có AB = 5, AC = 8, góc A = 60°. Tính độ dài cạnh BC.", "7", "TH",
          "⟨m|BC^2 = 25 + 64 - 2 cdot 5 cdot 8 cdot {1} over {2} = 49⟩ nên BC = 7.", [C_HTL]),
    short("Tìm giá trị nhỏ nhất của hàm số ⟨m|y = 2x^2 - 10x + 15⟩ (viết dưới dạng số thập phân).", "2,5", "VD",
          "Đỉnh tại ⟨m|x = {5} over {2}⟩, y = 12,5 − 25 + 15 = 2,5.", [C_BAC2B]),
    short("Một chiếc cổng hình parabol có chiều rộng 4 m, chiều cao 3 m. Tính chiều cao (mét) của cổng tại điểm cách "
          "chân cổng 1 m (làm tròn đến hàng phần trăm).", "2,25", "VDC",
          "Chọn hệ trục: ⟨m|y = -{3} over {4} x^2 + 3⟩; tại x = 1 ta có y = 2,25.", [C_BAC2B]),
    short("Số trung vị của mẫu số liệu 3; 5; 6; 8; 9; 12 là bao nhiêu?", "7", "NB",
          "Mẫu có 6 số, trung vị là (6 + 8) : 2 = 7.", [C_TK]),
    short("Cho ⟨m|vec{a} = (3; 4)⟩. Tính ⟨m|abs{vec{a}}⟩.", "5", "NB", "⟨m|abs{vec{a}} = sqrt{9 + 16} = 5⟩.", [C_VECTO2]),
    short("Gieo hai đồng xu cân đối. Tính xác suất để có đúng một mặt sấp (viết dưới dạng số thập phân).", "0,5",
          "TH", "Không gian mẫu {SS; SN; NS; NN}; có 2 kết quả thuận lợi, P = 0,5.", [C_XS]),
]


def essay(stem, rubric, lv, codes=(), points=None):
    return {"kind": "ESSAY", "stem": stem, "rubric": rubric, "lv": lv, "expl": None, "codes": list(codes),
            "table": None, "key": None}


ESSAY = [
    essay("Giải bất phương trình ⟨m|x^2 - 3x - 4 <= 0⟩.",
          [("Tam thức có hai nghiệm x = −1 và x = 4.", "0,5"),
           ("Hệ số a = 1 > 0 nên tập nghiệm là [−1; 4].", "0,5")], "TH", [C_BAC2B]),
    essay("Cho tam giác ABC có A(1; 1), B(4; 5), C(5; −2). Chứng minh tam giác ABC cân và tính diện tích của nó.",
          [("⟨m|vec{AB} = (3; 4)⟩, ⟨m|vec{AC} = (4; -3)⟩, AB = AC = 5 nên tam giác ABC cân tại A.", "0,5"),
           ("⟨m|vec{AB} cdot vec{AC} = 0⟩ nên tam giác vuông cân tại A.", "0,25"),
           ("⟨m|S = {1} over {2} AB cdot AC = {25} over {2}⟩.", "0,25")], "VD", [C_TOADO]),
    essay("Một xưởng sản xuất hai loại sản phẩm I và II. Mỗi sản phẩm I lãi 3 triệu đồng, mỗi sản phẩm II lãi 5 triệu "
          "đồng. Lập bài toán tìm số sản phẩm mỗi loại để lãi lớn nhất, biết tổng thời gian máy không quá 12 giờ, "
          "sản phẩm I cần 1 giờ, sản phẩm II cần 2 giờ, và số sản phẩm I không quá 8.",
          [("Gọi x, y là số sản phẩm I, II; lập hệ ⟨m|left lbrace stack{x + 2y <= 12 # 0 <= x <= 8 # y >= 0} right none⟩.",
            "0,5"),
           ("Xác định miền nghiệm là tứ giác với các đỉnh O(0; 0), (8; 0), (8; 2), (0; 6).", "0,5"),
           ("F = 3x + 5y lớn nhất bằng 34 tại (8; 2).", "1,0")], "VDC", [C_BPT]),
]

# Questions that only make sense with an equation of a given construct.
MATH_HEAVY = [
    mcq("Tích phân ⟨m|int from{0} to{1} (2x + 1) dx⟩ bằng (câu hỏi ôn tập Toán 12)", ["1", "2", "3", "⟨m|{3} over {2}⟩"],
        "B", "TH", "⟨m|int from{0} to{1} (2x + 1) dx = left[ x^2 + x right]_0^1 = 2⟩.", []),
    mcq("Tổng ⟨m|S = sum from{k=1} to{10} (2k - 1)⟩ bằng", ["100", "110", "55", "90"],
        "A", "TH", "Tổng 10 số lẻ đầu tiên bằng ⟨m|10^2 = 100⟩.", []),
    mcq("Hệ phương trình có ma trận hệ số ⟨m|left( matrix{1 # 2 ## 3 # -1} right)⟩ và vế phải (5; 1) có nghiệm là",
        ["(1; 2)", "(2; 1)", "(−1; 3)", "(3; 1)"],
        "A", "VD", "Giải hệ ⟨m|left lbrace stack{x + 2y = 5 # 3x - y = 1} right none⟩ được x = 1, y = 2.", [C_BPT]),
    mcq("Giá trị của biểu thức ⟨m|P = nroot{3}{27} + sqrt{16} - 2^{-1}⟩ là",
        ["6,5", "7", "7,5", "6"], "A", "NB", "⟨m|nroot{3}{27} = 3⟩, ⟨m|sqrt{16} = 4⟩, ⟨m|2^{-1} = 0,5⟩.", []),
    mcq("Cho tam giác ABC có ⟨m|hat{A} = 90°⟩, AB = 3 và AC = 4. Độ dài cạnh BC bằng",
        ["5", "7", "25", "⟨m|sqrt{7}⟩"], "A", "NB", "⟨m|BC = sqrt{AB^2 + AC^2} = sqrt{9 + 16} = 5⟩.", [C_HTL]),
]

TABLE_Q = [
    mcq("Cho bảng tần số điểm kiểm tra của lớp 10A như sau. Mốt của mẫu số liệu là",
        ["5", "6", "7", "8"], "C", "NB", "Giá trị 7 có tần số lớn nhất (12).", [C_TK],
        table=[["Điểm", "5", "6", "7", "8", "9"], ["Tần số", "4", "9", "12", "8", "2"]]),
    mcq("Bảng sau cho biết chiều cao (cm) của 5 cây giống. Khoảng biến thiên của mẫu số liệu là",
        ["15", "20", "25", "30"], "B", "TH", "R = 60 − 40 = 20.", [C_TK],
        table=[["Cây", "1", "2", "3", "4", "5"], ["Chiều cao", "40", "45", "52", "60", "48"]]),
    mcq("Bảng xét dấu sau là của tam thức bậc hai nào?",
        ["⟨m|x^2 - 3x + 2⟩", "⟨m|-x^2 + 3x - 2⟩", "⟨m|x^2 + 3x + 2⟩", "⟨m|-x^2 - 3x - 2⟩"], "A", "TH",
        "f(x) âm giữa hai nghiệm 1 và 2, a > 0: f(x) = x² − 3x + 2.", [C_BAC2B],
        table=[["x", "−∞", "1", "", "2", "+∞"], ["f(x)", "+", "0", "−", "0", "+"]]),
]

IMAGE_Q = [
    mcq("Đồ thị trong hình bên là của hàm số nào? ⟨img:40×30⟩",
        ["⟨m|y = x^2 - 2x⟩", "⟨m|y = -x^2 + 2x⟩", "⟨m|y = x^2 + 2x⟩", "⟨m|y = -x^2 - 2x⟩"], "A", "TH",
        "Parabol quay bề lõm lên, đi qua O và (2; 0).", [C_BAC2]),
    mcq("Hình nào sau đây biểu diễn miền nghiệm của bất phương trình x + y ≤ 1 (phần không bị gạch)?",
        ["⟨img:25×20⟩", "⟨img:25×20⟩", "⟨img:25×20⟩", "⟨img:25×20⟩"], "D", "TH",
        "Miền nghiệm chứa gốc O(0; 0) vì 0 + 0 ≤ 1.", [C_BPT]),
    mcq("Cho hình vẽ bên. Góc giữa hai vectơ ⟨m|vec{BA}⟩ và ⟨m|vec{BC}⟩ bằng ⟨img:30×30⟩",
        ["30°", "45°", "60°", "90°"], "C", "NB", "Tam giác ABC đều nên góc ABC = 60°. ⟨img:20×20⟩", [C_VECTO2]),
]

# ---------------------------------------------------------------------------
# Files: each a list of sections; each section a heading (or None) and a list
# of questions; options layout, key style, explanation label and so on.
# ---------------------------------------------------------------------------


def pick(pool, *idx):
    return [dict(pool[i]) for i in idx]


HEADER = ["SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI", "TRƯỜNG THPT NGUYỄN TRÃI",
          "ĐỀ KIỂM TRA GIỮA HỌC KÌ I – NĂM HỌC 2025 – 2026", "Môn: Toán 10 – Thời gian làm bài: 90 phút",
          "Mã đề thi: 101", "Họ và tên: ……………………… Số báo danh: ………"]

P1 = ("PHẦN I. Câu trắc nghiệm nhiều phương án lựa chọn. Thí sinh trả lời từ câu 1 đến câu {n}. "
      "Mỗi câu hỏi thí sinh chỉ chọn một phương án.")
P2 = ("PHẦN II. Câu trắc nghiệm đúng sai. Thí sinh trả lời từ câu 1 đến câu {n}. Trong mỗi ý a), b), c), d) "
      "ở mỗi câu, thí sinh chọn đúng hoặc sai.")
P3 = "PHẦN III. Câu trắc nghiệm trả lời ngắn. Thí sinh trả lời từ câu 1 đến câu {n}."
P4 = "PHẦN IV. Tự luận"


def F(name, convention, sections, **kw):
    d = {"name": name, "convention": convention, "sections": sections, "sep": ".", "label_bold": True,
         "layout": "lines", "key": "underline", "scope": "letter", "expl": "Lời giải:", "level": "after",
         "codes": None, "header": None, "tf_key": "table", "short_key": "table", "expl_multi": False,
         "problems": [], "raw": None, "numbering": None}
    d.update(kw)
    return d


FILES = [
    F("01_cau_cham_gach_chan", "“Câu 1.” numbering, options one per line, key: option letter underlined, "
      "[NB]… after the label, “Lời giải:”.", [(None, pick(MCQ, 0, 2, 5, 7, 10))]),
    F("02_cau_hai_cham_chu_do", "“Câu 1:” numbering, options one per line, key: whole option in red text, "
      "“Hướng dẫn giải:”.", [(None, pick(MCQ, 1, 3, 8, 16, 20))], sep=":", key="red", scope="all",
      expl="Hướng dẫn giải:"),
    F("03_in_dam", "“Câu 1.” (label bold too), options two per line (A, B / C, D), key: option letter bold.",
      [(None, pick(MCQ, 4, 6, 11, 17))], key="bold", layout="two"),
    F("04_dau_sao", "“Câu 1:” numbering, options one per line, key: a leading “*” before the option letter, "
      "level tag at the end of the stem.", [(None, pick(MCQ, 9, 12, 18, 19, 21))], sep=":", key="star",
      level="end", label_bold=False),
    F("05_dap_an_danh_sach", "Options all on one line (tab separated), no marks; key from an “ĐÁP ÁN” list at the "
      "end (“1.A 2.C …”).", [(None, pick(MCQ, 0, 1, 2, 3, 4, 5))], key="list", layout="line"),
    F("06_dap_an_bang_ngang", "Options two per line; key from an “ĐÁP ÁN” table at the end (row “Câu” 1…n, "
      "row “Đáp án” A…D).", [(None, pick(MCQ, 6, 7, 8, 9, 10, 11))], key="table", layout="two",
      expl="Hướng dẫn giải:"),
    F("07_dap_an_bang_doc", "“Câu 1:” numbering; key from an “ĐÁP ÁN” table with columns “Câu” | “Đáp án”; "
      "no explanations; no level tags.", [(None, pick(MCQ, 12, 13, 14, 15))], key="table_v", sep=":",
      expl=None, level=None),
    F("08_muc_do", "Level tags [NB] [TH] [VD] [VDC] in both positions (after the label, end of the stem), "
      "key underlined (whole option).", [(None, pick(MCQ, 0, 1, 9, 22) + pick(MCQ, 11, 17))], scope="all",
      level="mixed"),
    F("09_ma_dong_the", "Taxonomy codes in a “Mã:” tag line after the options; key red letter.",
      [(None, pick(MCQ, 2, 3, 13, 20))], key="red", codes="line"),
    F("10_ma_trong_cau", "Taxonomy codes in brackets in the question text after the level tag; key bold letter.",
      [(None, pick(MCQ, 5, 14, 18, 21))], key="bold", codes="inline"),
    F("11_hinh_anh", "Inline pictures in stems, options and an explanation; key underlined letter.",
      [(None, pick(IMAGE_Q, 0, 1, 2))]),
    F("12_bang_trong_de", "Tables inside the stem (frequency table, sign table); key red letter.",
      [(None, pick(TABLE_Q, 0, 1, 2))], key="red"),
    F("13_cong_thuc_co_ban", "Word equations: fractions, roots, sub/superscripts in stems, options and "
      "explanations; key underlined letter.", [(None, pick(MCQ, 5, 6, 7, 11, 12, 15))]),
    F("14_cong_thuc_nang_cao", "Word equations: sums and integrals with limits, delimiters, matrices, "
      "accents (vec, hat, overline), n-th roots, systems; key “*”.",
      [(None, pick(MATH_HEAVY, 0, 1, 2, 3, 4) + pick(MCQ, 14, 19))], key="star"),
    F("15_phuong_an_trong_bang", "Options in a borderless 2×2 table, key red letter, multi-paragraph "
      "“Lời giải:”.", [(None, pick(MCQ, 3, 16, 17, 20))], key="red", layout="table", expl_multi=True),
    F("16_latex_trong_van_ban", "LaTeX typed as text ($…$) instead of equations; key underlined letter.",
      [(None, [mcq("Tập nghiệm của bất phương trình $x^2-4<0$ là",
                   ["$(-2;2)$", "$(-\\infty;-2)$", "$[-2;2]$", "$(2;+\\infty)$"], "A", "TH",
                   "Ta có $x^2<4 \\Leftrightarrow -2<x<2$.", [C_BAC2B]),
               mcq("Giá trị của $\\frac{1}{2}+\\sqrt{\\frac{1}{4}}$ bằng", ["$0$", "$\\frac{1}{2}$", "$1$", "$2$"],
                   "C", "NB", "$\\sqrt{\\frac{1}{4}}=\\frac{1}{2}$ nên tổng bằng 1.", [])])]),
    F("17_nhieu_dap_an", "Multiple response: stems say “(nhiều đáp án)”, several options red.",
      [(None, [dict(q) for q in MR])], key="red"),
    F("18_de_2025_bang_dap_an", "2025 format: PHẦN I (single choice), PHẦN II (Đúng/Sai a)–d)), PHẦN III "
      "(short answer, decimal comma); numbering restarts in each part; keys only in the per-part answer tables "
      "at the end (official layout).",
      [(P1, pick(MCQ, 0, 5, 7, 11)), (P2, pick(TF, 0, 1)), (P3, pick(SHORT, 0, 1, 2))],
      key="table", tf_key="table", short_key="table", header=HEADER),
    F("19_de_2025_danh_dau", "2025 format with inline keys (Azota style): PHẦN I underlined letter, PHẦN II "
      "true statements’ letters underlined, PHẦN III “Đáp án: 2,5” line, “Lời giải:”.",
      [(P1, pick(MCQ, 2, 8, 15)), (P2, pick(TF, 2, 3)), (P3, pick(SHORT, 3, 4, 5))],
      tf_key="underline", short_key="line"),
    F("20_tu_luan", "“Tự luận” essays with “Hướng dẫn chấm” rubric lines ending in “(0,5 điểm)”.",
      [(P4, [dict(q) for q in ESSAY])], header=HEADER[:5]),
    F("21_de_day_du", "A whole test: school header, PHẦN I–III and PHẦN IV Tự luận, “Câu 1:” numbering, "
      "keys in red (I), compact list “Câu 1: a) Đ, b) S …” for II, “Đáp án:” line for III, codes in “Mã:” "
      "lines.", [(P1, pick(MCQ, 1, 10, 13, 23)), (P2, pick(TF, 1, 3)), (P3, pick(SHORT, 1, 4)),
                 (P4, pick(ESSAY, 0, 1))],
      sep=":", key="red", tf_key="list", short_key="line", codes="line", header=HEADER),
    F("22_nhieu_dong_cong_thuc", "Options one per line with equations, key bold whole option, “Hướng dẫn giải:”.",
      [(None, pick(MCQ, 13, 15, 21, 23))], key="bold", scope="all", expl="Hướng dẫn giải:"),
    F("23_danh_so_tu_dong", "Word automatic numbering (w:numPr, numbering.xml): questions numbered “Câu %1.”, "
      "options “%1.” in capital letters restarting at A in each question, key: option text underlined; "
      "“Lời giải:”.",
      [(None, pick(MCQ, 0, 2, 5, 7) + [dict(MR[0])])], numbering="all", scope="all"),
    F("24_danh_so_tu_dong_2025", "2025 format with Word automatic numbering: “Câu %1.” restarting in each "
      "part, options “%1.” (A, B, …), Đúng/Sai statements “%1)” in small letters (a, b, …); keys in the "
      "per-part answer tables at the end.",
      [(P1, pick(MCQ, 1, 3, 8)), (P2, pick(TF, 0, 2)), (P3, pick(SHORT, 1, 3))],
      numbering="all", key="table", tf_key="table", short_key="table"),
]

# Malformed files: the data says what is wrong; "problems" are what the reader
# must report (question number and a fragment of the Vietnamese message).
BAD = [
    F("m1_thieu_dap_an", "Question 2 has no key marked (underline convention).",
      [(None, pick(MCQ, 0, 2, 3))], drop_key={2},
      problems=[{"question": 2, "message": "không tìm thấy đáp án"}]),
    F("m2_phuong_an_e_trong", "Question 2 has an option line “E.” with nothing after it.",
      [(None, pick(MCQ, 4, 5, 6))], empty_e={2},
      problems=[{"question": 2, "message": "phương án E"}]),
    F("m3_zip_hong", "A well-formed .docx truncated to half its length (broken zip).",
      [(None, pick(MCQ, 0, 1))], raw="truncate",
      problems=[{"question": None, "message": "không đọc được"}]),
    F("m4_macro", "Written by LibreOffice as a macro-enabled Word document (.docm: main part content type "
      "application/vnd.ms-word.document.macroEnabled.main+xml).", [(None, pick(MCQ, 0, 1))], raw="docm",
      problems=[{"question": None, "message": "macro"}]),
]

# ---------------------------------------------------------------------------
# Rendering to Flat ODT
# ---------------------------------------------------------------------------

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
      'xmlns:xlink="http://www.w3.org/1999/xlink" '
      'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
      'xmlns:math="http://www.w3.org/1998/Math/MathML"')

STYLES = """<office:font-face-decls><style:font-face style:name="Times New Roman" svg:font-family="'Times New Roman'"/>
</office:font-face-decls>
<office:styles><style:default-style style:family="paragraph"><style:text-properties
 style:font-name="Times New Roman" fo:font-size="12pt" fo:language="vi" fo:country="VN"/></style:default-style>
</office:styles>
<office:automatic-styles>
<style:style style:name="U" style:family="text"><style:text-properties style:text-underline-style="solid"
 style:text-underline-width="auto" style:text-underline-color="font-color"/></style:style>
<style:style style:name="R" style:family="text"><style:text-properties fo:color="#ff0000"/></style:style>
<style:style style:name="B" style:family="text"><style:text-properties fo:font-weight="bold"/></style:style>
<style:style style:name="PC" style:family="paragraph"><style:paragraph-properties fo:text-align="center"/>
<style:text-properties fo:font-weight="bold"/></style:style>
<style:style style:name="PT" style:family="paragraph"><style:paragraph-properties>
<style:tab-stops><style:tab-stop style:position="4.5cm"/><style:tab-stop style:position="9cm"/>
<style:tab-stop style:position="13.5cm"/></style:tab-stops></style:paragraph-properties></style:style>
<text:list-style style:name="LQ"><text:list-level-style-number text:level="1" text:style-name="B"
 style:num-prefix="Câu " style:num-suffix="." style:num-format="1"><style:list-level-properties
 text:list-level-position-and-space-mode="label-alignment"><style:list-level-label-alignment
 text:label-followed-by="space"/></style:list-level-properties></text:list-level-style-number></text:list-style>
<text:list-style style:name="LO"><text:list-level-style-number text:level="1" style:num-suffix="."
 style:num-format="A"><style:list-level-properties text:list-level-position-and-space-mode="label-alignment">
<style:list-level-label-alignment text:label-followed-by="space"/></style:list-level-properties>
</text:list-level-style-number></text:list-style>
<text:list-style style:name="LS"><text:list-level-style-number text:level="1" style:num-suffix=")"
 style:num-format="a"><style:list-level-properties text:list-level-position-and-space-mode="label-alignment">
<style:list-level-label-alignment text:label-followed-by="space"/></style:list-level-properties>
</text:list-level-style-number></text:list-style>
<style:style style:name="Tb" style:family="table"><style:table-properties style:width="16cm" table:align="left"/>
</style:style>
<style:style style:name="Cb" style:family="table-cell"><style:table-cell-properties fo:border="0.5pt solid #000000"
 fo:padding="0.05cm"/></style:style>
<style:style style:name="Cn" style:family="table-cell"><style:table-cell-properties fo:border="none"
 fo:padding="0.05cm"/></style:style>
</office:automatic-styles>
"""


def png(w, h, seed):
    """A small RGB PNG (gradient plus a diagonal), distinct per seed."""
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            if abs(x * h - y * w) < w:
                rows += bytes((0, 0, 0))
            else:
                rows += bytes(((x * 255 // w + seed * 40) % 256, (y * 255 // h) % 256, (seed * 70) % 256))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


MARK = re.compile(r"⟨m\|(.*?)⟩|⟨img:(\d+)×(\d+)⟩")


class Doc:
    def __init__(self):
        self.body = []
        self.nimg = 0
        self.marks = []  # (property, text) the .docx must show as a run with that property

    def inline(self, s):
        """Rich text to ODF inline content."""
        out, pos = [], 0
        for m in MARK.finditer(s):
            out.append(escape(s[pos:m.start()]))
            if m.group(1) is not None:
                out.append('<draw:frame text:anchor-type="as-char" svg:width="2cm" svg:height="0.6cm">'
                           '<draw:object><math:math><math:semantics><math:mrow/>'
                           '<math:annotation math:encoding="StarMath 5.0">%s</math:annotation>'
                           '</math:semantics></math:math></draw:object></draw:frame>' % escape(m.group(1)))
            else:
                self.nimg += 1
                w, h = int(m.group(2)), int(m.group(3))
                data = base64.b64encode(png(w * 2, h * 2, self.nimg)).decode()
                out.append('<draw:frame text:anchor-type="as-char" svg:width="%dmm" svg:height="%dmm">'
                           '<draw:image><office:binary-data>%s</office:binary-data></draw:image></draw:frame>'
                           % (w, h, data))
            pos = m.end()
        out.append(escape(s[pos:]))
        return "".join(out)

    def span(self, style, s):
        if style:
            for piece in MARK.split(s)[::4]:
                if piece and piece.strip():
                    self.marks.append((style, piece.strip()))
            return '<text:span text:style-name="%s">%s</text:span>' % (style, self.inline(s))
        return self.inline(s)

    def p(self, xml, style=None):
        st = ' text:style-name="%s"' % style if style else ""
        self.body.append("<text:p%s>%s</text:p>" % (st, xml))

    def li(self, xml, list_style, restart=False):
        """A paragraph numbered automatically by list_style: the list goes on
        from the previous paragraph of that style (text:continue-list) unless
        restart (then it starts at 1)."""
        self.nlists = getattr(self, "nlists", 0) + 1
        ids = getattr(self, "list_ids", {})
        self.list_ids = ids
        if restart or list_style not in ids:
            ids[list_style] = "L%d" % self.nlists
            attrs = ' xml:id="%s"' % ids[list_style]
        else:
            attrs = ' text:continue-list="%s"' % ids[list_style]
        self.body.append('<text:list text:style-name="%s"%s><text:list-item%s><text:p>%s</text:p>'
                         '</text:list-item></text:list>' % (
                             list_style, attrs, ' text:start-value="1"' if restart else "", xml))

    def table(self, rows, border=True, raw=False):
        n = max(len(r) for r in rows)
        cell = "Cb" if border else "Cn"
        x = ['<table:table table:style-name="Tb"><table:table-column table:number-columns-repeated="%d"/>' % n]
        for r in rows:
            x.append("<table:table-row>")
            for c in r + [""] * (n - len(r)):
                x.append('<table:table-cell table:style-name="%s" office:value-type="string"><text:p>%s</text:p>'
                         '</table:table-cell>' % (cell, c if raw else self.inline(c)))
            x.append("</table:table-row>")
        x.append("</table:table>")
        self.body.append("".join(x))

    def xml(self):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<office:document %s office:version="1.3" '
                'office:mimetype="application/vnd.oasis.opendocument.text">\n%s<office:body><office:text>\n%s\n'
                '</office:text></office:body></office:document>\n' % (NS, STYLES, "\n".join(self.body)))


def level_of(f, q, i):
    mode = f["level"]
    if mode == "mixed":
        mode = "after" if i % 2 else "end"
    return mode


def render(f):
    """Returns (Doc, expected) for one file."""
    d = Doc()
    exp_items = []
    if f["header"]:
        for line in f["header"]:
            d.p(escape(line), "PC")
    answer_lists = []  # per section: (kind, [(number, key)])
    for heading, qs in f["sections"]:
        if heading:
            d.p('<text:span text:style-name="B">%s</text:span>' % escape(heading.format(n=len(qs))))
        keys = []
        for i, q in enumerate(qs, 1):
            render_question(d, f, q, i)
            keys.append((i, q["key"], q["kind"]))
            exp_items.append(expected_item(f, q, i, heading))
        answer_lists.append((heading, keys))
    render_answer_keys(d, f, answer_lists)
    return d, exp_items


def render_question(d, f, q, i):
    kind = q["kind"]
    label = "Câu %d%s" % (i, f["sep"])
    if kind == "ESSAY":
        label = "Câu %d (%s điểm)%s" % (i, fmt_points(sum(pts(p) for _, p in q["rubric"])), f["sep"])
    lab = '<text:span text:style-name="B">%s</text:span>' % escape(label) if f["label_bold"] else escape(label)
    lv = "[%s]" % q["lv"] if q["lv"] else ""
    where = level_of(f, q, i) if f["level"] else None
    codes = " ".join("[%s]" % c for c in q["codes"]) if f["codes"] == "inline" and q["codes"] else ""
    pre = " ".join(x for x in [lv if where == "after" else "", codes] if x)
    stem = q["stem"] + (" (nhiều đáp án)" if kind == "MR" else "")
    if where == "end":
        stem += " " + lv
    if f["numbering"]:  # "Câu N." is Word's automatic numbering, not text
        d.li((escape(pre) + " " if pre else "") + d.inline(stem), "LQ", restart=i == 1)
    else:
        d.p(lab + " " + (escape(pre) + " " if pre else "") + d.inline(stem))
    if q.get("table"):
        d.table(q["table"])
    if kind in ("MCQ4", "MR"):
        render_options(d, f, q, i)
    elif kind == "TF4":
        for s, text in zip("abcd", q["stmts"]):
            if f["numbering"] == "all":
                d.li(d.inline(text), "LS", restart=s == "a")
            elif f["tf_key"] == "underline" and q["key"][s]:
                d.p(d.span("U", s + ")") + " " + d.inline(text))
            else:
                d.p(escape(s + ") ") + d.inline(text))
    elif kind == "SHORT" and f["short_key"] == "line":
        d.p(escape("Đáp án: " + q["key"]))
    if f["codes"] == "line" and q["codes"]:
        d.p(escape("Mã: " + ", ".join(q["codes"])))
    if kind == "ESSAY":
        d.p('<text:span text:style-name="B">Hướng dẫn chấm:</text:span>')
        for text, p in q["rubric"]:
            d.p(d.inline(text) + escape(" (%s điểm)" % p))
    elif q["expl"] and f["expl"]:
        if f["expl_multi"]:
            d.p('<text:span text:style-name="B">%s</text:span>' % escape(f["expl"]))
            for part in [q["expl"], "Vậy chọn đáp án đúng."]:
                d.p(d.inline(part))
        else:
            d.p('<text:span text:style-name="B">%s</text:span> ' % escape(f["expl"]) + d.inline(q["expl"]))


def render_options(d, f, q, i):
    keyset = set(q["key"]) if isinstance(q["key"], list) else {q["key"]}
    if i in f.get("drop_key", ()):
        keyset = set()
    cells = []
    for L, text in zip(LETTERS, q["opts"]):
        marked = L in keyset and f["key"] in ("underline", "red", "bold", "star")
        style = {"underline": "U", "red": "R", "bold": "B"}.get(f["key"]) if marked else None
        if f["numbering"] == "all":  # the letter is Word's automatic numbering
            cells.append(d.span(style, text) if style else d.inline(text))
        elif f["key"] == "star" and marked:
            cells.append(escape("*") + d.span(None, L + ". " + text))
        elif style and f["scope"] == "all":
            cells.append(d.span(style, L + ". " + text))
        elif style:
            cells.append(d.span(style, L + ".") + " " + d.inline(text))
        else:
            cells.append(d.inline(L + ". " + text))
    if i in f.get("empty_e", ()):
        cells.append("E.")
    if f["numbering"] == "all":
        for k, c in enumerate(cells):
            d.li(c, "LO", restart=k == 0)
    elif f["layout"] == "lines":
        for c in cells:
            d.p(c)
    elif f["layout"] == "line":
        d.p("<text:tab/>".join(cells), "PT")
    elif f["layout"] == "two":
        for k in range(0, len(cells), 2):
            d.p("<text:tab/>".join(cells[k:k + 2]), "PT")
    elif f["layout"] == "table":
        d.table([cells[0:2], cells[2:4]], border=False, raw=True)


def render_answer_keys(d, f, answer_lists):
    parts_mcq = [(h, k) for h, k in answer_lists if any(x[2] in ("MCQ4", "MR") for x in k)]
    if f["key"] in ("list", "table", "table_v") or f["tf_key"] in ("table", "list") and any(
            x[2] == "TF4" for _, k in answer_lists for x in k):
        d.p(escape("ĐÁP ÁN"), "PC")
    for h, keys in answer_lists:
        kinds = {x[2] for x in keys}
        title = h.split(".")[0] if h else None
        if kinds <= {"MCQ4", "MR"} and f["key"] in ("list", "table", "table_v"):
            if title:
                d.p(escape(title))
            ks = [(n, "".join(k) if isinstance(k, list) else k) for n, k, _ in keys]
            if f["key"] == "list":
                d.p(escape(" ".join("%d.%s" % nk for nk in ks)))
            elif f["key"] == "table":
                d.table([["Câu"] + [str(n) for n, _ in ks], ["Đáp án"] + [k for _, k in ks]])
            else:
                d.table([["Câu", "Đáp án"]] + [[str(n), k] for n, k in ks])
        elif kinds == {"TF4"} and f["tf_key"] in ("table", "list"):
            d.p(escape(title))
            if f["tf_key"] == "table":
                rows = [["Câu", "Lệnh hỏi", "Đáp án (Đ/S)"]]
                for n, k, _ in keys:
                    for s in "abcd":
                        rows.append([str(n) if s == "a" else "", s + ")", "Đ" if k[s] else "S"])
                d.table(rows)
            else:
                for n, k, _ in keys:
                    d.p(escape("Câu %d: " % n + ", ".join("%s) %s" % (s, "Đ" if k[s] else "S") for s in "abcd")))
        elif kinds == {"SHORT"} and f["short_key"] == "table":
            d.p(escape(title))
            d.table([["Câu"] + [str(n) for n, _, _ in keys], ["Đáp án"] + [k for _, k, _ in keys]])


def pts(s):
    return float(s.replace(",", "."))


def fmt_points(x):
    return ("%.2f" % x).rstrip("0").rstrip(".").replace(".", ",") if x != int(x) else "%d,0" % x


def expected_item(f, q, i, heading):
    kind = q["kind"]
    texts = [q["stem"]] + q.get("opts", []) + q.get("stmts", []) + [q["expl"] or ""] + \
        [t for t, _ in q.get("rubric", [])]
    if kind != "ESSAY" and not f["expl"]:
        texts[-1 - len(q.get("rubric", []))] = ""
    all_text = " ".join(texts)
    omml = all_text.count("⟨m|")
    latex = len(re.findall(r"\$[^$\s](?:[^$]*[^$\s])?\$", all_text))  # formulas typed as LaTeX
    key = q["key"]
    if kind == "SHORT":
        key = key.replace(",", ".")
    if kind == "MR":
        key = sorted(key)
    if i in f.get("drop_key", ()):
        key = None
    it = {
        "part": heading.split(".")[0] if heading else None,
        "number": i,
        "kind": kind,
        "key": key,
        "level": LEVELS[q["lv"]] if f["level"] and q["lv"] else None,
        "explanation": bool(q["expl"] and f["expl"] and kind != "ESSAY"),
        "codes": q["codes"] if f["codes"] else [],
        "images": len(re.findall(r"⟨img:", all_text)),
        "tables": 1 if q.get("table") else 0,
        "math": bool(omml or latex),
        "omml": omml,
    }
    if latex:
        it["latex"] = latex  # each becomes MathML like an equation
    if kind in ("MCQ4", "MR"):
        it["options"] = len(q["opts"])
    if kind == "ESSAY":
        it["rubric_points"] = [pts(p) for _, p in q["rubric"]]
        it["points"] = sum(it["rubric_points"])
    return it


# ---------------------------------------------------------------------------
# Conversion and checks
# ---------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"


def runs(docxml):
    """(text, underline, colour, bold) of every w:r of the main body."""
    root = ET.fromstring(docxml)
    out = []
    for r in root.iter(W + "r"):
        rpr = r.find(W + "rPr")
        text = "".join(t.text or "" for t in r.iter(W + "t"))
        u = c = b = False
        if rpr is not None:
            e = rpr.find(W + "u")
            u = e is not None and e.get(W + "val", "single") != "none"
            e = rpr.find(W + "color")
            c = e is not None and e.get(W + "val", "").upper() == "FF0000"
            e = rpr.find(W + "b")
            b = e is not None and e.get(W + "val", "true") not in ("false", "0")
        out.append((text, u, c, b))
    return root, out


def check(path, d, items, f):
    """Problems (strings) where the .docx does not carry what the data says."""
    probs = []
    with zipfile.ZipFile(path) as z:
        docxml = z.read("word/document.xml")
        ctypes = z.read("[Content_Types].xml").decode()
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    root, rs = runs(docxml)
    prop = {"U": 1, "R": 2, "B": 3}
    for style, text in d.marks:
        if not text:
            continue
        if not any(r[prop[style]] and text in r[0] for r in rs):
            probs.append("no %s run with text %r" % (style, text))
    n_omml = len(list(root.iter(M + "oMath")))
    want_omml = sum(it["omml"] for it in items)
    if n_omml != want_omml:
        probs.append("m:oMath: %d, expected %d" % (n_omml, want_omml))
    n_draw = len(list(root.iter(W + "drawing")))
    want_img = sum(it["images"] for it in items)
    if n_draw != want_img or len(media) != want_img:
        probs.append("w:drawing: %d, media: %d, expected %d" % (n_draw, len(media), want_img))
    alltext = "".join(r[0] for r in rs)
    if f["numbering"]:
        probs += check_numbering(path, root, items, f)
    for it in items:
        if f["numbering"]:
            if "Câu %d" % it["number"] in alltext:
                probs.append("label Câu %d typed, not numbered" % it["number"])
        elif it["kind"] != "ESSAY" and ("Câu %d%s" % (it["number"], f["sep"])) not in alltext:
            probs.append("label Câu %d%s missing" % (it["number"], f["sep"]))
        for c in it["codes"]:
            if c not in alltext:
                probs.append("code %s missing" % c)
    n_tbl = len(list(root.iter(W + "tbl")))
    if n_tbl < sum(it["tables"] for it in items):
        probs.append("w:tbl: %d" % n_tbl)
    paras = ["".join(t.text or "" for t in p.iter(W + "t")).strip() for p in root.iter(W + "p")]
    if f.get("empty_e") and "E." not in paras:
        probs.append("no paragraph 'E.'")
    want_ct = "macroEnabled" if f["raw"] == "docm" else "wordprocessingml.document.main"
    if want_ct not in ctypes:
        probs.append("main content type is not %s" % want_ct)
    return probs


def check_numbering(path, root, items, f):
    """The questions (and options, statements) carry w:numPr, and numbering.xml
    has the levels "Câu %1." (decimal), "%1." (upperLetter), "%1)" (lowerLetter)."""
    probs = []
    with zipfile.ZipFile(path) as z:
        if "word/numbering.xml" not in z.namelist():
            return ["no word/numbering.xml"]
        num = ET.fromstring(z.read("word/numbering.xml"))
    levels = set()
    for lvl in num.iter(W + "lvl"):
        fmt, text = lvl.find(W + "numFmt"), lvl.find(W + "lvlText")
        if fmt is not None and text is not None:
            levels.add((fmt.get(W + "val"), text.get(W + "val")))
    want = {("decimal", "Câu %1."), ("upperLetter", "%1.")}
    if any(it["kind"] == "TF4" for it in items):
        want.add(("lowerLetter", "%1)"))
    for w in want - levels:
        probs.append("numbering.xml has no level %s %r" % w)
    n_numpr = len(list(root.iter(W + "numPr")))
    want_n = sum(1 + it.get("options", 0) + (4 if it["kind"] == "TF4" else 0) for it in items)
    if n_numpr < want_n:
        probs.append("w:numPr: %d, expected at least %d" % (n_numpr, want_n))
    return probs


def convert(soffice, srcs, outdir, profile, fmt):
    cmd = ["timeout", "300", soffice, "-env:UserInstallation=file://" + profile, "--headless", "--norestore",
           "--convert-to", fmt, "--outdir", outdir] + srcs
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("soffice failed (%d): %s" % (r.returncode, r.stdout))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--soffice", default=shutil.which("soffice") or "soffice")
    ap.add_argument("--keep", action="store_true", help="keep the .fodt sources in the work directory")
    ap.add_argument("--only", nargs="+", metavar="NAME",
                    help="write only these files (names without extension); expected.json is "
                         "still written for all")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="kt-docx-corpus-")
    profile = os.path.join(work, "profile")
    expected = {"level_map": LEVELS,
                "note": "Generated by make.py from its own question data, not by reading the .docx back. "
                        "'message' of a problem is a fragment the reader's Vietnamese message must contain; "
                        "'question' null means a problem of the whole file.",
                "files": {}}
    failures = 0
    rendered = []
    with open(os.path.join(HERE, "expected.json"), encoding="utf-8") as fh:
        previous = json.load(fh)["files"]
    for f in FILES + BAD:
        d, items = render(f)
        with open(os.path.join(work, f["name"] + ".fodt"), "w", encoding="utf-8") as fh:
            fh.write(d.xml())
        rendered.append((f, d, items))
    # One soffice run per output format (a start costs seconds).
    wanted = lambda f: not a.only or f["name"] in a.only  # noqa: E731
    for fmt, ext, sel in (("docx", "docx", lambda f: f["raw"] != "docm"),
                          ("docm:MS Word 2007 XML VBA", "docm", lambda f: f["raw"] == "docm")):
        srcs = [os.path.join(work, f["name"] + ".fodt") for f, _, _ in rendered
                if sel(f) and wanted(f)]
        if srcs:
            convert(a.soffice, srcs, work, profile, fmt)
    for f, d, items in rendered:
        ext = "docm" if f["raw"] == "docm" else "docx"
        if not wanted(f):  # the committed file stays as it is
            entry = dict(previous.get(f["name"] + "." + ext) or {})
            if not entry:
                sys.exit("%s.%s: not generated yet, run without --only" % (f["name"], ext))
            expected["files"][f["name"] + "." + ext] = entry
            continue
        out = os.path.join(work, f["name"] + "." + ext)
        probs = check(out, d, items, f)
        for p in probs:
            print("%s: %s" % (f["name"], p))
        failures += len(probs)
        dest = os.path.join(HERE, f["name"] + "." + ext)
        if f["raw"] == "truncate":
            with open(out, "rb") as fh:
                data = fh.read()
            with open(dest, "wb") as fh:
                fh.write(data[:len(data) // 2])
        else:
            shutil.copyfile(out, dest)
        entry = {"convention": f["convention"], "questions": len(items)}
        bad_q = {p["question"] for p in f["problems"]}
        if f["raw"]:
            entry["questions"] = 0
            items = []
        entry["valid"] = len([it for it in items if it["number"] not in bad_q])
        entry["items"] = [it for it in items if it["number"] not in bad_q]
        entry["problems"] = f["problems"]
        expected["files"][os.path.basename(dest)] = entry
        print("%-30s %2d questions, %2d m:oMath, %d pictures%s" % (
            os.path.basename(dest), len(items), sum(it["omml"] for it in items),
            sum(it["images"] for it in items), "" if not probs else "  CHECK FAILED"))
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
