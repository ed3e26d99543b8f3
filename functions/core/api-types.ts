/**
 * The JSON shapes the API returns. Shared by the handlers and the web app (type-only imports),
 * so the two cannot disagree about a field.
 */
import type { Role } from '../routes.ts';
import type { PortalSettings } from './settings.ts';

export type Platform = 'IOS' | 'ANDROID';
export type Ownership = 'EMPLOYEE' | 'COMPANY';
export type DeviceStatus = 'PENDING' | 'ACTIVE' | 'RETIRED' | 'WIPED' | 'CANCELLED' | 'EXPIRED';
export type RegistrationMethod = 'INVITATION' | 'PIN' | 'QR';
export type DeliveryChannel = 'EMAIL' | 'SMS';
export type DeliveryStatus = 'SENT' | 'FAILED';

export interface HelpdeskContact {
  name: string;
  phone: string;
  email: string;
  url: string;
  hours: string;
  note: string;
}

export interface RegistrationMethods {
  invitation: boolean;
  pin: boolean;
  qr: boolean;
  /** The /go page accepts the directory password instead of a PIN. */
  passwordAtGo: boolean;
}

export interface MeResponse {
  user: {
    sub: string;
    username: string;
    email: string;
    displayName: string;
    phoneNumber: string | null;
    language: string;
  };
  roles: Role[];
  isAdmin: boolean;
  features: {
    registrationMethods: RegistrationMethods;
    /** Users may pick Employee or Company; otherwise the default applies. */
    ownershipChoice: boolean;
    defaultOwnership: Ownership;
    derivedCredential: boolean;
    /** The map the device page shows a located device on (tile server from the settings). */
    mapTiles: { urlTemplate: string; attribution: string };
  };
  helpdesk: HelpdeskContact;
  deviceLimit: number;
  /** The second sign-in factor: whether the user has an authenticator app, and what the portal requires. */
  mfa: { enabled: boolean; required: 'OFF' | 'ALL' | 'SENSITIVE' };
}

/** PATCH /api/me: each field optional; the answer is the profile as GET /api/me gives it. */
export interface UpdateMeRequest {
  displayName?: string;
  /** As typed, with phoneCountry when it has no +; stored as E.164. */
  phoneNumber?: string;
  phoneCountry?: string;
  language?: string;
}

export interface InvitationDelivery {
  channel: DeliveryChannel;
  status: DeliveryStatus;
  /** Why delivery failed, in words a user can act on. */
  reason?: string;
  at: string;
}

/**
 * Where a registration stands, as the card says it (the server decides; the web app only shows it):
 * waiting for the device; its PIN locked after wrong tries; verified at /go and waiting for the app
 * to enroll; expired.
 */
export type RegistrationStage = 'WAITING_FOR_DEVICE' | 'PIN_LOCKED' | 'VERIFIED' | 'EXPIRED';

export interface PendingRegistration {
  method: RegistrationMethod;
  stage: RegistrationStage;
  /** ISO time after which the PIN, QR code and invitation stop working. */
  expiresAt: string;
  /** While VERIFIED: until when the phone's enrollment step works. */
  enrollmentExpiresAt: string | null;
  /** Resend makes sense: not while the phone is mid-way with a token it is about to use. */
  canResend: boolean;
  deliveries: InvitationDelivery[];
}

export interface DeviceSummary {
  deviceId: string;
  /** The device's version: a change (ownership) names the version it was made on. */
  version: number;
  /** The user's own name for it, e.g. "Work iPhone"; kept when the device enrolls. */
  name: string | null;
  status: DeviceStatus;
  platform: Platform;
  ownership: Ownership;
  /** Device type / model as the agent reports it, e.g. "iPhone 15". */
  deviceType: string | null;
  manufacturer: string | null;
  osVersion: string | null;
  phoneNumber: string | null;
  carrier: string | null;
  imei: string | null;
  lastCheckInAt: string | null;
  /** When the agent completed registration. */
  registeredAt: string | null;
  createdAt: string;
  /** Present while the device is PENDING or EXPIRED. */
  registration: PendingRegistration | null;
  /** A cancelled registration can be removed from the list. */
  canRemove: boolean;
  /**
   * The Entrust derived credential requested for this device before it registered (issue 12);
   * `canRequest`: the button is offered (enabled by the administrator, registration pending, none requested yet).
   */
  derivedCredential: {
    status: 'NONE' | 'REQUESTED' | 'FAILED';
    at: string | null;
    name: string | null;
    canRequest: boolean;
  };
}

