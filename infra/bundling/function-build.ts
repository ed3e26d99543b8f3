/**
 * The one esbuild configuration of the portal's Lambda functions, used by the CDK stack
 * (infra/portal-function.ts via bundleFunctionsSync) and by the bench (test/bench/bundles.ts), so
 * what is measured is what is deployed.
 *
 * All functions are built in ONE esbuild run with one entry point per route (esbuild parallelizes
 * inside), each to `<outDir>/<RouteName>/index.mjs`: Node.js 24, ESM, minified, source map
 * without sourcesContent, the AWS SDK bundled (no externals), a createRequire banner for the
 * CommonJS dependencies that call require(), and the credential providers a Lambda never uses
 * left out (credential-provider-env-only.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, type BuildResult, build, buildSync } from 'esbuild';

/** Some bundled CommonJS dependencies call require(); ESM has none, so provide one. */
export const FUNCTION_BANNER =
  "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Lambda's runtime: nodejs24.x. */
export const FUNCTION_TARGET = 'node24';

/** The SDK's default credential chain, replaced by the environment provider alone. */
export const CREDENTIAL_PROVIDER_ALIAS = {
  '@aws-sdk/credential-provider-node': fileURLToPath(
    new URL('./credential-provider-env-only.ts', import.meta.url),
  ),
} as const;

export interface FunctionEntry {
  /** The output directory's name (the route name). */
  readonly name: string;
  /** Absolute path of the handler module. */
  readonly entry: string;
}

export function functionBuildOptions(
  repoRoot: string,
  entries: readonly FunctionEntry[],
  outDir: string,
): BuildOptions & { metafile: true } {
  return {
    entryPoints: entries.map(({ name, entry }) => ({ in: entry, out: `${name}/index` })),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    target: FUNCTION_TARGET,
    format: 'esm',
    minify: true,
    // Line numbers are enough for stack traces; embedding sources would double the zip.
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    banner: { js: FUNCTION_BANNER },
    // Bundle everything, the AWS SDK included: pinned versions, faster cold start than the runtime's SDK.
    external: [],
    alias: { ...CREDENTIAL_PROVIDER_ALIAS },
    absWorkingDir: repoRoot,
    metafile: true,
    logLevel: 'silent',
  };
}

function check(result: BuildResult): void {
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed: ${result.errors.map((e) => e.text).join('; ')}`);
  }
}

/** Directory of each function's bundle, by name. */
function outputDirs(entries: readonly FunctionEntry[], outDir: string): Map<string, string> {
  return new Map(entries.map(({ name }) => [name, path.join(outDir, name)]));
}

/** Synchronous build for CDK constructs (which cannot await). */
export function bundleFunctionsSync(
  repoRoot: string,
  entries: readonly FunctionEntry[],
  outDir: string,
): Map<string, string> {
  check(buildSync(functionBuildOptions(repoRoot, entries, outDir)));
  return outputDirs(entries, outDir);
}

/** The same build, asynchronous, with esbuild's metafile (the bench reads sizes per package). */
export async function bundleFunctions(
  repoRoot: string,
  entries: readonly FunctionEntry[],
  outDir: string,
): Promise<{ dirs: Map<string, string>; result: BuildResult<{ metafile: true }> }> {
  const result = await build(functionBuildOptions(repoRoot, entries, outDir));
  check(result);
  return { dirs: outputDirs(entries, outDir), result };
}
