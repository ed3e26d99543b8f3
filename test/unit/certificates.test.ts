/**
 * The certificate use-cases (functions/core/certificates.ts, issue 13.3) over the in-memory ports,
 * with the real file parser and memory-ports' MemoryKeyVault (real encryption, recording what it
 * sealed): upload, replace, delete, the list's deliveries, the fetch by a device, and where the
 * commands and the enrollment meet the certificates.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CertificateUploadRequest, DeviceFacts } from '../../functions/core/api-types.ts';
import type { RequestOrigin } from '../../functions/core/audit.ts';
import { ACCOUNT_DEVICE_ID } from '../../functions/core/audit.ts';
import { parseCertificateFile } from '../../functions/core/certificate-file.ts';
import {
  type CertificateRecord,
  certificateForDevice,
  deleteCertificate,
  listCertificates,
  MAX_CERTIFICATES,
  MAX_FILE_BYTES,
  MAX_RACE_RETRIES,
  sealBinding,
  uploadCertificate,
} from '../../functions/core/certificates.ts';
import { type CommandRecord, cancelCommand, recordResult } from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { openOnDevice } from '../../functions/core/device-seal.ts';
import { checkIn, enrollAgent, verifyAtGo } from '../../functions/core/enrollment.ts';
import { PortalError } from '../../functions/core/errors.ts';
import { ConcurrentUpdateError } from '../../functions/core/ports.ts';
import { createRegistration } from '../../functions/core/registration.ts';
import { ROLES, type Role } from '../../functions/routes.ts';
import {
  ALICE_EMAIL,
  ALICE_SUB,
  CERTIFICATE_ID,
  CERTIFICATES_NOW,
  type CertificateFixture,
  certificateFixture,
  certificateRecord,
  deviceRecord,
  P12_PASSWORD,
  pendingDevice,
  SMIME_FINGERPRINT,
} from './fixtures.ts';
import { memoryPorts } from './memory-ports.ts';

const ORIGIN: RequestOrigin = {
  origin: 'https://portal.example.com',
  sourceIp: '203.0.113.7',
  userAgent: 'vitest',
};
const BOB_SUB = '99999999-8888-4777-8666-555555555555';
const PIXEL = 'b0000000-0000-4000-8000-000000000001';
const IPHONE = 'b0000000-0000-4000-8000-000000000002';
const PENDING = 'b0000000-0000-4000-8000-000000000003';
const RETIRED = 'b0000000-0000-4000-8000-000000000004';
const BOBS_PHONE = 'b0000000-0000-4000-8000-000000000005';
const UNKNOWN_ID = 'e0000000-0000-4000-8000-0000000000ff';
const DAY_MS = 24 * 3600_000;

const caller = (roles: Role[] = [...ROLES]) => ({
  sub: ALICE_SUB,
  username: ALICE_SUB,
  groups: [],
  authTime: Math.floor(CERTIFICATES_NOW.getTime() / 1000),
  roles,
});

const at = (minutesFromNow: number) =>
  new Date(CERTIFICATES_NOW.getTime() + minutesFromNow * 60_000).toISOString();

const P12S: readonly CertificateFixture[] = ['alice-vpn.p12', 'alice-vpn-legacy.p12', 'alice-ec.p12'];

/** The PKCS#8 key inside a fixture PKCS#12, read independently of the upload. */
function fixtureKey(name: CertificateFixture): Buffer {
  const parsed = parseCertificateFile(
    { fileName: name, bytes: certificateFixture(name), password: P12_PASSWORD },
    CERTIFICATES_NOW,
  );
  if (!parsed.privateKeyPkcs8) throw new Error(`${name} has no key`);
  return parsed.privateKeyPkcs8;
}

/** The PortalError a call rejects with, as { kind, code, message }. */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PortalError);
  const { kind, code, message } = error as PortalError;
  return { kind, code, message };
}

let ports: ReturnType<typeof memoryPorts>;

function storeDevice(device: DeviceRecord) {
  ports.store.devices.set(`${device.userSub}|${device.deviceId}`, structuredClone(device));
}
function storeCommand(command: CommandRecord) {
  ports.store.commands.set(command.commandId, structuredClone(command));
}
/** A certificate already kept, with the set's version moved on as an upload would. */
function storeCertificate(certificate: CertificateRecord) {
  ports.store.certificates.set(
    `${certificate.userSub}|${certificate.certificateId}`,
    structuredClone(certificate),
  );
  const set = ports.store.certificateSets.get(certificate.userSub);
  ports.store.certificateSets.set(certificate.userSub, {
    version: (set?.version ?? 0) + 1,
    count: (set?.count ?? 0) + 1,
  });
}

function upload(name: CertificateFixture, request: Partial<CertificateUploadRequest> = {}) {
  return uploadCertificate(
    ports.certificates,
    caller(),
    {
      fileName: name,
      content: certificateFixture(name).toString('base64'),
      ...(P12S.includes(name) ? { password: P12_PASSWORD } : {}),
      ...request,
    },
    ORIGIN,
  );
}

const commands = (action?: CommandRecord['action']) =>
  [...ports.store.commands.values()].filter((c) => action === undefined || c.action === action);
const commandOf = (deviceId: string, action: CommandRecord['action']) =>
  commands(action).filter((c) => c.deviceId === deviceId);
const certificate = (certificateId: string) => ports.store.certificates.get(`${ALICE_SUB}|${certificateId}`);

const CERT_ID = CERTIFICATE_ID;
const FINGERPRINT = SMIME_FINGERPRINT;

