/**
 * The certificate handlers (issue 13.3) over the mocked AWS clients: the DynamoDB document client
 * through portal-mocks' FakeTable with its transactions checked and written, KMS through FakeKms
 * (data keys bound to their encryption context) and SNS for wake-ups.
 */
import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { DecryptCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import { CreatePlatformEndpointCommand, PublishCommand } from '@aws-sdk/client-sns';
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../../functions/adapters/items.ts';
import { portalTable } from '../../functions/adapters/portal-table.ts';
import type {
  AgentCertificateResponse,
  CertificateListResponse,
  CertificateUploadRequest,
  CertificateUploadResponse,
} from '../../functions/core/api-types.ts';
import { parseCertificateFile } from '../../functions/core/certificate-file.ts';
import { type CertificateChange, sealBinding } from '../../functions/core/certificates.ts';
import type { CommandRecord } from '../../functions/core/commands.ts';
import type { DeviceRecord } from '../../functions/core/device.ts';
import { openOnDevice } from '../../functions/core/device-seal.ts';
import { ConcurrentUpdateError } from '../../functions/core/ports.ts';
import { sha256Hex } from '../../functions/core/secrets.ts';
import { handler as agentCommandResult } from '../../functions/handlers/agent-command-result.ts';
import { handler as agentGetCertificate } from '../../functions/handlers/agent-get-certificate.ts';
import { handler as deleteCertificate } from '../../functions/handlers/delete-certificate.ts';
import { handler as listCertificates } from '../../functions/handlers/list-certificates.ts';
import { handler as uploadCertificate } from '../../functions/handlers/upload-certificate.ts';
import {
  ALICE_SUB,
  accessClaims,
  apiEvent,
  CERTIFICATE_ID,
  CERTIFICATES_NOW,
  type CertificateFixture,
  certificateFixture,
  certificateRecord,
  deviceRecord,
  type JwtClaims,
  jsonBody,
  lambdaContext,
  P12_PASSWORD,
  SMIME_FINGERPRINT,
} from './fixtures.ts';
import {
  auditEvents,
  deletes,
  dynamo,
  errorOf,
  FakeKms,
  type FakeTable,
  kms,
  onlyTransaction,
  resetMocks,
  sns,
  transactionCanceled,
  updates,
} from './portal-mocks.ts';

vi.hoisted(() => {
  process.env.PORTAL_SETTINGS_CACHE_MS = '0';
});

const DEVICE_ID = 'b0000000-0000-4000-8000-000000000001';
const CERT_ID = CERTIFICATE_ID;
const UNKNOWN_ID = 'e0000000-0000-4000-8000-0000000000ff';
const SECRET = 'Q2hlY2staW4tc2VjcmV0LWZvci10aGUtdW5pdC10ZXM';
const AGENT_AUTH = `Device dc1.${ALICE_SUB}.${DEVICE_ID}.${SECRET}`;
const FCM_ARN = 'arn:aws:sns:us-east-1:123456789012:app/GCM/portal-fcm';
const ENDPOINT_ARN = 'arn:aws:sns:us-east-1:123456789012:endpoint/GCM/portal-fcm/0001';
const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-00000000c0de';
const MiB = 1024 * 1024;

const P12S: readonly CertificateFixture[] = ['alice-vpn.p12', 'alice-vpn-legacy.p12', 'alice-ec.p12'];

let table: FakeTable;

/** Alice's Android device, with the credential AGENT_AUTH carries and a push token. */
const pixel = (overrides: Partial<DeviceRecord> = {}) =>
  deviceRecord({
    deviceId: DEVICE_ID,
    platform: 'ANDROID',
    facts: { platform: 'ANDROID', deviceType: 'Pixel 8' },
    credentialHash: sha256Hex(SECRET),
    pushToken: 'fcm-token-0001',
    version: 5,
    ...overrides,
  });

function uploadBody(name: CertificateFixture, overrides: Partial<CertificateUploadRequest> = {}) {
  return {
    fileName: name,
    content: certificateFixture(name).toString('base64'),
    ...(P12S.includes(name) ? { password: P12_PASSWORD } : {}),
    ...overrides,
  };
}

function post(body: unknown, claims: JwtClaims = accessClaims()) {
  return uploadCertificate(
    apiEvent({
      method: 'POST',
      path: '/api/certificates',
      claims,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    lambdaContext('UploadCertificate'),
  );
}

const list = (claims: JwtClaims = accessClaims()) =>
  listCertificates(apiEvent({ path: '/api/certificates', claims }), lambdaContext('ListCertificates'));

const remove = (certificateId: string, claims: JwtClaims = accessClaims()) =>
  deleteCertificate(
    apiEvent({
      method: 'DELETE',
      path: `/api/certificates/${certificateId}`,
      routeKey: 'DELETE /api/certificates/{certificateId}',
      pathParameters: { certificateId },
      claims,
    }),
    lambdaContext('DeleteCertificate'),
  );

function fetchForDevice(
  certificateId: string,
  devicePublicKey: string,
  authorization: string | null = AGENT_AUTH,
) {
  return agentGetCertificate(
    apiEvent({
      method: 'POST',
      path: `/api/agent/certificates/${certificateId}`,
      routeKey: 'POST /api/agent/certificates/{certificateId}',
      pathParameters: { certificateId },
      body: JSON.stringify({ devicePublicKey }),
      ...(authorization ? { headers: { authorization } } : {}),
    }),
    lambdaContext('AgentGetCertificate'),
  );
}

async function uploaded(name: CertificateFixture, overrides: Partial<CertificateUploadRequest> = {}) {
  const result = await post(uploadBody(name, overrides));
  expect(result.statusCode).toBeLessThan(300);
  return jsonBody<CertificateUploadResponse>(result).certificate;
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' }).toString('base64');

/** The PKCS#8 key of a fixture PKCS#12, read independently of the handlers. */
function fixtureKey(name: CertificateFixture): Buffer {
  const parsed = parseCertificateFile(
    { fileName: name, bytes: certificateFixture(name), password: P12_PASSWORD },
    CERTIFICATES_NOW,
  );
  return parsed.privateKeyPkcs8 ?? Buffer.alloc(0);
}

function installCommand(overrides: Partial<CommandRecord> = {}): CommandRecord {
  return {
    commandId: 'c0000000-0000-4000-8000-000000000001',
    userSub: ALICE_SUB,
    deviceId: DEVICE_ID,
    action: 'INSTALL_CERTIFICATE',
    status: 'DONE',
    createdAt: '2027-01-01T09:00:00.000Z',
    sentAt: '2027-01-01T09:05:00.000Z',
    completedAt: '2027-01-01T09:06:00.000Z',
    expiresAt: '2027-04-01T09:00:00.000Z',
    certificate: { certificateId: CERT_ID, name: 'Alice Example', fingerprintSha256: SMIME_FINGERPRINT },
    ...overrides,
  };
}

beforeEach(() => {
  table = resetMocks().applyTransactions().putDevice(pixel());
  new FakeKms();
  // The fixtures are valid from December 2026: the handlers' clock is moved past that.
  vi.setSystemTime(CERTIFICATES_NOW);
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

describe('POST /api/certificates', () => {
  it('answers 201 with the summary of the new certificate', async () => {
    const result = await post(uploadBody('alice-vpn.p12'));

    expect(result.statusCode).toBe(201);
    expect(jsonBody<CertificateUploadResponse>(result).certificate).toMatchObject({
      certificateId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'alice-vpn',
      format: 'PKCS12',
      hasPrivateKey: true,
      chainLength: 1,
      replacedAt: null,
      deliveries: [expect.objectContaining({ deviceId: DEVICE_ID, status: 'WAITING' })],
    });
  });

  it('never answers key material or the password', async () => {
    const result = await post(uploadBody('alice-vpn.p12'));

    expect(result.body).not.toContain(P12_PASSWORD);
    expect(result.body).not.toContain('privateKey');
    expect(result.body).not.toContain(fixtureKey('alice-vpn.p12').toString('base64'));
  });

  it('writes the certificate, the set’s next version, the lock check, the installs and the audit event in one transaction', async () => {
    const { certificateId } = await uploaded('alice-vpn.p12');

    const items = onlyTransaction();
    expect(items[0]?.Put).toMatchObject({
      TableName: 'portal-test',
      Item: { ...keys.certificate(ALICE_SUB, certificateId), type: 'CERTIFICATE' },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(updates(items)).toEqual([
      expect.objectContaining({
        Key: keys.certificateSet(ALICE_SUB),
        ConditionExpression: 'attribute_not_exists(pk)',
        ExpressionAttributeValues: { ':next': 1, ':count': 1, ':type': 'CERTIFICATE_SET' },
      }),
    ]);
    expect(items.filter((i) => i.ConditionCheck).map((i) => i.ConditionCheck?.Key)).toEqual([
      keys.limitLock(ALICE_SUB),
    ]);
    expect(table.commands()).toEqual([
      expect.objectContaining({ action: 'INSTALL_CERTIFICATE', deviceId: DEVICE_ID, status: 'QUEUED' }),
    ]);
    expect(auditEvents(items)).toEqual([expect.objectContaining({ action: 'CERTIFICATE_UPLOADED' })]);
  });

  it('keeps the private key encrypted under a KMS data key made for this user and certificate', async () => {
    const { certificateId } = await uploaded('alice-vpn.p12');

    expect(kms).toHaveReceivedCommandExactlyOnceWith(GenerateDataKeyCommand, {
      KeyId: KEY_ARN,
      KeySpec: 'AES_256',
      EncryptionContext: { userSub: ALICE_SUB, certificateId },
    });
    const stored = table.certificate(certificateId);
    expect(stored?.privateKey).toMatchObject({ keyId: KEY_ARN, encryptedDataKey: expect.any(String) });
    expect(JSON.stringify(table.item(keys.certificate(ALICE_SUB, certificateId)))).not.toContain(
      fixtureKey('alice-vpn.p12').toString('base64'),
    );
  });

  it('calls no KMS for a certificate without a key', async () => {
    await uploaded('alice-smime-chain.pem');

    expect(kms.calls()).toHaveLength(0);
  });

  it('wakes the Active device through SNS', async () => {
    vi.stubEnv('SNS_FCM_APPLICATION_ARN', FCM_ARN);
    sns.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT_ARN });

    await uploaded('alice-smime.der');

    expect(sns).toHaveReceivedCommandExactlyOnceWith(PublishCommand, { TargetArn: ENDPOINT_ARN });
  });

  it('answers 200 for a replace, under the same id, with the old version checked', async () => {
    table.putCertificate(certificateRecord()).putCertificateSet(1, 1);

    const result = await post(uploadBody('alice-ec.p12', { replaces: CERT_ID }));

    expect(result.statusCode).toBe(200);
    expect(jsonBody<CertificateUploadResponse>(result).certificate).toMatchObject({
      certificateId: CERT_ID,
      name: 'alice-ec',
      replacedAt: CERTIFICATES_NOW.toISOString(),
    });
    expect(onlyTransaction()[0]?.Put).toMatchObject({
      ConditionExpression: '#certificate.#version = :expected',
      ExpressionAttributeValues: { ':expected': 1 },
    });
    expect(table.certificate(CERT_ID)).toMatchObject({ version: 2, name: 'alice-ec' });
  });

  it('answers 400 VALIDATION_FAILED to content that is not base64, reading nothing', async () => {
    const result = await post(uploadBody('alice-smime.der', { content: 'this is *not* base64!' }));

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });

  it('answers 413 BODY_TOO_LARGE to a body over 1 MiB, before decoding anything', async () => {
    const result = await post(uploadBody('alice-smime.der', { content: 'A'.repeat(MiB) }));

    expect(errorOf(result)).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
    expect(kms.calls()).toHaveLength(0);
  });

  it('answers 413 FILE_TOO_LARGE, naming the size, to a file over 64 KiB in a body under 1 MiB', async () => {
    const content = Buffer.alloc(100 * 1024, 7).toString('base64');

    const result = await post(uploadBody('alice-smime.der', { fileName: 'big.p12', content }));

    expect(errorOf(result)).toMatchObject({
      status: 413,
      code: 'FILE_TOO_LARGE',
      message: expect.stringContaining('"big.p12" is 100 KB'),
    });
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 400 WRONG_PASSWORD to a PKCS#12 with the wrong password, keeping nothing', async () => {
    const result = await post(uploadBody('alice-vpn.p12', { password: 'battery-staple' }));

    expect(errorOf(result)).toMatchObject({ status: 400, code: 'WRONG_PASSWORD' });
    expect(kms.calls()).toHaveLength(0);
    expect(dynamo).not.toHaveReceivedCommand(TransactWriteCommand);
  });

  it('answers 409 DUPLICATE_CERTIFICATE to a file already in the list', async () => {
    await uploaded('alice-smime.der');

    expect(errorOf(await post(uploadBody('alice-smime-chain.pem')))).toMatchObject({
      status: 409,
      code: 'DUPLICATE_CERTIFICATE',
    });
  });

  it('tries again after a transaction lost to a parallel change, and keeps the certificate once', async () => {
    table.cancelNextTransaction(['None', 'ConditionalCheckFailed']);

    const result = await post(uploadBody('alice-smime.der'));

    expect(result.statusCode).toBe(201);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(table.commands()).toHaveLength(1);
  });

  it('answers 503 when the transaction is cancelled for another reason than a lost race', async () => {
    dynamo.on(TransactWriteCommand).rejects(transactionCanceled(['None', 'ThrottlingError']));

    const result = await post(uploadBody('alice-smime.der'));

    expect(errorOf(result)).toMatchObject({ status: 503, code: 'SERVICE_UNAVAILABLE' });
  });
});

describe('GET /api/certificates', () => {
  it('answers 200 with the certificates, their deliveries and the limits', async () => {
    table.putCertificate(certificateRecord()).putCommand(installCommand());

    const result = await list();

    expect(result.statusCode).toBe(200);
    expect(jsonBody<CertificateListResponse>(result)).toEqual({
      certificates: [
        expect.objectContaining({
          certificateId: CERT_ID,
          name: 'Alice Example',
          hasPrivateKey: false,
          deliveries: [
            {
              deviceId: DEVICE_ID,
              deviceName: 'Pixel 8',
              status: 'INSTALLED',
              at: '2027-01-01T09:06:00.000Z',
              error: null,
            },
          ],
        }),
      ],
      limits: { maxCertificates: 20, maxFileBytes: 64 * 1024 },
    });
  });

  it('lists what was uploaded, without the sealed key', async () => {
    await uploaded('alice-vpn.p12');

    const result = await list();

    expect(jsonBody<CertificateListResponse>(result).certificates.map((c) => c.name)).toEqual(['alice-vpn']);
    expect(result.body).not.toContain('encryptedDataKey');
    expect(result.body).not.toContain('privateKey');
  });

  it('reads the caller’s partition only', async () => {
    await list();

    for (const call of dynamo.commandCalls(QueryCommand)) {
      expect(call.args[0].input.ExpressionAttributeValues?.[':pk']).toBe(`USER#${ALICE_SUB}`);
    }
  });
});

describe('DELETE /api/certificates/{certificateId}', () => {
  beforeEach(() => {
    table.putCertificate(certificateRecord()).putCertificateSet(1, 1).putCommand(installCommand());
  });

  it('answers 204 with no body, and the certificate is gone from the table and the list', async () => {
    const result = await remove(CERT_ID);

    expect(result.statusCode).toBe(204);
    expect(result.body).toBe('');
    expect(table.certificate(CERT_ID)).toBeUndefined();
    expect(jsonBody<CertificateListResponse>(await list()).certificates).toEqual([]);
  });

  it('deletes on the version read, and queues REMOVE_CERTIFICATE for the device that installed it', async () => {
    await remove(CERT_ID);

    expect(deletes(onlyTransaction())).toEqual([
      expect.objectContaining({
        Key: keys.certificate(ALICE_SUB, CERT_ID),
        ExpressionAttributeValues: { ':expected': 1 },
      }),
    ]);
    expect(table.commands().filter((c) => c.action === 'REMOVE_CERTIFICATE')).toEqual([
      expect.objectContaining({ deviceId: DEVICE_ID, status: 'QUEUED' }),
    ]);
  });

  it('answers 404 CERTIFICATE_NOT_FOUND for an id not in the list', async () => {
    expect(errorOf(await remove(UNKNOWN_ID))).toMatchObject({ status: 404, code: 'CERTIFICATE_NOT_FOUND' });
  });

  it('answers 404 NOT_FOUND for a path that is no certificate id, reading nothing', async () => {
    expect(errorOf(await remove('not-an-id'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(dynamo).not.toHaveReceivedCommand(QueryCommand);
  });
});

describe('POST /api/agent/certificates/{certificateId}', () => {
  let deviceKeys: { publicKey: KeyObject; privateKey: KeyObject };

  beforeEach(() => {
    deviceKeys = generateKeyPairSync('x25519');
  });

  it('answers 401 without the device credential, reading no certificate', async () => {
    const result = await fetchForDevice(CERT_ID, spki(deviceKeys.publicKey), null);

    expect(errorOf(result)).toMatchObject({ status: 401 });
    expect(kms.calls()).toHaveLength(0);
  });

  it('answers 401 to a credential whose secret is not the device’s', async () => {
    const result = await fetchForDevice(
      CERT_ID,
      spki(deviceKeys.publicKey),
      `Device dc1.${ALICE_SUB}.${DEVICE_ID}.${'x'.repeat(43)}`,
    );

    expect(errorOf(result).status).toBe(401);
  });

  it('answers 200 with the certificate, its chain and the key sealed to the device, which it opens', async () => {
    const { certificateId, fingerprintSha256 } = await uploaded('alice-vpn.p12');

    const result = await fetchForDevice(certificateId, spki(deviceKeys.publicKey));

    expect(result.statusCode).toBe(200);
    const response = jsonBody<AgentCertificateResponse>(result);
    expect(response).toMatchObject({
      certificateId,
      fingerprintSha256,
      chain: [certificateFixture('example-ca.der').toString('base64')],
    });
    expect(new X509Certificate(Buffer.from(response.certificate, 'base64')).fingerprint256).toBe(
      fingerprintSha256,
    );
    if (!response.privateKey) throw new Error('no key was sent');
    const opened = openOnDevice(
      response.privateKey,
      deviceKeys.privateKey,
      sealBinding(certificateId, DEVICE_ID),
    );
    expect(opened.equals(fixtureKey('alice-vpn.p12'))).toBe(true);
    expect(result.body).not.toContain(fixtureKey('alice-vpn.p12').toString('base64'));
  });

  it('has KMS unwrap the data key under the same user and certificate', async () => {
    const { certificateId } = await uploaded('alice-ec.p12');

    await fetchForDevice(certificateId, spki(deviceKeys.publicKey));

    expect(kms).toHaveReceivedCommandExactlyOnceWith(DecryptCommand, {
      KeyId: KEY_ARN,
      EncryptionContext: { userSub: ALICE_SUB, certificateId },
    });
  });

  it('answers 400 DEVICE_KEY_INVALID to a device key that is not X25519', async () => {
    const { certificateId } = await uploaded('alice-vpn.p12');
    const ed25519 = spki(generateKeyPairSync('ed25519').publicKey);

    expect(errorOf(await fetchForDevice(certificateId, ed25519))).toMatchObject({
      status: 400,
      code: 'DEVICE_KEY_INVALID',
    });
    expect(kms).not.toHaveReceivedCommand(DecryptCommand);
  });

  it('answers 404 CERTIFICATE_NOT_FOUND once the user has deleted it', async () => {
    const { certificateId } = await uploaded('alice-vpn.p12');
    expect((await remove(certificateId)).statusCode).toBe(204);

    expect(errorOf(await fetchForDevice(certificateId, spki(deviceKeys.publicKey)))).toMatchObject({
      status: 404,
      code: 'CERTIFICATE_NOT_FOUND',
    });
  });

  it('answers 404 to a device of the user asking for another user’s certificate id', async () => {
    table.putCertificate(certificateRecord({ userSub: '99999999-8888-4777-8666-555555555555' }));

    expect(errorOf(await fetchForDevice(CERT_ID, spki(deviceKeys.publicKey))).status).toBe(404);
  });
});

describe('the result of an install (POST /api/agent/commands/{commandId}/result)', () => {
  const COMMAND_ID = 'c0000000-0000-4000-8000-000000000001';
  const report = (status: 'DONE' | 'FAILED', error?: string) =>
    agentCommandResult(
      apiEvent({
        method: 'POST',
        path: `/api/agent/commands/${COMMAND_ID}/result`,
        routeKey: 'POST /api/agent/commands/{commandId}/result',
        pathParameters: { commandId: COMMAND_ID },
        body: JSON.stringify({ status, ...(error ? { error } : {}) }),
        headers: { authorization: AGENT_AUTH },
      }),
      lambdaContext('AgentCommandResult'),
    );

  beforeEach(() => {
    table
      .putCertificate(certificateRecord())
      .putCommand(installCommand({ status: 'SENT', completedAt: undefined }));
  });

  it('keeps INSTALLED on the certificate item, on the condition that it still is that file', async () => {
    const result = await report('DONE');

    expect(result.statusCode).toBe(200);
    expect(table.certificate(CERT_ID)?.deliveries).toEqual({
      [DEVICE_ID]: { status: 'INSTALLED', at: CERTIFICATES_NOW.toISOString() },
    });
    expect(updates(onlyTransaction())).toEqual([
      expect.objectContaining({
        Key: keys.certificate(ALICE_SUB, CERT_ID),
        ConditionExpression: '#certificate.#fingerprint = :fingerprint',
        ExpressionAttributeValues: expect.objectContaining({ ':fingerprint': SMIME_FINGERPRINT }),
      }),
    ]);
  });

  it('keeps FAILED with the device’s error', async () => {
    await report('FAILED', 'The keystore is locked');

    expect(table.certificate(CERT_ID)?.deliveries[DEVICE_ID]).toEqual({
      status: 'FAILED',
      at: CERTIFICATES_NOW.toISOString(),
      error: 'The keystore is locked',
    });
  });

  it('finishes the command of a replaced certificate without touching the certificate', async () => {
    table.putCertificate(certificateRecord({ fingerprintSha256: 'BB:02', version: 2 }));

    const result = await report('DONE');

    expect(result.statusCode).toBe(200);
    expect(table.certificate(CERT_ID)?.deliveries).toEqual({});
    expect(table.commands()[0]?.status).toBe('DONE');
  });
});

describe('the conditions of a certificate write (PortalTable.saveCertificates)', () => {
  const NEW_ID = 'e0000000-0000-4000-8000-000000000002';
  const change = (overrides: Partial<CertificateChange> = {}): CertificateChange => ({
    userSub: ALICE_SUB,
    set: { readVersion: 1, count: 2 },
    lockVersion: null,
    put: {
      record: certificateRecord({ certificateId: NEW_ID, fingerprintSha256: 'BB:02' }),
      expectedVersion: null,
    },
    queue: [],
    cancel: [],
    audit: {
      id: 'a0000000-0000-4000-8000-0000000000a1',
      userSub: ALICE_SUB,
      deviceId: '-',
      action: 'CERTIFICATE_UPLOADED',
      result: 'SUCCESS',
      sourceIp: '203.0.113.7',
      userAgent: 'vitest',
      at: CERTIFICATES_NOW.toISOString(),
    },
    ...overrides,
  });

  beforeEach(() => {
    table.putCertificate(certificateRecord()).putCertificateSet(1, 1);
  });

  it('writes on the set’s version read: the certificate, and the set one version on', async () => {
    await portalTable().saveCertificates(change());

    expect(table.certificate(NEW_ID)).toMatchObject({ fingerprintSha256: 'BB:02' });
    expect(table.item(keys.certificateSet(ALICE_SUB))).toMatchObject({ version: 2, count: 2 });
  });

  it('fails as a lost race, writing nothing, when the set moved on since it was read', async () => {
    table.putCertificateSet(2, 2);

    await expect(portalTable().saveCertificates(change())).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(table.certificate(NEW_ID)).toBeUndefined();
    expect(table.item(keys.certificateSet(ALICE_SUB))).toMatchObject({ version: 2 });
  });

  it('fails as a lost race when a device was activated since (the device-limit lock moved)', async () => {
    table.put({ ...keys.limitLock(ALICE_SUB), type: 'LIMIT', version: 1 });

    await expect(portalTable().saveCertificates(change())).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(table.certificate(NEW_ID)).toBeUndefined();
  });

  it('fails as a lost race when an install to cancel was picked up meanwhile', async () => {
    const picked = installCommand({ status: 'SENT', completedAt: undefined });
    table.putCommand(picked);

    await expect(
      portalTable().saveCertificates(
        change({
          put: undefined,
          cancel: [{ ...picked, status: 'CANCELLED' }],
          set: { readVersion: 1, count: 1 },
        }),
      ),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(table.commands()[0]?.status).toBe('SENT');
  });
});

describe('roles', () => {
  it('lets a caller whose settings give no role at all use every certificate route: self-service is always granted', async () => {
    table.putSettings({ defaultRoles: [], groupRoles: {} });

    const created = await post(uploadBody('alice-smime.der'));
    const { certificateId } = jsonBody<CertificateUploadResponse>(created).certificate;

    expect(created.statusCode).toBe(201);
    expect((await list()).statusCode).toBe(200);
    expect((await remove(certificateId)).statusCode).toBe(204);
  });
});
