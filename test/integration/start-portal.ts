/**
 * Starts the local portal for a test run (integration and e2e global setups): a fresh temporary
 * data directory, the four ports checked free first, and a teardown that stops every process it
 * started and removes the data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEMO_PASSWORD, type LocalPortal, startLocalPortal } from '../../infra/local/local-portal.ts';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

export interface TestPortal {
  portal: LocalPortal;
  teardown(): Promise<void>;
}

/** The portal on `port`, its emulators on port+1 … port+3 (infra/local/local-portal.ts). */
export async function startTestPortal(port: number, label: string): Promise<TestPortal> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  // One log line per request and EMF metric lines are for npm start and Lambda, not test output.
  process.env.PORTAL_REQUEST_LOG ??= 'off';
  process.env.PORTAL_METRICS ??= 'off';
  const ports = [port, port + 1, port + 2, port + 3];
  const busy: number[] = [];
  for (const p of ports) if (!(await portIsFree(p))) busy.push(p);
  if (busy.length > 0) {
    // Starting anyway would talk to someone else's emulators: say so instead.
    throw new Error(
      `The ${label} tests need ports ${port}-${port + 3}, but ${busy.join(', ')} ${busy.length > 1 ? 'are' : 'is'} in use: ` +
        `is another ${label} run (or a portal left over from one) still running?`,
    );
  }
  const dataDir = await mkdtemp(join(tmpdir(), `portal-${label}-`));
  let portal: LocalPortal;
  try {
    portal = await startLocalPortal({
      port,
      dataDir,
      demoPassword: DEFAULT_DEMO_PASSWORD,
      log: (line) => console.error(`[local portal] ${line}`),
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    portal,
    async teardown() {
      try {
        await portal.stop();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