let commandNumber = 0;
/** An INSTALL_CERTIFICATE of CERT_ID's file for `deviceId`, queued ten minutes ago. */
function install(deviceId: string, overrides: Partial<CommandRecord> = {}): CommandRecord {
  commandNumber += 1;
  return {
    commandId: `c0000000-0000-4000-8000-${String(commandNumber).padStart(12, '0')}`,
    userSub: ALICE_SUB,
    deviceId,
    action: 'INSTALL_CERTIFICATE',
    status: 'QUEUED',
    createdAt: at(-10),
    expiresAt: new Date(Date.parse(at(-10)) + 90 * DAY_MS).toISOString(),
    certificate: { certificateId: CERT_ID, name: 'Alice Example', fingerprintSha256: FINGERPRINT },
    ...overrides,
  };
}

beforeEach(() => {
  ports = memoryPorts();
  ports.clock.set(CERTIFICATES_NOW);
  storeDevice(
    deviceRecord({
      deviceId: PIXEL,
      platform: 'ANDROID',
      facts: { platform: 'ANDROID', deviceType: 'Pixel 8' },
    }),
  );
  storeDevice(deviceRecord({ deviceId: IPHONE, facts: { platform: 'IOS', deviceType: 'iPhone 15' } }));
  storeDevice(pendingDevice(PENDING, at(-5), at(55)));
  storeDevice(deviceRecord({ deviceId: RETIRED, status: 'RETIRED', credentialHash: undefined }));
  storeDevice(deviceRecord({ deviceId: BOBS_PHONE, userSub: BOB_SUB }));
});

