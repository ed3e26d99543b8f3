/**
 * Request schemas (zod/mini keeps bundles small). Objects are strict: unknown fields are refused.
 * Every identifier a client sends (ids in paths, user names, tokens, credentials) is checked for
 * shape and length here, before any AWS call sees it.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { DEVICE_NAME_MAX_LENGTH } from '../core/device-name.ts';

// zod/mini ships without messages; English ones say what to fix ("expected string, received number").
z.config(en());

// Messages are sentences a person can act on: they may reach a screen as they are.
export const platform = z.enum(['IOS', 'ANDROID'], { error: 'Choose iPhone/iPad or Android.' });
export const ownership = z.enum(['EMPLOYEE', 'COMPANY'], { error: 'Choose Employee or Company ownership.' });
export const deliveryChannels = z
  .array(z.enum(['EMAIL', 'SMS'], { error: 'Send the invitation by email, SMS or both.' }))
  .check(
    z.maxLength(2, 'Send the invitation by email, SMS or both.'),
    z.refine((channels) => new Set(channels).size === channels.length, 'Name each channel once.'),
  );
/** A phone number as typed (normalised to E.164 by the use-case, with phoneCountry when it has no +). */
export const typedPhone = z.string().check(z.maxLength(40, 'A phone number has at most 40 characters.'));
export const country = z.string().check(z.regex(/^[A-Z]{2}$/, 'Choose the country of the phone number.'));
/** The user's own name for a registration, e.g. "Work iPhone". */
export const registrationName = z
  .string()
  .check(
    z.trim(),
    z.maxLength(
      DEVICE_NAME_MAX_LENGTH,
      `Keep the name to ${DEVICE_NAME_MAX_LENGTH} characters, e.g. "Work iPhone".`,
    ),
  );
export const e164 = z
  .string()
  .check(z.regex(/^\+[1-9]\d{6,14}$/, 'use international format with country code, e.g. +15551234567'));

const text = (max: number) => z.string().check(z.trim(), z.maxLength(max));
/** What Cognito accepts as a user name (1–128 printable characters, no spaces). */
export const userName = z
  .string()
  .check(z.trim(), z.regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u, 'Enter your work email address.'));
const digits = z.string().check(z.regex(/^\d{4,12}$/, 'A registration PIN is 4 to 12 digits.'));
/** A 128-bit one-time token, base64url (22 characters; up to 64 accepted for older kinds). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
export const token = z.string().check(z.regex(TOKEN_PATTERN, 'not a valid token'));

/** The ids the portal hands out are UUIDs; anything else names nothing. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = z.string().check(z.regex(UUID_PATTERN, 'That is not an id this portal issued.'));

export const createRegistrationBody = z.strictObject({
  platform,
  method: z.enum(['INVITATION', 'PIN', 'QR'], { error: 'Choose invitation, registration PIN or QR code.' }),
  delivery: deliveryChannels,
  phoneNumber: z.optional(typedPhone),
  phoneCountry: z.optional(country),
  ownership: z.optional(ownership),
  name: z.optional(registrationName),
});

export const resendRegistrationBody = z.strictObject({
  delivery: z.optional(deliveryChannels),
  phoneNumber: z.optional(typedPhone),
  phoneCountry: z.optional(country),
});

export const enrollVerifyBody = z.strictObject({
  username: userName,
  pin: z.optional(digits),
  password: z.optional(z.string().check(z.minLength(1, 'Enter your password.'), z.maxLength(256))),
  /** Any text: a damaged QR token gets the QR code's own message, not a schema's. */
  qrToken: z.optional(z.string().check(z.maxLength(200))),
  /** The phone's platform, as the /go page sees it: a registration for the other one keeps its PIN. */
  platform: z.optional(platform),
  /** Which registration, when the password would fit several for this phone. */
  deviceId: z.optional(uuid),
});

const facts = {
  platform,
  deviceType: text(100).check(z.minLength(1)),
  manufacturer: text(100).check(z.minLength(1)),
  osVersion: text(40).check(z.minLength(1)),
  imei: z.optional(z.string().check(z.regex(/^\d{14,16}$/, 'an IMEI is 14 to 16 digits'))),
  phoneNumber: z.optional(e164),
  carrier: z.optional(text(100)),
};

export const deviceFacts = z.strictObject(facts);

export const managementMode = z.enum(
  [
    'SUPERVISED',
    'DEVICE_ENROLLMENT',
    'USER_ENROLLMENT',
    'FULLY_MANAGED',
    'WORK_PROFILE_COMPANY',
    'WORK_PROFILE_PERSONAL',
  ],
  { error: 'managementMode is one of the modes in device-actions.md.' },
);
/** An APNs or FCM token (or, locally, the simulator's wake-up address). */
const pushToken = z.string().check(z.minLength(8), z.maxLength(4096));

export const agentEnrollBody = z.strictObject({
  enrollmentToken: z.optional(token),
  username: z.optional(userName),
  pin: z.optional(digits),
  device: deviceFacts,
  managementMode: z.optional(managementMode),
  pushToken: z.optional(pushToken),
  secureAppsContainer: z.optional(z.boolean()),
});

