/*
 * Threads for CPU-heavy work (argon2id, imports) so that event loops never
 * stall. work() runs on a pool thread; done() runs afterwards on the event
 * base that submitted the job.
 */
#ifndef KT_CPUPOOL_H
#define KT_CPUPOOL_H

struct event_base;

int kt_cpu_start(int nthreads);
void kt_cpu_submit(struct event_base *base, void (*work)(void *), void (*done)(void *), void *arg);
/* Runs work on a pool thread with nothing handed back (releasing a large
 * object); inline when the pool is not running. */
void kt_cpu_detach(void (*work)(void *), void *arg);
void kt_cpu_stop(void);

#endif