describe('uploadCertificate', () => {
  it('queues one INSTALL_CERTIFICATE for each Active device of the user, none for pending or retired ones', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    const installs = commands('INSTALL_CERTIFICATE');
    expect(installs.map((c) => c.deviceId).sort()).toEqual([PIXEL, IPHONE]);
    for (const command of installs) {
      expect(command).toMatchObject({
        userSub: ALICE_SUB,
        status: 'QUEUED',
        createdAt: CERTIFICATES_NOW.toISOString(),
        certificate: {
          certificateId: summary.certificateId,
          name: 'alice-vpn',
          fingerprintSha256: summary.fingerprintSha256,
        },
      });
    }
  });

  it('gives an install 90 days to reach the device', async () => {
    await upload('alice-smime.der');

    expect(commands('INSTALL_CERTIFICATE')[0]?.expiresAt).toBe(
      new Date(CERTIFICATES_NOW.getTime() + 90 * DAY_MS).toISOString(),
    );
  });

  it('wakes each Active device once', async () => {
    await upload('alice-vpn.p12');

    expect(ports.wakeUps.map((d) => d.deviceId).sort()).toEqual([PIXEL, IPHONE]);
  });

  it('writes a CERTIFICATE_UPLOADED audit event on the account, naming the certificate and the devices', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    expect(ports.store.audit).toEqual([
      expect.objectContaining({
        userSub: ALICE_SUB,
        deviceId: ACCOUNT_DEVICE_ID,
        action: 'CERTIFICATE_UPLOADED',
        result: 'SUCCESS',
        detail: `alice-vpn (${summary.fingerprintSha256.slice(0, 11)}…), to 2 device(s)`,
      }),
    ]);
  });

  it('answers the summary, not replaced, with the installs waiting on each Active device', async () => {
    const result = await upload('alice-vpn.p12');

    expect(result.replaced).toBe(false);
    expect(result.certificate).toMatchObject({
      name: 'alice-vpn',
      fileName: 'alice-vpn.p12',
      format: 'PKCS12',
      hasPrivateKey: true,
      chainLength: 1,
      uploadedAt: CERTIFICATES_NOW.toISOString(),
      replacedAt: null,
    });
    expect(result.certificate.deliveries).toEqual(
      expect.arrayContaining([
        {
          deviceId: PIXEL,
          deviceName: 'Pixel 8',
          status: 'WAITING',
          at: CERTIFICATES_NOW.toISOString(),
          error: null,
        },
        {
          deviceId: IPHONE,
          deviceName: 'iPhone 15',
          status: 'WAITING',
          at: CERTIFICATES_NOW.toISOString(),
          error: null,
        },
      ]),
    );
    expect(result.certificate.deliveries).toHaveLength(2);
  });

  it('keeps the private key only as the vault sealed it, under the user and the certificate', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    const record = certificate(summary.certificateId);
    expect(ports.vault.sealed).toHaveLength(1);
    const [sealed] = ports.vault.sealed;
    expect(sealed?.context).toEqual({ userSub: ALICE_SUB, certificateId: summary.certificateId });
    expect(record?.privateKey).toEqual(sealed?.result);
  });

  it('hands the vault the key that belongs to the certificate', async () => {
    const { certificate: summary } = await upload('alice-ec.p12');

    const plaintext = ports.vault.sealed[0]?.plaintext ?? Buffer.alloc(0);
    const der = Buffer.from(certificate(summary.certificateId)?.certificateDer ?? '', 'base64');
    expect(
      new X509Certificate(der).checkPrivateKey(
        createPrivateKey({ key: plaintext, format: 'der', type: 'pkcs8' }),
      ),
    ).toBe(true);
  });

  it('never keeps the private key in the clear, nor the file’s password', async () => {
    await upload('alice-vpn.p12');

    const kept = JSON.stringify({
      certificates: [...ports.store.certificates.values()],
      commands: commands(),
      audit: ports.store.audit,
    });
    const pkcs8 = fixtureKey('alice-vpn.p12');
    expect(kept).not.toContain(pkcs8.toString('base64'));
    expect(kept).not.toContain(pkcs8.toString('hex'));
    expect(kept).not.toContain(P12_PASSWORD);
  });

  it('keeps a certificate without a key with no sealed key, and does not call the vault', async () => {
    const { certificate: summary } = await upload('alice-smime-chain.pem');

    expect(summary.hasPrivateKey).toBe(false);
    expect(certificate(summary.certificateId)).not.toHaveProperty('privateKey');
    expect(ports.vault.sealed).toEqual([]);
  });

  it('keeps the certificate and its chain as base64 DER', async () => {
    const { certificate: summary } = await upload('alice-smime-chain.pem');

    expect(certificate(summary.certificateId)).toMatchObject({
      certificateDer: certificateFixture('alice-smime.der').toString('base64'),
      chainDer: [certificateFixture('example-ca.der').toString('base64')],
    });
  });

  it('moves the user’s certificate set to its next version, which an enrolling device checks', async () => {
    await upload('alice-smime.der');
    await upload('alice-vpn.p12');

    expect(ports.store.certificateSets.get(ALICE_SUB)).toEqual({ version: 2, count: 2 });
  });

  it('refuses the same certificate again as 409 DUPLICATE_CERTIFICATE, naming the one in the list', async () => {
    await upload('alice-smime-chain.pem');
    const before = commands().length;

    // The same certificate in another format: the fingerprint decides.
    expect(await failure(upload('alice-smime.der'))).toEqual({
      kind: 'CONFLICT',
      code: 'DUPLICATE_CERTIFICATE',
      message: expect.stringContaining('already in your list as "Alice Example"'),
    });
    expect(ports.store.certificates.size).toBe(1);
    expect(commands()).toHaveLength(before);
  });

  it('asks the vault for nothing when a PKCS#12 is refused as a duplicate', async () => {
    await upload('alice-vpn.p12');
    const before = ports.vault.sealed.length;

    expect(await failure(upload('alice-vpn-legacy.p12'))).toMatchObject({ code: 'DUPLICATE_CERTIFICATE' });
    expect(ports.vault.sealed).toHaveLength(before);
  });

  it('seals the key once although the write lost a race and was tried again', async () => {
    let lost = 0;
    const save = ports.store.saveCertificates.bind(ports.store);
    ports.store.saveCertificates = async (change) => {
      if (lost++ < 2) throw new ConcurrentUpdateError('lost');
      return save(change);
    };

    await upload('alice-vpn.p12');

    expect(ports.vault.sealed).toHaveLength(1);
  });

  it(`refuses certificate number ${MAX_CERTIFICATES + 1} as 409 TOO_MANY_CERTIFICATES`, async () => {
    for (let i = 0; i < MAX_CERTIFICATES; i++) {
      storeCertificate(
        certificateRecord({
          certificateId: `e0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
          fingerprintSha256: `AA:${String(i).padStart(2, '0')}`,
        }),
      );
    }

    expect(await failure(upload('alice-smime.der'))).toMatchObject({
      kind: 'CONFLICT',
      code: 'TOO_MANY_CERTIFICATES',
    });
    expect(commands()).toEqual([]);
  });

  it(`replaces one of ${MAX_CERTIFICATES} certificates: a replace adds none`, async () => {
    for (let i = 0; i < MAX_CERTIFICATES; i++) {
      storeCertificate(
        certificateRecord({
          certificateId: `e0000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
          fingerprintSha256: `AA:${String(i).padStart(2, '0')}`,
        }),
      );
    }

    const { replaced } = await upload('alice-smime.der', {
      replaces: 'e0000000-0000-4000-8000-000000000001',
    });

    expect(replaced).toBe(true);
    expect(ports.store.certificateSets.get(ALICE_SUB)?.count).toBe(MAX_CERTIFICATES);
  });

  it('passes on the parser’s refusal (a wrong password) without sealing or writing anything', async () => {
    expect(await failure(upload('alice-vpn.p12', { password: 'battery-staple' }))).toMatchObject({
      kind: 'INVALID',
      code: 'WRONG_PASSWORD',
    });
    expect(ports.vault.sealed).toEqual([]);
    expect(ports.store.certificates.size).toBe(0);
    expect(ports.store.audit).toEqual([]);
  });

  it('refuses a certificate that is not valid yet at the clock’s now', async () => {
    ports.clock.set(new Date('2026-11-01T00:00:00Z'));

    expect((await failure(upload('alice-smime.der'))).code).toBe('CERTIFICATE_NOT_YET_VALID');
  });

  it(`refuses content over ${MAX_FILE_BYTES / 1024} KB as 413 FILE_TOO_LARGE, naming its size`, async () => {
    const content = Buffer.alloc(70 * 1024, 1).toString('base64');

    expect(await failure(upload('alice-smime.der', { fileName: 'big.der', content }))).toEqual({
      kind: 'PAYLOAD_TOO_LARGE',
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('"big.der" is 70 KB; certificate files can be at most 64 KB'),
    });
  });

  it('refuses a file one byte over the cap, naming its size', async () => {
    const content = Buffer.alloc(MAX_FILE_BYTES + 1, 1).toString('base64');

    expect(await failure(upload('alice-smime.der', { fileName: 'big.der', content }))).toMatchObject({
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('"big.der" is 65 KB'),
    });
  });

  it('hands a file of exactly the cap to the parser', async () => {
    const content = Buffer.alloc(MAX_FILE_BYTES, 1).toString('base64');

    expect((await failure(upload('alice-smime.der', { fileName: 'noise.der', content }))).code).toBe(
      'NOT_A_CERTIFICATE',
    );
  });

  it('retries after losing a race to a parallel upload, and both certificates reach each device once', async () => {
    const read = ports.store.readCertificateState.bind(ports.store);
    let reads = 0;
    ports.store.readCertificateState = async (userSub) => {
      const state = await read(userSub);
      reads += 1;
      // Between this read and the write, another tab uploads another file.
      if (reads === 1) await upload('alice-smime.der');
      return state;
    };

    const { certificate: summary } = await upload('alice-vpn.p12');

    expect(ports.metrics.counts.LostRace).toBe(1);
    expect(ports.store.certificates.size).toBe(2);
    for (const deviceId of [PIXEL, IPHONE]) {
      expect(
        commandOf(deviceId, 'INSTALL_CERTIFICATE')
          .map((c) => c.certificate?.name)
          .sort(),
      ).toEqual(['Alice Example', 'alice-vpn']);
    }
    expect(ports.vault.sealed).toHaveLength(1);
    expect(ports.store.audit.filter((e) => e.detail?.startsWith('alice-vpn'))).toHaveLength(1);
    expect(certificate(summary.certificateId)?.version).toBe(1);
  });

  it('retries when a device was activated between read and write (the device-limit lock moved)', async () => {
    const read = ports.store.readCertificateState.bind(ports.store);
    let reads = 0;
    ports.store.readCertificateState = async (userSub) => {
      const state = await read(userSub);
      reads += 1;
      if (reads === 1) {
        ports.store.limitLocks.set(ALICE_SUB, 1);
        storeDevice(
          deviceRecord({ deviceId: PENDING, facts: { platform: 'ANDROID', deviceType: 'Galaxy' } }),
        );
      }
      return state;
    };

    await upload('alice-smime.der');

    expect(ports.metrics.counts.LostRace).toBe(1);
    expect(
      commands('INSTALL_CERTIFICATE')
        .map((c) => c.deviceId)
        .sort(),
    ).toEqual([PIXEL, IPHONE, PENDING]);
  });

  it('answers 409 BUSY after ten lost races in a row, waking no device', async () => {
    ports.store.saveCertificates = async () => {
      throw new ConcurrentUpdateError('always');
    };

    expect(await failure(upload('alice-smime.der'))).toMatchObject({ kind: 'CONFLICT', code: 'BUSY' });
    expect(ports.metrics.counts.LostRace).toBe(MAX_RACE_RETRIES);
    expect(ports.wakeUps).toEqual([]);
  });
});

