/**
 * Reading the certificate file a user uploads (functions/core/certificate-file.ts, issue 13.3):
 * PEM, DER and PKCS#12 (OpenSSL 3's default and -legacy protection, RSA and EC keys), what the list
 * shows of the certificate, and each refusal with its code. The files are test/fixtures/certificates
 * (see its README); a few odd PKCS#12s are built here with node-forge.
 */
import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  X509Certificate,
} from 'node:crypto';
import forge from 'node-forge';
import { describe, expect, it } from 'vitest';
import {
  CERTIFICATE_MAX_FILE_BYTES,
  type CertificateFile,
  NOT_BEFORE_SKEW_MS,
  type ParsedCertificate,
  parseCertificateFile,
} from '../../functions/core/certificate-file.ts';
import { PortalError } from '../../functions/core/errors.ts';
import {
  CERTIFICATES_NOW,
  CERTIFICATES_VALID_FROM,
  CERTIFICATES_VALID_TO,
  type CertificateFixture,
  certificateFixture,
  P12_PASSWORD,
} from './fixtures.ts';

const PASSWORD_FIXTURES: readonly CertificateFixture[] = [
  'alice-vpn.p12',
  'alice-vpn-legacy.p12',
  'alice-ec.p12',
];

function parse(name: CertificateFixture, options: { password?: string; now?: Date } = {}): ParsedCertificate {
  const password =
    'password' in options ? options.password : PASSWORD_FIXTURES.includes(name) ? P12_PASSWORD : undefined;
  return parseCertificateFile(
    { fileName: name, bytes: certificateFixture(name), password },
    options.now ?? CERTIFICATES_NOW,
  );
}

/** The PortalError parsing throws, as { kind, code, message }. */
function refusal(file: CertificateFile, now: Date = CERTIFICATES_NOW) {
  try {
    parseCertificateFile(file, now);
  } catch (error) {
    expect(error).toBeInstanceOf(PortalError);
    const { kind, code, message } = error as PortalError;
    return { kind, code, message };
  }
  throw new Error('expected a refusal, but the file was taken');
}

const fixtureFile = (name: CertificateFixture, password?: string): CertificateFile => ({
  fileName: name,
  bytes: certificateFixture(name),
  password,
});

/** "AB:CD:…", as Node's fingerprint256 writes it, computed here from the DER itself. */
const sha256Colons = (der: Buffer) =>
  createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':');

const privateKeyOf = (parsed: ParsedCertificate): KeyObject => {
  if (!parsed.privateKeyPkcs8) throw new Error('the file gave no private key');
  return createPrivateKey({ key: parsed.privateKeyPkcs8, format: 'der', type: 'pkcs8' });
};

const SMIME_DER = certificateFixture('alice-smime.der');
const CA_DER = certificateFixture('example-ca.der');

// ---- PKCS#12s the fixtures do not cover, made with node-forge ----

const forgeCertificate = (der: Buffer) =>
  forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))));

/** An RSA key made by Node, handed to forge (forge's own generator is pure JavaScript and slow). */
function forgeRsaKey(): forge.pki.rsa.PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
}

