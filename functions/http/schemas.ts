/** Request schemas (zod/mini keeps bundles small). Objects are strict: unknown fields are refused. */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { PortalError } from '../core/errors.ts';

// zod/mini ships without messages; English ones say what to fix ("expected string, received number").
z.config(en());

export const platform = z.enum(['IOS', 'ANDROID']);
export const ownership = z.enum(['EMPLOYEE', 'COMPANY']);
export const deliveryChannels = z
  .array(z.enum(['EMAIL', 'SMS']))
  .check(z.refine((channels) => new Set(channels).size === channels.length, 'name each channel once'));
export const e164 = z
  .string()
  .check(z.regex(/^\+[1-9]\d{6,14}$/, 'use international format with country code, e.g. +15551234567'));

const text = (max: number) => z.string().check(z.trim(), z.maxLength(max));
/** What Cognito accepts as a user name (1–128 printable characters, no spaces). */
const userName = z
  .string()
  .check(z.trim(), z.regex(/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u, 'enter your email address'));
const digits = z.string().check(z.regex(/^\d{4,12}$/, 'a PIN is 4 to 12 digits'));
const token = z.string().check(z.regex(/^[A-Za-z0-9_-]{16,64}$/, 'not a valid token'));

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

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A device id from the path; anything else cannot be the caller's device, so it is a 404. */
export function deviceIdParam(pathParameters: Record<string, string>): string {
  const id = pathParameters.deviceId ?? '';
  if (!ID.test(id))
    throw new PortalError('NOT_FOUND', 'DEVICE_NOT_FOUND', 'There is no such device in your list.');
  return id;
}
