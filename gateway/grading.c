/*
 * Scoring submitted attempts: load the attempt's answers and its form's
 * scoring rows (cached per worker, see "Scoring rows"), score each item with
 * the engine (exact decimals, hundredths stored), store the per-item and
 * total scores once. The expiry job submits attempts past their
 * deadline on its own and scores them, and rescores any submitted attempt
 * left unscored by a gateway that stopped in between (a minute after its
 * submit, migration 0035, so that a long scoring queue is not scored twice).
 */
#include "grading.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "cpupool.h"
#include "group.h"
#include "log.h"
#include "pgpool.h"
#include "server.h"
#include "score.h"
#include "vnscore.h"

#define EXPIRY_BATCH 200
#define EXPIRY_LOCK_KEY "7316004821" /* pg advisory lock: one expiry leader at a time */

static const struct pg_stmt_def grading_stmts[] = {
    /* The attempt's form and its test's scoring generation (migration 0035),
     * then its answers; nothing when it is not submitted or already scored. */
    {"grade_attempt",
     "SELECT a.form_id, coalesce(g.gen, 0) FROM attempts a"
     " JOIN test_forms f ON f.id = a.form_id"
     " LEFT JOIN test_scoring_gen g ON g.test_id = f.test_id"
     " WHERE a.id = $1::bigint AND a.status = 'submitted' AND a.scored_at IS NULL"},
    {"grade_answers",
     "SELECT r.item_ref, r.response::text FROM responses r WHERE r.attempt_id = $1::bigint"},
    /* A form's scoring rows with the generation they belong to. */
    {"grade_form_rows",
     "SELECT ti.item_ref, v.kind, v.scoring::text, ti.points, ti.scoring_version, v.qti_xml,"
     " (SELECT m.max_score::text FROM item_max_scores m WHERE m.item_id = ti.item_id"
     "   AND m.version = ti.scoring_version), coalesce(g.gen, 0)"
     " FROM test_forms f"
     /* The items of the form, read once from its payload. */
     " CROSS JOIN LATERAL (SELECT DISTINCT e->>'ref' AS ref"
     "   FROM jsonb_array_elements(f.payload->'items') e) fi"
     " JOIN test_items ti ON ti.test_id = f.test_id AND ti.item_ref = fi.ref"
     " JOIN item_versions v ON v.item_id = ti.item_id AND v.version = ti.scoring_version"
     " LEFT JOIN test_scoring_gen g ON g.test_id = f.test_id"
     " WHERE f.id = $1::bigint"
     " ORDER BY ti.item_ref"},
    /* Group commit: the scores of many attempts of one school. */
    {"grade_store",
     "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(a bigint, total integer,"
     "   max integer, manual boolean, rows jsonb)),"
     " s AS (INSERT INTO attempt_scores (attempt_id, item_ref, school_id, score, max_score,"
     "   detail) SELECT i.a, x.ref, $2::bigint, x.score, x.max, x.detail FROM input i,"
     "   jsonb_to_recordset(i.rows) AS x(ref text, score integer, max integer, detail jsonb)"
     "  ON CONFLICT (attempt_id, item_ref) DO NOTHING)"
     " UPDATE attempts a SET score = i.total, max_score = i.max, needs_marking = i.manual,"
     "  scored_at = now() FROM input i WHERE a.id = i.a AND a.scored_at IS NULL"},
    {"expire_due",
     "SELECT e.attempt_id, e.school_id FROM"
     " (SELECT pg_try_advisory_xact_lock(" EXPIRY_LOCK_KEY ") AS leader) l,"
     " LATERAL (SELECT * FROM kt_expire_attempts(CASE WHEN l.leader THEN $1::integer ELSE 0 END)"
     "  UNION ALL SELECT * FROM kt_unscored_attempts(CASE WHEN l.leader THEN $1::integer ELSE 0"
     "  END)) e"},
};

void
kt_grading_register(void)
{
    pg_register_statements(grading_stmts, (int)(sizeof(grading_stmts) / sizeof(grading_stmts[0])));
}

/* ------------------------------------------------------------------------ */
/* One attempt                                                              */

/* ------------------------------------------------------------------------ */
/* Scoring rows, cached per worker                                          */

