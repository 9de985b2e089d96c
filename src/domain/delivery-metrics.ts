import { fail } from './errors.js';
import { byteLength, limits } from './limits.js';
import { parseCallTimestamp } from './timestamps.js';

/** The metrics `POST /api/v1/metrics` takes (Segment's reportDeliveryEvent choices, reference/segment.md §3.2). */
export const deliveryMetricNames = [
  'delivered',
  'opened',
  'clicked',
  'converted',
  'spammed',
  'bounced',
  'dropped',
  'deferred',
] as const;

export type DeliveryMetricName = (typeof deliveryMetricNames)[number];

/** A delivery metric report, validated. */
export interface DeliveryMetric {
  deliveryId: string;
  metric: DeliveryMetricName;
  /** Unix ms, when the sender gave one. */
  timestamp?: number;
  recipient?: string;
  reason?: string;
  href?: string;
  /** `{action_name, action_value}` for in-app actions. */
  metadata?: Record<string, unknown>;
}

/** Free-text fields are kept short: they only go to the integration log. */
const textBytes = 1000;

function optionalText(body: Record<string, unknown>, field: string): string | undefined {
  const v = body[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || byteLength(v) > textBytes)
    throw fail('invalid_body', `${field}: must be a string of at most ${textBytes} bytes.`, field);
  return v;
}

/** Reads `{delivery_id, metric, timestamp?, recipient?, reason?, href?, metadata?}`; other keys are ignored. */
export function parseDeliveryMetric(raw: unknown): DeliveryMetric {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_body', 'The body must be a JSON object.');
  const body = raw as Record<string, unknown>;
  const deliveryId = body.delivery_id;
  if (typeof deliveryId !== 'string' || deliveryId.trim() === '' || byteLength(deliveryId) > limits.identifierBytes)
    throw fail(
      'invalid_body',
      `delivery_id: required, a string of at most ${limits.identifierBytes} bytes.`,
      'delivery_id',
    );
  const metric = body.metric;
  if (typeof metric !== 'string' || !(deliveryMetricNames as readonly string[]).includes(metric))
    throw fail('invalid_body', `metric: one of ${deliveryMetricNames.join(', ')}.`, 'metric');
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
    throw fail('invalid_body', 'metadata: must be a JSON object.', 'metadata');
  const out: DeliveryMetric = { deliveryId, metric: metric as DeliveryMetricName };
  const timestamp = parseCallTimestamp(body.timestamp);
  if (timestamp !== undefined) out.timestamp = timestamp;
  for (const field of ['recipient', 'reason', 'href'] as const) {
    const v = optionalText(body, field);
    if (v !== undefined) out[field] = v;
  }
  if (metadata) {
    if (byteLength(JSON.stringify(metadata)) > textBytes)
      throw fail('invalid_body', `metadata: at most ${textBytes} bytes.`, 'metadata');
    out.metadata = metadata as Record<string, unknown>;
  }
  return out;
}

/** The integration-log line for a metric: what was reported, in one readable sentence. */
export function describeDeliveryMetric(m: DeliveryMetric): string {
  const parts = [`${m.metric} reported for delivery ${m.deliveryId}`];
  if (m.timestamp !== undefined) parts.push(`at ${Math.floor(m.timestamp / 1000)}`);
  if (m.recipient !== undefined) parts.push(`recipient ${m.recipient}`);
  if (m.reason !== undefined) parts.push(`reason ${m.reason}`);
  if (m.href !== undefined) parts.push(`href ${m.href}`);
  if (m.metadata !== undefined) parts.push(`metadata ${JSON.stringify(m.metadata)}`);
  return `${parts.join('; ')}. Roster sends no messages, so the metric is recorded here only.`;
}
