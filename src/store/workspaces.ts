import type { Selectable, Updateable } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { IdentifierMode, WorkspaceSettings } from '../domain/workspace.js';
import type { WorkspacesTable } from './schema.js';
import type { Db } from './types.js';
import { encryptSecret, hashKey, newKey, sameHash } from './secrets.js';

/** A workspace and its settings. */
export interface WorkspaceRecord {
  pk: number;
  publicId: string;
  name: string;
  siteId: string;
  settings: WorkspaceSettings;
  segmentConvertTimestamps: boolean;
  /** This workspace's rate limits (requests per second); null follows the server's settings, 0 is none. */
  rateLimits: { perSecond: number | null; perKeyPerSecond: number | null };
  createdAt: number;
}

/** The plaintext credentials of a workspace: shown once, when made or rotated. */
export interface WorkspaceCredentials {
  workspace_id: string;
  name: string;
  identifiers: IdentifierMode;
  site_id: string;
  track_api_key: string;
  app_api_key: string;
  segment_write_key: string;
  webhook_secret: string;
}

export type KeyKind = 'track' | 'app' | 'segment_write';

function toWorkspace(row: Selectable<WorkspacesTable>): WorkspaceRecord {
  return {
    pk: row.pk,
    publicId: row.public_id,
    name: row.name,
    siteId: row.site_id,
    settings: {
      identifiers: row.identifiers as IdentifierMode,
      allowEmailUpdateById: row.allow_email_update_by_id === 1,
      anonymousRetentionDays: row.anonymous_retention_days,
    },
    segmentConvertTimestamps: row.segment_convert_timestamps === 1,
    rateLimits: {
      perSecond: row.rate_limit === null ? null : Number(row.rate_limit),
      perKeyPerSecond: row.key_rate_limit === null ? null : Number(row.key_rate_limit),
    },
    createdAt: Number(row.created_at),
  };
}

async function issueKeys(db: Db, workspacePk: number, now: number) {
  const keys = { track: newKey('trk_'), app: newKey('app_'), segment_write: newKey('wk_') };
  await db
    .insertInto('api_keys')
    .values(
      (Object.keys(keys) as KeyKind[]).map((kind) => ({
        workspace_pk: workspacePk,
        kind,
        key_hash: hashKey(keys[kind]),
        created_at: now,
        expires_at: null,
      })),
    )
    .execute();
  return keys;
}

