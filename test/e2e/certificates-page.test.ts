/**
 * The Certificates page (issue 13.3) against a stubbed API: the certificate backend is built
 * elsewhere, so after a real sign-in page.route answers /api/certificates… with contract-shaped
 * JSON (device-stubs' stubApi); /api/me and Cognito stay real. Files are handed to the file field
 * from memory (setInputFiles with a buffer), so no file on disk is needed.
 */
import type { Browser, BrowserContextOptions, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  CertificateListResponse,
  CertificateSummary,
  CertificateUploadRequest,
} from '../../functions/core/api-types.ts';
import { expectAccessible } from './axe.ts';
import { accountMenu, BOB, launchBrowser, openPage, signIn } from './browser.ts';
import { type Answer, DEVICE_ID, minutesAgo, type Stub, stubApi, unexpected } from './device-stubs.ts';

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 900 } };
const DARK: BrowserContextOptions = { ...DESKTOP, colorScheme: 'dark' };
const LIMITS: CertificateListResponse['limits'] = { maxCertificates: 10, maxFileBytes: 64 * 1024 };

const ALICE_ID = '3f2b8c1e-5d4a-4b7e-9c1f-2a6d8e0b4c71';
const NEW_ID = '9a7c6e2d-1b3f-4d5e-8a9b-0c1d2e3f4a5b';
const PIXEL_ID = 'dev-e2e-pixel';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => ((i * 37 + 11) % 256).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();
const NEW_FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
  ((i * 53 + 7) % 256).toString(16).padStart(2, '0'),
)
  .join(':')
  .toUpperCase();

const PEM = [
  '-----BEGIN CERTIFICATE-----',
  'MIIBszCCAVmgAwIBAgIUQm9iIEV4YW1wbGUgUm9vdCBDQTAKBggqhkjOPQQDAjAf',
  'MR0wGwYDVQQDDBRCb2IgRXhhbXBsZSBSb290IENBMB4XDTI2MDEwMTAwMDAwMFoX',
  '-----END CERTIFICATE-----',
  '',
].join('\n');

/** Binary, as a PKCS#12 file is: bytes over 0x7f too, which a text read would mangle. */
const P12 = Buffer.from([
  0x30, 0x82, 0x0a, 0x51, 0x02, 0x01, 0x03, 0x30, 0x82, 0x0a, 0x17, 0xff, 0xfe, 0x80, 0x00,
]);

const DUPLICATE =
  'You already have this certificate: “Alice S/MIME”, uploaded on Mar 3. Replace or delete that one instead.';

function certificate(overrides: Partial<CertificateSummary> = {}): CertificateSummary {
  return {
    certificateId: ALICE_ID,
    name: 'Alice S/MIME',
    fileName: 'alice-smime.p12',
    format: 'PKCS12',
    subject: 'CN=Alice Example, O=Example Corp, C=US',
    issuer: 'CN=Example Corp Issuing CA 2, O=Example Corp, C=US',
    serialNumber: '4F:1A:9C:02:77:E3',
    validFrom: '2026-01-15T12:00:00.000Z',
    validTo: '2027-01-15T12:00:00.000Z',
    fingerprintSha256: FINGERPRINT,
    keyUsage: ['Digital signature', 'Key encipherment', 'Email protection'],
    expiry: { state: 'VALID', daysLeft: 45 },
    hasPrivateKey: true,
    chainLength: 1,
    uploadedAt: minutesAgo(60 * 24 * 3),
    replacedAt: null,
    deliveries: [
      {
        deviceId: DEVICE_ID,
        deviceName: 'Work iPhone',
        status: 'INSTALLED',
        at: minutesAgo(60),
        error: null,
      },
      { deviceId: PIXEL_ID, deviceName: 'Pixel', status: 'WAITING', at: minutesAgo(5), error: null },
    ],
    ...overrides,
  };
}

/** What the server answers for an uploaded PEM: a certificate without key, on its way to both devices. */
function uploaded(): CertificateSummary {
  return certificate({
    certificateId: NEW_ID,
    name: 'Bob Example Root CA',
    fileName: 'root-ca.pem',
    format: 'PEM',
    subject: 'CN=Bob Example Root CA',
    issuer: 'CN=Bob Example Root CA',
    fingerprintSha256: NEW_FINGERPRINT,
    keyUsage: ['Certificate signing', 'CRL signing'],
    hasPrivateKey: false,
    chainLength: 0,
    uploadedAt: minutesAgo(0),
    deliveries: [
      { deviceId: DEVICE_ID, deviceName: 'Work iPhone', status: 'WAITING', at: minutesAgo(0), error: null },
    ],
  });
}

