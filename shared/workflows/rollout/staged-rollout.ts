/**
 * A staged rollout: the new model goes to a canary group (a share of the turbines, its own thing group)
 * first; while it runs there for the hold time, the canary's heartbeats are checked on every poll: each
 * canary device healthy (fresh heartbeat, connected, no dropped frames) and running the new version, alarms
 * per scored window at most the policy's bound, and no input drift in the heartbeat's figures beyond the
 * control group's (the rest of the farm, still on the current version). When all of
 * this holds for the whole hold time the release is promoted to the farm group; at the first failure the
 * canary job is cancelled and the canary rolled back (the last good model, re-released under a newer
 * version because agents install only newer versions). The clock is an argument, so tests run the hold
 * time faster than real time; the controller itself keeps no timer.
 */
import type { Heartbeat } from '../../edge/agent';
import { deviceHealth } from '../../monitoring/report';
import { driftVerdict, emptyMoments, type Moments, momentsFromSummary } from '../../monitoring/drift';

/** A signed model package in S3, as a deploy-model job names it. */
export interface Release {
  name: string;
  version: string;
  bucket: string;
  key: string;
}

/** The controller's time: now() in ms and a sleep; tests pass a faster one. */
export interface RolloutClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

/** What the controller does and reads (IoT Jobs and device shadows in iot-jobs-target.ts). */
export interface RolloutTarget {
  /** Starts a deployment of release to a group; returns its job id. */
  deploy(group: 'canary' | 'farm', release: Release): Promise<string>;
  /** Stops a deployment (devices not yet started never get it). */
  cancel(jobId: string): Promise<void>;
  /** Things whose execution of jobId failed, with the device's reason. */
  failures(jobId: string): Promise<{ thingName: string; reason: string }[]>;
  /** Latest heartbeats of things. */
  heartbeats(things: readonly string[]): Promise<Heartbeat[]>;
}

/** When the canary passes. */
export interface RolloutPolicy {
  canaryThings: readonly string[];
  /**
   * Turbines staying on the current version while the canary runs. Input drift is a property of the farm,
   * not of the model: with a control group the canary fails on drift only where its divergence exceeds the
   * control's by more than the drift threshold (so a farm that drifted before the rollout does not block a
   * model retrained for it); without one, any drift verdict fails.
   */
  controlThings?: readonly string[];
  featureNames: readonly string[];
  /** How long (clock ms) every check must hold on the canary before promotion. */
  holdMs: number;
  /** How long (clock ms) the canary may take to run the new version. */
  deployTimeoutMs: number;
  /**
   * Clock ms between checks. Each heartbeat carries the input statistics since the one before, so poll at
   * least as often as the devices send heartbeats, or the drift test pools only a sample of the steps.
   */
  pollMs: number;
  /** Largest share of scored windows with an alarm during the hold (e.g. 0.01), or the control group's share if higher. */
  maxAlarmRate: number;
  /** Canary windows scored before the alarm rate is judged (default 50). */
  minWindows?: number;
  /** Canary input steps per feature pooled over the hold before drift is judged (default 20000: 200 windows). */
  minDriftSteps?: number;
  /** Heartbeat older than this (real seconds) is unhealthy (default 120). */
  maxHeartbeatAgeSeconds?: number;
}

/** How the rollout ended. */
export interface RolloutDecision {
  decision: 'promoted' | 'rolled-back';
  reason: string;
  canaryJobId: string;
  /** The farm-wide job (promoted) or the canary's rollback job (rolled back). */
  followUpJobId: string;
  /** One line per check, for the lab and the log. */
  log: string[];
}

