/**
 * The edge agent: one per device. Reads the device bundle, connects with the device certificate, loads the
 * models it kept (verified again), scores the frames it is given, captures a sample of inferences to S3
 * through the capture topic, sends heartbeats (MQTT topic and the device shadow's reported state) and
 * takes new models from IoT Jobs. Inference never waits for the cloud: offline, frames are still scored and
 * captures wait in the on-disk spool.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { iotshadow, mqtt } from 'aws-iot-device-sdk-v2';
import { AgentStateFile, type StoredModel } from './agent-state';
import { type CaptureOptions, CaptureSpool } from './capture';
import { readDeviceConfig } from './device-config';
import { type ContingencyConfig, ContingencyController, type ContingencyState, DEFAULT_CONTINGENCY, linkContingency, parseContingencyConfig, type TurbineActuator } from './contingency';
import { type CloudConnection, type ConnectionTiming, DeviceConnection } from './device-connection';
import type { EngineFactory } from './inference-engine';
import { type LoadedModel, ModelManager } from './model-manager';
import { ModelRejected, type PackageVerifier } from './model-package';
import { JobRunner, type JobRunnerDeps } from './ota';
import { monitorActivatedModels, type PostActivationHealthOptions } from './post-activation-health';
import { type FeatureDrift, type HealthOptions, type RuntimeCounters, ScoringRuntime, type ScoredWindow, type WaitingModel } from './scoring-runtime';

/** Reported in heartbeats. */
export const AGENT_VERSION = '1.0.0';

/** How to start an agent. */
export interface EdgeAgentOptions {
  /** A device bundle folder, or its device.json. */
  config: string;
  /** Folder for agent state, kept models and the capture spool (default: <bundle>/agent-state). */
  stateDir?: string;
  /** Verifier with the trusted signing key (e.g. packageVerifier(publicKeyPem)). */
  verifier: PackageVerifier;
  engineFactory?: EngineFactory;
  /** Model name this device serves (jobs for another fail); default: the active model's. */
  modelName?: string;
  /** A package file to load at start when the agent has no model yet. */
  initialPackage?: string;
  /** Heartbeat period (default device.json agent.heartbeatSeconds, else 30). */
  heartbeatSeconds?: number;
  capture?: Partial<CaptureOptions>;
  health?: Partial<HealthOptions>;
  /** Rollback of a model that fails after activation (see post-activation-health.ts). */
  postActivationHealth?: Partial<PostActivationHealthOptions>;
  /** How captured batches leave the spool: after the capture ingest's accepted message (default), or at PUBACK. */
  captureConfirm?: 'accepted' | 'puback';
  /** Seconds to wait for a batch's confirmation before re-sending (default 10). */
  captureAckSeconds?: number;
  log?: (line: string) => void;
  /** A job's package download: time budget and retry settings (see download.ts; default JOB_DOWNLOAD_BUDGET_MS). */
  download?: JobRunnerDeps['download'];
  /** The turbine's brake and generator switch, for contingency actions (without one, actions are only reported). */
  actuator?: TurbineActuator;
  /** Contingency rules (default device.json agent.contingency, else DEFAULT_CONTINGENCY). */
  contingency?: ContingencyConfig;
  /** The link to the cloud (default: the agent's own MQTT connection with the bundle's certificate). */
  connection?: CloudConnection;
  /** MQTT timing of the agent's own connection (default DEFAULT_CONNECTION_TIMING, see device-connection.ts). */
  connectionTiming?: Partial<ConnectionTiming>;
  /** Take models from IoT Jobs (default true; false when a Greengrass Model component brings them). */
  jobs?: boolean;
  /** Load initialPackage even when another model is kept (a Greengrass Model component decides the version). */
  preferInitialPackage?: boolean;
}

