/**
 * The local portal server: web/dist, /config.json, and /api/* routed from functions/routes.ts.
 * Each API request becomes an HTTP API payload 2.0 event, with JWT claims only after the checks
 * API Gateway's authorizer makes, and is handed to the route's own handler module.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { ApiEvent, ApiResult } from '../../functions/http/api-handler.ts';
import { handlerFile, needsUserToken, type Route, routes } from '../../functions/routes.ts';
import { answerEntrust, ENTRUST_PATH } from './entrust-stand-in.ts';
import type { LocalJwtAuthorizer } from './jwt-authorizer.ts';
import { answerKms, answerSecretsManager, type LocalKms, type LocalSecrets } from './local-secrets.ts';
import { answerSns, type Faults, readEmails, renderOutboxPage, type SmsOutbox } from './outbox.ts';
import { installPermissionGuard, runAs } from './permission-guard.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

/** The same headers CloudFront adds in AWS, so the portal is tried under the same rules. */
export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: https://tile.openstreetmap.org; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'strict-transport-security': 'max-age=63072000; includeSubDomains; preload',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
};

/** API Gateway refuses payloads over 10 MB with 413; handlers apply their own, smaller cap. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

class BodyTooLarge extends Error {}

/**
 * Headers CloudFront sets itself on the way to the API: whatever a client sent under these names
 * is dropped, and the real values are set, as the /api/* behaviour does in AWS.
 */
const CLOUDFRONT_SET_HEADERS = ['x-origin-verify', 'cloudfront-viewer-address', 'x-forwarded-for', 'via'];

export interface LocalServerOptions {
  port: number;
  webDist: string;
  config: { region: string; userPoolId: string; userPoolClientId: string };
  cognitoEndpoint: string;
  sesEndpoint: string;
  authorizer: LocalJwtAuthorizer;
  outbox: SmsOutbox;
  secrets: LocalSecrets;
  /** The certificate key's stand-in (KMS GenerateDataKey, Decrypt). */
  kms: LocalKms;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  paramNames: string[];
}

function compile(route: Route): CompiledRoute {
  const paramNames: string[] = [];
  const source = route.path
    .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
    .replace(/\\?\{(\w+)\+?\\?\}|\{(\w+)\}/g, (_m, a, b) => {
      paramNames.push(a ?? b);
      return '([^/]+)';
    });
  return { route, pattern: new RegExp(`^${source}$`), paramNames };
}

const compiledRoutes = routes.map(compile);

type Handler = (event: ApiEvent, context: Context) => Promise<ApiResult>;
const handlerCache = new Map<string, Promise<Handler>>();

function loadHandler(route: Route): Promise<Handler> {
  const file = handlerFile(route);
  let loaded = handlerCache.get(file);
  if (!loaded) {
    loaded = import(pathToFileURL(join(REPO_ROOT, file)).href).then((m: { handler: Handler }) => m.handler);
    handlerCache.set(file, loaded);
  }
  return loaded;
}

/** A malformed %-escape is the client's mistake: keep it as sent, as API Gateway does, never a 500. */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new BodyTooLarge('too large'));
        request.resume(); // keep reading (and dropping) so the 413 can still be sent
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolveBody(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(JSON.stringify(body));
}

