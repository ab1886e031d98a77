import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateOnFrames, initBackend, loadDetector } from '../detector';
import { simulateFarm } from '../turbine/farm';
import { WARMUP_RECIPE, warmupPackages } from './warmup-model';

// Lab 00's promise: a model trained in seconds through the real pipeline that still catches a severe
// vibration fault and stays quiet on normal operation of turbines it never saw.
test('the warm-up model is trained, registered and packaged once, detects severe vibration and raises no false alarm', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warmup-model-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = await warmupPackages(() => undefined, dir);
  assert.equal(first.trained, true);
  for (const path of Object.values(first.packages)) assert.ok(existsSync(path), path);
  const description = JSON.parse(readFileSync(join(first.modelDir, 'detector.json'), 'utf8'));
  assert.ok(description.training.epochs <= (WARMUP_RECIPE.pipeline?.training?.epochs ?? 0), `trained ${description.training.epochs} epochs`);
  assert.ok(description.training.falseAlarm, 'thresholds calibrated for a false-alarm rate');
  const again = await warmupPackages(() => undefined, dir);
  assert.equal(again.trained, false);
  assert.deepEqual(readFileSync(again.packages['1.0.0']), readFileSync(first.packages['1.0.0']));

  await initBackend();
  const detector = await loadDetector(first.modelDir);
  const faulty = simulateFarm({ turbines: 4, minutes: 20, seed: 13, faults: true });
  const { report } = evaluateOnFrames(detector, faulty.frames, faulty.labels);
  const vib = report.per_kind.vib?.severe;
  assert.ok(vib && vib.events > 0, 'the farm holds severe vibration faults');
  assert.equal(vib.detected, vib.events, `severe vibration: ${vib.detected} of ${vib.events} detected`);
  const normal = simulateFarm({ turbines: 4, minutes: 30, seed: 1001 });
  assert.equal(evaluateOnFrames(detector, normal.frames, []).report.false_alarms, 0, 'false alarms on 2 turbine-hours of normal operation');
});
