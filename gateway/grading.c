/*
 * Scoring submitted attempts, behind the submit's reply, from a queue per
 * worker in batches (see "The scoring queue"): load the attempts' answers
 * and their forms' scoring rows (cached per worker, see "Scoring rows"), score each item with
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
#include <sys/queue.h>

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
    /* The scoring queue's load of a batch of attempts of one school (input
     * rows o, attempt a): each one's form and its test's scoring
     * generation, only while submitted and unscored; then their answers. */
    {"grade_load_batch",
     "SELECT i.o, a.form_id, coalesce(g.gen, 0)"
     " FROM jsonb_to_recordset($1::jsonb) AS i(o integer, a bigint)"
     " JOIN attempts a ON a.id = i.a AND a.school_id = $2::bigint"
     /* By key (attempts.c, attempt_submit_batch): not the whole queue. */
     "   AND a.id = ANY ((SELECT array_agg(a) FROM jsonb_to_recordset($1::jsonb) AS x(a bigint))"
     "     ::bigint[])"
     " JOIN test_forms f ON f.id = a.form_id"
     " LEFT JOIN test_scoring_gen g ON g.test_id = f.test_id"
     /* Not through the partial index of unscored attempts: a plan made
      * while the table was small would walk the whole queue (attempts.c,
      * attempt_submit_batch). */
     " WHERE CASE WHEN a.status = 'submitted' AND a.scored_at IS NULL THEN true END"},
    {"grade_answers_batch",
     "SELECT i.o, r.item_ref, r.response::text"
     " FROM jsonb_to_recordset($1::jsonb) AS i(o integer, a bigint)"
     " JOIN responses r ON r.attempt_id = i.a AND r.school_id = $2::bigint ORDER BY i.o"},
    /* Group commit: the scores of many attempts of one school. */
    {"grade_store",
     "WITH input AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS t(a bigint, total integer,"
     "   max integer, manual boolean, rows jsonb)),"
     " s AS (INSERT INTO attempt_scores (attempt_id, item_ref, school_id, score, max_score,"
     "   detail) SELECT i.a, x.ref, $2::bigint, x.score, x.max, x.detail FROM input i,"
     "   jsonb_to_recordset(i.rows) AS x(ref text, score integer, max integer, detail jsonb)"
     "  ON CONFLICT (attempt_id, item_ref) DO NOTHING)"
     " UPDATE attempts a SET score = i.total, max_score = i.max, needs_marking = i.manual,"
     "  scored_at = now() FROM input i WHERE a.id = i.a AND a.scored_at IS NULL"
     "  AND a.id = ANY ((SELECT array_agg(a) FROM input)::bigint[])"},
    {"expire_due",
     "SELECT e.attempt_id, e.school_id FROM"
     " (SELECT pg_try_advisory_xact_lock(" EXPIRY_LOCK_KEY ") AS leader) l,"
     " LATERAL (SELECT * FROM kt_expire_attempts(CASE WHEN l.leader THEN $1::integer ELSE 0 END)"
     "  UNION ALL SELECT * FROM kt_unscored_attempts(CASE WHEN l.leader THEN $1::integer ELSE 0"
     "  END)) e"},
};

/* Counters of the stores sent again one attempt at a time (/metrics). */
static struct kt_group_stats store_stats = {.name = "score_alone"};

