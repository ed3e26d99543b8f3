/**
 * The device simulator: a stand-in for the MDM agent app on a phone. It enrolls against a local
 * or deployed portal and checks in, keeping its device credential in a state file (mode 0600).
 *
 *   npm run device -- enroll --user alice@example.com --pin 12345678 [--platform IOS]
 *   npm run device -- go --user alice@example.com --pin 12345678 [--qr-url <url from the QR code>]
 *   npm run device -- enroll --token <enrollment token>
 *   npm run device -- checkin [--os-version "iOS 18.2"]
 *   npm run device -- show
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type {
  AgentCheckinResponse,
  AgentEnrollResponse,
  ApiErrorBody,
  DeviceFacts,
  EnrollVerifyResponse,
  Platform,
} from '../../functions/core/api-types.ts';

interface SimulatorState {
  portal: string;
  deviceId: string;
  deviceCredential: string;
  facts: DeviceFacts;
  enrolledAt: string;
}

const USAGE = `Device simulator: acts as the agent app on a phone.

  npm run device -- enroll  --user EMAIL --pin PIN      enroll from inside the app (user name + registration PIN)
  npm run device -- enroll  --token TOKEN               enroll with the token from /go (profile or store referrer)
  npm run device -- go      --user EMAIL (--pin PIN | --password PW) [--qr-url URL]
                                                        do what the phone does: open /go (optionally from the QR
                                                        code's URL), then enroll with the token it hands out
  npm run device -- checkin [--os-version V] [--carrier C]  report facts; prints pending commands
  npm run device -- show                                print the saved state (without the credential)

Options:
  --portal URL        portal base URL (default http://127.0.0.1:3000, or the saved state's)
  --state FILE        where the credential is kept (default .device-simulator.json)
  --platform P        IOS or ANDROID (default: the registration's platform for go, else ANDROID)
  --device-type T --manufacturer M --os-version V --imei N --phone +E164 --carrier C
`;

const OPTIONS = {
  portal: { type: 'string' },
  state: { type: 'string', default: '.device-simulator.json' },
  user: { type: 'string' },
  pin: { type: 'string' },
  password: { type: 'string' },
  token: { type: 'string' },
  'qr-url': { type: 'string' },
  platform: { type: 'string' },
  'device-type': { type: 'string' },
  manufacturer: { type: 'string' },
  'os-version': { type: 'string' },
  imei: { type: 'string' },
  phone: { type: 'string' },
  carrier: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class SimulatorError extends Error {}

function parseOptions() {
  try {
    return parseArgs({ allowPositionals: true, options: OPTIONS });
  } catch (error) {
    // An unknown option or a missing value: one line and the usage, never a stack trace.
    console.error(`device simulator: ${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const { values, positionals } = parseOptions();

function loadState(): SimulatorState | null {
  if (!existsSync(values.state)) return null;
  try {
    return JSON.parse(readFileSync(values.state, 'utf8')) as SimulatorState;
  } catch {
    throw new SimulatorError(`${values.state} is not a device state file; delete it and enroll again.`);
  }
}

/**
 * The enrollment token, and the portal it came from when the value says: a bare token, the store
 * link /go opened (its referrer), or that referrer itself ("enrollmentToken=…&portal=…").
 */
function tokenAndPortal(value: string): { token: string; portal?: string } {
  let referrer = value;
  if (/^https?:\/\//.test(value)) {
    try {
      referrer = new URL(value).searchParams.get('referrer') ?? '';
    } catch {
      throw new SimulatorError('--token is not a token, nor a link from the /go page');
    }
  }
  const params = new URLSearchParams(referrer);
  const token = params.get('enrollmentToken');
  if (token) return { token, ...(params.get('portal') ? { portal: params.get('portal') ?? '' } : {}) };
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(value)) {
    throw new SimulatorError('--token is not a token, nor a link from the /go page');
  }
  return { token: value };
}

function parseUrl(value: string, option: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new SimulatorError(`${option} is not a URL: ${value}`);
  }
}

/** fetch, with an unreachable portal said in one line. */
async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new SimulatorError(
      `cannot reach the portal at ${new URL(url).origin}: is it running (npm start), and is --portal right?`,
    );
  }
}

