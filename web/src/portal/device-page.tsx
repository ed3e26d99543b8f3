import './device-page.css';
import { Fragment, type JSX } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type {
  ActionAvailability,
  CommandSummary,
  DeviceAction,
  DeviceDetailResponse,
  Position,
} from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import {
  deviceName,
  formatDateTime,
  OWNERSHIP_LABEL,
  osLabel,
  PLATFORM_LABEL,
  STATUS_LABEL,
} from '../format.ts';
import { useLazy, useNow } from '../hooks.ts';
import { useResource } from '../resource.ts';
import { Link } from '../router.tsx';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';
import { When } from '../ui/when.tsx';
import { ActionDialog, type DialogAction } from './action-dialog.tsx';
import { ActivityFeed } from './activity-feed.tsx';
import {
  ACTION_ICON,
  ACTION_LABEL,
  COMMAND_STATUS_LABEL,
  commandLabel,
  isWaiting,
  MANAGEMENT_MODE_LABEL,
} from './device-words.ts';
import type { PageProps } from './pages.ts';
import { RenameDialog } from './rename-dialog.tsx';

/** While a command waits (QUEUED, SENT), ask often so its result shows within seconds. */
const FAST_MS = 2_000;
const SLOW_MS = 30_000;

/** The server's command states decide; the page only asks more often while one waits. */
function fastWhileWaiting(detail: DeviceDetailResponse | undefined): number {
  return detail?.commands.some((c) => isWaiting(c.status)) ? FAST_MS : SLOW_MS;
}

const loadMap = () => import('./device-map.tsx');
/** Seldom used: loaded when opened. */
const loadOwnershipDialog = () => import('./ownership-dialog.tsx');
const loadSecureAppsDialog = () => import('./secure-apps-dialog.tsx');

