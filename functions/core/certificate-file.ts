/**
 * Reads a certificate file the user uploads (issue 13.3): PEM or DER with Node's X509Certificate,
 * PKCS#12 (.p12, .pfx) with node-forge, which decrypts both OpenSSL 3's default (PBES2, AES-256-CBC)
 * and legacy (3DES, RC2) files. Forge only unwraps the PKCS#12; every certificate and key it finds
 * goes through Node's crypto, which also reads the EC keys forge does not model. Imported by the
 * upload function alone, so no other bundle carries the parser.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import type Forge from 'node-forge';
// The parts of forge a PKCS#12 needs, not its TLS, SSH and the rest (smaller bundled).
import forge from 'node-forge/lib/forge.js';
import 'node-forge/lib/md.all.js';
import 'node-forge/lib/pkcs12.js';
import 'node-forge/lib/pki.js';
import type { CertificateFacts, CertificateFormat } from './api-types.ts';
import { fileTooLarge, MAX_FILE_BYTES } from './certificates.ts';
import { PortalError } from './errors.ts';

/** The cap certificates.ts sets, here too for a caller that parses bytes it did not check. */
export const CERTIFICATE_MAX_FILE_BYTES = MAX_FILE_BYTES;
/** A certificate that starts within this much of now is taken: device and server clocks differ a little. */
export const NOT_BEFORE_SKEW_MS = 5 * 60_000;

export interface ParsedCertificate extends CertificateFacts {
  format: CertificateFormat;
  /** The user's certificate (the one matching the key, else the first that is no CA, else the first). */
  certificateDer: Buffer;
  /** The rest of the chain the file carried. */
  chainDer: Buffer[];
  /** PKCS#8 DER of the PKCS#12's private key; the caller encrypts it before it is kept anywhere. */
  privateKeyPkcs8: Buffer | null;
}

export interface CertificateFile {
  fileName: string;
  bytes: Buffer;
  password?: string | undefined;
}

const NOT_A_CERTIFICATE = (fileName: string) =>
  new PortalError(
    'INVALID',
    'NOT_A_CERTIFICATE',
    `"${fileName}" is not a certificate file the portal can read. Upload a PEM (.pem, .crt, .cer), DER (.der, .cer) or PKCS#12 (.p12, .pfx) file.`,
  );

/**
 * Parses and checks the file. Validity rule: a certificate that has expired, or that is not valid
 * yet (more than NOT_BEFORE_SKEW_MS ahead), is refused: a device cannot use it, and one that is not
 * valid yet would sit unused and confuse whoever looks at the device.
 */
export function parseCertificateFile(file: CertificateFile, now: Date): ParsedCertificate {
  if (file.bytes.length > CERTIFICATE_MAX_FILE_BYTES) throw fileTooLarge(file.fileName, file.bytes.length);
  const read = readFile(file);
  const leaf = read.certificates[read.leafIndex];
  if (!leaf) throw NOT_A_CERTIFICATE(file.fileName);
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (validTo.getTime() <= now.getTime()) {
    throw new PortalError(
      'INVALID',
      'CERTIFICATE_EXPIRED',
      `This certificate expired on ${day(validTo)}. Ask whoever issued it for a new one, then upload that.`,
    );
  }
  if (validFrom.getTime() > now.getTime() + NOT_BEFORE_SKEW_MS) {
    throw new PortalError(
      'INVALID',
      'CERTIFICATE_NOT_YET_VALID',
      `This certificate is valid only from ${day(validFrom)}. Upload it on or after that day.`,
    );
  }
  const subject = distinguishedName(leaf.subject);
  return {
    format: read.format,
    certificateDer: Buffer.from(leaf.raw),
    chainDer: read.certificates.filter((_, i) => i !== read.leafIndex).map((c) => Buffer.from(c.raw)),
    privateKeyPkcs8: read.privateKey
      ? Buffer.from(read.privateKey.export({ type: 'pkcs8', format: 'der' }))
      : null,
    name: commonName(leaf.subject) ?? (subject || leaf.fingerprint256),
    subject,
    issuer: distinguishedName(leaf.issuer),
    serialNumber: leaf.serialNumber.toUpperCase(),
    validFrom: validFrom.toISOString(),
    validTo: validTo.toISOString(),
    fingerprintSha256: leaf.fingerprint256,
    keyUsage: [...keyUsageBits(leaf.raw), ...extendedKeyUsage(leaf)],
  };
}

