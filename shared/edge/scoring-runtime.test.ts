import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { operatingState } from '../detector/conditioning';
import { debouncedAlarms, windowScores } from '../detector/thresholds';
import { StreamingFeaturePipeline } from '../features/streaming';
import { ModelManager } from './model-manager';
import { ModelRejected } from './model-package';
import { RAW_COLUMNS } from '../turbine/schema';
import { ScoringRuntime, type ScoredWindow } from './scoring-runtime';
import { deployWithFrames, simulatedFrames, testDescription, testKeys, testPackage, testStatistics, testVerifier } from './stand-in-model-testing';

const keys = testKeys();
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function setup(): Promise<{ manager: ModelManager; runtime: ScoringRuntime; windows: ScoredWindow[]; logs: string[] }> {
  const manager = new ModelManager(testVerifier(keys.publicKey));
  const logs: string[] = [];
  const runtime = new ScoringRuntime(manager, { log: (m) => logs.push(m) });
  const windows: ScoredWindow[] = [];
  runtime.on('window', (w: ScoredWindow) => windows.push(w));
  return { manager, runtime, windows, logs };
}

async function load(manager: ModelManager, version: string, model: Parameters<typeof testPackage>[2] = {}, description = {}) {
  const bytes = testPackage(keys.privateKey, testDescription({ version, ...description }), model);
  return manager.load(bytes, sha(bytes));
}

test('a hot swap in mid-stream: every window scored by exactly one model, none missing, same frames as without a swap', async () => {
  const { manager, runtime, windows } = await setup();
  const v1 = runtime.deploy(await load(manager, '1.0.0'));
  const frames = simulatedFrames(1500);
  const v2 = await load(manager, '2.0.0', { bias: 0.25 });
  let swapped: Promise<unknown> | null = null;
  frames.forEach((f, i) => {
    runtime.push(f);
    if (i === 777) swapped = runtime.deploy(v2);
  });
  await v1;
  await swapped;
  await runtime.idle();
  // Reference: one pipeline over the same frames, no swap.
  const reference = new StreamingFeaturePipeline(testStatistics());
  const expectedEnds = frames.flatMap((f) => reference.push(f).map((w) => w.endIndex));
  assert.deepEqual(windows.map((w) => w.endIndex), expectedEnds);
  const versions = windows.map((w) => w.version);
  const firstV2 = versions.indexOf('2.0.0');
  assert.ok(firstV2 > 0, 'the new model scored windows');
  assert.ok(versions.slice(0, firstV2).every((v) => v === '1.0.0') && versions.slice(firstV2).every((v) => v === '2.0.0'), 'one switch, in order');
  // A window is emitted when the 32-frame block holding its last frame completes: the first one the new
  // model scores ends at most one block before the frame the swap was queued after.
  assert.ok(windows[firstV2].endIndex > 777 - 32 && windows[firstV2 - 1].endIndex <= 777 + 32);
  // The models differ by a bias of 0.25 on the output: the error tells which model scored.
  for (const w of windows) assert.ok(Math.abs(w.errors[0] - (w.version === '2.0.0' ? 0.25 : 0)) < 1e-5);
  assert.equal(runtime.counters.windowsScored, expectedEnds.length);
  assert.equal(runtime.counters.windowsUnscored, 0);
  assert.deepEqual(manager.list().map((m) => [m.version, m.role]), [['2.0.0', 'active'], ['1.0.0', 'previous']]);
  await manager.close();
});

test('a model failing its canary (huge error, wrong output shape) is refused and the old one keeps scoring', async () => {
  const { manager, runtime, windows } = await setup();
  await deployWithFrames(runtime, await load(manager, '1.0.0'), simulatedFrames(400));
  for (const [model, why] of [[{ bias: 100 }, /median error\/threshold ratio 100\.000 on 3 canary windows exceeds 10/], [{ output: 'flat' as const }, /output shape \(1, 600\) is not its input shape \(1, 6, 10, 10\)/]] as const) {
    const bad = await load(manager, '2.0.0', model);
    await assert.rejects(runtime.deploy(bad), (err: ModelRejected) => err.reason === 'failed-health-check' && why.test(err.message));
  }
  const before = windows.length;
  for (const f of simulatedFrames(200, 12)) runtime.push(f);
  await runtime.idle();
  assert.ok(windows.length > before && windows.slice(before).every((w) => w.version === '1.0.0'));
  assert.equal(runtime.counters.modelsRefused, 2);
  assert.deepEqual(manager.list().map((m) => m.version), ['1.0.0']);
  await manager.close();
});

