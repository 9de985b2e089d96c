import type { FastifyInstance } from 'fastify';

/** One route of the app: `GET /v1/customers/:ref/attributes`. HEAD routes Fastify adds for GETs are left out. */
export interface RouteEntry {
  method: string;
  url: string;
}

/**
 * Every route the Fastify app serves, read from `printRoutes({ commonPrefix: false })`: a tree whose lines are
 * `│   ├── /segment (METHODS)`, four characters per level, each segment appended to its parent's path.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack.push(url);
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()))
      if (method && method !== 'HEAD') routes.push({ method, url });
  }
  return routes;
}
