import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { backupCommand } from './backup.js';
import { copyCommand } from './copy.js';
import { dedupeCommand } from './dedupe.js';
import { logCommand } from './log.js';
import { migrateCommand } from './migrate.js';
import { peopleCommands } from './people.js';
import { suppressionsCommands } from './suppressions.js';
import { workspaceCommands } from './workspace.js';

/** The `roster` command. */
export function buildCli(): Command {
  const program = new Command('roster').description('Roster: a self-hosted people workspace').showHelpAfterError();
  program
    .command('serve')
    .description('start the server (PORT, HOST, ROSTER_DATA_DIR, LOG_LEVEL from the environment)')
    // Loaded on demand: the server's modules are a fifth of a command's memory (an export's budget is 250 MB).
    .action(async () => (await import('./serve.js')).serve(loadConfig()));
  workspaceCommands(program);
  logCommand(program);
  migrateCommand(program);
  copyCommand(program);
  peopleCommands(program);
  backupCommand(program);
  dedupeCommand(program);
  suppressionsCommands(program);
  return program;
}