describe('uploadCertificate with replaces', () => {
  let original: Awaited<ReturnType<typeof upload>>['certificate'];

  beforeEach(async () => {
    original = (await upload('alice-vpn-legacy.p12')).certificate;
    ports.clock.advanceMinutes(60);
  });

  it('keeps the id and the upload time, sets replacedAt and moves the record to its next version', async () => {
    const { certificate: summary, replaced } = await upload('alice-ec.p12', {
      replaces: original.certificateId,
    });

    expect(replaced).toBe(true);
    expect(summary).toMatchObject({
      certificateId: original.certificateId,
      name: 'alice-ec',
      uploadedAt: original.uploadedAt,
      replacedAt: at(60),
    });
    expect(ports.store.certificates.size).toBe(1);
    expect(certificate(original.certificateId)).toMatchObject({
      version: 2,
      fingerprintSha256: summary.fingerprintSha256,
    });
  });

  it('cancels the old file’s installs no device has picked up, and queues the new file for each device', async () => {
    const oldInstalls = commands('INSTALL_CERTIFICATE');

    const { certificate: summary } = await upload('alice-ec.p12', { replaces: original.certificateId });

    for (const old of oldInstalls) {
      expect(ports.store.commands.get(old.commandId)).toMatchObject({
        status: 'CANCELLED',
        completedAt: at(60),
      });
    }
    const waiting = commands('INSTALL_CERTIFICATE').filter((c) => c.status === 'QUEUED');
    expect(waiting.map((c) => c.deviceId).sort()).toEqual([PIXEL, IPHONE]);
    expect(waiting.every((c) => c.certificate?.fingerprintSha256 === summary.fingerprintSha256)).toBe(true);
  });

  it('leaves an install the device has already picked up as it is', async () => {
    const [sent] = commandOf(PIXEL, 'INSTALL_CERTIFICATE');
    if (!sent) throw new Error('no install for the Pixel');
    storeCommand({ ...sent, status: 'SENT', sentAt: at(-30) });

    await upload('alice-ec.p12', { replaces: original.certificateId });

    expect(ports.store.commands.get(sent.commandId)?.status).toBe('SENT');
  });

  it('seals the new key under the same certificate id, and writes CERTIFICATE_REPLACED', async () => {
    await upload('alice-ec.p12', { replaces: original.certificateId });

    expect(ports.vault.sealed.map((s) => s.context)).toEqual([
      { userSub: ALICE_SUB, certificateId: original.certificateId },
      { userSub: ALICE_SUB, certificateId: original.certificateId },
    ]);
    expect(ports.store.audit.at(-1)).toMatchObject({
      action: 'CERTIFICATE_REPLACED',
      deviceId: ACCOUNT_DEVICE_ID,
    });
  });

  it('answers 404 CERTIFICATE_NOT_FOUND for an id not in the list', async () => {
    expect(await failure(upload('alice-ec.p12', { replaces: UNKNOWN_ID }))).toMatchObject({
      kind: 'NOT_FOUND',
      code: 'CERTIFICATE_NOT_FOUND',
    });
  });

  it('refuses the very file the certificate already has as DUPLICATE_CERTIFICATE', async () => {
    expect(await failure(upload('alice-vpn.p12', { replaces: original.certificateId }))).toEqual({
      kind: 'CONFLICT',
      code: 'DUPLICATE_CERTIFICATE',
      message: expect.stringContaining('already has'),
    });
  });
});

