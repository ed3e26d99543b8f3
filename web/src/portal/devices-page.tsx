import { DeviceList } from './device-list.tsx';
import type { PageProps } from './pages.ts';

/** `/`: My devices. */
export function DevicesPage({ me, devices, onRegister, onResend, onCancel }: PageProps) {
  return (
    <DeviceList
      me={me}
      devices={devices.data?.devices ?? null}
      onRemoved={devices.reload}
      loadError={devices.data === undefined ? devices.error : null}
      onRetry={devices.reload}
      onRegister={onRegister}
      onResend={onResend}
      onCancel={onCancel}
    />
  );
}
