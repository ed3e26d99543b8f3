/** Where a registration stands, as the server tells the portal (registrationStage, toDeviceSummary). */
import { describe, expect, it } from 'vitest';
import { type DeviceRecord, registrationStage, toDeviceSummary } from '../../functions/core/device.ts';
import { MAX_PIN_TRIES } from '../../functions/core/one-time-pin.ts';
import { NOW } from './fixtures.ts';
import { knownPin, minutesAfterNow, pendingRegistration, pinRegistration } from './portal-mocks.ts';

/** Verified at /go a minute ago: PIN and registration used, the enrollment step open for 9 more minutes. */
function verified(enrollmentExpiresAt = minutesAfterNow(9)): DeviceRecord {
  return pendingRegistration({
    registration: pinRegistration({
      pin: knownPin({ tries: 1, usedAt: minutesAfterNow(-1) }),
      usedAt: minutesAfterNow(-1),
      enrollmentTokenHash: 'e0e0',
      enrollmentExpiresAt,
    }),
  });
}

const locked = () =>
  pendingRegistration({ registration: pinRegistration({ pin: knownPin({ tries: MAX_PIN_TRIES }) }) });

const expired = () =>
  pendingRegistration({
    registration: pinRegistration({
      expiresAt: minutesAfterNow(-1),
      pin: knownPin({ expiresAt: minutesAfterNow(-1) }),
    }),
  });

describe('registrationStage', () => {
  it('is EXPIRED once /go used the PIN and the step it handed out lapsed, before the registration would expire', () => {
    const lapsed = verified(minutesAfterNow(-1));

    expect(registrationStage(lapsed, NOW)).toBe('EXPIRED');
    expect(toDeviceSummary(lapsed, NOW)).toMatchObject({
      status: 'EXPIRED',
      registration: { canResend: true },
    });
  });

  it('is WAITING_FOR_DEVICE for a live registration whose PIN has tries left', () => {
    expect(registrationStage(pendingRegistration(), NOW)).toBe('WAITING_FOR_DEVICE');
  });

  it('is WAITING_FOR_DEVICE with one try left', () => {
    const device = pendingRegistration({
      registration: pinRegistration({ pin: knownPin({ tries: MAX_PIN_TRIES - 1 }) }),
    });

    expect(registrationStage(device, NOW)).toBe('WAITING_FOR_DEVICE');
  });

  it('is WAITING_FOR_DEVICE for an invitation without a PIN', () => {
    const device = pendingRegistration({
      registration: { method: 'INVITATION', expiresAt: minutesAfterNow(55), deliveries: [] },
    });

    expect(registrationStage(device, NOW)).toBe('WAITING_FOR_DEVICE');
  });

  it(`is PIN_LOCKED once ${MAX_PIN_TRIES} tries of its PIN are taken`, () => {
    expect(registrationStage(locked(), NOW)).toBe('PIN_LOCKED');
  });

  it('is VERIFIED after /go while the enrollment step still works', () => {
    expect(registrationStage(verified(), NOW)).toBe('VERIFIED');
  });

  it('stays VERIFIED past the registration expiry while the enrollment step still works', () => {
    const device = verified(minutesAfterNow(9));
    if (device.registration) device.registration.expiresAt = minutesAfterNow(-1);

    expect(registrationStage(device, NOW)).toBe('VERIFIED');
  });

  it('is EXPIRED past its expiry', () => {
    expect(registrationStage(expired(), NOW)).toBe('EXPIRED');
  });

  it('is EXPIRED at the very moment of expiry', () => {
    const device = pendingRegistration({ registration: pinRegistration({ expiresAt: NOW.toISOString() }) });

    expect(registrationStage(device, NOW)).toBe('EXPIRED');
  });

  it('is EXPIRED, not PIN_LOCKED, for a locked PIN past the expiry', () => {
    const device = locked();
    if (device.registration) device.registration.expiresAt = minutesAfterNow(-1);

    expect(registrationStage(device, NOW)).toBe('EXPIRED');
  });
});

describe('the registration of a DeviceSummary', () => {
  it.each([
    ['WAITING_FOR_DEVICE', pendingRegistration()],
    ['PIN_LOCKED', locked()],
    ['EXPIRED', expired()],
  ] as const)('offers Resend while %s', (stage, device) => {
    expect(toDeviceSummary(device, NOW).registration).toMatchObject({ stage, canResend: true });
  });

  it('offers no Resend while VERIFIED, and says until when the enrollment step works', () => {
    expect(toDeviceSummary(verified(), NOW).registration).toMatchObject({
      stage: 'VERIFIED',
      canResend: false,
      enrollmentExpiresAt: minutesAfterNow(9),
    });
  });

  it('gives no enrollment expiry outside VERIFIED, even when one is stored', () => {
    const device = verified(minutesAfterNow(-1));

    expect(toDeviceSummary(device, NOW).registration?.enrollmentExpiresAt).toBeNull();
  });
});