describe('deleteCertificate', () => {
  const remove = (certificateId = CERT_ID) =>
    deleteCertificate(ports.certificates, caller(), certificateId, ORIGIN);

  beforeEach(() => {
    storeCertificate(certificateRecord());
  });

  it('takes the certificate out of the list at once', async () => {
    await remove();

    expect(ports.store.certificates.size).toBe(0);
    expect((await listCertificates(ports.certificates, caller())).certificates).toEqual([]);
  });

  it('cancels an install no device has picked up instead of queuing a remove, and wakes no one for it', async () => {
    const waiting = install(PIXEL);
    storeCommand(waiting);

    await remove();

    expect(ports.store.commands.get(waiting.commandId)).toMatchObject({
      status: 'CANCELLED',
      completedAt: CERTIFICATES_NOW.toISOString(),
    });
    expect(commands('REMOVE_CERTIFICATE')).toEqual([]);
    expect(ports.wakeUps).toEqual([]);
  });

  it.each([
    ['SENT', { status: 'SENT', sentAt: at(-5) }],
    ['DONE', { status: 'DONE', sentAt: at(-5), completedAt: at(-4) }],
  ] as const)(
    'queues REMOVE_CERTIFICATE for a device whose install was %s, and wakes it',
    async (_, state) => {
      storeCommand(install(IPHONE, state));

      await remove();

      expect(commandOf(IPHONE, 'REMOVE_CERTIFICATE')).toEqual([
        expect.objectContaining({
          status: 'QUEUED',
          certificate: { certificateId: CERT_ID, name: 'Alice Example', fingerprintSha256: FINGERPRINT },
        }),
      ]);
      expect(ports.wakeUps.map((d) => d.deviceId)).toEqual([IPHONE]);
    },
  );

  it('queues REMOVE_CERTIFICATE for a device whose result is kept after the command itself has gone', async () => {
    ports.store.certificates.clear();
    storeCertificate(certificateRecord({ deliveries: { [PIXEL]: { status: 'INSTALLED', at: at(-60) } } }));

    await remove();

    expect(commands('REMOVE_CERTIFICATE').map((c) => c.deviceId)).toEqual([PIXEL]);
  });

  it('queues nothing for a device that never got the certificate', async () => {
    await remove();

    expect(commands()).toEqual([]);
  });

  it('writes a CERTIFICATE_DELETED audit event naming how many devices it is removed from', async () => {
    storeCommand(install(IPHONE, { status: 'DONE', completedAt: at(-4) }));

    await remove();

    expect(ports.store.audit).toEqual([
      expect.objectContaining({
        action: 'CERTIFICATE_DELETED',
        deviceId: ACCOUNT_DEVICE_ID,
        detail: `Alice Example (${FINGERPRINT.slice(0, 11)}…), removed from 1 device(s)`,
      }),
    ]);
  });

  it('answers 404 CERTIFICATE_NOT_FOUND for an id not in the list', async () => {
    expect(await failure(remove(UNKNOWN_ID))).toMatchObject({
      kind: 'NOT_FOUND',
      code: 'CERTIFICATE_NOT_FOUND',
    });
  });

  it('retries when the set changed between read and write', async () => {
    const read = ports.store.readCertificateState.bind(ports.store);
    let bumped = false;
    ports.store.readCertificateState = async (userSub) => {
      const state = await read(userSub);
      if (!bumped) {
        bumped = true;
        const set = ports.store.certificateSets.get(userSub);
        ports.store.certificateSets.set(userSub, {
          version: (set?.version ?? 0) + 1,
          count: set?.count ?? 0,
        });
      }
      return state;
    };

    await remove();

    expect(ports.metrics.counts.LostRace).toBe(1);
    expect(ports.store.certificates.size).toBe(0);
    expect(ports.store.audit).toHaveLength(1);
  });
});

