import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, findInstalledChromium } from './find-chromium';
import { npmChromiumSupported } from './npm-chromium';

/** Runs fn with CHROMIUM_PATH set to value (or unset), restoring it afterwards. */
async function withChromiumPath<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.CHROMIUM_PATH;
  if (value === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = value;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.CHROMIUM_PATH;
    else process.env.CHROMIUM_PATH = saved;
  }
}

test('CHROMIUM_PATH comes first and is used as given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chromium-path-'));
  try {
    const fake = join(dir, 'my-chrome');
    writeFileSync(fake, '');
    const found = await withChromiumPath(fake, () => findChromium());
    assert.deepEqual(found, { executablePath: fake, env: {}, source: 'env' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a CHROMIUM_PATH that does not exist is named with what to do', async () => {
  await withChromiumPath('/nonexistent/chromium', async () => {
    await assert.rejects(findChromium(), /CHROMIUM_PATH=\/nonexistent\/chromium does not exist: point it at a Chrome\/Chromium executable or unset it/);
  });
});

test('without CHROMIUM_PATH an installed browser is preferred to the npm one', async () => {
  const installed = findInstalledChromium();
  await withChromiumPath(undefined, async () => {
    if (installed) assert.deepEqual(await findChromium(), { executablePath: installed, env: {}, source: 'system' });
    else if (npmChromiumSupported()) assert.equal((await findChromium()).source, 'npm');
    else await assert.rejects(findChromium(), /No Chromium found/);
  });
});

test('npmOnly skips CHROMIUM_PATH and installed browsers', { skip: !npmChromiumSupported() && 'the npm Chromium is Linux x64 only' }, async () => {
  const found = await withChromiumPath('/nonexistent/chromium', () => findChromium({ npmOnly: true }));
  assert.equal(found.source, 'npm');
  assert.match(found.executablePath, /sparticuz-chromium-[\d.]+\/chromium$/);
  assert.ok(found.env.LD_LIBRARY_PATH && found.env.FONTCONFIG_FILE);
});
