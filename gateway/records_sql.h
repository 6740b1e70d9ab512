/*
 * SQL shared by the records API and `kiemtra export-records`: the class
 * sheet of one subject and semester, and the class's exchange records with
 * their envelope. Parameters: $1 class, $2 school year, $3 semester, $4
 * subject, $5 whether to include the encrypted số định danh (hex).
 */
#ifndef KT_RECORDS_SQL_H
#define KT_RECORDS_SQL_H

/* Students of a class in the order of the class list (by given name). */
#define KT_SQL_CLASS_STUDENTS                                                                             \
    " FROM class_members cm JOIN users u ON u.id = cm.user_id AND u.role = 'student'"            \
    " WHERE cm.class_id = $1::bigint"
#define KT_SQL_STUDENT_ORDER                                                                              \
    " ORDER BY regexp_replace(u.full_name, '^.* ', '') COLLATE \"vi-x-icu\","                      \
    " u.full_name COLLATE \"vi-x-icu\", u.id"


#define KT_SQL_CLASS_RECORDS \
    "SELECT json_build_object('class', json_build_object('id', c.id, 'name', c.name," \
    "  'grade', c.grade, 'school_year', c.school_year), 'school', (SELECT json_build_object(" \
    "  'code', s.code, 'name', s.name) FROM schools s WHERE s.id = c.school_id)," \
    " 'subject', (SELECT json_build_object('code', sc.subject, 'name', sc.name, 'mode', sc.mode," \
    "   'tx_slots', coalesce(sc.tx_slots, CASE WHEN sc.periods_per_year <= 35 THEN 2" \
    "     WHEN sc.periods_per_year <= 70 THEN 3 ELSE 4 END)) FROM subject_configs sc" \
    "   WHERE sc.grade = c.grade AND sc.subject = $4" \
    "   AND (sc.school_id = c.school_id OR sc.school_id IS NULL)" \
    "   ORDER BY sc.school_id NULLS LAST LIMIT 1)," \
    " 'school_year', $2::text, 'semester', $3::smallint," \
    " 'locked', EXISTS (SELECT 1 FROM record_terms rt WHERE rt.school_id = c.school_id" \
    "   AND rt.school_year = $2 AND rt.semester = $3::smallint)," \
    " 'students', coalesce((SELECT json_agg(json_build_object('id', u.id," \
    "   'student_code', u.student_code, 'full_name', u.full_name," \
    "   'birth_date', to_char(u.birth_date, 'DD/MM/YYYY')," \
    "   'national_id', CASE WHEN $5::boolean THEN encode(u.national_id_enc, 'hex') END," \
    "   'marks', coalesce((SELECT json_object_agg(m.slot, m.value) FROM record_marks m" \
    "     WHERE m.student_id = u.id AND m.subject = $4 AND m.school_year = $2" \
    "       AND m.semester = $3::smallint), '{}')," \
    "   'studies', coalesce($4 = ANY (kt_student_subjects(c.id, u.id)), true)," \
    "   'result', (SELECT json_build_object('status', r.status, 'value', r.value," \
    "     'notes', r.detail->'notes', 'reason', r.detail->'reason', 'ruleset', r.ruleset," \
    "     'ruleset_version', r.ruleset_version)" \
    "     FROM record_results r WHERE r.student_id = u.id AND r.subject = $4" \
    "       AND r.school_year = $2 AND r.semester = $3::smallint)," \
    "   'year', (SELECT json_build_object('status', r.status, 'value', r.value," \
    "     'reason', r.detail->'reason')" \
    "     FROM record_results r WHERE r.student_id = u.id AND r.subject = $4" \
    "       AND r.school_year = $2 AND r.semester = 0)," \
    "   'level', (SELECT json_build_object('status', r.status, 'value', r.value," \
    "     'by_thresholds', r.detail->>'by_thresholds', 'notes', r.detail->'notes'," \
    "     'reason', r.detail->'reason')" \
    "     FROM record_results r WHERE r.student_id = u.id AND r.subject = ''" \
    "       AND r.school_year = $2 AND r.semester = $3::smallint))" KT_SQL_STUDENT_ORDER ")" \
    KT_SQL_CLASS_STUDENTS "), '[]'))::text FROM classes c WHERE c.id = $1::bigint"

/* $1 class, $2 school year, $3 semester. */
#define KT_SQL_CLASS_EXCHANGE \
    "SELECT coalesce(json_agg(json_build_object('idbanghi', o.record_id, 'sukien', o.event," \
    "  'phienban', o.version, 'thoigiancapnhat', to_char(o.updated_at AT TIME ZONE" \
    "  'Asia/Ho_Chi_Minh', 'YYYY-MM-DD\"T\"HH24:MI:SS'), 'du_lieu', o.payload)" \
    "  ORDER BY o.record_id), '[]')::text" \
    " FROM csdl_outbox o JOIN class_members cm ON cm.user_id = o.student_id" \
    " WHERE cm.class_id = $1::bigint AND o.payload->>'nam_hoc' = $2" \
    "  AND (o.payload->>'hoc_ky')::int = $3::smallint"

#endif