/** `/devices/:deviceId`: one device, its actions, commands, position and activity. */
export function DevicePage({ me, params }: PageProps) {
  const deviceId = params.deviceId ?? '';
  const load = useCallback(() => api.device(deviceId), [deviceId]);
  const detail = useResource(load, { intervalMs: fastWhileWaiting, key: deviceId });
  const now = useNow(15_000);
  const [dialog, setDialog] = useState<DialogAction | 'SECURE_APPS_PASSCODE' | 'OWNERSHIP' | 'RENAME' | null>(
    null,
  );
  const [notice, setNotice] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const ownershipModule = useLazy(dialog === 'OWNERSHIP' ? loadOwnershipDialog : null);
  const secureAppsModule = useLazy(dialog === 'SECURE_APPS_PASSCODE' ? loadSecureAppsDialog : null);
  const OwnershipDialog = ownershipModule instanceof Error ? null : ownershipModule?.OwnershipDialog;
  const SecureAppsDialog = secureAppsModule instanceof Error ? null : secureAppsModule?.SecureAppsDialog;
  const loadFailed =
    (dialog === 'OWNERSHIP' && ownershipModule instanceof Error) ||
    (dialog === 'SECURE_APPS_PASSCODE' && secureAppsModule instanceof Error);

  const data = detail.data;
  const shownName = data ? deviceName(data.device) : null;
  useEffect(() => {
    if (shownName) document.title = `${shownName} · Device Portal`;
  }, [shownName]);
  if (!data) {
    return (
      <section aria-labelledby="device-heading">
        <p class="page-back">
          <Link href="/">Back to My devices</Link>
        </p>
        <h1 id="device-heading">Device</h1>
        {detail.error ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>{detail.error}</span>
            <button type="button" class="button button-small" onClick={detail.reload}>
              Try again
            </button>
          </div>
        ) : (
          <p class="muted" role="status">
            Loading the device…
          </p>
        )}
      </section>
    );
  }

  const { device, actions, commands } = data;
  const title = deviceName(device);
  const availability = (action: DeviceAction | 'LOST_MODE_OFF') => actions.find((a) => a.action === action);
  const lostModeEntry = availability('LOST_MODE');
  // Absent from a server older than issue 12: the ownership is shown, without the control.
  const ownershipChange: DeviceDetailResponse['ownershipChange'] | undefined = data.ownershipChange;
  // What the user changes here shows in the feed at once: a command's state, a new name or ownership.
  const refreshKey = [
    device.name ?? '',
    device.ownership,
    ...commands.map((c) => `${c.commandId}:${c.status}`),
  ].join(',');

  return (
    <section aria-labelledby="device-heading" class="device-page" data-device-id={device.deviceId}>
      <p class="page-back">
        <Link href="/">Back to My devices</Link>
      </p>
      <header class="device-page-head">
        <span class={`platform-tile platform-${device.platform.toLowerCase()}`}>
          <Icon name={device.platform === 'IOS' ? 'ios' : 'android'} size={24} />
        </span>
        <div class="device-heading">
          <h1 id="device-heading">{title}</h1>
          <p class="muted">
            {device.name && device.deviceType ? `${device.deviceType} · ` : ''}
            {PLATFORM_LABEL[device.platform]} · {OWNERSHIP_LABEL[device.ownership]}
          </p>
        </div>
        <span class={`badge badge-${device.status.toLowerCase()}`} data-testid="device-status">
          {STATUS_LABEL[device.status]}
        </span>
        <button type="button" class="button button-small" onClick={() => setDialog('RENAME')}>
          Rename
        </button>
      </header>

      {detail.error ? (
        <p class="notice notice-error page-notice" role="alert">
          <Icon name="alert" size={18} />
          <span>{detail.error}</span>
        </p>
      ) : null}
      <div role="status" class="action-notice-slot">
        {notice ? (
          <p class="notice notice-info page-notice" data-testid="action-notice">
            <Icon name="check" size={18} />
            <span>{notice}</span>
          </p>
        ) : null}
      </div>

      {refusal ? (
        <p class="notice notice-error page-notice" role="alert" data-testid="ownership-refused">
          <Icon name="alert" size={18} />
          <span>{refusal}</span>
        </p>
      ) : null}

      {device.lostMode ? (
        <div class="card lost-mode-panel" data-testid="lost-mode">
          <h2 class="section-title">
            <Icon name="lostMode" size={18} /> Lost mode is on
          </h2>
          <p class="muted">
            Since <When iso={device.lostMode.since} now={now} />. The lock screen shows:
          </p>
          <blockquote class="lock-screen">
            {device.lostMode.message ? <p>{device.lostMode.message}</p> : null}
            {device.lostMode.phoneNumber ? <p>Call {device.lostMode.phoneNumber}</p> : null}
          </blockquote>
          {lostModeEntry ? (
            <button type="button" class="button" onClick={() => setDialog('LOST_MODE_OFF')}>
              Turn off lost mode
            </button>
          ) : null}
        </div>
      ) : null}

      {actions.length > 0 ? (
        <section class="device-section" aria-labelledby="actions-heading">
          <h2 id="actions-heading" class="section-title">
            Actions
          </h2>
          <ul class="action-grid">
            {actions.map((a) => (
              <ActionTile key={a.action} availability={a} onOpen={() => setDialog(a.action)} />
            ))}
          </ul>
        </section>
      ) : null}

      <section class="card device-section-card ownership-panel" aria-labelledby="ownership-heading">
        <h2 id="ownership-heading" class="section-title">
          Ownership
        </h2>
        <p class="ownership-current" data-testid="ownership">
          {OWNERSHIP_LABEL[device.ownership]}
        </p>
        {ownershipChange?.allowed ? (
          <button
            type="button"
            class="button"
            onClick={() => {
              setRefusal(null);
              setDialog('OWNERSHIP');
            }}
          >
            Change ownership
          </button>
        ) : ownershipChange?.reason ? (
          <p class="muted" data-testid="ownership-reason">
            {ownershipChange.reason}
          </p>
        ) : null}
      </section>

      <div class="device-columns">
        <section class="card device-section-card" aria-labelledby="details-heading">
          <h2 id="details-heading" class="section-title">
            Details
          </h2>
          <DetailList data={data} now={now} />
        </section>

        <LocationSection data={data} now={now} tiles={me?.features.mapTiles ?? null} />
      </div>

      <section class="card device-section-card" aria-labelledby="commands-heading">
        <h2 id="commands-heading" class="section-title">
          Commands
        </h2>
        <CommandList deviceId={device.deviceId} commands={commands} now={now} onChanged={detail.reload} />
      </section>

      <section class="card device-section-card" aria-labelledby="device-activity-heading">
        <h2 id="device-activity-heading" class="section-title">
          Activity
        </h2>
        <ActivityFeed
          load={(cursor) => api.deviceActivity(device.deviceId, cursor)}
          feedKey={device.deviceId}
          refreshKey={refreshKey}
          label={`Activity on ${title}`}
        />
      </section>

      {loadFailed ? (
        <Dialog title="Something went wrong" onClose={() => setDialog(null)} size="small">
          <p class="notice notice-error" role="alert">
            <Icon name="alert" size={18} />
            <span>This part of the portal could not be loaded. Check your connection and try again.</span>
          </p>
        </Dialog>
      ) : dialog === 'RENAME' ? (
        <RenameDialog
          detail={data}
          onClose={() => setDialog(null)}
          onRenamed={(answer) => {
            setDialog(null);
            detail.replace(answer);
            setNotice(`Renamed to “${deviceName(answer.device)}”.`);
          }}
        />
      ) : dialog === 'OWNERSHIP' ? (
        OwnershipDialog ? (
          <OwnershipDialog
            detail={data}
            deviceName={title}
            email={me?.user.email ?? null}
            onClose={() => setDialog(null)}
            onChanged={(answer) => {
              setDialog(null);
              detail.replace(answer);
              setNotice(
                `Ownership changed to ${OWNERSHIP_LABEL[answer.device.ownership].toLowerCase()}. The actions below are the ones for it now.`,
              );
            }}
            onRefused={(message) => {
              setDialog(null);
              setNotice(null);
              setRefusal(message);
              detail.reload();
            }}
          />
        ) : null
      ) : dialog === 'SECURE_APPS_PASSCODE' ? (
        SecureAppsDialog ? (
          <SecureAppsDialog
            deviceId={device.deviceId}
            deviceName={title}
            availability={availability('SECURE_APPS_PASSCODE')}
            email={me?.user.email ?? null}
            onClose={() => setDialog(null)}
          />
        ) : null
      ) : dialog ? (
        <ActionDialog
          deviceId={device.deviceId}
          deviceName={title}
          action={dialog}
          availability={dialog === 'LOST_MODE_OFF' ? undefined : availability(dialog)}
          email={me?.user.email ?? null}
          onClose={() => setDialog(null)}
          onDone={(command) => {
            setDialog(null);
            setNotice(
              `${commandLabel(command)}: ${COMMAND_STATUS_LABEL[command.status].toLowerCase()}. The device gets it at its next check-in.`,
            );
            detail.reload();
          }}
        />
      ) : null}
    </section>
  );
}

