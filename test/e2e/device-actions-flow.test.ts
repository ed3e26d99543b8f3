/**
 * Device actions end to end in the browser with the device simulator online (issue 11.5, 11.12):
 * lost mode, locate, retire and wipe queued on the device page, carried out by the running
 * simulator after a wake-up, and shown Done on the page without a reload.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROLES } from '../../functions/routes.ts';
import { newUser, putSettings, resetSettings, type TestUser } from '../integration/local-table.ts';
import { type OnlineDevice, onlineDevice, stop } from '../integration/simulator.ts';
import { expectAccessible } from './axe.ts';
import { launchBrowser, openPage, signIn } from './browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'e2e-actions-'));
/** Map tiles come from the internet, which tests never reach: a 1×1 PNG stands in for each. */
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

async function offlineTiles(page: Page): Promise<void> {
  await page.route(
    (url) => url.hostname === 'tile.openstreetmap.org',
    (route) => route.fulfill({ status: 200, contentType: 'image/png', body: TINY_PNG }),
  );
}
const simulators: OnlineDevice[] = [];

/** A company-owned Android device, enrolled by a simulator that stays online (--push). */
async function companyDevice(user: TestUser, name: string): Promise<OnlineDevice> {
  // The simulator's own default position (Dam Square), which the map test reads.
  const device = await onlineDevice(
    dir,
    user,
    name.replace(/\W+/g, '-'),
    { name, ownership: 'COMPANY' },
    { location: null },
  );
  simulators.push(device);
  return device;
}

/** Sends an action from the device page and waits, without a reload, until the page says Done. */
async function runAction(
  page: Page,
  button: string,
  dialogName: string,
  confirm: string,
  prepare?: () => Promise<void>,
) {
  const started = Date.now();
  await page.getByRole('button', { name: button, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: dialogName });
  await dialog.waitFor();
  await prepare?.();
  await dialog.getByRole('button', { name: confirm }).click();
  await dialog.waitFor({ state: 'detached' });
  const line = page.locator('[data-testid=command]').first();
  await expect.poll(() => line.getAttribute('data-status'), { timeout: 15_000 }).toBe('DONE');
  return Date.now() - started;
}

describe('device actions carried out by the running simulator', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;
  let user: TestUser;

  beforeAll(async () => {
    browser = await launchBrowser();
    await putSettings({ defaultRoles: [...ROLES], goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 });
    user = await newUser('+14155550142');
  });

  afterAll(async () => {
    for (const device of simulators) await stop(device.child);
    await browser?.close();
    await resetSettings();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns lost mode on, locates the device, turns lost mode off and retires it', async () => {
    const device = await companyDevice(user, 'Fleet phone');
    const { page, context, errors } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await offlineTiles(page);
      await signIn(page, baseUrl, user.email);
      await page.getByRole('link', { name: 'Fleet phone' }).click();
      await page.getByRole('heading', { name: 'Fleet phone', level: 1 }).waitFor();

      const lostMs = await runAction(
        page,
        'Lost mode',
        'Turn on lost mode?',
        'Turn on lost mode',
        async () => {
          const dialog = page.getByRole('dialog', { name: 'Turn on lost mode?' });
          await dialog
            .getByLabel('Message on the lock screen', { exact: true })
            .fill('Lost phone, please call');
          await dialog.getByLabel('Phone number on the lock screen (optional)').fill('+14155550123');
        },
      );
      console.info(`lost mode: queued in the portal, Done on the page ${lostMs} ms later`);
      await expect.poll(() => device.output()).toContain('Lost phone, please call');
      const panel = page.getByTestId('lost-mode');
      await panel.waitFor();
      expect(await panel.textContent()).toContain('Lost phone, please call');

      await runAction(page, 'Locate', 'Locate this device?', 'Locate device');
      const location = page.getByTestId('location');
      await location.waitFor();
      expect(await location.getByTestId('latitude').textContent()).toContain('52.37');
      await expectAccessible(page, 'a located device in lost mode');

      await panel.getByRole('button', { name: 'Turn off lost mode' }).click();
      const off = page.getByRole('dialog', { name: 'Turn off lost mode?' });
      await off.getByRole('button', { name: 'Turn off lost mode' }).click();
      // The panel goes once the device confirms lost mode is off.
      await panel.waitFor({ state: 'detached', timeout: 15_000 });

      await runAction(page, 'Retire', 'Retire this device?', 'Retire device');
      await expect
        .poll(() => page.getByTestId('device-status').first().textContent(), { timeout: 15_000 })
        .toContain('Retired');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('wipes a company-owned device after the tick, and the page shows it Wiped', async () => {
    await companyDevice(user, 'Loaner phone');
    const { page, context } = await openPage(browser, { viewport: { width: 1280, height: 900 } });
    try {
      await signIn(page, baseUrl, user.email);
      await page.getByRole('link', { name: 'Loaner phone' }).click();
      await page.getByRole('heading', { name: 'Loaner phone', level: 1 }).waitFor();
      await runAction(page, 'Wipe', 'Wipe this device?', 'Wipe device', async () => {
        await page
          .getByRole('dialog', { name: 'Wipe this device?' })
          .getByLabel('I understand that everything on this device will be erased')
          .check();
      });
      await expect
        .poll(() => page.getByTestId('device-status').first().textContent(), { timeout: 15_000 })
        .toContain('Wiped');
    } finally {
      await context.close();
    }
  });
});
