/**
 * What the deployed bundles hold, from the same esbuild run the stack deploys: the PKCS#12 parser
 * only in UploadCertificate (issue 13.3), the KMS client only where the route holds the certificate
 * key, no Cognito client in the agent's check-in; and the parser, built the same way, reads a PKCS#12.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerFile, routes } from '../../functions/routes.ts';
import { bundleFunctions } from '../../infra/bundling/function-build.ts';
import { REPO_ROOT } from '../../infra/paths.ts';

const outDir = mkdtempSync(path.join(tmpdir(), 'bundle-contents-'));
/** Route name → the packages its bundle takes input from. */
const packagesOf = new Map<string, Set<string>>();

beforeAll(async () => {
  const entries = routes.map((route) => ({
    name: route.name,
    entry: path.join(REPO_ROOT, handlerFile(route)),
  }));
  const { result } = await bundleFunctions(REPO_ROOT, entries, outDir);
  for (const [file, output] of Object.entries(result.metafile.outputs)) {
    const name = /([A-Za-z]+)\/index\.mjs$/.exec(file)?.[1];
    if (!name) continue;
    const packages = new Set<string>();
    for (const input of Object.keys(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      if (match?.[1]) packages.add(match[1]);
    }
    packagesOf.set(name, packages);
  }
}, 120_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const holding = (pkg: string) =>
  [...packagesOf]
    .filter(([, packages]) => packages.has(pkg))
    .map(([name]) => name)
    .sort();

describe('what each bundle holds', () => {
  it('carries the PKCS#12 parser (node-forge) in UploadCertificate only', () => {
    expect(holding('node-forge')).toEqual(['UploadCertificate']);
  });

  it('carries the KMS client only where the route holds the certificate key', () => {
    const withKey = routes
      .filter((r) => r.permissions.certificateKey)
      .map((r) => r.name)
      .sort();
    expect(holding('@aws-sdk/client-kms')).toEqual(withKey);
  });

  it('leaves the Cognito client out of the agent check-in, which never calls it', () => {
    expect(packagesOf.get('AgentCheckin')?.has('@aws-sdk/client-cognito-identity-provider')).toBe(false);
  });

  it('parses a PKCS#12 with the parser built as the functions are built (forge loads under ESM)', async () => {
    const bundle = readFileSync(path.join(outDir, 'UploadCertificate/index.mjs'), 'utf8');
    expect(bundle).toContain('PKCS#12 MAC could not be verified');
    // The parser alone, built with the same options, as the handler's own import would run it.
    const probe = path.join(outDir, 'probe');
    const { dirs } = await bundleFunctions(
      REPO_ROOT,
      [{ name: 'Probe', entry: path.join(REPO_ROOT, 'functions/core/certificate-file.ts') }],
      probe,
    );
    const module = (await import(
      pathToFileURL(path.join(dirs.get('Probe') ?? '', 'index.mjs')).href
    )) as typeof import('../../functions/core/certificate-file.ts');
    const parsed = module.parseCertificateFile(
      {
        fileName: 'alice-vpn.p12',
        bytes: readFileSync(path.join(REPO_ROOT, 'test/fixtures/certificates/alice-vpn.p12')),
        password: 'correct-horse',
      },
      new Date('2027-01-15T00:00:00Z'),
    );
    expect(parsed).toMatchObject({ format: 'PKCS12', name: 'alice-vpn' });
    expect(parsed.privateKeyPkcs8?.length).toBeGreaterThan(0);
  }, 60_000);
});