void
kt_grading_register(void)
{
    pg_register_statements(grading_stmts, (int)(sizeof(grading_stmts) / sizeof(grading_stmts[0])));
    kt_group_register(&store_stats);
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
    /* An engine kind's scoring, parsed once when the set is built (its
     * text would otherwise be parsed for every attempt): parsed_ok, or the
     * reason in parse_err; sc may borrow from scoring_json. */
    json_t *scoring_json;
    kt_vn_scoring sc;
    int parsed_ok;
    char parse_err[200];
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
        json_decref(r->scoring_json);
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
        if (!x->kind || strcmp(x->kind, "QTI") != 0) {
            x->scoring_json = x->scoring ? json_loads(x->scoring, 0, NULL) : NULL;
            x->parsed_ok = kt_vn_scoring_from_json(x->kind, x->scoring_json, &x->sc,
                                                   x->parse_err, sizeof(x->parse_err)) == 0;
        }
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

/* One attempt to score. Jobs wait in their worker's queue, then are loaded,
 * scored and stored in batches (see "The scoring queue"). */
struct grade_job {
    struct kt_group_item gi; /* first: loads and stores are group-committed */
    TAILQ_ENTRY(grade_job) wait;
    struct kt_worker *w;
    int64_t attempt_id, school_id;
    void (*cb)(void *arg, int ok);
    void *arg;
    /* Scoring on the CPU pool: the form's rows and the answers in, the rows
     * to store out. */
    struct scoring_set *set;
    int nanswers;
    char **answer_refs, **answers; /* answers[k] NULL for a JSON null column */
    int64_t form_id, gen;
    json_t *rows;
    int64_t total, max;
    int manual;
};

TAILQ_HEAD(grade_queue, grade_job);

/* This worker's scoring queue: jobs waiting, and how many batches are
 * between their load and their store's commit (at most SCORING_INFLIGHT). */
#define SCORING_INFLIGHT 2
#define SCORING_BATCH 50
static __thread struct grade_queue grade_waiting; /* initialised on first use */
static __thread int grade_inflight, grade_pumping;

static void grade_pump(void);

static void
grade_answers_free(struct grade_job *g)
{
    for (int k = 0; k < g->nanswers; k++) {
        free(g->answer_refs[k]);
        free(g->answers[k]);
    }
    free(g->answer_refs);
    free(g->answers);
    g->answer_refs = g->answers = NULL;
    g->nanswers = 0;
}

static void
grade_finish(struct grade_job *g, int ok)
{
    if (g->cb)
        g->cb(g->arg, ok);
    grade_answers_free(g);
    json_decref(g->rows);
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
            log_error("attempt %lld: storing scores failed, the background job will retry: %s",
                      (long long)g->attempt_id, q->error ? q->error : "?");
        grade_finish(g, q->status == PG_OK);
    }
}

