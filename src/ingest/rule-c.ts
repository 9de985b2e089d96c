import { errorCatalogue } from '../domain/errors.js';
import type { Conflict } from '../domain/identify.js';
import { activitiesStore } from '../store/activities.js';
import { integrationLogStore } from '../store/integration-log.js';
import type { Db } from '../store/types.js';
import type { CallContext } from './commands.js';

/** `email: The identifier is already associated with a different profile.` */
export const conflictMessage = (c: Conflict): string => `${c.field}: ${errorCatalogue[c.reason].message}`;

/** Rule C: each refused identifier change is recorded on the person and in the integration log. */
export async function recordConflicts(
  db: Db,
  ctx: CallContext,
  personPk: number,
  reference: string,
  conflicts: Conflict[],
): Promise<void> {
  for (const c of conflicts) {
    const message = conflictMessage(c);
    await activitiesStore.record(
      db,
      ctx.ws.pk,
      personPk,
      'failed_attribute_change',
      { field: c.field, value: c.value, reason: c.reason, message },
      ctx.receivedAt,
    );
    await integrationLogStore.record(
      db,
      ctx.ws.pk,
      { surface: ctx.surface, messageId: ctx.messageId, reference, outcome: c.reason, reason: message },
      ctx.receivedAt,
    );
  }
}
