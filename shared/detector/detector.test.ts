import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { batchWindows } from '../features/batch';
import { DEFAULT_PREPROCESSING } from '../features/params';
import { fitFeatureStatistics, statisticsToJson } from '../features/statistics';
import { simulateFarm } from '../turbine/farm';
import { frameAt } from '../turbine/frames';
import { initBackend } from './backend';
import { loadDetector } from './detector';
import { DETECTOR_FORMAT_VERSION, type DetectorDescription, writeModelDir } from './model-dir';
import { modelToFiles } from './model-io';
import { buildAutoencoder } from './models';
import { reconstructionErrors, windowVariation } from './scoring';
import { operatingStates } from './conditioning';
import { debouncedAlarms, fitBudgetThresholds, originalThresholds, windowScores, withFlatline } from './thresholds';

const root = mkdtempSync(join(tmpdir(), 'detector-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const { frames } = simulateFarm({ turbines: 1, minutes: 1, seed: 3 });
const stats = fitFeatureStatistics(frames, DEFAULT_PREPROCESSING);
const windows = batchWindows(frames, stats, DEFAULT_PREPROCESSING);

/** A model directory with an untrained (seeded) dense model and thresholds fitted on its own errors. */
async function writeDetectorDir(dir: string, edit: (d: DetectorDescription) => void = () => undefined): Promise<void> {
  await initBackend('wasm');
  const model = buildAutoencoder('dense', 1);
  const errors = reconstructionErrors(model, windows);
  const thresholds = withFlatline(fitBudgetThresholds(errors), new Float32Array(6).fill(1));
  const description: DetectorDescription = {
    format: 'wind-turbine-detector',
    formatVersion: DETECTOR_FORMAT_VERSION,
    architecture: 'dense',
    inputName: 'input',
    inputShape: [null, 6, 10, 10],
    featureNames: [...stats.featureNames],
    statistics: statisticsToJson(stats, DEFAULT_PREPROCESSING),
    thresholds,
    originalThresholds: originalThresholds(errors),
    zScoreThresholds: fitBudgetThresholds(errors),
    trainingDataHash: 'sha256:test',
    training: { backend: 'wasm', seed: 1, epochs: 0, bestEpoch: 0, bestValLoss: 0, seconds: 0, trainWindows: 0, validationWindows: 0, options: {} },
  };
  edit(description);
  writeModelDir(dir, { model: await modelToFiles(model), description, metrics: { event_f1: 1 }, curve: [] });
  model.dispose();
}

test('a written model directory loads and scores exactly like the model it was written from', async () => {
  const dir = join(root, 'roundtrip');
  await writeDetectorDir(dir);
  const model = buildAutoencoder('dense', 1);
  const expected = reconstructionErrors(model, windows);
  model.dispose();
  const detector = await loadDetector(dir);
  assert.deepEqual(detector.scoreWindows(windows.windows), expected);
  assert.equal(detector.description.architecture, 'dense');
  assert.deepEqual(detector.featureNames, ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage']);
  detector.dispose();
  // Nothing but the directory itself is left next to it (the temporary directory was renamed).
  assert.deepEqual(readdirSync(root).filter((n) => n.includes('roundtrip')), ['roundtrip']);
});

test('the streaming scorer gives the batch scores for the same frames', async () => {
  const dir = join(root, 'stream');
  await writeDetectorDir(dir);
  const detector = await loadDetector(dir);
  const batch = detector.scoreWindows(windows);
  const scorer = detector.createStreamingScorer();
  const streamed: number[][] = [];
  for (let i = 0; i < frames.length; i++) for (const w of scorer.push(frameAt(frames, i))) streamed.push(w.errors);
  assert.equal(streamed.length, windows.count);
  streamed.forEach((e, k) => e.forEach((v, f) => assert.ok(Math.abs(v - batch[k * 6 + f]) < 1e-5, `window ${k} feature ${f}: ${v} vs ${batch[k * 6 + f]}`)));
  detector.dispose();
});

test('missing, corrupted or inconsistent files are refused with the file named', async () => {
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    ['missing weights', (d) => unlinkSync(join(d, 'weights.bin')), /missing weights\.bin/],
    ['missing manifest', (d) => unlinkSync(join(d, 'manifest.json')), /missing manifest\.json/],
    ['flipped byte', (d) => { const b = readFileSync(join(d, 'weights.bin')); b[10] ^= 0xff; writeFileSync(join(d, 'weights.bin'), b); }, /weights\.bin does not match its sha256/],
    ['edited thresholds', (d) => writeFileSync(join(d, 'detector.json'), readFileSync(join(d, 'detector.json'), 'utf8').replace('"budget"', '"budget" ')), /detector\.json does not match its sha256/],
    ['garbage manifest', (d) => writeFileSync(join(d, 'manifest.json'), '{not json'), /manifest\.json is not valid JSON/],
  ];
  for (const [name, damage, expected] of cases) {
    const dir = join(root, name.replace(/ /g, '-'));
    await writeDetectorDir(dir);
    damage(dir);
    await assert.rejects(loadDetector(dir), expected, name);
  }
  await assert.rejects(loadDetector(join(root, 'nowhere')), /does not exist/);
  const badRecent = join(root, 'bad-recent');
  await writeDetectorDir(badRecent, (d) => { d.thresholds.recent = { values: [1, 1, 1, 1, 1, 0], errorSteps: 20, margin: 1.3 }; });
  await assert.rejects(loadDetector(badRecent), /detector\.json thresholds: thresholds\.recent\.values must hold 6 positive numbers/);
  const badSteps = join(root, 'bad-recent-steps');
  await writeDetectorDir(badSteps, (d) => { d.thresholds.recent = { values: [1, 1, 1, 1, 1, 1], errorSteps: 101, margin: 1.3 }; });
  await assert.rejects(loadDetector(badSteps), /thresholds\.recent\.errorSteps must be an integer from 1 to 100/);
  const badScale = join(root, 'bad-scale');
  await writeDetectorDir(badScale, (d) => { d.thresholds.scale = { full: [null], recent: [], recentSteps: 20, levelRange: [0, 1], changeMax: 1 }; });
  await assert.rejects(loadDetector(badScale), /detector\.json thresholds: scale\.full must hold 6 entries/);
  // Version 1 directories (written before the scale and the fast rule) still load; one that claims version 1
  // but carries a scale is refused, and so is an unknown version.
  const v1 = join(root, 'version-1');
  await writeDetectorDir(v1, (d) => { d.formatVersion = 1; });
  (await loadDetector(v1)).dispose();
  const v1Scale = join(root, 'version-1-scale');
  await writeDetectorDir(v1Scale, (d) => { d.formatVersion = 1; d.thresholds.fast = 2; });
  await assert.rejects(loadDetector(v1Scale), /thresholds\.scale and thresholds\.fast need format version 2/);
  const v3 = join(root, 'version-3');
  await writeDetectorDir(v3, (d) => { d.formatVersion = 3; });
  await assert.rejects(loadDetector(v3), /format version 3 is not supported \(this version reads 1, 2\)/);
  const badFast = join(root, 'bad-fast');
  await writeDetectorDir(badFast, (d) => { d.thresholds.fast = 0.5; });
  await assert.rejects(loadDetector(badFast), /thresholds\.fast must be a number over 1/);
});

test('with conditioned thresholds and the fast rule the streaming scorer gives the batch scores and alarms', async () => {
  const dir = join(root, 'conditioned');
  // Expected errors that vary strongly with the rotor-speed state, and onset thresholds low enough to decide
  // the scores (over the stuck-sensor rule of this untrained model), so conditioning changes them.
  const c = [0, 0.4, 0.1, 1.5, 0.2];
  const scale = { full: [c, c, null, null, c, c], recent: [c, c, c, c, c, c], recentSteps: 20, levelRange: [-4, 4] as [number, number], changeMax: 3 };
  const write = (fast: number) =>
    writeDetectorDir(dir, (d) => {
      d.thresholds = { ...d.thresholds, scale, fast, recent: { values: d.thresholds.values.map((v) => v / 1000), errorSteps: 20, margin: 1 } };
    });
  await write(1e9);
  let detector = await loadDetector(dir);
  const states = operatingStates(windows, 20);
  const scores = (t: typeof detector.thresholds) => windowScores(detector.scoreWindows(windows), t, windowVariation(windows, t.variationSteps), detector.scoreWindows(windows, 20), t.scale ? states : null);
  const expected = scores(detector.thresholds);
  const unconditioned = scores({ ...detector.thresholds, scale: undefined });
  assert.ok(expected.some((v, k) => Math.abs(v - unconditioned[k]) > 0.05 * unconditioned[k]), 'conditioning changes some scores');
  // A fast threshold that one of the first two windows exceeds: it alarms before the debounce could.
  detector.dispose();
  assert.ok(Math.max(expected[0], expected[1]) > 1.01);
  await write(0.99 * Math.max(expected[0], expected[1]));
  detector = await loadDetector(dir);
  const t = detector.thresholds;
  const alarms = debouncedAlarms(expected, t.debounceWindows, null, t.fast);
  assert.notDeepEqual(Array.from(alarms), Array.from(debouncedAlarms(expected, t.debounceWindows)));
  const scorer = detector.createStreamingScorer();
  const streamed: Array<{ score: number; alarm: boolean }> = [];
  for (let i = 0; i < frames.length; i++) for (const w of scorer.push(frameAt(frames, i))) streamed.push(w);
  assert.equal(streamed.length, windows.count);
  streamed.forEach((w, k) => assert.ok(Math.abs(w.score - expected[k]) < 1e-4 * expected[k], `window ${k}: ${w.score} vs ${expected[k]}`));
  assert.deepEqual(streamed.map((w) => (w.alarm ? 1 : 0)), Array.from(alarms));
  detector.dispose();
});

test('with the onset rule the streaming scorer gives the batch window scores', async () => {
  const dir = join(root, 'onset');
  // Recent thresholds far below the whole-window ones, so the onset rule decides (over the flatline rule too).
  await writeDetectorDir(dir, (d) => { d.thresholds = { ...d.thresholds, recent: { values: d.thresholds.values.map((v) => v / 1000), errorSteps: 20, margin: 1 } }; });
  const detector = await loadDetector(dir);
  const t = detector.thresholds;
  assert.equal(t.recent?.errorSteps, 20);
  const expected = windowScores(detector.scoreWindows(windows), t, windowVariation(windows, t.variationSteps), detector.scoreWindows(windows, 20));
  const scorer = detector.createStreamingScorer();
  const streamed: number[] = [];
  for (let i = 0; i < frames.length; i++) for (const w of scorer.push(frameAt(frames, i))) streamed.push(w.score);
  assert.equal(streamed.length, windows.count);
  streamed.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) < 1e-4 * expected[k], `window ${k}: ${v} vs ${expected[k]}`));
  // The onset rule decides some of these scores.
  const without = windowScores(detector.scoreWindows(windows), { ...t, recent: undefined }, windowVariation(windows, t.variationSteps));
  assert.ok(expected.some((v, k) => v > without[k]));
  detector.dispose();
});

