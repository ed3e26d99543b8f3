/**
 * The recent sign-in step for a user with an authenticator app, against the real local stack: a
 * fresh user with TOTP on and an enrolled, company-owned device; the browser starts with a session
 * whose sign-in is 10 minutes old (cognito-local renews `auth_time` on every refresh, so the access
 * token is signed again with an old one by the emulator's own key), so the real API answers wipe
 * with 401 RECENT_SIGN_IN_REQUIRED. The dialog asks for the password, cognito-local answers
 * SOFTWARE_TOKEN_MFA, the same dialog asks for the code, and the wipe goes out again with the new
 * sign-in's token.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DeviceDetailResponse } from '../../functions/core/api-types.ts';
import { ROLES } from '../../functions/routes.ts';
import {
  api,
  cognitoLocalPrivateKey,
  decodeJwt,
  nowSeconds,
  signIn as passwordSignIn,
  signJwt,
  type Tokens,
} from '../integration/helpers.ts';
import { newUser, putSettings, resetSettings, type TestUser } from '../integration/local-table.ts';
import { enrolledDevice } from '../integration/simulator.ts';
import { totp } from '../totp.ts';
import { expectAccessible } from './axe.ts';
import { accountMenu, DEMO_PASSWORD, launchBrowser, openPage } from './browser.ts';
import { unexpected } from './device-stubs.ts';

const DESKTOP = { viewport: { width: 1280, height: 900 } };
const STORAGE_KEY = 'device-portal.session';
const WRONG_CODE = 'That code is not right. Enter the 6-digit code your authenticator app shows now.';

/** One call through the portal's Cognito proxy, as the web app makes it; the JSON answer. */
async function cognito(target: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(`${inject('baseUrl')}/_local/cognito/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${target}`,
    },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${target}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Turns the authenticator app on for the user, as /account does; the TOTP secret. */
async function turnOnTotp(accessToken: string): Promise<string> {
  const { SecretCode } = await cognito('AssociateSoftwareToken', { AccessToken: accessToken });
  const secret = String(SecretCode);
  await cognito('VerifySoftwareToken', {
    AccessToken: accessToken,
    UserCode: totp(secret),
    FriendlyDeviceName: 'Test app',
  });
  await cognito('SetUserMFAPreference', {
    AccessToken: accessToken,
    SoftwareTokenMfaSettings: { Enabled: true, PreferredMfa: true },
  });
  return secret;
}

/** A company-owned Android device of the user, enrolled through the agent API. */
async function companyDevice(user: TestUser, name: string): Promise<string> {
  return (await enrolledDevice(user, { name, ownership: 'COMPANY' })).deviceId;
}

function wrongCode(secret: string): string {
  return String((Number(totp(secret)) + 1) % 1_000_000).padStart(6, '0');
}

describe('recent sign-in with an authenticator app', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;
  let user: TestUser;
  /** The user's tokens from a password sign-in before TOTP was turned on. */
  let tokens: Tokens;
  let secret: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    await putSettings({ defaultRoles: [...ROLES], goAttemptsPerAddress: 10_000, deviceLimitPerUser: 20 });
    user = await newUser('+14155550144');
    tokens = await passwordSignIn(user.email);
    secret = await turnOnTotp(tokens.accessToken);
  });

  afterAll(async () => {
    await browser?.close();
    await resetSettings();
  });

  /** The device page, signed in 10 minutes ago; every POST …/wipe and its answer recorded. */
  async function openSignedInLongAgo(page: Page, deviceId: string, name: string) {
    const claims = decodeJwt(tokens.accessToken);
    const old = signJwt({ ...claims, auth_time: nowSeconds() - 10 * 60 }, cognitoLocalPrivateKey());
    const session = {
      accessToken: old,
      idToken: tokens.idToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + 10 * 60_000,
    };
    await page.goto(baseUrl);
    await page.evaluate(
      ([key, value]) => sessionStorage.setItem(key ?? '', value ?? ''),
      [STORAGE_KEY, JSON.stringify(session)],
    );
    const wipes: { authorization: string | undefined; status: number }[] = [];
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && new URL(request.url()).pathname.endsWith('/wipe')) {
        wipes.push({ authorization: request.headers().authorization, status: response.status() });
      }
    });
    await page.goto(`${baseUrl}/devices/${deviceId}`);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    return { wipes, oldToken: old };
  }

  /** Wipe, the tick, the 401, the password: up to the code step. */
  async function upToTheCode(page: Page) {
    await page.getByRole('button', { name: 'Wipe', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: 'Wipe this device?' });
    await confirm.getByLabel('I understand that everything on this device will be erased').check();
    await confirm.getByRole('button', { name: 'Wipe device' }).click();
    const again = page.getByRole('dialog', { name: 'Enter your password again' });
    await again.waitFor();
    const dialog = await again.elementHandle();
    await again.getByLabel('Password').fill(DEMO_PASSWORD);
    await again.getByRole('button', { name: 'Confirm and wipe device' }).click();
    const code = page.getByRole('dialog', { name: 'Enter your code' });
    await code.waitFor();
    return { code, dialog };
  }

  it('asks for the code in the same dialog after the password, and the wipe goes through with the new sign-in', async () => {
    const deviceId = await companyDevice(user, 'Work phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const { wipes, oldToken } = await openSignedInLongAgo(page, deviceId, 'Work phone');
      const { code, dialog } = await upToTheCode(page);

      // The password dialog became the code step: the same <dialog>, still open.
      expect(await code.evaluate((element, before) => element === before, dialog)).toBe(true);
      expect(await code.textContent()).toContain(`set up for ${user.email}`);
      const field = code.getByLabel('Authentication code');
      await expect.poll(() => field.evaluate((element) => element === document.activeElement)).toBe(true);
      expect(wipes).toEqual([{ authorization: `Bearer ${oldToken}`, status: 401 }]);

      await field.fill(totp(secret));
      await code.getByRole('button', { name: 'Confirm and wipe device' }).click();
      await code.waitFor({ state: 'detached' });
      await page.getByTestId('action-notice').waitFor();

      expect(wipes).toHaveLength(2);
      expect(wipes[1]?.status).toBe(202);
      // The retry carries the token of the sign-in completed with the code; never signed out.
      const fresh = decodeJwt(wipes[1]?.authorization?.replace(/^Bearer /, '') ?? '');
      expect(fresh.sub).toBe(decodeJwt(oldToken).sub);
      expect(Number(fresh.auth_time)).toBeGreaterThan(nowSeconds() - 60);
      await accountMenu(page).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/devices/${deviceId}`);

      const detail = await api<DeviceDetailResponse>(`/api/devices/${deviceId}`, {
        token: tokens.accessToken,
      });
      expect(detail.body.commands.map((c) => [c.action, c.status])).toContainEqual(['WIPE', 'QUEUED']);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a wrong code says so and keeps the dialog; the right one then goes through', async () => {
    const deviceId = await companyDevice(user, 'Spare phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const { wipes } = await openSignedInLongAgo(page, deviceId, 'Spare phone');
      const { code } = await upToTheCode(page);

      const field = code.getByLabel('Authentication code');
      await field.fill(wrongCode(secret));
      await code.getByRole('button', { name: 'Confirm and wipe device' }).click();
      await code.getByRole('alert').filter({ hasText: WRONG_CODE }).waitFor();
      // Still the code step, the field emptied for the next code; nothing sent again.
      expect(await code.isVisible()).toBe(true);
      expect(await field.inputValue()).toBe('');
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(wipes).toHaveLength(1);

      await field.fill(totp(secret));
      await code.getByRole('button', { name: 'Confirm and wipe device' }).click();
      await code.waitFor({ state: 'detached' });
      await page.getByTestId('action-notice').waitFor();
      expect(wipes.map((w) => w.status)).toEqual([401, 202]);
      // Besides the first wipe's 401, the browser logs the wrong code's 400 from Cognito: nothing else.
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a timed-out code step goes back to the password, says why, and the new sign-in goes through', async () => {
    const deviceId = await companyDevice(user, 'Tablet');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const { wipes } = await openSignedInLongAgo(page, deviceId, 'Tablet');
      const { code } = await upToTheCode(page);
      // Cognito's answer once the challenge's session has run out (3 minutes in AWS), once.
      let expired = 0;
      await page.route(
        (url) => url.pathname.startsWith('/_local/cognito'),
        async (route) => {
          const target = route.request().headers()['x-amz-target'] ?? '';
          if (expired > 0 || !target.endsWith('.RespondToAuthChallenge')) return route.continue();
          expired += 1;
          return route.fulfill({
            status: 400,
            contentType: 'application/x-amz-json-1.1',
            json: {
              __type: 'NotAuthorizedException',
              message: 'Invalid session for the user, session is expired.',
            },
          });
        },
      );

      await code.getByLabel('Authentication code').fill(totp(secret));
      await code.getByRole('button', { name: 'Confirm and wipe device' }).click();
      const again = page.getByRole('dialog', { name: 'Enter your password again' });
      await again
        .getByRole('alert')
        .filter({ hasText: 'This step timed out; sign in again with your password.' })
        .waitFor();
      expect(expired).toBe(1);
      expect(wipes).toHaveLength(1);

      // The password again starts a new challenge; its code completes the sign-in and the wipe.
      await again.getByLabel('Password').fill(DEMO_PASSWORD);
      await again.getByRole('button', { name: 'Confirm and wipe device' }).click();
      const fresh = page.getByRole('dialog', { name: 'Enter your code' });
      await fresh.getByLabel('Authentication code').fill(totp(secret));
      await fresh.getByRole('button', { name: 'Confirm and wipe device' }).click();
      await fresh.waitFor({ state: 'detached' });
      await page.getByTestId('action-notice').waitFor();
      expect(wipes.map((w) => w.status)).toEqual([401, 202]);
      // Besides the first wipe's 401, the browser logs the faked 400 from Cognito: nothing else.
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('has no axe violation on the code step', async () => {
    const deviceId = await companyDevice(user, 'Old phone');
    const { page, context, errors } = await openPage(browser, DESKTOP);
    try {
      const { wipes } = await openSignedInLongAgo(page, deviceId, 'Old phone');
      const { code } = await upToTheCode(page);
      await expectAccessible(page, 'the code step of the recent sign-in');
      await code.getByRole('button', { name: 'Cancel' }).click();
      await code.waitFor({ state: 'detached' });
      expect(wipes).toHaveLength(1);
      expect(unexpected(errors)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
