/**
 * First sign-in with a temporary password (Cognito's NEW_PASSWORD_REQUIRED): an account made by an
 * administrator with AdminCreateUser signs in with its temporary password, chooses a new one on the
 * second step (the page checks length and confirmation first) and lands in the portal; afterwards
 * the new password signs in directly. Cognito's answers the emulator never gives (an expired
 * challenge session, a password its policy refuses) are played back in the browser.
 */
import {
  AdminCreateUserCommand,
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountMenu, launchBrowser, openPage } from './browser.ts';

const PHONE_SIZED = { viewport: { width: 375, height: 812 } };
const TEMPORARY_PASSWORD = 'Temporary-pass-4821';
const NEW_PASSWORD = 'correct horse battery staple';
const RESPOND = 'AWSCognitoIdentityProviderService.RespondToAuthChallenge';

/** Cognito requests the page sends through the local proxy, by X-Amz-Target. */
function cognitoCalls(page: Page): { target: string; body: Record<string, unknown> }[] {
  const calls: { target: string; body: Record<string, unknown> }[] = [];
  page.on('request', (request: Request) => {
    if (!request.url().includes('/_local/cognito')) return;
    calls.push({
      target: request.headers()['x-amz-target'] ?? '',
      body: (request.postDataJSON() ?? {}) as Record<string, unknown>,
    });
  });
  return calls;
}

async function submitSignIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  if (!page.url().startsWith(baseUrl)) await page.goto(baseUrl);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function submitNewPassword(page: Page, password: string, confirm: string): Promise<void> {
  await page.getByLabel('New password', { exact: true }).fill(password);
  await page.getByLabel('Confirm new password', { exact: true }).fill(confirm);
  await page.getByRole('button', { name: 'Save password and sign in' }).click();
}

