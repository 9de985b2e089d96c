import { describeDeliveryMetric, type DeliveryMetric } from '../domain/delivery-metrics.js';
import { integrationLogStore } from '../store/integration-log.js';
import type { Db } from '../store/types.js';
import type { CallContext, Outcome } from './commands.js';

/**
 * A delivery metric (`POST /api/v1/metrics`, Segment's reportDeliveryEvent). Roster sends no messages and keeps no
 * deliveries, so the report is recorded in the workspace's integration log (outcome `delivery_metric`, message id =
 * delivery_id, reference = recipient) and changes nothing else: no person is created or touched.
 */
export async function applyDeliveryMetric(db: Db, ctx: CallContext, m: DeliveryMetric): Promise<Outcome> {
  await integrationLogStore.record(
    db,
    ctx.ws.pk,
    {
      surface: ctx.surface,
      messageId: m.deliveryId,
      reference: m.recipient ?? null,
      outcome: 'delivery_metric',
      reason: describeDeliveryMetric(m),
    },
    ctx.receivedAt,
  );
  return { status: 'ok' };
}
