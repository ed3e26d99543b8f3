/**
 * Starts the whole local portal once for the browser tests, as `npm start` does, on port 3700
 * (emulators on 3701–3703) with a fresh data directory, and stops every process it started when
 * the run ends. It serves web/dist: build the web first (`npm run build:web`; `npm test` does).
 */
import type { TestProject } from 'vitest/node';
import { startTestPortal } from '../integration/start-portal.ts';

/** Another checkout can run its own suite beside this one with E2E_PORT. */
const PORT = Number(process.env.E2E_PORT ?? 3700);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { portal, teardown } = await startTestPortal(PORT, 'e2e');
  project.provide('baseUrl', portal.url);
  project.provide('outboxJsonUrl', `${portal.url}/_local/outbox.json`);
  // What the integration helpers read, so browser tests can make their own users and settings.
  project.provide('portalUrl', portal.url);
  project.provide('userPoolId', portal.userPoolId);
  project.provide('userPoolClientId', portal.userPoolClientId);
  project.provide('cognitoEndpoint', portal.emulators.endpoints.cognito);
  project.provide('dynamodbEndpoint', portal.emulators.endpoints.dynamodb);
  project.provide('tableName', portal.tableName);
  return teardown;
}
