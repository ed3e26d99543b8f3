import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { sesSenderIdentityArns } from '../../infra/portal-function.ts';

describe('SES sender identity', () => {
  const stack = new Stack(new App(), 'Identity', { env: { account: '111122223333', region: 'eu-west-1' } });
  const arns = (sender: string) => sesSenderIdentityArns(stack, sender).map((arn) => stack.resolve(arn));
  const expected = [
    {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-west-1:111122223333:identity/mail.example.com'],
      ],
    },
    {
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ses:eu-west-1:111122223333:identity/no-reply@mail.example.com'],
      ],
    },
  ];

  it('names the domain and the address of a plain sender', () => {
    expect(arns('no-reply@mail.example.com')).toEqual(expected);
  });

  it('takes the address out of a sender with a display name', () => {
    expect(arns('Device Portal <no-reply@mail.example.com>')).toEqual(expected);
  });

  it('refuses a sender that is not an email address', () => {
    expect(() => sesSenderIdentityArns(stack, 'Device Portal')).toThrow(/email address/);
  });
});
