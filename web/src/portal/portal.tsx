import { useCallback, useEffect, useState } from 'preact/hooks';
import type { DeviceSummary, MeResponse } from '../../../functions/core/api-types.ts';
import { api, errorMessage } from '../api.ts';
import { signOut } from '../auth.ts';
import { useLazy } from '../hooks.ts';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';
import { CancelDialog } from './cancel-dialog.tsx';
import { DeviceList } from './device-list.tsx';
import { HelpdeskDialog, telHref } from './helpdesk.tsx';
import { WelcomeMenu } from './welcome-menu.tsx';

type Load<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; data: T };

type OpenDialog =
  | null
  | { kind: 'helpdesk' }
  | { kind: 'register' }
  | { kind: 'resend'; device: DeviceSummary }
  | { kind: 'cancel'; device: DeviceSummary };

const loadRegistration = () => import('./registration.tsx');
const POLL_MS = 15_000;

/** Newest first; a device from a create/resend/cancel answer replaces its old copy. */
function upsert(list: DeviceSummary[], device: DeviceSummary): DeviceSummary[] {
  const rest = list.filter((d) => d.deviceId !== device.deviceId);
  return [device, ...rest];
}

export function Portal() {
  const [me, setMe] = useState<Load<MeResponse>>({ state: 'loading' });
  const [devices, setDevices] = useState<Load<DeviceSummary[]>>({ state: 'loading' });
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const needsRegistration = dialog?.kind === 'register' || dialog?.kind === 'resend';
  const registration = useLazy(needsRegistration ? loadRegistration : null);
  const RegistrationDialog = registration instanceof Error ? null : registration?.RegistrationDialog;

  const loadMe = useCallback(() => {
    setMe({ state: 'loading' });
    api.me().then(
      (data) => setMe({ state: 'ready', data }),
      (error: unknown) => setMe({ state: 'error', message: errorMessage(error) }),
    );
  }, []);

  const refreshDevices = useCallback((quiet: boolean) => {
    if (!quiet) setDevices({ state: 'loading' });
    api.devices().then(
      (data) => setDevices({ state: 'ready', data: data.devices }),
      (error: unknown) => {
        if (!quiet) setDevices({ state: 'error', message: errorMessage(error) });
      },
    );
  }, []);

  useEffect(() => {
    loadMe();
    refreshDevices(false);
  }, [loadMe, refreshDevices]);

  // While a registration is open, watch for the device to finish (Pending → Active).
  const hasPending = devices.state === 'ready' && devices.data.some((d) => d.status === 'PENDING');
  useEffect(() => {
    if (!hasPending) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') refreshDevices(true);
    }, POLL_MS);
    return () => clearInterval(id);
  }, [hasPending, refreshDevices]);

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') refreshDevices(true);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [refreshDevices]);

  const applyDevice = useCallback((device: DeviceSummary) => {
    setDevices((current) =>
      current.state === 'ready' ? { state: 'ready', data: upsert(current.data, device) } : current,
    );
  }, []);

  const profile = me.state === 'ready' ? me.data : null;
  const canRegister = !!profile?.roles.includes('register-device');
  const close = useCallback(() => setDialog(null), []);
  const openRegister = canRegister ? () => setDialog({ kind: 'register' }) : undefined;

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <a class="brand" href="/">
            <span class="brand-mark">
              <Icon name="logo" size={20} />
            </span>
            <span class="brand-name">Device Portal</span>
          </a>
          <WelcomeMenu
            me={profile}
            onRegister={openRegister}
            onHelpdesk={() => setDialog({ kind: 'helpdesk' })}
            onSignOut={() => signOut()}
          />
        </div>
      </header>
      <main id="main" class="page" tabIndex={-1}>
        {me.state === 'error' ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>{me.message}</span>
            <button type="button" class="button button-small" onClick={loadMe}>
              Try again
            </button>
          </div>
        ) : null}
        <DeviceList
          me={profile}
          devices={devices.state === 'ready' ? devices.data : null}
          loadError={devices.state === 'error' ? devices.message : null}
          onRetry={() => refreshDevices(false)}
          onRegister={openRegister}
          onHelpdesk={() => setDialog({ kind: 'helpdesk' })}
          onResend={canRegister ? (device) => setDialog({ kind: 'resend', device }) : undefined}
          onCancel={canRegister ? (device) => setDialog({ kind: 'cancel', device }) : undefined}
        />
        {profile ? (
          <footer class="page-footer muted">
            Need help? {profile.helpdesk.name}
            {profile.helpdesk.phone ? (
              <>
                {' · '}
                <a href={telHref(profile.helpdesk.phone)}>{profile.helpdesk.phone}</a>
              </>
            ) : null}
            {' · '}
            <button type="button" class="link-button" onClick={() => setDialog({ kind: 'helpdesk' })}>
              Contact details
            </button>
          </footer>
        ) : null}
      </main>

      {dialog?.kind === 'helpdesk' && profile ? (
        <HelpdeskDialog contact={profile.helpdesk} onClose={close} />
      ) : null}
      {dialog?.kind === 'cancel' ? (
        <CancelDialog
          device={dialog.device}
          onClose={close}
          onCancelled={(device) => {
            applyDevice(device);
            close();
          }}
        />
      ) : null}
      {needsRegistration && registration instanceof Error ? (
        <Dialog title="Something went wrong" onClose={close} size="small">
          <p class="notice notice-error" role="alert">
            <Icon name="alert" size={18} />
            <span>{registration.message}</span>
          </p>
        </Dialog>
      ) : needsRegistration && profile && RegistrationDialog ? (
        <RegistrationDialog
          me={profile}
          resendFor={dialog.kind === 'resend' ? dialog.device : null}
          activeDevices={
            devices.state === 'ready'
              ? devices.data.filter((d) => d.status === 'ACTIVE' || d.status === 'PENDING').length
              : 0
          }
          onDevice={(device) => {
            applyDevice(device);
            refreshDevices(true);
          }}
          onClose={close}
        />
      ) : null}
    </div>
  );
}
