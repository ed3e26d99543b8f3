/**
 * Tokens are refreshed before they expire: access tokens live 15 minutes, and the page asks Cognito
 * for new ones (REFRESH_TOKEN_AUTH) a minute before, on its own timer, not only when an API call
 * finds the token about to expire. Playwright's clock moves the page's time, so no real 15 minutes
 * pass; the server and cognito-local keep the real time, so a refreshed token is valid there.
 *
 * When the refresh is refused (the refresh token revoked or expired), the page signs out at once and
 * says why on the sign-in form, instead of failing on the next API call.
 */
import type { Browser, Page, Request, Response, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { accountMenu, BOB, DEMO_PASSWORD, launchBrowser, openPage, signIn } from './browser.ts';

const DESKTOP = { viewport: { width: 1280, height: 800 } };
/** Where web/src/auth.ts keeps the session (sessionStorage). */
const STORAGE_KEY = 'device-portal.session';
/** web/src/auth.ts refreshes this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;
const INITIATE_AUTH = 'AWSCognitoIdentityProviderService.InitiateAuth';
const SESSION_ENDED = 'Your session has ended. Sign in again.';

/** The session as web/src/auth.ts stores it. */
interface StoredSession {
  accessToken: string;
  idToken: string;
  refreshToken: string;
  expiresAt: number;
}

interface CognitoCall {
  kind: 'cognito';
  target: string;
  authFlow: string | undefined;
  refreshToken: string | undefined;
  /** The answer's status, once it has come. */
  status?: number;
}

interface ApiCall {
  kind: 'api';
  path: string;
  authorization: string | undefined;
}

type Call = CognitoCall | ApiCall;

function isCognito(url: string): boolean {
  return new URL(url).pathname.startsWith('/_local/cognito/');
}

function isApi(url: string, path?: string): boolean {
  const { pathname } = new URL(url);
  return path ? pathname === path : pathname.startsWith('/api/');
}

/** The InitiateAuth body's AuthFlow and REFRESH_TOKEN, when there are. */
function authBody(request: Request): { authFlow: string | undefined; refreshToken: string | undefined } {
  const body: unknown = request.postDataJSON();
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const parameters =
    typeof record.AuthParameters === 'object' && record.AuthParameters !== null
      ? (record.AuthParameters as Record<string, unknown>)
      : {};
  return {
    authFlow: typeof record.AuthFlow === 'string' ? record.AuthFlow : undefined,
    refreshToken: typeof parameters.REFRESH_TOKEN === 'string' ? parameters.REFRESH_TOKEN : undefined,
  };
}

function isRefresh(request: Request): boolean {
  return isCognito(request.url()) && authBody(request).authFlow === 'REFRESH_TOKEN_AUTH';
}

/** Every Cognito call (through the local proxy) and API call the page makes, in order. */
function recordCalls(page: Page): Call[] {
  const calls: Call[] = [];
  const cognito = new Map<Request, CognitoCall>();
  page.on('request', (request: Request) => {
    const url = request.url();
    if (isCognito(url)) {
      const call: CognitoCall = {
        kind: 'cognito',
        target: request.headers()['x-amz-target'] ?? '',
        ...authBody(request),
      };
      cognito.set(request, call);
      calls.push(call);
    } else if (isApi(url)) {
      calls.push({
        kind: 'api',
        path: new URL(url).pathname,
        authorization: request.headers().authorization,
      });
    }
  });
  page.on('response', (response: Response) => {
    const call = cognito.get(response.request());
    if (call) call.status = response.status();
  });
  return calls;
}

function refreshCalls(calls: readonly Call[]): CognitoCall[] {
  return calls.filter(
    (call): call is CognitoCall => call.kind === 'cognito' && call.authFlow === 'REFRESH_TOKEN_AUTH',
  );
}

/** The statuses of the REFRESH_TOKEN_AUTH calls so far (undefined while one is unanswered). */
function refreshStatuses(calls: readonly Call[]): (number | undefined)[] {
  return refreshCalls(calls).map((call) => call.status);
}

function apiCalls(calls: readonly Call[]): ApiCall[] {
  return calls.filter((call): call is ApiCall => call.kind === 'api');
}

async function storedSession(page: Page): Promise<StoredSession | null> {
  const raw = await page.evaluate((key) => sessionStorage.getItem(key), STORAGE_KEY);
  return raw === null ? null : (JSON.parse(raw) as StoredSession);
}

async function requireSession(page: Page): Promise<StoredSession> {
  const session = await storedSession(page);
  if (!session) throw new Error(`No session in sessionStorage["${STORAGE_KEY}"]`);
  return session;
}

/** The page's own (fake) time. */
function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => Date.now());
}

