/**
 * A fleet worker thread: runs its share of the farm, each simulated turbine wired in-process to its own
 * edge agent (own certificate, own MQTT connection), the way sensors are wired to a device. Frames are
 * produced on the wall clock (20 per simulated second, times the speed factor), pushed into the agent,
 * and the worker reports status, injected faults (ground truth), device alarms and contingency actions
 * to the main thread.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { startEdgeAgent, type EdgeAgent } from '../edge/agent';
import { coalescingEngineFactory } from '../edge/coalescing-engine';
import type { ContingencyAlert } from '../edge/contingency';
import { packageVerifier } from '../edge/package-verifier';
import type { ScoredWindow } from '../edge/scoring-runtime';
import { eulerFromQuaternion } from '../features/euler';
import { FRAME_PERIOD_MS, type RawFrame } from '../turbine/schema';
import { TurbineSimulator } from '../turbine/simulator';
import type { TurbineStatus, WorkerCommand, WorkerEvent, WorkerSetup } from './messages';

const setup = workerData as WorkerSetup;
const port = parentPort;
if (!port) throw new Error('turbine-worker.ts runs as a worker thread (see fleet.ts)');
const send = (e: WorkerEvent): void => port.postMessage(e);

/** Most frames one turbine may produce in one tick: beyond it the worker is behind and catches up later. */
const MAX_FRAMES_PER_TICK = 200;
const TICK_MS = 50;
/**
 * Frames an agent may have waiting before its turbine pauses (20 s of data): a farm larger than the
 * machine can score falls behind real time (status.due - status.produced says by how much) instead of
 * piling frames up in memory.
 */
const MAX_QUEUED = 400;
let due = 0;
const STATUS_MS = 500;
/**
 * Live frames an agent sees before its first model is installed: a window plus the canary's windows and
 * a denoising block (100 + 7 x 10 + 32 = 202 with the default preprocessing), with margin. A real
 * detector's health check on no live data (a window of training means) fails, so the first model waits
 * for data, as a device installed on a running turbine would.
 */
const WARMUP_FRAMES = 260;
let initialBytes: { bytes: Buffer; sha256: string } | null = null;

interface Unit {
  spec: WorkerSetup['turbines'][number];
  sim: TurbineSimulator;
  agent: EdgeAgent;
  produced: number;
  /** Set by inject: the wall time is taken when the fault's first frame is produced. */
  pendingOnset: { kind: string; severity: string } | null;
  watched: boolean;
  /** Set while the agent has no model: the initial package is installed after WARMUP_FRAMES. */
  install: { started: boolean; done: Promise<void>; finish: (err?: Error) => void } | null;
  features: { eventTimes: string[]; values: number[][] };
}

const units: Unit[] = [];
let stopping = false;
/**
 * The worker's agents share one engine per model and their windows of one event-loop turn are one
 * inference call (a tenth of the CPU per window); each agent still scores its own windows.
 */
const sharedEngines = coalescingEngineFactory();

async function startUnit(spec: WorkerSetup['turbines'][number]): Promise<Unit> {
  const sim = new TurbineSimulator({ turbineId: spec.index, seed: setup.seed });
  if (setup.windMean !== undefined) sim.setWindMean(setup.windMean);
  const agent = await startEdgeAgent({
    config: spec.bundleDir,
    stateDir: spec.stateDir,
    verifier: packageVerifier(setup.publicKeyPem),
    engineFactory: sharedEngines,
    heartbeatSeconds: setup.heartbeatSeconds,
    capture: { sampleRate: setup.captureSampleRate },
    actuator: { brake: (on) => sim.setBrake(on), disconnectGenerator: (on) => sim.setGeneratorConnected(!on) },
    log: (line) => send({ type: 'log', line }),
  });
  const unit: Unit = { spec, sim, agent, produced: 0, pendingOnset: null, watched: false, install: null, features: { eventTimes: [], values: [] } };
  if (!agent.runtime.activeModel) {
    let finish: (err?: Error) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => (finish = (err) => (err ? reject(err) : resolve())));
    unit.install = { started: false, done, finish };
  }
  agent.on('alarm', (w: ScoredWindow) => send({ type: 'alarm', index: spec.index, wallMs: Date.now(), endEventTime: w.endEventTime, score: w.score, overThreshold: w.overThreshold }));
  agent.on('contingency', (alert: ContingencyAlert) => send({ type: 'contingency', index: spec.index, alert }));
  agent.on('swap', (e: { to: { name: string; version: string } }) => send({ type: 'swap', index: spec.index, to: e.to }));
  return unit;
}

function status(u: Unit): TurbineStatus {
  const c = u.agent.counters;
  const model = u.agent.runtime.activeModel?.description;
  const controls = u.sim.controls;
  const fault = u.sim.fault;
  return {
    index: u.spec.index,
    rps: Number(u.sim.rotorSpeed.toFixed(3)),
    wind: u.sim.windMeanRps,
    fault: fault ? { kind: fault.kind, severity: fault.severity } : null,
    brake: controls.brake,
    generatorConnected: controls.generatorConnected,
    produced: u.produced,
    due,
    processed: c.framesAccepted + c.framesRejected,
    queued: u.agent.runtime.queued,
    dropped: c.framesDropped,
    windowsScored: c.windowsScored,
    alarms: c.alarms,
    model: model?.name ?? null,
    version: model?.version ?? null,
    online: u.agent.online,
    contingency: u.agent.contingency.state,
  };
}