describe('listCertificates', () => {
  const list = async () => (await listCertificates(ports.certificates, caller())).certificates;
  const deliveries = async () => (await list())[0]?.deliveries;

  beforeEach(() => {
    storeCertificate(certificateRecord());
  });

  it.each([
    ['VALID', 31 * 24 * 60, 31],
    ['EXPIRES_SOON', 29 * 24 * 60, 29],
    ['EXPIRES_SOON', 60, 0],
    ['EXPIRED', -1, 0],
  ] as const)(
    'says the certificate is %s with %i minutes left (%i whole days)',
    async (state, minutes, daysLeft) => {
      storeCertificate(certificateRecord({ validTo: at(minutes) }));

      expect((await list())[0]?.expiry).toEqual({ state, daysLeft });
    },
  );

  it('says what the portal takes: 20 certificates, files of 64 KiB', async () => {
    expect((await listCertificates(ports.certificates, caller())).limits).toEqual({
      maxCertificates: 20,
      maxFileBytes: 64 * 1024,
    });
  });

  it('shows a queued install as WAITING, since it was queued', async () => {
    storeCommand(install(PIXEL));

    expect(await deliveries()).toEqual([
      { deviceId: PIXEL, deviceName: 'Pixel 8', status: 'WAITING', at: at(-10), error: null },
    ]);
  });

  it('shows an install the device picked up as SENT, since it was sent', async () => {
    storeCommand(install(PIXEL, { status: 'SENT', sentAt: at(-3) }));

    expect(await deliveries()).toEqual([expect.objectContaining({ status: 'SENT', at: at(-3) })]);
  });

  it('shows a done install as INSTALLED, and a failed one as FAILED with the device’s words', async () => {
    storeCommand(install(PIXEL, { status: 'DONE', sentAt: at(-3), completedAt: at(-2) }));
    storeCommand(install(IPHONE, { status: 'FAILED', completedAt: at(-1), error: 'No space for profiles' }));

    expect(await deliveries()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ deviceId: PIXEL, status: 'INSTALLED', at: at(-2), error: null }),
        expect.objectContaining({
          deviceId: IPHONE,
          status: 'FAILED',
          at: at(-1),
          error: 'No space for profiles',
        }),
      ]),
    );
  });

  it('shows an install that waited out its 90 days as FAILED, saying why', async () => {
    storeCommand(install(PIXEL, { createdAt: at(-91 * 24 * 60), expiresAt: at(-24 * 60) }));

    expect(await deliveries()).toEqual([
      expect.objectContaining({
        status: 'FAILED',
        at: at(-24 * 60),
        error: expect.stringContaining('90 days'),
      }),
    ]);
  });

  it('shows the result kept on the certificate once the command itself has gone', async () => {
    ports.store.certificates.clear();
    storeCertificate(
      certificateRecord({
        deliveries: {
          [PIXEL]: { status: 'INSTALLED', at: at(-600) },
          [IPHONE]: { status: 'FAILED', at: at(-500), error: 'User declined' },
        },
      }),
    );

    expect(await deliveries()).toEqual(
      expect.arrayContaining([
        { deviceId: PIXEL, deviceName: 'Pixel 8', status: 'INSTALLED', at: at(-600), error: null },
        { deviceId: IPHONE, deviceName: 'iPhone 15', status: 'FAILED', at: at(-500), error: 'User declined' },
      ]),
    );
  });

  it('goes by the latest install of the current file: a newer one over a kept result, not the old file’s', async () => {
    ports.store.certificates.clear();
    storeCertificate(certificateRecord({ deliveries: { [PIXEL]: { status: 'INSTALLED', at: at(-600) } } }));
    storeCommand(install(PIXEL, { createdAt: at(-5) }));
    storeCommand(
      install(IPHONE, {
        status: 'DONE',
        completedAt: at(-2),
        certificate: { certificateId: CERT_ID, name: 'Alice Example', fingerprintSha256: 'BB:OLD' },
      }),
    );

    expect(await deliveries()).toEqual([expect.objectContaining({ deviceId: PIXEL, status: 'WAITING' })]);
  });

  it('ignores a cancelled install', async () => {
    storeCommand(install(PIXEL, { status: 'CANCELLED', completedAt: at(-1) }));

    expect(await deliveries()).toEqual([]);
  });

  it('lists deliveries on Active devices only', async () => {
    storeCommand(install(RETIRED, { status: 'DONE', completedAt: at(-2) }));

    expect(await deliveries()).toEqual([]);
  });

  it('lists the newest first, a replaced certificate by when it was replaced', async () => {
    storeCertificate(
      certificateRecord({
        certificateId: 'e0000000-0000-4000-8000-000000000002',
        name: 'Newer',
        fingerprintSha256: 'AA:02',
        uploadedAt: at(-60),
      }),
    );
    storeCertificate(
      certificateRecord({
        certificateId: 'e0000000-0000-4000-8000-000000000003',
        name: 'Replaced',
        fingerprintSha256: 'AA:03',
        uploadedAt: at(-60 * 48),
        replacedAt: at(-1),
      }),
    );

    expect((await list()).map((c) => c.name)).toEqual(['Replaced', 'Newer', 'Alice Example']);
  });

  it('never lists another user’s certificates', async () => {
    storeCertificate(certificateRecord({ userSub: BOB_SUB, certificateId: UNKNOWN_ID, name: 'Bob' }));

    expect((await list()).map((c) => c.name)).toEqual(['Alice Example']);
  });
});

