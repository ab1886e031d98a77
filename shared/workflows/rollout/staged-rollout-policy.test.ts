import { test } from 'node:test';
import { IDLE_CONTINGENCY } from '../../edge/contingency';
import assert from 'node:assert/strict';
import type { Heartbeat } from '../../edge/agent';
import { runStagedRollout, type Release, type RolloutClock, type RolloutTarget } from './staged-rollout';

// Unit tests of the controller's decisions with an in-memory target and a virtual clock (sleep advances it).
const NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];
const release = (version: string): Release => ({ name: 'm', version, bucket: 'b', key: version });

function virtualClock(): RolloutClock {
  let t = Date.parse('2026-01-01T00:00:00Z');
  return { now: () => t, sleep: async (ms) => void (t += ms) };
}

function fakeTarget(hb: (thing: string, polls: number) => Partial<Heartbeat>, failures: { thingName: string; reason: string }[] = []) {
  const jobs: string[] = [];
  const cancelled: string[] = [];
  let polls = 0;
  const target: RolloutTarget = {
    deploy: async (group, r) => (jobs.push(`${group}:${r.version}`), `job-${jobs.length}`),
    cancel: async (id) => void cancelled.push(id),
    failures: async () => failures,
    heartbeats: async (things) => {
      polls++;
      return things.map((thingName) => ({
        thingName, agentVersion: '1', time: new Date(Date.now() + polls).toISOString(), connected: true, models: [{ name: 'm', version: '2.0.0', role: 'active', backend: 'x', inferences: 0 }],
        inferences: polls * 100, latencyMs: { p50: 1, p90: 1, p99: 1 }, alarms: 0, frames: { received: 1, accepted: 1, rejected: 0, dropped: 0 },
        capture: { captured: 0, uploaded: 0, dropped: 0, pending: 0 }, drift: [],
        contingency: { ...IDLE_CONTINGENCY }, modelStatus: { state: 'scoring' as const, waiting: [], problem: null }, ...hb(thingName, polls),
      }));
    },
  };
  return { target, jobs, cancelled };
}

const policy = { canaryThings: ['t0', 't1'], featureNames: NAMES, minDriftSteps: 2000, holdMs: 60_000, deployTimeoutMs: 30_000, pollMs: 10_000, maxAlarmRate: 0.01 };

test('promotion only after the whole hold time, with every check passing', async () => {
  const { target, jobs } = fakeTarget(() => ({}));
  const d = await runStagedRollout(target, virtualClock(), policy, release('2.0.0'), release('1.0.1'));
  assert.equal(d.decision, 'promoted');
  assert.deepEqual(jobs, ['canary:2.0.0', 'farm:2.0.0']);
  assert.equal(d.log.filter((l) => l.includes('), healthy')).length, 6, 'six polls of 10 s in a 60 s hold');
});

