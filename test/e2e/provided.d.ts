/** What test/e2e/global-setup.ts provides to the browser tests (read with `inject`). */
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local portal the browser opens, e.g. http://127.0.0.1:3700. */
    baseUrl: string;
    /** The local outbox (mail and SMS the portal sent), as JSON: { emails, sms }. */
    outboxJsonUrl: string;
  }
}