/** Workspaces and their credentials: the one place for their SQL. */
export const workspacesStore = {
  async create(
    db: Db,
    masterKey: Buffer,
    input: { name: string; identifiers: IdentifierMode; allowEmailUpdateById: boolean },
    now = Date.now(),
  ): Promise<WorkspaceCredentials> {
    return db.transaction().execute(async (trx) => {
      const webhookSecret = newKey('whsec_');
      const siteId = randomBytes(10).toString('hex');
      const publicId = `ws_${randomBytes(6).toString('hex')}`;
      const { pk } = await trx
        .insertInto('workspaces')
        .values({
          public_id: publicId,
          name: input.name,
          site_id: siteId,
          identifiers: input.identifiers,
          allow_email_update_by_id: input.allowEmailUpdateById ? 1 : 0,
          anonymous_retention_days: 30,
          segment_convert_timestamps: 1,
          webhook_secret_enc: encryptSecret(masterKey, webhookSecret),
          created_at: now,
        })
        .returning('pk')
        .executeTakeFirstOrThrow();
      const keys = await issueKeys(trx, pk, now);
      return {
        workspace_id: publicId,
        name: input.name,
        identifiers: input.identifiers,
        site_id: siteId,
        track_api_key: keys.track,
        app_api_key: keys.app,
        segment_write_key: keys.segment_write,
        webhook_secret: webhookSecret,
      };
    });
  },

  /** New keys and webhook secret; the old keys keep working for `graceSeconds` (0: they stop now). */
  async rotateKeys(
    db: Db,
    masterKey: Buffer,
    ws: WorkspaceRecord,
    graceSeconds: number,
    now = Date.now(),
  ): Promise<WorkspaceCredentials> {
    return db.transaction().execute(async (trx) => {
      const expiresAt = now + graceSeconds * 1000;
      await trx
        .updateTable('api_keys')
        .set({ expires_at: expiresAt })
        .where('workspace_pk', '=', ws.pk)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', expiresAt)]))
        .execute();
      const keys = await issueKeys(trx, ws.pk, now);
      const webhookSecret = newKey('whsec_');
      await trx
        .updateTable('workspaces')
        .set({ webhook_secret_enc: encryptSecret(masterKey, webhookSecret) })
        .where('pk', '=', ws.pk)
        .execute();
      return {
        workspace_id: ws.publicId,
        name: ws.name,
        identifiers: ws.settings.identifiers,
        site_id: ws.siteId,
        track_api_key: keys.track,
        app_api_key: keys.app,
        segment_write_key: keys.segment_write,
        webhook_secret: webhookSecret,
      };
    });
  },

  async list(db: Db): Promise<WorkspaceRecord[]> {
    return (await db.selectFrom('workspaces').selectAll().orderBy('pk').execute()).map(toWorkspace);
  },

  async byPublicId(db: Db, publicId: string): Promise<WorkspaceRecord | null> {
    const row = await db.selectFrom('workspaces').selectAll().where('public_id', '=', publicId).executeTakeFirst();
    return row ? toWorkspace(row) : null;
  },

  async byPk(db: Db, pk: number): Promise<WorkspaceRecord | null> {
    const row = await db.selectFrom('workspaces').selectAll().where('pk', '=', pk).executeTakeFirst();
    return row ? toWorkspace(row) : null;
  },

  async update(
    db: Db,
    pk: number,
    changes: Partial<{
      identifiers: IdentifierMode;
      allowEmailUpdateById: boolean;
      segmentConvertTimestamps: boolean;
      anonymousRetentionDays: number;
      /** null: follow the server's settings again. */
      rateLimit: number | null;
      keyRateLimit: number | null;
    }>,
  ): Promise<void> {
    const set: Updateable<WorkspacesTable> = {};
    if (changes.identifiers !== undefined) set.identifiers = changes.identifiers;
    if (changes.allowEmailUpdateById !== undefined) set.allow_email_update_by_id = changes.allowEmailUpdateById ? 1 : 0;
    if (changes.segmentConvertTimestamps !== undefined)
      set.segment_convert_timestamps = changes.segmentConvertTimestamps ? 1 : 0;
    if (changes.anonymousRetentionDays !== undefined) set.anonymous_retention_days = changes.anonymousRetentionDays;
    if (changes.rateLimit !== undefined) set.rate_limit = changes.rateLimit;
    if (changes.keyRateLimit !== undefined) set.key_rate_limit = changes.keyRateLimit;
    if (Object.keys(set).length === 0) return;
    await db.transaction().execute(async (trx) => {
      await trx.updateTable('workspaces').set(set).where('pk', '=', pk).execute();
      if (changes.identifiers === undefined) return;
      // Email becomes (or stops being) a unique identifier; the unique index refuses a switch while people share one.
      await trx
        .updateTable('people')
        .set((eb) => ({ email_key: changes.identifiers === 'email_or_id' ? eb.ref('email_norm') : null }))
        .where('workspace_pk', '=', pk)
        .execute();
    });
  },

  /** The workspace with this site id and its sealed webhook secret. */
  async webhookSecretOf(db: Db, siteId: string): Promise<{ ws: WorkspaceRecord; sealed: string } | null> {
    const row = await db.selectFrom('workspaces').selectAll().where('site_id', '=', siteId).executeTakeFirst();
    return row ? { ws: toWorkspace(row), sealed: row.webhook_secret_enc } : null;
  },

  /** Track API: Basic site_id:api_key. Returns the workspace when the key is one of its live track keys. */
  async authenticateTrack(db: Db, siteId: string, apiKey: string, now = Date.now()): Promise<WorkspaceRecord | null> {
    const row = await db.selectFrom('workspaces').selectAll().where('site_id', '=', siteId).executeTakeFirst();
    if (!row) return null;
    const given = hashKey(apiKey);
    const keys = await db
      .selectFrom('api_keys')
      .select(['key_hash', 'expires_at'])
      .where('workspace_pk', '=', row.pk)
      .where('kind', '=', 'track')
      .execute();
    const live = keys.some((k) => (k.expires_at === null || Number(k.expires_at) > now) && sameHash(k.key_hash, given));
    return live ? toWorkspace(row) : null;
  },

  /** App API bearer keys and Segment write keys: found by their hash. */
  async authenticateKey(db: Db, kind: KeyKind, key: string, now = Date.now()): Promise<WorkspaceRecord | null> {
    const given = hashKey(key);
    const found = await db
      .selectFrom('api_keys')
      .innerJoin('workspaces', 'workspaces.pk', 'api_keys.workspace_pk')
      .selectAll('workspaces')
      .select(['api_keys.key_hash', 'api_keys.expires_at'])
      .where('api_keys.key_hash', '=', given)
      .where('api_keys.kind', '=', kind)
      .executeTakeFirst();
    if (!found || !sameHash(found.key_hash, given)) return null;
    if (found.expires_at !== null && Number(found.expires_at) <= now) return null;
    return toWorkspace(found);
  },
};
