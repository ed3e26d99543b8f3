/**
 * Issue 12 end to end against the real portal: ownership changed on the device page, the
 * secure-apps one-time PIN read from its dialog and used by the device simulator, and the Entrust
 * derived credential through the local stand-in and back.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RegistrationResponse } from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import { REPO_ROOT } from '../../infra/local/server.ts';
import { api } from '../integration/helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from '../integration/local-table.ts';
import { expectAccessible } from './axe.ts';
import { launchBrowser, openPage, signIn } from './browser.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'e2e-options-'));
const simulators: ChildProcess[] = [];
const DESKTOP = { viewport: { width: 1280, height: 900 } };

async function pinRegistration(user: TestUser, name: string): Promise<RegistrationResponse> {
  const created = await api<RegistrationResponse>('/api/registrations', {
    method: 'POST',
    token: user.accessToken,
    body: { platform: 'ANDROID', method: 'PIN', delivery: [], ownership: 'EMPLOYEE', name },
  });
  expect(created.status).toBe(201);
  return created.body;
}

/** An Android device enrolled by the simulator, with the secure-apps container; its state file. */
async function enrolledBySimulator(user: TestUser, name: string): Promise<string> {
  const { pin } = await pinRegistration(user, name);
  const state = join(dir, `${name}.json`);
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      'infra/local/device-simulator.ts',
      'enroll',
      '--portal',
      inject('baseUrl'),
      '--user',
      user.email,
      '--pin',
      pin ?? '',
      '--mode',
      'FULLY_MANAGED',
      '--secure-apps',
      '--state',
      state,
    ],
    { cwd: REPO_ROOT },
  );
  expect(stdout).toContain('Enrolled device');
  return state;
}

