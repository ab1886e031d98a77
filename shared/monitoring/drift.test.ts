import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capturedWindows } from './captured-windows';
import { addWindowMoments, driftVerdict, emptyMoments, gaussianDivergence, momentsFromSummary } from './drift';
import { captureFieldBatches, recalibratedAnemometer, trainingStatistics } from './field-capture-testing';

const NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];

test('the divergence is PSI-scaled: a shift of half a std is the 0.25 drift threshold, identical Gaussians 0', () => {
  assert.equal(gaussianDivergence(0, 1), 0);
  assert.ok(Math.abs(gaussianDivergence(0.5, 1) - 0.25) < 1e-12);
  assert.ok(Math.abs(gaussianDivergence(-0.5, 1) - 0.25) < 1e-12);
  assert.ok(gaussianDivergence(0, 1.45) > 0.25 && gaussianDivergence(0, 1.35) < 0.25);
  assert.equal(gaussianDivergence(0, 0), Number.POSITIVE_INFINITY, 'a flat feature is infinitely far from N(0, 1)');
});

test('moments from a heartbeat summary give back its mean and std', () => {
  const v = driftVerdict(['x'], [momentsFromSummary(0.3, 1.2, 5000)]);
  assert.ok(Math.abs(v.features[0].mean - 0.3) < 1e-9 && Math.abs(v.features[0].std - 1.2) < 1e-9);
});

test('bad thresholds and mismatched inputs are refused; too little data gives no verdict', () => {
  assert.throws(() => driftVerdict(NAMES, emptyMoments(6), { watch: 0.3, drift: 0.2 }), /0 < watch <= drift/);
  assert.throws(() => driftVerdict(NAMES, emptyMoments(5)), /6 feature names for 5 features/);
  assert.throws(() => addWindowMoments(emptyMoments(6), new Float32Array(599), 100), /599 values is not 6 features x 100 steps/);
  const m = emptyMoments(6);
  addWindowMoments(m, new Float32Array(600).fill(3), 100);
  const v = driftVerdict(NAMES, m);
  assert.equal(v.verdict, 'insufficient-data');
  assert.match(v.reason, /100 captured steps per feature, fewer than the 2000/);
});

// Realistic field data: simulated turbines through the edge runtime and the agent's capture, with manifest
// statistics fitted on other simulated turbines as training fits them.
test('captured field data: no drift on an unchanged farm, drift on wind_speed_rps alone after an anemometer recalibration', async () => {
  const stats = trainingStatistics(8, 24000, 5);
  const verdictOf = async (transform?: Parameters<typeof captureFieldBatches>[0]['transform']) => {
    const { batches, description } = await captureFieldBatches({ turbines: 4, frames: 12000, seed: 21, description: { stats }, transform });
    const windows = capturedWindows(batches);
    assert.ok(windows.length > 2000, `enough captured windows (${windows.length})`);
    const moments = emptyMoments(description.featureNames.length);
    for (const w of windows) addWindowMoments(moments, w.input, w.steps);
    return driftVerdict(description.featureNames, moments);
  };
  const before = await verdictOf();
  assert.equal(before.verdict, 'stable', before.reason);
  for (const f of before.features) assert.ok(f.divergence < 0.1, `${f.feature}: J ${f.divergence}`);
  // The anemometer now reads 15 % higher (a new calibration constant); the wind itself is unchanged.
  const after = await verdictOf(recalibratedAnemometer(1.15));
  assert.equal(after.verdict, 'drift', after.reason);
  assert.deepEqual(after.features.filter((f) => f.level === 'drift').map((f) => f.feature), ['wind_speed_rps']);
  const wind = after.features.find((f) => f.feature === 'wind_speed_rps')!;
  assert.ok(wind.mean > 0.5, `the recalibrated reading sits above the training mean (${wind.mean})`);
  assert.match(after.reason, /input drift on wind_speed_rps \(J \d+\.\d\d: mean \d\.\d\d, std \d\.\d\d\)/);
});
