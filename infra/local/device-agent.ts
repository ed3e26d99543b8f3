/**
 * What the device simulator does as an agent that stays online: its wake-up server (the URL is the
 * push token the local SNS delivers to) and how it carries out each command, following the model in
 * device-actions.md (what each platform and management mode allows).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AgentCommand,
  AgentCommandResultRequest,
  LockScreen,
  ManagementMode,
  Platform,
} from '../../functions/core/api-types.ts';

/** A user's mistake: said in one line, never with a stack. */
export class SimulatorError extends Error {}

export const MODES: Record<Platform, readonly ManagementMode[]> = {
  IOS: ['SUPERVISED', 'DEVICE_ENROLLMENT', 'USER_ENROLLMENT'],
  ANDROID: ['FULLY_MANAGED', 'WORK_PROFILE_COMPANY', 'WORK_PROFILE_PERSONAL'],
};

export const DEFAULT_MODE: Record<Platform, ManagementMode> = { IOS: 'SUPERVISED', ANDROID: 'FULLY_MANAGED' };

/** The demo position LOCATE reports without --location: Dam Square, Amsterdam. */
export const DEMO_POSITION = { latitude: 52.3731, longitude: 4.8926 } as const;

/** The accuracy the simulated fix reports, in metres. */
export const DEMO_ACCURACY_METRES = 12;

/** --mode: one of the six modes, and one of the platform's when the platform is known. */
export function parseMode(value: string, platform?: Platform): ManagementMode {
  const mode = value.toUpperCase().replace(/-/g, '_') as ManagementMode;
  const all = [...MODES.IOS, ...MODES.ANDROID];
  if (!all.includes(mode)) {
    throw new SimulatorError(
      `--mode is one of ${MODES.IOS.join(', ')} (iOS) or ${MODES.ANDROID.join(', ')} (Android), not "${value}"`,
    );
  }
  if (platform && !MODES[platform].includes(mode)) {
    throw new SimulatorError(
      `--mode ${mode} is not a mode of ${platform === 'IOS' ? 'an iPhone' : 'an Android device'}: use one of ${MODES[platform].join(', ')}`,
    );
  }
  return mode;
}

/** --location LAT,LON in decimal degrees. */
export function parseLocation(value: string): { latitude: number; longitude: number } {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(value);
  const latitude = Number(match?.[1]);
  const longitude = Number(match?.[2]);
  if (!match || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    throw new SimulatorError(
      `--location is LAT,LON in degrees (latitude -90…90, longitude -180…180), e.g. 52.3731,4.8926; not "${value}"`,
    );
  }
  return { latitude, longitude };
}

/** --interval SECONDS: how often `run` checks in without a wake-up. */
export function parseInterval(value: string): number {
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(seconds >= 0.1 && seconds <= 86_400)) {
    throw new SimulatorError(`--interval is a number of seconds from 0.1 to 86400, not "${value}"`);
  }
  return seconds;
}

export interface WakeServer {
  /** The push token: http://127.0.0.1:<port>/wake/<random>. */
  url: string;
  close(): Promise<void>;
}

/**
 * A tiny HTTP server on loopback: a POST to its secret path is a wake-up (what APNs or FCM would
 * deliver); anything else is a 404.
 */
export async function startWakeServer(onWake: (message: string) => void): Promise<WakeServer> {
  const path = `/wake/${randomBytes(12).toString('base64url')}`;
  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url !== path) {
      request.resume();
      response.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= 4096) chunks.push(chunk);
    });
    request.on('end', () => {
      response.writeHead(204).end();
      onWake(Buffer.concat(chunks).toString('utf8').slice(0, 4096));
    });
  });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(0, '127.0.0.1', () => listening());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((closed) => {
        server.close(() => closed());
        server.closeAllConnections();
      }),
  };
}

export interface AgentContext {
  platform: Platform;
  /** Unknown for a device enrolled before modes were reported: then everything is tried. */
  mode: ManagementMode | undefined;
  lostMode: boolean;
  location: { latitude: number; longitude: number };
  /** --fail-next: this command reports FAILED with this error. */
  failWith: string | null;
}

export interface Outcome {
  result: AgentCommandResultRequest;
  /** What the device shows or does, for the console. */
  lines: string[];
  /** Wipe or retire done: the device is no longer managed; forget the credential. */
  unenrolled: boolean;
  lostMode: boolean;
}

