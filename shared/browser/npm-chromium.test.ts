import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { npmChromiumSupported, unpackNpmChromium } from './npm-chromium';

test('the npm Chromium is offered on Linux x64 only', () => {
  assert.equal(npmChromiumSupported('linux', 'x64'), true);
  assert.equal(npmChromiumSupported('linux', 'arm64'), false);
  assert.equal(npmChromiumSupported('darwin', 'x64'), false);
});

test('two processes unpacking at once get one complete browser that runs with its own libraries', { skip: !npmChromiumSupported() && 'Linux x64 only' }, async () => {
  const cache = mkdtempSync(join(tmpdir(), 'npm-chromium-'));
  try {
    const [a, b] = await Promise.all([unpackNpmChromium(cache), unpackNpmChromium(cache)]);
    assert.deepEqual(a, b);
    assert.deepEqual(readdirSync(cache).filter((n) => n.includes('.partial-')), [], 'no staging folder left behind');
    const version = execFileSync(a.executablePath, ['--version'], { env: { ...process.env, ...a.env }, encoding: 'utf8' });
    assert.match(version, /Chromium \d+\./);
    // A second call finds the unpacked copy.
    assert.deepEqual(await unpackNpmChromium(cache), a);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
