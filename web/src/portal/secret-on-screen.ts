/** What the one-time secrets on screen share: the registration PIN, the secure-apps passcode PIN. */
import { useCallback, useEffect, useRef } from 'preact/hooks';

/**
 * While a one-time secret (a PIN, the QR code) is on screen it is not lost by accident: Back
 * closes the dialog instead of leaving the portal (a history entry of its own, same URL), and
 * reloading or closing the tab asks first. `allowLeave()` lets one navigation the user chose (e.g.
 * to Entrust) go without the browser's question.
 */
export function useKeepSecretOnScreen(active: boolean, onClose: () => void): { allowLeave: () => void } {
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;
  const leaving = useRef(false);
  useEffect(() => {
    if (!active) return;
    const marker = `secret-${Date.now()}-${Math.random()}`;
    history.pushState({ dialog: marker }, '');
    let popped = false;
    const onPopState = () => {
      if ((history.state as { dialog?: string } | null)?.dialog === marker) return;
      popped = true;
      onCloseRef.current();
    };
    const onBeforeUnload = (event: BeforeUnloadEvent) => {
      if (leaving.current) return;
      event.preventDefault();
      // Older browsers show the prompt only when returnValue is set.
      event.returnValue = '';
    };
    addEventListener('popstate', onPopState);
    addEventListener('beforeunload', onBeforeUnload);
    return () => {
      removeEventListener('popstate', onPopState);
      removeEventListener('beforeunload', onBeforeUnload);
      // Closed by Done, Escape or ×: take the dialog's history entry away again.
      if (!popped && (history.state as { dialog?: string } | null)?.dialog === marker) history.back();
    };
  }, [active]);
  const allowLeave = useCallback(() => {
    leaving.current = true;
  }, []);
  return { allowLeave };
}

/** "12345678" → "1234" "5678": easier to read and copy down; the text stays the plain digits. */
export function pinGroups(pin: string): { at: number; digits: string }[] {
  const size = pin.length % 4 === 0 ? 4 : 3;
  const groups: { at: number; digits: string }[] = [];
  for (let at = 0; at < pin.length; at += size) groups.push({ at, digits: pin.slice(at, at + size) });
  return groups;
}
