/**
 * Request schemas (zod/mini keeps bundles small). Objects are strict: unknown fields are refused.
 * Every identifier a client sends (ids in paths, user names, tokens, credentials) is checked for
 * shape and length here, before any AWS call sees it.
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini ships without messages; English ones say what to fix ("expected string, received number").
z.config(en());

export const platform = z.enum(['IOS', 'ANDROID']);
export const ownership = z.enum(['EMPLOYEE', 'COMPANY']);
export const deliveryChannels = z.array(z.enum(['EMAIL', 'SMS'])).check(
  z.maxLength(2),
  z.refine((channels) => new Set(channels).size === channels.length, 'name each channel once'),
);
export const e164 = z
  .string()
  .check(z.regex(/^\+[1-9]\d{6,14}$/, 'use international format with country code, e.g. +15551234567'));

const text = (max: number) => z.string().check(z.trim(), z.maxLength(max));
/** What Cognito accepts as a user name (1–128 printable characters, no spaces). */
export const userName = z
  .string()
  .check(z.trim(), z.regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u, 'enter your email address'));
const digits = z.string().check(z.regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits'));
/** A 128-bit one-time token, base64url (22 characters; up to 64 accepted for older kinds). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
export const token = z.string().check(z.regex(TOKEN_PATTERN, 'not a valid token'));

/** The ids the portal hands out are UUIDs; anything else names nothing. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuid = z.string().check(z.regex(UUID_PATTERN, 'not an id this portal issued'));

export const createRegistrationBody = z.strictObject({
  platform,
  method: z.enum(['INVITATION', 'PIN', 'QR']),
  delivery: deliveryChannels,
  phoneNumber: z.optional(e164),
  ownership: z.optional(ownership),
});

export const resendRegistrationBody = z.strictObject({
  delivery: z.optional(deliveryChannels),
  phoneNumber: z.optional(e164),
});

export const enrollVerifyBody = z.strictObject({
  username: userName,
  pin: z.optional(digits),
  password: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  qrToken: z.optional(token),
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

export const agentEnrollBody = z.strictObject({
  enrollmentToken: z.optional(token),
  username: z.optional(userName),
  pin: z.optional(digits),
  device: deviceFacts,
});

export const agentCheckinBody = z.strictObject({
  device: z.partial(z.strictObject(facts)),
});

/** Path parameters of the routes under /api/registrations/{deviceId} and /api/devices/{deviceId}. */
export const devicePath = z.strictObject({ deviceId: uuid });

/** GET /api/enroll/profile?token=…: the short, single-use profile token /go handed out. */
export const profileQuery = z.strictObject({ token });

/** No query parameters; any sent are refused rather than silently ignored. */
export const noQuery = z.strictObject({});