test('packages are verified before loading: tampered bytes, wrong key, wrong input shape are refused with the reason', async () => {
  const { manager } = await setup();
  const good = testPackage(keys.privateKey, testDescription());
  const tampered = Buffer.from(good.toString('utf8').replace('1.0.0', '9.0.0'));
  await assert.rejects(manager.load(tampered, sha(tampered)), (e: ModelRejected) => e.reason === 'bad-signature');
  const other = testPackage(testKeys().privateKey, testDescription());
  await assert.rejects(manager.load(other, sha(other)), (e: ModelRejected) => e.reason === 'bad-signature');
  const wrongOnnx = testPackage(keys.privateKey, testDescription(), { inputShape: [6, 5, 20] });
  await assert.rejects(manager.load(wrongOnnx, sha(wrongOnnx)), (e: ModelRejected) => e.reason === 'wrong-input-shape' && /\(N, 6, 5, 20\)/.test(e.message));
  const wrongManifest = testPackage(keys.privateKey, testDescription({ inputShape: ['N', 6, 100] }));
  await assert.rejects(manager.load(wrongManifest, sha(wrongManifest)), (e: ModelRejected) => e.reason === 'wrong-input-shape');
  await assert.rejects(manager.load(Buffer.from('garbage'), 'x'), (e: ModelRejected) => e.reason === 'invalid-package');
  const shortWindows = testPackage(keys.privateKey, testDescription({ params: { ...testDescription().params, windowLength: 64 }, inputShape: ['N', 6, 8, 8] }), { inputShape: [6, 8, 8] });
  await assert.rejects(manager.load(shortWindows, sha(shortWindows)), (e: ModelRejected) => e.reason === 'wrong-input-shape' && /windows of 64 steps; the detector scores windows of 100/.test(e.message));
  assert.deepEqual(manager.list(), []);
});

test('bad input is counted and logged, never thrown; scoring goes on', async () => {
  const { manager, runtime, windows, logs } = await setup();
  const deployed = runtime.deploy(await load(manager, '1.0.0'));
  const frames = simulatedFrames(300);
  const csv = (f: Record<string, unknown>): string => RAW_COLUMNS.map((c) => f[c]).join(',');
  runtime.pushLine('garbled \u0000 line');
  runtime.pushLine('1,2,3');
  runtime.pushLine('{"qx": ');
  runtime.pushLine(csv({ ...frames[0], voltage: 'abc' }));
  runtime.push({ ...frames[0], rps: Number.NaN });
  runtime.push({ ...frames[0], qx: undefined });
  runtime.push(null);
  runtime.push('a string');
  for (const f of frames) runtime.pushLine(csv(f));
  await deployed;
  await runtime.idle();
  assert.equal(runtime.counters.framesRejected, 8);
  assert.equal(runtime.counters.framesAccepted, 300);
  assert.equal(runtime.counters.framesReceived, 308);
  assert.ok(windows.length > 10);
  assert.match(logs.join('\n'), /frame 0 rejected: 1 fields, a frame has 23/);
  await manager.close();
});

test('rollback returns to the previous model between frames', async () => {
  const { manager, runtime, windows } = await setup();
  const v1 = runtime.deploy(await load(manager, '1.0.0'));
  const v11 = runtime.deploy(await load(manager, '1.1.0', { bias: 0.5 }));
  for (const f of simulatedFrames(300)) runtime.push(f);
  await v1;
  await v11;
  await runtime.rollback();
  for (const f of simulatedFrames(300, 13)) runtime.push(f);
  await runtime.idle();
  assert.equal(windows.at(-1)?.version, '1.0.0');
  assert.ok(windows.some((w) => w.version === '1.1.0'));
  assert.deepEqual(manager.list().map((m) => [m.version, m.role]), [['1.0.0', 'active'], ['1.1.0', 'previous']]);
  await manager.close();
});