describe('first sign-in with a temporary password', () => {
  const baseUrl = inject('baseUrl');
  const run = Date.now().toString(36);
  let browser: Browser;
  let cognito: CognitoIdentityProviderClient;
  let userPoolId: string;

  /** A new account as an administrator makes one: temporary password, no welcome mail. */
  async function createUser(email: string, name: string): Promise<string> {
    const { User } = await cognito.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: email,
        TemporaryPassword: TEMPORARY_PASSWORD,
        MessageAction: 'SUPPRESS',
        UserAttributes: [
          { Name: 'email', Value: email },
          { Name: 'email_verified', Value: 'true' },
          { Name: 'name', Value: name },
        ],
      }),
    );
    expect(User?.UserStatus).toBe('FORCE_CHANGE_PASSWORD');
    if (!User?.Username) throw new Error('AdminCreateUser returned no user name');
    return User.Username;
  }

  beforeAll(async () => {
    const url = new URL(baseUrl);
    cognito = new CognitoIdentityProviderClient({
      endpoint: `${url.protocol}//${url.hostname}:${Number(url.port) + 2}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const config = (await (await fetch(`${baseUrl}/config.json`)).json()) as { userPoolId: string };
    userPoolId = config.userPoolId;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    cognito?.destroy();
  });

  it('asks for a new password, checks it, signs in with it, and then signs in with it directly', async () => {
    const email = `nora-${run}@example.com`;
    const username = await createUser(email, 'Nora Newcomer');
    const { page, context, errors } = await openPage(browser, PHONE_SIZED);
    const calls = cognitoCalls(page);
    try {
      await submitSignIn(page, baseUrl, email, TEMPORARY_PASSWORD);

      const heading = page.getByRole('heading', { name: 'Choose a new password' });
      await heading.waitFor();
      await expect.poll(() => page.title()).toBe('Choose a new password · Device Portal');
      expect(await page.locator('.auth-card').textContent()).toContain(email);
      const rule = page.locator('#new-password-rule');
      expect(await rule.textContent()).toContain('At least 12 characters');
      expect(await page.getByLabel('Email', { exact: true }).count()).toBe(0);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      expect(overflow).toBe(false);

      // Too short: the rule, with the count, and the field marked; nothing sent to Cognito.
      await submitNewPassword(page, 'short one', 'short one');
      const passwordError = page.locator('#new-password-error');
      await passwordError.waitFor();
      expect(await passwordError.textContent()).toContain('Use at least 12 characters (this one has 9)');
      const newPasswordField = page.getByLabel('New password', { exact: true });
      expect(await newPasswordField.getAttribute('aria-invalid')).toBe('true');
      expect(await newPasswordField.evaluate((el) => el === document.activeElement)).toBe(true);

      // Long enough, but the confirmation differs.
      await submitNewPassword(page, NEW_PASSWORD, 'correct horse battery stapler');
      const confirmError = page.locator('#new-password-confirm-error');
      await confirmError.waitFor();
      expect(await confirmError.textContent()).toContain('do not match');
      expect(await passwordError.count()).toBe(0);
      expect(calls.filter((c) => c.target === RESPOND)).toEqual([]);

      // A good one: signed in, the Welcome menu shows the account's name.
      await submitNewPassword(page, NEW_PASSWORD, NEW_PASSWORD);
      await page.getByRole('button', { name: /^Welcome, Nora/ }).waitFor();
      await page.getByRole('heading', { name: 'My devices', level: 1 }).waitFor();
      await expect.poll(() => page.title()).toBe('My devices · Device Portal');

      const answers = calls.filter((c) => c.target === RESPOND);
      expect(answers).toHaveLength(1);
      expect(answers[0]?.body).toMatchObject({
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: expect.any(String),
        // USER_ID_FOR_SRP from the challenge (the pool's internal user name), not the email.
        ChallengeResponses: { USERNAME: username, NEW_PASSWORD },
      });
      const { UserStatus } = await cognito.send(
        new AdminGetUserCommand({ UserPoolId: userPoolId, Username: email }),
      );
      expect(UserStatus).toBe('CONFIRMED');

      // The session's refresh token works (cognito-local forgets the one RespondToAuthChallenge
      // hands out, so the page signs in once more with the new password to get one it knows).
      const refreshed = await page.evaluate(async () => {
        const stored = JSON.parse(sessionStorage.getItem('device-portal.session') ?? '{}') as {
          refreshToken?: string;
        };
        const config = (await (await fetch('/config.json')).json()) as { userPoolClientId: string };
        const res = await fetch('/_local/cognito/', {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-amz-json-1.1',
            'X-Amz-Target': 'AWSCognitoIdentityProviderService.InitiateAuth',
          },
          body: JSON.stringify({
            AuthFlow: 'REFRESH_TOKEN_AUTH',
            ClientId: config.userPoolClientId,
            AuthParameters: { REFRESH_TOKEN: stored.refreshToken },
          }),
        });
        return res.status;
      });
      expect(refreshed).toBe(200);
      expect(errors).toEqual([]);

      // Sign out, then in again with the new password: straight into the portal, no second step.
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      const callsBefore = calls.length;
      await submitSignIn(page, baseUrl, email, NEW_PASSWORD);
      await page.getByRole('button', { name: /^Welcome, Nora/ }).waitFor();
      expect(calls.slice(callsBefore).map((c) => c.target)).toEqual([
        'AWSCognitoIdentityProviderService.InitiateAuth',
      ]);
      expect(await page.getByRole('heading', { name: 'Choose a new password' }).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("shows Cognito's password policy message, and sends a timed-out step back to sign-in", async () => {
    const email = `omar-${run}@example.com`;
    await createUser(email, 'Omar Onboard');
    const { page, context } = await openPage(browser, PHONE_SIZED);
    // The emulator neither applies the password policy nor lets challenge sessions expire: answer
    // RespondToAuthChallenge here as Cognito does, once each, then let requests through again.
    const cognitoAnswers = [
      {
        __type: 'InvalidPasswordException',
        message: 'Password does not conform to policy: Password must not be a commonly used password',
      },
      { __type: 'NotAuthorizedException', message: 'Invalid session for the user, session is expired.' },
    ];
    await page.route('**/_local/cognito/**', async (route: Route) => {
      const answer =
        route.request().headers()['x-amz-target'] === RESPOND ? cognitoAnswers.shift() : undefined;
      if (!answer) return route.continue();
      return route.fulfill({ status: 400, contentType: 'application/x-amz-json-1.1', json: answer });
    });
    try {
      await submitSignIn(page, baseUrl, email, TEMPORARY_PASSWORD);
      const heading = page.getByRole('heading', { name: 'Choose a new password' });
      await heading.waitFor();

      // The same password as the temporary one is refused on the page.
      await submitNewPassword(page, TEMPORARY_PASSWORD, TEMPORARY_PASSWORD);
      expect(await page.locator('#new-password-error').textContent()).toContain(
        'different from the temporary',
      );

      // Cognito refuses the password: its message, and the step stays.
      await submitNewPassword(page, NEW_PASSWORD, NEW_PASSWORD);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain(
        'Password does not conform to policy: Password must not be a commonly used password',
      );
      expect(await heading.count()).toBe(1);

      // The challenge session expired: back to the sign-in form, which says why.
      await submitNewPassword(page, NEW_PASSWORD, NEW_PASSWORD);
      await page.getByLabel('Password', { exact: true }).waitFor();
      expect(await page.getByRole('alert').textContent()).toContain(
        'This step timed out; sign in again with your temporary password',
      );
      expect(await page.getByLabel('Email', { exact: true }).inputValue()).toBe(email);
      const password = page.getByLabel('Password', { exact: true });
      expect(await password.inputValue()).toBe('');
      expect(await password.evaluate((el) => el === document.activeElement)).toBe(true);

      // "Back to sign in" leaves the step too; then the whole way through.
      await submitSignIn(page, baseUrl, email, TEMPORARY_PASSWORD);
      await heading.waitFor();
      await page.getByRole('button', { name: 'Back to sign in' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect(await page.getByRole('alert').count()).toBe(0);

      await submitSignIn(page, baseUrl, email, TEMPORARY_PASSWORD);
      await heading.waitFor();
      await submitNewPassword(page, NEW_PASSWORD, NEW_PASSWORD);
      await page.getByRole('button', { name: /^Welcome, Omar/ }).waitFor();
    } finally {
      await context.close();
    }
  });
});