function pkcs12(key: forge.pki.rsa.PrivateKey | null, certificates: Buffer[], password: string): Buffer {
  // forge takes no certificates as null (its types do not say so), not as an empty list.
  const chain = (
    certificates.length > 0 ? certificates.map(forgeCertificate) : null
  ) as forge.pki.Certificate[];
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, chain, password, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

/** The RSA private key of alice-vpn.p12, as forge models it. */
function vpnForgeKey(): forge.pki.rsa.PrivateKey {
  const pem = privateKeyOf(parse('alice-vpn.p12')).export({ type: 'pkcs1', format: 'pem' }).toString();
  return forge.pki.privateKeyFromPem(pem);
}

/** A self-signed certificate with only what the test gives it (subject, extensions). */
function selfSigned(
  subject: forge.pki.CertificateField[],
  extensions: object[] = [],
): { der: Buffer; key: forge.pki.rsa.PrivateKey } {
  const key = forgeRsaKey();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  certificate.serialNumber = '0a1b2c';
  certificate.validity.notBefore = new Date('2027-01-01T00:00:00Z');
  certificate.validity.notAfter = new Date('2028-01-01T00:00:00Z');
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions(extensions);
  certificate.sign(key, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes(), 'binary');
  return { der, key };
}

describe('the formats it reads', () => {
  it('reads a PEM with its chain: the first certificate is the user’s, the CA after it is the chain', () => {
    const parsed = parse('alice-smime-chain.pem');

    expect(parsed.format).toBe('PEM');
    expect(parsed.certificateDer.equals(SMIME_DER)).toBe(true);
    expect(parsed.chainDer).toHaveLength(1);
    expect(parsed.chainDer[0]?.equals(CA_DER)).toBe(true);
    expect(parsed.privateKeyPkcs8).toBeNull();
  });

  it('reads a DER certificate, with no chain and no key', () => {
    const parsed = parse('alice-smime.der');

    expect(parsed.format).toBe('DER');
    expect(parsed.certificateDer.equals(SMIME_DER)).toBe(true);
    expect(parsed.chainDer).toEqual([]);
    expect(parsed.privateKeyPkcs8).toBeNull();
  });

  it('reads a CA certificate on its own (a user may keep the CA their Wi-Fi needs)', () => {
    const parsed = parse('example-ca.der');

    expect(parsed).toMatchObject({
      format: 'DER',
      name: 'Example Corp Test CA',
      subject: 'C=US, O=Example Corp, CN=Example Corp Test CA',
      issuer: 'C=US, O=Example Corp, CN=Example Corp Test CA',
      keyUsage: ['Certificate signing', 'CRL signing'],
    });
  });

  it('opens an OpenSSL 3 PKCS#12 (AES-256, SHA-256 MAC) with its password: certificate, key and CA', () => {
    const parsed = parse('alice-vpn.p12');

    expect(parsed.format).toBe('PKCS12');
    expect(parsed.name).toBe('alice-vpn');
    expect(parsed.chainDer).toHaveLength(1);
    expect(parsed.chainDer[0]?.equals(CA_DER)).toBe(true);
    expect(parsed.privateKeyPkcs8).not.toBeNull();
  });

  it('opens a -legacy PKCS#12 (3DES key, RC2 certificates, SHA-1 MAC) to the same certificate and key', () => {
    const modern = parse('alice-vpn.p12');
    const legacy = parse('alice-vpn-legacy.p12');

    expect(legacy.format).toBe('PKCS12');
    expect(legacy.fingerprintSha256).toBe(modern.fingerprintSha256);
    expect(legacy.privateKeyPkcs8?.equals(modern.privateKeyPkcs8 ?? Buffer.alloc(0))).toBe(true);
    expect(legacy.chainDer).toEqual([]);
  });

  it('opens a PKCS#12 with an EC P-256 key, which forge itself does not model', () => {
    const parsed = parse('alice-ec.p12');
    const key = privateKeyOf(parsed);

    expect(parsed.name).toBe('alice-ec');
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it.each([
    ['an empty password', ''],
    ['no password at all', undefined],
  ])('opens a PKCS#12 exported without a key and with %s: the certificate, no key', (_, password) => {
    const parsed = parse('alice-ec-no-key.p12', { password });

    expect(parsed.format).toBe('PKCS12');
    expect(parsed.name).toBe('alice-ec');
    expect(parsed.privateKeyPkcs8).toBeNull();
    expect(parsed.fingerprintSha256).toBe(parse('alice-ec.p12').fingerprintSha256);
  });

  it.each(['alice-vpn.p12', 'alice-vpn-legacy.p12', 'alice-ec.p12'] as const)(
    'returns the private key of %s as PKCS#8 that belongs to the certificate returned',
    (name) => {
      const parsed = parse(name);

      expect(new X509Certificate(parsed.certificateDer).checkPrivateKey(privateKeyOf(parsed))).toBe(true);
    },
  );

  it('takes as the user’s certificate the one matching the key, even when the CA comes first in the file', () => {
    const bytes = pkcs12(vpnForgeKey(), [CA_DER, parse('alice-vpn.p12').certificateDer], 'pw');

    const parsed = parseCertificateFile(
      { fileName: 'ca-first.p12', bytes, password: 'pw' },
      CERTIFICATES_NOW,
    );

    expect(parsed.name).toBe('alice-vpn');
    expect(parsed.chainDer).toHaveLength(1);
    expect(parsed.chainDer[0]?.equals(CA_DER)).toBe(true);
  });

  it('takes as the user’s certificate the first that is no CA when there is no key', () => {
    const bytes = pkcs12(null, [CA_DER, SMIME_DER], '');

    const parsed = parseCertificateFile({ fileName: 'certs.p12', bytes }, CERTIFICATES_NOW);

    expect(parsed.name).toBe('Alice Example');
    expect(parsed.chainDer[0]?.equals(CA_DER)).toBe(true);
  });
});

describe('what it reads off the certificate', () => {
  it('names the certificate by its common name, with subject and issuer written out', () => {
    expect(parse('alice-smime.der')).toMatchObject({
      name: 'Alice Example',
      subject: 'C=US, O=Example Corp, CN=Alice Example, emailAddress=alice@example.com',
      issuer: 'C=US, O=Example Corp, CN=Example Corp Test CA',
    });
  });

  it('names a certificate without a common name by its whole subject', () => {
    const { der } = selfSigned([{ shortName: 'O', value: 'Nameless Corp' }]);

    const parsed = parseCertificateFile(
      { fileName: 'nameless.der', bytes: der },
      new Date('2027-06-01T00:00:00Z'),
    );

    expect(parsed.name).toBe('O=Nameless Corp');
  });

  it('gives the serial number in upper-case hex, as OpenSSL prints it', () => {
    expect(parse('alice-smime.der').serialNumber).toBe('11416765E2A14CFEEF09A331128AD897C212C207');
    expect(parse('alice-vpn.p12').serialNumber).toBe('11416765E2A14CFEEF09A331128AD897C212C208');
  });

  it('gives the SHA-256 fingerprint of the certificate’s DER, as Node writes it', () => {
    const parsed = parse('alice-smime-chain.pem');

    expect(parsed.fingerprintSha256).toBe(new X509Certificate(SMIME_DER).fingerprint256);
    expect(parsed.fingerprintSha256).toBe(sha256Colons(SMIME_DER));
  });

  it('gives the fingerprint of the PKCS#12’s certificate, not of its CA', () => {
    const parsed = parse('alice-vpn.p12');

    expect(parsed.fingerprintSha256).toBe(sha256Colons(parsed.certificateDer));
    expect(parsed.fingerprintSha256).not.toBe(new X509Certificate(CA_DER).fingerprint256);
  });

  it('gives the validity as ISO times', () => {
    expect(parse('alice-smime.der')).toMatchObject({
      validFrom: CERTIFICATES_VALID_FROM.toISOString(),
      validTo: CERTIFICATES_VALID_TO.toISOString(),
    });
  });

  it.each([
    [
      'alice-smime.der',
      ['Digital signature', 'Key encipherment', 'Email protection', 'Client authentication'],
    ],
    ['alice-vpn.p12', ['Digital signature', 'Client authentication']],
    ['alice-ec.p12', ['Digital signature', 'Key agreement', 'Client authentication']],
    ['example-ca.der', ['Certificate signing', 'CRL signing']],
  ] as const)('names the key usage of %s, the KeyUsage bits then the extended key usage', (name, usage) => {
    expect(parse(name).keyUsage).toEqual(usage);
  });

  it('gives no key usage for a certificate without either extension', () => {
    const { der } = selfSigned([{ shortName: 'CN', value: 'plain' }]);

    expect(
      parseCertificateFile({ fileName: 'plain.der', bytes: der }, new Date('2027-06-01')).keyUsage,
    ).toEqual([]);
  });

  it('shows an extended key usage it has no name for by its OID', () => {
    const { der } = selfSigned(
      [{ shortName: 'CN', value: 'odd' }],
      [{ name: 'extKeyUsage', clientAuth: true, '1.3.6.1.4.1.99999.1': true }],
    );

    expect(
      parseCertificateFile({ fileName: 'odd.der', bytes: der }, new Date('2027-06-01')).keyUsage,
    ).toEqual(['Client authentication', '1.3.6.1.4.1.99999.1']);
  });
});

describe('the files it refuses', () => {
  it('refuses a PKCS#12 with the wrong password as WRONG_PASSWORD', () => {
    expect(refusal(fixtureFile('alice-vpn.p12', 'battery-staple'))).toMatchObject({
      kind: 'INVALID',
      code: 'WRONG_PASSWORD',
    });
  });

  it('refuses a -legacy PKCS#12 with the wrong password as WRONG_PASSWORD', () => {
    expect(refusal(fixtureFile('alice-vpn-legacy.p12', 'battery-staple'))).toMatchObject({
      kind: 'INVALID',
      code: 'WRONG_PASSWORD',
    });
  });

  it.each([
    ['no password', undefined],
    ['an empty password', ''],
  ])('asks for the password of a protected PKCS#12 sent with %s: PASSWORD_REQUIRED', (_, password) => {
    expect(refusal(fixtureFile('alice-vpn.p12', password))).toMatchObject({
      kind: 'INVALID',
      code: 'PASSWORD_REQUIRED',
    });
  });

  it('refuses a text file as NOT_A_CERTIFICATE, naming the file', () => {
    expect(refusal(fixtureFile('not-a-certificate.txt'))).toMatchObject({
      kind: 'INVALID',
      code: 'NOT_A_CERTIFICATE',
      message: expect.stringContaining('"not-a-certificate.txt"'),
    });
  });

  it('refuses bytes that are neither DER nor PKCS#12 as NOT_A_CERTIFICATE', () => {
    const bytes = Buffer.from([0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03, 0xff, 0xfe]);

    expect(refusal({ fileName: 'noise.bin', bytes })).toMatchObject({
      kind: 'INVALID',
      code: 'NOT_A_CERTIFICATE',
    });
  });

  it('refuses a PEM whose certificate block is damaged as NOT_A_CERTIFICATE', () => {
    const pem = certificateFixture('alice-smime-chain.pem').toString('utf8').replace(/MII/, 'MIX');

    expect(refusal({ fileName: 'damaged.pem', bytes: Buffer.from(pem) })).toMatchObject({
      code: 'NOT_A_CERTIFICATE',
    });
  });

  it('refuses a PEM holding a private key as PRIVATE_KEY_IN_PEM', () => {
    expect(refusal(fixtureFile('alice-smime-with-key.pem'))).toMatchObject({
      kind: 'INVALID',
      code: 'PRIVATE_KEY_IN_PEM',
    });
  });

  it.each(['RSA PRIVATE KEY', 'EC PRIVATE KEY', 'ENCRYPTED PRIVATE KEY'])(
    'refuses a PEM with a "%s" block after the certificate as PRIVATE_KEY_IN_PEM',
    (label) => {
      const pem = `${certificateFixture('alice-smime-chain.pem').toString('utf8')}\n-----BEGIN ${label}-----\nAAAA\n-----END ${label}-----\n`;

      expect(refusal({ fileName: 'with-key.pem', bytes: Buffer.from(pem) }).code).toBe('PRIVATE_KEY_IN_PEM');
    },
  );

  it('refuses a file over 64 KiB as PAYLOAD_TOO_LARGE FILE_TOO_LARGE, naming its size and the limit', () => {
    const bytes = Buffer.alloc(CERTIFICATE_MAX_FILE_BYTES + 1, 0x41);

    expect(refusal({ fileName: 'huge.pem', bytes })).toEqual({
      kind: 'PAYLOAD_TOO_LARGE',
      code: 'FILE_TOO_LARGE',
      message: expect.stringMatching(/"huge\.pem" is 65 KB; certificate files can be at most 64 KB/),
    });
  });

  it('reads a file of exactly 64 KiB', () => {
    const pem = certificateFixture('alice-smime-chain.pem');
    const bytes = Buffer.concat([pem, Buffer.alloc(CERTIFICATE_MAX_FILE_BYTES - pem.length, 0x0a)]);

    expect(parseCertificateFile({ fileName: 'padded.pem', bytes }, CERTIFICATES_NOW).name).toBe(
      'Alice Example',
    );
  });

  it('refuses a certificate that has expired as CERTIFICATE_EXPIRED, naming the day', () => {
    const now = new Date('2036-11-30T00:00:00Z');

    expect(refusal(fixtureFile('alice-smime.der'), now)).toEqual({
      kind: 'INVALID',
      code: 'CERTIFICATE_EXPIRED',
      message: expect.stringContaining('2036-11-29'),
    });
  });

  it('refuses a certificate at the very moment it expires', () => {
    expect(refusal(fixtureFile('alice-smime.der'), CERTIFICATES_VALID_TO).code).toBe('CERTIFICATE_EXPIRED');
  });

  it('refuses a certificate that starts more than 5 minutes from now as CERTIFICATE_NOT_YET_VALID, naming the day', () => {
    const now = new Date(CERTIFICATES_VALID_FROM.getTime() - NOT_BEFORE_SKEW_MS - 1000);

    expect(refusal(fixtureFile('alice-smime.der'), now)).toEqual({
      kind: 'INVALID',
      code: 'CERTIFICATE_NOT_YET_VALID',
      message: expect.stringContaining('2026-12-02'),
    });
  });

  it.each([
    ['4 minutes', 4 * 60_000],
    ['exactly 5 minutes', NOT_BEFORE_SKEW_MS],
  ])('takes a certificate that starts %s from now: device and server clocks differ a little', (_, ahead) => {
    const now = new Date(CERTIFICATES_VALID_FROM.getTime() - ahead);

    expect(parse('alice-smime.der', { now }).name).toBe('Alice Example');
  });

  it('refuses a PKCS#12 whose key belongs to none of its certificates as KEY_DOES_NOT_MATCH', () => {
    const bytes = pkcs12(forgeRsaKey(), [parse('alice-vpn.p12').certificateDer], 'pw');

    expect(refusal({ fileName: 'mismatch.p12', bytes, password: 'pw' })).toMatchObject({
      kind: 'INVALID',
      code: 'KEY_DOES_NOT_MATCH',
    });
  });

  it('refuses a PKCS#12 that holds a key but no certificate as NOT_A_CERTIFICATE', () => {
    const bytes = pkcs12(vpnForgeKey(), [], 'pw');

    expect(refusal({ fileName: 'key-only.p12', bytes, password: 'pw' })).toMatchObject({
      kind: 'INVALID',
      code: 'NOT_A_CERTIFICATE',
      message: expect.stringContaining('holds no certificate'),
    });
  });
});
