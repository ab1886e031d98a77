import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_KINDS, FAULT_SEVERITIES, NORMAL_STATISTICS } from './faults';
import { simulateFarm } from './farm';
import { splitByTurbine, createFrameColumns, columnList } from './frames';
import { eulerFromQuaternion } from '../features/euler';
import { quaternionFromEuler } from './orientation';
import { NUMERIC_COLUMNS } from './schema';
import { TurbineSimulator } from './simulator';
import { SIX_FEATURES, meanStd, rowsDiffer, sixFeatures } from './feature-stats-testing';

/** Frames of one turbine simulator, as columns (n frames). */
function run(sim: TurbineSimulator, n: number) {
  const frames = createFrameColumns(n);
  const cols = columnList(frames);
  for (let i = 0; i < n; i++) {
    sim.nextIntoColumns(cols, i);
    frames.eventTime[i] = sim.clock.at(i);
  }
  return frames;
}

test('normal data has the original statistics (mean and raw std within a factor of 1.5)', () => {
  const { frames, labels } = simulateFarm({ turbines: 8, minutes: 60, seed: 7 });
  assert.equal(labels.length, 0);
  const features = sixFeatures(frames);
  const expected: Record<string, { mean: number; std: number }> = NORMAL_STATISTICS;
  for (const [f, name] of SIX_FEATURES.entries()) {
    if (!(name in expected)) continue; // yaw follows the wind direction: no calibrated value
    const got = meanStd(features[f]);
    const want = expected[name];
    const meanRatio = got.mean / want.mean;
    const stdRatio = got.std / want.std;
    assert.ok(meanRatio >= 1 / 1.5 && meanRatio <= 1.5, `${name} mean ${got.mean} vs ${want.mean}`);
    assert.ok(stdRatio >= 1 / 1.5 && stdRatio <= 1.5, `${name} std ${got.std} vs ${want.std}`);
  }
});

test('normal data includes stops, start-ups and strong gusts', () => {
  const { frames } = simulateFarm({ turbines: 4, minutes: 60, seed: 3 });
  const byTurbine = splitByTurbine(frames);
  let stoppedFrames = 0;
  let startups = 0;
  let maxWindJump = 0;
  for (const series of byTurbine.values()) {
    const rps = series.columns.rps;
    const wind = series.columns.wind_speed_rps;
    for (let i = 1; i < series.length; i++) {
      if (rps[i] === 0) stoppedFrames++;
      if (rps[i - 1] === 0 && rps[i] > 0) startups++;
    }
    for (let i = 100; i < series.length; i++) maxWindJump = Math.max(maxWindJump, wind[i] - wind[i - 100]); // rise within 5 s
  }
  const stoppedShare = stoppedFrames / frames.length;
  assert.ok(stoppedShare > 0.002 && stoppedShare < 0.1, `share of frames with the rotor at rest: ${stoppedShare}`);
  assert.ok(startups >= 2, `start-ups: ${startups}`);
  assert.ok(maxWindJump > 2.5 * NORMAL_STATISTICS.wind_speed_rps.std, `largest 5 s wind rise ${maxWindJump}`);
});

test('the quaternion is a unit quaternion and gravity in the accelerometer agrees with its pitch and roll', () => {
  const sim = new TurbineSimulator({ seed: 5 });
  for (let i = 0; i < 2000; i++) {
    const f = sim.next();
    assert.ok(Math.abs(f.qw ** 2 + f.qx ** 2 + f.qy ** 2 + f.qz ** 2 - 1) < 1e-5);
    const [roll, pitch] = eulerFromQuaternion(f.qx, f.qy, f.qz, f.qw);
    assert.ok(Math.abs(f.ax + Math.sin(pitch)) < 0.2, `ax ${f.ax} vs -sin(pitch) ${-Math.sin(pitch)}`);
    assert.ok(Math.abs(f.ay - Math.cos(pitch) * Math.sin(roll)) < 0.2);
    assert.ok(Math.abs(f.az - 1) < 0.2);
  }
  const q = quaternionFromEuler(0.1, -0.05, 0.3);
  const [r, p, y] = eulerFromQuaternion(q.qx, q.qy, q.qz, q.qw);
  assert.ok(Math.abs(r - 0.1) < 1e-12 && Math.abs(p + 0.05) < 1e-12 && Math.abs(y - 0.3) < 1e-12);
});

