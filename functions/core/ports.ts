/** The ports use-cases receive, so they are tested without module mocking. */
import type { PortalSettings } from './settings.ts';

export interface Clock {
  now(): Date;
}

export interface RandomSource {
  /** Cryptographically random bytes. */
  bytes(count: number): Uint8Array;
  /** A string of `length` decimal digits, uniformly drawn from a CSPRNG. */
  digits(length: number): string;
  uuid(): string;
}

export interface DirectoryUser {
  sub: string;
  username: string;
  email: string;
  displayName: string;
  phoneNumber: string | null;
  language: string;
  enabled: boolean;
}

export interface UserDirectory {
  /** By user name or email; null when there is no such user. */
  findUser(usernameOrEmail: string): Promise<DirectoryUser | null>;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(email: OutgoingEmail): Promise<void>;
}

export interface SmsSender {
  send(phoneNumber: string, message: string): Promise<void>;
}

export interface SettingsStore {
  getSettings(): Promise<PortalSettings>;
}

/** The signed-in user making a request, from the verified token. */
export interface Caller {
  sub: string;
  username: string;
  groups: string[];
  /** Seconds since the epoch of the last sign-in (auth_time). */
  authTime: number;
}
