-- 0003: the GDPT 2018 curriculum taxonomy (Thông tư 32/2018/TT-BGDĐT).
--
-- National data shared by every school: no school_id and no row-level
-- security; the application role may only read it. Codes follow
-- DOMAIN-VN §4.6 and are never renumbered: a node that leaves the programme
-- is marked deprecated, never deleted. Outcomes (yêu cầu cần đạt) keep their
-- verbatim text and its SHA-256 so that a re-import can detect silent edits;
-- `kiemtra taxonomy import` adds outcomes from CSV files.

CREATE TABLE taxonomy_nodes (
    code         text PRIMARY KEY CHECK (code ~ '^[A-Z][A-Z0-9]*(\.[A-Z0-9]+)*$'),
    kind         text NOT NULL CHECK (kind IN ('subject', 'grade', 'strand', 'topic', 'unit',
                                               'outcome', 'competency', 'quality', 'level',
                                               'format')),
    parent_code  text REFERENCES taxonomy_nodes(code) DEFERRABLE INITIALLY DEFERRED,
    subject      text,                          -- TOAN, NV, ... (NULL for cross-subject nodes)
    grade        smallint CHECK (grade BETWEEN 1 AND 12),
    name         text NOT NULL,
    text         text NOT NULL DEFAULT '',      -- verbatim YCCĐ for outcomes
    content_hash text NOT NULL,                 -- hex SHA-256 of text (set by trigger)
    edition      text NOT NULL DEFAULT 'VN18',
    deprecated   boolean NOT NULL DEFAULT false,
    sort_order   integer NOT NULL,              -- set by trigger when not given
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (code <> parent_code)
);
CREATE INDEX taxonomy_nodes_parent_idx ON taxonomy_nodes (parent_code);
CREATE INDEX taxonomy_nodes_filter_idx ON taxonomy_nodes (subject, grade, kind);

-- Document order inside a subject for VN18.<MON>.<LOP>.<MACH>.<CD>.<ND>.<YC>:
-- grade, then strand in programme order, then the ordinals.
CREATE FUNCTION kt_taxonomy_sort(c text) RETURNS integer
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE WHEN c !~ '^VN[0-9]{2}[A-Z]?\.' THEN 0 ELSE
        coalesce(substring(p[3] FROM '^[0-9]{1,2}$')::int, 0) * 10000000
        + CASE p[4] WHEN 'MODAU' THEN 1 WHEN 'SDS' THEN 1 WHEN 'DOC' THEN 1 WHEN 'CHAT' THEN 2
                    WHEN 'HHDL' THEN 2 WHEN 'VIET' THEN 2 WHEN 'SONG' THEN 3
                    WHEN 'TKXS' THEN 3 WHEN 'NN' THEN 3 WHEN 'NLUONG' THEN 4
                    WHEN 'THTN' THEN 4 WHEN 'KT' THEN 4 WHEN 'TDBT' THEN 5
                    ELSE CASE WHEN p[4] IS NULL THEN 0 ELSE 9 END END * 1000000
        + coalesce(substring(p[5] FROM '^[0-9]{1,2}$')::int, 0) * 10000
        + coalesce(substring(p[6] FROM '^[0-9]{1,2}$')::int, 0) * 100
        + coalesce(substring(p[7] FROM '^[0-9]{1,2}$')::int, 0) END
    FROM (SELECT string_to_array(c, '.') AS p) s
    $$;

CREATE FUNCTION kt_taxonomy_defaults() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.content_hash := encode(sha256(convert_to(NEW.text, 'UTF8')), 'hex');
    IF NEW.sort_order IS NULL THEN
        NEW.sort_order := kt_taxonomy_sort(NEW.code);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER taxonomy_nodes_defaults BEFORE INSERT OR UPDATE ON taxonomy_nodes
    FOR EACH ROW EXECUTE FUNCTION kt_taxonomy_defaults();

GRANT SELECT ON taxonomy_nodes TO kiemtra_app;

-- ------------------------------------------------------------------------
-- Seed: subjects (codes of DOMAIN-VN §4.6), in the order of the programme.