function headerMap(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

function lambdaContext(route: Route): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `local-${route.name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:local-${route.name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/local-${route.name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function serveApi(
  options: LocalServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  body: Buffer,
): Promise<void> {
  const method = request.method ?? 'GET';
  const candidates = compiledRoutes.filter((c) => c.pattern.test(url.pathname));
  const match = candidates.find((c) => c.route.method === method);
  if (!match) {
    // API Gateway answers unknown routes with 404 {"message":"Not Found"}; we keep our error shape.
    sendJson(response, candidates.length > 0 ? 405 : 404, {
      error: { code: 'NOT_FOUND', message: `No API route ${method} ${url.pathname}.` },
    });
    return;
  }
  const headers = headerMap(request);
  let claims: Record<string, string> | null = null;
  if (needsUserToken(match.route)) {
    claims = await options.authorizer.authorize(headers.authorization);
    if (!claims) {
      sendJson(
        response,
        401,
        {
          error: {
            code: 'UNAUTHORIZED',
            message: 'Sign in again: your session is missing, expired or not valid.',
          },
        },
        { 'www-authenticate': 'Bearer' },
      );
      return;
    }
  }
  const values = match.pattern.exec(url.pathname)?.slice(1) ?? [];
  const remote = request.socket.remoteAddress ?? '127.0.0.1';
  const viewerIp = remote.replace(/^::ffff:/, '');
  const forwardedFor = headers['x-forwarded-for'];
  for (const name of CLOUDFRONT_SET_HEADERS) delete headers[name];
  // What CloudFront adds: the origin secret, the viewer's own address, the forwarded chain.
  headers['x-origin-verify'] = options.secrets.originSecret;
  headers['cloudfront-viewer-address'] = `${viewerIp}:${request.socket.remotePort ?? 0}`;
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${viewerIp}` : viewerIp;
  // The origin request carries the API's own Host (AllViewerExceptHostHeader), not the portal's.
  headers.host = 'local.execute-api.localhost';
  const pathParameters = Object.fromEntries(
    match.paramNames.map((name, i) => [name, safeDecode(values[i] ?? '')]),
  );
  const query = Object.fromEntries(url.searchParams.entries());
  const now = new Date();
  const routeKey = `${match.route.method} ${match.route.path}`;
  const event: ApiEvent = {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers: { ...headers, 'x-forwarded-proto': 'https' },
    queryStringParameters: url.search ? query : undefined,
    pathParameters: match.paramNames.length > 0 ? pathParameters : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'local.execute-api.localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        // What API Gateway sees behind CloudFront is an edge address, never the viewer's.
        sourceIp: '198.51.100.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
      ...(claims ? { authorizer: { jwt: { claims } } } : {}),
    },
    body: body.length > 0 ? body.toString('utf8') : undefined,
    isBase64Encoded: false,
  };
  const handler = await loadHandler(match.route);
  const result = await runAs(match.route, () => handler(event, lambdaContext(match.route)));
  const resultHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) resultHeaders[name] = String(value);
  response.writeHead(result.statusCode ?? 200, resultHeaders);
  response.end(
    result.isBase64Encoded && result.body ? Buffer.from(result.body, 'base64') : (result.body ?? ''),
  );
}

/** Cognito's public auth calls only; admin calls never go through the browser-facing proxy. */
const COGNITO_PUBLIC_TARGETS = new Set([
  'AWSCognitoIdentityProviderService.InitiateAuth',
  'AWSCognitoIdentityProviderService.RespondToAuthChallenge',
  'AWSCognitoIdentityProviderService.RevokeToken',
  'AWSCognitoIdentityProviderService.GetUser',
  'AWSCognitoIdentityProviderService.ChangePassword',
  // Account settings: the authenticator app (TOTP) as second factor.
  'AWSCognitoIdentityProviderService.AssociateSoftwareToken',
  'AWSCognitoIdentityProviderService.VerifySoftwareToken',
  'AWSCognitoIdentityProviderService.SetUserMFAPreference',
]);

async function proxyCognito(
  options: LocalServerOptions,
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
) {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (request.method !== 'POST' || !COGNITO_PUBLIC_TARGETS.has(target)) {
    sendJson(response, 400, {
      __type: 'InvalidAction',
      message: `The local Cognito proxy does not forward ${target}`,
    });
    return;
  }
  const upstream = await fetch(options.cognitoEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
    body: new Uint8Array(body),
  });
  response.writeHead(upstream.status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(Buffer.from(await upstream.arrayBuffer()));
}

