/*
 * The API layer between HTTP and the handlers: routing, bearer-token
 * authentication, role checks, JSON replies and errors in the contract's
 * shape ({"error":{"code","message","details"}}), and database helpers.
 */
#ifndef KT_API_H
#define KT_API_H

#include <jansson.h>
#include <stdint.h>

#include "http.h"
#include "pgpool.h"

enum kt_role {
    ROLE_ADMIN = 1,
    ROLE_SCHOOL_ADMIN = 2,
    ROLE_SUBJECT_HEAD = 4,
    ROLE_TEACHER = 8,
    ROLE_STUDENT = 16,
};
#define ROLES_STAFF (ROLE_ADMIN | ROLE_SCHOOL_ADMIN | ROLE_SUBJECT_HEAD | ROLE_TEACHER)
#define ROLES_ANY (ROLES_STAFF | ROLE_STUDENT)
#define ROLES_AUTHORS (ROLE_SCHOOL_ADMIN | ROLE_SUBJECT_HEAD | ROLE_TEACHER) /* school staff */
#define ROLES_PUBLIC 0

struct kt_user {
    int64_t id, school_id, province_id;
    enum kt_role role;
    char role_name[16];
    char username[80];
};

struct kt_route {
    enum http_method method;
    const char *pattern; /* "/api/v1/classes/{id}/students" */
    void (*fn)(http_request *req);
    unsigned roles;      /* allowed roles; ROLES_PUBLIC for no authentication */
};

int kt_api_init(void);
void kt_api_handle(http_request *req);
/* The head hook: chooses the body limit by route, authenticates before
 * reading a body over 64 KiB. */
void kt_api_head(http_request *req);
void kt_api_observe(http_request *req, size_t body_bytes);

/* Replies. api_json steals the reference to body. */
void api_json(http_request *req, int status, json_t *body);
void api_raw_json(http_request *req, int status, const char *json, size_t len);
void api_error(http_request *req, int status, const char *code, const char *message);
void api_error_details(http_request *req, int status, const char *code, const char *message,
                       json_t *details);
/* Maps a failed query to 503 / 409 / 400 / 500 with a clear message. */
void api_db_error(http_request *req, const pg_query *q);

/* 403 not_assigned for a write outside the caller's teaching assignments
 * (SQLSTATE KT403, migration 0021): the database's message naming subject
 * and class, completed with what was refused (doing: "mở phiên kiểm tra
 * cho lớp này"), or a general ending when doing is NULL. */
void api_not_assigned(http_request *req, const pg_query *q, const char *doing);
/* api_db_error, but KT403 is answered with api_not_assigned(doing). */
void api_db_error_doing(http_request *req, const pg_query *q, const char *doing);

/* Parses the body as a JSON object; on failure replies 400 and returns NULL. */
json_t *api_body_object(http_request *req);

/* The caller's row-level-security context. */
void api_tenant(const http_request *req, struct kt_tenant *t);
pg_query *api_query(const http_request *req);
/* Runs q on the request's worker pool; cb receives the request back. */
void api_run(http_request *req, pg_query *q, void (*cb)(http_request *req, pg_query *q));

/* Replies with the JSON text in row 0, column 0 of statement stmt (status),
 * 404 with not_found when there is no such row or it is NULL, or the
 * database error. */
void api_reply_row(http_request *req, const pg_query *q, int stmt, int status,
                   const char *not_found);
/* An id as a statement parameter. */
void api_id_text(char out[24], int64_t v);

/* Path parameter i as a positive id; 0 when it is not one. */
int64_t api_param_id(const http_request *req, int i);
/* A query parameter (malloc'd), NULL when absent or empty. */
char *api_query_text(const http_request *req, const char *name);
/* A decimal integer of at most 9 digits in [lo, hi], else -1. */
long api_bounded(const char *s, long lo, long hi);

/* Token helpers shared by auth.c and the router. */
void api_token_hash_hex(const char *token, char out[2 + 64 + 1]);
/* Forgets a token the router remembered (logout, after its session row is
 * deleted); a lookup that began before this call is not remembered. */
void api_token_forget(const char *hash);
/* Remembers a token just issued by a login (user: the login's "user"
 * object; expires_at: its "expires_at", ISO 8601 UTC), as a lookup right
 * after the login's commit would, so that the student's first request
 * asks no database. */
void api_token_remember_login(const http_request *req, const char *token, json_t *user,
                              const char *expires_at);
/* Forgets every remembered token (the revocation feed went down or came
 * back: what changed meanwhile is unknown). */
void api_tokens_forget_all(void);
/* Token checks answered from memory and from PostgreSQL, since start. */
void api_token_cache_counts(uint64_t *hits, uint64_t *misses);
/* Forgets every remembered token of the accounts ids[0..n) (sessions ended,
 * account disabled or its role changed), after that change committed; a
 * lookup that began before this call is not remembered. */
void api_users_forget(const int64_t *ids, size_t n);