export interface DeviceListResponse {
  /** In the order the portal shows them. */
  devices: DeviceSummary[];
  /** Devices that count against the device limit now (active, and registrations still open). */
  inUse: number;
}

export interface ApiErrorBody {
  /** `details` carries what the client needs to go on, e.g. the registrations to choose from. */
  error: { code: string; message: string; details?: unknown };
}

/** POST /api/registrations */
export interface CreateRegistrationRequest {
  platform: Platform;
  method: RegistrationMethod;
  /** Where the invitation goes; may be empty for a QR code shown on screen only. */
  delivery: DeliveryChannel[];
  /** Needed for SMS when the profile has no phone number: as typed, e.g. (415) 555-0123, or E.164. */
  phoneNumber?: string;
  /** ISO 3166 country of phoneNumber when it has no +; default the portal's. */
  phoneCountry?: string;
  /** Only where the administrator lets users choose; otherwise the default applies. */
  ownership?: Ownership;
  /** The user's own name for it, e.g. "Work iPhone". */
  name?: string;
}

/** The answer to create and resend: the secrets are in it once and never again. */
export interface RegistrationResponse {
  device: DeviceSummary;
  /** The registration PIN (method PIN). */
  pin?: string;
  /** The QR code (method QR): an SVG image of `url`, the /go link with a one-time token. */
  qr?: { svg: string; url: string };
  /** The /go link to open on the device. */
  goUrl: string;
  expiresAt: string;
}

/** POST /api/registrations/{deviceId}/resend: a new PIN / QR code and invitation; the old stop working. */
export interface ResendRegistrationRequest {
  delivery?: DeliveryChannel[];
  phoneNumber?: string;
  phoneCountry?: string;
}

/** POST /api/enroll/verify: the /go page. */
export interface EnrollVerifyRequest {
  username: string;
  pin?: string;
  password?: string;
  /** The one-time token from the QR code's URL fragment (#t=…): a fragment never reaches a server log. */
  qrToken?: string;
  /** The phone's platform as the page sees it. */
  platform?: Platform;
  /** The registration chosen, when the password fits several (answer CHOOSE_REGISTRATION). */
  deviceId?: string;
}

/** 409 CHOOSE_REGISTRATION: the password fits several registrations for this phone. */
export interface RegistrationChoice {
  deviceId: string;
  name: string | null;
  platform: Platform;
  createdAt: string;
}

export type EnrollNextStep =
  | { kind: 'IOS_PROFILE'; profileUrl: string }
  | { kind: 'ANDROID_STORE'; storeUrl: string };

export interface EnrollVerifyResponse {
  deviceId: string;
  platform: Platform;
  /**
   * Android: the one-time enrollment token for the agent (also in the store referrer). iOS gets
   * none here: the profile link has its own single-use token, and the profile carries a fresh one.
   */
  enrollmentToken?: string;
  /** Until when the next step works (the profile link, or the enrollment token). */
  expiresAt: string;
  next: EnrollNextStep;
}

/** The facts a device agent reports at enrollment and check-in. */
export interface DeviceFacts {
  platform: Platform;
  deviceType: string;
  manufacturer: string;
  osVersion: string;
  imei?: string;
  phoneNumber?: string;
  carrier?: string;
}

/** POST /api/agent/enroll */
export interface AgentEnrollRequest {
  enrollmentToken?: string;
  username?: string;
  pin?: string;
  device: DeviceFacts;
  /** How the device is managed (device-actions.md); the actions it allows follow from it. */
  managementMode?: ManagementMode;
  /** The APNs or FCM token wake-ups are sent to. */
  pushToken?: string;
  /** The agent has the secure-apps container (its passcode can be reset from the portal). */
  secureAppsContainer?: boolean;
}

export interface AgentEnrollResponse {
  deviceId: string;
  /** Bearer secret for /api/agent/*: `Authorization: Device <deviceCredential>`. Shown once. */
  deviceCredential: string;
}

