import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatFramesCsv, writeFramesCsv } from './csv';
import { parseEventTime } from './event-time';
import { FAULT_KINDS, FAULT_SEVERITIES } from './faults';
import { FarmSimulator, simulateFarm } from './farm';
import { concatFrames, splitByTurbine } from './frames';
import { labelIndexByRow } from './labels';
import { TurbineSimulator, STARTUP_S } from './simulator';
import { rowsDiffer, sixFeatures, meanStd, SIX_FEATURES } from './feature-stats-testing';

const options = { turbines: 4, minutes: 30, seed: 42 };
const clean = simulateFarm({ ...options, faults: false }).frames;
const faulty = simulateFarm({ ...options, faults: true });
const rowLabel = labelIndexByRow(faulty.frames, faulty.labels);

test('faults are labelled exactly: a frame differs from the same-seed fault-free run if and only if a label covers it', () => {
  assert.equal(faulty.frames.length, clean.length);
  for (let i = 0; i < clean.length; i++) {
    const differs = rowsDiffer(faulty.frames, clean, i);
    if (differs !== rowLabel[i] >= 0) {
      assert.fail(`row ${i} (turbine ${clean.columns.turbineId[i]}, ${clean.eventTime[i]}) differs=${differs} but label=${rowLabel[i]}`);
    }
  }
  // Every label's first and last frame exist for its turbine, so start/end name affected frames.
  for (const l of faulty.labels) {
    const rows = [...rowLabel.keys()].filter((i) => rowLabel[i] >= 0 && faulty.labels[rowLabel[i]] === l);
    assert.equal(faulty.frames.eventTime[rows[0]], l.start);
    assert.equal(faulty.frames.eventTime[rows[rows.length - 1]], l.end);
    assert.ok(rows.every((i) => faulty.frames.columns.turbineId[i] === l.turbineId));
  }
});

test('the schedule covers every kind at both severities, separated by normal stretches, away from stops', () => {
  const pairs = new Set(faulty.labels.map((l) => `${l.kind}:${l.severity}`));
  assert.equal(pairs.size, FAULT_KINDS.length * FAULT_SEVERITIES.length);
  const faultyShare = [...rowLabel].filter((x) => x >= 0).length / rowLabel.length;
  assert.ok(faultyShare > 0.2 && faultyShare < 0.5, `share of faulty frames ${faultyShare}`);
  for (let t = 0; t < options.turbines; t++) {
    const mine = faulty.labels.filter((l) => l.turbineId === t).map((l) => [parseEventTime(l.start), parseEventTime(l.end)]);
    mine.sort((a, b) => a[0] - b[0]);
    for (const [s, e] of mine) {
      const seconds = (e - s) / 1000 + 0.05;
      assert.ok(seconds >= 20 && seconds <= 120, `episode of ${seconds} s`);
    }
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i][0] - mine[i - 1][1] >= 60_000, 'episodes at least 60 s apart');
    const t0 = parseEventTime(clean.eventTime[0]);
    const stops = new TurbineSimulator({ turbineId: t, seed: options.seed }).plannedStops(options.minutes * 1200);
    for (const stop of stops) {
      const from = t0 + stop.start * 50;
      const to = t0 + (stop.end + STARTUP_S * 20) * 50;
      for (const [s, e] of mine) assert.ok(e < from || s > to, `turbine ${t}: fault ${new Date(s).toISOString()} overlaps a stop or start-up`);
    }
  }
});

