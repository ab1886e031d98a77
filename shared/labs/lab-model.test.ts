import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLabConfig } from '../config/lab-config';
import { loadDetector } from '../detector/index';
import { exportToOnnx } from '../packaging/onnx/export';
import { labModelPaths, trainLabModel } from './lab-model';
import { compareOnnxWithModelDir } from './onnx-check';

test('Lab 02 and Lab 03 get one model: the second call reads every step back, and its ONNX export matches it', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lab-model-'));
  try {
    const config = loadLabConfig({ LAB_PROFILE: 'ci', LAB_TURBINES: '1', LAB_MINUTES: '2', LAB_EPOCHS: '2', LAB_DATA_DIR: dataDir });
    const lines: string[] = [];
    const first = await trainLabModel(config, (l) => lines.push(l));
    assert.equal(first.modelDir, labModelPaths(config).modelDir);
    assert.ok(first.curve.length >= 1 && first.curve.length <= 2, `trained within the budget of 2 epochs (${first.curve.length})`);
    assert.ok(lines.some((l) => /^epoch 1\/2: loss/.test(l)), lines.join('\n'));
    const weights = readFileSync(join(first.modelDir, 'manifest.json'), 'utf8');

    const second = await trainLabModel(config, () => undefined);
    // Training and evaluation are read back; register writes the same directory again.
    assert.deepEqual(second.steps.map((s) => [s.step, s.cached]), first.steps.map((s) => [s.step, s.step !== 'register']));
    assert.equal(readFileSync(join(second.modelDir, 'manifest.json'), 'utf8'), weights);

    const detector = await loadDetector(first.modelDir);
    const onnx = exportToOnnx(detector.model).bytes;
    // The same model with one bias nudged by 0.01: its ONNX must be told apart, so the check is not vacuous.
    const last = [...detector.model.layers].reverse().find((l) => l.getWeights().length === 2)!;
    const [kernel, bias] = last.getWeights();
    last.setWeights([kernel, bias.add(0.01)]);
    const nudged = exportToOnnx(detector.model).bytes;
    detector.dispose();

    const report = await compareOnnxWithModelDir(first.modelDir, onnx, first.sets.test.path, 64);
    assert.equal(report.windows, 64);
    assert.ok(report.equal && report.maxAbsDiff <= 1e-5, JSON.stringify(report));
    const wrong = await compareOnnxWithModelDir(first.modelDir, nudged, first.sets.test.path, 64);
    assert.ok(!wrong.equal && wrong.maxAbsDiff > 1e-3, JSON.stringify(wrong));
    await assert.rejects(compareOnnxWithModelDir(first.modelDir, onnx, first.sets.test.path, 0), /maxWindows must be a whole number of at least 1, got 0/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