/** What a heartbeat carries (MQTT message and shadow reported.agent). */
export interface Heartbeat {
  thingName: string;
  agentVersion: string;
  time: string;
  connected: boolean;
  models: { name: string; version: string; role: string; backend: string; inferences: number }[];
  inferences: number;
  latencyMs: { p50: number; p90: number; p99: number };
  alarms: number;
  frames: { received: number; accepted: number; rejected: number; dropped: number };
  capture: { captured: number; uploaded: number; dropped: number; pending: number };
  drift: FeatureDrift[];
  contingency: ContingencyState;
  /** Whether a model scores frames, which models wait for real frames for their verdict, and why the last one failed. */
  modelStatus: { state: 'scoring' | 'waiting-for-frames' | 'no-model'; waiting: WaitingModel[]; problem: ModelProblem | null };
}

/** Why a model the agent started with (initial package or kept model) was refused; cleared by the next swap. */
export interface ModelProblem {
  source: 'initial package' | 'kept model';
  /** The package file, or the kept model's name and version. */
  model: string;
  /** A job failure reason (ModelRejected), e.g. bad-signature or failed-health-check. */
  reason: string;
  message: string;
  at: string;
}

/** A running agent. */
export interface EdgeAgent extends EventEmitter {
  readonly thingName: string;
  readonly runtime: ScoringRuntime;
  readonly manager: ModelManager;
  readonly capture: CaptureSpool;
  readonly counters: RuntimeCounters;
  readonly contingency: ContingencyController;
  /** True while connected to the cloud. */
  readonly online: boolean;
  push(frame: unknown): boolean;
  pushLine(line: string): boolean;
  /** Why the model the agent started with was refused, until a model becomes active. */
  readonly problem: ModelProblem | null;
  /** The heartbeat as it would be sent now (drift since the last one sent). */
  heartbeat(): Heartbeat;
  /** Resolves once connected (the agent works offline meanwhile). */
  connected(): Promise<void>;
  /** Stops timers, closes the open capture batch, disconnects, releases models. */
  stop(): Promise<void>;
}

