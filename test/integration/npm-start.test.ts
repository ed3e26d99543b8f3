/**
 * `npm start` as a developer runs it: it comes up on embedded defaults, keeps its data across a
 * restart, and Ctrl-C (SIGINT) or SIGTERM leaves no emulator process behind.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/local/server.ts';

const PORT = 3800;

function start(dataDir: string): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(PORT), PORTAL_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${output}`)), 90_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, ready };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** Processes whose command line names this data directory: the emulators of that portal. */
function processesUsing(dataDir: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.stdout
    .split('\n')
    .filter((line) => line.includes(dataDir) || line.includes(`--port ${PORT + 3}`));
}

/** True when nothing listens on any of the portal's ports any more (server and three emulators). */
async function allPortsClosed(): Promise<boolean> {
  const open = await Promise.all(
    [0, 1, 2, 3].map((offset) =>
      fetch(`http://127.0.0.1:${PORT + offset}/`, { signal: AbortSignal.timeout(2000) }).then(
        () => true,
        () => false,
      ),
    ),
  );
  return open.every((isOpen) => !isOpen);
}

/**
 * The local addresses listening on a port, from the kernel's socket tables (Linux): loopback shows
 * as 0100007F (IPv4), 0000000000000000FFFF00000100007F (IPv4-mapped) or 00000000000000000000000001000000 (::1).
 */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [address, portHex] = (local ?? '').split(':');
      if (state === '0A' && portHex === hexPort && address) addresses.push(address);
    }
  }
  return addresses;
}

const LOOPBACK = new Set([
  '0100007F',
  '0000000000000000FFFF00000100007F',
  '00000000000000000000000001000000',
]);

describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('prints the URLs and sign-ins, keeps its data across a restart, and stops every process it started', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portal-start-'));
    dirs.push(dataDir);

    const first = start(dataDir);
    const banner = await first.ready;
    expect(banner).toContain(`http://127.0.0.1:${PORT}`);
    expect(banner).toContain('/_local/outbox');
    for (const email of ['alice@example.com', 'bob@example.com', 'admin@example.com'])
      expect(banner).toContain(email);
    const config1 = await (await fetch(`http://127.0.0.1:${PORT}/config.json`)).json();
    // The portal and its three emulators listen on loopback only.
    for (const port of [PORT, PORT + 1, PORT + 2, PORT + 3]) {
      const addresses = listeningAddresses(port);
      expect(addresses.length, `port ${port} listens`).toBeGreaterThan(0);
      expect(
        addresses.filter((a) => !LOOPBACK.has(a)),
        `port ${port} on loopback only`,
      ).toEqual([]);
    }
    expect(processesUsing(dataDir).length).toBeGreaterThan(0);
    expect(await stop(first.child, 'SIGINT')).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(await allPortsClosed()).toBe(true);

    const second = start(dataDir);
    await second.ready;
    const config2 = await (await fetch(`http://127.0.0.1:${PORT}/config.json`)).json();
    // The same user pool and client: cognito-local's data survived, and so did the table's.
    expect(config2).toEqual(config1);
    expect(await stop(second.child, 'SIGTERM')).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(await allPortsClosed()).toBe(true);
  }, 180_000);

  it('says that Java is missing, and how to install it, instead of a stack trace', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'portal-nojava-'));
    dirs.push(dataDir);
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'infra/local/start.ts'], {
      cwd: REPO_ROOT,
      // A PATH without java; node itself is started by absolute path.
      env: { ...process.env, PATH: '/nonexistent', PORT: String(PORT), PORTAL_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Java is not installed');
    expect(result.stderr).toContain('apt-get install -y openjdk-17-jre-headless');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);
});
