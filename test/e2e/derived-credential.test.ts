/**
 * The Entrust derived credential (issue 12) against a stubbed API and a stubbed Entrust page:
 * Request derived credential on a pending card and in the registration result sends the browser to
 * the redirectUrl; the card says where a request stands; the /derived-credential return page takes
 * the query out of the address bar, completes once and says how it went (success, failure, 410),
 * also when the session had ended and sign-in came first.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  DerivedCredentialComplete,
  DerivedCredentialStart,
  DeviceListResponse,
  RegistrationResponse,
} from '../../functions/core/api-types.ts';
import { expectAccessible } from './axe.ts';
import { ADMIN, BOB, DEMO_PASSWORD, launchBrowser, openPage, signIn } from './browser.ts';
import { DEVICE_ID, minutesAgo, pendingDevice, type Stub, stubApi, unexpected } from './device-stubs.ts';

const DESKTOP = { viewport: { width: 1280, height: 900 } };
const ENTRUST = 'https://entrust.example.test';
const STATE_INVALID =
  'This link to finish the derived credential was already used or has expired. Start again from My devices.';

function start(): DerivedCredentialStart {
  return {
    redirectUrl: `${ENTRUST}/selfservice/derived?state=st-123&return=portal`,
    expiresAt: new Date(Date.now() + 600_000).toISOString(),
  };
}

/** Entrust's page, as the stand-in serves it: just something to land on. */
async function stubEntrust(page: Page): Promise<void> {
  await page.route(`${ENTRUST}/**`, (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html',
      body: '<!doctype html><html lang="en"><title>Entrust self-service</title><h1>Entrust</h1></html>',
    }),
  );
}

function completeStub(answer: { status: number; json: unknown }): Stub {
  return {
    answer: (method, path) =>
      method === 'POST' && path === '/api/derived-credential/complete' ? answer : undefined,
    seen: [],
  };
}

function outcome(page: Page) {
  return page.getByTestId('derived-credential-outcome');
}

