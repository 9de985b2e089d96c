import type { FastifyInstance } from 'fastify';
import { parseDeliveryMetric } from '../../domain/delivery-metrics.js';
import { parseDevicePayload, parseDeviceToken } from '../../domain/devices.js';
import { fail } from '../../domain/errors.js';
import { parseEventPayload } from '../../domain/events.js';
import { parseIdentifyPayload } from '../../domain/identify-payload.js';
import { parseReference, parseTypedReference, type Reference } from '../../domain/identifiers.js';
import { limits } from '../../domain/limits.js';
import type { Command } from '../../ingest/commands.js';
import type { Writer } from '../../ingest/writer.js';
import { callContext } from '../context.js';
import { sendOutcome, type ErrorShape } from '../errors.js';

interface RefParams {
  ref: string;
}

/** `{"id": "x"}`: an object with exactly one identifier, as merge_customers takes. */
function parseSingleIdentifier(raw: unknown, side: string, mode: 'email_or_id' | 'id_only'): Reference {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw fail('invalid_merge', `${side}: required, an object with one of id, email or cio_id.`, side);
  const entries = Object.entries(raw);
  if (entries.length !== 1)
    throw fail('invalid_merge', `You cannot have multiple identifiers in the ${side} object.`, side);
  const [type, value] = entries[0]!;
  return parseTypedReference(type, value, mode);
}

/** Track API v1: Customer.io's classic people, events, devices, suppression and merge endpoints. */
export function trackV1Routes(app: FastifyInstance, writer: Writer) {
  const config = { errorShape: 'track_v1' as ErrorShape };
  const opts = { config, bodyLimit: limits.v1BodyBytes };
  const submit = (request: Parameters<typeof callContext>[0], cmd: Command) =>
    writer.submit(callContext(request, 'track_v1'), cmd);
  const ref = (request: { params: RefParams; workspace: { settings: { identifiers: 'email_or_id' | 'id_only' } } }) =>
    parseReference(request.params.ref, request.workspace.settings.identifiers);

  app.put<{ Params: RefParams }>('/api/v1/customers/:ref', opts, async (request, reply) => {
    // No body at all is an empty update; a JSON `null` is a non-object body and refused like `[]`.
    const body = request.body === undefined ? {} : request.body;
    const payload = parseIdentifyPayload(body, request.workspace.settings.identifiers);
    return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'identify', ref: ref(request), payload }));
  });

  app.delete<{ Params: RefParams }>('/api/v1/customers/:ref', opts, async (request, reply) =>
    sendOutcome(reply, 'track_v1', await submit(request, { kind: 'delete', ref: ref(request) })),
  );

  app.post<{ Params: RefParams }>('/api/v1/customers/:ref/events', opts, async (request, reply) => {
    const event = parseEventPayload(request.body);
    return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'event', ref: ref(request), event }));
  });

  app.post('/api/v1/events', opts, async (request, reply) => {
    const event = parseEventPayload(request.body);
    const raw = (request.body as Record<string, unknown>).anonymous_id;
    if (raw !== undefined && raw !== null && typeof raw !== 'string')
      throw fail('invalid_identifier', 'anonymous_id: must be a string.', 'anonymous_id');
    const anonymousId = raw ? String(raw) : null;
    return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'anonymous_event', anonymousId, event }));
  });

  app.post<{ Params: RefParams }>('/api/v1/customers/:ref/suppress', opts, async (request, reply) =>
    sendOutcome(reply, 'track_v1', await submit(request, { kind: 'suppress', ref: ref(request) })),
  );

  app.post<{ Params: RefParams }>('/api/v1/customers/:ref/unsuppress', opts, async (request, reply) =>
    sendOutcome(reply, 'track_v1', await submit(request, { kind: 'unsuppress', ref: ref(request) })),
  );

  app.post('/api/v1/merge_customers', { ...opts, config: { errorShape: 'track_v1_merge' } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const mode = request.workspace.settings.identifiers;
    const primary = parseSingleIdentifier(body.primary, 'primary', mode);
    const secondary = parseSingleIdentifier(body.secondary, 'secondary', mode);
    return sendOutcome(reply, 'track_v1_merge', await submit(request, { kind: 'merge', primary, secondary }));
  });

  app.put<{ Params: RefParams }>('/api/v1/customers/:ref/devices', opts, async (request, reply) => {
    const device = parseDevicePayload((request.body as Record<string, unknown> | undefined)?.device, 'id');
    return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'add_device', ref: ref(request), device }));
  });

  app.delete<{ Params: RefParams & { token: string } }>(
    '/api/v1/customers/:ref/devices/:token',
    opts,
    async (request, reply) => {
      const token = parseDeviceToken(request.params.token);
      return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'delete_device', ref: ref(request), token }));
    },
  );

  // Delivery metrics (Segment's reportDeliveryEvent): validated, then recorded in the integration log (docs/api.md).
  app.post('/api/v1/metrics', opts, async (request, reply) => {
    const metric = parseDeliveryMetric(request.body);
    return sendOutcome(reply, 'track_v1', await submit(request, { kind: 'delivery_metric', metric }));
  });

  app.get('/api/v1/accounts/region', { config }, async (request) => ({
    url: `${request.protocol}://${request.host}`,
    region: 'us',
    environment_id: request.workspace.pk,
  }));

  app.get('/auth', { config }, async () => ({}));
}
