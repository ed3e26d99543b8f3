/**
 * Entrust sends the browser back to /derived-credential?state=…&result=…&name=…. The query is taken
 * out of the address bar at once (history.replaceState), before any sign-in, so the one-time state
 * stays neither in the history nor in the address bar; it waits in this tab's sessionStorage until
 * the page, signed in, sends it on.
 */
import type { DerivedCredentialComplete } from '../../../functions/core/api-types.ts';

export const DERIVED_CREDENTIAL_PATH = '/derived-credential';
const KEY = 'derived-credential-return';

/** Called when the portal's code loads: keeps the return's query and clears it from the URL. */
export function captureDerivedCredentialReturn(): void {
  const path = location.pathname.replace(/\/+$/, '');
  if (path !== DERIVED_CREDENTIAL_PATH) return;
  const query = new URLSearchParams(location.search);
  if (!query.has('state') && !query.has('result')) return;
  const state = query.get('state') ?? '';
  const result = (query.get('result') ?? '').toUpperCase() === 'SUCCESS' ? 'SUCCESS' : 'FAILURE';
  const name = query.get('name')?.trim();
  const body: DerivedCredentialComplete = { state, result };
  if (name) body.credentialName = name;
  try {
    sessionStorage.setItem(KEY, JSON.stringify(body));
  } catch {
    // Storage refused (private mode): the page then says there is nothing to finish.
  }
  history.replaceState(null, '', DERIVED_CREDENTIAL_PATH);
}

/** The return waiting to be sent, once: it is removed as it is read. */
export function takeDerivedCredentialReturn(): DerivedCredentialComplete | null {
  let raw: string | null = null;
  try {
    raw = sessionStorage.getItem(KEY);
    sessionStorage.removeItem(KEY);
  } catch {
    return null;
  }
  if (!raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { state, result, credentialName } = parsed as Record<string, unknown>;
    if (typeof state !== 'string' || (result !== 'SUCCESS' && result !== 'FAILURE')) return null;
    const body: DerivedCredentialComplete = { state, result };
    if (typeof credentialName === 'string' && credentialName) body.credentialName = credentialName;
    return body;
  } catch {
    return null;
  }
}
