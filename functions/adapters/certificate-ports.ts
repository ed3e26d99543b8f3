/** The production wiring of the certificate use-cases (the parser is passed in by the upload handler). */
import type { CertificatePorts } from '../core/certificates.ts';
import { emfMetrics } from './emf-metrics.ts';
import { kmsKeyVault } from './kms-key-vault.ts';
import { portalTable } from './portal-table.ts';
import { snsWakeUps } from './sns-push.ts';
import { cryptoRandom, sleepUntil, systemClock } from './system.ts';

export function certificatePorts(parseFile: CertificatePorts['parseFile']): CertificatePorts {
  return {
    store: portalTable(),
    clock: systemClock,
    random: cryptoRandom,
    metrics: emfMetrics,
    vault: kmsKeyVault(),
    parseFile,
    wakeUp: (device) => snsWakeUps().wakeUp(device),
    sleep: sleepUntil,
  };
}

/** Deleting needs no vault and no parser (their modules stay out of that bundle). */
export function certificateDeletePorts(): Omit<CertificatePorts, 'vault' | 'parseFile'> {
  return {
    store: portalTable(),
    clock: systemClock,
    random: cryptoRandom,
    metrics: emfMetrics,
    wakeUp: (device) => snsWakeUps().wakeUp(device),
    sleep: sleepUntil,
  };
}