function refusal(status: number, code: string, message: string): Answer {
  return { status, json: { error: { code, message } } };
}

interface CertificateStub extends Stub {
  certificates: CertificateSummary[];
}

/** GET lists `certificates`; POST answers `upload`; DELETE takes the certificate out and answers 204. */
function certificateStub(
  certificates: CertificateSummary[],
  upload?: (body: CertificateUploadRequest) => Answer,
): CertificateStub {
  const stub: CertificateStub = {
    certificates,
    seen: [],
    answer: (method, path, body) => {
      if (path === '/api/certificates' && method === 'GET') {
        const list: CertificateListResponse = { certificates: stub.certificates, limits: LIMITS };
        return { status: 200, json: list };
      }
      if (path === '/api/certificates' && method === 'POST' && upload) {
        return upload(body as CertificateUploadRequest);
      }
      const id = path.startsWith('/api/certificates/') ? path.slice('/api/certificates/'.length) : null;
      if (id && method === 'DELETE') {
        stub.certificates = stub.certificates.filter((c) => c.certificateId !== id);
        return { status: 204, json: undefined };
      }
      return undefined;
    },
  };
  return stub;
}

function uploads(stub: Stub): CertificateUploadRequest[] {
  return stub.seen
    .filter((s) => s.method === 'POST' && s.path === '/api/certificates')
    .map((s) => s.body as CertificateUploadRequest);
}

function heading(page: Page, name: string) {
  return page.getByRole('heading', { name, level: 1 });
}

function card(page: Page, certificateId: string) {
  return page.locator(`[data-testid="certificate"][data-certificate-id="${certificateId}"]`);
}

/** The text of what the field's aria-describedby names: its hint and its error, as a screen reader reads them. */
function description(field: Locator): Promise<string> {
  return field.evaluate((el) =>
    (el.getAttribute('aria-describedby') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' '),
  );
}

function isFocused(field: Locator): Promise<boolean> {
  return field.evaluate((el) => el === document.activeElement);
}

const mediumDate = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium' });