test('the streaming simulator produces exactly the batch rows of its turbine', () => {
  const { frames } = simulateFarm({ turbines: 3, minutes: 2, seed: 11 });
  const batch = splitByTurbine(frames).get(2)!;
  const sim = new TurbineSimulator({ turbineId: 2, seed: 11 });
  for (let i = 0; i < batch.length; i++) {
    const f = sim.next();
    assert.equal(f.eventTime, batch.eventTime[i]);
    for (const c of NUMERIC_COLUMNS) assert.equal(f[c], batch.columns[c][i], `row ${i} column ${c}`);
  }
  assert.equal(sim.frameIndex, batch.length);
});

test('every injected fault changes exactly the frames it covers, and is labelled with them', () => {
  const clean = run(new TurbineSimulator({ seed: 9 }), 600);
  for (const kind of FAULT_KINDS) {
    for (const severity of FAULT_SEVERITIES) {
      const sim = new TurbineSimulator({ seed: 9 });
      const faulty = createFrameColumns(600);
      const cols = columnList(faulty);
      for (let i = 0; i < 600; i++) {
        if (i === 200) {
          sim.inject(kind, severity, 150);
          assert.deepEqual(sim.fault, { kind, severity, startFrame: 200, durationFrames: 150, framesDone: 0 });
        }
        sim.nextIntoColumns(cols, i);
        faulty.eventTime[i] = sim.clock.at(i);
      }
      assert.equal(sim.fault, null);
      for (let i = 0; i < 600; i++) {
        assert.equal(rowsDiffer(faulty, clean, i), i >= 200 && i < 350, `${kind}:${severity} frame ${i}`);
      }
      assert.deepEqual(sim.labels, [{ turbineId: 0, start: clean.eventTime[200], end: clean.eventTime[349], kind, severity }]);
    }
  }
});

test('clear() ends a fault early; the label ends at the last affected frame', () => {
  const sim = new TurbineSimulator({ seed: 1 });
  run(sim, 10);
  sim.inject('rot', 'severe', 100);
  const first = sim.next();
  sim.next();
  const last = sim.next();
  sim.clear();
  assert.equal(sim.fault, null);
  sim.next();
  assert.deepEqual(sim.labels, [{ turbineId: 0, start: first.eventTime, end: last.eventTime, kind: 'rot', severity: 'severe' }]);
});

test('bad injections throw a clear error and leave the fault state unchanged', () => {
  const sim = new TurbineSimulator({ seed: 1 });
  sim.next();
  assert.throws(() => sim.inject('wobble' as never, 'mild', 10), /unknown fault kind "wobble"/);
  assert.throws(() => sim.inject('vib', 'medium' as never, 10), /unknown fault severity "medium"/);
  assert.throws(() => sim.inject('vib', 'mild', 0), /durationFrames must be an integer/);
  assert.throws(() => sim.inject('vib', 'mild', 2.5), /durationFrames must be an integer/);
  assert.equal(sim.fault, null);
  sim.inject('vib', 'mild', 10);
  const state = sim.fault;
  assert.throws(() => sim.inject('rot', 'severe', 10), /already injecting vib:mild; call clear\(\) first/);
  assert.deepEqual(sim.fault, state);
  assert.deepEqual(sim.labels, []);
  assert.throws(() => new TurbineSimulator({ turbineId: -1 }), /turbineId must be an integer/);
  assert.throws(() => new TurbineSimulator({ seed: 0.5 }), /seed must be an integer/);
  assert.throws(() => new TurbineSimulator({ startTime: 'yesterday' }), /invalid start time "yesterday"/);
});

test('operator controls: the brake stops the rotor, a disconnected generator reads 0 V, wind changes are checked', () => {
  const sim = new TurbineSimulator({ turbineId: 2, seed: 5 });
  for (let i = 0; i < 200; i++) sim.next();
  assert.ok(sim.rotorSpeed > 0.5, `spinning before the brake: ${sim.rotorSpeed}`);
  sim.setBrake(true);
  for (let i = 0; i < 400; i++) sim.next();
  assert.equal(sim.rotorSpeed, 0);
  sim.setBrake(false);
  sim.setGeneratorConnected(false);
  for (let i = 0; i < 600; i++) sim.next();
  const frame = sim.next();
  assert.ok(frame.rps > 0.5, `spins up again after the release: ${frame.rps}`);
  assert.equal(frame.voltage, 0);
  assert.deepEqual(sim.controls, { brake: false, generatorConnected: false });
  assert.throws(() => sim.setWindMean(-1), /wind mean must be a number of rps from 0 to 20, got -1/);
  assert.equal(sim.windMeanRps, 2.152);
  sim.setWindMean(3);
  assert.equal(sim.windMeanRps, 3);
});
