/**
 * The device simulator: a stand-in for the MDM agent app on a phone. It enrolls against a local
 * or deployed portal and checks in, keeping its device credential in a state file (mode 0600).
 *
 *   npm run device -- enroll --user alice@example.com --pin 12345678 [--platform IOS]
 *   npm run device -- go --user alice@example.com --pin 12345678 [--qr-url <url from the QR code>]
 *   npm run device -- enroll --token <enrollment token>
 *   npm run device -- checkin [--os-version "iOS 18.2"]
 *   npm run device -- run [--interval 5] [--location 52.37,4.89] [--fail-next CODE]
 *   npm run device -- secure-apps-reset --user alice@example.com --pin 123456
 *   npm run device -- certificates
 *   npm run device -- show
 *
 * `run` stays online: a wake-up server on 127.0.0.1 (its URL is the push token the portal's SNS
 * wakes it at), a check-in at once, then at every wake-up or after the check-in interval, and every
 * command it is handed carried out and reported (infra/local/device-agent.ts).
 */
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type {
  AgentCertificateResponse,
  AgentCheckinRequest,
  AgentCheckinResponse,
  AgentCommand,
  AgentCommandResultRequest,
  AgentEnrollRequest,
  AgentEnrollResponse,
  ApiErrorBody,
  DeviceFacts,
  EnrollVerifyResponse,
  ManagementMode,
  Ownership,
  Platform,
  SecureAppsVerifyRequest,
} from '../../functions/core/api-types.ts';
import { sealBinding } from '../../functions/core/certificates.ts';
import { openOnDevice } from '../../functions/core/device-seal.ts';
import {
  carryOut,
  DEFAULT_MODE,
  DEMO_POSITION,
  parseInterval,
  parseLocation,
  parseMode,
  SimulatorError,
  startWakeServer,
  type WakeServer,
} from './device-agent.ts';

interface SimulatorState {
  portal: string;
  deviceId: string;
  deviceCredential: string;
  facts: DeviceFacts;
  enrolledAt: string;
  managementMode?: ManagementMode;
  /** The ownership the portal named at the last check-in. */
  ownership?: Ownership;
  /** Lost mode is on (what the lock screen shows). */
  lostMode?: boolean;
  /** Enrolled with the secure-apps container (what was sent as secureAppsContainer). */
  secureAppsContainer?: boolean;
  /** What INSTALL_CERTIFICATE put on the device (the key stays in the keychain, never in this file). */
  certificates?: InstalledCertificate[];
}

interface InstalledCertificate {
  certificateId: string;
  name: string;
  subject: string;
  fingerprintSha256: string;
  validTo: string;
  withPrivateKey: boolean;
  chainLength: number;
  installedAt: string;
}

/** The enroll body with the secure-apps container flag of issue 12 (the backend adds it to the contract). */
type EnrollBody = AgentEnrollRequest & { secureAppsContainer?: boolean };

