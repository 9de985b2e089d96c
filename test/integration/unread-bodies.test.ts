import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceCredentials } from '../../src/store/workspaces.js';
import {
  freePort,
  printedCredentials,
  startServeProcess,
  tempRosterHome,
  type RosterHome,
  type ServeProcess,
} from '../helpers/roster-process.js';
import { TestWorkspace } from '../helpers/roster-server.js';

/**
 * Answers sent before the request's body was read (src/http/unread-bodies.ts): a GET's body, which Fastify never
 * reads, or a 401 or 413 sent without reading it. The connection then closed with body bytes unread was reset, and
 * the client got EPIPE or ECONNRESET instead of the answer, or lost the end of a long one (found by `npm run chaos`'s
 * fuzz run: a GET of the OpenAPI document with a 1 MB body, a POST over 1 MB). Against a `roster serve` process, where
 * the reset showed; each request asks for its connection to be closed after the answer, as the fuzz run's do.
 */

let home: RosterHome;
let proc: ServeProcess;
let ws: TestWorkspace;

beforeAll(async () => {
  home = await tempRosterHome('roster-unread-');
  proc = await startServeProcess(home.dataDir, await freePort(), home.env);
  ws = new TestWorkspace(proc.base, printedCredentials(proc.output()) as unknown as WorkspaceCredentials);
});

afterAll(async () => {
  if (proc && proc.child.exitCode === null) {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  await home?.remove();
});

interface Sent {
  method: string;
  path: string;
  body?: string;
  /** Send the body in chunks without a content-length. */
  chunked?: boolean;
  auth?: string;
}

/** One request on a connection of its own that asks to be closed after the answer, as the fuzz run sends them. */
function send({ method, path, body, chunked = false, auth }: Sent): Promise<{ status: number; text: string }> {
  const url = new URL(proc.base);
  const headers: Record<string, string | number> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = auth;
  // Node frames a GET body in chunks only when told to.
  if (body !== undefined)
    headers[chunked ? 'transfer-encoding' : 'content-length'] = chunked ? 'chunked' : Buffer.byteLength(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined && chunked)
      for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.slice(at, at + 64 * 1024));
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

const bodyOf = (bytes: number) => `{"pad":"${'x'.repeat(bytes - 10)}"}`;
const oneMb = 1024 * 1024;

describe('answers before the body is read', () => {
  it('a long answer arrives whole when a GET carried a body, by length or in chunks', async () => {
    const plain = await send({ method: 'GET', path: '/docs/yaml' });
    expect(plain.status).toBe(200);
    expect(plain.text.length).toBeGreaterThan(50_000);
    for (const chunked of [false, true])
      for (const size of [10, 200_000, oneMb + 1, oneMb + 1, 3 * oneMb]) {
        const a = await send({ method: 'GET', path: '/docs/yaml', body: bodyOf(size), chunked });
        // Whole: the same bytes as without a body (compared, not printed: the document is over 200 KB).
        expect({ chunked, size, status: a.status, whole: a.text === plain.text }).toEqual({
          chunked,
          size,
          status: 200,
          whole: true,
        });
      }
  });

  it('a body over the limit gets its 413, in the shape of the API, instead of a reset connection', async () => {
    for (const chunked of [false, true, false, true]) {
      // In chunks, Fastify stops reading at the limit and refuses; the rest is read before the answer all the same.
      const v1 = await send({
        method: 'POST',
        path: '/api/v1/customers/ub-2/events',
        body: bodyOf(3 * oneMb),
        chunked,
        auth: ws.trackAuth,
      });
      expect(v1.status).toBe(413);
      expect(JSON.parse(v1.text)).toMatchObject({ meta: { code: 'payload_too_large' } });
      const segment = await send({ method: 'POST', path: '/v1/batch', body: bodyOf(3 * oneMb), auth: ws.writeKeyAuth });
      expect(segment.status).toBe(400);
      expect(JSON.parse(segment.text)).toMatchObject({ success: false, code: 'invalid_request' });
    }
  });

  it('a refusal before the body is read (401, 404) arrives; past 4 MB of body the server closes and stays up', async () => {
    const noAuth = await send({ method: 'PUT', path: '/api/v1/customers/ub-3', body: bodyOf(3 * oneMb) });
    expect(noAuth.status).toBe(401);
    const unknown = await send({ method: 'POST', path: '/no/such/route', body: bodyOf(200_000) });
    expect(unknown.status).toBe(404);
    // Past the budget the server stops reading and closes: the client may see the answer or a reset, but never waits.
    await send({ method: 'PUT', path: '/api/v1/customers/ub-3', body: bodyOf(6 * oneMb) }).catch(() => undefined);
    expect((await send({ method: 'GET', path: '/healthz' })).status).toBe(200);
  });

  it('an App API read with a body answers as without it; HEAD too', async () => {
    await ws.identify('ub-1', { email: 'ub-1@example.com' });
    const path = '/v1/customers?email=ub-1%40example.com';
    const without = await send({ method: 'GET', path, auth: ws.appAuth });
    const withBody = await send({ method: 'GET', path, auth: ws.appAuth, body: bodyOf(300_000) });
    expect(without.status).toBe(200);
    expect(JSON.parse(without.text).results).toHaveLength(1);
    expect(withBody).toEqual(without);
    const head = await send({ method: 'HEAD', path: '/healthz', body: bodyOf(300_000) });
    expect(head.status).toBe(200);
  });
});