interface ReadFile {
  format: CertificateFormat;
  certificates: X509Certificate[];
  leafIndex: number;
  privateKey: KeyObject | null;
}

function readFile(file: CertificateFile): ReadFile {
  const text = file.bytes.toString('latin1');
  if (text.includes('-----BEGIN ')) return readPem(file.fileName, text);
  const der = tryCertificate(file.bytes);
  if (der) return { format: 'DER', certificates: [der], leafIndex: 0, privateKey: null };
  if (looksLikePkcs12(file.bytes)) return readPkcs12(file);
  throw NOT_A_CERTIFICATE(file.fileName);
}

function tryCertificate(bytes: Buffer | string): X509Certificate | null {
  try {
    return new X509Certificate(bytes);
  } catch {
    return null;
  }
}

function readPem(fileName: string, text: string): ReadFile {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new PortalError(
      'INVALID',
      'PRIVATE_KEY_IN_PEM',
      'This PEM file holds a private key, which the portal never takes unprotected. Upload the certificate alone, or export certificate and key as a PKCS#12 (.p12) file with a password.',
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const certificates = blocks.map((block) => tryCertificate(block));
  if (certificates.length === 0 || certificates.some((c) => c === null)) throw NOT_A_CERTIFICATE(fileName);
  return { format: 'PEM', certificates: certificates as X509Certificate[], leafIndex: 0, privateKey: null };
}

/** PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, … } (RFC 7292). */
function looksLikePkcs12(bytes: Buffer): boolean {
  try {
    const pfx = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
    const [version, authSafe] = Array.isArray(pfx.value) ? pfx.value : [];
    return (
      version?.type === forge.asn1.Type.INTEGER &&
      forge.util.createBuffer(version.value as string).getInt(8) === 3 &&
      authSafe?.type === forge.asn1.Type.SEQUENCE
    );
  } catch {
    return false;
  }
}

function readPkcs12(file: CertificateFile): ReadFile {
  const pfx = forge.asn1.fromDer(forge.util.createBuffer(file.bytes.toString('binary')));
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    // A file exported without a password has an empty one; only if that fails is a password needed.
    p12 = forge.pkcs12.pkcs12FromAsn1(pfx, true, file.password ?? '');
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/MAC could not be verified|wrong password|Invalid password/i.test(message)) {
      throw file.password === undefined || file.password === ''
        ? new PortalError(
            'INVALID',
            'PASSWORD_REQUIRED',
            'This PKCS#12 file is protected by a password: enter the password it was exported with.',
          )
        : new PortalError(
            'INVALID',
            'WRONG_PASSWORD',
            'That password does not open this PKCS#12 file. Enter the password it was exported with.',
          );
    }
    throw NOT_A_CERTIFICATE(file.fileName);
  }
  const certificates: X509Certificate[] = [];
  const keys: KeyObject[] = [];
  try {
    const { certBag, pkcs8ShroudedKeyBag, keyBag } = forge.pki.oids as Record<string, string>;
    for (const bag of bagsOf(p12, certBag ?? '')) {
      const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
      if (!asn1) continue;
      const certificate = tryCertificate(Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary'));
      if (certificate) certificates.push(certificate);
    }
    for (const type of [pkcs8ShroudedKeyBag ?? '', keyBag ?? '']) {
      for (const bag of bagsOf(p12, type)) {
        // forge models RSA keys only; for others it keeps the PrivateKeyInfo's ASN.1.
        const info = bag.key
          ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key as Forge.pki.rsa.PrivateKey))
          : bag.asn1;
        if (!info) continue;
        const der = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
        keys.push(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
      }
    }
  } catch {
    throw NOT_A_CERTIFICATE(file.fileName);
  }
  if (certificates.length === 0) {
    throw new PortalError(
      'INVALID',
      'NOT_A_CERTIFICATE',
      `"${file.fileName}" opened, but holds no certificate. Export the certificate together with its key.`,
    );
  }
  const privateKey = keys[0] ?? null;
  let leafIndex = privateKey ? certificates.findIndex((c) => c.checkPrivateKey(privateKey)) : -1;
  if (privateKey && leafIndex < 0) {
    throw new PortalError(
      'INVALID',
      'KEY_DOES_NOT_MATCH',
      'The private key in this PKCS#12 file belongs to none of its certificates. Export the certificate together with its own key.',
    );
  }
  if (leafIndex < 0)
    leafIndex = Math.max(
      0,
      certificates.findIndex((c) => !c.ca),
    );
  return { format: 'PKCS12', certificates, leafIndex, privateKey };
}

