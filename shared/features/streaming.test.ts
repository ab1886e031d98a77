/**
 * The default (block) scheme: the streaming pipeline a device runs gives bit-identical windows to the batch
 * pipeline training runs, with bounded memory, bounded latency, and bad frames skipped the same way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simulateFarm } from '../turbine/farm';
import type { RawFrame } from '../turbine/schema';
import { batchWindows } from './batch';
import { DEFAULT_PREPROCESSING, ORIGINAL_PREPROCESSING, preprocessingParams } from './params';
import { fitFeatureStatistics } from './statistics';
import { type FeatureWindow, StreamingFeaturePipeline } from './streaming';
import { frameAt, splitByTurbine } from '../turbine/frames';
import { syntheticFrames, withValues } from './synthetic-frames-testing';

const training = syntheticFrames(4000, 11);
const stats = fitFeatureStatistics(training);

/** Pushes every frame, remembering at which push each window came out. */
function stream(frames: RawFrame[], pipeline = new StreamingFeaturePipeline(stats)): { windows: FeatureWindow[]; emittedAt: number[]; pipeline: StreamingFeaturePipeline } {
  const windows: FeatureWindow[] = [];
  const emittedAt: number[] = [];
  frames.forEach((frame, i) => {
    for (const w of pipeline.push(frame)) {
      windows.push(w);
      emittedAt.push(i);
    }
  });
  return { windows, emittedAt, pipeline };
}

function assertSameWindows(batch: ReturnType<typeof batchWindows>, windows: FeatureWindow[]): void {
  assert.equal(windows.length, batch.count, 'window count');
  windows.forEach((w, i) => {
    assert.equal(w.startIndex, batch.startIndex[i], `window ${i} start`);
    assert.equal(w.endIndex, batch.endIndex[i], `window ${i} end`);
    const expected = batch.windows.subarray(i * 600, (i + 1) * 600);
    // Bitwise: compare the float32 bit patterns, not just values.
    assert.deepEqual(new Uint32Array(w.data.buffer), new Uint32Array(expected.slice().buffer), `window ${i} data`);
  });
}

test('batch and streaming give bit-identical windows on a few thousand frames (windows span block boundaries)', () => {
  const frames = syntheticFrames(3000, 12);
  const batch = batchWindows(frames, stats);
  const { windows, pipeline } = stream(Array.from({ length: frames.length }, (_, i) => frameAt(frames, i)));
  // 3000 frames = 93 whole blocks of 32 (2976 steps): windows at 0, 10, ..., 2870.
  assert.equal(batch.count, Math.floor((2976 - 100) / 10) + 1);
  assertSameWindows(batch, windows);
  assert.deepEqual(pipeline.counters, { accepted: 3000, rejected: 0, windows: batch.count });
  assert.ok(windows.some((w) => Math.floor(w.startIndex / 32) !== Math.floor(w.endIndex / 32)));
});

test('a window comes out when the block holding its last frame completes: at most blockLength - 1 frames late', () => {
  const frames = syntheticFrames(1000, 13);
  const { windows, emittedAt } = stream(Array.from({ length: frames.length }, (_, i) => frameAt(frames, i)));
  const B = DEFAULT_PREPROCESSING.blockLength;
  windows.forEach((w, i) => {
    assert.equal(emittedAt[i], (Math.floor(w.endIndex / B) + 1) * B - 1, `window ${i} emitted when its block completed`);
    assert.equal(w.latencyFrames, emittedAt[i] - w.endIndex);
    assert.ok(w.latencyFrames <= B - 1);
    assert.equal(w.endEventTime, frames.eventTime[w.endIndex]);
  });
  assert.ok(B - 1 <= 40, 'default latency within 40 frames (2 s)');
});

test('bad frames are counted and skipped, the stream goes on, and batch skips the same rows', () => {
  const clean = syntheticFrames(2500, 14);
  const frames = withValues(clean, [
    { row: 700, column: 'qx', value: NaN },
    { row: 701, column: 'voltage', value: Infinity },
    { row: 1300, column: 'rps', value: NaN },
  ]);
  const objects: RawFrame[] = Array.from({ length: frames.length }, (_, i) => frameAt(frames, i));
  const missing = { ...objects[1800] } as Partial<RawFrame>;
  delete missing.wind_speed_rps;
  objects[1800] = missing as RawFrame;
  objects[1900] = { ...objects[1900], qw: 'abc' as unknown as number };
  // The batch sees the missing field and the text as NaN, which is how a column store holds them.
  const batchFrames = withValues(frames, [
    { row: 1800, column: 'wind_speed_rps', value: NaN },
    { row: 1900, column: 'qw', value: NaN },
  ]);
  const batch = batchWindows(batchFrames, stats);
  const { windows, pipeline } = stream(objects);
  assert.equal(batch.rejectedFrames, 5);
  assert.deepEqual(pipeline.counters, { accepted: 2495, rejected: 5, windows: batch.count });
  assertSameWindows(batch, windows);
  assert.match(pipeline.lastRejection ?? '', /frame 1900: field "qw" is not a number \("abc"\)/);
  // Windows after the bad frames keep coming, and their indexes still count every frame pushed.
  assert.ok(windows[windows.length - 1].endIndex > 2400);
  const across = windows.find((w) => w.startIndex < 700 && w.endIndex > 701);
  assert.ok(across, 'a window spans the skipped frames');
  assert.equal(across.endIndex - across.startIndex, 100 + 1, 'two skipped frames inside: the window covers 102 frames');
});