/** Starts an agent from a device bundle; see EdgeAgentOptions and the file comment. */
export async function startEdgeAgent(opts: EdgeAgentOptions): Promise<EdgeAgent> {
  const { config, dir } = readDeviceConfig(opts.config);
  const thingName = config.thingName;
  const log = (m: string): void => (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`${new Date().toISOString()} ${thingName} ${m}`);
  const stateDir = resolve(opts.stateDir ?? join(dir, 'agent-state'));
  const state = new AgentStateFile(stateDir);
  const manager = new ModelManager(opts.verifier, opts.engineFactory);
  const runtime = new ScoringRuntime(manager, { health: opts.health, log });
  const defaults = config.agent?.capture ?? {};
  const captureOptions: CaptureOptions = {
    sampleRate: 0.1,
    batchSize: 50,
    maxAgeSeconds: 60,
    bufferMaxBytes: 64 * 1024 * 1024,
    ...Object.fromEntries(Object.entries(defaults).filter(([k]) => k !== 's3Prefix')),
    ...opts.capture,
  };
  const capture = new CaptureSpool(join(stateDir, 'capture'), thingName, captureOptions, log);
  const prefix = (config.topics?.telemetry ?? `wind-turbine/${thingName}/telemetry`).replace(/\/telemetry$/, '');
  const topics = { heartbeat: config.topics?.heartbeat ?? `${prefix}/heartbeat`, alarms: config.topics?.alarms ?? `${prefix}/alarms`, capture: `${prefix}/capture` };
  const agent = new EventEmitter() as EdgeAgent;
  let stopped = false;
  // Assigned once the connection exists; problems found before that are sent with the first heartbeat.
  let sendHeartbeat = async (): Promise<void> => undefined;
  const contingencyConfig = opts.contingency ?? (config.agent?.contingency === undefined ? DEFAULT_CONTINGENCY : parseContingencyConfig(config.agent.contingency, `${thingName} device.json agent.contingency`));
  const contingency = new ContingencyController(thingName, contingencyConfig, opts.actuator, log);
  contingency.on('decision', (alert) => agent.emit('contingency', alert));

  // Models kept from the last run, else the initial package. Each is verified, loaded and checked at once;
  // its health verdict waits for real frames (ScoringRuntime), so none of this blocks the start. A model
  // that fails leaves the agent running without it: it reports why and takes a model by IoT Job.
  let problem: ModelProblem | null = null;
  const reportProblem = (source: ModelProblem['source'], what: string, err: unknown): void => {
    const reason = err instanceof ModelRejected ? err.reason : 'load-error';
    problem = { source, model: what, reason, message: (err as Error).message, at: new Date().toISOString() };
    log(`${source} ${what} refused (${reason}): ${problem.message}; the agent runs on ${runtime.activeModel ? `with ${runtime.activeModel.description.name} ${runtime.activeModel.description.version}` : 'without a model'} and takes a model by IoT Job`);
    agent.emit('problem', problem);
    void sendHeartbeat();
  };
  const adopt = async (source: ModelProblem['source'], what: string, bytes: () => Buffer, sha256: string, onActive: (model: LoadedModel) => void): Promise<void> => {
    let model: LoadedModel;
    try {
      model = await manager.load(bytes(), sha256);
    } catch (err) {
      reportProblem(source, what, err);
      return;
    }
    void runtime.deploy(model).then(
      () => onActive(model),
      (err: Error) => {
        if (!stopped) reportProblem(source, what, err);
      },
    );
  };
  const kept = state.data.active;
  if (kept && state.data.previous) {
    // The previous model only comes back for rollback; it is not judged or scoring now.
    const m = state.data.previous;
    try {
      manager.restorePrevious(await manager.load(state.readPackage(m), m.sha256));
    } catch (err) {
      log(`kept previous model ${m.name} ${m.version} not restored (no rollback to it): ${(err as Error).message}`);
    }
  }
  const initialWins = !!opts.initialPackage && !!opts.preferInitialPackage;
  if (kept && !initialWins) await adopt('kept model', `${kept.name} ${kept.version}`, () => state.readPackage(kept), kept.sha256, () => undefined);
  else if (opts.initialPackage) {
    const file = opts.initialPackage;
    let bytes: Buffer | null = null;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      reportProblem('initial package', file, new ModelRejected('invalid-package', `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`));
    }
    if (bytes) {
      const b = bytes;
      const sha256 = createHash('sha256').update(b).digest('hex');
      await adopt('initial package', file, () => b, sha256, (model) => {
        // Kept only once healthy (and only if no job replaced it meanwhile).
        if (state.data.active && !initialWins) return;
        if (state.data.active?.sha256 === sha256) return;
        const d = model.description;
        if (state.data.active) state.data.previous = state.data.active;
        state.data.active = { name: d.name, version: d.version, sha256, file: state.storePackage(sha256, b) };
        state.save();
      });
    }
  }

  runtime.on('window', (w: ScoredWindow) => {
    capture.offer(w);
    contingency.onWindow(w);
    agent.emit('window', w);
  });
  runtime.on('swap', (e) => {
    problem = null;
    agent.emit('swap', e);
    void sendHeartbeat();
  });
  runtime.on('waiting', (w: WaitingModel) => agent.emit('waiting', w));
  const healthMonitor = monitorActivatedModels(runtime, opts.postActivationHealth, {
    log,
    onRollback: (r) => {
      // The kept state follows the runtime, so a restart does not bring the bad model back.
      if (!r.error) [state.data.active, state.data.previous] = [state.data.previous, state.data.active];
      state.save();
      agent.emit('rollback', r);
    },
  });

  const pem = (name: string): string => readFileSync(resolve(dir, name), 'utf8');
  let connection: CloudConnection;
  try {
    connection = opts.connection ?? new DeviceConnection(
      { host: config.mqtt.host, port: config.mqtt.port, clientId: thingName, certificatePem: pem(config.files.certificate), privateKeyPem: pem(config.files.privateKey), caPem: pem(config.files.ca) },
      log,
      opts.connectionTiming,
    );
  } catch (err) {
    await manager.close();
    throw new Error(`${join(dir, 'device.json')}: cannot use the device certificate ${config.files.certificate}, key ${config.files.privateKey} and CA ${config.files.ca} (${(err as Error).message})`);
  }
  runtime.on('alarm', (w: ScoredWindow) => {
    agent.emit('alarm', w);
    if (connection.isOnline) {
      const payload = JSON.stringify({ thingName, model: w.model, version: w.version, endIndex: w.endIndex, endEventTime: w.endEventTime, score: w.score, overThreshold: w.overThreshold, errors: w.errors });
      connection.publish(topics.alarms, payload).catch(() => undefined);
    }
  });

  const install = async (bytes: Buffer, sha256: string, expected: { name: string; version: string }): Promise<{ canaryWindows: number; medianScore: number }> => {
    if (stopped) throw new Error('the agent is stopping');
    const model = await manager.load(bytes, sha256);
    const d = model.description;
    if (d.name !== expected.name || d.version !== expected.version) {
      await model.engine.release();
      throw new ModelRejected(d.name !== expected.name ? 'wrong-model-name' : 'invalid-package', `package holds ${d.name} ${d.version}, the job names ${expected.name} ${expected.version}`);
    }
    const report = await runtime.deploy(model);
    const stored: StoredModel = { name: d.name, version: d.version, sha256, file: state.storePackage(sha256, bytes) };
    state.data.previous = state.data.active;
    state.data.active = stored;
    if (state.data.inflight) state.data.inflight.installed = stored;
    state.save();
    // Packages neither active nor previous are no longer needed.
    const keep = new Set([state.data.active?.file, state.data.previous?.file]);
    for (const f of readdirSync(state.modelsDir)) if (f.endsWith('.tar.gz') && !keep.has(f)) unlinkSync(join(state.modelsDir, f));
    return report;
  };

  const jobs = opts.jobs === false ? null : new JobRunner({
    thingName,
    connection,
    state,
    modelName: opts.modelName,
    // A model waiting for its verdict counts as the one serving: a job for an older version is not newer.
    activeModel: () => {
      const d = runtime.activeModel?.description ?? runtime.waitingModels[0];
      return d ? { name: d.name, version: d.version } : null;
    },
    install,
    log,
    download: opts.download,
    onJob: (e) => agent.emit('job', e),
  });

  // Capture upload: oldest batches first, a few in flight, each confirmed before it leaves the spool.
  const confirmMode = opts.captureConfirm ?? 'accepted';
  const ackMs = (opts.captureAckSeconds ?? 10) * 1000;
  const waiting = new Map<string, (ok: boolean, message?: string) => void>();
  let uploading = false;
  const sendBatch = async (entry: { batchId: string; file: string; records: number }): Promise<boolean> => {
    const confirmed = new Promise<boolean>((resolveAck) => {
      const timer = setTimeout(() => {
        waiting.delete(entry.batchId);
        resolveAck(false);
      }, ackMs);
      waiting.set(entry.batchId, (ok, message) => {
        clearTimeout(timer);
        waiting.delete(entry.batchId);
        if (!ok && message) log(`capture batch ${entry.batchId} not stored: ${message}`);
        resolveAck(ok);
      });
    });
    try {
      await connection.publish(topics.capture, capture.read(entry.file));
    } catch (err) {
      waiting.get(entry.batchId)?.(false, (err as Error).message);
    }
    if (confirmMode === 'puback') waiting.get(entry.batchId)?.(true);
    if (!(await confirmed)) return false;
    capture.confirm(entry);
    return true;
  };
  const uploadPending = async (): Promise<void> => {
    if (uploading || stopped) return;
    uploading = true;
    try {
      for (let failed = false; !failed && !stopped && connection.isOnline; ) {
        const queue = capture.pending();
        if (queue.length === 0) break;
        const worker = async (): Promise<void> => {
          while (!failed && !stopped && connection.isOnline && queue.length > 0) {
            if (!(await sendBatch(queue.shift() as (typeof queue)[number]))) failed = true;
          }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
      }
    } finally {
      uploading = false;
    }
  };
  capture.onBatch = () => void uploadPending();
  await connection.subscribe(`${topics.capture}/accepted`, (_t, payload) => {
    try {
      const { batchId } = JSON.parse(Buffer.from(payload).toString('utf8')) as { batchId: string };
      waiting.get(batchId)?.(true);
    } catch {
      // not ours
    }
  });
  await connection.subscribe(`${topics.capture}/rejected`, (_t, payload) => {
    try {
      const { batchId, message } = JSON.parse(Buffer.from(payload).toString('utf8')) as { batchId: string; message: string };
      waiting.get(batchId)?.(false, message);
    } catch {
      // not ours
    }
  });

  await linkContingency(contingency, connection, config.topics?.thingRoot ?? `$aws/things/${thingName}`, `${prefix}/alerts`, log);

  const shadow = new iotshadow.IotShadowClient(connection.connection);
  const heartbeat = (resetDrift = false): Heartbeat => {
    const c = runtime.counters;
    const lat = runtime.latencyPercentiles();
    const cc = capture.counters;
    return {
      thingName,
      agentVersion: AGENT_VERSION,
      time: new Date().toISOString(),
      connected: connection.isOnline,
      models: manager.list().map((m) => ({ name: m.name, version: m.version, role: m.role, backend: m.backend, inferences: m.inferences })),
      inferences: c.windowsScored,
      latencyMs: { p50: lat.p50, p90: lat.p90, p99: lat.p99 },
      alarms: c.alarms,
      frames: { received: c.framesReceived, accepted: c.framesAccepted, rejected: c.framesRejected, dropped: c.framesDropped },
      capture: { captured: cc.captured, uploaded: cc.uploaded, dropped: cc.dropped, pending: cc.pendingRecords },
      drift: runtime.takeDrift(resetDrift),
      modelStatus: {
        state: runtime.activeModel ? 'scoring' : runtime.waitingModels.length > 0 ? 'waiting-for-frames' : 'no-model',
        waiting: runtime.waitingModels,
        problem,
      },
      contingency: contingency.state,
    };
  };
  sendHeartbeat = async (): Promise<void> => {
    if (stopped) return;
    const hb = heartbeat(true);
    agent.emit('heartbeat', hb);
    if (!connection.isOnline) return;
    try {
      await connection.publish(topics.heartbeat, JSON.stringify(hb));
      await shadow.publishUpdateShadow({ thingName, state: { reported: { agent: hb } } }, mqtt.QoS.AtLeastOnce);
    } catch (err) {
      log(`heartbeat not sent: ${(err as Error).message}`);
    }
  };
  const heartbeatMs = (opts.heartbeatSeconds ?? config.agent?.heartbeatSeconds ?? 30) * 1000;
  const heartbeatTimer = setInterval(() => void sendHeartbeat(), heartbeatMs);
  const ageTimer = setInterval(() => capture.tick(), Math.min(1000, captureOptions.maxAgeSeconds * 500));
  const retryTimer = setInterval(() => void uploadPending(), 2000);

  let firstOnline: () => void = () => undefined;
  const online = new Promise<void>((r) => (firstOnline = r));
  connection.on('online', () => {
    firstOnline();
    agent.emit('online');
    void jobs?.onOnline();
    void uploadPending();
    void sendHeartbeat();
  });
  connection.on('offline', () => {
    jobs?.onOffline();
    agent.emit('offline');
  });
  void connection.start();

  let stopping: Promise<void> | null = null;
  Object.assign(agent, {
    thingName,
    runtime,
    manager,
    capture,
    counters: runtime.counters,
    contingency,
    push: (frame: unknown) => runtime.push(frame),
    pushLine: (line: string) => runtime.pushLine(line),
    heartbeat: () => heartbeat(false),
    connected: () => online,
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        jobs?.stop();
        healthMonitor.stop();
        runtime.close();
        clearInterval(heartbeatTimer);
        clearInterval(ageTimer);
        clearInterval(retryTimer);
        await runtime.idle();
        capture.close();
        await connection.stop();
        await manager.close();
        log('stopped');
      })()),
  });
  Object.defineProperty(agent, 'online', { get: () => connection.isOnline });
  Object.defineProperty(agent, 'problem', { get: () => problem });
  await runtime.idle(); // the models above have had their immediate checks
  const judged = runtime.waitingModels.map((w) => `${w.name} ${w.version}`);
  log(`started (state ${basename(stateDir)}, model ${judged.length ? `${judged.join(', ')} waiting for real frames for its health verdict` : 'none'})`);
  return agent;
}