/* What scores one item of a form: immutable once built. */
struct scoring_row {
    char *ref, *kind, *scoring, *qti_xml, *stated_max; /* NULL when SQL NULL */
    int64_t points;                                    /* hundredths */
    int version;                                       /* scoring_version */
};

/* A form's scoring rows at one generation of its test. Shared by the cache
 * and the jobs scoring with it; refs is only touched on the worker's loop,
 * the CPU pool only reads the rows. */
struct scoring_set {
    int refs;
    int64_t form_id, gen;
    int n;
    struct scoring_row *rows;
};

#define SCORING_CACHE 64
static __thread struct scoring_set *scoring_cache[SCORING_CACHE];

static char *
dup_or_null(const char *v)
{
    char *c = v ? strdup(v) : NULL;
    if (v && !c)
        abort();
    return c;
}

static void
scoring_set_release(struct scoring_set *set)
{
    if (!set || --set->refs > 0)
        return;
    for (int i = 0; i < set->n; i++) {
        struct scoring_row *r = &set->rows[i];
        free(r->ref);
        free(r->kind);
        free(r->scoring);
        free(r->qti_xml);
        free(r->stated_max);
    }
    free(set->rows);
    free(set);
}

/* The set of form_id at generation gen, with a reference for the caller;
 * NULL when not cached. */
static struct scoring_set *
scoring_cached(int64_t form_id, int64_t gen)
{
    struct scoring_set *set = scoring_cache[(uint64_t)form_id % SCORING_CACHE];
    if (!set || set->form_id != form_id || set->gen != gen)
        return NULL;
    set->refs++;
    return set;
}

/* Builds a set from grade_form_rows and caches it (replacing the slot's
 * older set); the caller gets a reference. */
static struct scoring_set *
scoring_set_put(int64_t form_id, const pg_query *q)
{
    struct scoring_set *set = calloc(1, sizeof(*set));
    int n = pg_ntuples(q, 0);
    if (!set || !(set->rows = calloc(n ? (size_t)n : 1, sizeof(*set->rows))))
        abort();
    set->form_id = form_id;
    set->n = n;
    set->gen = n ? strtoll(pg_value(q, 0, 0, 7), NULL, 10) : -1;
    for (int r = 0; r < n; r++) {
        struct scoring_row *x = &set->rows[r];
        x->ref = dup_or_null(pg_value(q, 0, r, 0));
        x->kind = dup_or_null(pg_value(q, 0, r, 1));
        x->scoring = dup_or_null(pg_value(q, 0, r, 2));
        x->points = strtoll(pg_value(q, 0, r, 3), NULL, 10);
        x->version = atoi(pg_value(q, 0, r, 4));
        x->qti_xml = dup_or_null(pg_value(q, 0, r, 5));
        x->stated_max = dup_or_null(pg_value(q, 0, r, 6));
    }
    set->refs = 1; /* the caller's */
    if (n) {
        struct scoring_set **slot = &scoring_cache[(uint64_t)form_id % SCORING_CACHE];
        scoring_set_release(*slot);
        *slot = set;
        set->refs++;
    }
    return set;
}

void
kt_grading_thread_end(void)
{
    for (int i = 0; i < SCORING_CACHE; i++) {
        scoring_set_release(scoring_cache[i]);
        scoring_cache[i] = NULL;
    }
}

struct grade_job {
    struct kt_group_item gi; /* first: stores are group-committed */
    struct kt_worker *w;
    int64_t attempt_id, school_id;
    void (*cb)(void *arg, int ok);
    void *arg;
    /* Scoring on the CPU pool: the form's rows and the answers in, the rows
     * to store out. */
    struct scoring_set *set;
    pg_query *answers;
    int64_t form_id, gen;
    json_t *rows;
    int64_t total, max;
    int manual;
};

static void
grade_finish(struct grade_job *g, int ok)
{
    if (g->cb)
        g->cb(g->arg, ok);
    free(g);
}

#define GRADER_ROLE "grader"

static struct kt_tenant
grader_tenant(int64_t school_id)
{
    return (struct kt_tenant){.school_id = school_id, .role = GRADER_ROLE};
}

