/** `npm start`: the whole portal on loopback, on embedded defaults. Ctrl-C stops everything. */
import { DEMO_USERS } from './bootstrap.ts';
import { LocalSetupError } from './emulators.ts';
import { DEFAULT_DEMO_PASSWORD, startLocalPortal } from './local-portal.ts';

const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.PORTAL_DATA_DIR ?? '.local';
const demoPassword = process.env.DEMO_PASSWORD ?? DEFAULT_DEMO_PASSWORD;

try {
  const started = Date.now();
  const portal = await startLocalPortal({ port, dataDir, demoPassword, log: (line) => console.error(line) });
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the portal and its emulators…`);
    await portal.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  console.log(`
Device portal is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s, data in ${dataDir}/)

  Portal      ${portal.url}
  Outbox      ${portal.outboxUrl}   (mail and SMS the portal sent)
  /go page    ${portal.url}/go

  Sign in as (password ${demoPassword}):
${DEMO_USERS.map((u) => `    ${u.email.padEnd(20)} ${u.groups.length ? `${u.name}, ${u.groups.join(', ')}` : u.name}`).join('\n')}

  Device simulator:  npm run device -- enroll --portal ${portal.url} --user alice@example.com --pin <PIN>
                     npm run device -- checkin

Press Ctrl-C to stop.`);
} catch (error) {
  if (error instanceof LocalSetupError) {
    console.error(`\nnpm start could not start the portal:\n${error.message}`);
  } else {
    console.error('\nnpm start failed:', error);
  }
  process.exit(1);
}
