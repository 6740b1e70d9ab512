/*
 * Prometheus metrics: request counts by route and status, latency
 * histograms by route, database pool gauges and error counters. Each worker
 * writes only its own slots (relaxed atomics); /metrics sums them.
 */
#ifndef KT_METRICS_H
#define KT_METRICS_H

#include <stddef.h>
#include <stdint.h>

int kt_metrics_init(int nworkers, int nroutes, const char *const *route_names);
void kt_metrics_observe(int worker, int route, int status, uint64_t duration_ns);
/* Appends the exposition text to a malloc'd string; *len receives its length. */
char *kt_metrics_render(size_t *len);

#endif
