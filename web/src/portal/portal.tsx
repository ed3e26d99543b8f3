import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { DeviceListResponse, DeviceSummary } from '../../../functions/core/api-types.ts';
import { api, onMfaRequired } from '../api.ts';
import { signOut } from '../auth.ts';
import { useLazy } from '../hooks.ts';
import { useResource } from '../resource.ts';
import { Link, matchRoute, navigate, usePath } from '../router.tsx';
import { Dialog } from '../ui/dialog.tsx';
import { Icon } from '../ui/icons.tsx';
import { CancelDialog } from './cancel-dialog.tsx';
import { telHref } from './helpdesk.tsx';
import { NOT_FOUND, type PageComponent, type PageProps, type PageRoute, ROUTES } from './pages.ts';
import { WelcomeMenu } from './welcome-menu.tsx';

type OpenDialog =
  | null
  | { kind: 'register' }
  | { kind: 'resend'; device: DeviceSummary }
  | { kind: 'cancel'; device: DeviceSummary };

const loadRegistration = () => import('./registration.tsx');
/** While a registration is open, watch for the device to finish (Pending → Active). */
const POLL_MS = 15_000;
const loadMe = () => api.me();
const loadDevices = () => api.devices();

/** The server's status decides; the web app only asks more often while a registration is pending. */
function pollWhilePending(list: DeviceListResponse | undefined): number | null {
  return list?.devices.some((d) => d.status === 'PENDING') ? POLL_MS : null;
}

/** Page code already loaded, so that Back shows it at once. */
const loadedPages = new Map<PageRoute, PageComponent>();

/** The portal's frame (header, Welcome menu, footer, dialogs) around the page the URL names. */
export function Portal() {
  const path = usePath();
  const match = matchRoute(ROUTES, path);
  const route = match?.route ?? NOT_FOUND;
  const me = useResource(loadMe);
  const devices = useResource(loadDevices, { intervalMs: pollWhilePending, refreshOnVisible: true });
  // Back on My devices from another page: the list as the server has it now (a device renamed,
  // its ownership changed or wiped there), not as it was when the portal opened.
  const previousPath = useRef(route.path);
  useEffect(() => {
    if (route.path === '/' && previousPath.current !== '/') devices.reload();
    previousPath.current = route.path;
  }, [route.path, devices.reload]);

  const [dialog, setDialog] = useState<OpenDialog>(null);
  const needsRegistration = dialog?.kind === 'register' || dialog?.kind === 'resend';
  const registration = useLazy(needsRegistration ? loadRegistration : null);
  const RegistrationDialog = registration instanceof Error ? null : registration?.RegistrationDialog;

  const profile = me.data ?? null;
  const canRegister = !!profile?.roles.includes('register-device');
  const close = useCallback(() => setDialog(null), []);
  const openRegister = canRegister ? () => setDialog({ kind: 'register' }) : undefined;

  useEffect(() => {
    document.title = `${route.title} · Device Portal`;
  }, [route]);

  // The administrator requires a second factor the user has not set up: account settings is
  // where to do it (every other page would be refused with 403 MFA_REQUIRED anyway).
  const reloadMe = me.reload;
  useEffect(
    () =>
      onMfaRequired(() => {
        reloadMe();
        navigate('/account');
      }),
    [reloadMe],
  );
  const mustSetUpMfa = profile?.mfa.required === 'ALL' && !profile.mfa.enabled;
  useEffect(() => {
    if (mustSetUpMfa && path !== '/account' && path !== '/help') navigate('/account');
  }, [mustSetUpMfa, path]);

  // After a navigation (not the first page), start reading at the new page, as a page load does.
  const firstPath = useRef(path);
  useEffect(() => {
    if (path !== firstPath.current) {
      firstPath.current = '';
      document.getElementById('main')?.focus({ preventScroll: true });
      scrollTo({ top: 0 });
    }
  }, [path]);

  return (
    <div class="app">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <Link class="brand" href="/">
            <span class="brand-mark">
              <Icon name="logo" size={20} />
            </span>
            <span class="brand-name">Device Portal</span>
          </Link>
          <WelcomeMenu me={profile} onRegister={openRegister} onSignOut={() => signOut()} />
        </div>
      </header>
      <main id="main" class="page" tabIndex={-1}>
        {me.error && !profile ? (
          <div class="notice notice-error page-notice" role="alert">
            <Icon name="alert" size={18} />
            <span>{me.error}</span>
            <button type="button" class="button button-small" onClick={me.reload}>
              Try again
            </button>
          </div>
        ) : null}
        <LazyPage
          key={route.path}
          route={route}
          props={{
            me: profile,
            devices,
            params: match?.params ?? {},
            onRegister: openRegister,
            onResend: canRegister ? (device) => setDialog({ kind: 'resend', device }) : undefined,
            onCancel: canRegister ? (device) => setDialog({ kind: 'cancel', device }) : undefined,
            reloadMe,
          }}
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
            {path === '/help' ? null : (
              <>
                {' · '}
                <Link href="/help">Contact details</Link>
              </>
            )}
          </footer>
        ) : null}
      </main>

      {dialog?.kind === 'cancel' ? (
        <CancelDialog
          device={dialog.device}
          onClose={close}
          onCancelled={() => {
            devices.reload();
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
          activeDevices={devices.data?.inUse ?? 0}
          onDevice={() => devices.reload()}
          onClose={close}
        />
      ) : null}
    </div>
  );
}

function LazyPage({ route, props }: { route: PageRoute; props: PageProps }) {
  const [Page, setPage] = useState<PageComponent | Error | undefined>(() => loadedPages.get(route));
  useEffect(() => {
    if (Page && !(Page instanceof Error)) return;
    let live = true;
    route.load().then(
      (component) => {
        loadedPages.set(route, component);
        if (live) setPage(() => component);
      },
      () => {
        if (live)
          setPage(new Error('This page could not be loaded. Check your connection, then reload the page.'));
      },
    );
    return () => {
      live = false;
    };
  }, [route, Page]);
  if (Page instanceof Error) {
    return (
      <div class="notice notice-error page-notice" role="alert">
        <Icon name="alert" size={18} />
        <span>{Page.message}</span>
      </div>
    );
  }
  if (!Page) {
    return (
      <div class="device-grid" role="status">
        <span class="visually-hidden">Loading…</span>
      </div>
    );
  }
  return <Page {...props} />;
}
