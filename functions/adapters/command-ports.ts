/** The production wiring of the device-action use-cases. */
import type { RequestOrigin } from '../core/audit.ts';
import type { CommandPorts } from '../core/commands.ts';
import { sendNotice } from '../core/notices.ts';
import { emfMetrics } from './emf-metrics.ts';
import { portalTable } from './portal-table.ts';
import { sesMailer } from './ses-mailer.ts';
import { snsWakeUps } from './sns-push.ts';
import { cryptoRandom, systemClock } from './system.ts';

export function commandPorts(origin: RequestOrigin): CommandPorts {
  const store = portalTable();
  return {
    store,
    clock: systemClock,
    random: cryptoRandom,
    metrics: emfMetrics,
    wakeUp: (device) => snsWakeUps().wakeUp(device),
    notify: (notice) =>
      sendNotice({ store, mailer: sesMailer(), clock: systemClock, random: cryptoRandom }, notice, origin),
  };
}