const USAGE = `Device simulator: acts as the agent app on a phone.

  npm run device -- enroll  --user EMAIL --pin PIN      enroll from inside the app (user name + registration PIN)
  npm run device -- enroll  --token TOKEN               enroll with the token from /go (profile or store referrer)
  npm run device -- go      --user EMAIL (--pin PIN | --password PW) [--qr-url URL]
                                                        do what the phone does: open /go (optionally from the QR
                                                        code's URL), then enroll with the token it hands out
  npm run device -- checkin [--os-version V] [--carrier C]  check in once; carries out the commands it gets
  npm run device -- run     [--interval S]              stay online: check in now, at every push wake-up and
                                                        every check-in interval; carry out commands (Ctrl-C stops)
  npm run device -- secure-apps-reset --user EMAIL --pin PIN
                                                        reset the secure-apps passcode with the one-time PIN
                                                        the portal showed (Secure-apps passcode on the device page)
  npm run device -- certificates                        list the certificates the portal installed on the device
  npm run device -- show                                print the saved state (without the credential)

Options:
  --portal URL        portal base URL (default http://127.0.0.1:3000, or the saved state's)
  --state FILE        where the credential is kept (default .device-simulator.json)
  --platform P        IOS or ANDROID (default: the registration's platform for go, else ANDROID)
  --mode MODE         management mode to enroll with (enroll, go): SUPERVISED, DEVICE_ENROLLMENT,
                      USER_ENROLLMENT (iOS; default SUPERVISED), FULLY_MANAGED, WORK_PROFILE_COMPANY,
                      WORK_PROFILE_PERSONAL (Android; default FULLY_MANAGED)
  --push              enroll, go: send a wake-up URL as push token and stay online, as run does
  --secure-apps       enroll, go, run: the agent has the secure-apps container (default)
  --no-secure-apps    enroll, go, run: enroll without it (secureAppsContainer: false)
  --interval S        run: check in every S seconds instead of the portal's check-in interval
  --location LAT,LON  the position LOCATE reports (default ${DEMO_POSITION.latitude},${DEMO_POSITION.longitude})
  --fail-next CODE    the next command reports FAILED with the error CODE
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
  mode: { type: 'string' },
  push: { type: 'boolean' },
  'secure-apps': { type: 'boolean' },
  'no-secure-apps': { type: 'boolean' },
  interval: { type: 'string' },
  location: { type: 'string' },
  'fail-next': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * `--token -OPMM…` as `--token=-OPMM…`: a base64url token may start with "-", which parseArgs would
 * otherwise take for an option and refuse as ambiguous.
 */
function joinStringValues(argv: readonly string[]): string[] {
  const takesValue = new Set(
    Object.entries(OPTIONS)
      .filter(([, option]) => option.type === 'string')
      .map(([name]) => `--${name}`),
  );
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const next = argv[i + 1];
    if (takesValue.has(arg) && next !== undefined && !takesValue.has(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

function parseOptions() {
  try {
    return parseArgs({
      args: joinStringValues(process.argv.slice(2)),
      allowPositionals: true,
      options: OPTIONS,
    });
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

class HttpError extends SimulatorError {
  constructor(
    readonly status: number,
    message: string,
    /** What the portal said, in one line: "CODE: message (status)". */
    readonly serverMessage: string = message,
  ) {
    super(message);
  }
}

/** Anything the portal answers, as one line of at most 300 characters. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
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

/** Written whole and renamed into place, so that whoever reads the file never sees half of it. */
function saveState(state: SimulatorState): void {
  const next = `${values.state}.${process.pid}.tmp`;
  writeFileSync(next, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  chmodSync(next, 0o600);
  renameSync(next, values.state);
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
    let message = oneLine(text) || response.statusText;
    try {
      const error = (JSON.parse(text) as ApiErrorBody).error;
      message = oneLine(`${error.code}: ${error.message}`);
    } catch {}
    throw new HttpError(
      response.status,
      `${path} answered ${response.status}: ${message}`,
      `${message} (${response.status})`,
    );
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

/** --secure-apps (the default) or --no-secure-apps: whether the agent has the secure-apps container. */
function secureAppsOption(): boolean {
  if (values['secure-apps'] && values['no-secure-apps']) {
    throw new SimulatorError('give --secure-apps or --no-secure-apps, not both');
  }
  return !values['no-secure-apps'];
}

/** Options that need no portal, checked before anything is sent: a mistake costs no PIN or token. */
function checkOptions(): void {
  if (values.mode) parseMode(values.mode, values.platform ? platformOption('ANDROID') : undefined);
  if (values.location) parseLocation(values.location);
  if (values.interval) parseInterval(values.interval);
  secureAppsOption();
  if (values['fail-next'] !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(values['fail-next'])) {
    throw new SimulatorError('--fail-next is an error code: letters, digits, _ . : - (at most 64)');
  }
}

async function enroll(
  portal: string,
  platform: Platform,
  auth: { enrollmentToken: string } | { username: string; pin: string },
) {
  const device = facts(platform);
  const managementMode = values.mode ? parseMode(values.mode, platform) : DEFAULT_MODE[platform];
  const secureAppsContainer = secureAppsOption();
  // With --push the wake-up server runs before enrolling: its URL is the push token sent now.
  const wake = values.push ? await startAgentWakeServer() : null;
  let result: AgentEnrollResponse;
  try {
    const body: EnrollBody = {
      ...auth,
      device,
      managementMode,
      secureAppsContainer,
      ...(wake ? { pushToken: wake.server.url } : {}),
    };
    result = await call<AgentEnrollResponse>(portal, '/api/agent/enroll', body);
  } catch (error) {
    await wake?.server.close();
    throw error;
  }
  const state: SimulatorState = {
    portal,
    deviceId: result.deviceId,
    deviceCredential: result.deviceCredential,
    facts: device,
    enrolledAt: new Date().toISOString(),
    managementMode,
    secureAppsContainer,
  };
  saveState(state);
  console.log(
    `Enrolled device ${result.deviceId} (${device.manufacturer} ${device.deviceType}, ${device.osVersion}; ${managementMode}; ${secureAppsContainer ? 'with' : 'without'} the secure-apps container).`,
  );
  if (wake) return run(state, wake, true);
  console.log(
    `Credential saved in ${values.state}; run "npm run device -- run" to stay online, or "checkin" to check in once.`,
  );
}

const OWNERSHIP_WORDS: Record<Ownership, string> = { COMPANY: 'Company', EMPLOYEE: 'Employee' };

function time(): string {
  return new Date().toISOString().slice(11, 19);
}

class CredentialRevoked extends SimulatorError {}

/**
 * One check-in and every command it hands over, carried out and reported in order. Returns the
 * state after it, or null when a wipe or retire ended management (the state file is then gone).
 */
async function checkInOnce(
  portal: string,
  state: SimulatorState,
  request: AgentCheckinRequest,
  failNext: { code: string | null },
  reason: string,
): Promise<{ state: SimulatorState | null; intervalSeconds: number }> {
  const auth = { authorization: `Device ${state.deviceCredential}` };
  let result: AgentCheckinResponse;
  try {
    result = await call<AgentCheckinResponse>(portal, '/api/agent/checkin', request, auth);
  } catch (error) {
    if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
      throw new CredentialRevoked(
        `the portal no longer accepts this device's credential (${error.status}): it was retired or wiped there. Delete ${values.state} and enroll again.`,
      );
    }
    throw error;
  }
  let current: SimulatorState = { ...state, facts: { ...state.facts, ...request.device } };
  console.log(
    `[${time()}] Checked in (${reason}): ${result.deviceId} ${result.status}, ${result.commands.length ? `${result.commands.length} command(s)` : 'no commands'}.`,
  );
  if (result.ownership && result.ownership !== current.ownership) {
    console.log(`Ownership: ${OWNERSHIP_WORDS[result.ownership] ?? result.ownership}`);
    current = { ...current, ownership: result.ownership };
  }
  saveState(current);
  for (const command of result.commands) {
    if (command.action === 'INSTALL_CERTIFICATE' || command.action === 'REMOVE_CERTIFICATE') {
      const done = await certificateCommand(portal, auth, current, command, failNext);
      current = done.state;
      // Installed (or removed) before it says so, as a device would: the report comes last.
      saveState(current);
      await call<unknown>(
        portal,
        `/api/agent/commands/${encodeURIComponent(command.commandId)}/result`,
        done.result,
        auth,
      );
      console.log(`  Reported ${done.result.status}${done.result.error ? ` (${done.result.error})` : ''}.`);
      continue;
    }
    const outcome = carryOut(command, {
      platform: current.facts.platform,
      mode: current.managementMode,
      lostMode: current.lostMode ?? false,
      location: values.location ? parseLocation(values.location) : DEMO_POSITION,
      failWith: failNext.code,
    });
    failNext.code = null;
    console.log(`${command.action} (command ${command.commandId}):`);
    for (const line of outcome.lines) console.log(`  ${line}`);
    await call<unknown>(
      portal,
      `/api/agent/commands/${encodeURIComponent(command.commandId)}/result`,
      outcome.result,
      auth,
    );
    console.log(
      `  Reported ${outcome.result.status}${outcome.result.error ? ` (${outcome.result.error})` : ''}.`,
    );
    current = { ...current, lostMode: outcome.lostMode };
    if (outcome.result.status === 'DONE' && outcome.unenrolled) {
      unlinkSync(values.state);
      console.log(`Forgot the device credential: deleted ${values.state}.`);
      return { state: null, intervalSeconds: result.checkInIntervalSeconds };
    }
    saveState(current);
  }
  return { state: current, intervalSeconds: result.checkInIntervalSeconds };
}