INSERT INTO taxonomy_nodes (code, kind, subject, name, sort_order)
SELECT 'VN18.' || s.code, 'subject', s.code, s.name, s.ord
FROM (VALUES (1, 'TOAN', 'Toán'), (2, 'TV', 'Tiếng Việt'), (3, 'NV', 'Ngữ văn'),
             (4, 'NN1', 'Ngoại ngữ 1'), (5, 'KHTN', 'Khoa học tự nhiên'),
             (6, 'LSDL', 'Lịch sử và Địa lí'), (7, 'LS', 'Lịch sử'), (8, 'DL', 'Địa lí'),
             (9, 'GDCD', 'Giáo dục công dân'), (10, 'GDKTPL', 'Giáo dục kinh tế và pháp luật'),
             (11, 'TIN', 'Tin học'), (12, 'CN', 'Công nghệ'), (13, 'TINCN', 'Tin học và Công nghệ'),
             (14, 'KH', 'Khoa học'), (15, 'TNXH', 'Tự nhiên và Xã hội'), (16, 'DD', 'Đạo đức'),
             (17, 'VL', 'Vật lí'), (18, 'HH', 'Hoá học'), (19, 'SH', 'Sinh học'),
             (20, 'GDTC', 'Giáo dục thể chất'), (21, 'NT', 'Nghệ thuật'), (22, 'AN', 'Âm nhạc'),
             (23, 'MT', 'Mĩ thuật'), (24, 'HDTN', 'Hoạt động trải nghiệm, hướng nghiệp'),
             (25, 'GDDP', 'Nội dung giáo dục địa phương'),
             (26, 'GDQPAN', 'Giáo dục quốc phòng và an ninh'))
     AS s(ord, code, name);

-- Toán, grades 6-12, and the strands (mạch nội dung) of each grade.
INSERT INTO taxonomy_nodes (code, kind, parent_code, subject, grade, name)
SELECT 'VN18.TOAN.' || lpad(g::text, 2, '0'), 'grade', 'VN18.TOAN', 'TOAN', g, 'Lớp ' || g
FROM generate_series(6, 12) AS g;

INSERT INTO taxonomy_nodes (code, kind, parent_code, subject, grade, name)
SELECT 'VN18.TOAN.' || lpad(g::text, 2, '0') || '.' || s.code, 'strand',
       'VN18.TOAN.' || lpad(g::text, 2, '0'), 'TOAN', g,
       CASE WHEN s.code = 'SDS' AND g <= 9 THEN 'Số và Đại số' ELSE s.name END
FROM generate_series(6, 12) AS g
CROSS JOIN (VALUES ('SDS', 'Số, Đại số và Một số yếu tố giải tích'),
                   ('HHDL', 'Hình học và Đo lường'),
                   ('TKXS', 'Thống kê và Xác suất'),
                   ('THTN', 'Hoạt động thực hành và trải nghiệm')) AS s(code, name);

-- Topics (chủ đề) per grade and strand, numbered in document order.
-- NOTE: these lists were written from the table of contents of the GDPT 2018
-- Toán programme (section V, "Nội dung giáo dục") and must be checked against
-- the official text of Thông tư 32/2018/TT-BGDĐT before outcomes are coded
-- under them. Grade 10 matches demo/outcomes-toan10.csv.
INSERT INTO taxonomy_nodes (code, kind, parent_code, subject, grade, name)
SELECT format('VN18.TOAN.%s.%s.%s', lpad(t.g::text, 2, '0'), t.strand, t.cd),
       'topic', format('VN18.TOAN.%s.%s', lpad(t.g::text, 2, '0'), t.strand), 'TOAN', t.g, t.name