describe('ownership, secure-apps passcode and derived credential with the real portal', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;
  let user: TestUser;

  beforeAll(async () => {
    browser = await launchBrowser();
    await putSettings({
      defaultRoles: [...ROLES],
      goAttemptsPerAddress: 10_000,
      deviceLimitPerUser: 20,
      derivedCredential: { enabled: true, entrustUrl: `${inject('baseUrl')}/_local/entrust` },
    });
    user = await newUser('+14155550143');
  });

  afterAll(async () => {
    for (const child of simulators) child.kill('SIGINT');
    await browser?.close();
    await resetSettings();
    rmSync(dir, { recursive: true, force: true });
  });

  it('changes the ownership on the device page', async () => {
    await enrolledBySimulator(user, 'Owned phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, user.email);
      await page.getByRole('link', { name: 'Owned phone' }).click();
      await page.getByRole('heading', { name: 'Owned phone', level: 1 }).waitFor();
      expect(await page.getByTestId('ownership').textContent()).toBe('Employee-owned');
      await page.getByRole('button', { name: 'Change ownership' }).click();
      const dialog = page.getByRole('dialog', { name: 'Change ownership?' });
      await dialog.getByRole('button', { name: 'Change to company-owned' }).click();
      await expect.poll(() => page.getByTestId('ownership').textContent()).toBe('Company-owned');
      await expectAccessible(page, 'the device page after an ownership change');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("renames the device on its page, the list and the activity show it, and an empty name gives back the model's", async () => {
    await enrolledBySimulator(user, 'Spare phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, user.email);
      await page.getByRole('link', { name: 'Spare phone' }).click();
      await page.getByRole('heading', { name: 'Spare phone', level: 1 }).waitFor();
      const deviceId = (await page.locator('.device-page').getAttribute('data-device-id')) ?? '';

      await page.getByRole('button', { name: 'Rename', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Rename device' });
      const field = dialog.getByLabel('Name');
      expect(await field.inputValue()).toBe('Spare phone');
      await expectAccessible(page, 'the rename dialog');
      await field.fill('Field phone');
      await dialog.getByRole('button', { name: 'Save name' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByRole('heading', { name: 'Field phone', level: 1 }).waitFor();
      expect(await page.getByTestId('action-notice').textContent()).toBe('Renamed to “Field phone”.');
      await page
        .getByRole('list', { name: 'Activity on Field phone' })
        .getByText('Renamed: “Spare phone” → “Field phone”')
        .waitFor();

      await page.getByRole('link', { name: 'Back to My devices' }).click();
      await page.getByRole('link', { name: 'Field phone' }).click();
      await page.getByRole('button', { name: 'Rename', exact: true }).click();
      await dialog.getByLabel('Name').fill('');
      await dialog.getByRole('button', { name: 'Save name' }).click();
      await dialog.waitFor({ state: 'detached' });
      const model = (
        await api<{ device: { deviceType: string } }>(`/api/devices/${deviceId}`, { token: user.accessToken })
      ).body.device.deviceType;
      await page.getByRole('heading', { name: model, level: 1 }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a one-time PIN once, and the device simulator resets the passcode with it, once', async () => {
    const state = await enrolledBySimulator(user, 'Secure phone');
    const { page, context } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, user.email);
      await page.getByRole('link', { name: 'Secure phone' }).click();
      await page.getByRole('button', { name: 'Reset secure apps passcode' }).click();
      await page
        .getByRole('dialog', { name: 'Reset the secure apps passcode?' })
        .getByRole('button', { name: 'Get a one-time PIN' })
        .click();
      const shown = page.getByRole('dialog', { name: 'Your one-time PIN' });
      await shown.waitFor();
      const pin = (await shown.getByTestId('secure-apps-pin').textContent())?.replace(/\D/g, '') ?? '';
      expect(pin).toMatch(/^\d{8}$/);
      const reset = (args: string[]) =>
        run(process.execPath, ['--import', 'tsx', 'infra/local/device-simulator.ts', ...args], {
          cwd: REPO_ROOT,
        });
      const ok = await reset(['secure-apps-reset', '--user', user.email, '--pin', pin, '--state', state]);
      expect(ok.stdout).toContain('Secure-apps passcode reset');
      await expect(
        reset(['secure-apps-reset', '--user', user.email, '--pin', pin, '--state', state]),
      ).rejects.toThrow(/not reset/);
    } finally {
      await context.close();
    }
  });

  it('requests a derived credential through Entrust before registering, and the card shows it requested', async () => {
    await pinRegistration(user, 'New phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, user.email);
      const card = page.locator('article[data-testid=device-card]', { hasText: 'New phone' });
      await card.getByRole('button', { name: 'Request derived credential' }).click();
      await page.getByRole('heading', { name: 'Request a derived credential', level: 1 }).waitFor();
      await page.getByLabel('Credential name').fill('Work PIV-D');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Record your activation password', level: 1 }).waitFor();
      await expectAccessible(page, 'the Entrust stand-in');
      await page.getByLabel('I have recorded the activation password').check();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Derived credential', level: 1 }).waitFor();
      await expect
        .poll(() => page.getByTestId('derived-credential-outcome').textContent())
        .toMatch(/requested/i);
      expect(new URL(page.url()).search).toBe('');
      await page.getByRole('link', { name: 'Back to My devices' }).click();
      const requested = card.getByTestId('derived-credential');
      await expect.poll(() => requested.textContent()).toContain('Work PIV-D');
      expect(await card.getByRole('button', { name: 'Request derived credential' }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back from Entrust with a failure, and says so', async () => {
    await pinRegistration(user, 'Other phone');
    const { page, context } = await openPage(browser, DESKTOP);
    try {
      await signIn(page, baseUrl, user.email);
      const card = page.locator('article[data-testid=device-card]', { hasText: 'Other phone' });
      await card.getByRole('button', { name: 'Request derived credential' }).click();
      await page.getByRole('link', { name: 'Send me back with a failure' }).click();
      await page.getByRole('heading', { name: 'Derived credential', level: 1 }).waitFor();
      await expect
        .poll(() => page.getByTestId('derived-credential-outcome').textContent())
        .toMatch(/not|fail/i);
    } finally {
      await context.close();
    }
  });
});
