/**
 * A local stand-in for Entrust's self-service page that issues a Derived Mobile Smart Credential
 * (issue 12), served by the local portal at GET /_local/entrust. The portal sends the browser to
 * `<entrustUrl>?state=<token>&return=<return URL>`; the stand-in asks for a name for the credential,
 * shows an activation password to record, and sends the browser back to
 * `<return>?state=<state>&result=success&name=<name>`, or `…&result=failure` from any page.
 *
 * `return` must be on the local portal's own origin: anything else is refused with a 400 page, so
 * the stand-in is never an open redirect. Plain server-rendered HTML, no script, no external
 * resources: it passes under the portal's CSP (form-action 'self').
 */
import { createHmac, randomBytes } from 'node:crypto';

export const ENTRUST_PATH = '/_local/entrust';

/** Longest credential name accepted. */
export const MAX_NAME_LENGTH = 64;

export interface EntrustAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The activation password follows from the state and the name under a key that lives as long as the
 * server: random to the user, yet the same when page 2 is shown again (the box was not ticked).
 */
const PASSWORD_KEY = randomBytes(32);

export function activationPassword(state: string, name: string): string {
  const digest = createHmac('sha256', PASSWORD_KEY).update(`${state}\n${name}`).digest();
  const groups: string[] = [];
  for (let i = 0; i < 4; i += 1) groups.push(String(digest.readUInt32BE(i * 4) % 10_000).padStart(4, '0'));
  return groups.join('-');
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const CSS = `*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1b1f27;line-height:1.5}
header{background:#14365f;color:#fff;padding:12px 24px}
header p{margin:0;font-weight:600}
main{max-width:560px;margin:24px auto;padding:24px;background:#fff;border:1px solid #c9ced8;border-radius:8px}
h1{font-size:1.5rem;margin:0 0 8px}
h2{font-size:1.125rem;margin:24px 0 8px}
.step{color:#4a5160;margin:0 0 16px}
label{display:block;font-weight:600;margin:16px 0 4px}
.hint{color:#4a5160;margin:0 0 4px;font-size:.9375rem}
input[type=text]{width:100%;font:inherit;padding:8px 10px;border:2px solid #5b6272;border-radius:4px}
input[type=text][aria-invalid=true]{border-color:#b00020}
.check{display:flex;gap:8px;align-items:flex-start;margin:16px 0}
.check label{display:inline;margin:0;font-weight:600}
.check input{width:20px;height:20px;margin:2px 0 0}
.error{color:#b00020;font-weight:600;margin:8px 0}
.password{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.75rem;letter-spacing:.08em;background:#eef1f6;border:1px solid #c9ced8;border-radius:6px;padding:12px 16px;margin:8px 0;text-align:center}
.actions{display:flex;flex-wrap:wrap;gap:16px;align-items:center;margin-top:24px}
button{font:inherit;font-weight:600;background:#14365f;color:#fff;border:2px solid #14365f;border-radius:4px;padding:8px 20px;cursor:pointer}
button:hover{background:#0d2645}
a{color:#14365f}
a:hover{color:#0d2645}
:focus-visible{outline:3px solid #c2410c;outline-offset:2px}
.note{color:#4a5160;font-size:.875rem;margin-top:24px}`;

function page(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} – Entrust self-service (local stand-in)</title>
<style>${CSS}</style>
</head>
<body>
<header><p>Entrust self-service <span>(local stand-in)</span></p></header>
<main>
${content}
<p class="note">This page stands in for Entrust locally; no credential is issued.</p>
</main>
</body>
</html>
`;
}

/** The return URL with the given parameters added (any query it already has is kept). */
function returnWith(returnUrl: URL, params: Record<string, string>): string {
  const target = new URL(returnUrl.href);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return target.href;
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function failureLink(returnUrl: URL, state: string): string {
  const href = returnWith(returnUrl, { state, result: 'failure' });
  return `<a href="${escapeHtml(href)}">Send me back with a failure</a>`;
}

function html(status: number, body: string): EntrustAnswer {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The page's own URL carries the state: it goes to no other page.
      'referrer-policy': 'no-referrer',
    },
    body,
  };
}

function refused(reason: string): EntrustAnswer {
  return html(
    400,
    page(
      'Request refused',
      `<h1>Request refused</h1>
<p>${escapeHtml(reason)}</p>
<p>Start again from the device portal.</p>`,
    ),
  );
}

/**
 * The `return` parameter as a URL when it is on one of the portal's own origins, else null: an
 * absolute http(s) URL, no user name or password in it, the origin exactly one of `allowedOrigins`.
 */
export function portalReturnUrl(value: string | null, allowedOrigins: readonly string[]): URL | null {
  if (!value) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  return allowedOrigins.includes(url.origin) ? url : null;
}

function namePage(state: string, returnUrl: URL, name: string, error: string | null): string {
  const describedBy = error ? 'name-hint name-error' : 'name-hint';
  return page(
    'Name your credential',
    `<h1>Request a derived credential</h1>
<p class="step">Step 1 of 2: name the credential</p>
<form method="get" action="${ENTRUST_PATH}">
${hidden({ step: 'password', state, return: returnUrl.href })}
<label for="name">Credential name</label>
<p class="hint" id="name-hint">A name you will recognise on this device, for example “Work iPhone”.</p>
${error ? `<p class="error" id="name-error">${escapeHtml(error)}</p>` : ''}
<input type="text" id="name" name="name" required maxlength="${MAX_NAME_LENGTH}" autocomplete="off" value="${escapeHtml(name)}" aria-describedby="${describedBy}"${error ? ' aria-invalid="true"' : ''}>
<div class="actions">
<button type="submit">Continue</button>
${failureLink(returnUrl, state)}
</div>
</form>`,
  );
}

function passwordPage(state: string, returnUrl: URL, name: string, error: string | null): string {
  const describedBy = error ? ' aria-describedby="recorded-error"' : '';
  return page(
    'Record your activation password',
    `<h1>Record your activation password</h1>
<p class="step">Step 2 of 2: the credential “${escapeHtml(name)}”</p>
<h2>Derived Mobile Smart Credential activation password</h2>
<p class="password">${activationPassword(state, name)}</p>
<p>Write it down or keep it somewhere safe: the agent app on your device asks for it to activate the credential, and it is not shown again.</p>
<form method="get" action="${ENTRUST_PATH}">
${hidden({ step: 'done', state, return: returnUrl.href, name })}
${error ? `<p class="error" id="recorded-error">${escapeHtml(error)}</p>` : ''}
<div class="check">
<input type="checkbox" id="recorded" name="recorded" value="yes" required${describedBy}${error ? ' aria-invalid="true"' : ''}>
<label for="recorded">I have recorded the activation password</label>
</div>
<div class="actions">
<button type="submit">Continue</button>
${failureLink(returnUrl, state)}
</div>
</form>`,
  );
}

/**
 * GET /_local/entrust. `allowedOrigins` are the local portal's own origins (e.g.
 * http://127.0.0.1:3000 and http://localhost:3000): the only places `return` may lead.
 */
export function answerEntrust(method: string, url: URL, allowedOrigins: readonly string[]): EntrustAnswer {
  if (method !== 'GET' && method !== 'HEAD') {
    const answer = refused('This page is opened with GET only.');
    return { ...answer, status: 405, headers: { ...answer.headers, allow: 'GET, HEAD' } };
  }
  const query = url.searchParams;
  const returnUrl = portalReturnUrl(query.get('return'), allowedOrigins);
  if (!returnUrl) {
    return refused(
      'The return address is missing or is not on the device portal’s own address, so this page will not send you there.',
    );
  }
  const state = query.get('state') ?? '';
  if (!/^[\x21-\x7e]{1,1024}$/.test(state)) {
    return refused('The request has no valid state: it did not come from the device portal.');
  }
  const name = (query.get('name') ?? '').trim();
  const step = query.get('step');
  if (step !== 'password' && step !== 'done') return html(200, namePage(state, returnUrl, name, null));
  if (name === '') return html(200, namePage(state, returnUrl, name, 'Enter a name for the credential.'));
  if (name.length > MAX_NAME_LENGTH) {
    return html(
      200,
      namePage(state, returnUrl, name, `The name is too long: at most ${MAX_NAME_LENGTH} characters.`),
    );
  }
  if (step === 'password') return html(200, passwordPage(state, returnUrl, name, null));
  if (query.get('recorded') !== 'yes') {
    return html(
      200,
      passwordPage(state, returnUrl, name, 'Tick “I have recorded the activation password” to continue.'),
    );
  }
  return {
    status: 303,
    headers: {
      location: returnWith(returnUrl, { state, result: 'success', name }),
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
    body: '',
  };
}
