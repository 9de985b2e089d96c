import type { DevicePayload } from '../domain/devices.js';
import type { RosterError } from '../domain/errors.js';
import type { EventPayload } from '../domain/events.js';
import type { IdentifyPayload } from '../domain/identify-payload.js';
import type { Conflict } from '../domain/identify.js';
import type { Reference } from '../domain/identifiers.js';
import type { WorkspaceRecord } from '../store/workspaces.js';

/** Where a call came from, for the integration log. */
export interface CallContext {
  ws: WorkspaceRecord;
  surface: 'track_v1' | 'track_v2' | 'segment' | 'webhook' | 'cli' | 'app_api';
  messageId?: string;
  /** Unix ms when Roster received the call. */
  receivedAt: number;
}

/** A validated write, waiting for the writer. Every surface produces these; one applier each. */
export type Command =
  | { kind: 'identify'; ref: Reference; payload: IdentifyPayload }
  | { kind: 'event'; ref: Reference; event: EventPayload }
  | { kind: 'anonymous_event'; anonymousId: string | null; event: EventPayload }
  | { kind: 'delete'; ref: Reference }
  | { kind: 'suppress'; ref: Reference }
  | { kind: 'unsuppress'; ref: Reference }
  | { kind: 'merge'; primary: Reference; secondary: Reference }
  | { kind: 'add_device'; ref: Reference; device: DevicePayload }
  | { kind: 'delete_device'; ref: Reference; token: string };

/** How a command ended, after its batch committed. */
export type Outcome =
  | { status: 'ok' }
  | { status: 'dropped'; reason: 'suppressed' | 'duplicate' }
  | { status: 'conflict'; conflicts: Conflict[] }
  | { status: 'error'; error: RosterError };

export const ok: Outcome = { status: 'ok' };