/** POST /api/agent/checkin (Authorization: Device <credential>) */
export interface AgentCheckinRequest {
  device: Partial<DeviceFacts>;
  /** The push token the agent got from APNs or FCM, when it changed. */
  pushToken?: string;
  secureAppsContainer?: boolean;
}

export interface AgentCheckinResponse {
  deviceId: string;
  status: DeviceStatus;
  lastCheckInAt: string;
  /** Handed over now (QUEUED → SENT); the agent carries each out and reports its result. */
  commands: AgentCommand[];
  /** The ownership the portal has on record (the agent adjusts what it manages). */
  ownership: Ownership;
  /** When the agent is expected to check in again if no wake-up comes, in seconds. */
  checkInIntervalSeconds: number;
}

// ---- Device actions (issue 11) ----

/** How the device is managed, as the agent reports it at enrollment (device-actions.md). */
export type ManagementMode =
  | 'SUPERVISED'
  | 'DEVICE_ENROLLMENT'
  | 'USER_ENROLLMENT'
  | 'FULLY_MANAGED'
  | 'WORK_PROFILE_COMPANY'
  | 'WORK_PROFILE_PERSONAL';

/**
 * The actions a user can run on a device; each has its own route and role. SECURE_APPS_PASSCODE
 * is no command: it answers a one-time PIN at once (issue 12).
 */
export type DeviceAction =
  | 'LOCK'
  | 'LOST_MODE'
  | 'UNLOCK'
  | 'LOCATE'
  | 'WIPE'
  | 'RETIRE'
  | 'SECURE_APPS_PASSCODE';

/** What a command asks the agent to do (lost mode is turned on and off). */
export type CommandAction =
  | 'LOCK'
  | 'LOST_MODE_ON'
  | 'LOST_MODE_OFF'
  | 'UNLOCK'
  | 'LOCATE'
  | 'WIPE'
  | 'RETIRE'
  | 'INSTALL_CERTIFICATE'
  | 'REMOVE_CERTIFICATE';

/** The certificate an INSTALL_CERTIFICATE or REMOVE_CERTIFICATE command is about. */
export interface CommandCertificate {
  certificateId: string;
  name: string;
  fingerprintSha256: string;
}

export type CommandStatus = 'QUEUED' | 'SENT' | 'DONE' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

/** A message and a number for the lock screen (lock and lost mode). */
export interface LockScreen {
  message?: string;
  phoneNumber?: string;
}

export interface Position {
  latitude: number;
  longitude: number;
  /** Metres. */
  accuracy: number;
  /** ISO time the device measured it. */
  at: string;
}

export interface CommandSummary {
  commandId: string;
  action: CommandAction;
  status: CommandStatus;
  createdAt: string;
  /** Not picked up by then, it becomes EXPIRED. */
  expiresAt: string;
  sentAt: string | null;
  completedAt: string | null;
  lockScreen: LockScreen | null;
  /** The agent's error, for FAILED. */
  error: string | null;
  /** LOCATE's result. */
  position: Position | null;
  /** INSTALL_CERTIFICATE, REMOVE_CERTIFICATE. */
  certificate: CommandCertificate | null;
  /** Still QUEUED: the user may cancel it. */
  canCancel: boolean;
}

/** Why an action is unavailable: a stable code and one plain sentence. */
export interface ActionReason {
  code:
    | 'ROLE_REQUIRED'
    | 'NOT_ACTIVE'
    | 'NOT_SUPPORTED'
    | 'POLICY'
    | 'ALREADY_WAITING'
    | 'NOT_IN_LOST_MODE'
    | 'IN_LOST_MODE';
  message: string;
}

export interface ActionAvailability {
  action: DeviceAction;
  available: boolean;
  /** When not available. */
  reason: ActionReason | null;
  /** Wipe, retire: a sign-in within the last 5 minutes is needed. */
  needsRecentSignIn: boolean;
  /** What it will do to this device, said before it runs (wipe, retire). */
  consequence: string | null;
}