test('drift per feature: live input statistics in training-std units; a sensor shifted by 5 std moves only its own feature', async () => {
  const { manager, runtime } = await setup();
  await deployWithFrames(runtime, await load(manager, '1.0.0'), simulatedFrames(3000, 21));
  await runtime.idle();
  const normal = runtime.takeDrift();
  assert.deepEqual(normal.map((d) => d.feature), ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage']);
  assert.ok(normal.every((d) => d.steps > 2500), 'each step counted once');
  const std = testStatistics().std[5];
  for (const f of simulatedFrames(3000, 21)) runtime.push({ ...f, voltage: f.voltage + 5 * std });
  await runtime.idle();
  const shifted = runtime.takeDrift();
  assert.ok(Math.abs(shifted[5].mean - normal[5].mean - 5) < 0.5, `voltage mean moved by about 5 training stds: ${normal[5].mean} -> ${shifted[5].mean}`);
  for (let f = 0; f < 5; f++) assert.ok(Math.abs(shifted[f].mean - normal[f].mean) < 0.05 && Math.abs(shifted[f].std - normal[f].std) < 0.05, `${shifted[f].feature} unchanged`);
  await manager.close();
});

test('alarms are debounced per the manifest (3 windows over threshold), and models can be listed and unloaded', async () => {
  const { manager, runtime, windows } = await setup();
  const alarms: ScoredWindow[] = [];
  runtime.on('alarm', (w: ScoredWindow) => alarms.push(w));
  const v1 = runtime.deploy(await load(manager, '1.0.0'));
  const v11 = runtime.deploy(await load(manager, '1.1.0', { bias: 2 }));
  for (const f of simulatedFrames(400)) runtime.push(f);
  await v1;
  await v11;
  await runtime.idle();
  // 1.0.0 scored the first windows (its canary), then 1.1.0 took over with a fresh debouncer.
  const scored = windows.filter((w) => w.version === '1.1.0');
  assert.ok(scored.length >= 20 && windows.slice(0, windows.length - scored.length).every((w) => w.version === '1.0.0' && !w.alarm));
  assert.ok(scored.every((w) => Math.abs(w.score - 2) < 1e-5 && w.overThreshold.length === 6));
  assert.deepEqual(scored.map((w) => w.alarm), scored.map((_, i) => i >= 2), 'alarm from the third window over threshold on');
  assert.equal(runtime.counters.alarms, alarms.length);
  await assert.rejects(manager.unload('1.1.0'), /model 1.1.0 is active; roll back or load another before unloading it/);
  await assert.rejects(manager.unload('7.0.0'), /no loaded model has version 7.0.0 \(loaded: 1.1.0, 1.0.0\)/);
  await manager.unload('1.0.0');
  assert.deepEqual(manager.list().map((m) => [m.version, m.role]), [['1.1.0', 'active']]);
  await assert.rejects(runtime.rollback(), /no previous model to roll back to/);
  await manager.close();
});

test('the detector\'s onset rule (thresholds.recent) scores windows on the device as in training', async () => {
  const scores = async (recent: boolean): Promise<number[]> => {
    const { manager, runtime, windows } = await setup();
    const thresholds = { rule: 'budget' as const, values: [1, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3, ...(recent ? { recent: { values: [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], errorSteps: 20, margin: 1.3 } } : {}) };
    await deployWithFrames(runtime, await load(manager, '1.0.0', { bias: 0.25 }, { thresholds }), simulatedFrames(400));
    await runtime.idle();
    await manager.close();
    return windows.map((w) => w.score);
  };
  const without = await scores(false);
  const withOnset = await scores(true);
  assert.ok(without.length > 10 && withOnset.length === without.length);
  // Output = input + 0.25: whole-window error 0.25 against 1, newest-20-steps error 0.25 against 0.1.
  for (const s of without) assert.ok(Math.abs(s - 0.25) < 1e-5, `whole-window ratio ${s}`);
  for (const s of withOnset) assert.ok(Math.abs(s - 2.5) < 1e-4, `onset ratio ${s}`);
});

test('conditioned thresholds and the fast rule score and alarm on the device as in training', async () => {
  const { manager, runtime, windows } = await setup();
  const frames = simulatedFrames(600);
  // Reference windows from the same pipeline, their operating states and the detector's own score and alarm functions.
  const reference = new StreamingFeaturePipeline(testStatistics());
  const states = frames.flatMap((f) => reference.push(f).map((w) => operatingState(w.data, 0, 20)));
  const scale = { full: [[0, 0.8, 0, 0.5, 0], null, null, null, null, null], recent: [null, null, null, null, null, null], recentSteps: 20, levelRange: [-3, 3] as [number, number], changeMax: 2 };
  // Output = input + 0.25, so every error is 0.25: feature 0 scores 0.25 / (threshold x expected error of the
  // window's state). Its threshold puts the median window at 1, so scores straddle it.
  const errors = new Float32Array(states.length * 6).fill(0.25);
  const unit = { rule: 'budget' as const, values: [0.01, 1, 1, 1, 1, 1], errorSteps: 100, debounceWindows: 3, scale };
  const median = [...windowScores(errors, unit, null, null, states)].sort((a, b) => a - b)[Math.floor(states.length / 2)];
  const base = { ...unit, values: [0.01 * median, 1, 1, 1, 1, 1] };
  const expected = windowScores(errors, base, null, null, states);
  const sorted = [...expected].sort((a, b) => a - b);
  assert.ok(sorted[0] < 1 && sorted[sorted.length - 1] > 1.5, `scores should straddle the thresholds: ${sorted[0]}..${sorted[sorted.length - 1]}`);
  // Just over 1: the first two windows of every run over threshold alarm at once instead of after the debounce.
  const fast = 1.0001;
  await deployWithFrames(runtime, await load(manager, '1.0.0', { bias: 0.25 }, { thresholds: { ...base, fast } }), frames);
  await runtime.idle();
  await manager.close();
  assert.equal(windows.length, expected.length);
  windows.forEach((w, k) => assert.ok(Math.abs(w.score - expected[k]) < 1e-4 * expected[k], `window ${k}: ${w.score} vs ${expected[k]}`));
  const alarms = debouncedAlarms(expected, 3, null, fast);
  assert.notDeepEqual(Array.from(alarms), Array.from(debouncedAlarms(expected, 3)), 'the fast rule changes some alarms');
  assert.deepEqual(windows.map((w) => (w.alarm ? 1 : 0)), Array.from(alarms));
});

test('cold start: a model is checked at once, judged only once real frames make its canary windows, and refused when they do not come in time', async () => {
  const { manager, runtime, windows } = await setup();
  // A broken output is refused at once, before any frame.
  await assert.rejects(runtime.deploy(await load(manager, '0.9.0', { output: 'flat' })), (e: ModelRejected) => e.reason === 'failed-health-check' && /output shape \(1, 600\) is not its input shape \(1, 6, 10, 10\)/.test(e.message));
  const verdict = runtime.deploy(await load(manager, '1.0.0'));
  await runtime.idle();
  assert.deepEqual(runtime.waitingModels.map((w) => [w.version, w.canaryWindows, w.windowsAvailable]), [['1.0.0', 3, 0]]);
  const frames = simulatedFrames(200);
  // 127 frames finish three 32-frame blocks: no window yet, no verdict.
  for (const f of frames.slice(0, 127)) runtime.push(f);
  await runtime.idle();
  assert.equal(runtime.activeModel, null);
  assert.equal(windows.length, 0);
  assert.equal(runtime.counters.framesWithoutModel, 127);
  // The 128th finishes the fourth block: windows ending at frames 99, 109, 119 are the canary, then scored.
  runtime.push(frames[127]);
  const report = await verdict;
  await runtime.idle();
  assert.equal(report.canaryWindows, 3);
  assert.deepEqual(manager.list().map((m) => [m.version, m.role]), [['1.0.0', 'active']]);
  assert.deepEqual(windows.map((w) => w.endIndex), [99, 109, 119]);
  assert.deepEqual(runtime.waitingModels, []);
  await manager.close();

  // Too few frames within the time limit: refused with what arrived; the runtime goes on without a model.
  const late = await setup();
  const quick = new ScoringRuntime(late.manager, { health: { waitSeconds: 0.3 } });
  const pending = quick.deploy(await load(late.manager, '1.0.0'));
  for (const f of frames.slice(0, 50)) quick.push(f);
  await assert.rejects(pending, (e: ModelRejected) => e.reason === 'failed-health-check' && /no verdict: valid frames for 0 of its 3 canary windows arrived within 0.3 s \(50 valid of 50 frames/.test(e.message));
  assert.equal(quick.activeModel, null);
  assert.equal(quick.counters.modelsRefused, 1);
  // Closing gives up on a waiting model with a plain error (not a verdict).
  const closing = quick.deploy(await load(late.manager, '1.0.1'));
  await quick.idle();
  quick.close();
  await assert.rejects(closing, (e: Error) => !(e instanceof ModelRejected) && /closed before its health verdict/.test(e.message));
  assert.throws(() => new ScoringRuntime(late.manager, { health: { canaryWindows: 0 } }), /canaryWindows must be a positive integer/);
  await late.manager.close();
});
