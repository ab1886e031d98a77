/**
 * The wind farm: N simulated turbines, each wired to its own edge agent (own certificate and MQTT
 * connection from provisioning), spread over worker threads so the farm uses every core; the operator
 * console that reads what the cloud sees; the simulator's ground truth (which fault was injected when)
 * and the detection delays between the two. `startFleet()` is the library API (notebooks, `npm run
 * fleet`, the bench); the dashboard server reads `snapshot()`.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import { type CloudEndpoints, cloudClientConfig, type LocalCloud, readCloudJson, startLocalCloud } from '../cloud/local-cloud';
import { provisionDevices } from '../workflows/provisioning/provision';
import { cloudSettings, resourceName } from '../cloud/config';
import type { ContingencyAlert } from '../edge/contingency';
import { assertFault, FAULT_KINDS, type FaultKind, type FaultSeverity } from '../turbine/faults';
import { ensureConsoleIdentity } from './console-identity';
import { startDashboard } from './dashboard-server';
import type { TurbineSpec, TurbineStatus, WorkerCommand, WorkerEvent, WorkerSetup } from './messages';
import { type DeviceView, OperatorConsole, type ReceivedAlarm, type ReceivedAlert } from './operator-console';
import { type JobProgress, jobsProgress, type Rollout, startRollout } from './rollout';

/** How to start a farm. */
export interface FleetOptions {
  /** Folder for device bundles, agent states and the console identity (and the cloud, when started here). */
  dir: string;
  /** Signed model package every agent starts with. */
  packagePath: string;
  /** Public key (PEM) of the model signer; agents trust only it. */
  publicKeyPem: string;
  /** Number of turbines (default 5). */
  turbines?: number;
  /** Simulated seconds per wall second (default 1: real time, 20 frames/s per turbine). */
  speed?: number;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** A running local cloud; default: one started in <dir>/cloud and stopped with the farm. */
  cloud?: LocalCloud;
  /** Or the state folder of a local cloud running in another process (npm run cloud): found by its cloud.json. */
  cloudDir?: string;
  /** Seed of the simulated turbines (default 42). */
  seed?: number;
  /** Agent heartbeat period (default 10 s). */
  heartbeatSeconds?: number;
  /** Share of scored windows captured to S3 (default 0.1). */
  captureSampleRate?: number;
  /** Mean wind (rps) of every turbine at start (default the simulator's 2.15). */
  windMean?: number;
  /** Thing names are <prefix>0..N-1 (default "turbine-"). */
  prefix?: string;
  /** Dashboard port (default 0: any free port), or false for no dashboard. */
  dashboardPort?: number | false;
  log?: (line: string) => void;
  /** Progress of long steps (provisioning, agent start-up). */
  onProgress?: (step: 'provision' | 'agents' | 'online' | 'models', done: number, total: number) => void;
}

/** One injected fault and when the device and the cloud saw it. */
export interface InjectionRecord {
  index: number;
  thingName: string;
  kind: FaultKind;
  severity: FaultSeverity;
  /** Wall time (ms) the fault's first frame was produced, and its event time. */
  onsetAt: number;
  onsetEventTime: string;
  /** Detector delay in simulated seconds: end of the first alarmed window minus the onset (event time). */
  detectorDelayS: number | null;
  /** Wall time (ms) the device raised the alarm, and the console (the dashboard's server) received it. */
  deviceAlarmAt: number | null;
  cloudAlarmAt: number | null;
  /** cloudAlarmAt - onsetAt, in ms. */
  dashboardDelayMs: number | null;
}

/** Per model version, as the Edge Manager console's fleet report had it. */
export interface VersionReport {
  model: string;
  version: string;
  devices: number;
  windowsScored: number;
  alarms: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Mean over devices of the largest per-feature drift in their last heartbeat. */
  drift: number;
}

/** What the dashboard shows of one turbine. */
export interface TurbineRow {
  index: number;
  thingName: string;
  /** Ground truth (simulator). */
  truth: Pick<TurbineStatus, 'rps' | 'wind' | 'fault' | 'brake' | 'generatorConnected' | 'produced' | 'processed' | 'windowsScored' | 'version'> | null;
  /** The cloud's view (operator console). */
  cloud: {
    model: string | null;
    version: string | null;
    alarms: number;
    /** Features over threshold in alarms received in the last ALARM_LIGHT_MS. */
    alarmFeatures: string[];
    alarming: boolean;
    heartbeatAgeMs: number | null;
    contingency: DeviceView['contingency'];
    capture: { captured: number; uploaded: number; pending: number; dropped: number } | null;
    drift: number | null;
  };
}

