/**
 * Certificates against the local stack (issue 13.3): uploads parsed and kept in DynamoDB Local with
 * the private key sealed by the local KMS, delivered to a running device simulator and removed from
 * it on delete, and the races a per-user set of certificates must survive, with parallel requests.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../functions/adapters/items.ts';
import type {
  ApiErrorBody,
  CertificateListResponse,
  CertificateSummary,
  CertificateUploadResponse,
} from '../../functions/core/api-types.ts';
import { parseCertificateFile } from '../../functions/core/certificate-file.ts';
import { MAX_CERTIFICATES } from '../../functions/core/certificates.ts';
import { base64Of, makeCertificatePem } from '../certificate-maker.ts';
import { api, portalUrl } from './helpers.ts';
import { newUser, putSettings, rawItem, resetSettings, type TestUser, userItems } from './local-table.ts';
import { enrolledDevice, onlineDevice, simulate, stop, until } from './simulator.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/certificates');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));
const P12_PASSWORD = 'correct-horse';

const dir = mkdtempSync(join(tmpdir(), 'certificates-'));
beforeAll(async () => {
  await putSettings({ goAttemptsPerAddress: 10_000 });
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await resetSettings();
});

function upload(
  user: TestUser,
  fileName: string,
  content: Buffer | string,
  extra: Record<string, string> = {},
) {
  return api<CertificateUploadResponse & ApiErrorBody>('/api/certificates', {
    method: 'POST',
    token: user.accessToken,
    body: { fileName, content: base64Of(content), ...extra },
  });
}

async function listed(user: TestUser): Promise<CertificateSummary[]> {
  const answer = await api<CertificateListResponse>('/api/certificates', { token: user.accessToken });
  expect(answer.status).toBe(200);
  return answer.body.certificates;
}

interface SimulatorState {
  certificates?: { certificateId: string; fingerprintSha256: string; withPrivateKey: boolean }[];
}
const simulatorState = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as SimulatorState;

describe('uploading certificates', () => {
  it('takes a PEM, a DER and a PKCS#12 and lists each with what the file says', async () => {
    const user = await newUser();
    expect((await upload(user, 'alice-smime.pem', fixture('alice-smime-chain.pem'))).status).toBe(201);
    expect((await upload(user, 'example-ca.der', fixture('example-ca.der'))).status).toBe(201);
    const p12 = await upload(user, 'alice-vpn.p12', fixture('alice-vpn.p12'), { password: P12_PASSWORD });
    expect(p12.status, JSON.stringify(p12.body)).toBe(201);

    const list = await listed(user);
    expect(list.map((c) => [c.name, c.format, c.hasPrivateKey, c.chainLength])).toEqual([
      ['alice-vpn', 'PKCS12', true, 1],
      ['Example Corp Test CA', 'DER', false, 0],
      ['Alice Example', 'PEM', false, 1],
    ]);
    expect(list[2]).toMatchObject({
      subject: 'C=US, O=Example Corp, CN=Alice Example, emailAddress=alice@example.com',
      issuer: 'C=US, O=Example Corp, CN=Example Corp Test CA',
      keyUsage: ['Digital signature', 'Key encipherment', 'Email protection', 'Client authentication'],
      fingerprintSha256: parseCertificateFile(
        { fileName: 'x.pem', bytes: fixture('alice-smime-chain.pem') },
        new Date(),
      ).fingerprintSha256,
    });
  });

  it('keeps the private key only sealed, and neither it nor the password reaches the table in clear', async () => {
    const user = await newUser();
    const answer = await upload(user, 'alice-vpn.p12', fixture('alice-vpn.p12'), { password: P12_PASSWORD });
    expect(answer.status).toBe(201);
    const pkcs8 = parseCertificateFile(
      { fileName: 'alice-vpn.p12', bytes: fixture('alice-vpn.p12'), password: P12_PASSWORD },
      new Date(),
    ).privateKeyPkcs8;
    const item = await rawItem(keys.user(user.sub), `CERT#${answer.body.certificate.certificateId}`);
    const stored = JSON.stringify(item);
    expect(pkcs8).not.toBeNull();
    expect(stored).not.toContain(pkcs8?.toString('base64').slice(0, 64));
    expect(stored).not.toContain(P12_PASSWORD);
    expect(item?.certificate).toMatchObject({ privateKey: { encryptedDataKey: expect.any(String) } });
    expect(JSON.stringify(answer.body)).not.toContain('privateKey"');
  });

  it.each([
    [
      'a file that is no certificate',
      'notes.txt',
      fixture('not-a-certificate.txt'),
      {},
      400,
      'NOT_A_CERTIFICATE',
    ],
    [
      'a PKCS#12 without its password',
      'alice-vpn.p12',
      fixture('alice-vpn.p12'),
      {},
      400,
      'PASSWORD_REQUIRED',
    ],
    [
      'a wrong password',
      'alice-vpn.p12',
      fixture('alice-vpn.p12'),
      { password: 'nope' },
      400,
      'WRONG_PASSWORD',
    ],
    [
      'a PEM with its private key',
      'k.pem',
      fixture('alice-smime-with-key.pem'),
      {},
      400,
      'PRIVATE_KEY_IN_PEM',
    ],
    [
      'an expired certificate',
      'old.pem',
      makeCertificatePem('old', { notBefore: new Date('2020-01-01'), notAfter: new Date('2021-01-01') }),
      {},
      400,
      'CERTIFICATE_EXPIRED',
    ],
    [
      'a certificate not valid yet',
      'future.pem',
      makeCertificatePem('future', { notBefore: new Date(Date.now() + 86_400_000) }),
      {},
      400,
      'CERTIFICATE_NOT_YET_VALID',
    ],
    ['a file over 64 KB', 'big.pem', Buffer.alloc(70 * 1024, 65), {}, 413, 'FILE_TOO_LARGE'],
  ] as const)(
    'refuses %s with a 4xx that says what to do',
    async (_what, fileName, content, extra, status, code) => {
      const user = await newUser();
      const answer = await upload(user, fileName, content, extra);
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expect(answer.body.error.message.length).toBeGreaterThan(20);
      expect(await listed(user)).toEqual([]);
    },
  );

  it('answers parallel uploads of one file with one certificate and DUPLICATE_CERTIFICATE for the rest', async () => {
    const user = await newUser();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => upload(user, 'alice.der', fixture('alice-smime.der'))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    expect(
      answers.filter((a) => a.status === 409).every((a) => a.body.error.code === 'DUPLICATE_CERTIFICATE'),
    ).toBe(true);
    expect(await listed(user)).toHaveLength(1);
  });

  it(`keeps at most ${MAX_CERTIFICATES} certificates when the last ones arrive at once`, async () => {
    const user = await newUser();
    for (let i = 0; i < MAX_CERTIFICATES - 2; i++) {
      expect((await upload(user, `cap-${i}.pem`, makeCertificatePem(`cap-${i}`))).status).toBe(201);
    }
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => upload(user, `last-${i}.pem`, makeCertificatePem(`last-${i}`))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 409, 409, 409, 409]);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error.code)).toEqual(
      Array(4).fill('TOO_MANY_CERTIFICATES'),
    );
    expect(await listed(user)).toHaveLength(MAX_CERTIFICATES);
  }, 60_000);

  it('replaces a certificate under its id with a newer file, and refuses the same file again', async () => {
    const user = await newUser();
    const first = await upload(user, 'old.pem', makeCertificatePem('renewed'));
    const id = first.body.certificate.certificateId;
    const replaced = await upload(user, 'new.pem', makeCertificatePem('renewed'), { replaces: id });
    expect(replaced.status).toBe(200);
    expect(replaced.body.certificate).toMatchObject({ certificateId: id, fileName: 'new.pem' });
    expect(replaced.body.certificate.replacedAt).not.toBeNull();
    const list = await listed(user);
    expect(list.map((c) => c.certificateId)).toEqual([id]);
    expect(list[0]?.fingerprintSha256).not.toBe(first.body.certificate.fingerprintSha256);
  });
});

describe('delivery to devices', () => {
  it('installs on the running simulator, which lists it, and removes it from there on delete', async () => {
    const user = await newUser();
    const device = await onlineDevice(dir, user, 'certificates');
    try {
      const answer = await upload(user, 'alice-vpn.p12', fixture('alice-vpn.p12'), {
        password: P12_PASSWORD,
      });
      expect(answer.status).toBe(201);
      const { certificateId, fingerprintSha256 } = answer.body.certificate;
      const delivered = await until(async () => {
        const [certificate] = await listed(user);
        const delivery = certificate?.deliveries.find((d) => d.deviceId === device.deviceId);
        return delivery?.status === 'INSTALLED' ? delivery : undefined;
      }, 'the install on the device');
      expect(delivered.deviceName).toBeTruthy();
      expect(simulatorState(device.stateFile).certificates).toEqual([
        expect.objectContaining({ certificateId, fingerprintSha256, withPrivateKey: true }),
      ]);
      const { stdout } = await simulate(['certificates', '--state', device.stateFile]);
      expect(stdout).toContain('alice-vpn');
      expect(stdout).toContain(fingerprintSha256);

      const deleted = await api(`/api/certificates/${certificateId}`, {
        method: 'DELETE',
        token: user.accessToken,
      });
      expect(deleted.status).toBe(204);
      expect(await listed(user)).toEqual([]);
      await until(
        async () => (simulatorState(device.stateFile).certificates?.length === 0 ? true : undefined),
        'the removal on the device',
      );
    } finally {
      await stop(device.child);
    }
  }, 60_000);

  it('gives a device that enrolls later the certificates already uploaded', async () => {
    const user = await newUser();
    const answer = await upload(user, 'alice-smime.pem', fixture('alice-smime-chain.pem'));
    expect(answer.status).toBe(201);
    const device = await onlineDevice(dir, user, 'later');
    try {
      await until(
        async () => (simulatorState(device.stateFile).certificates?.length === 1 ? true : undefined),
        'the install on the new device',
      );
    } finally {
      await stop(device.child);
    }
  }, 60_000);

  it('never leaves a device that enrolls while a certificate is uploaded without it', async () => {
    for (let round = 0; round < 4; round++) {
      const user = await newUser();
      const [device, uploaded] = await Promise.all([
        enrolledDevice(user),
        upload(user, `race-${round}.pem`, makeCertificatePem(`race-${round}`)),
      ]);
      expect(uploaded.status).toBe(201);
      const installs = (await userItems(user.sub)).filter(
        (item) =>
          item.type === 'COMMAND' &&
          (item.command as { deviceId: string; action: string }).deviceId === device.deviceId &&
          (item.command as { action: string }).action === 'INSTALL_CERTIFICATE',
      );
      expect(installs, `round ${round}`).toHaveLength(1);
    }
  }, 60_000);

  it('hands a device only its own user’s certificates', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const answer = await upload(alice, 'alice.der', fixture('alice-smime.der'));
    const bobsDevice = await enrolledDevice(bob);
    const fetched = await fetch(
      `${portalUrl()}/api/agent/certificates/${answer.body.certificate.certificateId}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Device ${bobsDevice.deviceCredential}`,
        },
        body: JSON.stringify({
          devicePublicKey: generateKeyPairSync('x25519')
            .publicKey.export({ type: 'spki', format: 'der' })
            .toString('base64'),
        }),
      },
    );
    expect(fetched.status).toBe(404);
  });
});
