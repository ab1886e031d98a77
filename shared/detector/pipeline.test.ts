import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { windowTurbineDays } from './calibration';
import { writeFramesCsv } from '../turbine/csv';
import { simulateFarm } from '../turbine/farm';
import { sliceFrames } from '../turbine/frames';
import { writeLabelsCsv } from '../turbine/labels';
import { loadDetector } from './detector';
import { LocalDirectoryRegistry } from './model-registry';
import { type PipelineOptions, runTrainingPipeline } from './pipeline';
import { evaluateOnFrames } from './report';

const root = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
const data = join(root, 'train.csv.gz');
const evalData = join(root, 'eval.csv.gz');
const evalLabels = join(root, 'eval.labels.csv');
const calibrationData = join(root, 'calibration.csv.gz');
const normal = simulateFarm({ turbines: 2, minutes: 3, seed: 1 });
const faulty = simulateFarm({ turbines: 2, minutes: 6, seed: 2, faults: true });

before(async () => {
  await writeFramesCsv(normal.frames, data);
  await writeFramesCsv(faulty.frames, evalData);
  await writeFramesCsv(simulateFarm({ turbines: 16, minutes: 4, seed: 3 }).frames, calibrationData);
  writeLabelsCsv(faulty.labels, evalLabels);
});
after(() => rmSync(root, { recursive: true, force: true }));

const options = (out: string, cache: string): PipelineOptions => ({
  dataPath: data,
  evalDataPath: evalData,
  evalLabelsPath: evalLabels,
  cacheDir: join(root, cache),
  registry: new LocalDirectoryRegistry(join(root, out)),
  training: { epochs: 2, batchSize: 64 },
  trainStride: 2,
  seed: 5,
  calibrationDataPath: calibrationData,
});

test('the pipeline writes a loadable model directory with the evaluation report; a re-run takes every step from the cache', async () => {
  const first = await runTrainingPipeline(options('model', 'cache'));
  assert.deepEqual(first.steps.map((s) => [s.step, s.cached]), [['preprocess', false], ['train', false], ['evaluate', false], ['register', false]]);
  const report = first.report!;
  for (const key of ['event_precision', 'event_recall', 'event_f1', 'median_delay_s', 'p95_delay_s', 'false_alarms_per_turbine_day', 'auc', 'per_kind', 'baselines']) assert.ok(key in report, key);
  assert.ok('original_threshold' in report.baselines && 'zscore' in report.baselines);
  assert.equal(report.events, faulty.labels.length);
  const metrics = JSON.parse(readFileSync(join(root, 'model', 'metrics.json'), 'utf8'));
  assert.equal(metrics.event_f1, report.event_f1);
  const curve = JSON.parse(readFileSync(join(root, 'model', 'learning-curve.json'), 'utf8'));
  assert.equal(curve.length, 2);

  // Thresholds fitted for the default false-alarm rate on the calibration data: the budget rule's error
  // thresholds times the calibrated multiplier, recorded in detector.json.
  const c = first.description.training.falseAlarm!;
  assert.equal(c.targetPerTurbineDay, 0.5);
  assert.equal(c.multipliers.length, 6);
  assert.ok(c.multipliers.every((m) => m >= 1) && c.features.every((f) => f.peaks >= 40 && f.targetPerTurbineDay === 0.5 / 6) && c.detector.targetPerTurbineDay === 0.5 && c.normalTurbineDays > 0);
  const uncalibrated = await runTrainingPipeline({ ...options('uncalibrated', 'cache'), falseAlarmTarget: 0 });
  assert.equal(uncalibrated.description.training.falseAlarm, undefined);
  first.description.thresholds.values.forEach((v, f) => assert.ok(Math.abs(v - uncalibrated.description.thresholds.values[f] * c.multipliers[f]) < 1e-9 * v));
  first.description.thresholds.recent!.values.forEach((v, f) => assert.ok(Math.abs(v - uncalibrated.description.thresholds.recent!.values[f] * c.onsetMultipliers[f]) < 1e-9 * v));
  // The onset thresholds move only with the common stage.
  assert.ok(c.onsetMultipliers.every((m) => m === c.detector.multiplier));
  assert.equal(first.description.thresholds.fast, uncalibrated.description.thresholds.fast);

  const again = await runTrainingPipeline(options('model', 'cache'));
  assert.deepEqual(again.steps.map((s) => [s.step, s.cached]), [['preprocess', true], ['train', true], ['evaluate', true], ['register', false]]);
  assert.deepEqual(again.description, first.description);

  // The evaluate CLI's path (loadDetector + evaluateOnFrames) reproduces the pipeline's report.
  const detector = await loadDetector(join(root, 'model'));
  const { report: reloaded } = evaluateOnFrames(detector, faulty.frames, faulty.labels);
  detector.dispose();
  assert.equal(reloaded.event_f1, report.event_f1);
  assert.equal(reloaded.auc, report.auc);
});

