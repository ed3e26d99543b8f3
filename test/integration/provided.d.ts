/** What test/integration/global-setup.ts provides to the integration tests (read with `inject`). */
export {};

declare module 'vitest' {
  export interface ProvidedContext {
    /** The local portal, e.g. http://127.0.0.1:3600 (web, /config.json, /api/*, /_local/*). */
    portalUrl: string;
    userPoolId: string;
    userPoolClientId: string;
    /** cognito-local itself (not the portal's proxy): the issuer of its tokens is `${this}/${userPoolId}`. */
    cognitoEndpoint: string;
    /** DynamoDB Local, for reading or arranging what a test cannot reach through the API. */
    dynamodbEndpoint: string;
    tableName: string;
  }
}
