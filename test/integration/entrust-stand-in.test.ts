/**
 * The local Entrust self-service stand-in at /_local/entrust (infra/local/entrust-stand-in.ts):
 * name → activation password → back to the portal's return URL with state, result and name; the
 * failure link on every page; a `return` off the portal's origin refused with 400; and the pages as
 * plain, self-contained, labelled HTML. Forms are followed as a browser would submit them.
 */
import { describe, expect, it } from 'vitest';
import { portalUrl } from './helpers.ts';

const STATE = 'st4te-Token_123';
const returnUrl = () => `${portalUrl()}/derived-credential/return`;

function entrustUrl(params: Record<string, string>): string {
  return `${portalUrl()}/_local/entrust?${new URLSearchParams(params).toString()}`;
}

async function get(url: string): Promise<{ status: number; headers: Headers; html: string }> {
  const response = await fetch(url, { redirect: 'manual' });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attribute(tag: string, name: string): string | null {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeHtml(match[1] ?? '') : null;
}

/** The URL a browser opens when the page's one GET form is submitted with `fields` filled in. */
function submit(html: string, fields: Record<string, string>): string {
  const form = /<form\b[^>]*>/.exec(html)?.[0];
  expect(form, 'the page has a form').toBeDefined();
  expect(attribute(form ?? '', 'method')).toBe('get');
  const action = new URL(attribute(form ?? '', 'action') ?? '', portalUrl());
  const params = new URLSearchParams();
  for (const input of html.match(/<input\b[^>]*>/g) ?? []) {
    if (attribute(input, 'type') === 'hidden') {
      params.append(attribute(input, 'name') ?? '', attribute(input, 'value') ?? '');
    }
  }
  for (const [name, value] of Object.entries(fields)) params.set(name, value);
  action.search = params.toString();
  return action.href;
}

function failureHref(html: string): URL {
  const link = /<a\b[^>]*>Send me back with a failure<\/a>/.exec(html)?.[0];
  expect(link, 'the page has the failure link').toBeDefined();
  return new URL(attribute(link ?? '', 'href') ?? '');
}

/** A plain sanity check: a whole document, in English, one h1, every field labelled, nothing external. */
function expectSaneHtml(html: string): void {
  expect(html.startsWith('<!doctype html>')).toBe(true);
  expect(html).toMatch(/<html lang="en">/);
  expect(html).toMatch(/<meta charset="utf-8">/);
  expect(html).toMatch(/<meta name="viewport"/);
  expect(html).toMatch(/<title>[^<]+<\/title>/);
  expect(html.match(/<h1\b/g) ?? []).toHaveLength(1);
  expect(html).toMatch(/<main\b/);
  expect(html).toContain(':focus-visible');
  // Nothing loaded from elsewhere: only the portal's own icon, so the browser asks for no missing one.
  expect(html).not.toMatch(
    /<script\b|<link\b(?![^>]*href="\/favicon\.svg")|<iframe\b|<img\b|\ssrc=|@import|url\(/i,
  );
  const open = (html.match(/<(\w+)\b/g) ?? []).filter(
    (t) => !/^<(meta|input|br|hr|link|img|!doctype)/i.test(t),
  );
  for (const tag of ['main', 'form', 'p', 'div', 'h1', 'label', 'a', 'button']) {
    const opened = open.filter((t) => t === `<${tag}`).length;
    expect((html.match(new RegExp(`</${tag}>`, 'g')) ?? []).length, `<${tag}> closed`).toBe(opened);
  }
  for (const input of html.match(/<input\b[^>]*>/g) ?? []) {
    if (attribute(input, 'type') === 'hidden') continue;
    const id = attribute(input, 'id');
    expect(id, `${input} has an id`).toBeTruthy();
    expect(html, `${input} has a label`).toContain(`<label for="${id}">`);
  }
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  expect(new Set(ids).size, 'ids are unique').toBe(ids.length);
  for (const input of html.match(/<input\b[^>]*aria-describedby="[^"]*"[^>]*>/g) ?? []) {
    for (const id of (attribute(input, 'aria-describedby') ?? '').split(' ')) expect(ids).toContain(id);
  }
}

describe('Entrust stand-in', () => {
  it('name → activation password → back to the portal with state, result=success and the name', async () => {
    const first = await get(entrustUrl({ state: STATE, return: returnUrl() }));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(first.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(first.headers.get('cache-control')).toBe('no-store');
    expectSaneHtml(first.html);
    expect(first.html).toContain('<label for="name">Credential name</label>');
    expect(first.html).toMatch(/<input type="text" id="name" name="name" required/);

    const second = await get(submit(first.html, { name: 'Work <Pixel> & co' }));
    expect(second.status).toBe(200);
    expectSaneHtml(second.html);
    expect(second.html).toContain('Derived Mobile Smart Credential activation password');
    expect(second.html).toContain('Work &lt;Pixel&gt; &amp; co');
    const password = /<p class="password">(\d{4}-\d{4}-\d{4}-\d{4})<\/p>/.exec(second.html)?.[1];
    expect(password, 'four groups of four digits').toBeDefined();
    expect(second.html).toMatch(/<input type="checkbox" id="recorded" name="recorded" value="yes" required/);
    expect(second.html).toContain('<label for="recorded">I have recorded the activation password</label>');

    // Not ticked (a browser would not send it, a crafted URL may): page 2 again, the same password.
    const unticked = await get(submit(second.html, {}));
    expect(unticked.status).toBe(200);
    expectSaneHtml(unticked.html);
    expect(unticked.html).toContain('Tick “I have recorded the activation password” to continue.');
    expect(unticked.html).toContain(`<p class="password">${password}</p>`);

    const done = await get(submit(second.html, { recorded: 'yes' }));
    expect(done.status).toBe(303);
    const location = new URL(done.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(returnUrl());
    expect(Object.fromEntries(location.searchParams)).toEqual({
      state: STATE,
      result: 'success',
      name: 'Work <Pixel> & co',
    });
  });

  it('keeps a query the return URL already has', async () => {
    const first = await get(entrustUrl({ state: STATE, return: `${returnUrl()}?from=portal` }));
    const second = await get(submit(first.html, { name: 'Tablet' }));
    const done = await get(submit(second.html, { recorded: 'yes' }));
    const location = new URL(done.headers.get('location') ?? '');
    expect(location.searchParams.get('from')).toBe('portal');
    expect(location.searchParams.get('result')).toBe('success');
    expect(location.searchParams.get('name')).toBe('Tablet');
  });

  it('a name is required: page 1 again with the error', async () => {
    const first = await get(entrustUrl({ state: STATE, return: returnUrl() }));
    const again = await get(submit(first.html, { name: '   ' }));
    expect(again.status).toBe(200);
    expectSaneHtml(again.html);
    expect(again.html).toContain('Enter a name for the credential.');
    expect(again.html).toContain('aria-invalid="true"');
    expect(again.html).not.toContain('activation password</h2>');
  });

  it('every page has "Send me back with a failure" → <return>?state&result=failure', async () => {
    const first = await get(entrustUrl({ state: STATE, return: returnUrl() }));
    const second = await get(submit(first.html, { name: 'Work phone' }));
    for (const html of [first.html, second.html]) {
      const href = failureHref(html);
      expect(`${href.origin}${href.pathname}`).toBe(returnUrl());
      expect(Object.fromEntries(href.searchParams)).toEqual({ state: STATE, result: 'failure' });
    }
  });

  it.each([
    ['another origin', 'https://evil.example/derived-credential/return'],
    ['a protocol-relative URL', '//evil.example/return'],
    ['a relative path', '/derived-credential/return'],
    ['another port on loopback', 'http://127.0.0.1:1/return'],
    ['a user name in the URL', 'http://user@127.0.0.1:1/return'],
    ['javascript:', 'javascript:alert(1)'],
    ['no return at all', null],
  ])('refuses %s as return with a 400 page', async (_what, value) => {
    const params: Record<string, string> = { state: STATE };
    if (value !== null) params.return = value;
    const steps: Record<string, string>[] = [
      {},
      { step: 'password', name: 'x' },
      { step: 'done', name: 'x', recorded: 'yes' },
    ];
    for (const step of steps) {
      const answer = await get(entrustUrl({ ...params, ...step }));
      expect(answer.status).toBe(400);
      expect(answer.headers.get('location')).toBeNull();
      expectSaneHtml(answer.html);
      expect(answer.html).toContain('not on the device portal’s own address');
      expect(answer.html).not.toContain('evil.example');
    }
  });

  it('refuses a portal user name in the return URL on the portal origin', async () => {
    const url = new URL(returnUrl());
    url.username = 'someone';
    const answer = await get(entrustUrl({ state: STATE, return: url.href }));
    expect(answer.status).toBe(400);
  });

  it('refuses a request without state with a 400 page', async () => {
    const answer = await get(entrustUrl({ return: returnUrl() }));
    expect(answer.status).toBe(400);
    expectSaneHtml(answer.html);
    expect(answer.html).toContain('no valid state');
  });

  it('answers POST with 405', async () => {
    const response = await fetch(entrustUrl({ state: STATE, return: returnUrl() }), { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });
});
