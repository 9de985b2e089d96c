import type { Command } from 'commander';
import { RosterError } from '../domain/errors.js';
import { suppressionReference } from '../domain/suppression.js';
import { suppressionsStore, type SuppressionKey } from '../store/suppressions.js';
import { withWorkspace } from './session.js';

/** `roster suppressions list|remove`: the suppression list of a workspace. */
export function suppressionsCommands(program: Command): void {
  const sup = program.command('suppressions').description("a workspace's suppressed ids and emails");

  sup
    .command('list')
    .description('print every suppressed id and email: type, value, when')
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option('--json', 'one JSON object per line: {type, value, suppressed_at}')
    .action(async (o: { workspace: string; json?: boolean }) =>
      withWorkspace(o.workspace, async (s) => {
        let after: SuppressionKey | undefined;
        for (;;) {
          const rows = await suppressionsStore.list(s.store.reader, s.ws.pk, { after, limit: 1000 });
          if (rows.length === 0) break;
          const lines = rows.map((r) =>
            o.json
              ? JSON.stringify({ type: r.kind, value: r.value, suppressed_at: Math.floor(r.createdAt / 1000) })
              : `${r.kind}\t${r.value}\t${new Date(r.createdAt).toISOString()}`,
          );
          process.stdout.write(lines.join('\n') + '\n');
          after = rows.at(-1);
        }
      }),
    );

  sup
    .command('remove')
    .description('unsuppress an id or email (and whatever was suppressed with it); the profile is not restored')
    .requiredOption('--workspace <workspace_id>', 'the workspace')
    .option('--id <id>', 'the suppressed id')
    .option('--email <email>', 'the suppressed email')
    .action(async (o: { workspace: string; id?: string; email?: string }) => {
      if ((o.id === undefined) === (o.email === undefined)) {
        console.error('Give exactly one of --id or --email.');
        process.exitCode = 2;
        return;
      }
      await withWorkspace(o.workspace, async (s) => {
        let ref;
        try {
          ref = o.id !== undefined ? suppressionReference('id', o.id) : suppressionReference('email', o.email!);
        } catch (err) {
          if (!(err instanceof RosterError)) throw err;
          console.error(err.message);
          process.exitCode = 2;
          return;
        }
        const outcome = await s.writer.submit(s.ctx(), { kind: 'unsuppress', ref, reportMissing: true });
        if (outcome.status === 'error') {
          console.error(`${outcome.error.code}: ${outcome.error.message}`);
          process.exitCode = 1;
        } else console.log(`unsuppressed ${o.id !== undefined ? 'id' : 'email'} ${o.id ?? o.email!}`);
      });
    });
}
