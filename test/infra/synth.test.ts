import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

const run = promisify(execFile);

/** Deployable context: cdk.json holds none, so a real synth must be given it. */
const SYNTH_CONTEXT = ['-c', 'adminEmail=it-admin@corp.test', '-c', 'sesFromAddress=no-reply@corp.test'];

interface AssetManifest {
  readonly files: Record<string, { readonly source: { readonly path: string; readonly packaging: string } }>;
}

/**
 * The real `cdk synth`, bundling included (esbuild locally, no Docker), as `npm run synth` runs it
 * after `npm run build:web`. Needs web/dist: without it the stateless stack says to build the web.
 */
describe('cdk synth', () => {
  let outdir: string;
  let result: { stdout: string; stderr: string };

  beforeAll(async () => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-cdk-out-'));
    result = await run(
      'npx',
      ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir, ...SYNTH_CONTEXT],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  }, 180_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('writes both stack templates', () => {
    for (const stack of ['PortalStateful', 'PortalStateless']) {
      const template = JSON.parse(fs.readFileSync(path.join(outdir, `${stack}.template.json`), 'utf8')) as {
        Resources: Record<string, unknown>;
      };
      expect(Object.keys(template.Resources).length, stack).toBeGreaterThan(0);
    }
    expect(result.stderr).not.toMatch(/AwsSolutions-/);
  });

  it('bundles every route handler into one ESM file with a source map', () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(outdir, 'PortalStateless.assets.json'), 'utf8'),
    ) as AssetManifest;
    const bundles = Object.values(manifest.files)
      .map((file) => path.join(outdir, file.source.path))
      .filter((dir) => fs.existsSync(path.join(dir, 'index.mjs')));
    expect(bundles).toHaveLength(routes.length);
    for (const dir of bundles) {
      expect(fs.existsSync(path.join(dir, 'index.mjs.map')), dir).toBe(true);
    }
  });

  it('uploads web/dist/assets on their own under assets/, and index.html and the rest without them', () => {
    const template = JSON.parse(
      fs.readFileSync(path.join(outdir, 'PortalStateless.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const deployments = Object.values(template.Resources).filter(
      (r) => r.Type === 'Custom::CDKBucketDeployment',
    );
    const filesOf = (deployment: { Properties: Record<string, unknown> }): string[] =>
      (deployment.Properties.SourceObjectKeys as string[]).flatMap((key) =>
        fs.readdirSync(path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`)),
      );
    const assets = deployments.find((d) => d.Properties.DestinationBucketKeyPrefix === 'assets/');
    const entry = deployments.find((d) => d.Properties.DestinationBucketKeyPrefix === undefined);
    if (!assets || !entry) throw new Error('expected an assets and an entry deployment');
    expect(filesOf(assets).sort()).toEqual(fs.readdirSync(path.join(REPO_ROOT, 'web/dist/assets')).sort());
    expect(filesOf(entry)).toEqual(expect.arrayContaining(['index.html', 'config.json']));
    expect(filesOf(entry)).not.toContain('assets');
  });

  it('bundles no credential provider but the environment one (no SSO, INI, process or metadata chain)', () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(outdir, 'PortalStateless.assets.json'), 'utf8'),
    ) as AssetManifest;
    const bundles = Object.values(manifest.files)
      .map((file) => path.join(outdir, file.source.path, 'index.mjs'))
      .filter((file) => fs.existsSync(file));
    for (const file of bundles) {
      const code = fs.readFileSync(file, 'utf8');
      expect(code.startsWith("import { createRequire } from 'module';"), file).toBe(true);
      // Messages of @aws-sdk/credential-provider-node's chain, which minification keeps.
      expect(code, file).not.toContain('Skipping SSO provider in default chain');
      expect(code, file).not.toContain('defaultProvider::fromSSO');
      const map = JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as { sourcesContent?: unknown };
      expect(map.sourcesContent, file).toBeUndefined();
    }
  });
});

describe('cdk synth without deployable context', () => {
  it('refuses, naming adminEmail and sesFromAddress as the keys to set', async () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-cdk-refused-'));
    try {
      const failure = await run('npx', ['cdk', 'synth', '--quiet', '--no-notices', '--output', outdir], {
        cwd: REPO_ROOT,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        timeout: 120_000,
      }).then(
        () => undefined,
        (error: unknown) => error as { stderr: string },
      );
      expect(failure, 'synth succeeded without adminEmail/sesFromAddress').toBeDefined();
      expect(failure?.stderr).toMatch(/adminEmail is missing/);
      expect(failure?.stderr).toMatch(/sesFromAddress is missing/);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
