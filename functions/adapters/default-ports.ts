/** The production wiring of the ports, built once per container from the environment. */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { EnrollmentPorts } from '../core/enrollment.ts';
import type { Clock, RandomSource } from '../core/ports.ts';
import type { RegistrationPorts } from '../core/registration.ts';
import { cognitoClient, documentClient, requiredEnv, sesClient, snsClient } from './aws-clients.ts';
import { SesMailer } from './ses-mailer.ts';
import { SnsSms } from './sns-sms.ts';
import { CognitoDirectory } from './cognito-directory.ts';
import { PortalTable } from './portal-table.ts';

export const systemClock: Clock = { now: () => new Date() };

export const cryptoRandom: RandomSource = {
  bytes: (count) => new Uint8Array(randomBytes(count)),
  digits: (length) => Array.from({ length }, () => randomInt(10)).join(''),
  uuid: () => randomUUID(),
};

let table: PortalTable | undefined;
export function portalTable(): PortalTable {
  table ??= new PortalTable(documentClient(), requiredEnv('TABLE_NAME'), systemClock);
  return table;
}

let directory: CognitoDirectory | undefined;
export function userDirectory(): CognitoDirectory {
  directory ??= new CognitoDirectory(cognitoClient(), requiredEnv('USER_POOL_ID'), requiredEnv('USER_POOL_CLIENT_ID'));
  return directory;
}

let mailer: SesMailer | undefined;
export function sesMailer(): SesMailer {
  mailer ??= new SesMailer(sesClient(), requiredEnv('SES_FROM_ADDRESS'));
  return mailer;
}

let sms: SnsSms | undefined;
export function snsSms(): SnsSms {
  sms ??= new SnsSms(snsClient());
  return sms;
}

export function registrationPorts(): RegistrationPorts {
  return {
    store: portalTable(),
    directory: userDirectory(),
    mailer: sesMailer(),
    sms: snsSms(),
    clock: systemClock,
    random: cryptoRandom,
  };
}

export function enrollmentPorts(): EnrollmentPorts {
  return { store: portalTable(), directory: userDirectory(), clock: systemClock, random: cryptoRandom };
}
