/**
 * The portal's pages: one entry each, with its URL pattern, its title and its code (loaded when the
 * page is first opened). A new page (`/devices/:deviceId`, `/activity`, `/certificates`, …) is one more entry here.
 */
import type { ComponentType } from 'preact';
import type { DeviceListResponse, DeviceSummary, MeResponse } from '../../../functions/core/api-types.ts';
import type { Resource } from '../resource.ts';

/** What the portal's frame gives every page. */
export interface PageProps {
  /** The profile from GET /api/me, null while it loads. */
  me: MeResponse | null;
  /** GET /api/devices, shared with the Welcome menu's Register device. */
  devices: Resource<DeviceListResponse>;
  /** The `:name` parts of the route's path. */
  params: Record<string, string>;
  /** Absent without the register-device role. */
  onRegister: (() => void) | undefined;
  onResend: ((device: DeviceSummary) => void) | undefined;
  onCancel: ((device: DeviceSummary) => void) | undefined;
  /** Loads GET /api/me again (after the user changed their profile or second factor). */
  reloadMe?: (() => void) | undefined;
}

export type PageComponent = ComponentType<PageProps>;

export interface PageRoute {
  /** `/`, `/help`, `/devices/:deviceId`. */
  path: string;
  /** The document title (before " · Device Portal"). */
  title: string;
  load: () => Promise<PageComponent>;
}

export const ROUTES: readonly PageRoute[] = [
  { path: '/', title: 'My devices', load: () => import('./devices-page.tsx').then((m) => m.DevicesPage) },
  {
    path: '/devices/:deviceId',
    title: 'Device',
    load: () => import('./device-page.tsx').then((m) => m.DevicePage),
  },
  {
    path: '/activity',
    title: 'Activity',
    load: () => import('./activity-page.tsx').then((m) => m.ActivityPage),
  },
  {
    path: '/certificates',
    title: 'Certificates',
    load: () => import('./certificates-page.tsx').then((m) => m.CertificatesPage),
  },
  {
    path: '/derived-credential',
    title: 'Derived credential',
    load: () => import('./derived-credential-page.tsx').then((m) => m.DerivedCredentialPage),
  },
  {
    path: '/admin',
    title: 'Portal settings',
    load: () => import('./admin-page.tsx').then((m) => m.AdminPage),
  },
  {
    path: '/account',
    title: 'Account settings',
    load: () => import('./account-page.tsx').then((m) => m.AccountPage),
  },
  { path: '/help', title: 'Helpdesk', load: () => import('./help-page.tsx').then((m) => m.HelpPage) },
];

export const NOT_FOUND: PageRoute = {
  path: '*',
  title: 'Page not found',
  load: () => import('./not-found-page.tsx').then((m) => m.NotFoundPage),
};
