/** The production wiring of the ports for the use-cases that need several adapters. */
import type { RegistrationPorts } from '../core/registration.ts';
import { userDirectory } from './cognito-directory.ts';
import { emfMetrics } from './emf-metrics.ts';
import { portalTable } from './portal-table.ts';
import { hmacHasher } from './secret-hasher.ts';
import { sesMailer } from './ses-mailer.ts';
import { snsSms } from './sns-sms.ts';
import { cryptoRandom, systemClock } from './system.ts';

export function registrationPorts(): RegistrationPorts {
  return {
    store: portalTable(),
    directory: userDirectory(),
    mailer: sesMailer(),
    sms: snsSms(),
    clock: systemClock,
    random: cryptoRandom,
    hasher: hmacHasher,
    metrics: emfMetrics,
    log: (message, fields) => {
      void import('../http/logger.ts').then(({ logger }) => logger.warn(message, fields));
    },
  };
}
