/** The production wiring of the ports, built once per container from the environment. */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Clock, RandomSource } from '../core/ports.ts';
import { cognitoClient, documentClient, requiredEnv } from './aws-clients.ts';
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
  directory ??= new CognitoDirectory(cognitoClient(), requiredEnv('USER_POOL_ID'));
  return directory;
}
