/** The portal API client: typed by the same contract the handlers use. */
import type {
  ActivityResponse,
  AdminSettingsRequest,
  AdminSettingsResponse,
  AdminSettingsSavedResponse,
  CertificateListResponse,
  CertificateUploadRequest,
  CertificateUploadResponse,
  CommandResponse,
  CreateRegistrationRequest,
  DerivedCredentialComplete,
  DerivedCredentialCompleted,
  DerivedCredentialStart,
  DeviceDetailResponse,
  DeviceListResponse,
  DeviceSummary,
  EnrollVerifyRequest,
  EnrollVerifyResponse,
  LockRequest,
  MeResponse,
  OwnershipRequest,
  RegistrationResponse,
  RenameRequest,
  ResendRegistrationRequest,
  SecureAppsPasscodeResponse,
  UpdateMeRequest,
} from '../../functions/core/api-types.ts';
import { accessToken, SignInError, signOut } from './auth.ts';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait, from Retry-After (429). */
    readonly retryAfter?: number,
    /** What the server added to go on with (e.g. the registrations to choose from). */
    readonly details?: unknown,
  ) {
    super(message);
  }
}

const SESSION_ENDED = 'Your session has ended. Sign in again.';

/**
 * Wipe and retire need a sign-in within the last few minutes: that 401 asks for the password again
 * (and a retry), it does not end the session.
 */
export const RECENT_SIGN_IN_REQUIRED = 'RECENT_SIGN_IN_REQUIRED';

/**
 * The administrator requires a second sign-in factor and the user has none yet (403): the web app
 * sends them to account settings to set one up.
 */
export const MFA_REQUIRED = 'MFA_REQUIRED';
const mfaListeners = new Set<(error: ApiError) => void>();

/** Called on every 403 MFA_REQUIRED (the portal frame navigates to /account). */
export function onMfaRequired(listener: (error: ApiError) => void): () => void {
  mfaListeners.add(listener);
  return () => mfaListeners.delete(listener);
}

function retryAfterSeconds(res: Response): number | undefined {
  const value = res.headers.get('Retry-After');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}

function errorFrom(res: Response, body: unknown): ApiError {
  const error =
    typeof body === 'object' && body !== null
      ? (body as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error
      : undefined;
  const code = typeof error?.code === 'string' ? error.code : `HTTP_${res.status}`;
  const retryAfter = retryAfterSeconds(res);
  let message = typeof error?.message === 'string' && error.message ? error.message : '';
  if (!message) {
    if (res.status === 429) message = 'Too many requests. Wait a moment, then try again.';
    else if (res.status >= 500)
      message = 'The portal could not complete this just now. Try again in a moment.';
    else message = `The request was refused (${res.status}).`;
  }
  return new ApiError(res.status, code, message, retryAfter, error?.details);
}

interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Public routes (the /go page) send no token. */
  auth?: boolean;
}

async function request<T>(
  path: string,
  { method = 'GET', body, auth = true }: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    try {
      headers.Authorization = `Bearer ${await accessToken()}`;
    } catch (error) {
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        error instanceof SignInError ? error.message : SESSION_ENDED,
      );
    }
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The portal cannot be reached. Check your connection and try again.');
  }
  const data: unknown = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (!res.ok) {
    if (res.status === 401 && auth) {
      const refused = errorFrom(res, data);
      if (refused.code === RECENT_SIGN_IN_REQUIRED) throw refused;
      signOut(SESSION_ENDED);
      throw new ApiError(401, 'UNAUTHENTICATED', SESSION_ENDED);
    }
    const refused = errorFrom(res, data);
    if (res.status === 403 && refused.code === MFA_REQUIRED)
      for (const listener of mfaListeners) listener(refused);
    throw refused;
  }
  return data as T;
}

const enc = encodeURIComponent;

export type DeviceActionRoute = 'lock' | 'lost-mode' | 'unlock' | 'locate' | 'wipe' | 'retire';

