import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, loadMasterKey } from '../../src/store/secrets.js';

const saved = process.env.ROSTER_SECRET_KEY;
afterEach(() => {
  if (saved === undefined) delete process.env.ROSTER_SECRET_KEY;
  else process.env.ROSTER_SECRET_KEY = saved;
});

describe('master key', () => {
  it('a data dir key file moved into ROSTER_SECRET_KEY opens what the file sealed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roster-key-'));
    try {
      delete process.env.ROSTER_SECRET_KEY;
      const fromFile = loadMasterKey(dir);
      const sealed = encryptSecret(fromFile, 'whsec_abc');
      process.env.ROSTER_SECRET_KEY = readFileSync(join(dir, 'secret.key'), 'utf8').trim();
      expect(decryptSecret(loadMasterKey(dir), sealed)).toBe('whsec_abc');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('any other passphrase is hashed into a 32-byte key; a wrong key cannot open a sealed secret', () => {
    process.env.ROSTER_SECRET_KEY = 'correct horse battery staple';
    const key = loadMasterKey('/nonexistent');
    expect(key).toHaveLength(32);
    const sealed = encryptSecret(key, 's');
    process.env.ROSTER_SECRET_KEY = 'another passphrase';
    expect(() => decryptSecret(loadMasterKey('/nonexistent'), sealed)).toThrow();
  });
});
