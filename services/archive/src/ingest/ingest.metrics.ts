/** Prometheus metrics of the archive's ingest (the bus's own counters cover delivery and retries). */
import { Counter } from 'prom-client';
import { registry } from '@parley/observability';

export const ingestMetrics = {
  seqReused: new Counter({
    name: 'parley_archive_seq_reused_total',
    help:
      'Events archived under a (conference, seq) a different event already had: conference-core ' +
      'reused a seq (e.g. after a PostgreSQL failover lost a commit); kept, not dropped',
    registers: [registry],
  }),
};
