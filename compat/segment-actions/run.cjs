#!/usr/bin/env node
'use strict';
/*
 * Runs Segment's real destination code (npm @segment/action-destinations) against a Roster on 127.0.0.1.
 *
 * Input: a JSON job on stdin (or in the file named by argv[2]):
 *   {
 *     "roster": "http://127.0.0.1:PORT",
 *     "ops": [
 *       { "destination": "customerio", "call": "onEvent" | "onBatch" | "onDelete" | "testAuthentication",
 *         "settings": { "siteId", "apiKey", "accountRegion"? },
 *         "event": {...} | "events": [...],
 *         "actions"?: ["createUpdatePerson", ...]   // only these presets; default: every preset with a trigger
 *       },
 *       { "destination": "webhook", "call": "onEvent" | "onBatch",
 *         "settings": { "sharedSecret"? },
 *         "mapping": { "url", "headers"?, "method"?, "batch_size"? },   // other fields take the action's defaults
 *         "subscribe"?: "type = \"identify\"",                          // default: every Segment call type
 *         "event": {...} | "events": [...] }
 *     ]
 *   }
 *
 * The Customer.io (Actions) destination sends to hard-coded hosts (https://track.customer.io, https://track-eu.customer.io).
 * nock intercepts those and forwards each request (method, path, headers incl. authorization, body bytes) to Roster,
 * handing Roster's status, headers and body back to the destination. Every other host is refused: nothing but
 * 127.0.0.1 is reachable. The Webhooks destination takes a URL setting, so it talks to Roster directly.
 *
 * Output (stdout): { "results": [ { "ok": true, "result": … } | { "ok": false, "error": {name, message, status, body} } ],
 *                    "requests": [ { "op", "method", "url", "headers", "body", "status", "response" } ] }
 */
const { readFileSync } = require('node:fs');
const nock = require('nock');
const { Destination } = require('@segment/actions-core');
const customerio = require('@segment/action-destinations/dist/destinations/customerio').default;
const webhook = require('@segment/action-destinations/dist/destinations/webhook').default;

const trackHosts = ['https://track.customer.io', 'https://track-eu.customer.io'];
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
/** Hop-by-hop and length headers are the transport's business; everything else reaches Roster as sent. */
const dropHeaders = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function readJob() {
  const text = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : readFileSync(0, 'utf8');
  return JSON.parse(text);
}

/** JSON without cycles or functions, for results that hold response objects. */
function plain(value) {
  const seen = new WeakSet();
  return JSON.parse(
    JSON.stringify(value ?? null, (key, v) => {
      if (typeof v === 'function') return undefined;
      if (typeof v === 'bigint') return String(v);
      if (v && typeof v === 'object') {
        if (seen.has(v)) return undefined;
        seen.add(v);
        if (typeof v.status === 'number' && typeof v.headers === 'object' && typeof v.clone === 'function')
          return { status: v.status, url: v.url }; // a fetch Response
      }
      return v;
    }),
  );
}

function errorOf(err) {
  const response = err && err.response;
  return {
    name: err && err.name,
    message: err && err.message,
    status: (err && err.status) ?? (response && response.status) ?? null,
    body: (response && response.data) ?? (response && response.content) ?? null,
  };
}

/** The action's field defaults (what Segment's UI pre-fills), overridden by the job's mapping. */
function defaultsOf(action) {
  const out = {};
  for (const [key, field] of Object.entries(action.fields)) if (field.default !== undefined) out[key] = field.default;
  return out;
}

const allCalls = ['identify', 'track', 'page', 'screen', 'group', 'alias'].map((t) => `type = "${t}"`).join(' or ');

function subscriptionsFor(op) {
  if (op.destination === 'customerio') {
    const presets = customerio.presets.filter((p) => typeof p.subscribe === 'string' && p.subscribe.trim() !== '');
    const chosen = op.actions ? presets.filter((p) => op.actions.includes(p.partnerAction)) : presets;
    return chosen.map((p) => ({ partnerAction: p.partnerAction, subscribe: p.subscribe, mapping: p.mapping }));
  }
  if (op.destination === 'webhook') {
    return [
      {
        partnerAction: 'send',
        subscribe: op.subscribe || allCalls,
        mapping: { ...defaultsOf(webhook.actions.send), ...op.mapping },
      },
    ];
  }
  throw new Error(`unknown destination ${op.destination}`);
}

async function main() {
  const job = readJob();
  const roster = new URL(job.roster);
  if (roster.hostname !== '127.0.0.1') throw new Error('roster must be on 127.0.0.1');

  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');

  const requests = [];
  let current = -1;
  const rawBodies = new WeakMap();
  for (const host of trackHosts) {
    const scope = nock(host).persist();
    // The 'request' event carries the exact body bytes; the reply function only gets them re-parsed.
    scope.on('request', (req, _interceptor, body) => rawBodies.set(req, body));
    for (const method of methods) {
      scope
        .intercept(() => true, method)
        .reply(async function (path) {
          const headers = {};
          for (const [k, v] of Object.entries(this.req.headers))
            if (!dropHeaders.has(k.toLowerCase()))
              headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
          const body = rawBodies.get(this.req);
          const hasBody = body !== undefined && body !== '' && method !== 'GET' && method !== 'DELETE';
          const res = await fetch(new URL(path, roster), { method, headers, body: hasBody ? body : undefined });
          const text = await res.text();
          const resHeaders = {};
          for (const name of ['content-type', 'retry-after']) {
            const v = res.headers.get(name);
            if (v !== null) resHeaders[name] = v;
          }
          requests.push({
            op: current,
            method,
            url: host + path,
            headers,
            body: hasBody ? JSON.parse(body) : null,
            status: res.status,
            response: text,
          });
          return [res.status, text, resHeaders];
        });
    }
  }

  const destinations = { customerio: new Destination(customerio), webhook: new Destination(webhook) };
  const results = [];
  for (const [i, op] of job.ops.entries()) {
    current = i;
    const dest = destinations[op.destination];
    try {
      let result;
      switch (op.call) {
        case 'onEvent':
          result = await dest.onEvent(op.event, { ...op.settings, subscriptions: subscriptionsFor(op) });
          break;
        case 'onBatch':
          result = await dest.onBatch(op.events, { ...op.settings, subscriptions: subscriptionsFor(op) });
          break;
        case 'onDelete':
          result = await dest.onDelete(op.event, op.settings);
          break;
        case 'testAuthentication':
          result = await dest.testAuthentication(op.settings);
          break;
        default:
          throw new Error(`unknown call ${op.call}`);
      }
      results.push({ ok: true, result: plain(result) });
    } catch (err) {
      results.push({ ok: false, error: errorOf(err) });
    }
  }
  nock.cleanAll();
  nock.enableNetConnect();
  process.stdout.write(JSON.stringify({ results, requests }));
}

main().catch((err) => {
  process.stderr.write(`${(err && err.stack) || err}\n`);
  process.exit(1);
});