static pg_query *
store_build(int64_t school_id, struct kt_group_item **items, int n)
{
    json_t *in = json_array();
    for (int i = 0; i < n; i++) {
        const struct grade_job *g = (const struct grade_job *)items[i];
        json_array_append_new(in, json_pack("{s:I,s:I,s:I,s:b,s:O}", "a",
                                            (json_int_t)g->attempt_id, "total",
                                            (json_int_t)g->total, "max", (json_int_t)g->max,
                                            "manual", g->manual, "rows", g->rows));
    }
    static const char *const stmts[] = {"grade_store"};
    return kt_group_query(school_id, GRADER_ROLE, in, stmts, 1);
}

static void
store_done(pg_query *q, struct kt_group_item **items, int n)
{
    for (int i = 0; i < n; i++) {
        struct grade_job *g = (struct grade_job *)items[i];
        if (q->status != PG_OK)
            log_error("attempt %lld: storing scores failed: %s", (long long)g->attempt_id,
                      q->error ? q->error : "?");
        json_decref(g->rows);
        g->rows = NULL;
        grade_finish(g, q->status == PG_OK);
    }
}

static const struct kt_group_kind store_kind = {
    .batch_max = 100,
    .inflight_max = 2,
    .build = store_build,
    .done = store_done,
};

/* A number from an outcome's QTI string form; def when NULL or not a number. */
static double
outcome_number(const json_t *v, double def)
{
    const char *s = json_string_value(v);
    char *end;
    double x = s ? strtod(s, &end) : def;
    return s && (end == s || *end) ? def : x;
}

/* The maximum SCORE is taken from: the item's own MAXSCORE or
 * normalMaximum, else the teacher's statement, else what its rules give;
 * none of them means no score (never a silent 1). Sets *source. */
static double
qti_max(const json_t *mx, const char *stated, const char **source)
{
    const char *src = json_string_value(json_object_get(mx, "source"));
    double m = outcome_number(json_object_get(mx, "value"), -1);
    *source = src;
    if (src && strcmp(src, "derived") != 0)
        return m;
    if (stated) {
        *source = "stated";
        return strtod(stated, NULL);
    }
    return m;
}

static json_t *
grade_qti(const char *qti_xml, const json_t *response, int64_t points, const char *stated_max,
          int64_t *score)
{
    char err[300] = "";
    json_t *empty = json_object();
    const json_t *responses = json_is_object(response) ? response : empty;
    json_t *res = kt_item_score("QTI", NULL, qti_xml, responses, 0, err, sizeof(err));
    int answered = json_object_size(responses) > 0;
    json_decref(empty);
    if (!res) { /* never a silent 0: the answer waits for a teacher's mark */
        *score = -1;
        return json_pack("{s:s,s:b,s:b}", "error", err, "needs_marking", 1, "answered", answered);
    }
    json_t *outcomes = json_object_get(res, "outcomes");
    double sc = outcome_number(json_object_get(outcomes, "SCORE"), 0);
    const char *source;
    double max = qti_max(json_object_get(res, "max_score"), stated_max, &source);
    if (!(max > 0)) {
        *score = -1;
        char why[600];
        snprintf(why, sizeof(why),
                 "Không xác định được điểm tối đa của câu hỏi (%s) nên không quy ra điểm được; "
                 "hãy chấm tay, hoặc ghi điểm tối đa cho câu hỏi rồi chấm lại.",
                 json_string_value(json_object_get(json_object_get(res, "max_score"), "reason")));
        json_t *d = json_pack("{s:s,s:b,s:O,s:b}", "error", why, "needs_marking", 1, "outcomes",
                              outcomes, "answered", answered);
        json_decref(res);
        return d;
    }
    double share = sc / max;
    share = share < 0 ? 0 : share > 1 ? 1 : share;
    kt_decimal frac;
    if (kt_decimal_from_double(share, &frac) < 0)
        frac = kt_decimal_from_int(0);
    kt_decimal pts = kt_decimal_mul_ratio(frac, points, 100);
    *score = kt_decimal_round(pts, 2).units / (KT_DECIMAL_SCALE / 100);
    char fs[32];
    kt_decimal_format(frac, '.', fs, sizeof(fs));
    char ms[40];
    kt_decimal md;
    if (kt_decimal_from_double(max, &md) < 0)
        md = kt_decimal_from_int(0);
    kt_decimal_format(md, '.', ms, sizeof(ms));
    json_t *detail = json_pack("{s:s,s:O,s:b,s:s,s:s}", "fraction", fs, "outcomes", outcomes,
                               "answered", answered, "max_score", ms, "max_score_source", source);
    json_decref(res);
    return detail;
}

