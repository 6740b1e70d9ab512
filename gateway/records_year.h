/*
 * Learner records, the year and the exchange (see records_year.c).
 */
#ifndef KT_RECORDS_YEAR_H
#define KT_RECORDS_YEAR_H

#include <stdint.h>

#include "http.h"

/* Called when the year step ends without answering the request: applied is
 * 1 when the year results and the outbox were stored, 0 when the class's
 * generation moved since the read (nothing was written; run it again). On
 * a database error the step answers the request itself and does not call. */
typedef void (*kt_year_done)(http_request *req, int applied);

/* The year step of a class and school year: reads the inputs with the
 * class's generation, computes the year results (engine/yearresult.c),
 * stores them and refreshes the class's exchange records in one
 * transaction while the generation is unchanged. */
void kt_records_year_refresh(http_request *req, int64_t class_id, const char *year,
                             kt_year_done done);

void kt_records_year_register(void);
void h_class_conduct_set(http_request *req);
void h_class_qualities_set(http_request *req);
void h_class_records_submit(http_request *req);
void h_class_year_results(http_request *req);
void h_class_exchange(http_request *req);

#endif
