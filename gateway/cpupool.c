/*
 * A fixed set of threads pulling jobs from one mutex-protected FIFO. The
 * completion is handed back with event_base_once(), which is thread-safe
 * once libevent's pthread support is enabled (server.c does that first).
 */
#include "cpupool.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>

struct job {
    struct event_base *base;
    void (*work)(void *);
    void (*done)(void *);
    void *arg;
    STAILQ_ENTRY(job) link;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static STAILQ_HEAD(, job) jobs = STAILQ_HEAD_INITIALIZER(jobs);
static pthread_t *threads;
static int nthreads_running;
static int stopping;

static void
deliver(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;
    (void)fd;
    (void)what;
    j->done(j->arg);
    free(j);
}

static void *
run(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (STAILQ_EMPTY(&jobs) && !stopping)
            pthread_cond_wait(&cv, &mu);
        if (STAILQ_EMPTY(&jobs)) {
            pthread_mutex_unlock(&mu);
            return NULL;
        }
        struct job *j = STAILQ_FIRST(&jobs);
        STAILQ_REMOVE_HEAD(&jobs, link);
        pthread_mutex_unlock(&mu);
        j->work(j->arg);
        if (!j->done) { /* detached: nothing to hand back */
            free(j);
            continue;
        }
        struct timeval now = {0, 0};
        if (event_base_once(j->base, -1, EV_TIMEOUT, deliver, j, &now) < 0)
            free(j); /* the loop is gone: shutting down */
    }
}

int
kt_cpu_start(int n)
{
    threads = calloc((size_t)n, sizeof(*threads));
    if (!threads)
        return -1;
    stopping = 0;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&threads[i], NULL, run, NULL) != 0)
            return -1;
        nthreads_running++;
    }
    return 0;
}

void
kt_cpu_submit(struct event_base *base, void (*work)(void *), void (*done)(void *), void *arg)
{
    struct job *j = malloc(sizeof(*j));
    if (!j)
        abort();
    j->base = base;
    j->work = work;
    j->done = done;
    j->arg = arg;
    pthread_mutex_lock(&mu);
    STAILQ_INSERT_TAIL(&jobs, j, link);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void
kt_cpu_detach(void (*work)(void *), void *arg)
{
    pthread_mutex_lock(&mu);
    if (stopping || nthreads_running == 0) {
        pthread_mutex_unlock(&mu);
        work(arg);
        return;
    }
    struct job *j = malloc(sizeof(*j));
    if (!j)
        abort();
    *j = (struct job){.work = work, .arg = arg};
    STAILQ_INSERT_TAIL(&jobs, j, link);
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void
kt_cpu_stop(void)
{
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < nthreads_running; i++)
        pthread_join(threads[i], NULL);
    nthreads_running = 0;
    free(threads);
    threads = NULL;
}
