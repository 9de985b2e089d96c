import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../../domain/errors.js';
import { bodyAtMost, byteLength } from '../../domain/limits.js';
import type { CallContext } from '../../ingest/commands.js';
import { mapSegmentMessage } from '../../ingest/segment/mapping.js';
import type { Writer } from '../../ingest/writer.js';
import type { Db } from '../../store/types.js';
import type { AuthCache } from '../auth.js';
import type { SurfaceAccess } from '../access.js';
import { webhookAuth, writeKeyAuth } from './auth.js';

/** Segment's HTTP tracking API limits (reference/segment.md §1.2). */
export const segmentLimits = { messageBytes: 32 * 1024, batchBytes: 500 * 1024, batchMessages: 2500 } as const;

const singleTypes = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
type Msg = Record<string, unknown>;

const isObject = (v: unknown): v is Msg => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Checks the messages, then applies each as one deduplicated unit; resolves once all have committed. */
async function ingest(request: FastifyRequest, writer: Writer, messages: Msg[], surface: CallContext['surface']) {
  if (messages.length > segmentLimits.batchMessages)
    throw fail('invalid_body', `A batch may hold at most ${segmentLimits.batchMessages} messages.`);
  // A message (batch defaults merged in) is made of parts of the body, so none in a body of at most 32 KB can be over
  // 32 KB: only a larger body's messages are encoded again to be measured (that cost the Segment row ~3% of its CPU).
  const bodyFits = bodyAtMost(request.rawBody, segmentLimits.messageBytes);
  for (const m of messages) {
    if (!isObject(m)) throw fail('invalid_body', 'Each message must be a JSON object.');
    if (!bodyFits && byteLength(JSON.stringify(m)) > segmentLimits.messageBytes)
      throw fail('payload_too_large', `A message may be at most ${segmentLimits.messageBytes} bytes.`);
  }
  const ws = request.workspace;
  const settings = { identifiers: ws.settings.identifiers, convertTimestamps: ws.segmentConvertTimestamps };
  const receivedAt = Date.now();
  await Promise.all(
    messages.map((m) => {
      const mapped = mapSegmentMessage(m, settings);
      return writer.submit(
        { ws, surface, messageId: mapped.messageId ?? undefined, receivedAt },
        { kind: 'segment_message', ...mapped },
      );
    }),
  );
}

/** Batch-level `context` and `integrations` merge into each message; the message's own keys win. */
function withBatchDefaults(body: Msg, m: unknown): unknown {
  if (!isObject(m)) return m;
  const merged: Msg = { ...m };
  for (const key of ['context', 'integrations'] as const)
    if (isObject(body[key])) merged[key] = { ...body[key], ...(isObject(m[key]) ? m[key] : {}) };
  return merged;
}

const accepted = (reply: FastifyReply) => reply.code(200).send({ success: true });

/** Segment's tracking protocol (`/v1/identify` … `/v1/batch`) and its Webhooks destinations (`/segment/webhook`). */
export function segmentRoutes(
  app: FastifyInstance,
  deps: { db: Db; writer: Writer; cache: AuthCache; masterKey: Buffer; access?: SurfaceAccess },
) {
  const config = { errorShape: 'segment' as const };
  const access = deps.access;
  // An address that failed authentication too often is refused before its body is even read.
  // (Callback style: no promise per request; Fastify answers a synchronous throw as the hook's error.)
  if (access)
    app.addHook('onRequest', (request, _reply, done) => {
      access.guard(request);
      done();
    });
  const auth = writeKeyAuth(deps.db, deps.cache, access);

  for (const type of singleTypes) {
    app.post(
      `/v1/${type}`,
      { config, bodyLimit: segmentLimits.messageBytes, preHandler: auth },
      async (request, reply) => {
        if (!isObject(request.body)) throw fail('invalid_body', 'The body must be a JSON object.');
        await ingest(request, deps.writer, [{ ...request.body, type: request.body.type ?? type }], 'segment');
        return accepted(reply);
      },
    );
  }

  for (const path of ['/v1/batch', '/v1/import']) {
    app.post(path, { config, bodyLimit: segmentLimits.batchBytes, preHandler: auth }, async (request, reply) => {
      const body = request.body;
      if (!isObject(body) || !Array.isArray(body.batch)) throw fail('invalid_body', 'batch: required, an array.');
      await ingest(request, deps.writer, body.batch.map((m) => withBatchDefaults(body, m)) as Msg[], 'segment');
      return accepted(reply);
    });
  }

  app.post(
    '/segment/webhook',
    {
      config,
      bodyLimit: segmentLimits.batchBytes,
      preHandler: webhookAuth(deps.db, deps.cache, deps.masterKey, access),
    },
    async (request, reply) => {
      const body = request.body;
      const messages = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.batch) ? body.batch : [body];
      await ingest(request, deps.writer, messages as Msg[], 'webhook');
      return accepted(reply);
    },
  );
}
