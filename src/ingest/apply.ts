import type { Db } from '../store/types.js';
import { applyDeliveryMetric } from './apply-delivery-metric.js';
import { applyAnonymousEvent, applyEvent } from './apply-event.js';
import { applyIdentify } from './apply-identify.js';
import { applyMerge } from './apply-merge.js';
import { applyObjectDelete, applyObjectIdentify, applyRelationships } from './apply-objects.js';
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
      return applyDelete(db, ctx, cmd.ref, cmd.reportMissing);
    case 'suppress':
      return applySuppress(db, ctx, cmd.ref);
    case 'unsuppress':
      return applyUnsuppress(db, ctx, cmd.ref, cmd.reportMissing);
    case 'merge':
      return applyMerge(db, ctx, cmd.primary, cmd.secondary);
    case 'add_device':
      return applyAddDevice(db, ctx, cmd.ref, cmd.device);
    case 'delete_device':
      return applyDeleteDevice(db, ctx, cmd.ref, cmd.token);
    case 'delivery_metric':
      return applyDeliveryMetric(db, ctx, cmd.metric);
    case 'object_identify':
      return applyObjectIdentify(db, ctx, cmd);
    case 'object_delete':
      return applyObjectDelete(db, ctx, cmd.object);
    case 'relationships':
      return applyRelationships(db, ctx, cmd.action, cmd.pairs);
    case 'alias':
      return applyAlias(db, ctx, cmd.userRef, cmd.previousId);
    case 'segment_message':
      return applySegmentMessage(db, ctx, cmd, applyCommand);
  }
}
