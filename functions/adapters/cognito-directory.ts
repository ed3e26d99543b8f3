import {
  AdminGetUserCommand,
  AdminInitiateAuthCommand,
  AdminUpdateUserAttributesCommand,
  type AttributeType,
  CognitoIdentityProviderClient,
  UserNotFoundException,
} from '@aws-sdk/client-cognito-identity-provider';
import type { DirectoryUser, ProfileChange, UserDirectory } from '../core/ports.ts';
import { once, requiredEnv } from './system.ts';

function attribute(attributes: AttributeType[] | undefined, name: string): string | undefined {
  return attributes?.find((a) => a.Name === name)?.Value;
}

export function toDirectoryUser(
  username: string,
  attributes: AttributeType[] | undefined,
  enabled: boolean | undefined,
  mfaSettings?: readonly string[],
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
    mfaEnabled: mfaSettings?.includes('SOFTWARE_TOKEN_MFA') ?? false,
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
      // Only a completed sign-in passes (issue 7.8). Any challenge fails closed: a second factor, MFA
      // set-up, or a new password still to choose (a temporary password is no account in use yet).
      // cognito-local's AdminInitiateAuth asks no second factor at all, so the /go use-case also
      // refuses the password of a user with one (DirectoryUser.mfaEnabled).
      return Boolean(result.AuthenticationResult) && !result.ChallengeName;
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
      return toDirectoryUser(
        user.Username ?? usernameOrEmail,
        user.UserAttributes,
        user.Enabled,
        user.UserMFASettingList,
      );
    } catch (error) {
      // The pool signs in by email, so the email is accepted wherever a user name is; a name
      // Cognito cannot even parse names no user either.
      if (error instanceof UserNotFoundException || (error as Error).name === 'InvalidParameterException') {
        return null;
      }
      throw error;
    }
  }

  async updateAttributes(username: string, change: ProfileChange): Promise<void> {
    const attributes = Object.entries(change)
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([Name, Value]) => ({ Name, Value }));
    if (attributes.length === 0) return;
    await this.client.send(
      new AdminUpdateUserAttributesCommand({
        UserPoolId: this.userPoolId,
        Username: username,
        UserAttributes: attributes,
      }),
    );
  }
}

// Pure: a bundle whose handler never calls it leaves the client out.
export const userDirectory = /* @__PURE__ */ once(
  () =>
    new CognitoDirectory(
      new CognitoIdentityProviderClient({}),
      requiredEnv('USER_POOL_ID'),
      requiredEnv('USER_POOL_CLIENT_ID'),
    ),
);
