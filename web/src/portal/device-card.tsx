import type { JSX } from 'preact';
import type {
  DeviceSummary,
  InvitationDelivery,
  RegistrationMethod,
} from '../../../functions/core/api-types.ts';
import {
  deviceTitle,
  durationWords,
  formatDate,
  formatDateTime,
  formatTimeOrDateTime,
  OWNERSHIP_LABEL,
  osLabel,
  PLATFORM_LABEL,
  relativeTime,
  STATUS_LABEL,
  shownStatus,
} from '../format.ts';
import { Icon } from '../ui/icons.tsx';

interface DeviceCardProps {
  device: DeviceSummary;
  now: number;
  /** Absent without the register-device role. */
  onResend: ((device: DeviceSummary) => void) | undefined;
  onCancel: ((device: DeviceSummary) => void) | undefined;
}

export const METHOD_LABEL: Record<RegistrationMethod, string> = {
  INVITATION: 'Invitation',
  PIN: 'Registration PIN',
  QR: 'QR code',
};

export function DeviceCard({ device, now, onResend, onCancel }: DeviceCardProps) {
  const status = shownStatus(device, now);
  const title = deviceTitle(device);
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
          <h3 class="device-title">{title}</h3>
          <p class="device-sub muted">
            {device.deviceType ? `${PLATFORM_LABEL[device.platform]} · ` : ''}
            {OWNERSHIP_LABEL[device.ownership]}
          </p>
        </div>
        <span class={`badge badge-${status.toLowerCase()}`} data-testid="device-status">
          {STATUS_LABEL[status]}
        </span>
      </header>

      {waiting ? <PendingPanel device={device} expired={status === 'EXPIRED'} now={now} /> : null}

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

      {waiting && (onResend || onCancel) ? (
        <div class="card-actions">
          {onResend ? (
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
      <p class="pending-hint muted">
        {expired
          ? 'The PIN, QR code and invitation no longer work. Resend to get new ones.'
          : `Open the /go link on the ${device.platform === 'IOS' ? 'iPhone or iPad' : 'Android device'} to finish. ${reg ? `${METHOD_LABEL[reg.method]} requested ${relativeTime(device.createdAt, now)}.` : ''}`}
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
