-- 0008: manual marking and regrade.
--
-- test_items.scoring_version: the item version whose scoring (key, score
-- table, rubric) marks this test's answers. It starts as the version shown
-- and moves to a later version of the same item when a teacher corrects a
-- key and regrades; what students saw (content) stays the version shown.
-- attempt_scores.detail records the scoring version used, the rubric marks
-- and the marker's comment; every mark and every regrade change is also an
-- audit_log row with the old and new value.

ALTER TABLE test_items ADD COLUMN scoring_version integer;
UPDATE test_items SET scoring_version = version WHERE scoring_version IS NULL;
ALTER TABLE test_items ALTER COLUMN scoring_version SET NOT NULL;
ALTER TABLE test_items ADD CONSTRAINT test_items_scoring_version_fk
    FOREIGN KEY (item_id, scoring_version) REFERENCES item_versions (item_id, version);
ALTER TABLE test_items ALTER COLUMN scoring_version SET DEFAULT NULL;

CREATE FUNCTION kt_test_items_scoring_version() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.scoring_version IS NULL THEN
        NEW.scoring_version := NEW.version;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER test_items_scoring_version BEFORE INSERT ON test_items
    FOR EACH ROW EXECUTE FUNCTION kt_test_items_scoring_version();

