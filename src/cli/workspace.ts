import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config.js';
import { identifierModes, type IdentifierMode } from '../domain/workspace.js';
import { openStore } from '../store/database.js';
import { loadMasterKey } from '../store/secrets.js';
import { workspacesStore } from '../store/workspaces.js';
import { printCredentials } from './output.js';

const booleanArg = (value: string): boolean => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
};

const modeArg = (value: string): IdentifierMode => {
  if ((identifierModes as string[]).includes(value)) return value as IdentifierMode;
  throw new InvalidArgumentError(`expected one of ${identifierModes.join(', ')}`);
};

const secondsArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected whole seconds, 0 or more');
  return n;
};

const daysArg = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new InvalidArgumentError('expected whole days, 1 or more');
  return n;
};

/** Opens the configured data dir for one command, whether or not a server is running on it. */
/** Requests per second, 0 for none, or `default` to follow the server's settings again. */
const rateArg = (value: string): number | 'default' => {
  // (commander turns a parser's null into '', so `default` stays a word until the action maps it to null)
  if (value === 'default') return value;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected whole requests per second, or default');
  return n;
};

async function withStore<T>(fn: (s: Awaited<ReturnType<typeof openStore>>, masterKey: Buffer) => Promise<T>) {
  const config = loadConfig();
  const { dataDir } = config;
  const store = await openStore(config);
  try {
    return await fn(store, loadMasterKey(dataDir));
  } finally {
    await store.close();
  }
}

async function requireWorkspace(db: Parameters<typeof workspacesStore.byPublicId>[0], id: string) {
  const ws = await workspacesStore.byPublicId(db, id);
  if (!ws) {
    console.error(`No workspace ${id}. See: roster workspace list`);
    process.exit(2);
  }
  return ws;
}

/** `roster workspace create|list|set|rotate-keys`. */
export function workspaceCommands(program: Command): void {
  const ws = program.command('workspace').description('manage workspaces and their credentials');

  ws.command('create')
    .requiredOption('--name <name>', 'workspace name')
    .option('--identifiers <mode>', 'email_or_id or id_only', modeArg, 'email_or_id' as IdentifierMode)
    .option('--allow-email-update-by-id', 'let a call by id change the email', false)
    .option('--json', 'print one JSON object')
    .action(async (o: { name: string; identifiers: IdentifierMode; allowEmailUpdateById: boolean; json?: boolean }) =>
      withStore(async (store, masterKey) => {
        const creds = await workspacesStore.create(store.writer, masterKey, {
          name: o.name,
          identifiers: o.identifiers,
          allowEmailUpdateById: o.allowEmailUpdateById,
        });
        if (o.json) console.log(JSON.stringify(creds));
        else {
          console.log('Workspace created. The keys are shown once:');
          printCredentials(creds);
        }
      }),
    );

  ws.command('list')
    .option('--json', 'print a JSON array')
    .action(async (o: { json?: boolean }) =>
      withStore(async (store) => {
        const list = (await workspacesStore.list(store.writer)).map((w) => ({
          workspace_id: w.publicId,
          name: w.name,
          site_id: w.siteId,
          identifiers: w.settings.identifiers,
          allow_email_update_by_id: w.settings.allowEmailUpdateById,
          segment_convert_timestamps: w.segmentConvertTimestamps,
          anonymous_retention_days: w.settings.anonymousRetentionDays,
          rate_limit: w.rateLimits.perSecond,
          key_rate_limit: w.rateLimits.perKeyPerSecond,
          created_at: new Date(w.createdAt).toISOString(),
        }));
        if (o.json) console.log(JSON.stringify(list));
        else for (const w of list) console.log(`${w.workspace_id}  ${w.name}  site_id=${w.site_id}  ${w.identifiers}`);
      }),
    );

  ws.command('set')
    .argument('<workspace_id>')
    .option('--identifiers <mode>', 'email_or_id or id_only', modeArg)
    .option('--allow-email-update-by-id <bool>', 'true or false', booleanArg)
    .option('--segment-convert-timestamps <bool>', 'true or false', booleanArg)
    .option('--anonymous-retention-days <days>', 'how long unlinked anonymous events are kept', daysArg)
    .option('--rate-limit <n>', 'requests per second on each API (0: none; default: the server setting)', rateArg)
    .option('--key-rate-limit <n>', 'requests per second per key (0: none; default: the server setting)', rateArg)
    .action(
      async (
        id: string,
        o: {
          identifiers?: IdentifierMode;
          allowEmailUpdateById?: boolean;
          segmentConvertTimestamps?: boolean;
          anonymousRetentionDays?: number;
          rateLimit?: number | 'default';
          keyRateLimit?: number | 'default';
        },
      ) =>
        withStore(async (store) => {
          const w = await requireWorkspace(store.writer, id);
          const rate = (v: number | 'default' | undefined) => (v === 'default' ? null : v);
          await workspacesStore.update(store.writer, w.pk, {
            ...o,
            rateLimit: rate(o.rateLimit),
            keyRateLimit: rate(o.keyRateLimit),
          });
          console.log(`Updated ${id}.`);
        }),
    );

  ws.command('rotate-keys')
    .argument('<workspace_id>')
    .option('--grace <seconds>', 'how long the old keys keep working', secondsArg, 0)
    .option('--json', 'print one JSON object')
    .action(async (id: string, o: { grace: number; json?: boolean }) =>
      withStore(async (store, masterKey) => {
        const w = await requireWorkspace(store.writer, id);
        const creds = await workspacesStore.rotateKeys(store.writer, masterKey, w, o.grace);
        if (o.json) console.log(JSON.stringify(creds));
        else {
          console.log('New keys (shown once):');
          printCredentials(creds);
        }
      }),
    );
}