FROM (VALUES
    (6, 'SDS', '01', 'Số tự nhiên'),
    (6, 'SDS', '02', 'Số nguyên'),
    (6, 'SDS', '03', 'Phân số'),
    (6, 'SDS', '04', 'Số thập phân'),
    (6, 'HHDL', '01', 'Các hình phẳng trong thực tiễn'),
    (6, 'HHDL', '02', 'Tính đối xứng của hình phẳng trong thế giới tự nhiên'),
    (6, 'HHDL', '03', 'Các hình hình học cơ bản'),
    (6, 'TKXS', '01', 'Thu thập và tổ chức dữ liệu'),
    (6, 'TKXS', '02', 'Phân tích và xử lí dữ liệu'),
    (6, 'TKXS', '03', 'Một số yếu tố xác suất'),
    (7, 'SDS', '01', 'Số hữu tỉ'),
    (7, 'SDS', '02', 'Số thực'),
    (7, 'SDS', '03', 'Tỉ lệ thức và đại lượng tỉ lệ'),
    (7, 'SDS', '04', 'Biểu thức đại số'),
    (7, 'HHDL', '01', 'Các hình khối trong thực tiễn'),
    (7, 'HHDL', '02', 'Góc và đường thẳng song song'),
    (7, 'HHDL', '03', 'Tam giác'),
    (7, 'TKXS', '01', 'Thu thập và tổ chức dữ liệu'),
    (7, 'TKXS', '02', 'Phân tích và xử lí dữ liệu'),
    (7, 'TKXS', '03', 'Một số yếu tố xác suất'),
    (8, 'SDS', '01', 'Biểu thức đại số'),
    (8, 'SDS', '02', 'Hàm số và đồ thị'),
    (8, 'SDS', '03', 'Phương trình'),
    (8, 'HHDL', '01', 'Các hình khối trong thực tiễn'),
    (8, 'HHDL', '02', 'Định lí Pythagore'),
    (8, 'HHDL', '03', 'Tứ giác'),
    (8, 'HHDL', '04', 'Định lí Thalès trong tam giác'),
    (8, 'HHDL', '05', 'Hình đồng dạng'),
    (8, 'TKXS', '01', 'Thu thập và tổ chức dữ liệu'),
    (8, 'TKXS', '02', 'Phân tích và xử lí dữ liệu'),
    (8, 'TKXS', '03', 'Một số yếu tố xác suất'),
    (9, 'SDS', '01', 'Số thực'),
    (9, 'SDS', '02', 'Phương trình và hệ phương trình'),
    (9, 'SDS', '03', 'Bất đẳng thức. Bất phương trình bậc nhất một ẩn'),
    (9, 'SDS', '04', 'Hàm số y = ax² (a ≠ 0). Phương trình bậc hai một ẩn'),
    (9, 'HHDL', '01', 'Các hình khối trong thực tiễn'),
    (9, 'HHDL', '02', 'Hệ thức lượng trong tam giác vuông'),
    (9, 'HHDL', '03', 'Đường tròn'),
    (9, 'HHDL', '04', 'Đa giác đều'),
    (9, 'TKXS', '01', 'Thu thập và tổ chức dữ liệu'),
    (9, 'TKXS', '02', 'Phân tích và xử lí dữ liệu'),
    (9, 'TKXS', '03', 'Một số yếu tố xác suất'),
    (10, 'SDS', '01', 'Mệnh đề và tập hợp'),
    (10, 'SDS', '02', 'Bất phương trình và hệ bất phương trình bậc nhất hai ẩn'),
    (10, 'SDS', '03', 'Hàm số, đồ thị và ứng dụng'),
    (10, 'SDS', '04', 'Đại số tổ hợp'),
    (10, 'HHDL', '01', 'Hệ thức lượng trong tam giác'),
    (10, 'HHDL', '02', 'Vectơ'),
    (10, 'HHDL', '03', 'Phương pháp toạ độ trong mặt phẳng'),
    (10, 'TKXS', '01', 'Thống kê'),
    (10, 'TKXS', '02', 'Xác suất'),
    (11, 'SDS', '01', 'Hàm số lượng giác và phương trình lượng giác'),
    (11, 'SDS', '02', 'Dãy số. Cấp số cộng và cấp số nhân'),
    (11, 'SDS', '03', 'Giới hạn. Hàm số liên tục'),
    (11, 'SDS', '04', 'Hàm số mũ và hàm số lôgarit'),
    (11, 'SDS', '05', 'Đạo hàm'),
    (11, 'HHDL', '01', 'Quan hệ song song trong không gian. Phép chiếu song song'),
    (11, 'HHDL', '02', 'Quan hệ vuông góc trong không gian. Phép chiếu vuông góc'),
    (11, 'TKXS', '01', 'Thống kê'),
    (11, 'TKXS', '02', 'Xác suất'),
    (12, 'SDS', '01', 'Ứng dụng đạo hàm để khảo sát và vẽ đồ thị của hàm số'),
    (12, 'SDS', '02', 'Nguyên hàm. Tích phân'),
    (12, 'HHDL', '01', 'Vectơ và hệ trục toạ độ trong không gian'),
    (12, 'HHDL', '02', 'Phương pháp toạ độ trong không gian'),
    (12, 'TKXS', '01', 'Thống kê'),
    (12, 'TKXS', '02', 'Xác suất')
) AS t(g, strand, cd, name);

