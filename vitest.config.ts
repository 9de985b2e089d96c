import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Tests of other behaviour send many bad credentials from one address; the failed-authentication limit
    // (default 20 a minute) is tested where it is set explicitly (test/integration/access.test.ts).
    env: { ROSTER_AUTH_FAILURE_LIMIT: '0' },
  },
});
