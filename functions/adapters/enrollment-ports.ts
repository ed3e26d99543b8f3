/** The production wiring of the enrollment use-cases: the table and the directory, no mail or SMS. */
import type { DevicePorts, EnrollmentPorts } from '../core/enrollment.ts';
import { userDirectory } from './cognito-directory.ts';
import { emfMetrics } from './emf-metrics.ts';
import { portalTable } from './portal-table.ts';
import { hmacHasher } from './secret-hasher.ts';
import { cryptoRandom, sleepUntil, systemClock } from './system.ts';

export function enrollmentPorts(): EnrollmentPorts {
  return {
    store: portalTable(),
    directory: userDirectory(),
    clock: systemClock,
    random: cryptoRandom,
    hasher: hmacHasher,
    sleep: sleepUntil,
    metrics: emfMetrics,
  };
}

/** The agent's check-in and the iOS profile: the table only. */
export function devicePorts(): DevicePorts {
  return { store: portalTable(), clock: systemClock, random: cryptoRandom, metrics: emfMetrics };
}
