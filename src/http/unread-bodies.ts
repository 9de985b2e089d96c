import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';

// An answer sent before the request's body was read (a GET's body, which Fastify never reads; a 401, 404 or 413 sent
// without reading it) is followed by a close of the connection when the client asked for one or Fastify refused the
// body. A socket closed with bytes still unread is reset: the client, still sending, gets EPIPE or ECONNRESET instead
// of the answer, or loses the end of a long one. So, like a web server's lingering close, the rest of the body is read
// and dropped before the answer goes out: up to `lingerBytes` and `lingerMs`, past which the connection is closed.
const lingerBytes = 4 * 1024 * 1024;
const lingerMs = 10_000;

/** Reads what is left of the body, dropping it; true when it ended within the byte and time budget. */
function readRest(raw: IncomingMessage): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = 0;
    const timer = setTimeout(() => finish(false), lingerMs);
    function finish(ended: boolean) {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onClose);
      if (!ended) raw.pause();
      resolve(ended);
    }
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > lingerBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(false);
    raw.on('data', onData).on('end', onEnd).on('close', onClose).on('error', onClose);
    raw.resume();
  });
}

/** Reads and drops a request's unread body before its answer is sent (see above). */
export function readUnreadBodies(app: FastifyInstance): void {
  // A callback hook, not an async one: nearly every answer has nothing to wait for and goes on at once.
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (raw.complete || raw.destroyed || raw.readableEnded) return done(null, payload);
    void readRest(raw).then((ended) => {
      if (!ended) reply.header('connection', 'close');
      done(null, payload);
    });
  });
}
