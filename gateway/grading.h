/*
 * Scoring a submitted attempt with the engine (engine/vnscore.c, QTI items
 * through itembank/score.c) and storing the result, and the background job
 * that submits attempts whose deadline has passed. Both run on a worker's event loop through its pool.
 */
#ifndef KT_GRADING_H
#define KT_GRADING_H

#include <stdint.h>

#include <jansson.h>

struct kt_worker;

/* Queues attempt_id (submitted, not yet scored) of school_id for scoring
 * on w's scoring queue (batched loads and stores, a bounded number of
 * batches in flight per worker) and stores per-item and total scores;
 * cb(arg, ok) runs afterwards on w's loop (ok = 0 when the database failed;
 * scoring is then retried by the expiry job a minute after the submit).
 * cb may be NULL. Scoring twice is harmless: the first result stands. */
void kt_grade_attempt(struct kt_worker *w, int64_t attempt_id, int64_t school_id,
                      void (*cb)(void *arg, int ok), void *arg);

/* Starts the expiry job on w (call once, on one worker per process; several
 * processes are safe: one of them leads through an advisory lock). */
void kt_expiry_start(struct kt_worker *w);
void kt_expiry_stop(void);

/* Scores one answer (response_text: the stored JSON, NULL when unanswered)
 * of an item worth points hundredths by its kind and scoring; returns the
 * detail object stored with the score and sets *score (hundredths, -1
 * while it needs marking). A "QTI" item is scored by its own response
 * processing (qti_xml) from {RESPONSE_ID: value}: SCORE over its maximum
 * (the item's MAXSCORE or normalMaximum, else stated_max, the teacher's
 * statement or NULL, else derived from its rules: itembank/maxscore.h),
 * NULL as 0, clamped to [0, 1], times points, rounded half up; the outcomes
 * go into the detail. With no maximum at all the answer is not scored
 * (-1, detail.error says why). An item that cannot be scored
 * (its processing stops, its scoring is unreadable) gives -1 with the
 * reason as detail.error: it waits for a teacher, never counts as 0.
 * Pure and deterministic. */
json_t *kt_grade_item(const char *kind, const char *scoring_text, const char *qti_xml,
                      const char *response_text, int64_t points, const char *stated_max,
                      int64_t *score);

void kt_grading_register(void);
/* Frees the calling worker's cache of scoring rows (at its end). */
void kt_grading_thread_end(void);

#endif