describe('certificateForDevice', () => {
  const pixel = () => ports.store.device(PIXEL) as DeviceRecord;
  let deviceKeys: { publicKey: KeyObject; privateKey: KeyObject };
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');

  beforeEach(() => {
    deviceKeys = generateKeyPairSync('x25519');
  });

  it('seals the private key to the device’s key: the device opens it, bound to this certificate and itself', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    const response = await certificateForDevice(
      ports.certificates,
      pixel(),
      summary.certificateId,
      spki(deviceKeys.publicKey),
    );

    if (!response.privateKey) throw new Error('no key was sent');
    const opened = openOnDevice(
      response.privateKey,
      deviceKeys.privateKey,
      sealBinding(summary.certificateId, PIXEL),
    );
    expect(opened.equals(fixtureKey('alice-vpn.p12'))).toBe(true);
    expect(JSON.stringify(response)).not.toContain(fixtureKey('alice-vpn.p12').toString('base64'));
  });

  it('opens the key from the vault under the user and the certificate', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    await certificateForDevice(
      ports.certificates,
      pixel(),
      summary.certificateId,
      spki(deviceKeys.publicKey),
    );

    expect(ports.vault.opened).toEqual([{ userSub: ALICE_SUB, certificateId: summary.certificateId }]);
  });

  it('answers the certificate and its chain as base64 DER, with the fingerprint', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');

    const response = await certificateForDevice(
      ports.certificates,
      pixel(),
      summary.certificateId,
      spki(deviceKeys.publicKey),
    );

    expect(response).toMatchObject({
      certificateId: summary.certificateId,
      fingerprintSha256: summary.fingerprintSha256,
      chain: [certificateFixture('example-ca.der').toString('base64')],
    });
    expect(new X509Certificate(Buffer.from(response.certificate, 'base64')).fingerprint256).toBe(
      summary.fingerprintSha256,
    );
  });

  it('cannot be opened for another device, nor with another key', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');
    const response = await certificateForDevice(
      ports.certificates,
      pixel(),
      summary.certificateId,
      spki(deviceKeys.publicKey),
    );
    const sealed = response.privateKey;
    if (!sealed) throw new Error('no key was sent');

    expect(() =>
      openOnDevice(sealed, deviceKeys.privateKey, sealBinding(summary.certificateId, IPHONE)),
    ).toThrow();
    expect(() => openOnDevice(sealed, deviceKeys.privateKey, sealBinding(CERT_ID, PIXEL))).toThrow();
    expect(() =>
      openOnDevice(
        sealed,
        generateKeyPairSync('x25519').privateKey,
        sealBinding(summary.certificateId, PIXEL),
      ),
    ).toThrow();
  });

  it('answers no key for a certificate uploaded without one', async () => {
    const { certificate: summary } = await upload('alice-smime.der');

    const response = await certificateForDevice(
      ports.certificates,
      pixel(),
      summary.certificateId,
      spki(deviceKeys.publicKey),
    );

    expect(response.privateKey).toBeNull();
    expect(ports.vault.opened).toEqual([]);
  });

  it.each([
    ['an EC P-256 key', () => spki(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey)],
    ['an Ed25519 key', () => spki(generateKeyPairSync('ed25519').publicKey)],
    ['bytes that are no key', () => Buffer.from('not a key at all, just some bytes here').toString('base64')],
  ])('refuses %s as 400 DEVICE_KEY_INVALID, before reading anything', async (_, key) => {
    const { certificate: summary } = await upload('alice-vpn.p12');
    const getCertificate = vi.spyOn(ports.store, 'getCertificate');

    expect(
      await failure(certificateForDevice(ports.certificates, pixel(), summary.certificateId, key())),
    ).toMatchObject({
      kind: 'INVALID',
      code: 'DEVICE_KEY_INVALID',
    });
    expect(getCertificate).not.toHaveBeenCalled();
  });

  it('answers 404 CERTIFICATE_NOT_FOUND for a certificate the user has deleted', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');
    await deleteCertificate(ports.certificates, caller(), summary.certificateId, ORIGIN);

    expect(
      await failure(
        certificateForDevice(ports.certificates, pixel(), summary.certificateId, spki(deviceKeys.publicKey)),
      ),
    ).toMatchObject({ kind: 'NOT_FOUND', code: 'CERTIFICATE_NOT_FOUND' });
  });

  it('answers 404 to another user’s device asking for this user’s certificate', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');
    const bobs = ports.store.device(BOBS_PHONE) as DeviceRecord;

    expect(
      (
        await failure(
          certificateForDevice(ports.certificates, bobs, summary.certificateId, spki(deviceKeys.publicKey)),
        )
      ).code,
    ).toBe('CERTIFICATE_NOT_FOUND');
  });
});

describe('the device’s result of a certificate command (recordResult)', () => {
  const notices: unknown[] = [];
  const commandPorts = () => ({
    ...ports.commands,
    notify: async (notice: unknown) => {
      notices.push(notice);
    },
  });
  let certificateId: string;
  let sent: CommandRecord;

  beforeEach(async () => {
    notices.length = 0;
    certificateId = (await upload('alice-vpn.p12')).certificate.certificateId;
    const [queued] = commandOf(PIXEL, 'INSTALL_CERTIFICATE');
    if (!queued) throw new Error('no install for the Pixel');
    sent = { ...queued, status: 'SENT', sentAt: at(1) };
    storeCommand(sent);
    ports.clock.advanceMinutes(2);
  });

  const report = (result: { status: 'DONE' | 'FAILED'; error?: string }) =>
    recordResult(commandPorts(), ports.store.device(PIXEL) as DeviceRecord, sent.commandId, result, ORIGIN);

  it('keeps an INSTALLED result on the certificate for a DONE install, without a mail to the user', async () => {
    await report({ status: 'DONE' });

    expect(certificate(certificateId)?.deliveries).toEqual({ [PIXEL]: { status: 'INSTALLED', at: at(2) } });
    expect(ports.store.commands.get(sent.commandId)?.status).toBe('DONE');
    expect(notices).toEqual([]);
  });

  it('keeps a FAILED result with the device’s error', async () => {
    await report({ status: 'FAILED', error: 'The keystore is locked' });

    expect(certificate(certificateId)?.deliveries[PIXEL]).toEqual({
      status: 'FAILED',
      at: at(2),
      error: 'The keystore is locked',
    });
  });

  it('keeps no result when the certificate was replaced meanwhile (another file), yet finishes the command', async () => {
    await upload('alice-ec.p12', { replaces: certificateId });

    await report({ status: 'DONE' });

    expect(certificate(certificateId)?.deliveries).toEqual({});
    expect(ports.store.commands.get(sent.commandId)?.status).toBe('DONE');
  });

  it('finishes the command of a certificate deleted meanwhile, keeping nothing', async () => {
    await deleteCertificate(ports.certificates, caller(), certificateId, ORIGIN);

    await report({ status: 'DONE' });

    expect(ports.store.commands.get(sent.commandId)?.status).toBe('DONE');
    expect(ports.store.certificates.size).toBe(0);
  });
});

