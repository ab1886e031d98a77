/**
 * The Detector component end to end: the deployable agent (esbuild bundle of `npm run build:agent`,
 * packed as the recipe's artifact and uploaded to S3), the lab's three recipes, and a provisioned core
 * device (own certificate, mutual TLS) whose nucleus runs the agent as a real child process. Deployed
 * through the Greengrass v2 SDK: the detector scores the frames the turbine's sensor publishes on the
 * local pub/sub, sends heartbeats (shadow) through the nucleus's MQTT proxy, alarms on an injected fault,
 * and a new Model version deployed while it runs restarts it on the new model.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { startLocalCloud, cloudClientConfig, type LocalCloud } from '../cloud/local-cloud';
import { installers } from '../cloud/services';
import { GreengrassV2Client } from '@aws-sdk/client-greengrassv2';
import { IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { Heartbeat } from '../edge/agent';
import { trainedFleetPackages, type TrainedPackages } from '../fleet/trained-packages';
import { waitForHeartbeat } from '../labs/device-reports';
import { provisionDevices } from '../workflows/provisioning/provision';
import { createDeployment, thingGroupArn, waitForDeployment } from '../workflows/greengrass/deployments';
import { type DetectorArtifact, detectorDeploymentComponents, DETECTOR_COMPONENT, packDetectorAgent, prepareCoreDeviceRoot, publishDetectorComponents } from '../workflows/greengrass/detector-components';
import { startCoreDeviceFromBundle, type CoreDevice } from './core-device';
import { startTurbineSensor, type TurbineSensor } from './turbine-sensor';

const GROUP = 'gg-detectors';
const AGENT_CACHE = join(__dirname, '..', '..', '.state', 'greengrass-detector');
let work: string;
let cloud: LocalCloud;
let gg: GreengrassV2Client;
let iot: IoTClient;
let s3: S3Client;
let iotData: IoTDataPlaneClient;
let trained: TrainedPackages;
let agent: DetectorArtifact;
let core: CoreDevice | undefined;
let sensor: TurbineSensor | undefined;
let thing: string;
const logs: string[] = [];

const serving = (version: string) => (hb: Heartbeat): boolean => hb.models.some((m) => m.role === 'active' && m.version === version && m.inferences > 0);

before(async () => {
  trained = await trainedFleetPackages();
  agent = await packDetectorAgent(AGENT_CACHE, { installDependencies: true });
  work = await mkdtemp(join(tmpdir(), 'gg-detector-'));
  cloud = await startLocalCloud({ dir: join(work, 'cloud'), port: 0, mqttPort: 0, installers, log: () => undefined });
  const config = cloudClientConfig(cloud);
  [gg, iot, s3, iotData] = [new GreengrassV2Client(config), new IoTClient(config), new S3Client(config), new IoTDataPlaneClient(config)];
  await s3.send(new CreateBucketCommand({ Bucket: 'edgeml-components' }));
  const provisioned = await provisionDevices({
    iot,
    devices: 1,
    prefix: 'gg-detector-',
    group: GROUP,
    outDir: join(work, 'bundles'),
    caCertPem: await readFile(cloud.caCertPath as string, 'utf8'),
    mode: 'local',
    region: cloud.region,
    mqtt: { host: cloud.endpoints.mqttHost, port: cloud.endpoints.mqttPort },
  });
  const device = provisioned.devices[0];
  thing = device.thingName;
  const root = join(work, 'root');
  prepareCoreDeviceRoot(root, device.bundleDir, trained.publicKeyPem);
  core = await startCoreDeviceFromBundle(device.bundleDir, { root, timeouts: { downloadMs: 60_000, deploymentMs: 300_000 }, log: (line) => logs.push(line) });
  sensor = startTurbineSensor(core.nucleus.ipc, { turbineId: 0 });
});

after(async () => {
  sensor?.stop();
  await core?.stop();
  for (const c of [gg, iot, s3, iotData]) c?.destroy();
  await cloud?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

test('the Detector component scores the sensor frames, reports, alarms on a fault, and takes a new Model version while running', { timeout: 900_000 }, async () => {
  const target = { gg, s3, bucket: 'edgeml-components', region: cloud.region, accountId: cloud.accountId };
  const published = await publishDetectorComponents(target, agent, [trained.packages['1.0.0'], trained.packages['1.1.0']], trained.publicKeyPem);
  assert.deepEqual(published.map((p) => `${p.name} ${p.version}`), ['com.windturbine.Model 1.0.0', 'com.windturbine.Model 1.1.0', 'com.windturbine.InferenceRuntime 1.0.0', 'com.windturbine.Detector 1.0.0']);
  const targetArn = thingGroupArn(cloud.region, cloud.accountId, GROUP);
  const deploy = async (version: string): Promise<void> => {
    const { deploymentId } = await createDeployment(gg, { targetArn, components: detectorDeploymentComponents(version, agent, { heartbeatSeconds: 2 }) });
    const statuses = await waitForDeployment({ gg, iot, deploymentId, thingNames: [thing], timeoutMs: 300_000 });
    assert.deepEqual(statuses.map((s) => s.status), ['SUCCEEDED'], `${statuses[0]?.reason}\n${logs.slice(-30).join('\n')}`);
  };

  await deploy('1.0.0');
  // The detector is a child process of the nucleus, started from the unpacked artifact.
  const detector = core?.nucleus.components().find((c) => c.componentName === DETECTOR_COMPONENT);
  assert.equal(detector?.componentStatus, 'RUNNING');
  const first = await waitForHeartbeat(iotData, thing, serving('1.0.0'), { timeoutMs: 180_000 });
  assert.equal(first.thingName, thing);
  assert.ok(first.frames.accepted > 0, 'frames reached the detector through the local pub/sub');

  sensor?.sim.inject('vib', 'severe', 20 * 30);
  const alarmed = await waitForHeartbeat(iotData, thing, (hb) => hb.alarms > 0, { timeoutMs: 120_000 });
  assert.ok(alarmed.alarms > 0);
  sensor?.sim.clear();

  const undeliveredBefore = sensor?.counters.undelivered ?? 0;
  await deploy('1.1.0');
  const second = await waitForHeartbeat(iotData, thing, serving('1.1.0'), { timeoutMs: 180_000 });
  assert.ok(second.models.every((m) => m.version === '1.1.0' || m.role !== 'active'));
  const componentLog = await readFile(join(work, 'root', 'logs', `${DETECTOR_COMPONENT}.log`), 'utf8');
  assert.match(componentLog, /"type":"window".*"version":"1\.1\.0"/, 'the restarted detector scores with 1.1.0');
  // Nothing the detector sends is refused by its accessControl.
  assert.deepEqual(logs.filter((l) => /not authorized/.test(l)), []);
  process.stderr.write(`frames not delivered while the Detector restarted on Model 1.1.0: ${(sensor?.counters.undelivered ?? 0) - undeliveredBefore}\n`);
});
