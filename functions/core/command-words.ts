/**
 * What each command is called, in the activity feed (server) and on the device page (web): one
 * table, with no imports, so the web app bundles these words and nothing else of the server.
 */
import type { CommandAction } from './api-types.ts';

export const COMMAND_WORDS: Record<CommandAction, string> = {
  LOCK: 'Lock',
  LOST_MODE_ON: 'Lost mode on',
  LOST_MODE_OFF: 'Lost mode off',
  UNLOCK: 'Unlock',
  LOCATE: 'Locate',
  WIPE: 'Wipe',
  RETIRE: 'Retire',
  INSTALL_CERTIFICATE: 'Install certificate',
  REMOVE_CERTIFICATE: 'Remove certificate',
};
