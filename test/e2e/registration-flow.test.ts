/**
 * The whole registration in a real browser: Alice requests a registration PIN in the portal, the
 * phone opens /go (phone-sized viewport) with that PIN, the device simulator enrolls with the token
 * /go handed out, and the portal shows the device Active with the facts it sent.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../infra/local/server.ts';
import { ALICE, ANDROID_PHONE, launchBrowser, openPage, signIn } from './browser.ts';

const run = promisify(execFile);

describe('registering a device with a PIN', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('goes from Request registration PIN to an Active device with the facts the agent sent', async () => {
    const desktop = await openPage(browser, { viewport: { width: 1280, height: 800 } });
    const phone = await openPage(browser, ANDROID_PHONE);
    try {
      const { page } = desktop;
      await signIn(page, baseUrl, ALICE);
      await page.getByRole('button', { name: 'Register device' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'Register device' });
      await dialog.waitFor();
      await dialog.getByLabel('Android').check();
      // No channel is preselected; Alice asks for the invitation by email as well.
      await dialog.getByRole('checkbox', { name: /^Email/ }).check();
      await dialog.getByRole('button', { name: 'Request registration PIN', exact: true }).click();
      const pinText = (await page.getByTestId('registration-pin').textContent()) ?? '';
      const pin = pinText.replace(/\D/g, '');
      expect(pin).toMatch(/^\d{8}$/);
      await page.getByRole('button', { name: 'Done' }).click();
      const card = page.locator('article[data-testid=device-card][data-status=PENDING]');
      await card.waitFor();
      expect(await card.textContent()).toMatch(/Expires in (1 h|\d+ min)/);

      // The invitation reached the outbox, without the PIN.
      const outbox = (await (await fetch(inject('outboxJsonUrl'))).json()) as {
        emails: { to: string[]; text: string }[];
      };
      const invitation = outbox.emails.find((e) => e.to.includes(ALICE));
      expect(invitation?.text).toContain('/go');
      expect(invitation?.text).not.toContain(pin);

      // On the phone: /go with the user name and the PIN.
      await phone.page.goto(`${baseUrl}/go`);
      await phone.page.getByLabel('Email', { exact: true }).fill(ALICE);
      await phone.page.getByLabel('Registration PIN', { exact: true }).fill(pin);
      await phone.page.getByRole('button', { name: 'Continue' }).click();
      const storeLink = phone.page.getByRole('link', { name: 'Get the agent app' });
      await storeLink.waitFor();
      const storeUrl = new URL((await storeLink.getAttribute('href')) ?? '');
      const referrer = new URLSearchParams(storeUrl.searchParams.get('referrer') ?? '');
      const enrollmentToken = referrer.get('enrollmentToken') ?? '';
      expect(enrollmentToken).not.toBe('');

      // A reload shows the same next step again (kept for the tab), without verifying again.
      let verifies = 0;
      phone.page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/api/enroll/verify') verifies += 1;
      });
      await phone.page.reload();
      await storeLink.waitFor();
      expect(await storeLink.getAttribute('href')).toBe(storeUrl.href);
      expect(verifies).toBe(0);

      // The agent app, as the device simulator, enrolls with the token from the store referrer.
      const state = join(await mkdtemp(join(tmpdir(), 'e2e-device-')), 'device.json');
      const { stdout } = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          'infra/local/device-simulator.ts',
          'enroll',
          '--portal',
          baseUrl,
          '--token',
          enrollmentToken,
          '--state',
          state,
          '--platform',
          'ANDROID',
          '--device-type',
          'Pixel 9 Pro',
          '--manufacturer',
          'Google',
          '--os-version',
          'Android 15',
          '--carrier',
          'Vodafone',
          '--imei',
          '490154203237518',
        ],
        { cwd: REPO_ROOT },
      );
      expect(stdout).toContain('Enrolled device');

      // Start over forgets the step: the form again, after a reload too.
      await phone.page.getByRole('button', { name: 'Start over' }).click();
      await phone.page.getByLabel('Registration PIN', { exact: true }).waitFor();
      await phone.page.reload();
      await phone.page.getByLabel('Registration PIN', { exact: true }).waitFor();
      expect(await storeLink.count()).toBe(0);

      await page.reload();
      const active = page.locator('article[data-testid=device-card][data-status=ACTIVE]');
      await active.waitFor();
      const text = (await active.textContent()) ?? '';
      for (const fact of ['Pixel 9 Pro', 'Google', 'Android 15', 'Vodafone', 'Active'])
        expect(text).toContain(fact);
      expect(text.replace(/\s/g, '')).toContain('490154203237518');
      expect(desktop.errors).toEqual([]);
      expect(phone.errors).toEqual([]);
    } finally {
      await desktop.context.close();
      await phone.context.close();
    }
  });
});