test('a failed write leaves the previous model directory intact and loadable', async () => {
  const dir = join(root, 'atomic');
  await writeDetectorDir(dir);
  const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
  const bad = { model: { modelJson: '{}', weights: 42 as unknown as Buffer }, description: {} as DetectorDescription, metrics: {}, curve: [] };
  assert.throws(() => writeModelDir(dir, bad), /cannot write model directory/);
  assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), before);
  assert.deepEqual(readdirSync(root).filter((n) => n.includes('atomic')), ['atomic']);
  (await loadDetector(dir)).dispose();
  assert.ok(existsSync(join(dir, 'weights.bin')));
});

test('tensor count and heap stay flat over 10,000 scoring calls', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const dir = join(root, 'memory');
  await writeDetectorDir(dir);
  const detector = await loadDetector(dir);
  const one = windows.windows.slice(0, 600);
  for (let i = 0; i < 200; i++) detector.scoreWindows(one); // warm up (kernels, pools)
  gc();
  const tensors = tf.memory().numTensors;
  const heap = process.memoryUsage().heapUsed;
  for (let i = 0; i < 10_000; i++) detector.scoreWindows(one);
  gc();
  assert.equal(tf.memory().numTensors, tensors);
  const growth = process.memoryUsage().heapUsed - heap;
  assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MB`);
  detector.dispose();
});
