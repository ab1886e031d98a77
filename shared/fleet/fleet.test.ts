/** startFleet and `npm run fleet` refuse bad input before anything starts (no cloud, no folder content). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../edge/agent-testing';
import { startFleet } from './fleet';

test('startFleet refuses bad options with the reason, starting nothing', async () => {
  const { dir, remove } = await tempDir('fleet-options-');
  try {
    const base = { dir: join(dir, 'farm'), packagePath: join(dir, 'none.tar.gz'), publicKeyPem: 'x' };
    await assert.rejects(startFleet({ ...base, turbines: 0 }), /turbines must be an integer from 1 to 10000, got 0/);
    await assert.rejects(startFleet({ ...base, speed: -1 }), /speed must be a number above 0 and at most 100, got -1/);
    await assert.rejects(startFleet({ ...base, workers: 1.5 }), /workers must be an integer from 1 to 64, got 1.5/);
    await assert.rejects(startFleet({ ...base, captureSampleRate: 2 }), /captureSampleRate must be from 0 to 1, got 2/);
    assert.equal(existsSync(base.dir), false);
    await assert.rejects(startFleet(base), /ENOENT.*none\.tar\.gz/);
    assert.deepEqual(readdirSync(base.dir), [], 'a missing package fails before the cloud starts');
    await assert.rejects(startFleet({ ...base, packagePath: __filename, cloudDir: join(dir, 'no-cloud') }), /no-cloud/);
    assert.deepEqual(readdirSync(base.dir), [], 'a cloud folder without cloud.json fails before anything is made');
  } finally {
    await remove();
  }
});

test('npm run fleet: --help, and one clear line for a bad value', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'cli', 'fleet.ts'), ...args], { encoding: 'utf8' });
  const help = cli('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--turbines <n>/);
  assert.match(help.stdout, /--speed <x>/);
  const bad = cli('--package', 'x.tar.gz', '--turbines', 'many');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--turbines must be an integer >= 1, got "many"/);
  const missing = cli('--package', join(__dirname, 'no-such-package.tar.gz'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no-such-package\.tar\.gz does not exist: train and package a model first/);
});
