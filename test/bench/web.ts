/**
 * DESIGN §11, web: the JavaScript a browser must fetch before the app starts, gzipped: the entry
 * script of web/dist/index.html, its modulepreload links, and every chunk those import statically
 * (transitively). Chunks reached only through import() are not initial; their total is reported too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

export interface WebChunk {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface WebResult {
  rebuilt: boolean;
  initial: WebChunk[];
  initialGzipBytes: number;
  /** Every .js file in web/dist, initial or not: an upper bound. */
  allJsGzipBytes: number;
  lazy: WebChunk[];
}

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Builds the web app when web/dist is missing or older than any of its sources. */
export function ensureWebBuild(repoRoot: string, log: (line: string) => void): boolean {
  const web = join(repoRoot, 'web');
  const builtHtml = join(web, 'dist', 'index.html');
  const sources = ['src', 'public', 'index.html', 'vite.config.ts']
    .map((p) => join(web, p))
    .filter((p) => existsSync(p));
  const newestSource = Math.max(...sources.map(newestMtime));
  if (existsSync(builtHtml) && statSync(builtHtml).mtimeMs >= newestSource) return false;
  log('  web/dist is missing or older than web/src: npm run build:web …');
  const answer = spawnSync('npm', ['run', 'build:web'], { cwd: repoRoot, encoding: 'utf8' });
  if (answer.status !== 0) {
    throw new Error(`npm run build:web failed (${answer.status}):\n${answer.stdout}\n${answer.stderr}`);
  }
  return true;
}

interface HtmlTag {
  name: string;
  attributes: Record<string, string>;
}

function tags(html: string): HtmlTag[] {
  const found: HtmlTag[] = [];
  for (const match of html.matchAll(/<(script|link)\b([^>]*)>/gi)) {
    const attributes: Record<string, string> = {};
    for (const attribute of (match[2] ?? '').matchAll(
      /([\w:-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g,
    )) {
      const name = attribute[1]?.toLowerCase();
      if (name) attributes[name] = attribute[2] ?? attribute[3] ?? attribute[4] ?? '';
    }
    found.push({ name: (match[1] ?? '').toLowerCase(), attributes });
  }
  return found;
}

/** The scripts index.html loads at once: module scripts and modulepreload links (same-origin). */
function htmlEntryScripts(dist: string): string[] {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const scripts = tags(html).flatMap((tag) => {
    const ref =
      tag.name === 'script'
        ? tag.attributes.src
        : tag.attributes.rel?.split(/\s+/).includes('modulepreload')
          ? tag.attributes.href
          : undefined;
    if (!ref || /^[a-z]+:\/\//i.test(ref)) return [];
    return [resolve(dist, `.${ref.startsWith('/') ? ref : `/${ref}`}`)];
  });
  if (scripts.length === 0) throw new Error('web/dist/index.html loads no script');
  return [...new Set(scripts)];
}

/**
 * esbuild parses the built chunks (a real parser, not a regex) and its metafile says, per input,
 * which imports are static statements and which are import() calls.
 */
async function staticClosure(dist: string, entries: readonly string[]): Promise<string[]> {
  const result = await build({
    entryPoints: [...entries],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    outdir: join(dist, '.bench-unused'),
    absWorkingDir: dist,
    logLevel: 'silent',
  });
  const metafile: Metafile = result.metafile;
  const seen = new Set<string>();
  const queue = entries.map((e) => relative(dist, e));
  while (queue.length > 0) {
    const input = queue.shift() as string;
    if (seen.has(input)) continue;
    seen.add(input);
    const node = metafile.inputs[input];
    if (!node) throw new Error(`esbuild did not read ${input}`);
    for (const imported of node.imports) {
      if (imported.kind === 'import-statement' && !imported.external) queue.push(imported.path);
    }
  }
  return [...seen].map((p) => join(dist, p));
}

function chunk(dist: string, file: string): WebChunk {
  const content = readFileSync(file);
  return { file: relative(dist, file), bytes: content.length, gzipBytes: gzipSync(content).length };
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return jsFiles(path);
    return entry.name.endsWith('.js') || entry.name.endsWith('.mjs') ? [path] : [];
  });
}

export async function measureWeb(repoRoot: string, log: (line: string) => void): Promise<WebResult> {
  const rebuilt = ensureWebBuild(repoRoot, log);
  const dist = join(repoRoot, 'web', 'dist');
  const initialFiles = await staticClosure(dist, htmlEntryScripts(dist));
  const initial = initialFiles.map((f) => chunk(dist, f));
  const all = jsFiles(dist).map((f) => chunk(dist, f));
  const initialSet = new Set(initial.map((c) => c.file));
  return {
    rebuilt,
    initial,
    initialGzipBytes: initial.reduce((sum, c) => sum + c.gzipBytes, 0),
    allJsGzipBytes: all.reduce((sum, c) => sum + c.gzipBytes, 0),
    lazy: all.filter((c) => !initialSet.has(c.file)),
  };
}
