import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TRAINING_DATA } from '../detector/pipeline';
import { formatFramesCsv, readFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { readLabelsCsv } from '../turbine/labels';

const root = join(__dirname, '..', '..');
const cli = join(root, 'shared', 'cli', 'dataset.ts');

function dataset(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

test('npm run dataset writes the gzipped CSV and, with --faults, the labels file beside it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dataset-cli-'));
  try {
    const out = join(dir, 'sub', 'farm.csv.gz');
    const result = dataset(['--out', out, '--turbines', '2', '--minutes', '4', '--seed', '3', '--faults']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /wrote .*farm\.csv\.gz: 2 turbine\(s\) x 4 min = 9600 frames/);
    const expected = simulateFarm({ turbines: 2, minutes: 4, seed: 3, faults: true });
    assert.equal(formatFramesCsv(readFramesCsv(out)), formatFramesCsv(expected.frames));
    assert.deepEqual(readLabelsCsv(join(dir, 'sub', 'farm.labels.csv')), expected.labels);
    assert.deepEqual(readdirSync(join(dir, 'sub')).sort(), ['farm.csv.gz', 'farm.labels.csv']); // no temporary files left
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('npm run dataset --help explains the options and where the labels go', () => {
  const result = dataset(['--help']);
  assert.equal(result.status, 0);
  for (const text of ['--out', '--turbines', '--minutes', '--seed', '--faults', 'data/farm.labels.csv', 'turbineId,start,end,kind']) {
    assert.ok(result.stdout.includes(text), `help lacks ${text}`);
  }
  // Without size options: the detector's training data set, from its one constant.
  const { turbines, minutes, seed } = DEFAULT_TRAINING_DATA;
  const help = result.stdout.replace(/\s+/g, ' ');
  assert.ok(help.includes(`number of turbines (default: ${turbines})`), help);
  assert.ok(help.includes(`(1200 frames each) (default: ${minutes})`), help);
  assert.ok(help.includes(`same bytes (default: ${seed})`), help);
});

test('bad arguments give a one-line error, a non-zero exit and no file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dataset-cli-'));
  try {
    const out = join(dir, 'x.csv.gz');
    const cases: Array<[string[], RegExp]> = [
      [['--out', out, '--minutes', '-3'], /minutes must be a positive number, got "-3"/],
      [['--out', out, '--minutes', 'ten'], /minutes must be a positive number, got "ten"/],
      [['--out', out, '--turbines', '2.5'], /turbines must be an integer >= 1, got "2.5"/],
      [['--out', out, '--turbines', '0'], /turbines must be an integer >= 1, got "0"/],
      [['--out', out, '--seed', 'abc'], /seed must be an integer, got "abc"/],
      [['--out', join(dir, 'x.txt')], /--out must end in \.csv\.gz or \.csv/],
      [['--out', out, '--start', 'tomorrow'], /invalid start time "tomorrow"/],
      [[], /required option '--out <file>' not specified/],
    ];
    for (const [args, message] of cases) {
      const result = dataset(args);
      assert.notEqual(result.status, 0, args.join(' '));
      assert.match(result.stderr, message);
      assert.ok(!/\n\s+at /.test(result.stderr), `stack trace in: ${result.stderr}`);
      assert.ok(result.stderr.trim().split('\n').length <= 2, result.stderr);
    }
    assert.deepEqual(readdirSync(dir), []);
    assert.equal(existsSync(out), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('when the final rename fails, npm run dataset says why and leaves no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dataset-cli-'));
  try {
    // A directory where the CSV should go: the frames are written beside it, then cannot take its name.
    mkdirSync(join(dir, 'farm.csv.gz', 'occupied'), { recursive: true });
    const frames = dataset(['--out', join(dir, 'farm.csv.gz'), '--turbines', '1', '--minutes', '1']);
    assert.notEqual(frames.status, 0);
    assert.match(frames.stderr, /^dataset: .*farm\.csv\.gz/);
    assert.deepEqual(readdirSync(dir), ['farm.csv.gz']);
    // The same for the labels file.
    const other = join(dir, 'other');
    mkdirSync(join(other, 'farm.labels.csv', 'occupied'), { recursive: true });
    const labels = dataset(['--out', join(other, 'farm.csv.gz'), '--turbines', '1', '--minutes', '1', '--faults']);
    assert.notEqual(labels.status, 0);
    assert.match(labels.stderr, /^dataset: .*farm\.labels\.csv/);
    assert.deepEqual(readdirSync(other).filter((name) => name.includes('.tmp')), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
