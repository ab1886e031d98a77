import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readNpy } from '../features/npy';

const root = join(__dirname, '..', '..');
const fixture = join(root, 'shared', 'features', 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'features-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', join(root, 'shared', 'cli', 'features.ts'), ...args], { cwd: root, encoding: 'utf8' });
}

test('--scheme original writes the original\'s statistics and (110, 6, 10, 10) float32 windows for the fixture', () => {
  const out = join(dir, 'original');
  const result = run('--data', join(fixture, 'input.csv'), '--out', out, '--scheme', 'original');
  assert.equal(result.status, 0, result.stderr);
  const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8'));
  const stats = JSON.parse(readFileSync(join(out, 'statistics.json'), 'utf8'));
  assert.deepEqual(stats.features, expected.features);
  for (const [key, wanted] of [['raw_std', expected.raw_std], ['mean', expected.denoised_mean], ['std', expected.denoised_std]]) {
    (wanted as number[]).forEach((v, f) => assert.ok(Math.abs(stats[key][f] - v) < 1e-9, `${key}[${f}]`));
  }
  const windows = readNpy(join(out, 'windows.npy'));
  assert.deepEqual(windows.shape, expected.windows_shape);
  const first: number[] = expected.windows_first.flat(2);
  first.forEach((v, i) => assert.equal(windows.data[i], Math.fround(v), `first window value ${i}`));
  const index = readFileSync(join(out, 'windows-index.csv'), 'utf8').trim().split('\n');
  assert.equal(index.length, 1 + 110);
  assert.equal(index[1], '0,0,99,2021-03-01T12:00:04.950000+00:00');
});

test('the default scheme splits turbines and applies saved statistics to other data', () => {
  // Two turbines: the fixture's rows, the second half relabelled turbine 1.
  const lines = readFileSync(join(fixture, 'input.csv'), 'utf8').trim().split('\n');
  const farm = [lines[0], ...lines.slice(1).map((l, i) => (i >= 600 ? l.replace(/^1,0,/, '1,1,') : l))].join('\n');
  writeFileSync(join(dir, 'farm.csv'), `${farm}\n`);
  const out = join(dir, 'block');
  const fitted = run('--data', join(dir, 'farm.csv'), '--out', out);
  assert.equal(fitted.status, 0, fitted.stderr);
  // 600 frames per turbine -> 576 in whole blocks of 32 -> 48 windows each.
  assert.deepEqual(readNpy(join(out, 'windows.npy')).shape, [96, 6, 10, 10]);
  const index = readFileSync(join(out, 'windows-index.csv'), 'utf8').trim().split('\n');
  assert.equal(index[49].split(',').slice(0, 3).join(','), '1,600,699');
  const again = run('--data', join(fixture, 'input.csv'), '--out', join(dir, 'applied'), '--statistics', join(out, 'statistics.json'));
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'applied', 'statistics.json'), 'utf8')), JSON.parse(readFileSync(join(out, 'statistics.json'), 'utf8')));
  const contradicting = run('--data', join(fixture, 'input.csv'), '--out', join(dir, 'x'), '--statistics', join(out, 'statistics.json'), '--scheme', 'original');
  assert.equal(contradicting.status, 1);
  assert.match(contradicting.stderr, /--scheme original contradicts .*statistics.json, which was fitted for the block scheme/);
});

test('a file shorter than one window: one clear line, non-zero exit, nothing written', () => {
  const lines = readFileSync(join(fixture, 'input.csv'), 'utf8').split('\n');
  writeFileSync(join(dir, 'short.csv'), `${lines.slice(0, 51).join('\n')}\n`);
  const out = join(dir, 'short-out');
  const result = run('--data', join(dir, 'short.csv'), '--out', out);
  assert.equal(result.status, 1);
  assert.match(result.stderr, /\nfeatures: .*short\.csv: too short: 50 data rows for 1 turbine\(s\), the longest series has 50 frames; one window needs 100\n$/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(out), false);
});

test('bad values are reported with line and column; --help explains the turbine order', () => {
  const lines = readFileSync(join(fixture, 'input.csv'), 'utf8').split('\n');
  lines[7] = lines[7].replace(/^((?:[^,]*,){6})[^,]*/, '$1volts');
  writeFileSync(join(dir, 'bad.csv'), lines.join('\n'));
  const result = run('--data', join(dir, 'bad.csv'), '--out', join(dir, 'bad-out'));
  assert.equal(result.status, 1);
  assert.match(result.stderr, /line 8, column voltage: "volts" is not a number/);
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /concatenated in ascending turbineId order/);
});
