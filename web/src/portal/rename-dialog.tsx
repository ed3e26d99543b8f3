/**
 * Rename a device: the user's own label, PUT …/name. Empty gives it back its model's name; the
 * answer is the device page as the server now has it. A 400 says what to fix by the field.
 */
import { useId, useState } from 'preact/hooks';
import type { DeviceDetailResponse } from '../../../functions/core/api-types.ts';
import { DEVICE_NAME_MAX_LENGTH } from '../../../functions/core/device-name.ts';
import { ApiError, api, errorMessage } from '../api.ts';
import { deviceTitle } from '../format.ts';
import { Dialog } from '../ui/dialog.tsx';
import { ErrorNotice } from '../ui/error-notice.tsx';

interface Props {
  detail: DeviceDetailResponse;
  onClose: () => void;
  onRenamed: (detail: DeviceDetailResponse) => void;
}

export function RenameDialog({ detail, onClose, onRenamed }: Props) {
  const { device } = detail;
  const [name, setName] = useState(device.name ?? '');
  const [busy, setBusy] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), hint: useId(), error: useId() };
  const model = deviceTitle(device);

  async function save() {
    setBusy(true);
    setFieldError(null);
    setError(null);
    try {
      onRenamed(await api.renameDevice(device.deviceId, { name }));
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setFieldError(e.message);
      else setError(errorMessage(e));
      setBusy(false);
    }
  }

  return (
    <Dialog title="Rename device" onClose={onClose} size="small" busy={busy}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <div class="field">
          <label for={ids.name}>Name</label>
          <input
            id={ids.name}
            type="text"
            maxLength={DEVICE_NAME_MAX_LENGTH}
            autoComplete="off"
            autofocus
            value={name}
            placeholder={model}
            aria-describedby={fieldError ? `${ids.error} ${ids.hint}` : ids.hint}
            aria-invalid={fieldError ? true : undefined}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          {fieldError ? (
            <span id={ids.error} class="field-error" role="alert">
              {fieldError}
            </span>
          ) : null}
          <span id={ids.hint} class="field-hint">
            Up to {DEVICE_NAME_MAX_LENGTH} characters, e.g. “Work phone”. Leave it empty to call it {model}.
          </span>
        </div>
        <ErrorNotice message={error} />
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" disabled={busy} aria-busy={busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Save name
          </button>
        </div>
      </form>
    </Dialog>
  );
}