test('each failed check stops the rollout and rolls the canary back, naming why', async () => {
  const cases: [string, (thing: string, polls: number) => Partial<Heartbeat>, RegExp][] = [
    ['drift', (_t, p) => (p > 2 ? { drift: NAMES.map((feature) => ({ feature, mean: 1.2, std: 1, steps: 6000, drift: 1.2 })) } : {}), /canary input drift beyond the control group's on roll \(J 1.44 against 0.00\)/],
    ['dropped frames', (t, p) => (p > 3 && t === 't1' ? { frames: { received: 1, accepted: 1, rejected: 0, dropped: 7 } } : {}), /t1 unhealthy: 7 frames dropped/],
    ['alarms', (_t, p) => ({ alarms: p * 3 }), /canary alarm rate 3.00 % \(\d+ of \d+ windows\) is over 1.00 %/],
    ['old version', (t, p) => (p > 1 && t === 't1' ? { models: [{ name: 'm', version: '1.0.0', role: 'active', backend: 'x', inferences: 0 }] } : {}), /t1 runs 1.0.0, not 2.0.0/],
  ];
  for (const [what, hb, reason] of cases) {
    const { target, jobs, cancelled } = fakeTarget(hb);
    const d = await runStagedRollout(target, virtualClock(), policy, release('2.0.0'), release('2.0.1'));
    assert.equal(d.decision, 'rolled-back', what);
    assert.match(d.reason, reason, what);
    assert.deepEqual(jobs, ['canary:2.0.0', 'canary:2.0.1'], `${what}: the farm never gets 2.0.0`);
    assert.deepEqual(cancelled, ['job-1']);
  }
});

test('a device refusing the package, or never taking it, stops the rollout; bad policies are refused before any job', async () => {
  const refused = fakeTarget(() => ({}), [{ thingName: 't1', reason: 'bad-signature: manifest signature does not verify' }]);
  const d = await runStagedRollout(refused.target, virtualClock(), policy, release('2.0.0'), release('2.0.1'));
  assert.match(d.reason, /t1 refused 2.0.0 \(bad-signature: manifest signature does not verify\)/);
  const stuck = fakeTarget(() => ({ models: [] }));
  const s = await runStagedRollout(stuck.target, virtualClock(), policy, release('2.0.0'), release('2.0.1'));
  assert.match(s.reason, /the canary did not run 2.0.0 within 30 s/);
  const idle = fakeTarget(() => ({ inferences: 10 }));
  const i = await runStagedRollout(idle.target, virtualClock(), policy, release('2.0.0'), release('2.0.1'));
  assert.match(i.reason, /the canary scored 0 windows during the hold, fewer than the 50 needed to judge it/);
  const none = fakeTarget(() => ({}));
  await assert.rejects(runStagedRollout(none.target, virtualClock(), { ...policy, canaryThings: [] }, release('2.0.0'), release('2.0.1')), /canary group has no things/);
  await assert.rejects(runStagedRollout(none.target, virtualClock(), { ...policy, maxAlarmRate: 2 }, release('2.0.0'), release('2.0.1')), /maxAlarmRate must be from 0 to 1, got 2/);
  assert.deepEqual(none.jobs, []);
});

test('drift the control group shares does not stop the canary; drift beyond it does', async () => {
  const shifted = (mean: number) => NAMES.map((feature) => ({ feature, mean: feature === 'wind_speed_rps' ? mean : 0, std: 1, steps: 6000, drift: mean }));
  const farmDrift = fakeTarget(() => ({ drift: shifted(0.9) }));
  const d = await runStagedRollout(farmDrift.target, virtualClock(), { ...policy, controlThings: ['t2', 't3'] }, release('2.0.0'), release('2.0.1'));
  assert.equal(d.decision, 'promoted', d.reason);
  assert.ok(d.log.some((l) => /drift judged on \d+ canary steps per feature: roll J 0\.00 \(control 0\.00\), .*wind_speed_rps J 0\.81 \(control 0\.81\)/.test(l)), `the drift check was judged and logged: ${d.log.join(' | ')}`);
  const few = await runStagedRollout(fakeTarget(() => ({ drift: shifted(0.9) })).target, virtualClock(), { ...policy, controlThings: ['t2'], minDriftSteps: 10 ** 9 }, release('2.0.0'), release('2.0.1'));
  assert.ok(few.log.some((l) => /drift not judged: /.test(l)), 'too few steps: logged as not judged');
  const canaryOnly = fakeTarget((t) => ({ drift: shifted(policy.canaryThings.includes(t) ? 1.5 : 0.5) }));
  const e = await runStagedRollout(canaryOnly.target, virtualClock(), { ...policy, controlThings: ['t2'] }, release('2.0.0'), release('2.0.1'));
  assert.match(e.reason, /canary input drift beyond the control group's on wind_speed_rps \(J 2.25 against 0.25\)/);
});

test('a canary alarming no more than the control group passes even above the absolute bound', async () => {
  const { target } = fakeTarget((_t, p) => ({ alarms: p * 5 }));
  const d = await runStagedRollout(target, virtualClock(), { ...policy, controlThings: ['t2'] }, release('2.0.0'), release('2.0.1'));
  assert.equal(d.decision, 'promoted', d.reason);
});