export const agentCheckinBody = z.strictObject({
  device: z.partial(z.strictObject(facts)),
  pushToken: z.optional(pushToken),
  secureAppsContainer: z.optional(z.boolean()),
});

export const ownershipBody = z.strictObject({
  ownership,
  version: z.int().check(z.gte(0), z.lte(1_000_000_000)),
});

/** The user's own name for a device; empty gives it back its model's name. */
export const renameBody = z.strictObject({ name: registrationName });

export const secureAppsVerifyBody = z.strictObject({
  username: userName,
  pin: digits,
});

export const derivedCredentialCompleteBody = z.strictObject({
  state: z.string().check(z.maxLength(200)),
  result: z.enum(['SUCCESS', 'FAILURE'], { error: 'The result is SUCCESS or FAILURE.' }),
  credentialName: z.optional(z.string().check(z.trim(), z.maxLength(100))),
});

/** What the lock screen shows (lock: both optional; lost mode: the message is required). */
const lockMessage = z
  .string()
  .check(z.trim(), z.maxLength(200, 'Keep the lock-screen message to 200 characters.'));
const lockPhone = z.string().check(z.trim(), z.maxLength(40, 'A phone number has at most 40 characters.'));
export const lockBody = z.strictObject({
  message: z.optional(lockMessage),
  phoneNumber: z.optional(lockPhone),
});
export const lostModeBody = z.strictObject({
  message: lockMessage.check(z.minLength(1, 'Write the message the lock screen shows, e.g. whom to call.')),
  phoneNumber: z.optional(lockPhone),
});

export const commandPath = z.strictObject({ deviceId: uuid, commandId: uuid });

export const agentCommandPath = z.strictObject({ commandId: uuid });

export const commandResultBody = z.strictObject({
  status: z.enum(['DONE', 'FAILED'], { error: 'The status is DONE or FAILED.' }),
  error: z.optional(z.string().check(z.maxLength(500))),
  position: z.optional(
    z.strictObject({
      latitude: z.number().check(z.gte(-90), z.lte(90)),
      longitude: z.number().check(z.gte(-180), z.lte(180)),
      accuracy: z.number().check(z.gte(0), z.lte(100_000)),
      at: z.iso.datetime(),
    }),
  ),
});

/** ?cursor= of a page of activity; opaque to the client. */
export const activityQuery = z.strictObject({
  cursor: z.optional(z.string().check(z.maxLength(1000))),
});

/** Path parameters of the routes under /api/registrations/{deviceId} and /api/devices/{deviceId}. */
export const devicePath = z.strictObject({ deviceId: uuid });

/** GET /api/enroll/profile?token=…: the short, single-use profile token /go handed out. */
export const profileQuery = z.strictObject({ token });

/** No query parameters; any sent are refused rather than silently ignored. */
export const noQuery = z.strictObject({});

/** PUT /api/admin/settings: the version read and the fields that changed (checked by settingsSchema). */
export const adminSettingsBody = z.strictObject({
  version: z.int().check(z.gte(0), z.lte(1_000_000_000)),
  changes: z.record(z.string().check(z.maxLength(128)), z.unknown()),
});

/** PATCH /api/me: what the user may change of their own profile; each field optional. */
export const updateMeBody = z.strictObject({
  displayName: z.optional(
    z
      .string()
      .check(
        z.trim(),
        z.minLength(1, 'Enter your name.'),
        z.maxLength(100, 'Keep your name to 100 characters.'),
      ),
  ),
  /** As typed; normalised to E.164 by the use-case, with phoneCountry when it has no +. */
  phoneNumber: z.optional(typedPhone),
  phoneCountry: z.optional(country),
  language: z.optional(
    z.string().check(z.regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'Choose a language such as en or de-CH.')),
  ),
});

/** Path parameters of /api/certificates/{certificateId} and /api/agent/certificates/{certificateId}. */
export const certificatePath = z.strictObject({ certificateId: uuid });

/**
 * POST /api/certificates. The body cap (route maxBodyBytes) is well above the file cap, so a file
 * that is too big is told so by the use-case, with its size, rather than by a generic 413.
 */
export const certificateUploadBody = z.strictObject({
  fileName: z
    .string()
    .check(
      z.trim(),
      z.minLength(1, 'Choose the certificate file.'),
      z.maxLength(200, 'Rename the file to at most 200 characters.'),
    ),
  content: z
    .string()
    .check(
      z.minLength(1, 'The file is empty: choose the certificate file again.'),
      z.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Send the file as base64.'),
    ),
  password: z.optional(z.string().check(z.maxLength(256, 'A file password has at most 256 characters.'))),
  replaces: z.optional(uuid),
});

/** POST /api/agent/certificates/{certificateId}: the device's one-off X25519 public key, SPKI DER, base64. */
export const agentCertificateBody = z.strictObject({
  devicePublicKey: z
    .string()
    .check(z.regex(/^[A-Za-z0-9+/]{40,120}={0,2}$/, 'Send an X25519 public key (SPKI DER, base64).')),
});
