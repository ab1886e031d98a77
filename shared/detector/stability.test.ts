import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { measureTrainingStability, type StabilityOptions, stabilityTable } from './stability';

const root = mkdtempSync(join(tmpdir(), 'stability-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Short training (1 epoch on 2 turbines x 3 min): the study's plumbing, not its figures.
const options: StabilityOptions = {
  trainingSeeds: [3, 4],
  trainingData: { turbines: 2, minutes: 3 },
  pipeline: { training: { epochs: 1, batchSize: 64 }, trainStride: 2, falseAlarmTarget: 0 },
  normal: { turbines: 2, minutes: 3, firstSeed: 50, count: 2 },
  test: { turbines: 8, minutes: 12, firstSeed: 51 },
  workDir: root,
};

test('one model per training seed, each measured on the same normal-only farms and labelled farm', async () => {
  const progress: string[] = [];
  const rows = await measureTrainingStability({ ...options, onProgress: (t) => progress.push(t) });
  assert.deepEqual(rows.map((r) => r.trainingSeed), [3, 4]);
  for (const r of rows) {
    assert.ok(existsSync(join(root, `model-${r.trainingSeed}`, 'detector.json')));
    // Two normal farms of 2 turbines x 3 min: 12 turbine-minutes of normal time, less the first window's 5 s per turbine.
    assert.ok(r.normalTurbineDays > (12 * 60 - 4 * 6) / 86400 && r.normalTurbineDays <= (12 * 60) / 86400, String(r.normalTurbineDays));
    assert.equal(r.falseAlarmsPerTurbineDay, r.falseAlarms / r.normalTurbineDays);
    assert.ok(r.falseAlarmsUpper95 > r.falseAlarmsPerTurbineDay);
    assert.ok(r.eventF1 >= 0 && r.eventF1 <= 1);
    assert.equal(r.testFaultKinds, 8);
    assert.equal(r.thresholdMultipliers, null); // falseAlarmTarget 0: the budget rule alone
  }
  assert.ok(progress.some((p) => /training seed 4: normal farm 51: \d+ false alarms \(total \d+ in 0\.01 turbine-days\)/.test(p)), progress.join('\n'));
  const table = stabilityTable(rows);
  assert.match(table, /^\| training seed \|/);
  assert.equal(table.split('\n').length, 2 + rows.length + 1);
  assert.match(table, /\| mean \(min - max\) \|/);
});

test('a test farm without every fault kind, or bad farm sizes, are refused before any training', async () => {
  await assert.rejects(measureTrainingStability({ ...options, test: { turbines: 1, minutes: 3, firstSeed: 51 } }), /lacks fault kinds/);
  await assert.rejects(measureTrainingStability({ ...options, normal: { ...options.normal, count: 0 } }), /bad normal farm/);
  await assert.rejects(measureTrainingStability({ ...options, trainingSeeds: [] }), /at least one training seed/);
});
