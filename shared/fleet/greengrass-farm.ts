/**
 * The wind farm, Greengrass v2 variant (Lab 04 Greengrass): each turbine is a core device (own
 * certificate, own nucleus) whose Detector component (the deployable agent, a real child process) scores
 * the frames its turbine's sensor publishes on the nucleus's local pub/sub; the model, the inference
 * runtime and the detector are components, deployed to the farm's thing group through the Greengrass v2
 * API, and a new model is a new Model component version deployed while the turbines run. The operator
 * console (the IoT Jobs farm's) reads what the cloud sees: alarms and heartbeats, which the detectors
 * send through their nucleus's MQTT proxy. The simulator's ground truth gives each alarm its delay.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { cloudClientConfig, type LocalCloud } from '../cloud/local-cloud';
import { startCoreDeviceFromBundle, type CoreDevice } from '../greengrass/core-device';
import { type SwapGap, swapGap, unscoredFrames, windowEventsInLog } from '../greengrass/scoring-gap';
import { startTurbineSensor, type TurbineSensor } from '../greengrass/turbine-sensor';
import { assertFault, type FaultKind, type FaultSeverity } from '../turbine/faults';
import { FRAME_PERIOD_MS } from '../turbine/schema';
import { provisionDevices } from '../workflows/provisioning/provision';
import { createDeployment, thingGroupArn, waitForDeployment, type DeviceDeploymentStatus } from '../workflows/greengrass/deployments';
import { type DetectorArtifact, detectorDeploymentComponents, DETECTOR_COMPONENT, packDetectorAgent, prepareCoreDeviceRoot, publishDetectorComponents } from '../workflows/greengrass/detector-components';
import { ensureConsoleIdentity } from './console-identity';
import { OperatorConsole, type ReceivedAlarm } from './operator-console';

/** Where the packed agent and its once-installed dependencies are kept between runs. */
export const DETECTOR_CACHE = join(__dirname, '..', '..', '.state', 'greengrass-detector');

/** How to start a Greengrass farm. */
export interface GreengrassFarmOptions {
  /** Folder for bundles, nucleus roots and the console identity. */
  dir: string;
  /** The local cloud (its Greengrass, IoT, jobs and S3 services). */
  cloud: LocalCloud;
  /** Signed model packages: each becomes a Model component version (its package version). */
  packages: string[];
  publicKeyPem: string;
  turbines?: number;
  seed?: number;
  /** Detector heartbeat period (default 2 s). */
  heartbeatSeconds?: number;
  /** Thing names are <prefix>0..N-1 (default "turbine-"). */
  prefix?: string;
  log?: (line: string) => void;
  onProgress?: (step: string) => void;
}

/** One injected fault: ground truth and when the cloud saw its alarm. */
export interface GreengrassInjection {
  index: number;
  thingName: string;
  kind: FaultKind;
  severity: FaultSeverity;
  onsetAt: number;
  onsetEventTime: string | null;
  /** Simulated seconds from the first faulty frame to the end of the first alarmed window. */
  detectorDelayS: number | null;
  /** Wall ms from the first faulty frame to the console receiving the alarm. */
  dashboardDelayMs: number | null;
}

/** What a deployment did on each turbine. */
export interface FarmDeployment {
  deploymentId: string;
  modelVersion: string;
  /** CreateDeployment to the last device's SUCCEEDED (or other end), ms. */
  ms: number;
  devices: (DeviceDeploymentStatus & { undeliveredFrames: number })[];
}

/** One turbine as the farm shows it. */
export interface GreengrassTurbineRow {
  thing: string;
  components: string;
  model: string | null;
  windowsScored: number | null;
  alarms: number;
  heartbeatAgeS: number | null;
  fault: string;
  framesProduced: number;
  framesUndelivered: number;
}

/** A running Greengrass farm. */
export interface GreengrassFarm extends EventEmitter {
  readonly thingNames: string[];
  readonly groupArn: string;
  readonly console: OperatorConsole;
  readonly cores: CoreDevice[];
  readonly sensors: TurbineSensor[];
  readonly injections: GreengrassInjection[];
  /** Deploys Model modelVersion (with the InferenceRuntime and the Detector) to the farm's group and waits for every turbine. */
  deploy(modelVersion: string, timeoutMs?: number): Promise<FarmDeployment>;
  /** Injects a fault on a turbine's simulator from its next frame. */
  injectFault(index: number, kind: FaultKind, severity?: FaultSeverity, seconds?: number): GreengrassInjection;
  clearFault(index: number): void;
  rows(): GreengrassTurbineRow[];
  /** Frames left unscored on each turbine across a change of model version (from its Detector's scored windows). */
  unscoredAcrossSwap(fromVersion: string, toVersion: string): (number | null)[];
  /** Per turbine, the frames between the last window of fromVersion and the first of toVersion, and the usual hop. */
  swapGaps(fromVersion: string, toVersion: string): (SwapGap | null)[];
  stop(): Promise<void>;
}

