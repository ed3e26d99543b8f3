/**
 * The dialogs of the device page's actions: what will happen, the lock screen's message and number
 * (lock, lost mode), a confirmation for wipe; then the request. Wipe and retire may answer 401
 * RECENT_SIGN_IN_REQUIRED: the dialog then asks for the password (and the authenticator app's code,
 * if the account has one), signs in again (a fresh token) and sends the same request once more,
 * without signing the user out (useRecentSignIn).
 */
import { useId, useState } from 'preact/hooks';
import type {
  ActionAvailability,
  CommandSummary,
  DeviceAction,
  LockRequest,
} from '../../../functions/core/api-types.ts';
import { api } from '../api.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';
import { Icon } from '../ui/icons.tsx';
import { RecentSignInDialog, useRecentSignIn } from './password-again.tsx';

/** The actions that queue a command (the secure-apps passcode answers a PIN: its own dialog). */
export type DialogAction = Exclude<DeviceAction, 'SECURE_APPS_PASSCODE'> | 'LOST_MODE_OFF';

interface ActionDialogProps {
  deviceId: string;
  deviceName: string;
  action: DialogAction;
  /** The server's availability entry (absent for turning lost mode off). */
  availability: ActionAvailability | undefined;
  /** The signed-in user's email, for signing in again. */
  email: string | null;
  onClose: () => void;
  onDone: (command: CommandSummary) => void;
}

interface Words {
  title: string;
  /** What happens, when the server gives no consequence. */
  what: string;
  confirm: string;
  danger?: boolean;
}

const WORDS: Record<DialogAction, Words> = {
  LOCK: {
    title: 'Lock this device?',
    what: 'The device locks as soon as it gets the command; it then needs its passcode to open. You can show a message and a phone number on the lock screen.',
    confirm: 'Lock device',
  },
  LOST_MODE: {
    title: 'Turn on lost mode?',
    what: 'The device locks and its lock screen shows your message and phone number until lost mode is turned off, so whoever finds it can return it.',
    confirm: 'Turn on lost mode',
  },
  LOST_MODE_OFF: {
    title: 'Turn off lost mode?',
    what: 'The lock screen stops showing the lost-mode message; the device can be used again with its passcode.',
    confirm: 'Turn off lost mode',
  },
  UNLOCK: {
    title: 'Unlock this device?',
    what: 'The passcode is cleared: anyone holding the device can then open it.',
    confirm: 'Unlock device',
  },
  LOCATE: {
    title: 'Locate this device?',
    what: 'The device reports its position at its next check-in; the company sees that position too.',
    confirm: 'Locate device',
  },
  WIPE: {
    title: 'Wipe this device?',
    what: 'Everything on the device, personal data included, is erased and it goes back to factory settings.',
    confirm: 'Wipe device',
    danger: true,
  },
  RETIRE: {
    title: 'Retire this device?',
    what: 'Only what the company put on the device is removed: work apps, mail, Wi-Fi and certificates. The device leaves the portal.',
    confirm: 'Retire device',
    danger: true,
  },
};

function lockBody(message: string, phoneNumber: string): LockRequest {
  const body: LockRequest = {};
  if (message.trim()) body.message = message.trim();
  if (phoneNumber.trim()) body.phoneNumber = phoneNumber.trim();
  return body;
}

export function ActionDialog({
  deviceId,
  deviceName,
  action,
  availability,
  email,
  onClose,
  onDone,
}: ActionDialogProps) {
  const words = WORDS[action];
  const [message, setMessage] = useState('');
  const [phoneNumber, setPhoneNumber] = useState('');
  const [understood, setUnderstood] = useState(false);
  const ids = { message: useId(), phone: useId(), understood: useId(), hint: useId() };
  const withLockScreen = action === 'LOCK' || action === 'LOST_MODE';

  function call() {
    switch (action) {
      case 'LOCK':
        return api.deviceAction(deviceId, 'lock', lockBody(message, phoneNumber));
      case 'LOST_MODE':
        return api.deviceAction(deviceId, 'lost-mode', lockBody(message, phoneNumber));
      case 'LOST_MODE_OFF':
        return api.lostModeOff(deviceId);
      case 'UNLOCK':
        return api.deviceAction(deviceId, 'unlock');
      case 'LOCATE':
        return api.deviceAction(deviceId, 'locate');
      case 'WIPE':
        return api.deviceAction(deviceId, 'wipe');
      case 'RETIRE':
        return api.deviceAction(deviceId, 'retire');
    }
  }

  const reauth = useRecentSignIn({
    email,
    request: async () => {
      const { command } = await call();
      onDone(command);
    },
  });
  const { busy, error } = reauth;

  const consequence = availability?.consequence || words.what;

  if (reauth.step !== 'confirm') {
    return (
      <RecentSignInDialog
        what={words.confirm.toLowerCase()}
        danger={words.danger}
        email={email}
        reauth={reauth}
        onClose={onClose}
      />
    );
  }

  return (
    <Dialog title={words.title} onClose={onClose} size="small" busy={busy} description={deviceName}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          reauth.send();
        }}
      >
        <p class="action-consequence" data-testid="action-consequence">
          {consequence}
        </p>
        {action === 'WIPE' ? (
          <div class="notice notice-warning" data-testid="backup-warning">
            <Icon name="alert" size={18} />
            <span>
              <strong>Back up first.</strong> A wipe cannot be undone: photos, messages and everything else
              not backed up are gone for good.
            </span>
          </div>
        ) : null}
        {withLockScreen ? (
          <>
            <div class="field">
              <label for={ids.message}>
                Message on the lock screen{action === 'LOCK' ? ' (optional)' : ''}
              </label>
              <textarea
                id={ids.message}
                rows={3}
                maxLength={200}
                required={action === 'LOST_MODE'}
                autofocus
                value={message}
                onInput={(e) => setMessage(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label for={ids.phone}>Phone number on the lock screen (optional)</label>
              <input
                id={ids.phone}
                type="tel"
                autoComplete="tel"
                aria-describedby={ids.hint}
                value={phoneNumber}
                onInput={(e) => setPhoneNumber(e.currentTarget.value)}
              />
              <span id={ids.hint} class="field-hint">
                A number whoever finds the device can call, e.g. +1 555 0100.
              </span>
            </div>
          </>
        ) : null}
        {action === 'WIPE' ? (
          <label class="check wipe-confirm" for={ids.understood}>
            <input
              id={ids.understood}
              type="checkbox"
              checked={understood}
              onChange={(e) => setUnderstood(e.currentTarget.checked)}
            />
            I understand that everything on this device will be erased
          </label>
        ) : null}
        <ErrorNotice message={error} />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy} autofocus={!withLockScreen}>
            Cancel
          </button>
          <button
            type="submit"
            class={words.danger ? 'button button-danger' : 'button button-primary'}
            disabled={
              busy || (action === 'WIPE' && !understood) || (action === 'LOST_MODE' && !message.trim())
            }
            aria-busy={busy}
          >
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            {words.confirm}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