json_t *
kt_grade_item(const char *kind, const char *scoring_text, const char *qti_xml,
              const char *response_text, int64_t points, const char *stated_max, int64_t *score)
{
    if (kind && strcmp(kind, "QTI") == 0) {
        json_t *response = response_text ? json_loads(response_text, JSON_DECODE_ANY, NULL) : NULL;
        *score = 0;
        json_t *detail = grade_qti(qti_xml, response, points, stated_max, score);
        json_decref(response);
        return detail;
    }
    char err[200] = "";
    json_t *scoring = json_loads(scoring_text, 0, NULL);
    json_t *response = response_text ? json_loads(response_text, JSON_DECODE_ANY, NULL) : NULL;
    kt_vn_scoring sc;
    kt_vn_result res;
    kt_decimal pts = {points * (KT_DECIMAL_SCALE / 100)};
    json_t *detail;
    *score = 0;
    if (kt_vn_scoring_from_json(kind, scoring, &sc, err, sizeof(err)) < 0 ||
        kt_vn_score(&sc, response, pts, &res, err, sizeof(err)) < 0) {
        *score = -1; /* not scorable: a teacher marks it, never a silent 0 */
        detail = json_pack("{s:s,s:b,s:b}", "error", err, "needs_marking", 1, "answered",
                           response && !json_is_null(response));
    } else if (res.status == KT_VN_MANUAL &&
               (!response || json_is_null(response) ||
                (json_is_string(response) && json_string_length(response) == 0))) {
        detail = json_pack("{s:b}", "answered", 0); /* nothing to mark: 0 */
    } else if (res.status == KT_VN_MANUAL) {
        *score = -1;
        detail = json_pack("{s:b,s:b}", "needs_marking", 1, "answered",
                           response && !json_is_null(response));
    } else {
        *score = res.points.units / (KT_DECIMAL_SCALE / 100);
        char frac[32];
        kt_decimal_format(res.fraction, '.', frac, sizeof(frac));
        detail = json_pack("{s:s,s:i,s:b}", "fraction", frac, "right", res.right, "answered",
                           response && !json_is_null(response));
    }
    json_decref(scoring);
    json_decref(response);
    return detail;
}

/* On the CPU pool: every item of the attempt scored (QTI items compile
 * their response processing, which is no work for an event loop). */
static void
grade_work(void *arg)
{
    struct grade_job *g = arg;
    const pg_query *a = g->answers;
    int nanswers = pg_ntuples(a, 1);
    g->rows = json_array();
    for (int r = 0; r < g->set->n; r++) {
        const struct scoring_row *x = &g->set->rows[r];
        const char *response = NULL; /* unanswered */
        for (int k = 0; k < nanswers && !response; k++)
            if (strcmp(pg_value(a, 1, k, 0), x->ref) == 0)
                response = pg_value(a, 1, k, 1);
        int64_t points = x->points, score;
        json_t *detail =
            kt_grade_item(x->kind, x->scoring, x->qti_xml, response, points, x->stated_max, &score);
        json_object_set_new(detail, "scoring_version", json_integer(x->version));
        g->max += points;
        if (score < 0)
            g->manual = 1;
        else
            g->total += score;
        json_t *row =
            json_pack("{s:s,s:I,s:o}", "ref", x->ref, "max", (json_int_t)points, "detail", detail);
        json_object_set_new(row, "score", score < 0 ? json_null() : json_integer(score));
        json_array_append_new(g->rows, row);
    }
}

/* Back on the loop: store what was scored. */
static void
grade_scored(void *arg)
{
    struct grade_job *g = arg;
    pg_query_free(g->answers);
    g->answers = NULL;
    scoring_set_release(g->set);
    g->set = NULL;
    kt_group_add(&store_kind, g->w, g->school_id, &g->gi);
}

/* Scores with the set (a form without items: nothing to store). */
static void
grade_with(struct grade_job *g, struct scoring_set *set)
{
    if (!set->n) {
        scoring_set_release(set);
        pg_query_free(g->answers);
        g->answers = NULL;
        grade_finish(g, 1);
        return;
    }
    g->set = set;
    kt_cpu_submit(g->w->base, grade_work, grade_scored, g);
}