/* Route handlers. */
void h_login(http_request *req);
void h_exam_login(http_request *req);
void h_session_login_codes(http_request *req);
void h_session_login_code_revoke(http_request *req);
void h_logout(http_request *req);
void h_user_unlock(http_request *req);
/* Accounts from the web (users.c). */
void h_users_list(http_request *req);
void h_user_create(http_request *req);
void h_user_patch(http_request *req);
void h_user_password_reset(http_request *req);
void h_class_slips(http_request *req);
void h_roster_import(http_request *req);
void kt_users_register(void);
void h_me(http_request *req);
void h_schools(http_request *req);
void h_classes(http_request *req);
void h_class_students(http_request *req);
int kt_auth_init(void);
void kt_school_register(void);
void h_assignments_list(http_request *req);
void h_assignment_create(http_request *req);
void h_assignment_delete(http_request *req);
void kt_assignments_register(void);
void h_taxonomy(http_request *req);
void kt_taxonomy_register(void);
void h_items_list(http_request *req);
void h_item_get(http_request *req);
void h_item_create(http_request *req);
void h_item_patch(http_request *req);
/* PATCH with {"max_score"}: item_maxscore.c (takes body). */
void kt_item_max_patch(http_request *req, json_t *body);
void kt_item_max_register(void);
void kt_items_register(void);
void h_items_import(http_request *req);
void h_item_asset(http_request *req);
void h_item_qti(http_request *req);
void h_item_score(http_request *req);
void h_attempt_asset(http_request *req);
void kt_item_import_register(void);
void h_item_history(http_request *req);
/* Images of the item editor (media.c). */
void h_media_upload(http_request *req);
void h_media_get(http_request *req);
void kt_media_register(void);
void h_test_create(http_request *req);
void h_test_get(http_request *req);
void h_test_publish(http_request *req);
void h_session_create(http_request *req);
void h_me_sessions(http_request *req);
void h_session_release(http_request *req);
void h_session_marking(http_request *req);
void h_session_marking_item(http_request *req);
void kt_tests_register(void);
/* Managing tests and sessions (tests_api.c, sessions.c). */
void h_tests_list(http_request *req);
void h_test_patch(http_request *req);
void h_test_delete(http_request *req);
void h_test_archive(http_request *req);
void h_test_unarchive(http_request *req);
void h_test_form(http_request *req);
/* docx_export.c: GET /api/v1/tests/{id}/forms/{code}.docx */
void kt_docx_export_register(void);
void h_test_form_docx(http_request *req);
void h_blueprint_availability(http_request *req);
void h_sessions_list(http_request *req);
void h_session_get(http_request *req);
void h_session_patch(http_request *req);
void h_session_cancel(http_request *req);
void kt_sessions_register(void);
void h_qti_test_publish(http_request *req);
void kt_qti_publish_register(void);
void h_attempt_start(http_request *req);
void h_attempt_get(http_request *req);
void h_attempt_save(http_request *req);
void h_attempt_submit(http_request *req);
void h_attempt_patch(http_request *req);
void h_attempt_reopen(http_request *req);
void h_attempt_force_submit(http_request *req);
void h_session_monitor(http_request *req);
void kt_attempts_register(void);
void h_attempt_mark(http_request *req);
void h_session_results(http_request *req);
/* Results with item statistics and their .xlsx (results.c). */
void h_test_results(http_request *req);
void h_session_results_xlsx(http_request *req);
void h_test_results_xlsx(http_request *req);
void kt_results_register(void);
void h_test_regrade(http_request *req);
void kt_marking_register(void);
void h_session_publish(http_request *req);
void h_class_records(http_request *req);
void h_class_record_edit(http_request *req);
void h_records_lock(http_request *req);
void h_records_unlock(http_request *req);
void h_export_records(http_request *req);
void h_outbox_status(http_request *req);
void h_national_id_set(http_request *req);
void h_national_id_get(http_request *req);
void kt_records_register(void);
/* Recomputes one class's records for the school year (as after an edit),
 * then answers 200 with reply (taken over); replaces req->ctx. */
void kt_records_recompute_class(http_request *req, const char *year, int64_t class_id,
                                json_t *reply);
void h_class_study_plan_get(http_request *req);
void h_class_study_plan_set(http_request *req);
void h_class_homeroom_set(http_request *req);
void kt_study_plans_register(void);
void kt_national_id_register(void);
/* Frees the calling worker thread's save queues, after its loop stopped. */
void kt_attempts_thread_end(void);

/* Replies with the stored file of row 0 (content type, bytea), sandboxed;
 * 404 with `missing` when there is no row (item_qti.c). */
void api_reply_stored_file(http_request *req, pg_query *q, const char *missing);

/* Keyset cursor of a list (tag: one letter per list); decode gives the last
 * id, or -1 when the cursor is malformed or of another list. */
void kt_cursor_encode(char tag, const char *id, char *out, size_t n);
long long kt_cursor_decode(char tag, const char *c);

#endif
