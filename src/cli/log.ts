import { InvalidArgumentError, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config.js';
import { logEntryView } from '../queries/integration-log.js';
import { openStore } from '../store/database.js';
import { integrationLogStore, type IntegrationLogRow } from '../store/integration-log.js';
import { workspacesStore } from '../store/workspaces.js';

const wholeArg = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`expected a whole number ${min}–${max}`);
  return n;
};

interface LogOptions {
  workspace: string;
  errors?: boolean;
  follow?: boolean;
  json?: boolean;
  limit: number;
  interval: number;
}

/** One line per entry: time, outcome, surface, reference, messageId, reason. */
function formatLine(r: IntegrationLogRow): string {
  const parts = [new Date(Number(r.ts)).toISOString(), r.outcome, r.surface, r.reference ?? '-'];
  if (r.message_id !== null) parts.push(`messageId=${r.message_id}`);
  parts.push(r.reason);
  return parts.join('  ');
}

/** `roster log`: a workspace's integration log, oldest to newest; `--follow` keeps printing new entries. */
export function logCommand(program: Command): void {
  program
    .command('log')
    .description("print a workspace's integration log: calls dropped or refused, and why (oldest first)")
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option('--errors', 'only failures: leaves out duplicate and suppressed drops')
    .option('--follow', 'keep printing new entries until interrupted')
    .option('--json', 'one JSON object per line (the App API activity shape)')
    .option('--limit <n>', 'how many of the latest entries to print first', wholeArg(1, 100_000), 100)
    .option('--interval <ms>', 'with --follow: how often to look for new entries', wholeArg(50, 3_600_000), 1000)
    .action(async (o: LogOptions) => {
      const store = await openStore(loadConfig());
      try {
        const ws = await workspacesStore.byPublicId(store.reader, o.workspace);
        if (!ws) {
          console.error(`No workspace ${o.workspace}. See: roster workspace list`);
          process.exitCode = 2;
          return;
        }
        const print = (rows: IntegrationLogRow[]) => {
          if (rows.length === 0) return;
          const lines = rows.map((r) => (o.json ? JSON.stringify(logEntryView(r)) : formatLine(r)));
          process.stdout.write(lines.join('\n') + '\n');
        };
        const failuresOnly = o.errors === true;
        let rows = await integrationLogStore.tail(store.reader, ws.pk, { failuresOnly, limit: o.limit });
        print(rows);
        if (!o.follow) return;

        let lastPk = rows.at(-1)?.pk ?? 0;
        const interrupted = new AbortController();
        const stop = () => interrupted.abort();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        try {
          while (!interrupted.signal.aborted) {
            await sleep(o.interval, undefined, { signal: interrupted.signal }).catch(() => undefined);
            if (interrupted.signal.aborted) break;
            do {
              rows = await integrationLogStore.tail(store.reader, ws.pk, {
                failuresOnly,
                afterPk: lastPk,
                limit: 1000,
              });
              print(rows);
              lastPk = rows.at(-1)?.pk ?? lastPk;
            } while (rows.length === 1000);
          }
        } finally {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
        }
      } finally {
        await store.close();
      }
    });
}