describe('certificates page', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Signs Bob in with the stub in place and opens /certificates. */
  async function open(page: Page, stub: Stub): Promise<void> {
    await stubApi(page, stub);
    await signIn(page, baseUrl, BOB);
    await page.goto(`${baseUrl}/certificates`);
    await heading(page, 'Certificates').waitFor();
  }

  it('opens from the Welcome menu and says when there are no certificates', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = certificateStub([]);
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Certificates' }).click();
      await heading(page, 'Certificates').waitFor();
      expect(new URL(page.url()).pathname).toBe('/certificates');
      await expect.poll(() => page.title()).toBe('Certificates · Device Portal');
      const empty = page.getByTestId('certificates-empty');
      await empty.waitFor();
      expect(await empty.textContent()).toContain('No certificates yet');
      expect(await page.getByTestId('certificate-count').textContent()).toBe('0 of 10 allowed');
      // The hint says what the server takes: the formats and its size limit.
      const hint = await description(page.getByLabel('Certificate file'));
      expect(hint).toContain('.pem, .crt, .cer, .der');
      expect(hint).toContain('.p12, .pfx');
      expect(hint).toContain('up to 64 KB');
      expect(await page.getByLabel('Certificate file').getAttribute('accept')).toBe(
        '.pem,.crt,.cer,.der,.p12,.pfx',
      );
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('lists certificates with subject, issuer, validity, fingerprint, key usage and deliveries', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const failed = certificate({
        certificateId: NEW_ID,
        name: 'VPN client',
        fileName: 'vpn.cer',
        format: 'DER',
        hasPrivateKey: false,
        chainLength: 0,
        replacedAt: minutesAgo(30),
        deliveries: [
          {
            deviceId: PIXEL_ID,
            deviceName: 'Pixel',
            status: 'FAILED',
            at: minutesAgo(20),
            error: 'The device refused the certificate.',
          },
          { deviceId: DEVICE_ID, deviceName: 'Work iPhone', status: 'SENT', at: minutesAgo(1), error: null },
        ],
      });
      await open(page, certificateStub([certificate(), failed]));
      const alice = card(page, ALICE_ID);
      await alice.waitFor();
      expect(await page.getByTestId('certificate').count()).toBe(2);
      expect(await alice.getByRole('heading', { level: 3 }).textContent()).toBe('Alice S/MIME');
      expect(await alice.textContent()).toContain('alice-smime.p12 · PKCS#12');
      expect(await alice.getByTestId('subject').textContent()).toBe('CN=Alice Example, O=Example Corp, C=US');
      expect(await alice.getByTestId('issuer').textContent()).toBe(
        'CN=Example Corp Issuing CA 2, O=Example Corp, C=US',
      );
      expect(await alice.getByTestId('validity').textContent()).toBe(
        `${mediumDate.format(new Date('2026-01-15T12:00:00.000Z'))} – ${mediumDate.format(new Date('2027-01-15T12:00:00.000Z'))}`,
      );
      const fingerprint = alice.getByTestId('fingerprint');
      expect(await fingerprint.textContent()).toBe(FINGERPRINT);
      expect(await fingerprint.evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/mono/i);
      // The 95-character fingerprint wraps inside the card rather than overflowing it.
      expect(await fingerprint.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      expect(await alice.getByTestId('key-usage').textContent()).toBe(
        'Digital signature, Key encipherment, Email protection',
      );
      expect(await alice.getByTestId('private-key').textContent()).toBe('Private key included');
      expect(await alice.textContent()).toContain('1 more certificate in the file');
      await alice.getByTestId('uploaded').waitFor();
      expect(await alice.getByTestId('replaced').count()).toBe(0);

      const delivery = (c: Locator, deviceId: string) =>
        c.locator(`[data-testid="delivery"][data-device-id="${deviceId}"]`);
      expect(await delivery(alice, DEVICE_ID).textContent()).toContain('On Work iPhone: installed');
      expect(await delivery(alice, PIXEL_ID).textContent()).toContain("Waiting for Pixel's next check-in");
      // The device names lead to the devices.
      expect(
        await delivery(alice, DEVICE_ID).getByRole('link', { name: 'Work iPhone' }).getAttribute('href'),
      ).toBe(`/devices/${DEVICE_ID}`);

      const vpn = card(page, NEW_ID);
      expect(await vpn.getByTestId('private-key').count()).toBe(0);
      await vpn.getByTestId('replaced').waitFor();
      const failedLine = (await delivery(vpn, PIXEL_ID).textContent()) ?? '';
      expect(failedLine).toContain('On Pixel: not installed');
      expect(failedLine).toContain('The device refused the certificate.');
      expect(await delivery(vpn, DEVICE_ID).textContent()).toContain('On Work iPhone: sent');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('uploading a PEM sends its base64 content and file name and shows the new certificate', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = certificateStub([certificate()], () => ({
        status: 201,
        json: { certificate: uploaded() },
      }));
      await open(page, stub);
      await card(page, ALICE_ID).waitFor();
      // A PEM has no password: the field stays away.
      await page.getByLabel('Certificate file').setInputFiles({
        name: 'root-ca.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from(PEM),
      });
      expect(await page.getByLabel('File password').count()).toBe(0);
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      const added = card(page, NEW_ID);
      await added.waitFor();
      expect(uploads(stub)).toEqual([
        { fileName: 'root-ca.pem', content: Buffer.from(PEM).toString('base64') },
      ]);
      // Newest first, with what the server said about it.
      expect(await page.getByTestId('certificate').first().getAttribute('data-certificate-id')).toBe(NEW_ID);
      expect(await added.getByTestId('fingerprint').textContent()).toBe(NEW_FINGERPRINT);
      expect(await added.getByTestId('delivery').textContent()).toContain(
        "Waiting for Work iPhone's next check-in",
      );
      await page
        .getByRole('status')
        .filter({ hasText: '“Bob Example Root CA” is added. Your devices get it at their next check-in.' })
        .waitFor();
      // The form is ready for the next file.
      expect(await page.getByLabel('Certificate file').inputValue()).toBe('');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a .p12 shows the password field and sends the password', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = certificateStub([], () => ({ status: 201, json: { certificate: certificate() } }));
      await open(page, stub);
      await page.getByTestId('certificates-empty').waitFor();
      await page
        .getByLabel('Certificate file')
        .setInputFiles({ name: 'alice-smime.p12', mimeType: 'application/x-pkcs12', buffer: P12 });
      const password = page.getByLabel('File password');
      await password.waitFor();
      expect(await password.getAttribute('type')).toBe('password');
      await password.fill('correct horse battery');
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      await card(page, ALICE_ID).waitFor();
      expect(uploads(stub)).toEqual([
        { fileName: 'alice-smime.p12', content: P12.toString('base64'), password: 'correct horse battery' },
      ]);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a PASSWORD_REQUIRED answer brings up the password field, focused, with the message by it', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const message = 'This file is protected by a password. Enter the password it was exported with.';
      const stub = certificateStub([], (body) =>
        body.password
          ? { status: 201, json: { certificate: certificate() } }
          : refusal(400, 'PASSWORD_REQUIRED', message),
      );
      await open(page, stub);
      // A PKCS#12 under a name that does not say so: only the server knows it needs a password.
      await page
        .getByLabel('Certificate file')
        .setInputFiles({ name: 'alice-smime.bin.cer', mimeType: 'application/octet-stream', buffer: P12 });
      expect(await page.getByLabel('File password').count()).toBe(0);
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      const password = page.getByLabel('File password');
      await password.waitFor();
      await expect.poll(() => isFocused(password)).toBe(true);
      expect(await password.getAttribute('aria-invalid')).toBe('true');
      expect(await description(password)).toContain(message);
      expect(await description(page.getByLabel('Certificate file'))).not.toContain(message);

      await password.fill('s3cret');
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      await card(page, ALICE_ID).waitFor();
      expect(uploads(stub).map((b) => b.password)).toEqual([undefined, 's3cret']);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a WRONG_PASSWORD answer shows the message by the password field', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const message = 'That password does not open this file. Check it and try again.';
      const stub = certificateStub([], () => refusal(400, 'WRONG_PASSWORD', message));
      await open(page, stub);
      await page
        .getByLabel('Certificate file')
        .setInputFiles({ name: 'alice.pfx', mimeType: 'application/x-pkcs12', buffer: P12 });
      const password = page.getByLabel('File password');
      await password.fill('wrong');
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      await page.getByTestId('password-error').waitFor();
      expect(await page.getByTestId('password-error').textContent()).toBe(message);
      expect(await description(password)).toContain(message);
      await expect.poll(() => isFocused(password)).toBe(true);
      expect(await page.getByTestId('file-error').count()).toBe(0);
      // Typing again clears it.
      await password.fill('another try');
      expect(await page.getByTestId('password-error').count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a DUPLICATE_CERTIFICATE answer shows the message by the file field', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = certificateStub([certificate()], () => refusal(409, 'DUPLICATE_CERTIFICATE', DUPLICATE));
      await open(page, stub);
      const file = page.getByLabel('Certificate file');
      await file.setInputFiles({
        name: 'alice.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from(PEM),
      });
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      await page.getByTestId('file-error').waitFor();
      expect(await page.getByTestId('file-error').textContent()).toBe(DUPLICATE);
      expect(await file.getAttribute('aria-invalid')).toBe('true');
      expect(await description(file)).toContain(DUPLICATE);
      await expect.poll(() => isFocused(file)).toBe(true);
      expect(await page.getByTestId('certificate').count()).toBe(1);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a TOO_MANY_CERTIFICATES answer shows the message above the button', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const message = 'You have 10 certificates, the most allowed. Delete one you no longer use first.';
      await open(
        page,
        certificateStub([certificate()], () => refusal(409, 'TOO_MANY_CERTIFICATES', message)),
      );
      await page.getByLabel('Certificate file').setInputFiles({
        name: 'one-more.pem',
        mimeType: 'application/x-pem-file',
        buffer: Buffer.from(PEM),
      });
      await page.getByRole('button', { name: 'Upload certificate' }).click();
      await page.getByRole('alert').filter({ hasText: message }).waitFor();
      expect(await page.getByTestId('file-error').count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('replace sends `replaces` and shows the newer file in its place', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const newer = certificate({
        fingerprintSha256: NEW_FINGERPRINT,
        fileName: 'alice-smime-2027.p12',
        validTo: '2028-01-15T12:00:00.000Z',
        replacedAt: minutesAgo(0),
        deliveries: [
          {
            deviceId: DEVICE_ID,
            deviceName: 'Work iPhone',
            status: 'WAITING',
            at: minutesAgo(0),
            error: null,
          },
        ],
      });
      const other = uploaded();
      const stub = certificateStub([other, certificate()], () => ({
        status: 200,
        json: { certificate: newer },
      }));
      await open(page, stub);
      const alice = card(page, ALICE_ID);
      await alice.getByRole('button', { name: 'Replace Alice S/MIME' }).click();
      const dialog = page.getByRole('dialog', { name: 'Replace “Alice S/MIME”' });
      await dialog.waitFor();
      await dialog
        .getByLabel('Newer certificate file')
        .setInputFiles({ name: 'alice-smime-2027.p12', mimeType: 'application/x-pkcs12', buffer: P12 });
      await dialog.getByLabel('File password').fill('2027 password');
      await dialog.getByRole('button', { name: 'Replace certificate' }).click();
      await dialog.waitFor({ state: 'detached' });
      expect(uploads(stub)).toEqual([
        {
          fileName: 'alice-smime-2027.p12',
          content: P12.toString('base64'),
          password: '2027 password',
          replaces: ALICE_ID,
        },
      ]);
      // Same card, same place (second), the newer file's details.
      await expect.poll(() => alice.getByTestId('fingerprint').textContent()).toBe(NEW_FINGERPRINT);
      const order = await page
        .getByTestId('certificate')
        .evaluateAll((els) => els.map((el) => el.getAttribute('data-certificate-id')));
      expect(order).toEqual([NEW_ID, ALICE_ID]);
      await alice.getByTestId('replaced').waitFor();
      await page.getByRole('status').filter({ hasText: '“Alice S/MIME” is replaced.' }).waitFor();
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('delete asks first, naming the devices, then sends DELETE and the certificate leaves the list', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = certificateStub([certificate(), uploaded()]);
      await open(page, stub);
      const alice = card(page, ALICE_ID);
      const deletes = () => stub.seen.filter((s) => s.method === 'DELETE');

      // Keep: nothing is sent.
      await alice.getByRole('button', { name: 'Delete Alice S/MIME' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete “Alice S/MIME”?' });
      await dialog.waitFor();
      const text = (await dialog.textContent()) ?? '';
      expect(text).toContain('removed from these devices');
      expect(await dialog.getByTestId('delete-devices').locator('li').allTextContents()).toEqual([
        'Work iPhone',
        'Pixel',
      ]);
      await dialog.getByRole('button', { name: 'Keep certificate' }).click();
      await dialog.waitFor({ state: 'detached' });
      expect(deletes()).toEqual([]);
      await alice.waitFor();

      // Delete: DELETE, then the card is gone.
      await alice.getByRole('button', { name: 'Delete Alice S/MIME' }).click();
      await dialog.getByRole('button', { name: 'Delete certificate' }).click();
      await alice.waitFor({ state: 'detached' });
      expect(deletes().map((s) => s.path)).toEqual([`/api/certificates/${ALICE_ID}`]);
      expect(await page.getByTestId('certificate').count()).toBe(1);
      await page.getByRole('status').filter({ hasText: '“Alice S/MIME” is deleted.' }).waitFor();

      // And stays gone after a reload (the server's list).
      await page.reload();
      await card(page, NEW_ID).waitFor();
      expect(await alice.count()).toBe(0);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('says, as the server does, when a certificate expires soon or has expired', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const soon = certificate({ expiry: { state: 'EXPIRES_SOON', daysLeft: 12 } });
      const expired = certificate({
        certificateId: 'c0000000-0000-4000-8000-0000000000e1',
        name: 'Old Wi-Fi',
        fingerprintSha256: FINGERPRINT.replace(/^../, '00'),
        expiry: { state: 'EXPIRED', daysLeft: 0 },
      });
      await open(page, certificateStub([soon, expired]));
      await expect
        .poll(() => card(page, ALICE_ID).getByTestId('expiry').textContent())
        .toBe('Expires in 12 days: replace it with a new one');
      await expect
        .poll(() => card(page, expired.certificateId).getByTestId('expiry').textContent())
        .toBe('Expired: devices no longer accept it');
      await expectAccessible(page, 'certificates that expire soon and have expired');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('asks again while a certificate is on its way, and shows it installed without a reload', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const waiting = certificate({
        deliveries: [
          { deviceId: PIXEL_ID, deviceName: 'Pixel', status: 'WAITING', at: minutesAgo(1), error: null },
        ],
      });
      const stub = certificateStub([waiting]);
      await page.clock.install({ time: Date.now() });
      await open(page, stub);
      const line = card(page, ALICE_ID).getByTestId('delivery');
      await expect.poll(() => line.getAttribute('data-status')).toBe('WAITING');
      stub.certificates = [
        certificate({
          deliveries: [
            { deviceId: PIXEL_ID, deviceName: 'Pixel', status: 'INSTALLED', at: minutesAgo(0), error: null },
          ],
        }),
      ];
      // runFor, not fastForward: everything the page schedules runs on the faked clock, and the
      // poll must fire within these 3.5 s (fastForward fires only what was due already).
      await page.clock.runFor(3_500);
      await expect.poll(() => line.getAttribute('data-status')).toBe('INSTALLED');
      expect(await line.textContent()).toContain('On Pixel: installed');

      // Nothing on its way any more: no more asking. The answer itself stops the polling, before
      // the page's effects have run (they wait for an animation frame on the faked clock).
      const lists = () =>
        stub.seen.filter((s) => s.method === 'GET' && s.path === '/api/certificates').length;
      const before = lists();
      await page.clock.fastForward(60_000);
      await page.waitForTimeout(300);
      expect(lists()).toBe(before);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  for (const [scheme, options] of [
    ['light', DESKTOP],
    ['dark', DARK],
  ] as const) {
    it(`has no axe violation on the page, with field errors, and in the Replace and Delete dialogs (${scheme})`, async () => {
      const { page, context, errors } = await openPage(browser, options);
      const check = (what: string) => expectAccessible(page, `${what} (${scheme})`);
      try {
        const failed = uploaded();
        failed.deliveries = [
          { deviceId: PIXEL_ID, deviceName: 'Pixel', status: 'FAILED', at: minutesAgo(3), error: 'No room.' },
          { deviceId: DEVICE_ID, deviceName: 'Work iPhone', status: 'SENT', at: minutesAgo(1), error: null },
        ];
        const stub = certificateStub([certificate(), failed], (body) =>
          body.replaces
            ? refusal(400, 'WRONG_PASSWORD', 'That password does not open this file.')
            : refusal(400, 'NOT_A_CERTIFICATE', 'This file is not a certificate.'),
        );
        await open(page, stub);
        await card(page, NEW_ID).waitFor();
        await check('the certificates page');

        await page
          .getByLabel('Certificate file')
          .setInputFiles({ name: 'notes.pem', mimeType: 'text/plain', buffer: Buffer.from('hello') });
        await page.getByRole('button', { name: 'Upload certificate' }).click();
        await page.getByTestId('file-error').waitFor();
        await check('the upload form with a file error');

        await card(page, ALICE_ID).getByRole('button', { name: 'Replace Alice S/MIME' }).click();
        const replace = page.getByRole('dialog', { name: 'Replace “Alice S/MIME”' });
        await replace
          .getByLabel('Newer certificate file')
          .setInputFiles({ name: 'alice.p12', mimeType: 'application/x-pkcs12', buffer: P12 });
        await replace.getByLabel('File password').fill('nope');
        await replace.getByRole('button', { name: 'Replace certificate' }).click();
        await replace.getByTestId('password-error').waitFor();
        await check('the Replace dialog with a password error');
        await replace.getByRole('button', { name: 'Cancel' }).click();
        await replace.waitFor({ state: 'detached' });

        await card(page, ALICE_ID).getByRole('button', { name: 'Delete Alice S/MIME' }).click();
        await page.getByRole('dialog', { name: 'Delete “Alice S/MIME”?' }).waitFor();
        await check('the Delete dialog');
        expect(unexpected(errors)).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }
});