function bagsOf(p12: Forge.pkcs12.Pkcs12Pfx, bagType: string): Forge.pkcs12.Bag[] {
  return p12.getBags({ bagType })[bagType] ?? [];
}

/** Node's "CN=Alice\nO=Example" as "CN=Alice, O=Example". */
function distinguishedName(value: string): string {
  return value
    .split('\n')
    .map((part) => part.trim())
    .filter(Boolean)
    .join(', ');
}

function commonName(value: string): string | null {
  const line = value.split('\n').find((part) => part.startsWith('CN='));
  return line ? line.slice(3).trim() || null : null;
}

const KEY_USAGE_BITS = [
  'Digital signature',
  'Non-repudiation',
  'Key encipherment',
  'Data encipherment',
  'Key agreement',
  'Certificate signing',
  'CRL signing',
  'Encipher only',
  'Decipher only',
];

const KEY_USAGE_OID = '2.5.29.15';

/** The KeyUsage extension's named bits (Node exposes only the extended key usage). */
function keyUsageBits(der: Buffer): string[] {
  try {
    const certificate = forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
    const tbs = (certificate.value as Forge.asn1.Asn1[])[0];
    const wrapper = (tbs?.value as Forge.asn1.Asn1[] | undefined)?.find(
      (part) => part.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && part.type === 3,
    );
    const extensions = ((wrapper?.value as Forge.asn1.Asn1[] | undefined)?.[0]?.value ??
      []) as Forge.asn1.Asn1[];
    for (const extension of extensions) {
      const parts = extension.value as Forge.asn1.Asn1[];
      if (forge.asn1.derToOid(parts[0]?.value as string) !== KEY_USAGE_OID) continue;
      const octets = parts[parts.length - 1]?.value as string;
      const bitString = forge.asn1.fromDer(octets).value as string;
      // The first octet counts the unused bits; bit 0 is the most significant bit of the next one.
      const bytes = Buffer.from(bitString.slice(1), 'binary');
      return KEY_USAGE_BITS.filter((_, bit) => ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0);
    }
  } catch {
    // A certificate Node read but whose extensions forge cannot walk: no key usage shown.
  }
  return [];
}

const EXTENDED_KEY_USAGE: Record<string, string> = {
  '1.3.6.1.5.5.7.3.1': 'Server authentication',
  '1.3.6.1.5.5.7.3.2': 'Client authentication',
  '1.3.6.1.5.5.7.3.3': 'Code signing',
  '1.3.6.1.5.5.7.3.4': 'Email protection',
  '1.3.6.1.5.5.7.3.8': 'Time stamping',
  '1.3.6.1.5.5.7.3.9': 'OCSP signing',
  '1.3.6.1.4.1.311.20.2.2': 'Smart card logon',
  '1.3.6.1.5.5.7.3.17': 'IPsec IKE',
  '2.5.29.37.0': 'Any purpose',
};

function extendedKeyUsage(certificate: X509Certificate): string[] {
  // Node names it keyUsage, but it is the ExtendedKeyUsage extension's OIDs.
  return (certificate.keyUsage ?? []).map((oid) => EXTENDED_KEY_USAGE[oid] ?? oid);
}

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}
