/**
 * Batch and device compute one thing: a detector trained by the real pipeline scores a turbine's frames
 * (with faults) through the batch evaluation (evaluateOnFrames) and through the device's ScoringRuntime,
 * and every window's score and alarm are identical. The device runs the trained tfjs model itself here (an
 * engine around it), so both sides see the same reconstructions and only the scoring code is compared; the
 * reconstructions are real and differ window to window, so an off-by-one in an error span shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../detector/backend';
import { loadDetector } from '../detector/detector';
import { evaluateOnFrames } from '../detector/report';
import { predictValues } from '../detector/scoring';
import { simulateFarm } from '../turbine/farm';
import type { RawFrame } from '../turbine/schema';
import { RAW_COLUMNS } from '../turbine/schema';
import type { InferenceEngine } from './inference-engine';
import { type LoadedModel, ModelManager } from './model-manager';
import { ScoringRuntime, type ScoredWindow } from './scoring-runtime';
import { testKeys, testVerifier } from './stand-in-model-testing';
import { trainedTestModel } from './trained-model-testing';

test('a trained detector: batch evaluation and the device runtime give identical scores and alarms for the same frames', { timeout: 300_000 }, async () => {
  const trained = await trainedTestModel();
  await initBackend();
  const detector = await loadDetector(trained.modelDir);
  try {
    // One turbine with faults, so that scores cross the thresholds and alarms are raised.
    const farm = simulateFarm({ turbines: 1, minutes: 6, seed: 5, faults: true });
    const batch = evaluateOnFrames(detector, farm.frames, farm.labels).windows;

    const engine: InferenceEngine = {
      backend: 'tfjs-layers',
      inputShape: ['N', 6, 10, 10],
      inputNames: ['input'],
      run: async (input, shape) => ({ data: predictValues(detector.model, input, shape as [number, number, number, number]).slice(), dims: shape }),
      release: async () => undefined,
    };
    const model: LoadedModel = {
      description: { name: 'wind-turbine-anomaly', version: '1.0.0', inputName: 'input', inputShape: ['N', 6, 10, 10], featureNames: detector.featureNames, stats: detector.stats, params: detector.params, thresholds: detector.thresholds },
      engine,
      packageSha256: '',
      loadedAt: Date.now(),
      inferences: 0,
    };
    const runtime = new ScoringRuntime(new ModelManager(testVerifier(testKeys().publicKey)));
    const windows: ScoredWindow[] = [];
    runtime.on('window', (w: ScoredWindow) => windows.push(w));
    const verdict = runtime.deploy(model);
    for (let i = 0; i < farm.frames.length; i++) {
      const frame: Record<string, unknown> = { eventTime: farm.frames.eventTime[i] };
      for (const c of RAW_COLUMNS) if (c !== 'eventTime') frame[c] = (farm.frames.columns as Record<string, ArrayLike<number>>)[c][i];
      runtime.push(frame as unknown as RawFrame);
    }
    await verdict;
    await runtime.idle();

    assert.equal(windows.length, batch.scores.length, 'the same windows');
    const distinct = new Set(windows.map((w) => w.errors[0])).size;
    assert.ok(distinct > windows.length * 0.9, `real, varying reconstruction errors (${distinct} distinct of ${windows.length})`);
    assert.deepEqual(windows.map((w) => w.score), Array.from(batch.scores), 'identical scores');
    assert.deepEqual(windows.map((w) => (w.alarm ? 1 : 0)), Array.from(batch.alarms), 'identical alarms');
    assert.deepEqual(windows.map((w) => w.errors), Array.from({ length: windows.length }, (_, k) => Array.from(batch.errors.subarray(k * 6, k * 6 + 6))), 'identical errors');
    const alarms = batch.alarms.reduce((a, b) => a + b, 0);
    assert.ok(alarms > 0 && alarms < windows.length / 2, `some windows alarm (${alarms} of ${windows.length})`);
  } finally {
    detector.dispose();
  }
});
