import type { Generated } from 'kysely';

/** Tables as Kysely sees them. JSON lives in TEXT columns; booleans are 0/1; times are unix ms unless named _s. */
export interface Database {
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  people: PeopleTable;
  events: EventsTable;
  /** PostgreSQL only: the event ids stored per workspace (SQLite's unique index on events does this there). */
  event_ids: EventIdsTable;
  activities: ActivitiesTable;
  anonymous_ids: AnonymousIdsTable;
  devices: DevicesTable;
  suppressions: SuppressionsTable;
  integration_log: IntegrationLogTable;
  objects: ObjectsTable;
  relationships: RelationshipsTable;
  pending_relationships: PendingRelationshipsTable;
  jobs: JobsTable;
  segment_messages: SegmentMessagesTable;
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
  exports: ExportsTable;
  export_chunks: ExportChunksTable;
  attribute_keys: AttributeKeysTable;
}

export interface WorkspacesTable {
  pk: Generated<number>;
  public_id: string;
  name: string;
  site_id: string;
  identifiers: string;
  allow_email_update_by_id: number;
  anonymous_retention_days: number;
  segment_convert_timestamps: number;
  webhook_secret_enc: string;
  /** Requests per second per API for this workspace; NULL follows the environment, 0 is no limit. */
  rate_limit: number | null;
  /** Requests per second per key for this workspace; NULL follows the environment, 0 is no limit. */
  key_rate_limit: number | null;
  created_at: number;
}

export interface ApiKeysTable {
  pk: Generated<number>;
  workspace_pk: number;
  kind: 'track' | 'app' | 'segment_write';
  key_hash: string;
  created_at: number;
  expires_at: number | null;
}

export interface PeopleTable {
  pk: Generated<number>;
  workspace_pk: number;
  cio_id: string;
  id: string | null;
  email: string | null;
  /** Normalised email, always set when email is: finds people by email in id_only workspaces too. */
  email_norm: string | null;
  /** Normalised email in email_or_id workspaces only: the unique identifier key. */
  email_key: string | null;
  attributes: string;
  attribute_ts: string;
  unsubscribed: number;
  created_at_s: number;
  updated_at: number;
}

export interface EventsTable {
  pk: Generated<number>;
  workspace_pk: number;
  person_pk: number | null;
  anonymous_id: string | null;
  event_id: string | null;
  type: string;
  name: string;
  data: string;
  ts: number;
  received_at: number;
  merged: number;
}

export interface EventIdsTable {
  workspace_pk: number;
  event_id: string;
}

export interface ActivitiesTable {
  pk: Generated<number>;
  workspace_pk: number;
  person_pk: number;
  type: string;
  name: string | null;
  data: string;
  ts: number;
}

export interface AnonymousIdsTable {
  workspace_pk: number;
  anonymous_id: string;
  person_pk: number;
  linked_at: number;
}

export interface DevicesTable {
  workspace_pk: number;
  token: string;
  person_pk: number;
  platform: string;
  last_used_s: number | null;
  attributes: string;
  updated_at: number;
}

export interface SuppressionsTable {
  workspace_pk: number;
  kind: 'id' | 'email';
  value: string;
  /** Shared by the id and email of one suppressed person, so unsuppressing either frees both. */
  group_key: string;
  created_at: number;
}

export interface ObjectsTable {
  pk: Generated<number>;
  workspace_pk: number;
  /** A string of digits: "1", "2", … */
  object_type_id: string;
  object_id: string;
  attributes: string;
  attribute_ts: string;
  created_at_s: number;
  updated_at: number;
}

export interface RelationshipsTable {
  workspace_pk: number;
  person_pk: number;
  object_pk: number;
  attributes: string;
  updated_at: number;
}

/** A relationship to an anonymous id no person holds yet (v2 identify_anonymous, Segment group by anonymousId). */
export interface PendingRelationshipsTable {
  workspace_pk: number;
  anonymous_id: string;
  object_pk: number;
  attributes: string;
  updated_at: number;
}

export interface IntegrationLogTable {
  pk: Generated<number>;
  workspace_pk: number;
  ts: number;
  surface: string;
  message_id: string | null;
  reference: string | null;
  outcome: string;
  reason: string;
}

export interface JobsTable {
  pk: Generated<number>;
  kind: string;
  /** Unix ms when the job is due. */
  run_at: number;
  /** JSON. */
  payload: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  claimed_by: string | null;
  /** Unix ms after which a running job counts as abandoned and may be taken over. */
  lease_until: number | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentMessagesTable {
  workspace_pk: number;
  message_id: string;
  received_at: number;
}

export interface SegmentsTable {
  pk: Generated<number>;
  workspace_pk: number;
  name: string;
  description: string;
  type: 'manual' | 'dynamic';
  /** JSON audience filter of a data-driven segment; null for a manual one. */
  filter: string | null;
  created_at: number;
  updated_at: number;
}

export interface SegmentMembersTable {
  segment_pk: number;
  person_pk: number;
  workspace_pk: number;
  added_at: number;
}

export interface ExportsTable {
  pk: Generated<number>;
  workspace_pk: number;
  type: 'customers';
  /** expired: done, then its CSV was deleted after the retention period (jobs/retention.ts). */
  status: 'pending' | 'done' | 'failed' | 'expired';
  /** JSON audience filter. */
  filters: string;
  /** JSON array of attribute columns asked for; null means every attribute the workspace has. */
  attributes: string | null;
  description: string;
  /** Rows in the finished CSV. */
  total: number;
  bytes: number;
  downloads: number;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface ExportChunksTable {
  export_pk: number;
  seq: number;
  data: string;
}

/** Every attribute name a workspace's people have been given (never removed): an export's columns. */
export interface AttributeKeysTable {
  workspace_pk: number;
  key: string;
}