/** The dashboard's view of the farm. */
export interface FleetSnapshot {
  time: number;
  turbines: number;
  workers: number;
  speed: number;
  featureNames: string[];
  faultKinds: readonly string[];
  summary: { online: number; alarming: number; engaged: number; faults: number; staleHeartbeats: number; produced: number; processed: number; windowsScored: number; rssBytes: number };
  page: { index: number; size: number; pages: number; rows: TurbineRow[] };
  detail: (TurbineRow & { features: { eventTimes: string[]; values: number[][] }; injections: InjectionRecord[] }) | null;
  alerts: ReceivedAlert[];
  jobs: JobProgress[];
  report: VersionReport[];
  injections: InjectionRecord[];
}

/** A running farm. */
/** The cloud a farm runs on, wherever it runs. */
export interface FleetCloud {
  endpoints: CloudEndpoints;
  region: string;
  accountId: string;
}

export interface Fleet extends EventEmitter {
  /** The dashboard's address (empty without a dashboard). */
  readonly url: string;
  readonly size: number;
  readonly thingNames: string[];
  readonly cloud: FleetCloud;
  readonly console: OperatorConsole;
  /** Ground truth: every injection, oldest first. */
  readonly injections: InjectionRecord[];
  /** Injects a fault on a turbine (0-based index) from its next frame; a running fault is replaced. */
  injectFault(index: number, kind: FaultKind, severity?: FaultSeverity, seconds?: number): Promise<InjectionRecord>;
  clearFault(index: number): Promise<void>;
  /** Sets the mean wind (rps) of one turbine, or of all when index is omitted. */
  setWind(rps: number, index?: number): Promise<void>;
  /** Operator release of a turbine's contingency action (shadow desired state); returns the release id. */
  release(index: number): Promise<string>;
  /** Rolls a signed package out to every turbine by IoT Job. */
  deployModel(packagePath: string): Promise<Rollout>;
  jobs(): Promise<JobProgress[]>;
  /** Turbines whose six features are streamed for plots. */
  watch(indices: number[]): void;
  status(): TurbineStatus[];
  snapshot(view?: { page?: number; pageSize?: number; detail?: number | null }): FleetSnapshot;
  stop(): Promise<void>;
}

/** How long a received alarm lights its features on the dashboard. */
export const ALARM_LIGHT_MS = 10_000;
const FEATURE_NAMES = ['roll', 'pitch', 'yaw', 'wind_speed_rps', 'rps', 'voltage'];
/** Feature points kept per watched turbine (30 s at 20 frames/s). */
const FEATURE_POINTS = 600;

function checkOptions(o: FleetOptions): void {
  const n = o.turbines ?? 5;
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new Error(`turbines must be an integer from 1 to 10000, got ${o.turbines}`);
  const speed = o.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0 || speed > 100) throw new Error(`speed must be a number above 0 and at most 100, got ${o.speed}`);
  if (o.workers !== undefined && (!Number.isInteger(o.workers) || o.workers < 1 || o.workers > 64)) throw new Error(`workers must be an integer from 1 to 64, got ${o.workers}`);
  if (o.heartbeatSeconds !== undefined && !(o.heartbeatSeconds > 0)) throw new Error(`heartbeatSeconds must be positive, got ${o.heartbeatSeconds}`);
  if (o.captureSampleRate !== undefined && !(o.captureSampleRate >= 0 && o.captureSampleRate <= 1)) throw new Error(`captureSampleRate must be from 0 to 1, got ${o.captureSampleRate}`);
}

