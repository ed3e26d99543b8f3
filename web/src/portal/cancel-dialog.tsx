import { useState } from 'preact/hooks';
import type { DeviceSummary } from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import { deviceTitle } from '../format.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';

interface CancelDialogProps {
  device: DeviceSummary;
  onClose: () => void;
  onCancelled: (device: DeviceSummary) => void;
}

export function CancelDialog({ device, onClose, onCancelled }: CancelDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      const { device: cancelled } = await api.cancelRegistration(device.deviceId);
      onCancelled(cancelled);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Cancel this registration?" onClose={onClose} size="small" busy={busy}>
      <p>
        The PIN, QR code and invitation for this {deviceTitle(device)} stop working at once. It stays in your
        list as Cancelled, and you can register the device again at any time.
      </p>
      <ErrorNotice message={error} />
      <div class="dialog-actions">
        <button type="button" class="button" onClick={onClose} disabled={busy} autofocus>
          Keep registration
        </button>
        <button type="button" class="button button-danger" onClick={confirm} disabled={busy} aria-busy={busy}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Yes, cancel registration
        </button>
      </div>
    </Dialog>
  );
}