/** Runs the staged rollout of release; rollback is the last good model released under a newer version. */
export async function runStagedRollout(target: RolloutTarget, clock: RolloutClock, policy: RolloutPolicy, release: Release, rollback: Release): Promise<RolloutDecision> {
  if (policy.canaryThings.length === 0) throw new Error('the canary group has no things');
  if (!(policy.holdMs > 0 && policy.pollMs > 0 && policy.deployTimeoutMs > 0)) throw new Error('holdMs, pollMs and deployTimeoutMs must be positive');
  if (!(policy.maxAlarmRate >= 0 && policy.maxAlarmRate <= 1)) throw new Error(`maxAlarmRate must be from 0 to 1, got ${policy.maxAlarmRate}`);
  const log: string[] = [];
  const note = (line: string): void => void log.push(`${new Date(clock.now()).toISOString()} ${line}`);
  const canaryJobId = await target.deploy('canary', release);
  note(`canary job ${canaryJobId}: ${release.name} ${release.version} to ${policy.canaryThings.length} turbines`);
  const stop = async (reason: string): Promise<RolloutDecision> => {
    note(`stopped: ${reason}`);
    await target.cancel(canaryJobId);
    const followUpJobId = await target.deploy('canary', rollback);
    note(`rollback job ${followUpJobId}: ${rollback.name} ${rollback.version} (the last good model) to the canary`);
    return { decision: 'rolled-back', reason, canaryJobId, followUpJobId, log };
  };
  const active = (hb: Heartbeat): string | undefined => hb.models.find((m) => m.role === 'active')?.version;

  // 1. The canary takes the new version (or a device refuses it).
  const deployBy = clock.now() + policy.deployTimeoutMs;
  let start: Heartbeat[];
  for (;;) {
    const failed = await target.failures(canaryJobId);
    if (failed.length > 0) return stop(`${failed.map((f) => `${f.thingName} refused ${release.version} (${f.reason})`).join('; ')}`);
    start = await target.heartbeats(policy.canaryThings);
    if (start.length === policy.canaryThings.length && start.every((hb) => active(hb) === release.version)) break;
    if (clock.now() >= deployBy) return stop(`the canary did not run ${release.version} within ${policy.deployTimeoutMs / 1000} s`);
    await clock.sleep(policy.pollMs);
  }
  note(`canary runs ${release.version}; holding for ${policy.holdMs / 1000} s`);

  // 2. Every check holds for the hold time. Drift and alarms are pooled over every heartbeat seen since the
  // hold began (one heartbeat covers seconds, too little to judge a distribution by), canary and control alike.
  const controlThings = policy.controlThings ?? [];
  const pools = new Map<string, Pool>();
  const pool = (group: string): Pool => pools.get(group) ?? (pools.set(group, newPool(policy.featureNames.length)), pools.get(group)!);
  const absorb = (group: string, hbs: Heartbeat[]): void => {
    const p = pool(group);
    for (const hb of hbs) {
      const first = p.first.get(hb.thingName);
      if (!first) {
        p.first.set(hb.thingName, hb);
        p.seen.add(`${hb.thingName}@${hb.time}`);
        continue;
      }
      if (p.seen.has(`${hb.thingName}@${hb.time}`)) continue;
      p.seen.add(`${hb.thingName}@${hb.time}`);
      p.last.set(hb.thingName, hb);
      policy.featureNames.forEach((name, f) => {
        const d = hb.drift.find((x) => x.feature === name);
        if (d && d.steps > 0) addMoments(p.moments[f], momentsFromSummary(d.mean, d.std, d.steps));
      });
    }
  };
  const rates = (p: Pool): { alarms: number; windows: number; rate: number } => {
    let alarms = 0;
    let windows = 0;
    for (const [thing, last] of p.last) {
      alarms += last.alarms - p.first.get(thing)!.alarms;
      windows += last.inferences - p.first.get(thing)!.inferences;
    }
    return { alarms, windows, rate: windows > 0 ? alarms / windows : 0 };
  };
  absorb('canary', start);
  if (controlThings.length) absorb('control', await target.heartbeats(controlThings));
  const holdUntil = clock.now() + policy.holdMs;
  for (;;) {
    await clock.sleep(policy.pollMs);
    const now = await target.heartbeats(policy.canaryThings);
    for (const thing of policy.canaryThings) {
      const hb = now.find((h) => h.thingName === thing);
      if (!hb) return stop(`${thing} has no heartbeat`);
      if (active(hb) !== release.version) return stop(`${thing} runs ${active(hb) ?? 'no model'}, not ${release.version}`);
      const health = deviceHealth(hb, { featureNames: policy.featureNames, maxHeartbeatAgeSeconds: policy.maxHeartbeatAgeSeconds });
      if (!health.ok) return stop(`${thing} unhealthy: ${health.problems.join(', ')}`);
    }
    absorb('canary', now);
    if (controlThings.length) absorb('control', await target.heartbeats(controlThings));
    const c = rates(pool('canary'));
    const controlRate = controlThings.length ? rates(pool('control')).rate : 0;
    const allowed = Math.max(policy.maxAlarmRate, controlRate);
    note(`canary: ${c.alarms} alarms in ${c.windows} windows (${(c.rate * 100).toFixed(2)} %; allowed ${(allowed * 100).toFixed(2)} %), healthy`);
    if (c.windows >= (policy.minWindows ?? 50) && c.rate > allowed) {
      return stop(`canary alarm rate ${(c.rate * 100).toFixed(2)} % (${c.alarms} of ${c.windows} windows) is over ${(allowed * 100).toFixed(2)} % (the bound, or the control group's rate if higher)`);
    }
    if (clock.now() >= holdUntil) {
      const needed = policy.minWindows ?? 50;
      if (c.windows < needed) return stop(`the canary scored ${c.windows} windows during the hold, fewer than the ${needed} needed to judge it`);
      if (c.rate > allowed) return stop(`canary alarm rate ${(c.rate * 100).toFixed(2)} % (${c.alarms} of ${c.windows} windows) is over ${(allowed * 100).toFixed(2)} %`);
      const canaryDrift = driftVerdict(policy.featureNames, pool('canary').moments, { minSteps: policy.minDriftSteps ?? 20_000 });
      const controlDrift = controlThings.length ? driftVerdict(policy.featureNames, pool('control').moments, { minSteps: 2 }) : null;
      const controlJ = (f: number): number => controlDrift?.features[f].divergence ?? 0;
      // Short spans of few turbines are far from the training spread (yaw barely moves in minutes), so the canary
      // fails only when clearly worse than the farm: J over twice the control group's plus the drift threshold.
      const drifted = canaryDrift.verdict === 'insufficient-data' ? [] : canaryDrift.features.filter((f, k) => f.level === 'drift' && f.divergence > 2 * controlJ(k) + canaryDrift.thresholds.drift);
      if (canaryDrift.verdict === 'insufficient-data') note(`drift not judged: ${canaryDrift.reason}`);
      else note(`drift judged on ${Math.min(...canaryDrift.features.map((f) => f.steps))} canary steps per feature: ${canaryDrift.features.map((f, k) => `${f.feature} J ${f.divergence.toFixed(2)} (control ${controlJ(k).toFixed(2)})`).join(', ')}`);
      if (drifted.length > 0) {
        return stop(`canary input drift beyond the control group's on ${drifted.map((f) => `${f.feature} (J ${f.divergence.toFixed(2)} against ${controlJ(policy.featureNames.indexOf(f.feature)).toFixed(2)})`).join(', ')}`);
      }
      const followUpJobId = await target.deploy('farm', release);
      note(`promoted: farm job ${followUpJobId}`);
      return { decision: 'promoted', reason: `alarm rate ${(c.rate * 100).toFixed(2)} % over ${c.windows} windows (allowed ${(allowed * 100).toFixed(2)} %), every canary turbine healthy, no drift beyond the farm's, for ${policy.holdMs / 1000} s`, canaryJobId, followUpJobId, log };
    }
  }
}

interface Pool {
  first: Map<string, Heartbeat>;
  last: Map<string, Heartbeat>;
  seen: Set<string>;
  moments: Moments[];
}

function newPool(features: number): Pool {
  return { first: new Map(), last: new Map(), seen: new Set(), moments: emptyMoments(features) };
}

function addMoments(into: Moments, m: Moments): void {
  into.n += m.n;
  into.sum += m.sum;
  into.sumSq += m.sumSq;
}

/** A clock running `speed` times faster than real time (speed 1: real time). */
export function acceleratedClock(speed: number): RolloutClock {
  if (!(speed >= 1)) throw new Error(`speed must be at least 1, got ${speed}`);
  const t0 = Date.now();
  return { now: () => t0 + (Date.now() - t0) * speed, sleep: (ms) => new Promise((r) => setTimeout(r, ms / speed)) };
}