/* A batch the database refused is stored again one attempt at a time. */
static const struct kt_group_kind store_kind = {
    .stats = &store_stats,
    .batch_max = SCORING_BATCH,
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

/* An engine kind's answer with its parsed scoring (sc NULL: not scorable,
 * why in parse_err). */
static json_t *
grade_vn(const kt_vn_scoring *sc, const char *parse_err, const char *response_text,
         int64_t points, int64_t *score)
{
    char err[200] = "";
    json_t *response = response_text ? json_loads(response_text, JSON_DECODE_ANY, NULL) : NULL;
    kt_vn_result res;
    kt_decimal pts = {points * (KT_DECIMAL_SCALE / 100)};
    json_t *detail;
    *score = 0;
    if (!sc)
        snprintf(err, sizeof(err), "%s", parse_err);
    if (!sc || kt_vn_score(sc, response, pts, &res, err, sizeof(err)) < 0) {
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
    json_decref(response);
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
    json_t *scoring = scoring_text ? json_loads(scoring_text, 0, NULL) : NULL;
    kt_vn_scoring sc;
    int ok = kt_vn_scoring_from_json(kind, scoring, &sc, err, sizeof(err)) == 0;
    json_t *detail = grade_vn(ok ? &sc : NULL, err, response_text, points, score);
    json_decref(scoring);
    return detail;
}

/* On the CPU pool: every item of the attempt scored (QTI items compile
 * their response processing, which is no work for an event loop). */
static void
grade_work(struct grade_job *g)
{
    g->rows = json_array();
    for (int r = 0; r < g->set->n; r++) {
        const struct scoring_row *x = &g->set->rows[r];
        const char *response = NULL; /* unanswered */
        for (int k = 0; k < g->nanswers && !response; k++)
            if (strcmp(g->answer_refs[k], x->ref) == 0)
                response = g->answers[k];
        int64_t points = x->points, score;
        json_t *detail =
            x->kind && strcmp(x->kind, "QTI") == 0
                ? kt_grade_item(x->kind, x->scoring, x->qti_xml, response, points, x->stated_max,
                                &score)
                : grade_vn(x->parsed_ok ? &x->sc : NULL, x->parse_err, response, points, &score);
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

/* ------------------------------------------------------------------------ */
/* The scoring queue                                                        */

/* A submit is acknowledged at the commit that closes its attempt; its
 * scoring waits in the worker's queue. At most SCORING_INFLIGHT batches per
 * worker are past the queue, each of up to SCORING_BATCH attempts of one
 * school (so a batch forms while the others run): one load (forms, generations and answers), the scoring of the
 * whole batch as one job on the CPU pool, one store. So a storm of submits
 * is scored at the pace the machine allows, behind the replies, instead of
 * competing with saves. An attempt whose scoring fails, or whose gateway
 * stops first, stays submitted and unscored: the expiry job scores it a
 * minute later (kt_unscored_attempts). */
struct grade_batch {
    struct kt_worker *w;
    int64_t school_id;
    int n, forms_pending;
    struct grade_job *jobs[SCORING_BATCH];
    struct scoring_set *loaded[SCORING_BATCH]; /* the sets read for this batch */
    int nloaded;
};

static struct scoring_set *
batch_set_of(struct grade_batch *b, const struct grade_job *g)
{
    struct scoring_set *set = scoring_cached(g->form_id, g->gen);
    for (int i = 0; !set && i < b->nloaded; i++)
        if (b->loaded[i]->form_id == g->form_id) {
            set = b->loaded[i];
            set->refs++;
        }
    return set;
}

static void
batch_work(void *arg)
{
    struct grade_batch *b = arg;
    for (int i = 0; i < b->n; i++)
        if (b->jobs[i]->set && b->jobs[i]->set->n)
            grade_work(b->jobs[i]);
}

static void
batch_free(struct grade_batch *b)
{
    for (int i = 0; i < b->nloaded; i++)
        scoring_set_release(b->loaded[i]);
    free(b);
    grade_inflight--;
    grade_pump();
}

static void
batch_stored(pg_query *q, void *arg)
{
    struct grade_batch *b = arg;
    if (q->status == PG_ERROR && b->n > 1) {
        for (int i = 0; i < b->n; i++)
            kt_group_add(&store_kind, b->w, b->school_id, &b->jobs[i]->gi);
    } else {
        store_done(q, (struct kt_group_item **)b->jobs, b->n);
    }
    pg_query_free(q);
    batch_free(b);
}

/* Back on the loop: store what was scored (a form without items: nothing). */
static void
batch_scored(void *arg)
{
    struct grade_batch *b = arg;
    int m = 0;
    for (int i = 0; i < b->n; i++) {
        struct grade_job *g = b->jobs[i];
        int empty = !g->set->n;
        scoring_set_release(g->set);
        g->set = NULL;
        grade_answers_free(g);
        if (empty)
            grade_finish(g, 1);
        else
            b->jobs[m++] = g;
    }
    b->n = m;
    if (!m) {
        batch_free(b);
        return;
    }
    pg_query *q = store_build(b->school_id, (struct kt_group_item **)b->jobs, m);
    pg_query_background(q);
    pg_query_run(b->w->db, q, batch_stored, b);
}

static void
batch_score(struct grade_batch *b)
{
    int m = 0;
    for (int i = 0; i < b->n; i++) {
        struct grade_job *g = b->jobs[i];
        g->set = batch_set_of(b, g);
        if (g->set)
            b->jobs[m++] = g;
        else /* its form's rows could not be read: the job retries it */
            grade_finish(g, 0);
    }
    b->n = m;
    if (!m) {
        batch_free(b);
        return;
    }
    kt_cpu_submit(b->w->base, batch_work, batch_scored, b);
}

struct form_load {
    struct grade_batch *b;
    int64_t form_id;
};

static void
batch_form_loaded(pg_query *q, void *arg)
{
    struct form_load *fl = arg;
    struct grade_batch *b = fl->b;
    if (q->status == PG_OK)
        b->loaded[b->nloaded++] = scoring_set_put(fl->form_id, q);
    else
        log_error("form %lld: reading its scoring rows failed: %s", (long long)fl->form_id,
                  q->error ? q->error : "?");
    free(fl);
    pg_query_free(q);
    if (--b->forms_pending == 0)
        batch_score(b);
}

static pg_query *
load_build(int64_t school_id, struct kt_group_item **items, int n)
{
    json_t *rows = json_array();
    for (int i = 0; i < n; i++) {
        const struct grade_job *g = (const struct grade_job *)items[i];
        json_array_append_new(rows, json_pack("{s:i,s:I}", "o", i, "a", (json_int_t)g->attempt_id));
    }
    static const char *const stmts[] = {"grade_load_batch", "grade_answers_batch"};
    return kt_group_query(school_id, GRADER_ROLE, rows, stmts, 2);
}

static char *
dup_value(const pg_query *q, int st, int r, int c)
{
    return dup_or_null(pg_value(q, st, r, c));
}

static void
batch_loaded(pg_query *q, void *arg)
{
    struct grade_batch *b = arg;
    int n = b->n;
    struct grade_job *jobs[SCORING_BATCH];
    for (int i = 0; i < n; i++)
        jobs[i] = b->jobs[i];
    b->n = 0;
    if (q->status != PG_OK) {
        for (int i = 0; i < n; i++) {
            log_error("attempt %lld: loading it for scoring failed, the background job will"
                      " retry: %s", (long long)jobs[i]->attempt_id, q->error ? q->error : "?");
            grade_finish(jobs[i], 0);
        }
        pg_query_free(q);
        batch_free(b);
        return;
    }
    char found[SCORING_BATCH] = {0};
    for (int r = 0; r < pg_ntuples(q, 0); r++) {
        int o = atoi(pg_value(q, 0, r, 0));
        if (o < 0 || o >= n)
            continue;
        found[o] = 1;
        jobs[o]->form_id = strtoll(pg_value(q, 0, r, 1), NULL, 10);
        jobs[o]->gen = strtoll(pg_value(q, 0, r, 2), NULL, 10);
    }
    /* Answers, ordered by o: each job gets its own copy. */
    int na = pg_ntuples(q, 1);
    for (int r = 0; r < na;) {
        int o = atoi(pg_value(q, 1, r, 0)), e = r + 1;
        while (e < na && atoi(pg_value(q, 1, e, 0)) == o)
            e++;
        if (o >= 0 && o < n && found[o]) {
            struct grade_job *g = jobs[o];
            g->nanswers = e - r;
            g->answer_refs = calloc((size_t)(e - r), sizeof(char *));
            g->answers = calloc((size_t)(e - r), sizeof(char *));
            if (!g->answer_refs || !g->answers)
                abort();
            for (int k = r; k < e; k++) {
                g->answer_refs[k - r] = dup_value(q, 1, k, 1);
                g->answers[k - r] = dup_value(q, 1, k, 2);
            }
        }
        r = e;
    }
    pg_query_free(q);
    /* Not submitted, or already scored (by another gateway, a second
     * submit's job, the expiry job): nothing to do. */
    for (int i = 0; i < n; i++) {
        if (found[i])
            b->jobs[b->n++] = jobs[i];
        else
            grade_finish(jobs[i], 1);
    }
    /* The forms whose rows are not cached at their generation, read once. */
    int64_t missing[SCORING_BATCH];
    int nmissing = 0;
    for (int i = 0; i < b->n; i++) {
        struct grade_job *g = b->jobs[i];
        struct scoring_set *set = scoring_cached(g->form_id, g->gen);
        if (set) {
            scoring_set_release(set);
            continue;
        }
        int seen = 0;
        for (int k = 0; k < nmissing && !seen; k++)
            seen = missing[k] == g->form_id;
        if (!seen)
            missing[nmissing++] = g->form_id;
    }
    if (!b->n) {
        batch_free(b);
        return;
    }
    if (!nmissing) {
        batch_score(b);
        return;
    }
    b->forms_pending = nmissing;
    struct kt_tenant tn = grader_tenant(b->school_id);
    for (int k = 0; k < nmissing; k++) {
        char f[24];
        snprintf(f, sizeof(f), "%lld", (long long)missing[k]);
        pg_query *rq = pg_query_new(&tn);
        const char *p[] = {f};
        pg_query_add(rq, "grade_form_rows", 1, p);
        pg_query_background(rq);
        struct form_load *fl = malloc(sizeof(*fl));
        if (!fl)
            abort();
        *fl = (struct form_load){b, missing[k]};
        pg_query_run(b->w->db, rq, batch_form_loaded, fl);
    }
}

/* Starts batches while fewer than SCORING_INFLIGHT are in flight: the
 * oldest waiting job and the next waiting jobs of its school. */
static void
grade_pump(void)
{
    if (!grade_waiting.tqh_last)
        TAILQ_INIT(&grade_waiting);
    if (grade_pumping)
        return;
    grade_pumping = 1;
    struct grade_job *first;
    while (grade_inflight < SCORING_INFLIGHT && (first = TAILQ_FIRST(&grade_waiting))) {
        struct grade_batch *b = calloc(1, sizeof(*b));
        if (!b)
            abort();
        b->w = first->w;
        b->school_id = first->school_id;
        for (struct grade_job *g = first, *next; g && b->n < SCORING_BATCH; g = next) {
            next = TAILQ_NEXT(g, wait);
            if (g->school_id != b->school_id)
                continue;
            TAILQ_REMOVE(&grade_waiting, g, wait);
            b->jobs[b->n++] = g;
        }
        grade_inflight++;
        pg_query *q = load_build(b->school_id, (struct kt_group_item **)b->jobs, b->n);
        pg_query_background(q);
        pg_query_run(b->w->db, q, batch_loaded, b);
    }
    grade_pumping = 0;
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
    if (!grade_waiting.tqh_last)
        TAILQ_INIT(&grade_waiting);
    TAILQ_INSERT_TAIL(&grade_waiting, g, wait);
    grade_pump();
}

void
kt_grading_thread_end(void)
{
    /* The loop has stopped: jobs still waiting stay unscored in the
     * database, for the expiry job. */
    struct grade_job *g;
    while (grade_waiting.tqh_last && (g = TAILQ_FIRST(&grade_waiting))) {
        TAILQ_REMOVE(&grade_waiting, g, wait);
        free(g);
    }
    for (int i = 0; i < SCORING_CACHE; i++) {
        scoring_set_release(scoring_cache[i]);
        scoring_cache[i] = NULL;
    }
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
    pg_query_background(q);
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
