import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type {
  DeviceSummary,
  InvitationDelivery,
  RegistrationMethod,
} from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import {
  deviceName,
  durationWords,
  formatDate,
  formatDateTime,
  formatTimeOrDateTime,
  OWNERSHIP_LABEL,
  osLabel,
  PLATFORM_LABEL,
  relativeTime,
  STATUS_LABEL,
} from '../format.ts';
import { Link } from '../router.tsx';
import { Icon } from '../ui/icons.tsx';
import { DerivedCredential } from './derived-credential-button.tsx';

interface DeviceCardProps {
  device: DeviceSummary;
  now: number;
  /** Absent without the register-device role. */
  onResend: ((device: DeviceSummary) => void) | undefined;
  onCancel: ((device: DeviceSummary) => void) | undefined;
  /** Past devices: after a cancelled registration was removed. */
  onRemoved?: () => void;
}

export const METHOD_LABEL: Record<RegistrationMethod, string> = {
  INVITATION: 'Invitation',
  PIN: 'Registration PIN',
  QR: 'QR code',
};

export function DeviceCard({ device, now, onResend, onCancel, onRemoved }: DeviceCardProps) {
  // The server's status, as it is: the browser's clock never turns a live registration into an expired one.
  const status = device.status;
  const title = deviceName(device);
  const [removing, setRemoving] = useState<'idle' | 'busy' | string>('idle');
  const waiting = status === 'PENDING' || status === 'EXPIRED';
  const details: [string, string | JSX.Element][] = [];
  if (device.deviceType) details.push(['Type', device.deviceType]);
  if (device.lastCheckInAt) {
    details.push([
      'Last check-in',
      <time dateTime={device.lastCheckInAt} title={formatDateTime(device.lastCheckInAt)}>
        {relativeTime(device.lastCheckInAt, now)}
      </time>,
    ]);
  }
  if (device.phoneNumber) details.push(['Phone number', device.phoneNumber]);
  const os = osLabel(device);
  if (os) details.push(['OS', os]);
  if (device.carrier) details.push(['Carrier', device.carrier]);
  if (device.imei) details.push(['IMEI', device.imei]);
  if (device.manufacturer) details.push(['Manufacturer', device.manufacturer]);
  if (device.registeredAt) {
    details.push([
      'Registered',
      <time dateTime={device.registeredAt}>{formatDate(device.registeredAt)}</time>,
    ]);
  }
  if (!device.registeredAt && !waiting) {
    details.push(['Requested', <time dateTime={device.createdAt}>{formatDate(device.createdAt)}</time>]);
  }

  return (
    <article
      class={`card device-card device-${status.toLowerCase()}`}
      data-testid="device-card"
      data-status={status}
      data-device-id={device.deviceId}
    >
      <header class="device-head">
        <span class={`platform-tile platform-${device.platform.toLowerCase()}`}>
          <Icon name={device.platform === 'IOS' ? 'ios' : 'android'} size={24} />
          <span class="visually-hidden">{device.platform === 'IOS' ? 'iOS' : 'Android'}</span>
        </span>
        <div class="device-heading">
          <h3 class="device-title">
            <Link class="device-link" href={`/devices/${encodeURIComponent(device.deviceId)}`}>
              {title}
            </Link>
          </h3>
          <p class="device-sub muted">
            {device.name && device.deviceType ? `${device.deviceType} · ` : ''}
            {device.deviceType || device.name ? `${PLATFORM_LABEL[device.platform]} · ` : ''}
            {OWNERSHIP_LABEL[device.ownership]}
          </p>
        </div>
        <span class={`badge badge-${status.toLowerCase()}`} data-testid="device-status">
          {STATUS_LABEL[status]}
        </span>
      </header>

      {waiting ? <PendingPanel device={device} expired={status === 'EXPIRED'} now={now} /> : null}
      {status === 'PENDING' || device.derivedCredential?.status === 'REQUESTED' ? (
        <DerivedCredential device={device} />
      ) : null}

      {details.length > 0 ? (
        <dl class="details">
          {details.map(([term, value]) => (
            <div key={term} class="detail">
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      ) : null}

      {device.canRemove && onRemoved ? (
        <div class="card-actions">
          <button
            type="button"
            class="button button-quiet-danger"
            disabled={removing === 'busy'}
            aria-busy={removing === 'busy'}
            onClick={async () => {
              setRemoving('busy');
              try {
                await api.removeDevice(device.deviceId);
                onRemoved();
              } catch (error) {
                setRemoving(errorMessage(error));
              }
            }}
          >
            Remove from list
          </button>
          {removing !== 'idle' && removing !== 'busy' ? (
            <p class="field-error" role="alert">
              {removing}
            </p>
          ) : null}
        </div>
      ) : null}

      {waiting && (onResend || onCancel) ? (
        <div class="card-actions">
          {onResend && device.registration?.canResend !== false ? (
            <button
              type="button"
              class={status === 'EXPIRED' ? 'button button-primary' : 'button'}
              onClick={() => onResend(device)}
            >
              <Icon name="refresh" size={18} />
              Resend
            </button>
          ) : null}
          {onCancel ? (
            <button type="button" class="button button-quiet-danger" onClick={() => onCancel(device)}>
              Cancel registration
            </button>
          ) : null}
        </div>
      ) : null}
    </article>
  );
}

function PendingPanel({ device, expired, now }: { device: DeviceSummary; expired: boolean; now: number }) {
  const reg = device.registration;
  const left = reg ? new Date(reg.expiresAt).getTime() - now : 0;
  return (
    <div class={expired ? 'pending-panel pending-expired' : 'pending-panel'}>
      <p class="pending-expiry">
        <Icon name={expired ? 'alert' : 'clock'} size={18} />
        {expired ? (
          <span>
            <strong>Expired</strong>
            {reg ? (
              <span class="muted">
                {' '}
                on <time dateTime={reg.expiresAt}>{formatDateTime(reg.expiresAt)}</time>
              </span>
            ) : null}
          </span>
        ) : reg ? (
          <span>
            <strong>Expires in {durationWords(left)}</strong>
            <span class="muted">
              {' '}
              at <time dateTime={reg.expiresAt}>{formatTimeOrDateTime(reg.expiresAt, now)}</time>
            </span>
          </span>
        ) : (
          <strong>Waiting for the device</strong>
        )}
      </p>
      <p class="pending-hint muted" data-testid="registration-stage" data-stage={reg?.stage ?? ''}>
        {stageHint(device, now)}
      </p>
      {reg && reg.deliveries.length > 0 ? (
        <ul class="deliveries" aria-label="Invitation delivery">
          {reg.deliveries.map((d) => (
            <DeliveryLine key={`${d.channel}-${d.at}`} delivery={d} now={now} />
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Where the registration stands, in words, from the stage the server gave. */
function stageHint(device: DeviceSummary, now: number): string {
  const reg = device.registration;
  const where = device.platform === 'IOS' ? 'iPhone or iPad' : 'Android device';
  switch (reg?.stage) {
    case 'EXPIRED':
      return 'The PIN, QR code and invitation no longer work. Resend to get new ones.';
    case 'PIN_LOCKED':
      return 'The PIN was entered wrongly 5 times and no longer works. Resend to get a new one.';
    case 'VERIFIED':
      return `Verified at /go: waiting for the ${device.platform === 'IOS' ? 'profile to be installed' : 'agent app to finish'} on the ${where}${reg.enrollmentExpiresAt ? ` (until ${formatTimeOrDateTime(reg.enrollmentExpiresAt, now)})` : ''}.`;
    default:
      return `Waiting for the device: open the /go link on the ${where} to finish.${reg ? ` ${METHOD_LABEL[reg.method]} requested ${relativeTime(device.createdAt, now)}.` : ''}`;
  }
}

export function DeliveryLine({ delivery, now }: { delivery: InvitationDelivery; now: number }) {
  const channel = delivery.channel === 'EMAIL' ? 'Email' : 'SMS';
  const ok = delivery.status === 'SENT';
  return (
    <li class={ok ? 'delivery delivery-sent' : 'delivery delivery-failed'} data-channel={delivery.channel}>
      <Icon name={delivery.channel === 'EMAIL' ? 'mail' : 'sms'} size={16} />
      <span class="delivery-text">
        <span class="delivery-channel">{channel}</span>{' '}
        {ok ? (
          <span>
            sent <time dateTime={delivery.at}>{formatTimeOrDateTime(delivery.at, now)}</time>
          </span>
        ) : (
          <span>
            <strong>not sent</strong>
            {delivery.reason ? `: ${delivery.reason}` : ''}
          </span>
        )}
      </span>
      <Icon name={ok ? 'check' : 'alert'} size={16} class="delivery-state" />
    </li>
  );
}
