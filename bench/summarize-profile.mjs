// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. BENCH_PROFILE_DIR=… npm run bench):
// self time by owner (npm package, Roster's own dist/, Node internals, native code) and the top functions.
// Usage: node bench/summarize-profile.mjs <file.cpuprofile> [how-many-functions]
import { readFileSync } from 'node:fs';

const [file, topArg = '30'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** Who a frame belongs to, from its script URL. */
function ownerOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : 'native (V8 builtin or C++ addon)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (pkg) return pkg;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/dist/')) return 'roster (dist/)';
  return url;
}

/** Self time in ms per node id: each sample's time delta is charged to the node it hit. */
function selfTimes() {
  const times = new Map();
  profile.samples.forEach((id, i) => times.set(id, (times.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  return times;
}

function tally(entries) {
  return [...entries].sort((x, y) => y[1] - x[1]);
}

const times = selfTimes();
const total = [...times.values()].reduce((s, t) => s + t, 0);
const byOwner = new Map();
const byFunction = new Map();
for (const node of profile.nodes) {
  const ms = times.get(node.id) ?? 0;
  const frame = node.callFrame;
  const owner = ownerOf(frame);
  const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
  const name = `${frame.functionName || '(anonymous)'} ${where}`.trim();
  byOwner.set(owner, (byOwner.get(owner) ?? 0) + ms);
  const key = `${owner} | ${name}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + ms);
}

const pct = (ms) => `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(total / 1000).toFixed(1)} s sampled\n\nSelf time by owner:`);
for (const [owner, ms] of tally(byOwner)) console.log(`  ${pct(ms)}  ${owner}`);
console.log(`\nTop ${topArg} functions by self time:`);
for (const [key, ms] of tally(byFunction).slice(0, Number(topArg))) console.log(`  ${pct(ms)}  ${key}`);