function saveState(state: SimulatorState): void {
  writeFileSync(values.state, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(values.state, 0o600);
}

async function call<T>(
  portal: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await reach(`${portal}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'device-simulator/1', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) {
    let message = text;
    try {
      const error = (JSON.parse(text) as ApiErrorBody).error;
      message = `${error.code}: ${error.message}`;
    } catch {}
    throw new SimulatorError(`${path} answered ${response.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

function platformOption(fallback: Platform): Platform {
  const value = (values.platform ?? fallback).toUpperCase();
  if (value !== 'IOS' && value !== 'ANDROID') throw new SimulatorError('--platform is IOS or ANDROID');
  return value;
}

function facts(platform: Platform): DeviceFacts {
  const ios = platform === 'IOS';
  return {
    platform,
    deviceType: values['device-type'] ?? (ios ? 'iPhone 15' : 'Pixel 9'),
    manufacturer: values.manufacturer ?? (ios ? 'Apple' : 'Google'),
    osVersion: values['os-version'] ?? (ios ? 'iOS 18.1.1' : 'Android 15'),
    ...(values.imei ? { imei: values.imei } : ios ? {} : { imei: '356938035643809' }),
    ...(values.phone ? { phoneNumber: values.phone } : {}),
    carrier: values.carrier ?? 'Simulated Mobile',
  };
}

async function enroll(
  portal: string,
  platform: Platform,
  auth: { enrollmentToken: string } | { username: string; pin: string },
) {
  const device = facts(platform);
  const result = await call<AgentEnrollResponse>(portal, '/api/agent/enroll', { ...auth, device });
  saveState({
    portal,
    deviceId: result.deviceId,
    deviceCredential: result.deviceCredential,
    facts: device,
    enrolledAt: new Date().toISOString(),
  });
  console.log(
    `Enrolled device ${result.deviceId} (${device.manufacturer} ${device.deviceType}, ${device.osVersion}).`,
  );
  console.log(`Credential saved in ${values.state}; run "npm run device -- checkin" to check in.`);
}

async function main(): Promise<void> {
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const saved = loadState();
  const portal = (values.portal ?? saved?.portal ?? 'http://127.0.0.1:3000').replace(/\/$/, '');

  switch (command) {
    case 'enroll': {
      if (values.token) {
        const from = tokenAndPortal(values.token);
        const target = values.portal ? portal : (from.portal ?? portal).replace(/\/$/, '');
        return enroll(target, platformOption('ANDROID'), { enrollmentToken: from.token });
      }
      if (!values.user || !values.pin) throw new SimulatorError('enroll needs --user and --pin, or --token');
      return enroll(portal, platformOption('ANDROID'), { username: values.user, pin: values.pin });
    }
    case 'go': {
      if (!values.user || (!values.pin && !values.password))
        throw new SimulatorError('go needs --user and --pin or --password');
      const qrUrl = values['qr-url'] ? parseUrl(values['qr-url'], '--qr-url') : null;
      const qrToken = qrUrl ? (new URLSearchParams(qrUrl.hash.slice(1)).get('t') ?? undefined) : undefined;
      const goPortal = qrUrl ? qrUrl.origin : portal;
      const verified = await call<EnrollVerifyResponse>(goPortal, '/api/enroll/verify', {
        username: values.user,
        ...(values.pin ? { pin: values.pin } : { password: values.password }),
        ...(qrToken ? { qrToken } : {}),
      });
      let enrollmentToken = verified.enrollmentToken;
      if (verified.next.kind === 'IOS_PROFILE') {
        // As iOS does: download the profile and take the enrollment token from its payload.
        const profile = await reach(verified.next.profileUrl);
        const plist = await profile.text();
        if (!profile.ok)
          throw new SimulatorError(`The profile download answered ${profile.status}: ${plist}`);
        enrollmentToken = /<key>EnrollmentToken<\/key><string>([^<]+)<\/string>/.exec(plist)?.[1] ?? '';
        console.log(
          `/go accepted: installed the enrollment profile (${profile.headers.get('content-type')}).`,
        );
      } else {
        console.log(`/go accepted: the phone would open the store at ${verified.next.storeUrl}`);
      }
      return enroll(goPortal, platformOption(verified.platform), { enrollmentToken: enrollmentToken ?? '' });
    }
    case 'checkin': {
      if (!saved)
        throw new SimulatorError(
          `No enrolled device in ${values.state}: run "npm run device -- enroll" first`,
        );
      const update: Partial<DeviceFacts> = {
        ...(values['os-version'] ? { osVersion: values['os-version'] } : {}),
        ...(values.carrier ? { carrier: values.carrier } : {}),
        ...(values.phone ? { phoneNumber: values.phone } : {}),
      };
      const result = await call<AgentCheckinResponse>(
        portal,
        '/api/agent/checkin',
        { device: update },
        {
          authorization: `Device ${saved.deviceCredential}`,
        },
      );
      saveState({ ...saved, facts: { ...saved.facts, ...update } });
      console.log(`Checked in ${result.deviceId} at ${result.lastCheckInAt}: status ${result.status}.`);
      console.log(
        result.commands.length
          ? `Pending commands: ${result.commands.map((c) => c.action).join(', ')}`
          : 'No pending commands.',
      );
      return;
    }
    case 'show': {
      if (!saved) throw new SimulatorError(`No enrolled device in ${values.state}`);
      const { deviceCredential: _hidden, ...visible } = saved;
      console.log(JSON.stringify(visible, null, 2));
      return;
    }
    default:
      throw new SimulatorError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main().catch((error: unknown) => {
  // A user's mistake is one line; only a bug in the simulator itself shows its stack.
  console.error(error instanceof SimulatorError ? `device simulator: ${error.message}` : error);
  process.exit(1);
});