/** GET /api/devices/{deviceId} */
export interface DeviceDetailResponse {
  device: DeviceSummary & {
    managementMode: ManagementMode | null;
    /** Lost mode is on (what the lock screen shows). */
    lostMode: (LockScreen & { since: string }) | null;
    /** The last position a locate reported. */
    lastPosition: Position | null;
    /** When the next scheduled check-in is due (without a wake-up). */
    nextCheckInDueAt: string | null;
    /** The agent reported the secure-apps container (a passcode can be reset). */
    secureAppsContainer: boolean;
  };
  /** Changing Employee ↔ Company: whether this user may, and why not. */
  ownershipChange: { allowed: boolean; reason: string | null; needsRecentSignIn: true };
  /** One entry for every action the user's roles include; the others are not listed. */
  actions: ActionAvailability[];
  /** Waiting first (QUEUED, SENT), then recent ones, newest first. */
  commands: CommandSummary[];
}

/** POST /api/devices/{deviceId}/lock, POST …/lost-mode: body; unlock, locate, wipe, retire take none. */
export type LockRequest = LockScreen;

/** 202 from an action route: the command queued (or the one already waiting). */
export interface CommandResponse {
  command: CommandSummary;
}

/** A command as the agent receives it at check-in. */
export interface AgentCommand {
  commandId: string;
  action: CommandAction;
  /** LOCK and LOST_MODE_ON: what the lock screen shows. */
  lockScreen: LockScreen | null;
  /** INSTALL_CERTIFICATE: fetch it from POST /api/agent/certificates/{id}; REMOVE_CERTIFICATE: remove it. */
  certificate?: CommandCertificate;
}

/** POST /api/agent/commands/{commandId}/result */
export interface AgentCommandResultRequest {
  status: 'DONE' | 'FAILED';
  error?: string;
  position?: Position;
}

export interface ActivityEvent {
  id: string;
  at: string;
  deviceId: string;
  /** e.g. REGISTRATION_CREATED, COMMAND_QUEUED, COMMAND_DONE. */
  action: string;
  result: 'SUCCESS' | 'FAILURE';
  /** One line a person reads, e.g. "Lock sent to the device". */
  summary: string;
  /** Who did it: the user, the device, the portal. */
  actor: 'USER' | 'DEVICE' | 'PORTAL';
}

/** GET /api/activity, GET /api/devices/{deviceId}/activity: newest first. */
export interface ActivityResponse {
  events: ActivityEvent[];
  /** Opaque; pass as ?cursor= for the next page; null at the end. */
  nextCursor: string | null;
}

// ---- Ownership, secure-apps passcode, derived credential (issue 12) ----

/** PUT /api/devices/{deviceId}/ownership: the version is the device's as the page last read it. */
export interface OwnershipRequest {
  ownership: Ownership;
  version: number;
}

/**
 * PUT /api/devices/{deviceId}/name: the user's own name for the device (up to 40 characters,
 * trimmed; empty gives it back its model's name). The last rename wins; a check-in at the same
 * moment never makes it fail.
 */
export interface RenameRequest {
  name: string;
}

/** POST /api/devices/{deviceId}/secure-apps-passcode (201): shown once, never again. */
export interface SecureAppsPasscodeResponse {
  pin: string;
  expiresAt: string;
}

/** POST /api/agent/secure-apps-passcode/verify (device credential). */
export interface SecureAppsVerifyRequest {
  username: string;
  pin: string;
}

export interface SecureAppsVerifyResponse {
  verified: true;
}

/** POST /api/devices/{deviceId}/derived-credential: where to send the browser. */
export interface DerivedCredentialStart {
  /** The administrator's Entrust self-service URL with the state and the portal's return address. */
  redirectUrl: string;
  expiresAt: string;
}

/** POST /api/derived-credential/complete: what the portal's return page read from Entrust's redirect. */
export interface DerivedCredentialComplete {
  state: string;
  result: 'SUCCESS' | 'FAILURE';
  /** The name the user gave the credential at Entrust. */
  credentialName?: string;
}

export interface DerivedCredentialCompleted {
  deviceId: string;
  status: 'REQUESTED' | 'FAILED';
}

/** GET /api/admin/settings: the current settings (read fresh) and what the page needs to edit them. */
export interface AdminSettingsResponse {
  settings: PortalSettings;
  version: number;
  roles: Role[];
  /** The variables invitation templates may use, e.g. {{goUrl}}. */
  templateVariables: string[];
  defaults: PortalSettings;
}

/** PUT /api/admin/settings: only the fields that changed, on the version read. */
export interface AdminSettingsRequest {
  version: number;
  changes: Record<string, unknown>;
}

