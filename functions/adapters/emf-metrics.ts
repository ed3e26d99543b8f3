/**
 * Counts in CloudWatch embedded metric format: one JSON line on stdout per count, which Lambda's
 * log delivery turns into a metric (namespace DevicePortal, dimension service). Hand-written rather
 * than Powertools Metrics: a count is one line, needs no flush at the end of the invocation, and
 * adds nothing to the cold start of the many requests that count nothing.
 */
import type { MetricName, Metrics } from '../core/ports.ts';

export const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'DevicePortal';

export const emfMetrics: Metrics = {
  count(name: MetricName, value = 1): void {
    if (process.env.PORTAL_METRICS === 'off') return;
    const service = process.env.POWERTOOLS_SERVICE_NAME ?? 'device-portal';
    process.stdout.write(
      `${JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: METRICS_NAMESPACE,
              Dimensions: [['service']],
              Metrics: [{ Name: name, Unit: 'Count' }],
            },
          ],
        },
        service,
        [name]: value,
      })}\n`,
    );
  },
};
