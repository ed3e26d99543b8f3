/**
 * Starts the whole local portal once for the integration tests: DynamoDB Local, cognito-local, the
 * SES emulator and the server, on port 3600 (emulators on 3601–3603) with a fresh data directory,
 * and stops every process it started when the run ends. It serves web/dist, so build the web first
 * (`npm run build:web`; `npm test` does); the server says so plainly when it is missing.
 */
import type { TestProject } from 'vitest/node';
import { startTestPortal } from './start-portal.ts';

/** Another checkout can run its own suite beside this one with INTEGRATION_PORT. */
const PORT = Number(process.env.INTEGRATION_PORT ?? 3600);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { portal, teardown } = await startTestPortal(PORT, 'integration');
  project.provide('portalUrl', portal.url);
  project.provide('userPoolId', portal.userPoolId);
  project.provide('userPoolClientId', portal.userPoolClientId);
  project.provide('cognitoEndpoint', portal.emulators.endpoints.cognito);
  project.provide('dynamodbEndpoint', portal.emulators.endpoints.dynamodb);
  project.provide('tableName', portal.tableName);
  return teardown;
}
