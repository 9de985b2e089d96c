import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdentifierMode } from '../../src/domain/workspace.js';
import { freshPostgresSchema, testBackend } from './backend.js';
import { createRoster, type Roster } from '../../src/roster.js';
import { workspacesStore, type WorkspaceCredentials } from '../../src/store/workspaces.js';

/** A real Roster on a real SQLite file in a temp dir, listening on 127.0.0.1 at a free port. */
export interface TestServer {
  roster: Roster;
  base: string;
  dataDir: string;
  /** The PostgreSQL URL (its own schema) when the tests run on PostgreSQL. */
  databaseUrl: string | undefined;
  workspace(opts?: { identifiers?: IdentifierMode; allowEmailUpdateById?: boolean }): Promise<TestWorkspace>;
  /** Every stored row of the workspace (people, events, activities, devices, anonymous ids, suppressions, objects). */
  dump(ws: TestWorkspace): Promise<WorkspaceDump>;
  close(): Promise<void>;
}

/** A workspace's stored state, read straight from SQLite, to prove a refused call changed nothing. */
export type WorkspaceDump = Record<(typeof dumpedTables)[number], unknown[]>;

/** The workspace-scoped tables a call can change (the integration log records refusals, so it is left out). */
const dumpedTables = [
  'people',
  'events',
  'activities',
  'devices',
  'anonymous_ids',
  'suppressions',
  'objects',
  'relationships',
  'pending_relationships',
] as const;

export async function startServer(opts: Pick<Parameters<typeof createRoster>[0], 'writer'> = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roster-test-'));
  const schema = testBackend === 'postgres' ? await freshPostgresSchema() : null;
  const roster = await createRoster({ dataDir, databaseUrl: schema?.url, ...opts });
  const base = await roster.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    roster,
    base,
    dataDir,
    databaseUrl: schema?.url,
    async workspace(opts = {}) {
      const creds = await workspacesStore.create(roster.store.writer, roster.masterKey, {
        name: 'test',
        identifiers: opts.identifiers ?? 'email_or_id',
        allowEmailUpdateById: opts.allowEmailUpdateById ?? false,
      });
      return new TestWorkspace(base, creds);
    },
    async dump(ws) {
      const db = roster.store.reader;
      const { pk } = await db
        .selectFrom('workspaces')
        .select('pk')
        .where('site_id', '=', ws.creds.site_id)
        .executeTakeFirstOrThrow();
      const out = {} as WorkspaceDump;
      for (const table of dumpedTables)
        out[table] = await db.selectFrom(table).selectAll().where('workspace_pk', '=', pk).execute();
      return out;
    },
    async close() {
      await roster.close();
      rmSync(dataDir, { recursive: true, force: true });
      await schema?.drop();
    },
  };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
}

/** Rule C's documented message for an identifier another person holds (identity.md, Rule C). */
export const inUseMessage = (field: string) =>
  `${field}: The identifier is already associated with a different profile.`;

/** One entry of the App API activity feed. */
export interface Activity {
  id: string;
  timestamp: number;
  type: string;
  name: string | null;
  customer_id: string | null;
  customer_identifiers: { id: string | null; email: string | null; cio_id: string };
  data: Record<string, unknown>;
}

/** Talks to one workspace over real HTTP with its real credentials. */
export class TestWorkspace {
  constructor(
    readonly base: string,
    readonly creds: WorkspaceCredentials,
  ) {}

  get trackAuth(): string {
    return `Basic ${Buffer.from(`${this.creds.site_id}:${this.creds.track_api_key}`).toString('base64')}`;
  }