test('mild faults stay within 3 normal std of the features they touch, are visible there, and severe ones are larger', () => {
  const normal = sixFeatures(clean).map((f) => meanStd(f).std);
  const a = sixFeatures(faulty.frames);
  const b = sixFeatures(clean);
  // Pooled over every episode of a kind:severity: RMS of (faulty - clean) per feature, in normal std.
  const sizes = new Map<string, number[]>();
  const counts = new Map<string, number>();
  for (let i = 0; i < rowLabel.length; i++) {
    if (rowLabel[i] < 0) continue;
    const l = faulty.labels[rowLabel[i]];
    const key = `${l.kind}:${l.severity}`;
    const acc = sizes.get(key) ?? new Array<number>(6).fill(0);
    for (let f = 0; f < 6; f++) acc[f] += (a[f][i] - b[f][i]) ** 2;
    sizes.set(key, acc);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const perFeature = (key: string): number[] => sizes.get(key)!.map((s, f) => Math.sqrt(s / counts.get(key)!) / normal[f]);
  const largest = (key: string): number => Math.max(...perFeature(key));
  // Severity is size or scope (a stuck IMU against a hung board): compare over all six features together.
  const total = (key: string): number => Math.hypot(...perFeature(key));
  for (const kind of FAULT_KINDS) {
    const mild = largest(`${kind}:mild`);
    const severe = total(`${kind}:severe`);
    const detail = sizes.get(`${kind}:mild`)!.map((s, f) => `${SIX_FEATURES[f]} ${(Math.sqrt(s / counts.get(`${kind}:mild`)!) / normal[f]).toFixed(2)}`).join(', ');
    assert.ok(mild <= 3, `${kind}:mild is ${mild.toFixed(2)} std (${detail})`);
    assert.ok(mild >= 0.4, `${kind}:mild is barely visible: ${mild.toFixed(2)} std (${detail})`);
    assert.ok(severe > total(`${kind}:mild`), `${kind}: severe ${severe.toFixed(2)} std is not larger than mild ${total(`${kind}:mild`).toFixed(2)}`);
  }
});

test('noise faults raise the short-term variability of the features they touch', () => {
  const a = sixFeatures(faulty.frames);
  const b = sixFeatures(clean);
  const touched: Record<string, number> = { vib: 0, rot: 4, volt: 5, bearing_wear: 1 };
  const byTurbine = clean.columns.turbineId;
  for (const [kind, f] of Object.entries(touched)) {
    let faultySq = 0;
    let cleanSq = 0;
    const turbines = options.turbines;
    for (let i = turbines; i < rowLabel.length; i++) {
      const prev = i - turbines; // the same turbine's previous frame (rows are time-major)
      if (rowLabel[i] < 0 || rowLabel[prev] !== rowLabel[i] || faulty.labels[rowLabel[i]].kind !== kind) continue;
      assert.equal(byTurbine[prev], byTurbine[i]);
      if (faulty.labels[rowLabel[i]].severity !== 'mild') continue;
      faultySq += (a[f][i] - a[f][prev]) ** 2;
      cleanSq += (b[f][i] - b[f][prev]) ** 2;
    }
    assert.ok(faultySq > 2 * cleanSq, `${kind}:mild frame-to-frame change of ${SIX_FEATURES[f]} only ${Math.sqrt(faultySq / cleanSq).toFixed(2)}x normal`);
  }
});

test('the same seed gives identical bytes, another seed different ones', async () => {
  const again = simulateFarm({ ...options, faults: true });
  assert.equal(formatFramesCsv(again.frames), formatFramesCsv(faulty.frames));
  assert.deepEqual(again.labels, faulty.labels);
  const dir = await mkdtemp(join(tmpdir(), 'turbine-farm-'));
  try {
    const small = { turbines: 2, minutes: 3, faults: true };
    await writeFramesCsv(simulateFarm({ ...small, seed: 5 }).frames, join(dir, 'a.csv.gz'));
    await writeFramesCsv(simulateFarm({ ...small, seed: 5 }).frames, join(dir, 'b.csv.gz'));
    await writeFramesCsv(simulateFarm({ ...small, seed: 6 }).frames, join(dir, 'c.csv.gz'));
    assert.ok(readFileSync(join(dir, 'a.csv.gz')).equals(readFileSync(join(dir, 'b.csv.gz'))));
    assert.ok(!readFileSync(join(dir, 'a.csv.gz')).equals(readFileSync(join(dir, 'c.csv.gz'))));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const other = simulateFarm({ ...options, seed: 43, faults: true });
  assert.notEqual(formatFramesCsv(other.frames), formatFramesCsv(faulty.frames));
  assert.notDeepEqual(other.labels, faulty.labels);
});

test('rows are ordered by time then turbine; blocks, whole runs and splitByTurbine agree', () => {
  const { frames } = simulateFarm({ turbines: 3, minutes: 1, seed: 2, startTime: '2022-06-01T00:00:00Z' });
  assert.equal(frames.length, 3 * 1200);
  assert.equal(frames.eventTime[0], '2022-06-01T00:00:00.000000+00:00');
  assert.equal(frames.eventTime[3], '2022-06-01T00:00:00.050000+00:00');
  assert.deepEqual([...frames.columns.turbineId.subarray(0, 6)], [0, 1, 2, 0, 1, 2]);
  assert.deepEqual([...frames.columns.nanoId.subarray(0, 3)], [1, 2, 3]);
  const farm = new FarmSimulator({ turbines: 3, minutes: 1, seed: 2, startTime: '2022-06-01T00:00:00Z' });
  const blocks = [];
  for (let b = farm.nextBlock(250); b; b = farm.nextBlock(250)) blocks.push(b);
  assert.equal(formatFramesCsv(concatFrames(blocks)), formatFramesCsv(frames));
  const split = splitByTurbine(frames);
  assert.deepEqual([...split.keys()], [0, 1, 2]);
  for (const [id, series] of split) {
    assert.equal(series.length, 1200);
    assert.ok(series.columns.turbineId.every((x) => x === id));
    const ts = series.columns.arduino_timestamp;
    for (let i = 1; i < ts.length; i++) assert.equal(ts[i] - ts[i - 1], 50);
  }
});

test('bad farm options throw a clear error naming the option', () => {
  assert.throws(() => simulateFarm({ turbines: 0 }), /turbines must be an integer from 1 to 10000, got 0/);
  assert.throws(() => simulateFarm({ turbines: 2.5 }), /turbines must be an integer from 1 to 10000, got 2.5/);
  assert.throws(() => simulateFarm({ minutes: -1 }), /minutes must be a positive number, got -1/);
  assert.throws(() => simulateFarm({ minutes: Number.NaN }), /minutes must be a positive number/);
  assert.throws(() => simulateFarm({ seed: 1.5 }), /seed must be an integer, got 1.5/);
  assert.throws(() => simulateFarm({ startTime: 'not a time' }), /invalid start time "not a time"/);
});
