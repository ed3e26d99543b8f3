/**
 * Certificates end to end in the browser (issue 13.7): an employee uploads a PEM, a DER and a
 * PKCS#12 on the Certificates page, sees each listed and installed on the device simulator that is
 * online, deletes one and sees it leave the list and the device.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newUser, putSettings, resetSettings, type TestUser } from '../integration/local-table.ts';
import { type OnlineDevice, onlineDevice, stop } from '../integration/simulator.ts';
import { expectAccessible } from './axe.ts';
import { accountMenu, launchBrowser, openPage, signIn } from './browser.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/certificates');
const dir = mkdtempSync(join(tmpdir(), 'e2e-certificates-'));

interface SimulatorState {
  certificates?: { name: string; withPrivateKey: boolean }[];
}
const installedOn = (device: OnlineDevice) =>
  ((JSON.parse(readFileSync(device.stateFile, 'utf8')) as SimulatorState).certificates ?? [])
    .map((c) => `${c.name}${c.withPrivateKey ? ' +key' : ''}`)
    .sort();

describe('certificates uploaded in the browser reach the device', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;
  let user: TestUser;
  let device: OnlineDevice;

  beforeAll(async () => {
    browser = await launchBrowser();
    await putSettings({ goAttemptsPerAddress: 10_000 });
    user = await newUser('+14155550143');
    device = await onlineDevice(dir, user, 'certificates-flow');
  });

  afterAll(async () => {
    if (device) await stop(device.child);
    await browser?.close();
    await resetSettings();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a PEM, a DER and a PKCS#12, lists them, installs them on the device, and deletes one', async () => {
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await signIn(page, baseUrl, user.email);
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Certificates' }).click();
      await page.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();

      const form = page
        .locator('form')
        .filter({ has: page.getByRole('button', { name: 'Upload certificate' }) });
      const uploadFile = async (file: string, password?: string) => {
        await form.getByLabel('Certificate file').setInputFiles(join(FIXTURES, file));
        if (password) await form.getByLabel('File password').fill(password);
        await form.getByRole('button', { name: 'Upload certificate' }).click();
        await expect
          .poll(() => form.getByRole('button', { name: 'Upload certificate' }).isEnabled())
          .toBe(true);
      };
      await uploadFile('alice-smime-chain.pem');
      await uploadFile('example-ca.der');
      await uploadFile('alice-vpn.p12', 'correct-horse');

      const cards = page.locator('[data-testid=certificate]');
      await expect.poll(() => cards.count()).toBe(3);
      await expect
        .poll(() => cards.locator('h3').allTextContents())
        .toEqual(['alice-vpn', 'Example Corp Test CA', 'Alice Example']);
      await expect.poll(() => cards.first().getByTestId('private-key').isVisible()).toBe(true);

      // The page checks again while a delivery is on its way: every card ends up "installed".
      const deliveries = page.locator('[data-testid=delivery]');
      await expect
        .poll(() => deliveries.evaluateAll((all) => all.map((d) => d.getAttribute('data-status'))), {
          timeout: 30_000,
        })
        .toEqual(['INSTALLED', 'INSTALLED', 'INSTALLED']);
      expect(installedOn(device)).toEqual(['Alice Example', 'Example Corp Test CA', 'alice-vpn +key']);
      await expectAccessible(page, 'the Certificates page with three certificates');

      // The CA issued the other two as well: its name is in every card, so the button's own name decides.
      await page.getByRole('button', { name: 'Delete Example Corp Test CA', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete “Example Corp Test CA”?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Delete certificate' }).click();
      await dialog.waitFor({ state: 'detached' });
      await expect.poll(() => cards.count()).toBe(2);
      await expect
        .poll(() => installedOn(device), { timeout: 20_000 })
        .toEqual(['Alice Example', 'alice-vpn +key']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