function ActionTile({ availability: a, onOpen }: { availability: ActionAvailability; onOpen: () => void }) {
  const reasonId = `reason-${a.action.toLowerCase()}`;
  return (
    <li class={a.available ? 'action-tile' : 'action-tile action-unavailable'} data-action={a.action}>
      <button
        type="button"
        class="action-button"
        aria-disabled={a.available ? undefined : 'true'}
        aria-describedby={a.reason ? reasonId : undefined}
        onClick={() => {
          if (a.available) onOpen();
        }}
      >
        <Icon name={ACTION_ICON[a.action]} size={22} />
        <span>{ACTION_LABEL[a.action]}</span>
      </button>
      {a.reason ? (
        <p id={reasonId} class="action-reason" data-testid="action-reason">
          {a.reason.message}
        </p>
      ) : null}
    </li>
  );
}

function DetailList({ data, now }: { data: DeviceDetailResponse; now: number }) {
  const { device } = data;
  const rows: [string, string | JSX.Element][] = [];
  rows.push(['Device type', device.deviceType ?? PLATFORM_LABEL[device.platform]]);
  rows.push(['Status', STATUS_LABEL[device.status]]);
  rows.push([
    'Last check-in',
    device.lastCheckInAt ? <When iso={device.lastCheckInAt} now={now} /> : 'Not yet',
  ]);
  if (device.nextCheckInDueAt)
    rows.push(['Next check-in due', <When iso={device.nextCheckInDueAt} now={now} />]);
  if (device.phoneNumber) rows.push(['Phone number', device.phoneNumber]);
  const os = osLabel(device);
  if (os) rows.push(['OS and version', os]);
  if (device.carrier) rows.push(['Carrier', device.carrier]);
  if (device.imei) rows.push(['IMEI', device.imei]);
  if (device.manufacturer) rows.push(['Manufacturer', device.manufacturer]);
  if (device.registeredAt) {
    rows.push([
      'Registered',
      <time dateTime={device.registeredAt}>{formatDateTime(device.registeredAt)}</time>,
    ]);
  }
  rows.push(['Ownership', OWNERSHIP_LABEL[device.ownership]]);
  if (device.managementMode) rows.push(['Management', MANAGEMENT_MODE_LABEL[device.managementMode]]);
  return (
    <dl class="details device-details">
      {rows.map(([term, value]) => (
        <div key={term} class="detail">
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The newest position: the device's last one, or a finished locate's. */
function latestPosition(data: DeviceDetailResponse): Position | null {
  let best = data.device.lastPosition;
  for (const c of data.commands) {
    if (c.action === 'LOCATE' && c.status === 'DONE' && c.position) {
      if (!best || Date.parse(c.position.at) > Date.parse(best.at)) best = c.position;
    }
  }
  return best;
}

function LocationSection({
  data,
  now,
  tiles,
}: {
  data: DeviceDetailResponse;
  now: number;
  tiles: { urlTemplate: string; attribution: string } | null;
}) {
  const position = latestPosition(data);
  const map = useLazy(position && tiles ? loadMap : null);
  if (!position) return null;
  const DeviceMap = map instanceof Error ? null : map?.DeviceMap;
  return (
    <section class="card device-section-card" aria-labelledby="location-heading" data-testid="location">
      <h2 id="location-heading" class="section-title">
        Last known position
      </h2>
      <dl class="details position-details">
        <div class="detail">
          <dt>Latitude</dt>
          <dd data-testid="latitude">{position.latitude.toFixed(5)}</dd>
        </div>
        <div class="detail">
          <dt>Longitude</dt>
          <dd data-testid="longitude">{position.longitude.toFixed(5)}</dd>
        </div>
        <div class="detail">
          <dt>Accuracy</dt>
          <dd data-testid="accuracy">within {Math.round(position.accuracy)} m</dd>
        </div>
        <div class="detail">
          <dt>Measured</dt>
          <dd>
            <When iso={position.at} now={now} />
          </dd>
        </div>
      </dl>
      {map instanceof Error ? <p class="muted">{map.message}</p> : null}
      {DeviceMap && tiles ? <DeviceMap position={position} tiles={tiles} /> : null}
    </section>
  );
}

function CommandList({
  deviceId,
  commands,
  now,
  onChanged,
}: {
  deviceId: string;
  commands: CommandSummary[];
  now: number;
  onChanged: () => void;
}) {
  const waiting = commands.filter((c) => isWaiting(c.status));
  const recent = commands.filter((c) => !isWaiting(c.status));
  if (commands.length === 0) return <p class="muted">No commands have been sent to this device.</p>;
  const groups = [
    { title: 'Waiting for the device', label: 'Waiting for the device', list: waiting },
    { title: 'Recent', label: 'Recent commands', list: recent },
  ].filter((group) => group.list.length > 0);
  return (
    <>
      {groups.map((group) => (
        <Fragment key={group.title}>
          <h3 class="subsection-title">{group.title}</h3>
          <ul class="command-list" aria-label={group.label}>
            {group.list.map((c) => (
              <CommandLine
                key={c.commandId}
                deviceId={deviceId}
                command={c}
                now={now}
                onChanged={onChanged}
              />
            ))}
          </ul>
        </Fragment>
      ))}
    </>
  );
}

function CommandLine({
  deviceId,
  command: c,
  now,
  onChanged,
}: {
  deviceId: string;
  command: CommandSummary;
  now: number;
  onChanged: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = commandLabel(c);
  async function cancel() {
    setBusy(true);
    setError(null);
    try {
      await api.cancelCommand(deviceId, c.commandId);
      onChanged();
    } catch (e) {
      setError(errorMessage(e));
      onChanged();
    } finally {
      setBusy(false);
    }
  }
  return (
    <li class="command" data-testid="command" data-command-id={c.commandId} data-status={c.status}>
      <div class="command-head">
        <span class="command-name">{label}</span>
        <span
          class={`badge badge-command badge-command-${c.status.toLowerCase()}`}
          data-testid="command-status"
        >
          {COMMAND_STATUS_LABEL[c.status]}
        </span>
      </div>
      <p class="command-meta muted">
        Requested <When iso={c.createdAt} now={now} />
        {c.sentAt ? (
          <>
            {' · sent '}
            <When iso={c.sentAt} now={now} />
          </>
        ) : null}
        {c.completedAt ? (
          <>
            {' · finished '}
            <When iso={c.completedAt} now={now} />
          </>
        ) : null}
        {c.status === 'QUEUED' ? (
          <>
            {' · expires '}
            <When iso={c.expiresAt} now={now} />
          </>
        ) : null}
      </p>
      {c.lockScreen?.message || c.lockScreen?.phoneNumber ? (
        <p class="command-detail">
          Lock screen: {c.lockScreen.message ? `“${c.lockScreen.message}”` : ''}
          {c.lockScreen.message && c.lockScreen.phoneNumber ? ' · ' : ''}
          {c.lockScreen.phoneNumber ?? ''}
        </p>
      ) : null}
      {c.action === 'INSTALL_CERTIFICATE' && isWaiting(c.status) ? (
        // Not cancelled here: certificate commands follow the certificates the user keeps.
        <p class="command-detail muted" data-testid="certificate-command-hint">
          To stop it, delete the certificate on the <Link href="/certificates">Certificates</Link> page.
        </p>
      ) : null}
      {c.error ? <p class="command-detail command-error">{c.error}</p> : null}
      {c.canCancel ? (
        <button
          type="button"
          class="button button-small button-quiet-danger"
          onClick={cancel}
          disabled={busy}
          aria-busy={busy}
        >
          Cancel<span class="visually-hidden"> {label.toLowerCase()}</span>
        </button>
      ) : null}
      {error ? (
        <p class="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </li>
  );
}