static void
form_rows_loaded(pg_query *q, void *arg)
{
    struct grade_job *g = arg;
    if (q->status != PG_OK) {
        pg_query_free(q);
        pg_query_free(g->answers);
        g->answers = NULL;
        grade_finish(g, 0);
        return;
    }
    struct scoring_set *set = scoring_set_put(g->form_id, q);
    pg_query_free(q);
    grade_with(g, set);
}

static void
grade_loaded(pg_query *q, void *arg)
{
    struct grade_job *g = arg;
    if (q->status != PG_OK || pg_ntuples(q, 0) == 0) {
        /* Not submitted, already scored, or the database failed. */
        grade_finish(g, q->status == PG_OK);
        pg_query_free(q);
        return;
    }
    g->answers = q;
    g->form_id = strtoll(pg_value(q, 0, 0, 0), NULL, 10);
    g->gen = strtoll(pg_value(q, 0, 0, 1), NULL, 10);
    struct scoring_set *set = scoring_cached(g->form_id, g->gen);
    if (set) {
        grade_with(g, set);
        return;
    }
    /* Not cached, or its generation moved (a regrade, a stated maximum). */
    char f[24];
    snprintf(f, sizeof(f), "%lld", (long long)g->form_id);
    struct kt_tenant tn = grader_tenant(g->school_id);
    pg_query *rq = pg_query_new(&tn);
    const char *p[] = {f};
    pg_query_add(rq, "grade_form_rows", 1, p);
    pg_query_run(g->w->db, rq, form_rows_loaded, g);
}

void
kt_grade_attempt(struct kt_worker *w, int64_t attempt_id, int64_t school_id,
                 void (*cb)(void *arg, int ok), void *arg)
{
    struct grade_job *g = calloc(1, sizeof(*g));
    if (!g)
        abort();
    *g = (struct grade_job){.w = w, .attempt_id = attempt_id, .school_id = school_id, .cb = cb,
                            .arg = arg};
    char a[24];
    snprintf(a, sizeof(a), "%lld", (long long)attempt_id);
    struct kt_tenant tn = grader_tenant(school_id);
    pg_query *q = pg_query_new(&tn);
    const char *p[] = {a};
    pg_query_add(q, "grade_attempt", 1, p);
    pg_query_add(q, "grade_answers", 1, p);
    pg_query_run(w->db, q, grade_loaded, g);
}

/* ------------------------------------------------------------------------ */
/* The expiry job                                                           */

static struct event *expiry_ev;
static int expiry_busy; /* a run is in flight (only touched on its worker) */

static void
expiry_done(pg_query *q, void *arg)
{
    struct kt_worker *w = arg;
    expiry_busy = 0;
    if (q->status == PG_OK) {
        int n = pg_ntuples(q, 0);
        for (int r = 0; r < n; r++)
            kt_grade_attempt(w, strtoll(pg_value(q, 0, r, 0), NULL, 10),
                             strtoll(pg_value(q, 0, r, 1), NULL, 10), NULL, NULL);
        if (n)
            log_info("expiry: %d attempts submitted or rescored", n);
    }
    pg_query_free(q);
}

static void
expiry_tick(evutil_socket_t fd, short what, void *arg)
{
    struct kt_worker *w = arg;
    (void)fd;
    (void)what;
    if (expiry_busy)
        return;
    expiry_busy = 1;
    char lim[16];
    snprintf(lim, sizeof(lim), "%d", EXPIRY_BATCH);
    pg_query *q = pg_query_new(NULL);
    const char *p[] = {lim};
    pg_query_add(q, "expire_due", 1, p);
    pg_query_run(w->db, q, expiry_done, w);
}

void
kt_expiry_start(struct kt_worker *w)
{
    if (kt_cfg.expiry_interval <= 0)
        return;
    expiry_ev = event_new(w->base, -1, EV_PERSIST, expiry_tick, w);
    struct timeval tv = {kt_cfg.expiry_interval, 0};
    event_add(expiry_ev, &tv);
}

void
kt_expiry_stop(void)
{
    if (expiry_ev)
        event_free(expiry_ev);
    expiry_ev = NULL;
}
