// Makes a fresh clone runnable: installs dependencies when node_modules is missing or older than the lockfile,
// and rebuilds dist/ when any source file is newer than the last build. Run before `npm start` and `npm test`.
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return latest;
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  console.log('[bootstrap] installing dependencies (npm ci)…');
  run('npm ci --no-audit --no-fund');
}

const stamp = join(root, 'dist', '.build-stamp');
const sources = Math.max(
  newest(join(root, 'src')),
  mtime(join(root, 'tsconfig.json')),
  mtime(join(root, 'tsconfig.build.json')),
);
if (mtime(stamp) < sources) {
  console.log('[bootstrap] building…');
  run('npx tsc -p tsconfig.build.json');
  run(`node -e "require('fs').writeFileSync('dist/.build-stamp', String(Date.now()))"`);
}
