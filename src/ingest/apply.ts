import { RosterError } from '../domain/errors.js';
import type { Db } from '../store/types.js';
import { applyAnonymousEvent, applyEvent } from './apply-event.js';
import { applyIdentify } from './apply-identify.js';
import { applyMerge } from './apply-merge.js';
import { applyAlias, applySegmentMessage } from './apply-segment.js';
import { applyAddDevice, applyDelete, applyDeleteDevice, applySuppress, applyUnsuppress } from './apply-person-ops.js';
import type { CallContext, Command, Outcome } from './commands.js';

/** Applies one command inside the writer's transaction. */
export function applyCommand(db: Db, ctx: CallContext, cmd: Command): Promise<Outcome> {
  switch (cmd.kind) {
    case 'identify':
      return applyIdentify(db, ctx, cmd.ref, cmd.payload);
    case 'event':
      return applyEvent(db, ctx, cmd.ref, cmd.event);
    case 'anonymous_event':
      return applyAnonymousEvent(db, ctx, cmd.anonymousId, cmd.event);
    case 'delete':
      return applyDelete(db, ctx, cmd.ref);
    case 'suppress':
      return applySuppress(db, ctx, cmd.ref);
    case 'unsuppress':
      return applyUnsuppress(db, ctx, cmd.ref);
    case 'merge':
      return applyMerge(db, ctx, cmd.primary, cmd.secondary);
    case 'add_device':
      return applyAddDevice(db, ctx, cmd.ref, cmd.device);
    case 'delete_device':
      return applyDeleteDevice(db, ctx, cmd.ref, cmd.token);
    // IN PROGRESS (issue 3): objects, relationships, alias and Segment messages get their appliers next.
    case 'object_identify':
    case 'object_delete':
    case 'relationships':
      return Promise.resolve({ status: 'error', error: new RosterError('invalid_action', 'Not supported yet.') });
    case 'alias':
      return applyAlias(db, ctx, cmd.userRef, cmd.previousId);
    case 'segment_message':
      return applySegmentMessage(db, ctx, cmd, applyCommand);
  }
}
