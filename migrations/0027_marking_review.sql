-- 0027: what a student sees of a released session, and the letters shown.
--
-- sessions.release_show is what a release shows the students besides their
-- scores (chosen with the release, changed by releasing again):
--   score         the score and, per question, the student's answer with
--                 its points (right / wrong) and the teacher's comment
--   answers       also the correct answer of each question
--   explanations  also the explanation (lời giải) and the model answer
--
-- kt_shown() maps an answer (a key or a student's response) given by option
-- and statement ids to the letters of one form as its students saw it
-- (options A, B, ... and statements a, b, ... by position in the form's
-- shuffled order). The form preview (tests_api.c) and the review below use
-- it, so the key shown to a teacher and to a student are the same letters.
--
-- kt_attempt_review() is the per-question review of one attempt, read with
-- the owner's rights (a student reads no item version, migration 0018) and
-- given only for a released session, to the attempt's own student or to
-- the school's staff; keys and explanations only at the level released.

ALTER TABLE sessions ADD COLUMN release_show text NOT NULL DEFAULT 'score'
    CHECK (release_show IN ('score', 'answers', 'explanations'));

-- p_value given by ids as the student or the key states it: MCQ4 an option
-- id, MR an array of option ids, TF4 {statement id: true|false}, SHORT the
-- text itself. NULL for other kinds (QTI) or when nothing matches.
CREATE FUNCTION kt_shown(p_kind text, p_item jsonb, p_value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT CASE p_kind
        WHEN 'MCQ4' THEN (SELECT to_jsonb(chr(64 + o.n::int))
            FROM jsonb_array_elements(p_item->'options') WITH ORDINALITY o(opt, n)
            WHERE jsonb_typeof(p_value) = 'string' AND o.opt->>'id' = p_value #>> '{}')
        WHEN 'MR' THEN (SELECT jsonb_agg(chr(64 + o.n::int) ORDER BY o.n)
            FROM jsonb_array_elements(p_item->'options') WITH ORDINALITY o(opt, n)
            WHERE jsonb_typeof(p_value) = 'array' AND p_value ? (o.opt->>'id'))
        WHEN 'TF4' THEN (SELECT jsonb_object_agg(chr(96 + st.n::int), p_value->(st.s->>'id'))
            FROM jsonb_array_elements(p_item->'statements') WITH ORDINALITY st(s, n)
            WHERE jsonb_typeof(p_value) = 'object')
        WHEN 'SHORT' THEN p_value END
    $$;

-- The key of an item version's scoring in the letters of a form's item.
CREATE FUNCTION kt_key_shown(p_kind text, p_item jsonb, p_scoring jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE
    AS $$
    SELECT kt_shown(p_kind, p_item, CASE p_kind
        WHEN 'MCQ4' THEN p_scoring->'key' WHEN 'MR' THEN p_scoring->'keys'
        WHEN 'TF4' THEN p_scoring->'statement_keys' WHEN 'SHORT' THEN p_scoring->'key' END)
    $$;

-- Per question of the attempt's form, in the form's order: the response
-- (as stored and in the letters shown), points and maximum in the test
-- (text, two decimals), state (scored, marked, needs_marking,
-- scoring_failed), result (correct, partial, incorrect, pending) and the
-- teacher's comment; with 'answers' or 'explanations' the key shown and
-- the essay's rubric with the marks given; with 'explanations' the
-- explanation and model answer. NULL unless the session is released and
-- the attempt scored, and unless the caller is its student or staff of
-- its school.
CREATE FUNCTION kt_attempt_review(p_attempt bigint) RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
    AS $$
    SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
        'ref', e.it->>'ref', 'number', e.ord, 'kind', coalesce(e.it->>'kind', v.kind),
        'response', r.response, 'response_shown', kt_shown(v.kind, e.it, r.response),
        'points', round(x.score::numeric / 100, 2)::text,
        'max_points', round(coalesce(x.max_score, ti.points)::numeric / 100, 2)::text,
        'state', x.state,
        'result', CASE WHEN x.score IS NULL THEN 'pending'
            WHEN x.score >= x.max_score THEN 'correct' WHEN x.score > 0 THEN 'partial'
            ELSE 'incorrect' END,
        'comment', x.detail->>'comment',
        'key_shown', CASE WHEN se.release_show IN ('answers', 'explanations')
            THEN kt_key_shown(v.kind, e.it, v.scoring) END,
        'rubric', CASE WHEN se.release_show IN ('answers', 'explanations')
            AND jsonb_typeof(v.scoring->'rubric') = 'array'
            THEN (SELECT jsonb_agg(jsonb_build_object('criterion', c.c->>'criterion',
                    'points', c.c->'points', 'given', x.detail->'criteria'->((c.n - 1)::int))
                    ORDER BY c.n)
                  FROM jsonb_array_elements(v.scoring->'rubric') WITH ORDINALITY c(c, n)) END,
        'explanation', CASE WHEN se.release_show = 'explanations'
            THEN v.scoring->'explanation' END,
        'model_answer', CASE WHEN se.release_show = 'explanations'
            THEN v.scoring->'model_answer' END))
        ORDER BY e.ord)
      FROM attempts a
      JOIN sessions se ON se.id = a.session_id
      JOIN test_forms f ON f.id = a.form_id
      CROSS JOIN LATERAL jsonb_array_elements(f.payload->'items') WITH ORDINALITY e(it, ord)
      LEFT JOIN test_items ti ON ti.test_id = se.test_id AND ti.item_ref = e.it->>'ref'
      LEFT JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version
      LEFT JOIN responses r ON r.attempt_id = a.id AND r.item_ref = e.it->>'ref'
      LEFT JOIN attempt_scores x ON x.attempt_id = a.id AND x.item_ref = e.it->>'ref'
     WHERE a.id = p_attempt AND se.results_released AND a.scored_at IS NOT NULL
       AND a.school_id = kt_school()
       AND (a.student_id = kt_user() OR (NOT kt_is_student() AND kt_role() IS NOT NULL))
    $$;

REVOKE ALL ON FUNCTION kt_attempt_review(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kt_shown(text, jsonb, jsonb), kt_key_shown(text, jsonb, jsonb),
    kt_attempt_review(bigint) TO kiemtra_app;
