import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: route handler paths, the lock file and web/dist are relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The built portal (npm run build:web). */
export const WEB_DIST = path.join(REPO_ROOT, 'web', 'dist');
