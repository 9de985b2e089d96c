import { APIClient, FilterOperator, IdentifierType, RegionUS } from 'customerio-node';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer, type TestWorkspace } from '../helpers/roster-server.js';

/**
 * Customer.io's own Node client (customerio-node 5.2.0) against Roster, unchanged: finding people, reading their
 * attributes, and the whole export round trip (create, poll, download link, fetch the CSV).
 */

let server: TestServer;
let ws: TestWorkspace;
let api: APIClient;

beforeAll(async () => {
  server = await startServer();
  ws = await server.workspace();
  api = new APIClient(ws.creds.app_api_key, { region: RegionUS, url: `${ws.base}/v1` });
  expect((await ws.identify('node-1', { email: 'node-1@example.com', plan: 'pro' })).status).toBe(200);
  expect((await ws.identify('node-2', { email: 'node-2@example.com', plan: 'free' })).status).toBe(200);
});

afterAll(async () => {
  await server?.close();
});

describe('APIClient', () => {
  it('getCustomersByEmail and getAttributes', async () => {
    const found = await api.getCustomersByEmail('node-1@example.com');
    expect(found.results).toEqual([{ email: 'node-1@example.com', id: 'node-1', cio_id: expect.any(String) }]);
    const { customer } = await api.getAttributes('node-1@example.com', IdentifierType.Email);
    expect(customer.id).toBe('node-1');
    expect(customer.attributes.plan).toBe('pro');
  });

  it('createCustomersExport, getExport until done, downloadExport, then the CSV', async () => {
    const created = await api.createCustomersExport({
      attribute: { field: 'plan', operator: FilterOperator.Eq, value: 'pro' },
    });
    expect(created.export).toMatchObject({ id: expect.any(Number), type: 'customers' });
    let exp = created.export;
    for (let i = 0; i < 200 && exp.status === 'pending'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      exp = (await api.getExport(created.export.id)).export;
    }
    expect(exp).toMatchObject({ status: 'done', total: 1 });
    const listed = await api.listExports();
    expect(listed.exports.map((e: { id: number }) => e.id)).toContain(created.export.id);
    const { url } = await api.downloadExport(created.export.id);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const rows = parse(await res.text()) as string[][];
    expect(rows[0]!.slice(0, 6)).toEqual(['cio_id', 'id', 'email', 'created_at', 'updated_at', 'unsubscribed']);
    expect(rows.slice(1).map((r) => r[1])).toEqual(['node-1']);
  });
});