/** Starts the farm: provisioning, console, components published, core devices and sensors running (nothing deployed yet). */
export async function startGreengrassFarm(o: GreengrassFarmOptions): Promise<GreengrassFarm> {
  const n = o.turbines ?? 5;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`turbines must be an integer from 1 to 100, got ${o.turbines}`);
  if (o.packages.length === 0) throw new Error('give at least one signed model package');
  const dir = resolve(o.dir);
  const log = o.log ?? (() => undefined);
  const step = o.onProgress ?? (() => undefined);
  const prefix = o.prefix ?? 'turbine-';
  const group = `${prefix}greengrass-fleet`;
  const cloud = o.cloud;
  if (!cloud.caCertPath) throw new Error('the local cloud runs without its IoT registry (no CA): the farm needs it');
  const config = cloudClientConfig(cloud);
  const gg = new GreengrassV2Client(config);
  const iot = new IoTClient(config);
  const s3 = new S3Client(config);
  const bucket = 'edgeml-components';
  const cores: CoreDevice[] = [];
  const roots: string[] = [];
  const sensors: TurbineSensor[] = [];
  let operatorConsole: OperatorConsole | undefined;
  const stop = async (): Promise<void> => {
    for (const s of sensors) s.stop();
    await Promise.all(cores.map((c) => c.stop().catch((err: Error) => log(`stop ${c.thingName}: ${err.message}`))));
    await operatorConsole?.stop();
    for (const c of [gg, iot, s3]) c.destroy();
  };
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
      if (!/BucketAlready/.test(err.name)) throw err;
    });
    step('building the agent (npm run build:agent) and packing it as the Detector artifact');
    const agent: DetectorArtifact = await packDetectorAgent(DETECTOR_CACHE, { installDependencies: true, onStep: step });
    step('publishing the components');
    await publishDetectorComponents({ gg, s3, bucket, region: cloud.region, accountId: cloud.accountId }, agent, o.packages, o.publicKeyPem);
    step(`provisioning ${n} core devices`);
    const caPem = readFileSync(cloud.caCertPath, 'utf8');
    const provisioned = await provisionDevices({ iot, devices: n, prefix, group, outDir: join(dir, 'devices'), caCertPem: caPem, mode: 'local', region: cloud.region, mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort }, httpEndpoint: cloud.endpoints.http, concurrency: 8 });
    const things = provisioned.devices.map((d) => d.thingName);
    const identity = await ensureConsoleIdentity(iot, join(dir, 'console'), caPem, { region: cloud.region, accountId: cloud.accountId, thingName: `${group}-console` });
    operatorConsole = new OperatorConsole(identity, { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort }, { log });
    await operatorConsole.start();
    const injections: GreengrassInjection[] = [];
    const farm = new EventEmitter() as GreengrassFarm;
    step(`starting ${n} nuclei, each with its turbine's sensor`);
    for (const [i, d] of provisioned.devices.entries()) {
      const root = join(dir, 'cores', d.thingName);
      roots.push(root);
      prepareCoreDeviceRoot(root, d.bundleDir, o.publicKeyPem);
      cores.push(await startCoreDeviceFromBundle(d.bundleDir, { root, timeouts: { downloadMs: 120_000, deploymentMs: 600_000 }, log: (line) => log(`${d.thingName} ${line}`) }));
      sensors.push(
        startTurbineSensor(cores[i].nucleus.ipc, {
          turbineId: i,
          seed: o.seed ?? 42,
          onFaultOnset: ({ eventTime, wallMs }) => {
            const rec = [...injections].reverse().find((r) => r.index === i && r.onsetEventTime === null);
            if (rec) [rec.onsetEventTime, rec.onsetAt] = [eventTime, wallMs];
          },
        }),
      );
    }
    const cloudView = operatorConsole;
    cloudView.on('alarm', (a: ReceivedAlarm) => {
      const index = things.indexOf(a.thingName);
      const rec = [...injections].reverse().find((r) => r.index === index && r.onsetEventTime !== null && Date.parse(r.onsetEventTime) <= Date.parse(a.endEventTime));
      if (rec && rec.dashboardDelayMs === null) {
        rec.dashboardDelayMs = a.receivedAt - rec.onsetAt;
        rec.detectorDelayS = (Date.parse(a.endEventTime) - Date.parse(rec.onsetEventTime as string)) / 1000;
      }
      farm.emit('alarm', { index, ...a });
    });
    const groupArn = thingGroupArn(cloud.region, cloud.accountId, group);
    const checkIndex = (index: number): void => {
      if (!Number.isInteger(index) || index < 0 || index >= n) throw new Error(`turbine must be an integer from 0 to ${n - 1}, got ${index}`);
    };
    Object.assign(farm, {
      thingNames: things,
      groupArn,
      console: cloudView,
      cores,
      sensors,
      injections,
      async deploy(modelVersion: string, timeoutMs = 600_000): Promise<FarmDeployment> {
        const before = sensors.map((s) => s.counters.undelivered);
        const t0 = performance.now();
        const { deploymentId } = await createDeployment(gg, {
          targetArn: groupArn,
          deploymentName: `wind farm, model ${modelVersion}`,
          components: detectorDeploymentComponents(modelVersion, agent, { heartbeatSeconds: o.heartbeatSeconds ?? 2 }),
          deploymentPolicies: { failureHandlingPolicy: 'ROLLBACK' },
        });
        const statuses = await waitForDeployment({ gg, iot, deploymentId, thingNames: things, timeoutMs, pollMs: 500 });
        const ms = performance.now() - t0;
        return { deploymentId, modelVersion, ms, devices: statuses.map((s, i) => ({ ...s, undeliveredFrames: sensors[i].counters.undelivered - before[i] })) };
      },
      injectFault(index: number, kind: FaultKind, severity: FaultSeverity = 'severe', seconds = 20): GreengrassInjection {
        checkIndex(index);
        assertFault(kind, severity);
        if (!(seconds > 0 && seconds <= 3600)) throw new Error(`seconds must be a number above 0 and at most 3600, got ${seconds}`);
        const sim = sensors[index].sim;
        if (sim.fault) sim.clear();
        const rec: GreengrassInjection = { index, thingName: things[index], kind, severity, onsetAt: Date.now(), onsetEventTime: null, detectorDelayS: null, dashboardDelayMs: null };
        injections.push(rec);
        sim.inject(kind, severity, Math.round((seconds * 1000) / FRAME_PERIOD_MS));
        return rec;
      },
      clearFault(index: number): void {
        checkIndex(index);
        sensors[index].sim.clear();
      },
      rows(): GreengrassTurbineRow[] {
        const now = Date.now();
        return things.map((thing, i) => {
          const d = cloudView.devices.get(thing);
          const fault = sensors[i].sim.fault;
          return {
            thing,
            components: cores[i].nucleus.components().map((c) => `${c.componentName.replace('com.windturbine.', '')} ${c.version} ${c.componentStatus}`).join(', '),
            model: d?.model?.version ?? null,
            windowsScored: d?.heartbeat?.inferences ?? null,
            alarms: d?.alarms ?? 0,
            heartbeatAgeS: d?.heartbeatAt ? Number(((now - d.heartbeatAt) / 1000).toFixed(1)) : null,
            fault: fault ? `${fault.kind} ${fault.severity}` : '',
            framesProduced: sensors[i].counters.produced,
            framesUndelivered: sensors[i].counters.undelivered,
          };
        });
      },
      swapGaps(fromVersion: string, toVersion: string): (SwapGap | null)[] {
        return roots.map((root) => {
          let text = '';
          try {
            text = readFileSync(join(root, 'logs', `${DETECTOR_COMPONENT}.log`), 'utf8');
          } catch {
            return null;
          }
          return swapGap(windowEventsInLog(text), fromVersion, toVersion);
        });
      },
      unscoredAcrossSwap(fromVersion: string, toVersion: string): (number | null)[] {
        return (farm.swapGaps(fromVersion, toVersion) as (SwapGap | null)[]).map((g) => (g === null ? null : unscoredFrames(g)));
      },
      stop,
    });
    return farm;
  } catch (err) {
    await stop();
    throw err;
  }
}