/**
 * INSTALL_CERTIFICATE: fetch the certificate with a one-off X25519 key, open the private key sealed
 * to it, check that key and certificate belong together, install. REMOVE_CERTIFICATE: remove it.
 */
async function certificateCommand(
  portal: string,
  auth: Record<string, string>,
  state: SimulatorState,
  command: AgentCommand,
  failNext: { code: string | null },
): Promise<{ state: SimulatorState; result: AgentCommandResultRequest }> {
  const target = command.certificate;
  const installed = state.certificates ?? [];
  console.log(`${command.action} "${target?.name ?? '?'}" (command ${command.commandId}):`);
  const failed = (error: string, why: string) => {
    console.log(`  Failed: ${why} (error ${error}).`);
    return { state, result: { status: 'FAILED' as const, error } };
  };
  if (failNext.code) {
    const code = failNext.code;
    failNext.code = null;
    return failed(code, 'as asked with --fail-next');
  }
  if (!target) return failed('NO_CERTIFICATE', 'the command names no certificate');
  const others = installed.filter((c) => c.certificateId !== target.certificateId);
  if (command.action === 'REMOVE_CERTIFICATE') {
    const had = others.length !== installed.length;
    console.log(
      had ? `  Removed "${target.name}" and its key from the device.` : '  It was not on the device.',
    );
    return { state: { ...state, certificates: others }, result: { status: 'DONE' } };
  }
  const keyPair = generateKeyPairSync('x25519');
  let answer: AgentCertificateResponse;
  try {
    answer = await call<AgentCertificateResponse>(
      portal,
      `/api/agent/certificates/${encodeURIComponent(target.certificateId)}`,
      { devicePublicKey: keyPair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64') },
      auth,
    );
  } catch (error) {
    if (error instanceof HttpError && error.status === 404)
      return failed('CERTIFICATE_GONE', 'the user deleted it before the device fetched it');
    throw error;
  }
  const certificate = new X509Certificate(Buffer.from(answer.certificate, 'base64'));
  if (certificate.fingerprint256 !== answer.fingerprintSha256)
    return failed('FINGERPRINT_MISMATCH', 'the certificate is not the one the portal named');
  if (answer.privateKey) {
    const pkcs8 = openOnDevice(
      answer.privateKey,
      keyPair.privateKey,
      sealBinding(target.certificateId, state.deviceId),
    );
    const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    pkcs8.fill(0);
    if (!certificate.checkPrivateKey(key))
      return failed('KEY_MISMATCH', 'the private key is not the certificate’s');
  }
  const entry: InstalledCertificate = {
    certificateId: target.certificateId,
    name: target.name,
    subject: certificate.subject.split('\n').join(', '),
    fingerprintSha256: certificate.fingerprint256,
    validTo: new Date(certificate.validTo).toISOString(),
    withPrivateKey: answer.privateKey !== null,
    chainLength: answer.chain.length,
    installedAt: new Date().toISOString(),
  };
  const replaced = others.length !== installed.length;
  console.log(
    `  ${replaced ? 'Replaced' : 'Installed'} "${entry.name}" (${entry.fingerprintSha256.slice(0, 23)}…)${entry.withPrivateKey ? ' with its private key in the keychain' : ''}${entry.chainLength ? ` and ${entry.chainLength} chain certificate(s)` : ''}.`,
  );
  return { state: { ...state, certificates: [...others, entry] }, result: { status: 'DONE' } };
}

function listCertificates(saved: SimulatorState): void {
  const installed = saved.certificates ?? [];
  if (installed.length === 0) {
    console.log('No certificates installed by the portal.');
    return;
  }
  for (const c of installed) {
    console.log(`${c.name}`);
    console.log(`  subject      ${c.subject}`);
    console.log(`  SHA-256      ${c.fingerprintSha256}`);
    console.log(`  valid to     ${c.validTo.slice(0, 10)}`);
    console.log(`  private key  ${c.withPrivateKey ? 'yes (in the keychain)' : 'no'}`);
    console.log(`  installed    ${c.installedAt}`);
  }
}

/** Facts given on the command line, reported at the (first) check-in. */
function factUpdate(): Partial<DeviceFacts> {
  return {
    ...(values['os-version'] ? { osVersion: values['os-version'] } : {}),
    ...(values.carrier ? { carrier: values.carrier } : {}),
    ...(values.phone ? { phoneNumber: values.phone } : {}),
  };
}

interface AgentWake {
  server: WakeServer;
  /** Resolves the current wait early (a wake-up, or a stop). */
  nudge(): void;
  /** A wake-up arrived since the last wait began. */
  pending: boolean;
  waiting: (() => void) | null;
}

async function startAgentWakeServer(): Promise<AgentWake> {
  const signal = { pending: false, waiting: null as (() => void) | null };
  const nudge = () => {
    signal.pending = true;
    signal.waiting?.();
  };
  const server = await startWakeServer((message) => {
    console.log(`[${time()}] Wake-up: ${message || '(empty)'}`);
    nudge();
  });
  return Object.assign(signal, { server, nudge });
}

/** Waits for the interval, or less when a wake-up (or Ctrl-C) comes; says which. */
function waitForWake(wake: AgentWake, seconds: number): Promise<'wake-up' | 'interval'> {
  if (wake.pending) {
    wake.pending = false;
    return Promise.resolve('wake-up');
  }
  return new Promise((resolveWait) => {
    const timer = setTimeout(() => {
      wake.waiting = null;
      resolveWait('interval');
    }, seconds * 1000);
    wake.waiting = () => {
      clearTimeout(timer);
      wake.waiting = null;
      wake.pending = false;
      resolveWait('wake-up');
    };
  });
}

/** `run`: online until Ctrl-C, a wipe or retire, or a revoked credential. */
async function run(saved: SimulatorState, existing?: AgentWake, tokenSent = false): Promise<void> {
  const portal = (values.portal ?? saved.portal).replace(/\/$/, '');
  const wake = existing ?? (await startAgentWakeServer());
  const override = values.interval ? parseInterval(values.interval) : null;
  const failNext = { code: values['fail-next'] ?? null };
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130); // a second Ctrl-C while a call hangs
    stopping = true;
    wake.nudge();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  console.log(`Online as ${saved.deviceId}; push token (wake-up URL): ${wake.server.url}`);
  let state: SimulatorState | null = saved;
  let first = true;
  let reason = 'start';
  try {
    while (state && !stopping) {
      const request: AgentCheckinRequest = {
        device: first ? factUpdate() : {},
        ...(first && !tokenSent ? { pushToken: wake.server.url } : {}),
      };
      let intervalSeconds = override ?? 60;
      try {
        const next = await checkInOnce(portal, state, request, failNext, reason);
        state = next.state;
        intervalSeconds = override ?? next.intervalSeconds;
        first = false;
      } catch (error) {
        // The first check-in's failure is the user's to fix (wrong portal, not running); later
        // ones are the network's: say so and try again, as an agent does.
        if (first || error instanceof CredentialRevoked || !(error instanceof SimulatorError)) throw error;
        console.error(`device simulator: ${error.message}; trying again in ${intervalSeconds} s`);
      }
      if (!state || stopping) break;
      reason = await waitForWake(wake, intervalSeconds);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await wake.server.close();
  }
  if (stopping) console.log(`Stopped. The device stays enrolled (${values.state}).`);
}

/**
 * `secure-apps-reset`: what the agent app does when the user forgot the secure-apps passcode and
 * types the one-time PIN the portal showed: the portal checks it, the app then asks for a new one.
 */
async function secureAppsReset(portal: string, saved: SimulatorState | null): Promise<void> {
  if (!values.user || !values.pin) throw new SimulatorError('secure-apps-reset needs --user and --pin');
  if (!saved)
    throw new SimulatorError(`No enrolled device in ${values.state}: run "npm run device -- enroll" first`);
  const body: SecureAppsVerifyRequest = { username: values.user, pin: values.pin };
  try {
    await call<unknown>(portal, '/api/agent/secure-apps-passcode/verify', body, {
      authorization: `Device ${saved.deviceCredential}`,
    });
  } catch (error) {
    if (error instanceof HttpError) {
      throw new SimulatorError(`Secure-apps passcode not reset: ${error.serverMessage}`);
    }
    throw error;
  }
  console.log('Secure-apps passcode reset: choose a new passcode in the agent app.');
}

async function main(): Promise<void> {
  const [command] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  checkOptions();
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
      await checkInOnce(
        portal,
        saved,
        { device: factUpdate() },
        { code: values['fail-next'] ?? null },
        'once',
      );
      return;
    }
    case 'run': {
      if (!saved)
        throw new SimulatorError(
          `No enrolled device in ${values.state}: run "npm run device -- enroll" first`,
        );
      const wanted = secureAppsOption();
      const enrolledWith = saved.secureAppsContainer ?? true;
      if ((values['secure-apps'] || values['no-secure-apps']) && wanted !== enrolledWith) {
        console.log(
          `Note: the secure-apps container is chosen at enrollment; this device enrolled ${enrolledWith ? 'with' : 'without'} it.`,
        );
      }
      return run(saved);
    }
    case 'secure-apps-reset':
      return secureAppsReset(portal, saved);
    case 'certificates': {
      if (!saved) throw new SimulatorError(`No enrolled device in ${values.state}`);
      listCertificates(saved);
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