test('same seed and data give the same model bytes and metrics with a fresh cache, with or without the calibration worker', async () => {
  await runTrainingPipeline(options('a', 'cache-a'));
  await runTrainingPipeline(options('b', 'cache-b'));
  // The calibration data prepared and scored on this thread instead of the worker thread.
  await runTrainingPipeline({ ...options('c', 'cache-c'), calibrationWorker: false });
  for (const file of ['weights.bin', 'model.json', 'metrics.json']) {
    assert.ok(readFileSync(join(root, 'a', file)).equals(readFileSync(join(root, 'b', file))), file);
    assert.ok(readFileSync(join(root, 'a', file)).equals(readFileSync(join(root, 'c', file))), file);
  }
  // detector.json also records how long training took; everything else must match.
  const description = (dir: string) => {
    const d = JSON.parse(readFileSync(join(root, dir, 'detector.json'), 'utf8'));
    delete d.training.seconds;
    return d;
  };
  assert.deepEqual(description('a'), description('b'));
  assert.deepEqual(description('a'), description('c'));
});

test('calibration on several simulated farms: the worker scores the first ones and this thread the last, with the same bytes as all on this thread', async () => {
  const farms = { count: 3, turbines: 16, minutes: 4, firstSeed: 31 };
  const run = (out: string, calibrationWorker: boolean) => runTrainingPipeline({ ...options(out, `cache-${out}`), calibrationDataPath: undefined, calibrationFarms: farms, calibrationWorker });
  const split = await run('farms-worker', true);
  const alone = await run('farms-alone', false);
  const c = split.description.training.falseAlarm!;
  // Three farms of 16 turbines x 4 min, each windowed on its own (a window never spans two turbines or farms).
  const windowsPerTurbine = Math.floor((4 * 1200 - 100) / 10) + 1;
  assert.ok(Math.abs(c.normalTurbineDays - windowTurbineDays(3 * 16 * windowsPerTurbine, 10)) < 1e-12, `${c.normalTurbineDays}`);
  const description = (dir: string) => {
    const d = JSON.parse(readFileSync(join(root, dir, 'detector.json'), 'utf8'));
    delete d.training.seconds;
    return d;
  };
  assert.deepEqual(description('farms-worker'), description('farms-alone'));
  assert.deepEqual(split.description.thresholds, alone.description.thresholds);
  await assert.rejects(runTrainingPipeline({ ...options('farms-bad', 'cache-farms-bad'), calibrationDataPath: undefined, calibrationFarms: { ...farms, count: 0 } }), /calibration farms: count must be a positive integer, got 0/);
});

test('bad training data gives a clear error and writes no model directory', async () => {
  const write = async (name: string, frames: typeof normal.frames) => {
    const path = join(root, name);
    await writeFramesCsv(frames, path);
    return path;
  };
  const short = await write('short.csv', sliceFrames(normal.frames, 0, 50));
  await assert.rejects(runTrainingPipeline({ ...options('bad1', 'cache-bad'), dataPath: short }), /training data has 50 frames, fewer than one window of 100/);
  const constant = sliceFrames(normal.frames, 0, 4000);
  constant.columns.voltage.fill(12);
  await assert.rejects(runTrainingPipeline({ ...options('bad2', 'cache-bad'), dataPath: await write('constant.csv', constant) }), /voltage/);
  const tiny = await write('tiny.csv', sliceFrames(normal.frames, 0, 400));
  await assert.rejects(runTrainingPipeline({ ...options('bad3', 'cache-bad'), dataPath: tiny }), /training data too short/);
  await assert.rejects(runTrainingPipeline({ ...options('bad4', 'cache-bad'), dataPath: join(root, 'none.csv') }), /training data .*none\.csv: cannot read \(ENOENT\)/);
  await assert.rejects(runTrainingPipeline({ ...options('bad5', 'cache-bad'), architecture: 'lstm' as never }), /unknown autoencoder architecture "lstm"/);
  await assert.rejects(runTrainingPipeline({ ...options('bad7', 'cache-bad'), falseAlarmTarget: -1 }), /falseAlarmTarget must be a number >= 0/);
  await assert.rejects(runTrainingPipeline({ ...options('bad8', 'cache-bad'), calibrationDataPath: join(root, 'none.csv') }), /calibration data .*none\.csv: cannot read \(ENOENT\)/);
  // Calibration data too short for one window: the worker thread's error, or this thread's, names it.
  const shortCalibration = await write('short-calibration.csv', sliceFrames(normal.frames, 0, 50));
  for (const calibrationWorker of [true, false]) {
    await assert.rejects(runTrainingPipeline({ ...options('bad9', 'cache-bad'), calibrationDataPath: shortCalibration, calibrationWorker }), /calibration data: no complete window \(100 frames\) in 50 frames/);
  }
  for (const name of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5', 'bad7', 'bad8', 'bad9']) assert.equal(existsSync(join(root, name)), false, name);
});

test('labels outside the evaluation data time range are refused before anything is written', async () => {
  const labels = join(root, 'late.labels.csv');
  writeLabelsCsv([{ ...faulty.labels[0], start: '2031-01-01T00:00:00.000000+00:00', end: '2031-01-01T00:01:00.000000+00:00' }], labels);
  await assert.rejects(runTrainingPipeline({ ...options('bad6', 'cache'), evalLabelsPath: labels }), /label 1 .* lies outside the data's time range/);
  assert.equal(existsSync(join(root, 'bad6')), false);
});
