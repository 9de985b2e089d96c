import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../store/types.js';

/** Liveness and readiness. The server listens only after migrations, so answering at all means ready. */
export function healthRoutes(app: FastifyInstance, db: Db) {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await sql`select 1`.execute(db);
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
}
