import { RosterError } from '../domain/errors.js';
import { parseReference, type Reference } from '../domain/identifiers.js';
import { peopleStore } from '../store/people.js';
import { segmentMessagesStore } from '../store/segment-messages.js';
import type { Db } from '../store/types.js';
import type { CallContext, Command, Outcome } from './commands.js';
import { applyIdentify } from './apply-identify.js';
import { applyMerge } from './apply-merge.js';
import { logOutcome } from './people-resolver.js';

type ApplyFn = (db: Db, ctx: CallContext, cmd: Command) => Promise<Outcome>;

/**
 * A message that is a single event whose id is its messageId is deduplicated by the events' own unique event id
 * (forever, not just 7 days), so it need not be remembered separately: one write less for most Segment traffic.
 */
export function dedupedByEventId(cmd: Extract<Command, { kind: 'segment_message' }>): boolean {
  const [only, ...rest] = cmd.commands;
  return (
    rest.length === 0 &&
    only !== undefined &&
    (only.kind === 'event' || only.kind === 'anonymous_event') &&
    only.event.eventId === cmd.messageId
  );
}

/**
 * One Segment message: dropped when its messageId was seen, else each of its commands applied in turn. Segment's
 * convention answers 200 whatever happens; failures are in the integration log (rule C and 404s log themselves).
 */
export async function applySegmentMessage(
  db: Db,
  ctx: CallContext,
  cmd: Extract<Command, { kind: 'segment_message' }>,
  apply: ApplyFn,
): Promise<Outcome> {
  if (
    cmd.messageId !== null &&
    !dedupedByEventId(cmd) &&
    !(await segmentMessagesStore.remember(db, ctx.ws.pk, cmd.messageId, ctx.receivedAt))
  ) {
    await logOutcome(db, ctx, null, 'duplicate', `messageId ${cmd.messageId} was already received.`);
    return { status: 'dropped', reason: 'duplicate' };
  }
  if (cmd.rejected) {
    await logOutcome(db, ctx, cmd.rejected.reference, cmd.rejected.outcome, cmd.rejected.reason);
    return { status: 'ok' };
  }
  for (const sub of cmd.commands) {
    try {
      const outcome = await apply(db, ctx, sub);
      // Conflicts, drops and 404s were logged by their appliers; other refusals are logged here.
      if (outcome.status === 'error' && outcome.error.code !== 'person_not_found')
        await logOutcome(db, ctx, null, outcome.error.code, outcome.error.message);
    } catch (err) {
      if (!(err instanceof RosterError)) throw err;
      await logOutcome(db, ctx, null, err.code, err.message);
    }
  }
  return { status: 'ok' };
}

/**
 * Segment alias (segment-mapping.md): previousId naming a person merges them into userId, or, when userId names
 * no one yet, gives them userId; previousId naming no one is linked to userId's person as an anonymous id.
 */
export async function applyAlias(db: Db, ctx: CallContext, userRef: Reference, previousId: string): Promise<Outcome> {
  const mode = ctx.ws.settings.identifiers;
  const previousRef = parseReference(previousId, mode);
  const previous = await peopleStore.findByRef(db, ctx.ws.pk, previousRef);
  if (!previous) {
    return applyIdentify(db, ctx, userRef, {
      anonymousId: previousId,
      changes: {},
      removeEmail: false,
      updateOnly: false,
    });
  }
  const user = await peopleStore.findByRef(db, ctx.ws.pk, userRef);
  if (user?.pk === previous.pk) return { status: 'ok' };
  if (user) return applyMerge(db, ctx, userRef, previousRef);
  // Nobody holds userId: the previous person takes it, as an identify by their cio_id would.
  const rename =
    userRef.kind === 'email' ? { bodyEmail: userRef.value } : userRef.kind === 'id' ? { bodyId: userRef.value } : {};
  return applyIdentify(
    db,
    ctx,
    { kind: 'cio_id', value: previous.cioId },
    { ...rename, changes: {}, removeEmail: false, updateOnly: false },
  );
}
