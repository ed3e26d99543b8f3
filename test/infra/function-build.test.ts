import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as envOnly from '../../infra/bundling/credential-provider-env-only.ts';
import {
  CREDENTIAL_PROVIDER_ALIAS,
  FUNCTION_BANNER,
  functionBuildOptions,
} from '../../infra/bundling/function-build.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

const entries = [
  { name: 'GetMe', entry: path.join(REPO_ROOT, 'functions/handlers/get-me.ts') },
  { name: 'ListDevices', entry: path.join(REPO_ROOT, 'functions/handlers/list-devices.ts') },
];
const options = functionBuildOptions(REPO_ROOT, entries, '/tmp/out');

describe('the one function build (CDK and bench)', () => {
  it('builds every function in one run, one entry point each, to <Name>/index.mjs', () => {
    expect(options.entryPoints).toEqual([
      { in: entries[0]?.entry, out: 'GetMe/index' },
      { in: entries[1]?.entry, out: 'ListDevices/index' },
    ]);
    expect(options.outExtension).toEqual({ '.js': '.mjs' });
  });

  it('targets Node.js 24 ESM, minified, with source maps but no sourcesContent, the SDK bundled', () => {
    expect(options).toMatchObject({
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      external: [],
      banner: { js: FUNCTION_BANNER },
    });
    expect(FUNCTION_BANNER).toContain('createRequire(import.meta.url)');
  });

  it('replaces the default credential chain with the environment provider', () => {
    expect(options.alias).toEqual(CREDENTIAL_PROVIDER_ALIAS);
    expect(CREDENTIAL_PROVIDER_ALIAS['@aws-sdk/credential-provider-node']).toMatch(
      /credential-provider-env-only\.ts$/,
    );
  });

  it('exports every name @aws-sdk/credential-provider-node exports, so the SDK clients link against it', async () => {
    const real = await import('@aws-sdk/credential-provider-node');
    // `default` is Node's CommonJS interop wrapper, not an export of the package.
    const named = Object.keys(real).filter((name) => name !== 'default');
    expect(Object.keys(envOnly).sort()).toEqual(named.sort());
  });

  it('reads credentials from the environment, as Lambda provides them', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    try {
      const credentials = await envOnly.defaultProvider()();
      expect(credentials).toMatchObject({
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token',
      });
    } finally {
      process.env = saved;
    }
  });
});