-- Phẩm chất chủ yếu, năng lực chung, năng lực đặc thù (chương trình tổng thể).
INSERT INTO taxonomy_nodes (code, kind, parent_code, subject, name, sort_order)
SELECT v.code, v.kind, v.parent, v.subject, v.name, v.ord
FROM (VALUES
    (1, 'PC.YN', 'quality', NULL, NULL, 'Yêu nước'),
    (2, 'PC.NA', 'quality', NULL, NULL, 'Nhân ái'),
    (3, 'PC.CC', 'quality', NULL, NULL, 'Chăm chỉ'),
    (4, 'PC.TT', 'quality', NULL, NULL, 'Trung thực'),
    (5, 'PC.TN', 'quality', NULL, NULL, 'Trách nhiệm'),
    (6, 'NLC.TCTH', 'competency', NULL, NULL, 'Tự chủ và tự học'),
    (7, 'NLC.GTHT', 'competency', NULL, NULL, 'Giao tiếp và hợp tác'),
    (8, 'NLC.GQVDST', 'competency', NULL, NULL, 'Giải quyết vấn đề và sáng tạo'),
    (9, 'NLDT.NN', 'competency', NULL, NULL, 'Năng lực ngôn ngữ'),
    (10, 'NLDT.TT', 'competency', NULL, NULL, 'Năng lực tính toán'),
    (11, 'NLDT.KH', 'competency', NULL, NULL, 'Năng lực khoa học'),
    (12, 'NLDT.CN', 'competency', NULL, NULL, 'Năng lực công nghệ'),
    (13, 'NLDT.TH', 'competency', NULL, NULL, 'Năng lực tin học'),
    (14, 'NLDT.TM', 'competency', NULL, NULL, 'Năng lực thẩm mĩ'),
    (15, 'NLDT.TC', 'competency', NULL, NULL, 'Năng lực thể chất'),
    -- Subject competencies and their components (DOMAIN-VN §4.2-4.4).
    (16, 'NL.TOAN', 'competency', 'NLDT.TT', 'TOAN', 'Năng lực toán học'),
    (17, 'NL.TOAN.TDLL', 'competency', 'NL.TOAN', 'TOAN', 'Tư duy và lập luận toán học'),
    (18, 'NL.TOAN.MHH', 'competency', 'NL.TOAN', 'TOAN', 'Mô hình hoá toán học'),
    (19, 'NL.TOAN.GQVD', 'competency', 'NL.TOAN', 'TOAN', 'Giải quyết vấn đề toán học'),
    (20, 'NL.TOAN.GT', 'competency', 'NL.TOAN', 'TOAN', 'Giao tiếp toán học'),
    (21, 'NL.TOAN.CCPT', 'competency', 'NL.TOAN', 'TOAN', 'Sử dụng công cụ, phương tiện học toán'),
    (22, 'NL.NV', 'competency', 'NLDT.NN', 'NV', 'Năng lực đặc thù môn Ngữ văn'),
    (23, 'NL.NV.NN', 'competency', 'NL.NV', 'NV', 'Năng lực ngôn ngữ'),
    (24, 'NL.NV.VH', 'competency', 'NL.NV', 'NV', 'Năng lực văn học'),
    (25, 'NL.KHTN', 'competency', 'NLDT.KH', 'KHTN', 'Năng lực khoa học tự nhiên'),
    (26, 'NL.KHTN.NT', 'competency', 'NL.KHTN', 'KHTN', 'Nhận thức khoa học tự nhiên'),
    (27, 'NL.KHTN.THTN', 'competency', 'NL.KHTN', 'KHTN', 'Tìm hiểu tự nhiên'),
    (28, 'NL.KHTN.VD', 'competency', 'NL.KHTN', 'KHTN', 'Vận dụng kiến thức, kĩ năng đã học'),
    -- Cognitive levels (TT 22/2021), the legacy fourth level of the old
    -- four-level scale (nhận biết / thông hiểu / vận dụng / vận dụng cao,
    -- whose first three map to MD.B / MD.H / MD.V), primary levels (TT 27/2020).
    (29, 'MD.B', 'level', NULL, NULL, 'Biết'),
    (30, 'MD.H', 'level', NULL, NULL, 'Hiểu'),
    (31, 'MD.V', 'level', NULL, NULL, 'Vận dụng'),
    (32, 'MD.VC', 'level', NULL, NULL, 'Vận dụng cao (thang bốn mức cũ)'),
    (33, 'MD.M1', 'level', NULL, NULL, 'Mức 1 (tiểu học): nhận biết, nhắc lại'),
    (34, 'MD.M2', 'level', NULL, NULL, 'Mức 2 (tiểu học): kết nối, sắp xếp, giải quyết vấn đề quen thuộc'),
    (35, 'MD.M3', 'level', NULL, NULL, 'Mức 3 (tiểu học): vận dụng giải quyết vấn đề mới'),
    -- Question formats of the 2025 examination.
    (36, 'DT.NLC', 'format', NULL, NULL, 'Trắc nghiệm nhiều lựa chọn'),
    (37, 'DT.DS', 'format', NULL, NULL, 'Trắc nghiệm đúng sai'),
    (38, 'DT.TLN', 'format', NULL, NULL, 'Trắc nghiệm trả lời ngắn'),
    (39, 'DT.TL', 'format', NULL, NULL, 'Tự luận')
) AS v(ord, code, kind, parent, subject, name);
