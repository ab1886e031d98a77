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
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { S3Client } from '@aws-sdk/client-s3';
import { type CloudEndpoints, cloudClientConfig, type LocalCloud, readCloudJson, startLocalCloud } from '../cloud/local-cloud';
import { provisionDevices } from '../workflows/provisioning/provision';
import { cloudSettings, resourceName } from '../cloud/config';
import type { ContingencyAlert } from '../edge/contingency';
import { assertFault, type FaultKind, type FaultSeverity } from '../turbine/faults';
import { ensureConsoleIdentity } from './console-identity';
import { startDashboard } from './dashboard-server';
import { checkFleetOptions, type FleetOptions } from './fleet-options';
import { type FeatureTrail, type FleetSnapshot, fleetSnapshot, type SnapshotView } from './fleet-snapshot';
import { GroundTruth, type InjectionRecord } from './ground-truth';
import type { TurbineSpec, TurbineStatus, WorkerEvent } from './messages';
import { OperatorConsole, type ReceivedAlarm, type ReceivedAlert } from './operator-console';
import { type JobProgress, jobsProgress, type Rollout, startRollout } from './rollout';
import { TurbineWorkers } from './turbine-workers';

export type { FleetOptions } from './fleet-options';
export type { FeatureTrail, FleetSnapshot, SnapshotView, TurbineRow, VersionReport } from './fleet-snapshot';
export { ALARM_LIGHT_MS } from './fleet-snapshot';
export type { InjectionRecord } from './ground-truth';

/** The cloud a farm runs on, wherever it runs. */
export interface FleetCloud {
  endpoints: CloudEndpoints;
  region: string;
  accountId: string;
}

/** A running farm. */
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
  snapshot(view?: SnapshotView): FleetSnapshot;
  stop(): Promise<void>;
}

/** Feature points kept per watched turbine (30 s at 20 frames/s). */
const FEATURE_POINTS = 600;

/** Starts a farm; see FleetOptions. Resolves once every agent is connected and frames flow. */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  checkFleetOptions(options);
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
  const statuses: (TurbineStatus | null)[] = new Array(n).fill(null);
  const features = new Map<number, FeatureTrail>();
  const truth = new GroundTruth();
  const fleet = new EventEmitter() as Fleet;
  let jobsCache: JobProgress[] = [];
  let stopped = false;
  let started = 0;

  const onEvent = (w: number, e: WorkerEvent): void => {
    switch (e.type) {
      case 'progress':
        started++;
        p.options.onProgress?.('agents', started, n);
        break;
      case 'status': {
        for (const s of e.turbines) statuses[s.index] = s;
        rss[w] = e.rssBytes;
        if (p.options.onProgress && !workers.allReady) {
          // Before the farm is ready: how many agents are connected and serve a model.
          const live = statuses.filter((s): s is TurbineStatus => s !== null);
          p.options.onProgress('online', live.filter((s) => s.online).length, n);
          p.options.onProgress('models', live.filter((s) => s.version !== null).length, n);
        }
        break;
      }
      case 'fault':
        fleet.emit('fault', truth.onset(e.index, things[e.index], e.kind, e.severity, e.wallMs, e.eventTime));
        break;
      case 'alarm':
        truth.deviceAlarm(e.index, e.endEventTime, e.wallMs);
        break;
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

  const turbines: TurbineSpec[] = p.provisioned.devices.map((d, i) => ({ index: i, thingName: d.thingName, bundleDir: d.bundleDir, stateDir: join(p.dir, 'agents', d.thingName) }));
  const workers = new TurbineWorkers(
    turbines,
    p.options.workers ?? availableParallelism(),
    {
      publicKeyPem: p.publicKeyPem,
      initialPackage: p.packagePath,
      speed,
      seed: p.options.seed ?? 42,
      heartbeatSeconds: p.options.heartbeatSeconds ?? 10,
      captureSampleRate: p.options.captureSampleRate ?? 0.1,
      startConcurrency: 4,
      windMean: p.options.windMean,
    },
    onEvent,
    log,
  );
  const rss = new Array<number>(workers.count).fill(0);

  operatorConsole.on('alarm', (a: ReceivedAlarm) => {
    const index = thingIndex.get(a.thingName);
    if (index === undefined) return;
    truth.cloudAlarm(index, a.endEventTime, a.receivedAt);
    fleet.emit('alarm', { index, ...a });
  });
  operatorConsole.on('alert', (a: ReceivedAlert) => fleet.emit('alert', a));
  p.cleanups.push(() => workers.stop());

  await workers.ready; // on failure startFleet runs the cleanups (workers included)
  await operatorConsole.readShadows(things);

  const jobsTimer = setInterval(() => {
    jobsProgress(iot)
      .then((j) => (jobsCache = j))
      .catch((err: Error) => log(`jobs progress not read: ${err.message}`));
  }, 2000);
  p.cleanups.push(() => clearInterval(jobsTimer));

  const watched = new Set<number>();
  Object.assign(fleet, {
    size: n,
    thingNames: things,
    cloud,
    console: operatorConsole,
    injections: truth.injections,
    async injectFault(index: number, kind: FaultKind, severity: FaultSeverity = 'severe', seconds = 30) {
      assertFault(kind, severity);
      if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3600) throw new Error(`seconds must be a number above 0 and at most 3600, got ${seconds}`);
      await workers.ask(index, { type: 'inject', index, kind, severity, seconds });
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
    clearFault: (index: number) => workers.ask(index, { type: 'clear', index }),
    async setWind(rps: number, index?: number) {
      if (!Number.isFinite(rps) || rps < 0 || rps > 20) throw new Error(`wind mean must be a number of rps from 0 to 20, got ${rps}`);
      if (index === undefined) await workers.askAll({ type: 'wind', index: null, rps });
      else await workers.ask(index, { type: 'wind', index, rps });
    },
    async release(index: number) {
      workers.checkIndex(index);
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
      workers.post({ type: 'watch', indices: [...watched] });
    },
    status: () => statuses.filter((s): s is TurbineStatus => s !== null),
    snapshot: (view: SnapshotView = {}): FleetSnapshot =>
      fleetSnapshot(
        { turbines: n, workers: workers.count, speed, heartbeatSeconds: p.options.heartbeatSeconds ?? 10, things, statuses, rss, features, injections: truth.injections, console: operatorConsole, jobs: jobsCache },
        view,
      ),
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
  log(`fleet: ${n} turbines on ${workers.count} worker threads, speed ${speed}x, cloud ${cloud.endpoints.http}${url ? `, dashboard ${url}` : ''}`);
  return fleet;
}