/** Why this device cannot do it (device-actions.md), or null when it can. */
function unsupported(action: AgentCommand['action'], context: AgentContext): string | null {
  const { platform, mode } = context;
  if (!mode) return null;
  const ios = platform === 'IOS';
  const companyAndroid = mode === 'FULLY_MANAGED' || mode === 'WORK_PROFILE_COMPANY';
  switch (action) {
    case 'LOCK':
      return ios && mode === 'USER_ENROLLMENT' ? 'a user-enrolled iPhone cannot be locked' : null;
    case 'LOST_MODE_ON':
    case 'LOST_MODE_OFF':
      if (ios) return mode === 'SUPERVISED' ? null : 'lost mode needs a supervised iPhone';
      return companyAndroid ? null : 'lost mode needs a company-owned Android device';
    case 'UNLOCK':
      if (ios)
        return mode === 'SUPERVISED' || mode === 'DEVICE_ENROLLMENT' ? null : 'not on a user enrollment';
      return companyAndroid ? null : 'not on a personally owned work profile';
    case 'LOCATE':
      if (ios) {
        if (mode !== 'SUPERVISED') return 'locating needs a supervised iPhone';
        return context.lostMode ? null : 'an iPhone is located in lost mode only';
      }
      return companyAndroid ? null : 'not on a personally owned work profile';
    case 'WIPE':
      if (ios) return mode === 'USER_ENROLLMENT' ? 'a user-enrolled iPhone cannot be wiped' : null;
      return companyAndroid ? null : 'a personally owned work profile device cannot be wiped';
    case 'RETIRE':
      return null;
    default:
      return `the agent does not know the command ${String(action)}`;
  }
}

function screen(lockScreen: LockScreen | null): string[] {
  const lines = [];
  if (lockScreen?.message) lines.push(`  │ ${lockScreen.message}`);
  if (lockScreen?.phoneNumber) lines.push(`  │ Call ${lockScreen.phoneNumber}`);
  return lines.length ? ['  The lock screen shows:', ...lines] : ['  The lock screen shows no message.'];
}

function removedByRetire(mode: ManagementMode | undefined): string {
  if (mode === 'USER_ENROLLMENT') return 'the work volume with its managed apps, accounts and data';
  if (mode === 'WORK_PROFILE_COMPANY' || mode === 'WORK_PROFILE_PERSONAL')
    return 'the work profile with its apps and data';
  return 'the company’s apps, mail accounts, Wi-Fi and VPN settings, certificates and restrictions';
}

/** Carries out one command as the device would, and says what it reports. */
export function carryOut(command: AgentCommand, context: AgentContext): Outcome {
  const done = (lines: string[], extra: Partial<Outcome> = {}): Outcome => ({
    result: { status: 'DONE' },
    lines,
    unenrolled: false,
    lostMode: context.lostMode,
    ...extra,
  });
  const failed = (error: string, why: string): Outcome => ({
    result: { status: 'FAILED', error },
    lines: [`${command.action} failed: ${why} (error ${error}).`],
    unenrolled: false,
    lostMode: context.lostMode,
  });
  if (context.failWith) return failed(context.failWith, 'as asked with --fail-next');
  const refusal = unsupported(command.action, context);
  if (refusal) return failed('NOT_SUPPORTED', refusal);
  switch (command.action) {
    case 'LOCK':
      return done(['Locked: the device needs its passcode to open.', ...screen(command.lockScreen)]);
    case 'LOST_MODE_ON':
      return done(['Lost mode on: the device is locked.', ...screen(command.lockScreen)], { lostMode: true });
    case 'LOST_MODE_OFF':
      return done(['Lost mode off: the lock screen message and number are cleared.'], { lostMode: false });
    case 'UNLOCK':
      return done(['Passcode cleared: the device opens without one until a new one is set.']);
    case 'LOCATE': {
      const position = { ...context.location, accuracy: DEMO_ACCURACY_METRES, at: new Date().toISOString() };
      return {
        ...done([
          `Located at ${position.latitude}, ${position.longitude} (±${position.accuracy} m) at ${position.at}.`,
        ]),
        result: { status: 'DONE', position },
      };
    }
    case 'WIPE':
      return done(
        [
          'Wiped: all data, personal and company, apps, accounts and settings are erased;',
          '  the device restarts as new and is no longer managed.',
        ],
        { unenrolled: true },
      );
    case 'RETIRE':
      return done(
        [`Retired: removed ${removedByRetire(context.mode)}; personal data stays. No longer managed.`],
        { unenrolled: true },
      );
    default:
      return failed('NOT_SUPPORTED', 'unknown command');
  }
}
