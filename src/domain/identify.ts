import type { Reference } from './identifiers.js';
import { normalizeEmail } from './identifiers.js';
import type { WorkspaceSettings } from './workspace.js';

/** The identifiers of a stored person, as the decision table needs them. */
export interface PersonIdentity {
  pk: number;
  id: string | null;
  emailKey: string | null;
}

export type ConflictReason = 'identifier_in_use' | 'identifier_change_requires_cio_id';

/** An identifier change that rule C refuses while the rest of the call is applied. */
export interface Conflict {
  field: 'id' | 'email' | 'anonymous_id';
  value: string;
  reason: ConflictReason;
}

/** What the people found by the call's identifiers are (the caller looks them up; this module does no I/O). */
export interface IdentifyLookups {
  /** The person the reference names. */
  byRef: PersonIdentity | null;
  /** The person holding the body email (email_or_id workspaces, when the body has an email). */
  byEmail: PersonIdentity | null;
  /** The person holding the body id (when the body has an id). */
  byId: PersonIdentity | null;
}

export interface IdentifyRequest {
  ref: Reference;
  bodyId?: string;
  bodyEmail?: string;
  updateOnly: boolean;
}

/** Which person an identify applies to, which identifiers it sets there, and which changes rule C refuses. */
export type IdentifyDecision =
  | { action: 'not_found'; row: number }
  | { action: 'update'; pk: number; setId?: string; setEmail?: string; conflicts: Conflict[]; row: number }
  | { action: 'create'; setId?: string; setEmail?: string; conflicts: Conflict[]; row: number };

const inUse = (field: Conflict['field'], value: string): Conflict => ({ field, value, reason: 'identifier_in_use' });
const needsCioId = (field: Conflict['field'], value: string): Conflict => ({
  field,
  value,
  reason: 'identifier_change_requires_cio_id',
});

/**
 * The identify decision table of identity.md. `row` names the table row that decided, for tests and logs.
 * Pure: every person it may need is passed in `lookups`.
 */
export function resolveIdentify(
  settings: WorkspaceSettings,
  req: IdentifyRequest,
  lookups: IdentifyLookups,
): IdentifyDecision {
  const emailIsIdentifier = settings.identifiers === 'email_or_id';
  const emailKey = req.bodyEmail === undefined ? undefined : normalizeEmail(req.bodyEmail);
  const conflicts: Conflict[] = [];
  const { ref } = req;

  if (ref.kind === 'cio_id') {
    const p = lookups.byRef;
    if (!p) return { action: 'not_found', row: 1 };
    const d: IdentifyDecision = { action: 'update', pk: p.pk, conflicts, row: 2 };
    if (req.bodyId !== undefined && req.bodyId !== p.id) {
      if (lookups.byId && lookups.byId.pk !== p.pk) conflicts.push(inUse('id', req.bodyId));
      else d.setId = req.bodyId;
    }
    if (req.bodyEmail !== undefined) {
      if (!emailIsIdentifier) d.setEmail = req.bodyEmail;
      else if (emailKey !== p.emailKey) {
        if (lookups.byEmail && lookups.byEmail.pk !== p.pk) conflicts.push(inUse('email', req.bodyEmail));
        else d.setEmail = req.bodyEmail;
      }
    }
    return d;
  }

  if (ref.kind === 'id') {
    if (req.bodyId !== undefined && req.bodyId !== ref.value) conflicts.push(needsCioId('id', req.bodyId));
    const p = lookups.byRef;
    if (!emailIsIdentifier) {
      if (p) return { action: 'update', pk: p.pk, setEmail: req.bodyEmail, conflicts, row: 16 };
      if (req.updateOnly) return { action: 'not_found', row: 16 };
      return { action: 'create', setId: ref.value, setEmail: req.bodyEmail, conflicts, row: 16 };
    }
    if (p) {
      const d: IdentifyDecision = { action: 'update', pk: p.pk, conflicts, row: 3 };
      if (emailKey !== undefined && emailKey !== p.emailKey) {
        const holder = lookups.byEmail;
        if (holder && holder.pk !== p.pk) {
          conflicts.push(inUse('email', req.bodyEmail!));
          d.row = 6;
        } else if (p.emailKey === null) {
          d.setEmail = req.bodyEmail;
          d.row = 4;
        } else {
          d.row = 5;
          if (settings.allowEmailUpdateById) d.setEmail = req.bodyEmail;
          else conflicts.push(needsCioId('email', req.bodyEmail!));
        }
      }
      return d;
    }
    const lead = emailKey === undefined ? null : lookups.byEmail;
    if (lead) {
      if (lead.id === null) return { action: 'update', pk: lead.pk, setId: ref.value, conflicts, row: 7 };
      if (req.updateOnly) return { action: 'not_found', row: 8 };
      conflicts.push(inUse('email', req.bodyEmail!));
      return { action: 'create', setId: ref.value, conflicts, row: 8 };
    }
    if (req.updateOnly) return { action: 'not_found', row: 9 };
    return { action: 'create', setId: ref.value, setEmail: req.bodyEmail, conflicts, row: 9 };
  }

  // Email reference (email_or_id workspaces only).
  if (emailKey !== undefined && emailKey !== ref.key) conflicts.push(needsCioId('email', req.bodyEmail!));
  const p = lookups.byRef;
  if (p) {
    const d: IdentifyDecision = { action: 'update', pk: p.pk, conflicts, row: 10 };
    if (req.bodyId !== undefined && req.bodyId !== p.id) {
      if (p.id !== null) {
        conflicts.push(needsCioId('id', req.bodyId));
        d.row = 13;
      } else if (lookups.byId && lookups.byId.pk !== p.pk) {
        conflicts.push(inUse('id', req.bodyId));
        d.row = 12;
      } else {
        d.setId = req.bodyId;
        d.row = 11;
      }
    }
    return d;
  }
  const holder = req.bodyId === undefined ? null : lookups.byId;
  if (holder) {
    const d: IdentifyDecision = { action: 'update', pk: holder.pk, conflicts, row: 14 };
    if (holder.emailKey === null || settings.allowEmailUpdateById) d.setEmail = ref.value;
    else conflicts.push(needsCioId('email', ref.value));
    return d;
  }
  if (req.updateOnly) return { action: 'not_found', row: 15 };
  return { action: 'create', setEmail: ref.value, setId: req.bodyId, conflicts, row: 15 };
}
