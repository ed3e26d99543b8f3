/** The production wiring of the enrollment use-cases: the table and the directory, no mail or SMS. */
import type { EnrollmentPorts } from '../core/enrollment.ts';
import { userDirectory } from './cognito-directory.ts';
import { portalTable } from './portal-table.ts';
import { cryptoRandom, systemClock } from './system.ts';

export function enrollmentPorts(): EnrollmentPorts {
  return { store: portalTable(), directory: userDirectory(), clock: systemClock, random: cryptoRandom };
}
