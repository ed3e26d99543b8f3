import type { DeviceStatus, DeviceSummary, MeResponse } from '../../../functions/core/api-types.ts';
import { useNow } from '../hooks.ts';
import { Icon } from '../ui/icons.tsx';
import { DeviceCard } from './device-card.tsx';
import { HelpdeskDetails } from './helpdesk.tsx';

interface DeviceListProps {
  me: MeResponse | null;
  devices: DeviceSummary[] | null;
  loadError: string | null;
  onRetry: () => void;
  onRegister: (() => void) | undefined;
  onResend: ((device: DeviceSummary) => void) | undefined;
  onCancel: ((device: DeviceSummary) => void) | undefined;
  /** After a cancelled registration was removed: reload the list. */
  onRemoved: () => void;
}

/** Shown under "Past devices"; the order within each group is the server's. */
const PAST: ReadonlySet<DeviceStatus> = new Set(['CANCELLED', 'RETIRED', 'WIPED']);

export function DeviceList(props: DeviceListProps) {
  const { me, devices, loadError, onRetry, onRegister } = props;
  const now = useNow(15_000);
  const current = devices ? devices.filter((d) => !PAST.has(d.status)) : [];
  const past = devices ? devices.filter((d) => PAST.has(d.status)) : [];
  const ready = devices !== null && me !== null;

  return (
    <section aria-labelledby="devices-heading" aria-busy={!ready && !loadError}>
      <div class="page-header">
        <div>
          <h1 id="devices-heading">My devices</h1>
          <p class="muted page-subtitle">
            {ready && current.length
              ? `${current.length} ${current.length === 1 ? 'device' : 'devices'}${me.deviceLimit ? ` · up to ${me.deviceLimit} allowed` : ''}`
              : 'Phones and tablets registered to you'}
          </p>
        </div>
        {ready && current.length > 0 && onRegister ? (
          <button type="button" class="button button-primary" onClick={onRegister}>
            <Icon name="plus" size={18} />
            Register device
          </button>
        ) : null}
      </div>

      {loadError ? (
        <div class="notice notice-error" role="alert">
          <Icon name="alert" size={18} />
          <span>{loadError}</span>
          <button type="button" class="button button-small" onClick={onRetry}>
            Try again
          </button>
        </div>
      ) : !ready ? (
        <div class="device-grid" role="status">
          <span class="visually-hidden">Loading your devices…</span>
          <div class="card skeleton" />
          <div class="card skeleton" />
        </div>
      ) : current.length === 0 ? (
        <EmptyState me={me} onRegister={onRegister} hasPast={past.length > 0} />
      ) : (
        <div class="device-grid">
          {current.map((device) => (
            <DeviceCard
              key={device.deviceId}
              device={device}
              now={now}
              onResend={props.onResend}
              onCancel={props.onCancel}
            />
          ))}
        </div>
      )}

      {ready && past.length > 0 ? (
        <section class="past-devices" aria-labelledby="past-heading">
          <h2 id="past-heading" class="section-title">
            Past devices
          </h2>
          <p class="muted section-subtitle">
            Cancelled registrations and devices that were retired or wiped.
          </p>
          <div class="device-grid">
            {past.map((device) => (
              <DeviceCard
                key={device.deviceId}
                device={device}
                now={now}
                onResend={undefined}
                onCancel={undefined}
                onRemoved={props.onRemoved}
              />
            ))}
          </div>
        </section>
      ) : null}
    </section>
  );
}

function EmptyState({
  me,
  onRegister,
  hasPast,
}: {
  me: MeResponse;
  onRegister: (() => void) | undefined;
  hasPast: boolean;
}) {
  const goUrl = `${location.host}/go`;
  return (
    <div class="card empty-state">
      <div class="empty-illustration" aria-hidden="true">
        <Icon name="ios" size={36} />
        <Icon name="android" size={36} />
      </div>
      <h2 class="empty-title">{hasPast ? 'No devices in use' : 'No devices yet'}</h2>
      <p class="empty-lead">
        Register your phone or tablet to get work email, apps and Wi-Fi on it, and to find, lock or wipe it if
        it is ever lost.
      </p>
      {onRegister ? (
        <>
          <ol class="steps">
            <li>
              <strong>Register device</strong> (here or in the Welcome menu at the top right): choose
              iPhone/iPad or Android, and get an invitation by email or SMS, a registration PIN, or a QR code.
            </li>
            <li>
              On the phone, open the link from the invitation or scan the QR code; it opens{' '}
              <span class="mono">{goUrl}</span>. Sign in with your email and the PIN.
            </li>
            <li>
              Follow the steps on the phone to install the profile (iPhone/iPad) or the agent app (Android).
              The device shows here as <em>Pending</em> until it is done, then as <em>Active</em>.
            </li>
          </ol>
          <button type="button" class="button button-primary" onClick={onRegister}>
            <Icon name="plus" size={18} />
            Register device
          </button>
        </>
      ) : (
        <div class="empty-helpdesk">
          <p>
            <strong>Ask your helpdesk</strong> to register a device for you: your account is not allowed to
            register devices itself.
          </p>
          <HelpdeskDetails contact={me.helpdesk} />
        </div>
      )}
    </div>
  );
}
