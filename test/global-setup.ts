import { execFileSync } from 'node:child_process';

// Tests that spawn `bin/roster.js` run the built CLI; build it when the sources are newer.
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/bootstrap.mjs'], { stdio: 'inherit' });
}