export const api = {
  me: () => request<MeResponse>('/api/me'),
  updateMe: (body: UpdateMeRequest) => request<MeResponse>('/api/me', { method: 'PATCH', body }),
  devices: () => request<DeviceListResponse>('/api/devices'),
  createRegistration: (body: CreateRegistrationRequest) =>
    request<RegistrationResponse>('/api/registrations', { method: 'POST', body }),
  resendRegistration: (deviceId: string, body: ResendRegistrationRequest = {}) =>
    request<RegistrationResponse>(`/api/registrations/${enc(deviceId)}/resend`, { method: 'POST', body }),
  cancelRegistration: (deviceId: string) =>
    request<{ device: DeviceSummary }>(`/api/registrations/${enc(deviceId)}`, { method: 'DELETE' }),
  removeDevice: (deviceId: string) =>
    request<undefined>(`/api/devices/${enc(deviceId)}`, { method: 'DELETE' }),
  device: (deviceId: string) => request<DeviceDetailResponse>(`/api/devices/${enc(deviceId)}`),
  /** Lock, lost mode on, unlock, locate, wipe, retire: 202 with the queued (or already waiting) command. */
  deviceAction: (deviceId: string, route: DeviceActionRoute, body?: LockRequest) =>
    request<CommandResponse>(`/api/devices/${enc(deviceId)}/${route}`, { method: 'POST', body }),
  lostModeOff: (deviceId: string) =>
    request<CommandResponse>(`/api/devices/${enc(deviceId)}/lost-mode`, { method: 'DELETE' }),
  cancelCommand: (deviceId: string, commandId: string) =>
    request<CommandResponse>(`/api/devices/${enc(deviceId)}/commands/${enc(commandId)}`, {
      method: 'DELETE',
    }),
  deviceActivity: (deviceId: string, cursor?: string | null) =>
    request<ActivityResponse>(
      `/api/devices/${enc(deviceId)}/activity${cursor ? `?cursor=${enc(cursor)}` : ''}`,
    ),
  activity: (cursor?: string | null) =>
    request<ActivityResponse>(`/api/activity${cursor ? `?cursor=${enc(cursor)}` : ''}`),
  /** 409 OWNERSHIP_CHANGED (another change came first), 403 OWNERSHIP_LOCKED, 401 RECENT_SIGN_IN_REQUIRED. */
  /** 200: the device page with the new name; 400 says what to fix in the name. */
  renameDevice: (deviceId: string, body: RenameRequest) =>
    request<DeviceDetailResponse>(`/api/devices/${enc(deviceId)}/name`, { method: 'PUT', body }),
  changeOwnership: (deviceId: string, body: OwnershipRequest) =>
    request<DeviceDetailResponse>(`/api/devices/${enc(deviceId)}/ownership`, { method: 'PUT', body }),
  /** 201: the one-time PIN for Forgot passcode in the agent app, shown once. */
  secureAppsPasscode: (deviceId: string) =>
    request<SecureAppsPasscodeResponse>(`/api/devices/${enc(deviceId)}/secure-apps-passcode`, {
      method: 'POST',
    }),
  /** Where to send the browser: the Entrust self-service page with the state. */
  startDerivedCredential: (deviceId: string) =>
    request<DerivedCredentialStart>(`/api/devices/${enc(deviceId)}/derived-credential`, { method: 'POST' }),
  /** 410 STATE_INVALID: a replayed, expired or foreign state. */
  completeDerivedCredential: (body: DerivedCredentialComplete) =>
    request<DerivedCredentialCompleted>('/api/derived-credential/complete', { method: 'POST', body }),
  certificates: () => request<CertificateListResponse>('/api/certificates'),
  /** 201 with the new certificate; 200 with `replaces` (same id, the newer file). */
  uploadCertificate: (body: CertificateUploadRequest) =>
    request<CertificateUploadResponse>('/api/certificates', { method: 'POST', body }),
  /** 204; the devices that have it remove it at their next check-in. */
  deleteCertificate: (certificateId: string) =>
    request<undefined>(`/api/certificates/${enc(certificateId)}`, { method: 'DELETE' }),
  adminSettings: () => request<AdminSettingsResponse>('/api/admin/settings'),
  saveAdminSettings: (body: AdminSettingsRequest) =>
    request<AdminSettingsSavedResponse>('/api/admin/settings', { method: 'PUT', body }),
  enrollVerify: (body: EnrollVerifyRequest) =>
    request<EnrollVerifyResponse>('/api/enroll/verify', { method: 'POST', body, auth: false }),
};

/** A message for any error thrown by the client. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong. Try again.';
}
