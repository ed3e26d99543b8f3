/**
 * Change ownership (Employee ↔ Company): what changes, then PUT …/ownership with the device's
 * version as the page read it. 401 RECENT_SIGN_IN_REQUIRED asks for the password (and the
 * authenticator app's code, if any) and sends it again (useRecentSignIn);
 * 409 OWNERSHIP_CHANGED (another change came first) hands the server's message to the page, which
 * reloads the device; the answer is the device re-evaluated, with its actions.
 */
import type { DeviceDetailResponse, Ownership } from '../../../functions/core/api-types.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { OWNERSHIP_LABEL } from '../format.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { RecentSignInDialog, useRecentSignIn } from './password-again.tsx';

interface Props {
  detail: DeviceDetailResponse;
  deviceName: string;
  email: string | null;
  onClose: () => void;
  onChanged: (detail: DeviceDetailResponse) => void;
  /** 409, 403: the server's message; the page reloads the device. */
  onRefused: (message: string) => void;
}

const WHAT_CHANGES: Record<Ownership, string[]> = {
  COMPANY: [
    'The company treats the device as its own: actions such as a full wipe may become available.',
    'The company may see more about the device, e.g. its installed apps.',
  ],
  EMPLOYEE: [
    'The device counts as your personal device: a full wipe of an employee-owned device may not be allowed, and other actions may change too.',
    'The company sees less about it; your personal data stays yours.',
  ],
};

export const OWNERSHIP_CHANGED = 'OWNERSHIP_CHANGED';
export const OWNERSHIP_LOCKED = 'OWNERSHIP_LOCKED';

export function OwnershipDialog({ detail, deviceName, email, onClose, onChanged, onRefused }: Props) {
  const { device } = detail;
  const to: Ownership = device.ownership === 'COMPANY' ? 'EMPLOYEE' : 'COMPANY';
  const reauth = useRecentSignIn({
    email,
    request: async () => {
      onChanged(await api.changeOwnership(device.deviceId, { ownership: to, version: device.version }));
    },
    refused: (e) => {
      if (e instanceof ApiError && (e.status === 409 || e.code === OWNERSHIP_LOCKED)) {
        onRefused(e.message);
        return null;
      }
      return errorMessage(e);
    },
  });
  const { busy, error } = reauth;

  const confirm = `Change to ${OWNERSHIP_LABEL[to].toLowerCase()}`;

  if (reauth.step !== 'confirm') {
    return <RecentSignInDialog what="change ownership" email={email} reauth={reauth} onClose={onClose} />;
  }

  return (
    <Dialog title="Change ownership?" onClose={onClose} size="small" busy={busy} description={deviceName}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          reauth.send();
        }}
      >
        <p class="ownership-change" data-testid="ownership-change">
          From <strong>{OWNERSHIP_LABEL[device.ownership]}</strong> to <strong>{OWNERSHIP_LABEL[to]}</strong>.
        </p>
        <h3 class="subsection-title">What changes</h3>
        <ul class="ownership-effects">
          {WHAT_CHANGES[to].map((line) => (
            <li key={line}>{line}</li>
          ))}
          <li>The actions offered for this device are worked out again after the change.</li>
        </ul>
        <ErrorNotice message={error} />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy} autofocus>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            {confirm}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