test('non-objects and empty objects are rejected, not thrown', () => {
  const pipeline = new StreamingFeaturePipeline(stats);
  for (const bad of [null, undefined, 42, 'frame', {}]) assert.deepEqual(pipeline.push(bad as unknown as RawFrame), []);
  assert.deepEqual(pipeline.counters, { accepted: 0, rejected: 5, windows: 0 });
  assert.match(pipeline.lastRejection ?? '', /frame 4: missing field "qx"/);
});

test('memory stays bounded: the buffers are fixed at construction', () => {
  const pipeline = new StreamingFeaturePipeline(stats);
  const B = DEFAULT_PREPROCESSING.blockLength;
  assert.equal(pipeline.capacity, B + DEFAULT_PREPROCESSING.windowLength + B);
  const frames = syntheticFrames(600, 15);
  for (let round = 0; round < 5; round++) for (let i = 0; i < frames.length; i++) pipeline.push(frameAt(frames, i));
  assert.equal(pipeline.counters.accepted, 3000);
  assert.equal(pipeline.capacity, B + DEFAULT_PREPROCESSING.windowLength + B);
});

test('other block lengths and strides stay equal to batch', () => {
  const frames = syntheticFrames(1500, 16);
  for (const overrides of [{ blockLength: 40, stride: 7 }, { blockLength: 64, level: 2, thresholdMultiplier: 2 }]) {
    const params = preprocessingParams(overrides);
    const s = fitFeatureStatistics(training, params);
    const batch = batchWindows(frames, s, params);
    const { windows } = stream(Array.from({ length: frames.length }, (_, i) => frameAt(frames, i)), new StreamingFeaturePipeline(s, params));
    assertSameWindows(batch, windows);
  }
});

test('the device never re-estimates statistics: a noise fault shows up instead of raising its own threshold', () => {
  const normal = syntheticFrames(3000, 17);
  const faulty = syntheticFrames(3000, 17, { noiseScale: 2, noiseFrom: 0 });
  const spread = (frames: typeof normal) => {
    const { windows } = stream(Array.from({ length: frames.length }, (_, i) => frameAt(frames, i)));
    let sum = 0;
    let count = 0;
    // roll channel: the first 100 values of each window; mean square of the step-to-step change (noise).
    for (const w of windows) for (let t = 1; t < 100; t++) (sum += (w.data[t] - w.data[t - 1]) ** 2), count++;
    return Math.sqrt(sum / count);
  };
  const ratio = spread(faulty) / spread(normal);
  // Doubling the vibration noise must stay clearly visible after denoising (it is 2x in the raw data).
  assert.ok(ratio > 1.8, `noise doubled but denoised roll changed only ${ratio.toFixed(2)}x`);
});

test('the streaming pipeline refuses the original scheme and statistics without a noise sigma', () => {
  assert.throws(() => new StreamingFeaturePipeline(stats, ORIGINAL_PREPROCESSING), /"block" scheme only/);
  const { noiseSigma: _dropped, ...withoutSigma } = stats;
  assert.throws(() => new StreamingFeaturePipeline(withoutSigma), /noiseSigma.*block scheme needs a fitted noise sigma/);
  assert.throws(() => new StreamingFeaturePipeline({ ...stats, std: [1, 1, 0, 1, 1, 1] }), /"std" for yaw is 0/);
  assert.throws(() => new StreamingFeaturePipeline({ ...stats, featureNames: ['a'] }), /expected \[roll, pitch/);
});

test('on simulated turbines with faults (stuck sensors, dropouts to zero) batch and streaming still agree', () => {
  const farm = simulateFarm({ turbines: 2, minutes: 6, faults: true, seed: 5 });
  const [first, second] = [...splitByTurbine(farm.frames).values()];
  const fitted = fitFeatureStatistics(first);
  const batch = batchWindows(second, fitted);
  const { windows, pipeline } = stream(Array.from({ length: second.length }, (_, i) => frameAt(second, i)), new StreamingFeaturePipeline(fitted));
  assert.ok(batch.count > 600);
  assertSameWindows(batch, windows);
  assert.equal(pipeline.counters.rejected, batch.rejectedFrames);
});

test('reset() drops buffered frames and realigns blocks; counters and frame indexes keep counting', () => {
  const frames = syntheticFrames(1500, 18);
  const objects = Array.from({ length: frames.length }, (_, i) => frameAt(frames, i));
  const resumed = new StreamingFeaturePipeline(stats);
  stream(objects.slice(0, 500), resumed);
  resumed.reset();
  const after = stream(objects.slice(500), resumed).windows;
  const fresh = stream(objects.slice(500)).windows;
  assert.equal(after.length, fresh.length);
  after.forEach((w, i) => {
    assert.deepEqual(w.data, fresh[i].data);
    assert.equal(w.endIndex, fresh[i].endIndex + 500);
  });
  assert.equal(resumed.counters.accepted, 1500);
});
