import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  type AttributeType,
  CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import type { DirectoryUser, UserDirectory } from '../core/ports.ts';
import { once, requiredEnv } from './system.ts';

function attribute(attributes: AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

export function toDirectoryUser(
  username: string,
  attributes: AttributeType[] | undefined,
  enabled: boolean | undefined,
): DirectoryUser {
  const email = attribute(attributes, 'email') ?? username;
  return {
    sub: attribute(attributes, 'sub') ?? username,
    username,
    email,
    displayName: attribute(attributes, 'name') ?? email.split('@')[0] ?? email,
    phoneNumber: attribute(attributes, 'phone_number') ?? null,
    language: attribute(attributes, 'locale') ?? '',
    timeZone: attribute(attributes, 'zoneinfo') ?? null,
    emailVerified: attribute(attributes, 'email_verified') === 'true',
    enabled: enabled ?? true,
  };
}

export class CognitoDirectory implements UserDirectory {
  constructor(
    private readonly client: CognitoIdentityProviderClient,
    private readonly userPoolId: string,
    private readonly clientId: string,
  ) {}

  async checkPassword(username: string, password: string): Promise<boolean> {
    try {
      const result = await this.client.send(
        new AdminInitiateAuthCommand({
          UserPoolId: this.userPoolId,
          ClientId: this.clientId,
          AuthFlow: 'ADMIN_USER_PASSWORD_AUTH',
          AuthParameters: { USERNAME: username, PASSWORD: password },
        }),
      );
      // A challenge (new password, MFA) means the password was right but sign-in is not complete.
      return Boolean(result.AuthenticationResult ?? result.ChallengeName);
    } catch (error) {
      const name = (error as Error).name;
      if (
        [
          'NotAuthorizedException',
          // cognito-local's answer to a wrong password
          'InvalidPasswordException',
          'UserNotFoundException',
          'PasswordResetRequiredException',
          'UserNotConfirmedException',
        ].includes(name)
      ) {
        return false;
      }
      throw error;
    }
  }

  async findUser(usernameOrEmail: string): Promise<DirectoryUser | null> {
    try {
      const user = await this.client.send(
        new AdminGetUserCommand({ UserPoolId: this.userPoolId, Username: usernameOrEmail }),
      );
      return toDirectoryUser(user.Username ?? usernameOrEmail, user.UserAttributes, user.Enabled);
    } catch (error) {
      // The pool signs in by email, so the email is accepted wherever a user name is; a name
      // Cognito cannot even parse names no user either.
      if (error instanceof UserNotFoundException || (error as Error).name === 'InvalidParameterException') {
        return null;
      }
      throw error;
    }
  }
}

export const userDirectory = once(
  () =>
    new CognitoDirectory(
      new CognitoIdentityProviderClient({}),
      requiredEnv('USER_POOL_ID'),
      requiredEnv('USER_POOL_CLIENT_ID'),
    ),
);
