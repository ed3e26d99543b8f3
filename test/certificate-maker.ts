/**
 * Certificates made on the spot for tests that need many distinct ones, or one with given dates
 * (expired, not yet valid): node-forge signs, with a key Node's crypto generated (fast, native).
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

const keys = (() => {
  let pair: { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } | undefined;
  return () => {
    if (!pair) {
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const forgeKey = forge.pki.privateKeyFromPem(
        privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      ) as forge.pki.rsa.PrivateKey;
      pair = { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
    }
    return pair;
  };
})();

let serial = 0;

/** A self-signed certificate as PEM text; valid for a year from an hour ago unless dates are given. */
export function makeCertificatePem(
  commonName: string,
  dates: { notBefore?: Date; notAfter?: Date } = {},
): string {
  const { privateKey, publicKey } = keys();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = publicKey;
  serial += 1;
  certificate.serialNumber = `${Date.now().toString(16)}${serial.toString(16).padStart(4, '0')}`;
  certificate.validity.notBefore = dates.notBefore ?? new Date(Date.now() - 3600_000);
  certificate.validity.notAfter = dates.notAfter ?? new Date(Date.now() + 365 * 24 * 3600_000);
  const name = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'Example Corp' },
  ];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([{ name: 'keyUsage', digitalSignature: true }]);
  certificate.sign(privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}

/** The base64 a browser sends for a file's bytes. */
export const base64Of = (content: string | Buffer): string => Buffer.from(content).toString('base64');