function apiResponse(page: Page, path: string): Promise<Response> {
  return page.waitForResponse((response) => isApi(response.url(), path));
}

/**
 * Lets a request the last clock step may have started reach the recorder: the page's fetches start
 * synchronously in the timers the step fires, so a short real wait is plenty.
 */
function settle(page: Page): Promise<void> {
  return page.waitForTimeout(500);
}

/**
 * A fresh context with the fake clock installed before the first navigation, signed in as Bob,
 * with his device list loaded; records the calls from the start.
 */
async function signedInWithClock(browser: Browser, baseUrl: string, setup?: (page: Page) => Promise<void>) {
  const opened = await openPage(browser, DESKTOP);
  const { page } = opened;
  const calls = recordCalls(page);
  await setup?.(page);
  await page.clock.install({ time: Date.now() });
  const devicesLoaded = apiResponse(page, '/api/devices');
  await signIn(page, baseUrl, BOB);
  expect((await devicesLoaded).status()).toBe(200);
  const session = await requireSession(page);
  return { ...opened, calls, session };
}

describe('session refresh', () => {
  const baseUrl = inject('baseUrl');
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('refreshes the tokens on its own a minute before they expire, and the API accepts the new ones', async () => {
    const { page, context, errors, calls, session: signedIn } = await signedInWithClock(browser, baseUrl);
    try {
      // Sign-in: one USER_PASSWORD_AUTH, and the first API calls carry its access token.
      expect(calls.filter((call) => call.kind === 'cognito')).toEqual([
        { kind: 'cognito', target: INITIATE_AUTH, authFlow: 'USER_PASSWORD_AUTH', status: 200 },
      ]);
      const firstApi = apiCalls(calls);
      expect(firstApi.map((call) => call.path)).toEqual(expect.arrayContaining(['/api/me', '/api/devices']));
      for (const call of firstApi) expect(call.authorization).toBe(`Bearer ${signedIn.accessToken}`);

      const signedInAt = await pageNow(page);
      const lifetime = signedIn.expiresAt - signedInAt;
      expect(lifetime).toBeGreaterThan(14 * 60_000);
      expect(lifetime).toBeLessThanOrEqual(15 * 60_000);
      const refreshAt = signedIn.expiresAt - REFRESH_MARGIN_MS;
      const callsAtSignIn = calls.length;

      // 10 seconds before the refresh point: no refresh yet, same tokens.
      await page.clock.fastForward(refreshAt - signedInAt - 10_000);
      await settle(page);
      expect(await pageNow(page)).toBeLessThan(refreshAt);
      expect(refreshCalls(calls)).toEqual([]);
      expect((await requireSession(page)).accessToken).toBe(signedIn.accessToken);

      // 10 seconds past it, still 50 seconds before expiry: one refresh, with the sign-in's refresh
      // token, and new tokens stored.
      await page.clock.fastForward(20_000);
      await expect.poll(() => refreshStatuses(calls), { timeout: 5_000 }).toEqual([200]);
      await expect
        .poll(async () => (await storedSession(page))?.accessToken, { timeout: 5_000 })
        .not.toBe(signedIn.accessToken);
      await settle(page);
      const refreshedAt = await pageNow(page);
      expect(refreshedAt).toBeGreaterThan(refreshAt);
      expect(refreshedAt).toBeLessThan(signedIn.expiresAt);
      expect(refreshCalls(calls)).toEqual([
        {
          kind: 'cognito',
          target: INITIATE_AUTH,
          authFlow: 'REFRESH_TOKEN_AUTH',
          refreshToken: signedIn.refreshToken,
          status: 200,
        },
      ]);
      // The timer did it: no API call in the meantime (one would refresh a token about to expire too).
      expect(apiCalls(calls.slice(callsAtSignIn))).toEqual([]);

      const refreshed = await requireSession(page);
      expect(refreshed.accessToken).not.toBe(signedIn.accessToken);
      expect(refreshed.idToken).not.toBe(signedIn.idToken);
      // cognito-local answers no new refresh token; the page keeps the one it has.
      expect(refreshed.refreshToken).toBe(signedIn.refreshToken);
      expect(refreshed.expiresAt).toBeGreaterThan(signedIn.expiresAt);
      expect(refreshed.expiresAt - refreshedAt).toBeGreaterThan(14 * 60_000);
      await accountMenu(page).waitFor({ state: 'visible' });

      // The page's next API call (it reloads the list when it becomes visible) carries the new token.
      const devices = apiResponse(page, '/api/devices');
      await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      const devicesAnswer = await devices;
      expect(devicesAnswer.request().headers().authorization).toBe(`Bearer ${refreshed.accessToken}`);
      expect(devicesAnswer.status()).toBe(200);

      // So does a reload, from the stored session; the clock stays installed across it.
      const callsBeforeReload = calls.length;
      const me = apiResponse(page, '/api/me');
      const list = apiResponse(page, '/api/devices');
      await page.reload();
      for (const answer of [await me, await list]) {
        expect(answer.request().headers().authorization).toBe(`Bearer ${refreshed.accessToken}`);
        expect(answer.status()).toBe(200);
      }
      await accountMenu(page).waitFor({ state: 'visible' });
      expect(await pageNow(page)).toBeGreaterThanOrEqual(refreshedAt);
      for (const call of apiCalls(calls.slice(callsBeforeReload))) {
        expect(call.authorization).toBe(`Bearer ${refreshed.accessToken}`);
      }
      expect(refreshCalls(calls)).toHaveLength(1);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('signs out with a notice as soon as the refresh is refused', async () => {
    const refuseRefresh = async (page: Page) => {
      await page.route(
        (url) => url.pathname.startsWith('/_local/cognito/'),
        async (route: Route) => {
          if (!isRefresh(route.request())) return route.continue();
          return route.fulfill({
            status: 400,
            contentType: 'application/x-amz-json-1.1',
            body: JSON.stringify({
              __type: 'NotAuthorizedException',
              message: 'Refresh Token has been revoked',
            }),
          });
        },
      );
    };
    const { page, context, errors, calls, session } = await signedInWithClock(
      browser,
      baseUrl,
      refuseRefresh,
    );
    try {
      const signedInAt = await pageNow(page);
      const refreshAt = session.expiresAt - REFRESH_MARGIN_MS;
      const callsAtSignIn = calls.length;

      await page.clock.fastForward(refreshAt - signedInAt + 10_000);
      await expect.poll(() => refreshStatuses(calls), { timeout: 5_000 }).toEqual([400]);
      expect(await pageNow(page)).toBeLessThan(session.expiresAt);

      // The sign-in form, with the reason, without waiting for an API call to fail.
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 5_000 });
      await page.getByRole('status').filter({ hasText: SESSION_ENDED }).waitFor({ timeout: 5_000 });
      expect(await page.getByRole('alert').count()).toBe(0);
      expect(await accountMenu(page).count()).toBe(0);
      expect(await storedSession(page)).toBeNull();
      await expect.poll(() => page.title()).toBe('Sign in · Device Portal');
      await settle(page);
      expect(refreshCalls(calls)).toHaveLength(1);
      expect(apiCalls(calls.slice(callsAtSignIn))).toEqual([]);

      // Signing in again from there works.
      await page.getByLabel('Email', { exact: true }).fill(BOB);
      await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await accountMenu(page).waitFor({ state: 'visible' });
      expect((await requireSession(page)).accessToken).not.toBe(session.accessToken);

      // The only console error allowed is the refused refresh itself (400).
      expect(errors.filter((e) => !/status of 400/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('stays signed out when the user signs out while a refresh is in flight', async () => {
    let releaseRefresh: () => void = () => undefined;
    const refreshHeld = new Promise<void>((resolve) => {
      releaseRefresh = resolve;
    });
    const holdRefresh = async (page: Page) => {
      await page.route(
        (url) => url.pathname.startsWith('/_local/cognito/'),
        async (route: Route) => {
          if (!isRefresh(route.request())) return route.continue();
          await refreshHeld;
          return route.continue();
        },
      );
    };
    const { page, context, calls, session } = await signedInWithClock(browser, baseUrl, holdRefresh);
    try {
      const signedInAt = await pageNow(page);
      await page.clock.fastForward(session.expiresAt - REFRESH_MARGIN_MS - signedInAt + 10_000);
      await expect.poll(() => refreshCalls(calls).length, { timeout: 5_000 }).toBe(1);

      // Sign-out revokes the refresh token (RevokeToken); the held refresh goes out only after that.
      const revoked = page.waitForResponse(
        (response) =>
          isCognito(response.url()) &&
          response.request().headers()['x-amz-target'] === 'AWSCognitoIdentityProviderService.RevokeToken',
      );
      await accountMenu(page).click();
      await page.getByRole('menuitem', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: 5_000 });
      expect((await revoked).status()).toBe(200);
      releaseRefresh();
      // The refresh that was in flight is refused: its token was revoked.
      await expect.poll(() => refreshStatuses(calls), { timeout: 5_000 }).toEqual([400]);
      await settle(page);

      // The late answer must not sign the user back in.
      expect(await storedSession(page)).toBeNull();
      expect(await accountMenu(page).count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Sign in', exact: true }).count()).toBe(1);
    } finally {
      releaseRefresh();
      await context.close();
    }
  });
});