describe('derived credential', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('pending card: Request sends the browser to Entrust; requested and failed requests say so', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const list: DeviceListResponse = {
        devices: [
          pendingDevice(),
          pendingDevice({
            deviceId: 'dev-requested',
            name: 'Requested iPhone',
            derivedCredential: {
              status: 'REQUESTED',
              at: minutesAgo(5),
              name: 'PIV-D iPhone',
              canRequest: false,
            },
          }),
          pendingDevice({
            deviceId: 'dev-failed',
            name: 'Failed iPhone',
            derivedCredential: { status: 'FAILED', at: minutesAgo(3), name: null, canRequest: true },
          }),
        ],
        inUse: 3,
      };
      const stub: Stub = {
        list: () => list,
        answer: (method, path) =>
          method === 'POST' && path === `/api/devices/${DEVICE_ID}/derived-credential`
            ? { status: 200, json: start() }
            : undefined,
        seen: [],
      };
      await stubApi(page, stub);
      await stubEntrust(page);
      await signIn(page, baseUrl, BOB);
      const card = (id: string) => page.locator(`article[data-device-id="${id}"]`);
      await card(DEVICE_ID).waitFor();

      const requested = card('dev-requested').getByTestId('derived-credential');
      expect(await requested.textContent()).toContain('Derived credential requested');
      expect(await requested.textContent()).toContain('PIV-D iPhone');
      expect(await requested.getByRole('button').count()).toBe(0);
      const failed = card('dev-failed').getByTestId('derived-credential');
      expect(await failed.textContent()).toContain('did not finish');
      await failed.getByRole('button', { name: 'Request derived credential' }).waitFor();
      await expectAccessible(page, 'My devices with derived-credential states');

      await card(DEVICE_ID).getByRole('button', { name: 'Request derived credential' }).click();
      await page.waitForURL(`${ENTRUST}/**`);
      expect(page.url()).toBe(start().redirectUrl);
      expect(stub.seen.filter((s) => s.path.endsWith('/derived-credential'))).toHaveLength(1);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('registration result: Request derived credential next to the PIN leaves for Entrust without a prompt', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const registration: RegistrationResponse = {
        device: pendingDevice(),
        pin: '73918264',
        goUrl: `${baseUrl}/go`,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      };
      const stub: Stub = {
        list: () => ({ devices: [], inUse: 0 }),
        answer: (method, path) => {
          if (method === 'POST' && path === '/api/registrations') return { status: 201, json: registration };
          if (method === 'POST' && path === `/api/devices/${DEVICE_ID}/derived-credential`)
            return { status: 200, json: start() };
          return undefined;
        },
        seen: [],
      };
      await stubApi(page, stub);
      await stubEntrust(page);
      let prompted = false;
      page.on('dialog', (d) => {
        prompted = true;
        void d.dismiss();
      });
      await signIn(page, baseUrl, ADMIN);
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.getByLabel('iPhone or iPad').check();
      await dialog.getByRole('button', { name: 'Request registration PIN', exact: true }).click();
      await page.getByTestId('registration-pin').waitFor();
      const result = page.getByRole('dialog', { name: 'Registration started' });
      await expectAccessible(page, 'the registration result with Request derived credential');
      await result.getByRole('button', { name: 'Request derived credential' }).click();
      await page.waitForURL(`${ENTRUST}/**`);
      expect(prompted).toBe(false);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('return page: success, with the query gone from the address bar and the history', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = completeStub({ status: 200, json: { deviceId: DEVICE_ID, status: 'REQUESTED' } });
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/derived-credential?state=st-ok&result=SUCCESS&name=PIV-D%20iPhone`);
      await page.getByRole('heading', { name: 'Derived credential', level: 1 }).waitFor();
      await expect.poll(() => outcome(page).getAttribute('data-outcome')).toBe('requested');
      expect(new URL(page.url()).search).toBe('');
      expect(await page.evaluate(() => location.href)).not.toContain('st-ok');
      const text = (await outcome(page).textContent()) ?? '';
      expect(text).toContain('Derived credential requested: PIV-D iPhone');
      expect(text).toContain('register the device with your registration PIN');
      expect(text).toContain('PIV-D Entrust app with the activation password you recorded');
      const sent = stub.seen.filter((s) => s.path === '/api/derived-credential/complete');
      const body: DerivedCredentialComplete = {
        state: 'st-ok',
        result: 'SUCCESS',
        credentialName: 'PIV-D iPhone',
      };
      expect(sent.map((s) => s.body)).toEqual([body]);
      await expectAccessible(page, 'the derived-credential return page (success)');

      // A reload does not send the state again.
      await page.reload();
      await expect.poll(() => outcome(page).getAttribute('data-outcome')).toBe('nothing');
      expect(stub.seen.filter((s) => s.path === '/api/derived-credential/complete')).toHaveLength(1);

      await page.getByRole('link', { name: 'Back to My devices' }).click();
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('return page: a failure at Entrust', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = completeStub({ status: 200, json: { deviceId: DEVICE_ID, status: 'FAILED' } });
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/derived-credential?state=st-fail&result=FAILURE`);
      await expect.poll(() => outcome(page).getAttribute('data-outcome')).toBe('failed');
      expect(await outcome(page).textContent()).toContain('The derived credential was not requested.');
      expect(stub.seen.find((s) => s.path === '/api/derived-credential/complete')?.body).toEqual({
        state: 'st-fail',
        result: 'FAILURE',
      });
      expect(new URL(page.url()).search).toBe('');
      await expectAccessible(page, 'the derived-credential return page (failure)');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('return page: 410 STATE_INVALID shows the server’s message', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = completeStub({
        status: 410,
        json: { error: { code: 'STATE_INVALID', message: STATE_INVALID } },
      });
      await stubApi(page, stub);
      await signIn(page, baseUrl, BOB);
      await page.goto(`${baseUrl}/derived-credential?state=st-replayed&result=SUCCESS&name=x`);
      await expect.poll(() => outcome(page).getAttribute('data-outcome')).toBe('error');
      expect(await outcome(page).getByRole('alert').textContent()).toBe(STATE_INVALID);
      await page.getByRole('link', { name: 'Back to My devices' }).waitFor();
      await expectAccessible(page, 'the derived-credential return page (410)');
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('return page without a session: the query leaves the address bar, sign-in first, then it completes', async () => {
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const stub = completeStub({ status: 200, json: { deviceId: DEVICE_ID, status: 'REQUESTED' } });
      await stubApi(page, stub);
      await page.goto(`${baseUrl}/derived-credential?state=st-later&result=SUCCESS&name=PIV-D`);
      const email = page.getByLabel('Email', { exact: true });
      await email.waitFor();
      expect(new URL(page.url()).pathname).toBe('/derived-credential');
      expect(new URL(page.url()).search).toBe('');
      expect(stub.seen.some((s) => s.path === '/api/derived-credential/complete')).toBe(false);
      await email.fill(BOB);
      await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await expect.poll(() => outcome(page).getAttribute('data-outcome')).toBe('requested');
      expect(new URL(page.url()).pathname).toBe('/derived-credential');
      expect(stub.seen.find((s) => s.path === '/api/derived-credential/complete')?.body).toEqual({
        state: 'st-later',
        result: 'SUCCESS',
        credentialName: 'PIV-D',
      });
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
