import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { REPO_ROOT } from '../paths.ts';
import { bundleFunctionsSync, type FunctionEntry } from './function-build.ts';

/**
 * Where the bundles are written: inside the repository (cdk.out/ is git-ignored), so the source
 * maps' relative paths, and with them the asset hashes, are the same on every machine.
 */
const BUNDLE_DIR = path.join(REPO_ROOT, 'cdk.out', '.portal-functions');

let stubDir: string | undefined;

/** One tiny placeholder for every function when the stack is not bundled (tests). */
function stub(): string {
  if (!stubDir) {
    stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-function-stub-'));
    fs.writeFileSync(
      path.join(stubDir, 'index.mjs'),
      'export const handler = async () => ({ statusCode: 503 });\n',
    );
    const dir = stubDir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return stubDir;
}

/**
 * The code of every function, bundled in one esbuild run. With `aws:cdk:bundling-stacks` set to
 * skip this stack (`[]` in the stack tests), nothing is built and each function gets the placeholder.
 */
export function functionCodes(stack: Stack, entries: readonly FunctionEntry[]): Map<string, Code> {
  if (!stack.bundlingRequired) {
    const dir = stub();
    return new Map(entries.map(({ name }) => [name, Code.fromAsset(dir)]));
  }
  // Per process, so two synths at once (tests, a developer's synth) never share a directory; the
  // depth, and so the source maps' relative paths, is the same for all. CDK copies the assets into
  // its output while the stack is built, so the directory goes when the process ends.
  const outDir = path.join(BUNDLE_DIR, `${stack.artifactId}-${process.pid}`);
  fs.rmSync(outDir, { recursive: true, force: true });
  process.once('exit', () => fs.rmSync(outDir, { recursive: true, force: true }));
  const dirs = bundleFunctionsSync(REPO_ROOT, entries, outDir);
  return new Map([...dirs].map(([name, dir]) => [name, Code.fromAsset(dir)]));
}
