/*
 * The CSDL sync sender (see outbox.c).
 */
#ifndef KT_OUTBOX_H
#define KT_OUTBOX_H

struct kt_worker;

/* Checks KIEMTRA_CSDL_URL (http://IP:PORT/path, or empty for no sync). */
int kt_outbox_configure(void);
/* Starts the periodic sender on w's loop (once per process). */
void kt_outbox_start(struct kt_worker *w);
/* Call after the loop stopped. */
void kt_outbox_stop(void);
void kt_outbox_register(void);

#endif