describe('cancelling a certificate command (cancelCommand)', () => {
  it.each(['INSTALL_CERTIFICATE', 'REMOVE_CERTIFICATE'] as const)(
    'refuses to cancel a waiting %s with 409 FOLLOWS_CERTIFICATES: the Certificates page decides',
    async (action) => {
      const command = install(PIXEL, { action });
      storeCommand(command);

      expect(
        await failure(cancelCommand(ports.commands, caller(), PIXEL, command.commandId, ORIGIN)),
      ).toMatchObject({
        kind: 'CONFLICT',
        code: 'FOLLOWS_CERTIFICATES',
      });
      expect(ports.store.commands.get(command.commandId)?.status).toBe('QUEUED');
    },
  );
});

describe('a device that enrolls later (enrollAgent)', () => {
  const FACTS: DeviceFacts = {
    platform: 'ANDROID',
    deviceType: 'Pixel 9',
    manufacturer: 'Google',
    osVersion: '15',
  };

  /** A PIN registration of an Android device, verified at /go: the agent's token. */
  async function verified(): Promise<{ deviceId: string; enrollmentToken: string }> {
    const { device } = await createRegistration(
      ports.registration,
      { sub: ALICE_SUB, username: ALICE_SUB, groups: [], authTime: 0 },
      { platform: 'ANDROID', method: 'PIN', delivery: ['EMAIL'] },
      ORIGIN,
    );
    const go = await verifyAtGo(ports.enrollment, { username: ALICE_EMAIL, pin: '11223344' }, ORIGIN);
    if (!go.enrollmentToken) throw new Error('/go gave no enrollment token');
    return { deviceId: device.deviceId, enrollmentToken: go.enrollmentToken };
  }

  beforeEach(() => {
    const clock = ports.clock;
    ports = memoryPorts(['11223344']);
    ports.clock.set(clock.now());
    storeDevice(
      deviceRecord({
        deviceId: PIXEL,
        platform: 'ANDROID',
        facts: { platform: 'ANDROID', deviceType: 'Pixel 8' },
      }),
    );
  });

  it('queues an install of each of the user’s certificates with the activation', async () => {
    await upload('alice-smime.der');
    await upload('alice-vpn.p12');
    const { deviceId, enrollmentToken } = await verified();

    await enrollAgent(ports.enrollment, { enrollmentToken, device: FACTS }, ORIGIN);

    expect(
      commandOf(deviceId, 'INSTALL_CERTIFICATE')
        .map((c) => c.certificate?.name)
        .sort(),
    ).toEqual(['Alice Example', 'alice-vpn']);
    expect(commandOf(deviceId, 'INSTALL_CERTIFICATE').every((c) => c.status === 'QUEUED')).toBe(true);
  });

  it('hands the installs to the new device at its first check-in', async () => {
    const { certificate: summary } = await upload('alice-vpn.p12');
    const { enrollmentToken } = await verified();
    const agent = await enrollAgent(ports.enrollment, { enrollmentToken, device: FACTS }, ORIGIN);

    const checkin = await checkIn(ports.agent, `Device ${agent.deviceCredential}`, {}, ORIGIN);

    expect(checkin.commands).toEqual([
      expect.objectContaining({
        action: 'INSTALL_CERTIFICATE',
        certificate: {
          certificateId: summary.certificateId,
          name: 'alice-vpn',
          fingerprintSha256: summary.fingerprintSha256,
        },
      }),
    ]);
  });

  it('queues nothing when the user has no certificates', async () => {
    const { deviceId, enrollmentToken } = await verified();

    await enrollAgent(ports.enrollment, { enrollmentToken, device: FACTS }, ORIGIN);

    expect(commandOf(deviceId, 'INSTALL_CERTIFICATE')).toEqual([]);
  });

  it('retries when a certificate is uploaded while it enrolls, and the new device gets that one too', async () => {
    await upload('alice-smime.der');
    const { deviceId, enrollmentToken } = await verified();
    const read = ports.store.readCertificateSet.bind(ports.store);
    let reads = 0;
    ports.store.readCertificateSet = async (userSub) => {
      const set = await read(userSub);
      reads += 1;
      if (reads === 1) await upload('alice-vpn.p12');
      return set;
    };

    await enrollAgent(ports.enrollment, { enrollmentToken, device: FACTS }, ORIGIN);

    expect(ports.metrics.counts.LostRace).toBe(1);
    expect(
      commandOf(deviceId, 'INSTALL_CERTIFICATE')
        .map((c) => c.certificate?.name)
        .sort(),
    ).toEqual(['Alice Example', 'alice-vpn']);
  });
});

describe('lost races', () => {
  it('waits a little longer, at random, before each new try (writers that collided do not collide again in step)', async () => {
    let lost = 0;
    const save = ports.store.saveCertificates.bind(ports.store);
    ports.store.saveCertificates = async (change) => {
      if (lost++ < 3) throw new ConcurrentUpdateError('lost');
      return save(change);
    };
    const before = ports.clock.now().getTime();

    await upload('alice-smime.der');

    const waits = ports.certificateSleep.deadlines.map((d) => d.getTime() - before);
    expect(waits).toHaveLength(3);
    for (const ms of waits) expect(ms).toBeGreaterThanOrEqual(5);
    for (const ms of waits) expect(ms).toBeLessThanOrEqual(55);
  });
});