  async request(method: string, path: string, body?: unknown, auth: string | null = this.trackAuth): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = auth;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /**
   * A request with full control: a raw body (string or bytes) sent as given, any content type (none when null),
   * any auth. The reply body is parsed as JSON when it is JSON, else kept as text.
   */
  async send(
    method: string,
    path: string,
    opts: { body?: string | Uint8Array; contentType?: string | null; auth?: string | null } = {},
  ): Promise<Reply & { contentType: string | null }> {
    const headers: Record<string, string> = {};
    const auth = opts.auth === undefined ? this.trackAuth : opts.auth;
    if (auth) headers.authorization = auth;
    const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
    if (contentType !== null && opts.body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(this.base + path, { method, headers, body: opts.body });
    const text = await res.text();
    let body: unknown = text === '' ? undefined : text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body, contentType: res.headers.get('content-type') };
  }

  /** Segment's write-key auth: Basic base64("<writeKey>:"). */
  get writeKeyAuth(): string {
    return `Basic ${Buffer.from(`${this.creds.segment_write_key}:`).toString('base64')}`;
  }

  /** POSTs to Segment's tracking API (`/v1/identify`, `/v1/batch`, …) with the write key. */
  segment(path: string, body: unknown, auth: string | null = this.writeKeyAuth) {
    return this.request('POST', path, body, auth);
  }

  get appAuth(): string {
    return `Bearer ${this.creds.app_api_key}`;
  }

  identify(ref: string, body: unknown = {}) {
    return this.request('PUT', `/api/v1/customers/${encodeURIComponent(ref)}`, body);
  }

  track(ref: string, body: unknown) {
    return this.request('POST', `/api/v1/customers/${encodeURIComponent(ref)}/events`, body);
  }

  /** `POST /api/v1/events`: an anonymous event. */
  anonymousEvent(body: unknown) {
    return this.request('POST', '/api/v1/events', body);
  }

  suppress(ref: string) {
    return this.request('POST', `/api/v1/customers/${encodeURIComponent(ref)}/suppress`, {});
  }

  unsuppress(ref: string) {
    return this.request('POST', `/api/v1/customers/${encodeURIComponent(ref)}/unsuppress`, {});
  }

  delete(ref: string) {
    return this.request('DELETE', `/api/v1/customers/${encodeURIComponent(ref)}`);
  }

  addDevice(ref: string, device: unknown) {
    return this.request('PUT', `/api/v1/customers/${encodeURIComponent(ref)}/devices`, { device });
  }

  merge(primary: Record<string, string>, secondary: Record<string, string>) {
    return this.request('POST', '/api/v1/merge_customers', { primary, secondary });
  }

  /** Track API v2: one operation. */
  entity(operation: unknown) {
    return this.request('POST', '/api/v2/entity', operation);
  }

  /** Track API v2: several operations. */
  batch(operations: unknown[]) {
    return this.request('POST', '/api/v2/batch', { batch: operations });
  }

  app(method: string, path: string, body?: unknown) {
    return this.request(method, path, body, `Bearer ${this.creds.app_api_key}`);
  }

  /** The App API customer object, or null when 404. */
  async person(ref: string, idType = 'id') {
    const r = await this.app('GET', `/v1/customers/${encodeURIComponent(ref)}/attributes?id_type=${idType}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`attributes: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.customer;
  }

  async activities(ref: string, query = '', idType = 'id') {
    const r = await this.app('GET', `/v1/customers/${encodeURIComponent(ref)}/activities?id_type=${idType}${query}`);
    if (r.status !== 200) throw new Error(`activities: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  /** The person's activity entries of one type (e.g. `event`, `failed_attribute_change`), newest first. */
  async activitiesOfType(ref: string, type: string, idType = 'id'): Promise<Activity[]> {
    const body = await this.activities(ref, `&type=${encodeURIComponent(type)}&limit=100`, idType);
    return body.activities as Activity[];
  }

  async byEmail(email: string) {
    const r = await this.app('GET', `/v1/customers?email=${encodeURIComponent(email)}`);
    if (r.status !== 200) throw new Error(`customers?email: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.results as { email: string | null; id: string | null; cio_id: string }[];
  }
}
