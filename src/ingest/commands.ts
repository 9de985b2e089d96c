import type { AttributeChanges } from '../domain/attributes.js';
import type { DeliveryMetric } from '../domain/delivery-metrics.js';
import type { DevicePayload } from '../domain/devices.js';
import type { RosterError } from '../domain/errors.js';
import type { EventPayload } from '../domain/events.js';
import type { IdentifyPayload } from '../domain/identify-payload.js';
import type { Conflict } from '../domain/identify.js';
import type { Reference } from '../domain/identifiers.js';
import type { ObjectRef, PersonLink } from '../domain/objects.js';
import type { WorkspaceRecord } from '../store/workspaces.js';

/** Where a call came from, for the integration log. */
export interface CallContext {
  ws: WorkspaceRecord;
  surface: 'track_v1' | 'track_v2' | 'segment' | 'webhook' | 'cli' | 'app_api';
  messageId?: string;
  /** Unix ms when Roster received the call. */
  receivedAt: number;
}

export type { ObjectRef, PersonLink } from '../domain/objects.js';

/** A validated write, waiting for the writer. Every surface produces these; one applier each. */
export type Command =
  | { kind: 'identify'; ref: Reference; payload: IdentifyPayload }
  | { kind: 'event'; ref: Reference; event: EventPayload }
  | { kind: 'anonymous_event'; anonymousId: string | null; event: EventPayload }
  /** `reportMissing`: answer person_not_found when no one is there (bulk delete says what happened per person). */
  | { kind: 'delete'; ref: Reference; reportMissing?: boolean }
  | { kind: 'suppress'; ref: Reference }
  /** `reportMissing`: answer suppression_not_found when the identifier is not suppressed. */
  | { kind: 'unsuppress'; ref: Reference; reportMissing?: boolean }
  | { kind: 'merge'; primary: Reference; secondary: Reference }
  | { kind: 'add_device'; ref: Reference; device: DevicePayload }
  | { kind: 'delete_device'; ref: Reference; token: string }
  /** A delivery metric (`POST /api/v1/metrics`): recorded in the integration log only. */
  | { kind: 'delivery_metric'; metric: DeliveryMetric }
  /** Object upsert (v2 object identify/identify_anonymous, Segment group) with the people related to it. */
  | {
      kind: 'object_identify';
      object: ObjectRef;
      changes: AttributeChanges;
      timestamp?: number;
      /** Unix seconds; set at creation (or when sent), like a person's created_at. */
      createdAt?: number;
      relationships: { person: PersonLink; attributes: AttributeChanges }[];
    }
  | { kind: 'object_delete'; object: ObjectRef }
  /** Relationships added or removed, seen from either side. */
  | {
      kind: 'relationships';
      action: 'add' | 'delete';
      pairs: { person: PersonLink; object: ObjectRef; attributes: AttributeChanges }[];
    }
  /** Segment alias: previousId names a person → merge into userId (or rename); else link previousId as anonymous. */
  | { kind: 'alias'; userRef: Reference; previousId: string }
  /** One Segment message: deduplicated by messageId, its commands applied together. */
  | {
      kind: 'segment_message';
      messageId: string | null;
      commands: Command[];
      /** Set when the message cannot be applied; it is logged with this outcome and answered 200. */
      rejected?: { outcome: string; reason: string; reference: string | null };
    };

/** How a command ended, after its batch committed. */
export type Outcome =
  /** `created`: an identify made a new person (imports count created and updated people apart). */
  | { status: 'ok'; created?: boolean }
  | { status: 'dropped'; reason: 'suppressed' | 'duplicate' }
  | { status: 'conflict'; conflicts: Conflict[] }
  | { status: 'error'; error: RosterError };

export const ok: Outcome = { status: 'ok' };