function produce(u: Unit, frame: RawFrame): void {
  u.produced++;
  if (u.pendingOnset) {
    const fault = u.sim.fault;
    if (fault) send({ type: 'fault', index: u.spec.index, kind: fault.kind, severity: fault.severity, wallMs: Date.now(), eventTime: frame.eventTime, frame: fault.startFrame });
    u.pendingOnset = null;
  }
  if (u.watched) {
    const [roll, pitch, yaw] = eulerFromQuaternion(frame.qx, frame.qy, frame.qz, frame.qw);
    u.features.eventTimes.push(frame.eventTime);
    u.features.values.push([roll, pitch, yaw, frame.wind_speed_rps, frame.rps, frame.voltage]);
  }
  u.agent.push(frame);
  if (u.install && !u.install.started && u.produced >= WARMUP_FRAMES) {
    u.install.started = true;
    void installInitial(u);
  }
}

/** Loads the initial package into an agent that has seen enough live frames. */
async function installInitial(u: Unit): Promise<void> {
  const install = u.install as NonNullable<Unit['install']>;
  try {
    if (!initialBytes) {
      const bytes = readFileSync(setup.initialPackage);
      initialBytes = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
    const model = await u.agent.manager.load(initialBytes.bytes, initialBytes.sha256);
    await u.agent.runtime.deploy(model);
    u.install = null;
    install.finish();
  } catch (err) {
    install.finish(new Error(`${u.spec.thingName}: the initial model was not installed: ${(err as Error).message}`));
  }
}

function handle(cmd: WorkerCommand): void {
  if (cmd.type === 'stop') {
    void stop();
    return;
  }
  if (cmd.type === 'watch') {
    const set = new Set(cmd.indices);
    for (const u of units) u.watched = set.has(u.spec.index);
    return;
  }
  try {
    if (cmd.type === 'wind') {
      for (const u of units) if (cmd.index === null || u.spec.index === cmd.index) u.sim.setWindMean(cmd.rps);
    } else {
      const u = units.find((x) => x.spec.index === cmd.index);
      if (!u) throw new Error(`turbine ${cmd.index} is not run by this worker`);
      if (cmd.type === 'clear') u.sim.clear();
      else {
        const frames = Math.round((cmd.seconds * 1000) / FRAME_PERIOD_MS);
        if (u.sim.fault) u.sim.clear();
        u.sim.inject(cmd.kind, cmd.severity, frames);
        u.pendingOnset = { kind: cmd.kind, severity: cmd.severity };
      }
    }
    send({ type: 'reply', id: cmd.id });
  } catch (err) {
    send({ type: 'reply', id: cmd.id, error: (err as Error).message });
  }
}

let tick: NodeJS.Timeout | undefined;
let statusTimer: NodeJS.Timeout | undefined;

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (tick) clearInterval(tick);
  if (statusTimer) clearInterval(statusTimer);
  await Promise.all(units.map((u) => u.agent.stop().catch((err: Error) => send({ type: 'log', line: `${u.spec.thingName}: stop failed: ${err.message}` }))));
  send({ type: 'stopped' });
  port?.close();
}

async function main(): Promise<void> {
  port?.on('message', (cmd: WorkerCommand) => handle(cmd));
  let next = 0;
  let started = 0;
  const starter = async (): Promise<void> => {
    while (next < setup.turbines.length && !stopping) {
      const spec = setup.turbines[next++];
      units.push(await startUnit(spec));
      send({ type: 'progress', started: ++started, total: setup.turbines.length });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, setup.startConcurrency) }, starter));
  units.sort((a, b) => a.spec.index - b.spec.index);
  if (stopping) return;
  // Frames due since the start, on the wall clock: a late tick produces what it missed (up to a bound).
  const t0 = performance.now();
  const perMs = setup.speed / FRAME_PERIOD_MS;
  tick = setInterval(() => {
    due = Math.floor((performance.now() - t0) * perMs);
    for (const u of units) {
      if (u.agent.runtime.queued > MAX_QUEUED) continue;
      const n = Math.min(due - u.produced, MAX_FRAMES_PER_TICK);
      for (let k = 0; k < n; k++) produce(u, u.sim.next());
    }
  }, TICK_MS);
  statusTimer = setInterval(() => {
    send({ type: 'status', turbines: units.map(status), rssBytes: process.memoryUsage().rss });
    for (const u of units) {
      if (!u.watched || u.features.eventTimes.length === 0) continue;
      send({ type: 'features', index: u.spec.index, eventTimes: u.features.eventTimes, values: u.features.values });
      u.features = { eventTimes: [], values: [] };
    }
  }, STATUS_MS);
  await Promise.all(units.map((u) => u.agent.connected()));
  await Promise.all(units.map((u) => u.install?.done));
  send({ type: 'ready' });
}

main().catch((err: Error) => send({ type: 'fatal', error: err.stack ?? err.message }));
