-- 0015: the maximum score a teacher states for an imported QTI item whose
-- response processing does not give one (itembank/maxscore.c says when).
--
-- One row per item version: the statement holds for that exact document,
-- so a new version (a re-import with other XML) needs its own. Grading
-- reads the row of the scoring version; publishing a test refuses an item
-- whose maximum is neither read from the item nor stated here. Every
-- statement is an audit_log row ('item.max_score', old and new value).

CREATE TABLE item_max_scores (
    item_id     bigint NOT NULL,
    version     integer NOT NULL,
    school_id   bigint NOT NULL REFERENCES schools(id),
    max_score   numeric(8, 2) NOT NULL CHECK (max_score > 0 AND max_score <= 100000),
    stated_by   bigint REFERENCES users(id),
    stated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (item_id, version),
    FOREIGN KEY (item_id, version) REFERENCES item_versions (item_id, version)
);

ALTER TABLE item_max_scores ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON item_max_scores
    USING (school_id = kt_school() OR kt_admin_sees(school_id))
    WITH CHECK (school_id = kt_school());
CREATE POLICY not_students ON item_max_scores AS RESTRICTIVE USING (NOT kt_is_student());

GRANT SELECT, INSERT, UPDATE ON item_max_scores TO kiemtra_app;