async function proxySes(
  options: LocalServerOptions,
  faults: Faults,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  body: Buffer,
) {
  if (faults.email) {
    response.writeHead(400, { 'content-type': 'text/xml' });
    response.end(
      `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${faults.email}</Code><Message>Simulated SES failure: ${faults.email}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
    return;
  }
  const path = url.pathname.replace(/^\/_local\/ses/, '') || '/';
  const upstream = await fetch(`${options.sesEndpoint}${path}${url.search}`, {
    method: request.method ?? 'POST',
    headers: {
      'content-type': String(request.headers['content-type'] ?? 'application/x-www-form-urlencoded'),
      // The emulator wants a SigV4 header to be present, as SES does; it does not check it.
      authorization: String(request.headers.authorization ?? ''),
    },
    body: request.method === 'GET' ? undefined : new Uint8Array(body),
  });
  response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/xml' });
  response.end(Buffer.from(await upstream.arrayBuffer()));
}

function serveStatic(options: LocalServerOptions, response: ServerResponse, url: URL): void {
  const requested = normalize(safeDecode(url.pathname)).replace(/^([/\\])+/, '');
  let file = join(options.webDist, requested);
  if (!file.startsWith(options.webDist) || !existsSync(file) || statSync(file).isDirectory()) {
    // SPA fallback, as CloudFront does: client routes such as /go load the app.
    if (extname(requested) !== '') {
      response.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS });
      response.end('Not found');
      return;
    }
    file = join(options.webDist, 'index.html');
  }
  const isAsset = requested.startsWith('assets/');
  response.writeHead(200, {
    'content-type': MIME[extname(file)] ?? 'application/octet-stream',
    'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  response.end(readFileSync(file));
}

export function createLocalServer(options: LocalServerOptions): { server: Server; faults: Faults } {
  const faults: Faults = { sms: null, email: null };
  installPermissionGuard((line) => console.error(line));
  if (!existsSync(join(options.webDist, 'index.html'))) {
    throw new Error(`${options.webDist}/index.html is missing: run npm run build:web first.`);
  }
  const server = createServer((request, response) => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', `http://${request.headers.host ?? `127.0.0.1:${options.port}`}`);
    } catch {
      // A Host or path no URL parser accepts: the client's mistake, never a crash of the server.
      sendJson(response, 400, {
        error: { code: 'BAD_REQUEST', message: 'The request line or Host header is malformed.' },
      });
      return;
    }
    const handle = async () => {
      let body: Buffer;
      try {
        body =
          request.method === 'GET' || request.method === 'HEAD' ? Buffer.alloc(0) : await readBody(request);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        return sendJson(response, 413, {
          error: { code: 'BODY_TOO_LARGE', message: 'The request body is over 10 MB.' },
        });
      }
      if (url.pathname.startsWith('/api/')) return serveApi(options, request, response, url, body);
      if (url.pathname.startsWith('/_local/secretsmanager')) {
        const answer = answerSecretsManager(
          String(request.headers['x-amz-target'] ?? ''),
          body.toString('utf8'),
          options.secrets,
        );
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer.json));
        return;
      }
      if (url.pathname.startsWith('/_local/kms')) {
        const answer = answerKms(
          String(request.headers['x-amz-target'] ?? ''),
          body.toString('utf8'),
          options.kms,
        );
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer.json));
        return;
      }
      if (url.pathname === '/config.json') {
        return sendJson(response, 200, {
          ...options.config,
          cognitoEndpoint: `http://${url.host}/_local/cognito/`,
          // The web app skips what cognito-local lacks (GlobalSignOut) instead of failing on it.
          local: true,
        });
      }
      if (url.pathname.startsWith('/_local/cognito')) return proxyCognito(options, request, response, body);
      if (url.pathname.startsWith('/_local/ses'))
        return proxySes(options, faults, request, response, url, body);
      if (url.pathname.startsWith('/_local/sns')) {
        const { status, xml } = answerSns(new URLSearchParams(body.toString('utf8')), options.outbox, faults);
        response.writeHead(status, { 'content-type': 'text/xml' });
        response.end(xml);
        return;
      }
      if (url.pathname === '/_local/outbox.json') {
        return sendJson(response, 200, {
          emails: await readEmails(options.sesEndpoint),
          sms: options.outbox.list(),
          push: options.outbox.push.list(),
        });
      }
      if (url.pathname === '/_local/outbox') {
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          ...SECURITY_HEADERS,
        });
        response.end(
          renderOutboxPage(
            await readEmails(options.sesEndpoint),
            options.outbox.list(),
            options.outbox.push.list(),
          ),
        );
        return;
      }
      if (url.pathname === ENTRUST_PATH) {
        // The Entrust self-service stand-in: `return` may only lead back to this portal.
        const origins = [`http://127.0.0.1:${options.port}`, `http://localhost:${options.port}`];
        const answer = answerEntrust(request.method ?? 'GET', url, origins);
        response.writeHead(answer.status, { ...SECURITY_HEADERS, ...answer.headers });
        response.end(request.method === 'HEAD' ? undefined : answer.body);
        return;
      }
      if (url.pathname === '/_local/faults' && request.method === 'PUT') {
        const wanted = JSON.parse(body.toString('utf8') || '{}') as Partial<Faults>;
        faults.sms = wanted.sms ?? null;
        faults.email = wanted.email ?? null;
        return sendJson(response, 200, faults);
      }
      return serveStatic(options, response, url);
    };
    handle().catch((error: unknown) => {
      console.error(`local server: ${request.method} ${url.pathname} failed:`, error);
      if (!response.headersSent) {
        sendJson(response, 500, {
          error: { code: 'INTERNAL', message: 'The local server failed; see its console.' },
        });
      } else {
        response.end();
      }
    });
  });
  return { server, faults };
}