/** Starts a farm; see FleetOptions. Resolves once every agent is connected and frames flow. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  checkOptions(options);
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const n = options.turbines ?? 5;
  const speed = options.speed ?? 1;
  const log = options.log ?? (() => undefined);
  const prefix = options.prefix ?? 'turbine-';
  const group = `${prefix.replace(/[^a-zA-Z0-9:_-]/g, '') || 'turbine'}fleet`;
  const publicKeyPem = options.publicKeyPem;
  const packagePath = resolve(options.packagePath);
  readFileSync(packagePath); // a missing package fails here, before anything starts

  if (options.cloud && options.cloudDir) throw new Error('give cloud or cloudDir, not both');
  const external = options.cloudDir ? readCloudJson(resolve(options.cloudDir)) : undefined;
  const ownCloud = !options.cloud && !external;
  const started = ownCloud ? await startLocalCloud({ dir: join(dir, 'cloud'), port: 0, mqttPort: 0, log }) : options.cloud;
  const cloud: FleetCloud & { caCertPath?: string } = started ?? (external as NonNullable<typeof external>);
  const clientConfig = cloudClientConfig(started ?? (external as NonNullable<typeof external>));
  const iot = new IoTClient(clientConfig);
  const s3 = new S3Client(clientConfig);
  const data = new IoTDataPlaneClient(clientConfig);
  const cleanups: (() => Promise<void> | void)[] = [() => iot.destroy(), () => s3.destroy(), () => data.destroy()];
  if (ownCloud) cleanups.push(() => (started as LocalCloud).stop());
  const fail = async (err: unknown): Promise<never> => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    throw err;
  };

  try {
    if (!cloud.caCertPath) throw new Error('the local cloud runs without its IoT registry (no CA): the fleet needs it');
    const caPem = readFileSync(cloud.caCertPath, 'utf8');
    const provisioned = await provisionDevices({
      iot,
      devices: n,
      prefix,
      group,
      outDir: join(dir, 'devices'),
      caCertPem: caPem,
      mode: 'local',
      region: cloud.region,
      mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
      httpEndpoint: cloud.endpoints.http,
      concurrency: 8,
      onProgress: (done, total) => options.onProgress?.('provision', done, total),
    });
    const identity = await ensureConsoleIdentity(iot, join(dir, 'console'), caPem, { region: cloud.region, accountId: cloud.accountId, thingName: `${group}-console` });
    const operatorConsole = new OperatorConsole(identity, { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort }, { log });
    await operatorConsole.start();
    cleanups.push(() => operatorConsole.stop());
    return await runFarm({ options, n, speed, log, dir, cloud, iot, s3, data, publicKeyPem, packagePath, provisioned, operatorConsole, cleanups });
  } catch (err) {
    return fail(err);
  }
}

interface FarmParts {
  options: FleetOptions;
  n: number;
  speed: number;
  log: (line: string) => void;
  dir: string;
  cloud: FleetCloud;
  iot: IoTClient;
  s3: S3Client;
  data: IoTDataPlaneClient;
  publicKeyPem: string;
  packagePath: string;
  provisioned: Awaited<ReturnType<typeof provisionDevices>>;
  operatorConsole: OperatorConsole;
  cleanups: (() => Promise<void> | void)[];
}

async function runFarm(p: FarmParts): Promise<Fleet> {
  const { n, speed, log, cloud, iot, s3, data, operatorConsole } = p;
  const things = p.provisioned.devices.map((d) => d.thingName);
  const thingIndex = new Map(things.map((t, i) => [t, i]));
  const workerCount = Math.min(n, p.options.workers ?? availableParallelism());
  const specs: TurbineSpec[][] = Array.from({ length: workerCount }, () => []);
  p.provisioned.devices.forEach((d, i) => specs[i % workerCount].push({ index: i, thingName: d.thingName, bundleDir: d.bundleDir, stateDir: join(p.dir, 'agents', d.thingName) }));
  const statuses: (TurbineStatus | null)[] = new Array(n).fill(null);
  const features = new Map<number, { eventTimes: string[]; values: number[][] }>();
  const injections: InjectionRecord[] = [];
  const rss = new Array<number>(workerCount).fill(0);
  const fleet = new EventEmitter() as Fleet;
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let jobsCache: JobProgress[] = [];
  let stopped = false;
  let started = 0;

  const workers = specs.map((turbines, w) => {
    const setup: WorkerSetup = {
      entry: join(__dirname, 'turbine-worker.ts'),
      turbines,
      publicKeyPem: p.publicKeyPem,
      initialPackage: p.packagePath,
      speed,
      seed: p.options.seed ?? 42,
      heartbeatSeconds: p.options.heartbeatSeconds ?? 10,
      captureSampleRate: p.options.captureSampleRate ?? 0.1,
      startConcurrency: 4,
      windMean: p.options.windMean,
    };
    const worker = new Worker(join(__dirname, 'worker-bootstrap.cjs'), { workerData: setup });
    return { worker, w, ready: false, stopped: false };
  });

  const onEvent = (w: number, e: WorkerEvent): void => {
    switch (e.type) {
      case 'progress':
        started++;
        p.options.onProgress?.('agents', started, n);
        break;
      case 'status': {
        for (const s of e.turbines) statuses[s.index] = s;
        rss[w] = e.rssBytes;
        if (p.options.onProgress && !workers.every((wk) => wk.ready)) {
          // Before the farm is ready: how many agents are connected and serve a model.
          const live = statuses.filter((s): s is TurbineStatus => s !== null);
          p.options.onProgress('online', live.filter((s) => s.online).length, n);
          p.options.onProgress('models', live.filter((s) => s.version !== null).length, n);
        }
        break;
      }
      case 'reply': {
        const r = pending.get(e.id);
        pending.delete(e.id);
        if (e.error) r?.reject(new Error(e.error));
        else r?.resolve();
        break;
      }
      case 'fault': {
        const rec: InjectionRecord = { index: e.index, thingName: things[e.index], kind: e.kind, severity: e.severity, onsetAt: e.wallMs, onsetEventTime: e.eventTime, detectorDelayS: null, deviceAlarmAt: null, cloudAlarmAt: null, dashboardDelayMs: null };
        injections.push(rec);
        fleet.emit('fault', rec);
        break;
      }
      case 'alarm': {
        const rec = openInjection(e.index, e.endEventTime);
        if (rec && rec.deviceAlarmAt === null) {
          rec.deviceAlarmAt = e.wallMs;
          rec.detectorDelayS = (Date.parse(e.endEventTime) - Date.parse(rec.onsetEventTime)) / 1000;
        }
        break;
      }
      case 'contingency':
        fleet.emit('contingency', { index: e.index, alert: e.alert as ContingencyAlert });
        break;
      case 'swap':
        fleet.emit('swap', { index: e.index, to: e.to });
        break;
      case 'features': {
        const f = features.get(e.index) ?? { eventTimes: [], values: [] };
        f.eventTimes.push(...e.eventTimes);
        f.values.push(...e.values);
        if (f.eventTimes.length > FEATURE_POINTS) {
          f.eventTimes.splice(0, f.eventTimes.length - FEATURE_POINTS);
          f.values.splice(0, f.values.length - FEATURE_POINTS);
        }
        features.set(e.index, f);
        break;
      }
      case 'log':
        log(e.line);
        break;
      case 'fatal':
        log(`fleet worker ${w} failed: ${e.error}`);
        fleet.emit('error', new Error(`fleet worker ${w} failed: ${e.error}`));
        break;
      default:
        break;
    }
  };

  /** The newest injection on a turbine that an alarm ending at endEventTime can belong to. */
  const openInjection = (index: number, endEventTime: string): InjectionRecord | undefined => {
    const t = Date.parse(endEventTime);
    for (let k = injections.length - 1; k >= 0; k--) {
      const r = injections[k];
      if (r.index === index && Date.parse(r.onsetEventTime) <= t) return r;
    }
    return undefined;
  };

  operatorConsole.on('alarm', (a: ReceivedAlarm) => {
    const index = thingIndex.get(a.thingName);
    if (index === undefined) return;
    const rec = openInjection(index, a.endEventTime);
    if (rec && rec.cloudAlarmAt === null) {
      rec.cloudAlarmAt = a.receivedAt;
      rec.dashboardDelayMs = a.receivedAt - rec.onsetAt;
    }
    fleet.emit('alarm', { index, ...a });
  });
  operatorConsole.on('alert', (a: ReceivedAlert) => fleet.emit('alert', a));

  const readyAll = Promise.all(
    workers.map(
      (wk) =>
        new Promise<void>((resolveReady, rejectReady) => {
          wk.worker.on('message', (e: WorkerEvent) => {
            if (e.type === 'ready') {
              wk.ready = true;
              resolveReady();
            } else if (e.type === 'fatal') rejectReady(new Error(`fleet worker ${wk.w}: ${e.error}`));
            else if (e.type === 'stopped') wk.stopped = true;
            onEvent(wk.w, e);
          });
          wk.worker.on('error', (err) => {
            log(`fleet worker ${wk.w} crashed: ${err.stack ?? err.message}`);
            rejectReady(err);
          });
          wk.worker.on('exit', () => rejectReady(new Error(`fleet worker ${wk.w} exited before its agents were ready`)));
        }),
    ),
  );

  const workerOf = (index: number): Worker => {
    if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`turbine must be an integer from 0 to ${n - 1}, got ${index}`);
    return workers[index % workerCount].worker;
  };
  const ask = (worker: Worker, cmd: WorkerCommand & { id: number }): Promise<void> =>
    new Promise((resolveAsk, rejectAsk) => {
      pending.set(cmd.id, { resolve: resolveAsk, reject: rejectAsk });
      worker.postMessage(cmd);
    });

  const stopWorkers = async (): Promise<void> => {
    await Promise.all(
      workers.map(async (wk) => {
        if (wk.stopped) return;
        const done = new Promise<void>((r) => {
          wk.worker.once('exit', () => r());
        });
        wk.worker.postMessage({ type: 'stop' } satisfies WorkerCommand);
        const timer = setTimeout(() => void wk.worker.terminate(), 30_000);
        await done;
        clearTimeout(timer);
      }),
    );
  };
  p.cleanups.push(stopWorkers);

  await readyAll; // on failure startFleet runs the cleanups (workers included)
  await operatorConsole.readShadows(things);

  const jobsTimer = setInterval(() => {
    jobsProgress(iot)
      .then((j) => (jobsCache = j))
      .catch((err: Error) => log(`jobs progress not read: ${err.message}`));
  }, 2000);
  p.cleanups.push(() => clearInterval(jobsTimer));

  const row = (index: number, now: number): TurbineRow => {
    const s = statuses[index];
    const d = operatorConsole.devices.get(things[index]);
    const alarmFeatures = d ? Object.entries(d.featureAlarmAt).filter(([, at]) => now - at < ALARM_LIGHT_MS).map(([f]) => f) : [];
    const hb = d?.heartbeat;
    return {
      index,
      thingName: things[index],
      truth: s ? { rps: s.rps, wind: s.wind, fault: s.fault, brake: s.brake, generatorConnected: s.generatorConnected, produced: s.produced, processed: s.processed, windowsScored: s.windowsScored, version: s.version } : null,
      cloud: {
        model: d?.model?.name ?? null,
        version: d?.model?.version ?? null,
        alarms: d?.alarms ?? 0,
        alarmFeatures,
        alarming: d?.lastAlarm ? now - d.lastAlarm.receivedAt < ALARM_LIGHT_MS : false,
        heartbeatAgeMs: d?.heartbeatAt ? now - d.heartbeatAt : null,
        contingency: d?.contingency ?? null,
        capture: hb ? hb.capture : null,
        drift: hb && hb.drift.length ? Number(Math.max(...hb.drift.map((x) => x.drift)).toFixed(3)) : null,
      },
    };
  };

  const report = (): VersionReport[] => {
    const by = new Map<string, { model: string; version: string; devices: number; windowsScored: number; alarms: number; p50: number[]; p99: number[]; drift: number[] }>();
    for (const d of operatorConsole.devices.values()) {
      const hb = d.heartbeat;
      if (!hb || !d.model) continue;
      const key = `${d.model.name} ${d.model.version}`;
      const r = by.get(key) ?? { model: d.model.name, version: d.model.version, devices: 0, windowsScored: 0, alarms: 0, p50: [], p99: [], drift: [] };
      r.devices++;
      r.windowsScored += hb.inferences;
      r.alarms += hb.alarms;
      r.p50.push(hb.latencyMs.p50);
      r.p99.push(hb.latencyMs.p99);
      if (hb.drift.length) r.drift.push(Math.max(...hb.drift.map((x) => x.drift)));
      by.set(key, r);
    }
    const median = (v: number[]): number => (v.length ? [...v].sort((a, b) => a - b)[v.length >> 1] : 0);
    return [...by.values()].map((r) => ({
      model: r.model,
      version: r.version,
      devices: r.devices,
      windowsScored: r.windowsScored,
      alarms: r.alarms,
      latencyP50Ms: Number(median(r.p50).toFixed(3)),
      latencyP99Ms: Number(Math.max(0, ...r.p99).toFixed(3)),
      drift: r.drift.length ? Number((r.drift.reduce((a, b) => a + b, 0) / r.drift.length).toFixed(3)) : 0,
    }));
  };

  const watched = new Set<number>();
  Object.assign(fleet, {
    size: n,
    thingNames: things,
    cloud,
    console: operatorConsole,
    injections,
    async injectFault(index: number, kind: FaultKind, severity: FaultSeverity = 'severe', seconds = 30) {
      assertFault(kind, severity);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new Error(`seconds must be a number above 0 and at most 3600, got ${seconds}`);
      await ask(workerOf(index), { type: 'inject', index, kind, severity, seconds, id: nextId++ });
      // The worker answers before it produces the fault's first frame (messages keep their order).
      return new Promise<InjectionRecord>((resolveSeen) => {
        const on = (rec: InjectionRecord): void => {
          if (rec.index !== index) return;
          fleet.off('fault', on);
          resolveSeen(rec);
        };
        fleet.on('fault', on);
      });
    },
    clearFault: (index: number) => ask(workerOf(index), { type: 'clear', index, id: nextId++ }),
    async setWind(rps: number, index?: number) {
      if (!Number.isFinite(rps) || rps < 0 || rps > 20) throw new Error(`wind mean must be a number of rps from 0 to 20, got ${rps}`);
      if (index === undefined) await Promise.all(workers.map((wk) => ask(wk.worker, { type: 'wind', index: null, rps, id: nextId++ })));
      else await ask(workerOf(index), { type: 'wind', index, rps, id: nextId++ });
    },
    async release(index: number) {
      workerOf(index);
      const id = `release-${Date.now()}-${index}`;
      await data.send(new UpdateThingShadowCommand({ thingName: things[index], payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { contingency: { release: id } } } })) }));
      return id;
    },
    async deployModel(path: string) {
      const bytes = readFileSync(path);
      const rollout = await startRollout(iot, s3, resourceName(cloudSettings(), 'fleet-models'), bytes, p.publicKeyPem, p.provisioned.thingGroupArn);
      jobsCache = await jobsProgress(iot);
      return rollout;
    },
    jobs: () => jobsProgress(iot),
    watch(indices: number[]) {
      watched.clear();
      for (const i of indices) if (Number.isInteger(i) && i >= 0 && i < n) watched.add(i);
      for (const wk of workers) wk.worker.postMessage({ type: 'watch', indices: [...watched] } satisfies WorkerCommand);
    },
    status: () => statuses.filter((s): s is TurbineStatus => s !== null),
    snapshot(view: { page?: number; pageSize?: number; detail?: number | null } = {}): FleetSnapshot {
      const now = Date.now();
      const size = Math.max(1, Math.min(200, Math.floor(view.pageSize ?? 24)));
      const pages = Math.ceil(n / size);
      const page = Math.max(0, Math.min(pages - 1, Math.floor(view.page ?? 0)));
      const summary = { online: 0, alarming: 0, engaged: 0, faults: 0, staleHeartbeats: 0, produced: 0, processed: 0, windowsScored: 0, rssBytes: Math.max(0, ...rss) };
      const staleMs = 3 * 1000 * (p.options.heartbeatSeconds ?? 10);
      for (let i = 0; i < n; i++) {
        const s = statuses[i];
        if (s) {
          if (s.online) summary.online++;
          if (s.fault) summary.faults++;
          summary.produced += s.produced;
          summary.processed += s.processed;
          summary.windowsScored += s.windowsScored;
        }
        const d = operatorConsole.devices.get(things[i]);
        if (d?.lastAlarm && now - d.lastAlarm.receivedAt < ALARM_LIGHT_MS) summary.alarming++;
        if (d?.contingency?.engaged) summary.engaged++;
        if (!d?.heartbeatAt || now - d.heartbeatAt > staleMs) summary.staleHeartbeats++;
      }
      const rows: TurbineRow[] = [];
      for (let i = page * size; i < Math.min(n, (page + 1) * size); i++) rows.push(row(i, now));
      const di = view.detail;
      const detail = di !== null && di !== undefined && Number.isInteger(di) && di >= 0 && di < n ? { ...row(di, now), features: features.get(di) ?? { eventTimes: [], values: [] }, injections: injections.filter((r) => r.index === di).slice(-10) } : null;
      return {
        time: now,
        turbines: n,
        workers: workerCount,
        speed,
        featureNames: FEATURE_NAMES,
        faultKinds: FAULT_KINDS,
        summary,
        page: { index: page, size, pages, rows },
        detail,
        alerts: operatorConsole.alerts.slice(-20).reverse(),
        jobs: jobsCache,
        report: report(),
        injections: injections.slice(-20).reverse(),
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of p.cleanups.reverse()) await Promise.resolve(c()).catch((err: Error) => log(`stop: ${err.message}`));
    },
  });
  let url = '';
  if (p.options.dashboardPort !== false) {
    const dashboard = await startDashboard(fleet, { port: p.options.dashboardPort ?? 0, log });
    p.cleanups.push(() => dashboard.close());
    url = dashboard.url;
  }
  Object.defineProperty(fleet, 'url', { value: url });
  log(`fleet: ${n} turbines on ${workerCount} worker threads, speed ${speed}x, cloud ${cloud.endpoints.http}${url ? `, dashboard ${url}` : ''}`);
  return fleet;
}