export interface AdminSettingsSavedResponse {
  settings: PortalSettings;
  version: number;
  /** The paths that changed, e.g. ["registrationMethods.qr"]. */
  changed: string[];
}

/** error.details of a 400 SETTINGS_INVALID: one message per wrong field. */
export interface SettingsFieldIssues {
  fields: { path: string; message: string }[];
}

/** error.details of a 409 SETTINGS_CHANGED: the current settings and what differs from what was sent. */
export interface SettingsConflict {
  settings: PortalSettings;
  version: number;
  changed: string[];
}

// ---- Certificates the user uploads (issue 13.3) ----

/** The file formats the portal reads. */
export type CertificateFormat = 'PEM' | 'DER' | 'PKCS12';

/** What the certificate itself says, as read from the file. */
export interface CertificateFacts {
  /** The subject's common name (or the whole subject), what the list shows first. */
  name: string;
  /** RFC 2253-style, e.g. "CN=Alice Example, O=Example Corp". */
  subject: string;
  issuer: string;
  serialNumber: string;
  validFrom: string;
  validTo: string;
  /** Upper-case hex pairs joined by colons, as certificate viewers show it. */
  fingerprintSha256: string;
  /** Key usage bits, e.g. "Digital signature", then extended key usage, e.g. "Email protection". */
  keyUsage: string[];
}

/** One certificate in GET /api/certificates. Never the private key, never the file's password. */
export interface CertificateSummary extends CertificateFacts {
  certificateId: string;
  fileName: string;
  format: CertificateFormat;
  /**
   * Where it stands now: EXPIRES_SOON within 30 days of validTo (time to ask for a new one and
   * Replace), EXPIRED after it (devices stop accepting it); with the whole days left.
   */
  expiry: { state: 'VALID' | 'EXPIRES_SOON' | 'EXPIRED'; daysLeft: number };
  /** The PKCS#12 held a private key (kept encrypted; delivered to devices only). */
  hasPrivateKey: boolean;
  /** Further certificates of the chain the file carried. */
  chainLength: number;
  uploadedAt: string;
  /** Set when a newer file replaced an earlier one under the same id. */
  replacedAt: string | null;
  /** Where it is on the user's Active devices. */
  deliveries: CertificateDelivery[];
}

export interface CertificateDelivery {
  deviceId: string;
  deviceName: string;
  /** WAITING: queued for the next check-in; SENT: the device has it on its way; INSTALLED; FAILED. */
  status: 'WAITING' | 'SENT' | 'INSTALLED' | 'FAILED';
  at: string;
  error: string | null;
}

/** GET /api/certificates */
export interface CertificateListResponse {
  certificates: CertificateSummary[];
  /** The most a user may keep, and the largest file taken, in bytes. */
  limits: { maxCertificates: number; maxFileBytes: number };
}

/**
 * POST /api/certificates: a new certificate, or with `replaces` a newer file for one already listed
 * (it keeps its id and goes to the devices again).
 */
export interface CertificateUploadRequest {
  fileName: string;
  /** The file's bytes, base64. PEM text, DER, or PKCS#12 (.p12, .pfx). */
  content: string;
  /** PKCS#12 only: checked, never stored. */
  password?: string;
  replaces?: string;
}

/** 201 (new) or 200 (replaced). */
export interface CertificateUploadResponse {
  certificate: CertificateSummary;
}

/** POST /api/agent/certificates/{certificateId}: the device's one-off X25519 public key (SPKI DER, base64). */
export interface AgentCertificateRequest {
  devicePublicKey: string;
}

/**
 * The certificate for the agent to install. The private key travels sealed to the key the device
 * sent (X25519, HKDF-SHA-256, AES-256-GCM): the response never holds it in the clear.
 */
export interface AgentCertificateResponse {
  certificateId: string;
  fingerprintSha256: string;
  /** DER, base64. */
  certificate: string;
  chain: string[];
  privateKey: SealedForDevice | null;
}

export interface SealedForDevice {
  /** The portal's one-off X25519 public key, SPKI DER, base64. */
  ephemeralPublicKey: string;
  salt: string;
  iv: string;
  tag: string;
  /** PKCS#8 DER of the private key, encrypted; base64. */
  ciphertext: string;
}
