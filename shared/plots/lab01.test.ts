import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStreamingToBatch, faultFigure, lab01Data, lab01Figure, LAB01_FIGURE_NAMES, pickFault } from './lab01';

const data = lab01Data({ turbines: 2, minutes: 6, seed: 7 });

test('every Lab 01 figure builds from a small farm, with data in each trace', () => {
  for (const name of LAB01_FIGURE_NAMES) {
    const fig = lab01Figure(data, name);
    assert.ok(fig.data.length > 0, name);
    for (const trace of fig.data) assert.ok((trace.y ?? trace.z ?? trace.x) !== undefined, `${name}: trace without data`);
  }
});

test('the fault figure marks exactly the labelled frames, and the twin differs only there', () => {
  const { label, startIndex, endIndex } = pickFault(data);
  assert.ok(startIndex >= 0 && endIndex > startIndex, 'label times found in the turbine frames');
  const fig = faultFigure(data, label.kind);
  const [faulty, normal] = fig.data.map((t) => t.y as Float64Array);
  const shape = (fig.layout.shapes as { x0: number; x1: number }[])[0];
  const from = Math.round(shape.x0 * 20);
  const to = Math.round(shape.x1 * 20);
  for (let i = 0; i < normal.length; i++) {
    if (i < from || i > to) assert.equal(faulty[i], normal[i], `frame ${i} outside the fault differs`);
  }
  assert.ok(faulty.some((v, i) => v !== normal[i]), 'the fault changes the feature');
});

test('a fault kind the farm does not hold gets a clear error', () => {
  const kinds = new Set(data.farm.labels.map((l) => l.kind));
  const missing = (['vib', 'rot', 'volt', 'bearing_wear', 'yaw_misalignment', 'generator_fault', 'stuck_sensor', 'sensor_dropout'] as const).find((k) => !kinds.has(k));
  if (missing) assert.throws(() => faultFigure(data, missing), new RegExp(`no ${missing} fault`));
  assert.throws(() => lab01Figure(data, 'nope' as never), /unknown Lab 01 figure "nope"/);
});

test('streaming windows equal batch windows for the notebook turbine', () => {
  const r = compareStreamingToBatch(data);
  assert.equal(r.streamedWindows, r.batchWindows);
  assert.ok(r.batchWindows > 100);
  assert.equal(r.maxAbsDifference, 0);
});
