/** The production wiring of ownership, the secure-apps passcode and the derived credential. */
import type { DeviceOptionPorts } from '../core/device-options.ts';
import { emfMetrics } from './emf-metrics.ts';
import { portalTable } from './portal-table.ts';
import { hmacHasher } from './secret-hasher.ts';
import { cryptoRandom, systemClock } from './system.ts';

export function deviceOptionPorts(): DeviceOptionPorts {
  return {
    store: portalTable(),
    clock: systemClock,
    random: cryptoRandom,
    hasher: hmacHasher,
    metrics: emfMetrics,
  };
}
