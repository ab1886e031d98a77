import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { writeLabelsCsv } from '../turbine/labels';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'train-cli-'));
/** Runs a CLI from the project root; file arguments are names inside the test's temporary folder. */
const at = (name: string) => join(dir, name);
const run = (cli: string, args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'shared', 'cli', `${cli}.ts`), ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });

before(async () => {
  await writeFramesCsv(simulateFarm({ turbines: 2, minutes: 3, seed: 1 }).frames, join(dir, 'normal.csv.gz'));
  const faulty = simulateFarm({ turbines: 2, minutes: 6, seed: 2, faults: true });
  await writeFramesCsv(faulty.frames, join(dir, 'faults.csv.gz'));
  writeLabelsCsv(faulty.labels, join(dir, 'faults.labels.csv'));
  await writeFramesCsv(simulateFarm({ turbines: 16, minutes: 4, seed: 3 }).frames, join(dir, 'calibration.csv.gz'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('npm run train writes a model directory that npm run evaluate scores, printing the JSON report', () => {
  const trained = run('train', ['--data', at('normal.csv.gz'), '--out', at('model'), '--epochs', '2', '--cache', at('cache'), '--calibration-data', at('calibration.csv.gz')]);
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stdout, /wrote .*model: dense autoencoder, 2 epochs/);
  assert.match(trained.stdout, /thresholds fitted for 0.5 false alarms per turbine-day on 0\.04 normal turbine-days of calibration data: whole-window error thresholds x roll [\d.]+, pitch/);
  assert.match(trained.stdout, /; onset thresholds x [\d.]+\n/);
  assert.match(trained.stderr, /preprocess \.\.\.\ntrain \.\.\./);
  const evaluated = run('evaluate', ['--model', at('model'), '--data', at('faults.csv.gz'), '--labels', at('faults.labels.csv')]);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  const report = JSON.parse(evaluated.stdout);
  for (const key of ['event_precision', 'event_recall', 'event_f1', 'median_delay_s', 'p95_delay_s', 'false_alarms_per_turbine_day', 'auc', 'per_kind', 'baselines']) assert.ok(key in report, key);
  // The rate's 95 % upper bound beside the point value, and 0.01 normal turbine-days cannot support 0.5 a day.
  assert.ok(report.false_alarms_per_turbine_day_upper95 > report.false_alarms_per_turbine_day);
  assert.equal(report.false_alarm_target.supported, false);
  assert.match(evaluated.stderr, /^false alarms: \d+ in 0\.0\d normal turbine-days = [\d.]+ per turbine-day \(95 % upper bound [\d.]+\)\ntarget: too little normal time to support the target 0.5 per turbine-day/);
  // The default model carries the operating-state scale and the fast rule; the switches turn them off.
  const thresholds = (model: string) => JSON.parse(readFileSync(join(at(model), 'detector.json'), 'utf8')).thresholds;
  assert.ok(thresholds('model').scale && thresholds('model').fast > 1);
  const plain = run('train', ['--data', at('normal.csv.gz'), '--out', at('plain'), '--epochs', '2', '--cache', at('cache'), '--no-conditioning', '--fast-margin', '0', '--false-alarm-target', '0']);
  assert.equal(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /train \(cached\)/); // only the thresholds are fitted again
  assert.equal(thresholds('plain').scale, undefined);
  assert.equal(thresholds('plain').fast, undefined);
  // The calibration on the main thread instead of the worker thread: the same thresholds and weights.
  const oneThread = run('train', ['--data', at('normal.csv.gz'), '--out', at('one-thread'), '--epochs', '2', '--cache', at('cache-one-thread'), '--calibration-data', at('calibration.csv.gz'), '--no-calibration-worker']);
  assert.equal(oneThread.status, 0, oneThread.stderr);
  assert.deepEqual(thresholds('one-thread'), thresholds('model'));
  assert.ok(readFileSync(join(at('one-thread'), 'weights.bin')).equals(readFileSync(join(at('model'), 'weights.bin'))));
});

test('bad input: one clear line on stderr, exit 1, no stack trace, no model directory', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['train', ['--data', at('missing.csv.gz'), '--out', at('bad'), '--cache', at('cache')], /^train: training data .*missing\.csv\.gz: cannot read \(ENOENT\)\n$/],
    ['train', ['--data', at('normal.csv.gz'), '--out', at('bad'), '--arch', 'lstm'], /^train: --arch must be one of dense, original, got "lstm"\n$/],
    ['train', ['--data', at('normal.csv.gz'), '--out', at('bad'), '--epochs', 'many'], /epochs must be an integer >= 1, got "many"/],
    ['train', ['--data', at('normal.csv.gz'), '--out', at('bad'), '--fast-margin', '0.5'], /^train: --fast-margin must be 0 \(off\) or >= 1, got 0\.5\n$/],
    ['train', ['--data', at('normal.csv.gz'), '--out', at('bad'), '--onset-margin', '0.9'], /^train: --onset-margin must be >= 1, got 0\.9\n$/],
    ['evaluate', ['--model', at('nowhere'), '--data', at('faults.csv.gz')], /^evaluate: model directory .*nowhere does not exist\n$/],
  ];
  for (const [cli, args, expected] of cases) {
    const r = run(cli, args);
    assert.equal(r.status, 1, `${cli} ${args.join(' ')}`);
    assert.match(r.stderr, expected);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.equal(existsSync(join(dir, 'bad')), false);
});

test('both CLIs print --help', () => {
  assert.match(run('train', ['--help']).stdout, /--data <file>[\s\S]*--out <dir>[\s\S]*--eval-data[\s\S]*--no-calibration-worker/);
  assert.match(run('evaluate', ['--help']).stdout, /--model <dir>[\s\S]*--labels <file>/);
});
