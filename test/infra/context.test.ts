import { describe, expect, it } from 'vitest';
import { readPortalContext } from '../../infra/context.ts';

const valid = { adminEmail: 'it-admin@corp.test', sesFromAddress: 'Device Portal <no-reply@mail.corp.test>' };
const read = (context: Record<string, unknown>) => readPortalContext((key) => context[key]);

describe('portal context', () => {
  it('accepts real addresses, a sender with a display name included', () => {
    expect(read(valid)).toEqual(valid);
  });

  it('refuses a missing adminEmail and says which key to set and how', () => {
    expect(() => read({ sesFromAddress: valid.sesFromAddress })).toThrow(
      /adminEmail is missing: set it in cdk.json "context" or pass -c adminEmail=/,
    );
  });

  it('refuses the example.com placeholders of both keys in one message', () => {
    let message = '';
    try {
      read({ adminEmail: 'admin@example.com', sesFromAddress: 'no-reply@mail.example.com' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/adminEmail is the placeholder "admin@example.com"/);
    expect(message).toMatch(/sesFromAddress is the placeholder "no-reply@mail.example.com"/);
  });

  it('refuses a sender that is not an email address', () => {
    expect(() => read({ ...valid, sesFromAddress: 'Device Portal' })).toThrow(
      /sesFromAddress must be an email/,
    );
  });

  it('passes the optional keys through when set', () => {
    expect(read({ ...valid, alarmEmail: 'ops@corp.test' }).alarmEmail).toBe('ops@corp.test');
  });

  it('refuses a portal domain without its certificate', () => {
    expect(() => read({ ...valid, portalDomain: 'portal.corp.test' })).toThrow(
      /portalDomain and portalCertificateArn go together/,
    );
  });

  it('refuses a certificate outside us-east-1', () => {
    expect(() =>
      read({
        ...valid,
        portalDomain: 'portal.corp.test',
        portalCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      }),
    ).toThrow(/us-east-1/);
  });
});
