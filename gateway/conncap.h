/*
 * Caps on client connections shared by all workers of the process: a total
 * kept below the descriptor limit, and a number per client address so that
 * one machine cannot hold every connection. Above a high-water mark of the
 * total the workers shorten the idle keep-alive timeout.
 */
#ifndef KT_CONNCAP_H
#define KT_CONNCAP_H

enum conncap_verdict { CONNCAP_OK, CONNCAP_FULL, CONNCAP_ADDRESS_FULL };

/* max_total 0: no total cap; max_per_address 0: no cap per address. */
void kt_conncap_configure(int max_total, int max_per_address);
/* Counts a new connection from address, or says why it must be refused. */
enum conncap_verdict kt_conncap_take(const char *address);
/* Forgets a connection counted by kt_conncap_take. */
void kt_conncap_give(const char *address);
/* 1 while the total is above 80 % of its cap. */
int kt_conncap_busy(void);
/* Descriptors this process may hold for clients: the file limit (raised
 * to its hard value) minus reserve, or 0 when unknown. */
int kt_conncap_from_rlimit(int reserve);

#endif
